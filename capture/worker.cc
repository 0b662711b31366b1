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

constexpr std::string_view kPxeClient = "PXEClient";

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

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

Worker::Worker(const BootPolicy& policy,
               std::vector<std::unique_ptr<PacketRing>> rings,
               const WorkerOptions& options, ClientLogFn client_log,
               NoticeFn notice)
    : policy_(policy),
      options_(options),
      client_log_(std::move(client_log)),
      notice_(std::move(notice)),
      offers_(options.offer_table_capacity),
      holds_(options.hold_capacity),
      duplicates_(options.duplicate_filter_capacity),
      request_(std::make_unique<Request>()),
      batch_(options.batch_size) {
  for (auto& ring : rings) {
    const InterfaceInfo& info = ring->interface();
    Port port{.mac = info.mac,
              .addresses = info.addresses,
              .multi_address = info.addresses.size() > 1};
    port.ring = std::move(ring);
    ports_.push_back(std::move(port));
  }
}

void Worker::Record(const Request& request, std::span<const uint8_t> reply,
                    DropReason reason) {
  counters_.Count(reason);
  if (client_log_) client_log_(request, reply, reason);
}

void Worker::HandleFrame(size_t port_index, const RxFrame& frame,
                         uint64_t now_ns) {
  Request& r = *request_;
  const DropReason d = ClassifyFrame(frame.data, frame.meta, &r);
  if (d == DropReason::kServerReply) {
    counters_.Count(d);
    Learn(port_index, now_ns);
    return;
  }
  if (d != DropReason::kNone) {
    // Requests that are not ours are the common case: log only boot clients.
    if (r.kind != ClientKind::kNotBooting) {
      Record(r, {}, d);
    } else {
      counters_.Count(d);
    }
    return;
  }
  if (duplicates_.SeenRecently(r.chaddr, r.xid, static_cast<uint8_t>(r.type),
                               r.frame.udp_dst, now_ns)) {
    Record(r, {}, DropReason::kDuplicate);
    return;
  }
  const Port& port = ports_[port_index];
  if (options_.offer_hold_ns != 0 && port.multi_address && !r.on_pxe_port() &&
      !r.relayed() && offers_.Lookup(r.chaddr, now_ns) == 0 &&
      holds_.Hold(frame.data, frame.meta, r.chaddr,
                  now_ns + options_.offer_hold_ns)) {
    return;  // answered when the server's OFFER shows up, or on time-out
  }
  Reply(port_index, r, now_ns);
}

void Worker::Learn(size_t port_index, uint64_t now_ns) {
  Request& r = *request_;
  // A DHCP server on this host sends from our own MAC: its frames count.
  // Our own replies never do: offers carry yiaddr 0, ACKs leave from 4011.
  const bool from_server = r.frame.udp_src == kDhcpServerPort &&
                           r.yiaddr != 0 &&
                           (r.type == dhcp::MessageType::kOffer ||
                            r.type == dhcp::MessageType::kAck);
  if (!from_server) return;
  offers_.Learn(r.chaddr, r.yiaddr, now_ns + options_.learn_ttl_ns);
  if (!warned_pxe_server_ && StartsWith(r.vendor_class, kPxeClient)) {
    warned_pxe_server_ = true;
    if (notice_) {
      notice_(absl::StrCat(
          "the DHCP server at ", FormatIpv4(r.frame.ip_src),
          " sends option 60 PXEClient itself: clients may ask it, not us, for "
          "the boot file (PXE-E55); remove its PXE options"));
    }
  }
  const MacAddress chaddr = r.chaddr;
  holds_.Release(chaddr, [&](const HoldQueue::Held& held) {
    // The frame was accepted once; classify it again into the scratch.
    if (ClassifyFrame(held.frame, held.meta, &r) == DropReason::kNone) {
      Reply(port_index, r, now_ns);
    }
  });
}

void Worker::Reply(size_t port_index, const Request& request, uint64_t now_ns) {
  Port& port = ports_[port_index];
  const ServerContext context{
      .mac = port.mac,
      .addresses = port.addresses,
      .offered_address = offers_.Lookup(request.chaddr, now_ns)};
  ReplyPlan plan;
  if (DropReason d = Decide(request, policy_, context, &plan);
      d != DropReason::kNone) {
    Record(request, {}, d);
    return;
  }
  std::span<uint8_t> slot = port.ring->NextSlot();
  if (slot.empty()) {
    // Every slot is queued: push them out and try once more.
    (void)port.ring->Flush();
    slot = port.ring->NextSlot();
    if (slot.empty()) {
      Record(request, {}, DropReason::kTxRingFull);
      return;
    }
  }
  const size_t size = CraftReply(request, plan, context, slot);
  if (size == 0) {
    Record(request, {}, DropReason::kReplyBufferTooSmall);
    return;
  }
  port.ring->Commit(size);
  Record(request, slot.first(size), DropReason::kNone);
}

void Worker::Tick(uint64_t now_ns) {
  holds_.ReleaseDue(now_ns, [&](const HoldQueue::Held& held) {
    const size_t port_index = [&] {
      for (size_t i = 0; i < ports_.size(); ++i) {
        if (uint32_t(ports_[i].ring->interface().ifindex) ==
            held.meta.ifindex) {
          return i;
        }
      }
      return size_t{0};
    }();
    Request& r = *request_;
    if (ClassifyFrame(held.frame, held.meta, &r) == DropReason::kNone) {
      Reply(port_index, r, now_ns);
    }
  });
  for (Port& port : ports_) (void)port.ring->Flush();
}

bool Worker::AnyReady() const {
  for (const Port& port : ports_) {
    if (port.ring->HasReady()) return true;
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
  for (const Port& port : ports_) {
    fds.push_back({.fd = port.ring->fd(), .events = POLLIN});
  }
  while (!stop.load(std::memory_order_relaxed)) {
    uint64_t now = MonotonicNowNs();
    int timeout_ms = 200;
    const uint64_t due = holds_.earliest_deadline_ns();
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
      for (size_t i = 0; i < ports_.size(); ++i) {
        if (fds[i].revents & (POLLERR | POLLNVAL)) {
          return absl::UnavailableError(absl::StrCat(
              "interface ", ports_[i].ring->interface().name, " went away"));
        }
      }
    }
    now = MonotonicNowNs();
    for (size_t i = 0; i < ports_.size(); ++i) {
      // Drain the ring in batches; one TX syscall per batch.
      size_t n;
      do {
        n = ports_[i].ring->ReceiveReady(batch_);
        for (size_t k = 0; k < n; ++k) HandleFrame(i, batch_[k], now);
        ports_[i].ring->ReleaseHeld();
        (void)ports_[i].ring->Flush();
      } while (n == batch_.size());
    }
    Tick(now);
  }
  return absl::OkStatus();
}

RingStats Worker::ring_stats() {
  RingStats total;
  for (Port& port : ports_) {
    RingStats s = port.ring->Stats();
    total.packets += s.packets;
    total.drops += s.drops;
    total.tx_errors += s.tx_errors;
  }
  return total;
}

}  // namespace pxe
