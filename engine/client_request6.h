// The client side of the DHCPv6 boot exchange (RFC 8415, RFC 5970), beside
// the DHCPv4 one (engine/client_request.h): the Solicit an EDK2 PXEv6 or
// HTTPv6 client sends to ff02::1:2 (UDP 547), the Request it sends to the
// proxy on UDP 4011, and a read-only view of the server's Advertise or Reply.
// For pxe-probe and pxe-storm. Pure and allocation-free: a spec of plain
// values and views in, bytes into the caller's buffer out.
#ifndef PXE_ENGINE_CLIENT_REQUEST6_H_
#define PXE_ENGINE_CLIENT_REQUEST6_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/byte_order.h"
#include "engine/dhcp6.h"

namespace pxe {

// ff02::1:2, All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1), and its
// Ethernet group 33:33:00:01:00:02 (RFC 2464 §7).
inline constexpr Ipv6Address kAllDhcp6Agents = {0xFF, 0x02, 0, 0, 0, 0, 0, 0,
                                                0,    0,    0, 0, 0, 1, 0, 2};
inline constexpr MacAddress kAllDhcp6AgentsMac = {0x33, 0x33, 0x00,
                                                  0x01, 0x00, 0x02};

namespace dhcp6 {
inline constexpr uint16_t kOptionRequest = 6;  // RFC 8415 §21.7
inline constexpr uint16_t kElapsedTime = 8;    // RFC 8415 §21.9
inline constexpr uint16_t kBootFileParam = 60;
}  // namespace dhcp6

// Option 6 as EDK2's PXEv6 and HTTPv6 clients send it: 59 (boot file URL),
// 60 (boot file parameters), 23 (DNS servers), 16 (vendor class).
inline constexpr std::array<uint16_t, 4> kEdk2OptionRequest = {59, 60, 23, 16};

// A DUID-LL (RFC 8415 §11.4) of an Ethernet MAC: type 3, hardware type 1,
// the MAC.
inline constexpr size_t kDuidLlSize = 10;
std::array<uint8_t, kDuidLlSize> MakeDuidLl(const MacAddress& mac);

// Every field of one client message. The defaults are those of OVMF's PXEv6
// Solicit (option order as it sends them: 1 8 3 6 62 61 16), except the
// client ID, a DUID-LL of `client_mac` where OVMF sends a DUID-LLT.
struct ClientRequest6Spec {
  // kSolicit (to ff02::1:2:547) or kRequest (to the proxy's 4011).
  dhcp6::MessageType type = dhcp6::MessageType::kSolicit;
  uint32_t xid = 0;                                              // 24 bits
  MacAddress client_mac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};  // the DUID
  // Option 2, the server's DUID, for a Request; empty = omit.
  std::span<const uint8_t> server_id;
  // Option 3 with this IAID (T1 and T2 as OVMF: 0xFFFFFFFF, no address
  // inside); nullopt = no IA (EDK2's 4011 Request has none).
  std::optional<uint32_t> ia_na_iaid = 0;
  uint16_t elapsed_centiseconds = 0;                              // option 8
  std::span<const uint16_t> option_request = kEdk2OptionRequest;  // 6
  // Option 62: type 1 (UNDI), major, minor; nullopt = omit.
  std::optional<std::array<uint8_t, 2>> nii = std::array<uint8_t, 2>{3, 0};
  uint16_t arch = 7;  // option 61, one code
  // Option 16 class data, enterprise 343; empty = omit (not booting).
  std::string_view vendor_class = "PXEClient:Arch:00007:UNDI:003000";

  // Frame (for BuildClientFrame6): the defaults are a Solicit's.
  MacAddress src_mac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
  MacAddress dst_mac = kAllDhcp6AgentsMac;
  std::optional<uint16_t> vlan_tci;
  Ipv6Address src_ip{};  // the client's link-local address
  Ipv6Address dst_ip = kAllDhcp6Agents;
  uint16_t src_port = kDhcp6ClientPort;
  uint16_t dst_port = kDhcp6ServerPort;
};

// The largest message and frame BuildClient*6 write (a vendor class of at
// most 255 bytes, at most 16 requested options, a server ID of at most 130).
inline constexpr size_t kMaxClientMessage6Size = 512;
inline constexpr size_t kMaxClientFrame6Size =
    18 + kIpv6HeaderSize + kUdpHeaderSize + kMaxClientMessage6Size;

// Writes the DHCPv6 message (UDP payload) into `out`. Returns its size, or 0
// when it does not fit (or the spec is out of range: vendor class over 255
// bytes, more than 16 requested options, server ID over 130 bytes).
size_t BuildClientMessage6(const ClientRequest6Spec& spec,
                           std::span<uint8_t> out);

// Writes the whole Ethernet frame (802.1Q tag if set, IPv6, UDP with its
// checksum, the message). Returns its size, or 0 when it does not fit.
size_t BuildClientFrame6(const ClientRequest6Spec& spec,
                         std::span<uint8_t> out);

// A server's message to a client (Advertise or Reply, RFC 8415 §16.3, §16.10)
// as a booting client reads it. Spans point into the message.
struct ServerMessage6 {
  dhcp6::MessageType type = dhcp6::MessageType::kNone;
  uint32_t xid = 0;
  std::span<const uint8_t> client_id;     // option 1; empty: none
  std::span<const uint8_t> server_id;     // option 2; empty: none
  bool has_ia = false;                    // IA_NA, IA_TA or IA_PD present
  bool has_address = false;               // an IA_NA/IA_TA holding an IAADDR
  bool has_vendor_class = false;          // option 16, enterprise 343
  std::span<const uint8_t> vendor_class;  // its first class data
  std::span<const uint8_t> boot_url;      // option 59, up to a NUL
  bool has_boot_url = false;
  bool has_status = false;  // option 13 (Status Code)
  uint16_t status = 0;

  // "PXEClient" or "HTTPClient" (prefix) in option 16.
  bool boot_class() const;
  // What EDK2 takes as a proxy offer: a boot class and no IA.
  bool proxy() const { return boot_class() && !has_ia; }
};

// Parses the DHCPv6 message `message` (a UDP payload). False when it is too
// short, not an Advertise or Reply, or its options run past the end.
bool ParseServerMessage6(std::span<const uint8_t> message, ServerMessage6* out);

// A frame to a client: IPv6 and UDP (checked as ParseFrame6() checks them),
// then ParseServerMessage6(). kNone when `out` holds a server message;
// kUnhandledMessage for another message type, kBadDhcp6Option for a
// malformed one.
DropReason ParseServerFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                             FrameView6* frame_out, ServerMessage6* out);

}  // namespace pxe

#endif  // PXE_ENGINE_CLIENT_REQUEST6_H_
