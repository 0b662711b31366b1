// BuildClientRequest() against the server side of the engine: every request
// it writes must classify (checksums verified) as exactly the request its
// spec describes, and the proxy must answer the ones a PXE client would get
// an answer to. A second check proves the builder never touches the heap:
// this binary counts heap allocations, which is why it is a target of its
// own.
#include "engine/client_request.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/reply.h"
#include "gtest/gtest.h"
#include "tests/testing/allocation_counter.h"
#include "tests/testing/compiled_policy.h"

namespace pxe {
namespace {

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 1);
constexpr uint32_t kClientIp = MakeIpv4(10, 77, 0, 150);
constexpr uint32_t kRelay = MakeIpv4(10, 78, 0, 1);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
constexpr MacAddress kRelayMac = {0x02, 0, 0, 0, 0, 0x99};
constexpr uint16_t kUefiX64[] = {7};
constexpr uint16_t kUnknownThenArm64[] = {0x4242, 11};
constexpr uint16_t kHttpX64[] = {16};
constexpr std::array<uint8_t, 16> kUuid = {1, 2,  3,  4,  5,  6,  7,  8,
                                           9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::array<uint8_t, 4> kIpxeBootItem = {0x80, 0, 0, 0};

// What ClassifyFrame() must report for a spec's frame.
struct Expected {
  dhcp::MessageType type = dhcp::MessageType::kDiscover;
  ClientKind kind = ClientKind::kPxe;
  uint16_t arch_code = 0;
  ArchClass arch_class = ArchClass::kBios;
  bool http = false;
  bool ipxe = false;
  bool uuid = false;
  bool boot_item = false;
  std::optional<uint16_t> vlan_id;
  uint32_t giaddr = 0;
  uint32_t ciaddr = 0;
  bool broadcast = false;
};

struct Case {
  std::string name;
  ClientRequestSpec spec;
  Expected expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

ClientRequestSpec Request4011(ClientRequestSpec spec) {
  spec.type = dhcp::MessageType::kRequest;
  spec.dst_mac = kServerMac;
  spec.ciaddr = kClientIp;
  spec.src_ip = kClientIp;
  spec.dst_ip = kServer;
  spec.dst_port = kPxeServerPort;
  return spec;
}

std::vector<Case> Cases() {
  return {
      {"BiosDefault", {.xid = 0x1234}, {}},
      {"BiosIpxe",
       {.xid = 0x89af8834, .secs = 4, .ipxe = true, .uuid = kUuid},
       {.ipxe = true, .uuid = true}},
      {"UefiX64Edk2",
       {.xid = 0x1c8618ca,
        .broadcast = true,
        .arch_codes = kUefiX64,
        .vendor_class = "PXEClient:Arch:00007:UNDI:003000",
        .undi = std::array<uint8_t, 2>{3, 0},
        .uuid = std::array<uint8_t, 16>{}},
       {.arch_code = 7,
        .arch_class = ArchClass::kUefiX64,
        .uuid = true,
        .broadcast = true}},
      {"FirstKnownArchWins",
       {.arch_codes = kUnknownThenArm64},
       {.arch_code = 11, .arch_class = ArchClass::kUefiArm64}},
      {"ArchFromVendorClassWhenNo93",
       {.arch_codes = {}, .vendor_class = "PXEClient:Arch:00007:UNDI:003000"},
       {.arch_code = 7, .arch_class = ArchClass::kUefiX64}},
      {"HttpClient",
       {.arch_codes = kHttpX64,
        .vendor_class = "HTTPClient:Arch:00016:UNDI:003001"},
       {.kind = ClientKind::kHttp,
        .arch_code = 16,
        .arch_class = ArchClass::kUefiX64,
        .http = true}},
      {"Vlan", {.vlan_tci = 0x6005}, {.vlan_id = 5}},
      {"Relayed",
       {.src_mac = kRelayMac,
        .dst_mac = kServerMac,
        .hops = 1,
        .giaddr = kRelay,
        .src_ip = kRelay,
        .dst_ip = kServer,
        .src_port = kDhcpServerPort},
       {.giaddr = kRelay}},
      {"RelayedOnVlan",
       {.src_mac = kRelayMac,
        .dst_mac = kServerMac,
        .vlan_tci = 12,
        .giaddr = kRelay,
        .src_ip = kRelay,
        .dst_ip = kServer,
        .src_port = kDhcpServerPort},
       {.vlan_id = 12, .giaddr = kRelay}},
      {"Edk2Request4011",
       Request4011({.xid = 0xbba10c07,
                    .src_port = kPxeServerPort,
                    .dont_fragment = true,
                    .arch_codes = kUefiX64,
                    .vendor_class = "PXEClient:Arch:00007:UNDI:003000",
                    .uuid = std::array<uint8_t, 16>{}}),
       {.type = dhcp::MessageType::kRequest,
        .arch_code = 7,
        .arch_class = ArchClass::kUefiX64,
        .uuid = true,
        .ciaddr = kClientIp}},
      {"IpxeRequest4011WithBootItem",
       Request4011({.xid = 0,
                    .broadcast = true,
                    .vendor_class = "PXEClient",
                    .ipxe = true,
                    .uuid = kUuid,
                    .boot_item = kIpxeBootItem}),
       {.type = dhcp::MessageType::kRequest,
        .ipxe = true,
        .uuid = true,
        .boot_item = true,
        .ciaddr = kClientIp,
        .broadcast = true}},
      {"Inform4011",
       [] {
         ClientRequestSpec spec = Request4011({.xid = 7});
         spec.type = dhcp::MessageType::kInform;
         return spec;
       }(),
       {.type = dhcp::MessageType::kInform, .ciaddr = kClientIp}},
  };
}

class ClientRequestTest : public ::testing::TestWithParam<Case> {
 protected:
  std::span<const uint8_t> Build(const ClientRequestSpec& spec) {
    const size_t size = BuildClientRequest(spec, buffer_);
    EXPECT_GT(size, 0u);
    return std::span<const uint8_t>(buffer_).first(size);
  }

  std::array<uint8_t, kMaxClientRequestFrameSize> buffer_{};
};

TEST_P(ClientRequestTest, ClassifiesAsTheRequestItDescribes) {
  const Case& c = GetParam();
  const Expected& e = c.expected;
  std::span<const uint8_t> frame = Build(c.spec);
  auto request = std::make_unique<Request>();
  // Default RxMeta: the IPv4 and UDP checksums are verified.
  ASSERT_EQ(ClassifyFrame(frame, RxMeta{}, request.get()), DropReason::kNone);
  const Request& r = *request;

  EXPECT_EQ(r.type, e.type);
  EXPECT_EQ(r.kind, e.kind);
  EXPECT_TRUE(r.arch_known);
  EXPECT_EQ(r.arch_code, e.arch_code);
  EXPECT_EQ(r.arch.arch_class, e.arch_class);
  EXPECT_EQ(r.arch.http, e.http);
  EXPECT_EQ(r.is_ipxe, e.ipxe);
  EXPECT_EQ(r.xid, c.spec.xid);
  EXPECT_EQ(r.chaddr, c.spec.client_mac);
  EXPECT_EQ(r.ciaddr, e.ciaddr);
  EXPECT_EQ(r.giaddr, e.giaddr);
  EXPECT_EQ(r.relayed(), e.giaddr != 0);
  EXPECT_EQ(r.broadcast, e.broadcast);
  EXPECT_EQ(r.bootp.flags() & ~bootp::kFlagBroadcast, 0);

  EXPECT_EQ(r.uuid_present, e.uuid);
  if (e.uuid) {
    ASSERT_EQ(r.uuid.size(), 17u);
    EXPECT_EQ(r.uuid[0], 0);
    EXPECT_TRUE(std::equal(c.spec.uuid->begin(), c.spec.uuid->end(),
                           r.uuid.begin() + 1));
  }
  ASSERT_EQ(r.boot_item.empty(), !e.boot_item);
  if (e.boot_item) {
    EXPECT_TRUE(std::equal(r.boot_item.begin(), r.boot_item.end(),
                           c.spec.boot_item->begin()));
  }
  EXPECT_EQ(r.has_undi, c.spec.undi.has_value());
  if (c.spec.undi) {
    EXPECT_EQ(r.undi, (std::array<uint8_t, 3>{1, (*c.spec.undi)[0],
                                              (*c.spec.undi)[1]}));
  }
  const std::string_view vendor_class(
      reinterpret_cast<const char*>(r.vendor_class.data()),
      r.vendor_class.size());
  EXPECT_EQ(vendor_class, c.spec.vendor_class);

  EXPECT_EQ(r.frame.has_vlan, e.vlan_id.has_value());
  if (e.vlan_id) {
    EXPECT_EQ(r.frame.vlan_id(), *e.vlan_id);
  }
  const MacAddress src_mac =
      c.spec.src_mac == MacAddress{} ? c.spec.client_mac : c.spec.src_mac;
  EXPECT_EQ(r.frame.eth_src, src_mac);
  EXPECT_EQ(r.frame.eth_dst, c.spec.dst_mac);
  EXPECT_EQ(r.frame.ip_src, c.spec.src_ip);
  EXPECT_EQ(r.frame.ip_dst, c.spec.dst_ip);
  EXPECT_EQ(r.frame.udp_src, c.spec.src_port);
  EXPECT_EQ(r.frame.udp_dst, c.spec.dst_port);
  // BOOTP's original minimum, which some relays and ROMs insist on.
  EXPECT_GE(r.frame.payload.size(), bootp::kMinMessageSize);
  EXPECT_FALSE(r.options.truncated());
  EXPECT_EQ(r.options.First(55).size(), kPxeParameterRequestList.size());
}

TEST_P(ClientRequestTest, ProxyAnswersIt) {
  const Case& c = GetParam();
  std::span<const uint8_t> frame = Build(c.spec);
  const PolicySnapshot& policy = testing::Compiled(
      {.defaults = {.file = "pxelinux.0",
                    .http_url = "http://10.77.0.1/boot.efi"}});
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{.address = kServer, .prefix_length = 24}};
  const ServerContext context{.mac = kServerMac, .addresses = addresses};
  auto request = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> reply_buffer;
  size_t reply_size = 0;
  ASSERT_EQ(Respond(frame, RxMeta{}, policy, context, request.get(),
                    reply_buffer, &reply_size),
            DropReason::kNone);

  auto reply = std::make_unique<Request>();
  ASSERT_EQ(ClassifyFrame(std::span(reply_buffer).first(reply_size), RxMeta{},
                          reply.get()),
            DropReason::kServerReply);
  const bool on_4011 = c.spec.dst_port == kPxeServerPort;
  EXPECT_EQ(reply->type,
            on_4011 ? dhcp::MessageType::kAck : dhcp::MessageType::kOffer);
  EXPECT_EQ(reply->xid, c.spec.xid);
  EXPECT_EQ(reply->chaddr, c.spec.client_mac);
  EXPECT_EQ(reply->server_id, kServer);
  if (on_4011) {
    // Back to where the request came from: OVMF listens on 4011 only.
    EXPECT_EQ(reply->frame.ip_dst, kClientIp);
    EXPECT_EQ(reply->frame.udp_dst, c.spec.src_port);
  } else if (c.expected.giaddr != 0) {
    EXPECT_EQ(reply->frame.ip_dst, c.expected.giaddr);
    EXPECT_EQ(reply->frame.udp_dst, kDhcpServerPort);
    EXPECT_EQ(reply->frame.eth_dst, kRelayMac);
  } else {
    EXPECT_EQ(reply->frame.ip_dst, 0xFFFFFFFFu);
    EXPECT_EQ(reply->frame.udp_dst, kDhcpClientPort);
  }
  EXPECT_EQ(reply->frame.has_vlan, c.expected.vlan_id.has_value());
}

TEST_P(ClientRequestTest, NeverAllocates) {
  const Case& c = GetParam();
  size_t size = 0;
  testing::AllocationCounter counter;
  size = BuildClientRequest(c.spec, buffer_);
  counter.Stop();
  EXPECT_GT(size, 0u);
  EXPECT_EQ(counter.allocations(), 0u);
}

TEST_P(ClientRequestTest, TooSmallBufferReturnsZero) {
  const Case& c = GetParam();
  const size_t size = BuildClientRequest(c.spec, buffer_);
  ASSERT_GT(size, 0u);
  std::vector<uint8_t> exact(size);
  EXPECT_EQ(BuildClientRequest(c.spec, exact), size);
  std::vector<uint8_t> short_by_one(size - 1);
  EXPECT_EQ(BuildClientRequest(c.spec, short_by_one), 0u);
  EXPECT_EQ(BuildClientRequest(c.spec, {}), 0u);
}

INSTANTIATE_TEST_SUITE_P(Requests, ClientRequestTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.name;
                         });

TEST(ClientRequestSizeTest, SmallRequestIsPaddedTo300BootpBytes) {
  const ClientRequestSpec minimal = {.max_message_size = 0,
                                     .arch_codes = {},
                                     .vendor_class = "PXEClient",
                                     .undi = std::nullopt,
                                     .parameter_request_list = {}};
  std::array<uint8_t, kMaxClientRequestFrameSize> buffer;
  const size_t size = BuildClientRequest(minimal, buffer);
  ASSERT_EQ(size, kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize +
                      bootp::kMinMessageSize);
  // 53 = DISCOVER, 60 "PXEClient", END, then zeros up to the 300th byte.
  const std::span<const uint8_t> options = std::span(buffer).subspan(
      42 + bootp::kOptions, size - 42 - bootp::kOptions);
  const std::vector<uint8_t> expected_start = {
      53, 1, 1, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 255};
  EXPECT_TRUE(std::equal(expected_start.begin(), expected_start.end(),
                         options.begin()));
  EXPECT_TRUE(std::all_of(options.begin() + expected_start.size(),
                          options.end(), [](uint8_t b) { return b == 0; }));

  ClientRequestSpec tagged = minimal;
  tagged.vlan_tci = 1;
  EXPECT_EQ(BuildClientRequest(tagged, buffer), size + kVlanTagSize);
}

TEST(ClientRequestSizeTest, LargestRequestFitsTheMaximumFrame) {
  const std::vector<uint16_t> archs(127, 7);
  const std::string vendor_class(255, 'P');
  const std::vector<uint8_t> parameters(255, 1);
  std::array<uint8_t, kMaxClientRequestFrameSize> buffer;
  const size_t size = BuildClientRequest({.vlan_tci = 1,
                                          .arch_codes = archs,
                                          .vendor_class = vendor_class,
                                          .ipxe = true,
                                          .parameter_request_list = parameters,
                                          .uuid = kUuid,
                                          .boot_item = kIpxeBootItem},
                                         buffer);
  EXPECT_GT(size, 0u);
  EXPECT_LE(size, kMaxClientRequestFrameSize);
}

TEST(ClientRequestSizeTest, ListTooLongForOneOptionReturnsZero) {
  const std::vector<uint16_t> archs(128, 7);
  const std::string vendor_class(256, 'P');
  const std::vector<uint8_t> parameters(256, 1);
  std::array<uint8_t, kMaxClientRequestFrameSize> buffer;
  EXPECT_EQ(BuildClientRequest({.arch_codes = archs}, buffer), 0u);
  EXPECT_EQ(BuildClientRequest({.vendor_class = vendor_class}, buffer), 0u);
  EXPECT_EQ(BuildClientRequest({.parameter_request_list = parameters}, buffer),
            0u);
}

TEST(ClientRequestPolicyTest, NonPxeVendorClassIsNotAnswered) {
  const PolicySnapshot& policy =
      testing::Compiled({.defaults = {.file = "pxelinux.0"}});
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{.address = kServer}};
  const ServerContext context{.mac = kServerMac, .addresses = addresses};
  auto request = std::make_unique<Request>();
  std::array<uint8_t, kMaxClientRequestFrameSize> frame;
  std::array<uint8_t, kMaxReplyFrameSize> reply;
  for (std::string_view vendor_class : {"MSFT 5.0", "", "pxeclient"}) {
    SCOPED_TRACE(vendor_class);
    const size_t size =
        BuildClientRequest({.vendor_class = vendor_class}, frame);
    ASSERT_GT(size, 0u);
    size_t reply_size = 1;
    EXPECT_EQ(Respond(std::span(frame).first(size), RxMeta{}, policy, context,
                      request.get(), reply, &reply_size),
              DropReason::kNotBooting);
    EXPECT_EQ(reply_size, 0u);
  }
}

TEST(PxeVendorClassTest, FormatsLikeFirmware) {
  auto text = [](const std::array<char, 32>& a) {
    return std::string(a.data(), a.size());
  };
  EXPECT_EQ(text(PxeVendorClass(0, 2, 1)), "PXEClient:Arch:00000:UNDI:002001");
  EXPECT_EQ(text(PxeVendorClass(7, 3, 0)), "PXEClient:Arch:00007:UNDI:003000");
  EXPECT_EQ(text(PxeVendorClass(65535, 255, 255)),
            "PXEClient:Arch:65535:UNDI:255255");
}

}  // namespace
}  // namespace pxe
