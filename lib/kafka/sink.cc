#include "lib/kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "formats/kafka/partitioner.h"
#include "lib/base/term.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

using namespace internal;

// Values at least this long are produced without a copy when they are in a shared buffer;
// shorter ones are cheaper to copy than to account for.
constexpr uint32_t kZeroCopyMin = 64;
// A buffer is held until the last of its records is delivered, so the buffers held add up
// to more than the bytes in flight (about twice, with the default queue). Past this many
// bytes held, values are copied again.
constexpr size_t kMaxHeldBytes = size_t{128} << 20;
// How often Write() gives the heap's free pages back to the kernel (malloc_trim; see Open).
constexpr int64_t kTrimEveryMs = 10000;

struct KafkaSink::Impl {
  // A decompressed buffer that records were produced from without a copy: held until each
  // of them has its delivery report. `pending` counts those records, plus one while the
  // Write() that made it runs. Leases live in a list so that whatever librdkafka never
  // reports (it was destroyed with records queued) is freed after the producers are.
  struct Lease {
    SharedBuffer buf;
    uint32_t pending = 1;
    Impl* sink = nullptr;
    Lease* prev = nullptr;
    Lease* next = nullptr;
  };
  struct Leases {
    Lease head;  // sentinel
    Leases() { head.prev = head.next = &head; }
    ~Leases() {
      while (head.next != &head) Drop(head.next);
    }
    size_t bytes = 0;  // capacity of the buffers held
    Lease* Make(const SharedBuffer& b, Impl* sink) {
      auto* l = new Lease;
      l->buf = b;
      l->sink = sink;
      bytes += b->capacity();
      l->next = head.next;
      l->prev = &head;
      head.next->prev = l;
      head.next = l;
      return l;
    }
    void Drop(Lease* l) {
      bytes -= l->buf ? l->buf->capacity() : 0;
      l->prev->next = l->next;
      l->next->prev = l->prev;
      delete l;
    }
  };
  static void Unref(Lease* l) {
    if (--l->pending == 0) l->sink->leases.Drop(l);
  }

  Leases leases;    // declared before `producers`: destroyed after them
  Lease copied;     // the opaque of records librdkafka copied (no buffer held)
  KafkaTarget target;
  KafkaConfig cfg;
  KafkaWriteOptions wo;
  ErrorState errors;
  // One or more producer instances; partition p goes to producers[p % size]. With a user
  // partitioner there is one, and it is given RD_KAFKA_PARTITION_UA.
  std::vector<std::unique_ptr<Handle>> producers;
  std::vector<rd_kafka_topic_t*> rkts;
  bool own_partitioner = false;  // evt picks the partition (murmur2, random for null keys)
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  int32_t partition_count = 0;
  uint64_t produced = 0;
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
  std::string first_failure;  // delivery reports run in rd_kafka_poll/flush, on the writing thread
  bool closed = false;
  int64_t last_trim_ms = 0;  // SteadyMs() of the last malloc_trim
  std::vector<std::pair<const std::string*, Lease*>> made;  // Write()'s leases (kept for its capacity)

  ~Impl() {
    for (rd_kafka_topic_t* t : rkts) rd_kafka_topic_destroy(t);
  }

  size_t OutqLen() const {
    size_t n = 0;
    for (const auto& p : producers) n += static_cast<size_t>(rd_kafka_outq_len(p->rk));
    return n;
  }
  void FlushAll(int timeout_ms) {
    for (const auto& p : producers)
      if (rd_kafka_outq_len(p->rk) > 0) rd_kafka_flush(p->rk, timeout_ms);
  }
  void PollAll() {
    for (const auto& p : producers) rd_kafka_poll(p->rk, 0);
  }
  // Waits for every delivery report (message.timeout.ms, from --timeout, bounds each
  // record); once Ctrl-C is asked, for at most min(--timeout, 5 s) more, so that a stopped
  // job still stops promptly. True when Ctrl-C was asked.
  bool AwaitDeliveries() {
    int64_t deadline = -1;
    while (OutqLen() > 0) {
      if (deadline < 0 && InterruptRequested()) deadline = SteadyMs() + std::min<int64_t>(cfg.timeout_ms, 5000);
      if (deadline >= 0 && SteadyMs() >= deadline) break;
      FlushAll(100);
    }
    return deadline >= 0 || InterruptRequested();
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* lease = static_cast<Lease*>(m->_private);  // RD_KAFKA_V_OPAQUE
    Impl* self = lease->sink;
    if (lease != &self->copied) Unref(lease);
    if (m->err) {
      if (self->failed++ == 0)
        self->first_failure = fmt::format("partition {}: {}", m->partition, rd_kafka_err2str(m->err));
    } else {
      ++self->delivered;
    }
  }
};

KafkaSink::~KafkaSink() = default;

Result<std::unique_ptr<KafkaSink>> KafkaSink::Open(const KafkaTarget& t, const KafkaConfig& cfg,
                                                   const KafkaWriteOptions& wo) {
  if (t.topic.empty()) return Status::InvalidArgument(fmt::format("{}: no topic given", t.Describe()));
  if (!t.partitions.empty() && wo.policy != PartitionPolicy::kFixed)
    return Status::InvalidArgument(fmt::format("{}: ?partition= on a destination needs one partition; or use "
                                               "--partition N",
                                               t.Describe()));
  // librdkafka allocates and frees one message per record and a batch.size buffer per
  // batch; glibc would hand that memory back to the kernel and fault it in again (a third of
  // the producer's time). Keep it: the queue bound (queue.buffering.max.kbytes) still bounds it.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  // A long-lived producer (`evt write` from a pipe, bench/soak.sh) then kept every page it
  // ever touched: its live heap stayed flat (heaptrack) while RSS crept up 200-450 KiB/min,
  // in librdkafka's broker threads' arenas (a few KiB live in each), whose heaps these
  // settings never let shrink and malloc_trim cannot shrink (it trims only the main arena's
  // top). So: one arena for every thread (set before the producers start their threads;
  // glibc's per-thread caches still serve most small allocations without its lock), and
  // every kTrimEveryMs Write() returns its free pages (a bulk write faults in again at most
  // what one interval freed).
  mallopt(M_ARENA_MAX, 1);
  std::unique_ptr<KafkaSink> sink(new KafkaSink());
  sink->impl_ = std::make_unique<Impl>();
  Impl& s = *sink->impl_;
  s.copied.sink = &s;
  s.target = t;
  s.cfg = cfg;
  s.wo = wo;
  std::string codec = wo.compression == "none" ? "none" : wo.compression;
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"compression.type", codec},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.kbytes", "32768"},  // 32 MiB, the Java producer's buffer.memory
      {"message.timeout.ms", std::to_string(std::max<int64_t>(1000, cfg.timeout_ms))},
      {"allow.auto.create.topics", wo.create_topic ? "true" : "false"},
  };
  if (wo.compression_level >= 0) defaults.emplace_back("compression.level", std::to_string(wo.compression_level));
  auto add_producer = [&]() -> Status {
    auto conf = MakeConf(t.brokers, cfg, defaults, &s.errors);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(*conf, &Impl::OnDelivery);
    auto prk = NewClient(RD_KAFKA_PRODUCER, *conf);
    if (!prk.ok()) return prk.status();
    s.producers.push_back(std::make_unique<Handle>());
    s.producers.back()->rk = *prk;
    return Status::OK();
  };
  EVT_RETURN_IF_ERROR(add_producer());
  rd_kafka_t* rk = s.producers[0]->rk;

  std::vector<int32_t> ids;
  KafkaTarget probe_t = t;
  probe_t.partitions.clear();
  Status ms = TopicPartitions(rk, probe_t, cfg.timeout_ms, &s.errors, &ids);
  if (!ms.ok() && ms.code() == Code::kNotFound && wo.create_topic) {
    // The metadata request above asked the broker to create it; wait until it shows up.
    int64_t deadline = SteadyMs() + cfg.timeout_ms;
    while (!ms.ok() && ms.code() == Code::kNotFound && SteadyMs() < deadline) {
      ms = TopicPartitions(rk, probe_t, cfg.timeout_ms, &s.errors, &ids, /*allow_create=*/true);
      if (!ms.ok()) rd_kafka_poll(rk, 200);
    }
  }
  if (!ms.ok()) {
    if (ms.code() == Code::kNotFound)
      return Status::NotFound(ms.message() + (wo.create_topic ? " (and the cluster did not create it)"
                                                              : " (create it first, or pass --create-topic)"));
    return ms;
  }
  s.partition_count = static_cast<int32_t>(ids.size());
  if (!t.partitions.empty()) {
    if (t.partitions.size() != 1)
      return Status::InvalidArgument(fmt::format("{}: a destination takes one partition", t.Describe()));
    s.wo.fixed_partition = t.partitions[0];
  }
  if (s.wo.policy == PartitionPolicy::kFixed && s.wo.fixed_partition >= s.partition_count)
    return Status::InvalidArgument(fmt::format("{}: partition {} does not exist (the topic has {} partitions)",
                                               t.Describe(), s.wo.fixed_partition, s.partition_count));

  // More producer instances compress in parallel (see KafkaWriteOptions::producers). A user's
  // partitioner must see every record, and a transactional.id may be used by one producer only.
  bool user_partitioner = false, transactional = false;
  for (const auto& [k, v] : cfg.props) {
    user_partitioner |= k == "partitioner" || k == "topic.partitioner";
    transactional |= k == "transactional.id";
  }
  int n = wo.producers;
  if (n <= 0) n = static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4));
  if (s.wo.policy == PartitionPolicy::kFixed || transactional ||
      (s.wo.policy == PartitionPolicy::kHash && user_partitioner))
    n = 1;
  n = std::max(1, std::min(n, s.partition_count));
  s.own_partitioner = s.wo.policy == PartitionPolicy::kHash && !user_partitioner;
  for (int i = 1; i < n; ++i) EVT_RETURN_IF_ERROR(add_producer());
  for (const auto& p : s.producers) s.rkts.push_back(rd_kafka_topic_new(p->rk, t.topic.c_str(), nullptr));
  s.rng ^= static_cast<uint64_t>(SteadyMs()) * 0x2545f4914f6cdd1dull;
  return sink;
}

Status KafkaSink::Write(const RecordBatch& b) {
  Impl& s = *impl_;
  // Values in the batch's shared buffers are produced without a copy, each holding its
  // buffer (a lease) until delivered; other values (in a file mapping, an arena, a JSON
  // Lines buffer) are copied by librdkafka. The leases made here are held until the end.
  std::vector<std::pair<const std::string*, Impl::Lease*>>& made = s.made;
  made.clear();
  struct Release {
    std::vector<std::pair<const std::string*, Impl::Lease*>>& made;
    ~Release() {
      for (auto& [_, l] : made) Impl::Unref(l);
      made.clear();
    }
  } release{made};
  size_t hint = 0;
  for (const Record& r : b.records) {
    if (r.control) continue;
    int32_t part = RD_KAFKA_PARTITION_UA;
    if (s.own_partitioner) {
      if (!r.key.null()) {
        part = Murmur2Partition(std::string_view(r.key.data, r.key.size), s.partition_count);
      } else {  // as librdkafka's murmur2_random: a random partition (xorshift64)
        s.rng ^= s.rng << 13;
        s.rng ^= s.rng >> 7;
        s.rng ^= s.rng << 17;
        part = static_cast<int32_t>(s.rng % static_cast<uint64_t>(s.partition_count));
      }
    } else if (s.wo.policy == PartitionPolicy::kFixed) {
      part = s.wo.fixed_partition;
    } else if (s.wo.policy == PartitionPolicy::kKeep) {
      part = r.partition >= 0 ? r.partition : b.partition >= 0 ? b.partition : s.wo.default_partition;
      if (part < 0)
        return Status::InvalidArgument(
            fmt::format("--partition keep: a record at offset {} has no partition", r.offset));
      if (part >= s.partition_count)
        return Status::InvalidArgument(fmt::format(
            "--partition keep: a record of partition {} cannot go to {}, which has {} partitions", part,
            s.target.Describe(), s.partition_count));
    }
    rd_kafka_headers_t* hdrs = nullptr;
    if (r.header_count) {
      hdrs = rd_kafka_headers_new(r.header_count);
      const Header* h = b.HeadersOf(r);
      for (uint32_t i = 0; i < r.header_count; ++i)
        rd_kafka_header_add(hdrs, h[i].key.data(), static_cast<ssize_t>(h[i].key.size()),
                            h[i].value.null() ? nullptr : (h[i].value.size ? h[i].value.data : ""),
                            h[i].value.null() ? 0 : static_cast<ssize_t>(h[i].value.size));
    }
    void* key = r.key.null() ? nullptr : const_cast<char*>(r.key.size ? r.key.data : "");
    void* val = r.value.null() ? nullptr : const_cast<char*>(r.value.size ? r.value.data : "");
    Impl::Lease* lease = &s.copied;
    int flags = RD_KAFKA_MSG_F_COPY;
    if (r.value.size >= kZeroCopyMin && s.leases.bytes < kMaxHeldBytes) {
      if (const SharedBuffer* buf = b.BufferHolding(r.value.data, r.value.size, &hint)) {
        if (made.empty() || made.back().first != buf->get()) {
          auto it = std::find_if(made.begin(), made.end(), [&](const auto& m) { return m.first == buf->get(); });
          if (it == made.end()) {
            made.emplace_back(buf->get(), s.leases.Make(*buf, &s));
          } else {
            std::iter_swap(it, made.end() - 1);
          }
        }
        lease = made.back().second;
        flags = 0;  // librdkafka keeps a pointer to the value until the delivery report
      }
    }
    size_t inst = part >= 0 ? static_cast<size_t>(part) % s.producers.size() : 0;
    rd_kafka_t* prk = s.producers[inst]->rk;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          prk, RD_KAFKA_V_RKT(s.rkts[inst]), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_MSGFLAGS(flags),
          RD_KAFKA_V_KEY(key, r.key.null() ? 0 : r.key.size), RD_KAFKA_V_VALUE(val, r.value.null() ? 0 : r.value.size),
          RD_KAFKA_V_TIMESTAMP(r.timestamp > 0 ? r.timestamp : 0), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_OPAQUE(lease), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (InterruptRequested()) {
          if (hdrs) rd_kafka_headers_destroy(hdrs);
          return Status::Interrupted();
        }
        rd_kafka_poll(prk, 10);
        if (s.producers.size() > 1) s.PollAll();
        continue;
      }
      if (err) {
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        return Status::IOError(fmt::format("{}: producing: {}", s.target.Describe(), Explain(err, &s.errors)));
      }
      break;
    }
    if (lease != &s.copied) ++lease->pending;
    ++s.produced;
    if ((s.produced & 63) == 0) s.PollAll();
  }
  // The previous batches' records were freed by the polls above; give back their pages.
  if (const int64_t now = SteadyMs(); now - s.last_trim_ms >= kTrimEveryMs) {
    s.last_trim_ms = now;
    malloc_trim(0);
  }
  {
    std::lock_guard<std::mutex> l(s.errors.mu);
    if (s.errors.fatal) return Status::IOError(fmt::format("{}: {}", s.target.Describe(), s.errors.fatal_msg));
  }
  return Status::OK();
}

Status KafkaSink::Flush() {
  Impl& s = *impl_;
  // Waits for every delivery report; message.timeout.ms (from --timeout) bounds each record.
  while (s.OutqLen() > 0) {
    if (InterruptRequested()) return Status::Interrupted();
    s.FlushAll(100);
  }
  return Status::OK();
}

Status KafkaSink::Commit(SinkPosition* at) {
  Impl& s = *impl_;
  *at = SinkPosition{};
  // A checkpoint may only follow what the broker acknowledged.
  s.AwaitDeliveries();
  s.PollAll();
  const uint64_t delivered = s.delivered.load();
  if (delivered != s.produced)
    return Status::DataProblem(fmt::format("{} records were not acknowledged by {}{}; the checkpoint stays before them",
                                           s.produced - delivered, s.target.Describe(),
                                           s.first_failure.empty() ? "" : " (first: " + s.first_failure + ")"));
  std::map<int32_t, int64_t> ends;
  EVT_RETURN_IF_ERROR(Ends(&ends));
  for (const auto& [p, hi] : ends) at->ends[std::to_string(p)] = hi;
  return Status::OK();
}

Status KafkaSink::Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) {
  Impl& s = *impl_;
  *r = RewindResult{};
  if (provenance_id.empty()) return Status::OK();
  std::map<int32_t, int64_t> ends;
  EVT_RETURN_IF_ERROR(Ends(&ends));
  CountingReporter quiet;  // errors come back as a Status
  for (const auto& [p, hi] : ends) {
    auto it = at.ends.find(std::to_string(p));
    int64_t from = it == at.ends.end() ? 0 : it->second;
    if (hi <= from) continue;
    KafkaTarget dt = s.target;
    dt.partitions = {p};
    KafkaReadOptions ro;
    ro.from = Bound{Bound::kOffset, from};
    ro.isolation = Isolation::kReadUncommitted;
    auto src = KafkaSource::Open(dt, s.cfg, ro, &quiet);
    if (!src.ok()) return src.status();
    RecordBatch b;
    for (;;) {
      bool eof = false;
      EVT_RETURN_IF_ERROR((*src)->Next(&b, &eof));
      if (eof) break;
      for (const Record& rec : b.records) {
        const Header* hs = b.HeadersOf(rec);
        // A replay's records name their source in evt.source, a redrive's (evt dlq
        // redrive) in evt.redrive.source, each beside its run's id.
        std::string_view ref, id, redrive_ref, redrive_id;
        for (uint32_t i = 0; i < rec.header_count; ++i) {
          if (hs[i].key == "evt.source") ref = hs[i].value.view();
          if (hs[i].key == "evt.replay.id") id = hs[i].value.view();
          if (hs[i].key == "evt.redrive.source") redrive_ref = hs[i].value.view();
          if (hs[i].key == "evt.redrive.id") redrive_id = hs[i].value.view();
        }
        if (id != provenance_id) {
          if (redrive_id != provenance_id) continue;
          ref = redrive_ref;
        }
        std::string topic;
        int32_t part;
        int64_t off;
        if (!ParseSourceRef(ref, &topic, &part, &off)) continue;
        int64_t& d = r->already_there[{topic, part}];
        d = std::max(d, off);
        r->refs[{topic, part}].push_back(off);
        ++r->found;
      }
    }
  }
  return Status::OK();
}

SinkEnd KafkaSink::End() const { return {impl_->produced, impl_->delivered.load()}; }

Status KafkaSink::Close() {
  Impl& s = *impl_;
  if (s.closed) return Status::OK();
  s.closed = true;
  const bool interrupted = s.AwaitDeliveries();
  if (interrupted) {
    // Ctrl-C: what was still in flight after the bounded wait is given up.
    for (const auto& p : s.producers) rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    s.FlushAll(1000);
  }
  s.PollAll();
  uint64_t lost = s.produced - s.delivered.load();
  if (lost > 0) {
    std::string msg = fmt::format("{}: {} of {} records were not delivered{}", s.target.Describe(), lost, s.produced,
                                  s.first_failure.empty() ? "" : " (first: " + s.first_failure + ")");
    if (interrupted) return Status::Interrupted();  // the caller reports the counts
    return Status::DataProblem(msg);
  }
  return Status::OK();
}

uint64_t KafkaSink::produced() const { return impl_->produced; }
uint64_t KafkaSink::delivered() const { return impl_->delivered.load(); }
int32_t KafkaSink::partition_count() const { return impl_->partition_count; }
int KafkaSink::producer_count() const { return static_cast<int>(impl_->producers.size()); }

Status KafkaSink::Ends(std::map<int32_t, int64_t>* out) {
  Impl& s = *impl_;
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < s.partition_count; ++i) ids.push_back(i);
  std::map<int32_t, std::pair<int64_t, int64_t>> marks;
  EVT_RETURN_IF_ERROR(Watermarks(s.producers[0]->rk, s.target.topic, ids, s.cfg.timeout_ms, &s.errors, &marks));
  for (const auto& [p, lh] : marks) (*out)[p] = lh.second;
  return Status::OK();
}

}  // namespace evt::kafka
