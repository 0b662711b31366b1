// The Internet checksum against a plain RFC 1071 reference (16-bit
// big-endian words, one at a time), over every length and split point.
#include "engine/checksum.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace pxe {
namespace {

uint16_t Reference(const std::vector<uint8_t>& data, uint32_t extra) {
  uint64_t sum = extra;
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += uint32_t{data[i]} << 8 | (i + 1 < data.size() ? data[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

TEST(ChecksumTest, MatchesReferenceForEveryLengthAndEvenSplit) {
  std::mt19937 rng(1071);
  for (size_t length = 0; length <= 600; ++length) {
    std::vector<uint8_t> data(length);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    const uint32_t extra = rng() & 0xFFFFF;  // like a pseudo-header sum
    const uint16_t expected = Reference(data, extra);
    EXPECT_EQ(ChecksumFinish(ChecksumAdd(extra, data)), expected)
        << "length " << length;
    // Split at even offsets, as callers do for non-contiguous pieces.
    for (size_t split = 0; split <= length; split += 2 * (1 + length / 14)) {
      const std::span<const uint8_t> all(data);
      const uint64_t sum =
          ChecksumAdd(ChecksumAdd(extra, all.first(split)), all.subspan(split));
      EXPECT_EQ(ChecksumFinish(sum), expected)
          << "length " << length << " split " << split;
    }
  }
}

TEST(ChecksumTest, AllOnesAndCarries) {
  // 0xFFFF words summed many times exercise every carry path.
  std::vector<uint8_t> ones(1500, 0xFF);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, ones)), Reference(ones, 0));
  std::vector<uint8_t> zeros(64, 0);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, zeros)), 0xFFFF);
}

TEST(ChecksumTest, MessageWithItsChecksumVerifiesToZero) {
  // An IPv4 header from RFC 1071-style examples: 45 00 00 73 00 00 40 00 40
  // 11 [b8 61] c0 a8 00 01 c0 a8 00 c7.
  const std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                       0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                       0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, header)), 0);
  std::vector<uint8_t> zeroed = header;
  zeroed[10] = zeroed[11] = 0;
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, zeroed)), 0xb861);
}

}  // namespace
}  // namespace pxe
