// The daemon's configuration: one aggregate with named defaults, filled from
// an optional TOML file (tools/policy_file.h) and the command line (the
// original pxe-pdhcp flags plus long options, which override the file), and
// validated once. The engine and capture layers never see a flag.
#ifndef PXE_TOOLS_CONFIG_H_
#define PXE_TOOLS_CONFIG_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/interfaces.h"
#include "capture/packet_ring.h"
#include "capture/worker.h"
#include "engine/policy.h"
#include "tools/log.h"

namespace pxe {

struct DaemonConfig {
  enum class Action {
    kRun,
    kHelp,
    kVersion,
    kCheckConfig,  // --check-config: print the compiled policy, exit
    kExplain,      // --explain FIELD=VALUE...: one client's reply, exit
    kStatus,       // --status: print the running daemon's metrics, exit
  };
  Action action = Action::kRun;

  // -c/--config FILE; empty: no file is read.
  std::string config_path;
  // Not fatal: rules that can never match, and the like ("FILE:LINE:COL:
  // warning: ..."). Printed at start-up and by --check-config.
  std::vector<std::string> warnings;
  // --explain's client description: "mac=...", "arch=...", ...
  std::vector<std::string> explain_fields;

  bool debug = false;       // -d: foreground, --log-level debug
  bool foreground = false;  // --foreground: do not daemonize (systemd)
  // --log-level, [server] log_level: debug logs every boot client's
  // decision; warning and error leave out the lines below them.
  log::Level log_level = log::Level::kInfo;
  // --log-format, [server] log_format: text, or one JSON object a line.
  log::Format log_format = log::Format::kText;
  std::vector<std::string> interfaces;  // -i, repeatable
  // A configured interface that is missing, or has no IPv4 address, at
  // start is logged and waited for instead of fatal (--wait-for-interfaces,
  // [server] wait_for_interfaces).
  bool wait_for_interfaces = false;
  // VLANs served tagged on a trunk, with our addresses on each (--vlan,
  // [[server.vlan]]).
  std::vector<VlanConfig> vlans;
  BootPolicy policy;     // <nbp name>, -t, -l, -b, --boot-file, ...
  WorkerOptions worker;  // --offer-hold-ms
  RingOptions ring;      // --rx-ring-frames
  // Worker threads, each with its own rings in a chaddr-keyed fan-out group
  // (--workers); 0 = one per core.
  int workers = 0;
  // Least privilege once the sockets are open (tools/sandbox.h): the user to
  // run as (--user, [server] user; empty: stay who started us), and whether
  // to enter the sandbox at all (--no-sandbox: no, for debugging).
  std::string user;
  bool sandbox = true;

  // Prometheus metrics at http://ADDR:PORT/metrics (--metrics, [metrics]
  // listen: "127.0.0.1:9767", "[::1]:9767"); empty: off.
  std::string metrics_listen;
  // FNV-1a (64 bits, hex) of the -c file's contents, as loaded; empty
  // without a file. A label of pxe_pdhcp_config_info.
  std::string config_digest;

  // Offline mode: run the engine over a capture instead of interfaces.
  std::string replay_path;  // --replay FILE
  std::string write_path;   // --write FILE (with --replay)
  // Addresses the offline engine answers from (--replay-address A/LEN,
  // default: -l, else 192.0.2.1/24), and its MAC.
  std::vector<InterfaceAddress> replay_addresses;
  // And for DHCPv6 (--replay-address with an IPv6 prefix): a link-local
  // address from replay_mac is added when none is given, so Solicits are
  // answered.
  std::vector<Ipv6InterfaceAddress> replay_addresses6;
  MacAddress replay_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
};

// Parses argv (without argv[0]): reads the -c file (again on each call, so
// SIGHUP sees its changes), then applies the flags over it. Errors name the
// flag, or the file's "FILE:LINE:COL", and what is wrong; several file
// errors come one per line.
absl::StatusOr<DaemonConfig> ParseCommandLine(
    std::span<const char* const> args);

// An integer setting that a flag and a [server] key both set: the one place
// that holds its names and range, so --help, the flags and the file agree.
struct IntSetting {
  std::string_view flag;  // "offer-hold-ms" (--offer-hold-ms)
  std::string_view key;   // "offer_hold_ms" ([server] in the file)
  int64_t min = 0;
  int64_t max = 0;
  int64_t multiple_of = 1;
  std::string_view range;  // "0 to 1500 (iPXE waits about 2 s)"
  void (*apply)(DaemonConfig* config, int64_t value) = nullptr;
};

// --offer-hold-ms, --workers, --rx-ring-frames, --busy-poll.
std::span<const IntSetting> IntSettings();

// Whether `value` is in `setting`'s range (an error says "is RANGE").
bool InRange(const IntSetting& setting, int64_t value);

// The --help text.
std::string UsageText();

// "pxe-pdhcp 0.1.0"
std::string VersionText();
// "0.1.0"
std::string_view VersionNumber();

// Parses "binl" or "direct".
std::optional<UefiOfferStyle> ParseUefiOfferStyle(std::string_view text);
// Parses "NET/LEN=ADDR" (--relay-server, [server] relay_servers).
absl::StatusOr<RelayServerAddress> ParseRelayServer(std::string_view text);
// "bios, uefi-ia32, ...": the names ParseArchClassName() accepts.
std::string ArchList();

// Parses --vlan's "[IFACE:]ID=ADDR/LEN[,ADDR/LEN...]".
absl::StatusOr<VlanConfig> ParseVlanSpec(std::string_view text);
// Checks the VLANs as a whole against the interfaces named: ids 1 to 4094,
// one entry per interface and VLAN, an interface that is served, and one
// named when several are.
absl::Status CheckVlans(const DaemonConfig& config);

// Parses "10.0.0.1" (host byte order result).
absl::StatusOr<uint32_t> ParseIpv4(std::string_view text);
// Parses "2001:db8::5".
absl::StatusOr<Ipv6Address> ParseIpv6(std::string_view text);
// Parses "2001:db8::5/64" (prefix defaults to `default_prefix`).
absl::StatusOr<Ipv6InterfaceAddress> ParseIpv6Prefix(std::string_view text,
                                                     uint8_t default_prefix);
// fe80::/64 with the modified EUI-64 interface id of `mac` (RFC 4291 §2.5.1,
// appendix A), as Linux forms its link-local address.
Ipv6Address LinkLocalOf(const MacAddress& mac);

// Parses "10.0.0.1/24" (prefix defaults to `default_prefix` when absent).
absl::StatusOr<InterfaceAddress> ParseIpv4Prefix(std::string_view text,
                                                 uint8_t default_prefix);

}  // namespace pxe

#endif  // PXE_TOOLS_CONFIG_H_
