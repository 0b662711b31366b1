// The seam between the engine and the kernel (or a file): sources hand out
// batches of received frames as views, sinks hand out slots to build replies
// in. Implementations: AF_PACKET rings (live) and pcap files (offline).
#ifndef PXE_CAPTURE_PACKET_IO_H_
#define PXE_CAPTURE_PACKET_IO_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "engine/frame.h"

namespace pxe {

struct RxFrame {
  std::span<const uint8_t> data;  // valid until the next Receive()
  RxMeta meta;
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // Fills up to batch.size() frames, waiting at most `timeout_ms` (-1: until
  // one arrives) for the first. Returns how many; 0 on timeout. Frames from
  // the previous call are released first. A source that is exhausted (end of
  // file) returns absl::OutOfRangeError.
  virtual absl::StatusOr<size_t> Receive(std::span<RxFrame> batch,
                                         int timeout_ms) = 0;
};

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // A buffer to build the next frame in (at least kMaxReplyFrameSize bytes),
  // or an empty span when every slot is in flight; call Flush() then.
  virtual std::span<uint8_t> NextSlot() = 0;
  // Queues the first `size` bytes of the slot NextSlot() returned.
  virtual void Commit(size_t size) = 0;
  // Sends everything committed (one syscall per batch on live sinks).
  virtual absl::Status Flush() = 0;
};

}  // namespace pxe

#endif  // PXE_CAPTURE_PACKET_IO_H_
