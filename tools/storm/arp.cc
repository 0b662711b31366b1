#include "tools/storm/arp.h"

#include <cstring>

#include "engine/frame.h"

namespace pxe::storm {
namespace {

// RFC 826 fields after the Ethernet header.
constexpr size_t kArpSize = 28;
constexpr uint16_t kHardwareEthernet = 1;
constexpr uint16_t kOpRequest = 1;
constexpr uint16_t kOpReply = 2;

}  // namespace

std::optional<ArpRequest> ParseArpRequest(std::span<const uint8_t> frame) {
  if (frame.size() < kEthernetHeaderSize + kArpSize ||
      LoadBe16(frame.data() + 12) != kEtherTypeArp) {
    return std::nullopt;
  }
  const uint8_t* a = frame.data() + kEthernetHeaderSize;
  if (LoadBe16(a) != kHardwareEthernet || LoadBe16(a + 2) != kEtherTypeIpv4 ||
      a[4] != 6 || a[5] != 4 || LoadBe16(a + 6) != kOpRequest) {
    return std::nullopt;
  }
  return ArpRequest{.sender_mac = LoadMac(a + 8),
                    .sender_ip = LoadBe32(a + 14),
                    .target_ip = LoadBe32(a + 24)};
}

size_t BuildArpReply(const ArpRequest& request, const MacAddress& mac,
                     std::span<uint8_t> out) {
  if (out.size() < kArpFrameSize) return 0;
  uint8_t* p = out.data();
  std::memset(p, 0, kArpFrameSize);
  std::memcpy(p, request.sender_mac.data(), 6);
  std::memcpy(p + 6, mac.data(), 6);
  StoreBe16(p + 12, kEtherTypeArp);
  uint8_t* a = p + kEthernetHeaderSize;
  StoreBe16(a, kHardwareEthernet);
  StoreBe16(a + 2, kEtherTypeIpv4);
  a[4] = 6;
  a[5] = 4;
  StoreBe16(a + 6, kOpReply);
  std::memcpy(a + 8, mac.data(), 6);
  StoreBe32(a + 14, request.target_ip);
  std::memcpy(a + 18, request.sender_mac.data(), 6);
  StoreBe32(a + 24, request.sender_ip);
  return kArpFrameSize;
}

}  // namespace pxe::storm
