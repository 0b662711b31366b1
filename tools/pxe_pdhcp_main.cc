// pxe-pdhcp: Proxy DHCP server for PXE network boot.
#include <cstdio>
#include <span>

#include "tools/config.h"
#include "tools/daemon.h"
#include "tools/replay.h"

int main(int argc, char** argv) {
  const std::span<const char* const> args(argv + 1,
                                          static_cast<size_t>(argc - 1));
  absl::StatusOr<pxe::DaemonConfig> config = pxe::ParseCommandLine(args);
  if (!config.ok()) {
    std::fprintf(stderr, "pxe-pdhcp: %s\n",
                 std::string(config.status().message()).c_str());
    return 1;
  }
  switch (config->action) {
    case pxe::DaemonConfig::Action::kHelp:
      std::fputs(pxe::UsageText().c_str(), stdout);
      return 0;
    case pxe::DaemonConfig::Action::kVersion:
      std::puts(pxe::VersionText().c_str());
      return 0;
    case pxe::DaemonConfig::Action::kRun:
      break;
  }
  if (!config->replay_path.empty()) {
    absl::StatusOr<pxe::Counters> counters = pxe::RunReplay(*config, stdout);
    if (!counters.ok()) {
      std::fprintf(stderr, "pxe-pdhcp: %s\n",
                   std::string(counters.status().message()).c_str());
      return 1;
    }
    return 0;
  }
  // SIGHUP reads the same sources again: the file, then the flags over it.
  auto reload = [args] { return pxe::ParseCommandLine(args); };
  if (absl::Status status = pxe::RunDaemon(*config, reload); !status.ok()) {
    std::fprintf(stderr, "pxe-pdhcp: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
