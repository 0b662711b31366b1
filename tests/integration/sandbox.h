// Throwaway network sandboxes for integration tests that need real sockets,
// real daemons and real PXE firmware (QEMU).
//
// A Sandbox owns network namespaces it creates itself, the devices inside
// them (veth pairs, bridges, tap devices), the processes it starts in them,
// and a scratch directory. Nothing ever runs in, or is configured in, the
// namespace the test itself runs in: commands run through
// `ip netns exec <one of ours>`, devices are made with `ip -n <one of ours>`
// (a veth pair is born with both ends already in place), so the
// host's interfaces and routes are never touched and traffic can only reach
// addresses inside the sandbox.
//
// Teardown (destructor, or Teardown()) stops every spawned process by PID
// (SIGTERM, up to 2 s, then SIGKILL), kills whatever else still runs inside
// our namespaces (e.g. children a daemon forked), deletes the namespaces
// (which destroys their devices) and removes the scratch directory. It also
// runs, as far as a process can, when the test does not get to run
// destructors:
//   - a fatal signal (SIGABRT from a failed CHECK, SIGSEGV, SIGTERM, SIGINT,
//     ...) or exit(): a handler kills the processes and unmounts the
//     namespaces, then lets the signal proceed (the scratch directory stays
//     until the next Sandbox, as below);
//   - SIGKILL (e.g. a ctest timeout): children were started with
//     PR_SET_PDEATHSIG, so the kernel kills them; the namespaces and scratch
//     directory left behind are named after our PID, and the next Sandbox
//     created on this host deletes them (and anything still running in those
//     namespaces) once that PID is gone.
//
// Names: namespaces are "pxe-sbx-<pid>-<n>-<role>", unique per process and
// per Sandbox, so parallel ctest runs never collide. Device names are local
// to a namespace, so short fixed names ("v0", "br0", "tap0") are safe to
// reuse in every sandbox; they must fit IFNAMSIZ (at most 15 characters).
//
// Not thread-safe: use one Sandbox from one thread.
#ifndef PXE_TESTS_INTEGRATION_SANDBOX_H_
#define PXE_TESTS_INTEGRATION_SANDBOX_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pxe::testing {

// The outcome of a command run to completion (or to its timeout).
struct CommandResult {
  int exit_code = -1;  // -1 when it died from a signal or timed out
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
};

class Sandbox {
 public:
  // Creates an empty sandbox and its scratch directory (under
  // ::testing::TempDir()'s equivalent: $TEST_TMPDIR, else /tmp). Fails when
  // not root or when `ip` is missing. With PXE_SANDBOX_KEEP=1 in the
  // environment the scratch directory survives teardown, for debugging.
  static absl::StatusOr<std::unique_ptr<Sandbox>> Create();

  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();  // Teardown()

  // "pxe-sbx-<pid>-<n>": the prefix of every namespace of this sandbox.
  const std::string& id() const { return id_; }
  // The scratch directory (no trailing slash); removed at teardown.
  const std::string& dir() const { return dir_; }
  // dir() + "/" + name.
  std::string Path(std::string_view name) const;

  // Creates namespace id()-<role> with lo up and IPv6 disabled (for the
  // namespace and for every device created in it later), and returns its
  // name. `role` is [a-z0-9]+.
  absl::StatusOr<std::string> AddNamespace(std::string_view role);

  // Devices. Each is created inside the given namespace(s) of this sandbox
  // and brought up; names are checked against IFNAMSIZ.
  absl::Status AddVethPair(const std::string& ns_a, const std::string& dev_a,
                           const std::string& ns_b, const std::string& dev_b);
  absl::Status AddBridge(const std::string& ns, const std::string& bridge);
  // A persistent tap device for QEMU's `-netdev tap,ifname=<tap>,script=no,
  // downscript=no`, which must then run in the same namespace.
  absl::Status AddTap(const std::string& ns, const std::string& tap);
  absl::Status AttachToBridge(const std::string& ns, const std::string& dev,
                              const std::string& bridge);
  // `cidr` like "10.77.0.1/24".
  absl::Status AddAddress(const std::string& ns, const std::string& dev,
                          const std::string& cidr);

  // Runs argv (argv[0] looked up in PATH) inside `ns` to completion,
  // capturing stdout and stderr. A command still running at `timeout` is
  // killed and reported with timed_out. Errors only when it cannot be started
  // or `ns` is not one of ours; a non-zero exit is in the result.
  absl::StatusOr<CommandResult> RunIn(
      const std::string& ns, const std::vector<std::string>& argv,
      absl::Duration timeout = absl::Seconds(10));
  // RunIn that also turns a non-zero exit or a timeout into an error quoting
  // the command and its stderr.
  absl::Status RunInOrError(const std::string& ns,
                            const std::vector<std::string>& argv,
                            absl::Duration timeout = absl::Seconds(10));

  // Starts argv in the background inside `ns`, stdin from /dev/null, stdout
  // and stderr to `log_path` (truncated), and returns its PID. The process
  // must stay in the foreground (no daemonizing): it is tracked, and stopped
  // at teardown, by this PID. A process that changes its user ID loses the
  // kill-on-parent-death guard (the kernel clears it): keep such programs
  // root where they allow it (tcpdump -Z root).
  absl::StatusOr<pid_t> Spawn(const std::string& ns,
                              const std::vector<std::string>& argv,
                              const std::string& log_path);
  // True while a spawned process has not exited (reaps it when it has).
  bool IsRunning(pid_t pid);
  // OK while `pid` runs; else FailedPrecondition "<what> (pid N) exited with
  // status S" or "... was killed by signal S". For WaitOptions::abort_if.
  absl::Status CheckRunning(pid_t pid, std::string_view what);
  // Stops one spawned process now (SIGTERM, up to 2 s, then SIGKILL) and
  // reaps it. A process that already exited is fine.
  void Stop(pid_t pid);

  // Polls (every 100 ms, up to `timeout`) until a UDP socket in `ns` is bound
  // to `port`, as `ss` reports it.
  absl::Status WaitForUdpListener(const std::string& ns, int port,
                                  absl::Duration timeout);

  // Stops every process, deletes every namespace and the scratch directory.
  // Idempotent; the destructor calls it.
  void Teardown();

 private:
  Sandbox(std::string id, std::string dir, std::string ip_path);
  absl::Status CheckOurs(const std::string& ns) const;
  absl::Status Ip(const std::string& ns, const std::vector<std::string>& args);

  std::string id_;
  std::string dir_;
  std::string ip_path_;
  std::vector<std::string> namespaces_;  // creation order
  std::vector<pid_t> running_;           // spawn order, not yet reaped
  std::map<pid_t, int> exit_status_;     // reaped: waitpid status
  bool torn_down_ = false;
};

// What a wait should put up with.
struct WaitOptions {
  absl::Duration timeout = absl::Seconds(10);
  // Match against StripTerminalEscapes(contents).
  // Firmware consoles need this: OVMF draws text one character at a time,
  // with a cursor move before each one.
  bool strip_terminal_escapes = false;
  // Checked on every poll; a non-OK status ends the wait with that status
  // (e.g. Sandbox::CheckRunning for the process that writes the file).
  std::function<absl::Status()> abort_if;
};

// Polls the file until it contains `needle`. Errors: DeadlineExceeded
// (saying what was awaited where), or whatever abort_if returned.
absl::Status WaitForFileContains(const std::string& path,
                                 std::string_view needle,
                                 absl::Duration timeout);
absl::Status WaitForFileContains(const std::string& path,
                                 std::string_view needle,
                                 const WaitOptions& options);

// The file's contents ("" when it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);
// The last `max_bytes` of the file, for failure messages, with terminal
// escapes stripped so consoles stay readable.
std::string TailOfFile(const std::string& path, size_t max_bytes = 3000);
// `text` without ANSI/VT100 escape sequences and carriage returns, with
// backspaces applied (as a screen would show it).
std::string StripTerminalEscapes(std::string_view text);

absl::Status WriteFile(const std::string& path, std::string_view contents);
absl::Status CopyFile(const std::string& from, const std::string& to);

// The full path of an executable: PATH first, then the sbin directories a
// non-login root shell may lack. NotFound when absent.
absl::StatusOr<std::string> FindProgram(std::string_view name);

bool IsRoot();

// The number at "section":{..."key": N...} in a one-line JSON report such as
// pxe-storm --json prints, or -1 when it is not there.
double JsonNumber(const std::string& json, const std::string& section,
                  const std::string& key);

}  // namespace pxe::testing

#endif  // PXE_TESTS_INTEGRATION_SANDBOX_H_
