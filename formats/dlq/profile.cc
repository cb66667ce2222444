#include "formats/dlq/profile.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>
#include <cstring>

#include "lib/base/coding.h"

namespace evt::dlq {
namespace {

// Inline comparisons (std::string_view's compare is an out-of-line call per header, and
// every record has several): with a constant prefix, memcmp becomes a few loads.
inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}
inline bool Eq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

constexpr std::string_view kConnect = "__connect.errors.";
constexpr std::string_view kSpring = "kafka_dlt-";
constexpr std::string_view kRetry = "retry_topic-";
constexpr std::string_view kStreams = "__streams.errors.";
constexpr std::string_view kEvt = "evt.dlq.";
constexpr std::string_view kRedrive = "evt.redrive.";

const char* EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kInt32: return "a 4-byte big-endian int32";
    case Encoding::kInt64: return "an 8-byte big-endian int64";
    default: return "a decimal number";
  }
}

std::string Hex(std::string_view b) {
  std::string s;
  for (size_t i = 0; i < b.size() && i < 8; ++i) s += fmt::format("{}{:02x}", i ? " " : "", static_cast<uint8_t>(b[i]));
  if (b.size() > 8) s += " ...";
  return s;
}

// Decodes a numeric header; a problem (never a guess) when it is not what `e` says.
void Number(const Header& h, Encoding e, int64_t lo, int64_t hi, DeadLetter* d, int64_t* out) {
  std::string why;
  int64_t v;
  if (h.value.null()) {
    d->problems.push_back({std::string(h.key), "null, expected " + std::string(EncodingName(e))});
    return;
  }
  if (!ReadInt(h.value.view(), e, &v, &why)) {
    d->problems.push_back({std::string(h.key), why});
    return;
  }
  if (v < lo || v > hi) {
    d->problems.push_back({std::string(h.key), fmt::format("{} is out of range", v)});
    return;
  }
  *out = v;
}

struct Field {
  std::string_view suffix;
  enum Kind : int8_t { kTopic, kPartition, kOffset, kTimestamp, kTsType, kGroup, kConnector, kTask, kStage, kPlugin,
                       kClass, kCause, kMessage, kStack, kKeyClass, kKeyMessage, kKeyStack, kAttempts } kind;
  Encoding enc;
};

constexpr Field kConnectFields[] = {
    {"topic", Field::kTopic, Encoding::kString},           {"partition", Field::kPartition, Encoding::kString},
    {"offset", Field::kOffset, Encoding::kString},         {"connector.name", Field::kConnector, Encoding::kString},
    {"task.id", Field::kTask, Encoding::kString},          {"stage", Field::kStage, Encoding::kString},
    {"class.name", Field::kPlugin, Encoding::kString},     {"exception.class.name", Field::kClass, Encoding::kString},
    {"exception.message", Field::kMessage, Encoding::kString},
    {"exception.stacktrace", Field::kStack, Encoding::kString},
};
constexpr Field kSpringFields[] = {
    {"original-topic", Field::kTopic, Encoding::kString},
    {"original-partition", Field::kPartition, Encoding::kInt32},
    {"original-offset", Field::kOffset, Encoding::kInt64},
    {"original-timestamp", Field::kTimestamp, Encoding::kInt64},
    {"original-timestamp-type", Field::kTsType, Encoding::kString},
    {"original-consumer-group", Field::kGroup, Encoding::kString},
    {"exception-fqcn", Field::kClass, Encoding::kString},
    {"exception-cause-fqcn", Field::kCause, Encoding::kString},
    {"exception-message", Field::kMessage, Encoding::kString},
    {"exception-stacktrace", Field::kStack, Encoding::kString},
    {"key-exception-fqcn", Field::kKeyClass, Encoding::kString},
    {"key-exception-message", Field::kKeyMessage, Encoding::kString},
    {"key-exception-stacktrace", Field::kKeyStack, Encoding::kString},
};
constexpr Field kStreamsFields[] = {
    {"exception", Field::kClass, Encoding::kString},   {"message", Field::kMessage, Encoding::kString},
    {"stacktrace", Field::kStack, Encoding::kString},  {"topic", Field::kTopic, Encoding::kString},
    {"partition", Field::kPartition, Encoding::kString}, {"offset", Field::kOffset, Encoding::kString},
};

void Apply(const Header& h, Field::Kind kind, Encoding enc, DeadLetter* d, std::string_view* key_class,
           std::string_view* key_message, std::string_view* key_stack) {
  std::string_view v = h.value.view();
  switch (kind) {
    case Field::kTopic:
      if (h.value.null() || v.empty()) {
        d->problems.push_back({std::string(h.key), "empty, expected a topic name"});
      } else {
        d->topic = v;
        d->has_topic = true;
      }
      break;
    case Field::kPartition: {
      int64_t p = -1;
      Number(h, enc, 0, INT32_MAX, d, &p);
      d->partition = static_cast<int32_t>(p);
      break;
    }
    case Field::kOffset: Number(h, enc, 0, INT64_MAX, d, &d->offset); break;
    case Field::kTimestamp: Number(h, enc, -1, INT64_MAX, d, &d->timestamp); break;
    case Field::kTask: Number(h, enc, 0, INT32_MAX, d, &d->task); break;
    case Field::kAttempts: Number(h, enc, 0, INT64_MAX, d, &d->attempts); break;
    case Field::kTsType: d->timestamp_type = v; break;
    case Field::kGroup: d->group = v; break;
    case Field::kConnector: d->connector = v; break;
    case Field::kStage: d->stage = v; break;
    case Field::kPlugin: d->plugin_class = v; break;
    case Field::kClass: d->error_class = v; break;
    case Field::kCause: d->cause_class = v; break;
    case Field::kMessage: d->error_message = v; break;
    case Field::kStack: d->stacktrace = v; break;
    case Field::kKeyClass: *key_class = v; break;
    case Field::kKeyMessage: *key_message = v; break;
    case Field::kKeyStack: *key_stack = v; break;
  }
}

template <size_t N>
bool Lookup(const Field (&table)[N], std::string_view suffix, const Field** out) {
  for (const Field& f : table)
    if (Eq(f.suffix, suffix)) {
      *out = &f;
      return true;
    }
  return false;
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWord(char c) { return IsAlpha(c) || IsDigit(c); }

// A UUID (8-4-4-4-12 hex digits) at s[i]: its length, or 0.
size_t UuidAt(std::string_view s, size_t i) {
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  size_t j = i;
  for (int g = 0; g < 5; ++g) {
    if (g) {
      if (j >= s.size() || s[j] != '-') return 0;
      ++j;
    }
    for (int k = 0; k < kGroups[g]; ++k, ++j)
      if (j >= s.size() || !IsHex(s[j])) return 0;
  }
  return j < s.size() && IsWord(s[j]) ? 0 : j - i;
}

// A hex string at s[i] (0x..., or 8+ hex digits with at least one digit, a whole word).
size_t HexAt(std::string_view s, size_t i) {
  size_t j = i;
  if (j + 2 < s.size() && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X') && IsHex(s[j + 2])) {
    j += 2;
    while (j < s.size() && IsHex(s[j])) ++j;
    return j < s.size() && IsWord(s[j]) ? 0 : j - i;
  }
  bool digit = false, letter = false;
  while (j < s.size() && IsHex(s[j])) {
    digit |= IsDigit(s[j]);
    letter |= !IsDigit(s[j]);
    ++j;
  }
  if (j - i < 8 || !digit || (j < s.size() && IsWord(s[j]))) return 0;
  // A long run of digits only is a number; hex needs a letter or 16+ digits (a hash).
  return letter || j - i >= 16 ? j - i : 0;
}

// A quoted value at s[i] ('...', "..." or `...`, on one line, closed before a non-word
// character): its length, or 0.
size_t QuotedAt(std::string_view s, size_t i) {
  const char q = s[i];
  for (size_t j = i + 1; j < s.size() && j - i < 512; ++j) {
    if (s[j] == '\n') return 0;
    if (s[j] == '\\') {
      ++j;
      continue;
    }
    if (s[j] == q) return j + 1 < s.size() && IsWord(s[j + 1]) ? 0 : j + 1 - i;
  }
  return 0;
}

}  // namespace

const char* ProfileName(Profile p) {
  switch (p) {
    case Profile::kConnect: return "connect";
    case Profile::kSpring: return "spring";
    case Profile::kStreams: return "streams";
    case Profile::kEvt: return "evt";
    case Profile::kCustom: return "custom";
    default: return "none";
  }
}

Result<Profile> ParseProfile(std::string_view t) {
  if (t == "auto") return Profile::kNone;
  for (Profile p : {Profile::kConnect, Profile::kSpring, Profile::kStreams, Profile::kEvt, Profile::kCustom})
    if (t == ProfileName(p)) return p;
  return Status::InvalidArgument(
      fmt::format("--profile: '{}' is not one of auto, connect, spring, streams, evt, custom", t));
}

bool HeaderMap::empty() const {
  for (const Field* f : {&topic, &partition, &offset, &timestamp, &error_class, &error_message, &stacktrace, &group,
                         &connector, &stage, &attempts})
    if (!f->header.empty()) return false;
  return true;
}

Status ParseHeaderMap(std::string_view text, HeaderMap* m) {
  *m = HeaderMap{};
  struct Name {
    std::string_view name;
    HeaderMap::Field HeaderMap::*field;
    bool numeric;
  };
  static const Name kNames[] = {
      {"original.topic", &HeaderMap::topic, false},          {"original.partition", &HeaderMap::partition, true},
      {"original.offset", &HeaderMap::offset, true},         {"original.timestamp", &HeaderMap::timestamp, true},
      {"error.class", &HeaderMap::error_class, false},       {"error.message", &HeaderMap::error_message, false},
      {"error.stacktrace", &HeaderMap::stacktrace, false},   {"group", &HeaderMap::group, false},
      {"connector", &HeaderMap::connector, false},           {"stage", &HeaderMap::stage, false},
      {"attempts", &HeaderMap::attempts, true},
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
      return Status::InvalidArgument(fmt::format("--header-map: '{}' is not FIELD=HEADER[:ENCODING]", item));
    std::string_view field = item.substr(0, eq), header = item.substr(eq + 1);
    Encoding enc = Encoding::kString;
    if (size_t c = header.rfind(':'); c != std::string_view::npos) {
      std::string_view e = header.substr(c + 1);
      if (e == "int32" || e == "int64" || e == "string") {
        enc = e == "int32" ? Encoding::kInt32 : e == "int64" ? Encoding::kInt64 : Encoding::kString;
        header = header.substr(0, c);
        if (header.empty()) return Status::InvalidArgument(fmt::format("--header-map: '{}' names no header", item));
      }
    }
    const Name* n = nullptr;
    for (const Name& k : kNames)
      if (k.name == field) n = &k;
    if (!n) {
      std::string names;
      for (const Name& k : kNames) names += (names.empty() ? "" : ", ") + std::string(k.name);
      return Status::InvalidArgument(fmt::format("--header-map: unknown field '{}' (fields: {})", field, names));
    }
    if (!n->numeric && enc != Encoding::kString)
      return Status::InvalidArgument(fmt::format("--header-map: {} is text; :int32/:int64 are for numbers", field));
    (m->*(n->field)) = HeaderMap::Field{std::string(header), enc};
  }
  if (m->empty()) return Status::InvalidArgument("--header-map: no FIELD=HEADER given");
  return Status::OK();
}

void DeadLetter::Clear() {
  std::vector<HeaderProblem> p = std::move(problems);
  p.clear();
  *this = DeadLetter{};
  problems = std::move(p);
}

bool ReadInt(std::string_view b, Encoding e, int64_t* out, std::string* why) {
  switch (e) {
    case Encoding::kInt32:
      if (b.size() != 4) {
        *why = fmt::format("{} byte{}, expected a 4-byte big-endian int32", b.size(), b.size() == 1 ? "" : "s");
        if (b.size() == 8) *why += " (an int64? --header-map FIELD=HEADER:int64 reads it so)";
        return false;
      }
      *out = static_cast<int32_t>(DecodeFixed32BE(b.data()));
      return true;
    case Encoding::kInt64:
      if (b.size() != 8) {
        *why = fmt::format("{} byte{}, expected an 8-byte big-endian int64", b.size(), b.size() == 1 ? "" : "s");
        if (b.size() == 4) *why += " (an int32? --header-map FIELD=HEADER:int32 reads it so)";
        return false;
      }
      *out = static_cast<int64_t>(DecodeFixed64BE(b.data()));
      return true;
    case Encoding::kString: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), v);
      if (b.empty() || ec != std::errc() || p != b.data() + b.size()) {
        bool text = true;
        for (char c : b) text &= static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
        if (text && !b.empty() && b.size() <= 40) {
          *why = fmt::format("'{}' is not a decimal number", b);
        } else {
          *why = fmt::format("{} bytes ({}), expected a decimal number", b.size(), Hex(b));
          if (b.size() == 4) *why += fmt::format("; as a big-endian int32 it would be {}", static_cast<int32_t>(DecodeFixed32BE(b.data())));
          if (b.size() == 8) *why += fmt::format("; as a big-endian int64 it would be {}", static_cast<int64_t>(DecodeFixed64BE(b.data())));
        }
        return false;
      }
      *out = v;
      return true;
    }
  }
  return false;
}

Profile Detect(const Header* h, uint32_t n) {
  Profile p = Profile::kNone;
  bool evt = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view k = h[i].key;
    if (k.empty()) continue;
    switch (k[0]) {  // the prefixes differ in their first byte (or, for '_', in their third)
      case '_':
        if (StartsWith(k, kConnect)) {
          if (p == Profile::kNone) p = Profile::kConnect;
        } else if (StartsWith(k, kStreams)) {
          if (p == Profile::kNone) p = Profile::kStreams;
        }
        break;
      case 'k':
        if (StartsWith(k, kSpring) && p == Profile::kNone) p = Profile::kSpring;
        break;
      case 'e':
        if (StartsWith(k, kEvt)) evt = true;
        break;
      default: break;
    }
  }
  return evt && p == Profile::kConnect ? Profile::kEvt : p;
}

void Decode(const Header* h, uint32_t n, Profile forced, const HeaderMap* map, DeadLetter* d) {
  d->Clear();
  const bool custom = map && !map->empty();
  Profile p = custom ? Profile::kCustom : forced != Profile::kNone ? forced : Detect(h, n);
  d->profile = p;
  std::string_view key_class, key_message, key_stack;
  bool seen_topic = false, seen_partition = false, seen_offset = false;
  auto mark = [&](Field::Kind k) {
    seen_topic |= k == Field::kTopic;
    seen_partition |= k == Field::kPartition;
    seen_offset |= k == Field::kOffset;
  };
  for (uint32_t i = 0; i < n; ++i) {
    const Header& hd = h[i];
    std::string_view k = hd.key;
    const Field* f = nullptr;
    if (StartsWith(k, kRedrive)) {
      if (Eq(k, "evt.redrive.count")) {
        Number(hd, Encoding::kString, 0, INT64_MAX, d, &d->redrive_count);
        continue;
      }
      if (Eq(k, "evt.redrive.id")) {
        d->redrive_id = hd.value.view();
        continue;
      }
    }
    if (custom) {
      struct M {
        const HeaderMap::Field* f;
        Field::Kind kind;
      };
      const M ms[] = {{&map->topic, Field::kTopic},         {&map->partition, Field::kPartition},
                      {&map->offset, Field::kOffset},       {&map->timestamp, Field::kTimestamp},
                      {&map->error_class, Field::kClass},   {&map->error_message, Field::kMessage},
                      {&map->stacktrace, Field::kStack},    {&map->group, Field::kGroup},
                      {&map->connector, Field::kConnector}, {&map->stage, Field::kStage},
                      {&map->attempts, Field::kAttempts}};
      for (const M& m : ms)
        if (!m.f->header.empty() && Eq(m.f->header, k)) {
          mark(m.kind);
          Apply(hd, m.kind, m.f->encoding, d, &key_class, &key_message, &key_stack);
        }
      continue;
    }
    switch (p) {
      case Profile::kConnect:
      case Profile::kEvt:
        if (StartsWith(k, kConnect) && Lookup(kConnectFields, k.substr(kConnect.size()), &f)) break;
        if (p == Profile::kEvt && Eq(k, "evt.dlq.attempts")) {
          Number(hd, Encoding::kString, 0, INT64_MAX, d, &d->attempts);
        } else if (p == Profile::kEvt && Eq(k, "evt.dlq.time")) {
          d->dlq_time = hd.value.view();
        }
        continue;
      case Profile::kSpring:
        if (StartsWith(k, kSpring) && Lookup(kSpringFields, k.substr(kSpring.size()), &f)) break;
        if (Eq(k, "retry_topic-attempts")) Number(hd, Encoding::kInt32, 0, INT32_MAX, d, &d->attempts);
        continue;
      case Profile::kStreams:
        if (StartsWith(k, kStreams) && Lookup(kStreamsFields, k.substr(kStreams.size()), &f)) break;
        continue;
      default:
        continue;
    }
    mark(f->kind);
    Apply(hd, f->kind, f->enc, d, &key_class, &key_message, &key_stack);
  }
  if (d->error_class.empty() && !key_class.empty()) {
    d->key_error = true;
    d->error_class = key_class;
    d->error_message = key_message;
    d->stacktrace = key_stack;
  }
  if (p == Profile::kNone) return;
  // A profile's coordinates that are missing altogether (wrong ones were reported above).
  auto missing = [&](bool seen, const char* what) {
    if (!seen) d->problems.push_back({what, "missing"});
  };
  switch (p) {
    case Profile::kConnect:
    case Profile::kEvt:
      missing(seen_topic, "__connect.errors.topic");
      missing(seen_partition, "__connect.errors.partition");
      missing(seen_offset, "__connect.errors.offset");
      break;
    case Profile::kSpring:
      missing(seen_topic, "kafka_dlt-original-topic");
      missing(seen_partition, "kafka_dlt-original-partition");
      missing(seen_offset, "kafka_dlt-original-offset");
      break;
    case Profile::kStreams:
      missing(seen_topic, "__streams.errors.topic");
      missing(seen_partition, "__streams.errors.partition");
      missing(seen_offset, "__streams.errors.offset");
      break;
    case Profile::kCustom:
      if (!map->topic.header.empty()) missing(seen_topic, map->topic.header.c_str());
      if (!map->partition.header.empty()) missing(seen_partition, map->partition.header.c_str());
      if (!map->offset.header.empty()) missing(seen_offset, map->offset.header.c_str());
      break;
    default:
      break;
  }
}

bool IsDeadLetterHeader(std::string_view k, const HeaderMap* map) {
  if (!k.empty()) {
    switch (k[0]) {  // the prefixes differ in their first byte (or, for '_', in their third)
      case '_':
        if (StartsWith(k, kConnect) || StartsWith(k, kStreams)) return true;
        break;
      case 'k':
        if (StartsWith(k, kSpring)) return true;
        break;
      case 'r':
        if (StartsWith(k, kRetry)) return true;
        break;
      case 'e':
        if (StartsWith(k, kEvt) || StartsWith(k, kRedrive)) return true;
        break;
      default: break;
    }
  }
  if (map)
    for (const HeaderMap::Field* f : {&map->topic, &map->partition, &map->offset, &map->timestamp, &map->error_class,
                                      &map->error_message, &map->stacktrace, &map->group, &map->connector, &map->stage,
                                      &map->attempts})
      if (!f->header.empty() && f->header == k) return true;
  return false;
}

void NormaliseMessage(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const bool boundary = i == 0 || !IsWord(s[i - 1]);
    if (boundary && (c == '\'' || c == '"' || c == '`')) {
      if (size_t n = QuotedAt(s, i)) {
        out->push_back(c);
        out->push_back('?');
        out->push_back(c);
        i += n;
        continue;
      }
    }
    if (boundary && IsHex(c)) {
      if (size_t n = UuidAt(s, i)) {
        out->append("<uuid>");
        i += n;
        continue;
      }
      if (size_t n = HexAt(s, i)) {
        out->append("<hex>");
        i += n;
        continue;
      }
    }
    if (c == '-' && boundary && i + 1 < s.size() && IsDigit(s[i + 1])) {  // a negative number: one <n>
      ++i;
      continue;
    }
    if (IsDigit(c)) {
      // Digits right after a word of two or more letters ("Base64", "utf8") are part of it;
      // after one letter ("T00" in a time, "v2") or anything else, a number.
      size_t j = i;
      while (j < s.size() && IsDigit(s[j])) ++j;
      bool in_word = i >= 2 && IsAlpha(s[i - 1]) && IsAlpha(s[i - 2]);
      if (in_word) {
        out->append(s.substr(i, j - i));
      } else {
        out->append("<n>");
      }
      i = j;
      continue;
    }
    if (IsWord(c)) {  // copy a whole word, so hex/uuid checks start only at word starts
      size_t j = i;
      while (j < s.size() && IsAlpha(s[j])) ++j;
      if (j == i) ++j;
      out->append(s.substr(i, j - i));
      i = j;
      continue;
    }
    out->push_back(c);
    ++i;
  }
}

std::string Fingerprint(std::string_view cls, std::string_view norm) {
  // XXH3 of the class, then of the message, combined (no streaming state: one call each).
  uint64_t h = XXH3_64bits_withSeed(norm.data(), norm.size(), XXH3_64bits(cls.data(), cls.size()));
  char buf[16];
  auto end = fmt::format_to_n(buf, sizeof(buf), "{:012x}", h >> 16).out;
  return std::string(buf, static_cast<size_t>(end - buf));
}

std::string_view FirstFrame(std::string_view st) {
  size_t pos = 0;
  while (pos < st.size()) {
    size_t end = st.find('\n', pos);
    if (end == std::string_view::npos) end = st.size();
    std::string_view line = st.substr(pos, end - pos);
    size_t a = line.find_first_not_of(" \t");
    if (a != std::string_view::npos && line.compare(a, 3, "at ") == 0) {
      line = line.substr(a);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      return line;
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace evt::dlq
