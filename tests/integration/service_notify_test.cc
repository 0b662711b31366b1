// systemd's service protocol, spoken to a notification socket of the
// test's own in place of systemd's (NOTIFY_SOCKET and WATCHDOG_USEC, as
// systemd sets them for a Type=notify unit with WatchdogSec=): READY=1 once
// the daemon serves, RELOADING=1 then READY=1 around a SIGHUP reload,
// WATCHDOG=1 every half interval while every worker makes progress and none
// while one is stuck (stopped here with ptrace, as a hung thread would be),
// STOPPING=1 at SIGTERM. The daemon runs with its system call filter, as
// under systemd, which must let a stopped thread or process resume.
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The notification socket: a datagram socket bound to a path, as systemd's.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{.sun_family = AF_UNIX};
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address),
                              sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool ok() const { return bound_; }

  // The messages that arrive within `timeout`.
  std::vector<std::string> Receive(absl::Duration timeout) {
    std::vector<std::string> out;
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (ms <= 0) break;
      pollfd p{.fd = fd_, .events = POLLIN};
      if (poll(&p, 1, static_cast<int>(ms)) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n > 0) out.emplace_back(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  // Messages until one starts with `prefix` (included), or `timeout`.
  std::vector<std::string> ReceiveUntil(std::string_view prefix,
                                        absl::Duration timeout) {
    std::vector<std::string> out;
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      pollfd p{.fd = fd_, .events = POLLIN};
      if (poll(&p, 1, 50) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;
      out.emplace_back(buffer, static_cast<size_t>(n));
      if (out.back().starts_with(prefix)) break;
    }
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

int Count(const std::vector<std::string>& messages, std::string_view text) {
  int n = 0;
  for (const std::string& m : messages) n += m == text;
  return n;
}

// The thread of `pid` named `name` (its comm), or -1.
pid_t ThreadNamed(pid_t pid, const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"))) {
    std::string comm = ReadFileOrEmpty(task.path().string() + "/comm");
    if (absl::StripSuffix(comm, "\n") == name) {
      return static_cast<pid_t>(std::stol(task.path().filename().string()));
    }
  }
  return -1;
}

std::string Join(const std::vector<std::string>& messages) {
  std::string out;
  for (const std::string& m : messages) absl::StrAppend(&out, "[", m, "] ");
  return out;
}

TEST(ServiceNotifyTest, ReadyReloadWatchdogAndStop) {
  if (!IsRoot()) {
    PXE_CANNOT_RUN(
        "needs root: builds a network namespace, runs pxe-pdhcp in it and "
        "stops one of its threads with ptrace");
  }
  absl::StatusOr<std::unique_ptr<Sandbox>> made = Sandbox::Create();
  ASSERT_TRUE(made.ok()) << made.status();
  Sandbox& sandbox = **made;
  absl::StatusOr<std::string> srv = sandbox.AddNamespace("srv");
  absl::StatusOr<std::string> cli = sandbox.AddNamespace("cli");
  ASSERT_TRUE(srv.ok() && cli.ok());
  ASSERT_TRUE(sandbox.AddVethPair(*srv, "v1", *cli, "v0").ok());
  ASSERT_TRUE(sandbox.AddAddress(*srv, "v1", "10.77.0.1/24").ok());
  const std::string config = sandbox.Path("pxe-pdhcp.toml");
  ASSERT_TRUE(WriteFile(config, "[boot]\nfile = \"pxelinux.0\"\n").ok());

  NotifySocket notify(sandbox.Path("notify"));
  ASSERT_TRUE(notify.ok()) << "cannot bind " << sandbox.Path("notify");
  const std::string log = sandbox.Path("proxy.log");
  // WatchdogSec=2s: WATCHDOG=1 about every second.
  absl::StatusOr<pid_t> daemon = sandbox.Spawn(
      *srv,
      {"env", absl::StrCat("NOTIFY_SOCKET=", sandbox.Path("notify")),
       "WATCHDOG_USEC=2000000", PXE_PDHCP_BINARY, "--foreground", "--workers",
       "2", "-i", "v1", "-c", config},
      log);
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  // READY=1 once it serves, with the status systemctl shows.
  std::vector<std::string> got =
      notify.ReceiveUntil("READY=1", absl::Seconds(10));
  ASSERT_FALSE(got.empty()) << "no READY=1; log:\n" << TailOfFile(log);
  EXPECT_THAT(got.back(),
              ::testing::MatchesRegex(
                  "READY=1\nSTATUS=pxe-pdhcp [0-9.]+ ready, 2 workers"))
      << Join(got);
  EXPECT_THAT(ReadFileOrEmpty(log), HasSubstr("ready, 2 workers"));

  // The watchdog, while both workers run: about one a second.
  got = notify.Receive(absl::Milliseconds(3500));
  EXPECT_GE(Count(got, "WATCHDOG=1"), 2) << Join(got);
  EXPECT_LE(Count(got, "WATCHDOG=1"), 5) << Join(got);

  // A reload: RELOADING=1 (with the monotonic time), then READY=1 again.
  ASSERT_TRUE(WriteFile(config, "[boot]\nfile = \"other.0\"\n").ok());
  ASSERT_EQ(::kill(*daemon, SIGHUP), 0);
  got = notify.ReceiveUntil("READY=1", absl::Seconds(5));
  std::vector<std::string> reload;
  for (const std::string& m : got) {
    if (m != "WATCHDOG=1") reload.push_back(m);
  }
  ASSERT_EQ(reload.size(), 2u) << Join(got);
  EXPECT_THAT(reload[0],
              ::testing::MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  EXPECT_THAT(reload[1], StartsWith("READY=1\n"));
  ASSERT_TRUE(
      WaitForFileContains(log, "reloaded: policy", absl::Seconds(5)).ok())
      << TailOfFile(log);

  // One worker stuck: no WATCHDOG=1 while it is, and the log says which.
  const pid_t worker = ThreadNamed(*daemon, "pxe-worker-1");
  ASSERT_GT(worker, 0) << "no thread named pxe-worker-1";
  ASSERT_EQ(ptrace(PTRACE_SEIZE, worker, nullptr, nullptr), 0)
      << std::strerror(errno);
  ASSERT_EQ(ptrace(PTRACE_INTERRUPT, worker, nullptr, nullptr), 0);
  int status = 0;
  ASSERT_EQ(waitpid(worker, &status, __WALL), worker);
  // A check already under way may still see its last turns: let it pass.
  notify.Receive(absl::Milliseconds(1200));
  got = notify.Receive(absl::Milliseconds(3000));
  EXPECT_EQ(Count(got, "WATCHDOG=1"), 0) << Join(got);
  EXPECT_THAT(ReadFileOrEmpty(log),
              HasSubstr("worker 1 has made no progress for"));
  ASSERT_EQ(ptrace(PTRACE_DETACH, worker, nullptr, nullptr), 0);

  // Moving again: the watchdog is told again.
  got = notify.Receive(absl::Milliseconds(2500));
  EXPECT_GE(Count(got, "WATCHDOG=1"), 1) << Join(got) << TailOfFile(log);

  // Stopped and continued as a whole (job control, a debugger): its
  // interrupted system calls resume, within the system call filter, and the
  // watchdog is told again.
  ASSERT_EQ(::kill(*daemon, SIGSTOP), 0);
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_EQ(::kill(*daemon, SIGCONT), 0);
  got = notify.Receive(absl::Milliseconds(2500));
  EXPECT_GE(Count(got, "WATCHDOG=1"), 1) << Join(got) << TailOfFile(log);
  ASSERT_TRUE(sandbox.CheckRunning(*daemon, "pxe-pdhcp").ok())
      << TailOfFile(log);

  // SIGTERM: STOPPING=1, and a clean exit.
  ASSERT_EQ(::kill(*daemon, SIGTERM), 0);
  got = notify.ReceiveUntil("STOPPING=1", absl::Seconds(5));
  ASSERT_FALSE(got.empty()) << TailOfFile(log);
  EXPECT_EQ(got.back(), "STOPPING=1") << Join(got);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (sandbox.IsRunning(*daemon) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(std::string(sandbox.CheckRunning(*daemon, "pxe-pdhcp").message()),
              HasSubstr("exited with status 0"))
      << TailOfFile(log);
}

}  // namespace
}  // namespace pxe::testing
