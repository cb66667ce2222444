// The process environment lib/ may consult: interruption requests and terminal facts.
// (Only cmd/ installs signal handlers and decides exit codes.)
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <cstdio>

namespace evt {

// Set by cmd/'s SIGINT/SIGTERM handler; long loops in lib/ poll it and stop cleanly.
extern std::atomic<bool> g_interrupted;
inline bool InterruptRequested() { return g_interrupted.load(std::memory_order_relaxed); }

bool IsTerminal(int fd);
// Color on stderr: only when stderr is a terminal and NO_COLOR is unset (or empty).
bool ColorAllowed(int fd);
// Bytes for people: "512 B", "1.5 MiB" (powers of 1024).
std::string HumanBytes(uint64_t bytes);

}  // namespace evt
