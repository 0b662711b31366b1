// Logging for the daemon: stderr in the foreground (with syslog priority
// prefixes "<6>" when stderr is the systemd journal, which parses them), the
// system log when daemonized. Never used on the packet path unless -d.
#ifndef PXE_TOOLS_LOG_H_
#define PXE_TOOLS_LOG_H_

#include <string_view>

namespace pxe::log {

// Call once; `to_syslog` after daemonizing.
void Init(bool to_syslog);

void Info(std::string_view text);
void Warning(std::string_view text);
void Error(std::string_view text);

}  // namespace pxe::log

#endif  // PXE_TOOLS_LOG_H_
