#include "formats/protobuf/compat.h"

#include <catch2/catch.hpp>

namespace evt::protobuf {
namespace {

std::vector<std::string> Types(const char* original, const char* update) {
  auto d = Incompatibilities(SchemaText{original}, SchemaText{update});
  INFO((d.ok() ? std::string() : d.status().message()));
  REQUIRE(d.ok());
  std::vector<std::string> out;
  for (const auto& i : *d) out.push_back(i.type);
  return out;
}

using V = std::vector<std::string>;

TEST_CASE("protobuf compat: Confluent's rules", "[protobuf]") {
  const char* base = R"(syntax = "proto3"; package p;
message A { int32 a = 1; string s = 2; B b = 3; repeated int64 r = 4; oneof o { string x = 5; int32 y = 6; }
  map<string, int32> m = 7; message N { bool f = 1; } }
message B { string t = 1; })";
  CHECK(Types(base, base).empty());
  // Compatible: a field added, renamed, widened in its group, a message added, string<->bytes.
  CHECK(Types(base, R"(syntax = "proto3"; package p;
message A { uint64 renamed = 1; bytes s = 2; B b = 3; repeated int64 r = 4; oneof o { string x = 5; int32 y = 6; }
  map<string, int64> m = 7; message N { bool f = 1; } double extra = 9; }
message B { string t = 1; } message C {})")
            .empty());
  CHECK(Types(base, R"(syntax = "proto3"; package p;
message A { double a = 1; int32 s = 2; A b = 3; int64 r = 4; oneof o { string x = 5; } map<int32, int32> m = 7; }
message B { string t = 1; })") ==
        V{"FIELD_SCALAR_KIND_CHANGED", "FIELD_SCALAR_KIND_CHANGED", "FIELD_NAMED_TYPE_CHANGED", "FIELD_NUMERIC_LABEL_CHANGED",
          "ONEOF_FIELD_REMOVED", "FIELD_SCALAR_KIND_CHANGED", "MESSAGE_REMOVED"});
  CHECK(Types(base, R"(syntax = "proto3"; package q; message A {} message B {})") ==
        V{"PACKAGE_CHANGED", "MESSAGE_REMOVED", "MESSAGE_REMOVED"});  // p.A and p.B: not in package q
  CHECK(Types(R"(syntax = "proto3"; message A { string s = 1; })",
              R"(syntax = "proto3"; message A { B s = 1; } message B {})") == V{"FIELD_KIND_CHANGED"});
  // Into oneofs: an existing one, several into a new one, one alone into a new one.
  CHECK(Types(base, R"(syntax = "proto3"; package p;
message A { oneof o { string x = 5; int32 y = 6; int32 a = 1; } oneof n { string s = 2; B b = 3; }
  repeated int64 r = 4; map<string, int32> m = 7; message N { bool f = 1; } }
message B { oneof k { string t = 1; } })") == V{"FIELD_MOVED_TO_EXISTING_ONEOF", "MULTIPLE_FIELDS_MOVED_TO_ONEOF"});
}

TEST_CASE("protobuf compat: proto2 required fields, bad schemas", "[protobuf]") {
  const char* a = R"(syntax = "proto2"; message R { optional int32 a = 1; required int32 b = 2; })";
  CHECK(Types(a, R"(syntax = "proto2"; message R { optional int32 a = 1; })") == V{"REQUIRED_FIELD_REMOVED"});
  CHECK(Types(a, R"(syntax = "proto2"; message R { required int32 a = 1; required int32 b = 2; })") ==
        V{"REQUIRED_FIELD_ADDED"});
  CHECK(Types(a, R"(syntax = "proto2"; message R { optional int32 a = 1; required int32 b = 2; required string c = 3; })") ==
        V{"REQUIRED_FIELD_ADDED"});
  auto d = Incompatibilities(SchemaText{a}, SchemaText{"message {"});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.status().message(), Catch::StartsWith("update: "));
}

}  // namespace
}  // namespace evt::protobuf
