// --explain: which rule one client falls under and the reply it would get,
// without a network. The client's request frame is built as firmware sends
// it (engine/client_request.h) and goes through the daemon's own Respond()
// under the compiled policy, so the answer is the live one.
#ifndef PXE_TOOLS_EXPLAIN_H_
#define PXE_TOOLS_EXPLAIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/policy_snapshot.h"
#include "tools/config.h"

namespace pxe {

struct Explanation {
  bool answered = false;  // the client's last request got a reply
  std::string text;       // the request, the rule, the reply; lines
};

// Explains the client config.explain_fields describes ("mac=...",
// "arch=...", ...) under `policy` (compiled from config.policy). A UEFI
// client offered BINL-style (no file) also sends the 4011 request it would
// send next, and the text shows both steps. Errors name the bad field.
absl::StatusOr<Explanation> Explain(const DaemonConfig& config,
                                    const PolicySnapshot& policy);

}  // namespace pxe

#endif  // PXE_TOOLS_EXPLAIN_H_
