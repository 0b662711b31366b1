// systemd's service notifications (sd_notify(3)) for a Type=notify unit:
// READY=1 once every ring is open, RELOADING=1 ... READY=1 around a reload,
// STOPPING=1, and the watchdog. Outside systemd (no NOTIFY_SOCKET) every
// call does nothing.
#ifndef PXE_TOOLS_SERVICE_NOTIFY_H_
#define PXE_TOOLS_SERVICE_NOTIFY_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pxe::service {

// READY=1, with a STATUS= line for `systemctl status`.
void NotifyReady(std::string_view status);
// RELOADING=1 (with MONOTONIC_USEC, as systemd 253 and later want it).
void NotifyReloading();
void NotifyStopping();

// WatchdogSec= of the unit as systemd passes it (WATCHDOG_USEC, for this
// process), in nanoseconds; 0 when no watchdog is set.
uint64_t WatchdogIntervalNs();
// WATCHDOG=1: "still alive".
void NotifyWatchdog();

// Whether the workers are making progress: each bumps a counter every turn
// of its loop (at least every 200 ms while idle), and a worker whose counter
// stands still is stuck. The watchdog is told we are alive only while none
// is, so a stuck worker gets the service restarted.
class ProgressWatch {
 public:
  // The workers whose counter has not moved since the previous call (all
  // have, at the first call). `progress[i]` is worker i's counter now.
  std::vector<size_t> Stalled(std::span<const uint64_t> progress);

 private:
  std::vector<uint64_t> last_;
};

}  // namespace pxe::service

#endif  // PXE_TOOLS_SERVICE_NOTIFY_H_
