// Where a reply may go. pxe-pdhcp writes whole frames past the host's UDP
// stack and firewall, so every check the kernel would make is its own: each
// case here is a crafted request that once steered a reply somewhere no
// booting client or relay can be, and must now be a counted drop, beside
// the legitimate request it imitates, which is still answered.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/policy_snapshot.h"
#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BiosIpxeDiscover;
using ::pxe::testing::BiosIpxeRequest4011;
using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;

constexpr uint32_t kServer = Ip(10, 77, 0, 2);
constexpr uint32_t kServer2 = Ip(10, 78, 0, 2);
constexpr uint32_t kClient = Ip(10, 77, 0, 50);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
const std::array<InterfaceAddress, 2> kAddresses = {
    InterfaceAddress{kServer, 24}, InterfaceAddress{kServer2, 24}};

struct TargetCase {
  std::string name;
  FrameSpec spec;
  DropReason expected;
  uint32_t dst_ip = 0;  // when answered: where the reply goes
};

FrameSpec Request4011(void (*edit)(FrameSpec&)) {
  FrameSpec s = BiosIpxeRequest4011(kClient, kServer);
  edit(s);
  return s;
}

FrameSpec Discover(void (*edit)(FrameSpec&)) {
  FrameSpec s = BiosIpxeDiscover();
  edit(s);
  return s;
}

std::vector<TargetCase> Cases() {
  return {
      {"Ack4011ToItsSource", Request4011([](FrameSpec&) {}), DropReason::kNone,
       kClient},
      {"Ack4011WithoutCiaddrToItsSource",
       Request4011([](FrameSpec& s) { s.ciaddr = 0; }), DropReason::kNone,
       kClient},
      // A client behind a router asks on 4011 directly: answered through the
      // router (the frame's source MAC).
      {"Ack4011ToAnOffLinkClient", Request4011([](FrameSpec& s) {
         s.ip_src = s.ciaddr = Ip(10, 12, 3, 4);
       }),
       DropReason::kNone, Ip(10, 12, 3, 4)},
      // ciaddr 8.8.8.8 from 1.2.3.4:53 once drew an ACK to 8.8.8.8:53.
      {"CiaddrOtherThanTheSource", Request4011([](FrameSpec& s) {
         s.ip_src = Ip(1, 2, 3, 4);
         s.src_port = 53;
         s.ciaddr = Ip(8, 8, 8, 8);
       }),
       DropReason::kCiaddrNotSource},
      {"SourcePortNotAClientPort", Request4011([](FrameSpec& s) {
         s.ip_src = Ip(1, 2, 3, 4);
         s.src_port = 53;
         s.ciaddr = 0;
       }),
       DropReason::kBadClientPort},
      {"MulticastTarget", Request4011([](FrameSpec& s) {
         s.ip_src = s.ciaddr = Ip(224, 0, 0, 1);
       }),
       DropReason::kBadReplyTarget},
      {"LoopbackTarget", Request4011([](FrameSpec& s) {
         s.ip_src = s.ciaddr = Ip(127, 0, 0, 1);
       }),
       DropReason::kBadReplyTarget},
      {"OurOwnAddressAsTarget",
       Request4011([](FrameSpec& s) { s.ip_src = s.ciaddr = kServer2; }),
       DropReason::kBadReplyTarget},
      {"OurSubnetsBroadcastAsTarget", Request4011([](FrameSpec& s) {
         s.ip_src = s.ciaddr = Ip(10, 77, 0, 255);
       }),
       DropReason::kBadReplyTarget},
      {"FromZeroToAnOffLinkCiaddr", Request4011([](FrameSpec& s) {
         s.ip_src = 0;
         s.ciaddr = Ip(8, 8, 8, 8);
       }),
       DropReason::kBadReplyTarget},
      {"FromZeroToAnOnLinkCiaddr", Request4011([](FrameSpec& s) {
         s.ip_src = 0;
         s.ciaddr = kClient;
       }),
       DropReason::kNone, kClient},
      // Source MAC ff:ff:ff:ff:ff:ff with ciaddr 255.255.255.255 once drew
      // an L2 and IP broadcast.
      {"BroadcastSourceMac", Request4011([](FrameSpec& s) {
         s.eth_src = kBroadcastMac;
         s.ip_src = s.ciaddr = 0xFFFFFFFF;
       }),
       DropReason::kGroupSourceMac},
      {"MulticastSourceMacOnADiscover", Discover([](FrameSpec& s) {
         s.eth_src = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
       }),
       DropReason::kGroupSourceMac},
      {"BroadcastOffer", Discover([](FrameSpec&) {}), DropReason::kNone,
       0xFFFFFFFF},
      {"DiscoverFromAnOnLinkAddress",
       Discover([](FrameSpec& s) { s.ip_src = kClient; }), DropReason::kNone,
       0xFFFFFFFF},
      // 203.0.113.5 -> us:67, not relayed, once drew a LAN-wide offer.
      {"OffLinkUnicastDiscover", Discover([](FrameSpec& s) {
         s.ip_src = Ip(203, 0, 113, 5);
         s.ip_dst = kServer;
       }),
       DropReason::kOffLinkRequest},
      {"RelayedToARelay",
       Discover([](FrameSpec& s) { s.giaddr = Ip(10, 78, 0, 1); }),
       DropReason::kNone, Ip(10, 78, 0, 1)},
      {"RelayOnAnotherNetwork",
       Discover([](FrameSpec& s) { s.giaddr = Ip(8, 8, 8, 8); }),
       DropReason::kNone, Ip(8, 8, 8, 8)},
      {"LoopbackRelay",
       Discover([](FrameSpec& s) { s.giaddr = Ip(127, 0, 0, 1); }),
       DropReason::kBadRelayAddress},
      {"BroadcastRelay", Discover([](FrameSpec& s) { s.giaddr = 0xFFFFFFFF; }),
       DropReason::kBadRelayAddress},
      {"OurOwnAddressAsRelay",
       Discover([](FrameSpec& s) { s.giaddr = kServer; }),
       DropReason::kBadRelayAddress},
  };
}

class ReplyTargetTest : public ::testing::TestWithParam<TargetCase> {};

// What the wire shows: the outcome, and for an answer, the destination.
TEST_P(ReplyTargetTest, RepliesGoOnlyWhereAClientOrRelayCanBe) {
  const TargetCase& c = GetParam();
  BootPolicy policy{.defaults = {.file = "pxelinux.0"}};
  const ServerContext context{.mac = kServerMac, .addresses = kAddresses};
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  const std::vector<uint8_t> frame = BuildFrame(c.spec);
  const DropReason d =
      Respond(frame, RxMeta{}, testing::Compiled(std::move(policy)), context,
              request.get(), out, &size);
  EXPECT_EQ(DropReasonName(d), DropReasonName(c.expected));
  if (c.expected != DropReason::kNone) {
    EXPECT_EQ(size, 0u);
    return;
  }
  ASSERT_GT(size, 0u);
  FrameView reply;
  ASSERT_EQ(ParseFrame({out.data(), size}, RxMeta{}, &reply),
            DropReason::kNone);
  EXPECT_EQ(reply.ip_dst, c.dst_ip);
}

INSTANTIATE_TEST_SUITE_P(Crafted, ReplyTargetTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<TargetCase>& param) {
                           return param.param.name;
                         });

// RFC 2131 §4.3.5 and table 3: the ACK to an INFORM carries ciaddr and
// yiaddr 0; the ACK to a 4011 REQUEST echoes the client's own address.
TEST(ReplyTargetAckTest, InformAckHasNoYiaddr) {
  BootPolicy policy{.defaults = {.file = "pxelinux.0"}};
  const PolicySnapshot& compiled = testing::Compiled(std::move(policy));
  const ServerContext context{.mac = kServerMac, .addresses = kAddresses};
  auto request = std::make_unique<Request>();
  auto reply = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  for (const uint8_t type : {3, 8}) {
    FrameSpec spec = BiosIpxeRequest4011(kClient, kServer);
    testing::SetOption(spec, testing::MessageTypeOpt(type));
    size_t size = 0;
    ASSERT_EQ(Respond(BuildFrame(spec), RxMeta{}, compiled, context,
                      request.get(), out, &size),
              DropReason::kNone);
    // Read back as a client: the reply goes to port 68.
    ASSERT_EQ(ClassifyFrame({out.data(), size}, RxMeta{}, reply.get()),
              DropReason::kServerReply);
    EXPECT_EQ(reply->ciaddr, kClient);
    EXPECT_EQ(reply->yiaddr, type == 8 ? 0u : kClient) << int{type};
  }
}

// With the relays configured, only they are answered.
TEST(ReplyTargetRelaysTest, OnlyConfiguredRelaysAreAnswered) {
  BootPolicy policy{.relays = {Ip(10, 78, 0, 1)},
                    .defaults = {.file = "pxelinux.0"}};
  const PolicySnapshot& compiled = testing::Compiled(std::move(policy));
  const ServerContext context{.mac = kServerMac, .addresses = kAddresses};
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  FrameSpec known = BiosIpxeDiscover();
  known.giaddr = Ip(10, 78, 0, 1);
  EXPECT_EQ(Respond(BuildFrame(known), RxMeta{}, compiled, context,
                    request.get(), out, &size),
            DropReason::kNone);
  FrameSpec unknown = BiosIpxeDiscover();
  unknown.giaddr = Ip(8, 8, 8, 8);
  EXPECT_EQ(Respond(BuildFrame(unknown), RxMeta{}, compiled, context,
                    request.get(), out, &size),
            DropReason::kBadRelayAddress);
}

}  // namespace
}  // namespace pxe
