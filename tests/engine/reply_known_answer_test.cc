// Known-answer test: one BIOS iPXE DISCOVER, byte by byte, and the exact
// proxy OFFER pxe-pdhcp must send for it (PROTOCOL.md §4). The expected
// checksums were computed independently of the engine (RFC 1071 by hand).
#include <array>
#include <cstdint>
#include <vector>

#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"

namespace pxe {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
std::vector<uint8_t> Zeros(size_t n) { return std::vector<uint8_t>(n, 0); }
std::vector<uint8_t> Text(std::string_view s) { return {s.begin(), s.end()}; }
std::vector<uint8_t> Uuid() {
  std::vector<uint8_t> v;
  for (uint8_t i = 0; i < 16; ++i) v.push_back(i);
  return v;
}

const std::vector<uint8_t> kDiscover = Bytes({
    // Ethernet: broadcast, from the client, IPv4.
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    {0x52, 0x54, 0x00, 0x77, 0x00, 0x10},
    {0x08, 0x00},
    // IPv4: IHL 5, TOS 0, length 340, id 1, no fragment, TTL 64, UDP,
    // checksum 0x7999, 0.0.0.0 -> 255.255.255.255.
    {0x45, 0x00, 0x01, 0x54, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x79, 0x99},
    {0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff},
    // UDP: 68 -> 67, length 320, checksum 0 (none).
    {0x00, 0x44, 0x00, 0x43, 0x01, 0x40, 0x00, 0x00},
    // BOOTP: op 1, htype 1, hlen 6, hops 0, xid 0x89af8834, secs 4, flags 0.
    {0x01, 0x01, 0x06, 0x00, 0x89, 0xaf, 0x88, 0x34, 0x00, 0x04, 0x00, 0x00},
    Zeros(16),  // ciaddr, yiaddr, siaddr, giaddr
    {0x52, 0x54, 0x00, 0x77, 0x00, 0x10},
    Zeros(10),        // rest of chaddr
    Zeros(64 + 128),  // sname, file
    {0x63, 0x82, 0x53, 0x63},  // magic cookie
    {53, 1, 1},                // DHCPDISCOVER
    {93, 2, 0x00, 0x00},       // arch 0: x86 BIOS
    {94, 3, 1, 2, 1},          // UNDI 2.1
    {60, 32},
    Text("PXEClient:Arch:00000:UNDI:002001"),
    {77, 4},
    Text("iPXE"),
    {97, 17, 0x00},  // UUID type 0 ...
    Uuid(),          // ... 00 01 .. 0f
    {255},
});

const std::vector<uint8_t> kExpectedOffer = Bytes({
    // Ethernet: broadcast, from our MAC, IPv4.
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
    {0x08, 0x00},
    // IPv4: TOS 0xC0, length 328, id = xid ^ xid >> 16, TTL 64, UDP,
    // checksum 0x6cfc, 10.77.0.2 -> 255.255.255.255.
    {0x45, 0xc0, 0x01, 0x48, 0x01, 0x9b, 0x00, 0x00, 0x40, 0x11, 0x6c, 0xfc},
    {10, 77, 0, 2, 0xff, 0xff, 0xff, 0xff},
    // UDP: 67 -> 68, length 308, checksum 0xbb1f.
    {0x00, 0x43, 0x00, 0x44, 0x01, 0x34, 0xbb, 0x1f},
    // BOOTP: op 2, htype 1, hlen 6, hops 0, the request's xid, secs 0,
    // flags 0x8000 (broadcast: yiaddr is 0).
    {0x02, 0x01, 0x06, 0x00, 0x89, 0xaf, 0x88, 0x34, 0x00, 0x00, 0x80, 0x00},
    Zeros(8),         // ciaddr 0, yiaddr 0
    {10, 77, 0, 2},   // siaddr: the TFTP server (= us)
    Zeros(4),         // giaddr
    {0x52, 0x54, 0x00, 0x77, 0x00, 0x10},
    Zeros(10),
    Text("10.77.0.2"), Zeros(64 - 9),     // sname: TFTP server as text
    Text("pxelinux.0"), Zeros(128 - 10),  // file
    {0x63, 0x82, 0x53, 0x63},
    {53, 1, 2},              // DHCPOFFER
    {54, 4, 10, 77, 0, 2},   // server identifier
    {60, 9},
    Text("PXEClient"),
    {97, 17, 0x00},
    Uuid(),                  // the client's UUID echoed
    {43, 4, 6, 1, 8, 255},   // PXE discovery control: boot this file
    {255},
    Zeros(14),  // pad the BOOTP message to 300 bytes
});

TEST(ReplyKnownAnswerTest, BiosDiscoverGetsExactOffer) {
  ASSERT_EQ(kDiscover.size(), 14u + 340u);
  const PolicySnapshot& policy =
      testing::Compiled({.defaults = {.file = "pxelinux.0"}});
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{MakeIpv4(10, 77, 0, 2), 24}};
  const ServerContext context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addresses = addresses};
  Request request;
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  ASSERT_EQ(Respond(kDiscover, RxMeta{}, policy, context, &request, out, &size),
            DropReason::kNone);
  ASSERT_EQ(size, kExpectedOffer.size());
  for (size_t i = 0; i < size; ++i) {
    EXPECT_EQ(out[i], kExpectedOffer[i]) << "byte " << i;
  }
}

TEST(ReplyKnownAnswerTest, DiscoverClassifiedFieldByField) {
  Request r;
  ASSERT_EQ(ClassifyFrame(kDiscover, RxMeta{}, &r), DropReason::kNone);
  EXPECT_EQ(r.type, dhcp::MessageType::kDiscover);
  EXPECT_EQ(r.kind, ClientKind::kPxe);
  EXPECT_EQ(r.arch_code, 0);
  EXPECT_EQ(r.arch.arch_class, ArchClass::kBios);
  EXPECT_TRUE(r.is_ipxe);
  EXPECT_TRUE(r.has_undi);
  EXPECT_EQ(r.undi, (std::array<uint8_t, 3>{1, 2, 1}));
  EXPECT_EQ(r.uuid.size(), 17u);
  EXPECT_EQ(r.xid, 0x89af8834u);
  EXPECT_FALSE(r.broadcast);
  EXPECT_FALSE(r.relayed());
  EXPECT_EQ(r.chaddr, (MacAddress{0x52, 0x54, 0x00, 0x77, 0x00, 0x10}));
  EXPECT_EQ(r.frame.udp_src, 68);
  EXPECT_EQ(r.frame.udp_dst, 67);
}

}  // namespace
}  // namespace pxe
