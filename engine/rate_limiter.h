// Rate limits for the packet path, as the generic cell rate algorithm
// (GCRA, ITU-T I.371): a token bucket kept as one timestamp, the time at
// which the bucket would be full again. Nothing allocates after
// construction and every check is O(1).
//
// RateLimit is one bucket (a whole interface's replies); ClientRateLimiter
// keeps one per client MAC in a bounded table, so that one machine sending
// DISCOVERs with new xids cannot draw a broadcast offer for each. When the
// table is full, the most idle entry is forgotten: a client that loses its
// entry starts again with a full bucket, so a flood of made-up MACs can
// never slow a real client, only stop being limited itself.
#ifndef PXE_ENGINE_RATE_LIMITER_H_
#define PXE_ENGINE_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/byte_order.h"

namespace pxe {

// `rate` events per `period_ns`, up to `burst` at once. rate 0: no limit.
class RateLimit {
 public:
  RateLimit() = default;
  RateLimit(uint32_t rate, uint64_t period_ns, uint32_t burst);

  // True (and the event counted) if an event at `now_ns` is within the
  // limit.
  bool Allow(uint64_t now_ns) { return Allow(now_ns, &full_at_ns_); }
  // The same for a bucket kept elsewhere (`*full_at_ns`, 0 = full).
  bool Allow(uint64_t now_ns, uint64_t* full_at_ns) const;
  bool unlimited() const { return interval_ns_ == 0; }

 private:
  uint64_t interval_ns_ = 0;   // one token's worth of time; 0 = no limit
  uint64_t tolerance_ns_ = 0;  // (burst - 1) intervals
  uint64_t full_at_ns_ = 0;
};

class ClientRateLimiter {
 public:
  ClientRateLimiter(const RateLimit& limit, size_t capacity);

  // True if `mac` may be answered at `now_ns` (and counts the request).
  bool Allow(const MacAddress& mac, uint64_t now_ns);

 private:
  static constexpr size_t kProbe = 4;
  struct Entry {
    uint64_t key = 0;  // the MAC, with bit 48 set; 0 = empty
    uint64_t full_at_ns = 0;
  };

  RateLimit limit_;
  size_t mask_;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_RATE_LIMITER_H_
