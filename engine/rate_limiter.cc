#include "engine/rate_limiter.h"

#include <algorithm>
#include <bit>

#include "engine/offer_table.h"

namespace pxe {

RateLimit::RateLimit(uint32_t rate, uint64_t period_ns, uint32_t burst)
    : interval_ns_(rate == 0 ? 0 : std::max<uint64_t>(period_ns / rate, 1)),
      tolerance_ns_(rate == 0 ? 0 : interval_ns_ * (std::max(burst, 1u) - 1)) {}

bool RateLimit::Allow(uint64_t now_ns, uint64_t* full_at_ns) const {
  if (interval_ns_ == 0) return true;
  const uint64_t start = std::max(*full_at_ns, now_ns);
  if (start - now_ns > tolerance_ns_) return false;
  *full_at_ns = start + interval_ns_;
  return true;
}

ClientRateLimiter::ClientRateLimiter(const RateLimit& limit, size_t capacity)
    : limit_(limit),
      mask_(std::bit_ceil(std::max(capacity, kProbe)) - 1),
      entries_(new Entry[limit.unlimited() ? 1 : mask_ + 1]()) {}

bool ClientRateLimiter::Allow(const MacAddress& mac, uint64_t now_ns) {
  if (limit_.unlimited()) return true;
  const uint64_t key = uint64_t{1} << 48 |
                       uint64_t{LoadBe16(mac.data())} << 32 |
                       LoadBe32(mac.data() + 2);
  const size_t home = HashMac(mac) & mask_;
  Entry* victim = &entries_[home];
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(home + i) & mask_];
    if (e.key == key) return limit_.Allow(now_ns, &e.full_at_ns);
    // The most idle entry (or an empty one) makes room.
    if (e.key == 0 || e.full_at_ns < victim->full_at_ns) victim = &e;
    if (e.key == 0) break;
  }
  *victim = Entry{.key = key, .full_at_ns = 0};
  return limit_.Allow(now_ns, &victim->full_at_ns);
}

}  // namespace pxe
