#include "engine/ipxe_loop_detector.h"

#include <algorithm>
#include <bit>

#include "engine/offer_table.h"

namespace pxe {
namespace {

uint64_t KeyOf(const MacAddress& mac) {
  return uint64_t{1} << 48 | uint64_t{LoadBe16(mac.data())} << 32 |
         LoadBe32(mac.data() + 2);
}

// FNV-1a, 64 bits; never 0 (0 means "no file").
uint64_t HashFile(std::string_view file) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : file) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

}  // namespace

IpxeLoopDetector::IpxeLoopDetector(size_t capacity, uint64_t window_ns)
    : window_ns_(window_ns),
      mask_(std::bit_ceil(std::max(capacity, kProbe)) - 1),
      entries_(new Entry[mask_ + 1]()) {}

IpxeLoopDetector::Entry* IpxeLoopDetector::Find(const MacAddress& mac,
                                                bool create) {
  const uint64_t key = KeyOf(mac);
  const size_t home = HashMac(mac) & mask_;
  Entry* victim = &entries_[home];
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = entries_[(home + i) & mask_];
    if (e.key == key) return &e;
    if (e.key == 0 || e.given_ns < victim->given_ns) victim = &e;
    if (e.key == 0) break;
  }
  if (!create) return nullptr;
  *victim = Entry{.key = key};
  return victim;
}

uint32_t IpxeLoopDetector::Discover(const MacAddress& mac,
                                    std::string_view ipxe_file,
                                    uint64_t now_ns) {
  Entry* e = Find(mac, /*create=*/true);
  // Still the exchange that began earlier (a retransmit, or a DISCOVER
  // before the client chose an offer): nothing new.
  if (e->file_hash == 0 || !e->selected) return 0;
  const bool loop = !ipxe_file.empty() && e->file_hash == HashFile(ipxe_file) &&
                    now_ns - e->given_ns <= window_ns_;
  // A new exchange begins.
  e->file_hash = 0;
  e->selected = false;
  e->loops = loop ? e->loops + 1 : 0;
  return e->loops;
}

void IpxeLoopDetector::FileGiven(const MacAddress& mac, std::string_view file,
                                 uint64_t now_ns) {
  if (file.empty()) return;
  Entry* e = Find(mac, /*create=*/true);
  e->file_hash = HashFile(file);
  e->given_ns = now_ns;
}

void IpxeLoopDetector::Selected(const MacAddress& mac) {
  if (Entry* e = Find(mac, /*create=*/false)) e->selected = true;
}

}  // namespace pxe
