// pxe-probe --ipv6 without a network: the command line, the client it plays
// (PXEv6 by default, HTTPv6 by arch or vendor class), its Solicit and 4011
// Request, the line it prints for each Advertise or Reply, where the Request
// goes, and the exit status for each outcome.
#include "tools/probe6.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pxe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using MT6 = dhcp6::MessageType;

constexpr MacAddress kInterfaceMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};

ProbeConfig Parse(std::vector<const char*> args) {
  absl::StatusOr<ProbeConfig> config = ParseProbeCommandLine(args);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ProbeConfig{};
}

Probe6Client Client(const ProbeConfig& config) {
  Probe6Client client;
  InitProbe6Client(config, kInterfaceMac, 0xAB123456, 77, &client);
  return client;
}

std::vector<uint8_t> ServerId() { return {0, 3, 0, 1, 2, 0, 0, 0, 0, 2}; }

SeenServer6 ProxyAdvertise(const std::string& url) {
  return {.type = MT6::kAdvertise,
          .from = "fe80::2",
          .server_id = ServerId(),
          .proxy = true,
          .client_id_echoed = true,
          .vendor_class = "PXEClient",
          .boot_url = url};
}

TEST(Probe6CommandLineTest, Ipv6AndItsLimits) {
  const ProbeConfig config = Parse({"-i", "eth0", "--ipv6"});
  EXPECT_TRUE(config.ipv6);
  EXPECT_FALSE(config.arch_given);
  EXPECT_TRUE(Parse({"-6", "-i", "eth0", "--arch", "16"}).arch_given);
  for (std::vector<const char*> bad :
       {std::vector<const char*>{"-i", "eth0", "-6", "--vlan", "5"},
        {"-i", "eth0", "-6", "--relay", "10.0.0.1", "--server", "10.0.0.2",
         "--server-mac", "52:54:00:00:00:05"},
        {"-i", "eth0", "-6", "--ipxe"},
        {"-i", "eth0", "-6", "--style", "edk2"},
        {"-i", "eth0", "-6", "--client-ip", "10.0.0.9"}}) {
    absl::StatusOr<ProbeConfig> c = ParseProbeCommandLine(bad);
    ASSERT_FALSE(c.ok()) << bad[3];
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("--ipv6 goes"));
  }
  EXPECT_THAT(ProbeUsageText(), HasSubstr("--ipv6"));
}

TEST(Probe6ClientTest, DefaultIsOvmfsPxeV6Client) {
  const Probe6Client client = Client(Parse({"-i", "eth0", "-6"}));
  EXPECT_EQ(client.mac, kInterfaceMac);  // the link-local address's MAC
  EXPECT_EQ(client.xid, 0x123456u);      // 24 bits
  EXPECT_EQ(client.arch, 7);
  EXPECT_FALSE(client.http);
  EXPECT_EQ(client.vendor_class, "PXEClient:Arch:00007:UNDI:003000");

  const ClientRequest6Spec solicit = Solicit6Spec(client);
  EXPECT_EQ(solicit.type, MT6::kSolicit);
  EXPECT_EQ(solicit.xid, 0x123456u);
  EXPECT_EQ(solicit.ia_na_iaid, 77u);
  EXPECT_TRUE(solicit.server_id.empty());
  EXPECT_EQ(solicit.arch, 7);
  ASSERT_TRUE(solicit.nii.has_value());
  EXPECT_EQ((*solicit.nii)[0], 3);
  EXPECT_EQ(std::vector<uint16_t>(solicit.option_request.begin(),
                                  solicit.option_request.end()),
            (std::vector<uint16_t>{59, 60, 23, 16}));
}

TEST(Probe6ClientTest, HttpByArchOrVendorClass) {
  Probe6Client client = Client(Parse({"-i", "eth0", "-6", "--arch", "16"}));
  EXPECT_TRUE(client.http);
  EXPECT_EQ(client.vendor_class, "HTTPClient:Arch:00016:UNDI:003000");
  client = Client(Parse({"-i", "eth0", "-6", "--vendor-class",
                         "HTTPClient:Arch:00019:UNDI:003000", "--arch", "19",
                         "--mac", "02:00:00:00:00:09"}));
  EXPECT_TRUE(client.http);
  EXPECT_EQ(client.arch, 19);
  EXPECT_EQ(client.mac, (MacAddress{2, 0, 0, 0, 0, 9}));
  client = Client(Parse({"-i", "eth0", "-6", "--arch", "11"}));
  EXPECT_FALSE(client.http);
  EXPECT_EQ(client.vendor_class, "PXEClient:Arch:00011:UNDI:003000");
}

TEST(Probe6ClientTest, RequestNamesTheProxyAndAsksNoAddress) {
  const Probe6Client client = Client(Parse({"-i", "eth0", "-6"}));
  const std::vector<uint8_t> server_id = ServerId();
  const ClientRequest6Spec spec = Request6Spec(client, server_id);
  EXPECT_EQ(spec.type, MT6::kRequest);
  EXPECT_EQ(spec.xid, client.xid);
  EXPECT_FALSE(spec.ia_na_iaid.has_value());
  EXPECT_EQ(std::vector<uint8_t>(spec.server_id.begin(), spec.server_id.end()),
            server_id);
  EXPECT_EQ(spec.src_port, 4011);
  EXPECT_EQ(spec.dst_port, 4011);
  EXPECT_EQ(spec.vendor_class, client.vendor_class);
}

TEST(Probe6ReportTest, ReadsTheEnginesServerMessage) {
  const Probe6Client client = Client(Parse({"-i", "eth0", "-6"}));
  const auto duid = MakeDuidLl(client.mac);
  std::vector<uint8_t> m = {0x02, 0x12, 0x34, 0x56, 0x00, 0x01, 0x00, 0x0a};
  m.insert(m.end(), duid.begin(), duid.end());
  const std::vector<uint8_t> tail = {
      0x00, 0x02, 0x00, 0x02, 0xcc, 0xdd,                     // server ID
      0x00, 0x10, 0x00, 0x0f, 0,    0,    1,   0x57, 0,   9,  // vendor class
      'P',  'X',  'E',  'C',  'l',  'i',  'e', 'n',  't', 0x00,
      0x3b, 0x00, 0x07, 't',  'f',  't',  'p', ':',  '/', 0};
  m.insert(m.end(), tail.begin(), tail.end());
  ServerMessage6 message;
  ASSERT_TRUE(ParseServerMessage6(m, &message));
  const SeenServer6 seen = ToSeenServer6(message, client, "fe80::2");
  EXPECT_TRUE(seen.proxy);
  EXPECT_TRUE(seen.client_id_echoed);
  EXPECT_EQ(seen.boot_url, "tftp:/");
  EXPECT_EQ(Describe6(seen),
            "proxy-advertise from fe80::2: server-id cc:dd, PXEClient, "
            "boot-url tftp:/");
}

TEST(Probe6ReportTest, DescribesAddressServersAndMissingEcho) {
  SeenServer6 s{.type = MT6::kAdvertise,
                .from = "fe80::1",
                .server_id = {0, 1},
                .has_address = true,
                .has_ia = true,
                .client_id_echoed = true,
                .status = 2};
  EXPECT_EQ(Describe6(s),
            "advertise from fe80::1: server-id 00:01, address offered, "
            "boot-url none, status 2");
  s = ProxyAdvertise("tftp://[fd77::2]/a.efi");
  s.type = MT6::kReply;
  s.client_id_echoed = false;
  EXPECT_THAT(Describe6(s), HasSubstr("reply from fe80::2"));
  EXPECT_THAT(Describe6(s), HasSubstr("client ID NOT echoed"));
}

TEST(Probe6TargetTest, TftpHostElseAllAgents) {
  EXPECT_EQ(
      Request6Target(ProxyAdvertise("tftp://[fd77::2]/bootx64.efi")),
      (Ipv6Address{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
  SeenServer6 no_url = ProxyAdvertise("");
  no_url.boot_url.reset();
  EXPECT_EQ(Request6Target(no_url), kAllDhcp6Agents);
  EXPECT_FALSE(Request6Target(ProxyAdvertise("tftp://boot.example/x")));
  EXPECT_FALSE(Request6Target(ProxyAdvertise("tftp://[fd77::2/x")));
  EXPECT_FALSE(Request6Target(ProxyAdvertise("http://[fd77::2]/x")));
}

TEST(Probe6VerdictTest, ExitStatusForEachOutcome) {
  const ProbeConfig pxe = Parse({"-i", "eth0", "-6"});
  const Probe6Client pxe_client = Client(pxe);
  const SeenServer6 proxy = ProxyAdvertise("tftp://[fd77::2]/bootx64.efi");
  SeenServer6 address_server{.type = MT6::kAdvertise,
                             .from = "fe80::1",
                             .has_address = true,
                             .has_ia = true,
                             .client_id_echoed = true};
  SeenServer6 reply = proxy;
  reply.type = MT6::kReply;

  // Found: the Reply names the file.
  EXPECT_EQ(Judge6(pxe, pxe_client, {address_server, proxy}, reply).exit_status,
            0);
  // Nobody, or only an address server.
  Probe6Verdict v = Judge6(pxe, pxe_client, {}, std::nullopt);
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.reason, HasSubstr("no DHCPv6 server answered"));
  v = Judge6(pxe, pxe_client, {address_server}, std::nullopt);
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.reason, HasSubstr("only address servers"));
  // A proxy but no Reply on 4011, or a Reply without a URL or with an IA.
  v = Judge6(pxe, pxe_client, {proxy}, std::nullopt);
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.reason, HasSubstr("no Reply to the 4011 Request"));
  SeenServer6 bad = reply;
  bad.boot_url.reset();
  EXPECT_THAT(Judge6(pxe, pxe_client, {proxy}, bad).reason,
              HasSubstr("names no boot file"));
  bad = reply;
  bad.has_ia = true;
  EXPECT_EQ(Judge6(pxe, pxe_client, {proxy}, bad).exit_status, 1);
  // A proxy that does not echo the client ID is no offer.
  SeenServer6 deaf = proxy;
  deaf.client_id_echoed = false;
  EXPECT_THAT(Judge6(pxe, pxe_client, {deaf}, reply).reason,
              HasSubstr("does not echo our client ID"));
  // --no-4011 and HTTP: the Advertise's URL is the answer.
  const ProbeConfig no_4011 = Parse({"-i", "eth0", "-6", "--no-4011"});
  EXPECT_EQ(Judge6(no_4011, Client(no_4011), {proxy}, std::nullopt).exit_status,
            0);
  const ProbeConfig http = Parse({"-i", "eth0", "-6", "--arch", "16"});
  EXPECT_EQ(Judge6(http, Client(http), {proxy}, std::nullopt).exit_status, 0);
  SeenServer6 no_url = proxy;
  no_url.boot_url.reset();
  EXPECT_EQ(Judge6(http, Client(http), {no_url}, std::nullopt).exit_status, 1);
  // --expect-none.
  const ProbeConfig none = Parse({"-i", "eth0", "-6", "--expect-none"});
  EXPECT_EQ(
      Judge6(none, Client(none), {address_server}, std::nullopt).exit_status,
      0);
  v = Judge6(none, Client(none), {address_server, proxy}, std::nullopt);
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.reason, HasSubstr("expected none"));
  EXPECT_THAT(v.reason, Not(HasSubstr("fe80::1")));
}

}  // namespace
}  // namespace pxe
