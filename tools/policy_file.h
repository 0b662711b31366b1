// The configuration file (pxe-pdhcp -c FILE): TOML in, the parts of a
// DaemonConfig it sets out ([server] settings, the [boot] defaults, [menu.*]
// and [[rule]]s). Every problem is one line "FILE:LINE:COL: what is wrong
// and what to write", at the key or value that is wrong; the loader goes on
// after an error so that one run shows them all.
#ifndef PXE_TOOLS_POLICY_FILE_H_
#define PXE_TOOLS_POLICY_FILE_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/boot_policy.h"
#include "tools/config.h"

namespace pxe {

// Reads `path` and loads it into `config` (LoadPolicyText).
absl::Status LoadPolicyFile(const std::string& path, DaemonConfig* config);

// Loads the TOML `text` into `config`; `path` only names it in messages.
// [server] sets the interfaces, the policy's server settings and the worker
// and ring options; [boot], [menu.*] and [[rule]] fill config->policy.
// Everything is checked where it was written (ValidateBootPolicy per menu,
// for the defaults and per rule), except that some boot file exists at all:
// the command line may still name one (ParseCommandLine checks the whole).
// Errors come one per line, sorted by position, in the status message;
// warnings are appended to config->warnings. Any input is safe: no throw,
// no abort.
absl::Status LoadPolicyText(std::string_view text, std::string_view path,
                            DaemonConfig* config);

// Rules that can never match because an earlier rule always wins, as
// "FILE:LINE:COL: warning: ..." lines (`path` names the file).
std::vector<std::string> ShadowWarnings(std::span<const Rule> rules,
                                        std::string_view path);

// The value syntaxes of the file, shared with --explain. Errors say what
// the text should look like.
// "52:54:00:12:34:56", or whole leading octets and "*": "52:54:00:*".
absl::StatusOr<MacPattern> ParseMacPattern(std::string_view text);
// RFC 4122 text, 8-4-4-4-12 hex digits, to 16 bytes in text order.
absl::StatusOr<std::array<uint8_t, 16>> ParseUuid(std::string_view text);
// "de:ad:be:ef" or "deadbeef".
absl::StatusOr<std::string> ParseHexBytes(std::string_view text);

}  // namespace pxe

#endif  // PXE_TOOLS_POLICY_FILE_H_
