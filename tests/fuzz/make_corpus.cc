// Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/) from the tests'
// own builders: segments from test::WritePartition, legacy messages from
// test::LegacyMessage, envelopes from formats/envelope, checkpoints from WriteCheckpoint,
// Avro datums from tests/formats/avro/encoder.h, Protobuf messages from
// tests/formats/protobuf/encoder.h, redrive ledgers from DlqLedgerText.
// Run by scripts/fuzz_corpus.sh; the output is checked in (small files only).
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/confluent/framing.h"
#include "formats/envelope/envelope.h"
#include "formats/kafka/compression.h"
#include "formats/kafka_internal/encoder.h"
#include "tests/formats/avro/encoder.h"
#include "tests/formats/protobuf/encoder.h"
#include "lib/base/coding.h"
#include "lib/jobs/dlq_ledger.h"
#include "lib/pipeline/checkpoint.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace evt;

namespace {
std::string g_root;

void Seed(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(g_root + "/" + target);
  test::WriteFile(g_root + "/" + target + "/" + name, bytes);
}

std::string Be32(uint32_t v) {
  std::string s;
  PutFixed32BE(&s, v);
  return s;
}

std::vector<test::RecordSpec> Records(int n) {
  auto recs = test::SimpleRecords(n, 1700000000000, 3, 24);
  recs[0].headers = {{"ce_type", "order.created"}, {"h", std::string("\0\xff", 2)}};
  if (n > 1) recs[1].null_value = true;
  return recs;
}

// A partition written by PartitionWriter: its files' contents.
struct Partition {
  std::string log, index, timeindex;
};
Partition Written(int n, int codec, size_t batch_records) {
  test::TempDir tmp;
  test::PartitionSpec spec;
  spec.codec = codec;
  spec.batch_records = batch_records;
  auto segs = test::WritePartition(tmp / "t-0", Records(n), spec);
  Partition p;
  p.log = test::ReadFile(segs[0]);
  std::string stem = segs[0].substr(0, segs[0].size() - 4);
  if (fs::exists(stem + ".index")) p.index = test::ReadFile(stem + ".index");
  if (fs::exists(stem + ".timeindex")) p.timeindex = test::ReadFile(stem + ".timeindex");
  return p;
}

void Batches() {
  const char* names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  for (int codec = 0; codec <= 4; ++codec) {
    Seed("batch_fuzz", std::string("v2-") + names[codec], Written(6, codec, 3).log);
    Partition p = Written(40, codec, 4);
    Seed("index_fuzz", std::string("dir-") + names[codec],
         Be32(static_cast<uint32_t>(p.log.size())) + p.log + Be32(static_cast<uint32_t>(p.index.size())) + p.index +
             p.timeindex);
  }
  std::string key = "k";
  for (int8_t magic = 0; magic <= 1; ++magic) {
    std::string inner = test::LegacyMessage(magic, 0, 0, 1000, &key, "v0") +
                        test::LegacyMessage(magic, 0, 1, 1001, nullptr, "v1");
    Seed("batch_fuzz", "legacy-m" + std::to_string(magic), inner);
    for (int codec = 1; codec <= 4; ++codec) {
      if (magic == 0 && codec == kafka::kZstd) continue;  // zstd needs magic 2; still fuzzed by codec_fuzz
      std::string packed;
      (void)kafka::Compress(static_cast<kafka::Codec>(codec), -1, inner, &packed);
      Seed("batch_fuzz", "legacy-m" + std::to_string(magic) + "-" + names[codec],
           test::LegacyMessage(magic, static_cast<int8_t>(codec), 1, 1001, nullptr, packed));
      // codec_fuzz: selector byte (codec - 1) | mode << 2 (| magic << 5 for the wrapper).
      for (int mode = 0; mode < 4; ++mode) {
        std::string body = mode == 0 ? packed : inner;
        if (mode == 3) body = Written(3, 0, 3).log.substr(61);  // uncompressed v2 records
        Seed("codec_fuzz", std::string(names[codec]) + "-mode" + std::to_string(mode) + "-m" + std::to_string(magic),
             std::string(1, static_cast<char>((codec - 1) | mode << 2 | magic << 5)) + body);
      }
    }
  }
}

void Envelopes() {
  RecordBatch b;
  b.topic = "orders";
  b.partition = 3;
  for (const auto& r : Records(3)) test::AddRecord(&b, r);
  for (size_t i = 0; i < b.records.size(); ++i) {
    std::string line;
    envelope::AppendRecord(b, b.records[i], &line);
    line.pop_back();
    Seed("envelope_fuzz", "record" + std::to_string(i), line);
  }
  Seed("envelope_fuzz", "embedded", R"({"topic":"t","partition":0,"offset":5,"timestamp":1,"key":"a","value":{"x":[1,2.5e3,null]}})");
  Seed("envelope_fuzz", "base64", R"({"topic":"t","partition":0,"key_b64":"AP8=","value_b64":"aGk=","headers":[["h","v"]]})");
}

void Filters() {
  const char* exprs[] = {
      ".type == \"order.created\" and .data.amount > 100",
      "$key | startswith(\"k\")",
      "$headers | has(\"ce_type\")",
      ".data.items | any(.sku == \"A\")",
      "(.time | fromdate) > now - 3600",
      ".a // .b | tostring | test(\"^x\"; \"i\")",
      "has(\"a\") and (.a | type == \"null\")",
      ".[\"k\"]?.x? | length > 2",
  };
  int i = 0;
  for (const char* e : exprs) Seed("filter_parse_fuzz", "expr" + std::to_string(i++), e);
  const char* docs[] = {
      R"({"a":1,"b":{"c":3},"s":"abcz","x":{"y":[1]},"arr":[{"k":"v"}],"n":1700000000,"m":2,"z":1})",
      R"({"specversion":"1.0","type":"order.created","source":"/shop","id":"1","time":"2024-05-01T12:00:00Z","data":{"amount":150,"items":[{"sku":"A"}]}})",
      R"({"q":"12","k w":{"x":null},"a":[{},[],"x"],"o":{"p":{"q":1}},"s":"a,b","f":"%Y-%m-%d"})",
      R"(null)",
      R"([1,"a",{"b":[]}])",
      R"({"a":{"a":{"a":{"a":{"a":[[[[[1e308,-0,1e-400]]]]]}}}}})",
  };
  i = 0;
  for (const char* d : docs) Seed("filter_eval_fuzz", "doc" + std::to_string(i++), d);
}

void Texts() {
  const char* times[] = {"2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789+02:00", "2024-05-01", "-1h30m",
                         "1.5h", "0", "500ms", "2w3d4h5m6s7ms", "beginning", "end", "-100", "@1700001000000",
                         "42", "-1h..end", "1999-12-31T23:59:59-0530..2000-01-01"};
  int i = 0;
  for (const char* t : times) Seed("time_fuzz", "t" + std::to_string(i++), t);
  Seed("config_fuzz", "props", "# client\nbootstrap.servers=127.0.0.1:9092\n! comment\nsasl.password = s3cr3tvalue\n"
                               "linger.ms=5\ncompression.type=zstd\n");
  Seed("config_fuzz", "bad", "sasl.password=hunter2-hunter2\nno.such.property=1\n");
  Seed("config_fuzz", "url", "kafka://a:9092,b/orders?partition=0,2-4");
  // A secret whose value is a piece of "***" and is echoed in the message (hung the redaction once).
  Seed("config_fuzz", "star", "no.such.secret*=*\n");
  const char* tmpls[] = {"%t %p %o %T %k %v\\n", "%T{iso} %K %S %h\\t%%\\0", "[%k]=%v\\r\\n", "%x %", "\\q%T{"};
  i = 0;
  for (const char* t : tmpls) Seed("template_fuzz", "t" + std::to_string(i++), t);
}

void Checkpoints() {
  test::TempDir tmp;
  Checkpoint c;
  c.identity = IdentityHash("replay src dst");
  c.replay_id = "0123456789abcdef";
  c.positions[{"orders", 0}] = 42;
  c.positions[{"a/b", 7}] = 0;
  c.dest_kind = "segment-dir";
  c.dest_ends["orders-0"] = 42;
  c.dest_size = 1234;
  (void)WriteCheckpoint(tmp / "c", c);
  Seed("checkpoint_fuzz", "replay", test::ReadFile(tmp / "c"));
  c.complete = true;
  c.jsonl_records = 9;
  c.positions.clear();
  (void)WriteCheckpoint(tmp / "c", c);
  Seed("checkpoint_fuzz", "complete", test::ReadFile(tmp / "c"));
}

void Internal() {
  using test::Enc;
  // The first byte: bit 0 picks __transaction_state, bits 1-2 the value's key type.
  Seed("internal_fuzz", "offset-key", std::string(1, '\0') + Enc().i16(1).str("grp").str("orders").i32(3).out());
  Seed("internal_fuzz", "offset-value-v3",
       std::string(1, '\0') + Enc().i16(3).i64(42).i32(5).str("meta").i64(1700000000000).out());
  Seed("internal_fuzz", "group-key", std::string(1, '\2') + Enc().i16(2).str("grp").out());
  Seed("internal_fuzz", "txn-key", std::string(1, '\5') + Enc().i16(0).str("txn-1").out());
}

void Avro() {
  using test::avro::Long;
  using test::avro::Str;
  // avro_fuzz: a Confluent frame whose schema id picks one of its schemas (id % 4).
  auto framed = [](int32_t id, const std::string& datum) {
    std::string f;
    confluent::AppendHeader(id, &f);
    return f + datum;
  };
  // Schema 0: union (string), decimal, timestamp-micros, date, time-millis, duration, map of
  // arrays of bytes, enum.
  std::string rec0 = Long(1) + Str("s") + Str(std::string("\x30\x39", 2)) + Long(1700000000123456) + Long(19000) +
                     Long(3723004) + std::string(12, '\1') + Long(1) + Str("k") + Long(2) + Str("ab") +
                     Str(std::string("\0\xff", 2)) + Long(0) + Long(0) + Long(1);
  Seed("avro_fuzz", "record", framed(100, rec0));
  Seed("avro_fuzz", "record-null-union", framed(0, Long(0) + rec0.substr(Long(1).size() + Str("s").size())));
  Seed("avro_fuzz", "linked-list", framed(1, Long(1) + Long(1) + Long(2) + Long(1) + Long(3) + Long(0)));
  Seed("avro_fuzz", "array-of-null", framed(2, Long(3) + Long(-2) + Long(0) + Long(0)));  // a block with its size
  Seed("avro_fuzz", "map-of-empty", framed(3, Long(2) + Str("a") + Str("b") + Long(0)));
  // avro_schema_fuzz: schema text, a NUL, the datum.
  auto with = [](const std::string& schema, const std::string& datum) { return schema + std::string(1, '\0') + datum; };
  Seed("avro_schema_fuzz", "primitives",
       with(R"({"type":"record","name":"P","namespace":"ns","fields":[{"name":"i","type":"int"},{"name":"l","type":"long"},)"
            R"({"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"b","type":"boolean"},)"
            R"({"name":"s","type":"string","default":""},{"name":"y","type":"bytes"},{"name":"n","type":"null"}]})",
            Long(-5) + Long(1) + std::string("\0\0\x80\x3f", 4) + std::string("\0\0\0\0\0\0\xf0\x3f", 8) + "\1" +
                Str("x") + Str("yy")));
  Seed("avro_schema_fuzz", "logical",
       with(R"(["null",{"type":"long","logicalType":"timestamp-millis"},{"type":"string","logicalType":"uuid"},)"
            R"({"type":"bytes","logicalType":"decimal","precision":20,"scale":3}])",
            Long(1) + Long(1700000000123)));
  Seed("avro_schema_fuzz", "named-types",
       with(R"({"type":"record","name":"a.R","aliases":["Q"],"fields":[{"name":"e","type":{"type":"enum","name":"E",)"
            R"("symbols":["X","Y"],"default":"X"}},{"name":"f","type":{"type":"fixed","name":"F","size":2}},)"
            R"({"name":"again","type":["null","E","F","a.R"]}]})",
            Long(1) + "ab" + Long(3) + Long(0) + "cd" + Long(0)));
  Seed("avro_schema_fuzz", "map-array",
       with(R"({"type":"map","values":{"type":"array","items":"long"}})", Long(1) + Str("k") + Long(2) + Long(7) +
                                                                             Long(-7) + Long(0) + Long(0)));
}

void JsonSchemas() {
  // jsonschema_fuzz: schema text, a NUL, the value.
  auto with = [](const std::string& schema, const std::string& value) { return schema + std::string(1, '\0') + value; };
  Seed("jsonschema_fuzz", "object",
       with(R"({"type":"object","required":["id","amount"],"additionalProperties":false,)"
            R"("properties":{"id":{"type":"string","pattern":"^[a-z]+-[0-9]+$","minLength":3,"maxLength":20},)"
            R"("amount":{"type":"number","minimum":0,"exclusiveMaximum":1e6,"multipleOf":0.01},)"
            R"("tags":{"type":"array","items":{"enum":["a","b"]},"uniqueItems":true,"maxItems":3}}})",
            R"({"id":"ord-1","amount":12.5,"tags":["a"]})"));
  Seed("jsonschema_fuzz", "combinators",
       with(R"({"definitions":{"pos":{"type":"integer","minimum":1}},"anyOf":[{"$ref":"#/definitions/pos"},)"
            R"({"type":"string"}],"not":{"const":7},"oneOf":[{"type":"integer"},{"type":"string"}],)"
            R"("if":{"type":"integer"},"then":{"maximum":100},"else":{"minLength":1}})",
            "42"));
  Seed("jsonschema_fuzz", "recursive",
       with(R"({"type":"object","properties":{"next":{"$ref":"#"},"n":{"$ref":"other.json#/definitions/n"}},)"
            R"("patternProperties":{"^x-":{"type":"boolean"}},"propertyNames":{"maxLength":8},)"
            R"("dependencies":{"a":["b"],"c":{"required":["d"]}},"contains":{"type":"null"}})",
            R"({"next":{"next":{"n":3}},"x-on":true,"a":1,"b":2})"));
  Seed("jsonschema_fuzz", "tuple",
       with(R"({"items":[{"type":"string"},{"type":"number"}],"additionalItems":false,"minItems":1,)"
            R"("contains":{"type":"number"}})",
            R"(["a",1])"));
}

void Protobuf() {
  using test::pb::F32;
  using test::pb::F64;
  using test::pb::L;
  using test::pb::V;
  using test::pb::ZigZag;
  // protobuf_fuzz: a payload after Confluent's header, for its fixed schema (fz.Event is
  // [0], fz.Tree [1]): message indexes, then the message.
  const std::string inner = L(1, "n") + L(2, L(1, "deeper")) + L(3, std::string("\0\xff", 2));
  const std::string st = L(1, L(1, "k") + L(2, V(4, 1)));  // Struct {"k": true}
  const std::string event =
      L(1, "e-1") + V(2, static_cast<uint64_t>(-5)) + V(3, 1ull << 62) + V(4, 4000000000u) + V(5, ~0ull) +
      ZigZag(6, -9) + ZigZag(7, INT64_MIN) + F32(12, 1.5f) + F64(13, -0.25) + V(14, 1) + L(15, "raw") + V(16, 2) +
      L(17, std::string("\1\2\7", 3)) + L(18, test::pb::Varint(1) + test::pb::Varint(300)) + L(19, "t") +
      L(20, L(1, "key") + L(2, inner)) + L(21, V(1, 7) + L(2, V(1, 3) + ZigZag(2, -1) + L(3, "EUR"))) + L(23, inner) +
      L(25, inner) + L(26, V(1, 1700000000) + V(2, 123000000)) + L(27, V(1, 90) + V(2, 500)) + L(28, st) +
      L(29, L(6, L(1, V(1, 0)))) +  // Value {list_value: [null]}
      L(30, L(1, "type.googleapis.com/fz.Event.Inner") + L(2, L(1, "any"))) + L(31, V(1, 5)) + L(32, L(1, "w")) +
      L(33, L(1, "a.b")) + L(34, L(1, L(3, "x"))) + L(35, "") + V(36, 0);
  Seed("protobuf_fuzz", "event-zigzag", std::string(1, '\0') + event);
  Seed("protobuf_fuzz", "event-unsigned", std::string("\1\0", 2) + event);
  Seed("protobuf_fuzz", "tree", std::string("\2\2", 2) + L(1, L(1, V(3, 1)) + L(2, V(3, 2))) + V(3, 3));
  Seed("protobuf_fuzz", "nested-inner", std::string("\4\0\2", 3) + inner);  // [0,1]: Event.Inner
  Seed("protobuf_fuzz", "oneof-level", std::string(1, '\0') + V(24, 1) + L(22, "s"));
  // 'S': schema text, a NUL, a message of its first type.
  Seed("protobuf_fuzz", "schema-proto3",
       "Ssyntax = \"proto3\"; package p; import \"dep.proto\"; import \"google/protobuf/timestamp.proto\";\n"
       "message M { int32 a = 1; repeated dep.Money m = 2; map<string, M> kids = 3; google.protobuf.Timestamp t = 4;\n"
       "  oneof o { string s = 5; bytes b = 6; } enum E { X = 0; Y = 1; } E e = 7; message N { sint64 z = 1; } N n = 8; }"
       + std::string(1, '\0') + V(1, 3) + L(2, V(1, 1)) + L(3, L(1, "c") + L(2, V(1, 4))) + V(7, 1) + L(8, ZigZag(1, -2)));
  Seed("protobuf_fuzz", "schema-proto2",
       "Ssyntax = \"proto2\"; message L { required int32 a = 1; optional string b = 2 [default = \"d\"];\n"
       "  repeated group G = 3 { optional int32 c = 4; } }" + std::string(1, '\0') + V(1, 1) + test::pb::Tag(3, 3) +
           V(4, 2) + test::pb::Tag(3, 4));
}

void Ledgers() {
  DlqLedger l;
  l.identity = IdentityHash("dlq redrive orders.DLT");
  l.source = "kafka://127.0.0.1:9092/orders.DLT";
  l.last_run = "0123456789abcdef";
  l.runs = 2;
  for (int64_t off : {0, 1, 2, 3, 7, 8, 20}) l.Add({"orders.DLT", 0}, off);
  l.Add({"orders.DLT", 3}, 41);
  l.Add({"in.jsonl", -1}, 1234);  // a JSON Lines DLQ: its line positions
  l.redriven = 9;
  l.updated_ms = 1700000000000;
  l.dest_ends["orders"] = {{"0", 120}, {"1", 0}};
  Seed("ledger_fuzz", "clean", DlqLedgerText(l));
  l.clean = false;
  l.last_run = "fedcba9876543210";
  l.dest_ends["orders.retry"] = {{"0", 5}};
  Seed("ledger_fuzz", "interrupted", DlqLedgerText(l));
  DlqLedger empty;
  empty.identity = IdentityHash("x");
  Seed("ledger_fuzz", "new", DlqLedgerText(empty));
}

void Rules() {
  // The README's inventory rules, the man page's shapes, and the words (ignore, delete, error).
  Seed("rules_fuzz", "inventory",
       R"({"type": ".type", "on": {"stock.added": ".qty += $event.data.qty", "stock.removed": ".qty -= $event.data.qty",)"
       R"( "sku.retired": "delete"}, "default": "ignore"})");
  Seed("rules_fuzz", "error-default",
       R"({"type": ".type", "on": {"a": ".n += 1", "b": "null"}, "default": "error"})");
  Seed("rules_fuzz", "no-rules", R"({"type": ".type // \"none\"", "on": {}, "default": "(. // {}) * $event"})");
  Seed("rules_fuzz", "variables",
       "{\"type\": \"$event.type | ascii_downcase # a comment\", \"on\": {\"a\": \"{n: ((.n // 0) + 1), k: $key, "
       "last: $offset}\", \"\\u00e9\\\"\": \"if $__type == \\\"a\\\" then . else $event end\"}}");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  fs::remove_all(g_root);
  Batches();
  Envelopes();
  Filters();
  Texts();
  Checkpoints();
  Internal();
  Avro();
  JsonSchemas();
  Protobuf();
  Ledgers();
  Rules();
  return 0;
}
