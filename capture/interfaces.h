// Interface and address discovery at start-up, from one rtnetlink dump
// (capture/netlink.h follows them after that).
#ifndef PXE_CAPTURE_INTERFACES_H_
#define PXE_CAPTURE_INTERFACES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/byte_order.h"
#include "engine/policy.h"

namespace pxe {

struct InterfaceInfo {
  std::string name;
  int ifindex = 0;
  MacAddress mac{};  // zero: not an Ethernet interface
  int mtu = 1500;
  bool up = false;       // administratively up (IFF_UP), not loopback
  bool running = false;  // up and with a carrier (IFF_RUNNING)
  // IPv4 addresses in the kernel's order; the first is the primary. Empty
  // when it has none (yet).
  std::vector<InterfaceAddress> addresses;
  // IPv6 addresses (link-local and global) in the order they came; those
  // whose duplicate address detection failed are left out.
  std::vector<Ipv6InterfaceAddress> addresses6;
  // A VLAN device (IFLA_LINKINFO kind "vlan"): its 802.1Q id; 0 = not one.
  uint16_t vlan_id = 0;
  // Its tag's protocol (IFLA_VLAN_PROTOCOL, host order): ETH_P_8021Q
  // (0x8100), or ETH_P_8021AD (0x88a8) for an 802.1ad service tag.
  uint16_t vlan_protocol = 0;
  // Its parent (IFLA_LINK), and the parent's name ("" when the parent is
  // not in this network namespace). Set for VLAN devices only.
  int link_ifindex = 0;
  std::string link_name;
  // Tagged VLANs served on this interface ([[server.vlan]]); not the
  // kernel's.
  std::vector<VlanAddresses> vlans;
};

// A VLAN served on a trunk interface, tagged, without a VLAN device
// ([[server.vlan]], --vlan).
struct VlanConfig {
  std::string interface;  // empty: the one interface served
  VlanAddresses vlan;
};

// Looks up one interface, with or without an IPv4 address (an empty
// `addresses` says it has none: the caller decides). Errors: NotFound (no
// such interface), FailedPrecondition (not Ethernet), or the netlink error.
absl::StatusOr<InterfaceInfo> LookupInterface(const std::string& name);

// Every interface that is up, not loopback, Ethernet, and has an IPv4
// address, by name.
std::vector<InterfaceInfo> ListUsableInterfaces();

}  // namespace pxe

#endif  // PXE_CAPTURE_INTERFACES_H_
