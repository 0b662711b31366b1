// The daemon's configuration: one aggregate with named defaults, filled from
// the command line (the original pxe-pdhcp flags plus long options) and
// validated once. The engine and capture layers never see a flag.
#ifndef PXE_TOOLS_CONFIG_H_
#define PXE_TOOLS_CONFIG_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/packet_ring.h"
#include "capture/worker.h"
#include "engine/policy.h"

namespace pxe {

struct DaemonConfig {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;

  bool debug = false;       // -d: foreground, log every client
  bool foreground = false;  // --foreground: do not daemonize (systemd)
  std::vector<std::string> interfaces;  // -i, repeatable
  BootPolicy policy;     // <nbp name>, -t, -l, -b, --boot-file, ...
  WorkerOptions worker;  // --offer-hold-ms
  RingOptions ring;      // --rx-ring-frames
  // Worker threads, each with its own rings in a chaddr-keyed fan-out group
  // (--workers); 0 = one per core.
  int workers = 0;

  // Offline mode: run the engine over a capture instead of interfaces.
  std::string replay_path;  // --replay FILE
  std::string write_path;   // --write FILE (with --replay)
  // Addresses the offline engine answers from (--replay-address A/LEN,
  // default: -l, else 192.0.2.1/24), and its MAC.
  std::vector<InterfaceAddress> replay_addresses;
  MacAddress replay_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
};

// Parses argv (without argv[0]). Errors name the flag and what is wrong.
absl::StatusOr<DaemonConfig> ParseCommandLine(
    std::span<const char* const> args);

// The --help text.
std::string UsageText();

// "pxe-pdhcp 0.1.0"
std::string VersionText();

// Parses "10.0.0.1" (host byte order result).
absl::StatusOr<uint32_t> ParseIpv4(std::string_view text);
// Parses "10.0.0.1/24" (prefix defaults to `default_prefix` when absent).
absl::StatusOr<InterfaceAddress> ParseIpv4Prefix(std::string_view text,
                                                 uint8_t default_prefix);

}  // namespace pxe

#endif  // PXE_TOOLS_CONFIG_H_
