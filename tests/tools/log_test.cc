// The daemon's log lines: decision lines (key=value and JSON) from real
// responder decisions, per-rule logging, notices limited per topic, levels,
// and the watchdog's progress check.
#include "tools/log.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/reply.h"
#include "engine/responder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"
#include "tools/decision_log.h"
#include "tools/service_notify.h"

namespace pxe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr uint64_t kSecond = 1'000'000'000;

// Every line the log writes during a test.
class LogTest : public ::testing::Test {
 protected:
  LogTest() {
    log::Init(false, log::Level::kInfo, log::Format::kText);
    log::CaptureForTesting(&lines_);
  }
  ~LogTest() override {
    log::CaptureForTesting(nullptr);
    log::Init(false);
  }
  std::vector<std::string> lines_;
};

TEST(FormatFieldsTest, TextQuotesOnlyWhatNeedsIt) {
  const std::vector<log::Field> fields = {
      {.key = "iface", .value = "eth0"},
      {.key = "why", .value = "a rule says: ignore"},
      {.key = "file", .value = "a\"b\\c"},
      {.key = "empty", .value = ""},
      {.key = "eq", .value = "x=y"},
      {.key = "vlan", .value = "10", .number = true}};
  EXPECT_EQ(log::FormatFields(fields, log::Format::kText),
            "iface=eth0 why=\"a rule says: ignore\" file=\"a\\\"b\\\\c\" "
            "empty=\"\" eq=\"x=y\" vlan=10");
}

TEST(FormatFieldsTest, JsonEscapesAndKeepsNumbers) {
  const std::vector<log::Field> fields = {
      {.key = "file", .value = "a\"b\\c\n\x01"},
      {.key = "vlan", .value = "10", .number = true}};
  EXPECT_EQ(log::FormatFields(fields, log::Format::kJson),
            "{\"file\":\"a\\\"b\\\\c\\n\\u0001\",\"vlan\":10}");
}

TEST(ParseTest, LevelsAndFormats) {
  EXPECT_EQ(log::ParseLevel("debug"), log::Level::kDebug);
  EXPECT_EQ(log::ParseLevel("warning"), log::Level::kWarning);
  EXPECT_EQ(log::ParseLevel("verbose"), std::nullopt);
  EXPECT_EQ(log::ParseFormat("json"), log::Format::kJson);
  EXPECT_EQ(log::ParseFormat("xml"), std::nullopt);
}

TEST_F(LogTest, LevelLeavesOutWhatIsBelowIt) {
  log::Init(false, log::Level::kWarning, log::Format::kText);
  log::Info("started");
  log::Warning("careful");
  log::Error("broken");
  EXPECT_THAT(lines_, ElementsAre("pxe-pdhcp: careful", "pxe-pdhcp: broken"));
}

TEST_F(LogTest, JsonMessagesAreObjectsWithTimeAndLevel) {
  log::Init(false, log::Level::kInfo, log::Format::kJson);
  log::Warning("say \"hi\"");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0],
              MatchesRegex("\\{\"time\":\"20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
                           "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\\.[0-9][0-9][0-9]Z"
                           "\",\"level\":\"warning\",\"msg\":\"say "
                           "\\\\\"hi\\\\\"\"\\}"));
}

TEST_F(LogTest, NoticesOfOneTopicAtMostOnceAMinuteThenACount) {
  const uint64_t t0 = 1000 * kSecond;
  log::NoticeAt("rate limit: client 52:54:00:00:00:01", t0);
  log::NoticeAt("rate limit: client 52:54:00:00:00:02", t0 + kSecond);
  log::NoticeAt("rate limit: client 52:54:00:00:00:03", t0 + 2 * kSecond);
  // Another topic is not held back by this one.
  log::NoticeAt("hold queue full: dropping", t0 + 3 * kSecond);
  log::FlushSuppressed(t0 + 59 * kSecond);  // the minute is not over
  EXPECT_THAT(lines_,
              ElementsAre("pxe-pdhcp: rate limit: client 52:54:00:00:00:01",
                          "pxe-pdhcp: hold queue full: dropping"));
  lines_.clear();
  log::FlushSuppressed(t0 + 60 * kSecond);
  EXPECT_THAT(lines_, ElementsAre("pxe-pdhcp: rate limit: 2 similar messages "
                                  "suppressed in the last minute"));
  lines_.clear();
  // The minute is over: the next one goes out at once.
  log::NoticeAt("rate limit: client 52:54:00:00:00:04", t0 + 61 * kSecond);
  EXPECT_THAT(lines_,
              ElementsAre("pxe-pdhcp: rate limit: client 52:54:00:00:00:04"));
  lines_.clear();
  // A notice after its topic's minute, before any flush: the count first.
  log::NoticeAt("rate limit: a", t0 + 70 * kSecond);
  log::NoticeAt("rate limit: b", t0 + 125 * kSecond);
  EXPECT_THAT(lines_, ElementsAre("pxe-pdhcp: rate limit: 1 similar message "
                                  "suppressed in the last minute",
                                  "pxe-pdhcp: rate limit: b"));
}

// A transmit ring that keeps the last frame.
class LastFrameSink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t size, const RxMeta&) override { size_ = size; }

 private:
  std::vector<uint8_t> slot_ = std::vector<uint8_t>(kMaxReplyFrameSize);
  size_t size_ = 0;
};

constexpr MacAddress kLabMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kOtherMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x99};

// A policy with a logged rule for kLabMac, a logged "ignore" rule, and the
// defaults for everyone else.
BootPolicy LoggedPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  Rule lab{.name = "lab", .log = true};
  lab.match.mac.push_back(MacPattern{.octets = kLabMac, .length = 6});
  lab.answer.file = "lab/ipxe.pxe";
  Rule ignored{.name = "quiet", .action = RuleAction::kIgnore, .log = true};
  ignored.match.mac.push_back(
      MacPattern{.octets = {0x52, 0x54, 0x00, 0x77, 0x00, 0x20}, .length = 6});
  policy.rules = {lab, ignored};
  return policy;
}

std::vector<uint8_t> DiscoverFrom(MacAddress mac, uint32_t xid) {
  testing::FrameSpec spec = testing::BiosIpxeDiscover();
  spec.eth_src = mac;
  spec.chaddr = mac;
  spec.xid = xid;
  return testing::BuildFrame(spec);
}

class DecisionLogTest : public LogTest {
 protected:
  void Run(bool every, std::span<const uint8_t> frame) {
    Responder responder({{.name = "eth0",
                          .ifindex = 2,
                          .mac = {0x02, 0, 0, 0, 0, 0x02},
                          .addresses = {{testing::Ip(10, 77, 0, 2), 24}}}},
                        {.offer_hold_ns = 0, .log_every_decision = every},
                        &sink_, LogDecision);
    responder.SetPolicy(&testing::Compiled(LoggedPolicy()));
    responder.HandleFrame(0, frame, RxMeta{}, 5 * kSecond);
  }
  LastFrameSink sink_;
};

TEST_F(DecisionLogTest, ALoggedRuleLogsItsAnswerAtTheNormalLevel) {
  Run(/*every=*/false, DiscoverFrom(kLabMac, 0x1234abcd));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0],
              MatchesRegex("time=[0-9T:.Z-]+ iface=eth0 mac=52:54:00:77:00:10 "
                           "xid=0x1234abcd type=discover arch=bios client=pxe "
                           "ipxe=true port=67 rule=lab sent=offer "
                           "from=10\\.77\\.0\\.2 to=255\\.255\\.255\\.255:68 "
                           "boot_server=10\\.77\\.0\\.2 file=lab/ipxe\\.pxe "
                           "class=PXEClient"));
}

TEST_F(DecisionLogTest, OtherClientsOnlyAtDebug) {
  Run(/*every=*/false, DiscoverFrom(kOtherMac, 7));
  EXPECT_THAT(lines_, IsEmpty());
  Run(/*every=*/true, DiscoverFrom(kOtherMac, 7));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr(" mac=52:54:00:77:00:99 xid=0x00000007 "));
  EXPECT_THAT(lines_[0], HasSubstr(" rule=(defaults) sent=offer "));
  EXPECT_THAT(lines_[0], HasSubstr(" file=pxelinux.0 "));
}

TEST_F(DecisionLogTest, ADropSaysWhyAndTheJsonFormIsTheSame) {
  log::Init(false, log::Level::kInfo, log::Format::kJson);
  Run(/*every=*/false,
      DiscoverFrom({0x52, 0x54, 0x00, 0x77, 0x00, 0x20}, 0x42));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], StartsWith("{\"time\":\""));
  EXPECT_THAT(lines_[0],
              HasSubstr("\"iface\":\"eth0\",\"mac\":\"52:54:00:77:00:20\","
                        "\"xid\":\"0x00000042\",\"type\":\"discover\","
                        "\"arch\":\"bios\",\"client\":\"pxe\",\"ipxe\":true,"
                        "\"port\":67,\"rule\":\"quiet\","
                        "\"drop\":\"IgnoredByRule\",\"why\":\"a rule says: "
                        "ignore this client\"}"));
}

TEST_F(DecisionLogTest, TheRequestsVlanIsLogged) {
  testing::FrameSpec spec = testing::BiosIpxeDiscover();
  spec.vlan_tci = 0;  // priority-tagged: the untagged network
  Run(/*every=*/true, testing::BuildFrame(spec));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr(" iface=eth0 vlan=0 mac="));
}

// iPXE back for the file it was just given: the decision line says which
// round of the chainload loop this is, and the text and JSON forms agree.
TEST_F(DecisionLogTest, AnIpxeChainloadLoopIsInTheDecisionLine) {
  const Request request{};
  Decision decision{.request = request,
                    .interface = "eth0",
                    .reply = {},
                    .reason = DropReason::kNoBootFile,
                    .answer = nullptr,
                    .ipxe_loop = 2};
  const std::vector<log::Field> fields = DecisionFields(decision);
  EXPECT_THAT(log::FormatFields(fields, log::Format::kText),
              HasSubstr(" port=0 ipxe_loop=2 drop=NoBootFile "));
  EXPECT_THAT(log::FormatFields(fields, log::Format::kJson),
              HasSubstr("\"port\":0,\"ipxe_loop\":2,\"drop\":"));
  decision.ipxe_loop = 0;
  EXPECT_THAT(log::FormatFields(DecisionFields(decision), log::Format::kText),
              Not(HasSubstr("ipxe_loop")));
}

TEST(ProgressWatchTest, AWorkerWhoseCounterStandsStillIsStalled) {
  service::ProgressWatch watch;
  const std::vector<uint64_t> start = {5, 9};
  EXPECT_THAT(watch.Stalled(start), IsEmpty());  // nothing to compare yet
  const std::vector<uint64_t> both_moved = {6, 12};
  EXPECT_THAT(watch.Stalled(both_moved), IsEmpty());
  const std::vector<uint64_t> second_stuck = {8, 12};
  EXPECT_THAT(watch.Stalled(second_stuck), ElementsAre(1u));
  const std::vector<uint64_t> both_stuck = {8, 12};
  EXPECT_THAT(watch.Stalled(both_stuck), ElementsAre(0u, 1u));
  const std::vector<uint64_t> moving_again = {9, 13};
  EXPECT_THAT(watch.Stalled(moving_again), IsEmpty());
}

}  // namespace
}  // namespace pxe
