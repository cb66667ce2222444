// The process environment lib/ may consult: interruption requests and terminal facts.
// (Only cmd/ installs signal handlers and decides exit codes.)
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <cstdio>

namespace evt {

// Set by cmd/'s SIGINT/SIGTERM handler (and nothing else); lib/ only reads it.
extern std::atomic<bool> g_interrupted;

// Whether the caller asked a job to stop. Long jobs take one in their options (replay,
// backfill), so that a library caller or a test can stop them without a signal; the
// default token is the process's, which cmd/'s signal handler sets. Short loops elsewhere
// in lib/ read the process's token through InterruptRequested().
class StopToken {
 public:
  StopToken() : flag_(&g_interrupted) {}
  explicit StopToken(const std::atomic<bool>* flag) : flag_(flag) {}
  bool requested() const { return flag_->load(std::memory_order_relaxed); }

 private:
  const std::atomic<bool>* flag_;
};
inline bool InterruptRequested() { return g_interrupted.load(std::memory_order_relaxed); }

bool IsTerminal(int fd);
// Color on stderr: only when stderr is a terminal and NO_COLOR is unset (or empty).
bool ColorAllowed(int fd);
// Bytes for people: "512 B", "1.5 MiB" (powers of 1024).
std::string HumanBytes(uint64_t bytes);

}  // namespace evt
