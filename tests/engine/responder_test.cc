// Responder: what the daemon's workers, --replay and the benchmarks rely on
// when frames arrive one by one (RFC 2131 §4.1): a PXE DISCOVER answered at
// once, non-booting clients and bridge copies dropped, DISCOVERs on an
// interface with several addresses held until the LAN DHCP server's OFFER
// shows the client's subnet (or their deadline passes), replies a rule
// delays, a full transmit ring, a policy swapped while frames are held, and
// counters that add up. Replies are read back with the engine's own parser,
// which verifies their IPv4 and UDP checksums.
#include "engine/responder.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/boot_policy.h"
#include "engine/bootp.h"
#include "engine/describe.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/duplicate_filter.h"
#include "engine/frame.h"
#include "engine/reply.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using MT = dhcp::MessageType;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 5'000 * kMs;  // any time on the caller's clock

// Port 0 has one address; port 1 has two, the first its primary.
constexpr size_t kSinglePort = 0;
constexpr size_t kMultiPort = 1;
constexpr uint32_t kServer = Ip(10, 77, 0, 2);     // port 0
constexpr uint32_t kPrimary = Ip(10, 77, 0, 3);    // port 1, first
constexpr uint32_t kSecondary = Ip(10, 78, 0, 3);  // port 1, second
constexpr uint32_t kLanServer = Ip(10, 78, 0, 1);  // the LAN's DHCP server
constexpr uint32_t kOffered = Ip(10, 78, 0, 77);   // what it offers
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};

std::vector<ResponderPort> Ports() {
  return {
      {.name = "eth0",
       .ifindex = 2,
       .mac = {0x02, 0, 0, 0, 0, 0x02},
       .addresses = {{kServer, 24}}},
      {.name = "eth1",
       .ifindex = 3,
       .mac = {0x02, 0, 0, 0, 0, 0x03},
       .addresses = {{kPrimary, 24}, {kSecondary, 24}}},
  };
}

// One NBP for every client; siaddr is the answering address (no TFTP
// server of its own), so every reply shows which address answered.
BootPolicy PlainPolicy(std::string file = "pxelinux.0") {
  BootPolicy policy;
  policy.defaults.file = std::move(file);
  return policy;
}

// A transmit ring per port, as the daemon's: one slot at a time, or none
// when `free_slots` runs out. Keeps every committed frame.
class FakeSink : public ReplySink {
 public:
  explicit FakeSink(size_t ports) : sent_(ports), slot_(kMaxReplyFrameSize) {}

  std::span<uint8_t> NextSlot(size_t port) override {
    EXPECT_LT(port, sent_.size());
    if (free_slots_ == 0) return {};
    slot_port_ = port;
    // Stale bytes from an earlier frame, as in a real ring.
    std::fill(slot_.begin(), slot_.end(), 0xA5);
    return slot_;
  }

  void Commit(size_t port, size_t size, const RxMeta&) override {
    EXPECT_EQ(port, slot_port_) << "committed to another port than asked";
    ASSERT_LE(size, slot_.size());
    sent_[port].emplace_back(slot_.begin(), slot_.begin() + size);
    if (free_slots_ != kUnlimited) --free_slots_;
  }

  void set_free_slots(size_t n) { free_slots_ = n; }
  const std::vector<std::vector<uint8_t>>& sent(size_t port) const {
    return sent_[port];
  }
  size_t total() const {
    size_t n = 0;
    for (const auto& port : sent_) n += port.size();
    return n;
  }

  static constexpr size_t kUnlimited = SIZE_MAX;

 private:
  std::vector<std::vector<std::vector<uint8_t>>> sent_;
  std::vector<uint8_t> slot_;
  size_t slot_port_ = SIZE_MAX;
  size_t free_slots_ = kUnlimited;
};

// What a client reads in a reply.
struct Seen {
  bool parsed = false;  // a BOOTREPLY whose checksums verify
  MT type = MT::kNone;
  uint32_t xid = 0;
  uint32_t ip_src = 0;
  uint32_t server_id = 0;  // option 54
  uint32_t siaddr = 0;
  std::string file;  // the file field, up to its NUL

  bool operator==(const Seen&) const = default;
};

void PrintTo(const Seen& s, std::ostream* os) {
  *os << "{parsed " << s.parsed << ", type " << static_cast<int>(s.type)
      << ", xid " << s.xid << ", ip_src " << FormatIpv4(s.ip_src)
      << ", option 54 " << FormatIpv4(s.server_id) << ", siaddr "
      << FormatIpv4(s.siaddr) << ", file \"" << s.file << "\"}";
}

Seen Read(std::span<const uint8_t> frame) {
  auto reply = std::make_unique<Request>();
  Seen seen;
  if (ClassifyFrame(frame, RxMeta{}, reply.get()) != DropReason::kServerReply) {
    return seen;
  }
  seen.parsed = true;
  seen.type = reply->type;
  seen.xid = reply->xid;
  seen.ip_src = reply->frame.ip_src;
  seen.server_id = reply->server_id;
  seen.siaddr = reply->bootp.siaddr();
  std::span<const uint8_t> file = reply->bootp.file();
  for (size_t i = 0; i < file.size() && file[i] != 0; ++i) {
    seen.file.push_back(static_cast<char>(file[i]));
  }
  return seen;
}

// The OFFER a client sees when `server` answers it with `file`.
Seen Offer(uint32_t xid, uint32_t server, std::string file = "pxelinux.0") {
  return {.parsed = true,
          .type = MT::kOffer,
          .xid = xid,
          .ip_src = server,
          .server_id = server,
          .siaddr = server,
          .file = std::move(file)};
}

uint64_t CountOf(const Counters& counters, DropReason reason) {
  return counters.by_reason[static_cast<size_t>(reason)];
}

// QEMU's iPXE BIOS ROM asking for a boot file (xid 0x12345678).
std::vector<uint8_t> Discover(uint32_t xid = 0x12345678,
                              MacAddress mac = kClientMac) {
  FrameSpec spec = testing::BiosIpxeDiscover();
  spec.xid = xid;
  spec.eth_src = mac;
  spec.chaddr = mac;
  return BuildFrame(spec);
}

// The LAN DHCP server's OFFER of kOffered to kClientMac.
std::vector<uint8_t> LanServerOffer() {
  return BuildFrame(testing::ServerOffer(kLanServer, kOffered));
}

class ResponderTest : public ::testing::Test {
 protected:
  ResponderTest()
      : policy_(testing::CompileOrDie(PlainPolicy())),
        responder_(Ports(), ResponderOptions{}, &sink_) {
    responder_.SetPolicy(policy_.get());
  }

  void Handle(size_t port, std::span<const uint8_t> frame, uint64_t now_ns) {
    responder_.HandleFrame(port, frame, RxMeta{}, now_ns);
  }

  FakeSink sink_{2};
  std::unique_ptr<const PolicySnapshot> policy_;
  Responder responder_;
};

TEST_F(ResponderTest, PxeDiscoverOnSingleAddressPortIsAnsweredAtOnce) {
  Handle(kSinglePort, Discover(), kT0);

  ASSERT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[0]), Offer(0x12345678, kServer));
  EXPECT_TRUE(sink_.sent(kMultiPort).empty());
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(responder_.next_deadline_ns(), UINT64_MAX);
  EXPECT_EQ(responder_.counters().answered(), 1u);
  EXPECT_EQ(responder_.counters().received(), 1u);
}

TEST_F(ResponderTest, NonBootingDiscoverIsDroppedUnanswered) {
  Handle(kSinglePort, BuildFrame(testing::PlainDhcpDiscover()), kT0);
  // Not even held on the interface with several addresses.
  Handle(kMultiPort, BuildFrame(testing::PlainDhcpDiscover()), kT0 + kMs);

  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kNotBooting), 2u);
  EXPECT_EQ(responder_.counters().received(), 2u);
}

TEST_F(ResponderTest, BridgeCopyIsAnsweredOnceAndRetransmitAgain) {
  const std::vector<uint8_t> frame = Discover();
  Handle(kSinglePort, frame, kT0);
  // The same frame again through a second bridge port, 10 ms later.
  Handle(kSinglePort, frame, kT0 + 10 * kMs);
  EXPECT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kDuplicate), 1u);

  // The same request past the window: the firmware retrying, answered.
  Handle(kSinglePort, frame, kT0 + DuplicateFilter::kDefaultWindowNs);
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 2u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[1]), Offer(0x12345678, kServer));

  // Another transaction of the same client inside the window is no copy.
  Handle(kSinglePort, Discover(0x0badcafe),
         kT0 + DuplicateFilter::kDefaultWindowNs + kMs);
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 3u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[2]), Offer(0x0badcafe, kServer));

  EXPECT_EQ(responder_.counters().answered(), 3u);
  EXPECT_EQ(responder_.counters().received(), 4u);
}

TEST_F(ResponderTest, DiscoverOnMultiAddressPortWaitsForTheServerOffer) {
  Handle(kMultiPort, Discover(), kT0);
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(responder_.next_deadline_ns(),
            kT0 + ResponderOptions{}.offer_hold_ns);
  EXPECT_EQ(responder_.counters().received(), 0u);  // not decided yet

  // The LAN server offers 10.78.0.77: we answer from our 10.78.0.0/24
  // address, which the client can reach, not from the primary.
  Handle(kMultiPort, LanServerOffer(), kT0 + 5 * kMs);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kSecondary));
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(responder_.next_deadline_ns(), UINT64_MAX);

  // Nothing left to answer at the old deadline.
  responder_.Tick(kT0 + ResponderOptions{}.offer_hold_ns);
  EXPECT_EQ(sink_.total(), 1u);
  EXPECT_EQ(responder_.counters().answered(), 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kServerReply), 1u);
  EXPECT_EQ(responder_.counters().received(), 2u);
}

TEST_F(ResponderTest, OfferOfAnotherClientReleasesNothing) {
  Handle(kMultiPort, Discover(0x1, {0x52, 0x54, 0x00, 0x77, 0x00, 0x99}), kT0);
  Handle(kMultiPort, LanServerOffer(), kT0 + 5 * kMs);  // for kClientMac
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 1u);
}

TEST_F(ResponderTest, DiscoverAfterTheServerOfferIsAnsweredAtOnce) {
  Handle(kMultiPort, LanServerOffer(), kT0);
  Handle(kMultiPort, Discover(), kT0 + 2 * kMs);
  EXPECT_EQ(responder_.held(), 0u);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kSecondary));
}

TEST_F(ResponderTest, RelayedDiscoverIsNeverHeld) {
  // The relay's giaddr already names the client's subnet.
  FrameSpec spec = testing::BiosIpxeDiscover();
  spec.giaddr = Ip(10, 78, 0, 254);
  spec.hops = 1;
  spec.ip_src = spec.giaddr;
  spec.ip_dst = kSecondary;
  spec.src_port = 67;
  Handle(kMultiPort, BuildFrame(spec), kT0);
  EXPECT_EQ(responder_.held(), 0u);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kSecondary));
}

TEST_F(ResponderTest, HeldDiscoverWithoutServerOfferIsAnsweredAtItsDeadline) {
  Handle(kMultiPort, Discover(), kT0);
  const uint64_t deadline = responder_.next_deadline_ns();
  ASSERT_EQ(deadline, kT0 + ResponderOptions{}.offer_hold_ns);

  responder_.Tick(deadline - 1);
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 1u);

  // No offer seen (a static client, or a server elsewhere): the primary.
  responder_.Tick(deadline);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kPrimary));
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(responder_.next_deadline_ns(), UINT64_MAX);
  EXPECT_EQ(responder_.counters().answered(), 1u);
  EXPECT_EQ(responder_.counters().received(), 1u);
}

TEST_F(ResponderTest, RetransmitWhileHeldIsAnsweredOnceAndCounted) {
  Handle(kMultiPort, Discover(0x1), kT0);
  // The firmware gives up on xid 1 and tries xid 2 while the first is held.
  Handle(kMultiPort, Discover(0x2), kT0 + 100 * kMs);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(responder_.next_deadline_ns(),
            kT0 + ResponderOptions{}.offer_hold_ns);

  responder_.Tick(kT0 + ResponderOptions{}.offer_hold_ns);
  // One reply, to the transaction the client is waiting on now.
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x2, kPrimary));
  EXPECT_EQ(responder_.counters().answered(), 1u);
  // Both frames end in a counter (drop_reason.h: received = answered + the
  // drops).
  EXPECT_EQ(responder_.counters().received(), 2u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kReplacedWhileHeld), 1u);
}

TEST_F(ResponderTest, RuleReplyDelayHoldsTheReplyUntilItsDeadline) {
  BootPolicy policy = PlainPolicy();
  policy.rules.push_back(
      {.name = "slow-nic",
       .match = {.mac = {{.octets = kClientMac, .length = 6}}},
       .answer = {.reply_delay_ms = 20}});
  std::unique_ptr<const PolicySnapshot> slow =
      testing::CompileOrDie(std::move(policy));
  responder_.SetPolicy(slow.get());

  Handle(kSinglePort, Discover(), kT0);
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(responder_.next_deadline_ns(), kT0 + 20 * kMs);

  // A client the rule does not name is answered at once meanwhile.
  Handle(kSinglePort, Discover(0x7, {0x52, 0x54, 0x00, 0x77, 0x00, 0x11}),
         kT0 + kMs);
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[0]), Offer(0x7, kServer));

  responder_.Tick(kT0 + 20 * kMs - 1);
  EXPECT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(responder_.held(), 1u);

  responder_.Tick(kT0 + 20 * kMs);
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 2u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[1]), Offer(0x12345678, kServer));
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(responder_.counters().answered(), 2u);
  EXPECT_EQ(responder_.counters().received(), 2u);
}

TEST_F(ResponderTest, FullTransmitRingDropsAndCounts) {
  sink_.set_free_slots(0);
  Handle(kSinglePort, Discover(), kT0);
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kTxRingFull), 1u);

  // The firmware's retry finds a free slot.
  sink_.set_free_slots(1);
  Handle(kSinglePort, Discover(), kT0 + 1'000 * kMs);
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[0]), Offer(0x12345678, kServer));
  EXPECT_EQ(responder_.counters().answered(), 1u);
  EXPECT_EQ(responder_.counters().received(), 2u);
}

TEST_F(ResponderTest, HeldDiscoverIsDecidedUnderThePolicyAtRelease) {
  // Old: its own TFTP server and an extra option. New: another file, and
  // replies from the second address unless the client's subnet says
  // otherwise.
  BootPolicy old_policy = PlainPolicy("old.0");
  old_policy.defaults.tftp_server = Ip(10, 77, 0, 9);
  old_policy.defaults.options = {{.code = 252, .value = {'o', 'l', 'd'}}};
  std::unique_ptr<const PolicySnapshot> old_snapshot =
      testing::CompileOrDie(std::move(old_policy));
  BootPolicy new_policy = PlainPolicy("new.0");
  new_policy.listen_address = kSecondary;
  std::unique_ptr<const PolicySnapshot> new_snapshot =
      testing::CompileOrDie(std::move(new_policy));

  responder_.SetPolicy(old_snapshot.get());
  Handle(kMultiPort, Discover(), kT0);
  ASSERT_EQ(responder_.held(), 1u);
  responder_.SetPolicy(new_snapshot.get());
  // A reload frees the old snapshot once no worker uses it: nothing held
  // may point into it (AddressSanitizer would see it).
  old_snapshot.reset();

  responder_.Tick(responder_.next_deadline_ns());
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  const std::vector<uint8_t>& frame = sink_.sent(kMultiPort)[0];
  EXPECT_EQ(Read(frame), Offer(0x12345678, kSecondary, "new.0"));
  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, reply.get()),
            DropReason::kServerReply);
  EXPECT_FALSE(reply->options.Has(252));
  // sname names the TFTP server: the new policy has none but us.
  const std::span<const uint8_t> sname = reply->bootp.sname();
  EXPECT_EQ(std::string(sname.begin(),
                        std::find(sname.begin(), sname.end(), uint8_t{0})),
            "10.78.0.3");
}

TEST_F(ResponderTest, DelayedReplyIsDecidedUnderThePolicyAtRelease) {
  BootPolicy delayed = PlainPolicy();
  delayed.defaults.reply_delay_ms = 50;
  std::unique_ptr<const PolicySnapshot> delayed_snapshot =
      testing::CompileOrDie(std::move(delayed));
  // The new policy ignores this client, and delays everyone else.
  BootPolicy ignoring = PlainPolicy();
  ignoring.defaults.reply_delay_ms = 50;
  ignoring.rules.push_back(
      {.name = "quarantine",
       .match = {.mac = {{.octets = kClientMac, .length = 6}}},
       .action = RuleAction::kIgnore});
  std::unique_ptr<const PolicySnapshot> ignoring_snapshot =
      testing::CompileOrDie(std::move(ignoring));

  responder_.SetPolicy(delayed_snapshot.get());
  Handle(kSinglePort, Discover(), kT0);
  Handle(kSinglePort, Discover(0x7, {0x52, 0x54, 0x00, 0x77, 0x00, 0x11}), kT0);
  ASSERT_EQ(responder_.held(), 2u);
  responder_.SetPolicy(ignoring_snapshot.get());
  delayed_snapshot.reset();

  responder_.Tick(kT0 + 50 * kMs);
  // The ignored client gets nothing; the other is answered now, not
  // delayed a second time.
  ASSERT_EQ(sink_.sent(kSinglePort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[0]), Offer(0x7, kServer));
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kIgnoredByRule), 1u);
  EXPECT_EQ(responder_.counters().answered(), 1u);
  EXPECT_EQ(responder_.counters().received(), 2u);
}

TEST_F(ResponderTest, CountersAddUpOverAMixedRun) {
  FrameSpec bad_checksum = testing::BiosIpxeDiscover();
  bad_checksum.udp_checksum = FrameSpec::UdpChecksum::kWrong;
  FrameSpec request_to_server = testing::BiosIpxeDiscover();
  SetOption(request_to_server, testing::MessageTypeOpt(3));  // the LAN's

  uint64_t t = kT0;
  size_t frames = 0;
  auto handle = [&](size_t port, const std::vector<uint8_t>& frame) {
    Handle(port, frame, t);
    t += kMs;
    ++frames;
  };
  handle(kSinglePort, Discover(0x1));                  // answered
  handle(kSinglePort, Discover(0x1));                  // bridge copy
  handle(kSinglePort, BuildFrame(bad_checksum));       // broken
  handle(kSinglePort, BuildFrame(request_to_server));  // not ours
  handle(kSinglePort, BuildFrame(testing::PlainDhcpDiscover()));
  handle(kMultiPort, Discover(0x2));     // held, then answered
  handle(kMultiPort, LanServerOffer());  // learned
  handle(kMultiPort,
         Discover(0x3, {0x52, 0x54, 0x00, 0x77, 0x00, 0x33}));  // held
  sink_.set_free_slots(0);
  responder_.Tick(responder_.next_deadline_ns());  // ring full

  const Counters& c = responder_.counters();
  EXPECT_EQ(responder_.held(), 0u);
  EXPECT_EQ(c.answered(), 2u);
  EXPECT_EQ(c.answered(), sink_.total());
  EXPECT_EQ(CountOf(c, DropReason::kDuplicate), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kBadUdpChecksum), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kUnhandledMessage), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kNotBooting), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kServerReply), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kTxRingFull), 1u);
  EXPECT_EQ(c.received(), frames);
}

// A spoofed OFFER from off the link (here 192.0.2.1, in none of port 1's
// subnets) must not move the held client to another subnet: it is counted
// and ignored, and the client is answered from the primary at its deadline.
TEST_F(ResponderTest, OfferFromOffTheLinkIsNotLearned) {
  Handle(kMultiPort, Discover(), kT0);
  Handle(kMultiPort,
         BuildFrame(testing::ServerOffer(Ip(192, 0, 2, 1), kOffered)),
         kT0 + 5 * kMs);
  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kUntrustedServerReply),
            1u);
  responder_.Tick(kT0 + ResponderOptions{}.offer_hold_ns);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kPrimary));
}

// With [server] dhcp_servers, an on-link server not in the list is not
// believed either; the listed one is.
TEST_F(ResponderTest, OnlyConfiguredDhcpServersAreLearnedFrom) {
  BootPolicy policy = PlainPolicy();
  policy.dhcp_servers = {kLanServer};
  std::unique_ptr<const PolicySnapshot> listed =
      testing::CompileOrDie(std::move(policy));
  responder_.SetPolicy(listed.get());
  Handle(kMultiPort, Discover(), kT0);
  Handle(kMultiPort,
         BuildFrame(testing::ServerOffer(Ip(10, 78, 0, 66), kOffered)),
         kT0 + 1 * kMs);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kUntrustedServerReply),
            1u);
  Handle(kMultiPort, LanServerOffer(), kT0 + 2 * kMs);
  ASSERT_EQ(sink_.sent(kMultiPort).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(kMultiPort)[0]), Offer(0x12345678, kSecondary));
}

// A full hold queue: a DISCOVER that cannot wait for the server's offer is
// dropped and counted, not answered from a guessed subnet, and the notice
// comes once until the queue has drained.
TEST(ResponderHoldFullTest, DropsAndCountsInsteadOfGuessing) {
  FakeSink sink(2);
  std::unique_ptr<const PolicySnapshot> policy =
      testing::CompileOrDie(PlainPolicy());
  std::vector<std::string> notices;
  Responder responder(
      Ports(), ResponderOptions{.hold_capacity = 2}, &sink, {},
      [&](std::string_view text) { notices.emplace_back(text); });
  responder.SetPolicy(policy.get());
  for (uint8_t n = 1; n <= 4; ++n) {
    responder.HandleFrame(kMultiPort,
                          Discover(n, {0x52, 0x54, 0x00, 0x77, 0x01, n}),
                          RxMeta{}, kT0);
  }
  EXPECT_EQ(responder.held(), 2u);
  EXPECT_EQ(sink.total(), 0u);
  EXPECT_EQ(CountOf(responder.counters(), DropReason::kHoldQueueFull), 2u);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("hold queue full"), std::string::npos);

  // Drained at the deadline; full again later: a new notice.
  responder.Tick(kT0 + ResponderOptions{}.offer_hold_ns);
  EXPECT_EQ(sink.total(), 2u);
  for (uint8_t n = 5; n <= 7; ++n) {
    responder.HandleFrame(kMultiPort,
                          Discover(n, {0x52, 0x54, 0x00, 0x77, 0x01, n}),
                          RxMeta{}, kT0 + 1'000 * kMs);
  }
  EXPECT_EQ(notices.size(), 2u);
}

// A trunk: untagged frames are answered from the interface's address,
// VLAN 10 from ours on VLAN 10, VLAN 20 (two subnets) from the one the LAN
// server's offer on VLAN 20 shows; any other VLAN, an S-tag or QinQ is
// dropped and counted.
constexpr uint32_t kVlan10 = Ip(10, 10, 0, 5);
constexpr uint32_t kVlan20a = Ip(10, 20, 0, 5);
constexpr uint32_t kVlan20b = Ip(10, 21, 0, 5);

class ResponderVlanTest : public ::testing::Test {
 protected:
  ResponderVlanTest()
      : policy_(testing::CompileOrDie(PlainPolicy())),
        responder_(
            {{.name = "eth0",
              .ifindex = 2,
              .mac = {0x02, 0, 0, 0, 0, 0x02},
              .addresses = {{kServer, 24}},
              .vlans = {{.vlan = 10, .addresses = {{kVlan10, 24}}},
                        {.vlan = 20,
                         .addresses = {{kVlan20a, 24}, {kVlan20b, 24}}}}}},
            ResponderOptions{}, &sink_) {
    responder_.SetPolicy(policy_.get());
  }

  // A frame tagged in its bytes (as a capture file has it), or untagged
  // with the tag in `meta` (as the kernel hands it over).
  void Handle(std::vector<uint8_t> frame, uint64_t now_ns,
              const RxMeta& meta = RxMeta{}) {
    responder_.HandleFrame(0, frame, meta, now_ns);
  }
  static std::vector<uint8_t> Tagged(FrameSpec spec, uint16_t tci) {
    spec.vlan_tci = tci;
    return BuildFrame(spec);
  }
  // The tag on the reply (nullopt: untagged).
  static std::optional<uint16_t> TagOf(std::span<const uint8_t> frame) {
    FrameView view;
    EXPECT_EQ(ParseFrame(frame, RxMeta{}, &view), DropReason::kNone);
    if (!view.has_vlan) return std::nullopt;
    return view.vlan_tci;
  }

  FakeSink sink_{1};
  std::unique_ptr<const PolicySnapshot> policy_;
  Responder responder_;
};

TEST_F(ResponderVlanTest, EachNetworkIsAnsweredFromItsOwnAddressWithItsTag) {
  // VLAN 10 with PCP 5, in the frame; VLAN 10 stripped by the kernel; no
  // tag; a priority tag (VLAN 0), which is the untagged network.
  Handle(Tagged(testing::BiosIpxeDiscover(), 0xA00A), kT0);
  RxMeta stripped;
  stripped.vlan_valid = true;
  stripped.vlan_tci = 10;
  stripped.vlan_tpid = 0x8100;
  Handle(Discover(2), kT0, stripped);
  Handle(Discover(3), kT0);
  Handle(Tagged(testing::BiosIpxeDiscover(), 0x6000), kT0 + 100 * kMs);

  const auto& sent = sink_.sent(0);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(Read(sent[0]), Offer(0x12345678, kVlan10));
  EXPECT_EQ(TagOf(sent[0]), 0xA00A);
  EXPECT_EQ(Read(sent[1]), Offer(2, kVlan10));
  EXPECT_EQ(TagOf(sent[1]), 10);
  EXPECT_EQ(Read(sent[2]), Offer(3, kServer));
  EXPECT_EQ(TagOf(sent[2]), std::nullopt);
  EXPECT_EQ(Read(sent[3]), Offer(0x12345678, kServer));
  EXPECT_EQ(TagOf(sent[3]), 0x6000);
}

TEST_F(ResponderVlanTest, OtherVlansServiceTagsAndQinqAreDroppedAndCounted) {
  Handle(Tagged(testing::BiosIpxeDiscover(), 30), kT0);
  RxMeta service;  // an 802.1ad S-tag the kernel stripped
  service.vlan_valid = true;
  service.vlan_tci = 10;
  service.vlan_tpid = 0x88A8;
  Handle(Discover(2), kT0, service);
  RxMeta outer;  // QinQ: S-tag stripped, C-tag 10 left in the frame
  outer.vlan_valid = true;
  outer.vlan_tci = 100;
  outer.vlan_tpid = 0x88A8;
  Handle(Tagged(testing::BiosIpxeDiscover(), 10), kT0 + kMs, outer);
  // The LAN server's offer on a VLAN not served here is not learned from.
  FrameSpec offer = testing::ServerOffer(Ip(10, 30, 0, 1), Ip(10, 30, 0, 9));
  Handle(Tagged(offer, 30), kT0);

  EXPECT_EQ(sink_.total(), 0u);
  EXPECT_EQ(responder_.held(), 0u);
  const Counters& c = responder_.counters();
  EXPECT_EQ(CountOf(c, DropReason::kVlanNotServed), 2u);
  EXPECT_EQ(CountOf(c, DropReason::kServiceVlanTag), 1u);
  EXPECT_EQ(CountOf(c, DropReason::kStackedVlanTags), 1u);
  EXPECT_EQ(c.received(), 4u);
}

TEST_F(ResponderVlanTest, SubnetOnAVlanIsLearnedFromThatVlansServerOnly) {
  // VLAN 20 has two subnets: the DISCOVER waits for the server's offer.
  Handle(Tagged(testing::BiosIpxeDiscover(), 20), kT0);
  EXPECT_EQ(responder_.held(), 1u);
  // A server on the untagged network is not one of VLAN 20's.
  Handle(Tagged(testing::ServerOffer(Ip(10, 77, 0, 1), Ip(10, 21, 0, 50)), 20),
         kT0 + kMs);
  EXPECT_EQ(responder_.held(), 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kUntrustedServerReply),
            1u);
  // VLAN 20's own server offers 10.21.0.50: answered from 10.21.0.5.
  Handle(Tagged(testing::ServerOffer(Ip(10, 21, 0, 1), Ip(10, 21, 0, 50)), 20),
         kT0 + 2 * kMs);
  ASSERT_EQ(sink_.sent(0).size(), 1u);
  EXPECT_EQ(Read(sink_.sent(0)[0]), Offer(0x12345678, kVlan20b));
  EXPECT_EQ(TagOf(sink_.sent(0)[0]), 20);
}

// Replies count under the rule's slot, which the caller keeps with the rule's
// name: after a reload that reorders the rules, the same rule's replies still
// land in its slot, though its index changed. Requests count by port, type
// and architecture.
TEST_F(ResponderTest, RepliesCountByRuleSlotAcrossAReorderingReload) {
  constexpr MacAddress kOther = {0x52, 0x54, 0x00, 0x77, 0x00, 0x11};
  constexpr MacAddress kNobody = {0x52, 0x54, 0x00, 0x77, 0x00, 0x12};
  const Rule first{.name = "first",
                   .match = {.mac = {{.octets = kClientMac, .length = 6}}},
                   .answer = {.file = "first.0"}};
  const Rule second{.name = "second",
                    .match = {.mac = {{.octets = kOther, .length = 6}}},
                    .answer = {.file = "second.0"}};
  BootPolicy before = PlainPolicy();
  before.rules = {first, second};
  BootPolicy after = PlainPolicy();
  after.rules = {second, first};  // reordered by the reload
  std::unique_ptr<const PolicySnapshot> a = testing::CompileOrDie(before);
  std::unique_ptr<const PolicySnapshot> b = testing::CompileOrDie(after);
  // The caller's slots: "first" is slot 7, "second" slot 9, in both.
  const std::vector<uint16_t> slots_a = {7, 9};
  const std::vector<uint16_t> slots_b = {9, 7};

  responder_.SetPolicy(a.get(), slots_a);
  Handle(kSinglePort, Discover(0x1, kClientMac), kT0);
  Handle(kSinglePort, Discover(0x2, kOther), kT0 + kMs);
  responder_.SetPolicy(b.get(), slots_b);
  Handle(kSinglePort, Discover(0x3, kClientMac), kT0 + 2 * kMs);
  Handle(kSinglePort, Discover(0x4, kNobody), kT0 + 3 * kMs);

  ASSERT_EQ(sink_.sent(kSinglePort).size(), 4u);
  EXPECT_EQ(Read(sink_.sent(kSinglePort)[2]).file, "first.0");
  const ResponderStats& stats = responder_.stats();
  constexpr size_t kOfferSlot = 0, kAckSlot = 1;
  EXPECT_EQ(stats.replies[7][kOfferSlot].load(), 2u);  // "first"
  EXPECT_EQ(stats.replies[9][kOfferSlot].load(), 1u);  // "second"
  EXPECT_EQ(stats.replies[0][kOfferSlot].load(), 1u);  // the defaults
  EXPECT_EQ(stats.replies[7][kAckSlot].load(), 0u);
  uint64_t replies = 0;
  for (const auto& by_type : stats.replies) {
    for (const RelaxedCounter& n : by_type) replies += n.load();
  }
  EXPECT_EQ(replies, 4u);

  const size_t discover = MessageTypeSlot(MT::kDiscover);
  const size_t bios = static_cast<size_t>(ArchClass::kBios);
  EXPECT_EQ(stats.requests[kSinglePort][discover][bios].load(), 4u);
  EXPECT_EQ(stats.requests[kMultiPort][discover][bios].load(), 0u);
  EXPECT_EQ(MessageTypeLabel(discover), "discover");
  EXPECT_EQ(ArchSlotLabel(bios), "bios");
  EXPECT_EQ(ArchSlotLabel(kUnknownArchSlot), "unknown");
}

// Without slots from the caller (a replay: one policy), rule i counts in
// slot i + 1; non-booting clients are no requests.
TEST_F(ResponderTest, RequestsCountOnlyBootClientsAndRulesDefaultToIndex) {
  BootPolicy policy = PlainPolicy();
  policy.rules = {{.name = "only",
                   .match = {.mac = {{.octets = kClientMac, .length = 6}}},
                   .answer = {.file = "only.0"}}};
  std::unique_ptr<const PolicySnapshot> p = testing::CompileOrDie(policy);
  responder_.SetPolicy(p.get());
  Handle(kSinglePort, Discover(), kT0);
  Handle(kSinglePort, BuildFrame(testing::PlainDhcpDiscover()), kT0 + kMs);

  const ResponderStats& stats = responder_.stats();
  EXPECT_EQ(stats.replies[1][0].load(), 1u);
  uint64_t requests = 0;
  for (const auto& by_arch : stats.requests[kSinglePort]) {
    for (const RelaxedCounter& n : by_arch) requests += n.load();
  }
  EXPECT_EQ(requests, 1u);
  EXPECT_EQ(CountOf(responder_.counters(), DropReason::kNotBooting), 1u);
}

}  // namespace
}  // namespace pxe

namespace pxe {
namespace {

// The client's DHCPREQUEST to the LAN's server, broadcast to port 67: it
// took that server's offer (not ours to answer).
std::vector<uint8_t> RequestToLanServer(uint32_t xid = 0x12345678) {
  FrameSpec spec = testing::BiosIpxeDiscover();
  spec.xid = xid;
  SetOption(spec, testing::MessageTypeOpt(3));
  SetOption(spec, testing::Opt(dhcp::kServerId, {10, 77, 0, 1}));
  return BuildFrame(spec);
}

// A responder that keeps every decision and notice.
struct LoggingResponder {
  explicit LoggingResponder(const BootPolicy& boot_policy)
      : policy(testing::CompileOrDie(boot_policy)),
        responder(
            Ports(), ResponderOptions{.log_every_decision = true}, &sink,
            [this](const Decision& d) { loops.push_back(d.ipxe_loop); },
            [this](std::string_view text) { notices.emplace_back(text); }) {
    responder.SetPolicy(this->policy.get());
  }
  void Handle(std::span<const uint8_t> frame, uint64_t now_ns) {
    responder.HandleFrame(kSinglePort, frame, RxMeta{}, now_ns);
  }

  FakeSink sink{2};
  std::unique_ptr<const PolicySnapshot> policy;
  Responder responder;
  std::vector<uint32_t> loops;  // Decision::ipxe_loop, one per decision
  std::vector<std::string> notices;
};

// QEMU's iPXE ROM loads undionly.kpxe, whose iPXE asks again (here with the
// same xid, as ipxe.efi does on OVMF) and is offered undionly.kpxe again.
TEST(ResponderIpxeLoopTest, IpxeOfferedItsOwnFileAgainIsCountedAndTold) {
  LoggingResponder r(PlainPolicy("undionly.kpxe"));
  r.Handle(Discover(), kT0);
  r.Handle(Discover(), kT0 + 1000 * kMs);  // a retransmit: same exchange
  r.Handle(RequestToLanServer(), kT0 + 1100 * kMs);
  r.Handle(Discover(), kT0 + 10'000 * kMs);  // undionly.kpxe's iPXE
  r.Handle(RequestToLanServer(), kT0 + 10'100 * kMs);
  r.Handle(Discover(), kT0 + 20'000 * kMs);  // and the next one

  EXPECT_EQ(r.sink.sent(kSinglePort).size(), 4u);  // still answered
  // The DHCPREQUESTs are not ours to decide: four decisions.
  EXPECT_EQ(r.loops, (std::vector<uint32_t>{0, 0, 1, 2}));
  EXPECT_EQ(r.responder.stats().ipxe_loops.load(), 2u);
  // Told once a minute, naming the client, the file and the remedy.
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_NE(r.notices[0].find("iPXE chainload loop: 52:54:00:77:00:10 on "
                              "eth0"),
            std::string::npos)
      << r.notices[0];
  EXPECT_NE(r.notices[0].find("(undionly.kpxe, round 1)"), std::string::npos)
      << r.notices[0];
  EXPECT_NE(r.notices[0].find("ipxe_script"), std::string::npos);
}

TEST(ResponderIpxeLoopTest, IpxeGivenItsScriptIsNoLoop) {
  BootPolicy policy = PlainPolicy("undionly.kpxe");
  policy.defaults.ipxe_script = "http://10.77.0.1/boot.ipxe";
  LoggingResponder r(policy);
  r.Handle(Discover(), kT0);
  r.Handle(RequestToLanServer(), kT0 + 100 * kMs);
  r.Handle(Discover(), kT0 + 10'000 * kMs);

  ASSERT_EQ(r.sink.sent(kSinglePort).size(), 2u);
  EXPECT_EQ(Read(r.sink.sent(kSinglePort)[1]).file,
            "http://10.77.0.1/boot.ipxe");
  EXPECT_EQ(r.loops, (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(r.responder.stats().ipxe_loops.load(), 0u);
  EXPECT_TRUE(r.notices.empty());
}

}  // namespace
}  // namespace pxe
