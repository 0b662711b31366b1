// pxe-storm: a boot-storm simulator for proxy DHCP servers. Emulates N PXE
// clients on one interface and reports how the server coped. See
// StormUsageText() for the flags and the exit status.
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tools/storm/client_identity.h"
#include "tools/storm/report.h"
#include "tools/storm/storm_config.h"
#include "tools/storm/storm_runner.h"

namespace {

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec)) ^
           uint64_t(getpid()) << 32;
  }
  // Small enough to type back in with --seed.
  return seed % 1'000'000'000;
}

// --list-clients: who the clients of a run with these flags are.
int ListClients(const pxe::storm::StormConfig& config) {
  if (!config.seed) {
    std::fputs(
        "pxe-storm: --list-clients needs --seed (the MACs come from it)\n",
        stderr);
    return 2;
  }
  const pxe::storm::ClientIdentity identity(*config.seed, config.clients,
                                            config.client_net.address);
  const std::vector<pxe::storm::ClientType> types =
      pxe::storm::AssignTypes(config.mix, config.clients);
  for (uint32_t i = 0; i < config.clients; ++i) {
    const std::string line = pxe::storm::FormatClientLine(
        i, identity.Mac(i), identity.Address(i), types[i]);
    if (std::fputs(line.c_str(), stdout) == EOF) return 1;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<pxe::storm::StormConfig> config =
      pxe::storm::ParseStormCommandLine(std::span<const char* const>(
          argv + 1, static_cast<size_t>(argc - 1)));
  if (!config.ok()) {
    std::fprintf(stderr, "pxe-storm: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->action == pxe::storm::StormConfig::Action::kHelp) {
    std::fputs(pxe::storm::StormUsageText().c_str(), stdout);
    return 0;
  }
  if (config->action == pxe::storm::StormConfig::Action::kListClients) {
    return ListClients(*config);
  }
  if (config->max_seconds == 0) {
    config->max_seconds = pxe::storm::AutoMaxSeconds(*config);
  }
  const uint64_t seed = config->seed.value_or(RandomSeed());
  auto result = pxe::storm::RunStorm(*config, seed, isatty(STDERR_FILENO) == 1);
  if (!result.ok()) {
    std::fprintf(stderr, "pxe-storm: %s\n",
                 std::string(result.status().message()).c_str());
    return 1;
  }
  const pxe::storm::StormResult& r = **result;
  const std::string out =
      config->json ? pxe::storm::FormatJson(*config, r.run, r.stats)
                   : pxe::storm::FormatSummary(*config, r.run, r.stats);
  std::fputs(out.c_str(), stdout);
  return 0;
}
