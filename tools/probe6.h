// pxe-probe --ipv6: the decisions of an EDK2 PXEv6 (or HTTPv6) client, kept
// apart from the sockets in pxe_probe_main.cc: its Solicit and its 4011
// Request, what it makes of each Advertise, where the Request goes, and the
// lines the probe prints. Nothing here touches the network.
#ifndef PXE_TOOLS_PROBE6_H_
#define PXE_TOOLS_PROBE6_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/client_request6.h"
#include "tools/probe.h"

namespace pxe {

// The default arch over IPv6: x64 UEFI (7), what OVMF's PXEv6 client sends.
inline constexpr uint16_t kDefaultArch6 = 7;

// One --ipv6 run's client, and the storage its specs point into.
struct Probe6Client {
  MacAddress mac{};  // the DUID-LL's MAC: --mac, else the interface's
  uint32_t xid = 0;  // 24 bits; the Solicit's and the 4011 Request's
  uint32_t iaid = 0;
  uint16_t arch = kDefaultArch6;
  std::string vendor_class;  // option 16's class data
  bool http = false;         // "HTTPClient": stops after the Advertises
};

// Fills `client` from `config` (--arch, --vendor-class, --mac) with the
// interface's MAC and the given random values.
void InitProbe6Client(const ProbeConfig& config,
                      const MacAddress& interface_mac, uint32_t xid,
                      uint32_t iaid, Probe6Client* client);

// The Solicit (message only: the probe sends it on a UDP socket).
ClientRequest6Spec Solicit6Spec(const Probe6Client& client);

// The 4011 Request to a proxy: its server ID, the same xid, no IA.
ClientRequest6Spec Request6Spec(const Probe6Client& client,
                                std::span<const uint8_t> server_id);

// What the probe keeps of one Advertise or Reply.
struct SeenServer6 {
  dhcp6::MessageType type = dhcp6::MessageType::kNone;
  std::string from;  // source address as text
  std::vector<uint8_t> server_id;
  bool proxy = false;        // boot class, no IA (what EDK2 takes as proxy)
  bool has_address = false;  // an address server's offer (IA with IAADDR)
  bool has_ia = false;
  bool client_id_echoed = false;
  std::string vendor_class;
  std::optional<std::string> boot_url;  // option 59
  std::optional<uint16_t> status;       // option 13
};

SeenServer6 ToSeenServer6(const ServerMessage6& message,
                          const Probe6Client& client, std::string from);

// "proxy-advertise from fe80::2: server-id 00:03:00:01:52:54:00:00:00:02,
// PXEClient, boot-url tftp://[fd77::2]/bootx64.efi" (labels: proxy-advertise,
// advertise for an address server, reply).
std::string Describe6(const SeenServer6& seen);

// Hex bytes joined by ':' ("00:03:00:01:...").
std::string HexColon(std::span<const uint8_t> bytes);

// Where EDK2 sends its 4011 Request after a proxy Advertise: the IPv6
// literal host of a "tftp://[X]/..." option 59, else (no URL) ff02::1:2.
// nullopt when the URL names no IPv6 literal.
std::optional<Ipv6Address> Request6Target(const SeenServer6& proxy);

// How the run ends: the exit status and, when it is not 0, why.
struct Probe6Verdict {
  int exit_status = 1;
  std::string reason;
};

// After the Advertises (`servers`, in arrival order) and, for PXE, the 4011
// Reply (`reply`, if one came): 0 when a boot file URL was found (for
// HTTP: in a proxy Advertise; for PXE: in the 4011 Reply; with --no-4011: in
// a proxy Advertise), or with --expect-none when no proxy answered.
Probe6Verdict Judge6(const ProbeConfig& config, const Probe6Client& client,
                     const std::vector<SeenServer6>& servers,
                     const std::optional<SeenServer6>& reply);

}  // namespace pxe

#endif  // PXE_TOOLS_PROBE6_H_
