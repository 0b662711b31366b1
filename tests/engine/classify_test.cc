// ClassifyFrame(): which requests a proxy DHCP server answers (RFC 2131 §2-3,
// PXE 2.1 §2, RFC 4578) and what it learns about the client from them. One
// row per rule, each a change to a real firmware request: op/htype/hlen and
// cookie, message type per port, option 60, the architecture (option 93 or
// option 60), UNDI, UUID, iPXE, relays, boot items and server replies.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/policy.h"
#include "engine/reply.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::ArchOpt;
using ::pxe::testing::BiosIpxeDiscover;
using ::pxe::testing::BiosIpxeRequest4011;
using ::pxe::testing::BuildFrame;
using ::pxe::testing::DhcpOption;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using ::pxe::testing::MessageTypeOpt;
using ::pxe::testing::Opt;
using ::pxe::testing::UefiOvmfDiscover;
using ::pxe::testing::UefiOvmfRequest4011;
using MT = dhcp::MessageType;

constexpr uint32_t kServer = Ip(10, 77, 0, 2);
constexpr uint32_t kClient = Ip(10, 77, 0, 50);
constexpr uint32_t kRelay = Ip(10, 78, 0, 1);
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};

std::vector<uint8_t> Vec(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

std::string Str(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// The fields a row checks; unset ones are not looked at.
struct Expect {
  std::optional<MT> type;
  std::optional<ClientKind> kind;
  std::optional<uint16_t> arch_code;
  std::optional<ArchClass> arch_class;
  std::optional<bool> http;
  std::optional<bool> uefi;
  std::optional<bool> arch_known;
  std::optional<bool> is_ipxe;
  std::optional<bool> has_undi;
  std::optional<std::array<uint8_t, 3>> undi;
  std::optional<bool> uuid_present;
  std::optional<std::vector<uint8_t>> uuid;  // empty: none accepted
  std::optional<std::vector<uint8_t>> boot_item;
  std::optional<std::vector<uint8_t>> relay_info;
  std::optional<std::string> vendor_class;
  std::optional<uint32_t> xid;
  std::optional<uint32_t> ciaddr;
  std::optional<uint32_t> yiaddr;
  std::optional<uint32_t> giaddr;
  std::optional<uint32_t> server_id;
  std::optional<bool> broadcast;
  std::optional<MacAddress> chaddr;
};

struct ClassifyCase {
  std::string name;
  FrameSpec (*base)();
  std::function<void(FrameSpec&)> mutate;
  DropReason expected;
  Expect fields;
};

void PrintTo(const ClassifyCase& c, std::ostream* os) { *os << c.name; }

FrameSpec Ovmf() { return UefiOvmfDiscover(); }
FrameSpec Bios() { return BiosIpxeDiscover(); }
FrameSpec Ovmf4011() { return UefiOvmfRequest4011(kClient, kServer); }
FrameSpec Ipxe4011() { return BiosIpxeRequest4011(kClient, kServer); }

void Nothing(FrameSpec&) {}

std::vector<uint8_t> Uuid17(uint8_t first) {
  std::vector<uint8_t> uuid = {0};
  for (int i = 0; i < 16; ++i) uuid.push_back(static_cast<uint8_t>(first + i));
  return uuid;
}

const std::vector<uint8_t> kEmpty = {};

auto SetType(uint8_t type) {
  return [type](FrameSpec& s) { SetOption(s, MessageTypeOpt(type)); };
}
auto SetArch(std::initializer_list<uint16_t> codes) {
  DhcpOption option = ArchOpt(codes);
  return [option](FrameSpec& s) { SetOption(s, option); };
}
auto SetVendorClass(std::string text) {
  return [text](FrameSpec& s) { SetOption(s, Opt(60, text)); };
}
// No option 93: the architecture comes from option 60, if anywhere.
auto VendorClassOnly(std::string text) {
  return [text](FrameSpec& s) {
    RemoveOption(s, 93);
    SetOption(s, Opt(60, text));
  };
}
auto SetUuid(std::vector<uint8_t> value) {
  return [value](FrameSpec& s) { SetOption(s, DhcpOption{97, value}); };
}

std::vector<ClassifyCase> Cases() {
  return {
      // --- Real firmware, unchanged ---
      {"OvmfDiscover",
       Ovmf,
       Nothing,
       DropReason::kNone,
       {.type = MT::kDiscover,
        .kind = ClientKind::kPxe,
        .arch_code = 7,
        .arch_class = ArchClass::kUefiX64,
        .http = false,
        .uefi = true,
        .arch_known = true,
        .is_ipxe = false,
        .has_undi = true,
        .undi = std::array<uint8_t, 3>{1, 3, 0},
        .uuid_present = true,
        .uuid = std::vector<uint8_t>(17, 0),
        .boot_item = kEmpty,
        .relay_info = kEmpty,
        .vendor_class = "PXEClient:Arch:00007:UNDI:003000",
        .xid = 0x12345678,
        .ciaddr = 0,
        .giaddr = 0,
        .broadcast = true,
        .chaddr = kClientMac}},
      {"BiosIpxeDiscover",
       Bios,
       Nothing,
       DropReason::kNone,
       {.type = MT::kDiscover,
        .kind = ClientKind::kPxe,
        .arch_code = 0,
        .arch_class = ArchClass::kBios,
        .http = false,
        .uefi = false,
        .arch_known = true,
        .is_ipxe = true,
        .has_undi = true,
        .undi = std::array<uint8_t, 3>{1, 2, 1},
        .uuid_present = true,
        .uuid = Uuid17(0x11),
        .broadcast = false}},
      {"OvmfRequest4011",
       Ovmf4011,
       Nothing,
       DropReason::kNone,
       {.type = MT::kRequest,
        .kind = ClientKind::kPxe,
        .arch_code = 7,
        .arch_class = ArchClass::kUefiX64,
        .boot_item = kEmpty,
        .ciaddr = kClient}},
      {"IpxeRequest4011WithBootItem",
       Ipxe4011,
       Nothing,
       DropReason::kNone,
       {.type = MT::kRequest,
        .arch_code = 0,
        .is_ipxe = true,
        .boot_item = std::vector<uint8_t>{0x80, 0, 0, 0},
        .vendor_class = "PXEClient",
        .xid = 0,
        .ciaddr = kClient,
        .broadcast = true}},
      {"PlainDhcpClientIsNotBooting",
       testing::PlainDhcpDiscover,
       Nothing,
       DropReason::kNotBooting,
       {.type = MT::kDiscover}},

      // --- BOOTP header ---
      {"OpZero", Ovmf, [](FrameSpec& s) { s.op = 0; }, DropReason::kBadOpcode},
      {"OpThree", Ovmf, [](FrameSpec& s) { s.op = 3; }, DropReason::kBadOpcode},
      {"HtypeNotEthernet", Ovmf, [](FrameSpec& s) { s.htype = 6; },
       DropReason::kBadHardwareType},
      {"HlenNotSix", Ovmf, [](FrameSpec& s) { s.hlen = 16; },
       DropReason::kBadHardwareType},
      {"WrongMagicCookie", Ovmf,
       [](FrameSpec& s) {
         s.cookie = {0x63, 0x82, 0x53, 0x64};
       },
       DropReason::kBadMagicCookie},
      {"PlainBootpWithoutCookie", Ovmf,
       [](FrameSpec& s) { s.include_cookie = false; },
       DropReason::kBadMagicCookie},
      {"BootpShorterThanFixedHeader", Ovmf,
       [](FrameSpec& s) { s.udp_length = 8 + 235; },
       DropReason::kBootpTooShort},
      {"FrameProblemComesFirst", Ovmf,
       [](FrameSpec& s) { s.udp_checksum = FrameSpec::UdpChecksum::kWrong; },
       DropReason::kBadUdpChecksum},
      {"TooManyOptions", Ovmf,
       [](FrameSpec& s) {
         for (int i = 0; i < 130; ++i) s.options.push_back(Opt(250, {0}));
       },
       DropReason::kTooManyOptions},

      // --- Message type and port ---
      {"NoMessageType", Ovmf, [](FrameSpec& s) { RemoveOption(s, 53); },
       DropReason::kNoMessageType},
      {"MessageTypeOfTwoBytes", Ovmf,
       [](FrameSpec& s) {
         SetOption(s, Opt(53, {1, 1}));
       },
       DropReason::kNoMessageType},
      {"RequestOn67", Ovmf, SetType(3), DropReason::kUnhandledMessage},
      {"InformOn67", Ovmf, SetType(8), DropReason::kUnhandledMessage},
      {"ReleaseOn67", Ovmf, SetType(7), DropReason::kUnhandledMessage},
      {"DiscoverOn4011", Ovmf4011, SetType(1), DropReason::kUnhandledMessage},
      {"InformOn4011",
       Ovmf4011,
       SetType(8),
       DropReason::kNone,
       {.type = MT::kInform, .ciaddr = kClient}},
      {"DeclineOn4011", Ovmf4011, SetType(4), DropReason::kUnhandledMessage},
      {"DiscoverOn68", Ovmf, [](FrameSpec& s) { s.dst_port = 68; },
       DropReason::kUnhandledMessage},
      {"DiscoverOn69", Ovmf, [](FrameSpec& s) { s.dst_port = 69; },
       DropReason::kWrongPort},
      {"RequestOn4012", Ovmf4011, [](FrameSpec& s) { s.dst_port = 4012; },
       DropReason::kWrongPort},

      // --- Option 60 ---
      {"VendorClassExactlyPxeClient",
       Ovmf,
       SetVendorClass("PXEClient"),
       DropReason::kNone,
       {.kind = ClientKind::kPxe, .arch_code = 7, .vendor_class = "PXEClient"}},
      {"VendorClassPrefixMatch",
       Ovmf,
       SetVendorClass("PXEClient-anything"),
       DropReason::kNone,
       {.kind = ClientKind::kPxe}},
      {"HttpClient",
       Ovmf,
       [](FrameSpec& s) {
         SetOption(s, Opt(60, "HTTPClient:Arch:00016:UNDI:003001"));
         SetOption(s, ArchOpt({16}));
       },
       DropReason::kNone,
       {.kind = ClientKind::kHttp,
        .arch_code = 16,
        .arch_class = ArchClass::kUefiX64,
        .http = true,
        .uefi = true}},
      {"HttpClientWithPxeArchCode",
       Ovmf,
       SetVendorClass("HTTPClient"),
       DropReason::kNone,
       {.kind = ClientKind::kHttp, .arch_code = 7, .http = false}},
      {"VendorClassCutShort", Ovmf, SetVendorClass("PXEClien"),
       DropReason::kNotBooting},
      {"VendorClassNotAtTheStart", Ovmf, SetVendorClass(" PXEClient"),
       DropReason::kNotBooting},
      {"VendorClassOfWindows", Ovmf, SetVendorClass("MSFT 5.0"),
       DropReason::kNotBooting},
      {"VendorClassEmpty", Ovmf, SetVendorClass(""), DropReason::kNotBooting},
      {"NoVendorClass", Ovmf, [](FrameSpec& s) { RemoveOption(s, 60); },
       DropReason::kNotBooting},
      {"VendorClassSplitInTwo",
       Ovmf,
       [](FrameSpec& s) {
         RemoveOption(s, 60);
         s.options.push_back(Opt(60, "PXECl"));
         s.options.push_back(Opt(57, {5, 192}));
         s.options.push_back(Opt(60, "ient:Arch:00007"));
       },
       DropReason::kNone,
       {.kind = ClientKind::kPxe, .vendor_class = "PXEClient:Arch:00007"}},

      // --- Architecture: option 93 ---
      {"ArchFirstKnownWins",
       Ovmf,
       SetArch({2, 7}),
       DropReason::kNone,
       {.arch_code = 7, .arch_class = ArchClass::kUefiX64, .arch_known = true}},
      {"ArchFirstOfTwoKnown",
       Ovmf,
       SetArch({7, 0}),
       DropReason::kNone,
       {.arch_code = 7, .arch_class = ArchClass::kUefiX64}},
      {"ArchBiosListedFirst",
       Ovmf,
       SetArch({0, 7}),
       DropReason::kNone,
       {.arch_code = 0, .arch_class = ArchClass::kBios, .uefi = false}},
      {"ArchOnlyUnknown",
       Ovmf,
       SetArch({2}),
       DropReason::kNone,
       {.arch_code = 2, .arch_known = false}},
      {"ArchOnlyUnknownCodes",
       Ovmf,
       SetArch({2, 8, 0x1234}),
       DropReason::kNone,
       {.arch_code = 2, .arch_known = false}},
      {"ArchX64Code7",
       Bios,
       SetArch({7}),
       DropReason::kNone,
       {.arch_code = 7,
        .arch_class = ArchClass::kUefiX64,
        .http = false,
        .uefi = true}},
      {"ArchX64Code9",
       Bios,
       SetArch({9}),
       DropReason::kNone,
       {.arch_code = 9,
        .arch_class = ArchClass::kUefiX64,
        .http = false,
        .uefi = true}},
      {"ArchIa32",
       Bios,
       SetArch({6}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiIa32, .http = false, .uefi = true}},
      {"ArchArm32",
       Bios,
       SetArch({10}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiArm32, .http = false, .uefi = true}},
      {"ArchArm64",
       Bios,
       SetArch({11}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiArm64, .http = false, .uefi = true}},
      {"ArchIa32Http",
       Bios,
       SetArch({15}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiIa32, .http = true, .uefi = true}},
      {"ArchX64Http",
       Bios,
       SetArch({16}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiX64, .http = true, .uefi = true}},
      {"ArchArm64Http",
       Bios,
       SetArch({19}),
       DropReason::kNone,
       {.arch_class = ArchClass::kUefiArm64, .http = true, .uefi = true}},
      {"ArchOddLengthListReadsWholeCodes",
       Ovmf,
       [](FrameSpec& s) {
         SetOption(s, Opt(93, {0, 2, 0, 11, 0}));
       },
       DropReason::kNone,
       {.arch_code = 11, .arch_class = ArchClass::kUefiArm64}},
      {"ArchOptionWinsOverVendorClass",
       Ovmf,
       [](FrameSpec& s) {
         SetOption(s, ArchOpt({0}));
         SetOption(s, Opt(60, "PXEClient:Arch:00007:UNDI:003000"));
       },
       DropReason::kNone,
       {.arch_code = 0, .arch_class = ArchClass::kBios}},

      // --- Architecture: option 60, then BIOS ---
      {"ArchFromVendorClass9",
       Ovmf,
       VendorClassOnly("PXEClient:Arch:00009:UNDI:003000"),
       DropReason::kNone,
       {.arch_code = 9, .arch_class = ArchClass::kUefiX64, .uefi = true}},
      {"ArchFromVendorClass11",
       Ovmf,
       VendorClassOnly("PXEClient:Arch:00011"),
       DropReason::kNone,
       {.arch_code = 11, .arch_class = ArchClass::kUefiArm64}},
      {"ArchFromHttpVendorClass",
       Ovmf,
       VendorClassOnly("HTTPClient:Arch:00019:UNDI:003001"),
       DropReason::kNone,
       {.kind = ClientKind::kHttp,
        .arch_code = 19,
        .arch_class = ArchClass::kUefiArm64,
        .http = true}},
      {"ArchUnknownInVendorClass",
       Ovmf,
       VendorClassOnly("PXEClient:Arch:00002:UNDI:003000"),
       DropReason::kNone,
       {.arch_code = 2, .arch_known = false}},
      {"NoArchAnywhereIsBios",
       Ovmf,
       VendorClassOnly("PXEClient"),
       DropReason::kNone,
       {.arch_code = 0,
        .arch_class = ArchClass::kBios,
        .uefi = false,
        .arch_known = true}},
      {"ArchWithTooFewDigitsIsBios",
       Ovmf,
       VendorClassOnly("PXEClient:Arch:0007"),
       DropReason::kNone,
       {.arch_code = 0, .arch_class = ArchClass::kBios, .arch_known = true}},
      {"ArchWithNonDigitIsBios",
       Ovmf,
       VendorClassOnly("PXEClient:Arch:000x7:UNDI:003000"),
       DropReason::kNone,
       {.arch_code = 0, .arch_class = ArchClass::kBios, .arch_known = true}},

      // --- UNDI (94) ---
      {"NoUndi",
       Ovmf,
       [](FrameSpec& s) { RemoveOption(s, 94); },
       DropReason::kNone,
       {.has_undi = false}},
      {"UndiOfTwoBytesIsIgnored",
       Ovmf,
       [](FrameSpec& s) {
         SetOption(s, Opt(94, {1, 3}));
       },
       DropReason::kNone,
       {.has_undi = false}},

      // --- UUID (97) ---
      {"UuidWellFormed",
       Ovmf,
       SetUuid(Uuid17(0xA0)),
       DropReason::kNone,
       {.uuid_present = true, .uuid = Uuid17(0xA0)}},
      {"UuidOf16Bytes",
       Ovmf,
       SetUuid(std::vector<uint8_t>(16, 0x42)),
       DropReason::kNone,
       {.uuid_present = true, .uuid = kEmpty}},
      {"UuidOf18Bytes",
       Ovmf,
       SetUuid(std::vector<uint8_t>(18, 0)),
       DropReason::kNone,
       {.uuid_present = true, .uuid = kEmpty}},
      {"UuidEmpty",
       Ovmf,
       SetUuid({}),
       DropReason::kNone,
       {.uuid_present = true, .uuid = kEmpty}},
      {"UuidOfTypeOne",
       Ovmf,
       [](FrameSpec& s) {
         std::vector<uint8_t> uuid = Uuid17(0xA0);
         uuid[0] = 1;
         SetOption(s, DhcpOption{97, uuid});
       },
       DropReason::kNone,
       {.uuid_present = true, .uuid = kEmpty}},
      {"NoUuid",
       Ovmf,
       [](FrameSpec& s) { RemoveOption(s, 97); },
       DropReason::kNone,
       {.uuid_present = false, .uuid = kEmpty}},
      {"UuidSplitInTwo",
       Ovmf,
       [](FrameSpec& s) {
         const std::vector<uint8_t> uuid = Uuid17(0x30);
         RemoveOption(s, 97);
         s.options.push_back(DhcpOption{97, {uuid.begin(), uuid.begin() + 5}});
         s.options.push_back(DhcpOption{97, {uuid.begin() + 5, uuid.end()}});
       },
       DropReason::kNone,
       {.uuid_present = true, .uuid = Uuid17(0x30)}},

      // --- iPXE (77 "iPXE", 175) ---
      {"IpxeByUserClassOnly",
       Bios,
       [](FrameSpec& s) { RemoveOption(s, 175); },
       DropReason::kNone,
       {.is_ipxe = true}},
      {"IpxeByEncapsulatedOptionsOnly",
       Bios,
       [](FrameSpec& s) { RemoveOption(s, 77); },
       DropReason::kNone,
       {.is_ipxe = true}},
      {"IpxeByEmptyEncapsulatedOptions",
       Ovmf,
       [](FrameSpec& s) {
         SetOption(s, Opt(175, std::initializer_list<uint8_t>{}));
       },
       DropReason::kNone,
       {.is_ipxe = true}},
      {"NotIpxeWithoutEither",
       Bios,
       [](FrameSpec& s) {
         RemoveOption(s, 77);
         RemoveOption(s, 175);
       },
       DropReason::kNone,
       {.is_ipxe = false}},
      {"OtherUserClassIsNotIpxe",
       Bios,
       [](FrameSpec& s) {
         RemoveOption(s, 175);
         SetOption(s, Opt(77, "iPXEx"));
       },
       DropReason::kNone,
       {.is_ipxe = false}},

      // --- Relay, flags ---
      {"RelayedDiscover",
       Ovmf,
       [](FrameSpec& s) {
         s.giaddr = kRelay;
         s.flags = 0;
         s.hops = 1;
       },
       DropReason::kNone,
       {.giaddr = kRelay, .broadcast = false}},
      {"BroadcastFlag",
       Bios,
       [](FrameSpec& s) { s.flags = 0x8000; },
       DropReason::kNone,
       {.broadcast = true}},
      {"OtherFlagBitsAreNotBroadcast",
       Bios,
       [](FrameSpec& s) { s.flags = 0x7FFF; },
       DropReason::kNone,
       {.broadcast = false}},
      {"RelayAgentInformation",
       Ovmf,
       [](FrameSpec& s) {
         s.giaddr = kRelay;
         s.options.push_back(
             Opt(82, {1, 4, 'e', 't', 'h', '1', 2, 2, 0xAB, 0xCD}));
       },
       DropReason::kNone,
       {.relay_info =
            std::vector<uint8_t>{1, 4, 'e', 't', 'h', '1', 2, 2, 0xAB, 0xCD},
        .giaddr = kRelay}},

      // --- Boot item (43.71) on 4011 ---
      {"BootItemAfterOtherSubOptions",
       Ovmf4011,
       [](FrameSpec& s) {
         s.options.push_back(Opt(43, {0, 0, 6, 1, 8, 71, 4, 0, 5, 0, 1, 255}));
       },
       DropReason::kNone,
       {.boot_item = std::vector<uint8_t>{0, 5, 0, 1}}},
      {"BootItemOfWrongLengthIsIgnored",
       Ovmf4011,
       [](FrameSpec& s) {
         s.options.push_back(Opt(43, {71, 2, 0x80, 0, 255}));
       },
       DropReason::kNone,
       {.boot_item = kEmpty}},
      {"BootItemCutShortIsIgnored",
       Ovmf4011,
       [](FrameSpec& s) {
         s.options.push_back(Opt(43, {71, 4, 0x80, 0}));
       },
       DropReason::kNone,
       {.boot_item = kEmpty}},
      {"BootItemAfterEndIsIgnored",
       Ovmf4011,
       [](FrameSpec& s) {
         s.options.push_back(Opt(43, {255, 71, 4, 0x80, 0, 0, 0}));
       },
       DropReason::kNone,
       {.boot_item = kEmpty}},
      {"BootItemOnPort67IsNotRead",
       Ovmf,
       [](FrameSpec& s) {
         s.options.push_back(Opt(43, {71, 4, 0x80, 0, 0, 0, 255}));
       },
       DropReason::kNone,
       {.boot_item = kEmpty}},

      // --- A DHCP server's reply ---
      {"ServerOffer",
       [] { return testing::ServerOffer(Ip(10, 77, 0, 1), kClient); },
       Nothing,
       DropReason::kServerReply,
       {.type = MT::kOffer,
        .xid = 0x12345678,
        .yiaddr = kClient,
        .server_id = Ip(10, 77, 0, 1),
        .broadcast = true,
        .chaddr = kClientMac}},
      {"ServerAckWithPxeClient",
       [] { return testing::ServerOffer(Ip(10, 77, 0, 1), kClient); },
       [](FrameSpec& s) {
         SetOption(s, MessageTypeOpt(5));
         s.options.push_back(Opt(60, "PXEClient"));
         s.chaddr = {0x52, 0x54, 0x00, 0x77, 0x00, 0x99};
       },
       DropReason::kServerReply,
       {.type = MT::kAck,
        .vendor_class = "PXEClient",
        .yiaddr = kClient,
        .chaddr = MacAddress{0x52, 0x54, 0x00, 0x77, 0x00, 0x99}}},
      {"ServerReplyWithoutServerId",
       [] { return testing::ServerOffer(Ip(10, 77, 0, 1), kClient); },
       [](FrameSpec& s) { RemoveOption(s, 54); },
       DropReason::kServerReply,
       {.yiaddr = kClient, .server_id = 0}},
  };
}

void CheckFields(const Request& r, const Expect& e) {
  if (e.type) {
    EXPECT_EQ(r.type, *e.type);
  }
  if (e.kind) {
    EXPECT_EQ(r.kind, *e.kind);
  }
  if (e.arch_code) {
    EXPECT_EQ(r.arch_code, *e.arch_code);
  }
  if (e.arch_class) {
    EXPECT_EQ(ArchClassName(r.arch.arch_class), ArchClassName(*e.arch_class));
  }
  if (e.http) {
    EXPECT_EQ(r.arch.http, *e.http);
  }
  if (e.uefi) {
    EXPECT_EQ(r.arch.uefi, *e.uefi);
  }
  if (e.arch_known) {
    EXPECT_EQ(r.arch_known, *e.arch_known);
  }
  if (e.is_ipxe) {
    EXPECT_EQ(r.is_ipxe, *e.is_ipxe);
  }
  if (e.has_undi) {
    EXPECT_EQ(r.has_undi, *e.has_undi);
  }
  if (e.undi) {
    EXPECT_EQ(r.undi, *e.undi);
  }
  if (e.uuid_present) {
    EXPECT_EQ(r.uuid_present, *e.uuid_present);
  }
  if (e.uuid) {
    EXPECT_EQ(Vec(r.uuid), *e.uuid);
  }
  if (e.boot_item) {
    EXPECT_EQ(Vec(r.boot_item), *e.boot_item);
  }
  if (e.relay_info) {
    EXPECT_EQ(Vec(r.relay_info), *e.relay_info);
  }
  if (e.vendor_class) {
    EXPECT_EQ(Str(r.vendor_class), *e.vendor_class);
  }
  if (e.xid) {
    EXPECT_EQ(r.xid, *e.xid);
  }
  if (e.ciaddr) {
    EXPECT_EQ(r.ciaddr, *e.ciaddr);
  }
  if (e.yiaddr) {
    EXPECT_EQ(r.yiaddr, *e.yiaddr);
  }
  if (e.giaddr) {
    EXPECT_EQ(r.giaddr, *e.giaddr);
    EXPECT_EQ(r.relayed(), *e.giaddr != 0);
  }
  if (e.server_id) {
    EXPECT_EQ(r.server_id, *e.server_id);
  }
  if (e.broadcast) {
    EXPECT_EQ(r.broadcast, *e.broadcast);
  }
  if (e.chaddr) {
    EXPECT_EQ(r.chaddr, *e.chaddr);
  }
}

class ClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, AnswersOnlyBootRequestsAndReadsTheClient) {
  const ClassifyCase& c = GetParam();
  FrameSpec spec = c.base();
  c.mutate(spec);
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto request = std::make_unique<Request>();
  const DropReason d = ClassifyFrame(frame, RxMeta{}, request.get());
  ASSERT_EQ(DropReasonName(d), DropReasonName(c.expected));
  CheckFields(*request, c.fields);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ClassifyTest, ::testing::ValuesIn(Cases()),
    [](const ::testing::TestParamInfo<ClassifyCase>& param_info) {
      return param_info.param.name;
    });

// --- Beyond the table ---

const std::array<InterfaceAddress, 1> kAddresses = {
    InterfaceAddress{kServer, 24}};
const ServerContext kContext{.mac = {0x02, 0, 0, 0, 0, 0x02},
                             .addresses = kAddresses};

const PolicySnapshot& EveryFilePolicy() {
  static const PolicySnapshot& policy = testing::Compiled(
      {.defaults = {.file = "pxelinux.0",
                    .http_url = "http://10.77.0.2/boot.efi"}});
  return policy;
}

TEST(ClassifyTest, OnlyUnknownArchitecturesAreNotServed) {
  for (auto mutate : {SetArch({2}), SetArch({1, 2, 3, 4, 5, 8})}) {
    FrameSpec spec = Ovmf();
    mutate(spec);
    auto request = std::make_unique<Request>();
    ASSERT_EQ(ClassifyFrame(BuildFrame(spec), RxMeta{}, request.get()),
              DropReason::kNone);
    EXPECT_FALSE(request->arch_known);
    ReplyPlan plan;
    EXPECT_EQ(Decide(*request, EveryFilePolicy(), kContext, &plan),
              DropReason::kUnknownArch);
  }
  FrameSpec spec = Ovmf();
  VendorClassOnly("PXEClient:Arch:00001:UNDI:003000")(spec);
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  auto request = std::make_unique<Request>();
  EXPECT_EQ(Respond(BuildFrame(spec), RxMeta{}, EveryFilePolicy(), kContext,
                    request.get(), out, &size),
            DropReason::kUnknownArch);
  EXPECT_EQ(size, 0u);
}

// Option codes of a reply, in order (options field only).
std::vector<uint8_t> OptionCodes(const Request& reply) {
  std::vector<uint8_t> codes;
  std::span<const uint8_t> o = reply.bootp.options();
  for (size_t i = 0; i < o.size() && o[i] != 255;) {
    if (o[i] == 0) {
      ++i;
      continue;
    }
    codes.push_back(o[i]);
    i += 2 + size_t{o[i + 1]};
  }
  return codes;
}

// A Request object is reused for every frame a worker sees. Whatever the
// previous client sent must not leak into the next one's reply.
TEST(ClassifyRegressionTest, NothingSurvivesIntoTheNextRequest) {
  FrameSpec rich = Ipxe4011();  // 97, 43.71, iPXE 77 + 175, 94
  SetOption(rich, ArchOpt({7}));
  SetOption(rich, Opt(60, "PXEClient:Arch:00007:UNDI:003016"));
  rich.options.push_back(Opt(82, {1, 3, 'p', 'o', 'e'}));
  rich.giaddr = kRelay;
  rich.vlan_tci = 12;
  FrameSpec bare = Ovmf4011();
  bare.xid = 0x0BADCAFE;
  RemoveOption(bare, 97);
  RemoveOption(bare, 93);
  RemoveOption(bare, 94);
  SetOption(bare, Opt(60, "PXEClient"));
  const std::vector<uint8_t> rich_frame = BuildFrame(rich);
  const std::vector<uint8_t> bare_frame = BuildFrame(bare);

  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(rich_frame, RxMeta{}, request.get()),
            DropReason::kNone);
  ASSERT_FALSE(request->uuid.empty());
  ASSERT_FALSE(request->boot_item.empty());
  ASSERT_FALSE(request->relay_info.empty());
  ASSERT_TRUE(request->is_ipxe);
  ASSERT_TRUE(request->has_undi);
  ASSERT_EQ(request->arch_code, 7);
  ASSERT_TRUE(request->frame.has_vlan);

  ASSERT_EQ(ClassifyFrame(bare_frame, RxMeta{}, request.get()),
            DropReason::kNone);
  EXPECT_TRUE(request->uuid.empty());
  EXPECT_FALSE(request->uuid_present);
  EXPECT_TRUE(request->boot_item.empty());
  EXPECT_TRUE(request->relay_info.empty());
  EXPECT_FALSE(request->is_ipxe);
  EXPECT_FALSE(request->has_undi);
  EXPECT_EQ(request->undi, (std::array<uint8_t, 3>{0, 0, 0}));
  EXPECT_EQ(request->arch_code, 0);
  EXPECT_EQ(request->arch.arch_class, ArchClass::kBios);
  EXPECT_FALSE(request->arch.uefi);
  EXPECT_EQ(request->giaddr, 0u);
  EXPECT_FALSE(request->frame.has_vlan);
  EXPECT_EQ(request->xid, 0x0BADCAFEu);

  // And the reply to the second client carries nothing of the first.
  ReplyPlan plan;
  // The plan points into the policy, which must outlive the reply.
  const PolicySnapshot& policy = EveryFilePolicy();
  ASSERT_EQ(Decide(*request, policy, kContext, &plan), DropReason::kNone);
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  const size_t size = CraftReply(*request, plan, kContext, out);
  ASSERT_GT(size, 0u);
  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame({out.data(), size}, RxMeta{}, reply.get()),
            DropReason::kServerReply);
  EXPECT_EQ(reply->xid, 0x0BADCAFEu);
  EXPECT_FALSE(reply->frame.has_vlan);
  EXPECT_FALSE(reply->options.Has(dhcp::kClientUuid));
  EXPECT_FALSE(reply->options.Has(dhcp::kRelayAgentInfo));
  EXPECT_FALSE(reply->options.Has(dhcp::kVendorSpecific));
  EXPECT_EQ(OptionCodes(*reply), (std::vector<uint8_t>{53, 54, 60}));
  EXPECT_EQ(reply->giaddr, 0u);
}

TEST(ClassifyRegressionTest, NothingSurvivesADroppedFrame) {
  FrameSpec rich = Ipxe4011();
  rich.options.push_back(Opt(82, {1, 3, 'p', 'o', 'e'}));
  const std::vector<uint8_t> rich_frame = BuildFrame(rich);
  FrameSpec broken = Ovmf4011();
  broken.ip_checksum = 0x1234;
  const std::vector<uint8_t> broken_frame = BuildFrame(broken);
  FrameSpec plain = testing::PlainDhcpDiscover();
  const std::vector<uint8_t> plain_frame = BuildFrame(plain);

  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(rich_frame, RxMeta{}, request.get()),
            DropReason::kNone);
  ASSERT_EQ(ClassifyFrame(broken_frame, RxMeta{}, request.get()),
            DropReason::kBadIpChecksum);
  EXPECT_TRUE(request->uuid.empty());
  EXPECT_TRUE(request->boot_item.empty());
  EXPECT_TRUE(request->relay_info.empty());
  EXPECT_FALSE(request->is_ipxe);
  EXPECT_EQ(request->kind, ClientKind::kNotBooting);
  EXPECT_EQ(request->type, MT::kNone);

  ASSERT_EQ(ClassifyFrame(rich_frame, RxMeta{}, request.get()),
            DropReason::kNone);
  ASSERT_EQ(ClassifyFrame(plain_frame, RxMeta{}, request.get()),
            DropReason::kNotBooting);
  EXPECT_EQ(request->kind, ClientKind::kNotBooting);
  EXPECT_TRUE(request->uuid.empty());
  EXPECT_FALSE(request->is_ipxe);
  EXPECT_TRUE(request->vendor_class.empty());
  EXPECT_EQ(request->chaddr, (MacAddress{0x52, 0x54, 0x00, 0x77, 0x00, 0x20}));
}

TEST(ClassifyTest, VlanTagOfTheRequestIsRecorded) {
  FrameSpec spec = Ovmf();
  spec.vlan_tci = 0x2005;
  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(BuildFrame(spec), RxMeta{}, request.get()),
            DropReason::kNone);
  EXPECT_TRUE(request->frame.has_vlan);
  EXPECT_EQ(request->frame.vlan_id(), 5);
  RxMeta meta;
  meta.vlan_valid = true;
  meta.vlan_tci = 9;
  ASSERT_EQ(ClassifyFrame(BuildFrame(Ovmf()), meta, request.get()),
            DropReason::kNone);
  EXPECT_TRUE(request->frame.has_vlan);
  EXPECT_EQ(request->frame.vlan_id(), 9);
}

}  // namespace
}  // namespace pxe
