// The kinds of PXE client pxe-storm emulates, and what each one sends: its
// option 93 and 60, its UNDI version, the BOOTP broadcast flag, and how it
// asks the proxy on UDP 4011 (as the firmware families do: PXE 2.1 ROMs and
// iPXE to option 54 from port 68, EDK2 to siaddr from port 4011).
#ifndef PXE_TOOLS_STORM_CLIENT_PROFILE_H_
#define PXE_TOOLS_STORM_CLIENT_PROFILE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace pxe::storm {

enum class ClientType : uint8_t {
  kBios,     // a PXE 2.1 BIOS ROM: arch 0, UNDI 2.1, no broadcast flag
  kUefiX64,  // EDK2 (OVMF) x64: arch 7, UNDI 3.0, broadcast flag
  kArm64,    // EDK2 AArch64: arch 11
  kIpxe,     // iPXE (QEMU's BIOS ROM): arch 0, options 77 and 175
  kHttp,     // UEFI HTTP boot x64: arch 16, "HTTPClient", never on 4011
  // Over DHCPv6 (RFC 8415, RFC 5970), as EDK2's clients: Solicit from the
  // client's link-local address to ff02::1:2 -> proxy Advertise (no IA) ->
  kUefiX64V6,  // PXEv6: Request from 4011 to [X]:4011 -> Reply with the URL
  kHttpV6,     // HTTPv6: the Advertise's option 59 is the URL; no Request
};
inline constexpr size_t kClientTypeCount = 7;

struct ClientProfile {
  std::string_view name;  // in --mix and in reports: "bios", "uefi-x64", ...
  std::span<const uint16_t> arch_codes;  // option 93
  std::string_view vendor_class;         // option 60
  std::array<uint8_t, 2> undi;           // option 94 major, minor
  bool broadcast;                        // BOOTP flags 0x8000
  bool ipxe;                             // options 77 "iPXE" and 175
  bool http;  // wants an offer with option 60 HTTPClient and a URL
  // EDK2 style: always asks on 4011, to siaddr first (else option 54), from
  // port 4011 with DF set. Otherwise (PXE ROM, iPXE): asks only when the
  // offer names no boot file, to option 54 first (else siaddr), from port 68.
  bool edk2;
  // DHCPv6: option 16 for 60, 61 for 93, 62 for 94 (no BOOTP flags, no
  // options 77, 175 or 97); the 4011 Request carries the proxy's server ID
  // and goes to the host of its "tftp://[X]/" URL, with the Solicit's xid.
  bool ipv6 = false;
};

const ClientProfile& Profile(ClientType type);

// "bios", "uefi-x64", "arm64", "ipxe", "http", "uefi-x64-v6", "http-v6";
// nullopt for anything else.
std::optional<ClientType> ParseClientTypeName(std::string_view name);

// The boot item iPXE asks for on 4011 (PXE 2.1 43.71): type 0x8000, layer 0.
inline constexpr std::array<uint8_t, 4> kIpxeBootItem = {0x80, 0x00, 0x00,
                                                         0x00};

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_CLIENT_PROFILE_H_
