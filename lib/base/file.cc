#include "lib/base/file.h"

#include <cstdlib>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace evt {
namespace {
Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}
}  // namespace

// ---------------- MappedFile ----------------
Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IOError(fmt::format("{}: not a regular file", path));
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* m = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      Status s = Errno("cannot mmap", path);
      ::close(fd);
      return s;
    }
    f->map_ = m;
    f->data_ = static_cast<const char*>(m);
  } else {
    f->data_ = "";
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, size_);
}

void MappedFile::AdviseSequential() {
  // madvise advice values are not flags: one call per advice.
  if (map_) ::madvise(map_, size_, MADV_SEQUENTIAL);
}

void MappedFile::Release(size_t offset, size_t len) {
  if (!map_ || offset >= size_) return;
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t begin = (offset + page - 1) / page * page;  // only whole pages inside the range
  size_t end = std::min(size_, offset + len) / page * page;
  if (end > begin) ::madvise(static_cast<char*>(map_) + begin, end - begin, MADV_DONTNEED);
}

// ---------------- WritableFile ----------------
Result<std::unique_ptr<WritableFile>> WritableFile::Open(const std::string& path, bool append) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return Errno("cannot open for writing", path);
  std::unique_ptr<WritableFile> f(new WritableFile());
  f->path_ = path;
  f->fd_ = fd;
  if (append) {
    struct stat st;
    if (::fstat(fd, &st) == 0) f->size_ = static_cast<uint64_t>(st.st_size);
  }
  f->buf_.reserve(kBufSize);
  return f;
}

std::unique_ptr<WritableFile> WritableFile::FromFd(int fd, std::string name) {
  std::unique_ptr<WritableFile> f(new WritableFile());
  f->path_ = std::move(name);
  f->fd_ = fd;
  f->owns_ = false;
  f->buf_.reserve(kBufSize);
  return f;
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) {
    (void)Flush();
    if (owns_) ::close(fd_);
  }
}

Status WritableFile::Append(std::string_view data) {
  size_ += data.size();
  // Large pieces (a filtered chunk's output) are written as they are, not copied first.
  const bool large = data.size() >= kBufSize / 8;
  if (!large && buf_.size() + data.size() <= kBufSize) {
    buf_.append(data);
    return Status::OK();
  }
  EVT_RETURN_IF_ERROR(Flush());
  if (large) {
    const char* p = data.data();
    size_t n = data.size();
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EPIPE) return Status::BrokenPipe();
        return Errno("write failed", path_);
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::OK();
  }
  buf_.append(data);
  return Status::OK();
}

Status WritableFile::Flush() {
  const char* p = buf_.data();
  size_t n = buf_.size();
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      buf_.clear();
      if (errno == EPIPE) return Status::BrokenPipe();
      return Errno("write failed", path_);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  buf_.clear();
  return Status::OK();
}

Status WritableFile::Sync() {
  EVT_RETURN_IF_ERROR(Flush());
  if (::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS) return Errno("fsync failed", path_);
  return Status::OK();
}

Status WritableFile::Close() {
  if (fd_ < 0) return Status::OK();
  Status s = Flush();
  if (owns_ && ::close(fd_) != 0 && s.ok()) s = Errno("close failed", path_);
  fd_ = -1;
  return s;
}

Status WritableFile::Truncate(uint64_t size) {
  EVT_RETURN_IF_ERROR(Flush());
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno("truncate failed", path_);
  size_ = size;
  return Status::OK();
}

// ---------------- atomic replace ----------------
Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0 && errno != EINVAL) return Errno("fsync failed", dir);
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, std::string_view content) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    auto f = WritableFile::Open(tmp, false);
    if (!f.ok()) return f.status();
    Status s = (*f)->Append(content);
    if (s.ok()) s = (*f)->Sync();
    if (s.ok()) s = (*f)->Close();
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("rename failed", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(Dirname(path));
}

// ---------------- locks ----------------
Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open lock file", path);
  if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return Status::Busy(fmt::format("{}: locked by another process", path));
    errno = e;
    return Errno("cannot lock", path);
  }
  std::unique_ptr<FileLock> l(new FileLock());
  l->fd_ = fd;
  return l;
}

bool FileLock::IsLockedByOther(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = false;
  // Java's FileChannel.tryLock (what a Kafka broker holds on <log dir>/.lock) takes a POSIX
  // record lock; other tools take flock. Check both.
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
    locked = true;
  } else if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    locked = (errno == EWOULDBLOCK);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return locked;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

// ---------------- directories and paths ----------------
Result<std::vector<DirEntry>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Errno("cannot list directory", dir);
  std::vector<DirEntry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    DirEntry de;
    de.name = name;
    struct stat st;
    if (::stat(JoinPath(dir, name).c_str(), &st) == 0) {
      de.is_dir = S_ISDIR(st.st_mode);
      de.is_file = S_ISREG(st.st_mode);
      de.size = static_cast<uint64_t>(st.st_size);
    }
    out.push_back(std::move(de));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeDirs(const std::string& path) {
  if (path.empty() || IsDirectory(path)) return Status::OK();
  std::string parent = Dirname(path);
  if (parent != path && !parent.empty() && parent != ".") EVT_RETURN_IF_ERROR(MakeDirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create directory", path);
  return Status::OK();
}

std::string Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t p = path.rfind('/');
  return std::string(p == std::string_view::npos ? path : path.substr(p + 1));
}

std::string RealBasename(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return Basename(path);
  std::string name = Basename(real);
  ::free(real);
  return name;
}

std::string Dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t p = path.rfind('/');
  if (p == std::string_view::npos) return ".";
  if (p == 0) return "/";
  return std::string(path.substr(0, p));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string r(a);
  if (r.back() != '/') r.push_back('/');
  r.append(b);
  return r;
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", path);
  return Status::OK();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("cannot rename to " + to, from);
  return Status::OK();
}

Result<std::string> ReadFileToString(const std::string& path) {
  auto m = MappedFile::Open(path);
  if (!m.ok()) return m.status();
  return std::string((*m)->data());
}

}  // namespace evt
