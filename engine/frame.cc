#include "engine/frame.h"

#include "engine/checksum.h"

namespace pxe {

DropReason ParseFrame(std::span<const uint8_t> frame, const RxMeta& meta,
                      FrameView* out) {
  EthernetView eth;
  if (DropReason d = ParseEthernet(frame, meta, &eth); d != DropReason::kNone) {
    return d;
  }
  out->eth_dst = eth.eth_dst;
  out->eth_src = eth.eth_src;
  out->has_vlan = eth.has_vlan;
  out->vlan_tci = eth.vlan_tci;
  if (eth.ethertype != kEtherTypeIpv4) return DropReason::kNotIpv4;
  const uint8_t* p = frame.data();
  const size_t size = frame.size();
  const size_t offset = eth.payload_offset;

  // IPv4 (RFC 791).
  const uint8_t* ip = p + offset;
  size_t ip_room = size - offset;
  if (ip_room < kIpv4MinHeaderSize) return DropReason::kFrameTooShort;
  const size_t ihl = size_t{ip[0] & 0x0Fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIpv4MinHeaderSize) {
    return DropReason::kBadIpHeader;
  }
  const size_t total_length = LoadBe16(ip + 2);
  // Ethernet pads short frames, so the frame may be longer than the packet.
  if (total_length < ihl || total_length > ip_room) {
    return DropReason::kBadIpLength;
  }
  if (ChecksumFinish(ChecksumAdd(0, {ip, ihl})) != 0) {
    return DropReason::kBadIpChecksum;
  }
  // MF set or a non-zero fragment offset: the DHCP message is incomplete.
  if ((LoadBe16(ip + 6) & 0x3FFF) != 0) return DropReason::kIpFragment;
  if (ip[9] != kIpProtoUdp) return DropReason::kNotUdp;
  out->ip_tos = ip[1];
  out->ip_src = LoadBe32(ip + 12);
  out->ip_dst = LoadBe32(ip + 16);

  // UDP (RFC 768).
  const uint8_t* udp = ip + ihl;
  const size_t udp_room = total_length - ihl;
  if (udp_room < kUdpHeaderSize) return DropReason::kBadUdpLength;
  const size_t udp_length = LoadBe16(udp + 4);
  if (udp_length < kUdpHeaderSize || udp_length > udp_room) {
    return DropReason::kBadUdpLength;
  }
  const uint16_t wire_checksum = LoadBe16(udp + 6);
  // Zero means the sender computed none (allowed over IPv4).
  if (wire_checksum != 0 && meta.udp_checksum == UdpChecksumStatus::kUnknown) {
    uint64_t sum = UdpPseudoHeaderSum(out->ip_src, out->ip_dst,
                                      static_cast<uint16_t>(udp_length));
    if (ChecksumFinish(ChecksumAdd(sum, {udp, udp_length})) != 0) {
      return DropReason::kBadUdpChecksum;
    }
  }
  out->udp_src = LoadBe16(udp);
  out->udp_dst = LoadBe16(udp + 2);
  out->payload = {udp + kUdpHeaderSize, udp_length - kUdpHeaderSize};
  return DropReason::kNone;
}

}  // namespace pxe
