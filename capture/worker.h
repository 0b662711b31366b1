// The worker loop: reads frames from its packet rings in batches, hands
// them to its Responder (engine/responder.h) with the clock, and flushes the
// replies the responder wrote into the transmit rings. Between batches it
// picks up the current policy snapshot. One Worker per thread; it owns its
// rings and its responder, and shares only the snapshot cell.
#ifndef PXE_CAPTURE_WORKER_H_
#define PXE_CAPTURE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "capture/packet_ring.h"
#include "engine/policy_snapshot.h"
#include "engine/responder.h"
#include "engine/snapshot_cell.h"

namespace pxe {

struct WorkerOptions {
  ResponderOptions responder;
  size_t batch_size = 64;
  // Before sleeping in poll(), spin this long watching the rings: a frame
  // that arrives meanwhile is handled without a wake-up, at the price of a
  // busy CPU. 0 = always sleep.
  uint64_t busy_poll_ns = 0;
};

class Worker : private ReplySink {
 public:
  // `index` is this worker's reader slot in `policy`.
  Worker(SnapshotCell<PolicySnapshot>* policy, size_t index,
         std::vector<std::unique_ptr<PacketRing>> rings,
         const WorkerOptions& options, ClientLogFn client_log, NoticeFn notice);

  // Serves until `stop` becomes true (checked at least every 200 ms).
  absl::Status Run(const std::atomic<bool>& stop);

  const Counters& counters() const { return responder_.counters(); }
  RingStats ring_stats();
  size_t held() const { return responder_.held(); }

 private:
  // ReplySink: the transmit rings.
  std::span<uint8_t> NextSlot(size_t port) override;
  void Commit(size_t port, size_t size) override;

  // Whether any ring has a frame waiting (no syscall).
  bool AnyReady() const;
  // Spins up to options_.busy_poll_ns for a frame; true if one came.
  bool BusyPoll(const std::atomic<bool>& stop) const;
  void FlushAll();

  SnapshotCell<PolicySnapshot>* policy_;
  size_t index_;
  std::vector<std::unique_ptr<PacketRing>> rings_;
  WorkerOptions options_;
  Responder responder_;
  std::vector<RxFrame> batch_;
};

// CLOCK_MONOTONIC in nanoseconds.
uint64_t MonotonicNowNs();

}  // namespace pxe

#endif  // PXE_CAPTURE_WORKER_H_
