#include "tools/service_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe::service {

void NotifyReady(std::string_view status) {
  const std::string message = absl::StrCat("READY=1\nSTATUS=", Sv(status));
  sd_notify(/*unset_environment=*/0, message.c_str());
}

void NotifyReloading() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1'000'000 +
                        static_cast<uint64_t>(ts.tv_nsec) / 1'000;
  const std::string message =
      absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", usec);
  sd_notify(0, message.c_str());
}

void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

uint64_t WatchdogIntervalNs() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0) return 0;
  return usec * 1'000;
}

void NotifyWatchdog() { sd_notify(0, "WATCHDOG=1"); }

std::vector<size_t> ProgressWatch::Stalled(std::span<const uint64_t> progress) {
  std::vector<size_t> stalled;
  if (last_.size() == progress.size()) {
    for (size_t i = 0; i < progress.size(); ++i) {
      if (progress[i] == last_[i]) stalled.push_back(i);
    }
  }
  last_.assign(progress.begin(), progress.end());
  return stalled;
}

}  // namespace pxe::service
