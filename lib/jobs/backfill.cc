#include "lib/jobs/backfill.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "formats/envelope/envelope.h"
#include "lib/base/process.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/group_run.h"
#include "lib/pipeline/dead_letter.h"
#include "lib/pipeline/sink.h"

extern char** environ;

namespace evt {

Status ParseBackoff(const std::string& s, int64_t* min_ms, int64_t* max_ms) {
  size_t dots = s.find("..");
  std::string a = dots == std::string::npos ? s : s.substr(0, dots);
  std::string b = dots == std::string::npos ? s : s.substr(dots + 2);
  auto x = ParseDuration(a), y = ParseDuration(b);
  if (!x.ok() || !y.ok() || *x < 0 || *y < *x)
    return Status::InvalidArgument(fmt::format("--backoff: expected MIN..MAX durations (e.g. 100ms..30s), got '{}'", s));
  *min_ms = *x;
  *max_ms = *y;
  return Status::OK();
}

namespace {

// One record handed to a worker, with everything a dead letter needs.
struct Job {
  uint64_t seq = 0;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::string line;  // envelope JSON line with '\n'
  int attempt = 0;   // attempts made so far
  int worker = 0;
  bool void_answer = false;  // sent after an earlier record of its key that must be retried
  int64_t due_ms = 0;
  std::string last_error;
};

enum class Outcome { kOk, kFailed };
struct Done {
  Job* job;
  Outcome outcome;
};

// A completion queue from workers to the dispatcher.
class DoneQueue {
 public:
  void Push(Done d) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(d);
    }
    cv_.notify_one();
  }
  // Waits up to `ms` for at least one; returns what is there.
  std::vector<Done> Take(int64_t ms) {
    std::unique_lock<std::mutex> l(mu_);
    if (q_.empty() && ms > 0) cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return !q_.empty(); });
    std::vector<Done> out(q_.begin(), q_.end());
    q_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Done> q_;
};

struct Shared {
  const BackfillOptions* o = nullptr;
  DoneQueue done;
  std::atomic<bool> draining{false};  // stop handing out records; finish what is in flight
  std::atomic<int> alive{0};          // worker threads still running
  std::atomic<bool> kill_now{false};      // drain timeout: give up
  std::atomic<uint64_t> attempts{0}, retried{0}, restarts{0};
  std::mt19937_64 rng{std::random_device{}()};
  std::mutex rng_mu;
  int64_t Backoff(int attempt) {
    double base = static_cast<double>(o->backoff_min_ms) * std::pow(2.0, std::max(0, attempt - 1));
    base = std::min(base, static_cast<double>(o->backoff_max_ms));
    std::lock_guard<std::mutex> l(rng_mu);
    double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng);  // "equal jitter"
    return static_cast<int64_t>(base * jitter);
  }
};

bool KeyIsUtf8(const Job& j) { return j.key && envelope::IsValidUtf8(*j.key); }

// A worker thread: SIGPIPE blocked, and counted in Shared::alive until it returns.
struct WorkerScope {
  Shared* sh;
  explicit WorkerScope(Shared* s) : sh(s) { BlockSigpipe(); }
  ~WorkerScope() { --sh->alive; }
};

// Per-worker queue of jobs from the dispatcher.
struct Inbox {
  std::mutex mu;
  std::deque<Job*> q;
  int efd = -1;  // eventfd: wakes the worker's poll loop
  std::atomic<bool> closed{false};
  void Push(Job* j) {
    {
      std::lock_guard<std::mutex> l(mu);
      q.push_back(j);
    }
    uint64_t one = 1;
    (void)!::write(efd, &one, sizeof(one));
  }
  void Close() {
    closed = true;
    uint64_t one = 1;
    (void)!::write(efd, &one, sizeof(one));
  }
  void Drain(std::deque<Job*>* into) {
    std::lock_guard<std::mutex> l(mu);
    while (!q.empty()) {
      into->push_back(q.front());
      q.pop_front();
    }
  }
};

// A job that failed an attempt: true when it waits for a retry; otherwise it went back to
// the dispatcher as failed, or (draining) stays unacknowledged.
bool OnAttemptFailed(Shared* sh, Job* j, const std::string& why, bool permanent, std::deque<Job*>* waiting) {
  j->last_error = why;
  if (permanent || j->attempt > sh->o->retries) {
    sh->done.Push({j, Outcome::kFailed});
    return false;
  }
  if (sh->draining) return false;  // no new attempts while draining: the checkpoint stays before it
  ++sh->retried;
  j->due_ms = SteadyMs() + sh->Backoff(j->attempt);
  waiting->push_back(j);
  return true;
}

// --exec: one process per record, one record at a time per worker.
void ExecWorker(Shared* sh, Inbox* inbox) {
  WorkerScope scope(sh);
  const BackfillOptions& o = *sh->o;
  std::deque<Job*> ready, waiting;
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  for (;;) {
    inbox->Drain(&ready);
    // Retries due first (they precede later records of their key).
    int64_t now = SteadyMs();
    Job* j = nullptr;
    for (auto it = waiting.begin(); it != waiting.end(); ++it)
      if ((*it)->due_ms <= now) {
        j = *it;
        waiting.erase(it);
        break;
      }
    if (!j && !ready.empty()) {
      // A record whose key waits for a retry must wait too.
      for (auto it = ready.begin(); it != ready.end(); ++it) {
        bool blocked = false;
        for (Job* w : waiting)
          if (w->key && (*it)->key && *w->key == *(*it)->key) blocked = true;
        if (!blocked) {
          j = *it;
          ready.erase(it);
          break;
        }
      }
    }
    if (sh->draining || sh->kill_now) return;  // nothing runs here now: stop handing out
    if (!j) {
      if (inbox->closed && ready.empty() && waiting.empty()) return;
      uint64_t v;
      struct pollfd p{inbox->efd, POLLIN, 0};
      ::poll(&p, 1, 20);
      if (p.revents & POLLIN) (void)!::read(inbox->efd, &v, sizeof(v));
      continue;
    }
    ++j->attempt;
    ++sh->attempts;
    env_strings.clear();
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "EVT_", 4) != 0) env_strings.emplace_back(*e);
    env_strings.push_back("EVT_TOPIC=" + j->topic);
    env_strings.push_back(fmt::format("EVT_PARTITION={}", j->partition));
    env_strings.push_back(fmt::format("EVT_OFFSET={}", j->offset));
    env_strings.push_back(fmt::format("EVT_ATTEMPT={}", j->attempt));
    if (j->key) {
      if (KeyIsUtf8(*j) && j->key->find('\0') == std::string::npos) {
        env_strings.push_back("EVT_KEY=" + *j->key);
      } else {
        std::string b64;
        envelope::AppendBase64(*j->key, &b64);
        env_strings.push_back("EVT_KEY_BASE64=" + b64);
      }
    }
    envp.clear();
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid;
    int in_fd;
    Status s = SpawnShell(o.exec_cmd, envp.data(), false, &pid, &in_fd, nullptr);
    if (!s.ok()) {
      (void)OnAttemptFailed(sh, j, s.message(), false, &waiting);
      continue;
    }
    const std::string& payload = o.input_value ? (j->value ? *j->value : std::string()) : j->line;
    size_t off = 0;
    while (off < payload.size()) {
      ssize_t n = ::write(in_fd, payload.data() + off, payload.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the command does not read its input: fine
      off += static_cast<size_t>(n);
    }
    ::close(in_fd);
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno != EINTR)) break;
      if (sh->kill_now) ::kill(pid, SIGKILL);  // --drain-timeout
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      sh->done.Push({j, Outcome::kOk});
    } else {
      (void)OnAttemptFailed(sh, j, ExitText(status), false, &waiting);
    }
  }
}

// --pipe: a long-lived process answering one line per record, several records in flight.
void PipeWorker(Shared* sh, Inbox* inbox) {
  WorkerScope scope(sh);
  const BackfillOptions& o = *sh->o;
  std::deque<Job*> ready, waiting, inflight;
  // Keys with a record waiting for a retry: their later records wait too. Records of one
  // key are otherwise pipelined in order to this one worker, which answers in order.
  pid_t pid = -1;
  int in_fd = -1, out_fd = -1;
  std::string wbuf, rbuf;
  size_t woff = 0;
  size_t inflight_bytes = 0;
  bool eof_sent = false;  // stdin closed: the worker finishes what it has and ends
  std::unordered_map<std::string, int> blocked;
  auto key_blocked = [&](const Job* j) { return j->key && blocked.count(*j->key); };
  // Keys with a record sent and not answered yet: one at a time per key, so a retry can
  // never let a later record of its key overtake it.
  std::unordered_map<std::string, int> sent;
  auto key_sent = [&](const Job* j) { return j->key && sent.count(*j->key); };
  auto mark_sent = [&](const Job* j) {
    if (j->key) ++sent[*j->key];
  };
  auto unmark_sent = [&](const Job* j) {
    if (!j->key) return;
    auto it = sent.find(*j->key);
    if (it != sent.end() && --it->second == 0) sent.erase(it);
  };
  int64_t last_answer = SteadyMs();
  auto block = [&](const Job* j) {
    if (j->key) ++blocked[*j->key];
  };
  auto unblock = [&](const Job* j) {
    if (!j->key) return;
    auto it = blocked.find(*j->key);
    if (it != blocked.end() && --it->second == 0) blocked.erase(it);
  };
  // Back into `ready`, before the later records of its key.
  auto requeue = [&](Job* j) {
    --j->attempt;  // that attempt does not count
    j->void_answer = false;
    if (!j->key) {
      ready.push_front(j);
      return;
    }
    for (auto it = ready.begin(); it != ready.end(); ++it)
      if ((*it)->key && *(*it)->key == *j->key && (*it)->seq > j->seq) {
        ready.insert(it, j);
        return;
      }
    ready.push_back(j);
  };
  // A record of `j`'s key waits for a retry: later records of the key already sent are
  // answered in vain and sent again after it.
  auto void_later = [&](const Job* j) {
    if (!j->key) return;
    for (Job* f : inflight)
      if (f->key && *f->key == *j->key && f->seq > j->seq) f->void_answer = true;
  };
  auto stop_child = [&](bool kill_it) {
    if (in_fd >= 0 && !eof_sent) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    in_fd = out_fd = -1;
    if (pid > 0) {
      if (kill_it) ::kill(pid, SIGKILL);
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
    }
  };
  int64_t restart_after = 0;
  for (;;) {
    inbox->Drain(&ready);
    int64_t now = SteadyMs();
    // Retries whose backoff is over go back to the front, before later records of their key.
    for (auto it = waiting.begin(); it != waiting.end();) {
      if ((*it)->due_ms <= now) {
        unblock(*it);
        ready.push_front(*it);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    if (sh->kill_now) {
      stop_child(true);
      return;
    }
    if (inflight.empty() && ((inbox->closed && ready.empty() && waiting.empty()) || sh->draining)) {
      stop_child(false);
      return;
    }
    if (pid < 0 && !ready.empty() && now >= restart_after && !sh->draining) {
      Status s = SpawnShell(o.pipe_cmd, nullptr, true, &pid, &in_fd, &out_fd);
      if (!s.ok()) {
        Job* j = ready.front();
        ready.pop_front();
        ++j->attempt;
        if (OnAttemptFailed(sh, j, s.message(), false, &waiting)) block(j);
        continue;
      }
      ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
      ::fcntl(out_fd, F_SETFL, O_NONBLOCK);
      wbuf.clear();
      rbuf.clear();
      woff = 0;
      inflight_bytes = 0;
      eof_sent = false;
    }
    // Hand out records in order, skipping keys that wait for a retry.
    // In flight: --pipeline records, and at least 256 KiB, so that workers that read their
    // input in blocks (mawk, stdio) always have a whole block to answer.
    auto room = [&] { return inflight.size() < o.pipeline_depth || inflight_bytes < (256u << 10); };
    if (pid > 0 && !sh->draining && !eof_sent) {
      for (auto it = ready.begin(); it != ready.end() && room();) {
        Job* j = *it;
        if (key_blocked(j) || key_sent(j)) {
          ++it;
          continue;
        }
        it = ready.erase(it);
        mark_sent(j);
        ++j->attempt;
        ++sh->attempts;
        // The 200 ms of `stalled` count from the first record of an idle (or new) worker,
        // not from its last answer before the pause: else a worker that waited for input
        // (the start of a --group assignment) got its input ended at once and was replaced.
        if (inflight.empty()) last_answer = SteadyMs();
        inflight.push_back(j);
        inflight_bytes += j->line.size();
        wbuf += j->line;
      }
    }
    // Nothing more will come, or nothing can be sent until the worker answers and it has
    // not answered for 200 ms (a worker that reads its input in blocks, like mawk, may
    // be waiting for more): end its input so that it answers what it holds; a new worker
    // takes the rest.
    // With --group the input may pause for a long time (nothing more assigned now), so
    // nothing to send counts too.
    bool stalled = !inflight.empty() && SteadyMs() - last_answer > 200 &&
                   ((ready.empty() && !o.group.empty()) ||
                    (!ready.empty() && std::all_of(ready.begin(), ready.end(),
                                                   [&](const Job* j) { return key_blocked(j) || key_sent(j); })));
    if (pid > 0 && !eof_sent && woff >= wbuf.size() && !inflight.empty() &&
        ((inbox->closed && ready.empty() && waiting.empty()) || sh->draining || stalled)) {
      ::close(in_fd);
      in_fd = -1;
      eof_sent = true;
    }
    struct pollfd pf[3];
    int n = 0;
    pf[n++] = {inbox->efd, POLLIN, 0};
    int wi = -1, ri = -1;
    if (pid > 0 && in_fd >= 0 && woff < wbuf.size()) {
      wi = n;
      pf[n++] = {in_fd, POLLOUT, 0};
    }
    if (pid > 0) {
      ri = n;
      pf[n++] = {out_fd, POLLIN, 0};
    }
    int64_t wait = 50;
    for (Job* w : waiting) wait = std::min(wait, std::max<int64_t>(0, w->due_ms - now));
    ::poll(pf, static_cast<nfds_t>(n), static_cast<int>(wait));
    if (pf[0].revents & POLLIN) {
      uint64_t v;
      (void)!::read(inbox->efd, &v, sizeof(v));
    }
    bool dead = false;
    if (wi >= 0 && (pf[wi].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in_fd, wbuf.data() + woff, wbuf.size() - woff);
      if (w > 0) {
        woff += static_cast<size_t>(w);
        if (woff == wbuf.size()) {
          wbuf.clear();
          woff = 0;
        } else if (woff > (1u << 20)) {
          wbuf.erase(0, woff);
          woff = 0;
        }
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        dead = true;
      }
    }
    if (ri >= 0 && (pf[ri].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[65536];
      for (;;) {
        ssize_t r = ::read(out_fd, buf, sizeof(buf));
        if (r > 0) {
          rbuf.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0) dead = true;
        break;
      }
      size_t start = 0;
      for (;;) {
        size_t nl = rbuf.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(rbuf.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        start = nl + 1;
        if (inflight.empty()) continue;  // an answer nobody asked for: ignored
        Job* j = inflight.front();
        inflight.pop_front();
        inflight_bytes -= j->line.size();
        unmark_sent(j);
        last_answer = SteadyMs();
        if (j->void_answer) {
          requeue(j);
          continue;
        }
        if (line == "ok") {
          sh->done.Push({j, Outcome::kOk});
        } else if (line.rfind("fail", 0) == 0 && (line.size() == 4 || line[4] == ' ')) {
          (void)OnAttemptFailed(sh, j, std::string(line.size() > 5 ? line.substr(5) : "fail"), true, &waiting);
        } else {
          std::string why = line.rfind("retry", 0) == 0 && (line.size() == 5 || line[5] == ' ')
                                ? std::string(line.size() > 6 ? line.substr(6) : "retry")
                                : fmt::format("unexpected answer '{}' (expected ok, retry or fail)", line);
          if (OnAttemptFailed(sh, j, why, false, &waiting)) {
            block(j);
            void_later(j);
          }
        }
      }
      rbuf.erase(0, start);
    }
    if (dead) {
      // The worker ended: what it had not answered is retried by a new one.
      int st = 0;
      if (in_fd >= 0) ::close(in_fd);
      ::close(out_fd);
      in_fd = out_fd = -1;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
      if (!inflight.empty()) ++sh->restarts;
      std::string why = "the worker ended (" + ExitText(st) + ") before answering";
      inflight_bytes = 0;
      std::deque<Job*> lost;
      lost.swap(inflight);
      for (Job* j : lost) unmark_sent(j);
      last_answer = SteadyMs();
      for (Job* j : lost) {
        if (j->void_answer || key_blocked(j)) {
          requeue(j);  // after the earlier record of its key
        } else if (OnAttemptFailed(sh, j, why, false, &waiting)) {
          block(j);
        }
      }
      wbuf.clear();
      woff = 0;
      restart_after = SteadyMs() + 100;
    }
  }
}

// --group with a file or directory for dead letters: one per process, named with its pid
// before the extension (dl.jsonl -> dl.<pid>.jsonl; dir -> dir.<pid>). A topic is shared.
std::string PerProcessPath(const std::string& p) {
  size_t slash = p.find_last_of('/');
  size_t dot = p.find_last_of('.');
  std::string pid = std::to_string(::getpid());
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0 ||
      (slash != std::string::npos && dot == slash + 1))
    return p + "." + pid;
  return p.substr(0, dot) + "." + pid + p.substr(dot);
}

// The dead-letter destination (lib/pipeline/dead_letter): a failed job's record, rebuilt
// from the copy the job kept.
struct DeadLetters {
  std::unique_ptr<DeadLetterWriter> w;
  RecordBatch b;
  std::string path;
  Status Open(const BackfillOptions& o, Reporter* reporter) {
    SinkOptions so;
    so.writer = o.dlq_writer;
    so.kafka = o.sel.kafka;
    so.kafka_write = o.dlq_kafka;
    path = o.group.empty() || kafka::IsKafkaUrl(o.dead_letter) ? o.dead_letter : PerProcessPath(o.dead_letter);
    auto d = DeadLetterWriter::Open(path, "--dead-letter", so, reporter);
    if (!d.ok()) return d.status();
    w = std::move(*d);
    return Status::OK();
  }
  Status Write(const Job& j) {
    b.Clear();
    b.topic = j.topic;
    b.partition = j.partition;
    Record r;
    r.partition = j.partition;
    r.offset = j.offset;
    r.timestamp = j.timestamp;
    r.key = j.key ? Bytes::Of(b.arena.Copy(*j.key)) : Bytes::Null();
    r.value = j.value ? Bytes::Of(b.arena.Copy(*j.value)) : Bytes::Null();
    for (const auto& [k, v] : j.headers)
      b.headers.push_back(Header{b.arena.Copy(k), v ? Bytes::Of(b.arena.Copy(*v)) : Bytes::Null()});
    r.header_begin = 0;
    r.header_count = static_cast<uint32_t>(b.headers.size());
    b.records.push_back(r);
    DeadLetterCause c;
    c.class_name = "evt.backfill.WorkerFailure";
    c.message = j.last_error;
    c.attempts = j.attempt;
    return w->Write(b, b.records.back(), c);
  }
};

}  // namespace

Status RunBackfill(const BackfillOptions& o, Reporter* reporter, BackfillStats* st) {
  auto t0 = std::chrono::steady_clock::now();
  if (o.exec_cmd.empty() == o.pipe_cmd.empty() && !o.dry_run) return Status::InvalidArgument("give --exec CMD or --pipe CMD");
  if (o.workers < 1) return Status::InvalidArgument("--workers must be at least 1");
  if (o.input_value && !o.pipe_cmd.empty())
    return Status::InvalidArgument("--input value is for --exec (--pipe workers read envelope JSON Lines)");

  // ---- --group: the run's plan, before anything is read ----
  const bool grouped = !o.group.empty();
  std::unique_ptr<GroupRun> group;
  if (grouped) {
    auto g = GroupRun::ForJob(o.sel, o.group, o.identity, o.new_run, o.checkpoint, o.dry_run, reporter);
    if (!g.ok()) return g.status();
    group = std::move(*g);
    st->run_id = group->run_id();
    st->resumed = !group->created();
  }

  // ---- checkpoint ----
  Checkpoint ck;
  bool resuming = false, complete = false;
  EVT_RETURN_IF_ERROR(OpenCheckpoint(o.dry_run ? "" : o.checkpoint, o.identity, "backfill", "sources or selection",
                                     reporter, &ck, &resuming, &complete));
  if (grouped) resuming = st->resumed;
  st->resumed = resuming;
  if (complete) {
    st->already_complete = true;
    return Status::OK();
  }
  if (!resuming) ck.dest_kind = "exec";
  SelectionOptions so_sel = o.sel;
  so_sel.stop = o.stop;
  if (grouped) group->Attach(&so_sel);
  auto sel = Selection::Open(so_sel, resuming && !grouped ? ck.positions : Positions{}, 0, reporter);
  if (!sel.ok()) return sel.status();
  Selection& S = **sel;
  if (!o.checkpoint.empty() && S.is_jsonl())
    return Status::InvalidArgument("--checkpoint needs segment or Kafka sources (records complete out of order)");
  if (o.dry_run) {
    EVT_RETURN_IF_ERROR(PlanSelection(&S, &st->plan, &st->selected));
    st->scanned = S.scanned();
    return Status::OK();
  }
  DeadLetters dlq;
  if (!o.dead_letter.empty()) EVT_RETURN_IF_ERROR(dlq.Open(o, reporter));
  if (!o.checkpoint.empty() && !resuming) EVT_RETURN_IF_ERROR(WriteCheckpoint(o.checkpoint, ck));

  // ---- workers ----
  Shared sh;
  sh.o = &o;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.workers; ++i) {
    auto in = std::make_unique<Inbox>();
    in->efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (in->efd < 0) return Status::IOError("eventfd failed");
    inboxes.push_back(std::move(in));
  }
  sh.alive = o.workers;
  for (int i = 0; i < o.workers; ++i)
    threads.emplace_back(o.exec_cmd.empty() ? PipeWorker : ExecWorker, &sh, inboxes[static_cast<size_t>(i)].get());

  // ---- dispatch ----
  std::unordered_map<std::string, std::pair<int, int>> key_owner;  // key -> (worker, records not done)
  std::vector<size_t> load(static_cast<size_t>(o.workers), 0);
  std::map<std::pair<std::string, int32_t>, std::set<int64_t>> pending;  // read, not acknowledged
  std::unordered_map<Job*, std::unique_ptr<Job>> jobs;
  // --group: fewer, so that a rebalance waits for little.
  const size_t max_in_flight = grouped ? static_cast<size_t>(o.workers) * std::max<size_t>(o.pipeline_depth * 2, 64)
                                       : static_cast<size_t>(o.workers) * std::max<size_t>(o.pipeline_depth * 4, 4096);
  uint64_t seq = 0;
  bool stop = false;   // no more dispatching
  Status failure;      // a final failure without dead letters, or --max-failures
  int64_t last_ck = SteadyMs();
  const int64_t start_ms = SteadyMs();

  // --group: per assigned partition, the offset before which every record is done.
  auto group_commit = [&](const std::vector<int32_t>* only) -> Status {
    if (dlq.w) EVT_RETURN_IF_ERROR(dlq.w->Commit());
    return group->CommitDone(only, [&](int32_t p) -> int64_t {
      auto it = pending.find({group->topic(), p});
      return it != pending.end() && !it->second.empty() ? *it->second.begin() : -1;
    });
  };
  auto checkpoint = [&](bool complete) -> Status {
    if (grouped) return group_commit(nullptr);
    if (o.checkpoint.empty()) return Status::OK();
    if (dlq.w) {
      // Dead letters count as done once they are durable (or acknowledged).
      EVT_RETURN_IF_ERROR(dlq.w->Commit());
    }
    ck.positions = S.positions();
    for (const auto& [tp, offs] : pending)
      if (!offs.empty()) ck.positions[tp] = *offs.begin();
    ck.complete = complete;
    return WriteCheckpoint(o.checkpoint, ck);
  };
  auto handle = [&](const std::vector<Done>& ds) -> Status {
    for (const Done& d : ds) {
      Job* j = d.job;
      bool acked = true;
      if (d.outcome == Outcome::kOk) {
        ++st->ok;
      } else if (dlq.w) {
        EVT_RETURN_IF_ERROR(dlq.Write(*j));
        ++st->dead_lettered;
        if (st->first_failure.empty())
          st->first_failure = fmt::format("{}/{}@{}: {}", j->topic, j->partition, j->offset, j->last_error);
        if (o.max_failures >= 0 && static_cast<int64_t>(st->dead_lettered) >= o.max_failures && failure.ok()) {
          failure = Status::DataProblem(fmt::format("--max-failures {}: {} records went to {}; stopping",
                                                    o.max_failures, st->dead_lettered, o.dead_letter));
          stop = true;
          sh.draining = true;
        }
      } else {
        acked = false;  // the checkpoint stays before it
        if (failure.ok())
          failure = Status::DataProblem(fmt::format("{}/{}@{}: failed after {} attempt{}: {} (no --dead-letter; "
                                                    "stopping, the checkpoint stays before this record)",
                                                    j->topic, j->partition, j->offset, j->attempt,
                                                    j->attempt == 1 ? "" : "s", j->last_error));
        stop = true;
        sh.draining = true;
      }
      if (acked) pending[{j->topic, j->partition}].erase(j->offset);
      if (j->key) {
        auto it = key_owner.find(*j->key);
        if (it != key_owner.end() && --it->second.second == 0) key_owner.erase(it);
      }
      --load[static_cast<size_t>(j->worker)];
      jobs.erase(j);
    }
    return Status::OK();
  };
  auto progress = [&](bool final) {
    if (!o.progress) return;
    JobProgress p;
    p.job = "backfill";
    p.done = st->ok;
    p.handed = st->handed;
    p.retried = sh.retried.load();
    p.dead_letters = st->dead_lettered;
    p.estimate = S.estimated_records();
    p.seconds = (SteadyMs() - start_ms) / 1e3;
    o.progress->Update(p, final);
  };

  // --group, a rebalance: before partitions go, their records in flight finish
  // (--drain-timeout bounds the wait), their progress is committed, and if they come back
  // they are read again from the commit.
  Status revoke_error;
  GroupRun::RevokeScope revoke_scope(group.get(), [&](const std::vector<int32_t>& parts) {
    const int64_t deadline = SteadyMs() + o.drain_timeout_ms;
    auto busy = [&] {
      for (int32_t p : parts) {
        auto it = pending.find({group->topic(), p});
        if (it != pending.end() && !it->second.empty()) return true;
      }
      return false;
    };
    while (busy() && SteadyMs() < deadline && sh.alive > 0) {
      Status hs2 = handle(sh.done.Take(50));
      if (!hs2.ok() && revoke_error.ok()) revoke_error = hs2;
    }
    if (busy())
      reporter->Notice(fmt::format("backfill: --drain-timeout: releasing partitions with records in flight "
                                   "(they will be handed out again)"));
    Status cs = group_commit(&parts);
    if (!cs.ok() && revoke_error.ok()) revoke_error = cs;
    for (int32_t p : parts) {
      S.ForgetPosition(group->topic(), p);
      auto it = pending.find({group->topic(), p});
      if (it != pending.end() && it->second.empty()) pending.erase(it);
    }
  });
  const int64_t ck_interval =
      grouped ? std::min(o.checkpoint_interval_ms, GroupRun::kCommitIntervalMs) : o.checkpoint_interval_ms;

  Status result;
  RecordBatch in;
  while (!stop) {
    bool eof = false;
    result = S.Next(&in, &eof);  // Interrupted once the token is set
    if (result.ok() && !revoke_error.ok()) result = revoke_error;
    if (!result.ok() || eof) break;
    if (grouped && in.records.empty()) {
      // Nothing to read now: keep the workers' answers flowing, commit, and once this
      // member's partitions are done, ask whether the whole run is.
      result = handle(sh.done.Take(jobs.empty() ? 0 : 20));
      if (!result.ok()) break;
      progress(false);
      if (SteadyMs() - last_ck >= ck_interval) {
        result = checkpoint(false);
        if (!result.ok()) break;
        last_ck = SteadyMs();
      }
      if (o.stop.requested()) {
        result = Status::Interrupted();
        break;
      }
      if (jobs.empty() && group->CompletionCheckDue()) {
        result = checkpoint(false);
        if (!result.ok()) break;
        last_ck = SteadyMs();
        auto all = group->RunComplete();
        if (!all.ok()) {
          result = all.status();
          break;
        }
        if (*all) break;
      }
      continue;
    }
    auto& pend = pending[{in.topic, in.partition}];
    for (const Record& r : in.records) pend.insert(r.offset);
    for (size_t i = 0; i < in.records.size() && !stop; ++i) {
      const Record& r = in.records[i];
      // Bound the records in flight: wait for completions.
      while (jobs.size() >= max_in_flight && !stop && result.ok()) {
        result = handle(sh.done.Take(50));
        if (o.stop.requested()) break;
      }
      if (o.stop.requested() || stop || !result.ok()) break;
      auto job = std::make_unique<Job>();
      Job* j = job.get();
      j->topic = in.topic;
      j->partition = in.partition;
      j->offset = r.offset;
      j->timestamp = r.timestamp;
      if (!r.key.null()) j->key = std::string(r.key.view());
      if (!r.value.null()) j->value = std::string(r.value.view());
      const Header* hs = in.HeadersOf(r);
      for (uint32_t h = 0; h < r.header_count; ++h)
        j->headers.push_back({std::string(hs[h].key),
                              hs[h].value.null() ? std::nullopt : std::optional<std::string>(std::string(hs[h].value.view()))});
      envelope::AppendRecord(in, r, &j->line);
      if (j->line.empty() || j->line.back() != '\n') j->line += '\n';
      // Route: the worker that has this key in flight, else the least loaded.
      int w = -1;
      if (j->key) {
        auto it = key_owner.find(*j->key);
        if (it != key_owner.end()) {
          w = it->second.first;
          ++it->second.second;
        }
      }
      if (w < 0) {
        w = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
        if (j->key) key_owner[*j->key] = {w, 1};
      }
      ++load[static_cast<size_t>(w)];
      j->worker = w;
      j->seq = seq++;
      jobs.emplace(j, std::move(job));
      inboxes[static_cast<size_t>(w)]->Push(j);
      ++st->handed;
    }
    // An error breaks out to the drain below, which joins the worker threads (a return
    // from here would destroy them joinable: std::terminate).
    if (!result.ok()) break;
    result = handle(sh.done.Take(0));
    if (!result.ok()) break;
    progress(false);
    if ((grouped || !o.checkpoint.empty()) && SteadyMs() - last_ck >= ck_interval) {
      result = checkpoint(false);
      if (!result.ok()) break;
      last_ck = SteadyMs();
    }
    if (o.stop.requested()) {
      result = Status::Interrupted();
      break;
    }
  }
  // ---- drain ----
  // At the end every queued record is processed; on Ctrl-C or a stopping failure, nothing
  // new is handed out and what is in flight finishes (--drain-timeout bounds the wait).
  const bool interrupted = result.code() == Code::kInterrupted || o.stop.requested();
  if (interrupted || stop) sh.draining = true;
  for (auto& ib : inboxes) ib->Close();
  const int64_t drain_deadline = SteadyMs() + o.drain_timeout_ms;
  Status hs;
  while (!jobs.empty() && sh.alive > 0) {
    hs = handle(sh.done.Take(50));
    if (!hs.ok()) break;
    progress(false);
    if (o.stop.requested() && !sh.draining) sh.draining = true;  // Ctrl-C during the final drain
    if (sh.draining && SteadyMs() > drain_deadline && !sh.kill_now) {
      reporter->Notice(fmt::format("backfill: --drain-timeout: stopping workers with records in flight"));
      sh.kill_now = true;
    }
  }
  if (!hs.ok()) sh.kill_now = true;
  for (auto& t : threads) t.join();
  if (hs.ok()) hs = handle(sh.done.Take(0));
  if (!hs.ok()) return hs;
  for (auto& ib : inboxes) ::close(ib->efd);
  st->scanned = S.scanned();
  st->selected = st->handed;
  st->attempts = sh.attempts;
  st->retried = sh.retried;
  st->worker_restarts = sh.restarts;
  st->missing_time_field = S.missing_time_field();
  const bool done = result.ok() && failure.ok() && !interrupted && jobs.empty();
  Status cks = checkpoint(done);
  Status cs = dlq.w ? dlq.w->Close() : Status::OK();
  progress(true);
  st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (interrupted || o.stop.requested()) return Status::Interrupted();
  if (!result.ok()) return result;
  if (!failure.ok()) return failure;
  if (!cks.ok()) return cks;
  if (!cs.ok()) return cs;
  if (st->dead_lettered > 0)
    return Status::DataProblem(fmt::format("{} record{} went to {} (first: {})", st->dead_lettered,
                                           st->dead_lettered == 1 ? "" : "s", dlq.path, st->first_failure));
  return Status::OK();
}

std::string BackfillStatsJson(const BackfillStats& s) {
  return fmt::format(
      "{{\"resumed\":{},\"already_complete\":{},\"scanned\":{},\"handed\":{},\"ok\":{},\"attempts\":{},\"retried\":{},"
      "\"dead_lettered\":{},\"worker_restarts\":{},\"missing_time_field\":{},\"seconds\":{:.3f},\"records_per_s\":{:.0f}}}\n",
      s.resumed, s.already_complete, s.scanned, s.handed, s.ok, s.attempts, s.retried, s.dead_lettered,
      s.worker_restarts, s.missing_time_field, s.seconds, s.seconds > 0 ? s.ok / s.seconds : 0.0);
}

}  // namespace evt
