// The DHCPv6 path (RFC 8415, RFC 5970): OVMF's captured PXEv6 and HTTPv6
// Solicits answered with the Advertise EDK2 takes as a proxy offer (no IA at
// all, the client ID copied byte for byte, our server ID, option 16 with
// enterprise 343, option 59 where the client goes next); the 4011 Request
// answered with the TFTP URL; relayed Solicits answered inside a
// Relay-reply; non-booting clients, requests for other servers and broken
// frames dropped with their reason. Replies are read back with the engine's
// own frame parser, which verifies the IPv6 pseudo-header UDP checksum.
#include "engine/dhcp6.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/checksum.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "engine/responder.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"

namespace pxe {
namespace {

using ::pxe::testing::Compiled;
using Bytes = std::vector<uint8_t>;
using MT6 = dhcp6::MessageType;

constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kAllDhcpMac = {0x33, 0x33, 0x00, 0x01, 0x00, 0x02};

constexpr Ipv6Address V6(std::initializer_list<uint16_t> head,
                         std::initializer_list<uint16_t> tail = {}) {
  Ipv6Address a{};
  size_t i = 0;
  for (uint16_t g : head) {
    a[i] = static_cast<uint8_t>(g >> 8);
    a[i + 1] = static_cast<uint8_t>(g);
    i += 2;
  }
  i = 16 - 2 * tail.size();
  for (uint16_t g : tail) {
    a[i] = static_cast<uint8_t>(g >> 8);
    a[i + 1] = static_cast<uint8_t>(g);
    i += 2;
  }
  return a;
}

const Ipv6Address kOurLinkLocal = V6({0xfe80}, {0x2});
const Ipv6Address kOurGlobal = V6({0xfd77}, {0x2});
const Ipv6Address kTftp6 = V6({0xfd77}, {0x5});
const Ipv6Address kClientLinkLocal = V6({0xfe80}, {0x5054, 0xff, 0xfe77, 0x10});
const Ipv6Address kClientGlobal = V6({0xfd77}, {0x100});
const Ipv6Address kAllDhcp = V6({0xff02}, {0x1, 0x2});
const Ipv6Address kRelay = V6({0xfd77}, {0x1});

std::string Text(std::span<const uint8_t> b) {
  return std::string(b.begin(), b.end());
}

const std::vector<Ipv6InterfaceAddress>& OurAddresses() {
  static const auto* a = new std::vector<Ipv6InterfaceAddress>{
      {kOurLinkLocal, 64}, {kOurGlobal, 64}};
  return *a;
}

ServerContext6 Context() {
  return {
      .mac = kServerMac, .addresses = OurAddresses(), .interface_name = "eth0"};
}

BootPolicy Policy() {
  BootPolicy p;
  p.defaults.file = "bios.0";
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "uefi/bootx64.efi";
  p.defaults.http_url6 = "http://[fd77::5]:8080/boot/bootx64.efi";
  return p;
}

// --- A small DHCPv6 frame builder (test only) ---

void Put16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void PutOption(Bytes* b, uint16_t code, std::span<const uint8_t> value) {
  Put16(b, code);
  Put16(b, static_cast<uint16_t>(value.size()));
  b->insert(b->end(), value.begin(), value.end());
}

struct Frame6Spec {
  MacAddress src_mac = kClientMac;
  MacAddress dst_mac = kAllDhcpMac;
  Ipv6Address src = kClientLinkLocal;
  Ipv6Address dst = kAllDhcp;
  uint16_t sport = kDhcp6ClientPort;
  uint16_t dport = kDhcp6ServerPort;
  std::optional<uint16_t> vlan;
  uint8_t next_header = kIpProtoUdp;
  bool zero_checksum = false;
};

Bytes BuildFrame6(const Frame6Spec& s, std::span<const uint8_t> payload) {
  Bytes f(s.dst_mac.begin(), s.dst_mac.end());
  f.insert(f.end(), s.src_mac.begin(), s.src_mac.end());
  if (s.vlan) {
    Put16(&f, kEtherTypeVlan);
    Put16(&f, *s.vlan);
  }
  Put16(&f, kEtherTypeIpv6);
  const size_t ip = f.size();
  Put32(&f, uint32_t{6} << 28);
  Put16(&f, static_cast<uint16_t>(8 + payload.size()));
  f.push_back(s.next_header);
  f.push_back(255);
  f.insert(f.end(), s.src.begin(), s.src.end());
  f.insert(f.end(), s.dst.begin(), s.dst.end());
  const size_t udp = f.size();
  Put16(&f, s.sport);
  Put16(&f, s.dport);
  Put16(&f, static_cast<uint16_t>(8 + payload.size()));
  Put16(&f, 0);
  f.insert(f.end(), payload.begin(), payload.end());
  (void)ip;
  if (!s.zero_checksum) {
    uint64_t sum = Udp6PseudoHeaderSum(
        s.src, s.dst, static_cast<uint32_t>(8 + payload.size()));
    sum = ChecksumAdd(sum, {f.data() + udp, 8 + payload.size()});
    uint16_t c = ChecksumFinish(sum);
    if (c == 0) c = 0xFFFF;
    f[udp + 6] = static_cast<uint8_t>(c >> 8);
    f[udp + 7] = static_cast<uint8_t>(c);
  }
  return f;
}

// The DHCPv6 message of a frame (no VLAN tag): after 14 + 40 + 8 bytes.
std::span<const uint8_t> MessageOf(std::span<const uint8_t> frame) {
  return frame.subspan(62);
}

// A message's options as (code, value) in order.
std::vector<std::pair<uint16_t, Bytes>> OptionsOf(
    std::span<const uint8_t> options) {
  std::vector<std::pair<uint16_t, Bytes>> out;
  dhcp6::OptionCursor c(options);
  uint16_t code;
  std::span<const uint8_t> value;
  while (c.Next(&code, &value))
    out.emplace_back(code, Bytes(value.begin(), value.end()));
  EXPECT_FALSE(c.failed());
  return out;
}

Bytes Find(const std::vector<std::pair<uint16_t, Bytes>>& options,
           uint16_t code) {
  for (const auto& [c, v] : options) {
    if (c == code) return v;
  }
  return {};
}

std::vector<uint16_t> Codes(const std::vector<std::pair<uint16_t, Bytes>>& o) {
  std::vector<uint16_t> codes;
  for (const auto& [c, v] : o) codes.push_back(c);
  return codes;
}

// Replaces the message type of `message` and its options by `edit`'s result.
Bytes EditMessage(
    std::span<const uint8_t> message, MT6 type,
    const std::function<void(std::vector<std::pair<uint16_t, Bytes>>*)>& edit) {
  auto options = OptionsOf(message.subspan(4));
  edit(&options);
  Bytes out = {static_cast<uint8_t>(type), message[1], message[2], message[3]};
  for (const auto& [c, v] : options) PutOption(&out, c, v);
  return out;
}

void Remove(std::vector<std::pair<uint16_t, Bytes>>* o, uint16_t code) {
  o->erase(std::remove_if(o->begin(), o->end(),
                          [&](const auto& p) { return p.first == code; }),
           o->end());
}

Bytes OurServerId() {
  const ServerDuid duid = MakeServerDuid(kServerMac);
  return Bytes(duid.begin(), duid.end());
}

// --- The capture ---

struct Captured {
  std::vector<Bytes> pxe_solicits;   // OVMF's UEFI PXEv6
  std::vector<Bytes> http_solicits;  // OVMF's UEFI HTTPv6
  std::vector<Bytes> dhcp4;          // its PXEv4 and HTTPv4 DISCOVERs
};

const Captured& Capture() {
  static const Captured* c = [] {
    auto* out = new Captured;
    auto source =
        PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) +
                             "/ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap");
    EXPECT_TRUE(source.ok()) << source.status();
    if (!source.ok()) return out;
    std::vector<RxFrame> batch(64);
    absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
    EXPECT_TRUE(n.ok());
    for (size_t i = 0; n.ok() && i < *n; ++i) {
      Bytes f(batch[i].data.begin(), batch[i].data.end());
      if (LoadBe16(f.data() + 12) != kEtherTypeIpv6) {
        out->dhcp4.push_back(f);
      } else if (Text(f).find("HTTPClient") != std::string::npos) {
        out->http_solicits.push_back(f);
      } else {
        out->pxe_solicits.push_back(f);
      }
    }
    return out;
  }();
  return *c;
}

struct Answer {
  DropReason reason = DropReason::kNone;
  Bytes frame;
  FrameView6 view;  // of `frame`, checksums verified
  Bytes message;
  std::vector<std::pair<uint16_t, Bytes>> options;
};

Answer RespondTo(std::span<const uint8_t> frame,
                 const BootPolicy& policy = Policy(), RxMeta meta = {}) {
  Answer a;
  Request6 request;
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  size_t size = 0;
  a.reason =
      Respond6(frame, meta, Compiled(policy), Context(), &request, out, &size);
  if (a.reason != DropReason::kNone) return a;
  a.frame.assign(out.begin(), out.begin() + size);
  EXPECT_EQ(ParseFrame6(a.frame, RxMeta{}, &a.view), DropReason::kNone)
      << "the reply does not parse back (or its UDP checksum is wrong)";
  a.message.assign(a.view.payload.begin(), a.view.payload.end());
  if (a.message.size() >= 4) {
    a.options = OptionsOf(std::span<const uint8_t>(a.message).subspan(
        a.message[0] == static_cast<uint8_t>(MT6::kRelayReply) ? 34 : 4));
  }
  return a;
}

Bytes VendorClassOption(std::string_view data) {
  Bytes v = {0, 0, 0x01, 0x57};  // enterprise 343
  Put16(&v, static_cast<uint16_t>(data.size()));
  v.insert(v.end(), data.begin(), data.end());
  return v;
}

std::string Url(const Bytes& option59) { return Text(option59); }

// Every Advertise carries what EDK2 checks (PxeBcParseDhcp6Packet,
// HttpBootParseDhcp6Packet) and nothing that offers an address.
void ExpectProxyAdvertise(const Answer& a, std::span<const uint8_t> solicit,
                          std::string_view vendor) {
  ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
  // Frame: our MAC and link-local address, 547 -> the client's 546.
  EXPECT_EQ(LoadBe16(a.frame.data() + 12), kEtherTypeIpv6);
  EXPECT_EQ(a.view.eth_dst, kClientMac);
  EXPECT_EQ(a.view.eth_src, kServerMac);
  EXPECT_EQ(a.view.ip_src, kOurLinkLocal);
  EXPECT_EQ(a.view.ip_dst, kClientLinkLocal);
  EXPECT_EQ(a.view.udp_src, 547);
  EXPECT_EQ(a.view.udp_dst, 546);
  // Message: Advertise, the Solicit's transaction id.
  const std::span<const uint8_t> request = MessageOf(solicit);
  ASSERT_GE(a.message.size(), 4u);
  EXPECT_EQ(a.message[0], 2);
  EXPECT_EQ(Bytes(a.message.begin() + 1, a.message.begin() + 4),
            Bytes(request.begin() + 1, request.begin() + 4));
  EXPECT_EQ(Codes(a.options), (std::vector<uint16_t>{1, 2, 16, 59}));
  // The client ID byte for byte.
  const auto solicit_options = OptionsOf(request.subspan(4));
  EXPECT_EQ(Find(a.options, 1), Find(solicit_options, 1));
  EXPECT_EQ(Find(a.options, 1).size(), 14u);  // OVMF's DUID-LLT
  EXPECT_EQ(Find(a.options, 2),
            (Bytes{0, 3, 0, 1, 0x02, 0, 0, 0, 0, 0x02}));  // DUID-LL, our MAC
  EXPECT_EQ(Find(a.options, 16), VendorClassOption(vendor));
}

TEST(Dhcp6CaptureTest, TheCaptureHoldsOvmfSolicits) {
  EXPECT_EQ(Capture().pxe_solicits.size(), 4u);
  EXPECT_EQ(Capture().http_solicits.size(), 4u);
  EXPECT_EQ(Capture().dhcp4.size(), 8u);
}

TEST(Dhcp6CaptureTest, PxeSolicitGetsAdvertiseWithTftpUrlToUs) {
  for (const Bytes& solicit : Capture().pxe_solicits) {
    Request6 r;
    ASSERT_EQ(ClassifyFrame6(solicit, RxMeta{}, &r), DropReason::kNone);
    EXPECT_EQ(r.type, MT6::kSolicit);
    EXPECT_EQ(r.kind, ClientKind::kPxe);
    EXPECT_EQ(r.arch_code, 7);
    EXPECT_TRUE(r.has_ia);
    EXPECT_EQ(r.mac, kClientMac);  // from the DUID-LLT
    EXPECT_EQ(Text(r.vendor_class), "PXEClient:Arch:00007:UNDI:003000");
    const Answer a = RespondTo(solicit);
    ExpectProxyAdvertise(a, solicit, "PXEClient");
    // X = our global address: the 4011 Request goes there.
    EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::2]/uefi/bootx64.efi");
  }
}

TEST(Dhcp6CaptureTest, HttpSolicitGetsAdvertiseWithNulTerminatedUrl) {
  for (const Bytes& solicit : Capture().http_solicits) {
    Request6 r;
    ASSERT_EQ(ClassifyFrame6(solicit, RxMeta{}, &r), DropReason::kNone);
    EXPECT_EQ(r.kind, ClientKind::kHttp);
    EXPECT_EQ(r.arch_code, 16);
    const Answer a = RespondTo(solicit);
    ExpectProxyAdvertise(a, solicit, "HTTPClient");
    const std::string url = Url(Find(a.options, 59));
    EXPECT_EQ(url,
              std::string("http://[fd77::5]:8080/boot/bootx64.efi") + '\0');
    // Option 59 is last: the NUL also ends the message.
    EXPECT_EQ(a.message.back(), 0);
  }
}

TEST(Dhcp6CaptureTest, WithoutGlobalAddressXIsOurLinkLocal) {
  const std::vector<Ipv6InterfaceAddress> only_link_local = {
      {kOurLinkLocal, 64}};
  ServerContext6 context = Context();
  context.addresses = only_link_local;
  Request6 request;
  Bytes out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(Respond6(Capture().pxe_solicits[0], RxMeta{}, Compiled(Policy()),
                     context, &request, out, &size),
            DropReason::kNone);
  out.resize(size);
  EXPECT_NE(Text(out).find("tftp://[fe80::2]/uefi/bootx64.efi"),
            std::string::npos);
}

TEST(Dhcp6CaptureTest, NoLinkLocalAddressNoAdvertise) {
  const std::vector<Ipv6InterfaceAddress> only_global = {{kOurGlobal, 64}};
  ServerContext6 context = Context();
  context.addresses = only_global;
  Request6 request;
  Bytes out(kMaxReplyFrameSize);
  size_t size = 0;
  EXPECT_EQ(Respond6(Capture().pxe_solicits[0], RxMeta{}, Compiled(Policy()),
                     context, &request, out, &size),
            DropReason::kNoServerAddress);
}

// The Request EDK2 sends after taking its address from the DHCPv6 server
// (PxeBcRequestBootService): our server ID first, the Solicit's other
// options, no IA; from 4011 to [X]:4011.
Bytes BootServiceRequest(const Bytes& solicit, Bytes server_id) {
  return EditMessage(MessageOf(solicit), MT6::kRequest, [&](auto* o) {
    Remove(o, dhcp6::kIaNa);
    o->insert(o->begin(), {dhcp6::kServerId, server_id});
  });
}

TEST(Dhcp6RequestTest, PxeRequestOn4011GetsReplyWithTftpServer) {
  BootPolicy policy = Policy();
  policy.defaults.tftp_server6 = kTftp6;
  const Bytes message =
      BootServiceRequest(Capture().pxe_solicits[0], OurServerId());
  const Bytes frame = BuildFrame6({.dst_mac = kServerMac,
                                   .src = kClientGlobal,
                                   .dst = kOurGlobal,
                                   .sport = 4011,
                                   .dport = 4011},
                                  message);
  const Answer a = RespondTo(frame, policy);
  ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
  EXPECT_EQ(a.view.ip_src, kOurGlobal);
  EXPECT_EQ(a.view.ip_dst, kClientGlobal);
  EXPECT_EQ(a.view.udp_src, 4011);
  EXPECT_EQ(a.view.udp_dst, 4011);
  EXPECT_EQ(a.view.eth_dst, kClientMac);
  EXPECT_EQ(a.message[0], 7);  // Reply
  EXPECT_EQ(Bytes(a.message.begin() + 1, a.message.begin() + 4),
            Bytes(message.begin() + 1, message.begin() + 4));
  EXPECT_EQ(Codes(a.options), (std::vector<uint16_t>{1, 2, 16, 59}));
  EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::5]/uefi/bootx64.efi");
}

TEST(Dhcp6RequestTest, WithoutTftpServerTheAnsweringAddressServes) {
  const Bytes frame =
      BuildFrame6({.dst_mac = kServerMac,
                   .src = kClientGlobal,
                   .dst = kOurGlobal,
                   .sport = 4011,
                   .dport = 4011},
                  BootServiceRequest(Capture().pxe_solicits[0], OurServerId()));
  const Answer a = RespondTo(frame);
  ASSERT_EQ(a.reason, DropReason::kNone);
  EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::2]/uefi/bootx64.efi");
}

// Without option 59 in the Advertise the Request goes to ff02::1:2:4011
// (PxeBcRetryDhcp6Binl): served too, from our address on the client's link.
TEST(Dhcp6RequestTest, MulticastRequestOn4011FromLinkLocal) {
  const Bytes frame =
      BuildFrame6({.sport = 4011, .dport = 4011},
                  BootServiceRequest(Capture().pxe_solicits[0], OurServerId()));
  const Answer a = RespondTo(frame);
  ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
  EXPECT_EQ(a.view.ip_src, kOurLinkLocal);
  EXPECT_EQ(a.view.ip_dst, kClientLinkLocal);
  EXPECT_EQ(a.view.udp_dst, 4011);
  EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::2]/uefi/bootx64.efi");
}

TEST(Dhcp6RequestTest, RequestsForOtherServersOrAddressesAreNotOurs) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  const Frame6Spec to_us = {.dst_mac = kServerMac,
                            .src = kClientGlobal,
                            .dst = kOurGlobal,
                            .sport = 4011,
                            .dport = 4011};
  // The LAN's DHCPv6 server's ID.
  EXPECT_EQ(RespondTo(BuildFrame6(to_us, BootServiceRequest(
                                             solicit, Bytes{0, 3, 0, 1, 1, 2, 3,
                                                            4, 5, 6})))
                .reason,
            DropReason::kNotOurServerId);
  // No server ID at all.
  EXPECT_EQ(RespondTo(BuildFrame6(
                          to_us, EditMessage(
                                     MessageOf(solicit), MT6::kRequest,
                                     [](auto* o) { Remove(o, dhcp6::kIaNa); })))
                .reason,
            DropReason::kNotOurServerId);
  // Ours, but asking for an address (IA_NA kept): we assign none.
  EXPECT_EQ(
      RespondTo(
          BuildFrame6(
              to_us,
              EditMessage(
                  MessageOf(solicit), MT6::kRequest,
                  [](auto* o) {
                    o->insert(o->begin(), {dhcp6::kServerId, OurServerId()});
                  })))
          .reason,
      DropReason::kAddressRequested);
  // A Request to 547 for the DHCPv6 server, as every client sends one.
  EXPECT_EQ(RespondTo(BuildFrame6({}, BootServiceRequest(
                                          solicit,
                                          Bytes{0, 3, 0, 1, 1, 2, 3, 4, 5, 6})))
                .reason,
            DropReason::kNotOurServerId);
}

TEST(Dhcp6ClassifyTest, NonBootingClientsAreNeverAnswered) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  // dhclient -6 / odhcp6c: no vendor class.
  EXPECT_EQ(
      RespondTo(BuildFrame6({}, EditMessage(MessageOf(solicit), MT6::kSolicit,
                                            [](auto* o) {
                                              Remove(o, dhcp6::kVendorClass);
                                            })))
          .reason,
      DropReason::kNotBooting);
  // OVMF's own IPv6 stack's DHCPv6 client (M flag): no vendor class either,
  // another IAID.
  // "PXEClient" under another enterprise number.
  EXPECT_EQ(
      RespondTo(
          BuildFrame6({}, EditMessage(MessageOf(solicit), MT6::kSolicit,
                                      [](auto* o) {
                                        Remove(o, dhcp6::kVendorClass);
                                        Bytes v = {0, 0, 0x30, 0x39, 0, 9};
                                        for (char c : std::string("PXEClient"))
                                          v.push_back(static_cast<uint8_t>(c));
                                        o->push_back({dhcp6::kVendorClass, v});
                                      })))
          .reason,
      DropReason::kNotBooting);
  // A vendor class that is not a boot client's.
  EXPECT_EQ(
      RespondTo(BuildFrame6({}, EditMessage(MessageOf(solicit), MT6::kSolicit,
                                            [](auto* o) {
                                              Remove(o, dhcp6::kVendorClass);
                                              o->push_back({dhcp6::kVendorClass,
                                                            VendorClassOption(
                                                                "MSFT 5.0")});
                                            })))
          .reason,
      DropReason::kNotBooting);
}

TEST(Dhcp6ClassifyTest, OtherMessagesAndPortsAreNotAnswered) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  for (MT6 type :
       {MT6::kAdvertise, MT6::kReply, MT6::kRenew, MT6::kRebind, MT6::kRelease,
        MT6::kDecline, MT6::kConfirm, MT6::kRelayReply}) {
    EXPECT_EQ(RespondTo(BuildFrame6({}, EditMessage(MessageOf(solicit), type,
                                                    [](auto*) {})))
                  .reason,
              DropReason::kUnhandledMessage)
        << static_cast<int>(type);
  }
  // A Solicit to 4011 is not how any client asks.
  EXPECT_EQ(RespondTo(BuildFrame6({.dport = 4011}, MessageOf(solicit))).reason,
            DropReason::kUnhandledMessage);
  EXPECT_EQ(RespondTo(BuildFrame6({.dport = 546}, MessageOf(solicit))).reason,
            DropReason::kWrongPort);
  // From another port than 546.
  EXPECT_EQ(RespondTo(BuildFrame6({.sport = 5000}, MessageOf(solicit))).reason,
            DropReason::kBadClientPort);
}

TEST(Dhcp6ClassifyTest, ArchitectureFromOption61) {
  BootPolicy policy = Policy();
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiArm64)] =
      "arm64/grubnetaa64.efi";
  auto with_arch = [](const Bytes& arch) {
    return BuildFrame6(
        {}, EditMessage(MessageOf(Capture().pxe_solicits[0]), MT6::kSolicit,
                        [&](auto* o) {
                          Remove(o, dhcp6::kClientArch);
                          o->push_back({dhcp6::kClientArch, arch});
                        }));
  };
  Answer a = RespondTo(with_arch({0, 11}), policy);
  ASSERT_EQ(a.reason, DropReason::kNone);
  EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::2]/arm64/grubnetaa64.efi");
  // Only codes we do not serve.
  EXPECT_EQ(RespondTo(with_arch({0, 2}), policy).reason,
            DropReason::kUnknownArch);
  // An architecture without a file.
  policy.defaults.file.clear();
  EXPECT_EQ(RespondTo(with_arch({0, 0}), policy).reason,
            DropReason::kNoBootFile);
}

TEST(Dhcp6PolicyTest, RulesMatchTheMacInTheDuid) {
  BootPolicy policy = Policy();
  Rule rule;
  rule.name = "lab";
  rule.match.mac.push_back({.octets = kClientMac, .length = 6});
  rule.answer.files[static_cast<size_t>(ArchClass::kUefiX64)] = "lab.efi";
  policy.rules.push_back(rule);
  Rule ignore;
  ignore.name = "quiet";
  ignore.match.mac.push_back({.octets = {0x52, 0x54, 0x00, 0x99}, .length = 4});
  ignore.action = RuleAction::kIgnore;
  policy.rules.push_back(ignore);
  // Through a bridge that rewrote the source MAC: the DUID still names it.
  Frame6Spec spec;
  spec.src_mac = {0x52, 0x54, 0x00, 0x99, 0, 1};
  const Answer a = RespondTo(
      BuildFrame6(spec, MessageOf(Capture().pxe_solicits[0])), policy);
  ASSERT_EQ(a.reason, DropReason::kNone);
  EXPECT_EQ(Url(Find(a.options, 59)), "tftp://[fd77::2]/lab.efi");
  // A DUID-EN carries no MAC: the frame's source decides.
  const Bytes en = EditMessage(
      MessageOf(Capture().pxe_solicits[0]), MT6::kSolicit, [](auto* o) {
        Remove(o, dhcp6::kClientId);
        o->insert(o->begin(),
                  {dhcp6::kClientId, Bytes{0, 2, 0, 0, 0, 9, 1, 2}});
      });
  EXPECT_EQ(RespondTo(BuildFrame6(spec, en), policy).reason,
            DropReason::kIgnoredByRule);
}

TEST(Dhcp6PolicyTest, HttpUrlFallsBackToANameNeverToAnIpv4Literal) {
  BootPolicy policy = Policy();
  policy.defaults.http_url6.clear();
  policy.defaults.http_url = "http://10.77.0.5/bootx64.efi";
  const Bytes& solicit = Capture().http_solicits[0];
  EXPECT_EQ(RespondTo(solicit, policy).reason, DropReason::kNoBootFile);
  policy.defaults.http_url = "http://boot.example/bootx64.efi";
  const Answer a = RespondTo(solicit, policy);
  ASSERT_EQ(a.reason, DropReason::kNone);
  EXPECT_EQ(Url(Find(a.options, 59)),
            std::string("http://boot.example/bootx64.efi") + '\0');
}

// RFC 8415 §9: a relay on the link wraps the Solicit in a Relay-forward.
Bytes RelayForward(std::span<const uint8_t> inner, bool interface_id = true,
                   uint16_t message_code = dhcp6::kRelayMessage) {
  Bytes m = {12, 3};  // Relay-forw, hop count 3
  const Ipv6Address link = V6({0xfd99}, {0x1});
  m.insert(m.end(), link.begin(), link.end());
  m.insert(m.end(), kClientLinkLocal.begin(), kClientLinkLocal.end());
  if (interface_id) {
    const std::string id = "ge-0/0/7";
    PutOption(&m, dhcp6::kInterfaceId, Bytes(id.begin(), id.end()));
  }
  PutOption(&m, message_code, inner);
  return m;
}

TEST(Dhcp6RelayTest, RelayedSolicitGetsRelayReplyToTheRelay) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  const Bytes forward = RelayForward(MessageOf(solicit));
  const Answer a = RespondTo(BuildFrame6({.src_mac = {0x02, 0, 0, 0, 0, 0x01},
                                          .dst_mac = kServerMac,
                                          .src = kRelay,
                                          .dst = kOurGlobal,
                                          .sport = 547},
                                         forward));
  ASSERT_EQ(a.reason, DropReason::kNone) << DropReasonText(a.reason);
  EXPECT_EQ(a.view.ip_src, kOurGlobal);
  EXPECT_EQ(a.view.ip_dst, kRelay);
  EXPECT_EQ(a.view.udp_src, 547);
  EXPECT_EQ(a.view.udp_dst, 547);
  EXPECT_EQ((MacAddress{0x02, 0, 0, 0, 0, 0x01}), a.view.eth_dst);
  ASSERT_GE(a.message.size(), 34u);
  EXPECT_EQ(a.message[0], 13);  // Relay-reply
  // Hop count, link and peer addresses copied.
  EXPECT_EQ(Bytes(a.message.begin() + 1, a.message.begin() + 34),
            Bytes(forward.begin() + 1, forward.begin() + 34));
  EXPECT_EQ(Codes(a.options), (std::vector<uint16_t>{18, 9}));
  EXPECT_EQ(Text(Find(a.options, 18)), "ge-0/0/7");
  const Bytes inner = Find(a.options, 9);
  ASSERT_GE(inner.size(), 4u);
  EXPECT_EQ(inner[0], 2);  // Advertise
  EXPECT_EQ(
      Bytes(inner.begin() + 1, inner.begin() + 4),
      Bytes(MessageOf(solicit).begin() + 1, MessageOf(solicit).begin() + 4));
  const auto options = OptionsOf(std::span<const uint8_t>(inner).subspan(4));
  EXPECT_EQ(Codes(options), (std::vector<uint16_t>{1, 2, 16, 59}));
  EXPECT_EQ(Find(options, 1),
            Find(OptionsOf(MessageOf(solicit).subspan(4)), 1));
  EXPECT_EQ(Url(Find(options, 59)), "tftp://[fd77::2]/uefi/bootx64.efi");
}

TEST(Dhcp6RelayTest, BrokenRelayForwardsAreDropped) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  const Frame6Spec from_relay = {
      .dst_mac = kServerMac, .src = kRelay, .dst = kOurGlobal, .sport = 547};
  // No relay message.
  EXPECT_EQ(
      RespondTo(BuildFrame6(from_relay, RelayForward(MessageOf(solicit), true,
                                                     /*message_code=*/99)))
          .reason,
      DropReason::kBadRelayForward);
  // Two relays deep.
  EXPECT_EQ(
      RespondTo(BuildFrame6(from_relay,
                            RelayForward(RelayForward(MessageOf(solicit)))))
          .reason,
      DropReason::kBadRelayForward);
  // Shorter than its header.
  EXPECT_EQ(RespondTo(BuildFrame6(from_relay, Bytes{12, 0, 0, 0, 0})).reason,
            DropReason::kDhcp6TooShort);
  // A relay that is us, or multicast.
  Frame6Spec spoofed = from_relay;
  spoofed.src = kOurGlobal;
  EXPECT_EQ(
      RespondTo(BuildFrame6(spoofed, RelayForward(MessageOf(solicit)))).reason,
      DropReason::kBadRelayAddress);
  // A non-booting client behind a relay.
  EXPECT_EQ(
      RespondTo(BuildFrame6(from_relay, RelayForward(EditMessage(
                                            MessageOf(solicit), MT6::kSolicit,
                                            [](auto* o) {
                                              Remove(o, dhcp6::kVendorClass);
                                            }))))
          .reason,
      DropReason::kNotBooting);
}

TEST(Dhcp6FrameTest, BrokenFramesAreCountedDrops) {
  const Bytes& solicit = Capture().pxe_solicits[0];
  // Every truncation: a drop with a reason, never a read past the end.
  for (size_t n = 0; n < solicit.size(); ++n) {
    const Bytes cut(solicit.begin(), solicit.begin() + n);
    EXPECT_NE(RespondTo(cut).reason, DropReason::kNone) << n;
  }
  Bytes bad = solicit;
  bad.back() ^= 0x01;
  EXPECT_EQ(RespondTo(bad).reason, DropReason::kBadUdpChecksum);
  // The kernel verified it (or it is not computed yet): not checked again.
  EXPECT_NE(
      RespondTo(bad, Policy(), {.udp_checksum = UdpChecksumStatus::kVerified})
          .reason,
      DropReason::kBadUdpChecksum);
  EXPECT_EQ(RespondTo(BuildFrame6({.zero_checksum = true}, MessageOf(solicit)))
                .reason,
            DropReason::kBadUdpChecksum);
  EXPECT_EQ(
      RespondTo(BuildFrame6({.next_header = 44}, MessageOf(solicit))).reason,
      DropReason::kIpFragment);
  EXPECT_EQ(
      RespondTo(BuildFrame6({.next_header = 0}, MessageOf(solicit))).reason,
      DropReason::kIpv6ExtensionHeader);
  EXPECT_EQ(
      RespondTo(BuildFrame6({.next_header = 6}, MessageOf(solicit))).reason,
      DropReason::kNotUdp);
  // IPv6 version field wrong.
  Bytes v4 = solicit;
  v4[14] = 0x40;
  EXPECT_EQ(RespondTo(v4).reason, DropReason::kBadIpv6Header);
  // Payload length beyond the frame.
  Bytes long_payload = solicit;
  long_payload[18] = 0xFF;
  EXPECT_EQ(RespondTo(long_payload).reason, DropReason::kBadIpv6Header);
  // An option whose length runs past the message.
  Bytes message(MessageOf(solicit).begin(), MessageOf(solicit).end());
  message.insert(message.end(), {0, 99, 0, 50, 1, 2});
  EXPECT_EQ(RespondTo(BuildFrame6({}, message)).reason,
            DropReason::kBadDhcp6Option);
  EXPECT_EQ(RespondTo(BuildFrame6({}, Bytes{1, 0, 0})).reason,
            DropReason::kDhcp6TooShort);
  EXPECT_EQ(
      RespondTo(BuildFrame6({}, EditMessage(MessageOf(solicit), MT6::kSolicit,
                                            [](auto* o) {
                                              Remove(o, dhcp6::kClientId);
                                            })))
          .reason,
      DropReason::kNoClientId);
  // From a group MAC, or to a multicast source address.
  EXPECT_EQ(RespondTo(BuildFrame6({.src_mac = kAllDhcpMac}, MessageOf(solicit)))
                .reason,
            DropReason::kGroupSourceMac);
  EXPECT_EQ(
      RespondTo(BuildFrame6({.src = kAllDhcp}, MessageOf(solicit))).reason,
      DropReason::kBadReplyTarget);
  // From a global address on no prefix of ours: not on this link.
  EXPECT_EQ(RespondTo(BuildFrame6({.src = V6({0x2001, 0xdb8}, {0x9})},
                                  MessageOf(solicit)))
                .reason,
            DropReason::kOffLinkRequest);
}

TEST(Dhcp6FrameTest, TaggedSolicitGetsTaggedAdvertise) {
  const Bytes frame =
      BuildFrame6({.vlan = 0x2007}, MessageOf(Capture().pxe_solicits[0]));
  Request6 request;
  Bytes out(kMaxReplyFrameSize);
  size_t size = 0;
  ASSERT_EQ(Respond6(frame, RxMeta{}, Compiled(Policy()), Context(), &request,
                     out, &size),
            DropReason::kNone);
  EXPECT_EQ(LoadBe16(out.data() + 12), kEtherTypeVlan);
  EXPECT_EQ(LoadBe16(out.data() + 14), 0x2007);
  EXPECT_EQ(LoadBe16(out.data() + 16), kEtherTypeIpv6);
  FrameView6 view;
  EXPECT_EQ(
      ParseFrame6(std::span<const uint8_t>(out).first(size), RxMeta{}, &view),
      DropReason::kNone);
}

TEST(Dhcp6FormatTest, Rfc5952Text) {
  char text[40];
  auto format = [&](const Ipv6Address& a) {
    return std::string(text, FormatIpv6(a, text));
  };
  EXPECT_EQ(format(Ipv6Address{}), "::");
  EXPECT_EQ(format(V6({}, {1})), "::1");
  EXPECT_EQ(format(kClientLinkLocal), "fe80::5054:ff:fe77:10");
  EXPECT_EQ(format(V6({0x2001, 0xdb8}, {5})), "2001:db8::5");
  EXPECT_EQ(format(V6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1})),
            "2001:db8:0:1:1:1:1:1");  // one zero group stays
  EXPECT_EQ(format(V6({1, 0, 0, 2, 0, 0, 0, 3})), "1:0:0:2::3");    // longest
  EXPECT_EQ(format(V6({1, 0, 0, 2, 0, 0, 3, 4})), "1::2:0:0:3:4");  // first
  EXPECT_EQ(format(V6({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
                       0xffff})),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(format(V6({1}, {})), "1::");
}

// --- Through the Responder, as the daemon's workers and --replay run it ---

class FakeSink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t size, const RxMeta&) override {
    sent.emplace_back(slot_.begin(), slot_.begin() + size);
  }
  std::vector<Bytes> sent;

 private:
  Bytes slot_ = Bytes(kMaxReplyFrameSize);
};

TEST(Dhcp6ResponderTest, CaptureReplayAnswersEverySolicitOnceAndCountsIt) {
  FakeSink sink;
  Responder responder({{.name = "eth0",
                        .ifindex = 2,
                        .mac = kServerMac,
                        .addresses = {{MakeIpv4(10, 77, 0, 2), 24}},
                        .addresses6 = OurAddresses()}},
                      ResponderOptions{}, &sink);
  responder.SetPolicy(&Compiled(Policy()));
  uint64_t now = 1'000'000'000;
  const Captured& c = Capture();
  for (const auto* frames : {&c.pxe_solicits, &c.http_solicits}) {
    for (const Bytes& f : *frames) {
      now += 4'000'000'000;  // the firmware retries after seconds
      responder.HandleFrame(0, f, RxMeta{}, now);
    }
  }
  // A bridge's copy of the last one, 1 ms later.
  responder.HandleFrame(0, c.http_solicits.back(), RxMeta{}, now + 1'000'000);
  // OVMF's PXEv4 and HTTPv4 DISCOVERs still take the DHCPv4 path.
  for (const Bytes& f : c.dhcp4) {
    now += 4'000'000'000;
    responder.HandleFrame(0, f, RxMeta{}, now);
  }
  const size_t v6 = c.pxe_solicits.size() + c.http_solicits.size();
  ASSERT_EQ(sink.sent.size(), v6 + 4 /* PXEv4 */);  // no HTTPv4 URL set
  for (size_t i = 0; i < v6; ++i) {
    EXPECT_EQ(LoadBe16(sink.sent[i].data() + 12), kEtherTypeIpv6);
  }
  const ResponderStats& s = responder.stats();
  EXPECT_EQ(s.outcomes.answered(), v6 + 4);
  EXPECT_EQ(
      s.outcomes.by_reason[static_cast<size_t>(DropReason::kDuplicate)].load(),
      1u);
  EXPECT_EQ(
      s.outcomes.by_reason[static_cast<size_t>(DropReason::kNoBootFile)].load(),
      4u);  // HTTPv4: no URL for IPv4 clients
  EXPECT_EQ(s.outcomes.received(), v6 + 1 + c.dhcp4.size());
  const size_t x64 = static_cast<size_t>(ArchClass::kUefiX64);
  EXPECT_EQ(s.requests[0][kSolicitSlot][x64].load(), v6 + 1);
  EXPECT_EQ(s.replies[0][kAdvertiseSlot].load(), v6);
  EXPECT_EQ(s.replies[0][kReply6Slot].load(), 0u);
  EXPECT_EQ(s.replies[0][0].load(), 4u);  // PXEv4 offers
}

// --log-level debug: every boot client's DHCPv6 decision reaches the log,
// with its request and reply; a non-booting client's does not.
TEST(Dhcp6ResponderTest, DecisionsOfBootClientsAreLogged) {
  FakeSink sink;
  std::vector<std::pair<DropReason, MT6>> logged;
  size_t with_reply = 0;
  Responder responder(
      {{.name = "eth0", .mac = kServerMac, .addresses6 = OurAddresses()}},
      ResponderOptions{.log_every_decision = true}, &sink,
      [&](const Decision& d) {
        ASSERT_NE(d.request6, nullptr);
        logged.emplace_back(d.reason, d.request6->type);
        if (!d.reply.empty()) ++with_reply;
        EXPECT_EQ(d.interface, "eth0");
      });
  responder.SetPolicy(&Compiled(Policy()));
  const Bytes& solicit = Capture().pxe_solicits[0];
  responder.HandleFrame(0, solicit, RxMeta{}, 1'000'000'000);
  responder.HandleFrame(0, solicit, RxMeta{}, 1'001'000'000);  // a copy
  responder.HandleFrame(
      0,
      BuildFrame6({},
                  EditMessage(MessageOf(solicit), MT6::kSolicit,
                              [](auto* o) { Remove(o, dhcp6::kVendorClass); })),
      RxMeta{}, 2'000'000'000);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].first, DropReason::kNone);
  EXPECT_EQ(logged[0].second, MT6::kSolicit);
  EXPECT_EQ(logged[1].first, DropReason::kDuplicate);
  EXPECT_EQ(with_reply, 1u);
  EXPECT_EQ(responder.counters().received(), 3u);
}

TEST(Dhcp6ResponderTest, TaggedRequestOnAnUnservedVlanIsDropped) {
  FakeSink sink;
  Responder responder(
      {{.name = "eth0", .mac = kServerMac, .addresses6 = OurAddresses()}},
      ResponderOptions{}, &sink);
  responder.SetPolicy(&Compiled(Policy()));
  responder.HandleFrame(
      0, BuildFrame6({.vlan = 7}, MessageOf(Capture().pxe_solicits[0])),
      RxMeta{}, 1'000'000'000);
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(responder.counters()
                .by_reason[static_cast<size_t>(DropReason::kVlanNotServed)]
                .load(),
            1u);
}

TEST(Dhcp6ResponderTest, ARuleDelayHoldsTheAdvertise) {
  FakeSink sink;
  Responder responder(
      {{.name = "eth0", .mac = kServerMac, .addresses6 = OurAddresses()}},
      ResponderOptions{}, &sink);
  BootPolicy policy = Policy();
  policy.defaults.reply_delay_ms = 200;
  responder.SetPolicy(&Compiled(policy));
  const uint64_t t0 = 1'000'000'000;
  responder.HandleFrame(0, Capture().pxe_solicits[0], RxMeta{}, t0);
  EXPECT_TRUE(sink.sent.empty());
  responder.Tick(t0 + 199'000'000);
  EXPECT_TRUE(sink.sent.empty());
  responder.Tick(t0 + 201'000'000);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(LoadBe16(sink.sent[0].data() + 12), kEtherTypeIpv6);
}

}  // namespace
}  // namespace pxe
