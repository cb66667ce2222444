// A per-process scratch file for fuzz targets whose parser reads a path (checkpoints,
// property files, segment directories): written fresh for every input.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace evt::fuzz {

// A directory of our own under $TMPDIR (or /tmp), made once per process.
// Removed when the process exits normally.
inline const std::string& ScratchDir() {
  static const struct Dir {
    std::string path;
    Dir() {
      const char* t = std::getenv("TMPDIR");
      path = std::string(t && *t ? t : "/tmp") + "/evt-fuzz-XXXXXX";
      if (!mkdtemp(path.data())) std::abort();
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

inline std::string WriteScratch(const std::string& name, std::string_view bytes) {
  std::string path = ScratchDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace evt::fuzz
