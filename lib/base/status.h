// Status and Result<T>: how lib/ reports failure. Only cmd/ turns these into exit codes.
#pragma once
#include <optional>
#include <string>
#include <utility>

namespace evt {

enum class Code {
  kOk = 0,
  kCorruption,       // data problem: bad CRC, bad length, torn record (exit 1)
  kDataProblem,      // other data problem found (undelivered records, ...) (exit 1)
  kInvalidArgument,  // usage error (exit 2)
  kIOError,          // runtime error: open/read/write failed (exit 2)
  kNotFound,         // runtime error (exit 2)
  kUnsupported,      // runtime error (exit 2)
  kBusy,             // lock held by another process (exit 2)
  kInterrupted,      // SIGINT/SIGTERM (exit 130)
  kBrokenPipe,       // stdout closed by the reader (exit 0, quietly)
};

class Status {
 public:
  Status() = default;
  static Status OK() { return Status(); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status DataProblem(std::string msg) { return Status(Code::kDataProblem, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status Interrupted() { return Status(Code::kInterrupted, "interrupted"); }
  static Status BrokenPipe() { return Status(Code::kBrokenPipe, "broken pipe"); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsDataProblem() const { return code_ == Code::kCorruption || code_ == Code::kDataProblem; }

  // Prefix the message with a location ("file@pos: ").
  Status WithContext(const std::string& where) const {
    if (ok()) return *this;
    return Status(code_, where + ": " + msg_);
  }

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : status_(std::move(s)) {}     // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

#define EVT_RETURN_IF_ERROR(expr)           \
  do {                                      \
    ::evt::Status _st = (expr);             \
    if (!_st.ok()) return _st;              \
  } while (0)

}  // namespace evt
