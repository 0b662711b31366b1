// Live mode: opens the interfaces, daemonizes unless told not to, and serves
// until SIGTERM or SIGINT. SIGHUP reloads the policy.
#ifndef PXE_TOOLS_DAEMON_H_
#define PXE_TOOLS_DAEMON_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/config.h"

namespace pxe {

// Reads the configuration again (the file, then the command line's flags
// over it), for SIGHUP.
using ConfigLoader = std::function<absl::StatusOr<DaemonConfig>()>;

// Returns an error (one clear line) if start-up fails: no such interface, no
// IPv4 address, no permission. Returns OK after a clean shutdown. On SIGHUP
// the policy `reload` returns is compiled and published to the workers; a
// configuration that fails to load leaves the running policy as it is.
absl::Status RunDaemon(const DaemonConfig& config, ConfigLoader reload = {});

}  // namespace pxe

#endif  // PXE_TOOLS_DAEMON_H_
