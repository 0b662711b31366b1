// The client side of the exchange: writes the whole Ethernet frame of a PXE
// client's DISCOVER (to 67) or REQUEST/INFORM (to the proxy on 4011), as PXE
// ROMs, iPXE and EDK2 send them, for pxe-probe and for load generators. Pure
// and allocation-free: a spec of plain values and views in, bytes into the
// caller's buffer out, so one core can build frames at line rate.
#ifndef PXE_ENGINE_CLIENT_REQUEST_H_
#define PXE_ENGINE_CLIENT_REQUEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/byte_order.h"
#include "engine/dhcp_options.h"
#include "engine/frame.h"

namespace pxe {

// Option 55 as OVMF's PXE client sends it: 35 codes, 43 (PXE vendor
// options), 60, 66, 67 and 97 among them.
inline constexpr std::array<uint8_t, 35> kPxeParameterRequestList = {
    1,  2,  3,  4,   5,   6,   12,  13,  15,  17,  18, 22,
    23, 28, 40, 41,  42,  43,  50,  51,  54,  58,  59, 60,
    66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135};

// A small option 175 (iPXE's encapsulated options), three of the feature
// flags QEMU's iPXE ROM sends: PXE extensions version 2 (0x10), TFTP (0x15)
// and HTTP (0x13). The engine only tests for the option's presence.
inline constexpr std::array<uint8_t, 9> kIpxeFeatures = {
    0x10, 0x01, 0x02, 0x15, 0x01, 0x01, 0x13, 0x01, 0x01};

inline constexpr uint16_t kBiosArch[] = {0};

// Every field of the request, with the defaults of a BIOS PXE ROM's
// broadcast DISCOVER. Written with designated initializers; the views
// (arch_codes, vendor_class, parameter_request_list) must outlive the call.
struct ClientRequestSpec {
  // kDiscover (to 67), kRequest or kInform (to 4011); any type is written.
  dhcp::MessageType type = dhcp::MessageType::kDiscover;
  MacAddress client_mac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};  // chaddr
  // Ethernet source; all zero = client_mac. A relay sends from its own MAC.
  MacAddress src_mac{};
  MacAddress dst_mac = kBroadcastMac;
  std::optional<uint16_t> vlan_tci;  // set: an 802.1Q tag in the frame

  // BOOTP header (RFC 2131 §2).
  uint32_t xid = 0;
  uint16_t secs = 0;
  bool broadcast = false;  // flags 0x8000 (EDK2 sets it, iPXE does not)
  uint8_t hops = 0;        // a relay sets 1
  uint32_t ciaddr = 0;     // the client's address on 4011 requests
  uint32_t giaddr = 0;     // non-zero: relayed (relay mode)

  // IPv4 and UDP: a client without an address broadcasts from 0.0.0.0:68.
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0xFFFFFFFF;
  uint16_t src_port = kDhcpClientPort;
  uint16_t dst_port = kDhcpServerPort;
  bool dont_fragment = false;  // EDK2 sets DF on its 4011 request
  uint16_t ip_id = 0;

  // Options, written in this order: 53 57 93 94 60 77 55 175 97 43 82 END.
  uint16_t max_message_size = 1472;  // option 57; 0 = omit
  // Option 93, each code 16-bit big-endian; empty = omit. At most 127 codes.
  std::span<const uint16_t> arch_codes = kBiosArch;
  // Option 60; empty = omit (a client that is not PXE booting).
  std::string_view vendor_class = "PXEClient:Arch:00000:UNDI:002001";
  // Option 94: type 1, UNDI major, minor; nullopt = omit.
  std::optional<std::array<uint8_t, 2>> undi = std::array<uint8_t, 2>{2, 1};
  // Option 77 "iPXE" and option 175 kIpxeFeatures.
  bool ipxe = false;
  // Option 77 with this text when `ipxe` is false (a user class set with
  // ipxe's "set user-class", or another firmware's); empty = omit.
  std::string_view user_class;
  std::span<const uint8_t> parameter_request_list = kPxeParameterRequestList;
  // Option 97: type 0 and these 16 bytes; nullopt = omit.
  std::optional<std::array<uint8_t, 16>> uuid;
  // Option 43 = {71, 4, item type (2), layer (2), END}: the boot item a 4011
  // request asks for (iPXE sends 80 00 00 00); nullopt = omit.
  std::optional<std::array<uint8_t, 4>> boot_item;
  // Option 82 as a relay agent or a snooping switch appends it: the
  // sub-options (1 circuit id, 2 remote id, ...) verbatim; empty = omit.
  std::span<const uint8_t> relay_agent_info;
};

// Room for any request BuildClientRequest() accepts (the longest lists and
// every option come to about 1.1 KB; the test checks it), except one with
// both a 255-byte user_class and a 255-byte relay_agent_info on top, which
// passes an Ethernet frame: BuildClientRequest() returns 0 for it.
inline constexpr size_t kMaxClientRequestFrameSize = 1518;

// Writes the frame: Ethernet (optional 802.1Q tag), IPv4 (IHL 5, TTL 64,
// header checksum), UDP (checksum; a computed 0 is sent as 0xFFFF), BOOTP
// request, cookie, options, END, zero padding to 300 BOOTP bytes. Returns its
// size, or 0 when it does not fit `out` or a list is too long for one option
// (nothing useful is left in `out` then).
size_t BuildClientRequest(const ClientRequestSpec& spec,
                          std::span<uint8_t> out);

// "PXEClient:Arch:00007:UNDI:003000": option 60 as PXE ROMs format it, for
// arch code `arch` and UNDI version major.minor.
std::array<char, 32> PxeVendorClass(uint16_t arch, uint8_t undi_major,
                                    uint8_t undi_minor);

}  // namespace pxe

#endif  // PXE_ENGINE_CLIENT_REQUEST_H_
