// UEFI Secure Boot through pxe-pdhcp, on the LAN of firmware_lan.h: OVMF
// with Secure Boot enforced and Microsoft's keys enrolled loads Debian's
// Microsoft-signed shim as the boot file; shim loads Debian's signed network
// GRUB from the same TFTP folder; GRUB reads its grub.cfg over TFTP and
// prints a line from it and what it knows of Secure Boot. The controls: an
// unsigned boot file, served the same way, is refused by the firmware, and
// an unsigned program served as GRUB is refused by shim.
//
// shim-signed and grub-efi-amd64-signed must not be installed on a test
// machine (their scripts would rewrite its boot loader):
// tools/fetch-boot-files.sh unpacks them under /var/cache/pxe-pdhcp-tests
// (PXE_BOOT_FILES overrides that directory).
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

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

// OVMF built with Secure Boot and SMM, and variables with Microsoft's keys
// enrolled and Secure Boot on (Debian's ovmf).
constexpr char kOvmfSecureBootCode[] = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd";
constexpr char kOvmfSecureBootVars[] = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";

std::string BootFilesDir() {
  const char* dir = std::getenv("PXE_BOOT_FILES");
  return dir != nullptr && *dir != '\0' ? dir : "/var/cache/pxe-pdhcp-tests";
}

// The files Debian's signed packages install, as tools/fetch-boot-files.sh
// unpacked them.
std::string SignedShim() {
  return BootFilesDir() + "/secure-boot/usr/lib/shim/shimx64.efi.signed";
}
std::string SignedGrubNet() {
  return BootFilesDir() +
         "/secure-boot/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed";
}

// The machine's QEMU arguments beyond FirmwareLan's: the Secure Boot build of
// OVMF needs SMM on a q35 machine, with its variable store writable only
// from SMM.
ClientOptions SecureBootClient() {
  return ClientOptions{
      .ovmf_code = kOvmfSecureBootCode,
      .ovmf_vars = kOvmfSecureBootVars,
      .extra_args = {"-machine", "q35,smm=on", "-global",
                     "driver=cfi.pflash01,property=secure,value=on"},
  };
}

class FirmwareBootTest : public FirmwareLan {
 protected:
  FirmwareBootTest() {
    Require({},
            {kOvmfSecureBootCode, kOvmfSecureBootVars, SignedShim(),
             SignedGrubNet()},
            "and run tools/fetch-boot-files.sh, which unpacks shim-signed and "
            "grub-efi-amd64-signed without installing them");
  }

  // shim as the boot file, signed GRUB beside it under the name shim loads,
  // and GRUB's configuration where its prefix (/grub) points.
  void ServeShimAndGrub() {
    ASSERT_OK_STATUS(CopyFile(SignedShim(), tftp_root_ + "/shimx64.efi"));
    ASSERT_OK_STATUS(CopyFile(SignedGrubNet(), tftp_root_ + "/grubx64.efi"));
    ASSERT_TRUE(std::filesystem::create_directories(tftp_root_ + "/grub"));
    // GRUB writes through the firmware's console, which is the serial port.
    // Under Secure Boot GRUB sets lockdown=y, and shim_lock=y once shim's
    // protocol is there to verify what it loads; without, both stay empty.
    ASSERT_OK_STATUS(
        WriteFile(tftp_root_ + "/grub/grub.cfg",
                  absl::StrCat("echo ", banner_, "\n",
                               "echo \"secure-boot lockdown=[$lockdown] "
                               "shim_lock=[$shim_lock] end\"\n",
                               "sleep 3600\n")));
  }
};

TEST_F(FirmwareBootTest, OvmfSecureBootRunsSignedShimAndGrub) {
  ASSERT_NO_FATAL_FAILURE(ServeShimAndGrub());
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(
      PxePdhcpWithFlags({"--boot-file", "uefi-x64=shimx64.efi"})));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kOvmfUefi, SecureBootClient()));

  ASSERT_OK_STATUS(WaitForConsole(banner_));
  // The line's end: the console is written a character at a time.
  ASSERT_OK_STATUS(WaitForConsole("] end"));
  ReportBootTime("GRUB's banner under Secure Boot");
  const std::string console = Console();
  EXPECT_THAT(console, HasSubstr("lockdown=[y]"));
  EXPECT_THAT(console, HasSubstr("shim_lock=[y]"));
  // shim says what it fetches next; GRUB's prefix is /grub on the server
  // that gave the machine its address (dnsmasq's next-server, itself).
  EXPECT_THAT(console, HasSubstr("Fetching Netboot Image grubx64.efi"));
  EXPECT_THAT(TftpReadRequestsOnceSeen("/grub/grub.cfg"),
              IsSupersetOf({"shimx64.efi", "grubx64.efi", "/grub/grub.cfg"}));
  const std::string proxy_log = ProxyLog();
  EXPECT_THAT(proxy_log, ContainsRegex("type=request[^\n]* arch=uefi-x64 [^\n]*"
                                       "port=4011[^\n]* sent=ack [^\n]*"
                                       "file=shimx64\\.efi"));
  ExpectRepliesDecode();
}

// The control: the firmware really enforces Secure Boot. An unsigned boot
// file (syslinux.efi, which OVMF without Secure Boot runs:
// OvmfUefiPxeBootsSyslinuxEfi) is fetched the same way and refused.
TEST_F(FirmwareBootTest, OvmfSecureBootRefusesAnUnsignedBootFile) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices(Client::kOvmfUefi));
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpProxy));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kOvmfUefi, SecureBootClient()));

  ASSERT_OK_STATUS(WaitForConsole("Access Denied"));
  ReportBootTime("refused");
  EXPECT_THAT(Console(), ContainsRegex("failed to load Boot[0-9A-F]+ "
                                       "\"UEFI PXEv4 [^\n]*: Access Denied"));
  EXPECT_THAT(TftpReadRequests(), ::testing::Contains("syslinux.efi"));
  EXPECT_THAT(TftpReadRequests(),
              Not(::testing::Contains("pxelinux.cfg/default")));
  EXPECT_THAT(Console(), Not(HasSubstr(banner_)));
  EXPECT_THAT(Console(), Not(HasSubstr("My IP is")));
  EXPECT_THAT(ProxyLog(), ContainsRegex("type=request[^\n]* port=4011[^\n]* "
                                        "sent=ack [^\n]*file=syslinux\\.efi"));
}

// The control one step further: shim checks what it loads. An unsigned
// program served as grubx64.efi (syslinux.efi again) is refused by shim.
TEST_F(FirmwareBootTest, OvmfSecureBootShimRefusesAnUnsignedGrub) {
  ASSERT_NO_FATAL_FAILURE(ServeShimAndGrub());
  ASSERT_OK_STATUS(CopyFile(kSyslinuxEfi, tftp_root_ + "/grubx64.efi"));
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(
      PxePdhcpWithFlags({"--boot-file", "uefi-x64=shimx64.efi"})));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kOvmfUefi, SecureBootClient()));

  // shim fetched it, and says why it will not run it.
  ASSERT_OK_STATUS(
      WaitForConsole("Verification failed: (0x1A) Security Violation"));
  ReportBootTime("refused by shim");
  EXPECT_THAT(Console(), HasSubstr("Fetching Netboot Image grubx64.efi"));
  EXPECT_THAT(Console(), Not(HasSubstr("My IP is")));
  const std::vector<std::string> files = TftpReadRequests();
  EXPECT_THAT(files, IsSupersetOf({"shimx64.efi", "grubx64.efi"}));
  EXPECT_THAT(files, Not(::testing::Contains("ldlinux.e64")));
}

}  // namespace
}  // namespace pxe::testing
