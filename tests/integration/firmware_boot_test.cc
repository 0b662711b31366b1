// Boots real PXE firmware under QEMU through a proxy DHCP server, on the
// LAN of firmware_lan.h, and checks what a user would see: the boot file
// fetched over TFTP and the boot loader's message on the console. The BIOS
// iPXE ROM and OVMF's UEFI PXE, with the policy file's menus, MAC rules and
// ignore rules, and the control without a proxy.
//
// Needs root, QEMU, OVMF, pxelinux/syslinux, dnsmasq, tftpd-hpa, tcpdump
// and tshark; skips, saying what is missing, otherwise. Each boot takes 15-25 s
// under TCG (no KVM).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/firmware_lan.h"
#include "tests/integration/sandbox.h"

namespace pxe::testing {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

class FirmwareBootTest : public FirmwareLan {};

TEST_F(FirmwareBootTest, BiosIpxeBootsPxelinux) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpProxy));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));

  // pxelinux.0 came over TFTP, ran, fetched its config and said our line.
  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("pxelinux banner");
  EXPECT_THAT(Console(), ::testing::HasSubstr("PXELINUX"));
  EXPECT_THAT(
      TftpReadRequestsOnceSeen("pxelinux.cfg/default"),
      IsSupersetOf({"pxelinux.0", "ldlinux.c32", "pxelinux.cfg/default"}));
  // The boot data came from pxe-pdhcp: a BIOS offer with the file in it.
  EXPECT_THAT(ProxyLog(),
              ::testing::ContainsRegex(
                  "type=discover arch=bios client=pxe ipxe=true [^\n]* "
                  "sent=offer from=10\\.77\\.0\\.1 to=255\\.255\\.255\\.255:68 "
                  "[^\n]*file=pxelinux\\.0 "));
  ExpectRepliesDecode();
}

TEST_F(FirmwareBootTest, OvmfUefiPxeBootsSyslinuxEfi) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kOvmfUefi));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpProxy));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kOvmfUefi));

  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("syslinux.efi banner");
  // syslinux.efi reports the address the LAN's DHCP server leased.
  EXPECT_THAT(Console(), ::testing::ContainsRegex(
                             "My IP is 10\\.77\\.0\\.(1[0-9][0-9]|200)"));
  EXPECT_THAT(
      TftpReadRequestsOnceSeen("pxelinux.cfg/default"),
      IsSupersetOf({"syslinux.efi", "ldlinux.e64", "pxelinux.cfg/default"}));
  // BINL style: an offer without a file, then OVMF asked on 4011 from port
  // 4011 and got the file there.
  const std::string proxy_log = ProxyLog();
  EXPECT_THAT(proxy_log,
              ::testing::ContainsRegex(
                  "type=discover[^\n]* arch=uefi-x64 [^\n]* sent=offer "
                  "from=10\\.77\\.0\\.1 [^\n]*boot_server=10\\.77\\.0\\.1 "
                  "class=PXEClient\n"));
  EXPECT_THAT(proxy_log,
              ::testing::ContainsRegex(
                  "type=request[^\n]* port=4011[^\n]* sent=ack "
                  "from=10\\.77\\.0\\.1 to=10\\.77\\.0\\.[0-9]+:4011 [^\n]*"
                  "file=syslinux\\.efi"));
  ExpectRepliesDecode();
}

// A PXE boot menu from the policy file: iPXE shows the prompt, times out,
// asks pxe-pdhcp on 4011 for the first item (43.71) and boots its file.
TEST_F(FirmwareBootTest, BiosIpxeShowsPxeMenuAndBootsTheDefaultItem) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_OK_STATUS(CopyFile(kPxelinux, tftp_root_ + "/menu-item.0"));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "pxelinux.0"
menu = "sandbox"

[menu.sandbox]
prompt = "PXE-SANDBOX-MENU"
timeout = 2

[[menu.sandbox.item]]
label = "Sandbox pxelinux"
file = "menu-item.0"

[[menu.sandbox.item]]
label = "Boot from local disk"
local = true
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));

  ASSERT_OK_STATUS(WaitForConsole("PXE-SANDBOX-MENU"));
  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("menu item's pxelinux banner");
  const std::vector<std::string> files =
      TftpReadRequestsOnceSeen("pxelinux.cfg/default");
  EXPECT_THAT(files, Contains("menu-item.0"));
  EXPECT_THAT(files, Not(Contains("pxelinux.0")));
  // The offer carried the menu and no file; the item came on 4011.
  const std::string log = ProxyLog();
  EXPECT_THAT(log,
              ::testing::ContainsRegex(
                  "type=discover[^\n]* sent=offer from=10\\.77\\.0\\.1 "
                  "[^\n]* menu=\"Sandbox pxelinux,Boot from local disk\""));
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "type=request[^\n]* port=4011[^\n]* sent=ack "
                       "[^\n]*file=menu-item\\.0"));
  ExpectRepliesDecode();
}

// Rules by MAC address: two machines on the same LAN get different files.
TEST_F(FirmwareBootTest, BiosIpxeGetsItsOwnBootFileByMacRule) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_OK_STATUS(CopyFile(kPxelinux, tftp_root_ + "/mac-a.0"));
  ASSERT_OK_STATUS(CopyFile(kPxelinux, tftp_root_ + "/mac-b.0"));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "pxelinux.0"

[[rule]]
name = "machine-a"
match = { mac = ["52:54:00:77:00:21"] }
file = "mac-a.0"

[[rule]]
name = "machine-b"
match = { mac = ["52:54:00:77:00:22"] }
file = "mac-b.0"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe, "52:54:00:77:00:21"));
  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("machine a");
  EXPECT_THAT(TftpReadRequestsOnceSeen("pxelinux.cfg/default"),
              ::testing::AllOf(Contains("mac-a.0"), Not(Contains("mac-b.0")),
                               Not(Contains("pxelinux.0"))));
  StopClient();

  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe, "52:54:00:77:00:22"));
  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("machine b");
  WaitForFileContains(sandbox_->Path("capture.log"), "RRQ \"mac-b.0\"",
                      absl::Seconds(5))
      .IgnoreError();
  EXPECT_THAT(
      TftpReadRequests(),
      ::testing::AllOf(Contains("mac-b.0"), Not(Contains("pxelinux.0"))));
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "mac=52:54:00:77:00:21[^\n]* rule=machine-a "
                       "sent=offer[^\n]*file=mac-a\\.0"));
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "mac=52:54:00:77:00:22[^\n]* rule=machine-b "
                       "sent=offer [^\n]*file=mac-b\\.0"));
}

// action = "ignore": the machine gets nothing from pxe-pdhcp, so it finds
// nothing to boot, as with no proxy at all.
TEST_F(FirmwareBootTest, BiosIpxeUnderAnIgnoreRuleGetsNothing) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "pxelinux.0"

[[rule]]
name = "boot-from-disk"
match = { mac = ["52:54:00:77:00:10"] }
action = "ignore"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));
  ASSERT_OK_STATUS(WaitForConsole("No bootable device"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(), Not(::testing::HasSubstr(banner_)));
  EXPECT_THAT(TftpReadRequests(), Not(Contains("pxelinux.0")));
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "type=discover[^\n]* rule=boot-from-disk "
                       "drop=IgnoredByRule why=\"a rule says: ignore this "
                       "client\""));
  EXPECT_THAT(log, Not(::testing::HasSubstr(" sent=offer")));
}

// The control: the same LAN without a proxy must not boot, or the tests
// above would prove nothing about the proxy.
TEST_F(FirmwareBootTest, BiosIpxeWithoutProxyHasNothingToBoot) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));

  // iPXE gets an address from the LAN's DHCP server, finds no boot file and
  // gives up; the BIOS then has no other device to boot.
  ASSERT_OK_STATUS(WaitForConsole("net0: 10.77.0."));
  ASSERT_OK_STATUS(WaitForConsole("No bootable device"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(), ::testing::HasSubstr("Nothing to boot"));
  EXPECT_THAT(Console(), Not(::testing::HasSubstr(banner_)));
  EXPECT_THAT(TftpReadRequests(), Not(Contains("pxelinux.0")));
}

}  // namespace
}  // namespace pxe::testing
