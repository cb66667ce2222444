// Protobuf messages to JSON (the proto3 JSON mapping), from schemas given as .proto source
// text, and Confluent's message-index prefix of framed Protobuf payloads. The spec in prose
// is README.md beside this file.
//
// A Schema is a .proto file compiled at run time (libprotoc's Importer over in-memory
// texts), with its imports (a registry's references, files beside it, the well-known types
// google/protobuf/*.proto, which libprotobuf carries compiled in); values are parsed as
// DynamicMessages and printed by libprotobuf's JSON printer. Nothing here logs or aborts:
// errors come back as strings.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace evt::protobuf {

// How the message indexes of a framed payload were written (README.md):
//  - kZigzag: Confluent's Java serializer (and confluent-kafka-python >= 1.8): zigzag
//    varints, a count then the indexes; the single byte 0x00 stands for [0];
//  - kUnsigned: older clients (confluent-kafka-python < 1.8, or use.deprecated.format):
//    the same with plain unsigned varints.
enum class IndexEncoding : uint8_t { kNone = 0, kZigzag = 1, kUnsigned = 2 };
const char* IndexEncodingName(IndexEncoding e);

// The longest message-index path accepted (a path is as deep as messages are nested).
inline constexpr size_t kMaxIndexes = 64;

// Reads the message indexes at the start of `payload` in encoding `enc`: *indexes gets the
// path ([0] for a count of 0), *consumed the bytes they took. False when the bytes are not
// a valid list in that encoding (a truncated or over-long varint, a negative count or
// index under zigzag, more than kMaxIndexes).
bool ReadMessageIndexes(std::string_view payload, IndexEncoding enc, std::vector<int32_t>* indexes,
                        size_t* consumed);
// Appends the message indexes in `enc` (zigzag writes [0] as the single byte 0x00, as Java).
void AppendMessageIndexes(const std::vector<int32_t>& indexes, IndexEncoding enc, std::string* out);

// What decoding a framed payload found.
struct FramedInfo {
  IndexEncoding encoding = IndexEncoding::kNone;
  std::vector<int32_t> indexes;
};

// Another file a schema imports, by the name its `import` statement uses.
struct ImportFile {
  std::string name;
  std::string text;
};
// Asked for an import that is neither given nor a well-known type: true with its text.
using ImportResolver = std::function<bool(const std::string& name, std::string* text)>;

class Schema {
 public:
  // Compiles the .proto source `text` (named `name`, the name error messages use), with
  // `imports` and then `resolver` for the files it imports. InvalidArgument with the
  // compiler's first errors when it does not compile.
  static Result<std::shared_ptr<const Schema>> Parse(std::string_view text, const std::string& name = "schema.proto",
                                                     const std::vector<ImportFile>& imports = {},
                                                     const ImportResolver& resolver = nullptr);
  ~Schema();
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  // Every message type the file declares, nested ones after their parent, in declaration
  // order (full names).
  std::vector<std::string> MessageNames() const;
  // A message type by its full name or its name within the file's package: its number for
  // MessageToJson, or -1.
  int FindMessage(std::string_view name) const;
  // The message type the Confluent index path selects (first index: the file's top-level
  // messages in declaration order, each further one a nested type of the previous), or -1.
  int MessageAt(const std::vector<int32_t>& indexes) const;
  // The full name of message `m`.
  const std::string& MessageName(int m) const;

  // Decodes one serialized message of type `m`, which must take all of `bytes`, appending
  // its JSON (the proto3 JSON mapping, on one line). False with the reason in *error.
  bool MessageToJson(int m, std::string_view bytes, std::string* out, std::string* error) const;
  // Decodes a Confluent-framed payload (the bytes after the 5-byte header): the message
  // indexes in either encoding (README.md says how they are told apart), then the message.
  // *info says what was found, also when the message did not decode.
  bool FramedToJson(std::string_view payload, std::string* out, FramedInfo* info, std::string* error) const;

  // The way back (evt write/replay/dlq redrive --encode protobuf):
  // the Confluent index path of message `m` (the inverse of MessageAt).
  std::vector<int32_t> IndexesOf(int m) const;
  // Parses `json` (the proto3 JSON mapping, as MessageToJson prints it; unknown fields are
  // an error) as message `m` and appends its binary serialization (fields in number order,
  // as libprotobuf and python write them). False with the reason in *error.
  bool JsonToMessage(int m, std::string_view json, std::string* out, std::string* error) const;

  struct Impl;

 private:
  Schema();
  std::unique_ptr<Impl> impl_;
};

}  // namespace evt::protobuf
