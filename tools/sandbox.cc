#include "tools/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// The sanitizer build (PXE_SANITIZE: ASan with UBSan) needs more system
// calls; see SanitizerRules().
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

absl::Status Errno(std::string_view step) {
  const int e = errno;
  return absl::InternalError(absl::StrCat(Sv(step), ": ", std::strerror(e)));
}

// ---------------------------------------------------------------------------
// The system call allow-list.
//
// Found with `strace -f` on the daemon in a network namespace, keeping what
// it made after the point where the filter loads: start-up, boot storms
// through two workers, SIGHUP reloads (good and broken files), its interface
// deleted and re-created (the rings reopened), the syslog daemon going away
// and coming back, and SIGTERM; then the same runs under the filter, with
// any call off the list reported instead of killing (none was). A few calls
// it did not make in those runs are here for a path glibc takes on its own;
// each says which. Anything else kills the process with SIGSYS.

struct Rule {
  const char* name;
  // All must hold; empty: any arguments. Several rules for one system call:
  // any of them.
  std::vector<scmp_arg_cmp> args = {};
  uint32_t action = SCMP_ACT_ALLOW;
};

scmp_arg_cmp Eq(unsigned arg, uint64_t value) {
  return {.arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0};
}

// (argument & mask) == value.
scmp_arg_cmp Masked(unsigned arg, uint64_t mask, uint64_t value) {
  return {
      .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value};
}

// socket()'s type without SOCK_CLOEXEC and SOCK_NONBLOCK.
constexpr uint64_t kSocketTypeMask = 0xF;

std::vector<Rule> ReleaseRules() {
  return {
      // The worker loop: sleep on the rings and the wake-up eventfd (poll),
      // flush the TX ring (sendto), read PACKET_STATISTICS and a ring's
      // SO_ERROR (getsockopt), read and write the eventfd. The clock comes
      // from the vDSO, which falls back to the system call on clock sources
      // it cannot read.
      {"poll"},
      // A poll() interrupted by a stop (SIGSTOP and SIGCONT, a debugger)
      // resumes through restart_syscall: without it, the first SIGCONT would
      // end the process.
      {"restart_syscall"},
      {"sendto"},
      {"getsockopt"},
      {"read"},
      {"write"},
      {"clock_gettime"},
      {"gettimeofday"},
      // The main thread: poll the signalfd (SIGTERM, SIGINT, SIGHUP) and the
      // rtnetlink socket that follows the interfaces (recvmsg; a resync
      // after lost events sends a dump request, sendto above).
      {"recvmsg"},
      // Threads: the workers start after the filter, and wait on each other
      // (futex) at start, at policy swaps and at join. glibc blocks signals
      // around the clone and installs its own handler at the first thread
      // (rt_sigaction, and rt_sigreturn when that handler returns).
      {"futex"},
      {"set_robust_list"},
      {"rseq"},
      {"rt_sigprocmask"},
      {"rt_sigaction"},
      {"rt_sigreturn"},
      {"exit"},
      {"exit_group"},
      // Each worker names its thread ("pxe-worker-0").
      {"prctl", {Eq(0, PR_SET_NAME)}},
      // Only threads may be cloned, never a process (fork). clone3 passes its
      // flags in memory, which a filter cannot read: it fails with ENOSYS,
      // and glibc falls back to clone.
      {"clone", {Masked(0, CLONE_THREAD, CLONE_THREAD)}},
      {"clone3", {}, SCMP_ACT_ERRNO(ENOSYS)},
      // Memory: the allocator and its arenas (madvise when they shrink,
      // mremap when glibc grows a large block in place), thread stacks, a
      // reopened ring's mapping. Never executable.
      {"brk"},
      {"mmap", {Masked(2, PROT_EXEC, 0)}},
      {"mprotect", {Masked(2, PROT_EXEC, 0)}},
      {"munmap"},
      {"madvise"},
      {"mremap"},
      // Files, open for reading only (no writing, creating or truncating):
      // the configuration file again on SIGHUP, and /etc/localtime, which
      // glibc reads (newfstatat, lseek) for syslog's first time stamp.
      {"openat",
       {Masked(2, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)}},
      {"close"},
      {"newfstatat"},
      {"lseek"},
      // syslog (daemonized): glibc reopens and reconnects its socket when
      // the log daemon restarted (a datagram socket; a stream socket when
      // /dev/log is one), and sends each line with the PID (getpid).
      {"socket", {Eq(0, AF_UNIX), Masked(1, kSocketTypeMask, SOCK_DGRAM)}},
      {"socket", {Eq(0, AF_UNIX), Masked(1, kSocketTypeMask, SOCK_STREAM)}},
      {"connect"},
      {"getpid"},
      // systemd's notifications (sd_notify: READY=1, WATCHDOG=1, ...): a
      // datagram socket (above) with a larger send buffer (setsockopt
      // SOL_SOCKET, below), one message sent to NOTIFY_SOCKET, with our
      // credentials when the real and effective IDs differ (which it checks).
      {"sendmsg"},
      {"getuid"},
      {"geteuid"},
      {"getgid"},
      {"getegid"},
      // Reopening the rings of an interface that was deleted and re-created:
      // an AF_PACKET socket, its filter (SOL_SOCKET) and ring and fan-out
      // options (SOL_PACKET), mapped (mmap above) and bound.
      {"socket", {Eq(0, AF_PACKET), Masked(1, kSocketTypeMask, SOCK_RAW)}},
      {"setsockopt", {Eq(1, SOL_SOCKET)}},
      {"setsockopt", {Eq(1, SOL_PACKET)}},
      {"bind"},
      // abort() (a failed check) signals this process, and only this one:
      // it still ends with SIGABRT rather than SIGSYS.
      {"gettid"},
      {"tgkill", {Eq(0, static_cast<uint64_t>(getpid()))}},
  };
}

// The sanitizer build only (PXE_SANITIZE: ASan and UBSan), found the same
// way but with the calls off the list reported to a supervisor (seccomp
// user notification) instead of killing, as LeakSanitizer's tracer escapes
// strace. At exit LeakSanitizer makes the process dumpable again and clones a
// tracer (sharing memory, not a thread) that checks it still has its parent,
// lists the threads from /proc/PID/task (open, getdents), stops each with
// ptrace and waits for it. The sanitizers give each thread an alternate
// signal stack, ask which CPUs it may run on, and probe memory through a
// pipe.
std::vector<Rule> SanitizerRules() {
  return {
      {"clone", {Masked(0, CLONE_VM | CLONE_THREAD, CLONE_VM)}},
      {"prctl", {Eq(0, PR_SET_PDEATHSIG)}},
      {"prctl", {Eq(0, PR_GET_DUMPABLE)}},
      {"prctl", {Eq(0, PR_SET_DUMPABLE)}},
      {"prctl", {Eq(0, PR_SET_PTRACER)}},
      {"getppid"},
      {"ptrace"},
      {"wait4"},
      {"sched_yield"},
      {"open", {Masked(1, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)}},
      {"getdents"},
      {"sigaltstack"},
      {"sched_getaffinity"},
      {"pipe2"},
  };
}

// The metrics thread (libmicrohttpd over poll, on a listening socket opened
// before the filter): it checks that socket (getsockname, fcntl F_GETFL),
// names its thread (prctl PR_SET_NAME), accepts scrapers (accept4), reads
// their requests (recvfrom), answers with the headers and the body in one
// call (sendmsg) after TCP_NODELAY, and closes the connection with
// shutdown. The Date header reads /etc/localtime (openat, above).
std::vector<Rule> MetricsRules() {
  return {
      {"getsockname"},
      {"fcntl", {Eq(1, F_GETFL)}},
      {"fcntl", {Eq(1, F_SETFL)}},
      {"prctl", {Eq(0, PR_SET_NAME)}},
      {"accept4"},
      {"recvfrom"},
      {"sendmsg"},
      {"setsockopt", {Eq(1, IPPROTO_TCP)}},
      {"shutdown"},
  };
}

std::vector<Rule> Rules(bool metrics) {
  std::vector<Rule> rules = ReleaseRules();
  if (metrics) {
    for (Rule& rule : MetricsRules()) rules.push_back(std::move(rule));
  }
  if (kSanitized) {
    for (Rule& rule : SanitizerRules()) rules.push_back(std::move(rule));
  }
  return rules;
}

// ---------------------------------------------------------------------------
// Capabilities and users.

struct CapFree {
  void operator()(std::remove_pointer_t<cap_t>* caps) const { cap_free(caps); }
};
using CapSet = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

bool Holds(cap_value_t cap, cap_flag_t set) {
  CapSet caps(cap_get_proc());
  cap_flag_value_t value = CAP_CLEAR;
  return caps != nullptr && cap_get_flag(caps.get(), cap, set, &value) == 0 &&
         value == CAP_SET;
}

absl::StatusOr<SandboxUser> LookupUser(const std::string& name) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc;
  while ((rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(),
                          &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "looking up user \"", name, "\" (--user): ", std::strerror(rc)));
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no such user \"", name, "\" (--user or [server] user): create it ",
        "(adduser --system --group ", name, ") or name another"));
  }
  return SandboxUser{.name = name, .uid = entry.pw_uid, .gid = entry.pw_gid};
}

// Capabilities belong to a thread: one that already runs would keep them.
absl::Status CheckSingleThreaded() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "Threads:")) continue;
    int threads = 0;
    if (absl::SimpleAtoi(line.substr(8), &threads) && threads > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot enter the sandbox with ", threads,
          " threads running: it must come before any thread starts"));
    }
    return absl::OkStatus();
  }
  return absl::InternalError(
      "cannot read the thread count from /proc/self/status");
}

// Needs CAP_SETPCAP (root has it); without it the set stays, and says so.
absl::Status DropBoundingSet(const SandboxNote& note) {
  const bool allowed = Holds(CAP_SETPCAP, CAP_EFFECTIVE);
  int kept = 0;
  for (cap_value_t cap = 0; cap < cap_max_bits(); ++cap) {
    if (cap == CAP_NET_RAW || cap_get_bound(cap) != 1) continue;
    if (!allowed) {
      ++kept;
    } else if (cap_drop_bound(cap) != 0) {
      return Errno(
          absl::StrCat("dropping capability ", cap, " from the bounding set"));
    }
  }
  if (kept > 0) {
    note(absl::StrCat(
        "the capability bounding set keeps ", kept,
        " more capabilities (dropping them needs CAP_SETPCAP); without "
        "exec, which the system call filter forbids, none can be regained"));
  }
  return absl::OkStatus();
}

// The permitted capabilities survive the switch (PR_SET_KEEPCAPS); the
// effective ones come back in KeepOnlyNetRaw().
absl::Status SwitchUser(const SandboxUser& user) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return Errno("prctl(PR_SET_KEEPCAPS)");
  }
  if (setgroups(0, nullptr) != 0) {
    return Errno("clearing the supplementary groups (setgroups)");
  }
  if (setresgid(user.gid, user.gid, user.gid) != 0) {
    return Errno(absl::StrCat("switching to group ", user.gid, " (", user.name,
                              "'s primary group)"));
  }
  if (setresuid(user.uid, user.uid, user.uid) != 0) {
    return Errno(
        absl::StrCat("switching to user ", user.name, " (uid ", user.uid, ")"));
  }
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    return Errno("prctl(PR_SET_KEEPCAPS, 0)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SandboxPlan> PlanSandbox(bool enabled, const std::string& user) {
  SandboxPlan plan{.enabled = enabled, .user_name = user};
  if (!enabled || user.empty()) return plan;
  PXE_ASSIGN_OR_RETURN(SandboxUser target, LookupUser(user));
  uid_t real = 0, effective = 0, saved = 0;
  getresuid(&real, &effective, &saved);
  if (real == target.uid && effective == target.uid && saved == target.uid) {
    return plan;  // already that user: nothing to switch
  }
  if (!Holds(CAP_SETUID, CAP_PERMITTED) || !Holds(CAP_SETGID, CAP_PERMITTED)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "--user ", user, ": switching from uid ", effective, " to ", user,
        " (uid ", target.uid, ") needs root (CAP_SETUID and CAP_SETGID); ",
        "start pxe-pdhcp as root, or as ", user, " itself"));
  }
  plan.switch_to = std::move(target);
  return plan;
}

absl::Status KeepOnlyNetRaw() {
  const bool net_raw = Holds(CAP_NET_RAW, CAP_PERMITTED);
  if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0) {
    return Errno("clearing the ambient capabilities");
  }
  CapSet caps(cap_init());  // every set empty
  if (caps == nullptr) return Errno("cap_init");
  if (net_raw) {
    const cap_value_t keep[] = {CAP_NET_RAW};
    if (cap_set_flag(caps.get(), CAP_PERMITTED, 1, keep, CAP_SET) != 0 ||
        cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, keep, CAP_SET) != 0) {
      return Errno("cap_set_flag(CAP_NET_RAW)");
    }
  }
  if (cap_set_proc(caps.get()) != 0) {
    return Errno("keeping only CAP_NET_RAW (cap_set_proc)");
  }
  return absl::OkStatus();
}

absl::Status LoadSyscallFilter(bool metrics) {
  // Also what lets an unprivileged process load a filter.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Errno("prctl(PR_SET_NO_NEW_PRIVS)");
  }
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> filter(
      seccomp_init(SCMP_ACT_KILL_PROCESS), seccomp_release);
  if (filter == nullptr) {
    return absl::InternalError("seccomp_init failed");
  }
  for (const Rule& rule : Rules(metrics)) {
    const int nr = seccomp_syscall_resolve_name(rule.name);
    if (nr == __NR_SCMP_ERROR) {
      return absl::InternalError(
          absl::StrCat("system call filter: unknown system call ", rule.name));
    }
    const int rc = seccomp_rule_add_array(
        filter.get(), rule.action, nr, static_cast<unsigned>(rule.args.size()),
        rule.args.data());
    if (rc != 0) {
      return absl::InternalError(absl::StrCat("system call filter: rule for ",
                                              rule.name, ": ",
                                              std::strerror(-rc)));
    }
  }
  if (const int rc = seccomp_load(filter.get()); rc != 0) {
    return absl::InternalError(absl::StrCat(
        "loading the system call filter (seccomp): ", std::strerror(-rc)));
  }
  return absl::OkStatus();
}

std::vector<std::string> AllowedSyscalls(bool metrics) {
  std::set<std::string> names;
  for (const Rule& rule : Rules(metrics)) {
    if (rule.action == SCMP_ACT_ALLOW) names.insert(rule.name);
  }
  return {names.begin(), names.end()};
}

absl::Status EnterSandbox(const SandboxPlan& plan, const SandboxNote& note) {
  if (!plan.enabled) {
    note(absl::StrCat(
        "sandbox off (--no-sandbox): running as uid ", geteuid(),
        plan.user_name.empty()
            ? ""
            : absl::StrCat(" (not switching to ", plan.user_name, ")"),
        " with its capabilities, and every system call allowed"));
    return absl::OkStatus();
  }
  PXE_RETURN_IF_ERROR(CheckSingleThreaded());
  const bool net_raw = Holds(CAP_NET_RAW, CAP_PERMITTED);
  PXE_RETURN_IF_ERROR(DropBoundingSet(note));
  if (plan.switch_to) PXE_RETURN_IF_ERROR(SwitchUser(*plan.switch_to));
  PXE_RETURN_IF_ERROR(KeepOnlyNetRaw());
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  PXE_RETURN_IF_ERROR(LoadSyscallFilter(plan.metrics));

  if (uid == 0) {
    note(
        "still running as root (uid 0), with only CAP_NET_RAW: --user NAME "
        "runs as an unprivileged user");
  }
  if (!net_raw) {
    note(
        "CAP_NET_RAW is not held: a packet ring cannot be reopened if its "
        "interface goes away and comes back");
  }
  note(absl::StrCat(
      "least privilege: uid ", uid,
      plan.user_name.empty() ? "" : absl::StrCat(" (", plan.user_name, ")"),
      ", gid ", gid, ", ", net_raw ? "only CAP_NET_RAW" : "no capabilities",
      ", no new privileges, ", AllowedSyscalls(plan.metrics).size(),
      " system calls allowed (any other ends the process)"));
  return absl::OkStatus();
}

}  // namespace pxe
