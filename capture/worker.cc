#include "capture/worker.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// Tells the core a spin loop is waiting (saves power, frees the sibling
// hyperthread).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

uint64_t MonotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

namespace {

std::vector<ResponderPort> PortsOf(
    const std::vector<std::unique_ptr<PacketRing>>& rings) {
  std::vector<ResponderPort> ports;
  for (const auto& ring : rings) {
    const InterfaceInfo& info = ring->interface();
    ports.push_back({.name = info.name,
                     .ifindex = static_cast<uint32_t>(info.ifindex),
                     .mac = info.mac,
                     .addresses = info.addresses});
  }
  return ports;
}

}  // namespace

Worker::Worker(SnapshotCell<PolicySnapshot>* policy, size_t index,
               std::vector<std::unique_ptr<PacketRing>> rings,
               const WorkerOptions& options, ClientLogFn client_log,
               NoticeFn notice)
    : policy_(policy),
      index_(index),
      rings_(std::move(rings)),
      options_(options),
      responder_(PortsOf(rings_), options.responder, this,
                 std::move(client_log), std::move(notice)),
      batch_(options.batch_size) {}

std::span<uint8_t> Worker::NextSlot(size_t port) {
  PacketRing& ring = *rings_[port];
  std::span<uint8_t> slot = ring.NextSlot();
  if (slot.empty()) {
    // Every slot is queued: push them out and try once more.
    (void)ring.Flush();
    slot = ring.NextSlot();
  }
  return slot;
}

void Worker::Commit(size_t port, size_t size) { rings_[port]->Commit(size); }

void Worker::FlushAll() {
  for (auto& ring : rings_) (void)ring->Flush();
}

bool Worker::AnyReady() const {
  for (const auto& ring : rings_) {
    if (ring->HasReady()) return true;
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
    if (MonotonicNowNs() >= until || stop.load(std::memory_order_relaxed)) {
      return false;
    }
  }
}

absl::Status Worker::Run(const std::atomic<bool>& stop) {
  std::vector<pollfd> fds;
  for (const auto& ring : rings_) {
    fds.push_back({.fd = ring->fd(), .events = POLLIN});
  }
  while (!stop.load(std::memory_order_relaxed)) {
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
      const int rc = poll(fds.data(), fds.size(), timeout_ms);
      if (rc < 0 && errno != EINTR) {
        return absl::InternalError(
            absl::StrCat("poll: ", std::strerror(errno)));
      }
      for (size_t i = 0; i < rings_.size(); ++i) {
        if (fds[i].revents & (POLLERR | POLLNVAL)) {
          return absl::UnavailableError(absl::StrCat(
              "interface ", rings_[i]->interface().name, " went away"));
        }
      }
    }
    // A reload takes effect here, between batches: every reply of a batch
    // comes from one policy.
    responder_.SetPolicy(policy_->Acquire(index_));
    now = MonotonicNowNs();
    for (size_t i = 0; i < rings_.size(); ++i) {
      // Drain the ring in batches; one TX syscall per batch.
      size_t n;
      do {
        n = rings_[i]->ReceiveReady(batch_);
        for (size_t k = 0; k < n; ++k) {
          responder_.HandleFrame(i, batch_[k].data, batch_[k].meta, now);
        }
        rings_[i]->ReleaseHeld();
        (void)rings_[i]->Flush();
      } while (n == batch_.size());
    }
    responder_.Tick(now);
    FlushAll();
  }
  policy_->Release(index_);
  return absl::OkStatus();
}

RingStats Worker::ring_stats() {
  RingStats total;
  for (auto& ring : rings_) {
    RingStats s = ring->Stats();
    total.packets += s.packets;
    total.drops += s.drops;
    total.tx_errors += s.tx_errors;
  }
  return total;
}

}  // namespace pxe
