#include "capture/worker.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// Batches read from one ring before the worker looks at everything else
// (64 frames each: a few hundred microseconds of work).
constexpr int kMaxBatchesPerTurn = 16;

// Tells the core a spin loop is waiting (saves power, frees the sibling
// hyperthread).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// CLOCK_REALTIME in nanoseconds: the clock of the tpacket timestamps.
uint64_t RealtimeNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

// How often the ring statistics and the learned offers are refreshed.
constexpr uint64_t kStatsIntervalNs = 1'000'000'000;

}  // namespace

uint64_t MonotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

ResponderPort PortOf(const InterfaceInfo& info) {
  return {.name = info.name,
          .ifindex = static_cast<uint32_t>(info.ifindex),
          .mac = info.mac,
          .addresses = info.addresses,
          .addresses6 = info.addresses6,
          .vlans = info.vlans};
}

Worker::Worker(SnapshotCell<PolicySnapshot>* policy, size_t index,
               WorkerPorts ports, const WorkerOptions& options,
               ClientLogFn client_log, NoticeFn notice,
               RuleSlotTable* rule_slots)
    : policy_(policy),
      index_(index),
      rings_(std::move(ports.rings)),
      options_(options),
      responder_(std::move(ports.ports), options.responder, this,
                 std::move(client_log), notice),
      batch_(options.batch_size),
      rule_slots_(rule_slots),
      wake_(std::move(ports.wake)),
      notice_(std::move(notice)) {
  rings_.resize(responder_.ports().size());
  for (const ResponderPort& p : responder_.ports()) {
    port_names_.push_back(p.name);
  }
}

void Worker::AcquirePolicy() {
  const PolicySnapshot* p = policy_->Acquire(index_);
  if (p == acquired_) return;
  // A reload (or the start): look the new snapshot's rule names up once
  // here, so counting a reply by rule stays an array index.
  acquired_ = p;
  acquired_slots_.clear();
  if (rule_slots_ != nullptr) {
    for (const Rule& rule : p->policy().rules) {
      acquired_slots_.push_back(rule_slots_->SlotOf(rule.name));
    }
  }
  responder_.SetPolicy(p, acquired_slots_);
}

void Worker::RefreshStats(uint64_t now_ns, bool now_or_never) {
  stats_.held.store(responder_.held());
  if (now_ns < stats_due_ns_ && !now_or_never) return;
  stats_due_ns_ = now_ns + kStatsIntervalNs;
  const RingStats ring = ring_stats();
  stats_.ring_packets.store(ring.packets);
  stats_.ring_drops.store(ring.drops);
  stats_.tx_errors.store(ring.tx_errors);
  stats_.learned_offers.store(responder_.learned_offers(now_ns));
}

void Worker::Post(PortUpdate update) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    mailbox_.push_back(std::move(update));
    mail_.store(true, std::memory_order_relaxed);
  }
  Wake();
}

void Worker::Wake() {
  const uint64_t one = 1;
  if (wake_.valid()) (void)!write(wake_.get(), &one, sizeof(one));
}

void Worker::ApplyUpdates() {
  std::vector<PortUpdate> updates;
  {
    std::lock_guard<std::mutex> lock(mailbox_mutex_);
    updates.swap(mailbox_);
    mail_.store(false, std::memory_order_relaxed);
  }
  for (PortUpdate& u : updates) {
    if (u.port >= rings_.size()) continue;
    std::unique_ptr<PacketRing>& ring = rings_[u.port];
    if (u.replace_ring) {
      if (ring != nullptr) {
        const RingStats s = ring->Stats();
        closed_stats_.packets += s.packets;
        closed_stats_.drops += s.drops;
        closed_stats_.tx_errors += s.tx_errors;
      }
      ring = std::move(u.ring);
    }
    if (u.filter && ring != nullptr) {
      // SO_ATTACH_FILTER swaps the program of a live socket at once.
      if (absl::Status s = AttachFilter(ring->fd(), *u.filter);
          !s.ok() && notice_) {
        notice_(absl::StrCat(u.responder_port.name,
                             ": the new socket filter did not attach, the "
                             "old one stays: ",
                             s.message()));
      }
    }
    responder_.UpdatePort(u.port, std::move(u.responder_port));
  }
  BuildPollSet();
}

void Worker::BuildPollSet() {
  poll_set_.clear();
  poll_ports_.clear();
  for (size_t i = 0; i < rings_.size(); ++i) {
    if (rings_[i] == nullptr) continue;
    poll_set_.push_back({.fd = rings_[i]->fd(), .events = POLLIN});
    poll_ports_.push_back(i);
  }
  if (wake_.valid()) poll_set_.push_back({.fd = wake_.get(), .events = POLLIN});
}

std::span<uint8_t> Worker::NextSlot(size_t port) {
  if (rings_[port] == nullptr) return {};  // its interface is gone
  PacketRing& ring = *rings_[port];
  std::span<uint8_t> slot = ring.NextSlot();
  if (slot.empty()) {
    // Every slot is queued: push them out and try once more.
    (void)ring.Flush();
    slot = ring.NextSlot();
  }
  return slot;
}

void Worker::Commit(size_t port, size_t size, const RxMeta& request) {
  rings_[port]->Commit(size);
  // The kernel stamps received frames with CLOCK_REALTIME; a step of that
  // clock between the two readings cannot make a latency negative.
  const uint64_t now = RealtimeNowNs();
  if (request.timestamp_ns != 0 && now >= request.timestamp_ns) {
    stats_.latency.Observe(now - request.timestamp_ns);
  }
}

void Worker::FlushAll() {
  for (auto& ring : rings_) {
    if (ring != nullptr) (void)ring->Flush();
  }
}

bool Worker::AnyReady() const {
  for (const auto& ring : rings_) {
    if (ring != nullptr && ring->HasReady()) return true;
  }
  return false;
}

bool Worker::BusyPoll(const std::atomic<bool>& stop) const {
  if (options_.busy_poll_ns == 0) return false;
  const uint64_t until = MonotonicNowNs() + options_.busy_poll_ns;
  // The clock is read once per 64 looks: a look is a single load.
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (AnyReady()) return true;
      CpuRelax();
    }
    if (mail_.load(std::memory_order_relaxed)) return true;
    if (MonotonicNowNs() >= until || stop.load(std::memory_order_relaxed)) {
      return false;
    }
  }
}

absl::Status Worker::Run(const std::atomic<bool>& stop) {
  BuildPollSet();
  while (!stop.load(std::memory_order_relaxed)) {
    turns_.Increment();
    if (mail_.load(std::memory_order_relaxed)) ApplyUpdates();
    uint64_t now = MonotonicNowNs();
    int timeout_ms = 200;
    const uint64_t due = responder_.next_deadline_ns();
    if (due != UINT64_MAX) {
      timeout_ms = due <= now ? 0
                              : static_cast<int>(std::min<uint64_t>(
                                    200, (due - now + 999'999) / 1'000'000));
    }
    // Frames already waiting need no syscall to find: poll() only when
    // every ring is empty (and, with --busy-poll, stayed empty a while).
    if (!AnyReady() && !(timeout_ms > 0 && BusyPoll(stop))) {
      const int rc = poll(poll_set_.data(), poll_set_.size(), timeout_ms);
      if (rc < 0 && errno != EINTR) {
        return absl::InternalError(
            absl::StrCat("poll: ", std::strerror(errno)));
      }
      for (size_t k = 0; rc > 0 && k < poll_ports_.size(); ++k) {
        // The kernel flags a ring whose interface went down or away
        // (ENETDOWN). Reading the error clears it; the thread that follows
        // the interfaces decides what it means.
        if (poll_set_[k].revents & POLLERR) {
          int error = 0;
          socklen_t length = sizeof(error);
          getsockopt(poll_set_[k].fd, SOL_SOCKET, SO_ERROR, &error, &length);
        }
      }
      if (wake_.valid() && (poll_set_.back().revents & POLLIN)) {
        uint64_t count = 0;
        (void)!read(wake_.get(), &count, sizeof(count));
      }
      if (mail_.load(std::memory_order_relaxed)) continue;
    }
    // A reload takes effect here, between batches: every reply of a batch
    // comes from one policy.
    AcquirePolicy();
    now = MonotonicNowNs();
    for (size_t i = 0; i < rings_.size(); ++i) {
      if (rings_[i] == nullptr) continue;
      // Drain the ring in batches; one TX syscall per batch. At most
      // kMaxBatchesPerTurn a turn: under overload the ring never empties,
      // and a stop, a reload, an interface change or a due hold must still
      // get their turn.
      size_t n;
      int batches = 0;
      do {
        n = rings_[i]->ReceiveReady(batch_);
        for (size_t k = 0; k < n; ++k) {
          responder_.HandleFrame(i, batch_[k].data, batch_[k].meta, now);
        }
        rings_[i]->ReleaseHeld();
        (void)rings_[i]->Flush();
      } while (n == batch_.size() && ++batches < kMaxBatchesPerTurn &&
               !stop.load(std::memory_order_relaxed));
    }
    responder_.Tick(now);
    FlushAll();
    RefreshStats(now);
  }
  RefreshStats(MonotonicNowNs(), /*now_or_never=*/true);  // the final counts
  policy_->Release(index_);
  return absl::OkStatus();
}

RingStats Worker::ring_stats() {
  RingStats total = closed_stats_;
  for (auto& ring : rings_) {
    if (ring == nullptr) continue;
    RingStats s = ring->Stats();
    total.packets += s.packets;
    total.drops += s.drops;
    total.tx_errors += s.tx_errors;
  }
  return total;
}

}  // namespace pxe
