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
// learning), or 4011 at one of `addresses`.
// Frames with a VLAN tag left in them (QinQ) pass too, to be counted.
std::string DhcpFilterExpression(std::span<const InterfaceAddress> addresses);
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
