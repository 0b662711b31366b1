// The boot policy: which reply a classified request gets, as plain data. The
// daemon fills a BootPolicy from flags (a config file later), validates it
// once with ValidatePolicy(), and hands the engine a const reference.
#ifndef PXE_ENGINE_POLICY_H_
#define PXE_ENGINE_POLICY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/arch.h"
#include "engine/byte_order.h"
#include "engine/drop_reason.h"
#include "engine/request.h"

namespace pxe {

// How UEFI PXE clients are offered their boot file (PROTOCOL.md §4).
enum class UefiOfferStyle : uint8_t {
  // No option 43, siaddr = us, no file: every EDK2 asks on 4011 and gets the
  // file in the ACK. What dnsmasq and pixiecore do; works with old EDK2.
  kBinl,
  // siaddr + file + 43 = 06 01 08 FF, like BIOS: current EDK2 boots at once.
  kDirect,
};

struct RelayServerAddress {
  uint32_t network = 0;  // the relay's subnet (giaddr & mask)
  uint8_t prefix_length = 24;
  uint32_t server = 0;  // our address that clients behind it can reach
};

struct BootPolicy {
  // TFTP path of the NBP for every PXE client ("<nbp name>" on the command
  // line); the per-class entries below override it where non-empty.
  std::string boot_file;
  std::array<std::string, kArchClassCount> boot_file_by_arch;
  // HTTP-boot URL (http://...) for HTTPClient requests; per class overrides.
  // Empty: HTTP-boot clients are not answered.
  std::string http_url;
  std::array<std::string, kArchClassCount> http_url_by_arch;
  // When set, iPXE clients get this (a URL or a TFTP path of a script)
  // instead of the NBP, which breaks the iPXE -> NBP -> iPXE chainload loop.
  std::string ipxe_script;
  // TFTP server (siaddr, sname); 0 = the address we answer from.
  uint32_t tftp_server = 0;
  // Address we answer from when nothing better fits the client; 0 = the
  // interface's primary address.
  uint32_t listen_address = 0;
  // Destination of broadcast offers (RFC 2131 §4.1: 255.255.255.255).
  uint32_t offer_broadcast = 0xFFFFFFFF;
  UefiOfferStyle uefi_offer_style = UefiOfferStyle::kBinl;
  // Per-relay server address, for relays whose subnet we have no address in.
  std::vector<RelayServerAddress> relay_servers;
};

// Longest NBP path: the 128-byte BOOTP file field holds 127 + NUL.
inline constexpr size_t kMaxBootFileLength = 127;
// Longest URL: the file field, or option 67 alone (255) when it is longer.
inline constexpr size_t kMaxUrlLength = 255;

// Checks every name and address once, at load time, so the packet path never
// has to cut a name short. The message says what to change.
absl::Status ValidatePolicy(const BootPolicy& policy);

// One IPv4 address of the interface a frame came in on.
struct InterfaceAddress {
  uint32_t address = 0;
  uint8_t prefix_length = 24;

  bool Contains(uint32_t ip) const {
    const uint32_t mask =
        prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
    return (ip & mask) == (address & mask);
  }
};

// What the caller knows about the receiving side of one request.
struct ServerContext {
  MacAddress mac{};  // our interface's MAC: the reply's source
  std::span<const InterfaceAddress> addresses;  // first = primary
  // The address the LAN's DHCP server offered this client, if seen (0 = not
  // seen). Picks our address in the same subnet for broadcast DISCOVERs.
  uint32_t offered_address = 0;
};

// The decided reply, before any byte is written.
struct ReplyPlan {
  dhcp::MessageType type = dhcp::MessageType::kNone;  // kOffer or kAck
  uint32_t server_address = 0;                        // IPv4 source, option 54
  uint32_t siaddr = 0;
  uint32_t tftp_server = 0;        // written as text into sname when non-zero
  std::string_view file;           // NBP path or URL; may be empty
  bool file_in_option67 = false;   // too long for the file field
  bool discovery_control = false;  // 43 = 06 01 08 FF: boot the file now
  bool http = false;               // option 60 HTTPClient, else PXEClient
  // Where the frame goes.
  MacAddress dst_mac{};
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// Picks the address we answer `request` from (PROTOCOL.md §5), or 0.
uint32_t SelectServerAddress(const Request& request, const BootPolicy& policy,
                             const ServerContext& context);

// Decides the reply to a request ClassifyFrame() accepted. kNone and a filled
// `plan`, or the reason not to answer.
DropReason Decide(const Request& request, const BootPolicy& policy,
                  const ServerContext& context, ReplyPlan* plan);

}  // namespace pxe

#endif  // PXE_ENGINE_POLICY_H_
