// The capture filter: DhcpFilterExpression() compiled by CompileFilter() and
// run by libpcap's own BPF interpreter over frames like the ones on a LAN,
// plus DropAllProgram() on a real socket.
#include "capture/bpf_filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "capture/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BiosIpxeDiscover;
using ::pxe::testing::BiosIpxeRequest4011;
using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using ::pxe::testing::PlainDhcpDiscover;
using ::pxe::testing::ServerOffer;
using ::pxe::testing::UefiOvmfDiscover;
using ::pxe::testing::UefiOvmfRequest4011;
using ::testing::HasSubstr;

constexpr uint32_t kClient = Ip(10, 77, 0, 113);
constexpr uint32_t kOurs = Ip(10, 77, 0, 2);
constexpr uint32_t kOurSecond = Ip(10, 88, 0, 2);
constexpr uint32_t kDhcpServer = Ip(10, 77, 0, 1);

// True when `program` accepts `frame` (returns a non-zero snap length).
bool Accepts(const BpfProgram& program, const std::vector<uint8_t>& frame) {
  // libpcap's bpf_insn and the kernel's sock_filter share one layout.
  bpf_program prog{.bf_len = static_cast<u_int>(program.size()),
                   .bf_insns = reinterpret_cast<bpf_insn*>(
                       const_cast<sock_filter*>(program.data()))};
  pcap_pkthdr header{};
  header.caplen = static_cast<bpf_u_int32>(frame.size());
  header.len = static_cast<bpf_u_int32>(frame.size());
  return pcap_offline_filter(&prog, &header, frame.data()) != 0;
}

BpfProgram CompileFor(std::vector<InterfaceAddress> addresses) {
  absl::StatusOr<BpfProgram> program =
      CompileFilter(DhcpFilterExpression(addresses));
  EXPECT_TRUE(program.ok()) << program.status();
  return program.ok() ? *program : BpfProgram{};
}

// A 42-byte ARP request (who-has kOurs tell kClient).
std::vector<uint8_t> ArpRequest() {
  return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broadcast
          0x52, 0x54, 0x00, 0x77, 0x00, 0x10,  // client
          0x08, 0x06,                          // ARP
          0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01, 0x52, 0x54,
          0x00, 0x77, 0x00, 0x10, 10,   77,   0,    113,  0,    0,
          0,    0,    0,    0,    10,   77,   0,    2};
}

TEST(DhcpFilterExpressionTest, NamesOurAddressesForPort4011) {
  const std::string one =
      DhcpFilterExpression(std::vector<InterfaceAddress>{{.address = kOurs}});
  EXPECT_THAT(one, HasSubstr("dst port 4011"));
  EXPECT_THAT(one, HasSubstr("dst host 10.77.0.2"));
  const std::string two = DhcpFilterExpression(std::vector<InterfaceAddress>{
      {.address = kOurs}, {.address = kOurSecond, .prefix_length = 16}});
  EXPECT_THAT(two, HasSubstr("dst host 10.77.0.2 or dst host 10.88.0.2"));
  EXPECT_THAT(DhcpFilterExpression(std::vector<InterfaceAddress>{}),
              ::testing::Not(HasSubstr("dst port 4011 and")));
}

TEST(BpfFilterTest, OneAddressCompiles) {
  absl::StatusOr<BpfProgram> program = CompileFilter(
      DhcpFilterExpression(std::vector<InterfaceAddress>{{.address = kOurs}}));
  ASSERT_TRUE(program.ok()) << program.status();
  EXPECT_FALSE(program->empty());
  // A classic BPF program the kernel takes: at most 4096 instructions, ending
  // in a return.
  EXPECT_LE(program->size(), 4096u);
  EXPECT_EQ(BPF_CLASS(program->back().code), BPF_RET);
}

TEST(BpfFilterTest, TwoAddressesCompile) {
  absl::StatusOr<BpfProgram> program =
      CompileFilter(DhcpFilterExpression(std::vector<InterfaceAddress>{
          {.address = kOurs}, {.address = kOurSecond}}));
  ASSERT_TRUE(program.ok()) << program.status();
  EXPECT_FALSE(program->empty());
  EXPECT_EQ(BPF_CLASS(program->back().code), BPF_RET);
}

TEST(BpfFilterTest, DiscoverToPort67Passes) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  EXPECT_TRUE(Accepts(program, BuildFrame(BiosIpxeDiscover())));
  EXPECT_TRUE(Accepts(program, BuildFrame(UefiOvmfDiscover())));
  // Non-PXE DHCP is the engine's business, not the filter's.
  EXPECT_TRUE(Accepts(program, BuildFrame(PlainDhcpDiscover())));
}

TEST(BpfFilterTest, DiscoverWithIpOptionsPasses) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  FrameSpec spec = BiosIpxeDiscover();
  spec.ihl = 7;  // the UDP header moves 8 bytes further in
  EXPECT_TRUE(Accepts(program, BuildFrame(spec)));
}

TEST(BpfFilterTest, ServerReplyToPort68Passes) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  EXPECT_TRUE(Accepts(program, BuildFrame(ServerOffer(kDhcpServer, kClient))));
  // A unicast server reply too (tcpdump shows these in the captures).
  FrameSpec unicast = ServerOffer(kDhcpServer, kClient);
  unicast.ip_dst = kClient;
  EXPECT_TRUE(Accepts(program, BuildFrame(unicast)));
}

TEST(BpfFilterTest, Port4011ToOurAddressPasses) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  // OVMF sends with DF set: DF is not a fragment.
  EXPECT_TRUE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kOurs))));
  EXPECT_TRUE(
      Accepts(program, BuildFrame(BiosIpxeRequest4011(kClient, kOurs))));
}

TEST(BpfFilterTest, Port4011ToAnotherAddressDoesNotPass) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  EXPECT_FALSE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kDhcpServer))));
  EXPECT_FALSE(
      Accepts(program, BuildFrame(BiosIpxeRequest4011(kClient, kOurSecond))));
  // Not even broadcast: 4011 is unicast to a boot server.
  EXPECT_FALSE(Accepts(program, BuildFrame(UefiOvmfRequest4011(
                                    kClient, Ip(255, 255, 255, 255)))));
}

TEST(BpfFilterTest, Port4011ToEitherOfTwoAddressesPasses) {
  const BpfProgram program =
      CompileFor({{.address = kOurs}, {.address = kOurSecond}});
  EXPECT_TRUE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kOurs))));
  EXPECT_TRUE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kOurSecond))));
  EXPECT_FALSE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kDhcpServer))));
  EXPECT_TRUE(Accepts(program, BuildFrame(BiosIpxeDiscover())));
  EXPECT_TRUE(Accepts(program, BuildFrame(ServerOffer(kDhcpServer, kClient))));
}

TEST(BpfFilterTest, WithoutAddressesPort4011NeverPasses) {
  const BpfProgram program = CompileFor({});
  EXPECT_FALSE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kOurs))));
  EXPECT_TRUE(Accepts(program, BuildFrame(BiosIpxeDiscover())));
}

TEST(BpfFilterTest, FragmentsDoNotPass) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  FrameSpec first = BiosIpxeDiscover();
  first.frag = 0x2000;  // MF, offset 0: the first of several
  EXPECT_FALSE(Accepts(program, BuildFrame(first)));
  FrameSpec last = BiosIpxeDiscover();
  last.frag = 0x0010;  // offset 128 bytes, MF clear: the last one
  EXPECT_FALSE(Accepts(program, BuildFrame(last)));
  FrameSpec to_4011 = UefiOvmfRequest4011(kClient, kOurs);
  to_4011.frag = 0x6000;  // DF and MF
  EXPECT_FALSE(Accepts(program, BuildFrame(to_4011)));
}

TEST(BpfFilterTest, TcpDoesNotPass) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  FrameSpec spec = BiosIpxeDiscover();
  spec.protocol = 6;  // the "UDP" ports 68 -> 67 are now TCP ports
  EXPECT_FALSE(Accepts(program, BuildFrame(spec)));
  FrameSpec to_4011 = UefiOvmfRequest4011(kClient, kOurs);
  to_4011.protocol = 6;
  EXPECT_FALSE(Accepts(program, BuildFrame(to_4011)));
}

TEST(BpfFilterTest, ArpDoesNotPass) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  EXPECT_FALSE(Accepts(program, ArpRequest()));
  // Whatever follows: the ethertype decides.
  FrameSpec spec = BiosIpxeDiscover();
  spec.ethertype = 0x0806;
  EXPECT_FALSE(Accepts(program, BuildFrame(spec)));
}

TEST(BpfFilterTest, UdpToOtherPortsDoesNotPass) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  FrameSpec dns = PlainDhcpDiscover();
  dns.ip_dst = kOurs;
  dns.src_port = 40000;
  dns.dst_port = 53;
  EXPECT_FALSE(Accepts(program, BuildFrame(dns)));
  // Only the destination port counts: 67 as the source does not pass.
  FrameSpec tftp = BiosIpxeDiscover();
  tftp.src_port = 67;
  tftp.dst_port = 69;
  EXPECT_FALSE(Accepts(program, BuildFrame(tftp)));
}

TEST(BpfFilterTest, AcceptedFramesKeepTheSnapLength) {
  absl::StatusOr<BpfProgram> program = CompileFilter(
      DhcpFilterExpression(std::vector<InterfaceAddress>{{.address = kOurs}}),
      2048);
  ASSERT_TRUE(program.ok()) << program.status();
  const std::vector<uint8_t> frame = BuildFrame(BiosIpxeDiscover());
  bpf_program prog{.bf_len = static_cast<u_int>(program->size()),
                   .bf_insns = reinterpret_cast<bpf_insn*>(program->data())};
  pcap_pkthdr header{};
  header.caplen = header.len = static_cast<bpf_u_int32>(frame.size());
  EXPECT_EQ(pcap_offline_filter(&prog, &header, frame.data()), 2048);
}

TEST(BpfFilterTest, BadExpressionIsQuotedInTheError) {
  absl::StatusOr<BpfProgram> program = CompileFilter("udp and and port 67");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(program.status().message()),
              HasSubstr("\"udp and and port 67\" does not compile"));
}

TEST(DropAllProgramTest, RejectsEverything) {
  const BpfProgram program = DropAllProgram();
  EXPECT_FALSE(Accepts(program, BuildFrame(BiosIpxeDiscover())));
  EXPECT_FALSE(Accepts(program, BuildFrame(ServerOffer(kDhcpServer, kClient))));
  EXPECT_FALSE(
      Accepts(program, BuildFrame(UefiOvmfRequest4011(kClient, kOurs))));
  EXPECT_FALSE(Accepts(program, ArpRequest()));
  EXPECT_FALSE(Accepts(program, {}));
}

// A UDP socket on loopback bound to an ephemeral port; `Send` sends itself a
// datagram and `Received` says whether it arrived within 200 ms.
class LoopbackSocket {
 public:
  LoopbackSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ok_ = fd_.get() >= 0 &&
          bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
              0 &&
          getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    addr_ = addr;
  }
  bool ok() const { return ok_; }
  int fd() const { return fd_.get(); }
  bool Send() {
    const char byte = 'x';
    return sendto(fd_.get(), &byte, 1, 0,
                  reinterpret_cast<const sockaddr*>(&addr_),
                  sizeof(addr_)) == 1;
  }
  bool Received() {
    pollfd p{.fd = fd_.get(), .events = POLLIN};
    if (poll(&p, 1, 200) != 1) return false;
    char byte = 0;
    return recv(fd_.get(), &byte, 1, MSG_DONTWAIT) == 1;
  }

 private:
  UniqueFd fd_;
  sockaddr_in addr_{};
  bool ok_ = false;
};

TEST(DropAllProgramTest, AttachedToASocketNothingArrives) {
  LoopbackSocket control;
  ASSERT_TRUE(control.ok()) << std::strerror(errno);
  ASSERT_TRUE(control.Send());
  ASSERT_TRUE(control.Received()) << "loopback does not deliver: test broken";

  LoopbackSocket filtered;
  ASSERT_TRUE(filtered.ok()) << std::strerror(errno);
  absl::Status status = AttachFilter(filtered.fd(), DropAllProgram());
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_TRUE(filtered.Send());
  EXPECT_FALSE(filtered.Received());
}

TEST(AttachFilterTest, BadDescriptorIsReported) {
  absl::Status status = AttachFilter(-1, DropAllProgram());
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("SO_ATTACH_FILTER"));
}

// An interface's VLAN addresses are ours for port 4011 too.
TEST(BpfFilterTest, Port4011ToAVlanAddressPasses) {
  InterfaceInfo trunk{.name = "eth0", .addresses = {{.address = kOurs}}};
  trunk.vlans = {{.vlan = 10, .addresses = {{.address = kOurSecond}}}};
  absl::StatusOr<BpfProgram> program =
      CompileFilter(DhcpFilterExpression(trunk));
  ASSERT_TRUE(program.ok()) << program.status();
  EXPECT_TRUE(
      Accepts(*program, BuildFrame(BiosIpxeRequest4011(kClient, kOurSecond))));
  EXPECT_TRUE(
      Accepts(*program, BuildFrame(BiosIpxeRequest4011(kClient, kOurs))));
  EXPECT_FALSE(Accepts(
      *program, BuildFrame(BiosIpxeRequest4011(kClient, Ip(10, 99, 0, 2)))));
}

// The kernel takes the outer tag off before the filter runs: a tag still in
// the frame is QinQ's inner one. DHCP inside it passes, to be counted as
// stacked tags by the parser; anything else tagged does not.
TEST(BpfFilterTest, DhcpBehindATagInTheFramePasses) {
  const BpfProgram program = CompileFor({{.address = kOurs}});
  FrameSpec discover = BiosIpxeDiscover();
  discover.vlan_tci = 20;
  EXPECT_TRUE(Accepts(program, BuildFrame(discover)));
  FrameSpec other = BiosIpxeDiscover();
  other.vlan_tci = 20;
  other.dst_port = 53;
  EXPECT_FALSE(Accepts(program, BuildFrame(other)));
}

// DHCPv6: an IPv6/UDP frame (no extension header) from the client's
// link-local address, OVMF's captured Solicit's message as payload.
std::vector<uint8_t> Dhcp6Frame(const std::array<uint8_t, 16>& dst,
                                uint16_t dport, uint8_t next_header = 17) {
  std::vector<uint8_t> f = {
      0x33, 0x33, 0x00, 0x01, 0x00, 0x02,  // ff02::1:2
      0x52, 0x54, 0x00, 0x77, 0x00, 0x10, 0x86,        0xdd,
      0x60, 0,    0,    0,    0,    16,   next_header, 255};
  const std::array<uint8_t, 16> src = {
      0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0x77, 0, 0x10};
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  const uint8_t udp[] = {0x02,
                         0x22,
                         static_cast<uint8_t>(dport >> 8),
                         static_cast<uint8_t>(dport),
                         0,
                         16,
                         0,
                         0,
                         1,
                         0xff,
                         0x1b,
                         0xc2,
                         0,
                         8,
                         0,
                         2};  // Solicit
  f.insert(f.end(), std::begin(udp), std::end(udp));
  return f;
}

TEST(BpfFilterTest, Dhcp6ToAllAgentsOrOurAddressesPasses) {
  const std::array<uint8_t, 16> all_dhcp = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                            0,    0,    0, 0, 0, 1, 0, 2};
  const std::array<uint8_t, 16> ours = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                                        0,    0,    0, 0, 0, 0, 0, 2};
  const std::array<uint8_t, 16> other = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                                         0,    0,    0, 0, 0, 0, 0, 9};
  absl::StatusOr<BpfProgram> program = CompileFilter(DhcpFilterExpression(
      std::vector<InterfaceAddress>{{.address = kOurs}},
      std::vector<Ipv6InterfaceAddress>{{.address = ours}}));
  ASSERT_TRUE(program.ok()) << program.status();
  // Solicits (and Requests to a PXEv6 boot server that was named nowhere).
  EXPECT_TRUE(Accepts(*program, Dhcp6Frame(all_dhcp, 547)));
  EXPECT_TRUE(Accepts(*program, Dhcp6Frame(all_dhcp, 4011)));
  // A PXEv6 Request to us on 4011, a relay's Relay-forward to us on 547.
  EXPECT_TRUE(Accepts(*program, Dhcp6Frame(ours, 4011)));
  EXPECT_TRUE(Accepts(*program, Dhcp6Frame(ours, 547)));
  // Not ours: another host's 4011, a server's reply to a client on 546,
  // UDP behind an extension header (hop-by-hop), other ports.
  EXPECT_FALSE(Accepts(*program, Dhcp6Frame(other, 4011)));
  EXPECT_FALSE(Accepts(*program, Dhcp6Frame(other, 547)));
  EXPECT_FALSE(Accepts(*program, Dhcp6Frame(all_dhcp, 546)));
  EXPECT_FALSE(Accepts(*program, Dhcp6Frame(all_dhcp, 547, /*next=*/0)));
  EXPECT_FALSE(Accepts(*program, Dhcp6Frame(all_dhcp, 53)));
  // DHCPv4 as before.
  EXPECT_TRUE(Accepts(*program, BuildFrame(BiosIpxeDiscover())));
}

}  // namespace
}  // namespace pxe
