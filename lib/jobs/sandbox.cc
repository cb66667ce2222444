#include "lib/jobs/sandbox.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/timeutil.h"

#include "lib/base/file.h"
#include "lib/base/term.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/read.h"

namespace evt::kafka {

namespace {

// Segment files and dirs, or envelope JSON Lines: what every reader takes (OpenSource).
Result<std::unique_ptr<Source>> OpenLoad(const SandboxLoad& l, Reporter* reporter) {
  SourceSpec spec;
  spec.paths = {l.path};
  return OpenSource(spec, reporter);
}

void QuietLogger(const rd_kafka_t*, int, const char*, const char*) {}

// librdkafka 2.0.2's mock cluster thread serves its control ops (topic creation, errors,
// RTTs) only after its poll() returns, and the write that should wake that poll is sent once
// per "non-polling period" and not re-armed, so most ops wait for the poll's timeout (up to
// 1 s, the next timer) or for unrelated socket activity: a 67-topic sandbox took 0.06-23 s to
// start. While ops are sent, this waker makes socket activity the thread sees: a TCP
// connection to the first mock broker, opened and closed every 2 ms (the mock accepts it and
// sees it close), so each op is served within milliseconds.
class MockWaker {
 public:
  explicit MockWaker(const std::string& bootstrap) {
    size_t colon = bootstrap.find(':');
    size_t comma = bootstrap.find(',');
    std::string port = bootstrap.substr(colon + 1, comma == std::string::npos ? std::string::npos : comma - colon - 1);
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(std::atoi(port.c_str())));
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (colon == std::string::npos || addr_.sin_port == 0) return;
    thread_ = std::thread([this]() {
      std::unique_lock<std::mutex> l(mu_);
      while (!stop_) {
        l.unlock();
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
          connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
          close(fd);
        }
        l.lock();
        cv_.wait_for(l, std::chrono::milliseconds(2), [this] { return stop_; });
      }
    });
  }
  ~MockWaker() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  sockaddr_in addr_{};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

struct Sandbox::Impl {
  rd_kafka_t* host = nullptr;  // the handle that owns the mock cluster
  rd_kafka_mock_cluster_t* mc = nullptr;
  int brokers = 1;
  std::thread timer;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  ~Impl() {
    if (timer.joinable()) {
      {
        std::lock_guard<std::mutex> l(mu);
        stopping = true;
      }
      cv.notify_all();
      timer.join();
    }
    if (mc) rd_kafka_mock_cluster_destroy(mc);
    if (host) rd_kafka_destroy(host);
  }
};

Sandbox::~Sandbox() = default;

Result<std::vector<SandboxTopic>> ParseSandboxTopics(const std::string& spec) {
  std::vector<SandboxTopic> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      SandboxTopic t;
      size_t colon = item.rfind(':');
      t.name = item.substr(0, colon);
      if (colon != std::string::npos) {
        std::string n = item.substr(colon + 1);
        char* end = nullptr;
        long v = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end || v < 1 || v > 10000)
          return Status::InvalidArgument(fmt::format("--topics: bad partition count in '{}' (1..10000)", item));
        t.partitions = static_cast<int>(v);
      }
      if (t.name.empty()) return Status::InvalidArgument(fmt::format("--topics: empty topic name in '{}'", spec));
      out.push_back(t);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {
struct ApiName {
  const char* name;
  int16_t key;
};
constexpr ApiName kApis[] = {{"Produce", 0},         {"Fetch", 1},           {"ListOffsets", 2},
                             {"Metadata", 3},        {"OffsetCommit", 8},    {"OffsetFetch", 9},
                             {"FindCoordinator", 10}, {"JoinGroup", 11},      {"Heartbeat", 12},
                             {"LeaveGroup", 13},     {"SyncGroup", 14},      {"ApiVersions", 18},
                             {"InitProducerId", 22}, {"AddPartitionsToTxn", 24}, {"EndTxn", 26}};

Result<int> ErrorByName(const std::string& name) {
  const struct rd_kafka_err_desc* descs = nullptr;
  size_t n = 0;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i)
    if (descs[i].name && descs[i].code >= 0 && name == descs[i].name) return static_cast<int>(descs[i].code);
  return Status::InvalidArgument(fmt::format("--fault: unknown Kafka error '{}' (e.g. TOPIC_AUTHORIZATION_FAILED)", name));
}
}  // namespace

Result<SandboxFault> ParseSandboxFault(const std::string& spec) {
  size_t eq = spec.find('=');
  std::string kind = spec.substr(0, eq);
  std::string arg = eq == std::string::npos ? "" : spec.substr(eq + 1);
  auto parts = [&]() {
    std::vector<std::string> v;
    size_t start = 0;
    for (;;) {
      size_t c = arg.find(':', start);
      v.push_back(arg.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    return v;
  }();
  SandboxFault f;
  if (kind == "down-after" || kind == "rtt") {
    auto d = ParseDuration(arg);
    if (!d.ok() || *d < 0) return Status::InvalidArgument(fmt::format("--fault {}: bad duration '{}'", kind, arg));
    f.kind = kind == "rtt" ? SandboxFault::kRtt : SandboxFault::kDownAfter;
    f.ms = *d;
    return f;
  }
  if (kind == "topic-error" && parts.size() == 2 && !parts[0].empty()) {
    f.kind = SandboxFault::kTopicError;
    f.topic = parts[0];
    auto e = ErrorByName(parts[1]);
    if (!e.ok()) return e.status();
    f.error = *e;
    return f;
  }
  if (kind == "request-error" && (parts.size() == 2 || parts.size() == 3)) {
    f.kind = SandboxFault::kRequestError;
    for (const auto& a : kApis)
      if (parts[0] == a.name) f.api = a.key;
    if (f.api < 0) {
      std::string names;
      for (const auto& a : kApis) names += std::string(names.empty() ? "" : ", ") + a.name;
      return Status::InvalidArgument(fmt::format("--fault: unknown request '{}' (one of {})", parts[0], names));
    }
    auto e = ErrorByName(parts[1]);
    if (!e.ok()) return e.status();
    f.error = *e;
    if (parts.size() == 3) {
      char* end = nullptr;
      long c = std::strtol(parts[2].c_str(), &end, 10);
      if (*end || c < 1 || c > 1000000) return Status::InvalidArgument(fmt::format("--fault: bad count in '{}'", spec));
      f.count = static_cast<int>(c);
    }
    return f;
  }
  return Status::InvalidArgument(fmt::format(
      "--fault: expected down-after=DURATION, topic-error=TOPIC:ERROR, request-error=API:ERROR[:COUNT] or "
      "rtt=DURATION, got '{}'",
      spec));
}

Status Sandbox::ApplyFaults(const std::vector<SandboxFault>& faults) {
  Impl& im = *impl_;
  MockWaker waker(bootstrap_);  // the ops below are served at once, not after the mock's poll timeout
  for (const auto& f : faults) {
    switch (f.kind) {
      case SandboxFault::kTopicError:
        rd_kafka_mock_topic_set_error(im.mc, f.topic.c_str(), static_cast<rd_kafka_resp_err_t>(f.error));
        break;
      case SandboxFault::kRequestError: {
        std::vector<rd_kafka_resp_err_t> errs(static_cast<size_t>(f.count), static_cast<rd_kafka_resp_err_t>(f.error));
        rd_kafka_mock_push_request_errors_array(im.mc, f.api, errs.size(), errs.data());
        break;
      }
      case SandboxFault::kRtt:
        for (int b = 1; b <= im.brokers; ++b) rd_kafka_mock_broker_set_rtt(im.mc, b, static_cast<int>(f.ms));
        break;
      case SandboxFault::kDownAfter: {
        if (im.timer.joinable()) return Status::InvalidArgument("--fault down-after: give it once");
        int64_t ms = f.ms;
        im.timer = std::thread([&im, ms]() {
          std::unique_lock<std::mutex> l(im.mu);
          if (im.cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return im.stopping; })) return;
          for (int b = 1; b <= im.brokers; ++b) rd_kafka_mock_broker_set_down(im.mc, b);
        });
        break;
      }
    }
  }
  return Status::OK();
}

Result<SandboxLoad> ParseSandboxLoad(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return Status::InvalidArgument(fmt::format("--load: expected TOPIC=PATH, got '{}'", spec));
  return SandboxLoad{spec.substr(0, eq), spec.substr(eq + 1)};
}

Result<std::unique_ptr<Sandbox>> Sandbox::Start(const SandboxOptions& opts, Reporter* reporter) {
  if (opts.brokers < 1 || opts.brokers > 16) return Status::InvalidArgument("--brokers must be between 1 and 16");
  std::unique_ptr<Sandbox> sb(new Sandbox());
  sb->impl_ = std::make_unique<Impl>();
  char errstr[512];

  // 1. Size every load first: the mock silently drops data beyond its per-partition limit,
  //    so refuse before producing anything.
  struct Plan {
    int partitions = 0;
    std::map<int32_t, uint64_t> bytes;  // per partition
  };
  std::map<std::string, Plan> plans;
  for (const auto& t : opts.topics) plans[t.name].partitions = std::max(plans[t.name].partitions, t.partitions);
  for (const auto& l : opts.loads) {
    auto src = OpenLoad(l, reporter);
    if (!src.ok()) return src.status();
    Plan& p = plans[l.topic];
    RecordBatch b;
    for (;;) {
      if (InterruptRequested()) return Status::Interrupted();
      bool eof = false;
      EVT_RETURN_IF_ERROR((*src)->Next(&b, &eof));
      if (eof) break;
      for (const Record& r : b.records) {
        if (r.control) continue;
        int32_t part = r.partition >= 0 ? r.partition : std::max(b.partition, 0);
        uint64_t sz = 70 + r.key.size + r.value.size;  // record + amortised batch overhead
        const Header* h = b.HeadersOf(r);
        for (uint32_t i = 0; i < r.header_count; ++i) sz += 4 + h[i].key.size() + h[i].value.size;
        p.bytes[part] += sz;
        p.partitions = std::max(p.partitions, part + 1);
      }
    }
  }
  for (const auto& [topic, p] : plans) {
    for (const auto& [part, bytes] : p.bytes) {
      if (bytes > kMockPartitionBytes) {
        uint64_t total = 0;
        for (const auto& [_, b] : p.bytes) total += b;
        uint64_t need = (total + kMockPartitionBytes - 1) / kMockPartitionBytes;
        return Status::InvalidArgument(fmt::format(
            "--load {}: partition {} would hold about {}, but the mock cluster keeps only about {} per partition "
            "and silently drops older data; spread the {} over at least {} partitions (for example "
            "`evt cat SRC | evt write --partition N`, or `evt gen --partitions {}`)",
            topic, part, HumanBytes(bytes), HumanBytes(kMockPartitionBytes), HumanBytes(total), need, need));
      }
    }
  }

  // 2. The cluster.
  rd_kafka_conf_t* hc = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(hc, QuietLogger);
  sb->impl_->host = rd_kafka_new(RD_KAFKA_PRODUCER, hc, errstr, sizeof(errstr));
  if (!sb->impl_->host) return Status::IOError(fmt::format("sandbox: cannot create a librdkafka handle: {}", errstr));
  sb->impl_->mc = rd_kafka_mock_cluster_new(sb->impl_->host, opts.brokers);
  if (!sb->impl_->mc) return Status::IOError("sandbox: cannot start librdkafka's mock cluster");
  sb->bootstrap_ = rd_kafka_mock_cluster_bootstraps(sb->impl_->mc);
  sb->impl_->brokers = opts.brokers;
  {
    MockWaker waker(sb->bootstrap_);  // each creation is served at once, not after the mock's poll timeout
    for (const auto& [topic, p] : plans) {
      rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(sb->impl_->mc, topic.c_str(), std::max(1, p.partitions),
                                                           std::min(opts.brokers, 3));
      if (err) return Status::IOError(fmt::format("sandbox: cannot create topic {}: {}", topic, rd_kafka_err2str(err)));
    }
  }
  if (opts.loads.empty()) return sb;

  // 3. Produce the loads through a real client, as any producer would: evt's own Kafka
  //    sink, keeping each record's partition.
  kafka::KafkaConfig cfg;
  cfg.timeout_ms = 60000;
  cfg.props = {{"linger.ms", "20"}, {"message.max.bytes", "100000000"}};
  kafka::KafkaWriteOptions wo;
  wo.policy = PartitionPolicy::kKeep;
  wo.default_partition = 0;
  wo.compression = "lz4";
  for (const auto& l : opts.loads) {
    auto src = OpenLoad(l, reporter);
    if (!src.ok()) return src.status();
    auto sink = KafkaSink::Open(KafkaTarget{sb->bootstrap_, l.topic, {}}, cfg, wo);
    if (!sink.ok()) return sink.status();
    uint64_t n = 0;
    Status s = Drain(src->get(), sink->get(), -1, &n);
    Status c = (*sink)->Close();
    if (!s.ok()) return s;
    if (!c.ok()) return c;  // names the topic and counts what was not delivered
    sb->loaded_ += (*sink)->delivered();
  }
  return sb;
}

}  // namespace evt::kafka
