#include "lib/pipeline/headers.h"

#include <fnmatch.h>

#include <cstring>

namespace evt {

Result<HeaderFilter> HeaderFilter::Make(const std::vector<std::string>& keep, const std::vector<std::string>& drop) {
  HeaderFilter f;
  for (auto [flag, globs, out] : {std::tuple{"--keep-header", &keep, &f.keep_}, {"--drop-header", &drop, &f.drop_}}) {
    for (const std::string& g : *globs) {
      if (g.empty()) return Status::InvalidArgument(std::string(flag) + ": empty glob (give a header key or a pattern such as 'x-*')");
      size_t last = g.find_last_not_of('\\');
      size_t trailing_backslashes = last == std::string::npos ? g.size() : g.size() - 1 - last;
      if (trailing_backslashes % 2 == 1)
        return Status::InvalidArgument(std::string(flag) + ": '" + g + "' ends in a lone '\\' (write '\\\\' for a backslash)");
      // Most globs are a key or a key prefix: those are compared without fnmatch.
      size_t meta = g.find_first_of("*?[\\");
      size_t stars = g.find_last_not_of('*') + 1;  // 0 when all stars
      Glob::Kind kind = meta == std::string::npos ? Glob::kExact
                        : stars == 0              ? Glob::kAny
                        : meta == stars           ? Glob::kPrefix
                                                  : Glob::kPattern;
      out->push_back(Glob{kind, kind == Glob::kPrefix ? g.substr(0, stars) : g});
    }
  }
  return f;
}

bool HeaderFilter::Glob::Matches(std::string_view key) const {
  switch (kind) {
    case kAny: return true;
    case kExact: return key == text;
    case kPrefix: return key.substr(0, text.size()) == text;
    case kPattern: break;
  }
  // fnmatch wants a NUL-terminated key: copy it to the stack (a longer key goes through a
  // per-thread buffer that keeps its capacity). A key holding a NUL byte cannot be
  // expressed to fnmatch and matches no such glob.
  if (std::memchr(key.data(), '\0', key.size())) return false;
  char small[256];
  const char* k;
  if (key.size() < sizeof small) {
    std::memcpy(small, key.data(), key.size());
    small[key.size()] = '\0';
    k = small;
  } else {
    thread_local std::string big;
    big.assign(key);
    k = big.c_str();
  }
  return ::fnmatch(text.c_str(), k, 0) == 0;
}

bool HeaderFilter::AnyMatches(const std::vector<Glob>& globs, std::string_view key) {
  for (const Glob& g : globs)
    if (g.Matches(key)) return true;
  return false;
}

bool HeaderFilter::Passes(std::string_view key) const {
  if (!keep_.empty() && !AnyMatches(keep_, key)) return false;
  return !AnyMatches(drop_, key);
}

void HeaderFilter::Apply(RecordBatch* b) const {
  if (empty()) return;
  Header* all = b->headers.data();
  for (Record& r : b->records) {
    Header* h = all + r.header_begin;
    uint32_t n = 0;
    for (uint32_t i = 0; i < r.header_count; ++i)
      if (Passes(h[i].key)) h[n++] = h[i];
    r.header_count = n;
  }
}

namespace {

class HeaderFilterSource : public Source {
 public:
  HeaderFilterSource(std::unique_ptr<Source> inner, const HeaderFilter& f) : inner_(std::move(inner)), filter_(f) {}
  Status Next(RecordBatch* out, bool* eof) override {
    Status s = inner_->Next(out, eof);
    filter_.Apply(out);  // also what was read before an error: those records still go on
    return s;
  }
  std::string Describe() const override { return inner_->Describe(); }
  bool wants_ack() const override { return inner_->wants_ack(); }
  Status Ack(const Record* upto) override { return inner_->Ack(upto); }

 private:
  std::unique_ptr<Source> inner_;
  HeaderFilter filter_;
};

}  // namespace

std::unique_ptr<Source> FilterHeaders(std::unique_ptr<Source> src, const HeaderFilter& filter) {
  if (filter.empty()) return src;
  return std::make_unique<HeaderFilterSource>(std::move(src), filter);
}

}  // namespace evt
