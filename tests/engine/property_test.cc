// Properties of the whole packet path (Respond) over many generated requests:
// mutations of real firmware requests with random ports, addresses, flags,
// VLAN tags, checksum states and option sets. Whatever comes in, the engine
// answers only PXE/HTTP boot requests on the right port (RFC 2131, PXE 2.1),
// never offers an address, sends frames that parse back with valid
// checksums, and never writes outside its buffer. Deterministic: a fixed
// seed, so a failure names the case that reproduces it.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
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

using ::pxe::testing::BuildFrame;
using ::pxe::testing::DhcpOption;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;
using ::pxe::testing::Opt;

constexpr uint32_t kSeed = 20240611;
constexpr int kCases = 20000;

constexpr uint32_t kServer = Ip(10, 77, 0, 2);
constexpr uint32_t kServer2 = Ip(10, 78, 0, 2);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};
const std::array<InterfaceAddress, 2> kAddresses = {
    InterfaceAddress{kServer, 24}, InterfaceAddress{kServer2, 24}};

// A file for every kind of client, so that every request that should be
// answered can be.
const PolicySnapshot& Policy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "efi64/syslinux.efi";
  policy.defaults.http_url = "http://10.77.0.2/boot/efi/bootx64.efi";
  policy.defaults.ipxe_script = "http://10.77.0.2/boot.ipxe";
  policy.relay_servers.push_back(
      {.relay_subnet = {.network = Ip(10, 9, 0, 0), .prefix_length = 16},
       .server = kServer});
  static const PolicySnapshot& snapshot = testing::Compiled(policy);
  return snapshot;
}

class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  // Uniform in [0, n).
  uint32_t Below(uint32_t n) {
    return std::uniform_int_distribution<uint32_t>(0, n - 1)(engine_);
  }
  bool Chance(int percent) {
    return Below(100) < static_cast<uint32_t>(percent);
  }
  uint32_t U32() { return static_cast<uint32_t>(engine_()); }
  uint8_t Byte() { return static_cast<uint8_t>(Below(256)); }
  template <typename T>
  T Pick(std::initializer_list<T> values) {
    return *(values.begin() + Below(static_cast<uint32_t>(values.size())));
  }
  std::vector<uint8_t> Bytes(size_t n) {
    std::vector<uint8_t> out(n);
    for (uint8_t& b : out) b = Byte();
    return out;
  }

 private:
  std::mt19937 engine_;
};

uint16_t RandomPort(Random& rng) {
  return rng.Pick<uint16_t>(
      {67, 68, 4011, static_cast<uint16_t>(rng.Below(65536))});
}

// Five decimal digits, zero-padded, as in "Arch:00007".
std::string Digits5(uint32_t value) {
  std::string digits = std::to_string(value % 100000);
  return std::string(5 - digits.size(), '0') + digits;
}

// A random option 60: mostly booting prefixes with random tails, some near
// misses and noise.
std::string RandomVendorClass(Random& rng) {
  std::string text(rng.Pick<std::string_view>(
      {"PXEClient", "HTTPClient", "PXEClien", "HTTPClien", "pxeclient", "",
       "MSFT 5.0", "PXEClient:Arch:", "HTTPClient:Arch:", "XPXEClient"}));
  switch (rng.Below(4)) {
    case 0:
      break;
    case 1:
      text += ":Arch:" + Digits5(rng.Below(100000)) + ":UNDI:003000";
      break;
    case 2:
      text += ":Arch:" + Digits5(rng.Pick<uint32_t>({0, 6, 7, 9, 11, 16}));
      break;
    default:
      for (uint32_t n = rng.Below(30); n > 0; --n) {
        text.push_back(static_cast<char>(rng.Below(256)));
      }
  }
  return text;
}

uint16_t RandomArchCode(Random& rng) {
  if (rng.Chance(10)) return static_cast<uint16_t>(rng.Below(65536));
  return static_cast<uint16_t>(rng.Below(32));
}

void Remove(FrameSpec& spec, uint8_t code) {
  std::erase_if(spec.options,
                [code](const DhcpOption& o) { return o.code == code; });
}

void InsertAnywhere(Random& rng, FrameSpec& spec, DhcpOption option) {
  const auto at = spec.options.begin() +
                  rng.Below(static_cast<uint32_t>(spec.options.size() + 1));
  spec.options.insert(at, std::move(option));
}

struct Generated {
  FrameSpec spec;
  RxMeta meta;
  size_t buffer_size = kMaxReplyFrameSize;
};

Generated Generate(Random& rng) {
  Generated g;
  FrameSpec& s = g.spec;
  const uint32_t client = rng.Pick<uint32_t>(
      {Ip(10, 77, 0, 50), Ip(10, 78, 0, 50), Ip(10, 99, 0, 50), rng.U32(), 0});
  const uint32_t proxy =
      rng.Pick<uint32_t>({kServer, kServer2, Ip(10, 99, 0, 1), rng.U32()});
  switch (rng.Below(7)) {
    case 0:
      s = testing::BiosIpxeDiscover();
      break;
    case 1:
      s = testing::UefiOvmfDiscover();
      break;
    case 2:
      s = testing::UefiOvmfRequest4011(client, proxy);
      break;
    case 3:
      s = testing::BiosIpxeRequest4011(client, proxy);
      break;
    case 4:
      s = testing::PlainDhcpDiscover();
      break;
    case 5:
      s = testing::ServerOffer(Ip(10, 77, 0, 1), client);
      break;
    default:
      s.options = {testing::MessageTypeOpt(1), Opt(60, "PXEClient")};
  }

  // BOOTP header and addressing.
  if (rng.Chance(15)) s.op = rng.Pick<uint8_t>({1, 2, 0, 3, rng.Byte()});
  if (rng.Chance(5)) s.htype = rng.Pick<uint8_t>({1, 6, rng.Byte()});
  if (rng.Chance(5)) s.hlen = rng.Pick<uint8_t>({6, 16, 0, rng.Byte()});
  if (rng.Chance(3)) s.cookie[rng.Below(4)] ^= 1 + rng.Below(255);
  if (rng.Chance(40)) s.dst_port = RandomPort(rng);
  if (rng.Chance(40)) s.src_port = RandomPort(rng);
  if (rng.Chance(20)) {
    s.giaddr = rng.Pick<uint32_t>(
        {Ip(10, 78, 0, 1), Ip(10, 9, 3, 1), Ip(10, 10, 0, 1), rng.U32()});
  }
  if (rng.Chance(30)) s.ciaddr = rng.Pick<uint32_t>({0, client, rng.U32()});
  if (rng.Chance(30)) s.ip_src = rng.Pick<uint32_t>({0, client, rng.U32()});
  if (rng.Chance(20))
    s.ip_dst = rng.Pick<uint32_t>({kServer, 0xFFFFFFFF, rng.U32()});
  if (rng.Chance(30)) s.flags = rng.Pick<uint16_t>({0, 0x8000, 0x0001, 0xFFFF});
  if (rng.Chance(50)) s.xid = rng.U32();
  if (rng.Chance(50)) {
    for (uint8_t& b : s.chaddr) b = rng.Byte();
  }
  if (rng.Chance(5)) s.eth_src[0] |= 1;  // a group address
  if (rng.Chance(20)) s.vlan_tci = static_cast<uint16_t>(rng.Below(65536));
  if (rng.Chance(10)) s.ihl = static_cast<uint8_t>(6 + rng.Below(10));
  if (rng.Chance(10)) s.ethernet_trailer = rng.Below(40);
  if (rng.Chance(10)) {
    s.udp_checksum = rng.Pick<FrameSpec::UdpChecksum>(
        {FrameSpec::UdpChecksum::kZero, FrameSpec::UdpChecksum::kWrong});
  }

  // Options.
  if (rng.Chance(30)) {
    Remove(s, 53);
    if (!rng.Chance(10)) {
      const uint8_t type = rng.Pick<uint8_t>({1, 3, 8, 2, 5, rng.Byte()});
      InsertAnywhere(rng, s,
                     rng.Chance(5) ? Opt(53, {type, type}) : Opt(53, {type}));
    }
  }
  if (rng.Chance(40)) {
    Remove(s, 60);
    if (!rng.Chance(10)) {
      std::string text = RandomVendorClass(rng);
      if (text.size() > 2 && rng.Chance(15)) {
        // RFC 3396: one value in two options.
        const size_t cut =
            1 + rng.Below(static_cast<uint32_t>(text.size() - 1));
        InsertAnywhere(rng, s, Opt(60, text.substr(0, cut)));
        s.options.push_back(Opt(60, text.substr(cut)));
      } else {
        InsertAnywhere(rng, s, Opt(60, text));
      }
    }
  }
  if (rng.Chance(25)) {
    Remove(s, 93);
    const uint32_t count = rng.Below(5);
    DhcpOption arch{93, {}};
    for (uint32_t i = 0; i < count; ++i) {
      const uint16_t code = RandomArchCode(rng);
      arch.value.push_back(static_cast<uint8_t>(code >> 8));
      arch.value.push_back(static_cast<uint8_t>(code));
    }
    if (count > 0 || rng.Chance(50)) InsertAnywhere(rng, s, arch);
  }
  // Random other options: never 0, 52, 53, 60 or 255, which the oracle
  // below treats specially; any length up to 255.
  for (uint32_t n = rng.Below(8); n > 0; --n) {
    uint8_t code;
    do {
      code = static_cast<uint8_t>(1 + rng.Below(254));
    } while (code == 52 || code == 53 || code == 60);
    const size_t length = rng.Chance(5) ? 255 : rng.Below(24);
    InsertAnywhere(rng, s, DhcpOption{code, rng.Bytes(length)});
  }
  if (rng.Chance(10)) InsertAnywhere(rng, s, testing::UuidOpt(rng.Byte()));
  if (rng.Chance(10)) {
    InsertAnywhere(rng, s, Opt(43, {71, 4, rng.Byte(), rng.Byte(), 0, 0, 255}));
  }
  if (rng.Chance(10)) InsertAnywhere(rng, s, Opt(77, "iPXE"));

  // What the capture layer says.
  if (rng.Chance(10)) {
    g.meta.vlan_valid = true;
    g.meta.vlan_tci = static_cast<uint16_t>(rng.Below(65536));
    g.meta.vlan_tpid = rng.Pick<uint16_t>({0, 0x8100, 0x8100, 0x88A8});
  }
  g.meta.udp_checksum = rng.Pick<UdpChecksumStatus>(
      {UdpChecksumStatus::kUnknown, UdpChecksumStatus::kUnknown,
       UdpChecksumStatus::kNotReady, UdpChecksumStatus::kVerified});
  if (rng.Chance(15)) g.buffer_size = rng.Below(kMaxReplyFrameSize + 1);
  return g;
}

// --- An oracle for the answer rules, written from the protocol, not from
// the engine: the spec's options are exactly what a parser sees (no PAD, END
// or overload codes are generated). ---

std::optional<std::vector<uint8_t>> FirstOption(const FrameSpec& s,
                                                uint8_t code) {
  for (const DhcpOption& o : s.options) {
    if (o.code == code) {
      return std::vector<uint8_t>(
          o.value.begin(),
          o.value.begin() + std::min<size_t>(o.value.size(), 255));
    }
  }
  return std::nullopt;
}

std::string AllOf60(const FrameSpec& s) {
  std::string text;
  for (const DhcpOption& o : s.options) {
    if (o.code == 60) text.append(o.value.begin(), o.value.end());
  }
  return text;
}

bool KnownArch(uint16_t code) {
  for (uint16_t known :
       {0, 6, 7, 9, 10, 11, 15, 16, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28}) {
    if (code == known) return true;
  }
  return false;
}

// Option 93's first known code (its instances concatenated, RFC 3396; over
// 256 bytes, treated as absent); else "Arch:xxxxx" in option 60; else BIOS.
bool ArchServed(const FrameSpec& s) {
  std::optional<std::vector<uint8_t>> arch;
  for (const DhcpOption& o : s.options) {
    if (o.code != 93) continue;
    if (!arch) arch.emplace();
    arch->insert(arch->end(), o.value.begin(),
                 o.value.begin() + std::min<size_t>(o.value.size(), 255));
  }
  if (arch && arch->size() > 256) arch.reset();
  if (arch && arch->size() >= 2) {
    for (size_t i = 0; i + 1 < arch->size(); i += 2) {
      if (KnownArch(static_cast<uint16_t>((*arch)[i] << 8 | (*arch)[i + 1]))) {
        return true;
      }
    }
    return false;
  }
  const std::string vc = AllOf60(s);
  const size_t at = vc.find(":Arch:");
  if (at == std::string::npos || vc.size() < at + 11) return true;
  uint32_t value = 0;
  for (char c : vc.substr(at + 6, 5)) {
    if (c < '0' || c > '9') return true;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value > 0xFFFF || KnownArch(static_cast<uint16_t>(value));
}

// PXE 2.1 boot item (43.71: type, layer) in the concatenated option 43, or
// empty: sub-options walked from the start, PAD skipped, END or a cut-off
// sub-option ends the walk.
std::vector<uint8_t> BootItem(const FrameSpec& s) {
  std::vector<uint8_t> vendor;
  for (const DhcpOption& o : s.options) {
    if (o.code == 43)
      vendor.insert(vendor.end(), o.value.begin(), o.value.end());
  }
  for (size_t i = 0; i < vendor.size() && vendor[i] != 255;) {
    if (vendor[i] == 0) {
      ++i;
      continue;
    }
    if (i + 2 > vendor.size() || i + 2 + vendor[i + 1] > vendor.size()) break;
    if (vendor[i] == 71 && vendor[i + 1] == 4) {
      return {vendor.begin() + i + 2, vendor.begin() + i + 6};
    }
    i += 2 + size_t{vendor[i + 1]};
  }
  return {};
}

// Whether `ip` is the unicast address of another host, as seen from the
// proxy's two /24s (kAddresses): RFC 1122 §3.2.1.3 and RFC 5771 rule out
// 0/8, 127/8, 224/4 and 240/4 (with 255.255.255.255); our own addresses and
// our subnets' network and broadcast addresses are not hosts either.
bool OtherHost(uint32_t ip) {
  const uint32_t first = ip >> 24;
  if (first == 0 || first == 127 || first >= 224) return false;
  for (const InterfaceAddress& a : kAddresses) {
    const uint32_t net = a.address & 0xFFFFFF00;
    if (ip == a.address || ip == net || ip == (net | 0xFF)) return false;
  }
  return true;
}

bool OnLink(uint32_t ip) {
  for (const InterfaceAddress& a : kAddresses) {
    if ((ip & 0xFFFFFF00) == (a.address & 0xFFFFFF00)) return true;
  }
  return false;
}

// Where a reply may go: only where a booting client or its relay can be.
// An ACK goes to the IP source, and a ciaddr that is set must be it (from
// 0.0.0.0, to an on-link ciaddr), on the client ports 68 or 4011; a
// relayed request back to a relay that is another host; a broadcast offer
// only for a request from 0.0.0.0 or from this link.
bool ReplyCanGo(const FrameSpec& s, bool ack) {
  if (s.eth_src[0] & 1) return false;
  const bool relayed_on_67 = s.dst_port == 67 && s.giaddr != 0;
  if (ack && !relayed_on_67) {
    if (s.ip_src != 0 && s.ciaddr != 0 && s.ciaddr != s.ip_src) return false;
    const uint32_t target = s.ip_src != 0 ? s.ip_src : s.ciaddr;
    if (s.ip_src == 0 && !OnLink(target)) return false;
    return OtherHost(target) && (s.src_port == 68 || s.src_port == 4011);
  }
  if (s.giaddr != 0) return OtherHost(s.giaddr);
  return s.ip_src == 0 || OnLink(s.ip_src);
}

struct Verdict {
  bool booting_request = false;  // the DHCP rules say: answer
  bool answerable = false;       // ... and nothing stands in the way
  bool ack = false;              // answered with an ACK, not an OFFER
};

Verdict Judge(const Generated& g) {
  const FrameSpec& s = g.spec;
  Verdict v;
  std::optional<std::vector<uint8_t>> type = FirstOption(s, 53);
  const int t = type && type->size() == 1 ? (*type)[0] : -1;
  const std::vector<uint8_t> boot_item = BootItem(s);
  // On 67 also a boot-server request (PXE 2.1 broadcast discovery after a
  // menu): a REQUEST with 43.71 for no DHCP server (no option 50 or 54).
  const bool boot_server_request = s.dst_port == 67 && t == 3 &&
                                   !boot_item.empty() && !FirstOption(s, 50) &&
                                   !FirstOption(s, 54);
  const bool type_fits_port = (s.dst_port == 67 && t == 1) ||
                              (s.dst_port == 4011 && (t == 3 || t == 8)) ||
                              boot_server_request;
  v.ack = s.dst_port == 4011 || boot_server_request;
  const std::string vc = AllOf60(s);
  const bool booting =
      vc.rfind("PXEClient", 0) == 0 || vc.rfind("HTTPClient", 0) == 0;
  v.booting_request =
      s.op == 1 && s.htype == 1 && s.hlen == 6 &&
      s.cookie == std::array<uint8_t, 4>{0x63, 0x82, 0x53, 0x63} &&
      type_fits_port && booting;
  const bool checksum_ok = s.udp_checksum != FrameSpec::UdpChecksum::kWrong ||
                           g.meta.udp_checksum != UdpChecksumStatus::kUnknown;
  // An ACK goes to the client (ciaddr, else the source address); one
  // relayed to 67 goes back to the relay.
  const bool has_client_address = !v.ack || s.ciaddr != 0 || s.ip_src != 0 ||
                                  (s.dst_port == 67 && s.giaddr != 0);
  // Layer bit 15 asks for PXE BIS credentials, which are not served.
  const bool bis = !boot_item.empty() && (boot_item[2] & 0x80) != 0;
  // One 802.1Q tag, in the frame or stripped by the kernel; an S-tag or two
  // tags (QinQ) are not served.
  const bool one_c_tag =
      !g.meta.vlan_valid ||
      (!s.vlan_tci.has_value() &&
       (g.meta.vlan_tpid == 0 || g.meta.vlan_tpid == 0x8100));
  v.answerable = v.booting_request && checksum_ok && vc.size() <= 256 &&
                 ArchServed(s) && has_client_address && !bis && one_c_tag &&
                 ReplyCanGo(s, v.ack);
  return v;
}

std::string Summary(const Generated& g) {
  std::ostringstream out;
  const FrameSpec& s = g.spec;
  out << "op " << int{s.op} << " port " << s.src_port << "->" << s.dst_port
      << " giaddr " << std::hex << s.giaddr << " ciaddr " << s.ciaddr
      << " ip_src " << s.ip_src << std::dec << " options";
  for (const DhcpOption& o : s.options) {
    out << " " << int{o.code} << "/" << o.value.size();
  }
  out << " 60=\"" << AllOf60(s) << "\" buffer " << g.buffer_size;
  if (s.vlan_tci) out << " tag " << *s.vlan_tci;
  if (g.meta.vlan_valid) {
    out << " stripped tag " << g.meta.vlan_tci << " tpid " << std::hex
        << g.meta.vlan_tpid << std::dec;
  }
  return out.str();
}

// Reads a reply back. ParseFrame() verifies its IPv4 and UDP checksums as
// sent; then, since an ACK goes to whatever port the request came from and
// ClassifyFrame() reads only DHCP ports, a copy with the destination port set
// to 68 (and the already verified checksum set to "none") is classified into
// `reply`, whose spans point into `copy`. Returns the reply's real
// destination port, or 0 if the frame is broken.
uint16_t ReadReply(std::span<const uint8_t> frame, std::vector<uint8_t>* copy,
                   Request* reply) {
  FrameView view;
  if (ParseFrame(frame, RxMeta{}, &view) != DropReason::kNone) return 0;
  copy->assign(frame.begin(), frame.end());
  const size_t udp =
      static_cast<size_t>(view.payload.data() - frame.data()) - kUdpHeaderSize;
  StoreBe16(copy->data() + udp + 2, kDhcpClientPort);
  StoreBe16(copy->data() + udp + 6, 0);
  if (ClassifyFrame(*copy, RxMeta{}, reply) != DropReason::kServerReply) {
    return 0;
  }
  return view.udp_dst;
}

std::vector<uint8_t> ChaddrField(const FrameSpec& s) {
  std::vector<uint8_t> field(16, 0);
  std::copy(s.chaddr.begin(), s.chaddr.end(), field.begin());
  return field;
}

void CheckCase(const Generated& g, const PolicySnapshot& policy,
               const ServerContext& context, Request* request, Request* reply,
               DropReason* outcome) {
  const std::vector<uint8_t> frame = BuildFrame(g.spec);
  std::vector<uint8_t> out(g.buffer_size);  // exactly: ASan sees overruns
  size_t size = 0;
  const DropReason d =
      Respond(frame, g.meta, policy, context, request, out, &size);
  *outcome = d;
  ASSERT_LT(static_cast<size_t>(d), kDropReasonCount);
  const Verdict verdict = Judge(g);
  if (d != DropReason::kNone) {
    ASSERT_EQ(size, 0u);
    if (verdict.answerable) {
      // The only excuse left for an answerable request is the buffer.
      ASSERT_EQ(d, DropReason::kReplyBufferTooSmall) << DropReasonText(d);
      ASSERT_LT(g.buffer_size, kMaxReplyFrameSize);
    }
    return;
  }
  ASSERT_TRUE(verdict.booting_request) << "answered a request the rules drop";
  ASSERT_TRUE(verdict.answerable);
  ASSERT_GT(size, 0u);
  ASSERT_LE(size, out.size());

  std::vector<uint8_t> copy;
  const uint16_t reply_port = ReadReply({out.data(), size}, &copy, reply);
  ASSERT_NE(reply_port, 0)
      << "the reply does not parse back or its checksums are wrong";
  const bool offer = !verdict.ack;
  ASSERT_EQ(reply->type,
            offer ? dhcp::MessageType::kOffer : dhcp::MessageType::kAck);
  // Replies leave from the port the request came to.
  EXPECT_EQ(reply->frame.udp_src, g.spec.dst_port);
  if (g.spec.dst_port == 67 && g.spec.giaddr != 0) {
    EXPECT_EQ(reply_port, kDhcpServerPort);  // to the relay
  } else if (offer) {
    EXPECT_EQ(reply_port, kDhcpClientPort);
  } else {
    EXPECT_EQ(reply_port, g.spec.src_port);
  }
  EXPECT_EQ(reply->xid, g.spec.xid);
  EXPECT_EQ(std::vector<uint8_t>(reply->bootp.chaddr_field(),
                                 reply->bootp.chaddr_field() + 16),
            ChaddrField(g.spec));
  EXPECT_EQ(reply->giaddr, g.spec.giaddr);
  if (offer) {
    EXPECT_EQ(reply->yiaddr, 0u);
    EXPECT_TRUE(reply->broadcast);
  } else {
    EXPECT_TRUE(reply->yiaddr == 0 || reply->yiaddr == g.spec.ciaddr)
        << std::hex << reply->yiaddr;
  }
  EXPECT_TRUE(reply->frame.ip_src == kServer || reply->frame.ip_src == kServer2)
      << std::hex << reply->frame.ip_src;
  EXPECT_EQ(reply->server_id, reply->frame.ip_src);
  EXPECT_EQ(reply->frame.eth_src, kServerMac);
  const bool tagged = g.spec.vlan_tci.has_value() || g.meta.vlan_valid;
  EXPECT_EQ(reply->frame.has_vlan, tagged);
  if (tagged) {
    EXPECT_EQ(reply->frame.vlan_tci, g.spec.vlan_tci.value_or(g.meta.vlan_tci));
  }
  const std::string vc(reply->vendor_class.begin(), reply->vendor_class.end());
  EXPECT_TRUE(vc == "PXEClient" || vc == "HTTPClient") << vc;
  for (uint8_t code : {1, 3, 6, 51}) {
    EXPECT_FALSE(reply->options.Has(code));
  }
  EXPECT_GE(reply->frame.payload.size(), bootp::kMinMessageSize);
}

TEST(PropertyTest, GeneratedRequests) {
  Random rng(kSeed);
  const PolicySnapshot& policy = Policy();
  const ServerContext context{.mac = kServerMac, .addresses = kAddresses};
  auto request = std::make_unique<Request>();
  auto reply = std::make_unique<Request>();
  std::array<size_t, kDropReasonCount> outcomes{};
  for (int i = 0; i < kCases; ++i) {
    const Generated g = Generate(rng);
    DropReason outcome = DropReason::kNone;
    CheckCase(g, policy, context, request.get(), reply.get(), &outcome);
    if (HasFailure()) {
      FAIL() << "case " << i << " (seed " << kSeed << "): " << Summary(g);
    }
    ++outcomes[static_cast<size_t>(outcome)];
  }
  // The generator must reach both sides of the rules often, or the
  // properties above prove little.
  EXPECT_GT(outcomes[static_cast<size_t>(DropReason::kNone)],
            size_t{kCases / 10});
  for (DropReason d :
       {DropReason::kNotBooting, DropReason::kUnhandledMessage,
        DropReason::kUnknownArch, DropReason::kServerReply,
        DropReason::kWrongPort, DropReason::kBadUdpChecksum,
        DropReason::kNoMessageType, DropReason::kBadOpcode,
        DropReason::kReplyBufferTooSmall, DropReason::kNoClientAddress,
        DropReason::kGroupSourceMac, DropReason::kCiaddrNotSource,
        DropReason::kBadReplyTarget, DropReason::kBadClientPort,
        DropReason::kBadRelayAddress, DropReason::kOffLinkRequest,
        DropReason::kServiceVlanTag, DropReason::kStackedVlanTags}) {
    EXPECT_GT(outcomes[static_cast<size_t>(d)], 10u) << DropReasonName(d);
  }
}

// Random damage to valid frames: flipped bytes (mostly in the headers and
// options), cuts, garbage tails. Nothing may crash or read outside the
// frame (exact-size copies, so AddressSanitizer sees it); whatever is
// answered is a well-formed reply.
TEST(PropertyTest, CorruptedFramesNeverCrash) {
  Random rng(kSeed + 1);
  const PolicySnapshot& policy = Policy();
  const ServerContext context{.mac = kServerMac, .addresses = kAddresses};
  FrameSpec tagged = testing::BiosIpxeDiscover();
  tagged.vlan_tci = 12;
  FrameSpec overloaded = testing::UefiOvmfDiscover();
  overloaded.options.push_back(Opt(52, {3}));
  overloaded.file = testing::EncodeOptions({Opt(60, "Client")}, true);
  overloaded.sname = testing::EncodeOptions({Opt(82, {1, 2, 3, 4})}, false);
  FrameSpec no_end = testing::BiosIpxeRequest4011(Ip(10, 77, 0, 50), kServer);
  no_end.end_option = false;
  no_end.pad_bootp_to = 0;
  const std::vector<std::vector<uint8_t>> valid = {
      BuildFrame(testing::BiosIpxeDiscover()),
      BuildFrame(testing::UefiOvmfDiscover()),
      BuildFrame(testing::UefiOvmfRequest4011(Ip(10, 77, 0, 50), kServer)),
      BuildFrame(no_end),
      BuildFrame(tagged),
      BuildFrame(overloaded),
      BuildFrame(testing::ServerOffer(Ip(10, 77, 0, 1), Ip(10, 77, 0, 50)))};
  auto request = std::make_unique<Request>();
  auto reply = std::make_unique<Request>();
  size_t answered = 0;
  for (int i = 0; i < kCases; ++i) {
    std::vector<uint8_t> frame =
        valid[rng.Below(static_cast<uint32_t>(valid.size()))];
    for (uint32_t n = 1 + rng.Below(8); n > 0; --n) {
      const size_t limit =
          rng.Chance(50) ? std::min<size_t>(frame.size(), 60) : frame.size();
      frame[rng.Below(static_cast<uint32_t>(limit))] = rng.Byte();
    }
    if (rng.Chance(30)) {
      frame.resize(rng.Below(static_cast<uint32_t>(frame.size() + 1)));
    } else if (rng.Chance(10)) {
      const std::vector<uint8_t> tail = rng.Bytes(rng.Below(64));
      frame.insert(frame.end(), tail.begin(), tail.end());
    }
    frame.shrink_to_fit();
    RxMeta meta;
    meta.udp_checksum = rng.Chance(70) ? UdpChecksumStatus::kNotReady
                                       : UdpChecksumStatus::kUnknown;
    meta.vlan_valid = rng.Chance(10);
    const size_t buffer_size =
        rng.Chance(80) ? kMaxReplyFrameSize : rng.Below(kMaxReplyFrameSize + 1);
    std::vector<uint8_t> out(buffer_size);
    size_t size = 0;
    const DropReason d =
        Respond(frame, meta, policy, context, request.get(), out, &size);
    ASSERT_LT(static_cast<size_t>(d), kDropReasonCount) << "case " << i;
    if (d != DropReason::kNone) {
      ASSERT_EQ(size, 0u) << "case " << i;
      continue;
    }
    ++answered;
    ASSERT_LE(size, out.size()) << "case " << i;
    std::vector<uint8_t> copy;
    ASSERT_NE(ReadReply({out.data(), size}, &copy, reply.get()), 0)
        << "case " << i;
    ASSERT_EQ(reply->xid, request->xid) << "case " << i;
    ASSERT_EQ(reply->chaddr, request->chaddr) << "case " << i;
    if (reply->type == dhcp::MessageType::kOffer) {
      ASSERT_EQ(reply->yiaddr, 0u) << "case " << i;
    }
  }
  // Many damaged frames still carry an intact request: some are answered.
  EXPECT_GT(answered, 100u);
}

}  // namespace
}  // namespace pxe
