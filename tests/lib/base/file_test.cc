#include "lib/base/file.h"

#include <catch2/catch.hpp>

#include "testutil.h"

using namespace evt;
using namespace evt::test;

TEST_CASE("file: mapping empty and small files", "[file]") {
  TempDir d;
  WriteFile(d / "empty", "");
  auto m = MappedFile::Open(d / "empty");
  REQUIRE(m.ok());
  CHECK((*m)->size() == 0);
  WriteFile(d / "small", "hello");
  auto m2 = MappedFile::Open(d / "small");
  REQUIRE(m2.ok());
  CHECK((*m2)->data() == "hello");
  (*m2)->Release(0, 5);  // harmless on a partial page
  CHECK((*m2)->data() == "hello");
  CHECK_FALSE(MappedFile::Open(d / "missing").ok());
}

TEST_CASE("file: WriteFileAtomic replaces and leaves no temp file", "[file]") {
  TempDir d;
  REQUIRE(WriteFileAtomic(d / "f", "one").ok());
  REQUIRE(WriteFileAtomic(d / "f", "two").ok());
  CHECK(ReadFile(d / "f") == "two");
  auto entries = ListDir(d.path());
  REQUIRE(entries.ok());
  CHECK(entries->size() == 1);
}

TEST_CASE("file: WritableFile appends and reports its size", "[file]") {
  TempDir d;
  auto w = WritableFile::Open(d / "w", false);
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("abc").ok());
  REQUIRE((*w)->Append(std::string(3 << 20, 'x')).ok());
  CHECK((*w)->size() == 3 + (3u << 20));
  REQUIRE((*w)->Close().ok());
  CHECK(ReadFile(d / "w").size() == 3 + (3u << 20));
}

TEST_CASE("file: path helpers", "[file]") {
  CHECK(Basename("/a/b/c.log") == "c.log");
  CHECK(Dirname("/a/b/c.log") == "/a/b");
  CHECK(JoinPath("a", "b") == "a/b");
}
