// Known-answer replies for each kind of request pxe-pdhcp answers, written
// out by hand field by field with the source of each value: RFC 2131 §2
// (fields), §4.1 (where replies go) and §4.3.1 table 3 (field values),
// RFC 2132 (options), RFC 4578 (options 93, 94, 97), the PXE 2.1
// specification (the proxy offer, the boot server ACK on 4011, option 43's
// sub-options), UEFI 2.x HTTP Boot (vendor class "HTTPClient"), IEEE 802.1Q
// (the tag). The firmware requests
// are the real ones in tests/data, whose replies the same firmware accepted
// (compared byte for byte in reply_capture_known_answer_test.cc); the rest
// are built with tests/testing/packet_builder.h. IPv4 and UDP checksums are
// computed by tests/testing/known_answer.h (RFC 1071), not by the engine.
//
// The IPv4 id only has to be unique per datagram in flight (RFC 791 §3.2);
// pxe-pdhcp derives it from the xid, as xid ^ (xid >> 16), so that every
// reply here is fully determined.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/known_answer.h"
#include "tests/testing/packet_builder.h"

#ifndef PXE_TEST_DATA_DIR
#error "PXE_TEST_DATA_DIR must name tests/data"
#endif

namespace pxe {
namespace {

using testing::Be16;
using testing::Bytes;
using testing::SameFrame;
using testing::Text;
using testing::WithChecksums;
using testing::Zeros;

const std::vector<uint8_t> kServerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const std::vector<uint8_t> kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
const std::vector<uint8_t> kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const std::vector<uint8_t> kServerIp = {10, 77, 0, 2};
const std::vector<uint8_t> kTftpIp = {10, 77, 0, 1};
const std::vector<uint8_t> kClientIp = {10, 77, 0, 113};
const std::vector<uint8_t> kBroadcastIp = {255, 255, 255, 255};
const std::vector<uint8_t> kCookie = {0x63, 0x82, 0x53, 0x63};  // RFC 2131 §3
// Option 97 as OVMF and QEMU's iPXE sent it in tests/data: type 0 and a
// UUID of 16 zero bytes (RFC 4578 §2.3).
const std::vector<uint8_t> kZeroUuid = Bytes({{97, 17}, Zeros(17)});

// Frame `number` (1-based, as tcpdump counts) of a capture in tests/data.
std::vector<uint8_t> CaptureFrame(const std::string& file, size_t number) {
  absl::StatusOr<std::unique_ptr<PcapFileSource>> source =
      PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) + "/" + file);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {};
  std::vector<RxFrame> batch(64);
  absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
  EXPECT_TRUE(n.ok() && *n >= number) << file;
  if (!n.ok() || *n < number) return {};
  const std::span<const uint8_t> data = batch[number - 1].data;
  return {data.begin(), data.end()};
}

// One IPv4 address, 10.77.0.2/24, and our MAC 02:00:00:00:00:02.
std::vector<uint8_t> Answer(const std::vector<uint8_t>& request,
                            const PolicySnapshot& policy,
                            const RxMeta& meta = RxMeta{}) {
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{MakeIpv4(10, 77, 0, 2), 24}};
  const ServerContext context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addresses = addresses};
  auto scratch = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  const DropReason d =
      Respond(request, meta, policy, context, scratch.get(), out, &size);
  EXPECT_EQ(d, DropReason::kNone) << DropReasonName(d);
  return {out.begin(), out.begin() + size};
}

// BIOS clients get pxelinux.0, UEFI x64 clients bootx64.efi, from a TFTP
// server that is not us (10.77.0.1): siaddr and option 54 then differ.
BootPolicy TftpPolicy() {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "bootx64.efi";
  policy.defaults.tftp_server = MakeIpv4(10, 77, 0, 1);
  return policy;
}

// IPv4 (RFC 791) and UDP (RFC 768) headers with zero checksums, for
// WithChecksums(): TOS 0xC0 (RFC 2474 class selector 6, as DHCP servers
// send), no fragment flags, TTL 64.
std::vector<uint8_t> Ipv4Udp(const std::vector<uint8_t>& id,
                             const std::vector<uint8_t>& src,
                             const std::vector<uint8_t>& dst, uint16_t sport,
                             uint16_t dport, size_t bootp_length) {
  return Bytes({
      {0x45, 0xc0},
      Be16(20 + 8 + bootp_length),
      id,
      {0x00, 0x00, 0x40, 0x11, 0x00, 0x00},
      src,
      dst,
      Be16(sport),
      Be16(dport),
      Be16(8 + bootp_length),
      {0x00, 0x00},
  });
}

// A 64-byte sname or 128-byte file field: `text`, then NULs (RFC 2131 §2).
std::vector<uint8_t> Field(std::string_view text, size_t size) {
  return Bytes({Text(text), Zeros(size - text.size())});
}

// Options after the cookie, zero-padded so the BOOTP message is at least the
// 300 bytes of RFC 951 (its 64-byte vend field): PXE ROMs and relays drop
// shorter ones.
std::vector<uint8_t> Padded(std::vector<uint8_t> options) {
  if (236 + options.size() < 300) options.resize(300 - 236, 0);
  return options;
}

// --- The boot server ACK on port 4011 (PXE 2.1), both source ports -------

// iPXE's boot server request (bios-ipxe-proxy-offer.pcap frame 6): from
// 10.77.0.113:68 to 10.77.0.2:4011, xid 0, flags 0x8000, ciaddr set, and
// option 43 = boot item 71 (type 0x8000, layer 0).
TEST(ReplyKindsKnownAnswerTest, AckOn4011ToIpxeFromPort68) {
  const std::vector<uint8_t> request =
      CaptureFrame("bios-ipxe-proxy-offer.pcap", 6);
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 5},  // DHCPACK (RFC 2132 §9.6)
      {54, 4},
      kServerIp,  // server identifier: the address asked (RFC 2132 §9.7)
      {60, 9},
      Text("PXEClient"),  // PXE 2.1: a boot server's reply names itself
      kZeroUuid,          // the client's UUID echoed (PXE 2.1, RFC 4578)
      // 43.71 PXE_BOOT_ITEM (PXE 2.1): the item the client asked for,
      // echoed, then END.
      {43, 7, 71, 4, 0x80, 0x00, 0x00, 0x00, 255},
      {255},
  }));
  const size_t bootp = 236 + options.size();
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kClientMac,  // to the request frame's source MAC (RFC 2131 §4.1)
      kServerMac,
      {0x08, 0x00},
      // id = xid ^ xid >> 16 = 0; back to the request's source address and
      // port 68, from the port it asked (PXE 2.1: boot server replies).
      Ipv4Udp({0x00, 0x00}, kServerIp, kClientIp, 4011, 68, bootp),
      // op 2, htype 1, hlen 6, hops 0; the request's xid (0); secs 0 (RFC
      // 2131 table 3). Flags 0: RFC 2131 table 3 says the ACK copies the
      // request's flags (0x8000 here), and the ACK this capture holds did;
      // pxe-pdhcp sends 0, which iPXE ignores (the ACK is unicast).
      {0x02, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
      kClientIp,  // ciaddr from the request (RFC 2131 table 3)
      kClientIp,  // yiaddr: the client's own address echoed, never another
      kTftpIp,    // siaddr: the TFTP server (RFC 2131 §2 "next server")
      Zeros(4),   // giaddr
      kClientMac,
      Zeros(10),
      Field("10.77.0.1", 64),    // sname: the TFTP server as text
      Field("pxelinux.0", 128),  // file: the NBP
      options,
  }));
  EXPECT_TRUE(
      SameFrame(Answer(request, testing::Compiled(TftpPolicy())), expected));
}

// OVMF's request (uefi-ovmf-proxy-offer.pcap frame 6): from
// 10.77.0.113:4011 to 10.77.0.2:4011, xid 0xbba10c07, flags 0; EDK2 listens
// on 4011 only, so the ACK goes back there.
TEST(ReplyKindsKnownAnswerTest, AckOn4011ToOvmfFromPort4011) {
  const std::vector<uint8_t> request =
      CaptureFrame("uefi-ovmf-proxy-offer.pcap", 6);
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 5},
      {54, 4},
      kServerIp,
      {60, 9},
      Text("PXEClient"),
      kZeroUuid,
      {255},  // no option 43: the client sent no boot item
  }));
  const size_t bootp = 236 + options.size();
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kClientMac,
      kServerMac,
      {0x08, 0x00},
      // id 0xbba1 ^ 0x0c07 = 0xb7a6; to 10.77.0.113:4011.
      Ipv4Udp({0xb7, 0xa6}, kServerIp, kClientIp, 4011, 4011, bootp),
      {0x02, 0x01, 0x06, 0x00, 0xbb, 0xa1, 0x0c, 0x07, 0x00, 0x00, 0x00, 0x00},
      kClientIp,  // ciaddr
      kClientIp,  // yiaddr: its own address
      kTftpIp,    // siaddr: EDK2 takes the TFTP server from the ACK
      Zeros(4),
      kClientMac,
      Zeros(10),
      Field("10.77.0.1", 64),
      Field("bootx64.efi", 128),  // EDK2 rejects an ACK without a file
      options,
  }));
  EXPECT_TRUE(
      SameFrame(Answer(request, testing::Compiled(TftpPolicy())), expected));
}

// --- UEFI offers on port 67 ----------------------------------------------

// OVMF's DISCOVER (uefi-ovmf-proxy-offer.pcap frame 1): xid 0xa6555eeb,
// flags 0x8000, arch 7 (x64 UEFI: RFC 4578 §2.1 as corrected by its
// erratum).
const std::string kOvmfCapture = "uefi-ovmf-proxy-offer.pcap";

// "BINL" style, the default: no file and no option 43, siaddr = us, so
// that every EDK2 asks us on 4011 (at siaddr first) and gets the file in
// the ACK. The offer this capture holds is this one, byte for byte in the
// BOOTP message.
TEST(ReplyKindsKnownAnswerTest, UefiBinlOffer) {
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 2},  // DHCPOFFER
      {54, 4},
      kServerIp,
      {60, 9},
      Text("PXEClient"),  // without it EDK2 ignores a proxy offer
      kZeroUuid,
      {255},
  }));
  const size_t bootp = 236 + options.size();
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kBroadcastMac,  // the client has no address yet (RFC 2131 §4.1)
      kServerMac,
      {0x08, 0x00},
      // id 0xa655 ^ 0x5eeb = 0xf8be; 67 -> 255.255.255.255:68.
      Ipv4Udp({0xf8, 0xbe}, kServerIp, kBroadcastIp, 67, 68, bootp),
      // flags 0x8000: broadcast, yiaddr is 0 (RFC 2131 §4.1).
      {0x02, 0x01, 0x06, 0x00, 0xa6, 0x55, 0x5e, 0xeb, 0x00, 0x00, 0x80, 0x00},
      Zeros(8),   // ciaddr 0, yiaddr 0: a proxy offers no address
      kServerIp,  // siaddr: us, where EDK2 sends its 4011 request
      Zeros(4),
      kClientMac,
      Zeros(10),
      Zeros(64),   // no sname
      Zeros(128),  // no file: a file would make iPXE EFI fetch it at once
      options,
  }));
  EXPECT_TRUE(SameFrame(
      Answer(CaptureFrame(kOvmfCapture, 1), testing::Compiled(TftpPolicy())),
      expected));
}

// The direct style (uefi_offer_style = direct): like BIOS, siaddr, sname,
// file and 43 = discovery control "boot the file in this offer".
TEST(ReplyKindsKnownAnswerTest, UefiDirectOffer) {
  BootPolicy policy = TftpPolicy();
  policy.uefi_offer_style = UefiOfferStyle::kDirect;
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 2},
      {54, 4},
      kServerIp,
      {60, 9},
      Text("PXEClient"),
      kZeroUuid,
      // PXE 2.1 sub-option 6 PXE_DISCOVERY_CONTROL, bit 3 set: boot the
      // file named in this offer, no boot server discovery; then END.
      {43, 4, 6, 1, 0x08, 255},
      {255},
  }));
  const size_t bootp = 236 + options.size();
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kBroadcastMac,
      kServerMac,
      {0x08, 0x00},
      Ipv4Udp({0xf8, 0xbe}, kServerIp, kBroadcastIp, 67, 68, bootp),
      {0x02, 0x01, 0x06, 0x00, 0xa6, 0x55, 0x5e, 0xeb, 0x00, 0x00, 0x80, 0x00},
      Zeros(8),
      kTftpIp,  // siaddr: the TFTP server
      Zeros(4),
      kClientMac,
      Zeros(10),
      Field("10.77.0.1", 64),
      Field("bootx64.efi", 128),
      options,
  }));
  EXPECT_TRUE(SameFrame(
      Answer(CaptureFrame(kOvmfCapture, 1), testing::Compiled(policy)),
      expected));
}

// --- UEFI HTTP Boot (UEFI 2.x, HTTP Boot) -------------------------------

// EDK2's HTTP Boot DISCOVER: option 60 "HTTPClient:Arch:00016:UNDI:003001",
// 93 = 16 (RFC 4578 as updated by IANA: x64 UEFI HTTP), 97.
std::vector<uint8_t> HttpDiscover() {
  testing::FrameSpec spec;
  spec.xid = 0x5e11ab01;
  spec.flags = 0x8000;
  spec.options = {testing::MessageTypeOpt(1), testing::ArchOpt({16}),
                  testing::Opt(94, {1, 3, 1}),
                  testing::Opt(60, "HTTPClient:Arch:00016:UNDI:003001"),
                  testing::UuidOpt(0x11)};
  return testing::BuildFrame(spec);
}
// The UUID of testing::UuidOpt(0x11): type 0, then 0x11, 0x12, ... 0x20.
std::vector<uint8_t> Uuid11() {
  std::vector<uint8_t> v = {97, 17, 0};
  for (uint8_t b = 0x11; b <= 0x20; ++b) v.push_back(b);
  return v;
}

const PolicySnapshot& HttpPolicy(std::string url) {
  BootPolicy policy;
  policy.defaults.file = "pxelinux.0";
  policy.defaults.http_url = std::move(url);
  return testing::Compiled(std::move(policy));
}

// UEFI 2.x HTTP Boot: the offer names itself "HTTPClient" (option 60) and
// carries the URL in the file field; no option 43 (that is PXE's).
TEST(ReplyKindsKnownAnswerTest, HttpClientOffer) {
  const std::string url = "http://10.77.0.2/boot/bootx64.efi";
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 2},
      {54, 4},
      kServerIp,
      {60, 10},
      Text("HTTPClient"),
      Uuid11(),
      {255},
  }));
  const size_t bootp = 236 + options.size();
  // id 0x5e11 ^ 0xab01 = 0xf510.
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kBroadcastMac,
      kServerMac,
      {0x08, 0x00},
      Ipv4Udp({0xf5, 0x10}, kServerIp, kBroadcastIp, 67, 68, bootp),
      {0x02, 0x01, 0x06, 0x00, 0x5e, 0x11, 0xab, 0x01, 0x00, 0x00, 0x80, 0x00},
      Zeros(8),
      kServerIp,  // siaddr: us (the URL names the HTTP server)
      Zeros(4),
      kClientMac,
      Zeros(10),
      Zeros(64),  // no sname: no TFTP server
      Field(url, 128),
      options,
  }));
  EXPECT_TRUE(SameFrame(Answer(HttpDiscover(), HttpPolicy(url)), expected));
}

// A URL longer than the file field's 127 bytes goes in option 67 (RFC 2132
// §9.5, bootfile name) alone; the file field stays empty.
TEST(ReplyKindsKnownAnswerTest, LongUrlInOption67) {
  std::string url = "http://10.77.0.2/boot/";
  while (url.size() < 188) url += "0123456789";
  url += "/bootx64.efi";
  ASSERT_EQ(url.size(), 204u);
  const std::vector<uint8_t> options = Bytes({
      kCookie,
      {53, 1, 2},
      {54, 4},
      kServerIp,
      {60, 10},
      Text("HTTPClient"),
      Uuid11(),
      {67, 204},
      Text(url),
      {255},  // 480 bytes of BOOTP: no padding
  });
  const size_t bootp = 236 + options.size();
  const std::vector<uint8_t> expected = WithChecksums(Bytes({
      kBroadcastMac,
      kServerMac,
      {0x08, 0x00},
      Ipv4Udp({0xf5, 0x10}, kServerIp, kBroadcastIp, 67, 68, bootp),
      {0x02, 0x01, 0x06, 0x00, 0x5e, 0x11, 0xab, 0x01, 0x00, 0x00, 0x80, 0x00},
      Zeros(8),
      kServerIp,
      Zeros(4),
      kClientMac,
      Zeros(10),
      Zeros(64),
      Zeros(128),  // file empty: the name is in option 67
      options,
  }));
  EXPECT_TRUE(SameFrame(Answer(HttpDiscover(), HttpPolicy(url)), expected));
}

// --- An 802.1Q-tagged request gets a tagged reply -------------------------

// QEMU iPXE's BIOS DISCOVER (testing::BiosIpxeDiscover(): xid 0x12345678)
// on VLAN 12 with priority 1: TCI 0x200c.
testing::FrameSpec TaggedBiosDiscover() {
  testing::FrameSpec spec = testing::BiosIpxeDiscover();
  spec.vlan_tci = 0x200c;
  return spec;
}

const std::vector<uint8_t> kExpectedTaggedOffer = [] {
  const std::vector<uint8_t> options = Padded(Bytes({
      kCookie,
      {53, 1, 2},
      {54, 4},
      kServerIp,
      {60, 9},
      Text("PXEClient"),
      Uuid11(),
      {43, 4, 6, 1, 0x08, 255},  // PXE_DISCOVERY_CONTROL: boot this file
      {255},
  }));
  const size_t bootp = 236 + options.size();
  return WithChecksums(
      Bytes({
          kBroadcastMac,
          kServerMac,
          // IEEE 802.1Q: TPID 0x8100, the request's TCI (priority 1, VLAN
          // 12) kept whole, then the IPv4 EtherType.
          {0x81, 0x00, 0x20, 0x0c, 0x08, 0x00},
          // id 0x1234 ^ 0x5678 = 0x444c.
          Ipv4Udp({0x44, 0x4c}, kServerIp, kBroadcastIp, 67, 68, bootp),
          {0x02, 0x01, 0x06, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x80,
           0x00},
          Zeros(8),
          kServerIp,  // siaddr: the TFTP server, us by default
          Zeros(4),
          kClientMac,
          Zeros(10),
          Field("10.77.0.2", 64),
          Field("pxelinux.0", 128),
          options,
      }),
      18);
}();

TEST(ReplyKindsKnownAnswerTest, TaggedRequestInTheFrameGetsTaggedOffer) {
  // As a pcap file or a parent without RX VLAN offload shows it.
  EXPECT_TRUE(
      SameFrame(Answer(testing::BuildFrame(TaggedBiosDiscover()),
                       testing::Compiled({.defaults = {.file = "pxelinux.0"}})),
                kExpectedTaggedOffer, 18));
}

TEST(ReplyKindsKnownAnswerTest, TagStrippedByTheKernelGetsTaggedOffer) {
  // As a packet socket sees it: the tag in tp_vlan_tci, not in the frame.
  testing::FrameSpec spec = TaggedBiosDiscover();
  spec.vlan_tci.reset();
  const RxMeta meta{.vlan_valid = true, .vlan_tci = 0x200c};
  EXPECT_TRUE(SameFrame(
      Answer(testing::BuildFrame(spec),
             testing::Compiled({.defaults = {.file = "pxelinux.0"}}), meta),
      kExpectedTaggedOffer, 18));
}

}  // namespace
}  // namespace pxe
