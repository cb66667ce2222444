# bash completion for evt
