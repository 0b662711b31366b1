// The configuration file loader: every key, every error message (with its
// FILE:LINE:COL and the words a user needs), flags over the file, menus,
// options and the documented Raspberry Pi rule.
#include "tools/policy_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/policy_snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/command.h"
#include "tools/config.h"

namespace pxe {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<DaemonConfig> Load(const std::string& text) {
  DaemonConfig config;
  absl::Status s = LoadPolicyText(text, "t.toml", &config);
  if (!s.ok()) return s;
  return config;
}

// The error message of loading `text` (which must fail).
std::string ErrorOf(const std::string& text) {
  absl::StatusOr<DaemonConfig> c = Load(text);
  EXPECT_FALSE(c.ok()) << text;
  return c.ok() ? "" : std::string(c.status().message());
}

// A file on disk, removed afterwards, for ParseCommandLine.
using ::pxe::testing::TempFile;

absl::StatusOr<DaemonConfig> Parse(std::vector<std::string> words) {
  std::vector<const char*> args;
  for (const std::string& w : words) args.push_back(w.c_str());
  return ParseCommandLine(args);
}

constexpr char kIssueExample[] = R"(
[server]
interfaces = ["eth0"]          # -i
listen = "10.0.0.5"            # -l
tftp_server = "10.0.0.5"       # -t
broadcast = "255.255.255.255"  # -b
uefi_offer = "binl"            # or "direct"
[boot]
file = "pxelinux.0"
files = { bios = "pxelinux.0", uefi-x64 = "shimx64.efi", uefi-arm64 = "grubnetaa64.efi" }
http_url = { uefi-x64 = "http://10.0.0.5/boot/x64.efi" }
ipxe_script = "http://10.0.0.5/boot.ipxe"
[[rule]]
name = "rack12-reinstall"
match = { mac = ["52:54:00:12:*"], subnet = ["10.12.0.0/16"], arch = ["uefi-x64", "bios"] }
file = "installer/shimx64.efi"
tftp_server = "10.12.0.9"
[[rule]]
name = "boot-from-disk"
match = { mac = ["52:54:00:99:00:01"] }
action = "ignore"              # never answered; counted
)";

TEST(PolicyFileTest, IssueExampleLoads) {
  absl::StatusOr<DaemonConfig> c = Load(kIssueExample);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->interfaces, ElementsAre("eth0"));
  const BootPolicy& p = c->policy;
  EXPECT_EQ(p.listen_address, MakeIpv4(10, 0, 0, 5));
  EXPECT_EQ(p.defaults.tftp_server, MakeIpv4(10, 0, 0, 5));
  EXPECT_EQ(p.offer_broadcast, 0xFFFFFFFFu);
  EXPECT_EQ(p.uefi_offer_style, UefiOfferStyle::kBinl);
  EXPECT_EQ(p.defaults.file, "pxelinux.0");
  EXPECT_EQ(p.defaults.files[size_t(ArchClass::kUefiX64)], "shimx64.efi");
  EXPECT_EQ(p.defaults.files[size_t(ArchClass::kUefiArm64)], "grubnetaa64.efi");
  EXPECT_EQ(p.defaults.http_urls[size_t(ArchClass::kUefiX64)],
            "http://10.0.0.5/boot/x64.efi");
  EXPECT_EQ(p.defaults.ipxe_script, "http://10.0.0.5/boot.ipxe");
  ASSERT_EQ(p.rules.size(), 2u);
  const Rule& r = p.rules[0];
  EXPECT_EQ(r.name, "rack12-reinstall");
  EXPECT_EQ(r.where.line, 13u);
  EXPECT_EQ(r.where.column, 1u);
  ASSERT_EQ(r.match.mac.size(), 1u);
  EXPECT_EQ(r.match.mac[0].length, 4);
  EXPECT_EQ(r.match.mac[0].octets[3], 0x12);
  EXPECT_EQ(r.match.subnet[0], (Ipv4Prefix{.network = MakeIpv4(10, 12, 0, 0),
                                           .prefix_length = 16}));
  EXPECT_EQ(r.match.arch_mask, (1u << size_t(ArchClass::kUefiX64)) |
                                   (1u << size_t(ArchClass::kBios)));
  EXPECT_EQ(r.answer.file, "installer/shimx64.efi");
  EXPECT_EQ(r.answer.tftp_server, MakeIpv4(10, 12, 0, 9));
  EXPECT_EQ(p.rules[1].action, RuleAction::kIgnore);
  EXPECT_TRUE(PolicySnapshot::Compile(p).ok());
}

TEST(PolicyFileTest, EveryServerKey) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[server]
interfaces = "eth1"
relay_servers = ["10.1.0.0/16=10.0.0.5", "10.2.0.0/24=10.0.0.6"]
relays = ["10.1.0.1", "10.2.0.1"]
dhcp_servers = "10.0.0.1"
offer_hold_ms = 0
workers = 4
rx_ring_frames = 4096
busy_poll_us = 50
uefi_offer = "direct"
[boot]
file = "p.0"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->interfaces, ElementsAre("eth1"));
  ASSERT_EQ(c->policy.relay_servers.size(), 2u);
  EXPECT_EQ(c->policy.relay_servers[0].relay_subnet.network,
            MakeIpv4(10, 1, 0, 0));
  EXPECT_EQ(c->policy.relay_servers[1].server, MakeIpv4(10, 0, 0, 6));
  EXPECT_THAT(c->policy.relays,
              ElementsAre(MakeIpv4(10, 1, 0, 1), MakeIpv4(10, 2, 0, 1)));
  EXPECT_THAT(c->policy.dhcp_servers, ElementsAre(MakeIpv4(10, 0, 0, 1)));
  EXPECT_EQ(c->worker.responder.offer_hold_ns, 0u);
  EXPECT_EQ(c->workers, 4);
  EXPECT_EQ(c->ring.rx_frames, 4096u);
  EXPECT_EQ(c->worker.busy_poll_ns, 50'000u);
  EXPECT_EQ(c->policy.uefi_offer_style, UefiOfferStyle::kDirect);
}

TEST(PolicyFileTest, EveryAnswerAndMatchKey) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[menu.m]
[[menu.m.item]]
label = "Local"
local = true
[boot]
http_url = "http://10.0.0.5/all.efi"
reply_delay_ms = 200
menu = "m"
[[rule]]
name = "all"
match = { mac = "52:54:00:12:34:56", subnet = "10.0.0.0/8", arch = "uefi-arm64", vendor_class = "PXEClient:Arch:00011*", user_class = "iPXE", uuid = "4c4c4544-0032-3510-8052-b4c04f4d4e31", interface = ["eth0", "eth1"], vlan = [10, "untagged"], circuit_id = "hex:0a0b*", remote_id = "sw1" }
files = { uefi-arm64 = "a64.efi" }
http_url = { uefi-x64 = "http://10.0.0.5/x64.efi" }
ipxe_script = "boot.ipxe"
tftp_server = "10.0.0.9"
reply_delay_ms = 0
options = { 66 = "10.0.0.9" }
action = "answer"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const BootPolicy& p = c->policy;
  EXPECT_EQ(p.defaults.http_url, "http://10.0.0.5/all.efi");
  EXPECT_EQ(p.defaults.reply_delay_ms, 200u);
  EXPECT_EQ(p.defaults.menu, "m");
  const Rule& r = p.rules[0];
  EXPECT_EQ(r.match.mac[0].length, 6);
  EXPECT_EQ(r.match.subnet[0].prefix_length, 8);
  EXPECT_EQ(r.match.vendor_class[0],
            (BytePattern{.text = "PXEClient:Arch:00011", .prefix = true}));
  EXPECT_EQ(r.match.user_class[0], (BytePattern{.text = "iPXE"}));
  // The UUID's bytes in text order (README: "uuid").
  EXPECT_EQ(r.match.uuid[0][0], 0x4c);
  EXPECT_EQ(r.match.uuid[0][15], 0x31);
  EXPECT_THAT(r.match.interface, ElementsAre("eth0", "eth1"));
  EXPECT_THAT(r.match.vlan, ElementsAre(10, RuleMatch::kUntagged));
  EXPECT_EQ(r.match.circuit_id[0],
            (BytePattern{.text = "\x0a\x0b", .prefix = true}));
  EXPECT_EQ(r.match.remote_id[0], (BytePattern{.text = "sw1"}));
  EXPECT_EQ(r.answer.files[size_t(ArchClass::kUefiArm64)], "a64.efi");
  EXPECT_EQ(r.answer.http_urls[size_t(ArchClass::kUefiX64)],
            "http://10.0.0.5/x64.efi");
  EXPECT_EQ(r.answer.ipxe_script, "boot.ipxe");
  EXPECT_EQ(r.answer.tftp_server, MakeIpv4(10, 0, 0, 9));
  EXPECT_EQ(r.answer.reply_delay_ms, 0u);
  EXPECT_EQ(r.action, RuleAction::kAnswer);
  EXPECT_TRUE(PolicySnapshot::Compile(p).ok());
}

TEST(PolicyFileTest, Ipv6TftpServerAndHttpUrls) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[server]
tftp_server = ["10.0.0.5", "2001:db8::5"]

[boot]
file = "a.0"
http_url = "http://[2001:db8::5]/boot.efi"

[[rule]]
name = "lab"
match = { mac = "52:54:00:*" }
tftp_server = "2001:db8::9"
http_url6 = { uefi-arm64 = "http://[2001:db8::9]/arm64.efi" }
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const BootAnswer& d = c->policy.defaults;
  EXPECT_EQ(d.tftp_server, 0x0A000005u);
  EXPECT_EQ(d.tftp_server6[15], 5);
  EXPECT_EQ(d.http_url, "");
  EXPECT_EQ(d.http_url6, "http://[2001:db8::5]/boot.efi");
  ASSERT_EQ(c->policy.rules.size(), 1u);
  const BootAnswer& r = c->policy.rules[0].answer;
  EXPECT_EQ(r.tftp_server, 0u);
  EXPECT_EQ(r.tftp_server6[15], 9);
  EXPECT_EQ(r.http_urls6[static_cast<size_t>(ArchClass::kUefiArm64)],
            "http://[2001:db8::9]/arm64.efi");
  EXPECT_THAT(
      Load("[server]\ntftp_server = \"2001:db8::zz\"\n").status().message(),
      HasSubstr("is not an IPv6 address"));
}

TEST(PolicyFileTest, MenusGetAutomaticTypes) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[menu.install]
prompt = "Pick one"
timeout = 0
[[menu.install.item]]
label = "Boot from disk"
local = true
[[menu.install.item]]
label = "Installer"
file = "inst.0"
[[menu.install.item]]
label = "Rescue"
file = "rescue.0"
type = 32770
[[menu.install.item]]
label = "Memtest"
file = "memtest.0"
[boot]
menu = "install"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const Menu& m = c->policy.menus[0];
  EXPECT_EQ(m.name, "install");
  EXPECT_EQ(m.prompt, "Pick one");
  EXPECT_EQ(m.timeout_s, 0);
  ASSERT_EQ(m.items.size(), 4u);
  EXPECT_EQ(m.items[0].type, 0);
  EXPECT_EQ(m.items[1].type, 0x8001);
  EXPECT_EQ(m.items[2].type, 0x8002);  // given
  EXPECT_EQ(m.items[3].type, 0x8003);  // skips the given one
  EXPECT_EQ(m.items[3].file, "memtest.0");
  EXPECT_TRUE(PolicySnapshot::Compile(c->policy).ok());
}

TEST(PolicyFileTest, OptionsTextIpv4Hex) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[boot]
file = "p.0"
options = { 66 = "10.0.0.5", 67 = "pxelinux.0", 209 = "pxelinux.cfg/default", 210 = "/tftpboot/", 150 = { ipv4 = ["10.0.0.5", "10.0.0.6"] }, 224 = { ipv4 = "1.2.3.4" }, 250 = { hex = "de:ad:be:ef" } }
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<ExtraOption>& o = c->policy.defaults.options;
  auto find = [&](uint8_t code) {
    for (const ExtraOption& e : o) {
      if (e.code == code) return e.value;
    }
    return std::vector<uint8_t>{};
  };
  EXPECT_EQ(find(66),
            (std::vector<uint8_t>{'1', '0', '.', '0', '.', '0', '.', '5'}));
  EXPECT_EQ(find(209).size(), 20u);
  EXPECT_EQ(find(150), (std::vector<uint8_t>{10, 0, 0, 5, 10, 0, 0, 6}));
  EXPECT_EQ(find(224), (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(find(250), (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_TRUE(PolicySnapshot::Compile(c->policy).ok());
}

// The rule the README documents: all a user writes for Raspberry Pis.
TEST(PolicyFileTest, RaspberryPiRuleLoads) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[[rule]]
name = "raspberry-pi"
match = { mac = ["b8:27:eb:*", "dc:a6:32:*", "e4:5f:01:*", "28:cd:c1:*", "2c:cf:67:*", "d8:3a:dd:*"] }
raspberry_pi = true
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const Rule& r = c->policy.rules[0];
  EXPECT_TRUE(r.answer.raspberry_pi);
  ASSERT_EQ(r.match.mac.size(), 6u);
  EXPECT_EQ(r.match.mac[5].octets[0], 0xd8);
  EXPECT_EQ(r.match.mac[5].length, 3);
  EXPECT_TRUE(PolicySnapshot::Compile(c->policy).ok());
}

// --- One test per error message. ---

TEST(PolicyFileTest, LoggingKeysAndALoggedRule) {
  absl::StatusOr<DaemonConfig> c = Load(
      "[server]\nlog_level = \"debug\"\nlog_format = \"json\"\n"
      "[boot]\nfile = \"a.0\"\n"
      "[[rule]]\nname = \"watched\"\nlog = true\nfile = \"b.0\"\n"
      "[[rule]]\nname = \"quiet\"\nfile = \"c.0\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_level, log::Level::kDebug);
  EXPECT_EQ(c->log_format, log::Format::kJson);
  ASSERT_EQ(c->policy.rules.size(), 2u);
  EXPECT_TRUE(c->policy.rules[0].log);
  EXPECT_FALSE(c->policy.rules[1].log);
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nlog = \"yes\"\n"),
              HasSubstr("t.toml:3:7: rule \"a\" log must be true or false"));
  EXPECT_THAT(ErrorOf("[server]\nlog_level = \"loud\"\n"),
              HasSubstr("t.toml:2:13: [server] log_level is \"debug\", "
                        "\"info\", \"warning\" or \"error\", not \"loud\""));
  EXPECT_THAT(ErrorOf("[server]\nlog_format = \"xml\"\n"),
              HasSubstr("[server] log_format is \"text\" or \"json\""));
}

TEST(PolicyFileErrorTest, TomlSyntax) {
  EXPECT_THAT(ErrorOf("[boot]\nfile = \"x\ny = 1\n"),
              AllOf(StartsWith("t.toml:2:"), HasSubstr("TOML syntax")));
}

// Every problem is one "FILE:LINE:COL: ..." line, whatever text the file
// brings into the message: a newline in a value, or in the input that a
// TOML syntax error quotes, is written as an escape.
TEST(PolicyFileErrorTest, ControlCharactersInTheFileStayOnOneLine) {
  EXPECT_EQ(
      ErrorOf("[boot]\nfile = \"x\"\n[[rule]]\nname = \"a\"\n"
              "match = { subnet = \"10.0.0.0/8\\n10.1.0.0/16\\t\" }\n"),
      "t.toml:5:20: rule \"a\" match.subnet: \"10.0.0.0/8\\n10.1.0.0/16\\t\" "
      "is not a network: write NET/LEN, e.g. 10.12.0.0/16");
  const std::string syntax =
      ErrorOf("[boot]\nfile = \"x\"\nraspberry_pi = t\n");
  EXPECT_THAT(syntax, StartsWith("t.toml:3:"));
  EXPECT_EQ(syntax.find('\n'), std::string::npos) << syntax;
}

TEST(PolicyFileErrorTest, RelayThatIsNotAnAddress) {
  EXPECT_THAT(
      ErrorOf("[server]\nrelays = [\"10.1.0.1\", \"relay-1\"]\n"
              "[boot]\nfile = \"x\"\n"),
      StartsWith("t.toml:2:23: [server] relays: \"relay-1\" is not an IPv4 "));
}

TEST(PolicyFileErrorTest, UnknownTopLevelKey) {
  EXPECT_THAT(
      ErrorOf("[servr]\n"),
      AllOf(
          StartsWith("t.toml:1:2: unknown key \"servr\""),
          HasSubstr("[server], [boot], [menu.NAME], [[rule]] and [metrics]")));
}

TEST(PolicyFileErrorTest, UnknownServerKeyListsValidOnes) {
  EXPECT_THAT(ErrorOf("[server]\nlistn = \"10.0.0.5\"\n"),
              AllOf(StartsWith("t.toml:2:1: unknown key \"listn\" in [server]"),
                    HasSubstr("valid keys: interfaces, listen, tftp_server")));
}

TEST(PolicyFileErrorTest, UnknownRuleKey) {
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nfiel = \"x\"\n"),
              AllOf(StartsWith("t.toml:3:1: unknown key \"fiel\" in rule "
                               "\"a\""),
                    HasSubstr("name, match, action, log, file, files")));
}

TEST(PolicyFileErrorTest, UnknownMatchKey) {
  EXPECT_THAT(
      ErrorOf("[[rule]]\nname = \"a\"\nmatch = { macs = [\"x\"] }\n"),
      AllOf(StartsWith("t.toml:3:11: unknown key \"macs\" in rule \"a\" match"),
            HasSubstr("mac, subnet, arch, vendor_class")));
}

TEST(PolicyFileErrorTest, WrongType) {
  EXPECT_THAT(ErrorOf("[boot]\nfile = 7\n"),
              StartsWith("t.toml:2:8: [boot] file must be a string (e.g. "
                         "\"pxelinux.0\"), not an integer"));
}

TEST(PolicyFileErrorTest, BadMacPattern) {
  EXPECT_THAT(
      ErrorOf("[[rule]]\nname = \"a\"\nmatch = { mac = [\"52:54:0*\"] }\n"),
      AllOf(StartsWith("t.toml:3:18: rule \"a\" match.mac: \"52:54:0*\" is "
                       "not a MAC pattern"),
            HasSubstr("\"52:54:00:12:34:56\""), HasSubstr("\"52:54:00:*\"")));
}

TEST(PolicyFileErrorTest, BadAddress) {
  EXPECT_THAT(ErrorOf("[server]\nlisten = \"10.0.0\"\n"),
              AllOf(StartsWith("t.toml:2:10: [server] listen:"),
                    HasSubstr("not an IPv4 address"), HasSubstr("10.0.0.5")));
}

TEST(PolicyFileErrorTest, CidrWithHostBitsSaysWhichNetwork) {
  EXPECT_THAT(
      ErrorOf(
          "[[rule]]\nname = \"a\"\nmatch = { subnet = \"10.12.3.4/16\" }\n"),
      AllOf(StartsWith("t.toml:3:20: rule \"a\" match.subnet:"),
            HasSubstr("host bits set"), HasSubstr("write 10.12.0.0/16")));
}

TEST(PolicyFileErrorTest, BadCidr) {
  EXPECT_THAT(
      ErrorOf("[[rule]]\nname = \"a\"\nmatch = { subnet = \"10/x\" }\n"),
      AllOf(StartsWith("t.toml:3:20:"), HasSubstr("not a network"),
            HasSubstr("NET/LEN")));
}

TEST(PolicyFileErrorTest, UnknownArchListsThem) {
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nmatch = { arch = \"x86\" }\n"),
              AllOf(StartsWith("t.toml:3:18: rule \"a\" match.arch: \"x86\" is "
                               "not an architecture"),
                    HasSubstr("bios, uefi-ia32, uefi-x64")));
  EXPECT_THAT(ErrorOf("[boot]\nfiles = { x64 = \"a\" }\n"),
              AllOf(StartsWith("t.toml:2:11: [boot] files: \"x64\""),
                    HasSubstr("uefi-riscv64")));
}

TEST(PolicyFileErrorTest, DuplicateRuleName) {
  EXPECT_THAT(
      ErrorOf("[[rule]]\nname = \"a\"\nfile = \"x\"\n[[rule]]\nname = \"a\"\n"),
      AllOf(StartsWith("t.toml:5:8: rule name \"a\" is already used by the "
                       "rule at t.toml:2"),
            HasSubstr("its own name")));
}

TEST(PolicyFileErrorTest, RuleWithoutName) {
  EXPECT_THAT(ErrorOf("[boot]\nfile = \"x\"\n[[rule]]\nfile = \"y\"\n"),
              StartsWith("t.toml:3:1: rule 1 needs a name: add name = "));
}

TEST(PolicyFileErrorTest, UndefinedMenu) {
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nmenu = \"nope\"\n"),
              AllOf(StartsWith("t.toml:3:8: rule \"a\" menu \"nope\" is not "
                               "defined"),
                    HasSubstr("add [menu.nope]")));
}

TEST(PolicyFileErrorTest, RefusedOptionWithReason) {
  EXPECT_THAT(ErrorOf("[boot]\nfile = \"x\"\noptions = { 51 = \"x\" }\n"),
              AllOf(StartsWith("t.toml:3:13: [boot] options.51: option 51 is "
                               "refused"),
                    HasSubstr(std::string(RefusedOptionReason(51)))));
}

TEST(PolicyFileErrorTest, BadOptionCodeAndValue) {
  EXPECT_THAT(ErrorOf("[boot]\noptions = { 300 = \"x\" }\n"),
              AllOf(StartsWith("t.toml:2:13:"), HasSubstr("1 to 254")));
  EXPECT_THAT(ErrorOf("[boot]\noptions = { 66 = 5 }\n"),
              AllOf(StartsWith("t.toml:2:18:"), HasSubstr("{ ipv4 = ")));
  EXPECT_THAT(ErrorOf("[boot]\noptions = { 250 = { hex = \"xyz\" } }\n"),
              AllOf(StartsWith("t.toml:2:27:"), HasSubstr("de:ad:be:ef")));
}

TEST(PolicyFileErrorTest, ServerRangesFromTheSharedTable) {
  EXPECT_THAT(ErrorOf("[server]\nworkers = 100\n"),
              StartsWith("t.toml:2:11: [server] workers is 1 to 64, not 100"));
  EXPECT_THAT(ErrorOf("[server]\nrx_ring_frames = 33\n"),
              StartsWith("t.toml:2:18: [server] rx_ring_frames is a multiple "
                         "of 32"));
  EXPECT_THAT(ErrorOf("[server]\noffer_hold_ms = \"1\"\n"),
              StartsWith("t.toml:2:17: [server] offer_hold_ms must be an "
                         "integer (0 to 1500"));
}

TEST(PolicyFileErrorTest, UefiOfferAndAction) {
  EXPECT_THAT(ErrorOf("[server]\nuefi_offer = \"fast\"\n"),
              AllOf(StartsWith("t.toml:2:14:"), HasSubstr("\"binl\""),
                    HasSubstr("\"direct\"")));
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\naction = \"drop\"\n"),
              AllOf(StartsWith("t.toml:3:10:"), HasSubstr("\"ignore\"")));
}

TEST(PolicyFileErrorTest, VlanAndUuid) {
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nmatch = { vlan = 4095 }\n"),
              AllOf(StartsWith("t.toml:3:18:"), HasSubstr("1 to 4094"),
                    HasSubstr("untagged")));
  EXPECT_THAT(ErrorOf("[[rule]]\nname = \"a\"\nmatch = { uuid = \"1234\" }\n"),
              AllOf(StartsWith("t.toml:3:18:"), HasSubstr("8-4-4-4-12")));
}

TEST(PolicyFileErrorTest, RuleMustBeDoubleBrackets) {
  EXPECT_THAT(ErrorOf("[rule]\nname = \"a\"\n"),
              AllOf(StartsWith("t.toml:1:1:"), HasSubstr("[[rule]]")));
}

TEST(PolicyFileErrorTest, MenuItemNeedsFileOrLocal) {
  EXPECT_THAT(ErrorOf("[menu.m]\n[[menu.m.item]]\nlabel = \"x\"\n"),
              AllOf(StartsWith("t.toml:2:1: [menu.m] item \"x\" needs file"),
                    HasSubstr("local = true")));
  EXPECT_THAT(ErrorOf("[menu.m]\nprompt = \"p\"\n"),
              AllOf(StartsWith("t.toml:1:1: [menu.m] has no items"),
                    HasSubstr("[[menu.m.item]]")));
  EXPECT_THAT(ErrorOf("[menu.m]\ntimeout = 300\n[[menu.m.item]]\nlabel = "
                      "\"x\"\nlocal = true\n"),
              AllOf(StartsWith("t.toml:2:11:"), HasSubstr("0 to 255")));
}

// Length limits come from ValidateBootPolicy, placed at the rule.
TEST(PolicyFileErrorTest, LengthOverLimitAtTheRule) {
  const std::string text =
      "[boot]\nfile = \"x\"\n[[rule]]\nname = \"long\"\nfile = \"" +
      std::string(200, 'a') + "\"\n";
  EXPECT_THAT(ErrorOf(text), AllOf(StartsWith("t.toml:3:1: rule \"long\": boot "
                                              "file is 200 bytes long"),
                                   HasSubstr("at most 127")));
  EXPECT_THAT(ErrorOf("[boot]\nfile = \"x\"\nreply_delay_ms = 9000\n"),
              AllOf(StartsWith("t.toml:1:1:"), HasSubstr("5000")));
}

TEST(PolicyFileErrorTest, TftpServerTwice) {
  EXPECT_THAT(ErrorOf("[server]\ntftp_server = \"10.0.0.1\"\n[boot]\n"
                      "tftp_server = \"10.0.0.2\"\n"),
              AllOf(StartsWith("t.toml:4:15:"), HasSubstr("keep one")));
}

TEST(PolicyFileErrorTest, SeveralErrorsSortedByPosition) {
  const std::string e = ErrorOf("[[rule]]\nname = 1\n[server]\nbad = 1\n");
  EXPECT_THAT(e, StartsWith("t.toml:2:8:"));
  EXPECT_THAT(e, HasSubstr("\nt.toml:4:1: unknown key \"bad\""));
}

TEST(PolicyFileErrorTest, MissingFile) {
  DaemonConfig c;
  EXPECT_THAT(std::string(LoadPolicyFile("/nonexistent/x.toml", &c).message()),
              HasSubstr("cannot read the configuration file /nonexistent"));
}

TEST(PolicyFileTest, ShadowedRuleIsAWarning) {
  absl::StatusOr<DaemonConfig> c = Load(R"([boot]
file = "x"
[[rule]]
name = "a"
match = { mac = "52:54:00:*" }
[[rule]]
name = "b"
match = { mac = "52:54:00:*" }
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0],
              AllOf(StartsWith("t.toml:6:1: warning: rule \"b\" can never "
                               "match: rule \"a\" (line 3)")));
}

// --- The command line over the file. ---

TEST(PolicyFileCommandLineTest, FlagsOverrideTheFile) {
  TempFile f(kIssueExample);
  absl::StatusOr<DaemonConfig> c =
      Parse({"-c", f.path(), "-t", "10.9.9.9", "-i", "eth7", "-i", "eth8",
             "--workers=2", "-b", "10.0.0.255", "other.0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config_path, f.path());
  EXPECT_EQ(c->policy.defaults.tftp_server, MakeIpv4(10, 9, 9, 9));
  EXPECT_THAT(c->interfaces, ElementsAre("eth7", "eth8"));  // replaced
  EXPECT_EQ(c->workers, 2);
  EXPECT_EQ(c->policy.offer_broadcast, MakeIpv4(10, 0, 0, 255));
  EXPECT_EQ(c->policy.defaults.file, "other.0");
  EXPECT_EQ(c->policy.listen_address, MakeIpv4(10, 0, 0, 5));  // the file's
  EXPECT_EQ(c->policy.rules.size(), 2u);
}

TEST(PolicyFileCommandLineTest, NbpNameOptionalWithAFile) {
  TempFile f(kIssueExample);
  absl::StatusOr<DaemonConfig> c = Parse({"--config", f.path()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->policy.defaults.file, "pxelinux.0");
}

TEST(PolicyFileCommandLineTest, NoFileWithoutDashC) {
  absl::StatusOr<DaemonConfig> c = Parse({"-t", "10.0.0.1", "pxelinux.0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->config_path.empty());
  EXPECT_EQ(c->policy.defaults.file, "pxelinux.0");
}

TEST(PolicyFileCommandLineTest, ReadsTheFileAgainOnEachCall) {
  TempFile f("[boot]\nfile = \"one.0\"\n");
  ASSERT_EQ(Parse({"-c", f.path()})->policy.defaults.file, "one.0");
  std::ofstream(f.path()) << "[boot]\nfile = \"two.0\"\n";
  EXPECT_EQ(Parse({"-c", f.path()})->policy.defaults.file, "two.0");
}

TEST(PolicyFileCommandLineTest, NoBootFileAnywhere) {
  TempFile f("[server]\nlisten = \"10.0.0.5\"\n");
  absl::StatusOr<DaemonConfig> c = Parse({"-c", f.path()});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(
      std::string(c.status().message()),
      AllOf(HasSubstr("no boot file configured"), HasSubstr("[boot] file")));
}

TEST(PolicyFileCommandLineTest, ModesAndTheirErrors) {
  TempFile f(kIssueExample);
  EXPECT_EQ(Parse({"-c", f.path(), "--check-config"})->action,
            DaemonConfig::Action::kCheckConfig);
  absl::StatusOr<DaemonConfig> e = Parse(
      {"-c", f.path(), "--explain", "mac=52:54:00:12:34:56", "arch=bios"});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(e->explain_fields,
              ElementsAre("mac=52:54:00:12:34:56", "arch=bios"));
  EXPECT_FALSE(Parse({"-c", f.path(), "--explain"}).ok());
  EXPECT_FALSE(
      Parse({"-c", f.path(), "--check-config", "--explain", "a=b"}).ok());
  EXPECT_FALSE(Parse({"-c", f.path(), "-c", f.path()}).ok());
  EXPECT_THAT(
      std::string(Parse({"--offer-hold-ms", "2000", "x"}).status().message()),
      HasSubstr("--offer-hold-ms is 0 to 1500"));
}

TEST(PolicyFileTest, VlansOnATrunk) {
  absl::StatusOr<DaemonConfig> c = Load(R"(
[server]
interfaces = ["eth0", "eth1"]
[[server.vlan]]
interface = "eth0"
id = 10
addresses = ["10.10.0.5/24"]
[[server.vlan]]
interface = "eth1"
id = 20
addresses = ["10.20.0.5/24", "10.21.0.5/24"]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->vlans.size(), 2u);
  EXPECT_EQ(c->vlans[0].interface, "eth0");
  EXPECT_EQ(c->vlans[0].vlan.vlan, 10);
  ASSERT_EQ(c->vlans[0].vlan.addresses.size(), 1u);
  EXPECT_EQ(c->vlans[0].vlan.addresses[0].address, 0x0A0A0005u);
  EXPECT_EQ(c->vlans[1].interface, "eth1");
  EXPECT_EQ(c->vlans[1].vlan.addresses.size(), 2u);
}

TEST(PolicyFileTest, VlanMistakesPointAtTheLine) {
  EXPECT_THAT(ErrorOf("[server]\nvlan = 10\n"),
              HasSubstr("t.toml:2:8: [server] vlan must be a list of tables"));
  EXPECT_THAT(ErrorOf("[[server.vlan]]\nid = 5000\naddresses = "
                      "[\"10.0.0.1/24\"]\n"),
              HasSubstr("t.toml:2:6: [[server.vlan]] id is 1 to 4094"));
  EXPECT_THAT(ErrorOf("[[server.vlan]]\naddresses = [\"10.0.0.1/24\"]\n"),
              HasSubstr("[[server.vlan]] needs its id"));
  EXPECT_THAT(ErrorOf("[[server.vlan]]\nid = 10\n"),
              HasSubstr("[[server.vlan]] needs addresses"));
  EXPECT_THAT(ErrorOf("[[server.vlan]]\nid = 10\naddresses = "
                      "[\"10.0.0.1\"]\n"),
              HasSubstr("t.toml:3:14: [[server.vlan]] addresses: "
                        "\"10.0.0.1\" is not ADDR/LEN"));
  EXPECT_THAT(ErrorOf("[[server.vlan]]\nid = 10\naddresses = "
                      "[\"10.0.0.1/24\"]\nvid = 3\n"),
              HasSubstr("unknown key \"vid\""));
}

}  // namespace
}  // namespace pxe
