// The client side of the DHCPv6 boot exchange (engine/client_request6.h):
// the Solicit and 4011 Request pxe-probe --ipv6 and pxe-storm send, checked
// byte by byte against OVMF's captured PXEv6 Solicit (its DUID-LLT swapped
// for our DUID-LL), read back by the engine's own classifier, answered by the
// engine's responder, and that answer read by ParseServerMessage6().
#include "engine/client_request6.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/dhcp6.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "gtest/gtest.h"
#include "tests/testing/allocation_counter.h"
#include "tests/testing/compiled_policy.h"

namespace pxe {
namespace {

using ::pxe::testing::Compiled;
using Bytes = std::vector<uint8_t>;
using MT6 = dhcp6::MessageType;

constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
// fe80::5054:ff:fe77:10
constexpr Ipv6Address kClientLinkLocal = {
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0x77, 0, 0x10};
constexpr Ipv6Address kOurLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                       0,    0,    0, 0, 0, 0, 0, 2};
constexpr Ipv6Address kOurGlobal = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                                    0,    0,    0, 0, 0, 0, 0, 2};

std::string Text(std::span<const uint8_t> b) {
  return std::string(b.begin(), b.end());
}

// OVMF's first PXEv6 Solicit in tests/data (xid ff1bc2, IAID ff887e7e), as
// BuildClientMessage6 writes it with the defaults: only the client ID
// differs (OVMF sends a DUID-LLT, 00 01 00 01 31 ec 9b 3d + MAC).
const Bytes kOvmfStyleSolicit = {
    0x01, 0xff, 0x1b, 0xc2,  // Solicit, xid
    0x00, 0x01, 0x00, 0x0a,  // client ID, 10 bytes: DUID-LL
    0x00, 0x03, 0x00, 0x01, 0x52, 0x54, 0x00, 0x77, 0x00, 0x10, 0x00,
    0x08, 0x00, 0x02, 0x00, 0x00,  // elapsed time 0
    0x00, 0x03, 0x00, 0x0c,        // IA_NA: IAID, T1, T2 = infinity
    0xff, 0x88, 0x7e, 0x7e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x06, 0x00, 0x08,  // ORO: 59 60 23 16
    0x00, 0x3b, 0x00, 0x3c, 0x00, 0x17, 0x00, 0x10, 0x00, 0x3e, 0x00,
    0x03, 0x01, 0x03, 0x00,              // NII: UNDI 3.0
    0x00, 0x3d, 0x00, 0x02, 0x00, 0x07,  // arch 7
    0x00, 0x10, 0x00, 0x26,              // vendor class, 38 bytes
    0x00, 0x00, 0x01, 0x57, 0x00, 0x20,  // enterprise 343, 32 bytes
    'P',  'X',  'E',  'C',  'l',  'i',  'e',  'n',  't',  ':',  'A',
    'r',  'c',  'h',  ':',  '0',  '0',  '0',  '0',  '7',  ':',  'U',
    'N',  'D',  'I',  ':',  '0',  '0',  '3',  '0',  '0',  '0'};

ClientRequest6Spec OvmfSolicit() {
  return {.xid = 0xff1bc2,
          .client_mac = kClientMac,
          .ia_na_iaid = 0xff887e7e,
          .src_mac = kClientMac,
          .src_ip = kClientLinkLocal};
}

BootPolicy Policy() {
  BootPolicy p;
  p.defaults.file = "bios.0";
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "uefi/bootx64.efi";
  p.defaults.http_url6 = "http://[fd77::5]/boot/bootx64.efi";
  return p;
}

const std::vector<Ipv6InterfaceAddress>& OurAddresses() {
  static const auto* a = new std::vector<Ipv6InterfaceAddress>{
      {kOurLinkLocal, 64}, {kOurGlobal, 64}};
  return *a;
}

ServerContext6 Context() {
  return {
      .mac = kServerMac, .addresses = OurAddresses(), .interface_name = "eth0"};
}

TEST(ClientRequest6Test, SolicitIsOvmfsWithADuidLl) {
  std::array<uint8_t, kMaxClientMessage6Size> out{};
  const size_t size = BuildClientMessage6(OvmfSolicit(), out);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + size), kOvmfStyleSolicit);
}

TEST(ClientRequest6Test, SolicitFrameClassifiesAsAPxeClient) {
  std::array<uint8_t, kMaxClientFrame6Size> frame{};
  const size_t size = BuildClientFrame6(OvmfSolicit(), frame);
  ASSERT_GT(size, 0u);
  Request6 r;
  ASSERT_EQ(ClassifyFrame6(std::span(frame).first(size), RxMeta{}, &r),
            DropReason::kNone);  // UDP checksum verified too
  EXPECT_EQ(r.frame.eth_dst, kAllDhcp6AgentsMac);
  EXPECT_EQ(r.frame.ip_dst, kAllDhcp6Agents);
  EXPECT_EQ(r.frame.udp_src, 546);
  EXPECT_EQ(r.frame.udp_dst, 547);
  EXPECT_EQ(r.type, MT6::kSolicit);
  EXPECT_EQ(r.xid, 0xff1bc2u);
  EXPECT_EQ(r.kind, ClientKind::kPxe);
  EXPECT_EQ(r.arch_code, 7);
  EXPECT_TRUE(r.has_ia);
  EXPECT_TRUE(r.mac_known);
  EXPECT_EQ(r.mac, kClientMac);
  EXPECT_EQ(Text(r.vendor_class), "PXEClient:Arch:00007:UNDI:003000");
}

TEST(ClientRequest6Test, VlanTagAndHttpClass) {
  ClientRequest6Spec spec = OvmfSolicit();
  spec.vlan_tci = 12;
  spec.arch = 16;
  spec.vendor_class = "HTTPClient:Arch:00016:UNDI:003000";
  std::array<uint8_t, kMaxClientFrame6Size> frame{};
  const size_t size = BuildClientFrame6(spec, frame);
  Request6 r;
  ASSERT_EQ(ClassifyFrame6(std::span(frame).first(size), RxMeta{}, &r),
            DropReason::kNone);
  EXPECT_TRUE(r.frame.has_vlan);
  EXPECT_EQ(r.frame.vlan_id(), 12);
  EXPECT_EQ(r.kind, ClientKind::kHttp);
  EXPECT_EQ(r.arch_code, 16);
}

TEST(ClientRequest6Test, OutOfRangeSpecsWriteNothing) {
  std::array<uint8_t, kMaxClientFrame6Size> frame{};
  ClientRequest6Spec spec = OvmfSolicit();
  const std::string long_class(256, 'x');
  spec.vendor_class = long_class;
  EXPECT_EQ(BuildClientFrame6(spec, frame), 0u);
  spec = OvmfSolicit();
  EXPECT_EQ(BuildClientFrame6(spec, std::span(frame).first(100)), 0u);
  const std::array<uint8_t, 131> long_id{};
  spec.server_id = long_id;
  EXPECT_EQ(BuildClientFrame6(spec, frame), 0u);
}

// Solicit -> the engine's Advertise -> 4011 Request -> the engine's Reply,
// every message written by one side and read by the other.
TEST(ClientRequest6Test, PxeExchangeWithTheEngine) {
  std::array<uint8_t, kMaxClientFrame6Size> solicit{};
  const size_t solicit_size = BuildClientFrame6(OvmfSolicit(), solicit);
  Request6 request;
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(Respond6(std::span(solicit).first(solicit_size), RxMeta{},
                     Compiled(Policy()), Context(), &request, out, &size),
            DropReason::kNone);
  FrameView6 view;
  ServerMessage6 advertise;
  ASSERT_EQ(ParseServerFrame6(std::span(out).first(size), RxMeta{}, &view,
                              &advertise),
            DropReason::kNone);
  EXPECT_EQ(view.udp_dst, 546);
  EXPECT_EQ(advertise.type, MT6::kAdvertise);
  EXPECT_EQ(advertise.xid, 0xff1bc2u);
  EXPECT_TRUE(advertise.proxy());
  EXPECT_FALSE(advertise.has_ia);
  const auto duid = MakeDuidLl(kClientMac);
  EXPECT_EQ(Bytes(advertise.client_id.begin(), advertise.client_id.end()),
            Bytes(duid.begin(), duid.end()));
  const ServerDuid server = MakeServerDuid(kServerMac);
  EXPECT_EQ(Bytes(advertise.server_id.begin(), advertise.server_id.end()),
            Bytes(server.begin(), server.end()));
  EXPECT_EQ(Text(advertise.vendor_class), "PXEClient");
  EXPECT_TRUE(advertise.has_boot_url);
  // NUL-terminated on the wire; the view stops before it.
  EXPECT_EQ(Text(advertise.boot_url), "tftp://[fd77::2]/uefi/bootx64.efi");

  ClientRequest6Spec spec = OvmfSolicit();
  spec.type = MT6::kRequest;
  spec.server_id = advertise.server_id;
  spec.ia_na_iaid = std::nullopt;
  spec.src_port = kPxeServerPort;
  spec.dst_port = kPxeServerPort;
  spec.dst_ip = kOurGlobal;
  spec.dst_mac = kServerMac;
  std::array<uint8_t, kMaxClientFrame6Size> request_frame{};
  const size_t request_size = BuildClientFrame6(spec, request_frame);
  ASSERT_EQ(Respond6(std::span(request_frame).first(request_size), RxMeta{},
                     Compiled(Policy()), Context(), &request, out, &size),
            DropReason::kNone);
  EXPECT_TRUE(request.on_pxe_port());
  EXPECT_FALSE(request.has_ia);
  ServerMessage6 reply;
  ASSERT_EQ(
      ParseServerFrame6(std::span(out).first(size), RxMeta{}, &view, &reply),
      DropReason::kNone);
  EXPECT_EQ(view.udp_src, kPxeServerPort);
  EXPECT_EQ(view.udp_dst, kPxeServerPort);
  EXPECT_EQ(reply.type, MT6::kReply);
  EXPECT_EQ(reply.xid, 0xff1bc2u);
  EXPECT_FALSE(reply.has_ia);
  EXPECT_EQ(Text(reply.boot_url), "tftp://[fd77::2]/uefi/bootx64.efi");
}

TEST(ClientRequest6Test, AddressServerAdvertiseIsNoProxy) {
  const Bytes message = {
      0x02, 0x12, 0x34, 0x56,              // Advertise
      0x00, 0x01, 0x00, 0x02, 0xaa, 0xbb,  // client ID
      0x00, 0x02, 0x00, 0x02, 0xcc, 0xdd,  // server ID
      0x00, 0x03, 0x00, 0x28,              // IA_NA, 40 bytes
      0,    0,    0,    1,    0,    0,    0,    0,    0,    0, 0,
      0,                       // IAID, T1, T2
      0x00, 0x05, 0x00, 0x18,  // IAADDR, 24 bytes
      0xfd, 0x77, 0,    0,    0,    0,    0,    0,    0,    0, 0,
      0,    0,    0,    1,    0x50, 0,    0,    0x0e, 0x10, 0, 0,
      0x0e, 0x10, 0x00, 0x0d, 0x00, 0x02, 0x00, 0x00};  // status: success
  ServerMessage6 m;
  ASSERT_TRUE(ParseServerMessage6(message, &m));
  EXPECT_EQ(m.xid, 0x123456u);
  EXPECT_TRUE(m.has_ia);
  EXPECT_TRUE(m.has_address);
  EXPECT_FALSE(m.proxy());
  EXPECT_TRUE(m.has_status);
  EXPECT_EQ(m.status, 0);
  EXPECT_FALSE(m.has_boot_url);

  // Truncated option: rejected; a Solicit: not a server message.
  EXPECT_FALSE(
      ParseServerMessage6(std::span(message).first(message.size() - 1), &m));
  Bytes solicit = message;
  solicit[0] = 1;
  EXPECT_FALSE(ParseServerMessage6(solicit, &m));
}

// Every truncation of the engine's Advertise parses without reading past
// its end: accepted only when the cut falls between two options.
TEST(ClientRequest6Test, EveryTruncatedAdvertiseIsReadSafely) {
  std::array<uint8_t, kMaxClientFrame6Size> solicit{};
  const size_t solicit_size = BuildClientFrame6(OvmfSolicit(), solicit);
  Request6 request;
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(Respond6(std::span(solicit).first(solicit_size), RxMeta{},
                     Compiled(Policy()), Context(), &request, out, &size),
            DropReason::kNone);
  constexpr size_t kMessage = 14 + 40 + 8;
  const Bytes message(out.begin() + kMessage, out.begin() + size);
  // Option boundaries: 1 (10), 2 (10), 16, 59.
  std::vector<size_t> boundaries = {4};
  for (size_t at = 4; at + 4 <= message.size();) {
    at += 4 + LoadBe16(&message[at + 2]);
    boundaries.push_back(at);
  }
  ASSERT_EQ(boundaries.back(), message.size());
  for (size_t cut = 0; cut <= message.size(); ++cut) {
    // A heap copy of exactly `cut` bytes, so a read past it is caught by
    // the sanitizers.
    const Bytes prefix(message.begin(), message.begin() + cut);
    ServerMessage6 m;
    const bool at_boundary = std::find(boundaries.begin(), boundaries.end(),
                                       cut) != boundaries.end();
    EXPECT_EQ(ParseServerMessage6(prefix, &m), at_boundary) << cut;
  }
}

TEST(ClientRequest6Test, BuildAndParseAllocateNothing) {
  std::array<uint8_t, kMaxClientFrame6Size> frame{};
  const ClientRequest6Spec spec = OvmfSolicit();
  const Bytes advertise = {0x02, 0xff, 0x1b, 0xc2, 0x00,
                           0x3b, 0x00, 0x02, 'a',  0};
  size_t size = 0;
  ServerMessage6 m;
  bool parsed = false;
  ::pxe::testing::AllocationCounter counter;
  size = BuildClientFrame6(spec, frame);
  parsed = ParseServerMessage6(advertise, &m);
  counter.Stop();
  const uint64_t allocations = counter.allocations();
  EXPECT_GT(size, 0u);
  EXPECT_TRUE(parsed);
  EXPECT_EQ(Text(m.boot_url), "a");
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace pxe
