// The real captures in tests/data as known answers: each holds requests from
// real firmware (QEMU's iPXE BIOS ROM, OVMF) and the proxy replies that
// firmware accepted and booted from. The engine answers the same request,
// from the same MAC and address under the same boot settings, and its reply
// must be the captured one byte for byte, except for the fields listed with
// each case: each says what pxe-pdhcp sends instead and why. The checksums
// of the expected frame are then computed again here (RFC 1071, RFC 768,
// tests/testing/known_answer.h): the captures were taken on the sending
// host, where the UDP checksum is left for the NIC (checksum offload) and
// reads as wrong.
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

#ifndef PXE_TEST_DATA_DIR
#error "PXE_TEST_DATA_DIR must name tests/data"
#endif

namespace pxe {
namespace {

using testing::SameFrame;
using testing::WithChecksums;

// Offsets in an untagged frame: IPv4 at 14, UDP at 34, BOOTP at 42.
constexpr size_t kIpId = 14 + 4;
constexpr size_t kIpTos = 14 + 1;
constexpr size_t kIpFragment = 14 + 6;
constexpr size_t kBootp = 42;
constexpr size_t kSecs = kBootp + 8;
constexpr size_t kFlags = kBootp + 10;
constexpr size_t kCiaddr = kBootp + 12;
constexpr size_t kYiaddr = kBootp + 16;
constexpr size_t kSname = kBootp + 44;

// A field of the captured reply that pxe-pdhcp now writes differently.
struct Difference {
  size_t offset;
  std::vector<uint8_t> ours;
  const char* why;
};

struct CaptureAnswer {
  std::string file;
  size_t request;  // frame numbers, 1-based, as tcpdump counts
  size_t reply;
  MacAddress server_mac;
  uint32_t server_ip;
  std::string nbp;       // the boot file the capture's server handed out
  uint32_t tftp_server;  // its siaddr in the ACK
  std::vector<Difference> differences;
};

void PrintTo(const CaptureAnswer& c, std::ostream* os) {
  *os << c.file << " frame " << c.reply;
}

std::vector<std::vector<uint8_t>> ReadCapture(const std::string& file) {
  std::vector<std::vector<uint8_t>> frames;
  absl::StatusOr<std::unique_ptr<PcapFileSource>> source =
      PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) + "/" + file);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return frames;
  std::vector<RxFrame> batch(64);
  absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
  EXPECT_TRUE(n.ok()) << n.status();
  for (size_t i = 0; n.ok() && i < *n; ++i) {
    frames.emplace_back(batch[i].data.begin(), batch[i].data.end());
  }
  return frames;
}

const Difference kIpIdFromXid = {
    kIpId, {}, "IPv4 id: any value (RFC 791); ours is derived from the xid"};
const Difference kSecsZero = {
    kSecs, {0, 0}, "secs: RFC 2131 table 3 says 0; the old server echoed 4"};
const Difference kCiaddrKept = {
    kCiaddr,
    {10, 77, 0, 113},
    "ciaddr: RFC 2131 table 3, the request's ciaddr; the old server sent 0"};
const Difference kYiaddrEchoed = {
    kYiaddr,
    {10, 77, 0, 113},
    "yiaddr: the client's own address (its ciaddr) echoed, as dnsmasq "
    "does; the old server sent 0"};
const Difference kSnameTftp = {
    kSname,
    {'1', '0', '.', '7', '7', '.', '0', '.', '1'},
    "sname: the TFTP server as text (RFC 2131 §2: optional)"};

class ReplyCaptureKnownAnswerTest
    : public ::testing::TestWithParam<CaptureAnswer> {};

TEST_P(ReplyCaptureKnownAnswerTest, ReplyIsTheOneFirmwareAccepted) {
  const CaptureAnswer& c = GetParam();
  const std::vector<std::vector<uint8_t>> frames = ReadCapture(c.file);
  ASSERT_GE(frames.size(), c.reply);
  const std::vector<uint8_t>& request = frames[c.request - 1];
  std::vector<uint8_t> expected = frames[c.reply - 1];

  BootPolicy settings;
  settings.defaults.file = c.nbp;
  settings.defaults.tftp_server = c.tftp_server;
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{c.server_ip, 24}};
  const ServerContext context{.mac = c.server_mac, .addresses = addresses};
  auto scratch = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  ASSERT_EQ(Respond(request, RxMeta{}, testing::Compiled(settings), context,
                    scratch.get(), out, &size),
            DropReason::kNone);

  for (const Difference& d : c.differences) {
    std::vector<uint8_t> ours = d.ours;
    if (d.offset == kIpId) {
      const uint32_t xid = scratch->xid;
      const uint16_t id = static_cast<uint16_t>(xid ^ (xid >> 16));
      ours = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
    }
    ASSERT_LE(d.offset + ours.size(), expected.size()) << d.why;
    std::copy(ours.begin(), ours.end(), expected.begin() + d.offset);
  }
  SCOPED_TRACE(::testing::Message()
               << "expected: the reply in " << c.file << " frame " << c.reply
               << " with " << c.differences.size()
               << " fields changed (see the case)");
  EXPECT_TRUE(SameFrame({out.data(), size}, WithChecksums(expected)));
}

constexpr MacAddress kBiosServerMac = {0x26, 0x75, 0x05, 0x09, 0x6d, 0x57};
constexpr MacAddress kOvmfServerMac = {0x1a, 0x5a, 0x70, 0x09, 0x3c, 0xc1};
constexpr MacAddress kPort4011ServerMac = {0x8e, 0xe8, 0x55, 0x3d, 0x38, 0x1f};

INSTANTIATE_TEST_SUITE_P(
    RealFirmware, ReplyCaptureKnownAnswerTest,
    ::testing::Values(
        // iPXE's boot server request on 4011 from port 68, and the ACK it
        // booted pxelinux.0 from. (The offer before it carried a boot menu
        // whose sub-options pxe-pdhcp now orders 6, 8, 9, 10 as PXE 2.1
        // lists them; this capture's had 6, 10, 8, 9.)
        CaptureAnswer{
            .file = "bios-ipxe-proxy-offer.pcap",
            .request = 6,
            .reply = 7,
            .server_mac = kBiosServerMac,
            .server_ip = MakeIpv4(10, 77, 0, 2),
            .nbp = "pxelinux.0",
            .tftp_server = MakeIpv4(10, 77, 0, 1),
            .differences =
                {kIpIdFromXid,
                 kSecsZero,
                 {kFlags,
                  {0x00, 0x00},
                  "flags: RFC 2131 table 3 says the request's (0x8000, "
                  "kept by the old server); pxe-pdhcp sends 0 in an ACK"},
                 kCiaddrKept,
                 kSnameTftp}},
        // OVMF's DISCOVER and the BINL-style offer (no file, no 43,
        // siaddr = us) that made it ask on 4011.
        CaptureAnswer{.file = "uefi-ovmf-proxy-offer.pcap",
                      .request = 1,
                      .reply = 2,
                      .server_mac = kOvmfServerMac,
                      .server_ip = MakeIpv4(10, 77, 0, 2),
                      .nbp = "syslinux.efi",
                      .tftp_server = MakeIpv4(10, 77, 0, 1),
                      .differences = {kIpIdFromXid}},
        // OVMF's request on 4011 from port 4011, and the ACK it booted
        // syslinux.efi from.
        CaptureAnswer{.file = "uefi-ovmf-proxy-offer.pcap",
                      .request = 6,
                      .reply = 7,
                      .server_mac = kOvmfServerMac,
                      .server_ip = MakeIpv4(10, 77, 0, 2),
                      .nbp = "syslinux.efi",
                      .tftp_server = MakeIpv4(10, 77, 0, 1),
                      .differences = {kIpIdFromXid, kYiaddrEchoed}},
        // The same firmware answered from the DHCP server's own host
        // (10.77.0.1), by a server that sent TOS 0 and set DF on its ACK.
        CaptureAnswer{
            .file = "uefi-ovmf-port4011.pcap",
            .request = 1,
            .reply = 2,
            .server_mac = kPort4011ServerMac,
            .server_ip = MakeIpv4(10, 77, 0, 1),
            .nbp = "syslinux.efi",
            .tftp_server = MakeIpv4(10, 77, 0, 1),
            .differences = {kIpIdFromXid,
                            {kIpTos, {0xc0}, "TOS: 0xC0 (RFC 2474 CS6)"}}},
        CaptureAnswer{
            .file = "uefi-ovmf-port4011.pcap",
            .request = 6,
            .reply = 7,
            .server_mac = kPort4011ServerMac,
            .server_ip = MakeIpv4(10, 77, 0, 1),
            .nbp = "syslinux.efi",
            .tftp_server = MakeIpv4(10, 77, 0, 1),
            .differences = {kIpIdFromXid,
                            {kIpTos, {0xc0}, "TOS: 0xC0 (RFC 2474 CS6)"},
                            {kIpFragment,
                             {0x00, 0x00},
                             "no DF: a reply fits one datagram anyway"},
                            kYiaddrEchoed,
                            kSnameTftp}}),
    [](const ::testing::TestParamInfo<CaptureAnswer>& p) {
      std::string name = p.param.file.substr(0, p.param.file.find('.'));
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name + "_frame" + std::to_string(p.param.reply);
    });

}  // namespace
}  // namespace pxe
