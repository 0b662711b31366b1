// Decide() and the reply frame it leads to, as a PXE client and a LAN admin
// see them (RFC 2131 §2-4, PXE 2.1 §2, RFC 4578, RFC 3046): what each kind of
// client is offered on 67 and acknowledged on 4011, where the reply goes, and
// which of our addresses it comes from. Every reply is read back with the
// engine's own parser, which verifies the IPv4 and UDP checksums.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
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
using ::pxe::testing::BuildFrame;
using ::pxe::testing::DhcpOption;
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
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kRelayMac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

const std::array<InterfaceAddress, 2> kTwoAddresses = {
    InterfaceAddress{kServer, 24}, InterfaceAddress{kServer2, 24}};
const std::array<InterfaceAddress, 2> kTwoAddressesSecondFirst = {
    InterfaceAddress{kServer2, 24}, InterfaceAddress{kServer, 24}};

ServerContext Context(
    std::span<const InterfaceAddress> addresses = kTwoAddresses,
    uint32_t offered = 0) {
  return ServerContext{
      .mac = kServerMac, .addresses = addresses, .offered_address = offered};
}

size_t Index(ArchClass arch_class) { return static_cast<size_t>(arch_class); }

// pxelinux for BIOS and everything without an entry of its own, syslinux for
// x64 UEFI and GRUB for ARM64 UEFI; a TFTP server of its own.
BootPolicy DefaultPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.files[Index(ArchClass::kUefiX64)] = "efi64/syslinux.efi";
  policy.defaults.files[Index(ArchClass::kUefiArm64)] = "arm64/grubnetaa64.efi";
  policy.defaults.tftp_server = kTftp;
  return policy;
}

std::vector<uint8_t> Vec(std::span<const uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// A NUL-terminated BOOTP field as text; "<unterminated>" if it has no NUL.
std::string FieldText(std::span<const uint8_t> field) {
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == 0) return std::string(field.begin(), field.begin() + i);
  }
  return "<unterminated>";
}

std::vector<uint8_t> Uuid17(uint8_t first) {
  std::vector<uint8_t> uuid = {0};
  for (int i = 0; i < 16; ++i) uuid.push_back(static_cast<uint8_t>(first + i));
  return uuid;
}

std::string Url(size_t length) {
  std::string url = "http://10.77.0.2/";
  while (url.size() < length) {
    url.push_back(static_cast<char>('a' + url.size() % 26));
  }
  return url;
}

// --- Requests ---

FrameSpec Bios() { return testing::BiosIpxeDiscover(); }
FrameSpec Ovmf() { return testing::UefiOvmfDiscover(); }
FrameSpec Ovmf4011() { return testing::UefiOvmfRequest4011(kClient, kServer); }
FrameSpec Ipxe4011() { return testing::BiosIpxeRequest4011(kClient, kServer); }
// EDK2 UEFI HTTP boot, x64.
FrameSpec Http() {
  FrameSpec spec = Ovmf();
  SetOption(spec, ArchOpt({16}));
  SetOption(spec, Opt(60, "HTTPClient:Arch:00016:UNDI:003001"));
  return spec;
}
FrameSpec Http4011() {
  FrameSpec spec = Ovmf4011();
  SetOption(spec, ArchOpt({16}));
  SetOption(spec, Opt(60, "HTTPClient:Arch:00016:UNDI:003001"));
  return spec;
}
// The request as relayed: from the relay's address and MAC, to our address.
void Relay(FrameSpec& s) {
  s.giaddr = kRelay;
  s.hops = 1;
  s.eth_src = kRelayMac;
  s.eth_dst = kServerMac;
  s.ip_src = kRelay;
  s.ip_dst = kServer2;
  s.src_port = 67;
}
void Nothing(FrameSpec&) {}
void Default(BootPolicy&) {}

// --- Expected replies ---

// What the client sees. Unset destination fields default to a broadcast
// OFFER's (ff:ff:ff:ff:ff:ff, 255.255.255.255, 67 -> 68) or, for an ACK, to
// the request's source MAC, ciaddr and source port, from 4011.
struct Want {
  MT type = MT::kOffer;
  uint32_t siaddr = kTftp;
  std::string file;                            // the file field's text
  std::string sname;                           // the sname field's text
  std::optional<std::vector<uint8_t>> vendor;  // option 43; unset: absent
  std::string vendor_class = "PXEClient";
  std::optional<std::string> option67;             // unset: absent
  std::optional<std::vector<uint8_t>> uuid;        // unset: no 97
  std::optional<std::vector<uint8_t>> relay_info;  // unset: no 82
  std::optional<uint16_t> vlan_tci;                // unset: untagged
  uint32_t src_ip = kServer;
  std::optional<MacAddress> dst_mac;
  std::optional<uint32_t> dst_ip;
  std::optional<uint16_t> dst_port;
};

const std::vector<uint8_t> kDiscoveryControl = {6, 1, 8, 255};
const std::vector<uint8_t> kOvmfUuid(17, 0);
const std::vector<uint8_t> kIpxeUuid = Uuid17(0x11);

struct DecideCase {
  std::string name;
  FrameSpec (*base)();
  std::function<void(FrameSpec&)> mutate;
  std::function<void(BootPolicy&)> configure;
  DropReason expected;
  Want want;
  RxMeta meta = {};
};

void PrintTo(const DecideCase& c, std::ostream* os) { *os << c.name; }

// Option codes of a reply's options field, in order.
std::vector<uint8_t> OptionCodes(const Request& reply) {
  std::vector<uint8_t> codes;
  std::span<const uint8_t> o = reply.bootp.options();
  for (size_t i = 0; i < o.size() && o[i] != 255;) {
    if (o[i] == 0) {
      ++i;
      continue;
    }
    codes.push_back(o[i]);
    if (i + 1 >= o.size()) break;
    i += 2 + size_t{o[i + 1]};
  }
  return codes;
}

// Everything a client, a relay or a packet capture would check in a reply
// to `spec`.
void CheckReply(const FrameSpec& spec, std::span<const uint8_t> frame,
                const Want& want) {
  auto reply = std::make_unique<Request>();
  // kServerReply: a BOOTREPLY whose IPv4 and UDP checksums verify.
  ASSERT_EQ(DropReasonName(ClassifyFrame(frame, RxMeta{}, reply.get())),
            DropReasonName(DropReason::kServerReply));
  const Request& r = *reply;
  const bool offer = want.type == MT::kOffer;
  ASSERT_EQ(r.type, want.type);

  // Ethernet and 802.1Q.
  EXPECT_EQ(r.frame.eth_src, kServerMac);
  EXPECT_EQ(r.frame.eth_dst,
            want.dst_mac.value_or(offer ? kBroadcastMac : spec.eth_src));
  EXPECT_EQ(r.frame.has_vlan, want.vlan_tci.has_value());
  if (want.vlan_tci) {
    EXPECT_EQ(r.frame.vlan_tci, *want.vlan_tci);
  }

  // IPv4: IHL 5, TTL 64, TOS 0xC0.
  const size_t ip = want.vlan_tci ? 18 : 14;
  EXPECT_EQ(frame[ip], 0x45);
  EXPECT_EQ(frame[ip + 8], 64);
  EXPECT_EQ(r.frame.ip_tos, 0xC0);
  EXPECT_EQ(r.frame.ip_src, want.src_ip);
  EXPECT_EQ(r.frame.ip_dst,
            want.dst_ip.value_or(offer ? 0xFFFFFFFF : spec.ciaddr));

  // UDP.
  EXPECT_EQ(r.frame.udp_src, offer ? 67 : 4011);
  EXPECT_EQ(r.frame.udp_dst,
            want.dst_port.value_or(offer ? 68 : spec.src_port));

  // BOOTP fixed header.
  const BootpView& b = r.bootp;
  EXPECT_EQ(b.htype(), 1);
  EXPECT_EQ(b.hlen(), 6);
  EXPECT_EQ(r.frame.payload[bootp::kHops], 0);
  EXPECT_EQ(LoadBe16(r.frame.payload.data() + bootp::kSecs), 0);
  EXPECT_EQ(r.xid, spec.xid);
  std::array<uint8_t, 16> chaddr{};
  std::copy(spec.chaddr.begin(), spec.chaddr.end(), chaddr.begin());
  EXPECT_EQ(Vec({b.chaddr_field(), 16}), Vec(chaddr));
  EXPECT_EQ(r.giaddr, spec.giaddr);
  EXPECT_EQ(b.siaddr(), want.siaddr);
  if (offer) {
    EXPECT_EQ(r.yiaddr, 0u);  // never an address: that is the DHCP server's
    EXPECT_EQ(r.ciaddr, 0u);
    EXPECT_EQ(b.flags(), bootp::kFlagBroadcast);  // relayed offers too
  } else {
    EXPECT_TRUE(r.yiaddr == 0 || r.yiaddr == spec.ciaddr) << r.yiaddr;
    EXPECT_TRUE(r.ciaddr == 0 || r.ciaddr == spec.ciaddr) << r.ciaddr;
  }
  EXPECT_EQ(FieldText(b.sname()), want.sname);
  EXPECT_EQ(FieldText(b.file()), want.file);
  EXPECT_GE(r.frame.payload.size(), bootp::kMinMessageSize);

  // Options.
  EXPECT_EQ(Vec(r.options.First(dhcp::kServerId)),
            (std::vector<uint8_t>{static_cast<uint8_t>(want.src_ip >> 24),
                                  static_cast<uint8_t>(want.src_ip >> 16),
                                  static_cast<uint8_t>(want.src_ip >> 8),
                                  static_cast<uint8_t>(want.src_ip)}));
  EXPECT_EQ(std::string(r.vendor_class.begin(), r.vendor_class.end()),
            want.vendor_class);
  auto optional_option =
      [&r](uint8_t code) -> std::optional<std::vector<uint8_t>> {
    if (!r.options.Has(code)) return std::nullopt;
    std::array<uint8_t, 1024> scratch;
    return Vec(r.options.Get(code, scratch));
  };
  EXPECT_EQ(optional_option(dhcp::kVendorSpecific), want.vendor);
  EXPECT_EQ(optional_option(dhcp::kClientUuid), want.uuid);
  EXPECT_EQ(optional_option(dhcp::kRelayAgentInfo), want.relay_info);
  std::optional<std::vector<uint8_t>> option67 =
      optional_option(dhcp::kBootFileName);
  EXPECT_EQ(option67 ? std::optional<std::string>(
                           std::string(option67->begin(), option67->end()))
                     : std::nullopt,
            want.option67);
  for (uint8_t lease_option : {1, 3, 6, 51, 58, 59}) {
    EXPECT_FALSE(r.options.Has(lease_option)) << int{lease_option};
  }
  EXPECT_FALSE(r.options.Has(dhcp::kOverload));
  // 53 54 60 97 43 67 82, each at most once in that order (82 may repeat
  // when longer than 255 bytes).
  const std::vector<uint8_t> order = {53, 54, 60, 97, 43, 67, 82};
  std::vector<uint8_t> codes = OptionCodes(r);
  ASSERT_GE(codes.size(), 3u);
  EXPECT_EQ(codes[0], 53);
  EXPECT_EQ(codes[1], 54);
  EXPECT_EQ(codes[2], 60);
  size_t previous = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    auto at = std::find(order.begin(), order.end(), codes[i]);
    ASSERT_NE(at, order.end()) << "unexpected option " << int{codes[i]};
    const size_t rank = static_cast<size_t>(at - order.begin());
    if (i > 0) {
      EXPECT_TRUE(rank > previous || (rank == previous && codes[i] == 82))
          << "option " << int{codes[i]} << " out of order";
    }
    previous = rank;
  }
}

// --- The table ---

Want Ack(Want want) {
  want.type = MT::kAck;
  return want;
}

std::vector<DecideCase> Cases() {
  std::vector<DecideCase> cases = {
      // --- OFFER on 67 ---
      {"BiosOffer", Bios, Nothing, Default, DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid}},
      {"BiosOfferWithoutTftpServerNamesUs", Bios, Nothing,
       [](BootPolicy& p) { p.defaults.tftp_server = 0; }, DropReason::kNone,
       {.siaddr = kServer,
        .file = "pxelinux.0",
        .sname = "10.77.0.2",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid}},
      {"BiosOfferPerArchFile", Bios, Nothing,
       [](BootPolicy& p) {
         p.defaults.files[Index(ArchClass::kBios)] = "bios/lpxelinux.0";
       },
       DropReason::kNone,
       {.file = "bios/lpxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid}},
      {"UefiX64BinlOffer", Ovmf, Nothing, Default, DropReason::kNone,
       {.siaddr = kServer, .uuid = kOvmfUuid}},
      {"UefiX64Code9BinlOffer", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({9})); }, Default,
       DropReason::kNone, {.siaddr = kServer, .uuid = kOvmfUuid}},
      {"UefiIa32BinlOffer", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({6})); }, Default,
       DropReason::kNone, {.siaddr = kServer, .uuid = kOvmfUuid}},
      {"UefiArm64BinlOffer", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({11})); }, Default,
       DropReason::kNone, {.siaddr = kServer, .uuid = kOvmfUuid}},
      {"UefiX64DirectOffer", Ovmf, Nothing,
       [](BootPolicy& p) { p.uefi_offer_style = UefiOfferStyle::kDirect; },
       DropReason::kNone,
       {.file = "efi64/syslinux.efi",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kOvmfUuid}},
      {"UefiArm64DirectOffer", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({11})); },
       [](BootPolicy& p) { p.uefi_offer_style = UefiOfferStyle::kDirect; },
       DropReason::kNone,
       {.file = "arm64/grubnetaa64.efi",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kOvmfUuid}},
      {"UefiIa32DirectOfferGetsDefaultFile", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({6})); },
       [](BootPolicy& p) { p.uefi_offer_style = UefiOfferStyle::kDirect; },
       DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kOvmfUuid}},
      {"NoFileForBios", Bios, Nothing,
       [](BootPolicy& p) { p.defaults.file.clear(); }, DropReason::kNoBootFile},
      {"NoFileForUefiIa32EvenInBinlStyle", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({6})); },
       [](BootPolicy& p) { p.defaults.file.clear(); }, DropReason::kNoBootFile},

      // --- iPXE ---
      {"BiosIpxeWithScriptGetsScript", Bios, Nothing,
       [](BootPolicy& p) { p.defaults.ipxe_script = "http://10.77.0.2/boot.ipxe"; },
       DropReason::kNone,
       {.file = "http://10.77.0.2/boot.ipxe",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid}},
      {"UefiIpxeWithScriptGetsScriptDirect", Ovmf,
       [](FrameSpec& s) {
         s.options.push_back(Opt(77, "iPXE"));
         s.options.push_back(Opt(175, {0xb1, 0x05, 0x01, 0x80, 0x86}));
       },
       [](BootPolicy& p) { p.defaults.ipxe_script = "boot.ipxe"; }, DropReason::kNone,
       {.file = "boot.ipxe",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kOvmfUuid}},
      {"UefiIpxeWithoutScriptIsBinl", Ovmf,
       [](FrameSpec& s) { s.options.push_back(Opt(77, "iPXE")); }, Default,
       DropReason::kNone, {.siaddr = kServer, .uuid = kOvmfUuid}},
      {"NonIpxeClientIgnoresScript", Bios,
       [](FrameSpec& s) {
         RemoveOption(s, 77);
         RemoveOption(s, 175);
       },
       [](BootPolicy& p) { p.defaults.ipxe_script = "boot.ipxe"; }, DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid}},
      {"IpxeAckWithScript", Ipxe4011, Nothing,
       [](BootPolicy& p) { p.defaults.ipxe_script = "boot.ipxe"; }, DropReason::kNone,
       Ack({.file = "boot.ipxe",
            .sname = "10.77.0.9",
            .vendor = std::vector<uint8_t>{71, 4, 0x80, 0, 0, 0, 255},
            .uuid = kIpxeUuid})},
      {"IpxeAckWithoutScriptGetsNbp", Ipxe4011, Nothing, Default,
       DropReason::kNone,
       Ack({.file = "pxelinux.0",
            .sname = "10.77.0.9",
            .vendor = std::vector<uint8_t>{71, 4, 0x80, 0, 0, 0, 255},
            .uuid = kIpxeUuid,
            .dst_port = 68})},

      // --- HTTP boot ---
      {"HttpClientOffer", Http, Nothing,
       [](BootPolicy& p) { p.defaults.http_url = "http://10.77.0.2/efi64/shim.efi"; },
       DropReason::kNone,
       {.siaddr = kServer,
        .file = "http://10.77.0.2/efi64/shim.efi",
        .vendor_class = "HTTPClient",
        .uuid = kOvmfUuid}},
      {"HttpClientPerArchUrl", Http, Nothing,
       [](BootPolicy& p) {
         p.defaults.http_url = "http://10.77.0.2/default.efi";
         p.defaults.http_urls[Index(ArchClass::kUefiX64)] =
             "http://10.77.0.2/x64.efi";
       },
       DropReason::kNone,
       {.siaddr = kServer,
        .file = "http://10.77.0.2/x64.efi",
        .vendor_class = "HTTPClient",
        .uuid = kOvmfUuid}},
      {"HttpArchCodeWithPxeClientPrefix", Ovmf,
       [](FrameSpec& s) { SetOption(s, ArchOpt({19})); },
       [](BootPolicy& p) { p.defaults.http_url = "http://10.77.0.2/arm64.efi"; },
       DropReason::kNone,
       {.siaddr = kServer,
        .file = "http://10.77.0.2/arm64.efi",
        .vendor_class = "HTTPClient",
        .uuid = kOvmfUuid}},
      {"HttpWithoutUrl", Http, Nothing, Default, DropReason::kNoBootFile},
      {"HttpWithUrlForAnotherArch", Http, Nothing,
       [](BootPolicy& p) {
         p.defaults.http_urls[Index(ArchClass::kUefiArm64)] = "http://a/b.efi";
       },
       DropReason::kNoBootFile},
      {"HttpUrlOf127BytesFitsTheFileField", Http, Nothing,
       [](BootPolicy& p) { p.defaults.http_url = Url(127); }, DropReason::kNone,
       {.siaddr = kServer,
        .file = Url(127),
        .vendor_class = "HTTPClient",
        .uuid = kOvmfUuid}},
      {"HttpUrlOf128BytesGoesInOption67", Http, Nothing,
       [](BootPolicy& p) { p.defaults.http_url = Url(128); }, DropReason::kNone,
       {.siaddr = kServer,
        .vendor_class = "HTTPClient",
        .option67 = Url(128),
        .uuid = kOvmfUuid}},
      {"HttpUrlOf255BytesGoesInOption67", Http, Nothing,
       [](BootPolicy& p) { p.defaults.http_url = Url(255); }, DropReason::kNone,
       {.siaddr = kServer,
        .vendor_class = "HTTPClient",
        .option67 = Url(255),
        .uuid = kOvmfUuid}},
      {"HttpAck", Http4011, Nothing,
       [](BootPolicy& p) { p.defaults.http_url = Url(200); }, DropReason::kNone,
       Ack({.siaddr = kServer,
            .vendor_class = "HTTPClient",
            .option67 = Url(200),
            .uuid = kOvmfUuid})},

      // --- Destinations ---
      {"OfferToConfiguredBroadcast", Bios, Nothing,
       [](BootPolicy& p) { p.offer_broadcast = Ip(10, 77, 0, 255); },
       DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid,
        .dst_mac = kBroadcastMac,
        .dst_ip = Ip(10, 77, 0, 255)}},
      {"RelayedUefiOfferGoesToTheRelay", Ovmf, Relay, Default,
       DropReason::kNone,
       {.siaddr = kServer2,
        .uuid = kOvmfUuid,
        .src_ip = kServer2,
        .dst_mac = kRelayMac,
        .dst_ip = kRelay,
        .dst_port = 67}},
      {"RelayedBiosOfferIsBroadcastFlagged", Bios, Relay, Default,
       DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid,
        .src_ip = kServer2,
        .dst_mac = kRelayMac,
        .dst_ip = kRelay,
        .dst_port = 67}},
      {"RelayAgentInformationEchoed", Ovmf,
       [](FrameSpec& s) {
         Relay(s);
         s.options.push_back(Opt(82, {1, 4, 'p', 'o', 'r', 't', 2, 1, 9}));
       },
       Default, DropReason::kNone,
       {.siaddr = kServer2,
        .uuid = kOvmfUuid,
        .relay_info = std::vector<uint8_t>{1, 4, 'p', 'o', 'r', 't', 2, 1, 9},
        .src_ip = kServer2,
        .dst_mac = kRelayMac,
        .dst_ip = kRelay,
        .dst_port = 67}},
      {"RelayAgentInformationOf256BytesEchoedWhole", Ovmf,
       [](FrameSpec& s) {
         Relay(s);
         s.options.push_back(DhcpOption{82, std::vector<uint8_t>(200, 0x82)});
         s.options.push_back(DhcpOption{82, std::vector<uint8_t>(56, 0x28)});
       },
       Default, DropReason::kNone,
       {.siaddr = kServer2,
        .uuid = kOvmfUuid,
        .relay_info =
            [] {
              std::vector<uint8_t> v(200, 0x82);
              v.resize(256, 0x28);
              return v;
            }(),
        .src_ip = kServer2,
        .dst_mac = kRelayMac,
        .dst_ip = kRelay,
        .dst_port = 67}},
      {"OvmfAckToItsPort4011", Ovmf4011, Nothing, Default, DropReason::kNone,
       Ack({.file = "efi64/syslinux.efi",
            .sname = "10.77.0.9",
            .uuid = kOvmfUuid,
            .dst_mac = kClientMac,
            .dst_ip = kClient,
            .dst_port = 4011})},
      {"InformIsAcked", Ovmf4011,
       [](FrameSpec& s) { SetOption(s, MessageTypeOpt(8)); }, Default,
       DropReason::kNone,
       Ack({.file = "efi64/syslinux.efi",
            .sname = "10.77.0.9",
            .uuid = kOvmfUuid})},
      // A ciaddr that is not the source would steer the ACK elsewhere.
      {"CiaddrOtherThanTheSourceIsRefused", Ipxe4011,
       [](FrameSpec& s) { s.ciaddr = Ip(10, 77, 0, 51); }, Default,
       DropReason::kCiaddrNotSource},
      {"AckWithoutCiaddrToSourceIp", Ipxe4011,
       [](FrameSpec& s) { s.ciaddr = 0; }, Default, DropReason::kNone,
       Ack({.file = "pxelinux.0",
            .sname = "10.77.0.9",
            .vendor = std::vector<uint8_t>{71, 4, 0x80, 0, 0, 0, 255},
            .uuid = kIpxeUuid,
            .dst_ip = kClient,
            .dst_port = 68})},
      {"AckWithNoClientAddress", Ipxe4011,
       [](FrameSpec& s) {
         s.ciaddr = 0;
         s.ip_src = 0;
       },
       Default, DropReason::kNoClientAddress},

      // --- 802.1Q ---
      {"OfferKeepsVlanTagOfTheFrame", Bios,
       [](FrameSpec& s) { s.vlan_tci = 0x6064; }, Default, DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid,
        .vlan_tci = 0x6064}},
      {"OfferKeepsVlanTagFromTheKernel", Bios, Nothing, Default,
       DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl,
        .uuid = kIpxeUuid,
        .vlan_tci = 0x000C},
       RxMeta{.vlan_valid = true, .vlan_tci = 0x000C}},
      {"AckKeepsVlanTag", Ovmf4011, [](FrameSpec& s) { s.vlan_tci = 0x0FFE; },
       Default, DropReason::kNone,
       Ack({.file = "efi64/syslinux.efi",
            .sname = "10.77.0.9",
            .uuid = kOvmfUuid,
            .vlan_tci = 0x0FFE})},

      // --- UUID echo ---
      {"MalformedUuidIsNotEchoed", Bios,
       [](FrameSpec& s) {
         SetOption(s, DhcpOption{97, std::vector<uint8_t>(16, 7)});
       },
       Default, DropReason::kNone,
       {.file = "pxelinux.0",
        .sname = "10.77.0.9",
        .vendor = kDiscoveryControl}},
      {"NoUuidNoEcho", Ovmf, [](FrameSpec& s) { RemoveOption(s, 97); },
       Default, DropReason::kNone, {.siaddr = kServer}},
  };

  // A 4011 ACK for every architecture we serve: the TFTP server, its name
  // and the file, and no option 43 without a boot item to echo.
  struct ArchFile {
    uint16_t code;
    std::string file;
  };
  for (const ArchFile& a : std::vector<ArchFile>{{0, "pxelinux.0"},
                                                 {6, "pxelinux.0"},
                                                 {7, "efi64/syslinux.efi"},
                                                 {9, "efi64/syslinux.efi"},
                                                 {10, "pxelinux.0"},
                                                 {11, "arm64/grubnetaa64.efi"},
                                                 {21, "pxelinux.0"},
                                                 {22, "pxelinux.0"},
                                                 {25, "pxelinux.0"},
                                                 {27, "pxelinux.0"}}) {
    const uint16_t code = a.code;
    cases.push_back(
        {"AckForArch" + std::to_string(code), Ovmf4011,
         [code](FrameSpec& s) { SetOption(s, ArchOpt({code})); }, Default,
         DropReason::kNone,
         Ack({.file = a.file, .sname = "10.77.0.9", .uuid = kOvmfUuid})});
  }
  return cases;
}

class DecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTest, ReplyAsTheClientSeesIt) {
  const DecideCase& c = GetParam();
  FrameSpec spec = c.base();
  c.mutate(spec);
  BootPolicy policy = DefaultPolicy();
  c.configure(policy);
  const PolicySnapshot& snapshot = testing::Compiled(policy);
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  const DropReason d =
      Respond(frame, c.meta, snapshot, Context(), request.get(), out, &size);
  ASSERT_EQ(DropReasonName(d), DropReasonName(c.expected));
  if (d != DropReason::kNone) {
    EXPECT_EQ(size, 0u);
    return;
  }
  ASSERT_GT(size, 0u);
  ASSERT_LE(size, out.size());
  CheckReply(spec, {out.data(), size}, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Replies, DecideTest, ::testing::ValuesIn(Cases()),
    [](const ::testing::TestParamInfo<DecideCase>& param_info) {
      return param_info.param.name;
    });

// --- Which of our addresses answers ---

struct AddressCase {
  std::string name;
  FrameSpec (*base)();
  std::function<void(FrameSpec&)> mutate;
  std::function<void(BootPolicy&)> configure;
  std::span<const InterfaceAddress> addresses;
  uint32_t offered;   // what the LAN's DHCP server offered, 0 = not seen
  uint32_t expected;  // 0: none (kNoServerAddress)
};

void PrintTo(const AddressCase& c, std::ostream* os) { *os << c.name; }

FrameSpec Ovmf4011ToServer2() {
  return testing::UefiOvmfRequest4011(kClient, kServer2);
}
FrameSpec Ovmf4011FromClient2ToServer() {
  return testing::UefiOvmfRequest4011(kClient2, kServer);
}
// A 4011 request to an address that is not ours (a stale siaddr, another
// proxy's), seen because it came to our MAC.
FrameSpec Ovmf4011ToOther() {
  return testing::UefiOvmfRequest4011(kClient2, Ip(10, 99, 0, 1));
}

std::vector<AddressCase> AddressCases() {
  const std::span<const InterfaceAddress> two = kTwoAddresses;
  const std::span<const InterfaceAddress> swapped = kTwoAddressesSecondFirst;
  const std::span<const InterfaceAddress> none;
  auto listen = [](uint32_t a) {
    return [a](BootPolicy& p) { p.listen_address = a; };
  };
  auto relay_via = [](uint32_t giaddr) {
    return [giaddr](FrameSpec& s) {
      Relay(s);
      s.giaddr = giaddr;
      s.ip_src = giaddr;
    };
  };
  auto relay_servers = [](uint32_t network, uint8_t prefix, uint32_t server,
                          uint32_t listen_address) {
    return [=](BootPolicy& p) {
      p.relay_servers.push_back(
          {.relay_subnet = {.network = network, .prefix_length = prefix},
           .server = server});
      p.listen_address = listen_address;
    };
  };
  return {
      // 4011: the address the client asked.
      {"Pxe4011ToOurSecondAddress", Ovmf4011ToServer2, Nothing, Default, two, 0,
       kServer2},
      {"Pxe4011ToOurFirstAddress", Ovmf4011FromClient2ToServer, Nothing,
       Default, two, 0, kServer},
      {"Pxe4011ToOurAddressBeatsListen", Ovmf4011ToServer2, Nothing,
       listen(kServer), two, 0, kServer2},
      {"Pxe4011ElsewhereCiaddrSubnet", Ovmf4011ToOther, Nothing,
       listen(kServer), two, 0, kServer2},
      {"Pxe4011ElsewhereSourceSubnet", Ovmf4011ToOther,
       [](FrameSpec& s) { s.ciaddr = 0; }, Default, two, 0, kServer2},
      {"Pxe4011ElsewhereNoSubnetListen", Ovmf4011ToOther,
       [](FrameSpec& s) { s.ciaddr = s.ip_src = Ip(10, 99, 0, 50); },
       listen(kServer2), two, 0, kServer2},
      {"Pxe4011ElsewhereNoSubnetPrimary", Ovmf4011ToOther,
       [](FrameSpec& s) { s.ciaddr = s.ip_src = Ip(10, 99, 0, 50); }, Default,
       swapped, 0, kServer2},
      // Relayed: the relay's subnet, a configured entry, listen, primary.
      {"RelayedFromOurSubnet", Ovmf, relay_via(kRelay), listen(kServer), two,
       Ip(10, 77, 0, 60), kServer2},
      {"RelayedConfiguredEntry", Ovmf, relay_via(Ip(10, 9, 1, 1)),
       relay_servers(Ip(10, 9, 0, 0), 16, kServer2, kServer), two, 0, kServer2},
      {"RelayedOwnSubnetBeatsEntry", Ovmf, relay_via(kRelay),
       relay_servers(Ip(10, 78, 0, 0), 24, kServer, 0), two, 0, kServer2},
      {"RelayedNoEntryListen", Ovmf, relay_via(Ip(10, 10, 0, 1)),
       relay_servers(Ip(10, 9, 0, 0), 16, kServer, kServer2), two, 0, kServer2},
      {"RelayedNoEntryPrimary", Ovmf, relay_via(Ip(10, 10, 0, 1)),
       relay_servers(Ip(10, 9, 0, 0), 16, kServer, 0), swapped, 0, kServer2},
      // Broadcast DISCOVER: the subnet of the LAN server's offer, listen,
      // primary.
      {"BroadcastOfferedSecondSubnet", Ovmf, Nothing, listen(kServer), two,
       Ip(10, 78, 0, 77), kServer2},
      {"BroadcastOfferedFirstSubnet", Ovmf, Nothing, Default, swapped,
       Ip(10, 77, 0, 77), kServer},
      {"BroadcastOfferedElsewhereListen", Ovmf, Nothing, listen(kServer2), two,
       Ip(10, 99, 0, 77), kServer2},
      {"BroadcastOfferedElsewherePrimary", Ovmf, Nothing, Default, swapped,
       Ip(10, 99, 0, 77), kServer2},
      {"BroadcastNothingSeenPrimary", Ovmf, Nothing, Default, two, 0, kServer},
      {"BroadcastNothingSeenListen", Ovmf, Nothing, listen(kServer2), two, 0,
       kServer2},
      // No address at all.
      {"NoAddresses", Ovmf, Nothing, Default, none, Ip(10, 77, 0, 77), 0},
      {"NoAddressesRelayed", Ovmf, relay_via(kRelay), Default, none, 0, 0},
      {"NoAddresses4011", Ovmf4011, Nothing, Default, none, 0, 0},
      // -l names an address the interface no longer has (removed while
      // running), or one of another network: never answered from.
      {"NoAddressesButListen", Ovmf, Nothing, listen(Ip(10, 77, 0, 3)), none, 0,
       0},
      {"ListenNotOnThisNetwork", Ovmf, Nothing, listen(Ip(10, 99, 0, 3)), two,
       0, kServer},
  };
}

class ServerAddressTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ServerAddressTest, AnswersFromTheAddressTheClientCanReach) {
  const AddressCase& c = GetParam();
  FrameSpec spec = c.base();
  c.mutate(spec);
  BootPolicy policy = DefaultPolicy();
  policy.defaults.tftp_server = 0;
  c.configure(policy);
  const ServerContext context = Context(c.addresses, c.offered);
  const std::vector<uint8_t> frame = BuildFrame(spec);
  auto request = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, request.get()), DropReason::kNone);
  EXPECT_EQ(SelectServerAddress(*request, policy, context), c.expected);

  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  const DropReason d = Respond(frame, RxMeta{}, testing::Compiled(policy),
                               context, request.get(), out, &size);
  if (c.expected == 0) {
    EXPECT_EQ(DropReasonName(d), DropReasonName(DropReason::kNoServerAddress));
    return;
  }
  ASSERT_EQ(DropReasonName(d), DropReasonName(DropReason::kNone));
  // The source address, option 54 and (for UEFI) siaddr all name it.
  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame({out.data(), size}, RxMeta{}, reply.get()),
            DropReason::kServerReply);
  EXPECT_EQ(reply->frame.ip_src, c.expected);
  EXPECT_EQ(reply->server_id, c.expected);
  EXPECT_EQ(reply->bootp.siaddr(), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Selection, ServerAddressTest, ::testing::ValuesIn(AddressCases()),
    [](const ::testing::TestParamInfo<AddressCase>& param_info) {
      return param_info.param.name;
    });

// --- Transmit buffer sizes ---

struct BufferCase {
  std::string name;
  FrameSpec spec;
  const PolicySnapshot* policy;
  RxMeta meta;
};

// Every buffer size from 0 to one byte short is refused, and nothing is
// written outside the span (each buffer is a vector of exactly that size,
// so AddressSanitizer sees any overrun); the exact size works and gives the
// same bytes as a large buffer.
TEST(ReplyBufferTest, TooSmallIsRefusedAtEverySize) {
  BootPolicy http = DefaultPolicy();
  http.defaults.http_url = Url(255);
  FrameSpec relayed_http = Http();
  Relay(relayed_http);
  relayed_http.vlan_tci = 100;
  relayed_http.options.push_back(
      DhcpOption{82, std::vector<uint8_t>(255, 0x82)});
  const std::vector<BufferCase> cases = {
      {"bios offer", Bios(), &testing::Compiled(DefaultPolicy()), {}},
      {"ipxe ack", Ipxe4011(), &testing::Compiled(DefaultPolicy()),
       RxMeta{.vlan_valid = true, .vlan_tci = 7}},
      {"relayed http offer", relayed_http, &testing::Compiled(http), {}},
  };
  for (const BufferCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<uint8_t> frame = BuildFrame(c.spec);
    auto request = std::make_unique<Request>();
    std::vector<uint8_t> large(kMaxReplyFrameSize);
    size_t needed = 0;
    ASSERT_EQ(Respond(frame, c.meta, *c.policy, Context(), request.get(), large,
                      &needed),
              DropReason::kNone);
    ASSERT_GE(needed, 14u + 20u + 8u + 300u);
    for (size_t size = 0; size < needed; ++size) {
      std::vector<uint8_t> out(size);
      size_t reply_size = 12345;
      ASSERT_EQ(Respond(frame, c.meta, *c.policy, Context(), request.get(), out,
                        &reply_size),
                DropReason::kReplyBufferTooSmall)
          << "buffer of " << size << " bytes";
      ASSERT_EQ(reply_size, 0u);
    }
    std::vector<uint8_t> exact(needed);
    size_t reply_size = 0;
    ASSERT_EQ(Respond(frame, c.meta, *c.policy, Context(), request.get(), exact,
                      &reply_size),
              DropReason::kNone);
    ASSERT_EQ(reply_size, needed);
    EXPECT_EQ(exact,
              std::vector<uint8_t>(large.begin(), large.begin() + needed));
  }
}

TEST(ReplyBufferTest, LargestReplyFitsTheDocumentedMaximum) {
  // Everything that grows a reply at once: a tag, a 255-byte URL in option
  // 67, a UUID, a 256-byte relay option (split in two on output), on 4011
  // with a boot item.
  BootPolicy policy = DefaultPolicy();
  policy.defaults.http_url = Url(255);
  FrameSpec spec = Http4011();
  spec.vlan_tci = 5;
  spec.options.push_back(Opt(43, {71, 4, 1, 2, 3, 4, 255}));
  spec.options.push_back(DhcpOption{82, std::vector<uint8_t>(255, 1)});
  spec.options.push_back(DhcpOption{82, std::vector<uint8_t>(1, 2)});
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(Respond(BuildFrame(spec), RxMeta{}, testing::Compiled(policy),
                    Context(), request.get(), out, &size),
            DropReason::kNone);
  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame({out.data(), size}, RxMeta{}, reply.get()),
            DropReason::kServerReply);
  EXPECT_EQ(reply->options.TotalLength(dhcp::kRelayAgentInfo), 256u);
  EXPECT_EQ(reply->options.TotalLength(dhcp::kBootFileName), 255u);
  EXPECT_EQ(Vec(reply->options.First(dhcp::kVendorSpecific)),
            (std::vector<uint8_t>{71, 4, 1, 2, 3, 4, 255}));
}

// RFC 768: a computed UDP checksum of 0 is sent as 0xFFFF, because 0 on the
// wire means "no checksum". Searches the xids of one request for a reply
// whose checksum computes to 0 (about one in 65536) and checks what is
// sent. 0xFFFF on the wire can only come from a computed 0, so any reply
// carrying 0 or 0xFFFF there is the case being looked for.
TEST(ReplyChecksumTest, ComputedZeroUdpChecksumIsSentAsAllOnes) {
  std::vector<uint8_t> frame = BuildFrame(Bios());
  constexpr size_t kXid = 14 + 20 + 8 + bootp::kXid;
  RxMeta meta;
  meta.udp_checksum = UdpChecksumStatus::kNotReady;  // xid patched below
  const PolicySnapshot& policy = testing::Compiled(DefaultPolicy());
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  constexpr size_t kUdpChecksum = 14 + 20 + 6;
  bool found = false;
  for (uint32_t xid = 1; xid < 2'000'000 && !found; ++xid) {
    StoreBe32(frame.data() + kXid, xid);
    size_t size = 0;
    ASSERT_EQ(
        Respond(frame, meta, policy, Context(), request.get(), out, &size),
        DropReason::kNone);
    const uint16_t wire = LoadBe16(out.data() + kUdpChecksum);
    if (wire != 0 && wire != 0xFFFF) continue;
    found = true;
    SCOPED_TRACE(::testing::Message() << "xid " << xid);
    EXPECT_EQ(wire, 0xFFFF);
    FrameView view;
    EXPECT_EQ(ParseFrame({out.data(), size}, RxMeta{}, &view),
              DropReason::kNone);
  }
  EXPECT_TRUE(found) << "no xid gave a zero checksum";
}

}  // namespace
}  // namespace pxe
