// Boots real PXE firmware under QEMU through a proxy DHCP server, on a LAN
// made of network namespaces, and checks what a user would see: the boot
// file fetched over TFTP and the boot loader's message on the console.
//
// The LAN (every name below lives inside the sandbox's own namespaces):
//
//   namespace "srv"                        namespace "lan"
//   v1 10.77.0.1/24  <---- veth ---->  v0 --+
//     dnsmasq (plain DHCP server)           br0 -- tap0 -- QEMU (the client)
//     the proxy under test
//     in.tftpd, tcpdump (a log, and a pcap of every DHCP reply)
//
// The LAN's DHCP server hands out addresses and nothing else, so a client
// boots only if the proxy gives it boot data; the proxy command is a
// parameter (ProxyFactory) so the same tests run against any proxy.
//
// The replies the firmware booted from are also decoded by a decoder that is
// not ours: tshark, through tests/testing/tshark_replies.py.
//
// Needs root, QEMU, OVMF, pxelinux/syslinux, dnsmasq, tftpd-hpa, tcpdump
// and tshark; skips, saying what is missing, otherwise. Each boot takes 15-25 s
// under TCG (no KVM).
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr char kServerAddress[] = "10.77.0.1";
constexpr char kServerCidr[] = "10.77.0.1/24";
constexpr char kServerDevice[] = "v1";  // in srv
constexpr char kLanUplink[] = "v0";     // in lan, the other end of v1
constexpr char kBridge[] = "br0";       // in lan
constexpr char kTap[] = "tap0";         // in lan

// Generous: a boot takes 15-25 s under TCG, but a loaded CI host is slower.
constexpr absl::Duration kBootTimeout = absl::Seconds(150);
constexpr absl::Duration kDaemonStartTimeout = absl::Seconds(10);

// QEMU's iPXE option ROM for the e1000 (ipxe-qemu), found by QEMU itself.
constexpr char kIpxeE1000Rom[] = "/usr/lib/ipxe/qemu/efi-e1000.rom";
constexpr char kOvmfCode[] = "/usr/share/OVMF/OVMF_CODE_4M.fd";
constexpr char kOvmfVars[] = "/usr/share/OVMF/OVMF_VARS_4M.fd";
constexpr char kPxelinux[] = "/usr/lib/PXELINUX/pxelinux.0";
constexpr char kLdlinuxBios[] = "/usr/lib/syslinux/modules/bios/ldlinux.c32";
constexpr char kSyslinuxEfi[] = "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi";
constexpr char kLdlinuxEfi64[] = "/usr/lib/syslinux/modules/efi64/ldlinux.e64";

// absl::Status has no gtest matcher in this Abseil; say what failed instead.
#define ASSERT_OK_STATUS(expr)                                  \
  do {                                                          \
    const absl::Status pxe_assert_status_ = (expr);             \
    ASSERT_TRUE(pxe_assert_status_.ok()) << pxe_assert_status_; \
  } while (0)

// ---------------------------------------------------------------------------
// The proxy under test.

// What a proxy needs to know about the LAN it serves.
struct ProxySetup {
  std::string ns;            // the namespace it runs in
  std::string interface;     // its LAN interface in `ns`
  std::string address;       // that interface's address; also the TFTP server
  std::string bios_nbp;      // boot file for BIOS clients (arch 0)
  std::string uefi_x64_nbp;  // boot file for x64 UEFI clients (arch 7, 9)
  std::string work_dir;      // for its lease and pid files
};

// How to start a proxy, and how to tell that it serves.
struct ProxyLaunch {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  // Text its log shows once it answers clients; "" when it prints nothing
  // reliable (then it only has to survive its start-up).
  std::string ready_text;
};

// Builds the launch for a given LAN. To run these tests against another
// proxy, write another factory and pass it to StartProxyWith().
using ProxyFactory = std::function<ProxyLaunch(const ProxySetup&)>;

// pxe-pdhcp in the foreground with per-client logging, on the interface the
// LAN's dnsmasq serves too (it never binds port 67).
ProxyLaunch PxePdhcpProxy(const ProxySetup& setup) {
  return ProxyLaunch{
      .argv = {PXE_PDHCP_BINARY, "-d", "-i", setup.interface, "--boot-file",
               absl::StrCat("uefi-x64=", setup.uefi_x64_nbp), setup.bios_nbp},
      .ready_text = " ready, ",
  };
}

// pxe-pdhcp with a policy file: `toml` is written into the sandbox and
// passed with -c (no boot file on the command line).
ProxyFactory PxePdhcpWithPolicy(std::string toml) {
  return [toml](const ProxySetup& setup) {
    const std::string path = setup.work_dir + "/pxe-pdhcp.toml";
    if (!WriteFile(path, toml).ok()) return ProxyLaunch{};
    return ProxyLaunch{
        .argv = {PXE_PDHCP_BINARY, "-d", "-i", setup.interface, "-c", path},
        .ready_text = " ready, ",
    };
  };
}

// Starts the proxy `factory` describes in setup.ns, logging to `log_path`,
// and waits until it serves. The proxy is stopped with the sandbox.
absl::StatusOr<pid_t> StartProxy(Sandbox& sandbox, const ProxySetup& setup,
                                 const ProxyFactory& factory,
                                 const std::string& log_path) {
  const ProxyLaunch launch = factory(setup);
  absl::StatusOr<pid_t> pid = sandbox.Spawn(setup.ns, launch.argv, log_path);
  if (!pid.ok()) return pid.status();
  if (launch.ready_text.empty()) {
    absl::SleepFor(absl::Seconds(1));
    if (absl::Status running = sandbox.CheckRunning(*pid, "proxy");
        !running.ok()) {
      return running;
    }
    return *pid;
  }
  absl::Status ready = WaitForFileContains(
      log_path, launch.ready_text,
      WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                    return sandbox.CheckRunning(*pid, "proxy");
                  }});
  if (!ready.ok()) return ready;
  return *pid;
}

// ---------------------------------------------------------------------------
// The fixture.

enum class Client {
  kBiosIpxe,  // SeaBIOS + QEMU's iPXE ROM on an e1000
  kOvmfUefi,  // OVMF's own UEFI PXE client on a virtio-net without ROM
};

// A unique line for pxelinux.cfg/default to SAY: seeing it on the console
// proves this run's config came over TFTP and the boot loader ran.
std::string MakeBanner() {
  std::random_device random;
  return absl::StrFormat("PXE-SANDBOX-BOOT-%d-%08x", ::getpid(), random());
}

class FirmwareBootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs DHCP, TFTP and "
          "QEMU inside them (run ctest as root)");
    }
    std::vector<std::string> missing;
    for (const char* program :
         {"ip", "ss", "sysctl", "dnsmasq", "in.tftpd", "tcpdump", "tshark",
          "python3", "qemu-system-x86_64"}) {
      if (!FindProgram(program).ok()) missing.push_back(program);
    }
    for (const char* file : {kIpxeE1000Rom, kOvmfCode, kOvmfVars, kPxelinux,
                             kLdlinuxBios, kSyslinuxEfi, kLdlinuxEfi64}) {
      if (::access(file, R_OK) != 0) missing.push_back(file);
    }
    if (!missing.empty()) {
      PXE_CANNOT_RUN(absl::StrCat(
          "missing ", absl::StrJoin(missing, ", "),
          " (Debian: iproute2 procps dnsmasq-base tftpd-hpa tcpdump "
          "tshark python3 qemu-system-x86 ipxe-qemu ovmf pxelinux "
          "syslinux-common syslinux-efi)"));
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

    ASSERT_OK_STATUS(sandbox_->AddBridge(lan_, kBridge));
    ASSERT_OK_STATUS(
        sandbox_->AddVethPair(lan_, kLanUplink, srv_, kServerDevice));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kLanUplink, kBridge));
    ASSERT_OK_STATUS(sandbox_->AddTap(lan_, kTap));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kTap, kBridge));
    ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, kServerDevice, kServerCidr));

    tftp_root_ = sandbox_->Path("tftp");
    ASSERT_TRUE(
        std::filesystem::create_directories(tftp_root_ + "/pxelinux.cfg"));
    banner_ = MakeBanner();
  }

  void TearDown() override {
    if (sandbox_ == nullptr) return;
    if (HasFailure()) {
      for (const auto& [what, file] :
           std::vector<std::pair<std::string, std::string>>{
               {"serial console", "console.log"},
               {"QEMU", "qemu.log"},
               {"dnsmasq (LAN DHCP server)", "dhcp.log"},
               {"proxy", "proxy.log"},
               {"in.tftpd", "tftpd.log"},
               {"tcpdump (DHCP, proxy and TFTP requests)", "capture.log"}}) {
        std::printf("----- %s: tail of %s -----\n%s\n", what.c_str(),
                    sandbox_->Path(file).c_str(),
                    TailOfFile(sandbox_->Path(file)).c_str());
      }
    }
    sandbox_.reset();  // stops QEMU and the daemons, deletes the namespaces
  }

  // Fills the TFTP root for `client`, then starts, in srv, a capture of
  // DHCP/TFTP requests, the TFTP server, and the LAN's DHCP server (addresses
  // only: no boot options).
  void StartLanServices(Client client) {
    if (client == Client::kBiosIpxe) {
      ASSERT_OK_STATUS(CopyFile(kPxelinux, tftp_root_ + "/pxelinux.0"));
      ASSERT_OK_STATUS(CopyFile(kLdlinuxBios, tftp_root_ + "/ldlinux.c32"));
    } else {
      ASSERT_OK_STATUS(CopyFile(kSyslinuxEfi, tftp_root_ + "/syslinux.efi"));
      ASSERT_OK_STATUS(CopyFile(kLdlinuxEfi64, tftp_root_ + "/ldlinux.e64"));
    }
    // SERIAL: syslinux writes to the first serial port as well as the screen,
    // whatever the firmware does with its own console. PROMPT 1 with
    // TIMEOUT 0: wait at "boot:" for ever instead of trying to load a kernel.
    ASSERT_OK_STATUS(
        WriteFile(tftp_root_ + "/pxelinux.cfg/default",
                  absl::StrCat("SERIAL 0 115200\n", "SAY ", banner_, "\n",
                               "PROMPT 1\nTIMEOUT 0\n")));

    // tcpdump first, so it sees everything. in.tftpd logs only to syslog,
    // which a sandbox does not have: the capture is our TFTP log.
    const std::string capture_log = sandbox_->Path("capture.log");
    absl::StatusOr<pid_t> tcpdump = sandbox_->Spawn(
        srv_,
        // -Z root: tcpdump would otherwise switch to its own user, and a
        // process that changes user loses its kill-on-parent-death guard.
        {"tcpdump", "-Z", "root", "--immediate-mode", "-l", "-n", "-vv", "-i",
         kServerDevice, "udp port 67", "or", "udp port 68", "or",
         "udp port 4011", "or", "udp port 69"},
        capture_log);
    ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        capture_log, "listening on",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*tcpdump, "tcpdump");
                    }}));

    // And every reply from port 67 or 4011, for ExpectRepliesDecode().
    const std::string pcap_log = sandbox_->Path("pcap.log");
    absl::StatusOr<pid_t> pcap = sandbox_->Spawn(
        srv_,
        {"tcpdump", "-Z", "root", "--immediate-mode", "-n", "-i", kServerDevice,
         "-w", sandbox_->Path("replies.pcap"),
         "udp src port 67 or udp src port 4011"},
        pcap_log);
    ASSERT_TRUE(pcap.ok()) << pcap.status();
    pcap_ = *pcap;
    ASSERT_OK_STATUS(WaitForFileContains(
        pcap_log, "listening on",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*pcap, "tcpdump -w");
                    }}));

    absl::StatusOr<pid_t> tftpd =
        sandbox_->Spawn(srv_,
                        {"in.tftpd", "--foreground", "--address",
                         absl::StrCat(kServerAddress, ":69"), "--secure", "-v",
                         "-v", "-v", tftp_root_},
                        sandbox_->Path("tftpd.log"));
    ASSERT_TRUE(tftpd.ok()) << tftpd.status();
    ASSERT_OK_STATUS(
        sandbox_->WaitForUdpListener(srv_, 69, kDaemonStartTimeout));

    const std::string dhcp_log = sandbox_->Path("dhcp.log");
    absl::StatusOr<pid_t> dhcp = sandbox_->Spawn(
        srv_,
        {"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
         "--no-hosts", "--no-resolv",
         absl::StrCat("--interface=", kServerDevice), "--bind-interfaces",
         "--dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h",
         // Skips the 3 s ICMP probe before each offer.
         "--no-ping",
         absl::StrCat("--dhcp-leasefile=", sandbox_->Path("dhcp.leases")),
         absl::StrCat("--pid-file=", sandbox_->Path("dhcp.pid")),
         "--log-facility=-", "--log-dhcp"},
        dhcp_log);
    ASSERT_TRUE(dhcp.ok()) << dhcp.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        dhcp_log, "sockets bound exclusively to interface",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*dhcp, "LAN dnsmasq");
                    }}));
  }

  void StartProxyWith(const ProxyFactory& factory) {
    absl::StatusOr<pid_t> proxy =
        StartProxy(*sandbox_,
                   ProxySetup{.ns = srv_,
                              .interface = kServerDevice,
                              .address = kServerAddress,
                              .bios_nbp = "pxelinux.0",
                              .uefi_x64_nbp = "syslinux.efi",
                              .work_dir = sandbox_->dir()},
                   factory, sandbox_->Path("proxy.log"));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
  }

  // Powers on the client in lan, network boot first, its serial console
  // going to console.log.
  void StartClient(Client client) {
    StartClient(client, client == Client::kBiosIpxe ? "52:54:00:77:00:10"
                                                    : "52:54:00:77:00:11");
  }
  void StartClient(Client client, const std::string& mac) {
    std::vector<std::string> argv = {
        "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256",
        "-nographic",
        // With -serial given, -nographic would put the monitor on stdio.
        "-monitor", "none", "-serial",
        absl::StrCat("file:", sandbox_->Path("console.log")), "-netdev",
        absl::StrCat("tap,id=n0,ifname=", kTap, ",script=no,downscript=no")};
    if (client == Client::kBiosIpxe) {
      // No romfile=: QEMU loads its own iPXE ROM for the e1000.
      argv.insert(argv.end(), {"-boot", "n", "-device",
                               absl::StrCat("e1000,netdev=n0,mac=", mac)});
    } else {
      const std::string vars = sandbox_->Path("OVMF_VARS_4M.fd");
      ASSERT_OK_STATUS(CopyFile(kOvmfVars, vars));
      // romfile= (empty) keeps iPXE off the NIC so OVMF's own PXE client
      // runs; OVMF ignores -boot n, bootindex=1 is what makes it netboot.
      argv.insert(
          argv.end(),
          {"-drive",
           absl::StrCat("if=pflash,format=raw,readonly=on,file=", kOvmfCode),
           "-drive", absl::StrCat("if=pflash,format=raw,file=", vars),
           "-device",
           absl::StrCat("virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=",
                        mac)});
    }
    absl::StatusOr<pid_t> qemu =
        sandbox_->Spawn(lan_, argv, sandbox_->Path("qemu.log"));
    ASSERT_TRUE(qemu.ok()) << qemu.status();
    qemu_ = *qemu;
    client_started_ = absl::Now();
  }

  // Powers the client off (and waits for QEMU to exit), and moves its
  // console log aside, so that the next client starts with an empty one.
  void StopClient() {
    sandbox_->Stop(qemu_);
    std::filesystem::rename(
        sandbox_->Path("console.log"),
        sandbox_->Path(absl::StrCat("console-", ++boots_, ".log")));
  }

  // Waits (at most kBootTimeout from the client's start) for `text` on the
  // serial console; fails at once if QEMU dies.
  absl::Status WaitForConsole(std::string_view text) {
    return WaitForFileContains(
        sandbox_->Path("console.log"), text,
        WaitOptions{
            .timeout = kBootTimeout - (absl::Now() - client_started_),
            .strip_terminal_escapes = true,
            .abort_if = [&] { return sandbox_->CheckRunning(qemu_, "QEMU"); },
        });
  }

  std::string ProxyLog() const {
    return ReadFileOrEmpty(sandbox_->Path("proxy.log"));
  }

  std::string Console() const {
    return StripTerminalEscapes(ReadFileOrEmpty(sandbox_->Path("console.log")));
  }

  // The file names of every TFTP read request the capture saw, in order.
  std::vector<std::string> TftpReadRequests() const {
    // tcpdump -vv prints: ... TFTP, length 40, RRQ "pxelinux.0" octet ...
    const std::string capture = ReadFileOrEmpty(sandbox_->Path("capture.log"));
    std::vector<std::string> files;
    constexpr std::string_view kMarker = "RRQ \"";
    for (size_t at = capture.find(kMarker); at != std::string::npos;
         at = capture.find(kMarker, at)) {
      at += kMarker.size();
      const size_t end = capture.find('"', at);
      if (end == std::string::npos) break;
      files.push_back(capture.substr(at, end - at));
    }
    return files;
  }

  // TftpReadRequests() once the capture shows a request for `file` (or 5 s
  // passed): the console can run ahead of the capture log.
  std::vector<std::string> TftpReadRequestsOnceSeen(std::string_view file) {
    WaitForFileContains(sandbox_->Path("capture.log"),
                        absl::StrCat("RRQ \"", Sv(file), "\""),
                        absl::Seconds(5))
        .IgnoreError();  // the caller's expectation reports what is missing
    return TftpReadRequests();
  }

  // Stops the pcap capture and runs tshark's DHCP dissector over the
  // proxy's replies in it (tests/testing/tshark_replies.py): as many as the
  // proxy logged, each decoded without error and with what a proxy reply
  // carries. dnsmasq answers from the same address: its replies, the ones
  // with a lease time, are left out.
  void ExpectRepliesDecode() {
    sandbox_->Stop(pcap_);  // SIGTERM: tcpdump flushes the file
    const std::string log = ProxyLog();
    size_t replies = 0;
    for (size_t at = log.find(" sent="); at != std::string::npos;
         at = log.find(" sent=", at + 1)) {
      if (log.compare(at, 11, " sent=offer") == 0 ||
          log.compare(at, 9, " sent=ack") == 0) {
        ++replies;
      }
    }
    ASSERT_GT(replies, 0u) << log;
    absl::StatusOr<CommandResult> check = sandbox_->RunIn(
        srv_,
        {"python3", PXE_TSHARK_REPLIES, sandbox_->Path("replies.pcap"),
         "--server", kServerAddress, "--ignore-leases", "--min-replies",
         absl::StrCat(replies)},
        absl::Seconds(60));
    ASSERT_TRUE(check.ok()) << check.status();
    std::printf("%s", check->out.c_str());
    EXPECT_EQ(check->exit_code, 0) << check->out << check->err;
  }

  void ReportBootTime(std::string_view what) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - client_started_);
    RecordProperty("boot_seconds", absl::StrFormat("%.1f", seconds));
    std::printf("%s after %.1f s\n", std::string(what).c_str(), seconds);
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string lan_;
  std::string tftp_root_;
  std::string banner_;
  pid_t qemu_ = -1;
  pid_t pcap_ = -1;
  int boots_ = 0;
  absl::Time client_started_;
};

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
