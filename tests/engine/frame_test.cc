// ParseFrame(): the Ethernet / 802.1Q / IPv4 / UDP checks a frame must pass
// before any DHCP byte is looked at (RFC 791, RFC 768, IEEE 802.1Q). A frame
// that fails one is counted under the reason a LAN admin would look for, and
// no frame, however cut or broken, makes the parser read outside it.
#include "engine/frame.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

using ::pxe::testing::BuildFrame;
using ::pxe::testing::FrameSpec;
using ::pxe::testing::Ip;

constexpr size_t kBootpSize = 300;  // the builder's default padding
constexpr size_t kIpPacketSize = 20 + 8 + kBootpSize;
constexpr size_t kFrameSize = 14 + kIpPacketSize;

// A valid DHCP request from 10.77.0.50:68 to 10.77.0.2:67, with a first
// BOOTP byte (op 1) the tests can find in the payload.
FrameSpec Valid() {
  FrameSpec spec;
  spec.eth_dst = {0x02, 0, 0, 0, 0, 0x02};
  spec.ip_src = Ip(10, 77, 0, 50);
  spec.ip_dst = Ip(10, 77, 0, 2);
  spec.tos = 0x10;
  spec.xid = 0xA1B2C3D4;
  spec.options = {::pxe::testing::MessageTypeOpt(1)};
  return spec;
}

DropReason Parse(const std::vector<uint8_t>& frame, FrameView* view,
                 const RxMeta& meta = RxMeta{}) {
  return ParseFrame(frame, meta, view);
}

DropReason Parse(const FrameSpec& spec, const RxMeta& meta = RxMeta{}) {
  FrameView view;
  return Parse(BuildFrame(spec), &view, meta);
}

// The BOOTP xid at payload offset 4, to show the payload starts where it
// should.
uint32_t PayloadXid(const FrameView& view) {
  return LoadBe32(view.payload.data() + 4);
}

TEST(FrameTest, ValidFrameGivesAddressesPortsAndPayload) {
  const std::vector<uint8_t> frame = BuildFrame(Valid());
  ASSERT_EQ(frame.size(), kFrameSize);
  FrameView view;
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  EXPECT_EQ(view.eth_dst, (MacAddress{0x02, 0, 0, 0, 0, 0x02}));
  EXPECT_EQ(view.eth_src, (MacAddress{0x52, 0x54, 0x00, 0x77, 0x00, 0x10}));
  EXPECT_FALSE(view.has_vlan);
  EXPECT_EQ(view.ip_tos, 0x10);
  EXPECT_EQ(view.ip_src, Ip(10, 77, 0, 50));
  EXPECT_EQ(view.ip_dst, Ip(10, 77, 0, 2));
  EXPECT_EQ(view.udp_src, 68);
  EXPECT_EQ(view.udp_dst, 67);
  ASSERT_EQ(view.payload.size(), kBootpSize);
  EXPECT_EQ(view.payload.data(), frame.data() + 42);
  EXPECT_EQ(PayloadXid(view), 0xA1B2C3D4u);
}

TEST(FrameTest, VlanTagInsideTheFrameIsReadAndSkipped) {
  FrameSpec spec = Valid();
  spec.vlan_tci = 0x3064;  // PCP 1, DEI 1, VLAN 100
  const std::vector<uint8_t> frame = BuildFrame(spec);
  FrameView view;
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  EXPECT_TRUE(view.has_vlan);
  EXPECT_EQ(view.vlan_tci, 0x3064);
  EXPECT_EQ(view.vlan_id(), 100);
  EXPECT_EQ(view.udp_dst, 67);
  ASSERT_EQ(view.payload.size(), kBootpSize);
  EXPECT_EQ(view.payload.data(), frame.data() + 46);
  EXPECT_EQ(PayloadXid(view), 0xA1B2C3D4u);
}

TEST(FrameTest, VlanTagFromTheKernelIsKept) {
  const std::vector<uint8_t> frame = BuildFrame(Valid());
  RxMeta meta;
  meta.vlan_valid = true;
  meta.vlan_tci = 0xA00C;  // PCP 5, VLAN 12
  FrameView view;
  ASSERT_EQ(Parse(frame, &view, meta), DropReason::kNone);
  EXPECT_TRUE(view.has_vlan);
  EXPECT_EQ(view.vlan_tci, 0xA00C);
  EXPECT_EQ(view.vlan_id(), 12);
  EXPECT_EQ(PayloadXid(view), 0xA1B2C3D4u);
}

TEST(FrameTest, NoVlanWhenTheKernelSaysTheTagIsNotValid) {
  RxMeta meta;
  meta.vlan_valid = false;
  meta.vlan_tci = 0x0064;  // stale tp_vlan_tci without TP_STATUS_VLAN_VALID
  FrameView view;
  const std::vector<uint8_t> frame = BuildFrame(Valid());
  ASSERT_EQ(Parse(frame, &view, meta), DropReason::kNone);
  EXPECT_FALSE(view.has_vlan);
}

// 802.1ad: an S-tag, alone or outside a C-tag, in the frame or stripped by
// the kernel (tp_vlan_tpid), is dropped; so are two tags of any kind. A
// reply could not carry the right tags back.
TEST(FrameTest, ServiceTagsAndStackedTagsAreDropped) {
  for (uint16_t outer : {0x88A8, 0x9100}) {
    FrameSpec spec = Valid();
    spec.ethertype = outer;  // the S-tag's TPID, then IPv4 would follow
    std::vector<uint8_t> frame = BuildFrame(spec);
    // Rebuild as dst, src, TPID, TCI 10, 0x0800, IPv4...
    const std::vector<uint8_t> ip(frame.begin() + 14, frame.end());
    frame.resize(12);
    frame.insert(frame.end(),
                 {static_cast<uint8_t>(outer >> 8), static_cast<uint8_t>(outer),
                  0x00, 0x0A, 0x08, 0x00});
    frame.insert(frame.end(), ip.begin(), ip.end());
    FrameView view;
    EXPECT_EQ(Parse(frame, &view), DropReason::kServiceVlanTag)
        << std::hex << outer;
  }
  // The kernel stripped an S-tag: only its TPID tells.
  const std::vector<uint8_t> plain = BuildFrame(Valid());
  RxMeta meta;
  meta.vlan_valid = true;
  meta.vlan_tci = 10;
  meta.vlan_tpid = 0x88A8;
  FrameView view;
  EXPECT_EQ(Parse(plain, &view, meta), DropReason::kServiceVlanTag);
  meta.vlan_tpid = 0x8100;
  EXPECT_EQ(Parse(plain, &view, meta), DropReason::kNone);
  meta.vlan_tpid = 0;  // a kernel that does not report the TPID
  EXPECT_EQ(Parse(plain, &view, meta), DropReason::kNone);
  // QinQ as the kernel hands it over: the outer tag stripped, the inner one
  // still in the frame.
  FrameSpec inner = Valid();
  inner.vlan_tci = 20;
  meta.vlan_tpid = 0x88A8;
  EXPECT_EQ(Parse(BuildFrame(inner), &view, meta),
            DropReason::kStackedVlanTags);
  meta.vlan_tpid = 0x8100;
  EXPECT_EQ(Parse(BuildFrame(inner), &view, meta),
            DropReason::kStackedVlanTags);
  // Two tags in the frame (a capture file).
  FrameSpec two = Valid();
  two.vlan_tci = 20;
  two.ethertype = 0x8100;  // the inner tag's TPID where IPv4 would be
  EXPECT_EQ(Parse(two), DropReason::kStackedVlanTags);
}

TEST(FrameTest, VlanTagCutShortIsTooShort) {
  FrameSpec spec = Valid();
  spec.vlan_tci = 100;
  std::vector<uint8_t> frame = BuildFrame(spec);
  for (size_t size : {14u, 15u, 16u, 17u}) {
    std::vector<uint8_t> cut(frame.begin(), frame.begin() + size);
    FrameView view;
    EXPECT_EQ(Parse(cut, &view), DropReason::kFrameTooShort) << size;
  }
}

TEST(FrameTest, IpOptionsAreSkipped) {
  for (uint8_t ihl = 6; ihl <= 15; ++ihl) {
    SCOPED_TRACE(::testing::Message() << "IHL " << int{ihl});
    FrameSpec spec = Valid();
    spec.ihl = ihl;
    const std::vector<uint8_t> frame = BuildFrame(spec);
    FrameView view;
    ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
    EXPECT_EQ(view.udp_src, 68);
    EXPECT_EQ(view.udp_dst, 67);
    ASSERT_EQ(view.payload.size(), kBootpSize);
    EXPECT_EQ(view.payload.data(), frame.data() + 14 + 4 * ihl + 8);
    EXPECT_EQ(PayloadXid(view), 0xA1B2C3D4u);
  }
}

TEST(FrameTest, FragmentsAreDropped) {
  // More fragments, a non-zero offset, both, and the largest offset.
  for (uint16_t frag : {0x2000, 0x0001, 0x2001, 0x1FFF, 0x6001}) {
    FrameSpec spec = Valid();
    spec.frag = frag;
    EXPECT_EQ(Parse(spec), DropReason::kIpFragment)
        << std::hex << "frag 0x" << frag;
  }
}

TEST(FrameTest, DontFragmentIsNotAFragment) {
  FrameSpec spec = Valid();
  spec.frag = 0x4000;  // DF, as OVMF sends on 4011
  EXPECT_EQ(Parse(spec), DropReason::kNone);
}

TEST(FrameTest, WrongIpVersionIsABadHeader) {
  for (uint8_t version : {0, 6, 15}) {
    std::vector<uint8_t> frame = BuildFrame(Valid());
    frame[14] = static_cast<uint8_t>(version << 4 | 5);
    FrameView view;
    EXPECT_EQ(Parse(frame, &view), DropReason::kBadIpHeader)
        << "version " << int{version};
  }
}

TEST(FrameTest, HeaderLengthBelowTwentyBytesIsABadHeader) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    FrameSpec spec = Valid();
    spec.ihl = ihl;
    EXPECT_EQ(Parse(spec), DropReason::kBadIpHeader) << "IHL " << int{ihl};
  }
}

TEST(FrameTest, IpTotalLengthBeyondTheFrameIsDropped) {
  FrameSpec spec = Valid();
  spec.ip_total_length = kIpPacketSize + 1;
  EXPECT_EQ(Parse(spec), DropReason::kBadIpLength);
  spec.ip_total_length = 0xFFFF;
  EXPECT_EQ(Parse(spec), DropReason::kBadIpLength);
}

TEST(FrameTest, IpTotalLengthShorterThanTheHeaderIsDropped) {
  for (uint16_t length : {0, 1, 19}) {
    FrameSpec spec = Valid();
    spec.ip_total_length = length;
    EXPECT_EQ(Parse(spec), DropReason::kBadIpLength) << length;
  }
  FrameSpec spec = Valid();
  spec.ihl = 8;
  spec.ip_total_length = 31;  // less than the 32-byte header
  EXPECT_EQ(Parse(spec), DropReason::kBadIpLength);
}

TEST(FrameTest, IpPacketTooShortForAUdpHeaderIsABadUdpLength) {
  for (uint16_t length : {20, 27}) {
    FrameSpec spec = Valid();
    spec.ip_total_length = length;
    EXPECT_EQ(Parse(spec), DropReason::kBadUdpLength) << length;
  }
}

TEST(FrameTest, EthernetTrailerIsIgnored) {
  FrameSpec spec = Valid();
  spec.ethernet_trailer = 22;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  ASSERT_EQ(frame.size(), kFrameSize + 22);
  FrameView view;
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  // The payload ends where UDP says, not at the end of the frame.
  EXPECT_EQ(view.payload.size(), kBootpSize);
}

TEST(FrameTest, WrongIpHeaderChecksumIsDropped) {
  FrameSpec spec = Valid();
  const std::vector<uint8_t> good = BuildFrame(spec);
  const uint16_t correct = LoadBe16(good.data() + 24);
  for (uint16_t wrong :
       {uint16_t(correct + 1), uint16_t(correct ^ 0x8000), uint16_t{0}}) {
    if (wrong == correct) continue;
    spec.ip_checksum = wrong;
    EXPECT_EQ(Parse(spec), DropReason::kBadIpChecksum) << wrong;
  }
}

TEST(FrameTest, IpHeaderChecksumCoversIpOptions) {
  FrameSpec spec = Valid();
  spec.ihl = 7;
  std::vector<uint8_t> frame = BuildFrame(spec);
  frame[14 + 22] ^= 0x01;  // an option byte, after the 20 fixed bytes
  FrameView view;
  EXPECT_EQ(Parse(frame, &view), DropReason::kBadIpChecksum);
}

TEST(FrameTest, UdpLengthBeyondTheIpPacketIsDropped) {
  FrameSpec spec = Valid();
  spec.udp_length = 8 + kBootpSize + 1;
  EXPECT_EQ(Parse(spec), DropReason::kBadUdpLength);
  spec.udp_length = 0xFFFF;
  EXPECT_EQ(Parse(spec), DropReason::kBadUdpLength);
}

TEST(FrameTest, UdpLengthBelowItsHeaderIsDropped) {
  for (uint16_t length : {0, 1, 7}) {
    FrameSpec spec = Valid();
    spec.udp_length = length;
    EXPECT_EQ(Parse(spec), DropReason::kBadUdpLength) << length;
  }
}

TEST(FrameTest, ShorterUdpLengthBoundsThePayload) {
  // Bytes after the UDP datagram inside the IP packet are not payload.
  FrameSpec spec = Valid();
  spec.udp_length = 8 + 250;
  FrameView view;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  EXPECT_EQ(view.payload.size(), 250u);
}

TEST(FrameTest, EmptyUdpPayloadParses) {
  FrameSpec spec = Valid();
  spec.udp_length = 8;
  FrameView view;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  EXPECT_TRUE(view.payload.empty());
}

TEST(FrameTest, OddLengthUdpChecksumVerifies) {
  FrameSpec spec = Valid();
  spec.pad_bootp_to = 301;
  FrameView view;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  ASSERT_EQ(Parse(frame, &view), DropReason::kNone);
  EXPECT_EQ(view.payload.size(), 301u);
  spec.udp_checksum = FrameSpec::UdpChecksum::kWrong;
  EXPECT_EQ(Parse(spec), DropReason::kBadUdpChecksum);
}

struct ChecksumCase {
  std::string name;
  FrameSpec::UdpChecksum checksum;
  UdpChecksumStatus status;
  DropReason expected;
};

void PrintTo(const ChecksumCase& c, std::ostream* os) { *os << c.name; }

class UdpChecksumTest : public ::testing::TestWithParam<ChecksumCase> {};

TEST_P(UdpChecksumTest, DropsOnlyAWrongChecksumThatIsChecked) {
  const ChecksumCase& c = GetParam();
  FrameSpec spec = Valid();
  spec.udp_checksum = c.checksum;
  RxMeta meta;
  meta.udp_checksum = c.status;
  FrameView view;
  const std::vector<uint8_t> frame = BuildFrame(spec);
  ASSERT_EQ(Parse(frame, &view, meta), c.expected);
  if (c.expected == DropReason::kNone) {
    EXPECT_EQ(PayloadXid(view), 0xA1B2C3D4u);
  }
}

using Sum = FrameSpec::UdpChecksum;
using Status = UdpChecksumStatus;
INSTANTIATE_TEST_SUITE_P(
    AllCombinations, UdpChecksumTest,
    ::testing::Values(ChecksumCase{"CorrectUnknown", Sum::kCorrect,
                                   Status::kUnknown, DropReason::kNone},
                      ChecksumCase{"CorrectNotReady", Sum::kCorrect,
                                   Status::kNotReady, DropReason::kNone},
                      ChecksumCase{"CorrectVerified", Sum::kCorrect,
                                   Status::kVerified, DropReason::kNone},
                      ChecksumCase{"ZeroUnknown", Sum::kZero, Status::kUnknown,
                                   DropReason::kNone},
                      ChecksumCase{"ZeroNotReady", Sum::kZero,
                                   Status::kNotReady, DropReason::kNone},
                      ChecksumCase{"WrongUnknown", Sum::kWrong,
                                   Status::kUnknown,
                                   DropReason::kBadUdpChecksum},
                      ChecksumCase{"WrongNotReady", Sum::kWrong,
                                   Status::kNotReady, DropReason::kNone},
                      ChecksumCase{"WrongVerified", Sum::kWrong,
                                   Status::kVerified, DropReason::kNone}),
    [](const ::testing::TestParamInfo<ChecksumCase>& param_info) {
      return param_info.param.name;
    });

TEST(FrameTest, UdpChecksumCoversThePayload) {
  std::vector<uint8_t> frame = BuildFrame(Valid());
  frame[42 + 4] ^= 0x40;  // the xid, after the checksum was computed
  FrameView view;
  EXPECT_EQ(Parse(frame, &view), DropReason::kBadUdpChecksum);
  RxMeta offloaded;
  offloaded.udp_checksum = UdpChecksumStatus::kNotReady;
  EXPECT_EQ(Parse(frame, &view, offloaded), DropReason::kNone);
}

TEST(FrameTest, UdpChecksumCoversThePseudoHeader) {
  // Changing the source address and fixing only the IPv4 header checksum
  // leaves the UDP checksum wrong (RFC 768 pseudo header).
  FrameSpec spec = Valid();
  std::vector<uint8_t> frame = BuildFrame(spec);
  frame[14 + 15] ^= 0x01;  // last byte of ip_src: 10.77.0.51
  frame[24] = frame[25] = 0;
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += LoadBe16(frame.data() + i);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  StoreBe16(frame.data() + 24, static_cast<uint16_t>(~sum));
  FrameView view;
  EXPECT_EQ(Parse(frame, &view), DropReason::kBadUdpChecksum);
}

TEST(FrameTest, NotUdpIsDropped) {
  for (uint8_t protocol : {1, 6, 47, 0}) {
    FrameSpec spec = Valid();
    spec.protocol = protocol;
    EXPECT_EQ(Parse(spec), DropReason::kNotUdp) << int{protocol};
  }
}

TEST(FrameTest, OtherEthertypesAreNotIpv4) {
  for (uint16_t ethertype : {0x86DD, 0x0806, 0x88CC, 0x0000}) {
    FrameSpec spec = Valid();
    spec.ethertype = ethertype;
    EXPECT_EQ(Parse(spec), DropReason::kNotIpv4) << std::hex << ethertype;
    spec.vlan_tci = 7;  // and behind an 802.1Q tag
    EXPECT_EQ(Parse(spec), DropReason::kNotIpv4) << std::hex << ethertype;
  }
}

// Every prefix of a valid frame: copied into a buffer of exactly that size so
// that AddressSanitizer reports any read past it. None may be accepted while
// the IP packet is incomplete; the full frame is.
void CheckEveryPrefix(const FrameSpec& spec, size_t l2_size) {
  const std::vector<uint8_t> frame = BuildFrame(spec);
  const size_t ip_end = frame.size() - spec.ethernet_trailer;
  for (size_t size = 0; size <= frame.size(); ++size) {
    SCOPED_TRACE(::testing::Message() << "prefix of " << size << " bytes");
    const std::vector<uint8_t> prefix(frame.begin(), frame.begin() + size);
    FrameView view;
    const DropReason d = Parse(prefix, &view);
    if (size < l2_size + 20) {
      EXPECT_EQ(d, DropReason::kFrameTooShort);
    } else if (size < ip_end) {
      EXPECT_EQ(d, DropReason::kBadIpLength);
    } else {
      EXPECT_EQ(d, DropReason::kNone);
    }
  }
}

TEST(FrameTest, EveryTruncationIsRejected) { CheckEveryPrefix(Valid(), 14); }

TEST(FrameTest, EveryTruncationOfATaggedFrameIsRejected) {
  FrameSpec spec = Valid();
  spec.vlan_tci = 42;
  CheckEveryPrefix(spec, 18);
}

TEST(FrameTest, EveryTruncationWithIpOptionsAndTrailerIsRejected) {
  FrameSpec spec = Valid();
  spec.ihl = 15;
  spec.ethernet_trailer = 6;
  CheckEveryPrefix(spec, 14);
}

}  // namespace
}  // namespace pxe
