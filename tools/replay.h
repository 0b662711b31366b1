// Offline mode: the real engine over a pcap capture, replies to a pcap file,
// a readable line per frame on stdout. Needs no root and no network.
#ifndef PXE_TOOLS_REPLAY_H_
#define PXE_TOOLS_REPLAY_H_

#include <cstdio>

#include "absl/status/statusor.h"
#include "engine/drop_reason.h"
#include "engine/policy_snapshot.h"
#include "tools/config.h"

namespace pxe {

// Runs the replay `config` describes under `policy`, printing to `out`: the
// daemon's responder, with the capture's timestamps as its clock (offers
// learned and held, replies delayed, as live). Returns the counters.
absl::StatusOr<Counters> RunReplay(const DaemonConfig& config,
                                   const PolicySnapshot& policy, FILE* out);
// The same under config.policy.
absl::StatusOr<Counters> RunReplay(const DaemonConfig& config, FILE* out);

}  // namespace pxe

#endif  // PXE_TOOLS_REPLAY_H_
