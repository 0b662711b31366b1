// Network byte order loads and stores at explicit offsets. Callers check bounds
// before calling; these helpers never look outside [p, p + width).
#ifndef PXE_ENGINE_BYTE_ORDER_H_
#define PXE_ENGINE_BYTE_ORDER_H_

#include <array>
#include <cstdint>
#include <cstring>

namespace pxe {

using MacAddress = std::array<uint8_t, 6>;
// IPv6 addresses travel as their 16 bytes in network order.
using Ipv6Address = std::array<uint8_t, 16>;
inline constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff};

// IPv4 addresses travel through the engine as uint32_t in host byte order:
// 10.77.0.1 == 0x0A4D0001.
constexpr uint32_t MakeIpv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

inline uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

inline uint32_t LoadBe32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

inline void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline void StoreBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

inline MacAddress LoadMac(const uint8_t* p) {
  MacAddress mac;
  std::memcpy(mac.data(), p, mac.size());
  return mac;
}

}  // namespace pxe

#endif  // PXE_ENGINE_BYTE_ORDER_H_
