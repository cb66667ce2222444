// Walks tests/bad_input.md: for every row of its table, builds the hostile input with the
// tests' own helpers (segments from WritePartition, damage with FlipByte/Truncate/FixCrc,
// legacy messages from LegacyMessage), runs the row's command with the built evt, and
// checks the row's exit code and the shape of its stderr (a regular expression). Some rows
// also check an invariant of their own (nothing written outside a destination, the
// output still valid JSON, ...). A row without a builder, or a builder without a row, fails.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "formats/kafka/compression.h"
#include "formats/kafka/entry.h"
#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "testutil.h"

namespace fs = std::filesystem;
using namespace evt;
using namespace evt::test;

namespace {

struct Row {
  std::string id, input, command, stderr_re;
  int exit_code = -1;
};

std::string Unquote(std::string s) {
  auto trim = [](std::string& t) {
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
  };
  trim(s);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  // The table escapes '|' as '\|' inside code spans.
  for (size_t p; (p = s.find("\\|")) != std::string::npos;) s.replace(p, 2, "|");
  return s;
}

std::vector<Row> ReadTable() {
  std::istringstream in(ReadFile(std::string(EVT_SOURCE_DIR) + "/tests/bad_input.md"));
  std::vector<Row> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) != 0 || line.rfind("| id ", 0) == 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
        cell += "\\|";
        ++i;
      } else if (line[i] == '|') {
        cells.push_back(Unquote(cell));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    if (cells.size() != 5) continue;
    Row r{Unquote(cells[0]), cells[1], cells[2], cells[4]};
    r.exit_code = std::stoi(cells[3]);
    rows.push_back(r);
  }
  return rows;
}

struct Ran {
  int exit_code;
  std::string out, err;
};

// Runs `command` (shell; `evt` is the built binary) in directory `d`, as `user` when given
// (root runs the permission rows as nobody: root reads any file).
Ran RunIn(const std::string& d, const std::string& command, bool as_nobody = false) {
  std::string evt_dir = fs::path(EvtBinary()).parent_path();
  const bool drop = as_nobody && geteuid() == 0;
  std::string prefix = drop ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  if (drop) {
    // nobody may not reach the build tree (a clone under /root, mode 0700): a copy of the
    // binary next to the row's files.
    evt_dir = d + "/.bin";
    fs::create_directories(evt_dir);
    fs::copy_file(EvtBinary(), evt_dir + "/evt", fs::copy_options::overwrite_existing);
    const fs::perms rwxr_xr_x = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec;
    fs::permissions(evt_dir, rwxr_xr_x);
    fs::permissions(evt_dir + "/evt", rwxr_xr_x);
  }
  std::string script = d + "/.cmd.sh";
  WriteFile(script, "set -o pipefail\n" + command + "\n");
  std::string cmd = "cd '" + d + "' && PATH='" + evt_dir + "':$PATH " + prefix + "bash .cmd.sh >.out 2>.err </dev/null";
  int rc = std::system(cmd.c_str());
  Ran r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = ReadFile(d + "/.out");
  r.err = ReadFile(d + "/.err");
  return r;
}

std::string Seg(const std::string& dir) { return dir + "/00000000000000000000.log"; }

// A partition t-0 of `n` records (uncompressed, 5 per batch); returns its first segment.
std::string Partition(const std::string& d, int n = 20, int codec = 0, uint64_t segment_bytes = 1ull << 30) {
  PartitionSpec spec;
  spec.batch_records = 5;
  spec.codec = codec;
  spec.segment_bytes = segment_bytes;
  return WritePartition(d + "/t-0", SimpleRecords(n, 1700000000000, 4, 30), spec)[0];
}

void Damage(const std::string& path, const std::function<void(std::string*)>& f) {
  std::string b = ReadFile(path);
  f(&b);
  WriteFile(path, b);
}

// The envelope JSON Lines of a record with this topic and partition (raw JSON text).
std::string Envelope(const std::string& topic_json, const std::string& partition = "0") {
  return "{\"topic\":" + topic_json + ",\"partition\":" + partition + ",\"key\":\"k\",\"value\":\"v\"}\n";
}

struct Check {
  std::function<void(const std::string& d)> build;
  std::function<void(const std::string& d, const Ran& r)> after = nullptr;  // optional invariant
  bool as_nobody = false;
};

std::map<std::string, Check> Builders() {
  std::map<std::string, Check> m;
  // ---- segments
  m["torn-tail"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) { Truncate(b, b->size() - 7); });
  }};
  m["truncated-old-segment"] = {[](const std::string& d) {
    std::string s = Partition(d, 60, 0, 2000);
    Damage(s, [](std::string* b) { Truncate(b, b->size() - 7); });
  }};
  m["crc-mismatch"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) { FlipByte(b, kafka::kRecordsOffset + 10); });
  }};
  m["length-past-end"] = {[](const std::string& d) {
    std::string s = Partition(d, 60, 0, 2000);  // not the newest segment: not a torn tail
    Damage(s, [](std::string* b) {
      kafka::MutableEntryView(b->data(), b->size()).set_length(0x7ffffff0);
    });
  }};
  m["length-below-minimum"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) { kafka::MutableEntryView(b->data(), b->size()).set_length(10); });
  }};
  m["length-short-crc-fixed"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) {
      kafka::MutableEntryView v(b->data(), b->size());
      v.set_length(v.length() - 9);
      FixCrc(b, 0);
    });
  }};
  m["records-count-high"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) {
      kafka::MutableEntryView(b->data(), b->size()).set_records_count(100000000);
      FixCrc(b, 0);
    });
  }};
  m["records-count-negative"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) {
      kafka::MutableEntryView(b->data(), b->size()).set_records_count(-1);
      FixCrc(b, 0);
    });
  }};
  m["huge-varint"] = {[](const std::string& d) {
    std::string s = Partition(d);
    Damage(s, [](std::string* b) {
      for (int i = 0; i < 10; ++i) (*b)[kafka::kRecordsOffset + i] = static_cast<char>(i < 9 ? 0xff : 0x01);
      FixCrc(b, 0);
    });
  }};
  m["nested-compression"] = {[](const std::string& d) {
    std::string key = "k";
    std::string inner = LegacyMessage(1, 0, 0, 1000, &key, "v");
    std::string gz, gz2;
    (void)kafka::Compress(kafka::kGzip, -1, inner, &gz);
    std::string mid = LegacyMessage(1, kafka::kGzip, 0, 1000, nullptr, gz);
    (void)kafka::Compress(kafka::kGzip, -1, mid, &gz2);
    fs::create_directories(d + "/t-0");
    WriteFile(Seg(d + "/t-0"), LegacyMessage(1, kafka::kGzip, 0, 1000, nullptr, gz2));
  }};
  m["decompression-bomb"] = {[](const std::string& d) {
    RecordBatch b;
    RecordSpec r;
    r.timestamp = 1700000000000;
    r.value = std::string(64 << 20, '\0');
    PartitionSpec spec;
    spec.codec = kafka::kZstd;
    spec.batch_records = 1;
    WritePartition(d + "/t-0", {r}, spec);
  }};
  m["junk-segment"] = {[](const std::string& d) {
    fs::create_directories(d + "/t-0");
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) >> 3));
    WriteFile(Seg(d + "/t-0"), junk);
  }};
  m["empty-segment"] = {[](const std::string& d) {
    fs::create_directories(d + "/t-0");
    WriteFile(Seg(d + "/t-0"), "");
  }};
  m["junk-dir"] = {[](const std::string& d) {
    fs::create_directories(d + "/junk/sub");
    WriteFile(d + "/junk/readme.txt", "hello");
    WriteFile(d + "/junk/0.log", "x");
    WriteFile(d + "/junk/sub/notes.index", "y");
  }};
  m["index-garbage"] = {[](const std::string& d) {
    std::string s = Partition(d, 200);
    WriteFile(s.substr(0, s.size() - 4) + ".index", std::string(16, '\x7f'));
  }};
  m["log-is-a-directory"] = {[](const std::string& d) { fs::create_directories(Seg(d + "/t-0")); }};
  m["symlink-to-partition"] = {[](const std::string& d) {
    Partition(d);
    fs::create_directory_symlink(d + "/t-0", d + "/link-0");
  }};
  m["symlink-loop"] = {[](const std::string& d) { fs::create_symlink("loop", d + "/loop"); }};
  m["dangling-symlink"] = {[](const std::string& d) {
    fs::create_directories(d + "/t-0");
    fs::create_symlink(d + "/nowhere.log", Seg(d + "/t-0"));
  }};
  m["unreadable-segment"] = {[](const std::string& d) {
                               Partition(d);
                               fs::permissions(d, fs::perms::all);
                               fs::permissions(d + "/t-0", fs::perms::all);
                               fs::permissions(Seg(d + "/t-0"), fs::perms::none);
                             },
                             nullptr, true};
  m["unwritable-destination"] = {[](const std::string& d) {
                                   WriteFile(d + "/in.jsonl", Envelope("\"t\""));
                                   fs::permissions(d, fs::perms::all);
                                   fs::create_directories(d + "/ro");
                                   fs::permissions(d + "/ro", fs::perms::owner_read | fs::perms::owner_exec |
                                                                  fs::perms::others_read | fs::perms::others_exec);
                                 },
                                 nullptr, true};
  m["truncated-while-read"] = {[](const std::string& d) {
    PartitionSpec spec;
    spec.batch_records = 100;
    WritePartition(d + "/t-0", SimpleRecords(40000, 1, 4, 300), spec);
  }};
  m["appended-while-read"] = {[](const std::string& d) {
    PartitionSpec spec;
    spec.batch_records = 100;
    WritePartition(d + "/t-0", SimpleRecords(20000, 1, 4, 300), spec);
    WriteFile(d + "/more.jsonl", Envelope("\"t\""));
  }};
  // ---- JSON Lines and envelopes
  auto topic_row = [](const std::string& topic_json) {
    return Check{[topic_json](const std::string& d) {
                   fs::create_directories(d + "/out");
                   WriteFile(d + "/in.jsonl", Envelope("\"ok\"") + Envelope(topic_json));
                 },
                 [](const std::string& d, const Ran&) {
                   // Nothing but out/ (and the test's own files) may exist under d, and only
                   // partition directories inside it.
                   for (const auto& e : fs::directory_iterator(d)) {
                     std::string n = e.path().filename();
                     CHECK((n == "out" || n == "in.jsonl" || n[0] == '.'));
                   }
                   for (const auto& e : fs::directory_iterator(d + "/out")) CHECK(e.is_directory());
                   CHECK_FALSE(fs::exists(fs::path(d).parent_path() / "x-0"));
                 }};
  };
  m["topic-dotdot-slash"] = topic_row("\"../../x\"");
  m["topic-slash"] = topic_row("\"a/b\"");
  m["topic-dotdot"] = topic_row("\"..\"");
  m["topic-nul"] = topic_row("\"a\\u0000/x\"");
  m["replay-topic-escape"] = topic_row("\"../x\"");
  m["partition-too-big"] = {[](const std::string& d) { WriteFile(d + "/in.jsonl", Envelope("\"t\"", "2147483648")); }};
  m["partition-negative"] = {[](const std::string& d) { WriteFile(d + "/in.jsonl", Envelope("\"t\"", "-2")); }};
  m["partition-flag-range"] = {[](const std::string& d) { WriteFile(d + "/in.jsonl", Envelope("\"t\"")); }};
  m["jsonl-truncated-line"] = {[](const std::string& d) {
    WriteFile(d + "/in.jsonl", Envelope("\"t\"") + "{\"topic\":\"t\",\"val");
  }};
  m["jsonl-not-utf8"] = {[](const std::string& d) {
    WriteFile(d + "/in.jsonl", Envelope("\"t\"") + "{\"topic\":\"t\",\"partition\":0,\"value\":\"\xff\xfe\"}\n");
  }};
  m["segment-not-utf8"] = {[](const std::string& d) {
                             RecordSpec r;
                             r.has_key = true;
                             r.key_bytes = "\xff\xc0\x80";
                             r.value = "{\"s\":\"\xed\xa0\x80\"}";
                             r.headers = {{"h\xff", "\xfe"}};
                             WritePartition(d + "/t\xff-0", {r});
                           },
                           [](const std::string& d, const Ran& r) {
                             // What cat prints is still JSON that jq reads.
                             WriteFile(d + "/cat.jsonl", r.out);
                             CHECK(RunIn(d, "jq -c . cat.jsonl >/dev/null").exit_code == 0);
                           }};
  m["filter-not-utf8"] = {[](const std::string& d) {
    WriteFile(d + "/in.jsonl", "{\"s\":\"a\"}\n{\"s\":\"\xff\"}\n{\"s\":\"b\"}\n");
  }};
  m["json-duplicate-keys"] = {[](const std::string& d) { WriteFile(d + "/in.jsonl", "{\"a\":1,\"a\":2}\n"); }};
  m["json-deep-nesting"] = {[](const std::string& d) {
    WriteFile(d + "/in.jsonl", "{\"a\":1}\n{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}\n");
  }};
  m["json-huge-numbers"] = {[](const std::string& d) {
    WriteFile(d + "/in.jsonl", "{\"n\":1e400}\n{\"n\":18446744073709551616}\n{\"n\":-1e400}\n{\"n\":1}\n");
  }};
  auto deep_filter = [](const std::string& d) {
    WriteFile(d + "/in.jsonl", "{\"a\":1}\n");
    // Each under the 128 KiB a single argument may have.
    WriteFile(d + "/expr", std::string(50000, '(') + "." + std::string(50000, ')'));
    std::string chain = ".";
    for (int i = 0; i < 15000; ++i) chain += " | not";
    WriteFile(d + "/chain", chain);
    WriteFile(d + "/neg", std::string(100000, '-') + "1");
  };
  m["filter-deep-parens"] = {deep_filter};
  m["filter-long-pipe"] = {deep_filter};
  m["filter-deep-unary"] = {deep_filter};
  m["filter-huge-value"] = {[](const std::string& d) { WriteFile(d + "/in.jsonl", "{\"a\":1}\n"); }};
  // ---- checkpoints
  m["checkpoint-foreign"] = {[](const std::string& d) {
    Partition(d);
    CHECK(RunIn(d, "evt replay t-0 out1.jsonl --checkpoint ck --until 5").exit_code == 0);
  }};
  m["checkpoint-garbage"] = {[](const std::string& d) {
    Partition(d);
    WriteFile(d + "/ck", "\x89PNG\r\n\x1a\n garbage");
  }};
  m["checkpoint-bad-positions"] = {[](const std::string& d) {
    Partition(d);
    CHECK(RunIn(d, "evt replay t-0 out.jsonl --checkpoint ck --until 5").exit_code == 0);
    std::string c = ReadFile(d + "/ck");
    size_t p = c.find("\"next\":");
    REQUIRE(p != std::string::npos);
    c.replace(p, 7, "\"next\":\"five\",\"x\":");
    WriteFile(d + "/ck", c);
  }};
  // ---- durations (the defect of issue 20)
  m["duration-bare-zero"] = {[](const std::string& d) { Partition(d); }};
  m["duration-bare-number"] = {[](const std::string& d) { Partition(d); }};
  return m;
}

}  // namespace

TEST_CASE("bad input: every row of tests/bad_input.md", "[bad_input][e2e]") {
  std::vector<Row> rows = ReadTable();
  REQUIRE(rows.size() >= 30);
  auto builders = Builders();
  std::set<std::string> seen;
  for (const Row& row : rows) {
    INFO("row " << row.id << ": " << row.command);
    REQUIRE(builders.count(row.id) == 1);
    seen.insert(row.id);
    TempDir tmp;
    const Check& c = builders[row.id];
    c.build(tmp.path());
    Ran r = RunIn(tmp.path(), row.command, c.as_nobody);
    INFO("exit " << r.exit_code << ", stderr: " << r.err.substr(0, 2000));
    CHECK(r.exit_code == row.exit_code);
    if (row.stderr_re == "(empty)") {
      CHECK(r.err.empty());
    } else {
      CHECK(std::regex_search(r.err, std::regex(row.stderr_re, std::regex::ECMAScript | std::regex::multiline)));
    }
    if (c.after) c.after(tmp.path(), r);
    // No temporary files left behind by a failed run.
    for (const auto& e : fs::recursive_directory_iterator(tmp.path(), fs::directory_options::skip_permission_denied)) {
      std::string n = e.path().filename();
      CHECK(n.find(".tmp") == std::string::npos);
    }
    fs::permissions(tmp.path(), fs::perms::all);
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(tmp.path(), fs::directory_options::skip_permission_denied, ec))
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  for (const auto& [id, c] : builders) {
    INFO("builder without a row: " << id);
    CHECK(seen.count(id) == 1);
  }
}
