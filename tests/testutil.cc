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

#include <librdkafka/rdkafka.h>

#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"

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
  uint32_t len = DecodeFixed32BE(buf->data() + pos + kafka::kSizeOffset);
  size_t total = kafka::kLogOverhead + len;
  uint32_t crc = Crc32c(buf->data() + pos + kafka::kCrcCoveredFrom, total - kafka::kCrcCoveredFrom);
  EncodeFixed32BE(buf->data() + pos + kafka::kCrcOffset, crc);
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

namespace {
rd_kafka_t* PeerClient(rd_kafka_type_t type, const std::string& brokers, const std::string& group) {
  char err[512];
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", brokers.c_str(), err, sizeof(err));
  rd_kafka_conf_set(c, "log_level", "0", err, sizeof(err));
  if (!group.empty()) {
    rd_kafka_conf_set(c, "group.id", group.c_str(), err, sizeof(err));
    rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
  }
  rd_kafka_t* rk = rd_kafka_new(type, c, err, sizeof(err));
  if (!rk) rd_kafka_conf_destroy(c);
  return rk;
}
}  // namespace

bool ProduceWithTimestamps(const std::string& brokers, const std::string& topic, int32_t partition, int n,
                           int64_t ts0) {
  rd_kafka_t* rk = PeerClient(RD_KAFKA_PRODUCER, brokers, "");
  if (!rk) return false;
  bool ok = true;
  for (int i = 0; i < n && ok; ++i)
    ok = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                           RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1), RD_KAFKA_V_TIMESTAMP(ts0 + 1000 * int64_t{i}),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR;
  ok = ok && rd_kafka_flush(rk, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_outq_len(rk) == 0;
  rd_kafka_destroy(rk);
  return ok;
}

bool CommitOffsets(const std::string& brokers, const std::string& group, const std::vector<CommitSpec>& offsets) {
  rd_kafka_t* rk = PeerClient(RD_KAFKA_CONSUMER, brokers, group);
  if (!rk) return false;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& o : offsets) rd_kafka_topic_partition_list_add(l, o.topic.c_str(), o.partition)->offset = o.offset;
  bool ok = rd_kafka_commit(rk, l, 0) == RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_destroy(rk);
  return ok;
}

}  // namespace evt::test
