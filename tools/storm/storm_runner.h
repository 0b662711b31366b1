// The live side of pxe-storm: one AF_PACKET socket with RX and TX rings on
// the interface, a single-threaded loop that powers clients on, sends their
// frames in batches (one send() each), feeds replies with their kernel
// timestamps to the ClientTable, answers ARP for the clients' addresses, and
// stops by itself once every client booted or gave up (or at --max-seconds,
// or on SIGINT/SIGTERM).
#ifndef PXE_TOOLS_STORM_STORM_RUNNER_H_
#define PXE_TOOLS_STORM_STORM_RUNNER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "tools/storm/report.h"
#include "tools/storm/storm_config.h"
#include "tools/storm/storm_stats.h"

namespace pxe::storm {

struct StormResult {
  RunFacts run;
  StormStats stats;
};

// Runs the storm `config` describes with MACs and xids from `seed`. Errors
// are set-up failures only (no such interface, not Ethernet, down, no
// permission); whatever the server does, the result describes it.
// `progress`: draw a progress line on stderr about 4 times a second.
absl::StatusOr<std::unique_ptr<StormResult>> RunStorm(const StormConfig& config,
                                                      uint64_t seed,
                                                      bool progress);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_STORM_RUNNER_H_
