// lib/base/process: /bin/sh -c CMD with pipes, exit texts.
#include "lib/base/process.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace evt;

TEST_CASE("process: a shell command with its stdin and stdout piped, in its own process group") {
  BlockSigpipe();
  pid_t pid = -1;
  int in = -1, out = -1;
  REQUIRE(SpawnShell("tr a-z A-Z; echo \"pgid=$(ps -o pgid= $$ | tr -d ' ') pid=$$\"", nullptr, true, &pid, &in, &out).ok());
  REQUIRE(::write(in, "hello\n", 6) == 6);
  ::close(in);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(out, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(out);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(ExitText(status) == "exit status 0");
  CHECK(got.rfind("HELLO\n", 0) == 0);
  CHECK(got.find("pgid=" + std::to_string(pid) + " pid=" + std::to_string(pid)) != std::string::npos);
}

TEST_CASE("process: exit texts, and a worker that has gone gives EPIPE, not SIGPIPE") {
  BlockSigpipe();
  pid_t pid = -1;
  int in = -1;
  REQUIRE(SpawnShell("exit 3", nullptr, false, &pid, &in, nullptr).ok());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(ExitText(status) == "exit status 3");
  CHECK(::write(in, "x", 1) == -1);  // the reader has gone: EPIPE, evt lives
  ::close(in);
  REQUIRE(SpawnShell("kill -9 $$", nullptr, false, &pid, &in, nullptr).ok());
  ::close(in);
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(ExitText(status) == "killed by signal 9");
}
