// The daemon's metrics: what its workers count, summed at read time, with
// the reload history and the build, as a Prometheus scrape (RenderMetrics)
// or as one log line (MetricsSummary, for SIGUSR1). Reading never blocks a
// worker: worker counts are relaxed atomic loads, and only the reload
// status and the rule names take a lock, which no worker holds on its
// packet path.
#ifndef PXE_TOOLS_DAEMON_METRICS_H_
#define PXE_TOOLS_DAEMON_METRICS_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "capture/worker.h"
#include "capture/worker_stats.h"

namespace pxe {

// Configuration loads: the one at start and every SIGHUP. Written by the
// main thread, read by the metrics thread.
class ReloadStatus {
 public:
  // A configuration was loaded and is in effect (at start: not counted as
  // a reload). `digest` identifies the file's contents.
  void Loaded(bool reload, int64_t unix_seconds, std::string_view path,
              std::string_view digest);
  void Failed();

  struct View {
    uint64_t successes = 0;
    uint64_t failures = 0;
    int64_t last_loaded_unix = 0;
    std::string path;
    std::string digest;
  };
  View Read() const;

 private:
  mutable std::mutex mutex_;
  View view_;
};

struct DaemonMetricsSources {
  std::vector<const Worker*> workers;
  const RuleSlotTable* rule_slots = nullptr;
  const ReloadStatus* reloads = nullptr;
  std::string version;  // "0.1.0"
};

// The scrape body (text exposition format 0.0.4).
std::string RenderMetrics(const DaemonMetricsSources& sources);
// One line for the log: frames, answers, ring drops, gauges, the drop
// reasons and the replies by rule that are not zero.
std::string MetricsSummary(const DaemonMetricsSources& sources);

}  // namespace pxe

#endif  // PXE_TOOLS_DAEMON_METRICS_H_
