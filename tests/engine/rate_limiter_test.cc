// Rate limits (engine/rate_limiter.h) and what the Responder does with
// them: a client that floods is answered for its burst and then at its
// rate, every refusal counted; a real ROM's retries never reach the limit;
// a flood of made-up MACs cannot slow a real client.
#include "engine/rate_limiter.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/reply.h"
#include "engine/responder.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSecond = 1'000 * kMs;
constexpr uint64_t kMinute = 60 * kSecond;

using ::pxe::testing::NthMac;

TEST(RateLimitTest, BurstThenOnePerInterval) {
  RateLimit limit(60, kMinute, 20);  // one a second after 20
  const uint64_t t0 = 100 * kSecond;
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limit.Allow(t0)) << i;
  EXPECT_FALSE(limit.Allow(t0));
  EXPECT_FALSE(limit.Allow(t0 + kSecond - 1));
  EXPECT_TRUE(limit.Allow(t0 + kSecond));
  EXPECT_FALSE(limit.Allow(t0 + kSecond));
  // Idle for the whole burst's worth: the burst is back, no more.
  const uint64_t later = t0 + kMinute;
  int allowed = 0;
  while (limit.Allow(later)) ++allowed;
  EXPECT_EQ(allowed, 20);
}

TEST(RateLimitTest, RateZeroIsNoLimit) {
  RateLimit limit(0, kSecond, 1);
  EXPECT_TRUE(limit.unlimited());
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(limit.Allow(5));
}

TEST(ClientRateLimiterTest, EachClientHasItsOwnBucket) {
  ClientRateLimiter limiter(RateLimit(60, kMinute, 3), 64);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(NthMac(1), kSecond));
  EXPECT_FALSE(limiter.Allow(NthMac(1), kSecond));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(NthMac(2), kSecond));
  EXPECT_FALSE(limiter.Allow(NthMac(2), kSecond));
}

// A real client sends now and then while 100,000 made-up MACs fill the
// 64-entry table: it loses its entry at worst, which gives it a full bucket.
TEST(ClientRateLimiterTest, FloodOfMacsNeverSlowsARealClient) {
  ClientRateLimiter limiter(RateLimit(60, kMinute, 2), 64);
  const MacAddress real = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint64_t now = kSecond;
  for (uint32_t n = 0; n < 100'000; ++n) {
    limiter.Allow(NthMac(n), now);
    if (n % 1000 == 0) {
      ASSERT_TRUE(limiter.Allow(real, now)) << n;
      now += kSecond;  // the real client asks once a second
    }
  }
}

// The Responder's view, through a sink that only counts.
class CountingSink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t, const RxMeta&) override { ++sent_; }
  size_t sent() const { return sent_; }

 private:
  std::vector<uint8_t> slot_ = std::vector<uint8_t>(kMaxReplyFrameSize);
  size_t sent_ = 0;
};

std::vector<ResponderPort> OnePort() {
  return {{.name = "eth0",
           .ifindex = 2,
           .mac = {0x02, 0, 0, 0, 0, 0x02},
           .addresses = {{Ip(10, 77, 0, 2), 24}}}};
}

std::vector<uint8_t> Discover(uint32_t xid, const MacAddress& mac) {
  FrameSpec spec = testing::BiosIpxeDiscover();
  spec.xid = xid;
  spec.eth_src = mac;
  spec.chaddr = mac;
  return BuildFrame(spec);
}

uint64_t CountOf(const Counters& counters, DropReason reason) {
  return counters.by_reason[static_cast<size_t>(reason)];
}

// 2,000 DISCOVERs from one MAC with new xids in one second once drew 2,000
// broadcast offers; now the default limit answers its burst, counts the
// rest and says so once.
TEST(ResponderRateLimitTest, OneMacFloodingIsAnsweredForItsBurstOnly) {
  CountingSink sink;
  std::vector<std::string> notices;
  Responder responder(OnePort(), ResponderOptions{}, &sink, {},
                      [&](std::string_view t) { notices.emplace_back(t); });
  std::unique_ptr<const PolicySnapshot> policy =
      testing::CompileOrDie(BootPolicy{.defaults = {.file = "pxelinux.0"}});
  responder.SetPolicy(policy.get());
  const MacAddress flooder = NthMac(7);
  for (uint32_t xid = 1; xid <= 2000; ++xid) {
    responder.HandleFrame(0, Discover(xid, flooder), RxMeta{},
                          kSecond + xid * (kSecond / 2000));
  }
  EXPECT_EQ(sink.sent(), size_t{ResponderOptions{}.client_burst});
  EXPECT_EQ(CountOf(responder.counters(), DropReason::kClientRateLimited),
            2000u - ResponderOptions{}.client_burst);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("52:54:00:00:00:07"), std::string::npos)
      << notices[0];
  // Another client is answered meanwhile.
  responder.HandleFrame(0, Discover(1, NthMac(8)), RxMeta{}, 2 * kSecond);
  EXPECT_EQ(sink.sent(), size_t{ResponderOptions{}.client_burst} + 1);
}

// What firmware sends while booting, by the default limits: a BIOS ROM's
// DISCOVER retries (4, 8, 16, 32 s), iPXE's DHCP (DISCOVERs at 1, 2, 4 s)
// and a second iPXE after a chainload, all from one MAC: none limited.
TEST(ResponderRateLimitTest, RealRetriesAreNeverLimited) {
  CountingSink sink;
  Responder responder(OnePort(), ResponderOptions{}, &sink);
  std::unique_ptr<const PolicySnapshot> policy =
      testing::CompileOrDie(BootPolicy{.defaults = {.file = "pxelinux.0"}});
  responder.SetPolicy(policy.get());
  const MacAddress mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint32_t xid = 1;
  size_t sent = 0;
  for (const uint64_t s : {0, 4, 12, 28, 60, 61, 62, 64, 68, 70, 71, 73}) {
    responder.HandleFrame(0, Discover(xid++, mac), RxMeta{}, s * kSecond);
    ++sent;
  }
  EXPECT_EQ(sink.sent(), sent);
  EXPECT_EQ(CountOf(responder.counters(), DropReason::kClientRateLimited), 0u);
}

TEST(ResponderRateLimitTest, InterfaceCeiling) {
  CountingSink sink;
  Responder responder(OnePort(), ResponderOptions{.interface_per_second = 100},
                      &sink);
  std::unique_ptr<const PolicySnapshot> policy =
      testing::CompileOrDie(BootPolicy{.defaults = {.file = "pxelinux.0"}});
  responder.SetPolicy(policy.get());
  for (uint32_t n = 0; n < 1000; ++n) {
    responder.HandleFrame(0, Discover(n, NthMac(n)), RxMeta{},
                          kSecond + n * (kSecond / 1000));
  }
  // 100 at once, then 100 a second over the second the storm lasted.
  EXPECT_GE(sink.sent(), 190u);
  EXPECT_LE(sink.sent(), 200u);
  EXPECT_EQ(CountOf(responder.counters(), DropReason::kInterfaceRateLimited),
            1000u - sink.sent());
}

}  // namespace
}  // namespace pxe
