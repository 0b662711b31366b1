#include "tests/integration/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/status_macros.h"

namespace pxe::testing {
namespace {

constexpr char kNetnsDir[] = "/run/netns";
constexpr char kNamePrefix[] = "pxe-sbx-";
constexpr size_t kMaxDeviceName = 15;  // IFNAMSIZ - 1
constexpr absl::Duration kStopGrace = absl::Seconds(2);
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

// ---------------------------------------------------------------------------
// Emergency cleanup. When the test process dies from a signal or calls exit()
// before destructors run, this kills what we spawned and unmounts what we
// created. It must be async-signal-safe, so it works on fixed arrays filled
// in by the normal code paths (which stay the source of truth).

constexpr int kMaxTrackedPids = 128;
constexpr int kMaxTrackedNamespaces = 32;
constexpr size_t kNsPathMax = 192;

std::array<std::atomic<pid_t>, kMaxTrackedPids> g_pids{};

struct NamespaceSlot {
  // 0 free, 1 being written, 2 ready (the path may be used).
  std::atomic<int> state{0};
  char path[kNsPathMax] = {};
};
std::array<NamespaceSlot, kMaxTrackedNamespaces> g_namespaces;

constexpr std::array kFatalSignals = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE,
                                      SIGILL,  SIGTERM, SIGINT, SIGHUP};
struct sigaction g_previous[NSIG];

void TrackPid(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
  // Full: the destructor still stops it; only the emergency path misses it.
}

void UntrackPid(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void TrackNamespace(const std::string& name) {
  const std::string path = absl::StrCat(kNetnsDir, "/", name);
  if (path.size() >= kNsPathMax) return;
  for (auto& slot : g_namespaces) {
    int expected = 0;
    if (!slot.state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(slot.path, path.c_str(), path.size() + 1);
    slot.state.store(2);
    return;
  }
}

void UntrackNamespace(const std::string& name) {
  const std::string path = absl::StrCat(kNetnsDir, "/", name);
  for (auto& slot : g_namespaces) {
    if (slot.state.load() == 2 && path == slot.path) {
      slot.state.store(0);
      return;
    }
  }
}

// Async-signal-safe: kill(2), umount2(2) and unlink(2) only. Killed children
// are left for init to reap; the namespace mounts go away at once, the
// namespaces themselves as soon as their last process is gone.
void EmergencyCleanup() {
  for (auto& slot : g_pids) {
    const pid_t pid = slot.exchange(0);
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  for (auto& slot : g_namespaces) {
    int expected = 2;
    if (!slot.state.compare_exchange_strong(expected, 1)) continue;
    ::umount2(slot.path, MNT_DETACH);
    ::unlink(slot.path);
    slot.state.store(0);
  }
}

void OnFatalSignal(int sig) {
  const int saved_errno = errno;
  EmergencyCleanup();
  // Hand the signal to whoever had it before (the default action, or e.g. a
  // sanitizer's handler): it is delivered again once this handler returns.
  ::sigaction(sig, &g_previous[sig], nullptr);
  ::raise(sig);
  errno = saved_errno;
}

void InstallEmergencyCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : kFatalSignals) {
      struct sigaction previous = {};
      if (::sigaction(sig, nullptr, &previous) != 0) continue;
      // Someone (nohup, a parent shell) wants this signal ignored: a handler
      // would turn an ignored signal into a torn-down sandbox mid-test.
      if (previous.sa_handler == SIG_IGN) continue;
      g_previous[sig] = previous;
      struct sigaction action = {};
      action.sa_handler = OnFatalSignal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESTART;
      ::sigaction(sig, &action, nullptr);
    }
    std::atexit(EmergencyCleanup);
  });
}

// ---------------------------------------------------------------------------
// Processes.

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("ended with wait status ", status);
}

// Forks and execs argv[0] (a full path) with the given stdin/stdout/stderr.
// The child dies with this process (PR_SET_PDEATHSIG survives execve of a
// program that is not set-user-ID; the program loses it if it changes its
// user ID), so even SIGKILL of the test leaves no orphan behind. An exec
// failure is reported here, not as an exit status.
absl::StatusOr<pid_t> StartChild(const std::vector<std::string>& argv,
                                 int stdin_fd, int stdout_fd, int stderr_fd) {
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    cargv.push_back(const_cast<char*>(arg.c_str()));
  }
  cargv.push_back(nullptr);

  int exec_error_pipe[2];
  if (::pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(errno)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(exec_error_pipe[0]);
    ::close(exec_error_pipe[1]);
    return absl::InternalError(absl::StrCat("fork: ", ErrnoText(err)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to execv.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent already died
    ::dup2(stdin_fd, 0);
    ::dup2(stdout_fd, 1);
    ::dup2(stderr_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(cargv[0], cargv.data());
    const int err = errno;
    [[maybe_unused]] ssize_t n = ::write(exec_error_pipe[1], &err, sizeof(err));
    ::_exit(127);
  }
  TrackPid(pid);
  ::close(exec_error_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_error_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(exec_error_pipe[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    UntrackPid(pid);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute ", argv[0], ": ", ErrnoText(child_errno)));
  }
  return pid;
}

// Runs a full argv (argv[0] a path) to completion with captured output.
absl::StatusOr<CommandResult> RunArgv(const std::vector<std::string>& argv,
                                      absl::Duration timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(errno)));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(err)));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  absl::StatusOr<pid_t> pid =
      StartChild(argv, devnull, out_pipe[1], err_pipe[1]);
  ::close(devnull);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (!pid.ok()) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return pid.status();
  }

  CommandResult result;
  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      result.timed_out = true;
      break;
    }
    const int ready =
        ::poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (result.timed_out) ::kill(*pid, SIGKILL);
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  UntrackPid(*pid);
  if (!result.timed_out && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::string Quote(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ");
}

bool PidAlive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

absl::Status CheckDeviceName(const std::string& dev) {
  if (dev.empty() || dev.size() > kMaxDeviceName) {
    return absl::InvalidArgumentError(
        absl::StrCat("device name \"", dev, "\" must have 1 to ",
                     kMaxDeviceName, " characters"));
  }
  for (char c : dev) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_' || c == '.')) {
      return absl::InvalidArgumentError(
          absl::StrCat("device name \"", dev, "\" has a character other than ",
                       "letters, digits, '-', '_' and '.'"));
    }
  }
  return absl::OkStatus();
}

// Kills whatever still runs in one of our namespaces: descendants of what
// we spawned that outlived it (in.tftpd's per-transfer children), or
// processes of a test that was killed. Nothing else can be in there. They are
// not our children, so this waits (up to 1 s) by polling, not waitpid.
void KillProcessesIn(const std::string& ip_path, const std::string& ns) {
  absl::StatusOr<CommandResult> pids =
      RunArgv({ip_path, "netns", "pids", ns}, absl::Seconds(10));
  if (!pids.ok() || pids->exit_code != 0) return;
  std::vector<pid_t> victims;
  for (absl::string_view line :
       absl::StrSplit(pids->out, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 1 && pid != ::getpid()) {
      victims.push_back(pid);
      ::kill(pid, SIGKILL);
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  for (pid_t pid : victims) {
    while (PidAlive(pid) && absl::Now() < deadline) {
      // Our own child (reparented grandchildren are not) must be reaped.
      ::waitpid(pid, nullptr, WNOHANG);
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
}

// The PID in a name of ours ("pxe-sbx-<pid>-..."), or 0.
pid_t OwnerPid(const std::string& name) {
  if (!absl::StartsWith(name, kNamePrefix)) return 0;
  const std::vector<std::string> parts =
      absl::StrSplit(name.substr(sizeof(kNamePrefix) - 1), '-');
  int pid = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) {
    return 0;
  }
  return pid;
}

// Names in `dir` made by sandboxes of processes that no longer exist.
std::vector<std::string> StaleNames(const std::string& dir) {
  std::vector<std::string> stale;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const pid_t owner = OwnerPid(name);
    if (owner > 0 && !PidAlive(owner)) stale.push_back(name);
  }
  return stale;
}

// A test killed with SIGKILL (a ctest timeout, the OOM killer) cannot clean
// up after itself: its children die with it (PR_SET_PDEATHSIG) but its
// namespaces and scratch directory stay. The next sandbox on the host
// removes them. Only names of our own form whose PID is gone are touched.
void DeleteStaleSandboxes(const std::string& ip_path,
                          const std::string& scratch_base, bool keep_dirs) {
  for (const std::string& ns : StaleNames(kNetnsDir)) {
    KillProcessesIn(ip_path, ns);
    (void)RunArgv({ip_path, "netns", "delete", ns}, absl::Seconds(10));
  }
  if (keep_dirs) return;
  for (const std::string& name : StaleNames(scratch_base)) {
    std::error_code ignored;
    std::filesystem::remove_all(absl::StrCat(scratch_base, "/", name), ignored);
  }
}

bool KeepScratchDirs() {
  const char* keep = std::getenv("PXE_SANDBOX_KEEP");
  return keep != nullptr && std::string_view(keep) == "1";
}

std::string ScratchBase() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

std::atomic<int> g_sandbox_count{0};

}  // namespace

// ---------------------------------------------------------------------------
// Sandbox.

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::Create() {
  if (!IsRoot()) {
    return absl::PermissionDeniedError(
        "network sandboxes need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)");
  }
  PXE_ASSIGN_OR_RETURN(std::string ip_path, FindProgram("ip"));
  InstallEmergencyCleanup();
  DeleteStaleSandboxes(ip_path, ScratchBase(), KeepScratchDirs());

  const std::string id =
      absl::StrCat(kNamePrefix, ::getpid(), "-", ++g_sandbox_count);
  std::string pattern = absl::StrCat(ScratchBase(), "/", id, "-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", pattern, ": ", ErrnoText(errno)));
  }
  // Daemons that drop privileges (in.tftpd runs as nobody) still need to
  // reach the files the test puts here.
  ::chmod(pattern.c_str(), 0755);
  return std::unique_ptr<Sandbox>(
      new Sandbox(id, std::move(pattern), std::move(ip_path)));
}

Sandbox::Sandbox(std::string id, std::string dir, std::string ip_path)
    : id_(std::move(id)), dir_(std::move(dir)), ip_path_(std::move(ip_path)) {}

Sandbox::~Sandbox() { Teardown(); }

std::string Sandbox::Path(std::string_view name) const {
  return absl::StrCat(dir_, "/", Sv(name));
}

absl::Status Sandbox::CheckOurs(const std::string& ns) const {
  for (const std::string& ours : namespaces_) {
    if (ours == ns) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", ns, "\" is not a namespace of sandbox ", id_));
}

absl::Status Sandbox::Ip(const std::string& ns,
                         const std::vector<std::string>& args) {
  PXE_RETURN_IF_ERROR(CheckOurs(ns));
  // `ip -n NS` switches to NS before it does anything, so the command cannot
  // act on the test's own namespace.
  std::vector<std::string> argv = {ip_path_, "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  PXE_ASSIGN_OR_RETURN(CommandResult result, RunArgv(argv, absl::Seconds(10)));
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(Quote(argv), result.timed_out ? " timed out" : " failed",
                     ": ", result.err));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Sandbox::AddNamespace(std::string_view role) {
  if (torn_down_) return absl::FailedPreconditionError("sandbox torn down");
  if (role.empty()) return absl::InvalidArgumentError("empty namespace role");
  for (char c : role) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("namespace role \"", Sv(role), "\" is not [a-z0-9]+"));
    }
  }
  const std::string ns = absl::StrCat(id_, "-", Sv(role));
  if (CheckOurs(ns).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("namespace ", ns));
  }
  PXE_ASSIGN_OR_RETURN(
      CommandResult added,
      RunArgv({ip_path_, "netns", "add", ns}, absl::Seconds(10)));
  if (added.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("ip netns add ", ns, " failed: ", added.err));
  }
  namespaces_.push_back(ns);
  TrackNamespace(ns);

  PXE_RETURN_IF_ERROR(Ip(ns, {"link", "set", "lo", "up"}));
  // "default" covers devices created later, "all" the ones that exist now.
  // Without IPv6 our own daemons stay quiet (no link-local addresses, no
  // neighbour or router solicitations): captures hold only what a test is
  // about. A kernel without IPv6 has nothing to disable.
  if (std::filesystem::exists("/proc/sys/net/ipv6")) {
    PXE_RETURN_IF_ERROR(RunInOrError(
        ns, {"sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"}));
  }
  return ns;
}

absl::Status Sandbox::AddVethPair(const std::string& ns_a,
                                  const std::string& dev_a,
                                  const std::string& ns_b,
                                  const std::string& dev_b) {
  PXE_RETURN_IF_ERROR(CheckDeviceName(dev_a));
  PXE_RETURN_IF_ERROR(CheckDeviceName(dev_b));
  PXE_RETURN_IF_ERROR(CheckOurs(ns_b));
  // Both ends are born in their namespaces: no moment in the test's own.
  PXE_RETURN_IF_ERROR(Ip(ns_a, {"link", "add", dev_a, "type", "veth", "peer",
                                "name", dev_b, "netns", ns_b}));
  PXE_RETURN_IF_ERROR(Ip(ns_a, {"link", "set", dev_a, "up"}));
  return Ip(ns_b, {"link", "set", dev_b, "up"});
}

absl::Status Sandbox::AddBridge(const std::string& ns,
                                const std::string& bridge) {
  PXE_RETURN_IF_ERROR(CheckDeviceName(bridge));
  // STP off (the default, said explicitly): ports forward at once instead of
  // spending forward_delay in listening/learning while a client times out.
  PXE_RETURN_IF_ERROR(
      Ip(ns, {"link", "add", bridge, "type", "bridge", "stp_state", "0"}));
  return Ip(ns, {"link", "set", bridge, "up"});
}

absl::Status Sandbox::AddTap(const std::string& ns, const std::string& tap) {
  PXE_RETURN_IF_ERROR(CheckDeviceName(tap));
  PXE_RETURN_IF_ERROR(Ip(ns, {"tuntap", "add", "dev", tap, "mode", "tap"}));
  return Ip(ns, {"link", "set", tap, "up"});
}

absl::Status Sandbox::AttachToBridge(const std::string& ns,
                                     const std::string& dev,
                                     const std::string& bridge) {
  PXE_RETURN_IF_ERROR(CheckDeviceName(dev));
  PXE_RETURN_IF_ERROR(CheckDeviceName(bridge));
  return Ip(ns, {"link", "set", dev, "master", bridge});
}

absl::Status Sandbox::AddAddress(const std::string& ns, const std::string& dev,
                                 const std::string& cidr) {
  PXE_RETURN_IF_ERROR(CheckDeviceName(dev));
  return Ip(ns, {"address", "add", cidr, "dev", dev});
}

absl::StatusOr<CommandResult> Sandbox::RunIn(
    const std::string& ns, const std::vector<std::string>& argv,
    absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  PXE_RETURN_IF_ERROR(CheckOurs(ns));
  PXE_ASSIGN_OR_RETURN(std::string program, FindProgram(argv[0]));
  std::vector<std::string> full = {ip_path_, "netns", "exec", ns, program};
  full.insert(full.end(), argv.begin() + 1, argv.end());
  return RunArgv(full, timeout);
}

absl::Status Sandbox::RunInOrError(const std::string& ns,
                                   const std::vector<std::string>& argv,
                                   absl::Duration timeout) {
  PXE_ASSIGN_OR_RETURN(CommandResult result, RunIn(ns, argv, timeout));
  if (result.timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("in ", ns, ": ", Quote(argv), " timed out after ",
                     absl::FormatDuration(timeout)));
  }
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat("in ", ns, ": ", Quote(argv),
                                            " exited with ", result.exit_code,
                                            ": ", result.err));
  }
  return absl::OkStatus();
}

absl::StatusOr<pid_t> Sandbox::Spawn(const std::string& ns,
                                     const std::vector<std::string>& argv,
                                     const std::string& log_path) {
  if (torn_down_) return absl::FailedPreconditionError("sandbox torn down");
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  PXE_RETURN_IF_ERROR(CheckOurs(ns));
  PXE_ASSIGN_OR_RETURN(std::string program, FindProgram(argv[0]));
  std::vector<std::string> full = {ip_path_, "netns", "exec", ns, program};
  full.insert(full.end(), argv.begin() + 1, argv.end());

  const int log_fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", log_path, ": ", ErrnoText(errno)));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // `ip netns exec` execs the command in place: the PID is the command's.
  absl::StatusOr<pid_t> pid = StartChild(full, devnull, log_fd, log_fd);
  ::close(devnull);
  ::close(log_fd);
  if (!pid.ok()) return pid.status();
  running_.push_back(*pid);
  return *pid;
}

bool Sandbox::IsRunning(pid_t pid) {
  if (exit_status_.contains(pid)) return false;
  int status = 0;
  const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
  if (reaped == 0) return true;
  if (reaped == pid) {
    exit_status_[pid] = status;
    std::erase(running_, pid);
    UntrackPid(pid);
  }
  return false;  // reaped now, or not our child at all
}

absl::Status Sandbox::CheckRunning(pid_t pid, std::string_view what) {
  if (IsRunning(pid)) return absl::OkStatus();
  auto it = exit_status_.find(pid);
  return absl::FailedPreconditionError(
      absl::StrCat(Sv(what), " (pid ", pid, ") ",
                   it == exit_status_.end() ? std::string("is not running")
                                            : DescribeWaitStatus(it->second)));
}

void Sandbox::Stop(pid_t pid) {
  if (!IsRunning(pid)) return;
  ::kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + kStopGrace;
  while (absl::Now() < deadline) {
    if (!IsRunning(pid)) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_[pid] = status;
  std::erase(running_, pid);
  UntrackPid(pid);
}

absl::Status Sandbox::WaitForUdpListener(const std::string& ns, int port,
                                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string filter = absl::StrCat("sport = :", port);
  while (true) {
    PXE_ASSIGN_OR_RETURN(CommandResult result,
                         RunIn(ns, {"ss", "-H", "-n", "-l", "-u", filter}));
    if (result.exit_code == 0 && !result.out.empty()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("nothing listens on UDP port ", port, " in ", ns,
                       " after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(kPollInterval);
  }
}

void Sandbox::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;

  // All at once, newest first (clients before the servers they talk to), so
  // the 2 s grace is spent once, not once per process.
  std::vector<pid_t> pids(running_.rbegin(), running_.rend());
  for (pid_t pid : pids) {
    if (IsRunning(pid)) ::kill(pid, SIGTERM);
  }
  const absl::Time deadline = absl::Now() + kStopGrace;
  for (pid_t pid : pids) {
    while (IsRunning(pid) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  for (pid_t pid : pids) Stop(pid);  // SIGKILL for whatever is left

  // Deleting a namespace destroys its veth ends (and their peers), bridges
  // and taps once no process holds it any more.
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    KillProcessesIn(ip_path_, *it);
    absl::StatusOr<CommandResult> deleted =
        RunArgv({ip_path_, "netns", "delete", *it}, absl::Seconds(10));
    if (!deleted.ok() || deleted->exit_code != 0) {
      const std::string path = absl::StrCat(kNetnsDir, "/", *it);
      ::umount2(path.c_str(), MNT_DETACH);
      ::unlink(path.c_str());
    }
    UntrackNamespace(*it);
  }
  namespaces_.clear();

  if (KeepScratchDirs()) {
    std::fprintf(stderr, "sandbox %s: kept %s\n", id_.c_str(), dir_.c_str());
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

// ---------------------------------------------------------------------------
// Files and waiting.

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string StripTerminalEscapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\r') {
      ++i;
    } else if (c == '\b') {
      // What the screen shows: iPXE erases its countdown with "\b \b".
      if (!out.empty() && out.back() != '\n') out.pop_back();
      ++i;
    } else if (c == '\x1b') {
      ++i;
      if (i < text.size() && text[i] == '[') {
        // CSI: parameters and intermediates, then one final byte @..~.
        ++i;
        while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) {
          ++i;
        }
        ++i;
      } else if (i < text.size()) {
        ++i;  // a two-byte escape such as ESC c (reset)
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  std::string text = StripTerminalEscapes(ReadFileOrEmpty(path));
  if (text.size() > max_bytes) {
    text = absl::StrCat("...", text.substr(text.size() - max_bytes));
  }
  return text;
}

absl::Status WaitForFileContains(const std::string& path,
                                 std::string_view needle,
                                 absl::Duration timeout) {
  return WaitForFileContains(path, needle, WaitOptions{.timeout = timeout});
}

absl::Status WaitForFileContains(const std::string& path,
                                 std::string_view needle,
                                 const WaitOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  while (true) {
    std::string text = ReadFileOrEmpty(path);
    if (options.strip_terminal_escapes) text = StripTerminalEscapes(text);
    if (text.find(needle) != std::string::npos) return absl::OkStatus();
    if (options.abort_if) PXE_RETURN_IF_ERROR(options.abort_if());
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("\"", Sv(needle), "\" did not appear in ", path,
                       " within ", absl::FormatDuration(options.timeout)));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::Status WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::copy_file(
      from, to, std::filesystem::copy_options::overwrite_existing, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot copy ", from, " to ", to, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FindProgram(std::string_view name) {
  if (name.find('/') != std::string_view::npos) {
    if (::access(std::string(name).c_str(), X_OK) == 0)
      return std::string(name);
    return absl::NotFoundError(absl::StrCat(Sv(name), " is not executable"));
  }
  const char* path_env = std::getenv("PATH");
  std::vector<std::string> dirs = absl::StrSplit(
      path_env != nullptr ? path_env : "", ':', absl::SkipEmpty());
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                          "/usr/bin", "/sbin", "/bin"}) {
    dirs.push_back(dir);
  }
  for (const std::string& dir : dirs) {
    const std::string candidate = absl::StrCat(dir, "/", Sv(name));
    struct stat info;
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat(Sv(name), " not found in PATH"));
}

bool IsRoot() { return ::geteuid() == 0; }

double JsonNumber(const std::string& json, const std::string& section,
                  const std::string& key) {
  const size_t at = json.find("\"" + section + "\":{");
  if (at == std::string::npos) return -1;
  const size_t end = json.find('}', at);
  const size_t k = json.find("\"" + key + "\":", at);
  if (k == std::string::npos || k > end) return -1;
  double value = -1;
  std::sscanf(json.c_str() + k + key.size() + 3, " %lf", &value);
  return value;
}

}  // namespace pxe::testing
