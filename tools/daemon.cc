#include "tools/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "capture/interfaces.h"
#include "capture/netlink_follower.h"
#include "capture/packet_ring.h"
#include "capture/port_holder.h"
#include "capture/worker.h"
#include "engine/policy_snapshot.h"
#include "engine/snapshot_cell.h"
#include "engine/status_macros.h"
#include "tools/daemon_metrics.h"
#include "tools/decision_log.h"
#include "tools/log.h"
#include "tools/metrics_server.h"
#include "tools/sandbox.h"
#include "tools/service_notify.h"

namespace pxe {
namespace {

std::atomic<bool> stop_requested{false};

// SIGTERM, SIGINT, SIGHUP and SIGUSR1 are blocked in every thread and taken
// by the main thread from a signalfd: no handler runs inside a worker.
sigset_t ControlSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}

int64_t UnixSeconds() { return absl::ToUnixSeconds(absl::Now()); }

void BlockControlSignals() {
  const sigset_t set = ControlSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

absl::Status Daemonize() {
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid > 0) _exit(0);
  setsid();
  if (fork() > 0) _exit(0);  // never reacquire a controlling terminal
  umask(022);
  if (chdir("/") != 0) return absl::InternalError("chdir / failed");
  const int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  return absl::OkStatus();
}

// What a reload cannot change in a running daemon, by name, if it differs.
std::string RestartOnlyChanges(const DaemonConfig& running,
                               const DaemonConfig& loaded) {
  std::string out;
  auto note = [&](bool differs, std::string_view what) {
    if (differs) absl::StrAppend(&out, out.empty() ? "" : ", ", Sv(what));
  };
  note(running.interfaces != loaded.interfaces, "interfaces");
  note(running.workers != loaded.workers, "workers");
  note(running.ring.rx_frames != loaded.ring.rx_frames, "ring size");
  note(running.worker.responder.offer_hold_ns !=
           loaded.worker.responder.offer_hold_ns,
       "offer hold");
  note(running.worker.busy_poll_ns != loaded.worker.busy_poll_ns, "busy poll");
  const ResponderOptions& a = running.worker.responder;
  const ResponderOptions& b = loaded.worker.responder;
  note(a.client_per_minute != b.client_per_minute ||
           a.client_burst != b.client_burst ||
           a.interface_per_second != b.interface_per_second,
       "rate limits");
  note(running.policy.listen_address != loaded.policy.listen_address,
       "listen address");
  note(running.user != loaded.user, "user");
  note(running.log_level != loaded.log_level ||
           running.log_format != loaded.log_format,
       "logging");
  note(running.metrics_listen != loaded.metrics_listen, "metrics address");
  return out;
}

// SIGHUP: load, compile and publish, or keep the running policy.
void LoadAndPublish(const ConfigLoader& reload, const DaemonConfig& running,
                    SnapshotCell<PolicySnapshot>* cell, ReloadStatus* status) {
  if (!reload) {
    log::Warning("SIGHUP: nothing to reload (no configuration file)");
    return;
  }
  absl::StatusOr<DaemonConfig> loaded = reload();
  if (!loaded.ok()) {
    status->Failed();
    log::Error(absl::StrCat("reload failed, the running policy stays: ",
                            loaded.status().message()));
    return;
  }
  for (const std::string& warning : loaded->warnings) log::Warning(warning);
  // The answering address was chosen and checked against the interfaces at
  // start: a reload keeps it (RestartOnlyChanges() says so when it differs).
  const std::string restart = RestartOnlyChanges(running, *loaded);
  loaded->policy.listen_address = running.policy.listen_address;
  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> next =
      PolicySnapshot::Compile(loaded->policy);
  if (!next.ok()) {
    status->Failed();
    log::Error(absl::StrCat("reload failed, the running policy stays: ",
                            next.status().message()));
    return;
  }
  const size_t rules = (*next)->policy().rules.size();
  cell->Publish(*std::move(next));
  status->Loaded(/*reload=*/true, UnixSeconds(), loaded->config_path,
                 loaded->config_digest);
  std::string message =
      absl::StrCat("reloaded: policy ", cell->generation(), " with ", rules,
                   " rule", rules == 1 ? "" : "s", " in effect");
  if (!restart.empty()) {
    absl::StrAppend(&message, "; needs a restart to change: ", restart);
  }
  log::Info(message);
}

// Reload, with systemd told: RELOADING=1 until the new policy (or the old
// one, when the file does not load) is in effect.
void Reload(const ConfigLoader& reload, const DaemonConfig& running,
            SnapshotCell<PolicySnapshot>* cell, ReloadStatus* status) {
  service::NotifyReloading();
  LoadAndPublish(reload, running, cell, status);
  service::NotifyReady("serving");
}

// The watchdog: told we are alive every half WatchdogSec= while every worker
// made progress since the last time; a stuck worker stops it, and systemd
// restarts the service.
class Watchdog {
 public:
  explicit Watchdog(std::span<const std::unique_ptr<Worker>> workers)
      : workers_(workers), interval_ns_(service::WatchdogIntervalNs() / 2) {
    if (interval_ns_ != 0) {
      log::Info(absl::StrCat("systemd watchdog: every ",
                             interval_ns_ / 1'000'000,
                             " ms while every worker makes progress"));
    }
  }

  void Check(uint64_t now_ns) {
    if (interval_ns_ == 0 || now_ns - last_ns_ < interval_ns_) return;
    last_ns_ = now_ns;
    std::vector<uint64_t> turns;
    for (const auto& worker : workers_) turns.push_back(worker->turns());
    const std::vector<size_t> stalled = watch_.Stalled(turns);
    if (stalled.empty()) {
      service::NotifyWatchdog();
      warned_ = false;
    } else if (!warned_) {
      warned_ = true;
      log::Error(absl::StrCat(
          "worker ", stalled.front(), " has made no progress for ",
          interval_ns_ / 1'000'000,
          " ms: the systemd watchdog is no longer told we are alive"));
    }
  }

 private:
  std::span<const std::unique_ptr<Worker>> workers_;
  uint64_t interval_ns_;
  uint64_t last_ns_ = 0;
  service::ProgressWatch watch_;
  bool warned_ = false;
};

}  // namespace

absl::Status RunDaemon(const DaemonConfig& config, ConfigLoader reload) {
  log::Init(/*to_syslog=*/false, config.log_level, config.log_format);
  // Who to become, checked while errors still reach the terminal.
  PXE_ASSIGN_OR_RETURN(SandboxPlan sandbox,
                       PlanSandbox(config.sandbox, config.user));
  sandbox.metrics = !config.metrics_listen.empty();
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<const PolicySnapshot> first,
                       PolicySnapshot::Compile(config.policy));
  const int workers =
      config.workers > 0
          ? config.workers
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // Every socket is open before daemonizing, so start-up errors reach the
  // terminal and the exit code: the rings of the interfaces that are there
  // (one per worker each, in a fan-out group), and the netlink sockets that
  // follow the interfaces from then on.
  PXE_ASSIGN_OR_RETURN(
      std::unique_ptr<InterfaceFollower> interfaces,
      InterfaceFollower::Start(
          {.interfaces = config.interfaces,
           .wait_for_interfaces = config.wait_for_interfaces,
           .listen_address = config.policy.listen_address,
           .vlans = config.vlans,
           .ring = config.ring,
           .workers = workers,
           .info = [](std::string_view text) { log::Info(text); },
           .warning = [](std::string_view text) { log::Warning(text); }}));
  absl::StatusOr<UniqueFd> port_4011 = HoldUdpPort(kPxeServerPort);
  if (!port_4011.ok()) {
    log::Warning(absl::StrCat(port_4011.status().message(),
                              "; port 4011 requests are still answered"));
  }
  absl::StatusOr<UniqueFd> port_4011_v6 = HoldUdpPort6(kPxeServerPort);
  if (!port_4011_v6.ok()) {
    log::Warning(absl::StrCat(port_4011_v6.status().message(),
                              "; PXEv6 requests to 4011 are still answered"));
  }
  // The metrics socket too: the system call filter allows no new one.
  UniqueFd metrics_socket;
  if (!config.metrics_listen.empty()) {
    PXE_ASSIGN_OR_RETURN(metrics_socket,
                         ListenForMetrics(config.metrics_listen));
  }

  if (!config.foreground) {
    PXE_RETURN_IF_ERROR(Daemonize());
    log::Init(/*to_syslog=*/true, config.log_level, config.log_format);
  }
  BlockControlSignals();  // before any thread starts: they inherit it
  // The main thread takes them from a signalfd, polled with the netlink
  // socket; made here, before the system call filter (which has no
  // signalfd()).
  const sigset_t signals = ControlSignals();
  UniqueFd signal_fd(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd.valid()) return absl::InternalError("signalfd failed");
  // Every socket is open: keep only CAP_NET_RAW, become --user, and allow
  // only the system calls still needed. Before the first thread starts.
  PXE_RETURN_IF_ERROR(
      EnterSandbox(sandbox, [](std::string_view text) { log::Info(text); }));

  SnapshotCell<PolicySnapshot> policy(std::move(first),
                                      static_cast<size_t>(workers));
  // Rule names keep their reply counters across reloads (worker_stats.h).
  RuleSlotTable rule_slots;
  ReloadStatus reloads;
  reloads.Loaded(/*reload=*/false, UnixSeconds(), config.config_path,
                 config.config_digest);
  std::vector<std::unique_ptr<Worker>> pool;
  for (int w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<Worker>(
        &policy, static_cast<size_t>(w),
        interfaces->TakeWorkerPorts(static_cast<size_t>(w)), config.worker,
        ClientLogFn(LogDecision),
        [](std::string_view text) { log::Notice(text); }, &rule_slots));
  }
  DaemonMetricsSources metrics{.rule_slots = &rule_slots,
                               .reloads = &reloads,
                               .version = std::string(VersionNumber())};
  for (auto& worker : pool) metrics.workers.push_back(worker.get());
  // Declared after the pool: stopped before the workers it reads go away.
  std::unique_ptr<MetricsServer> metrics_server;
  if (metrics_socket.valid()) {
    PXE_ASSIGN_OR_RETURN(
        metrics_server,
        MetricsServer::Start(std::move(metrics_socket),
                             [&metrics] { return RenderMetrics(metrics); }));
    log::Info(
        absl::StrCat("metrics at http://", config.metrics_listen, "/metrics"));
  }
  std::vector<Worker*> mailboxes;
  for (auto& worker : pool) mailboxes.push_back(worker.get());
  interfaces->Attach(std::move(mailboxes));
  const std::string ready = absl::StrCat(VersionText(), " ready, ", workers,
                                         " worker", workers > 1 ? "s" : "");
  log::Info(ready);
  std::vector<absl::Status> results(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      // "pxe-worker-0", ... in top -H and ps -L, and for a debugger.
      pthread_setname_np(pthread_self(),
                         absl::StrCat("pxe-worker-", w).c_str());
      results[w] = pool[w]->Run(stop_requested);
      // One worker failing (poll() failed) stops the others.
      if (!results[w].ok()) stop_requested.store(true);
    });
  }
  // Every ring is open and every worker runs.
  service::NotifyReady(ready);
  Watchdog watchdog(pool);
  while (!stop_requested.load()) {
    pollfd fds[] = {{.fd = signal_fd.get(), .events = POLLIN},
                    {.fd = interfaces->fd(), .events = POLLIN}};
    poll(fds, 2, /*timeout_ms=*/100);
    // Interface changes: also on POLLERR (events lost: it reads them all).
    if (fds[1].revents != 0) interfaces->Process();
    signalfd_siginfo info;
    while (read(signal_fd.get(), &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGHUP) {
        Reload(reload, config, &policy, &reloads);
      } else if (info.ssi_signo == SIGUSR1) {
        log::Info(MetricsSummary(metrics));
      } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
        stop_requested.store(true);
      }
    }
    policy.Reclaim();  // old snapshots, once no worker holds them
    const uint64_t now = MonotonicNowNs();
    log::FlushSuppressed(now);
    watchdog.Check(now);
  }
  service::NotifyStopping();
  // Workers asleep in poll() would see the flag only at their time-out.
  for (auto& worker : pool) worker->Wake();
  for (std::thread& t : threads) t.join();

  Counters total;
  RingStats ring;
  uint64_t ipxe_loops = 0;
  for (auto& worker : pool) {
    total += worker->counters();
    ipxe_loops += worker->responder_stats().ipxe_loops.load();
    const RingStats s = worker->ring_stats();
    ring.packets += s.packets;
    ring.drops += s.drops;
    ring.tx_errors += s.tx_errors;
  }
  std::string summary = absl::StrCat(
      "stopping: ", total.received(), " frames, ", total.answered(),
      " answered, ", ring.drops, " lost in the ring");
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    if (total.by_reason[i] != 0) {
      absl::StrAppend(&summary, "; ",
                      Sv(DropReasonName(static_cast<DropReason>(i))), " ",
                      total.by_reason[i].load());
    }
  }
  if (ipxe_loops != 0) {
    absl::StrAppend(&summary, "; iPXE chainload loops ", ipxe_loops);
  }
  log::Info(summary);
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace pxe
