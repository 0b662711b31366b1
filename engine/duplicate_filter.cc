#include "engine/duplicate_filter.h"

#include <bit>

#include "engine/offer_table.h"

namespace pxe {

DuplicateFilter::DuplicateFilter(size_t capacity, uint64_t window_ns)
    : mask_(std::bit_ceil(capacity < kProbe ? kProbe : capacity) - 1),
      window_ns_(window_ns),
      entries_(new Entry[mask_ + 1]()) {}

bool DuplicateFilter::SeenRecently(const MacAddress& chaddr, uint32_t xid,
                                   uint8_t type, uint16_t port,
                                   uint64_t now_ns) {
  // The port as 1 (67) or 2 (other): never 0, which marks an empty slot.
  const uint64_t key = uint64_t{LoadBe16(chaddr.data())} << 48 |
                       uint64_t{LoadBe32(chaddr.data() + 2)} << 16 |
                       uint64_t{type} << 8 | (port == 67 ? 1u : 2u);
  const size_t home = (HashMac(chaddr) ^ xid) & mask_;
  Entry* victim = &entries_[home];
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(home + i) & mask_];
    if (e.key == key && e.xid == xid) {
      if (now_ns - e.seen_ns < window_ns_) return true;
      victim = &e;
      break;
    }
    if (e.seen_ns < victim->seen_ns) victim = &e;
  }
  *victim = Entry{key, xid, now_ns};
  return false;
}

}  // namespace pxe
