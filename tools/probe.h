// pxe-probe's configuration and its decisions, kept apart from the socket
// loop in pxe_probe_main.cc: the command line, the requests a firmware of
// each style would send, which reply is a proxy offer, and where the 4011
// request goes. Nothing here touches the network.
#ifndef PXE_TOOLS_PROBE_H_
#define PXE_TOOLS_PROBE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/byte_order.h"
#include "engine/client_request.h"
#include "engine/request.h"

namespace pxe {

// How the client behaves after the offers, as the firmware families do
// (PXE 2.1, and EDK2's and iPXE's code): where it sends the 4011 request, from
// which port, with which xid.
enum class ProbeStyle : uint8_t {
  kIpxe,  // to option 54 (else siaddr, else source), from 68, xid 0
  kEdk2,  // to siaddr (else option 54), from 4011, a fresh xid
};

struct ProbeConfig {
  enum class Action { kRun, kHelp };
  Action action = Action::kRun;

  std::string interface;          // -i
  std::optional<MacAddress> mac;  // --mac; default: random, locally admin.
  uint16_t arch = 0;              // --arch (option 93; 61 with --ipv6)
  bool arch_given = false;        // --arch was on the command line
  // --ipv6: an EDK2 PXEv6 client (HTTPv6 with an HTTP arch such as 16, or
  // an HTTPClient vendor class): Solicit, Advertises, the 4011 Request.
  bool ipv6 = false;
  // --vendor-class; nullopt = "PXEClient:Arch:<arch>:UNDI:..." (HTTPClient
  // for HTTP-boot codes); "" = omit option 60.
  std::optional<std::string> vendor_class;
  bool ipxe = false;             // --ipxe: options 77 "iPXE" and 175
  bool uuid = false;             // --uuid: a random option 97
  std::optional<uint16_t> vlan;  // --vlan ID: 802.1Q-tag every frame
  // --service-tag ID: an 802.1ad S-tag (TPID 0x88a8) outside, around the
  // --vlan tag when there is one (QinQ).
  std::optional<uint16_t> service_tag;

  // Relay mode (--relay GIADDR --server IP --server-mac MAC): the DISCOVER
  // goes unicast GIADDR:67 -> server:67 from the interface's own MAC.
  uint32_t relay = 0;
  uint32_t server = 0;
  std::optional<MacAddress> server_mac;

  bool no_4011 = false;                         // --no-4011
  std::optional<ProbeStyle> style;              // --style; default: by arch
  std::optional<uint16_t> request_source_port;  // --4011-from-port
  uint32_t client_ip = 0;      // --client-ip: ciaddr when no DHCP offer is seen
  double timeout_seconds = 3;  // --timeout, for the offers and for the ACK
  bool wait_full = false;      // --wait-full: collect for the whole timeout
  bool expect_none = false;    // --expect-none
  bool quiet = false;          // --quiet: nothing on stdout

  bool relayed() const { return relay != 0; }
};

// Parses argv (without argv[0]). Errors name the flag and what is wrong.
absl::StatusOr<ProbeConfig> ParseProbeCommandLine(
    std::span<const char* const> args);
std::string ProbeUsageText();

// "52:54:00:77:00:10" (or with '-').
absl::StatusOr<MacAddress> ParseMac(std::string_view text);

// The default style for an arch code: EDK2 for UEFI PXE firmware (6, 7, 9,
// 10, 11, RISC-V), iPXE style (a PXE 2.1 ROM) for everything else.
ProbeStyle DefaultStyle(uint16_t arch);

// One probe run's client: its identity and the storage the request specs
// point into (so it outlives them).
struct ProbeClient {
  MacAddress mac{};            // chaddr and, unless relayed, Ethernet source
  MacAddress interface_mac{};  // a relay's Ethernet source
  uint32_t discover_xid = 0;
  uint32_t request_xid = 0;  // EDK2's fresh xid for 4011 (iPXE style: 0)
  std::array<uint16_t, 1> arch{};
  std::string vendor_class;
  std::optional<std::array<uint8_t, 16>> uuid;
};

// Fills `client` from `config` with the given random material.
void InitProbeClient(const ProbeConfig& config, const MacAddress& random_mac,
                     const MacAddress& interface_mac, uint32_t discover_xid,
                     uint32_t request_xid,
                     const std::array<uint8_t, 16>& random_uuid,
                     ProbeClient* client);

ClientRequestSpec DiscoverSpec(const ProbeConfig& config,
                               const ProbeClient& client);

// What the probe keeps of a server reply for its decisions.
struct SeenReply {
  dhcp::MessageType type = dhcp::MessageType::kNone;
  bool proxy = false;  // yiaddr 0 and option 60 PXEClient/HTTPClient
  MacAddress eth_src{};
  uint32_t ip_src = 0;
  uint32_t ip_dst = 0;
  uint16_t udp_dst = 0;
  uint32_t yiaddr = 0;
  uint32_t siaddr = 0;
  uint32_t server_id = 0;
};

// A classified BOOTREPLY (ClassifyFrame() returned kServerReply) as seen.
SeenReply ToSeenReply(const Request& reply);

// Where the 4011 request goes after `proxy_offer`, by style; 0 if nowhere.
uint32_t RequestTarget(ProbeStyle style, const SeenReply& proxy_offer);

// The 4011 request to `proxy_offer`, from `ciaddr`; its views point into
// `client`.
ClientRequestSpec RequestSpec(const ProbeConfig& config,
                              const ProbeClient& client,
                              const SeenReply& proxy_offer, uint32_t ciaddr);

// A received frame as it was on the wire, for DescribeReply(), which checks
// every checksum: the 802.1Q tag the kernel stripped put back, and a UDP
// checksum the sender left to offload (TP_STATUS_CSUMNOTREADY, frames from a
// local socket over veth) filled in.
std::vector<uint8_t> AsOnTheWire(std::span<const uint8_t> frame,
                                 std::optional<uint16_t> stripped_vlan_tci,
                                 bool checksum_not_ready);

}  // namespace pxe

#endif  // PXE_TOOLS_PROBE_H_
