// What a worker measures besides its responder's counts (ResponderStats):
// its rings' PACKET_STATISTICS, the requests it holds and the offers it
// remembers, and how long each reply took. Written by the worker only, read
// by the metrics thread while the worker runs (RelaxedCounter).
#ifndef PXE_CAPTURE_WORKER_STATS_H_
#define PXE_CAPTURE_WORKER_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/relaxed_counter.h"

namespace pxe {

// Reply latency: from the kernel's receive timestamp of the request (the
// tpacket header) to the reply handed to the transmit ring. Fixed buckets,
// each counting the observations up to its bound and above the one before
// (not cumulative: the exposition adds them up).
class LatencyHistogram {
 public:
  // Upper bounds in nanoseconds: 10 us to 2.5 s, then +Inf.
  static constexpr std::array<uint64_t, 17> kBoundsNs = {
      10'000,        25'000,       50'000,      100'000,     250'000,
      500'000,       1'000'000,    2'500'000,   5'000'000,   10'000'000,
      25'000'000,    50'000'000,   100'000'000, 250'000'000, 500'000'000,
      1'000'000'000, 2'500'000'000};
  static constexpr size_t kBuckets = kBoundsNs.size() + 1;  // + the +Inf one

  // Owner only.
  void Observe(uint64_t ns) {
    size_t i = 0;
    while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
    buckets_[i].Increment();
    sum_ns_.Add(ns);
  }
  // Any thread. Bucket i holds (kBoundsNs[i-1], kBoundsNs[i]]; the last,
  // everything above the last bound.
  uint64_t bucket(size_t i) const { return buckets_[i].load(); }
  uint64_t sum_ns() const { return sum_ns_.load(); }

 private:
  std::array<RelaxedCounter, kBuckets> buckets_{};
  RelaxedCounter sum_ns_;
};

// One worker's. Its own cache lines: the worker writes it at every reply.
struct alignas(64) WorkerStats {
  // PACKET_STATISTICS of every ring the worker has had (the kernel resets
  // them on each read: these are the running totals), refreshed about once
  // a second.
  RelaxedCounter ring_packets;
  RelaxedCounter ring_drops;
  RelaxedCounter tx_errors;
  // Gauges: requests held now (waiting for the DHCP server's offer, or
  // delayed by a rule), refreshed every turn of the loop; offers learned
  // and not expired, refreshed about once a second.
  RelaxedCounter held;
  RelaxedCounter learned_offers;
  LatencyHistogram latency;
};

// Rule names to reply counter slots (ResponderStats::replies), for the life
// of the process: a name keeps its slot across reloads, whatever its index
// in the policy. Slot 0 is the defaults; when every slot is taken, further
// names share kOverflowRuleSlot. Thread-safe; not for the packet path.
class RuleSlotTable {
 public:
  RuleSlotTable();
  // The slot of `name`, given one on first sight.
  uint16_t SlotOf(std::string_view name);
  // Each slot's name, by slot (slot 0: "", the defaults).
  std::vector<std::string> Names() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> names_;  // by slot
};

}  // namespace pxe

#endif  // PXE_CAPTURE_WORKER_STATS_H_
