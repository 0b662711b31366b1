// Least privilege (tools/sandbox.h): each case runs in a forked child, so
// the filter and the dropped capabilities never reach the test process. A
// system call off the allow-list must kill the child with SIGSYS; the ones
// the daemon needs must still work. Capability and user cases need root and
// skip without it. Also --user, [server] user and --no-sandbox as parsed.
#include "tools/sandbox.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cannot_run.h"
#include "tests/testing/command.h"
#include "tools/config.h"

namespace pxe {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Exit codes of a child that was not killed.
constexpr int kSurvived = 42;
constexpr int kFilterFailed = 43;

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    return absl::StrCat("exited with ", code,
                        code == kSurvived       ? " (the call was allowed)"
                        : code == kFilterFailed ? " (the filter did not load)"
                                                : "");
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

// Forks; the child loads the daemon's filter, runs `body` and exits with its
// result. Returns the child's wait status.
int RunUnderFilter(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!LoadSyscallFilter().ok()) _exit(kFilterFailed);
    _exit(body());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool KilledBySigsys(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

// --- Forbidden: each of these must end the process. ---

struct Forbidden {
  const char* name;
  std::function<void()> call;
};

void PrintTo(const Forbidden& f, std::ostream* os) { *os << f.name; }

class ForbiddenCallTest : public ::testing::TestWithParam<Forbidden> {};

TEST_P(ForbiddenCallTest, KillsTheProcessWithSigsys) {
  const int status = RunUnderFilter([&] {
    GetParam().call();
    return kSurvived;
  });
  EXPECT_TRUE(KilledBySigsys(status))
      << GetParam().name << ": the child " << DescribeStatus(status);
}

INSTANTIATE_TEST_SUITE_P(
    Sandbox, ForbiddenCallTest,
    ::testing::Values(
        Forbidden{
            "execve",
            [] {
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              execv("/bin/true", argv);
            }},
        Forbidden{"fork", [] { syscall(SYS_fork); }},
        Forbidden{"clone_process",
                  [] { syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }},
        Forbidden{"tcp_socket", [] { socket(AF_INET, SOCK_STREAM, 0); }},
        Forbidden{"ipv6_socket", [] { socket(AF_INET6, SOCK_DGRAM, 0); }},
        Forbidden{"udp_socket", [] { socket(AF_INET, SOCK_DGRAM, 0); }},
        Forbidden{"netlink_socket",
                  [] { socket(AF_NETLINK, SOCK_RAW, 0 /*NETLINK_ROUTE*/); }},
        Forbidden{"open_for_writing",
                  [] {
                    syscall(SYS_openat, AT_FDCWD, "/tmp/pxe-sandbox-test",
                            O_WRONLY | O_CREAT, 0600);
                  }},
        Forbidden{"executable_mapping",
                  [] {
                    mmap(nullptr, 4096, PROT_READ | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                  }},
        Forbidden{"interface_ioctl",
                  [] {
                    ifreq req{};
                    std::strcpy(req.ifr_name, "lo");
                    ioctl(2, SIOCGIFMTU, &req);
                  }},
        Forbidden{"setuid", [] { syscall(SYS_setuid, 0); }},
        Forbidden{"signal_another_process",
                  [] { syscall(SYS_tgkill, 1, 1, 0); }},
        Forbidden{"unlink", [] { unlink("/tmp/pxe-sandbox-test-none"); }}),
    [](const ::testing::TestParamInfo<Forbidden>& param) {
      return std::string(param.param.name);
    });

// --- Allowed: what the daemon does after start-up. ---

TEST(SandboxFilterTest, WorkerThreadsLoggingReloadAndRingsWork) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const int status = RunUnderFilter([&] {
    timespec ts{};
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) return 1;
    // Logging: stderr and the like.
    const char text[] = "logged";
    if (write(p[1], text, sizeof(text)) != sizeof(text)) return 2;
    char back[sizeof(text)] = {};
    if (read(p[0], back, sizeof(back)) != sizeof(text)) return 3;
    if (std::strcmp(back, text) != 0) return 4;
    // A worker thread starts and is joined.
    int from_thread = 0;
    std::thread worker([&] { from_thread = 7; });
    worker.join();
    if (from_thread != 7) return 5;
    // SIGHUP reload: a file read again.
    const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 6;
    char buffer[256];
    if (read(fd, buffer, sizeof(buffer)) <= 0) return 7;
    close(fd);
    // Memory, as the allocator uses it.
    std::vector<char> big(8 << 20, 'x');
    if (big.back() != 'x') return 8;
    // Reopening a ring: an AF_PACKET socket and its options (EPERM
    // without CAP_NET_RAW: the call was still allowed). Never bound here.
    const int packet = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (packet >= 0) {
      const int version = TPACKET_V2;
      if (setsockopt(packet, SOL_PACKET, PACKET_VERSION, &version,
                     sizeof(version)) != 0) {
        return 9;
      }
      close(packet);
    } else if (errno != EPERM) {
      return 10;
    }
    // syslog's socket (nothing listens: connect may fail, and that is fine).
    const int log = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (log < 0) return 11;
    close(log);
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child " << DescribeStatus(status);
}

TEST(SandboxFilterTest, AbortStillEndsWithSigabrt) {
  // A failed check after start-up must read as an abort, not as a filter
  // kill: abort() signals this process itself.
  const int status = RunUnderFilter([] {
    abort();
    return kSurvived;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
      << "the child " << DescribeStatus(status);
}

TEST(SandboxFilterTest, TheListNamesTheLoopAndNoProcessControl) {
  const std::vector<std::string> names = AllowedSyscalls();
  EXPECT_THAT(
      names, ::testing::IsSupersetOf({"poll", "sendto", "getsockopt", "recvmsg",
                                      "futex", "openat", "socket", "clone"}));
  EXPECT_THAT(names, Not(::testing::Contains("execve")));
  EXPECT_THAT(names, Not(::testing::Contains("fork")));
  EXPECT_THAT(names, Not(::testing::Contains("setuid")));
}

// --- Capabilities and users (root only). ---

// Forks; the child runs `body` and sends back what it returns (e.g. its
// /proc/self/status after dropping privileges). "" when it died.
std::string RunInChild(const std::function<std::string()>& body,
                       int* wait_status = nullptr) {
  int p[2];
  if (pipe(p) != 0) return "";
  const pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    const std::string out = body();
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = write(p[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(p[0], buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (wait_status != nullptr) *wait_status = status;
  return out;
}

std::string ProcStatus() {
  std::string out;
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open /proc/self/status";
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  close(fd);
  return out;
}

constexpr char kOnlyNetRaw[] = "0000000000002000";

TEST(SandboxCapabilitiesTest, RootKeepsOnlyNetRaw) {
  if (geteuid() != 0) PXE_CANNOT_RUN("needs root: drops root's capabilities");
  const std::string status = RunInChild([] {
    const absl::Status s = KeepOnlyNetRaw();
    return s.ok() ? ProcStatus() : std::string(s.message());
  });
  EXPECT_THAT(status, AllOf(HasSubstr(absl::StrCat("CapEff:\t", kOnlyNetRaw)),
                            HasSubstr(absl::StrCat("CapPrm:\t", kOnlyNetRaw)),
                            HasSubstr("CapInh:\t0000000000000000"),
                            HasSubstr("CapAmb:\t0000000000000000")));
}

TEST(SandboxCapabilitiesTest, EnterSandboxAsRootBecomesNobody) {
  if (geteuid() != 0) PXE_CANNOT_RUN("needs root: switches user");
  int wait_status = 0;
  const std::string status = RunInChild(
      [] {
        absl::StatusOr<SandboxPlan> plan = PlanSandbox(true, "nobody");
        if (!plan.ok()) return std::string(plan.status().message());
        std::string notes;
        const absl::Status s = EnterSandbox(*plan, [&](std::string_view text) {
          absl::StrAppend(&notes, "note: ", std::string(text), "\n");
        });
        if (!s.ok()) return std::string(s.message());
        return absl::StrCat(notes, ProcStatus());
      },
      &wait_status);
  EXPECT_TRUE(WIFEXITED(wait_status)) << DescribeStatus(wait_status);
  EXPECT_THAT(status,
              AllOf(HasSubstr("Uid:\t65534\t65534\t65534\t65534"),
                    HasSubstr("Gid:\t65534\t65534\t65534\t65534"),
                    ::testing::ContainsRegex("Groups:[ \t]*\n"),
                    HasSubstr("NoNewPrivs:\t1"), HasSubstr("Seccomp:\t2"),
                    HasSubstr(absl::StrCat("CapEff:\t", kOnlyNetRaw)),
                    HasSubstr(absl::StrCat("CapPrm:\t", kOnlyNetRaw)),
                    HasSubstr(absl::StrCat("CapBnd:\t", kOnlyNetRaw)),
                    HasSubstr("note: least privilege: uid 65534 (nobody), "
                              "gid 65534, only CAP_NET_RAW")));
}

TEST(SandboxCapabilitiesTest, AnotherUserWithoutRootIsAClearError) {
  if (geteuid() != 0) PXE_CANNOT_RUN("needs root: becomes nobody first");
  const std::string message = RunInChild([] {
    if (setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      return std::string("cannot become nobody");
    }
    absl::StatusOr<SandboxPlan> other = PlanSandbox(true, "root");
    absl::StatusOr<SandboxPlan> self = PlanSandbox(true, "nobody");
    return absl::StrCat(
        other.ok() ? "root: planned" : other.status().message(), "\n",
        self.ok() ? (self->switch_to ? "nobody: switch" : "nobody: stays")
                  : self.status().message());
  });
  EXPECT_THAT(message,
              AllOf(HasSubstr("--user root: switching from uid 65534 to root "
                              "(uid 0) needs root"),
                    HasSubstr("nobody: stays")));
}

TEST(SandboxPlanTest, UnknownUserIsAClearError) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(true, "pxe-no-such-user");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("no such user \"pxe-no-such-user\""));
}

TEST(SandboxPlanTest, NoSandboxIgnoresTheUser) {
  absl::StatusOr<SandboxPlan> plan = PlanSandbox(false, "pxe-no-such-user");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->enabled);
  EXPECT_FALSE(plan->switch_to);
}

// The binary refuses an unknown user before it opens anything.
TEST(SandboxPlanTest, TheDaemonRefusesAnUnknownUserAtStartUp) {
  const ::pxe::testing::CommandResult result = ::pxe::testing::RunCommand(
      absl::StrCat(PXE_PDHCP_BINARY,
                   " --foreground --user pxe-no-such-user pxelinux.0"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output,
              AllOf(HasSubstr("pxe-pdhcp: no such user \"pxe-no-such-user\""),
                    Not(HasSubstr("serving")), Not(HasSubstr("ready"))));
}

// --- The command line and the file. ---

absl::StatusOr<DaemonConfig> Parse(std::vector<const char*> args) {
  return ParseCommandLine(args);
}

TEST(SandboxConfigTest, UserFromFlagAndFile) {
  absl::StatusOr<DaemonConfig> flag = Parse({"--user", "nobody", "x.0"});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->user, "nobody");
  EXPECT_TRUE(flag->sandbox);

  ::pxe::testing::TempFile file(
      "[server]\nuser = \"pxe-pdhcp\"\n[boot]\nfile = \"x.0\"\n");
  absl::StatusOr<DaemonConfig> from_file = Parse({"-c", file.path().c_str()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->user, "pxe-pdhcp");
  // The flag wins over the file.
  absl::StatusOr<DaemonConfig> both =
      Parse({"-c", file.path().c_str(), "--user", "nobody"});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->user, "nobody");
}

TEST(SandboxConfigTest, NoSandboxAndErrors) {
  absl::StatusOr<DaemonConfig> off = Parse({"--no-sandbox", "x.0"});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->sandbox);

  absl::StatusOr<DaemonConfig> empty = Parse({"--user=", "x.0"});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("--user needs a user name"));

  ::pxe::testing::TempFile number("[server]\nuser = 65534\n");
  absl::StatusOr<DaemonConfig> bad = Parse({"-c", number.path().c_str()});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("[server] user must be a string"));
}

TEST(SandboxConfigTest, HelpDocumentsTheOptions) {
  const std::string usage = UsageText();
  EXPECT_THAT(usage, AllOf(HasSubstr("--user NAME"), HasSubstr("CAP_NET_RAW"),
                           HasSubstr("--no-sandbox")));
}

}  // namespace
}  // namespace pxe
