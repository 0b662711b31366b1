#include "capture/bpf_filter.h"

#include <pcap/pcap.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "capture/pcap_file.h"
#include "engine/describe.h"
#include "engine/reply6.h"

namespace pxe {

std::string DhcpFilterExpression(
    std::span<const InterfaceAddress> addresses,
    std::span<const Ipv6InterfaceAddress> addresses6) {
  std::string ours;
  for (const InterfaceAddress& a : addresses) {
    absl::StrAppend(&ours, ours.empty() ? "" : " or ", "dst host ",
                    FormatIpv4(a.address));
  }
  std::string expression =
      "(ip and udp and (ip[6:2] & 0x3fff) = 0 and (dst port 67 or dst port 68";
  if (!ours.empty()) {
    absl::StrAppend(&expression, " or (dst port 4011 and (", ours, "))");
  }
  // DHCPv6: UDP straight after the fixed header (no extension headers, no
  // fragments; the engine counts the rest).
  std::string ours6 = "dst host ff02::1:2";
  for (const Ipv6InterfaceAddress& a : addresses6) {
    char text[40];
    absl::StrAppend(&ours6, " or dst host ",
                    std::string(text, FormatIpv6(a.address, text)));
  }
  absl::StrAppend(
      &expression,
      ")) or (ip6 and udp and (dst port 547 or dst port 4011) and (", ours6,
      "))");
  // A tag still in the frame once the kernel took the outer one off is the
  // inner tag of QinQ: let DHCP in to be counted as such, not lost unseen.
  // Last: libpcap's "vlan" moves the offsets of every test after it.
  absl::StrAppend(&expression,
                  " or (vlan and ip and udp and (dst port 67 or dst port 68 "
                  "or dst port 4011))");
  return expression;
}

std::string DhcpFilterExpression(const InterfaceInfo& info) {
  std::vector<InterfaceAddress> all = info.addresses;
  std::vector<Ipv6InterfaceAddress> all6 = info.addresses6;
  for (const VlanAddresses& v : info.vlans) {
    all.insert(all.end(), v.addresses.begin(), v.addresses.end());
    all6.insert(all6.end(), v.addresses6.begin(), v.addresses6.end());
  }
  return DhcpFilterExpression(all, all6);
}

absl::StatusOr<BpfProgram> CompileFilter(const std::string& expression,
                                         int snap_length) {
  PcapHandle dead(pcap_open_dead(DLT_EN10MB, snap_length));
  if (!dead) return absl::InternalError("pcap_open_dead failed");
  bpf_program program{};
  if (pcap_compile(dead.get(), &program, expression.c_str(), /*optimize=*/1,
                   PCAP_NETMASK_UNKNOWN) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("BPF filter \"", expression,
                     "\" does not compile: ", pcap_geterr(dead.get())));
  }
  // libpcap's bpf_insn and the kernel's sock_filter have the same layout.
  static_assert(sizeof(bpf_insn) == sizeof(sock_filter));
  BpfProgram out(program.bf_len);
  std::memcpy(out.data(), program.bf_insns, program.bf_len * sizeof(bpf_insn));
  pcap_freecode(&program);
  return out;
}

BpfProgram DropAllProgram() { return {sock_filter{BPF_RET | BPF_K, 0, 0, 0}}; }

absl::Status AttachFilter(int fd, const BpfProgram& program) {
  sock_fprog fprog{.len = static_cast<unsigned short>(program.size()),
                   .filter = const_cast<sock_filter*>(program.data())};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) !=
      0) {
    return absl::InternalError(
        absl::StrCat("SO_ATTACH_FILTER: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace pxe
