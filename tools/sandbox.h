// Least privilege for the daemon once its sockets are open: it keeps only
// CAP_NET_RAW (to reopen a packet ring on an interface that comes back),
// optionally becomes an unprivileged user, can gain nothing by exec
// (no-new-privs), and may make only the system calls it still needs: any
// other one kills the process (seccomp, SCMP_ACT_KILL_PROCESS).
//
// Started as root, `--user NAME` switches to NAME and its primary group with
// no supplementary groups. Started with no root at all (an unprivileged user
// holding CAP_NET_RAW as an ambient capability, as systemd's
// AmbientCapabilities= gives it), the same steps only drop what it does not
// need.
#ifndef PXE_TOOLS_SANDBOX_H_
#define PXE_TOOLS_SANDBOX_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pxe {

struct SandboxUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};

// What EnterSandbox() will do, decided at start-up (before daemonizing), so
// that an unknown user or a switch that cannot happen fails on the terminal.
struct SandboxPlan {
  bool enabled = true;  // false: --no-sandbox
  // The user to switch to; empty when --user names who already runs us.
  std::optional<SandboxUser> switch_to;
  std::string user_name;  // --user as given ("" when none)
  // A metrics server will run (--metrics): its system calls are allowed.
  bool metrics = false;
};

// Resolves --user (`user`, "" for none) and checks that the switch can be
// made: errors for an unknown user, and for a user other than the current
// one without the privilege to switch (CAP_SETUID and CAP_SETGID).
absl::StatusOr<SandboxPlan> PlanSandbox(bool enabled, const std::string& user);

// Notes for the log: what was kept, and what could not be dropped.
using SandboxNote = std::function<void(std::string_view)>;

// Drops the bounding set to CAP_NET_RAW (when allowed to), switches user,
// keeps only CAP_NET_RAW, sets no-new-privs and loads the system call filter.
// Call once every socket is open and before any thread starts
// (capabilities belong to a thread): fails, changing nothing, when the
// process already has several threads. With plan.enabled false it only
// notes that the sandbox is off.
absl::Status EnterSandbox(const SandboxPlan& plan, const SandboxNote& note);

// The steps of EnterSandbox(), for tests.

// Keeps CAP_NET_RAW (if held) in the permitted and effective sets and
// nothing else: no inheritable or ambient capabilities.
absl::Status KeepOnlyNetRaw();

// Sets no-new-privs and loads the allow-list: a system call not on it, or
// made with arguments it does not allow, kills the process with SIGSYS.
// `metrics`: also those of the metrics server (tools/metrics_server.h).
absl::Status LoadSyscallFilter(bool metrics = false);

// The system calls on the allow-list, with or without argument checks.
std::vector<std::string> AllowedSyscalls(bool metrics = false);

}  // namespace pxe

#endif  // PXE_TOOLS_SANDBOX_H_
