#include "lib/kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "lib/base/file.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

namespace internal {

bool ParseInt(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *v = x;
  return true;
}

}  // namespace internal

int64_t KafkaConfig::IntProp(const std::string& name, int64_t dflt) const {
  int64_t v = dflt;
  for (const auto& [k, val] : props)
    if (k == name) internal::ParseInt(val, &v);
  return v;
}

using internal::ParseInt;

namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// host[:port] -> host:port (9092 when omitted); IPv6 literals in brackets.
Result<std::string> NormalizeHost(std::string h) {
  h = Trim(h);
  if (h.empty()) return Status::InvalidArgument("empty broker address");
  size_t colon = h.rfind(':');
  bool has_port = colon != std::string::npos && (h[0] != '[' || colon > h.find(']'));
  if (!has_port) return h + ":9092";
  int64_t port = 0;
  if (!ParseInt(h.substr(colon + 1), &port) || port < 1 || port > 65535)
    return Status::InvalidArgument(fmt::format("bad port in broker address '{}'", h));
  return h;
}

Result<std::string> NormalizeBrokers(const std::string& list) {
  std::string out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!Trim(item).empty()) {
      auto h = NormalizeHost(item);
      if (!h.ok()) return h.status();
      if (!out.empty()) out += ',';
      out += *h;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::string> BrokersOrEnv(const std::string& given, const char* what) {
  std::string b = given;
  if (Trim(b).empty()) {
    const char* env = std::getenv("EVT_BROKERS");
    if (!env || !*env)
      return Status::InvalidArgument(
          fmt::format("{}: no brokers given (use kafka://HOST:PORT/TOPIC, -b BROKERS, or set EVT_BROKERS)", what));
    b = env;
  }
  auto n = NormalizeBrokers(b);
  if (!n.ok()) return n.status();
  if (n->empty()) return Status::InvalidArgument(fmt::format("{}: no brokers given", what));
  return n;
}

}  // namespace

bool IsKafkaUrl(const std::string& s) { return s.rfind("kafka://", 0) == 0; }

std::string KafkaTarget::Describe() const {
  std::string s = fmt::format("kafka://{}/{}", brokers, topic);
  if (!partitions.empty()) {
    s += "?partition=";
    for (size_t i = 0; i < partitions.size(); ++i) s += (i ? "," : "") + std::to_string(partitions[i]);
  }
  return s;
}

Result<std::vector<int32_t>> ParsePartitionList(const std::string& spec) {
  // Ranges first, merged, then expanded: "0-999999,0-999999,..." stays one million numbers
  // (config_fuzz found a list of many such ranges taking seconds to sort).
  std::vector<std::pair<int64_t, int64_t>> ranges;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = Trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) {
      size_t dash = item.find('-', 1);
      int64_t a = 0, b = 0;
      bool ok = dash == std::string::npos ? ParseInt(item, &a) && (b = a, true)
                                          : ParseInt(item.substr(0, dash), &a) && ParseInt(item.substr(dash + 1), &b);
      if (!ok || a < 0 || b < a || b > 1000000)
        return Status::InvalidArgument(fmt::format("bad partition list '{}' (expected e.g. 0,2-4)", spec));
      ranges.emplace_back(a, b);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<int32_t> out;
  int64_t next = 0;  // the first number not yet out
  for (const auto& [a, b] : ranges) {  // sorted by start: the output is sorted and unique
    for (int64_t p = std::max(a, next); p <= b; ++p) out.push_back(static_cast<int32_t>(p));
    next = std::max(next, b + 1);
  }
  if (out.empty()) return Status::InvalidArgument(fmt::format("empty partition list '{}'", spec));
  return out;
}

Result<KafkaTarget> ParseKafkaUrl(const std::string& url) {
  if (!IsKafkaUrl(url)) return Status::InvalidArgument(fmt::format("not a kafka:// URL: '{}'", url));
  std::string rest = url.substr(8);
  size_t slash = rest.find('/');
  std::string hosts = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (hosts.find('@') != std::string::npos)
    return Status::InvalidArgument(
        "kafka:// URLs carry no credentials: put sasl.username/sasl.password in a --config file");
  KafkaTarget t;
  auto b = BrokersOrEnv(hosts, "kafka://");
  if (!b.ok()) return b.status();
  t.brokers = *b;
  size_t q = path.find('?');
  t.topic = path.substr(0, q);
  if (!t.topic.empty() && t.topic.back() == '/') t.topic.pop_back();
  if (t.topic.find('/') != std::string::npos)
    return Status::InvalidArgument(fmt::format("'{}': a topic name cannot contain '/'", url));
  if (q != std::string::npos) {
    std::string query = path.substr(q + 1);
    size_t eq = query.find('=');
    std::string key = query.substr(0, eq);
    if (eq == std::string::npos || (key != "partition" && key != "partitions"))
      return Status::InvalidArgument(fmt::format("'{}': the only query parameter is ?partition=N,M", url));
    auto parts = ParsePartitionList(query.substr(eq + 1));
    if (!parts.ok()) return parts.status();
    t.partitions = *parts;
  }
  return t;
}

Result<KafkaTarget> KafkaTargetFrom(const std::string& brokers, const std::string& topic) {
  KafkaTarget t;
  auto b = BrokersOrEnv(brokers, "-b");
  if (!b.ok()) return b.status();
  t.brokers = *b;
  t.topic = topic;
  return t;
}

bool IsSecretProperty(const std::string& name) {
  static const char* const kWords[] = {"password", "secret", "jaas", "token", ".pem", "key", "credentials",
                                              "user.info"};  // schema.registry.basic.auth.user.info: user:password
  for (const char* w : kWords)
    if (name.find(w) != std::string::npos) return name != "ssl.key.location" && name != "ssl.keystore.location";
  return false;
}

Status AddProperty(const std::string& kv, KafkaConfig* cfg) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    return Status::InvalidArgument(fmt::format("-X: expected prop=value, got '{}'",
                                               IsSecretProperty(kv.substr(0, eq)) ? kv.substr(0, eq) : kv));
  cfg->props.emplace_back(Trim(kv.substr(0, eq)), kv.substr(eq + 1));
  return Status::OK();
}

Status AddPropertiesFile(const std::string& path, KafkaConfig* cfg) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  size_t start = 0;
  int line = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    std::string l = Trim(text->substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    ++line;
    start = nl == std::string::npos ? text->size() : nl + 1;
    if (l.empty() || l[0] == '#' || l[0] == '!') continue;
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument(fmt::format("{}:{}: expected prop=value", path, line));
    cfg->props.emplace_back(Trim(l.substr(0, eq)), Trim(l.substr(eq + 1)));
  }
  return Status::OK();
}

std::string PropertyList() {
  // librdkafka writes the table to a FILE*: a memory stream collects it.
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  if (!f) return {};
  rd_kafka_conf_properties_show(f);
  std::fclose(f);
  std::string out(buf ? buf : "", len);
  std::free(buf);
  return out;
}

}  // namespace evt::kafka
