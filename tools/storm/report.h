// pxe-storm's output: the human summary (stdout), the same figures as one
// JSON object (--json), and the live progress line (stderr on a terminal).
// Pure formatting over the counters; nothing here measures anything.
#ifndef PXE_TOOLS_STORM_REPORT_H_
#define PXE_TOOLS_STORM_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/byte_order.h"
#include "tools/storm/latency_histogram.h"
#include "tools/storm/storm_config.h"
#include "tools/storm/storm_stats.h"

namespace pxe::storm {

// What the run measured beyond the clients' counters.
struct RunFacts {
  uint64_t seed = 0;
  MacAddress interface_mac{};
  double duration_seconds = 0;  // power-on of the first client to the stop
  bool cut_short = false;       // --max-seconds reached
  bool interrupted = false;     // SIGINT / SIGTERM
  uint64_t unfinished = 0;      // powered on, neither booted nor given up
  uint64_t arp_replies = 0;
  uint64_t arp_dropped = 0;    // ARP requests beyond the reply queue
  uint64_t capture_drops = 0;  // frames lost because our RX ring was full
  uint64_t tx_errors = 0;
  uint64_t rss_kb = 0;       // VmRSS at the end
  uint64_t peak_rss_kb = 0;  // VmHWM
  // pxe-storm's own CPU time, and its time runnable but waiting for a CPU
  // (a busy machine: the clients then react late).
  double cpu_seconds = 0;
  double cpu_wait_seconds = 0;
};

// p50 / p90 / p99 / p99.9 / max of a histogram, in nanoseconds.
struct LatencySummary {
  uint64_t count = 0;
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};
LatencySummary Summarize(const LatencyHistogram& histogram);

// Replies per second over [first send, last reply]; 0 without replies.
double AnsweredRate(const StormStats& stats);

// First DISCOVERs per second over [first, last] power-on as they were
// really sent (below --rate when pxe-storm cannot keep up); 0 with fewer
// than two clients.
double PowerOnRate(const StormStats& stats);
// Of the timed requests, the share lost (answered late or never), in %.
double LossPercent(const StormStats& stats);

// One --list-clients line: "index mac address type".
std::string FormatClientLine(uint32_t index, const MacAddress& mac,
                             uint32_t address, ClientType type);

std::string FormatSummary(const StormConfig& config, const RunFacts& run,
                          const StormStats& stats);
std::string FormatJson(const StormConfig& config, const RunFacts& run,
                       const StormStats& stats);
// One line, no line break: "[  1.2 s] powered on 5000/10000 ...".
std::string FormatProgress(const StormConfig& config, double elapsed_seconds,
                           const StormStats& stats, uint64_t finished);

// `text` as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_REPORT_H_
