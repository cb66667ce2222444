#include "formats/protobuf/source_tree.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <mutex>

namespace evt::protobuf::internal {

namespace gp = google::protobuf;

void SilenceLibprotobuf() {
  static std::once_flag once;
  std::call_once(once, [] { gp::SetLogHandler(nullptr); });
}

namespace {
// The well-known types (google/protobuf/*.proto) as .proto text, from the descriptors
// libprotobuf has compiled in: no file on disk is needed.
bool WellKnownText(const std::string& name, std::string* text) {
  if (name.rfind("google/protobuf/", 0) != 0) return false;
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::string>();
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache->find(name); it != cache->end()) {
    *text = it->second;
    return true;
  }
  const gp::FileDescriptor* f = gp::DescriptorPool::generated_pool()->FindFileByName(name);
  if (!f) return false;
  *text = (*cache)[name] = f->DebugString();
  return true;
}
}  // namespace

gp::io::ZeroCopyInputStream* MemorySourceTree::Open(const std::string& filename) {
  auto it = files_.find(filename);
  if (it == files_.end()) {
    std::string text;
    if (!WellKnownText(filename, &text) && !(resolver_ && resolver_(filename, &text))) {
      last_error_ = "not found (not a reference, not beside the schema, not a well-known type)";
      return nullptr;
    }
    it = files_.emplace(filename, std::move(text)).first;
  }
  return new gp::io::ArrayInputStream(it->second.data(), static_cast<int>(it->second.size()));
}

void Collector::AddError(const std::string& filename, int line, int column, const std::string& message) {
  if (errors_.size() >= 3) return;
  if (line >= 0) errors_.push_back(fmt::format("{}:{}:{}: {}", filename, line + 1, column + 1, message));
  else errors_.push_back(fmt::format("{}: {}", filename, message));
}

std::string Collector::Text() const {
  std::string s;
  for (const auto& e : errors_) s += (s.empty() ? "" : "; ") + e;
  return s.empty() ? "does not compile" : s;
}

Status Compile(std::string_view text, const std::string& name, const std::vector<ImportFile>& imports,
               const ImportResolver& resolver, Compiled* out) {
  SilenceLibprotobuf();
  if (text.size() > (64u << 20)) return Status::InvalidArgument("a .proto schema over 64 MiB");
  std::map<std::string, std::string> files;
  for (const ImportFile& f : imports) files.emplace(f.name, f.text);
  files[name] = std::string(text);
  out->tree = std::make_unique<MemorySourceTree>(std::move(files), resolver);
  try {
    out->importer = std::make_unique<gp::compiler::Importer>(out->tree.get(), &out->errors);
    out->file = out->importer->Import(name);
  } catch (...) {  // a FATAL check inside libprotobuf throws (it never aborts here)
    out->file = nullptr;
  }
  if (!out->file) return Status::InvalidArgument(out->errors.Text());
  return Status::OK();
}

}  // namespace evt::protobuf::internal
