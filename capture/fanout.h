// Spreading a boot storm over workers: every unrelayed DISCOVER carries the
// same addresses and ports (0.0.0.0:68 -> 255.255.255.255:67), so flow
// hashing puts a whole storm on one socket. This classic-BPF fan-out program
// (PACKET_FANOUT_CBPF) picks the socket by the client's hardware address
// instead, so every frame about one client (its DISCOVER, the LAN server's
// reply to it, its 4011 request) reaches the same worker and per-client
// state stays worker-local.
#ifndef PXE_CAPTURE_FANOUT_H_
#define PXE_CAPTURE_FANOUT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "capture/bpf_filter.h"

namespace pxe {

// The program: a hash of chaddr bytes 2..5; the kernel takes it modulo the
// group's size. It runs before a received frame is pushed back to its MAC
// header (received frames start at IPv4 there, sent ones at Ethernet), so it
// loads relative to SKF_NET_OFF, right in both directions: chaddr is at
// SKF_NET_OFF + 4 * IHL + 8 (UDP) + 28 (BOOTP). Frames without it (short,
// not IPv4) make the program return 0: the first worker, whose socket
// filter then drops them.
BpfProgram ChaddrFanoutProgram();

// Joins `fd` to fan-out group `group_id` in CBPF mode with
// ChaddrFanoutProgram(); kNewFanoutGroup makes a new group whose id the
// kernel picks, unused by any other socket (PACKET_FANOUT_FLAG_UNIQUEID), so
// two instances can never join, and split, each other's group. Returns the
// group's id, for the other sockets to join.
inline constexpr int kNewFanoutGroup = 0x10000;
absl::StatusOr<uint16_t> JoinChaddrFanout(int fd, int group_id);

}  // namespace pxe

#endif  // PXE_CAPTURE_FANOUT_H_
