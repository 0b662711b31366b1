// pxe-storm's command line and the timing it implies: when each client powers
// on, when it retries, when it gives up, and when the whole run must stop.
// Nothing here touches the network.
#ifndef PXE_TOOLS_STORM_STORM_CONFIG_H_
#define PXE_TOOLS_STORM_STORM_CONFIG_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/policy.h"
#include "tools/storm/client_profile.h"
#include "tools/storm/reply_check.h"

namespace pxe::storm {

// Relative weights of the client types, indexed by ClientType.
using Mix = std::array<uint32_t, kClientTypeCount>;
// IPv6 clients only when --mix names them.
inline constexpr Mix kDefaultMix = {40, 40, 10, 5, 5, 0, 0};

// Clients are numbered from 0; the MAC keeps the number in 3 bytes.
inline constexpr uint32_t kMaxClients = (1u << 24) - 1;

struct StormConfig {
  enum class Action { kRun, kHelp, kListClients };
  Action action = Action::kRun;

  std::string interface;    // -i
  uint32_t clients = 1000;  // -n / --clients
  Mix mix = kDefaultMix;    // --mix
  // --rate R: R new clients per second. 0: all power on within
  // storm_window_seconds (--storm-window), evenly spread.
  double rate = 0;
  double storm_window_seconds = 1.0;
  double retry_scale = 1.0;        // --retry-scale: multiplies every timeout
  double first_try_seconds = 2.0;  // --first-try-window (iPXE's proxy wait)
  // --late-after: a reply slower than this counts as lost in the loss
  // figure (the benchmark's "sustained rate" criterion).
  double late_after_seconds = 1.0;
  // --client-net: client i owns base + i + 1, its ciaddr on 4011.
  InterfaceAddress client_net{.address = 0x0A4D8000, .prefix_length = 17};
  std::optional<uint64_t> seed;  // --seed; default: a random one
  double max_seconds = 0;        // --max-seconds; 0 = AutoMaxSeconds()
  bool json = false;             // --json
  // --expect-file, --expect-http-url, --expect-ipxe-script, --expect-server,
  // --expect-tftp-server: the right answers, checked in every reply.
  ExpectedAnswers expected;
};

// Parses argv (without argv[0]). Errors name the flag and what is wrong.
absl::StatusOr<StormConfig> ParseStormCommandLine(
    std::span<const char* const> args);
std::string StormUsageText();

// "bios=40,uefi-x64=40,arm64=10,ipxe=5,http=5". Types not named weigh 0;
// the weights must not all be 0.
absl::StatusOr<Mix> ParseMix(std::string_view text);
std::string FormatMix(const Mix& mix);

// The per-client timers, in nanoseconds, scaled by --retry-scale.
struct RetrySchedule {
  // A silent client re-sends its DISCOVER at these offsets from its first
  // one (PXE ROMs: 4, 8, 16, 32 s), and gives up at the last entry (64 s:
  // where a fifth retry would go).
  static constexpr size_t kDiscoverRetries = 4;
  std::array<uint64_t, kDiscoverRetries + 1> discover_deadline_ns{};
  // The 4011 REQUEST is re-sent once after this long without an ACK, and
  // the client gives up as long after the re-send.
  uint64_t request_timeout_ns = 0;
  // An offer this soon after the first DISCOVER counts as "first try".
  uint64_t first_try_ns = 0;
  // A first DISCOVER or first REQUEST answered this soon is "in time".
  uint64_t in_time_ns = 0;
};
RetrySchedule MakeRetrySchedule(const StormConfig& config);

// When client `index` powers on, after the start of the run.
uint64_t PowerOnOffsetNs(const StormConfig& config, uint32_t index);

// Long enough for the last client to power on, retry, give up and finish a
// late 4011 exchange, plus a second: the default for --max-seconds.
double AutoMaxSeconds(const StormConfig& config);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_STORM_CONFIG_H_
