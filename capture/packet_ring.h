// A live AF_PACKET socket on one interface with memory-mapped RX and TX rings
// (TPACKET_V2). Received frames are handed out as views into the RX ring, with
// their metadata; replies are built straight into TX ring slots and sent with
// one syscall per batch.
//
// Why TPACKET_V2 and not V3: V3 hands frames over a block at a time, and a
// block is retired to user space when it fills or when its timer (whole
// milliseconds) expires. At low rates every request would wait up to that
// timeout: a few ms of added p50 and p99 on a path that otherwise takes
// microseconds. V2 publishes each frame as it lands, and this socket still
// batches: Receive() drains every ready slot after one poll().
#ifndef PXE_CAPTURE_PACKET_RING_H_
#define PXE_CAPTURE_PACKET_RING_H_

#include <linux/if_packet.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "capture/bpf_filter.h"
#include "capture/interfaces.h"
#include "capture/packet_io.h"
#include "capture/unique_fd.h"

namespace pxe {

struct RingOptions {
  // Slots in each ring. A boot storm arrives as a burst: size the RX ring for
  // the burst, not the average. 16384 slots (32 MiB) hold every frame of a
  // 10,000-client storm (DISCOVERs, the LAN server's offers, 4011
  // requests) even if the worker stalls for a moment.
  uint32_t rx_frames = 16384;
  uint32_t tx_frames = 1024;
  // Bytes per slot (header + frame); frames longer than the slot are cut and
  // then dropped by the parser.
  uint32_t frame_size = 2048;
  // Send without the qdisc layer (PACKET_QDISC_BYPASS).
  bool qdisc_bypass = false;
  // PACKET_FANOUT group id (chaddr-keyed, see fanout.h) to join,
  // kNewFanoutGroup for a new one (then read fanout_group()), or -1 for
  // none.
  int fanout_group = -1;
};

struct RingStats {
  uint64_t packets = 0;  // frames the socket accepted (drops included)
  uint64_t drops = 0;    // frames lost because the RX ring was full
  uint64_t tx_errors = 0;
};

class PacketRing : public PacketSource, public PacketSink {
 public:
  // Opens the socket, attaches a drop-all filter, maps the rings, binds to
  // the interface, drains, then attaches `filter`. Errors name the interface
  // and the failing step (PermissionDenied without CAP_NET_RAW).
  static absl::StatusOr<std::unique_ptr<PacketRing>> Open(
      const InterfaceInfo& interface, const RingOptions& options,
      const BpfProgram& filter);
  ~PacketRing() override;

  absl::StatusOr<size_t> Receive(std::span<RxFrame> batch,
                                 int timeout_ms) override;
  // Receive() without waiting: only the frames already in the ring, no
  // syscall. For callers that poll() several rings themselves.
  size_t ReceiveReady(std::span<RxFrame> batch);
  // Whether a frame is waiting in the RX ring (one load, no syscall): what
  // a busy-polling caller spins on.
  bool HasReady() const;
  // Gives the frames of the last Receive() back to the kernel now, rather
  // than at the next Receive() (so poll() does not see them as pending).
  void ReleaseHeld();
  std::span<uint8_t> NextSlot() override;
  void Commit(size_t size) override;
  absl::Status Flush() override;

  // Reads PACKET_STATISTICS (which reset on every read) into the running
  // totals and returns them.
  RingStats Stats();
  int fd() const { return fd_.get(); }
  // The fan-out group this ring joined, or -1.
  int fanout_group() const { return fanout_group_; }
  const InterfaceInfo& interface() const { return interface_; }

 private:
  PacketRing(InterfaceInfo interface, const RingOptions& options)
      : interface_(std::move(interface)), options_(options) {}
  absl::Status Setup(const BpfProgram& filter);
  uint8_t* RxSlot(uint32_t index) const {
    return rx_base_ + size_t{index} * options_.frame_size;
  }
  uint8_t* TxSlot(uint32_t index) const {
    return tx_base_ + size_t{index} * options_.frame_size;
  }

  InterfaceInfo interface_;
  RingOptions options_;
  UniqueFd fd_;
  UniqueMapping mapping_;
  int fanout_group_ = -1;
  uint8_t* rx_base_ = nullptr;
  uint8_t* tx_base_ = nullptr;
  uint32_t rx_index_ = 0;  // next RX slot to look at
  uint32_t rx_held_ = 0;   // slots handed out by the last Receive()
  uint32_t tx_index_ = 0;  // next TX slot to fill
  uint32_t tx_pending_ = 0;
  RingStats stats_;
};

}  // namespace pxe

#endif  // PXE_CAPTURE_PACKET_RING_H_
