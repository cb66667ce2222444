# fish completion for evt
