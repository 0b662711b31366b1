#include "capture/fanout.h"

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pxe {
namespace {

constexpr uint32_t kNet = static_cast<uint32_t>(SKF_NET_OFF);
constexpr uint32_t kChaddrTail = 8 + 28 + 2;  // UDP + BOOTP offset + 2

}  // namespace

BpfProgram ChaddrFanoutProgram() {
  return {
      // X = 4 * IHL
      sock_filter{BPF_LDX | BPF_B | BPF_MSH, 0, 0, kNet},
      // A = chaddr[2..5]
      sock_filter{BPF_LD | BPF_W | BPF_IND, 0, 0, kNet + kChaddrTail},
      // Fibonacci hashing: the high bits of the product mix all input bits.
      sock_filter{BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0x9E3779B1u},
      sock_filter{BPF_ALU | BPF_RSH | BPF_K, 0, 0, 16},
      sock_filter{BPF_RET | BPF_A, 0, 0, 0},
  };
}

absl::StatusOr<uint16_t> JoinChaddrFanout(int fd, int group_id) {
  const bool create = group_id == kNewFanoutGroup;
  const int arg =
      (create ? 0 : group_id & 0xFFFF) |
      ((PACKET_FANOUT_CBPF | (create ? PACKET_FANOUT_FLAG_UNIQUEID : 0)) << 16);
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
    return absl::InternalError(absl::StrCat(
        create ? "PACKET_FANOUT (a new group): "
               : absl::StrCat("PACKET_FANOUT (joining group ", group_id, "): "),
        std::strerror(errno)));
  }
  // The id the kernel gave (or the one joined): the low 16 bits.
  int got = 0;
  socklen_t got_size = sizeof(got);
  if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &got_size) != 0) {
    return absl::InternalError(
        absl::StrCat("getsockopt(PACKET_FANOUT): ", std::strerror(errno)));
  }
  // The program belongs to the group: its creator sets it once. Setting it
  // again from each ring that joins would wait out an RCU grace period
  // (~10 ms) per ring while frames are already being spread to it.
  if (create) {
    BpfProgram program = ChaddrFanoutProgram();
    sock_fprog fprog{.len = static_cast<unsigned short>(program.size()),
                     .filter = program.data()};
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof(fprog)) !=
        0) {
      return absl::InternalError(
          absl::StrCat("PACKET_FANOUT_DATA: ", std::strerror(errno)));
    }
  }
  return static_cast<uint16_t>(got & 0xFFFF);
}

}  // namespace pxe
