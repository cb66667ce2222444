// Internal to formats/protobuf: the in-memory source tree and the error collector that
// protobuf.cc and compat.cc compile .proto texts with (libprotoc's Importer).
#pragma once
#include <google/protobuf/compiler/importer.h>

#include <map>
#include <string>
#include <vector>

#include "formats/protobuf/protobuf.h"

namespace evt::protobuf::internal {

// libprotobuf writes warnings and errors to stderr through its log handler; evt's lib/
// never prints, so every message is dropped (errors reach us through the collectors and
// return values). Called before anything is compiled.
void SilenceLibprotobuf();

// The files of one compilation: given texts, then the well-known types (the text of the
// descriptors libprotobuf has compiled in), then the resolver.
class MemorySourceTree : public google::protobuf::compiler::SourceTree {
 public:
  MemorySourceTree(std::map<std::string, std::string> files, ImportResolver resolver)
      : files_(std::move(files)), resolver_(std::move(resolver)) {}
  google::protobuf::io::ZeroCopyInputStream* Open(const std::string& filename) override;
  std::string GetLastErrorMessage() override { return last_error_; }

 private:
  std::map<std::string, std::string> files_;  // node-based: the texts stay where they are
  ImportResolver resolver_;
  std::string last_error_;
};

// The first three errors, as `file:line:column: message`.
class Collector : public google::protobuf::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column, const std::string& message) override;
  std::string Text() const;

 private:
  std::vector<std::string> errors_;
};

// One compiled file with what it needs alive.
struct Compiled {
  Collector errors;
  std::unique_ptr<MemorySourceTree> tree;
  std::unique_ptr<google::protobuf::compiler::Importer> importer;
  const google::protobuf::FileDescriptor* file = nullptr;
};
// Compiles `text` as file `name`; InvalidArgument with the compiler's errors.
Status Compile(std::string_view text, const std::string& name, const std::vector<ImportFile>& imports,
               const ImportResolver& resolver, Compiled* out);

}  // namespace evt::protobuf::internal
