// Logging for the daemon: stderr in the foreground (with syslog priority
// prefixes "<6>" when stderr is the systemd journal, which parses them), the
// system log when daemonized; plain text or one JSON object a line.
//
// Three kinds of lines:
//   - messages (Info, Warning, Error): start, stop, reloads, interface
//     changes; Info is left out at --log-level warning, and so on;
//   - notices (Notice): warnings that may repeat, at most one a minute per
//     topic, the next one saying how many were suppressed;
//   - decisions (Decision): one line per answer or drop, "key=value" pairs
//     (logfmt) or JSON, for --log-level debug and rules with log = true.
// Thread-safe: workers write notices and decisions. Never on the packet path
// unless the operator asked for decision lines.
#ifndef PXE_TOOLS_LOG_H_
#define PXE_TOOLS_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pxe::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Format { kText, kJson };

// "debug", "info", "warning" or "error".
std::optional<Level> ParseLevel(std::string_view text);
// "text" or "json".
std::optional<Format> ParseFormat(std::string_view text);

// Call once, and again with `to_syslog` after daemonizing.
void Init(bool to_syslog, Level level = Level::kInfo,
          Format format = Format::kText);

void Info(std::string_view text);
void Warning(std::string_view text);
void Error(std::string_view text);

// A warning whose topic is the text before its first ':' ("rate limit:
// ..."). The first of a topic goes out; the same topic within the next
// minute is counted instead, and reported by FlushSuppressed().
void Notice(std::string_view text);
// Writes "TOPIC: N similar messages suppressed in the last minute" for each
// topic whose minute is over. Call every second or so; `now_ns` is
// CLOCK_MONOTONIC (tests pass their own).
void FlushSuppressed(uint64_t now_ns);
// Notice() with an explicit clock, for tests.
void NoticeAt(std::string_view text, uint64_t now_ns);

// One field of a decision line. Text: key=value, the value quoted when it
// holds a space, '"', '=' or a control character. JSON: a string, or a
// number when `number`.
struct Field {
  std::string_view key;
  std::string value;
  bool number = false;
};
// Writes a decision line (at the info priority: the operator asked for it),
// with the time first.
void Decision(const std::vector<Field>& fields);

// The line Decision() writes, without the time, for tests.
std::string FormatFields(const std::vector<Field>& fields, Format format);

// Where lines go instead of stderr and syslog (tests); nullptr: back to
// normal.
void CaptureForTesting(std::vector<std::string>* lines);

}  // namespace pxe::log

#endif  // PXE_TOOLS_LOG_H_
