// pxe-pdhcp --check-config and --explain, run as a user runs them: exit
// codes, output sections, and the boot file in the reply each client gets.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/command.h"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using RunResult = ::pxe::testing::CommandResult;

RunResult RunPdhcp(const std::string& args) {
  return ::pxe::testing::RunCommand(std::string(PXE_PDHCP_BINARY) + " " + args);
}

constexpr char kConfig[] = R"([server]
listen = "10.0.0.5"
[boot]
file = "pxelinux.0"
files = { uefi-x64 = "shimx64.efi" }
[menu.install]
prompt = "Install?"
timeout = 5
[[menu.install.item]]
label = "Boot from disk"
local = true
[[menu.install.item]]
label = "Installer"
file = "installer.0"
[[rule]]
name = "rack12-reinstall"
match = { mac = ["52:54:00:12:*"], arch = ["uefi-x64", "bios"] }
file = "installer/shimx64.efi"
tftp_server = "10.12.0.9"
[[rule]]
name = "lab-subnet"
match = { subnet = "10.20.0.0/16" }
file = "lab/pxelinux.0"
[[rule]]
name = "boot-from-disk"
match = { mac = ["52:54:00:99:00:01"] }
action = "ignore"
[[rule]]
name = "menu-vlan"
match = { vlan = 30 }
menu = "install"
[[rule]]
name = "ipxe-users"
match = { user_class = "iPXE" }
file = "ipxe-next.0"
)";

class CheckExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/check_explain_test.XXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = name;
    Write(kConfig);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  RunResult Pdhcp(const std::string& args) {
    return RunPdhcp("-c " + path_ + " " + args);
  }
  std::string path_;
};

TEST_F(CheckExplainTest, CheckConfigPrintsEverySection) {
  const RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(
      r.output,
      AllOf(HasSubstr("[server]\n"), HasSubstr("listen          10.0.0.5"),
            HasSubstr("[boot] the defaults, per architecture"),
            HasSubstr("uefi-x64        file \"shimx64.efi\""),
            HasSubstr("bios            file \"pxelinux.0\""),
            HasSubstr("[menu.install] prompt \"Install?\", timeout 5"),
            HasSubstr("type 0x8001  \"Installer\" file \"installer.0\""),
            HasSubstr("type 0x0000  \"Boot from disk\" local disk"),
            HasSubstr("1. \"rack12-reinstall\" (" + path_ + ":15)"),
            HasSubstr("match:  mac 52:54:00:12:*; arch bios, uefi-x64"),
            HasSubstr("answer: file \"installer/shimx64.efi\"; "
                      "tftp_server 10.12.0.9"),
            HasSubstr("action: ignore"), HasSubstr("warnings: 0"),
            HasSubstr("configuration OK")));
}

TEST_F(CheckExplainTest, CheckConfigShowsFlagsOverTheFile) {
  const RunResult r = Pdhcp("--check-config -t 10.7.7.7 other.0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("tftp_server     10.7.7.7"),
                              HasSubstr("bios            file \"other.0\"")));
}

// IPv6: the TFTP server for PXEv6 clients and the HTTPv6 URL per
// architecture, as -t and --http-url give them.
TEST_F(CheckExplainTest, CheckConfigShowsIpv6TftpServerAndUrl) {
  const RunResult r = RunPdhcp(
      "--check-config -t 10.7.7.7 -t 2001:db8::5 --http-url "
      "'http://[2001:db8::5]/boot/x64.efi' pxelinux.0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("tftp_server     10.7.7.7"),
                    HasSubstr("tftp_server6    2001:db8::5"),
                    HasSubstr("uefi-x64        file \"pxelinux.0\", http over "
                              "IPv6 \"http://[2001:db8::5]/boot/x64.efi\"")))
      << r.output;
  // Without one: the answering address.
  EXPECT_THAT(RunPdhcp("--check-config pxelinux.0").output,
              HasSubstr("tftp_server6    the answering address"));
}

TEST_F(CheckExplainTest, CheckConfigShowsLoggingUserAndALoggedRule) {
  RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("  user            the user that starts"),
                    HasSubstr("  log_level       info\n"),
                    HasSubstr("  log_format      text (key=value)\n"),
                    Not(HasSubstr("log:    every decision"))));
  Write(std::string(kConfig) +
        "[[rule]]\nname = \"watched\"\nlog = true\nfile = \"w.0\"\n");
  r = Pdhcp("--check-config --log-level debug --log-format json --user nobody");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(
      r.output,
      AllOf(HasSubstr("  user            nobody\n"),
            HasSubstr("  log_level       debug (every boot client's"),
            HasSubstr("  log_format      json\n"),
            HasSubstr("\"watched\" (" + path_ + ":"),
            HasSubstr("       log:    every decision, one line each\n")));
}

TEST_F(CheckExplainTest, CheckConfigShowsTheMetricsAddress) {
  RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[metrics]\n  listen          off\n"));
  Write(std::string(kConfig) + "[metrics]\nlisten = \"127.0.0.1:9767\"\n");
  r = Pdhcp("--check-config");
  EXPECT_THAT(r.output,
              HasSubstr("listen          http://127.0.0.1:9767/metrics"));
  // The flag over the file.
  r = Pdhcp("--check-config --metrics [::1]:9100");
  EXPECT_THAT(r.output, HasSubstr("listen          http://[::1]:9100/metrics"));
}

TEST_F(CheckExplainTest, BadMetricsAddressesAreErrors) {
  Write(std::string(kConfig) + "[metrics]\nlisten = \"127.0.0.1\"\n");
  RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("[metrics] listen: metrics address "
                                  "\"127.0.0.1\" is not ADDR:PORT"));
  Write(kConfig);
  r = Pdhcp("--check-config --metrics 127.0.0.1:99999");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--metrics: metrics address "
                                  "\"127.0.0.1:99999\": the port must be 1 "
                                  "to 65535"));
}

TEST_F(CheckExplainTest, StatusWithoutAMetricsAddressSaysWhatToGive) {
  const RunResult r = Pdhcp("--status");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--status reads the daemon's metrics: give "
                                  "--metrics ADDR:PORT"));
}

TEST_F(CheckExplainTest, CheckConfigWarnings) {
  Write(std::string(kConfig) +
        "[[rule]]\nname = \"again\"\nmatch = { vlan = 30 }\n");
  const RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("warnings: 1"),
                              HasSubstr("warning: rule \"again\" can never "
                                        "match: rule \"menu-vlan\"")));
}

TEST_F(CheckExplainTest, CheckConfigErrorsExitOne) {
  Write("[server]\nlisten = \"10.0.0\"\n[boot]\nfile = 1\n");
  const RunResult r = Pdhcp("--check-config");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("pxe-pdhcp: " + path_ + ":2:10: [server] listen"),
                    HasSubstr("pxe-pdhcp: " + path_ + ":4:8: [boot] file"),
                    Not(HasSubstr("configuration OK"))));
}

TEST_F(CheckExplainTest, CheckConfigWithoutAFile) {
  const RunResult r = RunPdhcp("--check-config pxelinux.0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the command line (no -c file)"));
  EXPECT_EQ(RunPdhcp("--check-config").exit_code, 1);  // no boot file
}

TEST_F(CheckExplainTest, ExplainMacRule) {
  const RunResult r = Pdhcp("--explain mac=52:54:00:12:34:56 arch=bios");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("rule:    \"rack12-reinstall\" (" +
                                        path_ + ":15)"),
                              HasSubstr("reply:   OFFER 10.0.0.5:67"),
                              HasSubstr("file \"installer/shimx64.efi\""),
                              HasSubstr("sname \"10.12.0.9\"")));
}

// UEFI in BINL style: the offer has no file; the 4011 ACK has it.
TEST_F(CheckExplainTest, ExplainUefiFollowsToPort4011) {
  const RunResult r = Pdhcp("--explain mac=52:54:00:12:34:56 arch=uefi-x64");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("then the client asks for its file on port 4011"),
                    HasSubstr("reply:   ACK 10.0.0.5:4011"),
                    HasSubstr("file \"installer/shimx64.efi\"")));
}

TEST_F(CheckExplainTest, ExplainSubnetRule) {
  const RunResult r = Pdhcp(
      "--explain mac=52:54:00:aa:00:01 arch=bios "
      "subnet=10.20.3.4");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("rule:    \"lab-subnet\""),
                              HasSubstr("file \"lab/pxelinux.0\"")));
  // The same client on 4011 from its address.
  const RunResult ack = Pdhcp(
      "--explain mac=52:54:00:aa:00:01 arch=bios "
      "subnet=10.20.3.4 port=4011");
  EXPECT_EQ(ack.exit_code, 0) << ack.output;
  EXPECT_THAT(ack.output,
              AllOf(HasSubstr("rule:    \"lab-subnet\""), HasSubstr("ACK"),
                    HasSubstr("file \"lab/pxelinux.0\"")));
}

TEST_F(CheckExplainTest, ExplainIgnoreRuleExitsThree) {
  const RunResult r = Pdhcp("--explain mac=52:54:00:99:00:01 arch=bios");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("rule:    \"boot-from-disk\""),
                              HasSubstr("no reply: a rule says: ignore")));
}

TEST_F(CheckExplainTest, ExplainDefaults) {
  const RunResult r = Pdhcp("--explain mac=52:54:00:aa:00:02 arch=bios");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("rule:    no rule: the defaults"),
                              HasSubstr("file \"pxelinux.0\"")));
}

TEST_F(CheckExplainTest, ExplainVlanMenuAndUserClass) {
  const RunResult menu =
      Pdhcp("--explain mac=52:54:00:aa:00:03 arch=bios vlan=30");
  EXPECT_EQ(menu.exit_code, 0) << menu.output;
  EXPECT_THAT(menu.output,
              AllOf(HasSubstr("rule:    \"menu-vlan\""),
                    HasSubstr("option-43 ["), HasSubstr("vlan 30")));
  const RunResult ipxe =
      Pdhcp("--explain mac=52:54:00:aa:00:04 arch=bios user_class=iPXE");
  EXPECT_EQ(ipxe.exit_code, 0) << ipxe.output;
  EXPECT_THAT(ipxe.output, AllOf(HasSubstr("rule:    \"ipxe-users\""),
                                 HasSubstr("file \"ipxe-next.0\"")));
}

TEST_F(CheckExplainTest, ExplainErrorsExitOne) {
  EXPECT_EQ(Pdhcp("--explain mac=52:54:00 arch=bios").exit_code, 1);
  const RunResult r = Pdhcp("--explain mac=52:54:00:aa:00:04 colour=red");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("unknown field \"colour\""));
}

}  // namespace
