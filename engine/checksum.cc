#include "engine/checksum.h"

#include <cstring>

namespace pxe {

uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  // Sum big-endian 32-bit words into 64 bits: no carry is lost for any frame
  // we handle (2^32 words would be needed to overflow).
  while (n >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    sum += __builtin_bswap32(a);
    sum += __builtin_bswap32(b);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a;
    std::memcpy(&a, p, 4);
    sum += __builtin_bswap32(a);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
    p += 2;
    n -= 2;
  }
  if (n == 1) sum += static_cast<uint32_t>(p[0] << 8);
  return sum;
}

uint16_t ChecksumFinish(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace pxe
