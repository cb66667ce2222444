#include "lib/base/term.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace evt {

std::atomic<bool> g_interrupted{false};

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

bool ColorAllowed(int fd) {
  const char* nc = std::getenv("NO_COLOR");
  if (nc && *nc) return false;
  return IsTerminal(fd);
}

}  // namespace evt
