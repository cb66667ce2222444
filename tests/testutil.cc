#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "formats/kafka/entry.h"

namespace evt::test {

TempDir::TempDir() {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/evt-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string EvtBinary() {
  const char* e = std::getenv("EVT_BINARY");
  if (e && *e) return e;
#ifdef EVT_BINARY
  return EVT_BINARY;
#else
  return "evt";
#endif
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
}

RunResult RunEvt(const std::string& args, const std::string& stdin_text) {
  TempDir io;
  std::string in = io / "stdin", out = io / "stdout", err = io / "stderr";
  WriteFile(in, stdin_text);
  std::string cmd = "'" + EvtBinary() + "' " + args + " <'" + in + "' >'" + out + "' 2>'" + err + "'";
  int rc = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

void FlipByte(std::string* buf, size_t off, uint8_t mask) { (*buf)[off] = static_cast<char>((*buf)[off] ^ mask); }

void Truncate(std::string* buf, size_t n) { buf->resize(n); }

void FixCrc(std::string* buf, size_t pos) {
  // As long as its length field says (which a test may have damaged on purpose).
  uint64_t total = kafka::EntryView(buf->data() + pos, kafka::kLogOverhead).total_size();
  kafka::MutableEntryView(buf->data() + pos, total).UpdateCrc();
}

void AddRecord(RecordBatch* b, const RecordSpec& s) {
  Record r;
  r.offset = s.offset;
  r.timestamp = s.timestamp;
  r.partition = b->partition;
  if (s.key) r.key = Bytes::Of(b->arena.Copy(s.key));
  else if (s.has_key) r.key = Bytes::Of(b->arena.Copy(s.key_bytes));
  r.value = s.null_value ? Bytes::Null() : Bytes::Of(b->arena.Copy(s.value));
  r.header_begin = static_cast<uint32_t>(b->headers.size());
  for (const auto& [k, v] : s.headers) b->headers.push_back(Header{b->arena.Copy(k), Bytes::Of(b->arena.Copy(v))});
  r.header_count = static_cast<uint32_t>(s.headers.size());
  b->records.push_back(r);
}

std::string CorpusDir() {
  const char* e = std::getenv("EVT_CORPUS_DIR");
  std::string d = e && *e ? e :
#ifdef EVT_CORPUS_DIR
                            EVT_CORPUS_DIR;
#else
                            "../shared/corpus";
#endif
  struct stat st;
  if (stat((d + "/real").c_str(), &st) != 0) return "";
  return d;
}

}  // namespace evt::test
