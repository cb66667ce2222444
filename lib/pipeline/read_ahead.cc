#include "lib/pipeline/read_ahead.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace evt {
namespace {

// What the inner source reported while decoding one batch, replayed on the caller's thread.
struct Report {
  enum Kind { kCorruption, kWarning, kNotice } kind;
  std::string where;
  uint64_t pos = 0;
  uint64_t dropped = 0;
  std::string what;
};

class HeldReporter : public Reporter {
 public:
  void Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) override {
    held.push_back({Report::kCorruption, std::string(where), pos, dropped, std::string(reason)});
  }
  void Warning(std::string_view where, uint64_t pos, std::string_view what) override {
    held.push_back({Report::kWarning, std::string(where), pos, 0, std::string(what)});
  }
  void Notice(std::string_view what) override { held.push_back({Report::kNotice, "", 0, 0, std::string(what)}); }
  std::vector<Report> held;  // used by the thread only, until handed over under the lock
};

void Replay(const std::vector<Report>& reports, Reporter* to) {
  if (!to) return;
  for (const Report& r : reports) {
    switch (r.kind) {
      case Report::kCorruption: to->Corruption(r.where, r.pos, r.dropped, r.what); break;
      case Report::kWarning: to->Warning(r.where, r.pos, r.what); break;
      case Report::kNotice: to->Notice(r.what); break;
    }
  }
}

}  // namespace

struct ReadAheadSource::Impl {
  std::unique_ptr<Source> inner;
  Reporter* reporter = nullptr;
  HeldReporter thread_reporter;
  std::string describe;
  std::thread thread;

  std::mutex mu;
  std::condition_variable cv;
  // The slot: filled by the thread, taken (swapped out) by the caller. One batch ahead.
  RecordBatch slot;
  std::vector<Report> slot_reports;
  bool full = false;
  bool done = false;  // the slot holds the last result (end or an error)
  bool eof = false;
  Status status;
  bool stop = false;
  bool finished = false;  // the caller has taken the last result

  void Run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return !full || stop; });
        if (stop) return;
      }
      // The slot is the thread's until it is marked full: the caller only swaps it then.
      bool e = false;
      Status s = inner->Next(&slot, &e);
      std::lock_guard<std::mutex> l(mu);
      slot_reports = std::move(thread_reporter.held);
      thread_reporter.held.clear();
      status = s;
      eof = e;
      full = true;
      done = !s.ok() || e;
      cv.notify_all();
      if (done) return;
    }
  }
};

ReadAheadSource::ReadAheadSource(const std::function<std::unique_ptr<Source>(Reporter*)>& make, Reporter* reporter)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.reporter = reporter;
  s.inner = make(&s.thread_reporter);
  s.describe = s.inner->Describe();
  s.thread = std::thread([&s] { s.Run(); });
}

ReadAheadSource::~ReadAheadSource() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.stop = true;
  }
  s.cv.notify_all();
  if (s.thread.joinable()) s.thread.join();
}

std::string ReadAheadSource::Describe() const { return impl_->describe; }

Status ReadAheadSource::Next(RecordBatch* out, bool* eof) {
  Impl& s = *impl_;
  if (s.finished) {
    out->Clear();
    *eof = s.status.ok();
    return s.status;
  }
  std::vector<Report> reports;
  Status st;
  {
    std::unique_lock<std::mutex> l(s.mu);
    s.cv.wait(l, [&] { return s.full; });
    // The caller's previous batch goes to the thread, which clears and refills it.
    std::swap(*out, s.slot);
    reports = std::move(s.slot_reports);
    s.slot_reports.clear();
    st = s.status;
    *eof = s.eof;
    s.full = false;
    s.finished = s.done;
  }
  s.cv.notify_all();
  Replay(reports, s.reporter);
  return st;  // with an error, the records decoded before it are still returned (as sources do)
}

}  // namespace evt
