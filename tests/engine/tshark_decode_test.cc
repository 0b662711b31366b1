// The engine's replies to each kind of request, decoded by a decoder that is
// not ours: Wireshark's DHCP dissector (tshark), through
// tests/testing/tshark_replies.py. The replies are written to a pcap file
// (capture/pcap_file.h), and each must decode with no malformed packet and
// no error (checksums verified), carry what every proxy reply must (the
// script's checks: RFC 2131 §2 and §4.1, RFC 2132, PXE 2.1), and the fields
// listed here for its kind. Needs tshark (tools/install-deps.sh --all).
#include <array>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "capture/pcap_file.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "gtest/gtest.h"
#include "tests/testing/cannot_run.h"
#include "tests/testing/command.h"
#include "tests/testing/compiled_policy.h"
#include "tests/testing/known_answer.h"
#include "tests/testing/packet_builder.h"

#ifndef PXE_TSHARK_REPLIES
#error "PXE_TSHARK_REPLIES must name tests/testing/tshark_replies.py"
#endif

namespace pxe {
namespace {

using testing::FrameSpec;
using testing::Ip;
using testing::Opt;

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 2);
constexpr uint32_t kClient = MakeIpv4(10, 77, 0, 113);
constexpr uint32_t kRelay = MakeIpv4(10, 12, 0, 1);

// One request, the policy it is answered under, and the tshark fields its
// reply must have ("-": absent).
struct Case {
  std::string name;
  std::vector<uint8_t> request;
  BootPolicy policy;
  std::vector<std::pair<std::string, std::string>> fields;
  RxMeta meta = {};
};

BootPolicy Nbp() {
  BootPolicy p;
  p.defaults.file = "pxelinux.0";
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] = "bootx64.efi";
  return p;
}

std::string LongUrl() {
  std::string url = "http://10.77.0.2/boot/";
  while (url.size() < 188) url += "0123456789";
  return url + "/bootx64.efi";
}

// testing::UuidOpt()'s 16 bytes 11 12 .. 20 echoed, as tshark shows a UUID:
// a GUID whose first three fields are little-endian (SMBIOS order).
constexpr char kUuidAsGuid[] = "14131211-1615-1817-191a-1b1c1d1e1f20";

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({"BIOS offer",
                   testing::BuildFrame(testing::BiosIpxeDiscover()),
                   Nbp(),
                   {{"dhcp.option.dhcp", "2"},
                    {"dhcp.ip.server", "10.77.0.2"},
                    {"dhcp.server", "10.77.0.2"},
                    {"dhcp.file", "pxelinux.0"},
                    {"dhcp.option.vendor.pxeclient.discovery_control", "0x08"},
                    {"dhcp.option.vendor.pxeclient.end", "255"},
                    {"dhcp.client_id.uuid", kUuidAsGuid},
                    {"ip.dst", "255.255.255.255"}}});
  cases.push_back({"UEFI BINL offer",
                   testing::BuildFrame(testing::UefiOvmfDiscover()),
                   Nbp(),
                   {{"dhcp.ip.server", "10.77.0.2"},
                    {"dhcp.file", ""},
                    {"dhcp.server", ""},
                    {"dhcp.option.vendor.pxeclient.suboption", "-"}}});
  BootPolicy direct = Nbp();
  direct.uefi_offer_style = UefiOfferStyle::kDirect;
  cases.push_back(
      {"UEFI direct offer",
       testing::BuildFrame(testing::UefiOvmfDiscover()),
       direct,
       {{"dhcp.file", "bootx64.efi"},
        {"dhcp.option.vendor.pxeclient.discovery_control", "0x08"}}});

  FrameSpec http;
  http.flags = 0x8000;
  http.options = {
      testing::MessageTypeOpt(1), testing::ArchOpt({16}), Opt(94, {1, 3, 1}),
      Opt(60, "HTTPClient:Arch:00016:UNDI:003001"), testing::UuidOpt()};
  BootPolicy http_policy = Nbp();
  http_policy.defaults.http_url = "http://10.77.0.2/boot/bootx64.efi";
  cases.push_back({"HTTPClient offer",
                   testing::BuildFrame(http),
                   http_policy,
                   {{"dhcp.option.vendor_class_id", "HTTPClient"},
                    {"dhcp.file", "http://10.77.0.2/boot/bootx64.efi"},
                    {"dhcp.option.type", "53"}}});
  BootPolicy long_url = Nbp();
  long_url.defaults.http_url = LongUrl();
  cases.push_back(
      {"option-67 URL",
       testing::BuildFrame(http),
       long_url,
       {{"dhcp.file", ""}, {"dhcp.option.bootfile_name", LongUrl()}}});

  // A relay's DISCOVER with option 82: circuit id "sw3/12", remote id "rack"
  // (RFC 3046 §2.0), which tshark shows as hex.
  FrameSpec relayed = testing::BiosIpxeDiscover();
  relayed.eth_dst = {0x02, 0, 0, 0, 0, 0x02};
  relayed.eth_src = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
  relayed.ip_src = kRelay;
  relayed.ip_dst = kServer;
  relayed.src_port = 67;
  relayed.hops = 1;
  relayed.giaddr = kRelay;
  relayed.options.push_back(
      Opt(82, {1, 6, 's', 'w', '3', '/', '1', '2', 2, 4, 'r', 'a', 'c', 'k'}));
  cases.push_back({"relayed offer with option 82",
                   testing::BuildFrame(relayed),
                   Nbp(),
                   {{"ip.dst", "10.12.0.1"},
                    {"dhcp.ip.relay", "10.12.0.1"},
                    {"dhcp.option.agent_information_option.agent_circuit_id",
                     "73:77:33:2f:31:32"},
                    {"dhcp.option.agent_information_option.agent_remote_id",
                     "72:61:63:6b"}}});

  FrameSpec tagged = testing::BiosIpxeDiscover();
  tagged.vlan_tci = 0x200c;
  cases.push_back({"VLAN-tagged offer",
                   testing::BuildFrame(tagged),
                   Nbp(),
                   {{"vlan.id", "12"}, {"vlan.priority", "1"}}});

  cases.push_back(
      {"ACK on 4011 to port 68",
       testing::BuildFrame(testing::BiosIpxeRequest4011(kClient, kServer)),
       Nbp(),
       {{"dhcp.option.dhcp", "5"},
        {"udp.dstport", "68"},
        {"dhcp.file", "pxelinux.0"},
        {"dhcp.ip.client", "10.77.0.113"},
        {"dhcp.option.vendor.pxeclient.boot_item.type", "32768"}}});
  cases.push_back(
      {"ACK on 4011 to port 4011",
       testing::BuildFrame(testing::UefiOvmfRequest4011(kClient, kServer)),
       Nbp(),
       {{"udp.dstport", "4011"},
        {"dhcp.file", "bootx64.efi"},
        {"dhcp.ip.server", "10.77.0.2"}}});

  BootPolicy menu = Nbp();
  menu.menus.push_back(
      {.name = "main",
       .prompt = "Boot menu",
       .timeout_s = 5,
       .items = {{.label = "Install", .type = 0x8001, .file = "install.0"},
                 {.label = "Local disk", .type = 0}}});
  menu.defaults.menu = "main";
  cases.push_back(
      {"boot menu offer",
       testing::BuildFrame(testing::BiosIpxeDiscover()),
       menu,
       {{"dhcp.option.vendor.pxeclient.discovery_control", "0x03"},
        {"dhcp.option.vendor.pxeclient.boot_servers.ip", "10.77.0.2"},
        {"dhcp.option.vendor.pxeclient.boot_menu.desc", "Install"},
        {"dhcp.option.vendor.pxeclient.menu_prompt.prompt", "Boot menu"}}});
  BootPolicy pi = Nbp();
  pi.defaults.raspberry_pi = true;
  cases.push_back(
      {"Raspberry Pi offer",
       testing::BuildFrame(testing::BiosIpxeDiscover()),
       pi,
       {{"dhcp.option.vendor.pxeclient.boot_menu.desc", "Raspberry Pi Boot"},
        {"dhcp.option.tftp_server_name", "10.77.0.2"}}});
  return cases;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST(TsharkDecodeTest, EveryKindOfReplyDecodesWithItsFields) {
  if (testing::RunCommand("command -v tshark").exit_code != 0) {
    PXE_CANNOT_RUN("tshark is not installed (tools/install-deps.sh --all)");
  }
  testing::TempFile pcap("");
  absl::StatusOr<std::unique_ptr<PcapFileSink>> sink =
      PcapFileSink::Create(pcap.path());
  ASSERT_TRUE(sink.ok()) << sink.status();
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{kServer, 24}};
  const ServerContext context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addresses = addresses};
  std::string command = "python3 " + Quote(PXE_TSHARK_REPLIES) + " " +
                        Quote(pcap.path()) + " --server 10.77.0.2";
  const std::vector<Case> cases = Cases();
  size_t frame = 0;
  for (const Case& c : cases) {
    auto request = std::make_unique<Request>();
    std::span<uint8_t> slot = (*sink)->NextSlot();
    size_t size = 0;
    const DropReason d = Respond(c.request, c.meta, testing::Compiled(c.policy),
                                 context, request.get(), slot, &size);
    ASSERT_EQ(d, DropReason::kNone) << c.name << ": " << DropReasonName(d);
    (*sink)->Commit(size);
    ++frame;
    for (const auto& [field, value] : c.fields) {
      command += " --expect " +
                 Quote(std::to_string(frame) + ":" + field + "=" + value);
    }
  }
  ASSERT_TRUE((*sink)->Flush().ok());
  sink->reset();
  command += " --min-replies " + std::to_string(cases.size());

  const testing::CommandResult r = testing::RunCommand(command);
  std::string legend = "frames:";
  for (size_t i = 0; i < cases.size(); ++i) {
    legend += " " + std::to_string(i + 1) + " " + cases[i].name + ";";
  }
  EXPECT_EQ(r.exit_code, 0) << legend << "\n" << r.output;
}

// The checks can fail: a BIOS offer with a wrong UDP checksum, and one that
// offers an address (yiaddr set, checksums made right again), are caught and
// named by frame and field.
TEST(TsharkDecodeTest, BrokenRepliesAreNamedByFrameAndField) {
  if (testing::RunCommand("command -v tshark").exit_code != 0) {
    PXE_CANNOT_RUN("tshark is not installed (tools/install-deps.sh --all)");
  }
  const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{kServer, 24}};
  const ServerContext context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addresses = addresses};
  auto request = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  ASSERT_EQ(
      Respond(testing::BuildFrame(testing::BiosIpxeDiscover()), RxMeta{},
              testing::Compiled(Nbp()), context, request.get(), out, &size),
      DropReason::kNone);
  std::vector<uint8_t> bad_checksum(out.begin(), out.begin() + size);
  bad_checksum[14 + 20 + 7] ^= 1;  // the UDP checksum's low byte
  std::vector<uint8_t> address(out.begin(), out.begin() + size);
  address[14 + 20 + 8 + 16 + 3] = 50;  // yiaddr 0.0.0.50
  address = testing::WithChecksums(address);

  testing::TempFile pcap("");
  {
    absl::StatusOr<std::unique_ptr<PcapFileSink>> sink =
        PcapFileSink::Create(pcap.path());
    ASSERT_TRUE(sink.ok()) << sink.status();
    for (const std::vector<uint8_t>* frame : {&bad_checksum, &address}) {
      std::span<uint8_t> slot = (*sink)->NextSlot();
      std::copy(frame->begin(), frame->end(), slot.begin());
      (*sink)->Commit(frame->size());
    }
    ASSERT_TRUE((*sink)->Flush().ok());
  }
  const testing::CommandResult r =
      testing::RunCommand("python3 " + Quote(PXE_TSHARK_REPLIES) + " " +
                          Quote(pcap.path()) + " --server 10.77.0.2");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("frame 1: expert error: Bad checksum"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("frame 2 (OFFER): yiaddr is '0.0.0.50', expected "
                          "'0.0.0.0'"),
            std::string::npos)
      << r.output;
}

// DHCPv6: the Advertises to OVMF's captured PXEv6 and HTTPv6 Solicits, the
// Reply to a PXEv6 Request on 4011 and a Relay-reply, decoded by Wireshark's
// DHCPv6 dissector with UDP checksums verified: the message type, the
// options in order (no IA_NA 3, IA_TA 4 or IA_PD 25), the checksum good and
// nothing malformed.
TEST(TsharkDecodeTest, Dhcp6RepliesDecode) {
  if (testing::RunCommand("command -v tshark").exit_code != 0) {
    PXE_CANNOT_RUN("tshark is not installed (tools/install-deps.sh --all)");
  }
  auto read_frames = [](const std::string& path) {
    std::vector<std::vector<uint8_t>> frames;
    auto source = PcapFileSource::Open(path);
    if (!source.ok()) return frames;
    std::vector<RxFrame> batch(64);
    absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
    for (size_t i = 0; n.ok() && i < *n; ++i) {
      frames.emplace_back(batch[i].data.begin(), batch[i].data.end());
    }
    return frames;
  };
  const auto captured =
      read_frames(std::string(PXE_TEST_DATA_DIR) +
                  "/ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap");
  ASSERT_EQ(captured.size(), 16u);
  std::vector<std::vector<uint8_t>> requests = {captured[4], captured[12]};
  for (const char* name :
       {"variant6-request-4011", "variant6-relay-forward-solicit"}) {
    testing::CommandResult hex = testing::RunCommand(
        "od -An -v -tx1 " +
        Quote(std::string(PXE_TEST_DATA_DIR) + "/../fuzz/corpus/" + name));
    ASSERT_EQ(hex.exit_code, 0);
    std::vector<uint8_t> frame;
    std::istringstream in(hex.output);
    unsigned byte;
    while (in >> std::hex >> byte) frame.push_back(static_cast<uint8_t>(byte));
    requests.push_back(frame);
  }
  BootPolicy policy = Nbp();
  policy.defaults.http_url6 = "http://[fd77::2]/boot/bootx64.efi";
  const std::array<Ipv6InterfaceAddress, 2> addresses = {
      Ipv6InterfaceAddress{
          {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64},
      Ipv6InterfaceAddress{
          {0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64}};
  const ServerContext6 context{.mac = {0x02, 0, 0, 0, 0, 0x02},
                               .addresses = addresses};
  testing::TempFile pcap("");
  {
    absl::StatusOr<std::unique_ptr<PcapFileSink>> sink =
        PcapFileSink::Create(pcap.path());
    ASSERT_TRUE(sink.ok()) << sink.status();
    for (const auto& frame : requests) {
      auto request = std::make_unique<Request6>();
      std::span<uint8_t> slot = (*sink)->NextSlot();
      size_t size = 0;
      const DropReason d = Respond6(frame, RxMeta{}, testing::Compiled(policy),
                                    context, request.get(), slot, &size);
      ASSERT_EQ(d, DropReason::kNone) << DropReasonName(d);
      (*sink)->Commit(size);
    }
    ASSERT_TRUE((*sink)->Flush().ok());
  }
  const testing::CommandResult r = testing::RunCommand(
      "tshark -r " + Quote(pcap.path()) +
      " -o udp.check_checksum:TRUE -d udp.port==4011,dhcpv6"
      " -T fields -E separator='|'"
      " -e dhcpv6.msgtype -e dhcpv6.option.type -e udp.checksum.status"
      " -e _ws.malformed -e _ws.expert.message 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // tshark's note on running as root is no decoding.
  std::string decoded;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    if (line.empty() || absl::StartsWith(line, "Running as user")) continue;
    absl::StrAppend(&decoded, line, "\n");
  }
  // Checksum status 1: good. A Relay-reply (13) shows its options (18, 9)
  // and then the Advertise's.
  EXPECT_EQ(decoded,
            "2|1,2,16,59|1||\n"
            "2|1,2,16,59|1||\n"
            "7|1,2,16,59|1||\n"
            "13,2|18,9,1,2,16,59|1||\n");
}

}  // namespace
}  // namespace pxe
