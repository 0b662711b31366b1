// libFuzzer target for the stateful packet path: pxe::Responder over a
// sequence of frames, clock ticks and policy swaps, as a worker drives it.
// The input is a series of records, an opcode byte and its operands:
//
//   op & 7 == 0, 1  a frame received on port op & 1: a 2-byte big-endian
//                   length (of which the low 11 bits count) and that many
//                   bytes (or what is left). Bit 3: verify the UDP checksum
//                   (else the kernel says it is not ready, so mutated
//                   payloads get through); bit 4: the kernel stripped a
//                   VLAN tag, the one op >> 5 picks in kStrippedTags (0:
//                   VLAN 5).
//   2               the clock moves on by a 2-byte big-endian count of ms
//                   plus (op >> 3) * 100 us, then Tick();
//   3               the same without Tick() (frames arrive late);
//   4               the clock moves on to next_deadline_ns() if that lies
//                   ahead, then Tick();
//   5               op >> 3 == 0: the other policy (two compiled
//                   snapshots); else, with k = (op >> 3) - 1, port k & 1
//                   changes to variant (k >> 1) & 7 of its configuration
//                   (Responder::UpdatePort(); see PortVariant());
//   6               the next byte says which NextSlot() calls find a free
//                   transmit slot: one bit per call, rotating;
//   7               the last frame again, on port (op >> 3) & 1 (a
//                   retransmit, or a bridge's copy).
//
// Port 0 has one address, port 1 two (so DISCOVERs wait in the hold queue
// for the LAN server's OFFER); both serve VLAN 5 (port 1 from two addresses
// too) and port 0 VLAN 7. The tables are tiny so that they fill. The
// policies have reply_delay_ms rules, MAC rules, ignore rules, a VLAN rule
// and a menu.
//
// Properties, after every record:
//  - every committed reply parses back (ClassifyFrame) as a server reply, an
//    OFFER from 67 or an ACK from 4011 or 67, from the port's MAC and an
//    address it may answer from; option 60 is PXEClient or HTTPClient;
//  - towards its request (fuzz::CheckAnswers()): an OFFER answers a
//    DISCOVER and has yiaddr 0, an ACK yiaddr 0 or the client's ciaddr (a
//    proxy never hands out addresses) and goes back to the port the request
//    came from; same xid and chaddr; the request's VLAN tag;
//  - a request is answered only on a network the port serves (untagged or
//    priority-tagged: the port's addresses; tagged: a VLAN configured on
//    it, as the port is configured when the reply goes), from one of that
//    network's addresses, or from policy A's relay server for a relayed
//    request;
//  - every commit is logged as answered and counted, and nothing else is;
//  - a DHCPv6 reply parses back with a valid IPv6 UDP checksum, from the port's
//  MAC and one of the IPv6 addresses of
//    the network it answers on, and carries no IA of any kind;
//  - a client an ignore rule matches is never answered; a reply a rule
//    delays is not sent before the delay has passed since the request came
//    (checked when no policy swap came in between);
//  - held() never exceeds the hold capacity; next_deadline_ns() is
//    UINT64_MAX iff nothing is held, and at most kMaxHoldNs ahead;
//  - time only moves forward: after Tick(now) nothing held is due
//    (next_deadline_ns() > now), and a Tick() before next_deadline_ns()
//    releases nothing.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/boot_policy.h"
#include "engine/dhcp6.h"
#include "engine/policy_snapshot.h"
#include "engine/reply.h"
#include "engine/request.h"
#include "engine/responder.h"
#include "tests/fuzz/fuzz_check.h"

namespace pxe {
namespace {

constexpr uint32_t kRelayServer = MakeIpv4(10, 77, 0, 2);
constexpr uint32_t kListenB = MakeIpv4(10, 77, 0, 2);
// fe80::2 and fd77::2: the IPv6 addresses DHCPv6 requests are answered from.
constexpr Ipv6Address kLinkLocal6 = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                     0,    0,    0, 0, 0, 0, 0, 2};
constexpr Ipv6Address kGlobal6 = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                                  0,    0,    0, 0, 0, 0, 0, 2};

// The tag a frame record with bit 4 says the kernel stripped.
struct StrippedTag {
  uint16_t tci;
  uint16_t tpid;  // 0: the kernel does not say (802.1Q)
};
constexpr std::array<StrippedTag, 8> kStrippedTags = {{
    {0x0005, 0},       // VLAN 5: served on both ports
    {0x0000, 0},       // priority-tagged: the untagged network
    {0x0007, 0},       // VLAN 7: port 0 only
    {0xA005, 0},       // VLAN 5, priority 5
    {0x0006, 0x8100},  // VLAN 6: served by port variant 5 only
    {0x0FFE, 0x8100},  // VLAN 4094: port variant 7 only
    {0x3000, 0x8100},  // priority 1, DEI: still untagged
    {0x0005, 0x88A8},  // an 802.1ad S-tag: never answered
}};

constexpr ResponderOptions kOptions = {
    .offer_hold_ns = 300'000'000,
    .learn_ttl_ns = 2'000'000'000,
    .offer_table_capacity = 4,
    .hold_capacity = 3,
    .duplicate_filter_capacity = 4,
    .client_table_capacity = 8,
    .log_every_decision = true,  // the harness checks every decision
};

std::vector<ResponderPort> Ports() {
  return {
      {.name = "eth0",
       .ifindex = 2,
       .mac = {0x02, 0, 0, 0, 0, 0x02},
       .addresses = {{MakeIpv4(10, 77, 0, 2), 24}},
       .addresses6 = {{kLinkLocal6, 64}, {kGlobal6, 64}},
       .vlans = {{.vlan = 5,
                  .addresses = {{MakeIpv4(10, 5, 0, 2), 24}},
                  .addresses6 = {{kLinkLocal6, 64}}},
                 {.vlan = 7, .addresses = {{MakeIpv4(10, 7, 0, 2), 24}}}}},
      {.name = "eth1",
       .ifindex = 3,
       .mac = {0x02, 0, 0, 0, 0, 0x03},
       .addresses = {{MakeIpv4(192, 168, 5, 1), 24},
                     {MakeIpv4(10, 77, 0, 3), 24}},
       .addresses6 = {{kGlobal6, 64}},
       .vlans = {{.vlan = 5,
                  .addresses = {{MakeIpv4(172, 16, 5, 1), 24},
                                {MakeIpv4(10, 5, 0, 3), 24}}}}},
  };
}

// What an interface can become while the responder runs (the interface
// follower's UpdatePort()): variant 0 is `port` as configured.
ResponderPort PortVariant(size_t port, unsigned variant) {
  ResponderPort p = Ports()[port];
  const uint8_t host = static_cast<uint8_t>(2 + port);
  switch (variant) {
    case 1:  // gone
      p.addresses.clear();
      p.vlans.clear();
      break;
    case 2:  // its VLAN devices removed
      p.vlans.clear();
      break;
    case 3:  // only its VLANs left
      p.addresses.clear();
      break;
    case 4:  // another primary address on every network
      std::reverse(p.addresses.begin(), p.addresses.end());
      p.addresses.push_back({MakeIpv4(10, 44, 0, host), 24});
      for (VlanAddresses& v : p.vlans) {
        std::reverse(v.addresses.begin(), v.addresses.end());
      }
      break;
    case 5:  // VLAN 5 renumbered, VLAN 6 added
      for (VlanAddresses& v : p.vlans) {
        if (v.vlan == 5) v.addresses = {{MakeIpv4(10, 66, 0, host), 24}};
      }
      p.vlans.push_back(
          {.vlan = 6, .addresses = {{MakeIpv4(10, 6, 0, host), 24}}});
      break;
    case 6:  // another MAC address
      p.mac[5] = static_cast<uint8_t>(p.mac[5] + 0x10);
      break;
    case 7:  // VLAN 4094 added
      p.vlans.push_back(
          {.vlan = 4094, .addresses = {{MakeIpv4(10, 94, 0, host), 24}}});
      break;
    default:
      break;
  }
  return p;
}

// The addresses `port` answers `frame` from, as the responder is told:
// null for a VLAN it does not serve. VLAN 0 is a priority tag only.
const std::vector<InterfaceAddress>* NetworkOf(const ResponderPort& port,
                                               const FrameView& frame) {
  if (!frame.has_vlan || frame.vlan_id() == 0) return &port.addresses;
  for (const VlanAddresses& v : port.vlans) {
    if (v.vlan == frame.vlan_id()) return &v.addresses;
  }
  return nullptr;
}

bool Contains(std::span<const InterfaceAddress> network, uint32_t address) {
  for (const InterfaceAddress& a : network) {
    if (a.address == address) return true;
  }
  return false;
}

Menu InstallMenu() {
  return {
      .name = "install",
      .prompt = "Press F8 for the install menu",
      .timeout_s = 5,
      .items = {
          {.label = "Install", .type = 0x8001, .file = "installer/pxelinux.0"},
          {.label = "Local disk", .type = 0}}};
}

MacPattern Mac(std::initializer_list<uint8_t> prefix) {
  MacPattern p{.length = static_cast<uint8_t>(prefix.size())};
  std::copy(prefix.begin(), prefix.end(), p.octets.begin());
  return p;
}

uint32_t ArchBit(ArchClass a) { return uint32_t{1} << static_cast<int>(a); }

std::unique_ptr<const PolicySnapshot> Compile(BootPolicy p) {
  auto snapshot = PolicySnapshot::Compile(std::move(p));
  if (!snapshot.ok()) {
    std::fprintf(stderr, "fuzz_responder: %s\n",
                 std::string(snapshot.status().message()).c_str());
    std::abort();
  }
  return *std::move(snapshot);
}

// BINL-style UEFI offers; the captured clients (52:54:00:77:00:10) get the
// menu, UEFI x64 replies wait 40 ms, one MAC is ignored, VLAN 5 has its own
// boot file.
std::unique_ptr<const PolicySnapshot> PolicyA() {
  BootPolicy p{.defaults = {.file = "pxelinux.0",
                            .http_url = "http://10.77.0.2/boot/ipxe.efi",
                            .ipxe_script = "http://10.77.0.2/boot/x.ipxe"},
               .menus = {InstallMenu()}};
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "efi64/syslinux.efi";
  p.relay_servers.push_back(
      {.relay_subnet = {.network = MakeIpv4(10, 9, 0, 0), .prefix_length = 16},
       .server = kRelayServer});
  p.rules.push_back({.name = "ignored",
                     .match = {.mac = {Mac({0x52, 0x54, 0, 0x77, 0, 0x66})}},
                     .action = RuleAction::kIgnore});
  p.rules.push_back({.name = "slow-uefi",
                     .match = {.arch_mask = ArchBit(ArchClass::kUefiX64)},
                     .answer = {.reply_delay_ms = 40}});
  p.rules.push_back({.name = "lab-menu",
                     .match = {.mac = {Mac({0x52, 0x54, 0, 0x77})}},
                     .answer = {.menu = "install"}});
  p.rules.push_back({.name = "relayed",
                     .match = {.subnet = {{.network = MakeIpv4(10, 9, 0, 0),
                                           .prefix_length = 16}}},
                     .answer = {.file = "relayed.0",
                                .options = {{.code = 209,
                                             .value = {'p', 'x', 'e', '.', 'c',
                                                       'f', 'g'}}}}});
  p.rules.push_back({.name = "vlan-5",
                     .match = {.vlan = {5}},
                     .answer = {.file = "vlan5/pxelinux.0"}});
  return Compile(std::move(p));
}

// Direct UEFI offers, a TFTP server and a listen address; BIOS replies wait
// 1.5 s (5 s for one MAC), UEFI x64 PXE clients are ignored.
std::unique_ptr<const PolicySnapshot> PolicyB() {
  BootPolicy p{.listen_address = kListenB,
               .uefi_offer_style = UefiOfferStyle::kDirect,
               .defaults = {.file = "undionly.kpxe",
                            .tftp_server = MakeIpv4(10, 77, 0, 9)},
               .menus = {InstallMenu()}};
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] = "ipxe.efi";
  p.rules.push_back({.name = "slowest",
                     .match = {.mac = {Mac({0x52, 0x54, 0, 0x77, 0, 0x20})}},
                     .answer = {.reply_delay_ms = 5000}});
  p.rules.push_back({.name = "slow-bios",
                     .match = {.arch_mask = ArchBit(ArchClass::kBios),
                               .vlan = {RuleMatch::kUntagged}},
                     .answer = {.reply_delay_ms = 1500}});
  p.rules.push_back({.name = "ignore-uefi",
                     .match = {.vendor_class = {{.text = "PXEClient:Arch:00007",
                                                 .prefix = true}}},
                     .action = RuleAction::kIgnore});
  p.rules.push_back({.name = "mac-menu",
                     .match = {.mac = {Mac({0x52, 0x54, 0})}},
                     .answer = {.menu = "install"}});
  return Compile(std::move(p));
}

struct Policies {
  std::unique_ptr<const PolicySnapshot> a = PolicyA();
  std::unique_ptr<const PolicySnapshot> b = PolicyB();
};

const Policies& GetPolicies() {
  static const Policies* policies = new Policies();
  return *policies;
}

// The answer a reply was decided under, by the rule name the log gives.
const ResolvedAnswer& AnswerNamed(const PolicySnapshot& policy,
                                  std::string_view rule) {
  if (rule.empty()) return policy.defaults();
  for (const ResolvedAnswer& a : policy.rule_answers()) {
    if (a.rule_name == rule) return a;
  }
  fuzz::Fail("the log names a rule of the current policy", __FILE__, __LINE__);
}

class Harness : public ReplySink {
 public:
  Harness()
      : ports_(Ports()),
        responder_(Ports(), kOptions, this,
                   [this](const Decision& d) {
                     if (d.request6 != nullptr) {
                       OnLog6(d);
                       return;
                     }
                     OnLog(d.request, d.reply, d.reason,
                           d.answer != nullptr ? d.answer->rule_name : "");
                   }),
        probe_(std::make_unique<Request>()) {
    responder_.SetPolicy(GetPolicies().a.get());
  }

  void Run(std::span<const uint8_t> input);

  // ReplySink:
  std::span<uint8_t> NextSlot(size_t port) override {
    PXE_FUZZ_CHECK(port < ports_.size());
    const bool free = (slot_mask_ >> (slot_calls_++ % 8)) & 1;
    if (!free) return {};
    slot_port_ = port;
    slot_.fill(0xA5);  // bytes the engine forgets to write break checksums
    return slot_;
  }
  void Commit(size_t port, size_t size, const RxMeta&) override;
  // The DHCPv6 reply in `frame`, committed on `port`.
  void CheckReply6(size_t port, std::span<const uint8_t> frame);
  // A DHCPv6 decision: an answer is the last commit, and nothing else is.
  void OnLog6(const Decision& d);

 private:
  struct Arrival {
    uint64_t ns;
    uint64_t generation;  // policy swaps before it
  };
  using ClientKey = std::pair<MacAddress, uint32_t>;  // chaddr, xid

  void HandleFrame(size_t port, std::span<const uint8_t> frame, uint8_t op);
  void Tick();
  void OnLog(const Request& request, std::span<const uint8_t> reply,
             DropReason reason, std::string_view rule);
  void CheckInvariants() const;

  void UpdatePort(size_t port, unsigned variant);

  std::vector<ResponderPort> ports_;  // as the responder was last told
  Responder responder_;
  std::unique_ptr<Request> probe_;
  uint64_t now_ns_ = 0;
  uint64_t generation_ = 0;
  std::map<ClientKey, Arrival> arrivals_;

  std::array<uint8_t, kMaxReplyFrameSize> slot_;
  uint8_t slot_mask_ = 0xFF;
  uint32_t slot_calls_ = 0;
  size_t slot_port_ = SIZE_MAX;
  // The last commit, until the log reports it.
  size_t committed_port_ = SIZE_MAX;
  std::span<const uint8_t> committed_;
  std::unique_ptr<fuzz::ParsedReply> committed_reply_;
  uint64_t commits_ = 0;
  uint64_t commits6_ = 0;  // DHCPv6 replies
  uint64_t logged_answers6_ = 0;
  std::span<const uint8_t> committed6_;  // until the log reports it
  uint64_t logged_answers_ = 0;
  uint64_t log_calls_ = 0;
};

void Harness::Commit(size_t port, size_t size, const RxMeta&) {
  PXE_FUZZ_CHECK(port == slot_port_);
  PXE_FUZZ_CHECK(committed_.empty());  // the previous one was logged
  PXE_FUZZ_CHECK(size > 0 && size <= slot_.size());
  slot_port_ = SIZE_MAX;
  const size_t l2 = LoadBe16(slot_.data() + 12) == kEtherTypeVlan ? 18 : 14;
  if (size >= l2 && LoadBe16(slot_.data() + l2 - 2) == kEtherTypeIpv6) {
    ++commits6_;
    PXE_FUZZ_CHECK(committed6_.empty());  // the previous one was logged
    committed6_ = {slot_.data(), size};
    CheckReply6(port, committed6_);
    return;
  }
  ++commits_;
  committed_port_ = port;
  committed_ = {slot_.data(), size};
  committed_reply_ = fuzz::ParseReply(committed_);
  const fuzz::ParsedReply& r = *committed_reply_;
  PXE_FUZZ_CHECK(r.reason == DropReason::kServerReply);
  const Request& back = r.request;
  PXE_FUZZ_CHECK(back.bootp.op() == bootp::kOpReply);
  PXE_FUZZ_CHECK(back.frame.payload.size() >= bootp::kMinMessageSize);
  PXE_FUZZ_CHECK(fuzz::IsBootClass(back.vendor_class));
  PXE_FUZZ_CHECK(back.frame.eth_src == ports_[port].mac);
  if (back.type == dhcp::MessageType::kOffer) {
    PXE_FUZZ_CHECK(back.yiaddr == 0);
    PXE_FUZZ_CHECK(back.frame.udp_src == kDhcpServerPort);
  } else {
    PXE_FUZZ_CHECK(back.type == dhcp::MessageType::kAck);
    PXE_FUZZ_CHECK(back.frame.udp_src == kPxeServerPort ||
                   back.frame.udp_src == kDhcpServerPort);
  }
  // From one of the port's addresses, or the relay server policy A names
  // (OnLog() checks the request's network).
  const uint32_t from = back.frame.ip_src;
  bool ours = from == kRelayServer || Contains(ports_[port].addresses, from);
  for (const VlanAddresses& v : ports_[port].vlans) {
    ours = ours || Contains(v.addresses, from);
  }
  PXE_FUZZ_CHECK(ours);
  PXE_FUZZ_CHECK(back.server_id == from);
}

void Harness::CheckReply6(size_t port, std::span<const uint8_t> frame) {
  FrameView6 back;
  PXE_FUZZ_CHECK(ParseFrame6(frame, RxMeta{}, &back) == DropReason::kNone);
  PXE_FUZZ_CHECK(back.eth_src == ports_[port].mac);
  // From an address of the network it answers on: the port's, or (tagged)
  // its VLAN's.
  const std::vector<Ipv6InterfaceAddress>* network = &ports_[port].addresses6;
  if (back.has_vlan && back.vlan_id() != 0) {
    network = nullptr;
    for (const VlanAddresses& v : ports_[port].vlans) {
      if (v.vlan == back.vlan_id()) network = &v.addresses6;
    }
  }
  PXE_FUZZ_CHECK(network != nullptr);
  PXE_FUZZ_CHECK(std::any_of(
      network->begin(), network->end(),
      [&](const Ipv6InterfaceAddress& a) { return a.address == back.ip_src; }));
  std::span<const uint8_t> message = back.payload;
  PXE_FUZZ_CHECK(message.size() >= 4);
  if (message[0] == 13) {  // Relay-reply: the message in option 9
    PXE_FUZZ_CHECK(message.size() >= 34);
    dhcp6::OptionCursor relay(message.subspan(34));
    uint16_t code;
    std::span<const uint8_t> value, inner;
    while (relay.Next(&code, &value)) {
      if (code == dhcp6::kRelayMessage) inner = value;
    }
    PXE_FUZZ_CHECK(!relay.failed());
    message = inner;
    PXE_FUZZ_CHECK(message.size() >= 4);
  }
  PXE_FUZZ_CHECK(message[0] == 2 || message[0] == 7);
  dhcp6::OptionCursor options(message.subspan(4));
  uint16_t code;
  std::span<const uint8_t> value;
  while (options.Next(&code, &value)) {
    PXE_FUZZ_CHECK(code != dhcp6::kIaNa && code != dhcp6::kIaTa &&
                   code != dhcp6::kIaPd);
  }
  PXE_FUZZ_CHECK(!options.failed());
}

void Harness::OnLog6(const Decision& d) {
  ++log_calls_;
  PXE_FUZZ_CHECK(static_cast<size_t>(d.reason) < kDropReasonCount);
  if (d.reason != DropReason::kNone) {
    PXE_FUZZ_CHECK(d.reply.empty());
    return;
  }
  ++logged_answers6_;
  PXE_FUZZ_CHECK(!committed6_.empty());
  PXE_FUZZ_CHECK(d.reply.data() == committed6_.data() &&
                 d.reply.size() == committed6_.size());
  committed6_ = {};
  PXE_FUZZ_CHECK(d.request6->kind != ClientKind::kNotBooting);
  PXE_FUZZ_CHECK(d.answer != nullptr && !d.answer->ignore);
}

void Harness::OnLog(const Request& request, std::span<const uint8_t> reply,
                    DropReason reason, std::string_view rule) {
  ++log_calls_;
  PXE_FUZZ_CHECK(static_cast<size_t>(reason) < kDropReasonCount);
  const ResolvedAnswer& answer = AnswerNamed(*responder_.policy(), rule);
  if (reason != DropReason::kNone) {
    PXE_FUZZ_CHECK(reply.empty());
    return;
  }
  ++logged_answers_;
  PXE_FUZZ_CHECK(!committed_.empty());
  PXE_FUZZ_CHECK(reply.data() == committed_.data() &&
                 reply.size() == committed_.size());
  committed_ = {};
  fuzz::CheckAnswers(request, *committed_reply_);
  PXE_FUZZ_CHECK(!answer.ignore);
  // Only on a network the port serves, and from there (or, relayed, from
  // the relay server policy A names for the relay's subnet).
  const std::vector<InterfaceAddress>* network =
      NetworkOf(ports_[committed_port_], request.frame);
  PXE_FUZZ_CHECK(network != nullptr);
  const uint32_t from = committed_reply_->request.frame.ip_src;
  PXE_FUZZ_CHECK(Contains(*network, from) ||
                 (request.relayed() && from == kRelayServer &&
                  responder_.policy() == GetPolicies().a.get()));
  if (answer.reply_delay_ms != 0) {
    const auto it = arrivals_.find({request.chaddr, request.xid});
    PXE_FUZZ_CHECK(it != arrivals_.end());
    if (it->second.generation == generation_) {
      const uint64_t waited = now_ns_ - it->second.ns;
      if (waited < uint64_t{answer.reply_delay_ms} * 1'000'000) {
        std::fprintf(stderr,
                     "fuzz_responder: rule \"%.*s\" delays %u ms, the reply "
                     "went after %llu us\n",
                     static_cast<int>(rule.size()), rule.data(),
                     answer.reply_delay_ms,
                     static_cast<unsigned long long>(waited / 1000));
      }
      PXE_FUZZ_CHECK(waited >= uint64_t{answer.reply_delay_ms} * 1'000'000);
    }
  }
}

void Harness::HandleFrame(size_t port, std::span<const uint8_t> frame,
                          uint8_t op) {
  const StrippedTag tag =
      (op & 0x10) ? kStrippedTags[op >> 5] : StrippedTag{0, 0};
  const RxMeta meta{.vlan_valid = (op & 0x10) != 0,
                    .vlan_tci = tag.tci,
                    .vlan_tpid = tag.tpid,
                    .udp_checksum = (op & 0x08) ? UdpChecksumStatus::kUnknown
                                                : UdpChecksumStatus::kNotReady,
                    .timestamp_ns = now_ns_,
                    .ifindex = ports_[port].ifindex};
  // When each request first came, for the reply_delay_ms check.
  if (ClassifyFrame(frame, meta, probe_.get()) == DropReason::kNone) {
    arrivals_.try_emplace({probe_->chaddr, probe_->xid},
                          Arrival{now_ns_, generation_});
  }
  responder_.HandleFrame(port, frame, meta, now_ns_);
}

void Harness::UpdatePort(size_t port, unsigned variant) {
  ports_[port] = PortVariant(port, variant);
  responder_.UpdatePort(port, ports_[port]);
}

void Harness::Tick() {
  const uint64_t due = responder_.next_deadline_ns();
  const size_t held = responder_.held();
  const uint64_t calls = log_calls_;
  responder_.Tick(now_ns_);
  if (due > now_ns_) {
    PXE_FUZZ_CHECK(responder_.held() == held);
    PXE_FUZZ_CHECK(log_calls_ == calls);
  }
  const uint64_t next = responder_.next_deadline_ns();
  if (next <= now_ns_) {
    std::fprintf(stderr,
                 "fuzz_responder: after Tick(%llu), %zu held, the next "
                 "deadline is %llu\n",
                 static_cast<unsigned long long>(now_ns_), responder_.held(),
                 static_cast<unsigned long long>(next));
  }
  PXE_FUZZ_CHECK(next > now_ns_);
}

void Harness::CheckInvariants() const {
  const size_t held = responder_.held();
  const uint64_t next = responder_.next_deadline_ns();
  PXE_FUZZ_CHECK(held <= kOptions.hold_capacity);
  PXE_FUZZ_CHECK((next == UINT64_MAX) == (held == 0));
  if (held != 0) PXE_FUZZ_CHECK(next <= now_ns_ + HoldQueue::kMaxHoldNs);
  PXE_FUZZ_CHECK(committed_.empty());  // every commit was logged
  PXE_FUZZ_CHECK(commits_ == logged_answers_);
  PXE_FUZZ_CHECK(responder_.counters().answered() == commits_ + commits6_);
  PXE_FUZZ_CHECK(committed6_.empty());  // every DHCPv6 commit was logged
  PXE_FUZZ_CHECK(commits6_ == logged_answers6_);
}

void Harness::Run(std::span<const uint8_t> in) {
  std::span<const uint8_t> last_frame;
  size_t i = 0;
  auto take16 = [&]() -> uint16_t {
    uint16_t v = 0;
    for (int k = 0; k < 2; ++k) {
      v = static_cast<uint16_t>(v << 8 | (i < in.size() ? in[i++] : 0));
    }
    return v;
  };
  while (i < in.size()) {
    const uint8_t op = in[i++];
    switch (op & 7) {
      case 0:
      case 1: {
        const size_t length = std::min<size_t>(take16() & 0x7FF, in.size() - i);
        last_frame = in.subspan(i, length);
        i += length;
        HandleFrame(op & 1, last_frame, op);
        break;
      }
      case 2:
      case 3: {
        const uint64_t ms = take16();
        const uint64_t step =
            ms * 1'000'000 + static_cast<uint64_t>(op >> 3) * 100'000;
        if ((op & 7) == 2) {
          now_ns_ += step;
          Tick();
        } else {
          now_ns_ += step;
        }
        break;
      }
      case 4: {
        const uint64_t due = responder_.next_deadline_ns();
        if (due != UINT64_MAX && due > now_ns_) now_ns_ = due;
        Tick();
        break;
      }
      case 5: {
        if ((op >> 3) != 0) {
          const unsigned k = (op >> 3) - 1u;
          UpdatePort(k & 1, (k >> 1) & 7);
          break;
        }
        const Policies& p = GetPolicies();
        responder_.SetPolicy(responder_.policy() == p.a.get() ? p.b.get()
                                                              : p.a.get());
        ++generation_;
        break;
      }
      case 6:
        slot_mask_ = i < in.size() ? in[i++] : 0;
        break;
      case 7:
        HandleFrame((op >> 3) & 1, last_frame, op);
        break;
    }
    CheckInvariants();
  }
  // Whatever is still held is answered, or dropped, when its time comes: a
  // DISCOVER that waited for an offer may wait again for its reply delay.
  for (int round = 0; round < 2; ++round) {
    now_ns_ += HoldQueue::kMaxHoldNs;
    Tick();
    CheckInvariants();
  }
  PXE_FUZZ_CHECK(responder_.held() == 0);
}

}  // namespace
}  // namespace pxe

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh responder per input, so that a crash reproduces from its input.
  auto harness = std::make_unique<pxe::Harness>();
  harness->Run({data, size});
  return 0;
}
