// Known-answer tests: requests byte by byte, and the exact replies
// pxe-pdhcp must send for them (RFC 2131 §2 and §4.1, RFC 2132, PXE 2.1).
// One BIOS iPXE DISCOVER, whose expected checksums were computed by hand
// (RFC 1071); and one relayed with an option 82 of 300 bytes in two
// instances (RFC 3046, RFC 3396), whose checksums tests/testing/known_answer.h
// computes, independently of the engine. More kinds:
// reply_kinds_known_answer_test.cc.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/known_answer.h"

namespace pxe {
namespace {

using testing::Be16;
using testing::Bytes;
using testing::SameFrame;
using testing::Text;
using testing::WithChecksums;
using testing::Zeros;

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
    Zeros(10),                 // rest of chaddr
    Zeros(64 + 128),           // sname, file
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
    Zeros(8),        // ciaddr 0, yiaddr 0
    {10, 77, 0, 2},  // siaddr: the TFTP server (= us)
    Zeros(4),        // giaddr
    {0x52, 0x54, 0x00, 0x77, 0x00, 0x10},
    Zeros(10),
    Text("10.77.0.2"),
    Zeros(64 - 9),  // sname: TFTP server as text
    Text("pxelinux.0"),
    Zeros(128 - 10),  // file
    {0x63, 0x82, 0x53, 0x63},
    {53, 1, 2},             // DHCPOFFER
    {54, 4, 10, 77, 0, 2},  // server identifier
    {60, 9},
    Text("PXEClient"),
    {97, 17, 0x00},
    Uuid(),                 // the client's UUID echoed
    {43, 4, 6, 1, 8, 255},  // PXE discovery control: boot this file
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
  EXPECT_TRUE(SameFrame({out.data(), size}, kExpectedOffer));
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

// --- A relayed DISCOVER with a 300-byte option 82 -------------------------

// Option 82 of 300 bytes: circuit id (1) of 252 bytes, then remote id (2)
// of 44. The split after 255 bytes falls between the remote id's code and
// its length byte.
const std::string kCircuitId = [] {
  std::string s = "switch-3/Gi1/0/12:vlan-12:";
  while (s.size() < 252) s.push_back(static_cast<char>('a' + s.size() % 26));
  return s;
}();
const std::string kRemoteId = "relay-agent-7.rack-12.example.net:0a0b0c0d0e";
const std::vector<uint8_t> kRelayInfo = Bytes({
    {1, 252},
    Text(kCircuitId),
    {2, 44},
    Text(kRemoteId),
});
std::vector<uint8_t> RelayPart(size_t from, size_t length) {
  return {kRelayInfo.begin() + from, kRelayInfo.begin() + from + length};
}

const std::vector<uint8_t> kRelayMac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
const std::vector<uint8_t> kServerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const std::vector<uint8_t> kClientMac = {0x52, 0x54, 0x00, 0x12, 0x00, 0x07};
const std::vector<uint8_t> kRelayIp = {10, 12, 0, 1};
const std::vector<uint8_t> kServerIp = {10, 77, 0, 2};

// The BIOS ROM's DISCOVER as the relay forwards it: unicast from the relay
// to us, 67 -> 67, giaddr set, hops 1, option 82 last in two instances.
std::vector<uint8_t> RelayedDiscover(
    const std::vector<std::vector<uint8_t>>& relay_instances) {
  std::vector<uint8_t> options = Bytes({
      {0x63, 0x82, 0x53, 0x63},
      {53, 1, 1},
      {93, 2, 0x00, 0x00},
      {94, 3, 1, 2, 1},
      {60, 32},
      Text("PXEClient:Arch:00000:UNDI:002001"),
  });
  for (const std::vector<uint8_t>& part : relay_instances) {
    options.push_back(82);
    options.push_back(static_cast<uint8_t>(part.size()));
    options.insert(options.end(), part.begin(), part.end());
  }
  options.push_back(255);
  const size_t bootp = 236 + options.size();
  return WithChecksums(Bytes({
      kServerMac,
      kRelayMac,
      {0x08, 0x00},
      {0x45, 0x00},
      Be16(20 + 8 + bootp),
      {0x00, 0x01, 0x00, 0x00, 0x3f, 0x11, 0x00, 0x00},  // TTL 63
      kRelayIp,
      kServerIp,
      {0x00, 0x43, 0x00, 0x43},
      Be16(8 + bootp),
      {0x00, 0x00},
      {0x01, 0x01, 0x06, 0x01, 0x89, 0xaf, 0x88, 0x34, 0x00, 0x04, 0x00, 0x00},
      Zeros(12),  // ciaddr, yiaddr, siaddr
      kRelayIp,   // giaddr
      kClientMac,
      Zeros(10),
      Zeros(64 + 128),
      options,
  }));
}

// The proxy offer: unicast back to the relay on 67 (RFC 2131 §4.1),
// broadcast flag set, giaddr kept, the rule's file, and option 82 echoed
// whole as 255 + 45 bytes, last before END.
const std::vector<uint8_t> kExpectedRelayedOffer = [] {
  const std::vector<uint8_t> options = Bytes({
      {0x63, 0x82, 0x53, 0x63},
      {53, 1, 2},
      {54, 4},
      kServerIp,
      {60, 9},
      Text("PXEClient"),
      {43, 4, 6, 1, 8, 255},
      {82, 255},
      RelayPart(0, 255),
      {82, 45},
      RelayPart(255, 45),
      {255},
  });
  const size_t bootp = 236 + options.size();
  return WithChecksums(Bytes({
      kRelayMac,
      kServerMac,
      {0x08, 0x00},
      {0x45, 0xc0},
      Be16(20 + 8 + bootp),
      {0x01, 0x9b, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00},
      kServerIp,
      kRelayIp,
      {0x00, 0x43, 0x00, 0x43},
      Be16(8 + bootp),
      {0x00, 0x00},
      {0x02, 0x01, 0x06, 0x00, 0x89, 0xaf, 0x88, 0x34, 0x00, 0x00, 0x80, 0x00},
      Zeros(8),   // ciaddr, yiaddr
      kServerIp,  // siaddr: the TFTP server (= us)
      kRelayIp,   // giaddr
      kClientMac,
      Zeros(10),
      Text("10.77.0.2"),
      Zeros(64 - 9),
      Text("rack12/pxelinux.0"),
      Zeros(128 - 17),
      options,
  }));
}();

// Rack 12's clients, known by their relay's remote id (which straddles the
// split), get their own NBP.
const PolicySnapshot& Rack12Policy() {
  BootPolicy policy{.defaults = {.file = "pxelinux.0"}};
  policy.rules.push_back({.name = "rack12",
                          .match = {.remote_id = {{.text = kRemoteId}}},
                          .answer = {.file = "rack12/pxelinux.0"}});
  return testing::Compiled(std::move(policy));
}

DropReason RespondTo(const std::vector<uint8_t>& frame,
                     std::vector<uint8_t>* reply) {
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{MakeIpv4(10, 77, 0, 2), 24}};
  const ServerContext context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addresses = addresses};
  Request request;
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  const DropReason d =
      Respond(frame, RxMeta{}, Rack12Policy(), context, &request, out, &size);
  reply->assign(out.begin(), out.begin() + size);
  return d;
}

TEST(ReplyKnownAnswerTest, RelayInfoOf300BytesEchoedAs255Plus45) {
  ASSERT_EQ(kRelayInfo.size(), 300u);
  ASSERT_EQ(kExpectedRelayedOffer.size(), 14u + 20 + 8 + 236 + 335);
  std::vector<uint8_t> reply;
  ASSERT_EQ(RespondTo(RelayedDiscover({RelayPart(0, 255), RelayPart(255, 45)}),
                      &reply),
            DropReason::kNone);
  EXPECT_TRUE(SameFrame(reply, kExpectedRelayedOffer));
}

TEST(ReplyKnownAnswerTest, RelayInfoSplitAnyWayIsEchoedTheSame) {
  // RFC 3396: the receiver concatenates however the sender split; the
  // reply is split again after every 255 bytes.
  for (const std::vector<size_t>& sizes :
       std::vector<std::vector<size_t>>{{100, 100, 100},
                                        {1, 254, 45},
                                        {150, 150},
                                        {45, 255},
                                        {255, 1, 44}}) {
    SCOPED_TRACE(::testing::Message()
                 << sizes.size() << " instances, first " << sizes[0]);
    std::vector<std::vector<uint8_t>> parts;
    size_t from = 0;
    for (size_t n : sizes) {
      parts.push_back(RelayPart(from, n));
      from += n;
    }
    ASSERT_EQ(from, kRelayInfo.size());
    std::vector<uint8_t> reply;
    ASSERT_EQ(RespondTo(RelayedDiscover(parts), &reply), DropReason::kNone);
    EXPECT_TRUE(SameFrame(reply, kExpectedRelayedOffer));
  }
}

TEST(ReplyKnownAnswerTest, RelayedDiscoverClassifiedWhole) {
  const std::vector<uint8_t> frame =
      RelayedDiscover({RelayPart(0, 255), RelayPart(255, 45)});
  Request r;
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, &r), DropReason::kNone);
  EXPECT_EQ(r.giaddr, MakeIpv4(10, 12, 0, 1));
  EXPECT_EQ(std::vector<uint8_t>(r.relay_info.begin(), r.relay_info.end()),
            kRelayInfo);
  EXPECT_EQ(r.options.First(82).size(), 255u);
  EXPECT_EQ(r.options.TotalLength(82), 300u);
}

}  // namespace
}  // namespace pxe
