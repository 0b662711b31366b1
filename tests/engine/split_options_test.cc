// Options longer than one instance can hold (RFC 3396): a relay agent whose
// option 82 (relay agent information, RFC 3046) passes 255 bytes sends it as
// consecutive instances, and any sender may split any option. pxe-pdhcp
// takes such an option whole: rules match option 82's sub-options wherever
// the split falls, the reply echoes option 82 whole in 255-byte instances,
// in order, and a request whose option 82 no reply can hold is dropped and
// counted under its own reason, never answered without it or with it cut.
// Splitting the options of real firmware requests changes nothing in the
// replies, and none of this allocates.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/boot_policy.h"
#include "engine/byte_order.h"
#include "engine/client_request.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/frame.h"
#include "engine/policy.h"
#include "engine/reply.h"
#include "engine/request.h"
#include "engine/responder.h"
#include "gtest/gtest.h"
#include "tests/testing/allocation_counter.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::ArchOpt;
using ::pxe::testing::BuildFrame;
using ::pxe::testing::DhcpOption;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using ::pxe::testing::Opt;

constexpr uint32_t kServer = Ip(10, 77, 0, 2);
constexpr uint32_t kRelay = Ip(10, 12, 0, 1);
constexpr uint32_t kClient = Ip(10, 77, 0, 50);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
constexpr MacAddress kRelayMac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
const std::array<InterfaceAddress, 1> kAddresses = {
    InterfaceAddress{kServer, 24}};
const ServerContext kContext{.mac = kServerMac, .addresses = kAddresses};

std::vector<uint8_t> Bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<uint8_t> Vec(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// `head`, then letters up to `length` bytes.
std::string Filler(std::string_view head, size_t length) {
  std::string s(head);
  while (s.size() < length) s.push_back(static_cast<char>('a' + s.size() % 26));
  s.resize(length);
  return s;
}

// One relay agent sub-option (RFC 3046 §2.0): code, length, value.
std::vector<uint8_t> Sub(uint8_t code, std::string_view value) {
  std::vector<uint8_t> out(2 + value.size());
  out[0] = code;
  out[1] = static_cast<uint8_t>(value.size());
  std::copy(value.begin(), value.end(), out.begin() + 2);
  return out;
}

std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Appends `value` as option `code` in instances of `sizes` bytes, then of
// 255 bytes for whatever is left (RFC 3396 §5).
void AppendSplit(FrameSpec& spec, uint8_t code, std::span<const uint8_t> value,
                 const std::vector<size_t>& sizes = {}) {
  size_t i = 0;
  while (!value.empty()) {
    const size_t n = std::min(value.size(), i < sizes.size() ? sizes[i] : 255);
    spec.options.push_back(DhcpOption{
        code, std::vector<uint8_t>(value.begin(), value.begin() + n)});
    value = value.subspan(n);
    ++i;
  }
}

// `spec` as a relay agent forwards it, option 82 last (RFC 3046 §2.1).
FrameSpec Relayed(FrameSpec spec, std::span<const uint8_t> relay_info,
                  const std::vector<size_t>& sizes = {}) {
  spec.giaddr = kRelay;
  spec.hops = 1;
  spec.eth_src = kRelayMac;
  spec.eth_dst = kServerMac;
  spec.ip_src = kRelay;
  spec.ip_dst = kServer;
  spec.src_port = 67;
  AppendSplit(spec, dhcp::kRelayAgentInfo, relay_info, sizes);
  return spec;
}

// A UEFI ROM's DISCOVER without option 97: the smallest reply there is (53,
// 54, 60, END) in the default BINL style.
FrameSpec BareUefi() {
  FrameSpec spec = testing::UefiOvmfDiscover();
  testing::RemoveOption(spec, dhcp::kClientUuid);
  return spec;
}

FrameSpec Http() {
  FrameSpec spec = BareUefi();
  testing::SetOption(spec, ArchOpt({16}));
  testing::SetOption(spec, Opt(60, "HTTPClient:Arch:00016:UNDI:003001"));
  return spec;
}

// What went out, read with a walk of its own over the options (not the
// engine's parser), so the instances are seen as sent.
struct Answer {
  DropReason reason = DropReason::kNone;
  std::vector<uint8_t> frame;
  size_t ip_length = 0;
  std::string file;                     // the BOOTP file field
  std::vector<size_t> relay_instances;  // each option 82's length, in order
  std::vector<uint8_t> relay_info;      // their values, concatenated
  bool options_end = false;             // END follows the last option
};

Answer Read(DropReason reason, std::span<const uint8_t> frame) {
  Answer a;
  a.reason = reason;
  a.frame.assign(frame.begin(), frame.end());
  if (frame.size() < kEthernetHeaderSize + 20 + 8 + 240) return a;
  const size_t ip = kEthernetHeaderSize;  // the tests' replies are untagged
  a.ip_length = LoadBe16(frame.data() + ip + 2);
  const uint8_t* bootp = frame.data() + ip + 20 + 8;
  const auto* file = reinterpret_cast<const char*>(bootp + bootp::kFile);
  a.file.assign(file, strnlen(file, bootp::kFileSize));
  size_t i = ip + 20 + 8 + bootp::kOptions;
  while (i < frame.size() && frame[i] != dhcp::kEnd) {
    if (frame[i] == dhcp::kPad) {
      ++i;
      continue;
    }
    if (i + 2 > frame.size() || i + 2 + frame[i + 1] > frame.size()) break;
    const uint8_t length = frame[i + 1];
    if (frame[i] == dhcp::kRelayAgentInfo) {
      a.relay_instances.push_back(length);
      a.relay_info.insert(a.relay_info.end(), frame.begin() + i + 2,
                          frame.begin() + i + 2 + length);
    }
    i += 2 + length;
  }
  a.options_end = i < frame.size() && frame[i] == dhcp::kEnd;
  return a;
}

Answer Respond(const FrameSpec& spec, const PolicySnapshot& policy,
               size_t buffer = kMaxReplyFrameSize) {
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(buffer);  // exactly: ASan sees any overrun
  size_t size = 0;
  const DropReason d = pxe::Respond(BuildFrame(spec), RxMeta{}, policy,
                                    kContext, request.get(), out, &size);
  return Read(d, {out.data(), size});
}

// 255-byte instances for `total` bytes.
std::vector<size_t> Instances(size_t total) {
  std::vector<size_t> out;
  for (; total > 255; total -= 255) out.push_back(255);
  out.push_back(total);
  return out;
}

const std::string kLongCircuitId = Filler("switch-3/Gi1/0/12:", 200);
const std::string kLongRemoteId = Filler("relay-agent-07.rack-12:", 100);

// Rules on option 82's sub-options, long ones among them.
const PolicySnapshot& RelayRules() {
  BootPolicy policy{.defaults = {.file = "default.0"}};
  policy.rules.push_back(
      {.name = "quarantine",
       .match = {.circuit_id = {{.text = "quarantine", .prefix = true}}},
       .action = RuleAction::kIgnore});
  policy.rules.push_back({.name = "circuit",
                          .match = {.circuit_id = {{.text = kLongCircuitId}}},
                          .answer = {.file = "circuit.0"}});
  policy.rules.push_back({.name = "remote",
                          .match = {.remote_id = {{.text = kLongRemoteId}}},
                          .answer = {.file = "remote.0"}});
  return testing::Compiled(std::move(policy));
}

struct MatchCase {
  std::string name;
  std::vector<uint8_t> relay_info;
  std::vector<size_t> sizes;  // instances as sent; then 255 bytes each
  DropReason reason;
  std::string file;
};

TEST(SplitRelayInfoTest, SubOptionsAcrossTheSplitMatchRules) {
  const std::vector<MatchCase> cases = {
      {"circuit id value across the split",
       Cat({Sub(9, Filler("", 100)), Sub(1, kLongCircuitId)}),
       {},
       DropReason::kNone,
       "circuit.0"},
      {"remote id value across the split",
       Cat({Sub(1, "Gi1/0/1"), Sub(9, Filler("", 191)), Sub(2, kLongRemoteId)}),
       {},
       DropReason::kNone,
       "remote.0"},
      {"remote id's code and length byte on either side",
       Cat({Sub(9, Filler("", 252)), Sub(2, kLongRemoteId)}),
       {},
       DropReason::kNone,
       "remote.0"},
      {"remote id in the second instance only",
       Cat({Sub(9, Filler("", 253)), Sub(2, kLongRemoteId)}),
       {},
       DropReason::kNone,
       "remote.0"},
      {"circuit id in 10-byte instances",
       Cat({Sub(9, Filler("", 90)), Sub(1, kLongCircuitId), Sub(2, "sw")}),
       std::vector<size_t>(30, 10), DropReason::kNone, "circuit.0"},
      {"ignore rule on a circuit id after a long remote id",
       Cat({Sub(2, Filler("", 250)), Sub(1, "quarantine-port-7")}),
       {},
       DropReason::kIgnoredByRule,
       ""},
      {"no rule's sub-option",
       Cat({Sub(9, Filler("", 250)), Sub(1, "Gi1/0/2")}),
       {},
       DropReason::kNone,
       "default.0"},
  };
  for (const MatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_GT(c.relay_info.size(), 255u);
    const Answer a =
        Respond(Relayed(testing::BiosIpxeDiscover(), c.relay_info, c.sizes),
                RelayRules());
    ASSERT_EQ(DropReasonName(a.reason), DropReasonName(c.reason));
    if (c.reason != DropReason::kNone) {
      EXPECT_TRUE(a.frame.empty());
      continue;
    }
    EXPECT_EQ(a.file, c.file);
    EXPECT_EQ(a.relay_info, c.relay_info);
    EXPECT_EQ(a.relay_instances, Instances(c.relay_info.size()));
  }
}

TEST(SplitRelayInfoTest, EchoedWholeIn255ByteInstancesInOrder) {
  const PolicySnapshot& policy =
      testing::Compiled({.defaults = {.file = "pxelinux.0"}});
  for (size_t length : {1, 254, 255, 256, 300, 509, 510, 511, 765, 1000}) {
    SCOPED_TRACE(::testing::Message() << length << " bytes");
    std::vector<uint8_t> info(length);
    for (size_t i = 0; i < length; ++i) info[i] = static_cast<uint8_t>(i * 7);
    // Sent in instances of 100 bytes: re-split after every 255 bytes.
    const Answer a =
        Respond(Relayed(testing::BiosIpxeDiscover(), info,
                        std::vector<size_t>(length / 100 + 1, 100)),
                policy);
    ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
    EXPECT_EQ(a.relay_info, info);
    EXPECT_EQ(a.relay_instances, Instances(length));
    EXPECT_TRUE(a.options_end);
  }
}

TEST(SplitRelayInfoTest, LongestEchoedFillsOneDatagramExactly) {
  const PolicySnapshot& policy =
      testing::Compiled({.defaults = {.file = "pxelinux.0"}});
  const std::vector<uint8_t> info(kMaxRelayInfoLength, 0x5A);
  const Answer a = Respond(Relayed(BareUefi(), info), policy);
  ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
  EXPECT_EQ(a.ip_length, kMaxReplyIpLength);
  EXPECT_EQ(a.frame.size(), kEthernetHeaderSize + kMaxReplyIpLength);
  EXPECT_EQ(a.relay_instances, (std::vector<size_t>{255, 255, 255, 255, 181}));
  EXPECT_EQ(a.relay_info, info);
  EXPECT_TRUE(a.options_end);

  // With an 802.1Q tag, the largest reply frame there is.
  FrameSpec tagged = Relayed(BareUefi(), info);
  tagged.vlan_tci = 12;
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(pxe::Respond(BuildFrame(tagged), RxMeta{}, policy, kContext,
                         request.get(), out, &size),
            DropReason::kNone);
  EXPECT_EQ(size, kMaxReplyFrameSize);
}

TEST(SplitRelayInfoTest, LongerThanAnyReplyHoldsIsDroppedWithItsReason) {
  const PolicySnapshot& policy =
      testing::Compiled({.defaults = {.file = "pxelinux.0"}});
  // Up to the most instances a message may have beside the ROM's options.
  for (size_t length : {kMaxRelayInfoLength + 1, size_t{2000},
                        (OptionIndex::kMaxOccurrences - 16) * size_t{255}}) {
    SCOPED_TRACE(::testing::Message() << length << " bytes");
    const FrameSpec spec = Relayed(BareUefi(), std::vector<uint8_t>(length, 1));
    auto request = std::make_unique<Request>();
    EXPECT_EQ(DropReasonName(
                  ClassifyFrame(BuildFrame(spec), RxMeta{}, request.get())),
              DropReasonName(DropReason::kRelayInfoTooLong));
    const Answer a = Respond(spec, policy);
    EXPECT_EQ(DropReasonName(a.reason),
              DropReasonName(DropReason::kRelayInfoTooLong));
    EXPECT_TRUE(a.frame.empty());
  }
  EXPECT_EQ(DropReasonText(DropReason::kRelayInfoTooLong),
            "relay agent information (option 82) too long to echo in one "
            "reply");
}

TEST(SplitRelayInfoTest, TooLongBesideTheReplysOtherOptionsIsDroppedNotCut) {
  // A 255-byte URL goes in option 67: with it, 1,000 bytes of option 82 do
  // not fit one datagram; with a short URL they do.
  BootPolicy long_url{
      .defaults = {.http_url = Filler("http://10.77.0.2/", 255)}};
  BootPolicy short_url{.defaults = {.http_url = "http://10.77.0.2/boot.efi"}};
  const std::vector<uint8_t> info(1000, 0x82);
  const FrameSpec spec = Relayed(Http(), info);

  const Answer dropped = Respond(spec, testing::Compiled(long_url));
  EXPECT_EQ(DropReasonName(dropped.reason),
            DropReasonName(DropReason::kRelayInfoTooLong));
  EXPECT_TRUE(dropped.frame.empty());

  const Answer answered = Respond(spec, testing::Compiled(short_url));
  ASSERT_EQ(answered.reason, DropReason::kNone);
  EXPECT_EQ(answered.relay_info, info);

  // Without option 82 the long URL fits; a buffer too small for a reply that
  // fits a datagram keeps its own reason.
  EXPECT_EQ(Respond(Relayed(Http(), {}), testing::Compiled(long_url)).reason,
            DropReason::kNone);
  EXPECT_EQ(
      DropReasonName(Respond(spec, testing::Compiled(short_url), 600).reason),
      DropReasonName(DropReason::kReplyBufferTooSmall));
}

// A transmit ring with one slot that keeps what was committed.
class Sink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t size, const RxMeta&) override {
    sent_.emplace_back(slot_.begin(), slot_.begin() + size);
  }
  const std::vector<std::vector<uint8_t>>& sent() const { return sent_; }

 private:
  std::vector<uint8_t> slot_ = std::vector<uint8_t>(kMaxReplyFrameSize);
  std::vector<std::vector<uint8_t>> sent_;
};

TEST(SplitRelayInfoTest, ResponderCountsTheDrops) {
  BootPolicy policy{.defaults = {.http_url = Filler("http://10.77.0.2/", 255)}};
  const PolicySnapshot& snapshot = testing::Compiled(std::move(policy));
  Sink sink;
  Responder responder({{.name = "eth0",
                        .ifindex = 2,
                        .mac = kServerMac,
                        .addresses = {{kServer, 24}}}},
                      ResponderOptions{}, &sink);
  responder.SetPolicy(&snapshot);
  uint64_t now_ns = 1'000'000'000;
  auto send = [&](size_t relay_length, uint8_t client) {
    FrameSpec spec = Relayed(Http(), std::vector<uint8_t>(relay_length, 3));
    spec.chaddr[5] = client;
    responder.HandleFrame(0, BuildFrame(spec), RxMeta{}, now_ns);
    now_ns += 1'000'000'000;
  };
  send(kMaxRelayInfoLength + 1, 1);  // no reply can hold it
  send(1000, 2);                     // not beside the 255-byte URL
  send(600, 3);                      // fits
  const Counters& counters = responder.counters();
  EXPECT_EQ(
      counters.by_reason[static_cast<size_t>(DropReason::kRelayInfoTooLong)],
      2u);
  EXPECT_EQ(counters.answered(), 1u);
  EXPECT_EQ(counters.received(), 3u);
  ASSERT_EQ(sink.sent().size(), 1u);
  EXPECT_EQ(Read(DropReason::kNone, sink.sent()[0]).relay_info,
            std::vector<uint8_t>(600, 3));
}

TEST(SplitRelayInfoTest, ClientRequestsSplitALongRelayInfoAsARelayDoes) {
  // What --explain builds for a long circuit_id and remote_id.
  const std::vector<uint8_t> info =
      Cat({Sub(1, Filler("Gi1/0/", 255)), Sub(2, Filler("sw-", 255)),
           Sub(9, Filler("", 80))});
  ASSERT_EQ(info.size(), 596u);
  std::array<uint8_t, kMaxClientRequestFrameSize> frame;
  const size_t size =
      BuildClientRequest({.giaddr = kRelay, .relay_agent_info = info}, frame);
  ASSERT_GT(size, 0u);
  // The instances as sent: 255, 255, 86, last before END.
  const Answer sent = Read(DropReason::kNone, {frame.data(), size});
  EXPECT_EQ(sent.relay_instances, (std::vector<size_t>{255, 255, 86}));
  EXPECT_EQ(sent.relay_info, info);
  EXPECT_TRUE(sent.options_end);

  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame({frame.data(), size}, RxMeta{}, request.get()),
            DropReason::kNone);
  EXPECT_EQ(Vec(request->relay_info), info);

  // More than a frame holds: nothing.
  const std::vector<uint8_t> too_long(1400, 1);
  EXPECT_EQ(BuildClientRequest({.relay_agent_info = too_long}, frame), 0u);
}

// --- RFC 3396 for every option -----------------------------------------

// `spec` with every option whose value has 2 bytes or more cut into random
// non-empty instances, and the instances of different options interleaved
// at random (each option's in order).
FrameSpec SplitEveryOption(const FrameSpec& spec, std::mt19937* rng) {
  std::vector<std::vector<DhcpOption>> per_option;
  for (const DhcpOption& option : spec.options) {
    std::vector<DhcpOption> parts;
    std::span<const uint8_t> rest(option.value);
    if (rest.size() < 2) {
      parts.push_back(option);
    }
    while (!rest.empty()) {
      const size_t n = std::uniform_int_distribution<size_t>(
          1, std::max<size_t>(1, rest.size() - 1))(*rng);
      parts.push_back(DhcpOption{
          option.code, std::vector<uint8_t>(rest.begin(), rest.begin() + n)});
      rest = rest.subspan(n);
    }
    std::reverse(parts.begin(), parts.end());  // popped from the back
    per_option.push_back(std::move(parts));
  }
  FrameSpec out = spec;
  out.options.clear();
  while (true) {
    std::vector<size_t> left;
    for (size_t i = 0; i < per_option.size(); ++i) {
      if (!per_option[i].empty()) left.push_back(i);
    }
    if (left.empty()) break;
    std::vector<DhcpOption>& from =
        per_option[left[std::uniform_int_distribution<size_t>(
            0, left.size() - 1)(*rng)]];
    out.options.push_back(std::move(from.back()));
    from.pop_back();
  }
  return out;
}

TEST(SplitOptionsTest, SplittingTheOptionsOfRealRequestsChangesNothing) {
  BootPolicy policy{.defaults = {.file = "pxelinux.0",
                                 .http_url = "http://10.77.0.2/boot.efi"}};
  policy.rules.push_back({.name = "ipxe",
                          .match = {.user_class = {{.text = "iPXE"}}},
                          .answer = {.file = "ipxe.0"}});
  const PolicySnapshot& snapshot = testing::Compiled(std::move(policy));
  const std::vector<uint8_t> relay_info =
      Cat({Sub(1, "Gi1/0/12"), Sub(2, "switch-3")});
  const std::vector<FrameSpec> requests = {
      testing::BiosIpxeDiscover(),
      testing::UefiOvmfDiscover(),
      testing::UefiOvmfRequest4011(kClient, kServer),
      testing::BiosIpxeRequest4011(kClient, kServer),
      Http(),
      Relayed(testing::BiosIpxeDiscover(), relay_info),
      Relayed(testing::UefiOvmfDiscover(), relay_info),
  };
  std::mt19937 rng(3396);
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  for (size_t r = 0; r < requests.size(); ++r) {
    size_t size = 0;
    // The request's views point into its frame: both live through the
    // checks.
    const std::vector<uint8_t> frame = BuildFrame(requests[r]);
    ASSERT_EQ(pxe::Respond(frame, RxMeta{}, snapshot, kContext, request.get(),
                           out, &size),
              DropReason::kNone)
        << "request " << r;
    const std::vector<uint8_t> want(out.begin(), out.begin() + size);
    const uint16_t arch_code = request->arch_code;
    const bool is_ipxe = request->is_ipxe;
    const bool has_undi = request->has_undi;
    const std::array<uint8_t, 3> undi = request->undi;
    const std::vector<uint8_t> vendor_class = Vec(request->vendor_class);
    const std::vector<uint8_t> user_class = Vec(request->user_class);
    const std::vector<uint8_t> uuid = Vec(request->uuid);
    for (int round = 0; round < 50; ++round) {
      SCOPED_TRACE(::testing::Message()
                   << "request " << r << " round " << round);
      const FrameSpec split = SplitEveryOption(requests[r], &rng);
      ASSERT_GT(split.options.size(), requests[r].options.size());
      const std::vector<uint8_t> split_frame = BuildFrame(split);
      ASSERT_EQ(pxe::Respond(split_frame, RxMeta{}, snapshot, kContext,
                             request.get(), out, &size),
                DropReason::kNone);
      EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + size), want);
      EXPECT_EQ(request->arch_code, arch_code);
      EXPECT_EQ(request->is_ipxe, is_ipxe);
      EXPECT_EQ(request->has_undi, has_undi);
      EXPECT_EQ(request->undi, undi);
      EXPECT_EQ(Vec(request->vendor_class), vendor_class);
      EXPECT_EQ(Vec(request->user_class), user_class);
      EXPECT_EQ(Vec(request->uuid), uuid);
    }
  }
}

TEST(SplitOptionsTest, SplitListsAndClassesAreReadWhole) {
  FrameSpec spec = testing::BiosIpxeDiscover();
  testing::RemoveOption(spec, dhcp::kIpxeEncap);
  testing::RemoveOption(spec, 93);
  testing::RemoveOption(spec, 94);
  testing::RemoveOption(spec, 77);
  testing::RemoveOption(spec, 60);
  // An unknown architecture first, then x64 UEFI: split inside the list.
  AppendSplit(spec, 93, std::vector<uint8_t>{0x12, 0x34, 0x00, 0x07}, {3});
  AppendSplit(spec, 94, std::vector<uint8_t>{1, 3, 16}, {1});
  AppendSplit(spec, 77, Bytes("iPXE"), {2});
  AppendSplit(spec, 60, Bytes("PXEClient:Arch:00007:UNDI:003016"), {3, 6});
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto r = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, r.get()), DropReason::kNone);
  EXPECT_EQ(r->kind, ClientKind::kPxe);
  EXPECT_EQ(r->arch_code, 7);
  EXPECT_TRUE(r->arch_known);
  EXPECT_TRUE(r->is_ipxe);
  EXPECT_TRUE(r->has_undi);
  EXPECT_EQ(r->undi, (std::array<uint8_t, 3>{1, 3, 16}));
  EXPECT_EQ(Vec(r->user_class), Bytes("iPXE"));
}

TEST(SplitOptionsTest, ConcatenationsBeyondTheirRoomAreAbsentNotCut) {
  // Longer than anything a client sends: treated as absent, never read
  // past the room kept for it.
  FrameSpec spec = testing::BiosIpxeDiscover();
  testing::RemoveOption(spec, 77);
  testing::RemoveOption(spec, dhcp::kIpxeEncap);
  AppendSplit(spec, 77, std::vector<uint8_t>(Request::kScratchSlot + 1, 'u'));
  AppendSplit(spec, 97, std::vector<uint8_t>(Request::kScratchSlot + 1, 0));
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto r = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, r.get()), DropReason::kNone);
  EXPECT_TRUE(r->user_class.empty());
  EXPECT_FALSE(r->is_ipxe);
  EXPECT_TRUE(r->uuid.empty());
  EXPECT_TRUE(r->uuid_present);

  FrameSpec vendor = testing::BiosIpxeDiscover();
  testing::RemoveOption(vendor, 60);
  AppendSplit(vendor, 60,
              Bytes(Filler("PXEClient:", Request::kScratchSlot + 1)));
  EXPECT_EQ(ClassifyFrame(BuildFrame(vendor), RxMeta{}, r.get()),
            DropReason::kNotBooting);
}

TEST(SplitRelayInfoTest, NothingOnThePathAllocates) {
  const PolicySnapshot& policy = RelayRules();
  const std::vector<std::vector<uint8_t>> frames = {
      BuildFrame(Relayed(testing::BiosIpxeDiscover(),
                         Cat({Sub(9, Filler("", 200)), Sub(2, kLongRemoteId)}),
                         {100, 100})),
      BuildFrame(
          Relayed(BareUefi(), std::vector<uint8_t>(kMaxRelayInfoLength, 1))),
      BuildFrame(Relayed(BareUefi(),
                         std::vector<uint8_t>(kMaxRelayInfoLength + 1, 1))),
  };
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  std::array<DropReason, 3> results{};
  std::array<size_t, 3> sizes{};
  testing::AllocationCounter counter;
  for (size_t i = 0; i < frames.size(); ++i) {
    results[i] = pxe::Respond(frames[i], RxMeta{}, policy, kContext,
                              request.get(), out, &sizes[i]);
  }
  counter.Stop();
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(counter.deallocations(), 0u);
  EXPECT_EQ(results[0], DropReason::kNone);
  EXPECT_EQ(results[1], DropReason::kNone);
  EXPECT_EQ(results[2], DropReason::kRelayInfoTooLong);
}

}  // namespace
}  // namespace pxe
