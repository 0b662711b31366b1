// Live mode: opens the interfaces, daemonizes unless told not to, and serves
// until SIGTERM or SIGINT.
#ifndef PXE_TOOLS_DAEMON_H_
#define PXE_TOOLS_DAEMON_H_

#include "absl/status/status.h"
#include "tools/config.h"

namespace pxe {

// Returns an error (one clear line) if start-up fails: no such interface, no
// IPv4 address, no permission. Returns OK after a clean shutdown.
absl::Status RunDaemon(const DaemonConfig& config);

}  // namespace pxe

#endif  // PXE_TOOLS_DAEMON_H_
