#include "tools/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capture/bpf_filter.h"
#include "capture/fanout.h"
#include "capture/interfaces.h"
#include "capture/packet_ring.h"
#include "capture/port_holder.h"
#include "capture/worker.h"
#include "engine/describe.h"
#include "engine/policy_snapshot.h"
#include "engine/snapshot_cell.h"
#include "engine/status_macros.h"
#include "tools/log.h"

namespace pxe {
namespace {

std::atomic<bool> stop_requested{false};

// SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by the
// main thread with sigtimedwait(): no handler runs inside a worker.
sigset_t ControlSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

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

absl::StatusOr<std::vector<InterfaceInfo>> ResolveInterfaces(
    const DaemonConfig& config) {
  std::vector<InterfaceInfo> out;
  if (config.interfaces.empty()) {
    std::vector<InterfaceInfo> usable = ListUsableInterfaces();
    if (usable.empty()) {
      return absl::NotFoundError(
          "no interface is up with an IPv4 address; name one with -i");
    }
    log::Info(absl::StrCat("no -i given: serving ", usable.front().name));
    out.push_back(usable.front());
  } else {
    for (const std::string& name : config.interfaces) {
      PXE_ASSIGN_OR_RETURN(InterfaceInfo info, LookupInterface(name));
      out.push_back(std::move(info));
    }
  }
  if (const uint32_t l = config.policy.listen_address; l != 0) {
    bool found = false;
    for (InterfaceInfo& info : out) {
      for (size_t i = 0; i < info.addresses.size(); ++i) {
        if (info.addresses[i].address == l) {
          found = true;
          // -l also makes this address the interface's primary one.
          std::swap(info.addresses[0], info.addresses[i]);
        }
      }
    }
    if (!found) {
      return absl::FailedPreconditionError(
          absl::StrCat("listen address ", FormatIpv4(l),
                       " is not on the served interfaces"));
    }
  }
  return out;
}

std::string DescribeInterface(const InterfaceInfo& info) {
  std::string out = absl::StrCat(info.name, " (", FormatMac(info.mac), ")");
  for (const InterfaceAddress& a : info.addresses) {
    absl::StrAppend(&out, " ", FormatIpv4(a.address), "/", a.prefix_length);
  }
  return out;
}

void LogClient(const Request& request, std::span<const uint8_t> reply,
               DropReason reason, std::string_view rule) {
  const std::string by =
      rule.empty() ? std::string() : absl::StrCat(" [rule ", Sv(rule), "]");
  if (reason == DropReason::kNone) {
    log::Info(absl::StrCat(DescribeRequest(request), " => ",
                           DescribeReply(reply), by));
  } else {
    log::Info(absl::StrCat(DescribeRequest(request),
                           " => no reply: ", Sv(DropReasonText(reason)), by));
  }
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
  return out;
}

// SIGHUP: load, compile and publish, or keep the running policy.
void Reload(const ConfigLoader& reload, const DaemonConfig& running,
            SnapshotCell<PolicySnapshot>* cell) {
  if (!reload) {
    log::Warning("SIGHUP: nothing to reload (no configuration file)");
    return;
  }
  absl::StatusOr<DaemonConfig> loaded = reload();
  if (!loaded.ok()) {
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
    log::Error(absl::StrCat("reload failed, the running policy stays: ",
                            next.status().message()));
    return;
  }
  const size_t rules = (*next)->policy().rules.size();
  cell->Publish(*std::move(next));
  std::string message =
      absl::StrCat("reloaded: policy ", cell->generation(), " with ", rules,
                   " rule", rules == 1 ? "" : "s", " in effect");
  if (!restart.empty()) {
    absl::StrAppend(&message, "; needs a restart to change: ", restart);
  }
  log::Info(message);
}

}  // namespace

absl::Status RunDaemon(const DaemonConfig& config, ConfigLoader reload) {
  log::Init(/*to_syslog=*/false);
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<const PolicySnapshot> first,
                       PolicySnapshot::Compile(config.policy));
  PXE_ASSIGN_OR_RETURN(std::vector<InterfaceInfo> interfaces,
                       ResolveInterfaces(config));
  const int workers =
      config.workers > 0
          ? config.workers
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // Every socket is open before daemonizing, so start-up errors reach the
  // terminal and the exit code.
  std::vector<std::vector<std::unique_ptr<PacketRing>>> rings(workers);
  for (const InterfaceInfo& info : interfaces) {
    const std::string expression = DhcpFilterExpression(info.addresses);
    PXE_ASSIGN_OR_RETURN(BpfProgram filter, CompileFilter(expression));
    RingOptions options = config.ring;
    // One fan-out group per interface, its id picked by the kernel for the
    // first ring (never one another process uses), joined by the others.
    options.fanout_group = workers > 1 ? kNewFanoutGroup : -1;
    for (int w = 0; w < workers; ++w) {
      PXE_ASSIGN_OR_RETURN(std::unique_ptr<PacketRing> ring,
                           PacketRing::Open(info, options, filter));
      options.fanout_group = ring->fanout_group();
      rings[w].push_back(std::move(ring));
    }
    log::Info(absl::StrCat("serving ", DescribeInterface(info)));
  }
  absl::StatusOr<UniqueFd> port_4011 = HoldUdpPort(kPxeServerPort);
  if (!port_4011.ok()) {
    log::Warning(absl::StrCat(port_4011.status().message(),
                              "; port 4011 requests are still answered"));
  }

  if (!config.foreground) {
    PXE_RETURN_IF_ERROR(Daemonize());
    log::Init(/*to_syslog=*/true);
  }
  BlockControlSignals();  // before any thread starts: they inherit it

  SnapshotCell<PolicySnapshot> policy(std::move(first),
                                      static_cast<size_t>(workers));
  std::vector<std::unique_ptr<Worker>> pool;
  for (int w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<Worker>(
        &policy, static_cast<size_t>(w), std::move(rings[w]), config.worker,
        config.debug ? ClientLogFn(LogClient) : ClientLogFn(),
        [](std::string_view text) { log::Warning(text); }));
  }
  log::Info(absl::StrCat(VersionText(), " ready, ", workers, " worker",
                         workers > 1 ? "s" : ""));
  std::vector<absl::Status> results(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      results[w] = pool[w]->Run(stop_requested);
      // One worker failing (its interface went away) stops the others.
      if (!results[w].ok()) stop_requested.store(true);
    });
  }
  const sigset_t signals = ControlSignals();
  while (!stop_requested.load()) {
    const timespec tick{.tv_sec = 0, .tv_nsec = 100'000'000};
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGHUP) {
      Reload(reload, config, &policy);
    } else if (signal == SIGTERM || signal == SIGINT) {
      stop_requested.store(true);
    }
    policy.Reclaim();  // old snapshots, once no worker holds them
  }
  for (std::thread& t : threads) t.join();

  Counters total;
  RingStats ring;
  for (auto& worker : pool) {
    total += worker->counters();
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
                      total.by_reason[i]);
    }
  }
  log::Info(summary);
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace pxe
