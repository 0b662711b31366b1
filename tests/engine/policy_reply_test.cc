// What the policy's features put on the wire, as a PXE client reads it:
// first-match rule order, the PXE 2.1 boot menu (option 43 sub-options 6, 8,
// 9, 10), boot-server requests (43.71), the Raspberry Pi profile, extra
// options and ignore rules. Each frame goes through Respond() (classify,
// decide, craft) and the reply is parsed back with the engine's parser,
// which verifies its IPv4 and UDP checksums.
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/boot_policy.h"
#include "engine/bootp.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/policy.h"
#include "engine/policy_snapshot.h"
#include "engine/reply.h"
#include "engine/request.h"
#include "engine/rule_matcher.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::ArchOpt;
using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using ::pxe::testing::MessageTypeOpt;
using ::pxe::testing::Opt;
using MT = dhcp::MessageType;

constexpr uint32_t kServer = Ip(10, 77, 0, 2);
constexpr uint32_t kServer2 = Ip(10, 78, 0, 2);
constexpr uint32_t kTftp = Ip(10, 77, 0, 9);
constexpr uint32_t kClient = Ip(10, 77, 0, 50);
constexpr uint32_t kClient2 = Ip(10, 78, 0, 50);
constexpr uint32_t kRelay = Ip(10, 78, 0, 1);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
// The packet builder's client, and a second one no MAC rule names.
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kOtherMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x42};
constexpr MacAddress kPiMac = {0xdc, 0xa6, 0x32, 0x01, 0x02, 0x03};

const std::array<InterfaceAddress, 2> kAddresses = {
    InterfaceAddress{kServer, 24}, InterfaceAddress{kServer2, 24}};

ServerContext Context(uint32_t offered = 0) {
  return {.mac = kServerMac,
          .addresses = kAddresses,
          .offered_address = offered,
          .interface_name = "eth0"};
}

std::vector<uint8_t> Bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<uint8_t> Concat(
    std::initializer_list<std::vector<uint8_t>> pieces) {
  std::vector<uint8_t> out;
  for (const std::vector<uint8_t>& p : pieces) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// A NUL-terminated BOOTP field as text.
std::string FieldText(std::span<const uint8_t> field) {
  return std::string(field.begin(),
                     std::find(field.begin(), field.end(), uint8_t{0}));
}

uint32_t ArchBit(ArchClass arch) {
  return uint32_t{1} << static_cast<uint32_t>(arch);
}

// --- Requests ---

FrameSpec From(FrameSpec spec, const MacAddress& mac) {
  spec.eth_src = mac;
  spec.chaddr = mac;
  return spec;
}

// The request as a relay forwards it: from the relay, to our address.
FrameSpec Relayed(FrameSpec spec) {
  spec.giaddr = kRelay;
  spec.hops = 1;
  spec.eth_dst = kServerMac;
  spec.ip_src = kRelay;
  spec.ip_dst = kServer2;
  spec.src_port = 67;
  return spec;
}

// PXE 2.1 43.71: boot server type, then layer (bit 15: BIS credentials).
testing::DhcpOption BootItem(uint16_t type, uint16_t layer) {
  return Opt(
      43, {71, 4, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
           static_cast<uint8_t>(layer >> 8), static_cast<uint8_t>(layer), 255});
}

// A BIOS PXE ROM's boot-server request after a menu choice (PXE 2.1
// broadcast discovery): a REQUEST to 255.255.255.255:67 from its leased
// address, with 43.71 and neither option 54 nor option 50.
FrameSpec BroadcastBootServerRequest(uint16_t type, uint16_t layer) {
  FrameSpec spec;
  spec.ip_src = kClient;
  spec.ciaddr = kClient;
  spec.options = {MessageTypeOpt(3),
                  ArchOpt({0}),
                  Opt(94, {2, 1, 0}),
                  testing::UuidOpt(),
                  Opt(60, "PXEClient:Arch:00000:UNDI:002001"),
                  BootItem(type, layer)};
  return spec;
}

// The same request sent to our port 4011 (OVMF's unicast discovery).
FrameSpec BootServerRequest4011(uint16_t type, uint16_t layer) {
  FrameSpec spec = testing::UefiOvmfRequest4011(kClient, kServer);
  spec.eth_dst = kServerMac;
  SetOption(spec, BootItem(type, layer));
  return spec;
}

// The Raspberry Pi 4 bootloader's DISCOVER: BIOS architecture (option 93
// = 0) and the BIOS PXE vendor class.
FrameSpec RaspberryPiDiscover() {
  FrameSpec spec;
  spec.eth_src = kPiMac;
  spec.chaddr = kPiMac;
  spec.options = {MessageTypeOpt(1), ArchOpt({0}), Opt(94, {1, 2, 1}),
                  testing::UuidOpt(),
                  Opt(60, "PXEClient:Arch:00000:UNDI:002001")};
  return spec;
}

// --- Replies ---

// One request through Respond(), and its reply parsed back.
struct Answered {
  DropReason reason = DropReason::kNone;
  std::vector<uint8_t> frame;      // empty when dropped
  std::unique_ptr<Request> reply;  // `frame` parsed; null when dropped

  // The whole value of option `code` (RFC 3396 pieces joined), or nullopt.
  std::optional<std::vector<uint8_t>> Option(uint8_t code) const {
    if (!reply->options.Has(code)) return std::nullopt;
    std::array<uint8_t, 1024> scratch;
    std::span<const uint8_t> value = reply->options.Get(code, scratch);
    return std::vector<uint8_t>(value.begin(), value.end());
  }
  std::string file() const { return FieldText(reply->bootp.file()); }
  std::string sname() const { return FieldText(reply->bootp.sname()); }
  // The options field up to and including END.
  std::vector<uint8_t> options_area() const {
    std::span<const uint8_t> o = reply->bootp.options();
    size_t i = 0;
    while (i < o.size() && o[i] != dhcp::kEnd) {
      i += o[i] == dhcp::kPad ? 1 : 2 + size_t{o[i + 1]};
    }
    return {o.begin(), o.begin() + std::min(i + 1, o.size())};
  }
};

Answered Answer(const FrameSpec& spec, const PolicySnapshot& policy,
                uint32_t offered = 0) {
  Answered a;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  a.reason = Respond(frame, RxMeta{}, policy, Context(offered), request.get(),
                     out, &size);
  if (a.reason != DropReason::kNone) return a;
  a.frame.assign(out.begin(), out.begin() + size);
  a.reply = std::make_unique<Request>();
  if (ClassifyFrame(a.frame, RxMeta{}, a.reply.get()) !=
      DropReason::kServerReply) {
    ADD_FAILURE() << "the reply does not parse back";
    a.reason = DropReason::kReplyBufferTooSmall;
    a.reply.reset();
  }
  return a;
}

#define ASSERT_ANSWERED(a) \
  ASSERT_EQ(DropReasonName((a).reason), DropReasonName(DropReason::kNone))

// ============================================================================
// (a) First-match rule order (BootPolicy::rules).

BootPolicy RuleOrderPolicy() {
  BootPolicy policy;
  policy.defaults.file = "default.0";
  policy.rules = {
      {.name = "lab-pc",
       .match = {.mac = {{.octets = kClientMac, .length = 6}}},
       .answer = {.file = "mac.0"}},
      {.name = "second-floor",
       .match = {.subnet = {{.network = Ip(10, 78, 0, 0),
                             .prefix_length = 24}}},
       .answer = {.file = "subnet.0"}},
      {.name = "uefi-x64",
       .match = {.arch_mask = ArchBit(ArchClass::kUefiX64)},
       .answer = {.file = "arch.efi"}},
  };
  return policy;
}

struct RuleCase {
  std::string name;
  FrameSpec spec;
  uint32_t offered;  // the LAN server's offer to the client, 0 = not seen
  int rule;          // -1: the defaults
  std::string rule_name;
  std::string file;
  uint32_t server;  // the address we answer from
};

FrameSpec Ovmf4011(uint32_t client, uint32_t server, const MacAddress& mac) {
  FrameSpec spec = From(testing::UefiOvmfRequest4011(client, server), mac);
  spec.eth_dst = kServerMac;
  return spec;
}

std::vector<RuleCase> RuleCases() {
  const FrameSpec bios = testing::BiosIpxeDiscover();
  FrameSpec ovmf_no_ciaddr = Ovmf4011(kClient2, kServer2, kOtherMac);
  ovmf_no_ciaddr.ciaddr = 0;
  return {
      // Matches the MAC and (relayed from 10.78.0.0/24) the subnet rule.
      {"MacRuleBeforeSubnetRuleWins", Relayed(bios), 0, 0, "lab-pc", "mac.0",
       kServer2},
      {"SubnetRuleByRelayGiaddr", Relayed(From(bios, kOtherMac)), 0, 1,
       "second-floor", "subnet.0", kServer2},
      // x64 matches the arch rule too, but the subnet rule comes first.
      {"SubnetRuleBy4011Ciaddr", Ovmf4011(kClient2, kServer2, kOtherMac), 0, 1,
       "second-floor", "subnet.0", kServer2},
      {"SubnetRuleBy4011SourceAddress", ovmf_no_ciaddr, 0, 1, "second-floor",
       "subnet.0", kServer2},
      {"SubnetRuleByTheLanServersOffer", From(bios, kOtherMac),
       Ip(10, 78, 0, 77), 1, "second-floor", "subnet.0", kServer2},
      {"ArchRule", Ovmf4011(kClient, kServer, kOtherMac), 0, 2, "uefi-x64",
       "arch.efi", kServer},
      {"DefaultsWhenNoRuleMatches", From(bios, kOtherMac), 0, -1, "",
       "default.0", kServer},
      {"UnknownSubnetMatchesNoSubnetRule", From(bios, kOtherMac),
       Ip(10, 99, 0, 77), -1, "", "default.0", kServer},
  };
}

TEST(PolicyReplyRuleOrderTest, FirstMatchingRuleAnswers) {
  const PolicySnapshot& policy = testing::Compiled(RuleOrderPolicy());
  for (const RuleCase& c : RuleCases()) {
    SCOPED_TRACE(c.name);
    const std::vector<uint8_t> frame = BuildFrame(c.spec);
    auto request = std::make_unique<Request>();
    ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, request.get()), DropReason::kNone);
    const ServerContext context = Context(c.offered);
    int rule = -2;
    const ResolvedAnswer& answer = policy.AnswerFor(
        FactsOf(*request, ClientSubnetAddress(*request, context),
                context.interface_name),
        &rule);
    EXPECT_EQ(rule, c.rule);
    EXPECT_EQ(answer.rule_name, c.rule_name);

    const Answered a = Answer(c.spec, policy, c.offered);
    ASSERT_ANSWERED(a);
    EXPECT_EQ(a.file(), c.file);
    EXPECT_EQ(a.reply->frame.ip_src, c.server);
    EXPECT_EQ(a.reply->server_id, c.server);
  }
}

TEST(PolicyReplyRuleOrderTest, OrderNotSpecificityDecides) {
  // The arch rule moved before the subnet rule: the 10.78.0.0/24 x64
  // client now gets the arch rule's file.
  BootPolicy policy = RuleOrderPolicy();
  std::swap(policy.rules[1], policy.rules[2]);
  const Answered a = Answer(Ovmf4011(kClient2, kServer2, kOtherMac),
                            testing::Compiled(std::move(policy)));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.file(), "arch.efi");
}

TEST(PolicyReplyRuleOrderTest, RuleInheritsWhatItDoesNotName) {
  // The MAC rule names only a file: TFTP server and per-arch files come
  // from the defaults.
  BootPolicy policy = RuleOrderPolicy();
  policy.defaults.tftp_server = kTftp;
  const Answered a =
      Answer(testing::BiosIpxeDiscover(), testing::Compiled(std::move(policy)));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.file(), "mac.0");
  EXPECT_EQ(a.reply->bootp.siaddr(), kTftp);
  EXPECT_EQ(a.sname(), "10.77.0.9");
}

// ============================================================================
// (b) A PXE boot menu (PXE 2.1 §2.4.1, option 43 sub-options 6, 8, 9, 10).

BootPolicy MenuPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.menu = "main";
  policy.menus = {
      {.name = "main",
       .prompt = "Boot menu",
       .timeout_s = 5,
       .items = {
           {.label = "Install Debian",
            .type = 0x8001,
            .file = "debian/pxelinux.0"},
           {.label = "Memtest86+", .type = 0x8002, .file = "memtest/memtest.0"},
           {.label = "Boot from disk", .type = 0}}}};
  return policy;
}

// Option 43 of the menu's OFFER from `server`.
std::vector<uint8_t> MenuVendorOptions(uint32_t server) {
  const uint8_t a = static_cast<uint8_t>(server >> 24);
  const uint8_t b = static_cast<uint8_t>(server >> 16);
  const uint8_t c = static_cast<uint8_t>(server >> 8);
  const uint8_t d = static_cast<uint8_t>(server);
  return Concat({
      // 6 PXE_DISCOVERY_CONTROL: bits 0 and 1, no broadcast and no
      // multicast discovery: ask the servers of 43.8.
      {6, 1, 0x03},
      // 8 PXE_BOOT_SERVERS: type (2), IP count (1), IPs; network items only.
      {8, 14, 0x80, 0x01, 1, a, b, c, d, 0x80, 0x02, 1, a, b, c, d},
      // 9 PXE_BOOT_MENU: type (2), description length (1), description.
      {9, 47, 0x80, 0x01, 14},
      Bytes("Install Debian"),
      {0x80, 0x02, 10},
      Bytes("Memtest86+"),
      {0x00, 0x00, 14},
      Bytes("Boot from disk"),
      // 10 PXE_MENU_PROMPT: timeout in seconds (1), prompt.
      {10, 10, 5},
      Bytes("Boot menu"),
      {255},
  });
}

TEST(PolicyReplyMenuTest, OfferCarriesTheMenuByteForByte) {
  const Answered a =
      Answer(testing::BiosIpxeDiscover(), testing::Compiled(MenuPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->type, MT::kOffer);
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific), MenuVendorOptions(kServer));
  // The client boots the chosen item's file, not one from this offer.
  EXPECT_EQ(a.file(), "");
  EXPECT_EQ(a.sname(), "");
  EXPECT_FALSE(a.Option(dhcp::kBootFileName).has_value());
  EXPECT_EQ(a.reply->bootp.siaddr(), kServer);
  EXPECT_EQ(a.reply->server_id, kServer);
}

TEST(PolicyReplyMenuTest, UefiClientGetsTheSameMenu) {
  const Answered a =
      Answer(testing::UefiOvmfDiscover(), testing::Compiled(MenuPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific), MenuVendorOptions(kServer));
}

TEST(PolicyReplyMenuTest, BootServersAreTheAddressTheClientReaches) {
  const Answered a = Answer(Relayed(testing::BiosIpxeDiscover()),
                            testing::Compiled(MenuPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->server_id, kServer2);
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific), MenuVendorOptions(kServer2));
}

TEST(PolicyReplyMenuTest, LocalBootOnlyMenuListsNoBootServers) {
  BootPolicy policy = MenuPolicy();
  policy.menus[0].items = {{.label = "Boot from disk", .type = 0}};
  policy.menus[0].timeout_s = 0;  // boot the first item at once
  const Answered a =
      Answer(testing::BiosIpxeDiscover(), testing::Compiled(std::move(policy)));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific),
            Concat({{6, 1, 0x03, 9, 17, 0, 0, 14},
                    Bytes("Boot from disk"),
                    {10, 10, 0},
                    Bytes("Boot menu"),
                    {255}}));
}

// ============================================================================
// (c) Boot-server requests (PXE 2.1 43.71) after a menu choice.

TEST(PolicyReplyBootItemTest, RequestOn4011GetsTheItemsFile) {
  const Answered a =
      Answer(BootServerRequest4011(0x8002, 0), testing::Compiled(MenuPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->type, MT::kAck);
  EXPECT_EQ(a.file(), "memtest/memtest.0");
  EXPECT_EQ(a.reply->bootp.siaddr(), kServer);
  EXPECT_EQ(a.sname(), "10.77.0.2");
  // The item echoed, nothing else in 43 (no menu in the ACK).
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific),
            (std::vector<uint8_t>{71, 4, 0x80, 0x02, 0x00, 0x00, 255}));
  // Back to where the client asked from.
  EXPECT_EQ(a.reply->frame.ip_src, kServer);
  EXPECT_EQ(a.reply->frame.ip_dst, kClient);
  EXPECT_EQ(a.reply->frame.udp_src, 4011);
  EXPECT_EQ(a.reply->frame.udp_dst, 4011);
}

TEST(PolicyReplyBootItemTest, BroadcastRequestOn67GetsTheItemsFile) {
  const Answered a = Answer(BroadcastBootServerRequest(0x8001, 0x0001),
                            testing::Compiled(MenuPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->type, MT::kAck);
  EXPECT_EQ(a.file(), "debian/pxelinux.0");
  EXPECT_EQ(a.reply->bootp.siaddr(), kServer);
  // Layer 1 echoed as asked.
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific),
            (std::vector<uint8_t>{71, 4, 0x80, 0x01, 0x00, 0x01, 255}));
  EXPECT_EQ(a.reply->frame.ip_src, kServer);
  EXPECT_EQ(a.reply->server_id, kServer);
  EXPECT_EQ(a.reply->frame.ip_dst, kClient);
  EXPECT_EQ(a.reply->frame.udp_src, 67);
  EXPECT_EQ(a.reply->frame.udp_dst, 68);
}

TEST(PolicyReplyBootItemTest, UnknownItemTypeIsDropped) {
  const PolicySnapshot& policy = testing::Compiled(MenuPolicy());
  EXPECT_EQ(
      DropReasonName(Answer(BootServerRequest4011(0x8005, 0), policy).reason),
      DropReasonName(DropReason::kUnknownBootItem));
  EXPECT_EQ(DropReasonName(
                Answer(BroadcastBootServerRequest(0x8005, 0), policy).reason),
            DropReasonName(DropReason::kUnknownBootItem));
}

TEST(PolicyReplyBootItemTest, BisCredentialsRequestIsRefused) {
  // Layer bit 15: the client asks for BIS credentials, even of a known item.
  const PolicySnapshot& policy = testing::Compiled(MenuPolicy());
  EXPECT_EQ(DropReasonName(
                Answer(BootServerRequest4011(0x8001, 0x8000), policy).reason),
            DropReasonName(DropReason::kBisCredentials));
  EXPECT_EQ(
      DropReasonName(
          Answer(BroadcastBootServerRequest(0x8001, 0x8001), policy).reason),
      DropReasonName(DropReason::kBisCredentials));
}

TEST(PolicyReplyBootItemTest, RequestToTheDhcpServerIsNotOurs) {
  // A REQUEST on 67 naming a server (option 54) belongs to the LAN's DHCP
  // server, even with 43.71 in it.
  FrameSpec spec = BroadcastBootServerRequest(0x8001, 0);
  spec.options.push_back(Opt(54, {10, 77, 0, 1}));
  EXPECT_EQ(
      DropReasonName(Answer(spec, testing::Compiled(MenuPolicy())).reason),
      DropReasonName(DropReason::kUnhandledMessage));
}

// ============================================================================
// (d) The Raspberry Pi bootloader profile.

const std::vector<uint8_t> kRaspberryPiVendorOptions = Concat({
    {6, 1, 0x03},                // discovery control
    {10, 4, 0},                  // prompt: timeout 0 (at once),
    Bytes("PXE"),                // "PXE"
    {9, 20, 0x00, 0x00, 17},     // menu: local boot item,
    Bytes("Raspberry Pi Boot"),  // the label the Pi looks for
    {255},
});

BootPolicy RaspberryPiPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.tftp_server = kTftp;
  policy.rules = {{.name = "raspberry-pi",
                   .match = {.mac = {{.octets = kPiMac, .length = 3}}},
                   .answer = {.raspberry_pi = true}}};
  return policy;
}

TEST(PolicyReplyRaspberryPiTest, PiGetsItsMenuEntryAndTftpServerText) {
  const Answered a =
      Answer(RaspberryPiDiscover(), testing::Compiled(RaspberryPiPolicy()));
  ASSERT_ANSWERED(a);
  const std::vector<uint8_t> vendor =
      a.Option(dhcp::kVendorSpecific).value_or(std::vector<uint8_t>{});
  const std::vector<uint8_t> label = Bytes("Raspberry Pi Boot");
  EXPECT_NE(
      std::search(vendor.begin(), vendor.end(), label.begin(), label.end()),
      vendor.end());
  EXPECT_EQ(vendor, kRaspberryPiVendorOptions);
  EXPECT_EQ(a.Option(dhcp::kTftpServerName), Bytes("10.77.0.9"));
  EXPECT_EQ(a.reply->bootp.siaddr(), kTftp);
  EXPECT_EQ(a.sname(), "10.77.0.9");
  EXPECT_EQ(a.reply->server_id, kServer);
}

TEST(PolicyReplyRaspberryPiTest, WithoutTftpServerOption66NamesUs) {
  BootPolicy policy = RaspberryPiPolicy();
  policy.defaults.tftp_server = 0;
  const Answered a =
      Answer(RaspberryPiDiscover(), testing::Compiled(std::move(policy)));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.Option(dhcp::kTftpServerName), Bytes("10.77.0.2"));
  EXPECT_EQ(a.reply->bootp.siaddr(), kServer);
}

TEST(PolicyReplyRaspberryPiTest, OtherClientsGetNoPiOptions) {
  const Answered a = Answer(testing::BiosIpxeDiscover(),
                            testing::Compiled(RaspberryPiPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.file(), "pxelinux.0");
  EXPECT_EQ(a.Option(dhcp::kVendorSpecific),
            (std::vector<uint8_t>{6, 1, 8, 255}));
  EXPECT_FALSE(a.Option(dhcp::kTftpServerName).has_value());
}

TEST(PolicyReplyRaspberryPiTest, ExtraOption66IsNotJoinedWithThePiOne) {
  // Two option 66s in one reply are one value to the client (RFC 3396 §5):
  // "10.77.0.9tftp.lan". Refusing the pair at load time is fine too.
  BootPolicy policy = RaspberryPiPolicy();
  policy.defaults.options = {{.code = 66, .value = Bytes("tftp.lan")}};
  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> snapshot =
      PolicySnapshot::Compile(std::move(policy));
  if (!snapshot.ok()) return;
  const Answered a = Answer(RaspberryPiDiscover(), **snapshot);
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->options.TotalLength(dhcp::kTftpServerName),
            a.reply->options.First(dhcp::kTftpServerName).size());
}

// ============================================================================
// (e) Extra options.

const std::string kWpad = "http://10.77.0.2/wpad.dat";
const std::string kLabWpad = "http://10.77.0.2/lab.dat";

BootPolicy ExtraOptionsPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  // Given out of order: replies carry them by code.
  policy.defaults.options = {
      {.code = 252, .value = Bytes(kWpad)},               // text
      {.code = 150, .value = {10, 77, 0, 9}},             // IPv4
      {.code = 208, .value = {0xf1, 0x00, 0x74, 0x7e}}};  // hex
  policy.rules = {
      {.name = "lab-pc",
       .match = {.mac = {{.octets = kClientMac, .length = 6}}},
       .answer = {.options = {{.code = 252, .value = Bytes(kLabWpad)}}}}};
  return policy;
}

TEST(PolicyReplyExtraOptionsTest, DefaultsOptionsAppearWithTheirBytes) {
  const Answered a = Answer(From(testing::BiosIpxeDiscover(), kOtherMac),
                            testing::Compiled(ExtraOptionsPolicy()));
  ASSERT_ANSWERED(a);
  // After option 43, in code order, then END.
  const std::vector<uint8_t> tail = Concat({
      {150, 4, 10, 77, 0, 9},            // TFTP server address (RFC 5859)
      {208, 4, 0xf1, 0x00, 0x74, 0x7e},  // PXELINUX magic (RFC 5071)
      {252, static_cast<uint8_t>(kWpad.size())},  // WPAD URL
      Bytes(kWpad),
      {255},
  });
  const std::vector<uint8_t> vendor = {43, 4, 6, 1, 8, 255};
  const std::vector<uint8_t> area = a.options_area();
  ASSERT_GE(area.size(), vendor.size() + tail.size());
  EXPECT_EQ(std::vector<uint8_t>(area.end() - tail.size() - vendor.size(),
                                 area.end()),
            Concat({vendor, tail}));
  EXPECT_EQ(a.Option(150), (std::vector<uint8_t>{10, 77, 0, 9}));
  EXPECT_EQ(a.Option(208), (std::vector<uint8_t>{0xf1, 0x00, 0x74, 0x7e}));
  EXPECT_EQ(a.Option(252), Bytes(kWpad));
}

TEST(PolicyReplyExtraOptionsTest, RulesOptionReplacesTheDefaultsOne) {
  const Answered a = Answer(testing::BiosIpxeDiscover(),
                            testing::Compiled(ExtraOptionsPolicy()));
  ASSERT_ANSWERED(a);
  // Once, with the rule's value (not both, which a client would join).
  EXPECT_EQ(a.reply->options.TotalLength(252), kLabWpad.size());
  EXPECT_EQ(a.Option(252), Bytes(kLabWpad));
  // The defaults' other options are kept.
  EXPECT_EQ(a.Option(150), (std::vector<uint8_t>{10, 77, 0, 9}));
  EXPECT_EQ(a.Option(208), (std::vector<uint8_t>{0xf1, 0x00, 0x74, 0x7e}));
}

TEST(PolicyReplyExtraOptionsTest, OptionsReachAcksToo) {
  FrameSpec spec = Ovmf4011(kClient, kServer, kOtherMac);
  const Answered a = Answer(spec, testing::Compiled(ExtraOptionsPolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->type, MT::kAck);
  EXPECT_EQ(a.Option(252), Bytes(kWpad));
  EXPECT_EQ(a.Option(150), (std::vector<uint8_t>{10, 77, 0, 9}));
}

TEST(PolicyReplyExtraOptionsTest, ExtraOption67ReplacesALongUrl) {
  // An HTTP-boot URL too long for the file field goes in option 67, unless
  // the policy gives an option 67 of its own: then only that one is sent.
  BootPolicy policy;
  policy.defaults.http_url = "http://10.77.0.2/" + std::string(150, 'u');
  policy.defaults.options = {
      {.code = 67, .value = Bytes("http://10.77.0.2/short.efi")}};
  FrameSpec spec = testing::UefiOvmfDiscover();
  SetOption(spec, ArchOpt({16}));
  SetOption(spec, Opt(60, "HTTPClient:Arch:00016:UNDI:003001"));
  const Answered a = Answer(spec, testing::Compiled(std::move(policy)));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.reply->options.TotalLength(dhcp::kBootFileName), 26u);
  EXPECT_EQ(a.Option(dhcp::kBootFileName), Bytes("http://10.77.0.2/short.efi"));
  EXPECT_EQ(a.file(), "");
}

// ============================================================================
// (f) Ignore rules.

BootPolicy IgnorePolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.rules = {
      {.name = "printers",
       .match = {.mac = {{.octets = {0x00, 0x11, 0x22}, .length = 3}}},
       .action = RuleAction::kIgnore},
      {.name = "bios",
       .match = {.arch_mask = ArchBit(ArchClass::kBios)},
       .answer = {.file = "bios.0"}},
  };
  return policy;
}

TEST(PolicyReplyIgnoreTest, IgnoredClientIsDroppedWithItsOwnReason) {
  const PolicySnapshot& policy = testing::Compiled(IgnorePolicy());
  const FrameSpec spec =
      From(testing::BiosIpxeDiscover(), {0x00, 0x11, 0x22, 0x33, 0x44, 0x55});
  const Answered a = Answer(spec, policy);
  EXPECT_EQ(DropReasonName(a.reason),
            DropReasonName(DropReason::kIgnoredByRule));
  EXPECT_TRUE(a.frame.empty());

  // Decide() says the same before any byte is written.
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, request.get()), DropReason::kNone);
  ReplyPlan plan;
  EXPECT_EQ(DropReasonName(Decide(*request, policy, Context(), &plan)),
            DropReasonName(DropReason::kIgnoredByRule));
}

TEST(PolicyReplyIgnoreTest, OtherClientsAreStillAnswered) {
  const Answered a =
      Answer(testing::BiosIpxeDiscover(), testing::Compiled(IgnorePolicy()));
  ASSERT_ANSWERED(a);
  EXPECT_EQ(a.file(), "bios.0");
}

}  // namespace
}  // namespace pxe
