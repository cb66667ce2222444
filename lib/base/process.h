// Child processes for workers (`backfill --exec/--pipe`, `project --exec/--pipe`):
// `/bin/sh -c CMD` with pipes, in its own process group (Ctrl-C on the terminal reaches
// evt, which stops cleanly, not the workers), SIGPIPE/SIGINT/SIGTERM at their defaults.
#pragma once
#include <sys/types.h>

#include <string>

#include "lib/base/status.h"

namespace evt {

// Spawns `/bin/sh -c cmd` with its stdin a pipe (*in_fd, evt's end) and, when want_out,
// its stdout a pipe (*out_fd); stderr is inherited. envp: nullptr for evt's environment.
Status SpawnShell(const std::string& cmd, char** envp, bool want_out, pid_t* pid, int* in_fd, int* out_fd);

// "exit status N", "killed by signal N": a waitpid status for messages.
std::string ExitText(int status);

// Writes to a worker that has gone must fail with EPIPE, not kill evt: blocks SIGPIPE in
// the calling thread (it is delivered to the writing thread).
void BlockSigpipe();

}  // namespace evt
