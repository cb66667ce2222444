#include "lib/pipeline/jsonl_source.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/timeutil.h"

namespace evt {

// ---------------------------------------------------------------- LineReader
namespace {
constexpr size_t kReadChunk = 1 << 20;
}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  std::unique_ptr<LineReader> r(new LineReader());
  if (path == "-") {
    r->fd_ = 0;
    r->name_ = "<stdin>";
  } else {
    r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (r->fd_ < 0) return Status::IOError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    r->owns_fd_ = true;
    r->name_ = path;
    if (path.ends_with(".zst")) {
      r->codec_ = 4;
      r->dctx_ = ZSTD_createDStream();
      ZSTD_initDStream(static_cast<ZSTD_DStream*>(r->dctx_));
    } else if (path.ends_with(".gz")) {
      r->codec_ = 1;
      auto* zs = new z_stream{};
      if (inflateInit2(zs, 15 + 32) != Z_OK) {
        delete zs;
        return Status::IOError(fmt::format("{}: cannot start gzip decoder", path));
      }
      r->dctx_ = zs;
    }
  }
  r->buf_.reserve(kReadChunk * 2);
  return r;
}

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  if (codec_ == 4 && dctx_) ZSTD_freeDStream(static_cast<ZSTD_DStream*>(dctx_));
  if (codec_ == 1 && dctx_) {
    inflateEnd(static_cast<z_stream*>(dctx_));
    delete static_cast<z_stream*>(dctx_);
  }
}

// Appends more decoded bytes to buf_. Returns false at end of input or on error.
bool LineReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  auto read_raw = [&](std::string* dst) -> ssize_t {
    size_t old = dst->size();
    dst->resize(old + kReadChunk);
    ssize_t n;
    do {
      n = ::read(fd_, dst->data() + old, kReadChunk);
    } while (n < 0 && errno == EINTR);
    dst->resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n < 0) status_ = Status::IOError(fmt::format("{}: read failed: {}", name_, std::strerror(errno)));
    return n;
  };
  if (codec_ == 0) {
    ssize_t n = read_raw(&buf_);
    if (n <= 0) eof_ = true;
    return n > 0;
  }
  // Compressed: decode until some output appears.
  for (;;) {
    if (raw_pos_ >= raw_.size()) {
      raw_.clear();
      raw_pos_ = 0;
      ssize_t n = read_raw(&raw_);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
    }
    size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    size_t produced = 0;
    if (codec_ == 4) {
      ZSTD_inBuffer in{raw_.data(), raw_.size(), raw_pos_};
      ZSTD_outBuffer out{buf_.data() + old, kReadChunk, 0};
      size_t rc = ZSTD_decompressStream(static_cast<ZSTD_DStream*>(dctx_), &out, &in);
      if (ZSTD_isError(rc)) {
        buf_.resize(old);
        status_ = Status::Corruption(fmt::format("{}: zstd: {}", name_, ZSTD_getErrorName(rc)));
        eof_ = true;
        return false;
      }
      raw_pos_ = in.pos;
      produced = out.pos;
    } else {
      auto* zs = static_cast<z_stream*>(dctx_);
      zs->next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_pos_);
      zs->avail_in = static_cast<uInt>(raw_.size() - raw_pos_);
      zs->next_out = reinterpret_cast<Bytef*>(buf_.data() + old);
      zs->avail_out = static_cast<uInt>(kReadChunk);
      int rc = inflate(zs, Z_NO_FLUSH);
      raw_pos_ = raw_.size() - zs->avail_in;
      produced = kReadChunk - zs->avail_out;
      if (rc == Z_STREAM_END) {
        inflateReset(zs);  // concatenated gzip members
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        buf_.resize(old);
        status_ = Status::Corruption(fmt::format("{}: gzip: {}", name_, zs->msg ? zs->msg : "corrupt data"));
        eof_ = true;
        return false;
      }
    }
    buf_.resize(old + produced);
    if (produced > 0) return true;
  }
}

bool LineReader::Next(std::string_view* line, bool stop_if_blocked) {
  blocked_ = false;
  for (;;) {
    const char* start = buf_.data() + pos_;
    size_t avail = buf_.size() - pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    if (nl) {
      *line = std::string_view(start, static_cast<size_t>(nl - start));
      pos_ += static_cast<size_t>(nl - start) + 1;
      ++line_no_;
      return true;
    }
    if (stop_if_blocked && !eof_ && (codec_ == 0 || raw_pos_ >= raw_.size())) {
      struct pollfd p{fd_, POLLIN, 0};
      int n;
      do {
        n = ::poll(&p, 1, 0);
      } while (n < 0 && errno == EINTR);
      if (n == 0) {
        blocked_ = true;
        return false;
      }
    }
    if (!Fill()) {
      if (!status_.ok()) return false;
      if (pos_ < buf_.size()) {  // last line without newline
        *line = std::string_view(buf_.data() + pos_, buf_.size() - pos_);
        pos_ = buf_.size();
        ++line_no_;
        return true;
      }
      return false;
    }
  }
}

// ---------------------------------------------------------------- JSON helpers
namespace {
simdjson::dom::parser& DomParser() {
  thread_local simdjson::dom::parser p;
  return p;
}
}  // namespace

bool IsValidJson(std::string_view json) {
  auto doc = DomParser().parse(json.data(), json.size(), true);
  return doc.error() == simdjson::SUCCESS;
}

Status ExtractJsonField(std::string_view json, const std::string& path, std::string* out, bool* found) {
  *found = false;
  simdjson::dom::element doc;
  auto err = DomParser().parse(json.data(), json.size(), true).get(doc);
  if (err) return Status::Corruption("not valid JSON");
  // Convert ".a.b[0]" to a JSON pointer "/a/b/0".
  std::string ptr;
  size_t i = 0;
  if (path.empty() || path[0] != '.') return Status::InvalidArgument(fmt::format("field path must start with '.': {}", path));
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      if (i >= path.size()) break;
      if (path[i] == '[') continue;
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      ptr += '/';
      for (size_t k = i; k < j; ++k) {
        if (path[k] == '~') ptr += "~0";
        else if (path[k] == '/') ptr += "~1";
        else ptr += path[k];
      }
      i = j;
    } else if (path[i] == '[') {
      size_t j = path.find(']', i);
      if (j == std::string::npos) return Status::InvalidArgument(fmt::format("bad field path: {}", path));
      ptr += '/';
      ptr.append(path, i + 1, j - i - 1);
      i = j + 1;
    } else {
      return Status::InvalidArgument(fmt::format("bad field path: {}", path));
    }
  }
  simdjson::dom::element v;
  if (doc.at_pointer(ptr).get(v) != simdjson::SUCCESS) return Status::OK();
  if (v.is_null()) return Status::OK();
  *found = true;
  std::string_view sv;
  if (v.get_string().get(sv) == simdjson::SUCCESS) {
    out->assign(sv);
  } else {
    *out = simdjson::minify(v);
  }
  return Status::OK();
}

// ---------------------------------------------------------------- JsonlSource
struct JsonlSource::State {
  std::vector<std::string> paths;
  JsonlSourceOptions opts;
  size_t next_path = 0;
  std::unique_ptr<LineReader> reader;
  envelope::Parser parser;
  // A record parsed but not yet emitted because it starts a new topic-partition.
  bool pending = false;
  std::string pending_line;
  uint64_t pending_line_no = 0;
  std::string key_scratch;
};

JsonlSource::JsonlSource(std::vector<std::string> paths, JsonlSourceOptions opts) : s_(new State) {
  s_->paths = std::move(paths);
  if (s_->paths.empty()) s_->paths.push_back("-");
  s_->opts = std::move(opts);
}
JsonlSource::~JsonlSource() = default;

std::string JsonlSource::Describe() const { return s_->reader ? s_->reader->name() : "jsonl"; }

Status JsonlSource::Next(RecordBatch* out, bool* eof) {
  State& s = *s_;
  out->Clear();
  *eof = false;
  bool have_tp = false;
  for (;;) {
    if (!s.reader) {
      if (s.next_path >= s.paths.size()) break;
      auto r = LineReader::Open(s.paths[s.next_path++]);
      if (!r.ok()) return r.status();
      s.reader = std::move(*r);
    }
    std::string_view line;
    uint64_t line_no;
    if (s.pending) {
      line = s.pending_line;
      line_no = s.pending_line_no;
    } else {
      if (!s.reader->Next(&line, /*stop_if_blocked=*/s.opts.hand_on_when_idle && !out->records.empty())) {
        if (s.reader->blocked()) return Status::OK();  // hand on what is here: more may be long in coming
        if (!s.reader->status().ok()) return s.reader->status();
        s.reader.reset();
        continue;
      }
      line_no = s.reader->line_number();
    }
    if (!line.empty() && line.back() == '\r' && s.opts.format != InputFormat::kLines) line.remove_suffix(1);
    if (line.empty() && s.opts.format != InputFormat::kLines) {
      s.pending = false;
      continue;  // blank lines separate nothing
    }
    // A line that is not a record: the error, or the caller's on_invalid and the next line.
    auto invalid = [&](const Status& st) -> Status {
      if (!s.opts.on_invalid) return st.WithContext(fmt::format("{}:{}", s.reader->name(), line_no));
      s.pending = false;
      return s.opts.on_invalid(InvalidLine{s.reader->name(), line_no, st.message(), line});
    };
    Record rec;
    std::string_view topic;
    int32_t partition = -1;
    if (s.opts.format == InputFormat::kEnvelope) {
      envelope::ParsedRecord pr;
      size_t headers_before = out->headers.size();
      Status st = s.parser.Parse(line, out, &pr);
      if (!st.ok()) {
        if (s.opts.suggest_input && s.parser.problem() == envelope::ParseProblem::kNotJson)
          st = Status::Corruption(st.message() + " (use --input lines for raw text)");
        else if (s.opts.suggest_input && s.parser.problem() == envelope::ParseProblem::kNotObject)
          st = Status::Corruption(st.message() + "; use --input values to write each line as a value");
        EVT_RETURN_IF_ERROR(invalid(st));
        continue;
      }
      rec = pr.record;
      if (!pr.has_timestamp) rec.timestamp = NowMs();  // like a producer: CreateTime = now
      topic = pr.topic;
      partition = pr.partition;
      if (!s.opts.topic.empty()) topic = s.opts.topic;
      if (s.opts.partition >= 0) partition = s.opts.partition;
      if (have_tp && (topic != out->topic || partition != out->partition)) {
        // Belongs to the next batch: undo and keep the line.
        out->headers.resize(headers_before);
        if (!s.pending) {
          s.pending_line.assign(line);
          s.pending_line_no = line_no;
          s.pending = true;
        }
        return Status::OK();
      }
    } else {
      // Why the line is not JSON, in words (only once simdjson found it is not).
      auto not_json = [&] {
        std::string why = envelope::DescribeNotJson(line);
        return why.empty() ? std::string("not JSON") : why;
      };
      if (s.opts.format == InputFormat::kValues && !IsValidJson(line)) {
        EVT_RETURN_IF_ERROR(invalid(Status::Corruption(not_json() + " (use --input lines for raw text)")));
        continue;
      }
      rec.key = Bytes::Null();
      if (!s.opts.key_field.empty()) {
        bool found = false;
        Status st = ExtractJsonField(line, s.opts.key_field, &s.key_scratch, &found);
        if (st.code() == Code::kCorruption) {  // the line is not JSON
          EVT_RETURN_IF_ERROR(invalid(Status::Corruption(
              fmt::format("{}, so --key-field {} has nothing to read", not_json(), s.opts.key_field))));
          continue;
        }
        if (!st.ok()) return st;
        if (found) rec.key = Bytes::Of(out->arena.Copy(s.key_scratch));
      }
      rec.value = Bytes::Of(out->arena.Copy(line));
      rec.timestamp = NowMs();  // like a producer: CreateTime = now
      rec.header_begin = static_cast<uint32_t>(out->headers.size());
      topic = s.opts.topic;
      partition = s.opts.partition;
    }
    s.pending = false;
    if (!have_tp) {
      out->topic.assign(topic);
      out->partition = partition;
      out->file = s.reader->name();
      have_tp = true;
    }
    rec.partition = partition;
    rec.source_pos = line_no;
    out->records.push_back(rec);
    if (out->records.size() >= s.opts.target_records) return Status::OK();
  }
  *eof = out->records.empty();
  return Status::OK();
}

}  // namespace evt
