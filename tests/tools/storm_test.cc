// pxe-storm's pure parts: flags and timing, client identities, the latency
// histogram, reply judging, the per-client state machine (driven against our
// own engine as the proxy), ARP, and the report. No root, no network. The
// binary counts heap allocations to prove the packet path allocation-free,
// which is why it is a target of its own.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/client_request.h"
#include "engine/client_request6.h"
#include "engine/policy_snapshot.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "tests/testing/allocation_counter.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"
#include "tools/storm/arp.h"
#include "tools/storm/client_identity.h"
#include "tools/storm/client_profile.h"
#include "tools/storm/client_table.h"
#include "tools/storm/latency_histogram.h"
#include "tools/storm/reply_check.h"
#include "tools/storm/report.h"
#include "tools/storm/storm_config.h"

namespace pxe::storm {
namespace {

constexpr uint32_t kServerIp = MakeIpv4(10, 77, 0, 1);
constexpr MacAddress kServerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Ipv6Address kServerLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                          0,    0,    0, 0, 0, 0, 0, 1};
constexpr Ipv6Address kServerIp6 = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                                    0,    0,    0, 0, 0, 0, 0, 1};
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;
// A CLOCK_REALTIME-like start time.
constexpr uint64_t kT0 = 1'700'000'000 * kS;
// BOOTP starts after Ethernet, IPv4 (IHL 5) and UDP headers.
constexpr size_t kBootp = 14 + 20 + 8;

absl::StatusOr<StormConfig> Parse(std::vector<const char*> args) {
  return ParseStormCommandLine(args);
}

StormConfig Config(uint32_t clients, Mix mix = kDefaultMix) {
  StormConfig config;
  config.interface = "test0";
  config.clients = clients;
  config.mix = mix;
  return config;
}

Mix Only(ClientType type) {
  Mix mix{};
  mix[static_cast<size_t>(type)] = 1;
  return mix;
}

// Our own engine as the proxy under test: it answers whatever a client
// sends, as pxe-pdhcp would on an interface at 10.77.0.1/16.
class FakeProxy {
 public:
  FakeProxy()
      : policy_(pxe::testing::CompileOrDie(
            {.defaults = {.file = "pxelinux.0",
                          .http_url = "http://10.77.0.1/boot.efi",
                          .http_url6 = "http://[fd77::1]/boot.efi"}})) {
    context_.mac = kServerMac;
    context_.addresses = addresses_;
    context6_.mac = kServerMac;
    context6_.addresses = addresses6_;
  }

  void SetPolicy(BootPolicy policy) {
    policy_ = pxe::testing::CompileOrDie(std::move(policy));
  }

  // The reply to `frame`, or empty when the engine stays silent.
  std::vector<uint8_t> Answer(std::span<const uint8_t> frame) {
    std::array<uint8_t, kMaxReplyFrameSize> out;
    size_t size = 0;
    const bool ipv6 = LoadBe16(frame.data() + 12) == kEtherTypeIpv6;
    if (ipv6 ? Respond6(frame, RxMeta{}, *policy_, context6_, scratch6_.get(),
                        out, &size) != DropReason::kNone
             : Respond(frame, RxMeta{}, *policy_, context_, scratch_.get(), out,
                       &size) != DropReason::kNone) {
      return {};
    }
    return {out.begin(), out.begin() + static_cast<ptrdiff_t>(size)};
  }

 private:
  std::unique_ptr<const PolicySnapshot> policy_;
  std::array<InterfaceAddress, 1> addresses_ = {
      InterfaceAddress{.address = kServerIp, .prefix_length = 16}};
  ServerContext context_;
  std::unique_ptr<Request> scratch_ = std::make_unique<Request>();
  // Over IPv6: fe80::1 and fd77::1/64, so X in the PXE URL is fd77::1.
  std::array<Ipv6InterfaceAddress, 2> addresses6_ = {
      Ipv6InterfaceAddress{.address = kServerLinkLocal},
      Ipv6InterfaceAddress{.address = kServerIp6}};
  ServerContext6 context6_;
  std::unique_ptr<Request6> scratch6_ = std::make_unique<Request6>();
};

// Tests change reply bytes, so the UDP checksum is taken as verified.
constexpr RxMeta kTrustedChecksum{.udp_checksum = UdpChecksumStatus::kVerified};

// The byte offset of option `code`'s code byte in a reply frame, or 0.
size_t FindOption(std::span<const uint8_t> frame, uint8_t code) {
  for (size_t i = kBootp + 240; i + 1 < frame.size();) {
    if (frame[i] == code) return i;
    if (frame[i] == 255) return 0;
    if (frame[i] == 0) {
      ++i;
      continue;
    }
    i += 2 + size_t{frame[i + 1]};
  }
  return 0;
}

// A server with a file per architecture and a TFTP server of its own, and
// what pxe-storm is told to expect of it.
constexpr uint32_t kTftpIp = MakeIpv4(10, 77, 0, 9);

BootPolicy PerArchPolicy() {
  BootPolicy policy;
  policy.defaults.files[static_cast<size_t>(ArchClass::kBios)] = "pxelinux.0";
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "grubx64.efi";
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiArm64)] =
      "grubaa64.efi";
  policy.defaults.http_url = "http://10.77.0.1/boot.efi";
  policy.defaults.http_url6 = "http://[fd77::1]/boot.efi";
  policy.defaults.tftp_server = kTftpIp;
  return policy;
}

ExpectedAnswers PerArchAnswers() {
  ExpectedAnswers answers;
  answers.file[static_cast<size_t>(ArchClass::kBios)] = "pxelinux.0";
  answers.file[static_cast<size_t>(ArchClass::kUefiX64)] = "grubx64.efi";
  answers.file[static_cast<size_t>(ArchClass::kUefiArm64)] = "grubaa64.efi";
  answers.http_url[static_cast<size_t>(ArchClass::kUefiX64)] =
      "http://10.77.0.1/boot.efi";
  answers.http_url6 = "http://[fd77::1]/boot.efi";
  answers.server = kServerIp;
  answers.tftp_server = kTftpIp;
  return answers;
}

// Drives a ClientTable as the runner does, with a fake clock and FakeProxy.
class Harness {
 public:
  explicit Harness(const StormConfig& config, uint64_t seed = 42)
      : table(config, seed) {}

  // Sends everything queued at `now`: returns the frames.
  std::vector<std::vector<uint8_t>> Flush() {
    std::vector<std::vector<uint8_t>> frames;
    std::vector<uint32_t> clients;
    std::array<uint8_t, 2048> slot;
    uint32_t client = 0;
    while (size_t size = table.WriteNextFrame(slot, now, &client)) {
      frames.emplace_back(slot.begin(),
                          slot.begin() + static_cast<ptrdiff_t>(size));
      clients.push_back(client);
    }
    for (uint32_t c : clients) table.OnSent(c, now);
    return frames;
  }

  // Feeds `reply` (a frame) to the table as received at `rx_ns`.
  void Deliver(std::span<const uint8_t> reply, uint64_t rx_ns) {
    if (LoadBe16(reply.data() + 12) == kEtherTypeIpv6) {
      ASSERT_EQ(ParseServerFrame6(reply, RxMeta{}, &frame6, &message6),
                DropReason::kNone);
      table.OnReply6(frame6, message6, rx_ns);
      return;
    }
    ASSERT_EQ(ClassifyFrame(reply, kTrustedChecksum, request.get()),
              DropReason::kServerReply);
    table.OnReply(*request, rx_ns);
  }

  // Answers every frame with the proxy; replies arrive `delay` later.
  void AnswerAll(const std::vector<std::vector<uint8_t>>& frames,
                 uint64_t delay) {
    for (const auto& frame : frames) {
      std::vector<uint8_t> reply = proxy.Answer(frame);
      if (!reply.empty()) Deliver(reply, now + delay);
    }
  }

  void AdvanceTo(uint64_t t) {
    now = t;
    table.ExpireTimers(now);
  }

  ClientTable table;
  FakeProxy proxy;
  std::unique_ptr<Request> request = std::make_unique<Request>();
  FrameView6 frame6;
  ServerMessage6 message6;
  uint64_t now = kT0;
};

// --- Flags and timing -----------------------------------------------------

TEST(StormConfigTest, Defaults) {
  auto config = Parse({"-i", "eth0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->interface, "eth0");
  EXPECT_EQ(config->clients, 1000u);
  EXPECT_EQ(config->mix, kDefaultMix);
  EXPECT_EQ(config->rate, 0);
  EXPECT_EQ(config->storm_window_seconds, 1.0);
  EXPECT_EQ(config->retry_scale, 1.0);
  EXPECT_EQ(config->first_try_seconds, 2.0);
  EXPECT_EQ(config->client_net.address, MakeIpv4(10, 77, 128, 0));
  EXPECT_EQ(config->client_net.prefix_length, 17);
  EXPECT_FALSE(config->seed.has_value());
  EXPECT_FALSE(config->json);
}

TEST(StormConfigTest, EveryFlag) {
  auto config =
      Parse({"--interface=veth1", "-n", "50000", "--mix", "bios=1,http=3",
             "--rate", "5000", "--retry-scale", "0.01", "--first-try-window",
             "0.5", "--client-net", "10.76.3.1/15", "--seed", "99",
             "--max-seconds", "30", "--json"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->interface, "veth1");
  EXPECT_EQ(config->clients, 50000u);
  EXPECT_EQ(config->mix, (Mix{1, 0, 0, 0, 3}));
  EXPECT_EQ(config->rate, 5000);
  EXPECT_EQ(config->retry_scale, 0.01);
  EXPECT_EQ(config->first_try_seconds, 0.5);
  // Masked to the network.
  EXPECT_EQ(config->client_net.address, MakeIpv4(10, 76, 0, 0));
  EXPECT_EQ(config->client_net.prefix_length, 15);
  EXPECT_EQ(config->seed, 99u);
  EXPECT_EQ(config->max_seconds, 30);
  EXPECT_TRUE(config->json);
  EXPECT_EQ(config->late_after_seconds, 1.0);  // the default
  EXPECT_EQ(Parse({"-i", "eth0", "--late-after", "0.25"})->late_after_seconds,
            0.25);
}

TEST(StormConfigTest, ExpectedAnswers) {
  auto config =
      Parse({"-i", "eth0", "--expect-file", "bios=pxelinux.0", "--expect-file",
             "uefi-arm64=grubaa64.efi", "--expect-http-url", "http://a/x.efi",
             "--expect-http-url", "uefi-arm64=https://a/aa64.efi",
             "--expect-ipxe-script", "http://a/boot.ipxe", "--expect-server",
             "10.77.0.1", "--expect-tftp-server=10.77.0.9"});
  ASSERT_TRUE(config.ok()) << config.status();
  const ExpectedAnswers& e = config->expected;
  EXPECT_EQ(e.file[static_cast<size_t>(ArchClass::kBios)], "pxelinux.0");
  EXPECT_EQ(e.file[static_cast<size_t>(ArchClass::kUefiArm64)], "grubaa64.efi");
  EXPECT_EQ(e.file[static_cast<size_t>(ArchClass::kUefiX64)], "");
  // The URL for one architecture wins over the one for all.
  EXPECT_EQ(e.http_url[static_cast<size_t>(ArchClass::kUefiX64)],
            "http://a/x.efi");
  EXPECT_EQ(e.http_url[static_cast<size_t>(ArchClass::kUefiArm64)],
            "https://a/aa64.efi");
  EXPECT_EQ(e.ipxe_script, "http://a/boot.ipxe");
  EXPECT_EQ(e.server, MakeIpv4(10, 77, 0, 1));
  EXPECT_EQ(e.tftp_server, MakeIpv4(10, 77, 0, 9));
  EXPECT_TRUE(e.any());
  EXPECT_FALSE(Parse({"-i", "eth0"})->expected.any());

  for (const std::vector<const char*>& bad :
       std::vector<std::vector<const char*>>{
           {"-i", "eth0", "--expect-file", "pxelinux.0"},     // no ARCH
           {"-i", "eth0", "--expect-file", "sparc=boot"},     // unknown ARCH
           {"-i", "eth0", "--expect-file", "bios="},          // no PATH
           {"-i", "eth0", "--expect-http-url", "ftp://a/b"},  // not a URL
           {"-i", "eth0", "--expect-server", "10.77.0"},      // not an address
           {"-i", "eth0", "--expect-tftp-server", "host"},    // not an address
           {"-i", "eth0", "--expect-ipxe-script", ""},        // empty
       }) {
    EXPECT_FALSE(Parse(bad).ok()) << bad[2] << " " << bad[3];
  }
}

TEST(StormConfigTest, ListClientsNeedsNoInterface) {
  auto config = Parse({"--list-clients", "-n", "3", "--seed", "5"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->action, StormConfig::Action::kListClients);
  EXPECT_EQ(config->clients, 3u);
  // Still checked: the clients must fit the client net.
  EXPECT_FALSE(Parse({"--list-clients", "--client-net", "10.0.0.0/30", "-n",
                      "3", "--seed", "5"})
                   .ok());
}

TEST(StormConfigTest, HelpNeedsNoInterface) {
  auto config = Parse({"--help"});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->action, StormConfig::Action::kHelp);
  EXPECT_NE(StormUsageText().find("--storm-window"), std::string::npos);
}

TEST(StormConfigTest, BadCommandLines) {
  const std::vector<std::vector<const char*>> bad = {
      {},                                                     // no -i
      {"-i", "eth0", "-n", "0"},                              // no clients
      {"-i", "eth0", "-n", "ten"},                            // not a number
      {"-i", "eth0", "--rate", "10", "--storm-window", "2"},  // both modes
      {"-i", "eth0", "--rate", "0"},                  // rate must be > 0
      {"-i", "eth0", "--retry-scale", "-1"},          // negative
      {"-i", "eth0", "--first-try-window", "nan"},    // not finite
      {"-i", "eth0", "--late-after", "0"},            // must be > 0
      {"-i", "eth0", "--client-net", "10.77.128.0"},  // no prefix length
      {"-i", "eth0", "--client-net", "10.77.128.0/24", "-n", "255"},  // full
      {"-i", "eth0", "--mix", "bios=1,sparc=2"},  // unknown type
      {"-i", "eth0", "--mix", "bios=0"},          // all weights 0
      {"-i", "eth0", "--mix", "bios=1,bios=2"},   // twice
      {"-i", "eth0", "--frobnicate"},             // unknown flag
      {"-i", "eth0", "stray"},                    // positional
      {"-i"},                                     // missing value
  };
  for (const auto& args : bad) {
    EXPECT_FALSE(Parse(args).ok()) << (args.empty() ? "(none)" : args.back());
  }
  // A /24 holds 254 clients: .1 to .254.
  EXPECT_TRUE(
      Parse({"-i", "eth0", "--client-net", "10.77.128.0/24", "-n", "254"})
          .ok());
}

TEST(StormConfigTest, MixRoundTrips) {
  auto mix = ParseMix("uefi-x64=3,ipxe=1");
  ASSERT_TRUE(mix.ok());
  EXPECT_EQ(FormatMix(*mix), "uefi-x64=3,ipxe=1");
  EXPECT_EQ(FormatMix(kDefaultMix),
            "bios=40,uefi-x64=40,arm64=10,ipxe=5,http=5");
}

TEST(StormConfigTest, RetryScheduleIsThePxeRomsScaled) {
  StormConfig config = Config(10);
  RetrySchedule s = MakeRetrySchedule(config);
  EXPECT_EQ(
      s.discover_deadline_ns,
      (std::array<uint64_t, 5>{4 * kS, 8 * kS, 16 * kS, 32 * kS, 64 * kS}));
  EXPECT_EQ(s.request_timeout_ns, 1 * kS);
  EXPECT_EQ(s.first_try_ns, 2 * kS);

  config.retry_scale = 0.01;
  config.first_try_seconds = 0.5;
  s = MakeRetrySchedule(config);
  EXPECT_EQ(s.discover_deadline_ns,
            (std::array<uint64_t, 5>{40 * kMs, 80 * kMs, 160 * kMs, 320 * kMs,
                                     640 * kMs}));
  EXPECT_EQ(s.request_timeout_ns, 10 * kMs);
  EXPECT_EQ(s.first_try_ns, 500 * kMs);  // not scaled: it is a measure
}

TEST(StormConfigTest, PowerOnSpreadsOverTheWindowOrFollowsTheRate) {
  StormConfig config = Config(1000);
  config.storm_window_seconds = 2;
  EXPECT_EQ(PowerOnOffsetNs(config, 0), 0u);
  EXPECT_EQ(PowerOnOffsetNs(config, 500), 1 * kS);
  EXPECT_EQ(PowerOnOffsetNs(config, 999), 1998 * kMs);
  config.storm_window_seconds = 0;  // all at once
  EXPECT_EQ(PowerOnOffsetNs(config, 999), 0u);
  config.rate = 5000;
  EXPECT_EQ(PowerOnOffsetNs(config, 1), 200'000u);
  EXPECT_EQ(PowerOnOffsetNs(config, 999), 199'800'000u);
  // The last power-on, give-up at 64 s, two 4011 timeouts, a second.
  EXPECT_NEAR(AutoMaxSeconds(config), 0.1998 + 66 + 1, 1e-9);
}

// --- Client identities -----------------------------------------------------

TEST(ClientIdentityTest, MacsAreOursDistinctAndLeadBackToTheIndex) {
  const ClientIdentity identity(7, 50000, MakeIpv4(10, 77, 128, 0));
  std::set<MacAddress> macs;
  std::set<uint32_t> xids;
  for (uint32_t i = 0; i < identity.count(); ++i) {
    const MacAddress mac = identity.Mac(i);
    EXPECT_EQ(mac[0] & 0x03, 0x02) << "locally administered unicast";
    ASSERT_EQ(identity.IndexOfMac(mac), i);
    macs.insert(mac);
    xids.insert(identity.DiscoverXid(i));
    EXPECT_NE(identity.DiscoverXid(i), 0u);
    EXPECT_NE(identity.RequestXid(i), 0u);
    EXPECT_NE(identity.RequestXid(i), identity.DiscoverXid(i));
  }
  EXPECT_EQ(macs.size(), 50000u);
  EXPECT_GT(xids.size(), 49990u);  // random 32-bit values: rare collisions
  const std::array<uint8_t, 3> prefix = identity.mac_prefix();
  EXPECT_TRUE(
      std::equal(prefix.begin(), prefix.end(), identity.Mac(0).begin()));

  // Another seed shares no MAC; a foreign MAC or one past the count is not
  // ours.
  const ClientIdentity other(8, 50000, MakeIpv4(10, 77, 128, 0));
  EXPECT_FALSE(identity.IndexOfMac(other.Mac(0)).has_value());
  EXPECT_FALSE(
      identity.IndexOfMac({0x52, 0x54, 0x00, 0x12, 0x34, 0x56}).has_value());
  const ClientIdentity bigger(7, 60000, MakeIpv4(10, 77, 128, 0));
  EXPECT_EQ(bigger.Mac(10), identity.Mac(10));
  EXPECT_FALSE(identity.IndexOfMac(bigger.Mac(55000)).has_value());
}

TEST(ClientIdentityTest, AddressesAndUuids) {
  const ClientIdentity identity(1, 100, MakeIpv4(10, 77, 128, 0));
  EXPECT_EQ(identity.Address(0), MakeIpv4(10, 77, 128, 1));
  EXPECT_EQ(identity.Address(99), MakeIpv4(10, 77, 128, 100));
  EXPECT_EQ(identity.IndexOfAddress(MakeIpv4(10, 77, 128, 1)), 0u);
  EXPECT_EQ(identity.IndexOfAddress(MakeIpv4(10, 77, 128, 100)), 99u);
  EXPECT_FALSE(identity.IndexOfAddress(MakeIpv4(10, 77, 128, 0)));
  EXPECT_FALSE(identity.IndexOfAddress(MakeIpv4(10, 77, 128, 101)));
  EXPECT_FALSE(identity.IndexOfAddress(MakeIpv4(10, 77, 0, 1)));
  const std::array<uint8_t, 16> uuid = identity.Uuid(5);
  EXPECT_EQ(uuid[6] >> 4, 4);       // version 4
  EXPECT_EQ(uuid[8] & 0xC0, 0x80);  // RFC 4122 variant
  EXPECT_NE(identity.Uuid(5), identity.Uuid(6));
  EXPECT_EQ(identity.Uuid(5), ClientIdentity(1, 100, 0).Uuid(5));
}

TEST(AssignTypesTest, ExactProportionsInterleaved) {
  const std::vector<ClientType> types = AssignTypes(kDefaultMix, 1000);
  std::array<int, kClientTypeCount> counts{};
  for (ClientType t : types) ++counts[static_cast<size_t>(t)];
  EXPECT_EQ(counts, (std::array<int, kClientTypeCount>{400, 400, 100, 50, 50}));
  // Any 100 consecutive clients hold every type in about its share.
  std::array<int, kClientTypeCount> window{};
  for (size_t i = 300; i < 400; ++i) ++window[static_cast<size_t>(types[i])];
  EXPECT_EQ(window, (std::array<int, kClientTypeCount>{40, 40, 10, 5, 5}));
  for (ClientType t : AssignTypes(Only(ClientType::kArm64), 10)) {
    EXPECT_EQ(t, ClientType::kArm64);
  }
}

// --- Latency histogram
// --------------------------------------------------------

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExactNearestRank) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 200; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 100u);
  EXPECT_EQ(h.Percentile(90), 180u);
  EXPECT_EQ(h.Percentile(99), 198u);
  EXPECT_EQ(h.Percentile(99.9), 200u);  // ceil(199.8) = 200th
  EXPECT_EQ(h.Percentile(100), 200u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 200u);
}

TEST(LatencyHistogramTest, LargeValuesWithinOnePercent) {
  LatencyHistogram h;
  // 1 .. 10000 microseconds, shuffled order does not matter.
  for (uint64_t us = 10000; us >= 1; --us) h.Record(us * 1000);
  EXPECT_EQ(h.count(), 10000u);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double exact = p * 100 * 1000;  // the nearest-rank value in ns
    EXPECT_NEAR(static_cast<double>(h.Percentile(p)), exact, exact * 0.008)
        << p;
    EXPECT_GE(static_cast<double>(h.Percentile(p)), exact) << "upper edge";
  }
  EXPECT_EQ(h.max(), 10'000'000u);
  EXPECT_EQ(h.Percentile(100), 10'000'000u);  // clamped to the exact max
}

TEST(LatencyHistogramTest, OneValueIsExactAtEveryPercentile) {
  LatencyHistogram h;
  for (int i = 0; i < 5; ++i) h.Record(1'234'567);
  EXPECT_EQ(h.Percentile(50), 1'234'567u);
  EXPECT_EQ(h.Percentile(99.9), 1'234'567u);
}

TEST(LatencyHistogramTest, BucketsTileTheRange) {
  // Each bucket's upper edge lands in it and the next value in the next.
  for (size_t b = 0; b + 1 < LatencyHistogram::kBucketCount; ++b) {
    const uint64_t edge = LatencyHistogram::BucketUpperEdge(b);
    ASSERT_EQ(LatencyHistogram::BucketOf(edge), b);
    ASSERT_EQ(LatencyHistogram::BucketOf(edge + 1), b + 1);
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(~uint64_t{0}),
            LatencyHistogram::kBucketCount - 1);
  LatencyHistogram h;
  h.Record(~uint64_t{0});
  EXPECT_EQ(h.Percentile(50), ~uint64_t{0});
}

// --- Reply judging ----------------------------------------------------------

// One client of `type`, its DISCOVER, and the proxy's real answer.
class ReplyCheckTest : public ::testing::Test {
 protected:
  void SetUpClient(ClientType type) {
    harness_ = std::make_unique<Harness>(Config(1, Only(type)));
    if (policy_) harness_->proxy.SetPolicy(*policy_);
    harness_->table.PowerOn(0, kT0);
    auto frames = harness_->Flush();
    ASSERT_EQ(frames.size(), 1u);
    offer_ = harness_->proxy.Answer(frames[0]);
    ASSERT_FALSE(offer_.empty());
    const ClientIdentity& id = harness_->table.identity();
    expect_ = ClientExpectation{
        .profile = &Profile(type),
        .discover_xid = id.DiscoverXid(0),
        .request_xid = id.RequestXid(0),
        .address = id.Address(0),
        .request_port = Profile(type).edk2 ? kPxeServerPort : kDhcpClientPort,
        .request_sent = false};
    ApplyExpectedAnswers(answers_, Profile(type), &expect_);
  }

  // The proxy answers with PerArchPolicy(), the client expects
  // PerArchAnswers().
  void ExpectPerArchFiles() {
    policy_ = PerArchPolicy();
    answers_ = PerArchAnswers();
  }

  // The ACK to this client's 4011 request (the client must ask).
  std::vector<uint8_t> AckFrame() {
    Harness& h = *harness_;
    h.Deliver(offer_, h.now + kMs);
    auto frames = h.Flush();
    EXPECT_EQ(frames.size(), 1u);
    expect_.request_sent = true;
    expect_.has_boot_item = h.table.slot(0).has_boot_item;
    expect_.boot_item = h.table.slot(0).boot_item;
    return frames.empty() ? std::vector<uint8_t>{} : h.proxy.Answer(frames[0]);
  }

  ReplyVerdict Check(std::span<const uint8_t> frame) {
    if (expect_.profile->ipv6) {
      FrameView6 view;
      ServerMessage6 message;
      EXPECT_EQ(ParseServerFrame6(frame, kTrustedChecksum, &view, &message),
                DropReason::kNone);
      const ClientIdentity& id = harness_->table.identity();
      const auto duid = MakeDuidLl(id.Mac(0));
      return CheckReply6(view, message, expect_, duid, id.LinkLocal(0));
    }
    EXPECT_EQ(ClassifyFrame(frame, kTrustedChecksum, reply_.get()),
              DropReason::kServerReply);
    return CheckReply(*reply_, expect_);
  }

  std::unique_ptr<Harness> harness_;
  std::optional<BootPolicy> policy_;
  ExpectedAnswers answers_;
  std::vector<uint8_t> offer_;
  ClientExpectation expect_;
  std::unique_ptr<Request> reply_ = std::make_unique<Request>();
};

TEST_F(ReplyCheckTest, OurEnginesAnswersPassForEveryType) {
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    SetUpClient(static_cast<ClientType>(t));
    const ReplyVerdict v = Check(offer_);
    EXPECT_EQ(v.kind, ReplyKind::kOffer) << t;
    EXPECT_EQ(v.problem, ReplyProblem::kNone) << t;
  }
  SetUpClient(ClientType::kUefiX64);
  const std::vector<uint8_t> ack = AckFrame();
  ASSERT_FALSE(ack.empty());
  const ReplyVerdict v = Check(ack);
  EXPECT_EQ(v.kind, ReplyKind::kAck);
  EXPECT_EQ(v.problem, ReplyProblem::kNone);
}

TEST_F(ReplyCheckTest, OfferProblems) {
  SetUpClient(ClientType::kBios);
  std::vector<uint8_t> f = offer_;
  f[kBootp + 4] ^= 1;  // xid
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongXid);

  f = offer_;
  f[kBootp + 19] = 7;  // yiaddr 0.0.0.7 with option 60 PXEClient
  EXPECT_EQ(Check(f).problem, ReplyProblem::kOfferYiaddr);

  f = offer_;
  const size_t at = FindOption(f, 60);
  ASSERT_NE(at, 0u);
  f[at] = 250;  // option 60 gone
  EXPECT_EQ(Check(f).problem, ReplyProblem::kVendorClass);

  f = offer_;
  f[FindOption(f, 53) + 2] = 6;  // a NAK
  const ReplyVerdict nak = Check(f);
  EXPECT_EQ(nak.kind, ReplyKind::kOther);
  EXPECT_EQ(nak.problem, ReplyProblem::kUnexpectedType);
}

TEST_F(ReplyCheckTest, HttpClientsNeedHttpClientAndAUrl) {
  SetUpClient(ClientType::kHttp);
  std::vector<uint8_t> f = offer_;
  f[kBootp + 108] = 'x';  // "xttp://...": not a URL
  EXPECT_EQ(Check(f).problem, ReplyProblem::kHttpNoUrl);

  // A PXEClient offer is the wrong kind for an HTTP client, and the other
  // way round.
  f = offer_;
  const size_t at = FindOption(f, 60);
  ASSERT_NE(at, 0u);
  ASSERT_EQ(f[at + 2], 'H');
  f[at + 2] = 'P';  // "PTTPClient"
  EXPECT_EQ(Check(f).problem, ReplyProblem::kVendorClass);
  SetUpClient(ClientType::kBios);
  expect_.profile = &Profile(ClientType::kHttp);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kVendorClass);
}

TEST_F(ReplyCheckTest, AckProblems) {
  SetUpClient(ClientType::kUefiX64);
  const std::vector<uint8_t> ack = AckFrame();
  ASSERT_FALSE(ack.empty());

  std::vector<uint8_t> f = ack;
  f[kBootp + 7] ^= 1;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongXid);

  f = ack;
  f[kBootp + 19] ^= 0x55;  // neither 0 nor the client's address
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckYiaddr);

  f = ack;
  std::fill_n(f.begin() + kBootp + 108, 128, 0);
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckNoFile);

  f = ack;
  f[14 + 20 + 2] = 0;  // to port 68, but OVMF listens on 4011
  f[14 + 20 + 3] = 68;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckDestination);

  // An ACK before any 4011 request.
  expect_.request_sent = false;
  EXPECT_EQ(Check(ack).problem, ReplyProblem::kUnexpectedType);
}

TEST_F(ReplyCheckTest, DhcpServerOffersAreNotJudged) {
  SetUpClient(ClientType::kBios);
  testing::FrameSpec spec =
      testing::ServerOffer(MakeIpv4(10, 77, 0, 2), MakeIpv4(10, 77, 1, 9));
  spec.chaddr = harness_->table.identity().Mac(0);
  spec.xid = 12345;  // even with another xid
  const ReplyVerdict v = Check(testing::BuildFrame(spec));
  EXPECT_EQ(v.kind, ReplyKind::kDhcpServerOffer);
  EXPECT_EQ(v.problem, ReplyProblem::kNone);
}

TEST_F(ReplyCheckTest, AckFromAnotherPortIsWrong) {
  SetUpClient(ClientType::kUefiX64);
  std::vector<uint8_t> f = AckFrame();
  ASSERT_FALSE(f.empty());
  f[14 + 20] = 0;  // from 67: iPXE takes boot-server ACKs from 4011 only
  f[14 + 20 + 1] = 67;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckSourcePort);
}

TEST_F(ReplyCheckTest, Option43MustBeWhatTheFirmwareReads) {
  SetUpClient(ClientType::kBios);
  const size_t at = FindOption(offer_, 43);
  ASSERT_NE(at, 0u);
  // Ours: 43 = 06 01 08 FF.
  ASSERT_EQ(offer_[at + 1], 4);
  ASSERT_EQ(offer_[at + 4], 0x08);

  std::vector<uint8_t> f = offer_;
  f[at + 4] = 0x03;  // discovery control without bit 3: a PXE ROM would
                     // discover boot servers instead of booting the file
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  f = offer_;
  f[at] = 250;  // no option 43 at all: the same for a PXE ROM
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  f = offer_;
  f[at + 5] = 0;  // END gone (a PAD instead)
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  f = offer_;
  f[at + 3] = 2;  // 43.6 of length 2 swallows the END
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  f = offer_;
  f[at + 3] = 3;  // 43.6 longer than option 43
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);

  // iPXE boots a file with siaddr whatever 43 says; EDK2 asks on 4011.
  SetUpClient(ClientType::kIpxe);
  f = offer_;
  f[FindOption(f, 43)] = 250;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kNone);
  SetUpClient(ClientType::kUefiX64);
  EXPECT_EQ(FindOption(offer_, 43), 0u);  // BINL style: no 43
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone);
}

TEST_F(ReplyCheckTest, MenusAndBootServerListsMustBeWellFormed) {
  SetUpClient(ClientType::kBios);
  auto menu_offer = [&](std::initializer_list<uint8_t> vendor) {
    testing::FrameSpec spec;
    spec.op = 2;
    spec.src_port = 67;
    spec.dst_port = 68;
    spec.ip_src = kServerIp;
    spec.siaddr = kServerIp;
    spec.xid = expect_.discover_xid;
    spec.chaddr = harness_->table.identity().Mac(0);
    spec.options = {testing::MessageTypeOpt(2),
                    testing::Opt(54, {10, 77, 0, 1}),
                    testing::Opt(60, "PXEClient"), testing::Opt(43, vendor)};
    return testing::BuildFrame(spec);
  };
  // Discovery control, boot servers {type 0x8001: 10.77.0.1}, menu
  // {0x8001 "boot"}, prompt {timeout 5, "go"}, END: a menu, no file.
  EXPECT_EQ(Check(menu_offer({6,   1,   3,   8,  7, 0x80, 0x01, 1,   10,
                              77,  0,   1,   9,  7, 0x80, 0x01, 4,   'b',
                              'o', 'o', 't', 10, 3, 5,    'g',  'o', 255}))
                .problem,
            ReplyProblem::kNone);
  // A menu entry longer than the menu.
  EXPECT_EQ(
      Check(menu_offer({6, 1, 3, 9, 7, 0x80, 0x01, 5, 'b', 'o', 'o', 't', 255}))
          .problem,
      ReplyProblem::kBadOption43);
  // A boot server entry announcing two addresses, holding one.
  EXPECT_EQ(Check(menu_offer({8, 7, 0x80, 0x01, 2, 10, 77, 0, 1, 255})).problem,
            ReplyProblem::kBadOption43);
  // An empty menu; a prompt without its timeout; a boot item of 3 bytes.
  EXPECT_EQ(Check(menu_offer({9, 0, 255})).problem, ReplyProblem::kBadOption43);
  EXPECT_EQ(Check(menu_offer({10, 0, 255})).problem,
            ReplyProblem::kBadOption43);
  EXPECT_EQ(Check(menu_offer({71, 3, 0x80, 0, 0, 255})).problem,
            ReplyProblem::kBadOption43);
  // Sub-options PXE 2.1 does not define are skipped, PAD too.
  EXPECT_EQ(Check(menu_offer({0, 200, 2, 1, 2, 255})).problem,
            ReplyProblem::kNone);
}

TEST_F(ReplyCheckTest, AckMustEchoTheBootItemAskedFor) {
  // iPXE asks on 4011 with boot item 80 00 when the offer names no file.
  SetUpClient(ClientType::kIpxe);
  std::fill_n(offer_.begin() + kBootp + 108, 128, 0);
  const std::vector<uint8_t> ack = AckFrame();
  ASSERT_FALSE(ack.empty());
  ASSERT_TRUE(expect_.has_boot_item);
  EXPECT_EQ(Check(ack).problem, ReplyProblem::kNone);
  const size_t at = FindOption(ack, 43);
  ASSERT_NE(at, 0u);
  ASSERT_EQ(ack[at + 2], 71);  // 43 = 71 04 80 00 00 00 FF
  std::vector<uint8_t> f = ack;
  f[at + 4] = 0x81;  // another item type: iPXE drops the ACK
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  f = ack;
  f[at] = 250;  // no 43.71 at all
  EXPECT_EQ(Check(f).problem, ReplyProblem::kBadOption43);
  // Without a boot item in the request, none is needed in the ACK.
  expect_.has_boot_item = false;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kNone);
}

// DHCPv6 answers to the IPv6 clients: the engine's are right; each flaw a
// firmware would refuse is named. The message starts after Ethernet, IPv6
// and UDP; the engine's Advertise has options 1, 2, 16, 59 in this order.
constexpr size_t kDhcp6 = 14 + 40 + 8;

TEST_F(ReplyCheckTest, Ipv6AnswersAndTheirProblems) {
  SetUpClient(ClientType::kUefiX64V6);
  ReplyVerdict v = Check(offer_);
  EXPECT_EQ(v.kind, ReplyKind::kOffer);
  EXPECT_EQ(v.problem, ReplyProblem::kNone);
  std::vector<uint8_t> f = offer_;
  f[kDhcp6 + 3] ^= 1;  // xid
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongXid);
  f = offer_;
  f[kDhcp6 + 4 + 4 + 9] ^= 1;  // the DUID's last byte
  EXPECT_EQ(Check(f).problem, ReplyProblem::kClientIdNotEchoed);
  f = offer_;
  f[kDhcp6 + 4 + 14 + 1] = 3;  // option 2 (server ID) becomes an IA_NA
  EXPECT_EQ(Check(f).problem, ReplyProblem::kProxyIa);
  f = offer_;
  f[kDhcp6 + 4 + 14 + 1] = 99;  // no server ID left
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongServer);
  f = offer_;
  f[kDhcp6 + 4 + 14 + 14 + 1] = 99;  // no option 16 left
  EXPECT_EQ(Check(f).problem, ReplyProblem::kVendorClass);
  // A Reply nobody asked for.
  f = offer_;
  f[kDhcp6] = 7;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kUnexpectedType);

  const std::vector<uint8_t> reply = AckFrame();
  ASSERT_FALSE(reply.empty());
  v = Check(reply);
  EXPECT_EQ(v.kind, ReplyKind::kAck);
  EXPECT_EQ(v.problem, ReplyProblem::kNone);
  f = reply;
  f[14 + 40 + 1] ^= 1;  // UDP source port
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckSourcePort);
  f = reply;
  f[14 + 40 + 3] ^= 1;  // UDP destination port
  EXPECT_EQ(Check(f).problem, ReplyProblem::kAckDestination);
  answers_.file[static_cast<size_t>(ArchClass::kUefiX64)] = "other.efi";
  ApplyExpectedAnswers(answers_, Profile(ClientType::kUefiX64V6), &expect_);
  EXPECT_EQ(Check(reply).problem, ReplyProblem::kWrongFile);
}

TEST_F(ReplyCheckTest, Ipv6HttpNeedsItsUrl) {
  SetUpClient(ClientType::kHttpV6);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone);
  answers_.http_url6 = "http://[fd77::1]/other.efi";
  ApplyExpectedAnswers(answers_, Profile(ClientType::kHttpV6), &expect_);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kWrongFile);
  answers_.http_url6 = "http://[fd77::1]/boot.efi";
  ApplyExpectedAnswers(answers_, Profile(ClientType::kHttpV6), &expect_);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone);
  // A PXEClient answer to an HTTP client.
  std::vector<uint8_t> f = offer_;
  const size_t vendor = kDhcp6 + 4 + 14 + 14 + 4 + 6;
  f[vendor] = 'P';
  EXPECT_EQ(Check(f).problem, ReplyProblem::kVendorClass);
}

TEST(ReplyCheck6Test, TftpUrlFile) {
  auto file = [](std::string_view url) {
    return std::string(TftpUrlFile(
        {reinterpret_cast<const uint8_t*>(url.data()), url.size()}));
  };
  EXPECT_EQ(file("tftp://[fd77::1]/boot/x.efi"), "boot/x.efi");
  EXPECT_EQ(file("tftp://fd77::1/x.efi"), "");
  EXPECT_EQ(file("http://[fd77::1]/x.efi"), "");
  EXPECT_EQ(file("tftp://[fd77::1]"), "");
}

TEST_F(ReplyCheckTest, RightAnswersPassEveryExpectation) {
  ExpectPerArchFiles();
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    const ClientType type = static_cast<ClientType>(t);
    SetUpClient(type);
    EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone) << Profile(type).name;
    if (!Profile(type).edk2) continue;
    const std::vector<uint8_t> ack = AckFrame();
    ASSERT_FALSE(ack.empty());
    EXPECT_EQ(Check(ack).problem, ReplyProblem::kNone) << Profile(type).name;
  }
}

TEST_F(ReplyCheckTest, WrongFileForTheArchitecture) {
  ExpectPerArchFiles();
  SetUpClient(ClientType::kBios);
  std::vector<uint8_t> f = offer_;
  f[kBootp + 108] = 'q';  // "qxelinux.0"
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongFile);
  f = offer_;
  f[kBootp + 108 + 9] = 0;  // "pxelinux.": a prefix is not the file
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongFile);

  // A server that gives BIOS clients the UEFI file.
  policy_->defaults.files[static_cast<size_t>(ArchClass::kBios)] =
      "grubx64.efi";
  SetUpClient(ClientType::kBios);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kWrongFile);
  SetUpClient(ClientType::kIpxe);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kWrongFile);
  // ... or UEFI clients the BIOS one, in the ACK (the offer has no file).
  ExpectPerArchFiles();
  policy_->defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "pxelinux.0";
  SetUpClient(ClientType::kUefiX64);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone);
  const std::vector<uint8_t> ack = AckFrame();
  EXPECT_EQ(Check(ack).problem, ReplyProblem::kWrongFile);
  // ARM64 clients are not affected.
  SetUpClient(ClientType::kArm64);
  EXPECT_EQ(Check(AckFrame()).problem, ReplyProblem::kNone);

  // HTTP boot: another URL.
  SetUpClient(ClientType::kHttp);
  f = offer_;
  ASSERT_EQ(f[kBootp + 108 + 17], 'b');  // http://10.77.0.1/boot.efi
  f[kBootp + 108 + 17] = 'r';
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongFile);

  // Without expectations, a file is a file.
  answers_ = ExpectedAnswers{};
  SetUpClient(ClientType::kUefiX64);
  EXPECT_EQ(Check(AckFrame()).problem, ReplyProblem::kNone);
}

TEST_F(ReplyCheckTest, WrongServerAndSiaddr) {
  ExpectPerArchFiles();
  SetUpClient(ClientType::kBios);
  std::vector<uint8_t> f = offer_;
  f[FindOption(f, 54) + 5] = 2;  // option 54 = 10.77.0.2
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongServer);
  f = offer_;
  f[FindOption(f, 54)] = 250;  // no option 54
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongServer);
  // A file with siaddr = the proxy, not the TFTP server.
  f = offer_;
  ASSERT_EQ(f[kBootp + 23], 9);
  f[kBootp + 23] = 1;
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongSiaddr);

  // UEFI, BINL style: no file, siaddr = the proxy, where EDK2 asks on 4011
  // first; 0 makes it fall back to option 54.
  SetUpClient(ClientType::kUefiX64);
  f = offer_;
  ASSERT_EQ(f[kBootp + 23], 1);
  f[kBootp + 23] = 9;  // EDK2 would ask the TFTP server on 4011
  EXPECT_EQ(Check(f).problem, ReplyProblem::kWrongSiaddr);
  std::fill_n(f.begin() + kBootp + 20, 4, 0);
  EXPECT_EQ(Check(f).problem, ReplyProblem::kNone);
  // The ACK names the file: siaddr is the TFTP server.
  std::vector<uint8_t> ack = AckFrame();
  ASSERT_EQ(ack[kBootp + 23], 9);
  EXPECT_EQ(Check(ack).problem, ReplyProblem::kNone);
  ack[kBootp + 23] = 1;
  EXPECT_EQ(Check(ack).problem, ReplyProblem::kWrongSiaddr);

  // A server with another TFTP server than expected.
  policy_->defaults.tftp_server = MakeIpv4(10, 77, 0, 8);
  SetUpClient(ClientType::kBios);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kWrongSiaddr);
  // Without --expect-tftp-server, the TFTP server is the proxy.
  answers_.tftp_server = 0;
  SetUpClient(ClientType::kBios);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kWrongSiaddr);
  policy_->defaults.tftp_server = 0;
  SetUpClient(ClientType::kBios);
  EXPECT_EQ(Check(offer_).problem, ReplyProblem::kNone);
}

TEST(ReplyProblemTest, EveryProblemHasANameAndAText) {
  std::set<std::string_view> names;
  for (size_t p = 0; p < kReplyProblemCount; ++p) {
    const ReplyProblem problem = static_cast<ReplyProblem>(p);
    EXPECT_FALSE(ReplyProblemText(problem).empty());
    EXPECT_TRUE(names.insert(ReplyProblemName(problem)).second) << p;
  }
  EXPECT_EQ(ReplyProblemName(ReplyProblem::kWrongFile), "wrong_file");
  EXPECT_EQ(ReplyProblemName(ReplyProblem::kAckSourcePort), "ack_source_port");
}

TEST(OfferFactsTest, MenuAndWhereToAsk) {
  testing::FrameSpec spec;
  spec.op = 2;
  spec.src_port = 67;
  spec.dst_port = 68;
  spec.ip_src = MakeIpv4(10, 77, 0, 3);
  spec.siaddr = MakeIpv4(10, 77, 0, 4);
  // 43: discovery control, then a menu {type 0x8001 "boot"}, END.
  spec.options = {testing::MessageTypeOpt(2), testing::Opt(54, {10, 77, 0, 5}),
                  testing::Opt(60, "PXEClient"),
                  testing::Opt(43, {6, 1, 3, 9, 7, 0x80, 0x01, 4, 'b', 'o', 'o',
                                    't', 255})};
  const std::vector<uint8_t> frame = testing::BuildFrame(spec);
  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, reply.get()),
            DropReason::kServerReply);
  const OfferFacts facts = ReadOffer(*reply);
  EXPECT_FALSE(facts.has_file);
  EXPECT_TRUE(facts.has_menu);
  EXPECT_EQ(facts.first_menu_type, (std::array<uint8_t, 2>{0x80, 0x01}));
  EXPECT_EQ(facts.server_id, MakeIpv4(10, 77, 0, 5));
  EXPECT_EQ(facts.siaddr, MakeIpv4(10, 77, 0, 4));

  const ClientProfile& bios = Profile(ClientType::kBios);
  const ClientProfile& uefi = Profile(ClientType::kUefiX64);
  const ClientProfile& ipxe = Profile(ClientType::kIpxe);
  const ClientProfile& http = Profile(ClientType::kHttp);
  // EDK2 asks siaddr first, PXE ROMs and iPXE option 54 first.
  EXPECT_EQ(BootServerAddress(uefi, facts), MakeIpv4(10, 77, 0, 4));
  EXPECT_EQ(BootServerAddress(bios, facts), MakeIpv4(10, 77, 0, 5));
  OfferFacts bare = facts;
  bare.server_id = 0;
  EXPECT_EQ(BootServerAddress(bios, bare), MakeIpv4(10, 77, 0, 4));
  bare.siaddr = 0;
  EXPECT_EQ(BootServerAddress(uefi, bare), MakeIpv4(10, 77, 0, 3));
  // The menu's first item, else iPXE's 80 00 00 00, else none.
  EXPECT_EQ(BootItem(bios, facts), (std::array<uint8_t, 4>{0x80, 0x01, 0, 0}));
  bare.has_menu = false;
  EXPECT_EQ(BootItem(ipxe, bare), kIpxeBootItem);
  EXPECT_FALSE(BootItem(bios, bare).has_value());
  // Who asks on 4011.
  EXPECT_TRUE(NeedsBootServerRequest(bios, bare));
  bare.has_file = true;
  EXPECT_FALSE(NeedsBootServerRequest(bios, bare));
  EXPECT_FALSE(NeedsBootServerRequest(ipxe, bare));
  EXPECT_TRUE(NeedsBootServerRequest(uefi, bare));
  EXPECT_FALSE(NeedsBootServerRequest(http, bare));
}

// --- The frames the clients send ---------------------------------------------

TEST(ClientFramesTest, DiscoversAreWhatEachFirmwareSends) {
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    const ClientType type = static_cast<ClientType>(t);
    const ClientProfile& p = Profile(type);
    Harness h(Config(1, Only(type)));
    h.table.PowerOn(0, kT0);
    auto frames = h.Flush();
    ASSERT_EQ(frames.size(), 1u);
    if (p.ipv6) {
      // A Solicit from the client's link-local address to ff02::1:2.
      Request6 r6;
      ASSERT_EQ(ClassifyFrame6(frames[0], RxMeta{}, &r6), DropReason::kNone)
          << p.name;
      EXPECT_EQ(r6.type, dhcp6::MessageType::kSolicit);
      EXPECT_EQ(r6.mac, h.table.identity().Mac(0));
      EXPECT_EQ(r6.frame.eth_src, h.table.identity().Mac(0));
      EXPECT_EQ(r6.frame.ip_src, h.table.identity().LinkLocal(0));
      EXPECT_EQ(r6.frame.ip_dst, kAllDhcp6Agents);
      EXPECT_EQ(r6.xid, h.table.identity().DiscoverXid(0) & 0xFFFFFF);
      EXPECT_EQ(r6.arch_code, p.arch_codes[0]) << p.name;
      EXPECT_EQ(std::string_view(
                    reinterpret_cast<const char*>(r6.vendor_class.data()),
                    r6.vendor_class.size()),
                p.vendor_class);
      EXPECT_EQ(r6.kind, p.http ? ClientKind::kHttp : ClientKind::kPxe);
      EXPECT_TRUE(r6.has_ia);
      EXPECT_TRUE(r6.has_undi);
      continue;
    }
    auto r = std::make_unique<Request>();
    ASSERT_EQ(ClassifyFrame(frames[0], RxMeta{}, r.get()), DropReason::kNone)
        << p.name;
    EXPECT_EQ(r->type, dhcp::MessageType::kDiscover);
    EXPECT_EQ(r->chaddr, h.table.identity().Mac(0));
    EXPECT_EQ(r->frame.eth_src, h.table.identity().Mac(0));
    EXPECT_EQ(r->xid, h.table.identity().DiscoverXid(0));
    EXPECT_EQ(r->arch_code, p.arch_codes[0]) << p.name;
    EXPECT_EQ(
        std::string_view(reinterpret_cast<const char*>(r->vendor_class.data()),
                         r->vendor_class.size()),
        p.vendor_class);
    EXPECT_EQ(r->broadcast, p.broadcast) << p.name;
    EXPECT_EQ(r->is_ipxe, p.ipxe) << p.name;
    EXPECT_EQ(r->kind, p.http ? ClientKind::kHttp : ClientKind::kPxe);
    EXPECT_EQ(r->uuid.size(), 17u);
    EXPECT_EQ(r->frame.ip_src, 0u);
    EXPECT_EQ(r->frame.ip_dst, 0xFFFFFFFFu);
  }
}

TEST(ClientFramesTest, Edk2AsksSiaddrFrom4011) {
  Harness h(Config(1, Only(ClientType::kArm64)));
  h.table.PowerOn(0, kT0);
  h.AnswerAll(h.Flush(), kMs);
  auto frames = h.Flush();
  ASSERT_EQ(frames.size(), 1u);
  auto r = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frames[0], RxMeta{}, r.get()), DropReason::kNone);
  EXPECT_EQ(r->type, dhcp::MessageType::kRequest);
  EXPECT_EQ(r->xid, h.table.identity().RequestXid(0));
  EXPECT_EQ(r->frame.eth_dst, kServerMac);
  EXPECT_EQ(r->frame.ip_dst, kServerIp);
  EXPECT_EQ(r->frame.ip_src, MakeIpv4(10, 77, 128, 1));
  EXPECT_EQ(r->ciaddr, MakeIpv4(10, 77, 128, 1));
  EXPECT_EQ(r->frame.udp_src, kPxeServerPort);
  EXPECT_EQ(r->frame.udp_dst, kPxeServerPort);
  EXPECT_TRUE(r->boot_item.empty());
  EXPECT_EQ(r->arch_code, 11);
}

TEST(ClientFramesTest, IpxeAsksFromPort68WithItsBootItem) {
  // iPXE gets the file in our offer; a server whose offer has none makes it
  // ask: blank the file field of the offer.
  Harness h(Config(1, Only(ClientType::kIpxe)));
  h.table.PowerOn(0, kT0);
  auto frames = h.Flush();
  std::vector<uint8_t> offer = h.proxy.Answer(frames[0]);
  ASSERT_FALSE(offer.empty());
  std::fill_n(offer.begin() + kBootp + 108, 128, 0);
  h.Deliver(offer, h.now + kMs);
  frames = h.Flush();
  ASSERT_EQ(frames.size(), 1u);
  auto r = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frames[0], RxMeta{}, r.get()), DropReason::kNone);
  EXPECT_EQ(r->frame.udp_src, kDhcpClientPort);
  EXPECT_EQ(r->frame.ip_dst, kServerIp);  // option 54
  EXPECT_TRUE(r->is_ipxe);
  ASSERT_EQ(r->boot_item.size(), 4u);
  EXPECT_EQ(r->boot_item[0], 0x80);
  // And the engine's ACK completes the boot.
  h.AnswerAll(frames, kMs);
  EXPECT_EQ(h.table.stats().outcome.first_try, 1u);
}

// --- The state machine
// ----------------------------------------------------------

TEST(ClientTableTest, EveryTypeBootsOnTheFirstTryAgainstOurEngine) {
  Harness h(Config(100));
  for (uint32_t i = 0; i < 100; ++i) h.table.PowerOn(i, kT0);
  for (int round = 0; round < 3; ++round) {
    h.AnswerAll(h.Flush(), kMs);
    h.now += kMs;
  }
  const StormStats& s = h.table.stats();
  EXPECT_TRUE(h.table.AllFinished());
  EXPECT_EQ(s.outcome.first_try, 100u);
  EXPECT_EQ(s.outcome.never(), 0u);
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    EXPECT_EQ(s.by_type[t].first_try, s.by_type[t].clients) << t;
  }
  EXPECT_EQ(s.discovers_sent, 100u);
  EXPECT_EQ(s.discover_retries, 0u);
  // UEFI x64 and ARM64 ask on 4011; BIOS and iPXE have the file; HTTP
  // never asks.
  EXPECT_EQ(s.requests_sent, 50u);
  EXPECT_EQ(s.offers_accepted, 100u);
  EXPECT_EQ(s.acks_accepted, 50u);
  EXPECT_EQ(s.replies, 150u);
  EXPECT_EQ(s.wrong_answers(), 0u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.offer_latency.count(), 100u);
  EXPECT_EQ(s.offer_latency.Percentile(99), kMs);
  EXPECT_EQ(s.ack_latency.Percentile(50), kMs);
  // An offer in 1 ms; with a 4011 exchange, a further ACK in 1 ms.
  EXPECT_EQ(s.boot_time.min(), kMs);
  EXPECT_EQ(s.boot_time.max(), 2 * kMs);
  EXPECT_EQ(s.first_send_ns, kT0);
  EXPECT_EQ(s.last_reply_ns, kT0 + 2 * kMs);
  // Every frame left as soon as it was due.
  EXPECT_EQ(s.send_lag.count(), 150u);
  EXPECT_EQ(s.send_lag.max(), 0u);
}

TEST(ClientTableTest, SilentServerRetriesAt4_8_16_32AndGivesUpAt64) {
  Harness h(Config(1));
  h.table.PowerOn(0, kT0);
  EXPECT_EQ(h.Flush().size(), 1u);
  std::vector<uint64_t> sends;
  for (uint64_t t = 1; t <= 64; ++t) {
    h.AdvanceTo(kT0 + t * kS - 1);
    EXPECT_TRUE(h.Flush().empty()) << "early at " << t << " s";
    h.AdvanceTo(kT0 + t * kS);
    if (!h.Flush().empty()) sends.push_back(t);
  }
  EXPECT_EQ(sends, (std::vector<uint64_t>{4, 8, 16, 32}));
  const StormStats& s = h.table.stats();
  EXPECT_EQ(s.discovers_sent, 5u);
  EXPECT_EQ(s.discover_retries, 4u);
  EXPECT_EQ(s.outcome.no_offer, 1u);
  EXPECT_TRUE(h.table.AllFinished());
  EXPECT_EQ(h.table.NextDeadline(), ~uint64_t{0});
}

TEST(ClientTableTest, RetryScaleShrinksEveryTimer) {
  StormConfig config = Config(1);
  config.retry_scale = 0.001;
  Harness h(config);
  h.table.PowerOn(0, kT0);
  h.Flush();
  EXPECT_EQ(h.table.NextDeadline(), kT0 + 4 * kMs);
  // Late by 60 ms: each timer fires at once, as soon as the send before it
  // went out.
  h.AdvanceTo(kT0 + 64 * kMs);
  for (int retry = 0; retry < 4; ++retry) {
    EXPECT_EQ(h.Flush().size(), 1u);
    h.AdvanceTo(h.now);
  }
  EXPECT_EQ(h.table.stats().discovers_sent, 5u);
  EXPECT_EQ(h.table.stats().outcome.no_offer, 1u);
}

TEST(ClientTableTest, FirstTryMeansAnOfferWithinTheWindow) {
  Harness h(Config(3, Only(ClientType::kBios)));
  for (uint32_t i = 0; i < 3; ++i) h.table.PowerOn(i, kT0);
  auto frames = h.Flush();
  ASSERT_EQ(frames.size(), 3u);
  h.Deliver(h.proxy.Answer(frames[0]), kT0 + 2 * kS);      // at the edge
  h.Deliver(h.proxy.Answer(frames[1]), kT0 + 2 * kS + 1);  // just late
  // The third is answered only after its retry at 4 s.
  h.AdvanceTo(kT0 + 4 * kS);
  auto retry = h.Flush();
  ASSERT_EQ(retry.size(), 1u);
  h.AnswerAll(retry, 3 * kMs);
  const StormStats& s = h.table.stats();
  EXPECT_EQ(s.outcome.first_try, 1u);
  EXPECT_EQ(s.outcome.after_retries, 2u);
  // Offer latency counts from the latest send.
  EXPECT_EQ(s.offer_latency.max(), 2 * kS + 1);
  EXPECT_EQ(s.offer_latency.min(), 3 * kMs);
  EXPECT_EQ(s.boot_time.max(), 4 * kS + 3 * kMs);
}

TEST(ClientTableTest, LossCountsFirstRequestsNotAnsweredWithinLateAfter) {
  StormConfig config = Config(3, Only(ClientType::kUefiX64));
  config.late_after_seconds = 1;
  Harness h(config);
  for (uint32_t i = 0; i < 3; ++i) h.table.PowerOn(i, kT0);
  auto frames = h.Flush();
  ASSERT_EQ(frames.size(), 3u);
  h.Deliver(h.proxy.Answer(frames[0]), kT0 + kS);      // at the edge
  h.Deliver(h.proxy.Answer(frames[1]), kT0 + kS + 1);  // just late
  // Client 2's offer never comes.
  const auto requests = h.Flush();
  ASSERT_EQ(requests.size(), 2u);
  // Client 0's REQUEST is answered at once; client 1's only after its
  // re-send 1 s later, which is a loss even though the client boots.
  h.AnswerAll({requests[0]}, kMs);
  h.AdvanceTo(h.now + kS);
  const auto resent = h.Flush();
  ASSERT_EQ(resent.size(), 1u);
  h.AnswerAll(resent, kMs);
  const StormStats& s = h.table.stats();
  // 3 first DISCOVERs and 2 first REQUESTs; the re-sent one is not new.
  EXPECT_EQ(s.timed_requests(), 5u);
  EXPECT_EQ(s.answered_in_time, 2u);  // client 0's offer and ACK
  EXPECT_EQ(s.lost(), 3u);
  EXPECT_DOUBLE_EQ(LossPercent(s), 60.0);
  EXPECT_EQ(s.outcome.booted(), 2u);
}

TEST(ClientTableTest, PowerOnRateIsWhatWasSent) {
  StormConfig config = Config(5, Only(ClientType::kBios));
  Harness h(config);
  for (uint32_t i = 0; i < 5; ++i) {
    h.table.PowerOn(i, h.now);
    h.Flush();
    h.now += 250 * kMs;  // 4 clients a second
  }
  EXPECT_EQ(h.table.stats().last_power_on_ns, kT0 + 1000 * kMs);
  EXPECT_DOUBLE_EQ(PowerOnRate(h.table.stats()), 4.0);
  // Retries are not power-ons.
  h.AdvanceTo(kT0 + 5 * kS);
  EXPECT_FALSE(h.Flush().empty());
  EXPECT_DOUBLE_EQ(PowerOnRate(h.table.stats()), 4.0);
}

TEST(ClientTableTest, LateAnswersAndDuplicates) {
  Harness h(Config(1, Only(ClientType::kBios)));
  h.table.PowerOn(0, kT0);
  const auto first = h.Flush();
  h.AdvanceTo(kT0 + 4 * kS);
  const auto second = h.Flush();
  ASSERT_EQ(second.size(), 1u);
  // Both DISCOVERs answered: the first answer boots, the second is late.
  h.AnswerAll(first, kMs);
  h.AnswerAll(second, 2 * kMs);
  EXPECT_EQ(h.table.stats().late_replies, 1u);
  EXPECT_EQ(h.table.stats().duplicates, 0u);
  // A third answer to two DISCOVERs is a duplicate.
  h.AnswerAll(second, 3 * kMs);
  EXPECT_EQ(h.table.stats().duplicates, 1u);
  EXPECT_EQ(h.table.stats().outcome.after_retries, 1u);
  EXPECT_EQ(h.table.stats().replies, 3u);
}

TEST(ClientTableTest, DuplicateAckAfterBoot) {
  Harness h(Config(1, Only(ClientType::kUefiX64)));
  h.table.PowerOn(0, kT0);
  h.AnswerAll(h.Flush(), kMs);
  const auto request = h.Flush();
  h.AnswerAll(request, kMs);
  h.AnswerAll(request, 2 * kMs);
  EXPECT_EQ(h.table.stats().duplicates, 1u);
  EXPECT_EQ(h.table.stats().acks_accepted, 1u);
}

TEST(ClientTableTest, RequestIsResentOnceThenTheClientGivesUp) {
  Harness h(Config(2, Only(ClientType::kUefiX64)));
  h.table.PowerOn(0, kT0);
  h.table.PowerOn(1, kT0);
  h.AnswerAll(h.Flush(), kMs);
  h.now += kMs;
  ASSERT_EQ(h.Flush().size(), 2u);  // both REQUESTs, unanswered
  const uint64_t sent = h.now;
  h.AdvanceTo(sent + kS - 1);
  EXPECT_TRUE(h.Flush().empty());
  h.AdvanceTo(sent + kS);
  const auto resent = h.Flush();
  ASSERT_EQ(resent.size(), 2u);
  // Client 0's re-sent request is answered; client 1's is not.
  h.AnswerAll({resent[0]}, 5 * kMs);
  h.AdvanceTo(sent + 2 * kS);
  EXPECT_TRUE(h.Flush().empty());
  const StormStats& s = h.table.stats();
  EXPECT_EQ(s.requests_sent, 4u);
  EXPECT_EQ(s.request_retries, 2u);
  EXPECT_EQ(s.acks_after_request_retry, 1u);
  EXPECT_EQ(s.outcome.first_try, 1u);
  EXPECT_EQ(s.outcome.no_ack, 1u);
  EXPECT_EQ(s.by_type[1].no_ack, 1u);
  EXPECT_EQ(s.ack_latency.max(), 5 * kMs);
  EXPECT_TRUE(h.table.AllFinished());
}

TEST(ClientTableTest, WrongAnswersAreCountedAndNotTaken) {
  Harness h(Config(1, Only(ClientType::kBios)));
  h.table.PowerOn(0, kT0);
  const auto frames = h.Flush();
  std::vector<uint8_t> offer = h.proxy.Answer(frames[0]);
  std::vector<uint8_t> bad = offer;
  bad[kBootp + 19] = 9;  // yiaddr
  h.Deliver(bad, kT0 + kMs);
  bad = offer;
  bad[kBootp + 4] ^= 0xFF;  // xid
  h.Deliver(bad, kT0 + kMs);
  EXPECT_EQ(h.table.slot(0).phase, Phase::kDiscovering);
  h.Deliver(offer, kT0 + 2 * kMs);
  const StormStats& s = h.table.stats();
  EXPECT_EQ(s.problems[static_cast<size_t>(ReplyProblem::kOfferYiaddr)], 1u);
  EXPECT_EQ(s.problems[static_cast<size_t>(ReplyProblem::kWrongXid)], 1u);
  EXPECT_EQ(s.wrong_answers(), 2u);
  EXPECT_EQ(s.replies, 3u);
  EXPECT_EQ(s.outcome.first_try, 1u);
  EXPECT_EQ(s.offer_latency.max(), 2 * kMs);
}

TEST(ClientTableTest, TheWrongFileForOneArchitectureBootsNoneOfItsClients) {
  StormConfig config = Config(100);
  config.expected = PerArchAnswers();
  Harness h(config);
  // The server gives ARM64 clients the x64 file.
  BootPolicy policy = PerArchPolicy();
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiArm64)] =
      "grubx64.efi";
  h.proxy.SetPolicy(policy);
  for (uint32_t i = 0; i < 100; ++i) h.table.PowerOn(i, kT0);
  h.AnswerAll(h.Flush(), kMs);
  h.now += 2 * kMs;
  h.AnswerAll(h.Flush(), kMs);  // the 4011 requests
  const StormStats& s = h.table.stats();
  const uint64_t arm64 =
      s.by_type[static_cast<size_t>(ClientType::kArm64)].clients;
  ASSERT_GT(arm64, 0u);
  EXPECT_EQ(s.problems[static_cast<size_t>(ReplyProblem::kWrongFile)], arm64);
  EXPECT_EQ(s.wrong_answers(), arm64);
  EXPECT_EQ(s.outcome.first_try, 100 - arm64);
  EXPECT_EQ(s.by_type[static_cast<size_t>(ClientType::kArm64)].booted(), 0u);
  // They ask again, are told the same, and give up.
  h.AdvanceTo(h.now + 1500 * kMs);
  h.AnswerAll(h.Flush(), kMs);
  h.AdvanceTo(h.now + 3 * kS);
  EXPECT_EQ(s.problems[static_cast<size_t>(ReplyProblem::kWrongFile)],
            2 * arm64);
  EXPECT_EQ(s.outcome.no_ack, arm64);
}

TEST(ClientTableTest, IgnoresOtherMachinesAndCountsBadChecksums) {
  Harness h(Config(1));
  h.table.PowerOn(0, kT0);
  const auto frames = h.Flush();
  std::vector<uint8_t> offer = h.proxy.Answer(frames[0]);
  offer[kBootp + 28 + 5] ^= 0x80;  // chaddr: not one of ours
  h.Deliver(offer, kT0 + kMs);
  EXPECT_EQ(h.table.stats().replies, 0u);
  h.table.OnBadChecksum();
  EXPECT_EQ(h.table.stats().bad_checksums, 1u);
  // A reply to a client not yet powered on is unexpected.
  Harness g(Config(2, Only(ClientType::kBios)));
  g.table.PowerOn(0, kT0);
  const auto f = g.Flush();
  std::vector<uint8_t> reply = g.proxy.Answer(f[0]);
  const MacAddress other = g.table.identity().Mac(1);
  std::copy(other.begin(), other.end(), reply.begin() + kBootp + 28);
  g.Deliver(reply, kT0 + kMs);
  EXPECT_EQ(g.table.stats()
                .problems[static_cast<size_t>(ReplyProblem::kUnexpectedType)],
            1u);
}

TEST(ClientTableTest, APendingRetryBecomesTheRequestAfterAnOffer) {
  Harness h(Config(1, Only(ClientType::kUefiX64)));
  h.table.PowerOn(0, kT0);
  const auto first = h.Flush();
  h.AdvanceTo(kT0 + 4 * kS);  // the retry is queued, not sent
  ASSERT_TRUE(h.table.HasFrameToSend());
  h.AnswerAll(first, 1);  // then the first offer arrives
  const auto next = h.Flush();
  ASSERT_EQ(next.size(), 1u);
  auto r = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(next[0], RxMeta{}, r.get()), DropReason::kNone);
  EXPECT_EQ(r->type, dhcp::MessageType::kRequest);
  EXPECT_EQ(h.table.stats().discovers_sent, 1u);
}

TEST(ClientTableTest, SendLagCountsFromWhenTheFrameWasDue) {
  Harness h(Config(2, Only(ClientType::kUefiX64)));
  h.table.PowerOn(0, kT0);
  h.table.PowerOn(1, kT0 + kMs);
  h.now = kT0 + 3 * kMs;  // the generator was busy for 3 ms
  const auto discovers = h.Flush();
  EXPECT_EQ(h.table.stats().send_lag.max(), 3 * kMs);
  EXPECT_EQ(h.table.stats().send_lag.min(), 2 * kMs);
  // The REQUEST is due when the offer arrived.
  h.AnswerAll({discovers[0]}, kMs);  // at 4 ms
  h.now = kT0 + 10 * kMs;
  const auto request = h.Flush();
  EXPECT_EQ(h.table.stats().send_lag.max(), 6 * kMs);
  h.AnswerAll(request, kMs);  // client 0 boots
  // A retry is due at its deadline.
  h.AdvanceTo(kT0 + 3 * kMs + 4 * kS);  // client 1's first retry
  h.now += 5 * kMs;
  EXPECT_EQ(h.Flush().size(), 1u);
  EXPECT_EQ(h.table.stats().send_lag.count(), 4u);
  EXPECT_EQ(h.table.stats().send_lag.Percentile(100), 6 * kMs);
  h.table.RecordReceiveLag(7 * kMs);
  EXPECT_EQ(h.table.stats().receive_lag.max(), 7 * kMs);
}

TEST(ClientTableTest, ThePacketPathDoesNotAllocate) {
  // With every reply checked against expected answers too.
  StormConfig config = Config(200);
  config.expected = PerArchAnswers();
  Harness h(config);
  std::array<uint8_t, 2048> slot;
  std::vector<std::vector<uint8_t>> replies;
  // Replies are made up front: the proxy is not under test here.
  {
    Harness probe(config);
    probe.proxy.SetPolicy(PerArchPolicy());
    for (uint32_t i = 0; i < 200; ++i) probe.table.PowerOn(i, kT0);
    for (const auto& f : probe.Flush())
      replies.push_back(probe.proxy.Answer(f));
  }
  auto reply = std::make_unique<Request>();
  pxe::testing::AllocationCounter counter;
  for (uint32_t i = 0; i < 200; ++i) h.table.PowerOn(i, kT0);
  uint32_t client = 0;
  auto send_all = [&](uint64_t now) {
    while (h.table.WriteNextFrame(slot, now, &client) != 0) {
      h.table.OnSent(client, now);
    }
  };
  send_all(kT0);
  for (const auto& r : replies) {
    ClassifyFrame(r, RxMeta{}, reply.get());
    h.table.OnReply(*reply, kT0 + kMs);
  }
  send_all(kT0 + 2 * kMs);  // the 4011 requests
  h.table.ExpireTimers(kT0 + 10 * kS);
  send_all(kT0 + 10 * kS);  // re-sent once
  h.table.ExpireTimers(kT0 + 20 * kS);
  counter.Stop();
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(h.table.stats().offers_accepted, 200u);
  EXPECT_EQ(h.table.stats().outcome.no_ack, 100u);  // nobody answered 4011
}

// PXEv6 and HTTPv6 clients against the engine's DHCPv6 path: Solicit ->
// Advertise -> (PXEv6) Request to [fd77::1]:4011 with the proxy's server ID
// and no IA -> Reply.
TEST(ClientTableTest, Ipv6ClientsBootOnTheFirstTryAgainstOurEngine) {
  Mix mix{};
  mix[static_cast<size_t>(ClientType::kUefiX64V6)] = 1;
  mix[static_cast<size_t>(ClientType::kHttpV6)] = 1;
  StormConfig config = Config(100, mix);
  config.expected.file[static_cast<size_t>(ArchClass::kUefiX64)] = "pxelinux.0";
  config.expected.http_url6 = "http://[fd77::1]/boot.efi";
  Harness h(config);
  for (uint32_t i = 0; i < 100; ++i) h.table.PowerOn(i, kT0);
  const std::vector<std::vector<uint8_t>> solicits = h.Flush();
  ASSERT_EQ(solicits.size(), 100u);
  Request6 r;
  ASSERT_EQ(ClassifyFrame6(solicits[0], RxMeta{}, &r), DropReason::kNone);
  EXPECT_EQ(r.type, dhcp6::MessageType::kSolicit);
  EXPECT_EQ(r.frame.ip_src, h.table.identity().LinkLocal(0));
  EXPECT_EQ(r.frame.eth_src, h.table.identity().Mac(0));
  EXPECT_TRUE(r.mac_known);
  EXPECT_EQ(r.mac, h.table.identity().Mac(0));
  EXPECT_TRUE(r.has_ia);
  h.AnswerAll(solicits, kMs);
  h.now += kMs;
  const std::vector<std::vector<uint8_t>> requests = h.Flush();
  ASSERT_EQ(requests.size(), 50u);
  ASSERT_EQ(ClassifyFrame6(requests[0], RxMeta{}, &r), DropReason::kNone);
  EXPECT_EQ(r.type, dhcp6::MessageType::kRequest);
  EXPECT_TRUE(r.on_pxe_port());
  EXPECT_EQ(r.frame.udp_src, kPxeServerPort);
  EXPECT_EQ(r.frame.ip_dst, kServerIp6);
  EXPECT_EQ(r.frame.eth_dst, kServerMac);
  EXPECT_FALSE(r.has_ia);
  const ServerDuid duid = MakeServerDuid(kServerMac);
  EXPECT_EQ(std::vector<uint8_t>(r.server_id.begin(), r.server_id.end()),
            std::vector<uint8_t>(duid.begin(), duid.end()));
  h.AnswerAll(requests, kMs);

  const StormStats& s = h.table.stats();
  EXPECT_TRUE(h.table.AllFinished());
  EXPECT_EQ(s.outcome.first_try, 100u);
  EXPECT_EQ(s.by_type[static_cast<size_t>(ClientType::kUefiX64V6)].first_try,
            50u);
  EXPECT_EQ(s.by_type[static_cast<size_t>(ClientType::kHttpV6)].first_try, 50u);
  EXPECT_EQ(s.requests_sent, 50u);
  EXPECT_EQ(s.offers_accepted, 100u);
  EXPECT_EQ(s.acks_accepted, 50u);
  EXPECT_EQ(s.replies, 150u);
  EXPECT_EQ(s.wrong_answers(), 0u);
  EXPECT_EQ(s.answered_in_time, 150u);
  EXPECT_EQ(s.lost(), 0u);
  EXPECT_EQ(s.boot_time.max(), 2 * kMs);
}

TEST(ClientTableTest, Ipv6AddressServerAdvertisesAreNotJudged) {
  Harness h(Config(1, Only(ClientType::kUefiX64V6)));
  h.table.PowerOn(0, kT0);
  const auto solicits = h.Flush();
  ASSERT_EQ(solicits.size(), 1u);
  // An address server's Advertise: the client's ID, an IA_NA, no class.
  std::vector<uint8_t> reply = h.proxy.Answer(solicits[0]);
  ASSERT_FALSE(reply.empty());
  FrameView6 view;
  ServerMessage6 m;
  ASSERT_EQ(ParseServerFrame6(reply, RxMeta{}, &view, &m), DropReason::kNone);
  const size_t option16 = kDhcp6 + 4 + 14 + 14;
  reply[option16 + 1] = 3;  // option 16 becomes an IA_NA
  ASSERT_EQ(ParseServerFrame6(reply, kTrustedChecksum, &view, &m),
            DropReason::kNone);
  h.table.OnReply6(view, m, h.now + kMs);
  EXPECT_EQ(h.table.stats().dhcp_server_offers, 1u);
  EXPECT_EQ(h.table.stats().wrong_answers(), 0u);
  EXPECT_EQ(h.table.slot(0).phase, Phase::kDiscovering);
}

TEST(ClientTableTest, Ipv4AnswerToAnIpv6ClientIsUnexpected) {
  Mix mix{};
  mix[static_cast<size_t>(ClientType::kUefiX64)] = 1;
  mix[static_cast<size_t>(ClientType::kUefiX64V6)] = 1;
  Harness v4(Config(2, Only(ClientType::kUefiX64)));
  Harness h(Config(2, mix));
  v4.table.PowerOn(0, kT0);
  h.table.PowerOn(0, kT0);
  h.table.PowerOn(1, kT0);
  h.Flush();
  // The same seed gives client 0 the same MAC in both tables; in `h`,
  // client 0 or 1 is the IPv6 one. Answer the IPv4 DISCOVER of `v4`'s
  // client 0 and deliver it to whichever of h's clients is IPv6.
  const auto discovers = v4.Flush();
  ASSERT_EQ(discovers.size(), 1u);
  std::vector<uint8_t> offer = v4.proxy.Answer(discovers[0]);
  ASSERT_FALSE(offer.empty());
  const uint32_t v6_client = Profile(h.table.slot(0).type).ipv6 ? 0 : 1;
  const MacAddress mac = h.table.identity().Mac(v6_client);
  std::copy(mac.begin(), mac.end(), offer.begin() + kBootp + 28);  // chaddr
  h.Deliver(offer, h.now + kMs);
  EXPECT_EQ(h.table.stats()
                .problems[static_cast<size_t>(ReplyProblem::kUnexpectedType)],
            1u);
  EXPECT_EQ(h.table.slot(v6_client).phase, Phase::kDiscovering);
}

TEST(ClientTableTest, Ipv6PacketPathDoesNotAllocate) {
  Mix mix{};
  mix[static_cast<size_t>(ClientType::kUefiX64V6)] = 1;
  mix[static_cast<size_t>(ClientType::kHttpV6)] = 1;
  StormConfig config = Config(200, mix);
  config.expected = PerArchAnswers();
  Harness h(config);
  std::array<uint8_t, 2048> slot;
  std::vector<std::vector<uint8_t>> replies;
  {
    Harness probe(config);
    probe.proxy.SetPolicy(PerArchPolicy());
    for (uint32_t i = 0; i < 200; ++i) probe.table.PowerOn(i, kT0);
    for (const auto& f : probe.Flush())
      replies.push_back(probe.proxy.Answer(f));
  }
  FrameView6 view;
  ServerMessage6 message;
  pxe::testing::AllocationCounter counter;
  for (uint32_t i = 0; i < 200; ++i) h.table.PowerOn(i, kT0);
  uint32_t client = 0;
  auto send_all = [&](uint64_t now) {
    while (h.table.WriteNextFrame(slot, now, &client) != 0) {
      h.table.OnSent(client, now);
    }
  };
  send_all(kT0);
  for (const auto& r : replies) {
    ParseServerFrame6(r, RxMeta{}, &view, &message);
    h.table.OnReply6(view, message, kT0 + kMs);
  }
  send_all(kT0 + 2 * kMs);  // the 4011 Requests
  h.table.ExpireTimers(kT0 + 10 * kS);
  send_all(kT0 + 10 * kS);  // re-sent once
  h.table.ExpireTimers(kT0 + 20 * kS);
  counter.Stop();
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(h.table.stats().offers_accepted, 200u);
  EXPECT_EQ(h.table.stats().wrong_answers(), 0u);
  EXPECT_EQ(h.table.stats().requests_sent, 200u);   // 100, re-sent once
  EXPECT_EQ(h.table.stats().outcome.no_ack, 100u);  // nobody answered 4011
}

TEST(StormConfigTest, Ipv6MixAndExpectations) {
  auto config = Parse({"-i", "eth0", "--mix", "uefi-x64-v6=3,http-v6=1",
                       "--expect-http-url6", "http://[fd77::1]/x.efi"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(FormatMix(config->mix), "uefi-x64-v6=3,http-v6=1");
  EXPECT_EQ(config->expected.http_url6, "http://[fd77::1]/x.efi");
  EXPECT_TRUE(config->expected.any());
  EXPECT_FALSE(Parse({"-i", "eth0", "--expect-http-url6", "tftp://x"}).ok());
  EXPECT_NE(StormUsageText().find("uefi-x64-v6"), std::string::npos);
}

// --- ARP ---------------------------------------------------------------------

TEST(ArpTest, AnswersARequestForAClientAddress) {
  // Who has 10.77.128.5? Tell 10.77.0.1 (02:00:00:00:00:01).
  std::array<uint8_t, 42> request = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,    0, 0,  1,  0x08, 0x06,
      0,    1,    0x08, 0x00, 6,    4,    0,    1, 0x02, 0, 0,  0,  0,    1,
      10,   77,   0,    1,    0,    0,    0,    0, 0,    0, 10, 77, 128,  5};
  const std::optional<ArpRequest> parsed = ParseArpRequest(request);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->sender_mac, kServerMac);
  EXPECT_EQ(parsed->sender_ip, kServerIp);
  EXPECT_EQ(parsed->target_ip, MakeIpv4(10, 77, 128, 5));

  const MacAddress client = {0x06, 1, 2, 3, 4, 5};
  std::array<uint8_t, 64> out{};
  ASSERT_EQ(BuildArpReply(*parsed, client, out), kArpFrameSize);
  const std::array<uint8_t, 42> expected = {
      0x02, 0,  0,    0,    0,    1, 0x06, 1, 2,    3, 4,  5,  0x08, 0x06,
      0,    1,  0x08, 0x00, 6,    4, 0,    2, 0x06, 1, 2,  3,  4,    5,
      10,   77, 128,  5,    0x02, 0, 0,    0, 0,    1, 10, 77, 0,    1};
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
  EXPECT_TRUE(std::all_of(out.begin() + 42, out.begin() + kArpFrameSize,
                          [](uint8_t b) { return b == 0; }));
  // Our own reply is not a request; nor is a truncated frame.
  EXPECT_FALSE(ParseArpRequest(std::span(out).first(kArpFrameSize)));
  EXPECT_FALSE(ParseArpRequest(std::span(request).first(40)));
  std::array<uint8_t, 64> small{};
  EXPECT_EQ(BuildArpReply(*parsed, client, std::span(small).first(59)), 0u);
}

// --- The report
// ----------------------------------------------------------------

// A strict JSON syntax check (RFC 8259), enough to prove the hand-written
// output parses.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool Valid() {
    Space();
    if (!Value()) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  void Space() {
    while (i_ < s_.size() &&
           std::string_view(" \t\n\r").find(s_[i_]) != std::string_view::npos) {
      ++i_;
    }
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool String() {
    if (!Eat('"')) return false;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    return i_++ < s_.size();
  }
  bool Number() {
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && std::string_view("0123456789.eE+-").find(s_[i_]) !=
                                 std::string_view::npos) {
      ++i_;
    }
    return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  bool Value() {
    Space();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      if (Eat('}')) return true;
      do {
        Space();
        if (!String() || !Eat(':') || !Value()) return false;
      } while (Eat(','));
      return Eat('}');
    }
    if (c == '[') {
      ++i_;
      if (Eat(']')) return true;
      do {
        if (!Value()) return false;
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '"') return String();
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return true;
      }
    }
    return Number();
  }

  std::string_view s_;
  size_t i_ = 0;
};

TEST(JsonCheckerTest, RejectsBrokenJson) {
  EXPECT_TRUE(JsonChecker(R"({"a":[1,2.5,{"b":"x\"y"}],"c":true})").Valid());
  EXPECT_FALSE(JsonChecker(R"({"a":1,})").Valid());
  EXPECT_FALSE(JsonChecker(R"({"a":nan})").Valid());
  EXPECT_FALSE(JsonChecker(R"({"a":1} x)").Valid());
}

// A finished run with something in every figure.
struct SampleRun {
  SampleRun() {
    Harness h(config);
    for (uint32_t i = 0; i < config.clients; ++i) h.table.PowerOn(i, kT0);
    const auto frames = h.Flush();
    // Answer all but the last client, one of them twice with a bad yiaddr.
    for (size_t i = 0; i + 1 < frames.size(); ++i) {
      std::vector<uint8_t> reply = h.proxy.Answer(frames[i]);
      h.Deliver(reply, kT0 + (i + 1) * kMs);
      if (i == 0) {
        reply[kBootp + 19] = 1;
        h.Deliver(reply, kT0 + kMs);
      }
    }
    h.now = kT0 + 50 * kMs;
    h.AnswerAll(h.Flush(), kMs);
    // The last client retries and gives up.
    for (uint64_t t : {4, 8, 16, 32, 64}) {
      h.AdvanceTo(kT0 + t * kS);
      h.Flush();
    }
    stats = h.table.stats();
    run.seed = 42;
    run.interface_mac = {0x02, 0, 0, 0, 0, 0x10};
    run.duration_seconds = 64.25;
    run.arp_replies = 3;
    run.rss_kb = 2048;
    run.peak_rss_kb = 4096;
  }
  StormConfig config = [] {
    StormConfig c = Config(10);
    c.interface = "veth\"1";  // must be escaped in JSON
    return c;
  }();
  RunFacts run;
  StormStats stats;
};

TEST(ReportTest, SummaryNamesEveryFigure) {
  const SampleRun sample;
  EXPECT_EQ(sample.stats.outcome.first_try, 9u);
  EXPECT_EQ(sample.stats.outcome.no_offer, 1u);
  const std::string text =
      FormatSummary(sample.config, sample.run, sample.stats);
  const std::string requests =
      absl::StrCat(sample.stats.requests_sent, " REQUEST to 4011");
  for (std::string_view needle : std::vector<std::string_view>{
           std::string_view(
               "pxe-storm: 10 clients on veth\"1 (02:00:00:00:00:10)"),
           std::string_view("storm window 1 s"), std::string_view("seed 42"),
           std::string_view("(first try: the proxy offer came within 2 s"),
           std::string_view("p99.9"), std::string_view(requests),
           std::string_view("14 DISCOVER (4 re-sent)"),
           std::string_view("3 ARP replies"),
           std::string_view("Wrong      1 wrong answer\n"),
           std::string_view("OFFER with yiaddr != 0"),
           std::string_view("RSS 2048 KiB"),
           std::string_view("give-up at 64 s"),
           std::string_view("Self lag   sending p50 0.000"),
           std::string_view("first requests ("),
           std::string_view("not answered within 1 s")}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }
}

TEST(ReportTest, JsonIsValidAndCarriesTheFigures) {
  const SampleRun sample;
  const std::string json = FormatJson(sample.config, sample.run, sample.stats);
  const std::string requests =
      absl::StrCat("\"requests_4011\":", sample.stats.requests_sent, ",");
  EXPECT_TRUE(JsonChecker(json).Valid()) << json;
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 1);
  for (std::string_view needle : std::vector<std::string_view>{
           R"("interface":"veth\"1")", R"("clients":10,)",
           R"("mix":{"bios":40,"uefi-x64":40,"arm64":10,"ipxe":5,"http":5,)"
           R"("uefi-x64-v6":0,"http-v6":0})",
           R"("mode":"storm_window")", R"("seed":42)",
           R"("client_net":"10.77.128.0/17")", R"("booted_first_try":9)",
           R"("never_no_offer":1)", R"("offer_yiaddr":1)",
           R"("wrong_answers":{"total":1,)", R"("p99_9":)",
           std::string_view(requests), R"("arp_replies":3)", R"("rss_kb":2048)",
           R"("discover_retry_s":[4,8,16,32])",
           R"("self_lag_ms":{"send":{"count":)", R"("cpu_wait_s":)",
           R"("discovers":14,"discover_retries":4,)",
           R"("loss":{"late_after_s":1,"timed_requests":)"}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
}

TEST(ReportTest, ExpectedAnswersAreShownAndCounted) {
  SampleRun sample;
  EXPECT_NE(FormatSummary(sample.config, sample.run, sample.stats)
                .find("Checked    the protocol only"),
            std::string::npos);
  EXPECT_NE(FormatJson(sample.config, sample.run, sample.stats)
                .find(R"("expected":{}})"),
            std::string::npos);
  sample.config.expected = PerArchAnswers();
  sample.stats.problems[static_cast<size_t>(ReplyProblem::kWrongFile)] = 3;
  const std::string text =
      FormatSummary(sample.config, sample.run, sample.stats);
  for (std::string_view needle : std::vector<std::string_view>{
           "Checked    against server 10.77.0.1, TFTP server 10.77.0.9, "
           "bios=pxelinux.0, uefi-x64=grubx64.efi, "
           "HTTP uefi-x64=http://10.77.0.1/boot.efi, "
           "uefi-arm64=grubaa64.efi, HTTPv6=http://[fd77::1]/boot.efi\n",
           "Wrong      4 wrong answers",
           "boot file or URL not the one for the client's architecture"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }
  const std::string json = FormatJson(sample.config, sample.run, sample.stats);
  EXPECT_TRUE(JsonChecker(json).Valid()) << json;
  for (std::string_view needle : std::vector<std::string_view>{
           R"("expected":{"server":"10.77.0.1","tftp_server":"10.77.0.9",)",
           R"("files":{"bios":"pxelinux.0","uefi-x64":"grubx64.efi",)",
           R"("http_urls":{"uefi-x64":"http://10.77.0.1/boot.efi"},)"
           R"("http_url6":"http://[fd77::1]/boot.efi"})",
           R"("wrong_answers":{"total":4,)", R"("wrong_file":3,)",
           R"("ack_source_port":0,"bad_option43":0,"wrong_server":0,)"}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
}

TEST(ReportTest, AnsweredRateAndPercentileSummary) {
  StormStats s;
  EXPECT_EQ(AnsweredRate(s), 0);
  s.first_send_ns = kT0;
  s.last_reply_ns = kT0 + 2 * kS;
  s.replies = 3000;
  EXPECT_DOUBLE_EQ(AnsweredRate(s), 1500);
  for (uint64_t v = 1; v <= 1000; ++v) s.offer_latency.Record(v);
  const LatencySummary l = Summarize(s.offer_latency);
  EXPECT_EQ(l.count, 1000u);
  EXPECT_NEAR(static_cast<double>(l.p50), 500, 4);  // within its bucket
  EXPECT_EQ(l.max, 1000u);
  EXPECT_LE(l.p999, 1000u);
  EXPECT_GE(l.p999, 999u);
}

TEST(ReportTest, ClientListLine) {
  EXPECT_EQ(FormatClientLine(7, MacAddress{0x02, 0xAB, 0, 0, 0, 0x07},
                             MakeIpv4(10, 80, 0, 8), ClientType::kArm64),
            "7 02:ab:00:00:00:07 10.80.0.8 arm64\n");
}

TEST(ReportTest, ProgressLineAndJsonStrings) {
  StormStats s;
  s.powered_on = 10;
  s.outcome.first_try = 4;
  s.replies = 6;
  const std::string line = FormatProgress(Config(20), 1.25, s, 4);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("on 10/20"), std::string::npos) << line;
  EXPECT_NE(line.find("booted 4"), std::string::npos) << line;
  EXPECT_NE(line.find("waiting 6"), std::string::npos) << line;
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
}

}  // namespace
}  // namespace pxe::storm
