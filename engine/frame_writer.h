// Writers for the Ethernet, 802.1Q, IPv4, IPv6 and UDP headers of the frames
// the engine builds (proxy replies, client requests). The caller has zeroed and
// sized the buffer; the UDP checksum is left to the caller, who knows which
// parts of the payload are non-zero.
#ifndef PXE_ENGINE_FRAME_WRITER_H_
#define PXE_ENGINE_FRAME_WRITER_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "engine/byte_order.h"
#include "engine/checksum.h"
#include "engine/frame.h"

namespace pxe {

// Ethernet header, with an 802.1Q tag when `vlan_tci` is set. Returns its
// length (14 or 18): where the IP header starts.
inline size_t WriteEthernetHeader(uint8_t* frame, const MacAddress& dst,
                                  const MacAddress& src,
                                  std::optional<uint16_t> vlan_tci,
                                  uint16_t ethertype = kEtherTypeIpv4) {
  std::memcpy(frame, dst.data(), 6);
  std::memcpy(frame + 6, src.data(), 6);
  if (!vlan_tci) {
    StoreBe16(frame + 12, ethertype);
    return kEthernetHeaderSize;
  }
  StoreBe16(frame + 12, kEtherTypeVlan);
  StoreBe16(frame + 14, *vlan_tci);
  StoreBe16(frame + 16, ethertype);
  return kEthernetHeaderSize + kVlanTagSize;
}

struct Ipv4UdpHeader {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t udp_length = 0;  // UDP header + payload
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
};

// IPv4 (IHL 5, TTL 64, header checksum) then UDP (checksum 0, to be filled).
// Returns the UDP header.
inline uint8_t* WriteIpv4UdpHeaders(uint8_t* ip, const Ipv4UdpHeader& h) {
  constexpr uint8_t kTtl = 64;
  constexpr uint16_t kDontFragment = 0x4000;
  ip[0] = 0x45;
  ip[1] = h.tos;
  StoreBe16(ip + 2, static_cast<uint16_t>(kIpv4MinHeaderSize + h.udp_length));
  StoreBe16(ip + 4, h.id);
  StoreBe16(ip + 6, h.dont_fragment ? kDontFragment : 0);
  ip[8] = kTtl;
  ip[9] = kIpProtoUdp;
  StoreBe16(ip + 10, 0);
  StoreBe32(ip + 12, h.src_ip);
  StoreBe32(ip + 16, h.dst_ip);
  StoreBe16(ip + 10, ChecksumFinish(ChecksumAdd(0, {ip, kIpv4MinHeaderSize})));
  uint8_t* udp = ip + kIpv4MinHeaderSize;
  StoreBe16(udp, h.src_port);
  StoreBe16(udp + 2, h.dst_port);
  StoreBe16(udp + 4, h.udp_length);
  StoreBe16(udp + 6, 0);
  return udp;
}

struct Ipv6UdpHeader {
  std::array<uint8_t, 16> src_ip{};
  std::array<uint8_t, 16> dst_ip{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t udp_length = 0;  // UDP header + payload
};

// IPv6 (RFC 8200 §3: traffic class 0, no flow label, hop limit 64) then
// UDP (checksum 0, to be filled). Returns the UDP header.
inline uint8_t* WriteIpv6UdpHeaders(uint8_t* ip, const Ipv6UdpHeader& h) {
  constexpr uint8_t kHopLimit = 64;
  constexpr size_t kHeaderSize = 40;
  StoreBe32(ip, uint32_t{6} << 28);
  StoreBe16(ip + 4, h.udp_length);
  ip[6] = kIpProtoUdp;
  ip[7] = kHopLimit;
  std::memcpy(ip + 8, h.src_ip.data(), 16);
  std::memcpy(ip + 24, h.dst_ip.data(), 16);
  uint8_t* udp = ip + kHeaderSize;
  StoreBe16(udp, h.src_port);
  StoreBe16(udp + 2, h.dst_port);
  StoreBe16(udp + 4, h.udp_length);
  StoreBe16(udp + 6, 0);
  return udp;
}

}  // namespace pxe

#endif  // PXE_ENGINE_FRAME_WRITER_H_
