// Boots real firmware over HTTP through pxe-pdhcp, on the LAN of
// firmware_lan.h with a real HTTP server (busybox httpd) beside the TFTP
// server:
//   - UEFI HTTP boot: OVMF's HTTP boot client (option 60 HTTPClient) gets
//     the URL of Debian's ipxe.efi in pxe-pdhcp's proxy offer (the LAN's
//     DHCP server gives only the address), fetches it over HTTP and runs it;
//     with the URL's host an address, and a name the LAN's DNS resolves;
//   - the iPXE chain: OVMF's UEFI PXE loads ipxe.efi over TFTP (QEMU's BIOS
//     iPXE ROM is iPXE already); iPXE runs DHCP again, as iPXE, and gets the
//     URL of its script (ipxe_script) instead of ipxe.efi, fetches it over
//     HTTP and runs it;
// and the controls: without an HTTP URL nothing boots over HTTP; without a
// DNS server from the LAN's DHCP server a URL by name fetches nothing;
// without ipxe_script iPXE is sent its own boot file again (the chainload
// loop), and pxe-pdhcp logs and counts that loop.
//
// Needs what firmware_boot_test needs, plus busybox-static (httpd) and
// Debian's ipxe as tools/fetch-boot-files.sh unpacks it. Each boot takes
// 15-40 s under TCG (no KVM).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/firmware_lan.h"
#include "tests/integration/sandbox.h"

namespace pxe::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ContainsRegex;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

// Debian's ipxe package, unpacked by tools/fetch-boot-files.sh (its
// configuration script would add iPXE to the host's boot menu) under
// PXE_BOOT_FILES, by default /var/cache/pxe-pdhcp-tests.
std::string BootFilesDir() {
  const char* dir = std::getenv("PXE_BOOT_FILES");
  return dir != nullptr && *dir != '\0' ? dir : "/var/cache/pxe-pdhcp-tests";
}
// iPXE for UEFI x64, and for a BIOS PXE stack.
const std::string kIpxeEfi = BootFilesDir() + "/ipxe/boot/ipxe.efi";
const std::string kUndionly =
    BootFilesDir() + "/ipxe/usr/lib/ipxe/undionly.kpxe";
// What every iPXE prints when it starts.
constexpr char kIpxeBanner[] = "iPXE initialising devices";
// A name for the HTTP server that only the LAN's DNS (dnsmasq) knows.
constexpr char kHttpHostName[] = "boot.pxe-sandbox.test";

// OVMF tries UEFI PXEv4, PXEv6, HTTPv4 and HTTPv6 in turn, about a minute
// each when nothing answers: these fw_cfg switches leave HTTPv4 only.
const std::vector<std::string> kOvmfHttpv4Only = {
    "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=no", "-fw_cfg",
    "name=opt/org.tianocore/IPv6Support,string=no"};
// And UEFI PXEv4 first, without the IPv6 attempts after it.
const std::vector<std::string> kOvmfIpv4Only = {
    "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no"};

class FirmwareBootTest : public FirmwareLan {
 protected:
  FirmwareBootTest() {
    Require({"busybox"}, {kIpxeEfi, kUndionly},
            "busybox-static; and ipxe, unpacked by tools/fetch-boot-files.sh "
            "(tools/install-deps.sh --all runs it)");
  }

  // Starts a DNS server in srv, on the LAN's address, that knows
  // kHttpHostName (a second dnsmasq: the LAN's own runs with DNS off),
  // logging every query to dns.log.
  void StartDnsServer() {
    AddLogToReport("dnsmasq (the LAN's DNS)", "dns.log");
    absl::StatusOr<pid_t> dns = sandbox_->Spawn(
        srv_,
        {"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-hosts",
         "--no-resolv", "--bind-interfaces",
         absl::StrCat("--listen-address=", kServerAddress),
         absl::StrCat("--address=/", kHttpHostName, "/", kServerAddress),
         absl::StrCat("--pid-file=", sandbox_->Path("dns.pid")),
         "--log-facility=-", "--log-queries"},
        sandbox_->Path("dns.log"));
    ASSERT_TRUE(dns.ok()) << dns.status();
    ASSERT_OK_STATUS(
        sandbox_->WaitForUdpListener(srv_, 53, kDaemonStartTimeout));
  }

  // Starts busybox httpd in srv on port 80, serving www_root_, logging
  // every request ("url:/ipxe.efi", then "response:200") to httpd.log.
  void StartHttpServer() {
    const std::string log = sandbox_->Path("httpd.log");
    AddLogToReport("busybox httpd", "httpd.log");
    absl::StatusOr<pid_t> httpd =
        sandbox_->Spawn(srv_,
                        {"busybox", "httpd", "-f", "-vv", "-p",
                         absl::StrCat(kServerAddress, ":80"), "-h", www_root_},
                        log);
    ASSERT_TRUE(httpd.ok()) << httpd.status();
    const absl::Time deadline = absl::Now() + kDaemonStartTimeout;
    while (true) {
      absl::StatusOr<CommandResult> ss =
          sandbox_->RunIn(srv_, {"ss", "-H", "-n", "-l", "-t", "sport = :80"});
      ASSERT_TRUE(ss.ok()) << ss.status();
      if (ss->exit_code == 0 && !ss->out.empty()) break;
      ASSERT_OK_STATUS(sandbox_->CheckRunning(*httpd, "busybox httpd"));
      ASSERT_LT(absl::Now(), deadline) << "httpd does not listen on :80";
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  void SetUp() override {
    FirmwareLan::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    www_root_ = sandbox_->Path("www");
    ASSERT_TRUE(std::filesystem::create_directories(www_root_));
    ASSERT_OK_STATUS(CopyFile(kIpxeEfi, www_root_ + "/ipxe.efi"));
    // The script iPXE is handed: says this run's line with the file name
    // iPXE's own DHCP got (the script's URL), then leaves iPXE.
    ASSERT_OK_STATUS(
        WriteFile(www_root_ + "/boot.ipxe",
                  absl::StrCat("#!ipxe\necho ", banner_,
                               " script ${filename}\n", "exit\n")));
  }

  // The paths the HTTP server was asked for, in order (EDK2 asks twice:
  // HEAD, then GET; busybox logs no method).
  std::vector<std::string> HttpRequests() const {
    const std::string log = ReadFileOrEmpty(sandbox_->Path("httpd.log"));
    std::vector<std::string> urls;
    constexpr std::string_view kMarker = " url:";
    for (size_t at = log.find(kMarker); at != std::string::npos;
         at = log.find(kMarker, at)) {
      at += kMarker.size();
      const size_t end = log.find('\n', at);
      if (end == std::string::npos) break;
      urls.push_back(log.substr(at, end - at));
    }
    return urls;
  }

  // Waits until the HTTP server logged a request for `path`.
  void WaitForHttpRequest(std::string_view path) {
    ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("httpd.log"),
                                         "url:" + std::string(path) + "\n",
                                         absl::Seconds(10)));
  }

  std::string HttpLog() const {
    return ReadFileOrEmpty(sandbox_->Path("httpd.log"));
  }

  std::string www_root_;
};

// ---------------------------------------------------------------------------
// UEFI HTTP boot (IPv4).

TEST_F(FirmwareBootTest, OvmfHttpBootRunsIpxeEfiFromUrl) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "pxelinux.0"
http_url = "http://10.77.0.1/ipxe.efi"
ipxe_script = "http://10.77.0.1/boot.ipxe"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfHttpv4Only}));

  // OVMF fetched ipxe.efi over HTTP and ran it: iPXE's banner.
  ASSERT_OK_STATUS(WaitForConsole(kIpxeBanner));
  ReportBootTime("ipxe.efi over HTTP runs");
  EXPECT_THAT(Console(), HasSubstr("Start HTTP Boot over IPv4"));
  EXPECT_THAT(Console(), HasSubstr("URI: http://10.77.0.1/ipxe.efi"));
  // And iPXE, asking in turn, ran its script.
  // The whole line: the console is written a character at a time, and the
  // banner alone can be there before the rest of its line.
  ASSERT_OK_STATUS(WaitForConsole(
      absl::StrCat(banner_, " script http://10.77.0.1/boot.ipxe")));
  ReportBootTime("iPXE script's line");
  EXPECT_THAT(HttpRequests(), IsSupersetOf({"/ipxe.efi", "/boot.ipxe"}));
  EXPECT_THAT(HttpLog(), Not(HasSubstr("response:404")));
  // Nothing came over TFTP.
  EXPECT_THAT(TftpReadRequests(), ::testing::IsEmpty());

  const std::string log = ProxyLog();
  // The HTTP boot client's offer: HTTPClient and the URL, no address.
  EXPECT_THAT(log, ContainsRegex("type=discover arch=uefi-x64 client=http "
                                 "[^\n]* sent=offer from=10\\.77\\.0\\.1 "
                                 "to=255\\.255\\.255\\.255:68 [^\n]*"
                                 "url=http://10\\.77\\.0\\.1/ipxe\\.efi "
                                 "class=HTTPClient\n"));
  // iPXE's own DHCP: the script, not ipxe.efi again.
  EXPECT_THAT(log, ContainsRegex("arch=uefi-x64 client=pxe ipxe=true [^\n]* "
                                 "sent=offer [^\n]*"
                                 "file=http://10\\.77\\.0\\.1/boot\\.ipxe "));
  ExpectRepliesDecode();
}

// The URL's host is a name. The proxy offer carries only the URL, so the
// firmware needs a DNS server from the LAN's DHCP server (EDK2 takes a
// proxy offer with a name in its URL only beside a DHCP offer with option
// 6): the LAN's dnsmasq hands out a DNS server, a second dnsmasq in srv
// that knows the name.
TEST_F(FirmwareBootTest, OvmfHttpBootRunsIpxeEfiFromHostNameUrl) {
  dhcp_server_args_ = {
      absl::StrCat("--dhcp-option=option:dns-server,", kServerAddress)};
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartDnsServer());
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(absl::StrCat(
      "[boot]\nfile = \"pxelinux.0\"\nhttp_url = \"http://", kHttpHostName,
      "/ipxe.efi\"\nipxe_script = \"http://10.77.0.1/boot.ipxe\"\n"))));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfHttpv4Only}));

  ASSERT_OK_STATUS(WaitForConsole(kIpxeBanner));
  ReportBootTime("ipxe.efi over HTTP, by name, runs");
  EXPECT_THAT(Console(), HasSubstr(absl::StrCat("URI: http://", kHttpHostName,
                                                "/ipxe.efi")));
  ASSERT_OK_STATUS(WaitForConsole(banner_));
  ReportBootTime("iPXE script's line");
  EXPECT_THAT(HttpRequests(), IsSupersetOf({"/ipxe.efi", "/boot.ipxe"}));
  // The firmware asked the LAN's DNS for the name.
  EXPECT_THAT(ReadFileOrEmpty(sandbox_->Path("dns.log")),
              HasSubstr(absl::StrCat("query[A] ", kHttpHostName, " from ")));
  EXPECT_THAT(ProxyLog(),
              ContainsRegex(absl::StrCat(
                  "type=discover arch=uefi-x64 client=http [^\n]* "
                  "sent=offer [^\n]*url=http://",
                  kHttpHostName, "/ipxe\\.efi class=HTTPClient\n")));
  ExpectRepliesDecode();
}

// The name's control: the LAN's DHCP server gives no DNS server (the DNS
// server that knows the name runs all the same). EDK2 then takes neither
// offer: it sends its DISCOVER again until it gives up, and fetches
// nothing. pxe-pdhcp sends no DNS server: that is the LAN's to give.
TEST_F(FirmwareBootTest, OvmfHttpBootHostNameUrlWithoutLanDnsFetchesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartDnsServer());
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(
      absl::StrCat("[boot]\nfile = \"pxelinux.0\"\nhttp_url = \"http://",
                   kHttpHostName, "/ipxe.efi\"\n"))));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfHttpv4Only}));

  ASSERT_OK_STATUS(WaitForConsole("Start HTTP Boot over IPv4"));
  ASSERT_OK_STATUS(WaitForConsole(
      "failed to load Boot0001 \"UEFI HTTPv4 (MAC:525400770011)"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(), Not(HasSubstr(kIpxeBanner)));
  EXPECT_THAT(HttpRequests(), ::testing::IsEmpty());
  EXPECT_THAT(ReadFileOrEmpty(sandbox_->Path("dns.log")),
              Not(HasSubstr("query[A]")));
  // pxe-pdhcp did offer the URL: the firmware would not take it.
  EXPECT_THAT(ProxyLog(), ContainsRegex(absl::StrCat(
                              "client=http [^\n]* sent=offer [^\n]*url=http://",
                              kHttpHostName, "/ipxe\\.efi ")));
}

// The control: the same client and LAN, with no HTTP URL configured.
// pxe-pdhcp does not answer the HTTP boot client (NoBootFile), the LAN's
// DHCP server gives it an address only, and nothing is fetched.
TEST_F(FirmwareBootTest, OvmfHttpBootWithoutUrlFetchesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "pxelinux.0"
ipxe_script = "http://10.77.0.1/boot.ipxe"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfHttpv4Only}));

  ASSERT_OK_STATUS(WaitForConsole("Start HTTP Boot over IPv4"));
  ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("proxy.log"),
                                       "drop=NoBootFile", absl::Seconds(60)));
  // After its DHCP retries (about a minute): no URL, so nothing to load.
  ASSERT_OK_STATUS(WaitForConsole(
      "failed to load Boot0001 \"UEFI HTTPv4 (MAC:525400770011)"));
  ReportBootTime("gave up");
  EXPECT_THAT(Console(), HasSubstr("Could not retrieve NBP file size"));
  EXPECT_THAT(Console(), Not(HasSubstr(kIpxeBanner)));
  EXPECT_THAT(HttpRequests(), ::testing::IsEmpty());
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ContainsRegex("type=discover arch=uefi-x64 client=http "
                                 "[^\n]* drop=NoBootFile "));
  EXPECT_THAT(log, Not(HasSubstr(" sent=offer")));
}

// ---------------------------------------------------------------------------
// The iPXE chain over HTTP.

TEST_F(FirmwareBootTest, OvmfUefiPxeIpxeChainRunsScriptOverHttp) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_OK_STATUS(CopyFile(kIpxeEfi, tftp_root_ + "/ipxe.efi"));
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "undionly.kpxe"
files = { uefi-x64 = "ipxe.efi" }
ipxe_script = "http://10.77.0.1/boot.ipxe"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfIpv4Only}));

  ASSERT_OK_STATUS(WaitForConsole(kIpxeBanner));
  ReportBootTime("ipxe.efi over TFTP runs");
  // The whole line: the console is written a character at a time, and the
  // banner alone can be there before the rest of its line.
  ASSERT_OK_STATUS(WaitForConsole(
      absl::StrCat(banner_, " script http://10.77.0.1/boot.ipxe")));
  ReportBootTime("iPXE script's line");
  WaitForHttpRequest("/boot.ipxe");
  EXPECT_THAT(HttpRequests(), Contains("/boot.ipxe"));
  // ipxe.efi came once, over TFTP; iPXE did not get it again.
  // OVMF reads it twice (its size, then the file).
  const std::vector<std::string> files = TftpReadRequestsOnceSeen("ipxe.efi");
  EXPECT_THAT(files, ::testing::Each(::testing::Eq("ipxe.efi")));
  EXPECT_EQ(std::count(files.begin(), files.end(), "ipxe.efi"), 2);

  const std::string log = ProxyLog();
  // OVMF's UEFI PXE: the file on port 4011.
  EXPECT_THAT(log, ContainsRegex("arch=uefi-x64 client=pxe port=4011 [^\n]*"
                                 "sent=ack [^\n]*file=ipxe\\.efi "));
  // iPXE: the script's URL in the offer.
  EXPECT_THAT(log, ContainsRegex("type=discover arch=uefi-x64 client=pxe "
                                 "ipxe=true [^\n]* sent=offer [^\n]*"
                                 "file=http://10\\.77\\.0\\.1/boot\\.ipxe "));
  EXPECT_THAT(log, Not(HasSubstr("ipxe_loop")));
  ExpectRepliesDecode();
}

TEST_F(FirmwareBootTest, BiosIpxeChainRunsScriptOverHttp) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_OK_STATUS(CopyFile(kUndionly, tftp_root_ + "/undionly.kpxe"));
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "undionly.kpxe"
files = { uefi-x64 = "ipxe.efi" }
ipxe_script = "http://10.77.0.1/boot.ipxe"
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));

  // The whole line: the console is written a character at a time, and the
  // banner alone can be there before the rest of its line.
  ASSERT_OK_STATUS(WaitForConsole(
      absl::StrCat(banner_, " script http://10.77.0.1/boot.ipxe")));
  ReportBootTime("iPXE script's line");
  WaitForHttpRequest("/boot.ipxe");
  EXPECT_THAT(HttpRequests(), Contains("/boot.ipxe"));
  // The ROM is iPXE: it never needed undionly.kpxe.
  EXPECT_THAT(TftpReadRequests(), ::testing::IsEmpty());
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ContainsRegex("type=discover arch=bios client=pxe "
                                 "ipxe=true [^\n]* sent=offer [^\n]*"
                                 "file=http://10\\.77\\.0\\.1/boot\\.ipxe "));
  EXPECT_THAT(log, Not(HasSubstr("ipxe_loop")));
  ExpectRepliesDecode();
}

// The control: no ipxe_script. OVMF loads ipxe.efi; iPXE asks again and is
// sent ipxe.efi again, which it loads: the loop the script setting breaks.
// (This ipxe.efi, loaded by another iPXE, then stops while it initialises
// the NIC the first one holds; on other firmware it asks again, and again.)
TEST_F(FirmwareBootTest, OvmfUefiPxeIpxeChainWithoutScriptLoops) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_OK_STATUS(CopyFile(kIpxeEfi, tftp_root_ + "/ipxe.efi"));
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "undionly.kpxe"
files = { uefi-x64 = "ipxe.efi" }
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(
      Client::kOvmfUefi, ClientOptions{.extra_args = kOvmfIpv4Only}));

  // iPXE, loaded by OVMF, fetched ipxe.efi itself.
  ASSERT_OK_STATUS(WaitForConsole("Filename: ipxe.efi"));
  ASSERT_OK_STATUS(WaitForConsole("ipxe.efi : 850528 bytes [EFI]"));
  ReportBootTime("iPXE loaded ipxe.efi again");
  // OVMF's two reads (its size, then the file), then iPXE's.
  const std::vector<std::string> files = TftpReadRequestsOnceSeen("ipxe.efi");
  EXPECT_THAT(std::count(files.begin(), files.end(), "ipxe.efi"), Ge(3));
  EXPECT_THAT(Console(), Not(HasSubstr(banner_)));
  EXPECT_THAT(HttpRequests(), ::testing::IsEmpty());
  // pxe-pdhcp saw the loop: in the decision line of iPXE's DISCOVER, and
  // in a warning that names the remedy.
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ContainsRegex("type=discover arch=uefi-x64 client=pxe "
                                 "ipxe=true port=67 ipxe_loop=1 rule="));
  EXPECT_THAT(log, ContainsRegex("iPXE chainload loop: 52:54:00:77:00:11 on "
                                 "v1 [^\n]*\\(ipxe\\.efi, round 1\\)"));
  EXPECT_THAT(log, HasSubstr("Set ipxe_script"));
}

// The same with QEMU's BIOS iPXE ROM and undionly.kpxe (iPXE for a PXE
// stack): each iPXE loads the next, for ever.
TEST_F(FirmwareBootTest, BiosIpxeChainWithoutScriptLoops) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_OK_STATUS(CopyFile(kUndionly, tftp_root_ + "/undionly.kpxe"));
  ASSERT_NO_FATAL_FAILURE(StartHttpServer());
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(PxePdhcpWithPolicy(R"(
[boot]
file = "undionly.kpxe"
files = { uefi-x64 = "ipxe.efi" }
)")));
  ASSERT_NO_FATAL_FAILURE(StartClient(Client::kBiosIpxe));

  // The ROM loaded undionly.kpxe, whose iPXE loaded it again, and again.
  ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("proxy.log"),
                                       " ipxe_loop=2 ", kBootTimeout));
  ReportBootTime("second round of the loop");
  const std::vector<std::string> files = TftpReadRequests();
  EXPECT_THAT(std::count(files.begin(), files.end(), "undionly.kpxe"), Ge(2));
  EXPECT_THAT(Console(), Not(HasSubstr(banner_)));
  EXPECT_THAT(HttpRequests(), ::testing::IsEmpty());
  const std::string log = ProxyLog();
  EXPECT_THAT(log, ContainsRegex("type=discover arch=bios client=pxe "
                                 "ipxe=true port=67 ipxe_loop=1 rule=[^\n]* "
                                 "sent=offer [^\n]*file=undionly\\.kpxe "));
  EXPECT_THAT(log, ContainsRegex("iPXE chainload loop: 52:54:00:77:00:10 on "
                                 "v1 [^\n]*\\(undionly\\.kpxe, round 1\\)"));
}

}  // namespace
}  // namespace pxe::testing
