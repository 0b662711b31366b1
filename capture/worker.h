// The worker loop: reads frames from its packet rings in batches, hands
// them to its Responder (engine/responder.h) with the clock, and flushes the
// replies the responder wrote into the transmit rings. Between batches it
// picks up the current policy snapshot and the interface changes posted to
// it (Post()). One Worker per thread; it owns its rings and its responder,
// and shares only the snapshot cell and its mailbox.
#ifndef PXE_CAPTURE_WORKER_H_
#define PXE_CAPTURE_WORKER_H_

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "capture/bpf_filter.h"
#include "capture/packet_ring.h"
#include "capture/unique_fd.h"
#include "capture/worker_stats.h"
#include "engine/policy_snapshot.h"
#include "engine/relaxed_counter.h"
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

// What the responder answers with on an interface.
ResponderPort PortOf(const InterfaceInfo& info);

// A change to one of a worker's ports, made by the thread that follows the
// interfaces and applied by the worker between two batches.
struct PortUpdate {
  size_t port = 0;
  // What the responder answers with on this port from now on.
  ResponderPort responder_port;
  // Replace the port's ring with `ring`; a null `ring` closes it (the
  // interface is gone: nothing is read or sent there until a new ring).
  bool replace_ring = false;
  std::unique_ptr<PacketRing> ring;
  // A new socket filter for the port's ring (its addresses changed).
  std::optional<BpfProgram> filter;
};

// What a worker serves at start.
struct WorkerPorts {
  // Port i answers with ports[i] and reads rings[i], which may be null (its
  // interface is not there yet: a PortUpdate brings the ring).
  std::vector<ResponderPort> ports;
  std::vector<std::unique_ptr<PacketRing>> rings;
  // An eventfd that Post() writes to wake the worker from poll(); made
  // with the sockets, before the daemon gives up the right to make one.
  // Invalid: a change waits for the worker's next wake-up (at most 200 ms).
  UniqueFd wake;
};

class Worker : private ReplySink {
 public:
  // `index` is this worker's reader slot in `policy`. `rule_slots` (may be
  // null: rule i counts in slot i + 1) names the reply counter slot of each
  // rule, shared by the workers; it must outlive the worker.
  Worker(SnapshotCell<PolicySnapshot>* policy, size_t index, WorkerPorts ports,
         const WorkerOptions& options, ClientLogFn client_log, NoticeFn notice,
         RuleSlotTable* rule_slots = nullptr);

  // Serves until `stop` becomes true (checked at least every 200 ms). An
  // interface that goes down or away does not end it: the thread that
  // follows the interfaces posts what to do.
  absl::Status Run(const std::atomic<bool>& stop);

  // From any thread: queues `update` and wakes the worker, which applies it
  // before its next batch.
  void Post(PortUpdate update);
  // From any thread: wakes the worker from poll() now, e.g. to see the stop
  // flag at once rather than at its next time-out (up to 200 ms).
  void Wake();

  const Counters& counters() const { return responder_.counters(); }
  // Every ring's, including those closed since the start. Call once the
  // worker has stopped.
  RingStats ring_stats();
  size_t held() const { return responder_.held(); }
  // Turns of the loop so far: it moves at least every 200 ms while the
  // worker is healthy, idle or not (the watchdog watches it).
  uint64_t turns() const { return turns_.load(); }

  // For metrics, from any thread while the worker runs: the responder's
  // counts, and the worker's own (ring statistics at most about a second
  // old).
  const ResponderStats& responder_stats() const { return responder_.stats(); }
  const WorkerStats& stats() const { return stats_; }
  // The interface of each port, by port (fixed at construction).
  const std::vector<std::string>& port_names() const { return port_names_; }

 private:
  // ReplySink: the transmit rings.
  std::span<uint8_t> NextSlot(size_t port) override;
  void Commit(size_t port, size_t size, const RxMeta& request) override;

  // Whether any ring has a frame waiting (no syscall).
  bool AnyReady() const;
  // Spins up to options_.busy_poll_ns for a frame or a posted change; true
  // if one came.
  bool BusyPoll(const std::atomic<bool>& stop) const;
  void FlushAll();
  // Takes the posted updates and applies them (a control path: it may
  // allocate and lock).
  void ApplyUpdates();
  // The poll() set: every open ring, then the wake-up eventfd.
  void BuildPollSet();
  // Takes the current policy snapshot; a new one gets its rule slots.
  void AcquirePolicy();
  // Refreshes the statistics read from the kernel and the tables into
  // stats_: about once a second, or now when `now_or_never`.
  void RefreshStats(uint64_t now_ns, bool now_or_never = false);

  SnapshotCell<PolicySnapshot>* policy_;
  size_t index_;
  std::vector<std::unique_ptr<PacketRing>> rings_;  // by port; null: closed
  WorkerOptions options_;
  Responder responder_;
  std::vector<RxFrame> batch_;
  std::vector<pollfd> poll_set_;
  std::vector<size_t> poll_ports_;  // the port of each ring in poll_set_
  RingStats closed_stats_;          // of the rings closed so far
  RuleSlotTable* rule_slots_;       // may be null
  const PolicySnapshot* acquired_ = nullptr;  // the snapshot last acquired
  std::vector<uint16_t> acquired_slots_;      // its rule slots, by rule
  uint64_t stats_due_ns_ = 0;                 // next RefreshStats()
  std::vector<std::string> port_names_;
  WorkerStats stats_;

  // The mailbox: Post() fills it under the mutex and raises the flag, which
  // the loop reads with a relaxed load between batches; the eventfd wakes a
  // worker that sleeps in poll().
  std::mutex mailbox_mutex_;
  std::vector<PortUpdate> mailbox_;
  std::atomic<bool> mail_{false};
  UniqueFd wake_;
  NoticeFn notice_;
  RelaxedCounter turns_;  // written by the worker only
};

// CLOCK_MONOTONIC in nanoseconds.
uint64_t MonotonicNowNs();

}  // namespace pxe

#endif  // PXE_CAPTURE_WORKER_H_
