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

#include "formats/kafka/entry.h"
#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"
#include "lib/log/segment_writer.h"

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

std::string LegacyMessage(int8_t magic, int8_t attrs, int64_t offset, int64_t ts, const std::string* key,
                          const std::string& value) {
  std::string body;
  body.push_back(static_cast<char>(magic));
  body.push_back(static_cast<char>(attrs));
  if (magic == 1) PutFixed64BE(&body, static_cast<uint64_t>(ts));
  if (key) {
    PutFixed32BE(&body, static_cast<uint32_t>(key->size()));
    body += *key;
  } else {
    PutFixed32BE(&body, 0xffffffffu);
  }
  PutFixed32BE(&body, static_cast<uint32_t>(value.size()));
  body += value;
  std::string m;
  PutFixed64BE(&m, static_cast<uint64_t>(offset));
  PutFixed32BE(&m, static_cast<uint32_t>(body.size() + 4));
  PutFixed32BE(&m, Crc32(body.data(), body.size()));
  m += body;
  return m;
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

std::vector<std::string> WritePartition(const std::string& dir, const std::vector<RecordSpec>& recs,
                                        const PartitionSpec& spec) {
  WriterOptions o;
  o.batch_records = spec.batch_records;
  o.segment_bytes = spec.segment_bytes;
  o.encode.codec = static_cast<kafka::Codec>(spec.codec);
  o.fsync = FsyncPolicy::kNever;
  CountingReporter rep;
  auto w = PartitionWriter::Open(dir, o, &rep);
  if (!w.ok()) throw std::runtime_error("WritePartition: " + w.status().message());
  RecordBatch b;
  for (const RecordSpec& r : recs) AddRecord(&b, r);
  Status s = (*w)->Append(b, 0, b.records.size());
  if (s.ok()) s = (*w)->Close();
  if (!s.ok()) throw std::runtime_error("WritePartition: " + s.message());
  auto pd = ScanPartitionDir(dir);
  if (!pd.ok()) throw std::runtime_error("WritePartition: " + pd.status().message());
  std::vector<std::string> logs;
  for (const SegmentFile& sf : pd->segments) logs.push_back(sf.log_path);
  return logs;
}

std::vector<RecordSpec> SimpleRecords(int n, int64_t ts0, int keys, size_t value_size) {
  std::vector<RecordSpec> out;
  for (int i = 0; i < n; ++i) {
    RecordSpec s;
    s.timestamp = ts0 + i;
    if (keys > 0) {
      s.has_key = true;
      s.key_bytes = "k" + std::to_string(i % keys);
    }
    s.value = std::string(value_size, static_cast<char>('a' + i % 26));
    out.push_back(s);
  }
  return out;
}

int64_t AppendControlBatch(const std::string& dir, int64_t producer_id, bool commit, int64_t timestamp) {
  CountingReporter rep;
  WriterOptions wo;
  wo.fsync = FsyncPolicy::kNever;
  auto w = PartitionWriter::Open(dir, wo, &rep);
  if (!w.ok()) throw std::runtime_error("AppendControlBatch: " + w.status().message());
  const int64_t offset = (*w)->next_offset();
  RecordBatch b;
  RecordSpec s;
  s.timestamp = timestamp;
  s.has_key = true;
  s.key_bytes = std::string("\0\0\0", 3) + (commit ? '\1' : '\0');  // version 0, type COMMIT/ABORT
  s.value = std::string("\0\0\0\0\0\0", 6);                       // version 0, coordinator epoch 0
  AddRecord(&b, s);
  b.records.back().control = true;
  kafka::EncodeOptions eo;
  eo.codec = kafka::kNone;
  eo.control = true;
  eo.transactional = true;
  eo.producer_id = producer_id;
  eo.producer_epoch = 0;
  std::string bytes;
  BatchInfo info;
  Status st = kafka::EncodeBatch(b, 0, 1, offset, false, eo, &bytes, &info);
  if (st.ok()) st = (*w)->AppendRawBatch(bytes, offset, offset, timestamp);
  if (st.ok()) st = (*w)->Close();
  if (!st.ok()) throw std::runtime_error("AppendControlBatch: " + st.message());
  return offset;
}

void RecordingReporter::Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) {
  CountingReporter::Corruption(where, pos, dropped, reason);
  errors.push_back(std::string(where) + "@" + std::to_string(pos) + ": " + std::string(reason));
}

void RecordingReporter::Warning(std::string_view where, uint64_t pos, std::string_view what) {
  CountingReporter::Warning(where, pos, what);
  warning_list.push_back(std::string(where) + "@" + std::to_string(pos) + ": " + std::string(what));
}

std::vector<uint64_t> BatchPositions(const std::string& seg) {
  std::vector<uint64_t> out;
  uint64_t pos = 0;
  while (pos + kafka::kLogOverhead <= seg.size()) {
    uint64_t total = kafka::kLogOverhead + DecodeFixed32BE(seg.data() + pos + kafka::kSizeOffset);
    if (pos + total > seg.size()) break;
    out.push_back(pos);
    pos += total;
  }
  return out;
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
