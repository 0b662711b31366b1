// The firmware tests' LAN: see firmware_lan.h.
#include "tests/integration/firmware_lan.h"

#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/status_macros.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

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

}  // namespace

ProxyLaunch PxePdhcpProxy(const ProxySetup& setup) {
  return ProxyLaunch{
      .argv = {PXE_PDHCP_BINARY, "-d", "-i", setup.interface, "--boot-file",
               absl::StrCat("uefi-x64=", setup.uefi_x64_nbp), setup.bios_nbp},
      .ready_text = " ready, ",
  };
}

ProxyFactory PxePdhcpWithFlags(std::vector<std::string> extra) {
  return [extra](const ProxySetup& setup) {
    ProxyLaunch launch = PxePdhcpProxy(setup);
    launch.argv.insert(launch.argv.end() - 1, extra.begin(), extra.end());
    return launch;
  };
}

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

std::string MakeBanner() {
  std::random_device random;
  return absl::StrFormat("PXE-SANDBOX-BOOT-%d-%08x", ::getpid(), random());
}

void FirmwareLan::Require(std::vector<std::string> programs,
                          std::vector<std::string> files,
                          std::string packages) {
  programs_.insert(programs_.end(), programs.begin(), programs.end());
  files_.insert(files_.end(), files.begin(), files.end());
  packages_.push_back(std::move(packages));
}

void FirmwareLan::SetUp() {
  if (!IsRoot()) {
    PXE_CANNOT_RUN(
        "needs root: builds network namespaces and runs DHCP, TFTP and "
        "QEMU inside them (run ctest as root)");
  }
  std::vector<std::string> missing;
  std::vector<std::string> programs = {
      "ip",      "ss",     "sysctl",  "dnsmasq",           "in.tftpd",
      "tcpdump", "tshark", "python3", "qemu-system-x86_64"};
  programs.insert(programs.end(), programs_.begin(), programs_.end());
  for (const std::string& program : programs) {
    if (!FindProgram(program).ok()) missing.push_back(program);
  }
  std::vector<std::string> files = {kIpxeE1000Rom, kOvmfCode,    kOvmfVars,
                                    kPxelinux,     kLdlinuxBios, kSyslinuxEfi,
                                    kLdlinuxEfi64};
  files.insert(files.end(), files_.begin(), files_.end());
  for (const std::string& file : files) {
    if (::access(file.c_str(), R_OK) != 0) missing.push_back(file);
  }
  if (!missing.empty()) {
    std::vector<std::string> packages = {
        "iproute2 procps dnsmasq-base tftpd-hpa tcpdump tshark python3 "
        "qemu-system-x86 ipxe-qemu ovmf pxelinux syslinux-common "
        "syslinux-efi"};
    packages.insert(packages.end(), packages_.begin(), packages_.end());
    PXE_CANNOT_RUN(absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                                " (Debian: ", absl::StrJoin(packages, " "),
                                ")"));
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

void FirmwareLan::AddLogToReport(std::string what, std::string file) {
  reports_.emplace_back(std::move(what), std::move(file));
}

void FirmwareLan::TearDown() {
  if (sandbox_ == nullptr) return;
  if (HasFailure()) {
    std::vector<std::pair<std::string, std::string>> logs = {
        {"serial console", "console.log"},
        {"QEMU", "qemu.log"},
        {"dnsmasq (LAN DHCP server)", "dhcp.log"},
        {"proxy", "proxy.log"},
        {"in.tftpd", "tftpd.log"},
        {"tcpdump (DHCP, proxy and TFTP requests)", "capture.log"}};
    logs.insert(logs.end(), reports_.begin(), reports_.end());
    for (const auto& [what, file] : logs) {
      std::printf("----- %s: tail of %s -----\n%s\n", what.c_str(),
                  sandbox_->Path(file).c_str(),
                  TailOfFile(sandbox_->Path(file)).c_str());
    }
  }
  sandbox_.reset();  // stops QEMU and the daemons, deletes the namespaces
}

void FirmwareLan::StartLanServices(Client client) {
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
  ASSERT_OK_STATUS(WriteFile(tftp_root_ + "/pxelinux.cfg/default",
                             absl::StrCat("SERIAL 0 115200\n", "SAY ", banner_,
                                          "\n", "PROMPT 1\nTIMEOUT 0\n")));
  StartLanServices();
}

void FirmwareLan::StartLanServices() {
  // tcpdump first, so it sees everything. in.tftpd logs only to syslog,
  // which a sandbox does not have: the capture is our TFTP log.
  const std::string capture_log = sandbox_->Path("capture.log");
  absl::StatusOr<pid_t> tcpdump = sandbox_->Spawn(
      srv_,
      // -Z root: tcpdump would otherwise switch to its own user, and a
      // process that changes user loses its kill-on-parent-death guard.
      {"tcpdump", "-Z", "root", "--immediate-mode", "-l", "-n", "-vv", "-i",
       kServerDevice, "udp port 67", "or", "udp port 68", "or", "udp port 4011",
       "or", "udp port 69"},
      capture_log);
  ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
  ASSERT_OK_STATUS(WaitForFileContains(
      capture_log, "listening on",
      WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                    return sandbox_->CheckRunning(*tcpdump, "tcpdump");
                  }}));

  // And every reply from port 67 or 4011, for ExpectRepliesDecode().
  const std::string pcap_log = sandbox_->Path("pcap.log");
  absl::StatusOr<pid_t> pcap =
      sandbox_->Spawn(srv_,
                      {"tcpdump", "-Z", "root", "--immediate-mode", "-n", "-i",
                       kServerDevice, "-w", sandbox_->Path("replies.pcap"),
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
  ASSERT_OK_STATUS(sandbox_->WaitForUdpListener(srv_, 69, kDaemonStartTimeout));

  const std::string dhcp_log = sandbox_->Path("dhcp.log");
  std::vector<std::string> dnsmasq = {
      "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
      "--no-hosts", "--no-resolv", absl::StrCat("--interface=", kServerDevice),
      "--bind-interfaces",
      "--dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h",
      // Skips the 3 s ICMP probe before each offer.
      "--no-ping",
      absl::StrCat("--dhcp-leasefile=", sandbox_->Path("dhcp.leases")),
      absl::StrCat("--pid-file=", sandbox_->Path("dhcp.pid")),
      "--log-facility=-", "--log-dhcp"};
  dnsmasq.insert(dnsmasq.end(), dhcp_server_args_.begin(),
                 dhcp_server_args_.end());
  absl::StatusOr<pid_t> dhcp = sandbox_->Spawn(srv_, dnsmasq, dhcp_log);
  ASSERT_TRUE(dhcp.ok()) << dhcp.status();
  ASSERT_OK_STATUS(WaitForFileContains(
      dhcp_log, "sockets bound exclusively to interface",
      WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                    return sandbox_->CheckRunning(*dhcp, "LAN dnsmasq");
                  }}));
}

void FirmwareLan::StartProxyWith(const ProxyFactory& factory) {
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

void FirmwareLan::StartClient(Client client) {
  StartClient(client, ClientOptions{});
}

void FirmwareLan::StartClient(Client client, const std::string& mac) {
  StartClient(client, ClientOptions{.mac = mac});
}

void FirmwareLan::StartClient(Client client, const ClientOptions& options) {
  const std::string mac = !options.mac.empty()          ? options.mac
                          : client == Client::kBiosIpxe ? "52:54:00:77:00:10"
                                                        : "52:54:00:77:00:11";
  std::vector<std::string> argv = {
      "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256", "-nographic",
      // With -serial given, -nographic would put the monitor on stdio.
      "-monitor", "none", "-serial",
      absl::StrCat("file:", sandbox_->Path("console.log")), "-netdev",
      absl::StrCat("tap,id=n0,ifname=", kTap, ",script=no,downscript=no")};
  if (client == Client::kBiosIpxe) {
    // No romfile=: QEMU loads its own iPXE ROM for the e1000.
    argv.insert(argv.end(), {"-boot", "n", "-device",
                             absl::StrCat("e1000,netdev=n0,mac=", mac)});
  } else {
    const std::string vars = sandbox_->Path("OVMF_VARS.fd");
    ASSERT_OK_STATUS(CopyFile(options.ovmf_vars, vars));
    // romfile= (empty) keeps iPXE off the NIC so OVMF's own PXE client
    // runs; OVMF ignores -boot n, bootindex=1 is what makes it netboot.
    argv.insert(
        argv.end(),
        {"-drive",
         absl::StrCat("if=pflash,format=raw,readonly=on,file=",
                      options.ovmf_code),
         "-drive", absl::StrCat("if=pflash,format=raw,file=", vars), "-device",
         absl::StrCat("virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=",
                      mac)});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  StartClientCommand(argv);
}

void FirmwareLan::StartClientCommand(const std::vector<std::string>& argv) {
  absl::StatusOr<pid_t> qemu =
      sandbox_->Spawn(lan_, argv, sandbox_->Path("qemu.log"));
  ASSERT_TRUE(qemu.ok()) << qemu.status();
  qemu_ = *qemu;
  client_started_ = absl::Now();
}

void FirmwareLan::StopClient() {
  sandbox_->Stop(qemu_);
  std::filesystem::rename(
      sandbox_->Path("console.log"),
      sandbox_->Path(absl::StrCat("console-", ++boots_, ".log")));
}

absl::Status FirmwareLan::WaitForConsole(std::string_view text) {
  return WaitForConsole(text, kBootTimeout);
}

absl::Status FirmwareLan::WaitForConsole(std::string_view text,
                                         absl::Duration timeout) {
  return WaitForFileContains(
      sandbox_->Path("console.log"), text,
      WaitOptions{
          .timeout = timeout - (absl::Now() - client_started_),
          .strip_terminal_escapes = true,
          .abort_if = [&] { return sandbox_->CheckRunning(qemu_, "QEMU"); },
      });
}

std::string FirmwareLan::ProxyLog() const {
  return ReadFileOrEmpty(sandbox_->Path("proxy.log"));
}

std::string FirmwareLan::Console() const {
  return StripTerminalEscapes(ReadFileOrEmpty(sandbox_->Path("console.log")));
}

std::vector<std::string> FirmwareLan::TftpReadRequests() const {
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

std::vector<std::string> FirmwareLan::TftpReadRequestsOnceSeen(
    std::string_view file) {
  WaitForFileContains(sandbox_->Path("capture.log"),
                      absl::StrCat("RRQ \"", Sv(file), "\""),
                      absl::Seconds(5))
      .IgnoreError();  // the caller's expectation reports what is missing
  return TftpReadRequests();
}

void FirmwareLan::ExpectRepliesDecode() {
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

void FirmwareLan::ReportBootTime(std::string_view what) {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - client_started_);
  RecordProperty("boot_seconds", absl::StrFormat("%.1f", seconds));
  std::printf("%s after %.1f s\n", std::string(what).c_str(), seconds);
}

}  // namespace pxe::testing
