#include "lib/base/term.h"

#include <unistd.h>

#include <cstdlib>

namespace evt {

std::atomic<bool> g_interrupted{false};

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

bool ColorAllowed(int fd) {
  const char* nc = std::getenv("NO_COLOR");
  if (nc && *nc) return false;
  return IsTerminal(fd);
}

}  // namespace evt
