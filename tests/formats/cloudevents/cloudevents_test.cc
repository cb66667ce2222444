#include "formats/cloudevents/cloudevents.h"

#include <catch2/catch.hpp>

using namespace evt;

namespace {
std::string Render(RecordBatch* b, const char* key, const char* value,
                   std::vector<std::pair<const char*, const char*>> headers) {
  Record r;
  r.partition = b->partition;
  r.offset = 5;
  r.timestamp = 1700000000123;
  r.key = key ? Bytes::Of(b->arena.Copy(key)) : Bytes::Null();
  r.value = value ? Bytes::Of(b->arena.Copy(value)) : Bytes::Null();
  r.header_begin = static_cast<uint32_t>(b->headers.size());
  for (auto& h : headers) b->headers.push_back({b->arena.Copy(h.first), h.second ? Bytes::Of(b->arena.Copy(h.second)) : Bytes::Null()});
  r.header_count = static_cast<uint32_t>(headers.size());
  std::string out;
  cloudevents::AppendRecord(*b, r, &out);
  return out;
}
}  // namespace

TEST_CASE("cloudevents: structured values pass through", "[cloudevents]") {
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  const char* ce = R"({"specversion":"1.0","id":"1","source":"/s","type":"x","data":{"a":1}})";
  CHECK(Render(&b, "k", ce, {}) == std::string(ce) + "\n");
}

TEST_CASE("cloudevents: binary mode maps ce_ headers and content-type", "[cloudevents]") {
  RecordBatch b;
  b.topic = "t";
  b.partition = 1;
  std::string s = Render(&b, "user-7", R"({"a":1})",
                         {{"ce_specversion", "1.0"}, {"ce_id", "abc"}, {"ce_source", "/src"}, {"ce_type", "order.paid"},
                          {"ce_time", "2024-01-01T00:00:00Z"}, {"ce_traceparent", "00-1"}, {"content-type", "application/json"}});
  CHECK(s == R"({"specversion":"1.0","id":"abc","source":"/src","type":"order.paid","time":"2024-01-01T00:00:00Z",)"
             R"("traceparent":"00-1","datacontenttype":"application/json","partitionkey":"user-7","data":{"a":1}})"
             "\n");
}

TEST_CASE("cloudevents: attributes derived from the record, and data forms", "[cloudevents]") {
  RecordBatch b;
  b.topic = "t";
  b.partition = 2;
  std::string s = Render(&b, nullptr, "plain", {});
  CHECK(s == R"({"specversion":"1.0","id":"t-2-5","source":"kafka://t/2","type":"kafka.record",)"
             R"("time":"2023-11-14T22:13:20.123Z","data":"plain"})"
             "\n");
  CHECK(Render(&b, nullptr, "\xff\x00", {}).find("\"data_base64\":\"/w==\"") != std::string::npos);
  CHECK(Render(&b, nullptr, R"({"a":1})", {{"content-type", "text/plain"}}).find(R"("data":"{\"a\":1}")") != std::string::npos);
  CHECK(Render(&b, nullptr, nullptr, {}).find("data") == std::string::npos);
}
