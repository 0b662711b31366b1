// The Internet checksum (RFC 1071) over byte ranges, for IPv4 headers and UDP
// over IPv4 and IPv6.
#ifndef PXE_ENGINE_CHECKSUM_H_
#define PXE_ENGINE_CHECKSUM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace pxe {

// Adds `data` to a running one's-complement sum. Chunks must start at even
// offsets of the checksummed message (all callers here do). Inline: the
// packet path calls it for small pieces, several times per frame.
namespace checksum_internal {

// Adds with end-around carry: the one's-complement sum of 64-bit words.
inline uint64_t AddCarry(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? sum + 1 : sum;
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace checksum_internal

// The one's-complement sum does not depend on byte order (RFC 1071 §2(B)):
// sum the data as native 64-bit words, fold to 16 bits, and swap once to
// network order at the end, instead of swapping every word.
inline uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data) {
  using checksum_internal::AddCarry;
  using checksum_internal::Load64;
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t a = 0, b = 0;  // two chains, so the adds can run in parallel
  while (n >= 32) {
    a = AddCarry(a, Load64(p));
    b = AddCarry(b, Load64(p + 8));
    a = AddCarry(a, Load64(p + 16));
    b = AddCarry(b, Load64(p + 24));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    a = AddCarry(a, Load64(p));
    p += 8;
    n -= 8;
  }
  if (n != 0) {
    // The tail, zero-padded: a lone last byte is the high byte of its
    // 16-bit word in network order, the low byte in native order.
    // Fixed-size pieces, so no call to a variable-length memcpy.
    uint64_t tail = 0;
    size_t at = 0;
    if (n & 4) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      tail = v;
      at = 4;
    }
    if (n & 2) {
      uint16_t v;
      std::memcpy(&v, p + at, 2);
      tail |= uint64_t{v} << (8 * at);
      at += 2;
    }
    if (n & 1) tail |= uint64_t{p[at]} << (8 * at);
    b = AddCarry(b, tail);
  }
  uint64_t folded = AddCarry(a, b);
  folded = (folded & 0xFFFFFFFF) + (folded >> 32);
  folded = (folded & 0xFFFF) + (folded >> 16);
  folded = (folded & 0xFFFF) + (folded >> 16);
  folded = (folded & 0xFFFF) + (folded >> 16);
  // Native order is little-endian on every target this runs on (x86-64,
  // arm64); the tail assembly above assumes it too.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
  folded = __builtin_bswap16(static_cast<uint16_t>(folded));
  return sum + folded;
}

// Folds a running sum to 16 bits and complements it: the value to put on the
// wire. A message that already contains its checksum folds to 0.
inline uint16_t ChecksumFinish(uint64_t sum) {
  sum = (sum & 0xFFFFFFFF) + (sum >> 32);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Sum of the UDP pseudo header (RFC 768): addresses, protocol 17, length.
inline uint64_t UdpPseudoHeaderSum(uint32_t src, uint32_t dst,
                                   uint16_t udp_length) {
  return uint64_t{src >> 16} + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) +
         17 + udp_length;
}

// Sum of the IPv6 pseudo header for UDP (RFC 8200 §8.1): addresses, the
// upper-layer length as 32 bits, next header 17.
inline uint64_t Udp6PseudoHeaderSum(const std::array<uint8_t, 16>& src,
                                    const std::array<uint8_t, 16>& dst,
                                    uint32_t udp_length) {
  uint64_t sum = ChecksumAdd(0, src);
  sum = ChecksumAdd(sum, dst);
  return sum + (udp_length >> 16) + (udp_length & 0xFFFF) + 17;
}

}  // namespace pxe

#endif  // PXE_ENGINE_CHECKSUM_H_
