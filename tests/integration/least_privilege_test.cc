// pxe-pdhcp with least privilege, as a user runs it, on LANs made of network
// namespaces: started as root with --user nobody, and with no root at all
// (setpriv: nobody holding only an ambient CAP_NET_RAW, as systemd's
// AmbientCapabilities= gives it), it boots real PXE firmware (QEMU's iPXE
// ROM), and /proc shows what it kept: uid nobody, only CAP_NET_RAW, no new
// privileges, a seccomp filter. Under that sandbox it answers a boot storm
// with two workers, reloads on SIGHUP, reopens the rings of an interface
// that was deleted and re-created, and exits cleanly on SIGTERM (its
// allow-list covers all of them); a forbidden system call made inside it
// after start-up kills it, where --no-sandbox lets the same call run.
//
// Needs root (and QEMU, ipxe-qemu, pxelinux, dnsmasq and tftpd-hpa for the
// firmware boots); skips, saying what is missing, otherwise. A daemon that
// changes its user loses its kill-on-parent-death guard: every one is
// stopped by PID at teardown, and the namespaces are deleted.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

#define ASSERT_OK_STATUS(expr)                                  \
  do {                                                          \
    const absl::Status pxe_assert_status_ = (expr);             \
    ASSERT_TRUE(pxe_assert_status_.ok()) << pxe_assert_status_; \
  } while (0)

constexpr char kServerDevice[] = "v1";  // in srv
constexpr char kPeerDevice[] = "v0";    // the other end: in lan or cli
constexpr char kBridge[] = "br0";       // in lan
constexpr char kTap[] = "tap0";         // in lan

constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kBootTimeout = absl::Seconds(150);

constexpr char kIpxeE1000Rom[] = "/usr/lib/ipxe/qemu/efi-e1000.rom";
constexpr char kPxelinux[] = "/usr/lib/PXELINUX/pxelinux.0";
constexpr char kLdlinuxBios[] = "/usr/lib/syslinux/modules/bios/ldlinux.c32";

// nobody holding only CAP_NET_RAW, as an ambient capability: no root at all.
const std::vector<std::string> kAsNobodyWithNetRaw = {
    "setpriv",        "--reuid=nobody",      "--regid=nogroup",
    "--clear-groups", "--inh-caps=+net_raw", "--ambient-caps=+net_raw"};

// /proc/<pid>/status as a user would read it.
std::string ProcStatus(pid_t pid) {
  return ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
}

// What the sandbox leaves a daemon running as nobody.
void ExpectLeastPrivilege(pid_t pid) {
  const std::string status = ProcStatus(pid);
  EXPECT_THAT(
      status,
      AllOf(HasSubstr("Uid:\t65534\t65534\t65534\t65534"),
            HasSubstr("Gid:\t65534\t65534\t65534\t65534"),
            ContainsRegex("Groups:[ \t]*\n"), HasSubstr("NoNewPrivs:\t1"),
            HasSubstr("Seccomp:\t2"), HasSubstr("CapEff:\t0000000000002000"),
            HasSubstr("CapPrm:\t0000000000002000"),
            HasSubstr("CapInh:\t0000000000000000"),
            HasSubstr("CapAmb:\t0000000000000000")))
      << status;
}

// Sends `signal` and waits (up to 10 s) for the process to end; returns how
// it ended, as Sandbox::CheckRunning says it ("... exited with status 0").
std::string SignalAndWaitForExit(Sandbox& sandbox, pid_t pid, int signal) {
  ::kill(pid, signal);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    absl::Status running = sandbox.CheckRunning(pid, "pxe-pdhcp");
    if (!running.ok()) return std::string(running.message());
    absl::SleepFor(absl::Milliseconds(50));
  }
  return "still running 10 s later";
}

class LeastPrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces, starts pxe-pdhcp as root "
          "and as nobody inside them");
    }
    for (const char* program : {"ip", "setpriv", "env"}) {
      if (!FindProgram(program).ok()) {
        PXE_CANNOT_RUN(absl::StrCat(
            "missing ", program, " (Debian: iproute2, util-linux, coreutils)"));
      }
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
    // nobody must reach the configuration file (a reload reads it as
    // nobody): the scratch directory may be searched, not listed.
    ASSERT_EQ(::chmod(sandbox_->dir().c_str(), 0711), 0);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    ASSERT_TRUE(srv.ok()) << srv.status();
    srv_ = *srv;
  }

  void TearDown() override {
    if (sandbox_ == nullptr) return;
    if (HasFailure()) {
      for (const char* file : {"proxy.log", "console.log", "dhcp.log"}) {
        std::printf("----- tail of %s -----\n%s\n", file,
                    TailOfFile(sandbox_->Path(file)).c_str());
      }
    }
    sandbox_.reset();  // stops every process by PID, deletes the namespaces
  }

  std::string ProxyLog() const {
    return ReadFileOrEmpty(sandbox_->Path("proxy.log"));
  }

  // A client namespace wired to srv's v1 (10.77.0.1/16; pxe-storm's clients
  // own 10.77.128.0/17).
  void MakeStormLan() {
    absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
    ASSERT_TRUE(cli.ok()) << cli.status();
    cli_ = *cli;
    ASSERT_OK_STATUS(
        sandbox_->AddVethPair(srv_, kServerDevice, cli_, kPeerDevice));
    ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, kServerDevice, "10.77.0.1/16"));
  }

  // A file nobody can read: writes `text` to <scratch>/etc/pxe-pdhcp.toml.
  std::string WriteConfig(const std::string& text) {
    const std::string dir = sandbox_->Path("etc");
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    const std::string path = dir + "/pxe-pdhcp.toml";
    const std::string next = path + ".next";
    EXPECT_TRUE(WriteFile(next, text).ok());
    ::chmod(next.c_str(), 0644);
    std::filesystem::rename(next, path);
    return path;
  }

  // Starts `argv` in srv, logging to proxy.log, and waits until it serves.
  pid_t StartDaemon(const std::vector<std::string>& argv) {
    absl::StatusOr<pid_t> pid =
        sandbox_->Spawn(srv_, argv, sandbox_->Path("proxy.log"));
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) return -1;
    const absl::Status ready = WaitForFileContains(
        sandbox_->Path("proxy.log"), " ready, ",
        WaitOptions{.timeout = kStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*pid, "pxe-pdhcp");
                    }});
    EXPECT_TRUE(ready.ok()) << ready;
    return ready.ok() ? *pid : -1;
  }

  // `clients` BIOS and UEFI clients from cli; the storm's JSON report.
  std::string Storm(int clients, int seed) {
    absl::StatusOr<CommandResult> storm = sandbox_->RunIn(
        cli_,
        {PXE_STORM_BINARY, "-i", kPeerDevice, "-n", absl::StrCat(clients),
         "--mix", "bios=1,uefi-x64=1", "--storm-window", "1", "--seed",
         absl::StrCat(seed), "--json"},
        absl::Seconds(60));
    EXPECT_TRUE(storm.ok()) << storm.status();
    if (!storm.ok()) return "";
    EXPECT_EQ(storm->exit_code, 0) << storm->err;
    return storm->out;
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string cli_;
};

// ---------------------------------------------------------------------------
// Real firmware: QEMU's iPXE ROM boots pxelinux.0 from the LAN.

class LeastPrivilegeFirmwareTest : public LeastPrivilegeTest {
 protected:
  void SetUp() override {
    LeastPrivilegeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::vector<std::string> missing;
    for (const char* program :
         {"ss", "dnsmasq", "in.tftpd", "qemu-system-x86_64"}) {
      if (!FindProgram(program).ok()) missing.push_back(program);
    }
    for (const char* file : {kIpxeE1000Rom, kPxelinux, kLdlinuxBios}) {
      if (::access(file, R_OK) != 0) missing.push_back(file);
    }
    if (!missing.empty()) {
      PXE_CANNOT_RUN(absl::StrCat(
          "missing ", absl::StrJoin(missing, ", "),
          " (Debian: iproute2 dnsmasq-base tftpd-hpa qemu-system-x86 "
          "ipxe-qemu pxelinux syslinux-common)"));
    }
    absl::StatusOr<std::string> lan = sandbox_->AddNamespace("lan");
    ASSERT_TRUE(lan.ok()) << lan.status();
    lan_ = *lan;
    ASSERT_OK_STATUS(sandbox_->AddBridge(lan_, kBridge));
    ASSERT_OK_STATUS(
        sandbox_->AddVethPair(lan_, kPeerDevice, srv_, kServerDevice));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kPeerDevice, kBridge));
    ASSERT_OK_STATUS(sandbox_->AddTap(lan_, kTap));
    ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan_, kTap, kBridge));
    ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, kServerDevice, "10.77.0.1/24"));

    // The boot loader SAYs a line unique to this run: seeing it proves
    // pxelinux.0 came over TFTP, ran, and fetched its configuration.
    std::random_device random;
    banner_ =
        absl::StrFormat("PXE-LEAST-PRIVILEGE-%d-%08x", ::getpid(), random());
    const std::string tftp = sandbox_->Path("tftp");
    ASSERT_TRUE(std::filesystem::create_directories(tftp + "/pxelinux.cfg"));
    ASSERT_OK_STATUS(CopyFile(kPxelinux, tftp + "/pxelinux.0"));
    ASSERT_OK_STATUS(CopyFile(kLdlinuxBios, tftp + "/ldlinux.c32"));
    ASSERT_OK_STATUS(WriteFile(tftp + "/pxelinux.cfg/default",
                               absl::StrCat("SERIAL 0 115200\nSAY ", banner_,
                                            "\nPROMPT 1\nTIMEOUT 0\n")));

    absl::StatusOr<pid_t> tftpd =
        sandbox_->Spawn(srv_,
                        {"in.tftpd", "--foreground", "--address",
                         "10.77.0.1:69", "--secure", tftp},
                        sandbox_->Path("tftpd.log"));
    ASSERT_TRUE(tftpd.ok()) << tftpd.status();
    ASSERT_OK_STATUS(sandbox_->WaitForUdpListener(srv_, 69, kStartTimeout));

    // The LAN's DHCP server: addresses only, no boot data.
    const std::string dhcp_log = sandbox_->Path("dhcp.log");
    absl::StatusOr<pid_t> dhcp = sandbox_->Spawn(
        srv_,
        {"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
         "--no-hosts", "--no-resolv",
         absl::StrCat("--interface=", kServerDevice), "--bind-interfaces",
         "--dhcp-range=10.77.0.100,10.77.0.200,255.255.255.0,1h", "--no-ping",
         absl::StrCat("--dhcp-leasefile=", sandbox_->Path("dhcp.leases")),
         absl::StrCat("--pid-file=", sandbox_->Path("dhcp.pid")),
         "--log-facility=-", "--log-dhcp"},
        dhcp_log);
    ASSERT_TRUE(dhcp.ok()) << dhcp.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        dhcp_log, "sockets bound exclusively to interface",
        WaitOptions{.timeout = kStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*dhcp, "LAN dnsmasq");
                    }}));
  }

  // Powers on a BIOS machine with QEMU's iPXE ROM and waits for the boot
  // loader's line on its serial console.
  absl::Status BootBiosClient() {
    const std::string console = sandbox_->Path("console.log");
    absl::StatusOr<pid_t> qemu = sandbox_->Spawn(
        lan_,
        {"qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256",
         "-nographic", "-monitor", "none", "-serial",
         absl::StrCat("file:", console), "-netdev",
         absl::StrCat("tap,id=n0,ifname=", kTap, ",script=no,downscript=no"),
         "-boot", "n", "-device", "e1000,netdev=n0,mac=52:54:00:77:00:30"},
        sandbox_->Path("qemu.log"));
    if (!qemu.ok()) return qemu.status();
    return WaitForFileContains(
        console, banner_,
        WaitOptions{
            .timeout = kBootTimeout,
            .strip_terminal_escapes = true,
            .abort_if = [&] { return sandbox_->CheckRunning(*qemu, "QEMU"); }});
  }

  std::string lan_;
  std::string banner_;
};

// The pxe-pdhcp offer for the BIOS machine, with the boot file in it.
constexpr char kBiosOffer[] =
    "type=discover[^\n]* arch=bios client=pxe ipxe=true[^\n]* sent=offer "
    "from=10\\.77\\.0\\.1 [^\n]*file=pxelinux\\.0";

TEST_F(LeastPrivilegeFirmwareTest, RootWithUserNobodyBootsFirmwareAsNobody) {
  const pid_t daemon = StartDaemon({PXE_PDHCP_BINARY, "-d", "--user", "nobody",
                                    "-i", kServerDevice, "pxelinux.0"});
  ASSERT_GT(daemon, 0);
  ExpectLeastPrivilege(daemon);
  // Root could drop the whole bounding set too.
  EXPECT_THAT(ProcStatus(daemon), HasSubstr("CapBnd:\t0000000000002000"));
  EXPECT_THAT(ProxyLog(), HasSubstr("least privilege: uid 65534 (nobody), "
                                    "gid 65534, only CAP_NET_RAW, no new "
                                    "privileges"));

  ASSERT_OK_STATUS(BootBiosClient());
  EXPECT_THAT(ProxyLog(), ContainsRegex(kBiosOffer));
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGTERM),
              HasSubstr("exited with status 0"));
  EXPECT_THAT(ProxyLog(), HasSubstr("stopping: "));
}

TEST_F(LeastPrivilegeFirmwareTest, NoRootAtAllBootsFirmware) {
  std::vector<std::string> argv = kAsNobodyWithNetRaw;
  argv.insert(argv.end(),
              {PXE_PDHCP_BINARY, "-d", "-i", kServerDevice, "pxelinux.0"});
  const pid_t daemon = StartDaemon(argv);
  ASSERT_GT(daemon, 0);
  ExpectLeastPrivilege(daemon);
  // Without CAP_SETPCAP the bounding set stays; the log says so.
  EXPECT_THAT(ProxyLog(),
              AllOf(HasSubstr("the capability bounding set keeps"),
                    HasSubstr("least privilege: uid 65534, gid 65534, only "
                              "CAP_NET_RAW")));

  ASSERT_OK_STATUS(BootBiosClient());
  EXPECT_THAT(ProxyLog(), ContainsRegex(kBiosOffer));
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGTERM),
              HasSubstr("exited with status 0"));
}

// ---------------------------------------------------------------------------
// The sandbox's allow-list over the daemon's whole life.

std::string Policy(const std::string& file) {
  return absl::StrCat("[boot]\nfile = \"", file, "\"\n");
}

TEST_F(LeastPrivilegeTest, StormReloadAndStopUnderTheSandbox) {
  ASSERT_NO_FATAL_FAILURE(MakeStormLan());
  const std::string config = WriteConfig(Policy("policy-a.0"));
  const pid_t daemon =
      StartDaemon({PXE_PDHCP_BINARY, "-d", "--user", "nobody", "--workers", "2",
                   "-i", kServerDevice, "-c", config});
  ASSERT_GT(daemon, 0);
  ExpectLeastPrivilege(daemon);

  const std::string before = Storm(40, 1);
  EXPECT_THAT(before, HasSubstr("\"booted_first_try\":40")) << before;
  EXPECT_THAT(ProxyLog(), HasSubstr(" file=policy-a.0 "));

  // A reload reads the file as nobody; a broken file changes nothing.
  WriteConfig("[boot\n");
  ::kill(daemon, SIGHUP);
  ASSERT_OK_STATUS(WaitForFileContains(
      sandbox_->Path("proxy.log"), "reload failed, the running policy stays",
      kStartTimeout));
  WriteConfig(Policy("policy-b.0"));
  ::kill(daemon, SIGHUP);
  ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("proxy.log"),
                                       "reloaded: policy", kStartTimeout));
  const std::string after = Storm(40, 2);
  EXPECT_THAT(after, HasSubstr("\"booted_first_try\":40")) << after;
  EXPECT_THAT(ProxyLog(), HasSubstr(" file=policy-b.0 "));

  ExpectLeastPrivilege(daemon);  // still there, still confined
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGTERM),
              HasSubstr("exited with status 0"));
  EXPECT_THAT(ProxyLog(), ContainsRegex("stopping: [0-9]+ frames"));
}

// CAP_NET_RAW is what it keeps this for.
TEST_F(LeastPrivilegeTest, RingsOfARecreatedInterfaceReopenAsNobody) {
  ASSERT_NO_FATAL_FAILURE(MakeStormLan());
  const pid_t daemon =
      StartDaemon({PXE_PDHCP_BINARY, "-d", "--user", "nobody", "--workers", "2",
                   "-i", kServerDevice, "pxelinux.0"});
  ASSERT_GT(daemon, 0);

  ASSERT_OK_STATUS(
      sandbox_->RunInOrError(srv_, {"ip", "link", "del", kServerDevice}));
  ASSERT_OK_STATUS(
      sandbox_->AddVethPair(srv_, kServerDevice, cli_, kPeerDevice));
  ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, kServerDevice, "10.77.0.1/16"));
  ASSERT_OK_STATUS(WaitForFileContains(
      sandbox_->Path("proxy.log"), "rings reopened",
      WaitOptions{.timeout = kStartTimeout, .abort_if = [&] {
                    return sandbox_->CheckRunning(daemon, "pxe-pdhcp");
                  }}));

  const std::string storm = Storm(40, 3);
  EXPECT_THAT(storm, HasSubstr("\"booted_first_try\":40")) << storm;
  ExpectLeastPrivilege(daemon);
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGTERM),
              HasSubstr("exited with status 0"));
}

// A call off the allow-list, made inside the running daemon (an LD_PRELOAD
// library starts a program on SIGUSR2), ends it; the same call with
// --no-sandbox runs, so the test sees the difference.
std::vector<std::string> WithForbiddenCallTrigger(
    std::vector<std::string> daemon) {
  std::string asan =
      std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  // The sanitizer build wants its runtime first; the library is plain.
  absl::StrAppend(&asan, asan.empty() ? "" : ":", "verify_asan_link_order=0");
  std::vector<std::string> argv = {
      "env", absl::StrCat("LD_PRELOAD=", PXE_FORBIDDEN_CALL_PRELOAD),
      absl::StrCat("ASAN_OPTIONS=", asan)};
  argv.insert(argv.end(), daemon.begin(), daemon.end());
  return argv;
}

TEST_F(LeastPrivilegeTest, AForbiddenCallAfterStartUpKillsTheDaemon) {
  ASSERT_NO_FATAL_FAILURE(MakeStormLan());
  const pid_t daemon = StartDaemon(
      WithForbiddenCallTrigger({PXE_PDHCP_BINARY, "-d", "--user", "nobody",
                                "-i", kServerDevice, "pxelinux.0"}));
  ASSERT_GT(daemon, 0);
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGUSR2),
              HasSubstr("was killed by signal 31"));
  EXPECT_THAT(ProxyLog(), Not(HasSubstr("forbidden-call-ran")));
}

TEST_F(LeastPrivilegeTest, WithoutTheSandboxTheSameCallRuns) {
  ASSERT_NO_FATAL_FAILURE(MakeStormLan());
  const pid_t daemon = StartDaemon(
      WithForbiddenCallTrigger({PXE_PDHCP_BINARY, "-d", "--no-sandbox", "-i",
                                kServerDevice, "pxelinux.0"}));
  ASSERT_GT(daemon, 0);
  EXPECT_THAT(ProxyLog(), HasSubstr("sandbox off (--no-sandbox)"));
  EXPECT_THAT(ProcStatus(daemon), HasSubstr("Seccomp:\t0"));
  EXPECT_THAT(SignalAndWaitForExit(*sandbox_, daemon, SIGUSR2),
              HasSubstr("exited with status 0"));
  EXPECT_THAT(ProxyLog(), HasSubstr("forbidden-call-ran"));
}

// ---------------------------------------------------------------------------
// --user without root.

TEST_F(LeastPrivilegeTest, WithoutRootUserMayOnlyNameItself) {
  ASSERT_NO_FATAL_FAILURE(MakeStormLan());
  std::vector<std::string> other = kAsNobodyWithNetRaw;
  other.insert(other.end(), {PXE_PDHCP_BINARY, "-d", "--user", "daemon", "-i",
                             kServerDevice, "pxelinux.0"});
  absl::StatusOr<CommandResult> refused = sandbox_->RunIn(srv_, other);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, 1);
  EXPECT_THAT(refused->err,
              AllOf(HasSubstr("pxe-pdhcp: --user daemon: switching from uid "
                              "65534 to daemon"),
                    HasSubstr("needs root")));
  EXPECT_THAT(refused->err, Not(HasSubstr("serving")));

  std::vector<std::string> self = kAsNobodyWithNetRaw;
  self.insert(self.end(), {PXE_PDHCP_BINARY, "-d", "--user", "nobody", "-i",
                           kServerDevice, "pxelinux.0"});
  const pid_t daemon = StartDaemon(self);
  ASSERT_GT(daemon, 0);
  ExpectLeastPrivilege(daemon);
  EXPECT_THAT(ProxyLog(), HasSubstr("least privilege: uid 65534 (nobody)"));
}

}  // namespace
}  // namespace pxe::testing
