// pxe-pdhcp started the two ways a user starts it, in a namespace sandbox
// LAN, and stopped with SIGTERM and with SIGINT:
//   - the original command line without -d: it opens its sockets, forks
//     into the background (the command exits 0), logs to the system log and
//     answers clients; a signal ends it, with status 0, within a second, and
//     its stop summary reaches the system log;
//   - in the foreground (--foreground), idle: the same stop.
// (Under load: overload_test.cc.)
//
// The system log here is the test's own: the daemon runs in a private mount
// namespace (unshare --mount) whose /dev is a directory of the sandbox
// holding /dev/null and, as /dev/log, a datagram socket this test reads.
// Nothing reaches the host's syslog. The test process is a child subreaper
// (PR_SET_CHILD_SUBREAPER), so the daemon, orphaned by its own fork, becomes
// its child: the test sees the moment it exits and its exit status.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr char kServerCidr[] = "10.77.0.1/24";
constexpr char kServerIp[] = "10.77.0.1";
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
// What the issue asks of a stop, idle or not.
constexpr absl::Duration kStopLimit = absl::Seconds(1);

// A datagram socket standing in for /dev/log: what syslog(3) sends to it,
// one message a datagram ("<PRI>TIMESTAMP pxe-pdhcp[PID]: text").
class LogSocket {
 public:
  explicit LogSocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof(addr.sun_path)) return;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof(addr)) == 0;
  }
  ~LogSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogSocket(const LogSocket&) = delete;
  LogSocket& operator=(const LogSocket&) = delete;

  bool bound() const { return bound_; }

  // Everything received so far, a message a line.
  const std::string& Text() {
    char buffer[8192];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof(buffer), 0)) > 0) {
      text_.append(buffer, static_cast<size_t>(n)).append("\n");
    }
    return text_;
  }

  bool WaitFor(std::string_view needle, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Text().find(needle) == std::string::npos) {
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string text_;
};

// How a stop went.
struct Stop {
  bool exited = false;
  int status = 0;  // waitpid status, when exited
  absl::Duration took;
};

// Sends `signal` to our child `pid` (not one the Sandbox spawned) and reaps
// it, waiting up to 5 s.
Stop SignalAndReap(pid_t pid, int signal) {
  Stop stop;
  const absl::Time sent = absl::Now();
  if (::kill(pid, signal) != 0) return stop;
  while (absl::Now() - sent < absl::Seconds(5)) {
    const pid_t reaped = ::waitpid(pid, &stop.status, WNOHANG);
    if (reaped == pid) {
      stop.exited = true;
      break;
    }
    if (reaped < 0 && errno != EINTR) break;  // not our child
    absl::SleepFor(absl::Milliseconds(1));
  }
  stop.took = absl::Now() - sent;
  return stop;
}

// True when `pid` is our child and has not exited (not a zombie).
bool IsLiveChild(pid_t pid) {
  const std::string stat =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');  // the name may hold spaces
  if (paren == std::string::npos) return false;
  const std::vector<std::string> fields =
      absl::StrSplit(stat.substr(paren + 2), ' ');
  int parent = 0;
  // After the name: state (3), ppid (4).
  return fields.size() > 2 && fields[0] != "Z" &&
         absl::SimpleAtoi(fields[1], &parent) && parent == ::getpid();
}

std::string SignalName(int signal) {
  return signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "?";
}

// Parametrised by the signal that stops the daemon.
class RunModesTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces, a private mount namespace "
          "and runs pxe-pdhcp and pxe-probe's raw sockets inside them");
    }
    for (const char* program : {"ip", "unshare", "mount", "sh"}) {
      if (!FindProgram(program).ok()) {
        PXE_CANNOT_RUN(absl::StrCat(program, " is not installed"));
      }
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
    ASSERT_TRUE(srv.ok() && cli.ok());
    srv_ = *srv;
    cli_ = *cli;
    ASSERT_TRUE(sandbox_->AddVethPair(srv_, "v1", cli_, "v0").ok());
    ASSERT_TRUE(sandbox_->AddAddress(srv_, "v1", kServerCidr).ok());
  }

  // One BIOS client's DHCPDISCOVER gets pxe-pdhcp's offer.
  void ExpectAnswered() {
    absl::StatusOr<CommandResult> probe =
        sandbox_->RunIn(cli_,
                        {PXE_PROBE_BINARY, "-i", "v0", "--arch", "0",
                         "--timeout", "1", "--no-4011"},
                        absl::Seconds(10));
    ASSERT_TRUE(probe.ok()) << probe.status();
    EXPECT_EQ(probe->exit_code, 0) << probe->out << probe->err;
    EXPECT_THAT(probe->out,
                HasSubstr(absl::StrCat("proxy-offer from ", kServerIp, ": ")))
        << probe->out << probe->err;
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string cli_;
};

TEST_P(RunModesTest, DaemonizedServesLogsToSyslogAndStops) {
  const int signal = GetParam();
  // Orphans of our descendants become our children.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0) << std::strerror(errno);

  // The private /dev: null, and log bound to our socket.
  const std::string dev = sandbox_->Path("dev");
  std::filesystem::create_directory(dev);
  ASSERT_TRUE(WriteFile(dev + "/null", "").ok());
  ASSERT_TRUE(WriteFile(dev + "/log", "").ok());
  LogSocket syslog(sandbox_->Path("devlog"));
  ASSERT_TRUE(syslog.bound()) << std::strerror(errno);

  // The original command line, no -d: it returns once the daemon has its
  // sockets.
  const std::string script =
      "set -e; d=$1; shift; mount --bind /dev/null \"$d/dev/null\"; "
      "mount --bind \"$d/devlog\" \"$d/dev/log\"; mount --rbind \"$d/dev\" "
      "/dev; exec \"$@\"";
  const absl::StatusOr<CommandResult> start = sandbox_->RunIn(
      srv_,
      {"unshare", "--mount", "--propagation", "private", "sh", "-c", script,
       "sh", sandbox_->dir(), PXE_PDHCP_BINARY, "-i", "v1", "pxelinux.0"},
      kStartTimeout);
  ASSERT_TRUE(start.ok()) << start.status();
  ASSERT_EQ(start->exit_code, 0) << start->out << start->err;
  // Before it forks, it says on stderr what it serves.
  EXPECT_THAT(start->err, HasSubstr("serving v1 ")) << start->err;

  // The daemon: the one live process in the namespace (besides `ip netns
  // pids` itself), now our child.
  const absl::StatusOr<CommandResult> pids =
      sandbox_->RunIn(srv_, {"ip", "netns", "pids", srv_});
  ASSERT_TRUE(pids.ok() && pids->exit_code == 0);
  std::vector<pid_t> daemons;
  for (absl::string_view line :
       absl::StrSplit(pids->out, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && IsLiveChild(pid)) {
      daemons.push_back(pid);
    }
  }
  ASSERT_EQ(daemons.size(), 1u) << "processes in " << srv_ << ": " << pids->out;
  const pid_t daemon = daemons[0];

  ASSERT_TRUE(syslog.WaitFor(" ready, ", kStartTimeout)) << syslog.Text();
  // syslog(3)'s form: facility daemon (3), info (6): <30>; name and PID.
  EXPECT_THAT(syslog.Text(),
              ContainsRegex(absl::StrCat("<30>[^\n]* pxe-pdhcp\\[", daemon,
                                         "\\]: pxe-pdhcp [^\n]* ready, ")))
      << syslog.Text();
  ASSERT_NO_FATAL_FAILURE(ExpectAnswered());

  const Stop stop = SignalAndReap(daemon, signal);
  std::printf("[ figures  ] daemonized, %s: exited %.1f ms after the signal\n",
              SignalName(signal).c_str(),
              absl::ToDoubleMilliseconds(stop.took));
  ASSERT_TRUE(stop.exited) << "pxe-pdhcp still ran 5 s after "
                           << SignalName(signal);
  EXPECT_TRUE(WIFEXITED(stop.status) && WEXITSTATUS(stop.status) == 0)
      << "wait status " << stop.status;
  EXPECT_LT(stop.took, kStopLimit);
  ASSERT_TRUE(syslog.WaitFor("stopping: ", absl::Seconds(1))) << syslog.Text();
  EXPECT_THAT(syslog.Text(),
              ContainsRegex("stopping: 1 frames, 1 answered, 0 lost in the "
                            "ring"))
      << syslog.Text();
}

TEST_P(RunModesTest, ForegroundIdleStops) {
  const int signal = GetParam();
  const std::string log = sandbox_->Path("proxy.log");
  absl::StatusOr<pid_t> pid = sandbox_->Spawn(
      srv_, {PXE_PDHCP_BINARY, "--foreground", "-i", "v1", "pxelinux.0"}, log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  const absl::Status ready = WaitForFileContains(
      log, " ready, ", {.timeout = kStartTimeout, .abort_if = [&] {
                          return sandbox_->CheckRunning(*pid, "pxe-pdhcp");
                        }});
  ASSERT_TRUE(ready.ok()) << ready << "\n" << TailOfFile(log);
  ASSERT_NO_FATAL_FAILURE(ExpectAnswered());
  // Idle: nothing has come in for a while; the workers sleep in poll().
  absl::SleepFor(absl::Milliseconds(500));

  const absl::Time sent = absl::Now();
  ASSERT_EQ(::kill(*pid, signal), 0);
  while (sandbox_->IsRunning(*pid) && absl::Now() - sent < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const absl::Duration took = absl::Now() - sent;
  std::printf(
      "[ figures  ] foreground, idle, %s: exited %.1f ms after the "
      "signal\n",
      SignalName(signal).c_str(), absl::ToDoubleMilliseconds(took));
  const std::string status(sandbox_->CheckRunning(*pid, "pxe-pdhcp").message());
  ASSERT_FALSE(sandbox_->IsRunning(*pid))
      << "pxe-pdhcp still ran 5 s after " << SignalName(signal);
  EXPECT_THAT(status, HasSubstr("exited with status 0")) << TailOfFile(log);
  EXPECT_LT(took, kStopLimit);
  EXPECT_THAT(ReadFileOrEmpty(log),
              HasSubstr("stopping: 1 frames, 1 answered, 0 lost in the ring"))
      << TailOfFile(log);
}

INSTANTIATE_TEST_SUITE_P(Signals, RunModesTest,
                         ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return param.param == SIGTERM ? "Sigterm" : "Sigint";
                         });

}  // namespace
}  // namespace pxe::testing
