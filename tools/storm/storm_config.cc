#include "tools/storm/storm_config.h"

#include <cmath>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status_macros.h"
#include "tools/arg_reader.h"
#include "tools/config.h"

namespace pxe::storm {
namespace {

constexpr double kNsPerSecond = 1e9;
// PXE ROM DISCOVER retries (seconds after the first), then the give-up point.
constexpr std::array<double, RetrySchedule::kDiscoverRetries + 1>
    kDiscoverDeadlines = {4, 8, 16, 32, 64};
constexpr double kRequestTimeoutSeconds = 1;

absl::StatusOr<uint64_t> ParseInteger(std::string_view flag,
                                      std::string_view text, uint64_t min,
                                      uint64_t max) {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(Sv(text), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(flag), " is a whole number from ", min, " to ", max,
                     ", not \"", Sv(text), "\""));
  }
  return value;
}

// A number of seconds (or a rate) in (min, max]; min itself only when
// `allow_min`.
absl::StatusOr<double> ParseReal(std::string_view flag, std::string_view text,
                                 double min, double max, bool allow_min) {
  double value = 0;
  if (!absl::SimpleAtod(Sv(text), &value) || !std::isfinite(value) ||
      value < min || (value == min && !allow_min) || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(flag), " is a number ", allow_min ? "from " : "above ",
                     min, " to ", max, ", not \"", Sv(text), "\""));
  }
  return value;
}

// "ARCH=VALUE" with ARCH an architecture class name (engine/arch.h).
std::optional<std::pair<ArchClass, std::string_view>> SplitArch(
    std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::optional<ArchClass> arch = ParseArchClassName(text.substr(0, eq));
  if (!arch) return std::nullopt;
  return std::make_pair(*arch, text.substr(eq + 1));
}

uint64_t SecondsToNs(double seconds) {
  return static_cast<uint64_t>(std::llround(seconds * kNsPerSecond));
}

}  // namespace

absl::StatusOr<Mix> ParseMix(std::string_view text) {
  Mix mix{};
  std::array<bool, kClientTypeCount> seen{};
  for (absl::string_view part : absl::StrSplit(Sv(text), ',')) {
    const std::string_view item(part.data(), part.size());
    const size_t eq = item.find('=');
    const std::optional<ClientType> type =
        ParseClientTypeName(item.substr(0, eq));
    if (eq == std::string_view::npos || !type) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--mix wants TYPE=WEIGHT,... with TYPE one of bios, uefi-x64, "
          "arm64, ipxe, http, uefi-x64-v6, http-v6; got \"",
          Sv(item), "\""));
    }
    const size_t i = static_cast<size_t>(*type);
    if (seen[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix names ", Sv(Profile(*type).name), " twice"));
    }
    seen[i] = true;
    PXE_ASSIGN_OR_RETURN(
        const uint64_t weight,
        ParseInteger(absl::StrCat("--mix weight of ", Sv(Profile(*type).name)),
                     item.substr(eq + 1), 0, 1'000'000));
    mix[i] = static_cast<uint32_t>(weight);
  }
  uint64_t total = 0;
  for (uint32_t w : mix) total += w;
  if (total == 0) {
    return absl::InvalidArgumentError("--mix weights are all 0");
  }
  return mix;
}

std::string FormatMix(const Mix& mix) {
  std::string out;
  for (size_t i = 0; i < kClientTypeCount; ++i) {
    if (mix[i] == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : ",",
                    Sv(Profile(static_cast<ClientType>(i)).name), "=", mix[i]);
  }
  return out;
}

std::string StormUsageText() {
  return "usage: pxe-storm -i IFACE [options]\n"
         "\n"
         "A boot-storm simulator: emulates N PXE clients on IFACE against "
         "any proxy\n"
         "DHCP server (pxe-pdhcp, dnsmasq in proxy mode, ...) and reports "
         "how many\n"
         "booted at the first try, after retries, or never, the reply "
         "latencies and\n"
         "every wrong answer. Each client: DISCOVER -> proxy OFFER -> (when "
         "the offer\n"
         "names no file, or for UEFI) REQUEST to UDP 4011 -> ACK, with the "
         "retries of\n"
         "real firmware. Run it on a test LAN, never on a production one.\n"
         "\n"
         "  -i, --interface IFACE     interface to send on (needs root or "
         "CAP_NET_RAW;\n"
         "                            it is put in promiscuous mode for the "
         "run)\n"
         "  -n, --clients N           clients to emulate (default 1000)\n"
         "      --mix TYPE=W,...      client types by weight; TYPE is bios, "
         "uefi-x64,\n"
         "                            arm64, ipxe or http (default\n"
         "                            bios=40,uefi-x64=40,arm64=10,ipxe=5,"
         "http=5);\n"
         "                            over DHCPv6 uefi-x64-v6 (PXEv6: "
         "Solicit,\n"
         "                            Advertise, Request to [X]:4011, Reply) "
         "and\n"
         "                            http-v6 (HTTPv6: the Advertise's URL)\n"
         "      --storm-window SECONDS  all clients power on, evenly spread, "
         "within\n"
         "                            this window (default 1)\n"
         "      --rate R              instead: R new clients per second "
         "until N\n"
         "      --client-net NET/LEN  client i owns address NET + i + 1: its "
         "ciaddr\n"
         "                            and source on 4011; pxe-storm answers "
         "ARP for\n"
         "                            them (default 10.77.128.0/17)\n"
         "      --retry-scale F       multiply every client timeout by F "
         "(default 1):\n"
         "                            DISCOVER retries at 4, 8, 16, 32 s, "
         "give-up\n"
         "                            at 64 s, 4011 re-sent once after 1 s\n"
         "      --first-try-window SECONDS  an offer this soon after the "
         "first\n"
         "                            DISCOVER is \"first try\" (default 2: "
         "iPXE's\n"
         "                            proxy wait)\n"
         "      --late-after SECONDS  a first request answered later than "
         "this, or\n"
         "                            never, counts as lost in the loss "
         "figure\n"
         "                            (default 1)\n"
         "      --seed N              derive MACs, xids and UUIDs from N "
         "(default:\n"
         "                            random; the report shows it)\n"
         "      --max-seconds SECONDS hard stop (default: long enough for "
         "every\n"
         "                            client to finish or give up)\n"
         "      --json                print one JSON object instead of the "
         "summary\n"
         "      --list-clients        print each client's number, MAC, "
         "address and\n"
         "                            type for -n, --seed, --mix and "
         "--client-net,\n"
         "                            then exit (e.g. to seed a server's "
         "neighbour\n"
         "                            table); needs no interface\n"
         "  -h, --help                this text\n"
         "\n"
         "The right answers (default: not checked); a reply that differs is "
         "a wrong\n"
         "answer, and the client ignores it:\n"
         "      --expect-file ARCH=PATH  the boot file for PXE clients of "
         "ARCH\n"
         "                            (repeatable), an architecture class "
         "as in\n"
         "                            pxe-pdhcp's --boot-file: bios, "
         "uefi-x64,\n"
         "                            uefi-arm64, ...; bios and ipxe clients "
         "are bios,\n"
         "                            arm64 ones uefi-arm64\n"
         "      --expect-http-url [ARCH=]URL  the URL for HTTP-boot clients "
         "(of ARCH;\n"
         "                            http clients are uefi-x64)\n"
         "      --expect-ipxe-script URL  the file for iPXE clients, over "
         "their arch's\n"
         "      --expect-server ADDR  the proxy: option 54 of every reply; "
         "siaddr of\n"
         "                            one without a file (UEFI asks there on "
         "4011)\n"
         "      --expect-tftp-server ADDR  siaddr of a reply that names a "
         "TFTP file\n"
         "                            (default: the --expect-server "
         "address)\n"
         "      --expect-http-url6 URL  the URL for http-v6 clients\n"
         "Always checked: xids, yiaddr, option 60, option 43 (well formed; "
         "43.6 bit 3\n"
         "with a file for PXE ROMs; the ACK echoes 43.71), the ACK's "
         "ports; over\n"
         "DHCPv6: the xid, the client ID echoed, no IA in a proxy's answer, "
         "option 16,\n"
         "a server ID, option 59 (an http:// URL for HTTPv6; the file in the "
         "4011\n"
         "Reply for PXEv6, checked against --expect-file), the Reply's "
         "ports.\n"
         "\n"
         "A progress line is shown on stderr when it is a terminal. Exit "
         "status: 0\n"
         "when the storm ran (whatever the server did), 1 when it could not "
         "start\n"
         "(no such interface, no permission), 2 for a bad command line.\n";
}

absl::StatusOr<StormConfig> ParseStormCommandLine(
    std::span<const char* const> args) {
  StormConfig config;
  ArgReader reader(args);
  bool window_given = false;
  std::string http_url_every_arch;
  while (!reader.Done()) {
    const std::string_view arg = reader.Next();
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", Sv(arg), "\" (see --help)"));
    }
    auto [name, inline_value] = SplitOptionWord(arg);
    auto value = [&]() { return reader.Value(arg, inline_value); };
    if (name == "h" || name == "help") {
      config.action = StormConfig::Action::kHelp;
    } else if (name == "i" || name == "interface") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      config.interface = std::string(v);
    } else if (name == "n" || name == "clients") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(const uint64_t n,
                           ParseInteger(arg, v, 1, kMaxClients));
      config.clients = static_cast<uint32_t>(n);
    } else if (name == "mix") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.mix, ParseMix(v));
    } else if (name == "rate") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.rate, ParseReal(arg, v, 0, 1e7, false));
    } else if (name == "storm-window") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.storm_window_seconds,
                           ParseReal(arg, v, 0, 3600, true));
      window_given = true;
    } else if (name == "retry-scale") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.retry_scale,
                           ParseReal(arg, v, 0, 100, false));
    } else if (name == "first-try-window") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.first_try_seconds,
                           ParseReal(arg, v, 0, 3600, false));
    } else if (name == "late-after") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.late_after_seconds,
                           ParseReal(arg, v, 0, 3600, false));
    } else if (name == "list-clients") {
      config.action = StormConfig::Action::kListClients;
    } else if (name == "client-net") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v.find('/') == std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--client-net wants NET/LEN, e.g. 10.77.128.0/17, not \"", Sv(v),
            "\""));
      }
      PXE_ASSIGN_OR_RETURN(config.client_net, ParseIpv4Prefix(v, 32));
    } else if (name == "seed") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.seed, ParseInteger(arg, v, 0, ~uint64_t{0}));
    } else if (name == "max-seconds") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.max_seconds,
                           ParseReal(arg, v, 0, 86400, false));
    } else if (name == "json") {
      config.json = true;
    } else if (name == "expect-file") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      const auto split = SplitArch(v);
      if (!split || split->second.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--expect-file wants ARCH=PATH with ARCH one of ",
                         ArchList(), "; got \"", Sv(v), "\""));
      }
      config.expected.file[static_cast<size_t>(split->first)] = split->second;
    } else if (name == "expect-http-url") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      const auto split = SplitArch(v);
      const std::string_view url = split ? split->second : v;
      if (!url.starts_with("http://") && !url.starts_with("https://")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--expect-http-url wants [ARCH=]URL with an http:// or https:// "
            "URL; got \"",
            Sv(v), "\""));
      }
      if (split) {
        config.expected.http_url[static_cast<size_t>(split->first)] = url;
      } else {
        http_url_every_arch = url;
      }
    } else if (name == "expect-http-url6") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (!v.starts_with("http://") && !v.starts_with("https://")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--expect-http-url6 wants an http:// or https:// URL; got \"",
            Sv(v), "\""));
      }
      config.expected.http_url6 = v;
    } else if (name == "expect-ipxe-script") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v.empty()) {
        return absl::InvalidArgumentError("--expect-ipxe-script is empty");
      }
      config.expected.ipxe_script = v;
    } else if (name == "expect-server") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.expected.server, ParseIpv4(v));
    } else if (name == "expect-tftp-server") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.expected.tftp_server, ParseIpv4(v));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", Sv(arg), " (see --help)"));
    }
  }
  if (config.action == StormConfig::Action::kHelp) return config;
  // A URL for one architecture wins over the one for every architecture.
  for (std::string& url : config.expected.http_url) {
    if (url.empty()) url = http_url_every_arch;
  }
  if (config.interface.empty() &&
      config.action != StormConfig::Action::kListClients) {
    return absl::InvalidArgumentError("-i IFACE is required (see --help)");
  }
  if (config.rate > 0 && window_given) {
    return absl::InvalidArgumentError(
        "--rate and --storm-window exclude each other");
  }
  // The network and broadcast addresses belong to no client.
  const uint8_t prefix = config.client_net.prefix_length;
  const uint64_t hosts = prefix >= 31 ? 0 : (uint64_t{1} << (32 - prefix)) - 2;
  if (config.clients > hosts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--client-net /", prefix, " holds ", hosts, " client addresses, not ",
        config.clients, ": widen it or pass fewer --clients"));
  }
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  config.client_net.address &= mask;
  return config;
}

RetrySchedule MakeRetrySchedule(const StormConfig& config) {
  RetrySchedule schedule;
  for (size_t i = 0; i < kDiscoverDeadlines.size(); ++i) {
    schedule.discover_deadline_ns[i] =
        SecondsToNs(kDiscoverDeadlines[i] * config.retry_scale);
  }
  schedule.request_timeout_ns =
      SecondsToNs(kRequestTimeoutSeconds * config.retry_scale);
  schedule.first_try_ns = SecondsToNs(config.first_try_seconds);
  schedule.in_time_ns = SecondsToNs(config.late_after_seconds);
  return schedule;
}

uint64_t PowerOnOffsetNs(const StormConfig& config, uint32_t index) {
  if (config.rate > 0) return SecondsToNs(index / config.rate);
  return SecondsToNs(config.storm_window_seconds * index / config.clients);
}

double AutoMaxSeconds(const StormConfig& config) {
  const double last_power_on =
      static_cast<double>(PowerOnOffsetNs(config, config.clients - 1)) /
      kNsPerSecond;
  // An offer just before the give-up point still leads to a 4011 exchange
  // of up to two request timeouts.
  const double longest_client =
      (kDiscoverDeadlines.back() + 2 * kRequestTimeoutSeconds) *
      config.retry_scale;
  return last_power_on + longest_client + 1;
}

}  // namespace pxe::storm
