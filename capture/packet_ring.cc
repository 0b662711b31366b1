#include "capture/packet_ring.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "capture/fanout.h"
#include "engine/reply.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

constexpr uint32_t kBlockSize = 1 << 16;
// Where frame data starts in a TX slot (no PACKET_TX_HAS_OFF).
constexpr size_t kTxDataOffset = TPACKET_ALIGN(sizeof(tpacket2_hdr));

absl::Status Errno(std::string_view step, const std::string& interface) {
  const int e = errno;
  std::string message =
      absl::StrCat(Sv(step), " on ", interface, ": ", std::strerror(e));
  if (e == EPERM || e == EACCES) {
    return absl::PermissionDeniedError(
        absl::StrCat(message, " (needs root or CAP_NET_RAW)"));
  }
  return absl::InternalError(message);
}

uint32_t LoadStatus(const uint8_t* slot) {
  return __atomic_load_n(
      &reinterpret_cast<const tpacket2_hdr*>(slot)->tp_status,
      __ATOMIC_ACQUIRE);
}

void StoreStatus(uint8_t* slot, uint32_t status) {
  __atomic_store_n(&reinterpret_cast<tpacket2_hdr*>(slot)->tp_status, status,
                   __ATOMIC_RELEASE);
}

}  // namespace

absl::StatusOr<std::unique_ptr<PacketRing>> PacketRing::Open(
    const InterfaceInfo& interface, const RingOptions& options,
    const BpfProgram& filter) {
  if (options.frame_size < kMaxReplyFrameSize + kTxDataOffset ||
      kBlockSize % options.frame_size != 0 ||
      options.rx_frames % (kBlockSize / options.frame_size) != 0 ||
      options.tx_frames % (kBlockSize / options.frame_size) != 0) {
    return absl::InvalidArgumentError(
        "ring sizes: frame size must divide 64 KiB and hold a reply; frame "
        "counts must be multiples of the frames per 64 KiB block");
  }
  std::unique_ptr<PacketRing> ring(new PacketRing(interface, options));
  PXE_RETURN_IF_ERROR(ring->Setup(filter));
  return ring;
}

PacketRing::~PacketRing() = default;

absl::Status PacketRing::Setup(const BpfProgram& filter) {
  const std::string& name = interface_.name;
  // Protocol 0: nothing is queued until bind(), after the drop-all filter.
  fd_.Reset(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) return Errno("socket(AF_PACKET)", name);
  PXE_RETURN_IF_ERROR(AttachFilter(fd_.get(), DropAllProgram()));
  const int version = TPACKET_V2;
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_VERSION, &version,
                 sizeof(version)) != 0) {
    return Errno("PACKET_VERSION", name);
  }
  const uint32_t per_block = kBlockSize / options_.frame_size;
  tpacket_req rx{.tp_block_size = kBlockSize,
                 .tp_block_nr = options_.rx_frames / per_block,
                 .tp_frame_size = options_.frame_size,
                 .tp_frame_nr = options_.rx_frames};
  tpacket_req tx{.tp_block_size = kBlockSize,
                 .tp_block_nr = options_.tx_frames / per_block,
                 .tp_frame_size = options_.frame_size,
                 .tp_frame_nr = options_.tx_frames};
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx)) != 0) {
    return Errno("PACKET_RX_RING", name);
  }
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx)) != 0) {
    return Errno("PACKET_TX_RING", name);
  }
  if (options_.qdisc_bypass) {
    const int one = 1;
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                   sizeof(one)) != 0) {
      return Errno("PACKET_QDISC_BYPASS", name);
    }
  }
  const size_t rx_bytes = size_t{rx.tp_block_size} * rx.tp_block_nr;
  const size_t tx_bytes = size_t{tx.tp_block_size} * tx.tp_block_nr;
  // One mapping: the RX ring, then the TX ring.
  void* map = mmap(nullptr, rx_bytes + tx_bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd_.get(), 0);
  if (map == MAP_FAILED) {
    // MAP_LOCKED fails under a low RLIMIT_MEMLOCK: fall back to unlocked.
    map = mmap(nullptr, rx_bytes + tx_bytes, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_POPULATE, fd_.get(), 0);
  }
  if (map == MAP_FAILED) return Errno("mmap(packet rings)", name);
  mapping_ = UniqueMapping(map, rx_bytes + tx_bytes);
  rx_base_ = mapping_.data();
  tx_base_ = mapping_.data() + rx_bytes;

  // ETH_P_ALL: only ptype_all taps see outgoing frames, and a DHCP server on
  // this host sends its replies as outgoing frames (subnet learning).
  sockaddr_ll addr{.sll_family = AF_PACKET,
                   .sll_protocol = htons(ETH_P_ALL),
                   .sll_ifindex = interface_.ifindex};
  if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Errno("bind(AF_PACKET)", name);
  }
  // Solicits go to ff02::1:2 (All_DHCP_Relay_Agents_and_Servers, RFC 8415
  // §7.1), whose MAC 33:33:00:01:00:02 the NIC drops unless someone joined
  // it: join at L2, as no socket of ours joins the IPv6 group.
  packet_mreq mreq{.mr_ifindex = interface_.ifindex,
                   .mr_type = PACKET_MR_MULTICAST,
                   .mr_alen = 6,
                   .mr_address = {0x33, 0x33, 0x00, 0x01, 0x00, 0x02}};
  if (setsockopt(fd_.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                 sizeof(mreq)) != 0) {
    return Errno("PACKET_ADD_MEMBERSHIP (33:33:00:01:00:02)", name);
  }
  if (options_.fanout_group >= 0) {
    PXE_ASSIGN_OR_RETURN(fanout_group_,
                         JoinChaddrFanout(fd_.get(), options_.fanout_group));
  }
  // Anything queued before the drop-all filter took effect is discarded.
  for (uint32_t i = 0; i < options_.rx_frames; ++i) {
    if (LoadStatus(RxSlot(i)) & TP_STATUS_USER) {
      StoreStatus(RxSlot(i), TP_STATUS_KERNEL);
    }
  }
  PXE_RETURN_IF_ERROR(AttachFilter(fd_.get(), filter));
  Stats();  // reset the kernel's counters: count from here
  stats_ = RingStats{};
  return absl::OkStatus();
}

void PacketRing::ReleaseHeld() {
  uint32_t index =
      (rx_index_ + options_.rx_frames - rx_held_) % options_.rx_frames;
  for (; rx_held_ > 0; --rx_held_) {
    StoreStatus(RxSlot(index), TP_STATUS_KERNEL);
    index = (index + 1) % options_.rx_frames;
  }
}

absl::StatusOr<size_t> PacketRing::Receive(std::span<RxFrame> batch,
                                           int timeout_ms) {
  ReleaseHeld();
  if (!(LoadStatus(RxSlot(rx_index_)) & TP_STATUS_USER)) {
    pollfd p{.fd = fd_.get(), .events = POLLIN};
    const int rc = poll(&p, 1, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) return 0;
      return Errno("poll", interface_.name);
    }
    if (p.revents & (POLLERR | POLLNVAL)) {
      return absl::UnavailableError(
          absl::StrCat("interface ", interface_.name, " reported an error"));
    }
  }
  return ReceiveReady(batch);
}

bool PacketRing::HasReady() const {
  return (LoadStatus(RxSlot(rx_index_)) & TP_STATUS_USER) != 0;
}

size_t PacketRing::ReceiveReady(std::span<RxFrame> batch) {
  ReleaseHeld();
  size_t n = 0;
  // Never past the slots already handed out: a batch larger than the ring
  // would come round to them again.
  while (n < batch.size() && rx_held_ < options_.rx_frames) {
    uint8_t* slot = RxSlot(rx_index_);
    const uint32_t status = LoadStatus(slot);
    if (!(status & TP_STATUS_USER)) break;
    const auto* h = reinterpret_cast<const tpacket2_hdr*>(slot);
    RxFrame& f = batch[n++];
    f.data = {slot + h->tp_mac, h->tp_snaplen};
    f.meta = RxMeta{
        .vlan_valid = (status & TP_STATUS_VLAN_VALID) != 0,
        .vlan_tci = static_cast<uint16_t>(h->tp_vlan_tci),
        .vlan_tpid = (status & TP_STATUS_VLAN_TPID_VALID)
                         ? static_cast<uint16_t>(h->tp_vlan_tpid)
                         : uint16_t{0},
        .udp_checksum =
            (status & TP_STATUS_CSUMNOTREADY) ? UdpChecksumStatus::kNotReady
            : (status & TP_STATUS_CSUM_VALID) ? UdpChecksumStatus::kVerified
                                              : UdpChecksumStatus::kUnknown,
        .timestamp_ns = uint64_t{h->tp_sec} * 1'000'000'000 + h->tp_nsec,
        .ifindex = static_cast<uint32_t>(interface_.ifindex)};
    rx_index_ = (rx_index_ + 1) % options_.rx_frames;
    ++rx_held_;
  }
  return n;
}

std::span<uint8_t> PacketRing::NextSlot() {
  uint8_t* slot = TxSlot(tx_index_);
  const uint32_t status = LoadStatus(slot);
  if (status == TP_STATUS_WRONG_FORMAT) {
    ++stats_.tx_errors;
    StoreStatus(slot, TP_STATUS_AVAILABLE);
  } else if (status != TP_STATUS_AVAILABLE) {
    return {};
  }
  return {slot + kTxDataOffset, options_.frame_size - kTxDataOffset};
}

void PacketRing::Commit(size_t size) {
  uint8_t* slot = TxSlot(tx_index_);
  reinterpret_cast<tpacket2_hdr*>(slot)->tp_len = static_cast<uint32_t>(size);
  StoreStatus(slot, TP_STATUS_SEND_REQUEST);
  tx_index_ = (tx_index_ + 1) % options_.tx_frames;
  ++tx_pending_;
}

absl::Status PacketRing::Flush() {
  if (tx_pending_ == 0) return absl::OkStatus();
  tx_pending_ = 0;
  // One syscall sends every slot marked TP_STATUS_SEND_REQUEST.
  if (send(fd_.get(), nullptr, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN &&
      errno != ENOBUFS) {
    ++stats_.tx_errors;
    return Errno("send(TX ring)", interface_.name);
  }
  return absl::OkStatus();
}

RingStats PacketRing::Stats() {
  tpacket_stats s{};
  socklen_t length = sizeof(s);
  if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &s, &length) == 0) {
    stats_.packets += s.tp_packets;
    stats_.drops += s.tp_drops;
  }
  return stats_;
}

}  // namespace pxe
