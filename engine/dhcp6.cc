#include "engine/dhcp6.h"

#include <cstring>
#include <string_view>

#include "engine/checksum.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

Ipv6Address LoadIpv6(const uint8_t* p) {
  Ipv6Address a;
  std::memcpy(a.data(), p, a.size());
  return a;
}

// The MAC in a DUID-LLT or DUID-LL over Ethernet (RFC 8415 §11.2, §11.4).
bool MacFromDuid(std::span<const uint8_t> duid, MacAddress* mac) {
  if (duid.size() < 4 || LoadBe16(duid.data() + 2) != dhcp6::kHardwareEthernet)
    return false;
  const uint16_t type = LoadBe16(duid.data());
  const size_t at = type == dhcp6::kDuidLlt  ? 8
                    : type == dhcp6::kDuidLl ? 4
                                             : 0;
  if (at == 0 || duid.size() != at + 6) return false;
  *mac = LoadMac(duid.data() + at);
  return true;
}

// Option 16 (RFC 8415 §21.16): enterprise number, then class data items of
// 2-byte length each. The first item of the Intel (343) option: the
// firmware puts "PXEClient:Arch:..." or "HTTPClient:Arch:..." there.
std::span<const uint8_t> IntelVendorClass(std::span<const uint8_t> value) {
  if (value.size() < 6 || LoadBe32(value.data()) != dhcp6::kEnterpriseIntel) {
    return {};
  }
  const size_t length = LoadBe16(value.data() + 4);
  if (value.size() - 6 < length) return {};
  return value.subspan(6, length);
}

}  // namespace

DropReason ParseFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                       FrameView6* out) {
  EthernetView eth;
  if (DropReason d = ParseEthernet(frame, meta, &eth); d != DropReason::kNone) {
    return d;
  }
  out->eth_dst = eth.eth_dst;
  out->eth_src = eth.eth_src;
  out->has_vlan = eth.has_vlan;
  out->vlan_tci = eth.vlan_tci;
  if (eth.ethertype != kEtherTypeIpv6) return DropReason::kNotIpv4;

  // IPv6 (RFC 8200 §3).
  const uint8_t* ip = frame.data() + eth.payload_offset;
  const size_t ip_room = frame.size() - eth.payload_offset;
  if (ip_room < kIpv6HeaderSize) return DropReason::kFrameTooShort;
  if ((ip[0] >> 4) != 6) return DropReason::kBadIpv6Header;
  const size_t payload_length = LoadBe16(ip + 4);
  // Ethernet pads short frames, so the frame may be longer than the packet.
  if (payload_length > ip_room - kIpv6HeaderSize) {
    return DropReason::kBadIpv6Header;
  }
  const uint8_t next_header = ip[6];
  if (next_header == kIpv6NextHeaderFragment) return DropReason::kIpFragment;
  if (next_header != kIpProtoUdp) {
    // Hop-by-hop, routing and destination options (0, 43, 60) are not
    // walked: no DHCPv6 client sends them.
    return next_header == 0 || next_header == 43 || next_header == 60
               ? DropReason::kIpv6ExtensionHeader
               : DropReason::kNotUdp;
  }
  out->ip_src = LoadIpv6(ip + 8);
  out->ip_dst = LoadIpv6(ip + 24);

  // UDP (RFC 768, RFC 8200 §8.1).
  const uint8_t* udp = ip + kIpv6HeaderSize;
  if (payload_length < kUdpHeaderSize) return DropReason::kBadUdpLength;
  const size_t udp_length = LoadBe16(udp + 4);
  if (udp_length < kUdpHeaderSize || udp_length > payload_length) {
    return DropReason::kBadUdpLength;
  }
  if (meta.udp_checksum == UdpChecksumStatus::kUnknown) {
    if (LoadBe16(udp + 6) == 0) return DropReason::kBadUdpChecksum;
    const uint64_t sum = Udp6PseudoHeaderSum(out->ip_src, out->ip_dst,
                                             static_cast<uint32_t>(udp_length));
    if (ChecksumFinish(ChecksumAdd(sum, {udp, udp_length})) != 0) {
      return DropReason::kBadUdpChecksum;
    }
  }
  out->udp_src = LoadBe16(udp);
  out->udp_dst = LoadBe16(udp + 2);
  out->payload = {udp + kUdpHeaderSize, udp_length - kUdpHeaderSize};
  return DropReason::kNone;
}

DropReason ClassifyFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                          Request6* out) {
  Request6& r = *out;
  r = Request6{};
  if (DropReason d = ParseFrame6(frame, meta, &r.frame);
      d != DropReason::kNone) {
    return d;
  }
  const uint16_t port = r.frame.udp_dst;
  if (port != kDhcp6ServerPort && port != kPxeServerPort) {
    return DropReason::kWrongPort;
  }
  std::span<const uint8_t> message = r.frame.payload;
  if (message.size() < dhcp6::kHeaderSize) return DropReason::kDhcp6TooShort;
  std::span<const uint8_t> client_link_layer;

  // A Relay-forward (RFC 8415 §9.1) carries the client's message in option
  // 9. One level is served: a reply through two relays would need every
  // level's Relay-reply, and such a path is rare enough to refuse.
  if (message[0] == static_cast<uint8_t>(dhcp6::MessageType::kRelayForward) &&
      port == kDhcp6ServerPort) {
    if (message.size() < dhcp6::kRelayHeaderSize) {
      return DropReason::kDhcp6TooShort;
    }
    r.relayed = true;
    r.hop_count = message[1];
    r.link_address = LoadIpv6(message.data() + 2);
    r.peer_address = LoadIpv6(message.data() + 18);
    std::span<const uint8_t> inner;
    bool has_inner = false;
    dhcp6::OptionCursor relay_options(message.subspan(dhcp6::kRelayHeaderSize));
    uint16_t code;
    std::span<const uint8_t> value;
    while (relay_options.Next(&code, &value)) {
      if (code == dhcp6::kRelayMessage && !has_inner) {
        inner = value;
        has_inner = true;
      } else if (code == dhcp6::kInterfaceId && r.interface_id.empty()) {
        r.interface_id = value;
      } else if (code == dhcp6::kClientLinkLayerAddress &&
                 client_link_layer.empty()) {
        client_link_layer = value;
      }
    }
    if (relay_options.failed()) return DropReason::kBadDhcp6Option;
    if (!has_inner ||
        (!inner.empty() &&
         (inner[0] == static_cast<uint8_t>(dhcp6::MessageType::kRelayForward) ||
          inner[0] == static_cast<uint8_t>(dhcp6::MessageType::kRelayReply)))) {
      return DropReason::kBadRelayForward;
    }
    message = inner;
    if (message.size() < dhcp6::kHeaderSize) return DropReason::kDhcp6TooShort;
  }

  r.type = static_cast<dhcp6::MessageType>(message[0]);
  r.xid = uint32_t{message[1]} << 16 | uint32_t{message[2]} << 8 | message[3];
  using MT = dhcp6::MessageType;
  const bool answered_here =
      port == kDhcp6ServerPort
          ? r.type == MT::kSolicit || r.type == MT::kRequest ||
                r.type == MT::kInformationRequest
          : !r.relayed &&
                (r.type == MT::kRequest || r.type == MT::kInformationRequest);
  if (!answered_here) return DropReason::kUnhandledMessage;

  std::span<const uint8_t> arch_codes;
  dhcp6::OptionCursor options(message.subspan(dhcp6::kHeaderSize));
  uint16_t code;
  std::span<const uint8_t> value;
  bool has_client_id = false;
  while (options.Next(&code, &value)) {
    switch (code) {
      case dhcp6::kClientId:
        if (!has_client_id) r.client_id = value;
        has_client_id = true;
        break;
      case dhcp6::kServerId:
        if (r.server_id.empty()) r.server_id = value;
        break;
      case dhcp6::kIaNa:
      case dhcp6::kIaTa:
      case dhcp6::kIaPd:
        r.has_ia = true;
        break;
      case dhcp6::kVendorClass:
        if (r.vendor_class.empty()) r.vendor_class = IntelVendorClass(value);
        break;
      case dhcp6::kClientArch:
        if (arch_codes.empty()) arch_codes = value;
        break;
      case dhcp6::kClientNii:
        if (value.size() == 3 && !r.has_undi) {
          r.has_undi = true;
          std::memcpy(r.undi.data(), value.data(), 3);
        }
        break;
      default:
        break;
    }
  }
  if (options.failed()) return DropReason::kBadDhcp6Option;
  // RFC 8415 §16: every message we answer names its client.
  if (!has_client_id || r.client_id.empty()) return DropReason::kNoClientId;

  if (StartsWith(r.vendor_class, kPxeClient)) {
    r.kind = ClientKind::kPxe;
  } else if (StartsWith(r.vendor_class, kHttpClient)) {
    r.kind = ClientKind::kHttp;
  } else {
    return DropReason::kNotBooting;
  }
  const ClientArch arch = ResolveClientArch(arch_codes, r.vendor_class);
  r.arch_code = arch.code;
  r.arch = arch.info;
  r.arch_known = arch.known;

  if (MacFromDuid(r.client_id, &r.mac)) {
    r.mac_known = true;
  } else if (!r.relayed) {
    r.mac = r.frame.eth_src;
    r.mac_known = true;
  } else if (client_link_layer.size() == 8 &&
             LoadBe16(client_link_layer.data()) == dhcp6::kHardwareEthernet) {
    // RFC 6939: link-layer type, then the address.
    r.mac = LoadMac(client_link_layer.data() + 2);
    r.mac_known = true;
  }
  return DropReason::kNone;
}

}  // namespace pxe
