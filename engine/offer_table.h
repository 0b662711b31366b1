// What the LAN's DHCP server offered each client, remembered for a while: a
// bounded, allocation-free table keyed by chaddr (never by xid: a client's
// 4011 request uses a fresh one). It picks the server address in the
// client's subnet on interfaces with several addresses (RFC 2131 §4.1).
//
// Open addressing with a short probe: when every probed slot is live, the
// one closest to expiry is replaced, so the table never grows and never
// fails; under more distinct clients than slots, the oldest are forgotten.
#ifndef PXE_ENGINE_OFFER_TABLE_H_
#define PXE_ENGINE_OFFER_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/byte_order.h"

namespace pxe {

class OfferTable {
 public:
  // `capacity` is rounded up to a power of two; the memory is allocated
  // here, once.
  explicit OfferTable(size_t capacity);

  // Remembers that `mac` was offered `address` until `expires_ns`.
  void Learn(const MacAddress& mac, uint32_t address, uint64_t expires_ns);

  // The address offered to `mac`, or 0 if unknown or expired at `now_ns`.
  uint32_t Lookup(const MacAddress& mac, uint64_t now_ns) const;

  size_t capacity() const { return mask_ + 1; }
  // How many entries are live at `now_ns`: a scan of the whole table.
  size_t LiveEntries(uint64_t now_ns) const;

 private:
  static constexpr size_t kProbe = 8;
  struct Entry {
    MacAddress mac;
    uint32_t address;  // 0 = empty
    uint64_t expires_ns;
  };
  size_t Home(const MacAddress& mac) const;

  size_t mask_;
  std::unique_ptr<Entry[]> entries_;
};

// Hash of a MAC address for tables and fan-out: the low 4 bytes (the NIC
// part, which varies most) mixed with a multiplicative constant.
inline uint32_t HashMac(const MacAddress& mac) {
  const uint64_t key =
      uint64_t{LoadBe16(mac.data())} << 32 | LoadBe32(mac.data() + 2);
  return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 32);
}

}  // namespace pxe

#endif  // PXE_ENGINE_OFFER_TABLE_H_
