#include "tools/storm/storm_runner.h"

#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/bpf_filter.h"
#include "capture/packet_ring.h"
#include "capture/unique_fd.h"
#include "engine/client_request6.h"
#include "engine/request.h"
#include "engine/status_macros.h"
#include "tools/storm/arp.h"
#include "tools/storm/client_table.h"

namespace pxe::storm {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
// Frames per send(): big enough to amortise the syscall, small enough that
// the first frame of a batch does not wait long for the last to be built.
constexpr size_t kMaxBatch = 256;
constexpr size_t kRxBatch = 256;
// Frames handled per turn of the loop, each way, so that neither a burst of
// replies nor a long send queue keeps the other side waiting.
constexpr size_t kMaxRxPerTurn = 2048;
constexpr size_t kMaxTxPerTurn = 1024;
constexpr size_t kArpQueueSize = 4096;
constexpr uint64_t kProgressIntervalNs = 250 * kNsPerMs;
// When the TX ring is full, look again this soon.
constexpr uint64_t kTxRetryNs = 200'000;
// After the last client finished, keep counting replies this long (late
// answers and duplicates of the last requests).
constexpr uint64_t kDrainNs = 250 * kNsPerMs;
// A kernel receive timestamp further than this from the clock is not
// CLOCK_REALTIME (some paths stamp with a delivery time): use the clock.
constexpr uint64_t kTimestampSanityNs = 10'000 * kNsPerMs;

// Room for about two replies per client (offer and ACK), so that a storm's
// replies fit even while this process waits for a CPU, in 2 KiB slots: from
// 8 MiB up to 64 MiB (beyond 16,384 clients the size stays put).
constexpr uint32_t kMinRxRingFrames = 4096;
constexpr uint32_t kMaxRxRingFrames = 32768;
constexpr uint32_t kTxRingFrames = 2048;

uint32_t RxRingFrames(uint32_t clients) {
  // A multiple of the 32 slots in a 64 KiB ring block.
  const uint64_t wanted = (uint64_t{clients} * 2 + 31) / 32 * 32;
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(wanted, kMinRxRingFrames, kMaxRxRingFrames));
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

uint64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

absl::Status Errno(std::string_view what) {
  const int e = errno;
  std::string message = absl::StrCat(Sv(what), ": ", std::strerror(e));
  if (e == EPERM || e == EACCES) {
    return absl::PermissionDeniedError(
        absl::StrCat(message, " (needs root or CAP_NET_RAW)"));
  }
  return absl::InternalError(message);
}

// Unlike LookupInterface(), no IPv4 address is needed: PXE clients have none.
absl::StatusOr<InterfaceInfo> FindInterface(const std::string& name) {
  InterfaceInfo info;
  info.name = name;
  if (name.size() >= IFNAMSIZ) {
    return absl::NotFoundError(absl::StrCat("no such interface: ", name));
  }
  info.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (info.ifindex == 0) {
    return absl::NotFoundError(absl::StrCat("no such interface: ", name));
  }
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket(AF_INET)");
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  if (ioctl(fd.get(), SIOCGIFHWADDR, &req) != 0) {
    return Errno(absl::StrCat("reading the MAC of ", name));
  }
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is not an Ethernet interface"));
  }
  std::memcpy(info.mac.data(), req.ifr_hwaddr.sa_data, 6);
  if (ioctl(fd.get(), SIOCGIFFLAGS, &req) != 0) {
    return Errno(absl::StrCat("reading the flags of ", name));
  }
  info.up = (req.ifr_flags & IFF_UP) != 0;
  if (!info.up) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is down"));
  }
  return info;
}

// Replies to our MACs (BOOTREPLY, chaddr prefix) on the client ports, and
// ARP requests for the client net. Our own outgoing frames are requests
// (op 1) and ARP replies, so none of them comes back. With IPv6 clients,
// also DHCPv6 to our MAC prefix on 546 or 4011 (our own Solicits and
// Requests go to 547 or from another MAC).
std::string FilterExpression(const ClientIdentity& identity,
                             const InterfaceAddress& net, bool ipv6) {
  const std::array<uint8_t, 3> p = identity.mac_prefix();
  const uint32_t mask =
      net.prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - net.prefix_length);
  std::string filter = absl::StrFormat(
      "(ip and udp and (ip[6:2] & 0x3fff) = 0 and "
      "(dst port 68 or dst port 4011) and udp[8] = 2 and "
      "udp[36:2] = 0x%02x%02x and udp[38] = 0x%02x) or "
      "(arp and arp[6:2] = 1 and (arp[24:4] & 0x%08x) = 0x%08x)",
      p[0], p[1], p[2], mask, net.address & mask);
  if (ipv6) {
    absl::StrAppendFormat(&filter,
                          " or (ip6 and udp and (dst port 546 or (dst port "
                          "4011 and src port 4011)) and ether[0:2] = "
                          "0x%02x%02x and ether[2] = 0x%02x)",
                          p[0], p[1], p[2]);
  }
  return filter;
}

bool HasIpv6Clients(const Mix& mix) {
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    if (mix[t] != 0 && Profile(static_cast<ClientType>(t)).ipv6) return true;
  }
  return false;
}

// "VmRSS:   1234 kB" from /proc/self/status.
uint64_t ProcStatusKb(std::string_view key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(key) && line.size() > key.size() &&
        line[key.size()] == ':') {
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

// This thread's CPU time and time spent runnable but waiting for a CPU, from
// /proc/thread-self/schedstat ("cpu_ns wait_ns timeslices"); zeros when the
// kernel keeps no schedstats.
void ReadSchedStat(uint64_t* cpu_ns, uint64_t* wait_ns) {
  std::ifstream stat("/proc/thread-self/schedstat");
  *cpu_ns = 0;
  *wait_ns = 0;
  stat >> *cpu_ns >> *wait_ns;
}

class Runner {
 public:
  Runner(const StormConfig& config, uint64_t seed, bool progress)
      : config_(config),
        progress_(progress),
        table_(config, seed),
        request_(std::make_unique<Request>()),
        arp_queue_(kArpQueueSize) {
    result_->run.seed = seed;
  }

  absl::Status Setup() {
    PXE_ASSIGN_OR_RETURN(InterfaceInfo interface,
                         FindInterface(config_.interface));
    result_->run.interface_mac = interface.mac;
    PXE_ASSIGN_OR_RETURN(
        BpfProgram filter,
        CompileFilter(FilterExpression(table_.identity(), config_.client_net,
                                       HasIpv6Clients(config_.mix))));
    const RingOptions options{.rx_frames = RxRingFrames(config_.clients),
                              .tx_frames = kTxRingFrames};
    PXE_ASSIGN_OR_RETURN(ring_, PacketRing::Open(interface, options, filter));
    // Replies come to 50,000 MACs the NIC does not know: promiscuous for as
    // long as the socket is open (the kernel drops it on close).
    packet_mreq mreq{};
    mreq.mr_ifindex = interface.ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(ring_->fd(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                   sizeof(mreq)) != 0) {
      return Errno(absl::StrCat("promiscuous mode on ", config_.interface));
    }
    return absl::OkStatus();
  }

  std::unique_ptr<StormResult> Run() {
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    const double max_seconds =
        config_.max_seconds > 0 ? config_.max_seconds : AutoMaxSeconds(config_);
    uint64_t cpu_start = 0;
    uint64_t wait_start = 0;
    ReadSchedStat(&cpu_start, &wait_start);
    start_ns_ = RealtimeNs();
    const uint64_t stop_ns =
        start_ns_ + static_cast<uint64_t>(max_seconds * 1e9);
    uint64_t next_progress_ns = start_ns_ + kProgressIntervalNs;
    uint64_t drain_until_ns = 0;
    RunFacts& run = result_->run;
    while (true) {
      const uint64_t now = RealtimeNs();
      PowerOnDue(now);
      table_.ExpireTimers(now);
      ReceiveReplies(now);
      const SendState send_state = SendPending();
      if (progress_ && now >= next_progress_ns) {
        DrawProgress(now);
        next_progress_ns = now + kProgressIntervalNs;
      }
      if (g_stop) {
        run.interrupted = true;
        break;
      }
      if (now >= stop_ns) {
        run.cut_short = !Done();
        break;
      }
      if (Done() && drain_until_ns == 0) {
        drain_until_ns = std::min(now + kDrainNs, stop_ns);
      }
      if (drain_until_ns != 0 && now >= drain_until_ns) break;

      uint64_t wake_ns =
          std::min({NextPowerOnNs(), table_.NextDeadline(), stop_ns});
      if (progress_) wake_ns = std::min(wake_ns, next_progress_ns);
      if (drain_until_ns != 0) wake_ns = std::min(wake_ns, drain_until_ns);
      if (send_state == SendState::kRingFull) {
        wake_ns = std::min(wake_ns, now + kTxRetryNs);
      } else if (send_state == SendState::kTurnUsedUp) {
        wake_ns = now;  // straight on, after the replies
      }
      Wait(wake_ns);
    }
    const uint64_t end_ns = RealtimeNs();
    if (progress_) {
      DrawProgress(end_ns);
      std::fputc('\n', stderr);
    }
    run.duration_seconds = static_cast<double>(end_ns - start_ns_) / 1e9;
    uint64_t cpu_end = 0;
    uint64_t wait_end = 0;
    ReadSchedStat(&cpu_end, &wait_end);
    run.cpu_seconds = static_cast<double>(cpu_end - cpu_start) / 1e9;
    run.cpu_wait_seconds = static_cast<double>(wait_end - wait_start) / 1e9;
    run.unfinished = table_.Unfinished();
    const RingStats ring_stats = ring_->Stats();
    run.capture_drops = ring_stats.drops;
    run.tx_errors = ring_stats.tx_errors;
    run.rss_kb = ProcStatusKb("VmRSS");
    run.peak_rss_kb = ProcStatusKb("VmHWM");
    result_->stats = table_.stats();
    return std::move(result_);
  }

 private:
  struct PendingArp {
    ArpRequest request;
    MacAddress mac;
  };

  bool Done() const {
    return next_client_ == table_.size() && table_.AllFinished();
  }

  uint64_t NextPowerOnNs() const {
    if (next_client_ == table_.size()) return ~uint64_t{0};
    return start_ns_ + PowerOnOffsetNs(config_, next_client_);
  }

  void PowerOnDue(uint64_t now) {
    while (next_client_ < table_.size() && NextPowerOnNs() <= now) {
      const uint64_t due = NextPowerOnNs();
      table_.PowerOn(next_client_++, due);
    }
  }

  void ReceiveReplies(uint64_t now) {
    std::array<RxFrame, kRxBatch> frames;
    size_t handled = 0;
    while (handled < kMaxRxPerTurn) {
      const size_t n = ring_->ReceiveReady(frames);
      if (n == 0) break;
      const uint64_t handled_ns = RealtimeNs();
      for (size_t i = 0; i < n; ++i) HandleFrame(frames[i], now, handled_ns);
      handled += n;
    }
    // Hand the slots back before poll(), which reports POLLIN while any
    // frame is still held.
    ring_->ReleaseHeld();
  }

  void HandleFrame(const RxFrame& frame, uint64_t now, uint64_t handled_ns) {
    if (std::optional<ArpRequest> arp = ParseArpRequest(frame.data)) {
      const std::optional<uint32_t> client =
          table_.identity().IndexOfAddress(arp->target_ip);
      if (!client) return;
      if (arp_count_ == arp_queue_.size()) {
        ++result_->run.arp_dropped;
        return;
      }
      arp_queue_[(arp_head_ + arp_count_++) % arp_queue_.size()] =
          PendingArp{*arp, table_.identity().Mac(*client)};
      return;
    }
    uint64_t rx_ns = frame.meta.timestamp_ns;
    if (rx_ns + kTimestampSanityNs < now || rx_ns > now + kTimestampSanityNs) {
      rx_ns = handled_ns;
    }
    table_.RecordReceiveLag(handled_ns > rx_ns ? handled_ns - rx_ns : 0);
    switch (ParseServerFrame6(frame.data, frame.meta, &frame6_, &message6_)) {
      case DropReason::kNotIpv4:
        break;  // not IPv6: the DHCPv4 path below
      case DropReason::kNone:
        table_.OnReply6(frame6_, message6_, rx_ns);
        return;
      case DropReason::kBadUdpChecksum:
        table_.OnBadChecksum();
        return;
      default:
        return;  // not a message we can read
    }
    switch (ClassifyFrame(frame.data, frame.meta, request_.get())) {
      case DropReason::kServerReply:
        table_.OnReply(*request_, rx_ns);
        break;
      case DropReason::kBadIpChecksum:
      case DropReason::kBadUdpChecksum:
        table_.OnBadChecksum();
        break;
      default:
        break;  // not a reply we can read: not the server's fault to judge
    }
  }

  enum class SendState { kAllSent, kRingFull, kTurnUsedUp };

  // Sends ARP replies, then queued client frames, in batches, up to
  // kMaxTxPerTurn frames.
  SendState SendPending() {
    std::array<uint32_t, kMaxBatch> batch;
    size_t sent = 0;
    while (arp_count_ > 0 || table_.HasFrameToSend()) {
      if (sent >= kMaxTxPerTurn) return SendState::kTurnUsedUp;
      size_t clients = 0;
      size_t frames = 0;
      bool ring_full = false;
      while (arp_count_ > 0 && frames < kMaxBatch) {
        const std::span<uint8_t> slot = ring_->NextSlot();
        if (slot.empty()) {
          ring_full = true;
          break;
        }
        const PendingArp& arp = arp_queue_[arp_head_];
        ring_->Commit(BuildArpReply(arp.request, arp.mac, slot));
        arp_head_ = (arp_head_ + 1) % arp_queue_.size();
        --arp_count_;
        ++result_->run.arp_replies;
        ++frames;
      }
      const uint64_t build_ns = RealtimeNs();
      while (!ring_full && table_.HasFrameToSend() && frames < kMaxBatch) {
        const std::span<uint8_t> slot = ring_->NextSlot();
        if (slot.empty()) {
          ring_full = true;
          break;
        }
        uint32_t client = 0;
        const size_t size = table_.WriteNextFrame(slot, build_ns, &client);
        if (size == 0) break;  // only stale entries were left
        ring_->Commit(size);
        batch[clients++] = client;
        ++frames;
      }
      if (frames == 0) {
        return ring_full ? SendState::kRingFull : SendState::kAllSent;
      }
      sent += frames;
      // The send time of every frame in the batch: right before send().
      const uint64_t sent_ns = RealtimeNs();
      // A failed send() is counted in the ring's tx_errors; the clients
      // then retry as they would after a lost frame.
      (void)ring_->Flush();
      for (size_t i = 0; i < clients; ++i) table_.OnSent(batch[i], sent_ns);
      if (ring_full) return SendState::kRingFull;
    }
    return SendState::kAllSent;
  }

  void Wait(uint64_t wake_ns) {
    const uint64_t now = RealtimeNs();
    if (wake_ns <= now) return;
    const uint64_t wait_ns = wake_ns - now;
    timespec timeout{.tv_sec = static_cast<time_t>(wait_ns / 1'000'000'000),
                     .tv_nsec = static_cast<long>(wait_ns % 1'000'000'000)};
    pollfd p{.fd = ring_->fd(), .events = POLLIN, .revents = 0};
    ppoll(&p, 1, &timeout, nullptr);  // EINTR: g_stop is checked next turn
  }

  void DrawProgress(uint64_t now) {
    const std::string line =
        FormatProgress(config_, static_cast<double>(now - start_ns_) / 1e9,
                       table_.stats(), table_.finished());
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    std::fflush(stderr);
  }

  const StormConfig& config_;
  const bool progress_;
  ClientTable table_;
  std::unique_ptr<Request> request_;
  FrameView6 frame6_;
  ServerMessage6 message6_;
  std::unique_ptr<PacketRing> ring_;
  std::unique_ptr<StormResult> result_ = std::make_unique<StormResult>();
  std::vector<PendingArp> arp_queue_;
  size_t arp_head_ = 0;
  size_t arp_count_ = 0;
  uint32_t next_client_ = 0;
  uint64_t start_ns_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StormResult>> RunStorm(const StormConfig& config,
                                                      uint64_t seed,
                                                      bool progress) {
  Runner runner(config, seed, progress);
  PXE_RETURN_IF_ERROR(runner.Setup());
  return runner.Run();
}

}  // namespace pxe::storm
