#include "lib/jobs/filter_run.h"

#include <fmt/format.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/base/term.h"
#include "formats/envelope/envelope.h"
#include "lib/filter/filter.h"
#include "lib/pipeline/jsonl_source.h"

namespace evt {

namespace {

// --decode: one envelope line at a time through the decoding stage, and back to envelope
// text (padded for simdjson) for the expression. One per evaluator (per worker thread).
class LineDecoder {
 public:
  enum Outcome { kDecoded, kUndecoded, kNotEnvelope, kStrictFailure };
  explicit LineDecoder(const DecodeOptions& opts) : stage_(std::make_unique<InPlace>(), opts, nullptr) {}
  // *why: for kUndecoded, kNotEnvelope and kStrictFailure.
  Outcome Decode(std::string_view line, std::string* why) {
    batch_.Clear();
    envelope::ParsedRecord pr;
    Status st = parser_.Parse(line, &batch_, &pr);
    if (!st.ok()) {
      *why = st.message();
      return kNotEnvelope;
    }
    batch_.topic.assign(pr.topic);
    batch_.partition = pr.partition;
    pr.record.partition = pr.partition;
    batch_.records.push_back(pr.record);
    bool eof = false;
    Status d = stage_.Next(&batch_, &eof);
    if (!d.ok()) {
      *why = d.message();
      return kStrictFailure;
    }
    const Record& r = batch_.records.front();
    text_.clear();
    envelope::AppendRecord(batch_, r, &text_);
    size_ = text_.size() - 1;  // without its '\n'
    text_.append(64, '\0');    // simdjson's padding
    if (r.decode_error != 0 && r.decode_error <= batch_.decode_errors.size()) {
      *why = batch_.decode_errors[r.decode_error - 1];
      return kUndecoded;
    }
    return kDecoded;
  }
  const char* data() const { return text_.data(); }
  size_t size() const { return size_; }
  size_t capacity() const { return text_.size(); }

 private:
  // The stage's source: the batch the stage is asked to fill already holds the record.
  struct InPlace : Source {
    Status Next(RecordBatch*, bool* eof) override {
      *eof = false;
      return Status::OK();
    }
    std::string Describe() const override { return "envelope line"; }
  };
  envelope::Parser parser_;
  RecordBatch batch_;
  DecodeSource stage_;
  std::string text_;
  size_t size_ = 0;
};

// A run of complete lines and, once evaluated, what came out of it.
struct Chunk {
  const char* data = nullptr;
  size_t len = 0;
  size_t capacity = 0;  // readable bytes from data (for simdjson padding)
  std::string owned;    // backing store when the lines were copied (streams)
  // Results.
  std::string out;       // selected lines, each with '\n'
  uint64_t lines = 0;    // lines in the chunk (blank included), for line numbers
  uint64_t docs = 0;
  uint64_t selected = 0;
  uint64_t errors = 0;
  uint64_t invalid = 0;
  uint64_t first_error_line = 0;  // 1-based within the chunk
  std::string first_error;
  uint64_t first_invalid_line = 0;
  std::string first_invalid_reason;  // --decode: why the line is not an envelope
  uint64_t undecoded = 0;            // --decode
  uint64_t first_undecoded_line = 0;
  std::string first_undecoded;
  std::string strict_failure;        // --decode --strict: the record that did not decode
  uint64_t strict_failure_line = 0;
  bool done = false;
};

// Evaluates the lines of a chunk, up to and including the `max_select`-th selected line and,
// with --strict, up to and including the first invalid line: what follows them is not part
// of the result (not written, not counted).
void Process(filter::Evaluator* ev, LineDecoder* dec, const FilterRunOptions& o, Chunk* c,
             uint64_t max_select = UINT64_MAX) {
  std::string why;
  const char* p = c->data;
  const char* end = c->data + c->len;
  const char* cap_end = c->data + c->capacity;
  while (p < end && c->selected < max_select) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    ++c->lines;
    // Blank lines (whitespace only) are not documents, as in jq.
    const char* q = p;
    while (q < le && (*q == ' ' || *q == '\t' || *q == '\r')) ++q;
    if (q < le) {
      ++c->docs;
      size_t len = static_cast<size_t>(le - p);
      filter::Match m;
      if (!dec) {
        m = ev->Json(p, len, static_cast<size_t>(cap_end - p));
      } else {
        LineDecoder::Outcome d = dec->Decode(std::string_view(p, len), &why);
        if (d == LineDecoder::kStrictFailure) {
          c->strict_failure = why;
          c->strict_failure_line = c->lines;
          break;  // reading stops here
        }
        if (d == LineDecoder::kNotEnvelope) {
          m = filter::Match::kInvalid;
          if (c->invalid == 0) c->first_invalid_reason = why;
        } else {
          if (d == LineDecoder::kUndecoded && c->undecoded++ == 0) {
            c->first_undecoded_line = c->lines;
            c->first_undecoded = why;
          }
          m = ev->Json(dec->data(), dec->size(), dec->capacity());
        }
      }
      bool sel = false;
      if (m == filter::Match::kYes) {
        sel = !o.invert;
      } else if (m == filter::Match::kNo) {
        sel = o.invert;
      } else if (m == filter::Match::kError) {
        if (c->errors++ == 0) {
          c->first_error_line = c->lines;
          c->first_error = ev->error();
        }
      } else {
        if (c->invalid++ == 0) c->first_invalid_line = c->lines;
        if (o.strict) break;  // reading stops here
      }
      if (sel) {
        ++c->selected;
        if (!o.count) {
          c->out.append(p, len);
          c->out.push_back('\n');
        }
      }
    }
    p = nl ? nl + 1 : end;
  }
}

class Pool {
 public:
  Pool(std::shared_ptr<const filter::Filter> f, const FilterRunOptions& o, int threads) : o_(o) {
    for (int i = 0; i < threads; ++i)
      workers_.emplace_back([this, f] {
        filter::Evaluator ev(f);
        std::unique_ptr<LineDecoder> dec;
        if (o_.decode.any()) dec = std::make_unique<LineDecoder>(o_.decode);
        while (true) {
          Chunk* c;
          {
            std::unique_lock<std::mutex> l(mu_);
            cv_work_.wait(l, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;
            c = queue_.front();
            queue_.pop_front();
          }
          Process(&ev, dec.get(), o_, c);
          {
            std::lock_guard<std::mutex> l(mu_);
            c->done = true;
          }
          cv_done_.notify_all();
        }
      });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void Submit(Chunk* c) {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(c);
    }
    cv_work_.notify_one();
  }
  void Wait(Chunk* c) {
    std::unique_lock<std::mutex> l(mu_);
    cv_done_.wait(l, [&] { return c->done; });
  }
  // Takes back queued chunks that no worker has started (used when stopping early).
  void Cancel() {
    std::lock_guard<std::mutex> l(mu_);
    for (Chunk* c : queue_) c->done = true;
    queue_.clear();
  }

 private:
  const FilterRunOptions& o_;
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  std::deque<Chunk*> queue_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

class Runner {
 public:
  Runner(std::shared_ptr<const filter::Filter> f, const FilterRunOptions& o, WritableFile* out, FilterRunStats* st)
      : f_(std::move(f)), o_(o), out_(out), st_(st) {
    int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
    threads = std::max(1, std::min(threads, 16));
    if (threads > 1) pool_ = std::make_unique<Pool>(f_, o_, threads);
    else inline_ev_ = std::make_unique<filter::Evaluator>(f_);
    max_inflight_ = static_cast<size_t>(threads) * 2 + 1;
  }
  ~Runner() { Abort(); }

  // Stops: drops queued chunks and waits for the ones being evaluated, so the memory they
  // point into (a mapped file) can be released.
  void Abort() {
    stop_ = true;
    if (pool_) {
      pool_->Cancel();
      for (auto& c : inflight_) pool_->Wait(c.get());
    }
    inflight_.clear();
  }

  bool stopped() const { return stop_; }
  // Start of the oldest chunk not yet written (nullptr when none is in flight).
  const char* OldestPending() const { return inflight_.empty() ? nullptr : inflight_.front()->data; }

  // A new chunk, with the output buffer of one already written (no allocation and no
  // page faults once warm).
  std::unique_ptr<Chunk> NewChunk() {
    auto c = std::make_unique<Chunk>();
    if (!spare_out_.empty()) {
      c->out = std::move(spare_out_.back());
      spare_out_.pop_back();
      c->out.clear();
    }
    return c;
  }

  // Submits a chunk; writes finished chunks in order.
  Status Add(std::unique_ptr<Chunk> c) {
    if (stop_) return Status::OK();
    if (!pool_) {
      Process(inline_ev_.get(), MainDecoder(), o_, c.get());
      Status s = Emit(*c);
      Recycle(std::move(c));
      return s;
    }
    pool_->Submit(c.get());
    inflight_.push_back(std::move(c));
    while (inflight_.size() >= max_inflight_ && !stop_) EVT_RETURN_IF_ERROR(PopOne());
    return Status::OK();
  }
  // Writes everything still in flight (call at the end of each file).
  Status Drain() {
    while (!inflight_.empty() && !stop_) EVT_RETURN_IF_ERROR(PopOne());
    if (stop_ && pool_) {
      pool_->Cancel();
      for (auto& c : inflight_) pool_->Wait(c.get());
      inflight_.clear();
    }
    return Status::OK();
  }
  void StartFile(const std::string& name) {
    file_ = name;
    line_base_ = 0;
  }

 private:
  Status PopOne() {
    std::unique_ptr<Chunk> c = std::move(inflight_.front());
    inflight_.pop_front();
    pool_->Wait(c.get());
    Status s = Emit(*c);
    Recycle(std::move(c));
    return s;
  }
  void Recycle(std::unique_ptr<Chunk> c) {
    if (spare_out_.size() < max_inflight_ + 1) spare_out_.push_back(std::move(c->out));
  }

  Status Emit(const Chunk& chunk) {
    if (stop_) return Status::OK();
    const Chunk* c = &chunk;
    Chunk cut;
    if (o_.limit >= 0 && st_->selected + chunk.selected >= static_cast<uint64_t>(o_.limit)) {
      // --limit: the limit-th selected line is in this chunk. Evaluate it again up to that
      // line, so that what follows it (documents, errors, invalid lines, which --strict would
      // stop at) counts as not read, however the input was cut into chunks.
      cut.data = chunk.data;
      cut.len = chunk.len;
      cut.capacity = chunk.capacity;
      Process(MainEvaluator(), MainDecoder(), o_, &cut, static_cast<uint64_t>(o_.limit) - st_->selected);
      c = &cut;
      stop_ = true;
    }
    st_->lines += c->docs;
    if (c->errors) {
      if (st_->errors == 0) st_->first_error = fmt::format("{}:{}: {}", file_, line_base_ + c->first_error_line, c->first_error);
      st_->errors += c->errors;
    }
    if (c->invalid) {
      if (st_->invalid == 0)
        st_->first_invalid = fmt::format("{}:{}{}{}", file_, line_base_ + c->first_invalid_line,
                                         c->first_invalid_reason.empty() ? "" : ": ", c->first_invalid_reason);
      st_->invalid += c->invalid;
    }
    if (c->undecoded) {
      if (st_->undecoded == 0)
        st_->first_undecoded = fmt::format("{}:{}: {}", file_, line_base_ + c->first_undecoded_line, c->first_undecoded);
      st_->undecoded += c->undecoded;
    }
    st_->selected += c->selected;
    const uint64_t first_line = line_base_;
    line_base_ += c->lines;
    if (!o_.count && !c->out.empty()) EVT_RETURN_IF_ERROR(out_->Append(c->out));
    if (o_.strict && c->invalid > 0) {
      stop_ = true;
      if (o_.decode.any())
        return Status::DataProblem(fmt::format("{}:{}: not an envelope: {} (--strict)", file_,
                                               first_line + c->first_invalid_line, c->first_invalid_reason));
      return Status::DataProblem(fmt::format("{}:{}: not valid JSON (--strict)", file_, first_line + c->first_invalid_line));
    }
    if (!c->strict_failure.empty()) {
      stop_ = true;
      return Status::DataProblem(fmt::format("{}:{}: {}", file_, first_line + c->strict_failure_line, c->strict_failure));
    }
    return Status::OK();
  }

  // The main thread's evaluator and --decode stage (workers have their own).
  filter::Evaluator* MainEvaluator() {
    if (!inline_ev_) inline_ev_ = std::make_unique<filter::Evaluator>(f_);
    return inline_ev_.get();
  }
  LineDecoder* MainDecoder() {
    if (!o_.decode.any()) return nullptr;
    if (!inline_dec_) inline_dec_ = std::make_unique<LineDecoder>(o_.decode);
    return inline_dec_.get();
  }

  std::shared_ptr<const filter::Filter> f_;
  const FilterRunOptions& o_;
  WritableFile* out_;
  FilterRunStats* st_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<filter::Evaluator> inline_ev_;
  std::unique_ptr<LineDecoder> inline_dec_;
  std::deque<std::unique_ptr<Chunk>> inflight_;
  std::vector<std::string> spare_out_;  // output buffers of written chunks, for NewChunk()
  size_t max_inflight_ = 3;
  bool stop_ = false;
  std::string file_;
  uint64_t line_base_ = 0;
};

// How much of a mapped input is read past before its pages are dropped (bounds the RSS the
// mapping adds).
constexpr size_t kReleaseStep = 32u << 20;

Status RunMapped(Runner* r, const FilterRunOptions& o, MappedFile& mf) {
  std::string_view d = mf.data();
  size_t pos = 0;
  size_t released = 0;
  while (pos < d.size() && !r->stopped()) {
    if (InterruptRequested()) return Status::Interrupted();
    size_t end = std::min(d.size(), pos + o.chunk_bytes);
    if (end < d.size()) {
      const void* nl = std::memchr(d.data() + end, '\n', d.size() - end);
      end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - d.data()) + 1 : d.size();
    }
    auto c = r->NewChunk();
    c->data = d.data() + pos;
    c->len = end - pos;
    c->capacity = d.size() - pos;
    EVT_RETURN_IF_ERROR(r->Add(std::move(c)));
    pos = end;
    // Pages of chunks already written are not needed again: keep RSS flat. In steps of
    // kReleaseStep: each release unmaps pages and interrupts the other threads' CPUs to
    // flush their TLBs, which per 1 MiB chunk cost about 4% of the run's CPU.
    const char* keep = r->OldestPending();
    size_t upto = keep ? static_cast<size_t>(keep - d.data()) : pos;
    if (upto >= released + kReleaseStep) {
      mf.Release(released, upto - released);
      released = upto;
    }
  }
  return r->Drain();
}

Status RunStream(Runner* r, const FilterRunOptions& o, LineReader* lr) {
  std::string_view line;
  auto c = r->NewChunk();
  auto flush = [&]() -> Status {
    c->owned.append(64, '\0');  // simdjson padding after the last line
    c->data = c->owned.data();
    c->len = c->owned.size() - 64;
    c->capacity = c->owned.size();
    EVT_RETURN_IF_ERROR(r->Add(std::move(c)));
    c = r->NewChunk();
    return Status::OK();
  };
  uint64_t n = 0;
  while (!r->stopped() && lr->Next(&line)) {
    if ((++n & 1023) == 0 && InterruptRequested()) return Status::Interrupted();
    c->owned.append(line);
    c->owned.push_back('\n');
    if (c->owned.size() >= o.chunk_bytes) EVT_RETURN_IF_ERROR(flush());
  }
  if (!lr->status().ok()) return lr->status();
  if (!c->owned.empty()) EVT_RETURN_IF_ERROR(flush());
  return r->Drain();
}

}  // namespace

Status RunFilter(const FilterRunOptions& opts, WritableFile* out, Reporter* reporter, FilterRunStats* stats) {
  auto f = filter::Filter::Compile(opts.exprs, filter::Mode::kJson);
  if (!f.ok()) return f.status();
  *stats = FilterRunStats{};
  Status result;
  {
    Runner runner(*f, opts, out, stats);
    std::vector<std::string> files = opts.files;
    if (files.empty()) files.push_back("-");
    for (const std::string& path : files) {
      if (runner.stopped()) break;
      bool stream = path == "-" || path.ends_with(".gz") || path.ends_with(".zst");
      if (!stream) {
        auto mf = MappedFile::Open(path);
        if (!mf.ok()) {
          // Pipes and other non-mappable files are read as streams.
          if (mf.status().code() != Code::kIOError) {
            result = mf.status();
            break;
          }
          stream = true;
        } else {
          runner.StartFile(path);
          (*mf)->AdviseSequential();
          result = RunMapped(&runner, opts, **mf);
          if (!result.ok()) {
            runner.Abort();  // before the mapping goes away
            break;
          }
          continue;
        }
      }
      auto lr = LineReader::Open(path);
      if (!lr.ok()) {
        result = lr.status();
        break;
      }
      runner.StartFile((*lr)->name());
      result = RunStream(&runner, opts, lr->get());
      if (!result.ok()) {
        runner.Abort();
        break;
      }
    }
  }
  if (result.ok() && opts.count) result = out->Append(fmt::format("{}\n", stats->selected));
  if (reporter) {
    if (stats->invalid && !(opts.strict && !result.ok()))
      reporter->Notice(fmt::format("{} line{} {} and not selected (first: {})", stats->invalid,
                                   stats->invalid == 1 ? " was" : "s were",
                                   opts.decode.any() ? "not an envelope (--decode)" : "not valid JSON",
                                   stats->first_invalid));
    if (stats->undecoded)
      reporter->Notice(fmt::format("{} record{} could not be decoded and {} evaluated as stored, with \"decode_error\" "
                                   "(first: {})",
                                   stats->undecoded, stats->undecoded == 1 ? "" : "s",
                                   stats->undecoded == 1 ? "was" : "were", stats->first_undecoded));
    if (stats->errors)
      reporter->Notice(fmt::format("{} line{} not selected because evaluation raised an error (first: {})",
                                   stats->errors, stats->errors == 1 ? " was" : "s were", stats->first_error));
  }
  return result;
}

}  // namespace evt
