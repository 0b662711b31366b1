// Holds UDP port 4011 without reading it: a bound socket with a drop-all
// filter. Without it the kernel answers every 4011 request (which we read
// from the packet socket) with ICMP port unreachable. Ports 67 and 68 are
// never bound: they belong to the LAN's DHCP server and clients.
#ifndef PXE_CAPTURE_PORT_HOLDER_H_
#define PXE_CAPTURE_PORT_HOLDER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "capture/unique_fd.h"

namespace pxe {

// Binds 0.0.0.0:`port` with SO_REUSEADDR and a drop-all filter, so nothing
// queues. AlreadyExists if another program holds the port without reuse (it
// then answers for the port itself, and we can go on).
absl::StatusOr<UniqueFd> HoldUdpPort(uint16_t port);

// The same on IPv6: [::]:`port`, IPV6_V6ONLY (the IPv4 one is held apart),
// so PXEv6 Requests to 4011 draw no ICMPv6 port unreachable. Port 547 is
// never held: it belongs to the LAN's DHCPv6 server. Unavailable when the
// host has IPv6 turned off (the caller warns and goes on).
absl::StatusOr<UniqueFd> HoldUdpPort6(uint16_t port);

}  // namespace pxe

#endif  // PXE_CAPTURE_PORT_HOLDER_H_
