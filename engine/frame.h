// Read-only views of an Ethernet frame carrying IPv4/UDP: the first stage of
// the packet path. Nothing is copied but a few header fields; the payload is a
// span into the caller's bytes, which must outlive the view.
#ifndef PXE_ENGINE_FRAME_H_
#define PXE_ENGINE_FRAME_H_

#include <cstdint>
#include <span>

#include "engine/byte_order.h"
#include "engine/drop_reason.h"

namespace pxe {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q C-tag
// Outer tags of stacked VLANs (QinQ): 802.1ad, and the older 0x9100.
inline constexpr uint16_t kEtherTypeServiceVlan = 0x88A8;
inline constexpr uint16_t kEtherTypeQinq9100 = 0x9100;
inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr size_t kVlanTagSize = 4;
inline constexpr size_t kIpv4MinHeaderSize = 20;
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr uint8_t kIpProtoUdp = 17;

inline constexpr uint16_t kDhcpServerPort = 67;  // RFC 2131
inline constexpr uint16_t kDhcpClientPort = 68;
inline constexpr uint16_t kPxeServerPort = 4011;  // PXE 2.1 boot server

// What the capture layer knows about the frame beyond its bytes.
enum class UdpChecksumStatus : uint8_t {
  kUnknown,   // verify a non-zero checksum (pcap files, frames off the wire)
  kNotReady,  // TP_STATUS_CSUMNOTREADY: partial, not yet computed; skip
  kVerified,  // TP_STATUS_CSUM_VALID: the kernel or NIC checked it; skip
};

struct RxMeta {
  // The VLAN tag the kernel stripped (tp_vlan_tci with TP_STATUS_VLAN_VALID)
  // and its TPID (tp_vlan_tpid; 0 when the kernel does not say: 0x8100). A
  // tag inside the frame itself (pcap files, the inner tag of QinQ) is read
  // from the frame.
  bool vlan_valid = false;
  uint16_t vlan_tci = 0;
  uint16_t vlan_tpid = 0;
  UdpChecksumStatus udp_checksum = UdpChecksumStatus::kUnknown;
  uint64_t timestamp_ns = 0;  // receive time, for the caller's bookkeeping
  uint32_t ifindex = 0;
};

// Headers of one IPv4/UDP frame, checked: lengths, IPv4 header checksum, no
// fragment, UDP length, UDP checksum (per RxMeta::udp_checksum).
struct FrameView {
  MacAddress eth_dst{};
  MacAddress eth_src{};
  bool has_vlan = false;
  uint16_t vlan_tci = 0;  // PCP, DEI and VLAN id, as on the wire
  uint8_t ip_tos = 0;
  uint32_t ip_src = 0;
  uint32_t ip_dst = 0;
  uint16_t udp_src = 0;
  uint16_t udp_dst = 0;
  std::span<const uint8_t> payload;  // UDP payload, bounded by UDP length

  uint16_t vlan_id() const { return vlan_tci & 0x0FFF; }
};

// The link layer of a frame: addresses, the 802.1Q tag (in the frame, or
// the one the kernel stripped), the ethertype after it and where its payload
// starts. Shared by the IPv4 and IPv6 parsers.
struct EthernetView {
  MacAddress eth_dst{};
  MacAddress eth_src{};
  bool has_vlan = false;
  uint16_t vlan_tci = 0;
  uint16_t ethertype = 0;
  size_t payload_offset = 0;
};

// Parses the Ethernet header and at most one 802.1Q tag, with the same
// rules as ParseFrame(); the ethertype is not checked. Inline: the first
// step of every frame.
inline DropReason ParseEthernet(std::span<const uint8_t> frame,
                                const RxMeta& meta, EthernetView* out) {
  const uint8_t* p = frame.data();
  const size_t size = frame.size();
  if (size < kEthernetHeaderSize) return DropReason::kFrameTooShort;
  out->eth_dst = LoadMac(p);
  out->eth_src = LoadMac(p + 6);
  uint16_t ethertype = LoadBe16(p + 12);
  size_t offset = kEthernetHeaderSize;
  out->has_vlan = meta.vlan_valid;
  out->vlan_tci = meta.vlan_tci;
  auto is_tag = [](uint16_t type) {
    return type == kEtherTypeVlan || type == kEtherTypeServiceVlan ||
           type == kEtherTypeQinq9100;
  };
  if (meta.vlan_valid && !is_tag(ethertype) && meta.vlan_tpid != 0 &&
      meta.vlan_tpid != kEtherTypeVlan) {
    return DropReason::kServiceVlanTag;
  }
  if (is_tag(ethertype)) {
    if (size < offset + kVlanTagSize) return DropReason::kFrameTooShort;
    if (out->has_vlan) return DropReason::kStackedVlanTags;
    if (ethertype != kEtherTypeVlan) return DropReason::kServiceVlanTag;
    out->has_vlan = true;
    out->vlan_tci = LoadBe16(p + offset);
    ethertype = LoadBe16(p + offset + 2);
    offset += kVlanTagSize;
    if (is_tag(ethertype)) return DropReason::kStackedVlanTags;
  }
  out->ethertype = ethertype;
  out->payload_offset = offset;
  return DropReason::kNone;
}

// Parses `frame` into `out`. One 802.1Q tag is accepted; an 802.1ad S-tag
// or stacked tags (QinQ) are not: a reply would go out with the wrong tags.
// Returns kNone on success, else the first problem found; `out` is then
// partially filled and must not be used.
DropReason ParseFrame(std::span<const uint8_t> frame, const RxMeta& meta,
                      FrameView* out);

}  // namespace pxe

#endif  // PXE_ENGINE_FRAME_H_
