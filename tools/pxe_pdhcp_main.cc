// pxe-pdhcp: Proxy DHCP server for PXE network boot.
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "engine/policy_snapshot.h"
#include "tools/check_config.h"
#include "tools/config.h"
#include "tools/daemon.h"
#include "tools/explain.h"
#include "tools/metrics_server.h"
#include "tools/replay.h"

namespace {

// Exit codes: --explain's client got no reply.
constexpr int kExitNotAnswered = 3;

// Each line of `message` (the file reports one error a line) on stderr.
void PrintError(absl::string_view message) {
  while (!message.empty()) {
    const size_t nl = message.find('\n');
    const std::string line(message.substr(0, nl));
    std::fprintf(stderr, "pxe-pdhcp: %s\n", line.c_str());
    message = nl == absl::string_view::npos ? absl::string_view()
                                            : message.substr(nl + 1);
  }
}

void PrintWarnings(const pxe::DaemonConfig& config) {
  for (const std::string& w : config.warnings) {
    std::fprintf(stderr, "pxe-pdhcp: %s\n", w.c_str());
  }
}

// --check-config and --explain: compile as the daemon would, then report.
int RunOffline(const pxe::DaemonConfig& config) {
  absl::StatusOr<std::unique_ptr<const pxe::PolicySnapshot>> policy =
      pxe::PolicySnapshot::Compile(config.policy);
  if (!policy.ok()) {
    PrintError(policy.status().message());
    return 1;
  }
  if (config.action == pxe::DaemonConfig::Action::kCheckConfig) {
    std::fputs(pxe::DescribeConfig(config, **policy).c_str(), stdout);
    return 0;
  }
  PrintWarnings(config);
  absl::StatusOr<pxe::Explanation> explained = pxe::Explain(config, **policy);
  if (!explained.ok()) {
    PrintError(explained.status().message());
    return 1;
  }
  std::fputs(explained->text.c_str(), stdout);
  return explained->answered ? 0 : kExitNotAnswered;
}

// --status: the running daemon's metrics, from its metrics address.
int PrintStatus(const pxe::DaemonConfig& config) {
  if (config.metrics_listen.empty()) {
    PrintError(
        "--status reads the daemon's metrics: give --metrics ADDR:PORT, or "
        "-c the file with its [metrics] listen");
    return 1;
  }
  absl::StatusOr<std::string> body = pxe::FetchMetrics(config.metrics_listen);
  if (!body.ok()) {
    PrintError(body.status().message());
    return 1;
  }
  std::fputs(body->c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::span<const char* const> args(argv + 1,
                                          static_cast<size_t>(argc - 1));
  absl::StatusOr<pxe::DaemonConfig> config = pxe::ParseCommandLine(args);
  if (!config.ok()) {
    PrintError(config.status().message());
    return 1;
  }
  switch (config->action) {
    case pxe::DaemonConfig::Action::kHelp:
      std::fputs(pxe::UsageText().c_str(), stdout);
      return 0;
    case pxe::DaemonConfig::Action::kVersion:
      std::puts(pxe::VersionText().c_str());
      return 0;
    case pxe::DaemonConfig::Action::kCheckConfig:
    case pxe::DaemonConfig::Action::kExplain:
      return RunOffline(*config);
    case pxe::DaemonConfig::Action::kStatus:
      return PrintStatus(*config);
    case pxe::DaemonConfig::Action::kRun:
      break;
  }
  PrintWarnings(*config);
  if (!config->replay_path.empty()) {
    absl::StatusOr<pxe::Counters> counters = pxe::RunReplay(*config, stdout);
    if (!counters.ok()) {
      PrintError(counters.status().message());
      return 1;
    }
    return 0;
  }
  // SIGHUP reads the same sources again: the file, then the flags over it.
  auto reload = [args] { return pxe::ParseCommandLine(args); };
  if (absl::Status status = pxe::RunDaemon(*config, reload); !status.ok()) {
    PrintError(status.message());
    return 1;
  }
  return 0;
}
