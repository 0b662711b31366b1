#include "engine/offer_table.h"

#include <bit>

namespace pxe {

OfferTable::OfferTable(size_t capacity)
    : mask_(std::bit_ceil(capacity < kProbe ? kProbe : capacity) - 1),
      entries_(new Entry[mask_ + 1]()) {}

size_t OfferTable::Home(const MacAddress& mac) const {
  return HashMac(mac) & mask_;
}

void OfferTable::Learn(const MacAddress& mac, uint32_t address,
                       uint64_t expires_ns) {
  if (address == 0) return;
  const size_t home = Home(mac);
  Entry* victim = &entries_[home];
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(home + i) & mask_];
    if (e.address != 0 && e.mac == mac) {
      victim = &e;
      break;
    }
    if (e.expires_ns < victim->expires_ns || e.address == 0) victim = &e;
  }
  *victim = Entry{mac, address, expires_ns};
}

uint32_t OfferTable::Lookup(const MacAddress& mac, uint64_t now_ns) const {
  const size_t home = Home(mac);
  for (size_t i = 0; i < kProbe; ++i) {
    const Entry& e = entries_[(home + i) & mask_];
    if (e.address != 0 && e.mac == mac) {
      return e.expires_ns > now_ns ? e.address : 0;
    }
  }
  return 0;
}

size_t OfferTable::LiveEntries(uint64_t now_ns) const {
  size_t live = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    live += entries_[i].address != 0 && entries_[i].expires_ns > now_ns;
  }
  return live;
}

}  // namespace pxe
