// The responder loop: reads frames from the packet rings, runs the engine,
// and sends the replies, with the per-client state a proxy needs (what the
// LAN's DHCP server offered each client; offers held back briefly on
// interfaces with several addresses). One Worker owns its rings, tables,
// counters and scratch; nothing it touches on the packet path is shared.
#ifndef PXE_CAPTURE_WORKER_H_
#define PXE_CAPTURE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "capture/packet_ring.h"
#include "engine/drop_reason.h"
#include "engine/duplicate_filter.h"
#include "engine/hold_queue.h"
#include "engine/offer_table.h"
#include "engine/policy.h"
#include "engine/request.h"

namespace pxe {

struct WorkerOptions {
  // How long a DISCOVER on an interface with several addresses may wait for
  // the LAN server's OFFER (which shows the client's subnet); 0 = never.
  // Well inside iPXE's 2 s proxy wait.
  uint64_t offer_hold_ns = 300'000'000;
  // How long a learned offer is remembered (covers the client's retries and
  // its 4011 request).
  uint64_t learn_ttl_ns = 120'000'000'000;
  size_t offer_table_capacity = 65536;
  size_t hold_capacity = 1024;
  size_t duplicate_filter_capacity = 16384;
  size_t batch_size = 64;
  // Before sleeping in poll(), spin this long watching the rings: a frame
  // that arrives meanwhile is handled without a wake-up, at the price of a
  // busy CPU. 0 = always sleep.
  uint64_t busy_poll_ns = 0;
};

// Called for every request the worker answered or dropped, with the reply
// (empty when dropped). Set only when debug logging is on: it allocates.
using ClientLogFn = std::function<void(
    const Request& request, std::span<const uint8_t> reply, DropReason reason)>;
// One-off notices (e.g. a DHCP server that sends PXEClient itself).
using NoticeFn = std::function<void(std::string_view text)>;

class Worker {
 public:
  Worker(const BootPolicy& policy,
         std::vector<std::unique_ptr<PacketRing>> rings,
         const WorkerOptions& options, ClientLogFn client_log, NoticeFn notice);

  // Serves until `stop` becomes true (checked at least every 200 ms).
  absl::Status Run(const std::atomic<bool>& stop);

  // Processes one received frame as Run() does (exposed for tests).
  void HandleFrame(size_t ring_index, const RxFrame& frame, uint64_t now_ns);
  // Answers held offers that are due; sends what is queued.
  void Tick(uint64_t now_ns);

  const Counters& counters() const { return counters_; }
  RingStats ring_stats();
  size_t held() const { return holds_.size(); }

 private:
  struct Port {
    std::unique_ptr<PacketRing> ring;
    MacAddress mac;
    std::vector<InterfaceAddress> addresses;
    bool multi_address;
  };

  // Whether any ring has a frame waiting (no syscall).
  bool AnyReady() const;
  // Spins up to options_.busy_poll_ns for a frame; true if one came.
  bool BusyPoll(const std::atomic<bool>& stop) const;
  void Learn(size_t port_index, uint64_t now_ns);
  void Reply(size_t port_index, const Request& request, uint64_t now_ns);
  void Record(const Request& request, std::span<const uint8_t> reply,
              DropReason reason);

  const BootPolicy& policy_;
  std::vector<Port> ports_;
  WorkerOptions options_;
  ClientLogFn client_log_;
  NoticeFn notice_;
  OfferTable offers_;
  HoldQueue holds_;
  DuplicateFilter duplicates_;
  Counters counters_;
  std::unique_ptr<Request> request_;  // scratch, reused for every frame
  std::vector<RxFrame> batch_;
  bool warned_pxe_server_ = false;
};

// CLOCK_MONOTONIC in nanoseconds.
uint64_t MonotonicNowNs();

}  // namespace pxe

#endif  // PXE_CAPTURE_WORKER_H_
