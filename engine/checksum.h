// The Internet checksum (RFC 1071) over byte ranges, for IPv4 headers and UDP.
#ifndef PXE_ENGINE_CHECKSUM_H_
#define PXE_ENGINE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace pxe {

// Adds `data` to a running one's-complement sum. Chunks must start at even
// offsets of the checksummed message (all callers here do), except the last.
uint64_t ChecksumAdd(uint64_t sum, std::span<const uint8_t> data);

// Folds a running sum to 16 bits and complements it: the value to put on the
// wire. A message that already contains its checksum folds to 0.
uint16_t ChecksumFinish(uint64_t sum);

// Sum of the UDP pseudo header (RFC 768): addresses, protocol 17, length.
inline uint64_t UdpPseudoHeaderSum(uint32_t src, uint32_t dst,
                                   uint16_t udp_length) {
  return uint64_t{src >> 16} + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) +
         17 + udp_length;
}

}  // namespace pxe

#endif  // PXE_ENGINE_CHECKSUM_H_
