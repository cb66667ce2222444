#include "lib/pipeline/dead_letter.h"

#include <string>

#include "lib/base/timeutil.h"

namespace evt {

Result<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::Open(const std::string& dst, const std::string& flag,
                                                                 SinkOptions so, Reporter* reporter) {
  so.allow_stdout = false;
  so.flag = flag;
  so.kafka_write.policy = kafka::PartitionPolicy::kHash;
  so.kafka_write.producers = 1;  // dead letters are few: one connection
  auto s = OpenSink(dst, so, reporter);
  if (!s.ok()) return s.status();
  std::unique_ptr<DeadLetterWriter> w(new DeadLetterWriter());
  w->sink_ = std::move(*s);
  w->dst_ = dst;
  return w;
}

Status DeadLetterWriter::Write(const RecordBatch& b, const Record& r, const DeadLetterCause& cause) {
  out_.Clear();
  const int32_t partition = r.partition >= 0 ? r.partition : b.partition;
  out_.topic = b.topic;
  out_.partition = partition;
  Record o;
  o.partition = partition;
  o.offset = r.offset;
  o.timestamp = r.timestamp;
  o.timestamp_type = r.timestamp_type;
  o.key = r.key.null() ? Bytes::Null() : Bytes::Of(out_.arena.Copy(r.key.view()));
  o.value = r.value.null() ? Bytes::Null() : Bytes::Of(out_.arena.Copy(r.value.view()));
  const Header* hs = b.HeadersOf(r);
  for (uint32_t i = 0; i < r.header_count; ++i) {
    // An earlier dead-lettering's headers of the kinds added below are replaced; anything
    // else stays (evt.redrive.count above all: it stops a poison record from looping).
    if (hs[i].key.starts_with("__connect.errors.") || hs[i].key.starts_with("evt.dlq.")) continue;
    out_.headers.push_back(Header{out_.arena.Copy(hs[i].key),
                                  hs[i].value.null() ? Bytes::Null() : Bytes::Of(out_.arena.Copy(hs[i].value.view()))});
  }
  auto add = [&](std::string_view k, std::string_view v) {
    out_.headers.push_back(Header{k, Bytes::Of(out_.arena.Copy(v))});
  };
  add("__connect.errors.topic", b.topic);
  add("__connect.errors.partition", std::to_string(partition));
  add("__connect.errors.offset", std::to_string(r.offset));
  add("__connect.errors.exception.message", cause.message);
  add("__connect.errors.exception.class.name", cause.class_name);
  add("evt.dlq.attempts", std::to_string(cause.attempts));
  add("evt.dlq.time", FormatRfc3339Ms(NowMs()));
  if (!cause.where.empty()) add("evt.dlq.where", cause.where);
  o.header_begin = 0;
  o.header_count = static_cast<uint32_t>(out_.headers.size());
  out_.records.push_back(o);
  EVT_RETURN_IF_ERROR(sink_->Write(out_));
  ++written_;
  return Status::OK();
}

Status DeadLetterWriter::Commit() {
  SinkPosition at;
  return sink_->Commit(&at);
}

Status DeadLetterWriter::Close() { return sink_->Close(); }

}  // namespace evt
