// Replays the real firmware captures in tests/data through the engine: every
// PXE DISCOVER on 67 and REQUEST on 4011 is answered with a reply that parses
// back and carries what RFC 2131 §4.1 and PXE 2.1 ask of a proxy's reply;
// every other frame (the DHCP server's replies, REQUESTs on 67, non-PXE
// DHCP) gets none.
#include <array>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/compiled_policy.h"

namespace pxe {
namespace {

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 2);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};

struct CaptureCase {
  std::string file;
  std::set<size_t> answered;  // 1-based frame numbers, read with tcpdump
  ArchClass arch;
  bool uefi;
};

void PrintTo(const CaptureCase& c, std::ostream* os) { *os << c.file; }

std::vector<RxFrame> ReadAll(PcapFileSource& source) {
  std::vector<RxFrame> frames;
  // Frames stay valid only until the next Receive(): read all in one batch.
  std::vector<RxFrame> batch(256);
  absl::StatusOr<size_t> n = source.Receive(batch, 0);
  if (n.ok()) batch.resize(*n), frames = batch;
  return frames;
}

class CaptureReplayTest : public ::testing::TestWithParam<CaptureCase> {};

void CheckReply(const Request& request, std::span<const uint8_t> frame,
                const CaptureCase& c) {
  Request reply;
  // A reply that verifies its own IPv4 and UDP checksums classifies as a
  // server reply; anything else means a broken frame.
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, &reply), DropReason::kServerReply);
  const bool offer = !request.on_pxe_port();
  EXPECT_EQ(reply.type,
            offer ? dhcp::MessageType::kOffer : dhcp::MessageType::kAck);
  EXPECT_EQ(reply.xid, request.xid);
  EXPECT_EQ(reply.chaddr, request.chaddr);
  EXPECT_EQ(reply.frame.ip_src, kServer);
  EXPECT_EQ(reply.frame.eth_src, kServerMac);
  EXPECT_EQ(reply.server_id, kServer);
  EXPECT_EQ(std::string(reply.vendor_class.begin(), reply.vendor_class.end()),
            "PXEClient");
  EXPECT_EQ(reply.options.First(dhcp::kClientUuid).size(), 17u);
  EXPECT_FALSE(reply.options.Has(1));   // never a subnet mask,
  EXPECT_FALSE(reply.options.Has(3));   // a router
  EXPECT_FALSE(reply.options.Has(51));  // or a lease
  EXPECT_GE(reply.frame.payload.size(), 300u);
  const std::string file(
      reinterpret_cast<const char*>(reply.bootp.file().data()));
  std::span<const uint8_t> vendor = reply.options.First(dhcp::kVendorSpecific);
  if (offer) {
    EXPECT_EQ(reply.yiaddr, 0u);
    EXPECT_TRUE(reply.broadcast);
    EXPECT_EQ(reply.frame.ip_dst, 0xFFFFFFFFu);
    EXPECT_EQ(reply.frame.udp_dst, 68);
    EXPECT_EQ(reply.bootp.siaddr(), kServer);
    if (c.uefi) {
      EXPECT_EQ(file, "");
      EXPECT_FALSE(reply.options.Has(dhcp::kVendorSpecific));
    } else {
      EXPECT_EQ(file, "pxelinux.0");
      EXPECT_EQ(std::vector<uint8_t>(vendor.begin(), vendor.end()),
                (std::vector<uint8_t>{6, 1, 8, 255}));
    }
  } else {
    EXPECT_EQ(reply.frame.ip_dst, request.ciaddr);
    EXPECT_EQ(reply.frame.udp_dst, request.frame.udp_src);
    EXPECT_EQ(reply.frame.udp_src, 4011);
    EXPECT_EQ(reply.frame.eth_dst, request.frame.eth_src);
    EXPECT_TRUE(reply.yiaddr == 0 || reply.yiaddr == request.ciaddr);
    EXPECT_EQ(reply.bootp.siaddr(), kServer);
    EXPECT_EQ(file, c.uefi ? "syslinux.efi" : "pxelinux.0");
    if (!request.boot_item.empty()) {
      std::vector<uint8_t> expected = {71, 4};
      expected.insert(expected.end(), request.boot_item.begin(),
                      request.boot_item.end());
      expected.push_back(255);
      EXPECT_EQ(std::vector<uint8_t>(vendor.begin(), vendor.end()), expected);
    }
  }
}

TEST_P(CaptureReplayTest, AnswersExactlyTheBootRequests) {
  const CaptureCase& c = GetParam();
  for (UdpChecksumStatus status :
       {UdpChecksumStatus::kUnknown, UdpChecksumStatus::kNotReady}) {
    SCOPED_TRACE(status == UdpChecksumStatus::kUnknown ? "verify checksums"
                                                       : "checksums not ready");
    auto source =
        PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) + "/" + c.file);
    ASSERT_TRUE(source.ok()) << source.status();
    std::vector<RxFrame> frames = ReadAll(**source);
    ASSERT_GE(frames.size(), c.answered.size());

    BootPolicy boot{.defaults = {.file = "pxelinux.0"}};
    boot.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
        "syslinux.efi";
    const PolicySnapshot& policy = testing::Compiled(std::move(boot));
    const std::array<InterfaceAddress, 1> addresses = {
        InterfaceAddress{kServer, 24}};
    const ServerContext context{.mac = kServerMac, .addresses = addresses};
    auto request = std::make_unique<Request>();
    std::array<uint8_t, kMaxReplyFrameSize> out{};
    for (size_t i = 0; i < frames.size(); ++i) {
      SCOPED_TRACE("frame " + std::to_string(i + 1));
      RxMeta meta = frames[i].meta;
      meta.udp_checksum = status;
      size_t size = 0;
      const DropReason d = Respond(frames[i].data, meta, policy, context,
                                   request.get(), out, &size);
      if (c.answered.count(i + 1)) {
        ASSERT_EQ(d, DropReason::kNone) << DropReasonText(d);
        EXPECT_EQ(request->arch.arch_class, c.arch);
        CheckReply(*request, {out.data(), size}, c);
      } else {
        EXPECT_NE(d, DropReason::kNone);
        if (status == UdpChecksumStatus::kNotReady) {
          // With the checksum question out of the way, each has a reason
          // that is about DHCP itself.
          EXPECT_TRUE(d == DropReason::kServerReply ||
                      d == DropReason::kUnhandledMessage ||
                      d == DropReason::kNotBooting)
              << DropReasonText(d);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    RealFirmware, CaptureReplayTest,
    ::testing::Values(
        CaptureCase{
            "bios-ipxe-proxy-offer.pcap", {1, 6}, ArchClass::kBios, false},
        CaptureCase{
            "uefi-ovmf-proxy-offer.pcap", {1, 6}, ArchClass::kUefiX64, true},
        CaptureCase{
            "uefi-ovmf-port4011.pcap", {1, 6}, ArchClass::kUefiX64, true}),
    [](const ::testing::TestParamInfo<CaptureCase>& param_info) {
      const std::string& file = param_info.param.file;
      std::string name = file.substr(0, file.find('.'));
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace pxe
