// Boots OVMF's UEFI PXE client over IPv6 (PXEv6) through pxe-pdhcp, beside
// an unchanged DHCPv6 server on the same host, on a LAN made of network
// namespaces, and checks what a user would see: the firmware fetching the
// boot file over TFTP on IPv6 and the boot file running.
//
//   namespace "srv"                          namespace "lan"
//   v1 fd77::1/64, 10.77.0.1/24 <-- veth --> v0 --+
//     dnsmasq: DHCPv6 addresses and router        br0 -- tap0 -- QEMU (OVMF)
//       advertisements, no boot options
//     pxe-pdhcp, in.tftpd on [fd77::1]:69, tcpdump
//
// IPv4 network boot is switched off in the firmware (fw_cfg IPv4Support=no)
// so PXEv6 runs first. Controls: without pxe-pdhcp the firmware finds no
// boot file; a DHCPv6 client that is not booting (dhclient -6) gets its
// address from dnsmasq and nothing from pxe-pdhcp.
//
// Needs root, QEMU, OVMF, syslinux-efi, dnsmasq, tftpd-hpa, tcpdump and
// dhclient; skips, saying what is missing, otherwise.
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

constexpr char kServer6[] = "fd77::1";
constexpr char kServerDevice[] = "v1";  // in srv
constexpr char kLanUplink[] = "v0";     // in lan
constexpr char kBridge[] = "br0";
constexpr char kTap[] = "tap0";
constexpr char kClientMac[] = "52:54:00:77:00:16";

constexpr absl::Duration kBootTimeout = absl::Seconds(180);
constexpr absl::Duration kStartTimeout = absl::Seconds(15);

constexpr char kOvmfCode[] = "/usr/share/OVMF/OVMF_CODE_4M.fd";
constexpr char kOvmfVars[] = "/usr/share/OVMF/OVMF_VARS_4M.fd";
constexpr char kSyslinuxEfi[] = "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi";

#define ASSERT_OK_STATUS(expr)                                  \
  do {                                                          \
    const absl::Status pxe_assert_status_ = (expr);             \
    ASSERT_TRUE(pxe_assert_status_.ok()) << pxe_assert_status_; \
  } while (0)

class FirmwareBootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs DHCPv6, TFTP and "
          "QEMU inside them (run ctest as root)");
    }
    std::vector<std::string> missing;
    for (const char* program : {"ip", "ss", "sysctl", "dnsmasq", "in.tftpd",
                                "tcpdump", "dhclient", "qemu-system-x86_64"}) {
      if (!FindProgram(program).ok()) missing.push_back(program);
    }
    for (const char* file : {kOvmfCode, kOvmfVars, kSyslinuxEfi}) {
      if (::access(file, R_OK) != 0) missing.push_back(file);
    }
    if (!missing.empty()) {
      PXE_CANNOT_RUN(absl::StrCat(
          "missing ", absl::StrJoin(missing, ", "),
          " (Debian: iproute2 procps dnsmasq-base tftpd-hpa tcpdump "
          "isc-dhcp-client qemu-system-x86 ovmf syslinux-efi)"));
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    ASSERT_TRUE(srv.ok()) << srv.status();
    srv_ = *srv;
    absl::StatusOr<std::string> lan = sandbox_->AddNamespace("lan");
    ASSERT_TRUE(lan.ok()) << lan.status();
    lan_ = *lan;
    // The sandbox turns IPv6 off; this LAN needs it (before the devices
    // come, so they get link-local addresses).
    for (const std::string& ns : {srv_, lan_}) {
      ASSERT_OK_STATUS(sandbox_->RunInOrError(
          ns, {"sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0",
               "net.ipv6.conf.default.disable_ipv6=0",
               "net.ipv6.conf.default.accept_dad=0"}));
    }
    ASSERT_OK_STATUS(sandbox_->AddBridge(lan_, kBridge));
    ASSERT_OK_STATUS(
        sandbox_->AddVethPair(lan_, kLanUplink, srv_, kServerDevice));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kLanUplink, kBridge));
    ASSERT_OK_STATUS(sandbox_->AddTap(lan_, kTap));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kTap, kBridge));
    for (const auto& [ns, devices] :
         std::vector<std::pair<std::string, std::vector<std::string>>>{
             {srv_, {kServerDevice}}, {lan_, {kLanUplink, kBridge, kTap}}}) {
      for (const std::string& dev : devices) {
        ASSERT_OK_STATUS(sandbox_->RunInOrError(
            ns, {"sysctl", "-q", "-w",
                 absl::StrCat("net.ipv6.conf.", dev, ".disable_ipv6=0"),
                 absl::StrCat("net.ipv6.conf.", dev, ".accept_dad=0")}));
      }
    }
    ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, kServerDevice, "10.77.0.1/24"));
    ASSERT_OK_STATUS(sandbox_->RunInOrError(
        srv_, {"ip", "-6", "addr", "add", absl::StrCat(kServer6, "/64"), "dev",
               kServerDevice, "nodad"}));
    tftp_root_ = sandbox_->Path("tftp");
    ASSERT_TRUE(std::filesystem::create_directories(tftp_root_));
    ASSERT_OK_STATUS(CopyFile(kSyslinuxEfi, tftp_root_ + "/syslinux.efi"));
  }

  void TearDown() override {
    if (sandbox_ == nullptr) return;
    if (HasFailure()) {
      for (const char* file :
           {"console.log", "qemu.log", "dhcp.log", "proxy.log", "tftpd.log",
            "capture.log", "dhclient.log"}) {
        std::printf("----- tail of %s -----\n%s\n",
                    sandbox_->Path(file).c_str(),
                    TailOfFile(sandbox_->Path(file)).c_str());
      }
    }
    sandbox_.reset();
  }

  // tcpdump (DHCPv6, 4011 and TFTP), in.tftpd on [fd77::1]:69, and dnsmasq
  // handing out fd77::100-1ff with router advertisements (the on-link prefix
  // the firmware needs to reach fd77::1 before it has its own address).
  void StartLanServices() {
    const std::string capture_log = sandbox_->Path("capture.log");
    absl::StatusOr<pid_t> tcpdump =
        sandbox_->Spawn(srv_,
                        {"tcpdump", "-Z", "root", "--immediate-mode", "-l",
                         "-n", "-vv", "-i", kServerDevice,
                         "udp port 547 or udp port 546 or udp port 4011 or udp "
                         "port 69"},
                        capture_log);
    ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        capture_log, "listening on", WaitOptions{.timeout = kStartTimeout}));
    absl::StatusOr<pid_t> tftpd =
        sandbox_->Spawn(srv_,
                        {"in.tftpd", "--foreground", "--ipv6", "--address",
                         absl::StrCat("[", kServer6, "]:69"), "--secure", "-v",
                         "-v", "-v", tftp_root_},
                        sandbox_->Path("tftpd.log"));
    ASSERT_TRUE(tftpd.ok()) << tftpd.status();
    ASSERT_OK_STATUS(sandbox_->WaitForUdpListener(srv_, 69, kStartTimeout));
    const std::string dhcp_log = sandbox_->Path("dhcp.log");
    absl::StatusOr<pid_t> dhcp = sandbox_->Spawn(
        srv_,
        {"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
         "--no-hosts", "--no-resolv",
         absl::StrCat("--interface=", kServerDevice), "--bind-interfaces",
         "--enable-ra", "--dhcp-range=fd77::100,fd77::1ff,64,1h",
         absl::StrCat("--dhcp-leasefile=", sandbox_->Path("dhcp.leases")),
         absl::StrCat("--pid-file=", sandbox_->Path("dhcp.pid")),
         "--log-facility=-", "--log-dhcp"},
        dhcp_log);
    ASSERT_TRUE(dhcp.ok()) << dhcp.status();
    ASSERT_OK_STATUS(sandbox_->WaitForUdpListener(srv_, 547, kStartTimeout));
  }

  void StartProxy() {
    const std::string log = sandbox_->Path("proxy.log");
    absl::StatusOr<pid_t> proxy = sandbox_->Spawn(
        srv_,
        {PXE_PDHCP_BINARY, "-d", "-i", kServerDevice, "-t", kServer6,
         "--boot-file", "uefi-x64=syslinux.efi", "--http-url",
         absl::StrCat("http://[", kServer6, "]/syslinux.efi"), "pxelinux.0"},
        log);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *proxy;
    ASSERT_OK_STATUS(WaitForFileContains(
        log, " ready, ", WaitOptions{.timeout = kStartTimeout, .abort_if = [&] {
                                       return sandbox_->CheckRunning(*proxy,
                                                                     "proxy");
                                     }}));
  }

  // OVMF with only IPv6 network boot left (PXEv6, then HTTPv6); `http`:
  // HTTPv6 alone, after a few seconds at the front page (HTTPv6 as the
  // first method fails at once: it does not wait for DAD of its link-local
  // address).
  void StartClient(bool http = false) {
    const std::string vars = sandbox_->Path("OVMF_VARS_4M.fd");
    ASSERT_OK_STATUS(CopyFile(kOvmfVars, vars));
    absl::StatusOr<pid_t> qemu = sandbox_->Spawn(
        lan_,
        {"qemu-system-x86_64",
         "-machine",
         "accel=tcg",
         "-m",
         "256",
         "-nographic",
         "-monitor",
         "none",
         "-serial",
         absl::StrCat("file:", sandbox_->Path("console.log")),
         "-fw_cfg",
         "name=opt/org.tianocore/IPv4Support,string=no",
         "-fw_cfg",
         http ? "name=opt/org.tianocore/IPv6PXESupport,string=no"
              : "name=opt/org.tianocore/IPv6PXESupport,string=yes",
         "-boot",
         http ? "menu=on,splash-time=4000" : "menu=off",
         "-drive",
         absl::StrCat("if=pflash,format=raw,readonly=on,file=", kOvmfCode),
         "-drive",
         absl::StrCat("if=pflash,format=raw,file=", vars),
         "-netdev",
         absl::StrCat("tap,id=n0,ifname=", kTap, ",script=no,downscript=no"),
         "-device",
         absl::StrCat("virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=",
                      kClientMac)},
        sandbox_->Path("qemu.log"));
    ASSERT_TRUE(qemu.ok()) << qemu.status();
    qemu_ = *qemu;
    started_ = absl::Now();
  }

  absl::Status WaitForConsole(std::string_view text, absl::Duration timeout) {
    return WaitForFileContains(
        sandbox_->Path("console.log"), text,
        WaitOptions{
            .timeout = timeout,
            .strip_terminal_escapes = true,
            .abort_if = [&] { return sandbox_->CheckRunning(qemu_, "QEMU"); }});
  }

  std::string Capture() const {
    return ReadFileOrEmpty(sandbox_->Path("capture.log"));
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_, lan_, tftp_root_;
  pid_t qemu_ = -1;
  pid_t proxy_ = -1;
  absl::Time started_;
};

TEST_F(FirmwareBootTest, OvmfPxeV6BootsOverTftp) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  // The firmware took our Advertise, asked [fd77::1]:4011, and downloaded
  // the file named in the Reply over TFTP on IPv6...
  ASSERT_OK_STATUS(
      WaitForConsole("NBP file downloaded successfully", kBootTimeout));
  const std::string capture = Capture();
  // Our Advertise (server ID a DUID-LL: "hwaddr type", dnsmasq's is a
  // DUID-LLT), then the firmware's Request to [fd77::1]:4011 and our Reply.
  EXPECT_NE(capture.find("server-ID hwaddr type 1"), std::string::npos)
      << capture;
  EXPECT_NE(capture.find(absl::StrCat(kServer6, ".4011: ")), std::string::npos)
      << capture;
  EXPECT_NE(capture.find(absl::StrCat(kServer6, ".4011 > ")), std::string::npos)
      << capture;
  EXPECT_NE(capture.find("RRQ \"syslinux.efi\""), std::string::npos) << capture;
  EXPECT_NE(capture.find(absl::StrCat(kServer6, ".69")), std::string::npos);
  // ...and it runs: syslinux.efi's own first lines (it then looks for
  // ldlinux.e64 over IPv4, which Syslinux 6.04 cannot do over IPv6).
  ASSERT_OK_STATUS(WaitForConsole("Getting cached packet", absl::Seconds(60)));
  EXPECT_TRUE(WaitForConsole("My IP is", absl::Seconds(30)).ok());
}

// HTTP boot over IPv6: the Advertise's option 59 is the URL, used at once.
TEST_F(FirmwareBootTest, OvmfHttpV6BootsOverHttp) {
  if (!FindProgram("busybox").ok()) {
    PXE_CANNOT_RUN("missing busybox (its httpd serves the EFI binary)");
  }
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  absl::StatusOr<pid_t> httpd =
      sandbox_->Spawn(srv_,
                      {"busybox", "httpd", "-f", "-vv", "-p",
                       absl::StrCat("[", kServer6, "]:80"), "-h", tftp_root_},
                      sandbox_->Path("httpd.log"));
  ASSERT_TRUE(httpd.ok()) << httpd.status();
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  ASSERT_NO_FATAL_FAILURE(StartClient(/*http=*/true));
  ASSERT_OK_STATUS(WaitForConsole("Start HTTP Boot over IPv6", kBootTimeout));
  ASSERT_OK_STATUS(
      WaitForConsole(absl::StrCat("URI: http://[", kServer6, "]/syslinux.efi"),
                     absl::Seconds(60)));
  ASSERT_OK_STATUS(WaitForConsole("Downloading...100%", absl::Seconds(60)));
  // The EFI binary runs: syslinux.efi's own message (HTTP boot gives it no
  // file system to read its configuration from).
  EXPECT_TRUE(
      WaitForConsole("Failed to locate root device", absl::Seconds(60)).ok());
}

TEST_F(FirmwareBootTest, OvmfPxeV6FindsNothingWithoutProxy) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartClient());
  // PXEv6 starts, gets addresses offered and no boot data, and gives up.
  ASSERT_OK_STATUS(WaitForConsole("Start PXE over IPv6", kBootTimeout));
  const absl::Status nbp =
      WaitForConsole("NBP file downloaded", absl::Seconds(40));
  EXPECT_FALSE(nbp.ok()) << "booted without a proxy";
  EXPECT_EQ(Capture().find("RRQ"), std::string::npos);
}

// A DHCPv6 client that is not booting gets its address from dnsmasq and
// nothing from pxe-pdhcp: no Advertise with pxe-pdhcp's server ID (a DUID-LL,
// type 3, of v1's MAC; dnsmasq's is a DUID-LLT).
TEST_F(FirmwareBootTest, NonBootingDhcpv6ClientGetsNothingFromUs) {
  ASSERT_NO_FATAL_FAILURE(StartLanServices());
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  ASSERT_OK_STATUS(sandbox_->AddAddress(lan_, kBridge, "10.77.0.50/24"));
  absl::StatusOr<CommandResult> r = sandbox_->RunIn(
      lan_,
      {"dhclient", "-6", "-1", "-v", "-pf", sandbox_->Path("dhclient.pid"),
       "-lf", sandbox_->Path("dhclient.leases"), kBridge},
      absl::Seconds(40));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  // It got an address from dnsmasq's range.
  absl::StatusOr<CommandResult> addr =
      sandbox_->RunIn(lan_, {"ip", "-6", "addr", "show", "dev", kBridge});
  ASSERT_TRUE(addr.ok());
  EXPECT_NE(addr->out.find("inet6 fd77::1"), std::string::npos) << addr->out;
  sandbox_->Stop(proxy_);  // its stop summary: what it saw and dropped
  const std::string proxy_log = ReadFileOrEmpty(sandbox_->Path("proxy.log"));
  EXPECT_NE(proxy_log.find(" frames, 0 answered,"), std::string::npos)
      << proxy_log;
  // tcpdump -vv shows each server ID: dnsmasq's is a DUID-LLT
  // ("hwaddr/time"), pxe-pdhcp's would be a DUID-LL ("hwaddr type").
  const std::string capture = Capture();
  EXPECT_NE(capture.find("dhcp6 advertise"), std::string::npos) << capture;
  EXPECT_EQ(capture.find("server-ID hwaddr type"), std::string::npos)
      << capture;
}

}  // namespace
}  // namespace pxe::testing
