#include "lib/base/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace evt {

Status SpawnShell(const std::string& cmd, char** envp, bool want_out, pid_t* pid, int* in_fd, int* out_fd) {
  int in[2], out[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::IOError("pipe failed");
  if (want_out && ::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Status::IOError("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  if (want_out) posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &def);
  // Own process group: Ctrl-C on the terminal reaches evt, which drains, not the workers.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  int rc = posix_spawn(pid, "/bin/sh", &fa, &attr, const_cast<char**>(argv), envp ? envp : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  if (want_out) ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    if (want_out) ::close(out[0]);
    return Status::IOError(fmt::format("cannot start /bin/sh: {}", std::strerror(rc)));
  }
  *in_fd = in[1];
  if (out_fd) *out_fd = want_out ? out[0] : -1;
  return Status::OK();
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "ended";
}

void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace evt
