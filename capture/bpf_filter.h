// Classic BPF programs for the capture sockets, compiled by libpcap on a dead
// DLT_EN10MB handle (the SO_ATTACH_FILTER program sees the Ethernet header,
// so libpcap's offsets are right; a VLAN tag the kernel stripped is not seen).
#ifndef PXE_CAPTURE_BPF_FILTER_H_
#define PXE_CAPTURE_BPF_FILTER_H_

#include <linux/filter.h>

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/interfaces.h"
#include "engine/policy.h"

namespace pxe {

using BpfProgram = std::vector<sock_filter>;

// The libpcap expression for what pxe-pdhcp reads: IPv4 UDP, not a fragment,
// to port 67 (requests), 68 (the LAN DHCP server's replies, for subnet
// learning), or 4011 at one of `addresses`; and IPv6 UDP to port 547 or
// 4011 at ff02::1:2 (All_DHCP_Relay_Agents_and_Servers, RFC 8415 §7.1) or
// at one of `addresses6` (a relay's Relay-forward, a PXEv6 Request).
// Frames with a VLAN tag left in them (QinQ) pass too, to be counted.
std::string DhcpFilterExpression(
    std::span<const InterfaceAddress> addresses,
    std::span<const Ipv6InterfaceAddress> addresses6 = {});
// The same for an interface: its own addresses and those of its VLANs.
std::string DhcpFilterExpression(const InterfaceInfo& info);

// Compiles a libpcap expression for Ethernet frames of up to `snap_length`.
absl::StatusOr<BpfProgram> CompileFilter(const std::string& expression,
                                         int snap_length = 65535);

// A program that accepts nothing: attached first, so no frame slips in
// unfiltered between socket() and the real filter.
BpfProgram DropAllProgram();

// Attaches `program` to `fd` with SO_ATTACH_FILTER.
absl::Status AttachFilter(int fd, const BpfProgram& program);

}  // namespace pxe

#endif  // PXE_CAPTURE_BPF_FILTER_H_
