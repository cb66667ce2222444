// libFuzzer target: the Protobuf decoder (formats/protobuf) over random bytes.
//  - Most inputs: a Confluent Protobuf payload (message indexes in either encoding, then a
//    message) for a fixed schema with nested messages, repeated fields, maps, oneofs,
//    enums, proto2 required fields and the well-known types; the same bytes also as an
//    unframed message of each type picked by the first byte.
//  - Inputs starting with 'S': schema text up to a NUL, then a message of its first type
//    (the compiler on random .proto text).
// Any JSON produced must be one valid JSON value.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "formats/envelope/envelope.h"
#include "formats/protobuf/protobuf.h"

namespace {
const char* const kImported = R"(syntax = "proto3";
package dep;
message Money { int64 units = 1; sint32 nanos = 2; string currency = 3; }
enum Level { LOW = 0; HIGH = 1; }
)";

const char* const kSchema = R"(syntax = "proto3";
package fz;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/any.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/empty.proto";
import "dep.proto";
message Event {
  string id = 1; int32 i32 = 2; int64 i64 = 3; uint32 u32 = 4; uint64 u64 = 5; sint32 s32 = 6; sint64 s64 = 7;
  fixed32 f32 = 8; fixed64 f64 = 9; sfixed32 sf32 = 10; sfixed64 sf64 = 11; float fl = 12; double db = 13;
  bool b = 14; bytes raw = 15;
  enum Kind { NONE = 0; A = 1; B = 2; }
  Kind kind = 16;
  repeated Kind kinds = 17;
  repeated int64 nums = 18;
  repeated string tags = 19;
  map<string, Inner> inners = 20;
  map<int64, dep.Money> amounts = 21;
  oneof choice { string s = 22; Inner in = 23; dep.Level level = 24; }
  message Inner { string name = 1; Inner next = 2; repeated bytes parts = 3; }
  Inner inner = 25;
  google.protobuf.Timestamp at = 26;
  google.protobuf.Duration took = 27;
  google.protobuf.Struct st = 28;
  google.protobuf.Value val = 29;
  google.protobuf.Any any = 30;
  google.protobuf.Int64Value w64 = 31;
  google.protobuf.StringValue ws = 32;
  google.protobuf.FieldMask mask = 33;
  google.protobuf.ListValue list = 34;
  google.protobuf.Empty empty = 35;
  optional int32 opt = 36;
}
message Tree { Tree left = 1; Tree right = 2; int32 v = 3; }
)";

const char* const kProto2 = R"(syntax = "proto2";
message Legacy { required int32 a = 1; optional string b = 2 [default = "x"]; repeated group G = 3 { optional int32 c = 4; }
  extensions 100 to 200; }
)";

std::shared_ptr<const evt::protobuf::Schema>& Fixed() {
  static auto* s = new std::shared_ptr<const evt::protobuf::Schema>(
      *evt::protobuf::Schema::Parse(kSchema, "fz.proto", {{"dep.proto", kImported}}));
  return *s;
}
std::shared_ptr<const evt::protobuf::Schema>& Legacy() {
  static auto* s = new std::shared_ptr<const evt::protobuf::Schema>(*evt::protobuf::Schema::Parse(kProto2, "l.proto"));
  return *s;
}

void CheckJson(const std::string& out) {
  if (!evt::envelope::IsEmbeddableJson("[" + out + "]")) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && in[0] == 'S') {
    if (in.size() > 4096) return 0;
    size_t nul = in.find('\0');
    std::string_view text = in.substr(1, nul == std::string_view::npos ? std::string_view::npos : nul - 1);
    std::string_view bytes = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
    auto s = evt::protobuf::Schema::Parse(text, "s.proto", {{"dep.proto", kImported}});
    if (!s.ok()) return 0;
    std::string out, err;
    if (!(*s)->MessageNames().empty() && (*s)->MessageToJson(0, bytes, &out, &err)) CheckJson(out);
    out.clear();
    evt::protobuf::FramedInfo info;
    if ((*s)->FramedToJson(bytes, &out, &info, &err)) CheckJson(out);
    return 0;
  }
  const auto& s = Fixed();
  std::string out, err;
  evt::protobuf::FramedInfo info;
  if (s->FramedToJson(in, &out, &info, &err)) {
    CheckJson(out);
    // The way back (--encode protobuf) on what the decoder printed, and on random text.
    std::string bytes;
    const int m = s->MessageAt(info.indexes);
    s->JsonToMessage(m, out, &bytes, &err);
  }
  {
    std::string bytes;
    s->JsonToMessage(0, in, &bytes, &err);
  }
  if (!in.empty()) {
    const int n = static_cast<int>(s->MessageNames().size());
    out.clear();
    if (s->MessageToJson(static_cast<uint8_t>(in[0]) % n, in.substr(1), &out, &err)) CheckJson(out);
    out.clear();
    if (Legacy()->MessageToJson(0, in.substr(1), &out, &err)) CheckJson(out);
  }
  return 0;
}
