// File I/O policy in one place: mmap'd reading, buffered appending, atomic replacement
// (temp + fsync + rename), advisory locks, directory listing.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace evt {

// A read-only view of a whole file. Empty files map to an empty view.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view data() const { return std::string_view(data_, size_); }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Tell the kernel we will read sequentially / no longer need the pages.
  void AdviseSequential();
  // Drops the pages of [offset, offset+len) from this process's memory (they are read
  // again from the page cache if touched), so reading a large file keeps RSS flat.
  void Release(size_t offset, size_t len);

 private:
  MappedFile() = default;
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
  void* map_ = nullptr;
};

// An fd-backed writer with a large user-space buffer.
class WritableFile {
 public:
  // mode: "w" truncate/create, "a" append/create.
  static Result<std::unique_ptr<WritableFile>> Open(const std::string& path, bool append);
  static std::unique_ptr<WritableFile> FromFd(int fd, std::string name);  // does not own fd
  ~WritableFile();
  Status Append(std::string_view data);
  Status Flush();  // to the kernel
  Status Sync();   // Flush + fdatasync
  Status Close();
  Status Truncate(uint64_t size);  // flushes first
  uint64_t size() const { return size_; }  // bytes written including buffered
  const std::string& path() const { return path_; }
  bool is_named_file() const { return owns_; }  // opened by path (not a descriptor such as stdout)

 private:
  WritableFile() = default;
  std::string path_;
  int fd_ = -1;
  bool owns_ = true;
  uint64_t size_ = 0;
  std::string buf_;
  static constexpr size_t kBufSize = 1 << 20;
};

// Writes a whole file atomically: content goes to `<path>.tmp.<pid>`, is fsync'd, then
// renamed over `path`, and the directory is fsync'd. A crash leaves either the old file
// or the new one, never a half-written file.
Status WriteFileAtomic(const std::string& path, std::string_view content);

// Fsync a directory (after creating/renaming entries in it).
Status SyncDir(const std::string& dir);

// Advisory exclusive lock (flock) on a file, created if needed. Released on destruction.
class FileLock {
 public:
  // Returns Busy if another process holds it and !wait.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path, bool wait);
  // True if some process holds an flock on `path` (it exists and is locked).
  static bool IsLockedByOther(const std::string& path);
  ~FileLock();

 private:
  FileLock() = default;
  int fd_ = -1;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool is_file = false;
  uint64_t size = 0;
};
// Lists entries (excluding . and ..) sorted by name.
Result<std::vector<DirEntry>> ListDir(const std::string& dir);
bool IsDirectory(const std::string& path);
bool IsRegularFile(const std::string& path);
bool PathExists(const std::string& path);
Status MakeDirs(const std::string& path);
std::string Basename(std::string_view path);
std::string Dirname(std::string_view path);
// The name of the file or directory `path` really is: `.`, `..` and symlinks resolved
// (`cd orders-0 && evt cat .` reads topic orders, partition 0). A path that does not exist
// yet keeps its own last component.
std::string RealBasename(const std::string& path);
std::string JoinPath(std::string_view a, std::string_view b);
Status RemoveFile(const std::string& path);
Status RenameFile(const std::string& from, const std::string& to);
// Reads a whole (small) file.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace evt
