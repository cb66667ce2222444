// lib/dump: RunDump's batch and record listing (text and JSON) of a segment built here,
// .index/.timeindex and checkpoint files, and damaged input.
#include "lib/jobs/dump.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

const std::string kBinary("\xff\x00\n", 3);  // not UTF-8: base64 everywhere

// Batch 0: offsets 0-1 (a key, a header; a null key and a binary value); batch 1: offset 2
// (a tombstone); batch 2: offset 3, a COMMIT marker of producer 7.
std::string KnownPartition(const TempDir& tmp) {
  std::string dir = tmp / "t-0";
  std::vector<RecordSpec> recs(3);
  recs[0].timestamp = 1000;
  recs[0].key = "k0";
  recs[0].value = "hello";
  recs[0].headers = {{"h", "x"}};
  recs[1].timestamp = 1001;
  recs[1].value = kBinary;
  recs[2].timestamp = 1002;
  recs[2].key = "k2";
  recs[2].null_value = true;
  PartitionSpec spec;
  spec.batch_records = 2;
  WritePartition(dir, recs, spec);
  REQUIRE(AppendControlBatch(dir, 7, true, 1003) == 3);
  return dir;
}

std::string Log(const std::string& dir) { return dir + "/00000000000000000000.log"; }

struct Out {
  TempDir tmp;
  std::string path = tmp / "out";
  std::unique_ptr<WritableFile> file;
  Out() { file = std::move(*WritableFile::Open(path, false)); }
  std::string Text() {
    REQUIRE(file->Flush().ok());
    return ReadFile(path);
  }
};

Status Dump(const std::vector<std::string>& paths, Out* out, Reporter* rep, bool json = false, bool records = true) {
  DumpOptions o;
  o.source.paths = paths;
  o.json = json;
  o.records = records;
  return RunDump(o, out->file.get(), rep);
}

// The stored CRC and the size of each batch of a segment, as dump prints them.
struct Facts {
  std::vector<uint64_t> pos;
  std::vector<uint32_t> crc;
  std::vector<uint64_t> size;
};
Facts FactsOf(const std::string& log) {
  Facts f;
  f.pos = BatchPositions(log);
  for (size_t i = 0; i < f.pos.size(); ++i) {
    f.crc.push_back(DecodeFixed32BE(log.data() + f.pos[i] + kafka::kCrcOffset));
    f.size.push_back((i + 1 < f.pos.size() ? f.pos[i + 1] : log.size()) - f.pos[i]);
  }
  return f;
}

}  // namespace

TEST_CASE("dump: batches and records of a known segment, as kafka-dump-log prints them", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  Facts f = FactsOf(ReadFile(Log(dir)));
  REQUIRE(f.pos.size() == 3);
  Out out;
  CountingReporter rep;
  REQUIRE(Dump({dir}, &out, &rep).ok());
  CHECK(rep.corruptions == 0);
  std::string want = fmt::format(
      "Dumping {}\n"
      "baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 "
      "partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: none position: 0 "
      "CreateTime: 1001 size: {} magic: 2 compresscodec: none crc: {} isvalid: true\n"
      "| offset: 0 CreateTime: 1000 keySize: 2 valueSize: 5 headerKeys: [h] key: k0 payload: hello\n"
      "| offset: 1 CreateTime: 1001 keySize: -1 valueSize: 3 headerKeys: [] key: null payload: base64:/wAK\n"
      "baseOffset: 2 lastOffset: 2 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 "
      "partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: none position: {} "
      "CreateTime: 1002 size: {} magic: 2 compresscodec: none crc: {} isvalid: true\n"
      "| offset: 2 CreateTime: 1002 keySize: 2 valueSize: -1 headerKeys: [] key: k2 payload: null\n"
      "baseOffset: 3 lastOffset: 3 count: 1 baseSequence: -1 lastSequence: -1 producerId: 7 producerEpoch: 0 "
      "partitionLeaderEpoch: 0 isTransactional: true isControl: true deleteHorizonMs: none position: {} "
      "CreateTime: 1003 size: {} magic: 2 compresscodec: none crc: {} isvalid: true\n"
      "| offset: 3 CreateTime: 1003 keySize: 4 valueSize: 6 controlType: COMMIT\n",
      Log(dir), f.size[0], f.crc[0], f.pos[1], f.size[1], f.crc[1], f.pos[2], f.size[2], f.crc[2]);
  CHECK(out.Text() == want);
}

TEST_CASE("dump: batches only", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  Out out;
  CountingReporter rep;
  REQUIRE(Dump({dir}, &out, &rep, false, /*records=*/false).ok());
  std::string text = out.Text();
  CHECK(text.find("| offset") == std::string::npos);
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == 4);  // the file name and three batches
}

TEST_CASE("dump --json: one object per batch with its records as envelopes", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  Facts f = FactsOf(ReadFile(Log(dir)));
  Out out;
  CountingReporter rep;
  REQUIRE(Dump({dir}, &out, &rep, /*json=*/true).ok());
  std::string text = out.Text();
  std::vector<std::string> lines;
  for (size_t p = 0, nl; (nl = text.find('\n', p)) != std::string::npos; p = nl + 1) lines.push_back(text.substr(p, nl - p));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == fmt::format(
                        "{{\"file\":\"{}\",\"position\":0,\"base_offset\":0,\"batch_length\":{},"
                        "\"partition_leader_epoch\":0,\"magic\":2,\"crc\":{},\"crc_ok\":true,\"attributes\":0,"
                        "\"codec\":\"none\",\"timestamp_type\":0,\"transactional\":false,\"control\":false,"
                        "\"last_offset_delta\":1,\"first_timestamp\":1000,\"max_timestamp\":1001,\"producer_id\":-1,"
                        "\"producer_epoch\":-1,\"base_sequence\":-1,\"record_count\":2,\"uncompressed_bytes\":{},"
                        "\"records\":["
                        "{{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"timestamp\":1000,\"key\":\"k0\","
                        "\"value\":\"hello\",\"headers\":[{{\"key\":\"h\",\"value\":\"x\"}}]}},"
                        "{{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"timestamp\":1001,\"key\":null,"
                        "\"value_base64\":\"/wAK\",\"headers\":[]}}]}}",
                        Log(dir), f.size[0] - kafka::kLogOverhead, f.crc[0],
                        f.size[0] - kafka::kBatchHeaderSize));
  CHECK_THAT(lines[1], Catch::EndsWith(
                           "\"records\":[{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"timestamp\":1002,"
                           "\"key\":\"k2\",\"value\":null,\"headers\":[]}]}"));
  // A control record carries its type.
  CHECK_THAT(lines[2], Catch::Contains("\"transactional\":true,\"control\":true"));
  CHECK_THAT(lines[2], Catch::EndsWith(",\"control_type\":\"COMMIT\"}]}"));
}

TEST_CASE("dump: a flipped byte shows isvalid: false, is reported, and fails the dump", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  std::string log = ReadFile(Log(dir));
  Facts f = FactsOf(log);
  FlipByte(&log, f.pos[1] + kafka::kRecordsOffset + 2);
  WriteFile(Log(dir), log);
  Out out;
  RecordingReporter rep;
  Status s = Dump({dir}, &out, &rep);
  CHECK(s.IsCorruption());
  CHECK(s.message() == "1 batch with a bad CRC");
  REQUIRE(rep.errors.size() == 1);
  CHECK_THAT(rep.errors[0], Catch::StartsWith(fmt::format("{}@{}: crc mismatch (stored {:#010x}, computed 0x", Log(dir),
                                                          f.pos[1], f.crc[1])));
  std::string text = out.Text();
  CHECK_THAT(text, Catch::Contains(fmt::format("position: {} CreateTime: 1002 size: {} magic: 2 compresscodec: none "
                                               "crc: {} isvalid: false\n",
                                               f.pos[1], f.size[1], f.crc[1])));
  // The batches around it are listed as usual.
  CHECK_THAT(text, Catch::Contains("key: k0 payload: hello\n"));
  CHECK_THAT(text, Catch::Contains("controlType: COMMIT\n"));
}

TEST_CASE("dump: a bad length stops with file@position after what came before", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  std::string log = ReadFile(Log(dir));
  Facts f = FactsOf(log);
  EncodeFixed32BE(log.data() + f.pos[1] + kafka::kSizeOffset, 0x7fffffff);
  WriteFile(Log(dir), log);
  Out out;
  CountingReporter rep;
  Status s = Dump({dir}, &out, &rep);
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::StartsWith(fmt::format("{}@{}", Log(dir), f.pos[1])));
  std::string text = out.Text();
  CHECK_THAT(text, Catch::Contains("key: k0 payload: hello\n"));
  CHECK(text.find("offset: 2") == std::string::npos);
}

TEST_CASE("dump: .index and .timeindex entries, checked against the log beside them", "[dump]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  WritePartition(dir, SimpleRecords(200));  // ~1.2 KB batches: an index entry every 4 batches
  std::string idx_path = dir + "/00000000000000000000.index";
  std::string tidx_path = dir + "/00000000000000000000.timeindex";
  std::string idx = ReadFile(idx_path), tidx = ReadFile(tidx_path);
  REQUIRE(idx.size() >= 8);
  REQUIRE(tidx.size() >= 12);
  std::string want_idx = "Dumping " + idx_path + "\n", want_idx_json;
  for (size_t i = 0; i < idx.size(); i += 8) {
    uint32_t rel = DecodeFixed32BE(idx.data() + i), pos = DecodeFixed32BE(idx.data() + i + 4);
    want_idx += fmt::format("offset: {} position: {}\n", rel, pos);
    want_idx_json += fmt::format("{{\"offset\":{},\"position\":{}}}\n", rel, pos);
  }
  std::string want_tidx = "Dumping " + tidx_path + "\n";
  for (size_t i = 0; i < tidx.size(); i += 12)
    want_tidx += fmt::format("timestamp: {} offset: {}\n", DecodeFixed64BE(tidx.data() + i),
                             DecodeFixed32BE(tidx.data() + i + 8));
  RecordingReporter rep;
  {
    Out out;
    REQUIRE(Dump({idx_path}, &out, &rep).ok());
    CHECK(out.Text() == want_idx);
  }
  {
    Out out;
    REQUIRE(Dump({idx_path}, &out, &rep, /*json=*/true).ok());
    CHECK(out.Text() == want_idx_json);
  }
  {
    Out out;
    REQUIRE(Dump({tidx_path}, &out, &rep).ok());
    CHECK(out.Text() == want_tidx);
  }
  CHECK(rep.notices.empty());  // the log was beside them: checked
  CHECK(rep.corruptions == 0);

  SECTION("preallocated zero padding ends the listing") {
    WriteFile(idx_path, idx + std::string(64, '\0'));
    Out out;
    REQUIRE(Dump({idx_path}, &out, &rep).ok());
    CHECK(out.Text() == want_idx);
  }
  SECTION("a size that is not a multiple of the entry: entries, then the error") {
    WriteFile(idx_path, idx + "abc");
    Out out;
    Status s = Dump({idx_path}, &out, &rep);
    CHECK(s.IsCorruption());
    CHECK(s.message() == fmt::format("{}@{}: size {} is not a multiple of 8", idx_path, idx.size(), idx.size() + 3));
    CHECK(out.Text() == want_idx);
  }
  SECTION("an entry that disagrees with the log") {
    std::string bad = idx;
    EncodeFixed32BE(bad.data() + 4, DecodeFixed32BE(bad.data() + 4) + 1);
    WriteFile(idx_path, bad);
    Out out;
    Status s = Dump({idx_path}, &out, &rep);
    CHECK(s.IsCorruption());
    CHECK_THAT(s.message(), Catch::StartsWith(idx_path + "@0: entry 0 points at position "));
    CHECK_THAT(s.message(), Catch::EndsWith("(`evt verify --repair` rebuilds it)"));
  }
  SECTION("without a segment beside it: listed, with a notice") {
    std::string alone = tmp / "copy";
    REQUIRE(MakeDirs(alone).ok());
    WriteFile(alone + "/00000000000000000000.index", idx);
    Out out;
    REQUIRE(Dump({alone + "/00000000000000000000.index"}, &out, &rep).ok());
    REQUIRE(rep.notices.size() == 1);
    CHECK_THAT(rep.notices[0], Catch::EndsWith("no segment beside it: entries not checked against the log"));
  }
}

TEST_CASE("dump: Kafka checkpoint files", "[dump]") {
  TempDir tmp;
  CountingReporter rep;
  std::string epochs = tmp / "leader-epoch-checkpoint";
  WriteFile(epochs, "0\n2\n0 0\n3 100\n");
  {
    Out out;
    REQUIRE(Dump({epochs}, &out, &rep).ok());
    CHECK(out.Text() == "Dumping " + epochs + "\nversion: 0 entries: 2\nepoch: 0 start_offset: 0\nepoch: 3 start_offset: 100\n");
  }
  std::string recovery = tmp / "recovery-point-offset-checkpoint";
  WriteFile(recovery, "0\n1\norders 2 345\n");
  {
    Out out;
    REQUIRE(Dump({recovery}, &out, &rep, /*json=*/true).ok());
    CHECK(out.Text() == "{\"topic\":\"orders\",\"partition\":2,\"offset\":345}\n");
  }
  WriteFile(epochs, "0\n3\n0 0\n3 100\n");
  {
    Out out;
    Status s = Dump({epochs}, &out, &rep);
    CHECK(s.IsCorruption());
    CHECK(s.message() == epochs + ":2: says 3 entries, holds 2");
  }
  WriteFile(epochs, "0\n1\nnot numbers\n");
  {
    Out out;
    Status s = Dump({epochs}, &out, &rep);
    CHECK(s.message() == epochs + ":3: expected 'EPOCH START_OFFSET'");
  }
  WriteFile(recovery, "");
  {
    Out out;
    CHECK(Dump({recovery}, &out, &rep).message() ==
          recovery + ":1: not a Kafka checkpoint file (a version line and an entry count line first)");
  }
}

TEST_CASE("dump: usage errors", "[dump]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  CountingReporter rep;
  Out out;
  // An index with other paths.
  CHECK(Dump({dir + "/00000000000000000000.index", dir}, &out, &rep).code() == Code::kInvalidArgument);
  // A file of a partition directory that holds neither records nor entries dump lists.
  WriteFile(dir + "/00000000000000000000.snapshot", "x");
  CHECK(Dump({dir + "/00000000000000000000.snapshot"}, &out, &rep).code() == Code::kInvalidArgument);
  CHECK(Dump({tmp / "missing-0"}, &out, &rep).code() != Code::kOk);
}

TEST_CASE("dump: JSON Lines input is listed record by record", "[dump]") {
  TempDir tmp;
  WriteFile(tmp / "in.jsonl",
            "{\"topic\":\"a\",\"partition\":1,\"offset\":5,\"timestamp\":9,\"key\":\"k\",\"value\":\"v\",\"headers\":[]}\n");
  CountingReporter rep;
  Out out;
  REQUIRE(Dump({tmp / "in.jsonl"}, &out, &rep).ok());
  std::string text = out.Text();
  CHECK_THAT(text, Catch::StartsWith("Dumping "));
  CHECK_THAT(text, Catch::Contains("/1 (a consumer sees records, not batches)\n"));
  CHECK_THAT(text, Catch::EndsWith("| offset: 5 CreateTime: 9 keySize: 1 valueSize: 1 headerKeys: [] key: k payload: v\n"));
}

TEST_CASE("ControlRecordTypeName", "[dump]") {
  CHECK(ControlRecordTypeName(std::string("\0\0\0\0", 4)) == "ABORT");
  CHECK(ControlRecordTypeName(std::string("\0\0\0\1", 4)) == "COMMIT");
  CHECK(ControlRecordTypeName(std::string("\0\0\0\6", 4)) == "KRAFT_VOTERS");
  CHECK(ControlRecordTypeName(std::string("\0\0\0\x09", 4)) == "UNKNOWN(9)");
  CHECK(ControlRecordTypeName(std::string("\0\0\0", 3)) == "UNKNOWN");
}
