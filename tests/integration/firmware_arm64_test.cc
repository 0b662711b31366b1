// ARM64 UEFI through pxe-pdhcp, on the LAN of firmware_lan.h: AAVMF (EDK2
// for QEMU's arm64 "virt" machine, emulated under TCG) does UEFI PXE on a
// virtio NIC, asks as architecture 11, gets the uefi-arm64 boot file, Debian's
// network GRUB for arm64, fetches it over TFTP and runs it; GRUB reads its
// grub.cfg over TFTP and prints a line from it. The controls: without the
// proxy the same machine finds nothing to boot, and given another
// architecture's file it cannot run it.
//
// grub-efi-arm64-bin is an arm64 package: tools/fetch-boot-files.sh
// downloads it through a private arm64 APT configuration and unpacks it
// under /var/cache/pxe-pdhcp-tests (PXE_BOOT_FILES overrides that
// directory); it is never installed.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/firmware_lan.h"
#include "tests/integration/sandbox.h"

namespace pxe::testing {
namespace {

using ::testing::Contains;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr char kAavmfCode[] = "/usr/share/AAVMF/AAVMF_CODE.fd";
constexpr char kAavmfVars[] = "/usr/share/AAVMF/AAVMF_VARS.fd";
constexpr char kArm64Mac[] = "52:54:00:77:00:13";

std::string BootFilesDir() {
  const char* dir = std::getenv("PXE_BOOT_FILES");
  return dir != nullptr && *dir != '\0' ? dir : "/var/cache/pxe-pdhcp-tests";
}

// As grub-efi-arm64-bin installs it, unpacked by tools/fetch-boot-files.sh.
std::string GrubNetArm64() {
  return BootFilesDir() +
         "/arm64/usr/lib/grub/arm64-efi/monolithic/grubnetaa64.efi";
}

class FirmwareBootTest : public FirmwareLan {
 protected:
  FirmwareBootTest() {
    Require({"qemu-system-aarch64"}, {kAavmfCode, kAavmfVars, GrubNetArm64()},
            "qemu-system-arm qemu-efi-aarch64, and run "
            "tools/fetch-boot-files.sh, which unpacks grub-efi-arm64-bin "
            "without installing it");
  }

  // GRUB as the uefi-arm64 boot file, and its configuration where its prefix
  // (/grub on the TFTP server) points: /grub/grub.cfg.
  void ServeGrub() {
    ASSERT_OK_STATUS(CopyFile(GrubNetArm64(), tftp_root_ + "/grubnetaa64.efi"));
    ASSERT_TRUE(std::filesystem::create_directories(tftp_root_ + "/grub"));
    // GRUB writes through the firmware's console, which is the serial port.
    ASSERT_OK_STATUS(
        WriteFile(tftp_root_ + "/grub/grub.cfg",
                  absl::StrCat("echo ", banner_, "\n", "sleep 3600\n")));
  }

  // Powers on the arm64 machine: AAVMF as pflash (its code read-only, a copy
  // of its variables), a virtio NIC without option ROM as the first boot
  // device, the serial console to console.log.
  void StartArm64Client() {
    const std::string vars = sandbox_->Path("AAVMF_VARS.fd");
    ASSERT_OK_STATUS(CopyFile(kAavmfVars, vars));
    StartClientCommand(
        {"qemu-system-aarch64",
         "-machine",
         "virt,accel=tcg",
         "-cpu",
         "cortex-a57",
         "-m",
         "512",
         "-nographic",
         "-monitor",
         "none",
         "-serial",
         absl::StrCat("file:", sandbox_->Path("console.log")),
         "-drive",
         absl::StrCat("if=pflash,format=raw,readonly=on,file=", kAavmfCode),
         "-drive",
         absl::StrCat("if=pflash,format=raw,file=", vars),
         "-netdev",
         absl::StrCat("tap,id=n0,ifname=", kTap, ",script=no,downscript=no"),
         "-device",
         absl::StrCat("virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=",
                      kArm64Mac)});
  }
};

TEST_F(FirmwareBootTest, Arm64UefiPxeBootsGrubNetAa64) {
  ASSERT_NO_FATAL_FAILURE(ServeGrub());
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(
      PxePdhcpWithFlags({"--boot-file", "uefi-arm64=grubnetaa64.efi"})));
  ASSERT_NO_FATAL_FAILURE(StartArm64Client());

  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("GRUB's banner on arm64");
  // GRUB's prefix is /grub on the server that gave the machine its address
  // (dnsmasq's next-server, itself): see the README on GRUB's TFTP server.
  EXPECT_THAT(TftpReadRequestsOnceSeen("/grub/grub.cfg"),
              IsSupersetOf({"grubnetaa64.efi", "/grub/grub.cfg"}));
  // The firmware asked as arm64 UEFI and got the arm64 file on 4011.
  const std::string proxy_log = ProxyLog();
  EXPECT_THAT(proxy_log,
              ContainsRegex("type=discover[^\n]* arch=uefi-arm64 [^\n]* "
                            "sent=offer from=10\\.77\\.0\\.1 "));
  EXPECT_THAT(proxy_log,
              ContainsRegex("type=request[^\n]* arch=uefi-arm64 [^\n]*"
                            "port=4011[^\n]* sent=ack [^\n]*"
                            "file=grubnetaa64\\.efi"));
  ExpectRepliesDecode();
}

// The control: the same machine and LAN without the proxy get an address
// offer from the DHCP server but no boot file, and boot nothing.
TEST_F(FirmwareBootTest, Arm64UefiPxeWithoutProxyHasNothingToBoot) {
  ASSERT_NO_FATAL_FAILURE(ServeGrub());
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartArm64Client());

  // UEFI PXE over IPv4 gives up (after four DISCOVERs, about a minute)
  // without a boot server's offer; the firmware moves on to IPv6.
  ASSERT_OK_STATUS(WaitForConsole(">>Start PXE over IPv6"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(),
              ContainsRegex(">>Start PXE over IPv4\\.[^>]*PXE-E16: No valid "
                            "offer received\\.[^>]*failed to load Boot0001 "
                            "\"UEFI PXEv4"));
  EXPECT_THAT(ReadFileOrEmpty(sandbox_->Path("dhcp.log")),
              HasSubstr("DHCPOFFER"));
  EXPECT_THAT(TftpReadRequests(), Not(Contains("grubnetaa64.efi")));
  EXPECT_THAT(Console(), Not(HasSubstr(banner_)));
}

// The wrong answer: a proxy without an arm64 boot file gives the arm64
// machine its default, the BIOS file, which the firmware fetches and cannot
// run.
TEST_F(FirmwareBootTest, Arm64UefiPxeCannotRunAnotherArchitecturesFile) {
  ASSERT_NO_FATAL_FAILURE(ServeGrub());
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kBiosIpxe));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpProxy));
  ASSERT_NO_FATAL_FAILURE(StartArm64Client());

  ASSERT_OK_STATUS(WaitForConsole("failed to load Boot0001 \"UEFI PXEv4"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(), HasSubstr("NBP filename is pxelinux.0"));
  EXPECT_THAT(Console(), Not(HasSubstr(banner_)));
  const std::vector<std::string> files = TftpReadRequests();
  EXPECT_THAT(files, Contains("pxelinux.0"));
  EXPECT_THAT(files, Not(Contains("grubnetaa64.efi")));
  EXPECT_THAT(files, Not(Contains("ldlinux.c32")));
  EXPECT_THAT(ProxyLog(),
              ContainsRegex("type=request[^\n]* arch=uefi-arm64 [^\n]*"
                            "port=4011[^\n]* sent=ack [^\n]*"
                            "file=pxelinux\\.0"));
}

}  // namespace
}  // namespace pxe::testing
