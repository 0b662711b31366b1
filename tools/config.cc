#include "tools/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status_macros.h"
#include "tools/arg_reader.h"
#include "tools/metrics_server.h"
#include "tools/policy_file.h"

namespace pxe {
namespace {

constexpr char kVersion[] = "0.1.0";

// Splits "ARCH=VALUE" when ARCH names an arch class; else nullopt.
std::optional<std::pair<ArchClass, std::string>> SplitArch(
    std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::optional<ArchClass> arch = ParseArchClassName(text.substr(0, eq));
  if (!arch) return std::nullopt;
  return std::make_pair(*arch, std::string(text.substr(eq + 1)));
}

}  // namespace

std::string ArchList() {
  std::string out;
  for (size_t i = 0; i < kArchClassCount; ++i) {
    absl::StrAppend(&out, i ? ", " : "",
                    Sv(ArchClassName(static_cast<ArchClass>(i))));
  }
  return out;
}

absl::StatusOr<uint32_t> ParseIpv4(std::string_view text) {
  in_addr addr{};
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" is not an IPv4 address"));
  }
  return ntohl(addr.s_addr);
}

absl::StatusOr<Ipv6Address> ParseIpv6(std::string_view text) {
  Ipv6Address out{};
  const std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), out.data()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" is not an IPv6 address"));
  }
  return out;
}

absl::StatusOr<Ipv6InterfaceAddress> ParseIpv6Prefix(std::string_view text,
                                                     uint8_t default_prefix) {
  Ipv6InterfaceAddress out{.prefix_length = default_prefix};
  const size_t slash = text.find('/');
  PXE_ASSIGN_OR_RETURN(out.address, ParseIpv6(text.substr(0, slash)));
  if (slash != std::string_view::npos) {
    int prefix = 0;
    if (!absl::SimpleAtoi(Sv(text.substr(slash + 1)), &prefix) || prefix < 0 ||
        prefix > 128) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad prefix length in \"", Sv(text), "\""));
    }
    out.prefix_length = static_cast<uint8_t>(prefix);
  }
  return out;
}

Ipv6Address LinkLocalOf(const MacAddress& mac) {
  return {0xfe,   0x80,   0,
          0,      0,      0,
          0,      0,      static_cast<uint8_t>(mac[0] ^ 0x02),
          mac[1], mac[2], 0xff,
          0xfe,   mac[3], mac[4],
          mac[5]};
}

absl::StatusOr<InterfaceAddress> ParseIpv4Prefix(std::string_view text,
                                                 uint8_t default_prefix) {
  InterfaceAddress out{.prefix_length = default_prefix};
  const size_t slash = text.find('/');
  PXE_ASSIGN_OR_RETURN(out.address, ParseIpv4(text.substr(0, slash)));
  if (slash != std::string_view::npos) {
    int prefix = 0;
    if (!absl::SimpleAtoi(Sv(text.substr(slash + 1)), &prefix) || prefix < 0 ||
        prefix > 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad prefix length in \"", Sv(text), "\""));
    }
    out.prefix_length = static_cast<uint8_t>(prefix);
  }
  return out;
}

absl::StatusOr<VlanConfig> ParseVlanSpec(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VLAN \"", Sv(text), "\": ", Sv(why),
        "; write [IFACE:]ID=ADDR/LEN[,ADDR/LEN], e.g. eth0:10=10.10.0.5/24"));
  };
  VlanConfig out;
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return bad("no '=' and address");
  std::string_view id = text.substr(0, eq);
  if (const size_t colon = id.rfind(':'); colon != std::string_view::npos) {
    out.interface = std::string(id.substr(0, colon));
    id = id.substr(colon + 1);
    if (out.interface.empty()) return bad("the interface name is empty");
  }
  int vlan = 0;
  if (!absl::SimpleAtoi(Sv(id), &vlan) || vlan < 1 || vlan > 4094) {
    return bad("the VLAN id is 1 to 4094");
  }
  out.vlan.vlan = static_cast<uint16_t>(vlan);
  for (absl::string_view part : absl::StrSplit(Sv(text.substr(eq + 1)), ',')) {
    const std::string_view a(part.data(), part.size());
    if (a.find('/') == std::string_view::npos) {
      return bad("an address needs its prefix length");
    }
    absl::StatusOr<InterfaceAddress> address = ParseIpv4Prefix(a, 32);
    if (!address.ok()) {
      const absl::string_view why = address.status().message();
      return bad(std::string_view(why.data(), why.size()));
    }
    out.vlan.addresses.push_back(*address);
  }
  return out;
}

absl::Status CheckVlans(const DaemonConfig& config) {
  for (size_t i = 0; i < config.vlans.size(); ++i) {
    const VlanConfig& v = config.vlans[i];
    if (v.vlan.vlan < 1 || v.vlan.vlan > 4094) {
      return absl::InvalidArgumentError(
          absl::StrCat("VLAN ", v.vlan.vlan, ": a VLAN id is 1 to 4094"));
    }
    if (v.vlan.addresses.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("VLAN ", v.vlan.vlan, " has no address to answer from"));
    }
    const std::vector<std::string>& served = config.interfaces;
    if (v.interface.empty() && served.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "VLAN ", v.vlan.vlan, ": name its interface (eth0:", v.vlan.vlan,
          "=... or interface = \"eth0\"): ",
          served.empty() ? "no interface is named with -i"
                         : "several interfaces are served"));
    }
    if (!v.interface.empty() &&
        std::find(served.begin(), served.end(), v.interface) == served.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "VLAN ", v.vlan.vlan, " is on ", v.interface,
          ", which is not served: add it with -i or [server] interfaces"));
    }
    for (size_t j = 0; j < i; ++j) {
      const VlanConfig& w = config.vlans[j];
      if (w.vlan.vlan == v.vlan.vlan &&
          (w.interface == v.interface || w.interface.empty() ||
           v.interface.empty())) {
        return absl::InvalidArgumentError(
            absl::StrCat("VLAN ", v.vlan.vlan, " on ",
                         v.interface.empty() ? served.front() : v.interface,
                         " is configured twice"));
      }
    }
  }
  return absl::OkStatus();
}

std::string VersionText() { return absl::StrCat("pxe-pdhcp ", kVersion); }

std::string_view VersionNumber() { return kVersion; }

std::string UsageText() {
  // The defaults as the structs define them, so this text cannot drift.
  const uint64_t hold_ms = ResponderOptions{}.offer_hold_ns / 1'000'000;
  const uint32_t rx_frames = RingOptions{}.rx_frames;
  const uint64_t busy_us = WorkerOptions{}.busy_poll_ns / 1'000;
  const uint32_t client_rate = ResponderOptions{}.client_per_minute;
  const uint32_t client_burst = ResponderOptions{}.client_burst;
  return absl::StrCat(
      "usage: pxe-pdhcp [-d] [-i interface] [-l listen address] "
      "[-t tftp address]\n"
      "                 [-b broadcast address] [options] <nbp name>\n"
      "       pxe-pdhcp -c FILE [flags] [<nbp name>]\n"
      "       pxe-pdhcp [-c FILE] [flags] --check-config\n"
      "       pxe-pdhcp [-c FILE] [flags] --explain mac=MAC arch=ARCH "
      "[FIELD=VALUE...]\n"
      "\n"
      "Proxy DHCP server for PXE network boot: answers only PXE and HTTP-boot\n"
      "clients with boot data (never an IP address), beside any DHCP server.\n"
      "\n"
      "  -c, --config FILE        read the TOML configuration FILE (e.g.\n"
      "                           /etc/pxe-pdhcp/pxe-pdhcp.toml; without -c "
      "no\n"
      "                           file is read); flags override its values\n"
      "      --check-config       load, check and print the configuration; "
      "exit\n"
      "                           0 if it is valid, 1 if not\n"
      "      --explain FIELD=VALUE...  which rule a client matches and the "
      "reply\n"
      "                           it would get, without a network; exit 0 if\n"
      "                           answered, 3 if not. FIELDs: mac arch subnet\n"
      "                           vendor_class user_class uuid interface vlan\n"
      "                           circuit_id remote_id port (67|4011) type\n"
      "                           (discover|request)\n"
      "  -d, --debug              stay in the foreground, log every "
      "decision\n"
      "                           (--foreground --log-level debug)\n"
      "  -i, --interface IF       interface to serve (repeatable; replaces\n"
      "                           the file's list)\n"
      "      --wait-for-interfaces  start with an interface missing, or "
      "without\n"
      "                           IPv4; serve it once it is there\n"
      "  -l, --listen ADDR        address to answer from when the client's\n"
      "                           subnet does not pick one (default: the\n"
      "                           interface's primary address)\n"
      "  -t, --tftp-server ADDR   TFTP server (default: the answering "
      "address);\n"
      "                           once per family: -t 10.0.0.5 -t "
      "2001:db8::5\n"
      "  -b, --broadcast ADDR     destination of offers (default "
      "255.255.255.255)\n"
      "  <nbp name>               boot file for every PXE client (over the\n"
      "                           file's [boot] file)\n"
      "      --boot-file ARCH=PATH  boot file for one architecture; ARCH is "
      "one of\n"
      "                           ",
      ArchList(),
      "\n"
      "      --http-url [ARCH=]URL  URL for UEFI HTTP-boot clients; one with "
      "an\n"
      "                           IPv6 literal host ([2001:db8::5]) is for "
      "HTTPv6\n"
      "      --ipxe-script URL    hand this to iPXE clients (breaks chainload "
      "loops)\n"
      "      --uefi-offer binl|direct  UEFI PXE offer style (default binl:\n"
      "                           the file is sent on port 4011)\n"
      "      --relay-server NET/LEN=ADDR  answer clients of relay NET from "
      "ADDR\n"
      "      --vlan [IFACE:]ID=ADDR/LEN  serve 802.1Q VLAN ID tagged on a "
      "trunk,\n"
      "                           answering from ADDR (repeatable; "
      "untagged\n"
      "                           frames use the interface's own "
      "addresses)\n"
      "      --offer-hold-ms MS   on interfaces with several addresses, wait "
      "up to\n"
      "                           MS for the DHCP server's offer to pick the\n"
      "                           client's subnet (default ",
      hold_ms,
      ", 0 = never)\n"
      "      --rx-ring-frames N   receive ring slots per worker (default ",
      rx_frames,
      ")\n"
      "      --workers N          worker threads (default: one per core)\n"
      "      --busy-poll USEC     spin up to USEC on the rings before "
      "sleeping\n"
      "                           (lower latency, a busy core; default ",
      busy_us,
      ")\n"
      "      --client-rate N      answer each client MAC at most N times a\n"
      "                           minute after a burst (default ",
      client_rate,
      ", 0 = no limit)\n"
      "      --client-burst N     ... and N at once (default ",
      client_burst,
      ")\n"
      "      --interface-rate N   at most N replies a second per interface\n"
      "                           and worker (default 0 = no limit)\n"
      "      --metrics ADDR:PORT  serve Prometheus metrics at\n"
      "                           http://ADDR:PORT/metrics (e.g. "
      "127.0.0.1:9767,\n"
      "                           [::1]:9767; default: off)\n"
      "      --status             print the running daemon's metrics from "
      "--metrics\n"
      "                           (or the file's [metrics] listen); exit\n"
      "      --foreground         do not daemonize (for systemd)\n"
      "      --log-level LEVEL    debug (every boot client's decision), info\n"
      "                           (the default), warning or error\n"
      "      --log-format FORMAT  text (the default; decisions as key=value)\n"
      "                           or json (one object a line)\n"
      "      --user NAME          once the sockets are open, run as NAME and "
      "its\n"
      "                           group (needs root to switch); the daemon "
      "keeps\n"
      "                           only CAP_NET_RAW and a system call "
      "allow-list\n"
      "      --no-sandbox         keep every privilege and allow every system\n"
      "                           call (for debugging; no --user switch "
      "either)\n"
      "      --replay FILE        run over a pcap capture instead of an "
      "interface\n"
      "      --write FILE         with --replay: write the replies to a pcap\n"
      "      --replay-address A/LEN  with --replay: our address (default -l, "
      "else 192.0.2.1/24);\n"
      "                           repeatable, IPv4 or IPv6 (a link-local one "
      "is\n"
      "                           added for DHCPv6 when none is given)\n"
      "  -h, --help               this text\n"
      "  -V, --version            the version\n");
}

namespace {

// One option of the command line, with its canonical long name.
struct Flag {
  std::string_view name;   // "tftp-server" for -t too
  std::string_view word;   // as written, for messages
  std::string_view value;  // empty for switches
};

struct FlagSpec {
  std::string_view name;
  char short_name;  // 0: long form only
  bool takes_value;
};

constexpr FlagSpec kFlags[] = {
    {"help", 'h', false},        {"version", 'V', false},
    {"debug", 'd', false},       {"foreground", 0, false},
    {"config", 'c', true},       {"check-config", 0, false},
    {"explain", 0, false},       {"interface", 'i', true},
    {"listen", 'l', true},       {"tftp-server", 't', true},
    {"broadcast", 'b', true},    {"boot-file", 0, true},
    {"http-url", 0, true},       {"ipxe-script", 0, true},
    {"uefi-offer", 0, true},     {"relay-server", 0, true},
    {"offer-hold-ms", 0, true},  {"rx-ring-frames", 0, true},
    {"workers", 0, true},        {"busy-poll", 0, true},
    {"client-burst", 0, true},   {"client-rate", 0, true},
    {"interface-rate", 0, true}, {"replay", 0, true},
    {"write", 0, true},          {"replay-address", 0, true},
    {"user", 0, true},           {"no-sandbox", 0, false},
    {"vlan", 0, true},           {"wait-for-interfaces", 0, false},
    {"log-level", 0, true},      {"log-format", 0, true},
    {"metrics", 0, true},        {"status", 0, false},
};

const FlagSpec* FindFlag(std::string_view name, bool long_form) {
  for (const FlagSpec& f : kFlags) {
    if (long_form ? f.name == name
                  : name.size() == 1 && f.short_name == name[0]) {
      return &f;
    }
  }
  return nullptr;
}

struct CommandLine {
  std::vector<Flag> flags;  // in order: a later one wins
  std::vector<std::string_view> positional;
};

// Splits argv into options and positional words, as getopt would: "-t A",
// "-tA", "--tftp-server A", "--tftp-server=A", switches combined ("-di
// eth0"), "--" ends the options.
absl::StatusOr<CommandLine> SplitCommandLine(
    std::span<const char* const> args) {
  CommandLine line;
  ArgReader reader(args);
  bool options_done = false;
  while (!reader.Done()) {
    const std::string_view arg = reader.Next();
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      line.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    auto [name, inline_value] = SplitOptionWord(arg);
    const bool long_form = arg.starts_with("--");
    while (true) {
      const FlagSpec* spec = FindFlag(name, long_form);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option ", Sv(arg), " (see --help)"));
      }
      if (spec->takes_value) {
        PXE_ASSIGN_OR_RETURN(std::string_view v,
                             reader.Value(arg, inline_value));
        line.flags.push_back({.name = spec->name, .word = arg, .value = v});
        break;
      }
      // Switches take no value: "--foreground=no" is a mistake, not a no.
      if (long_form && inline_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", Sv(name), " takes no value"));
      }
      line.flags.push_back({.name = spec->name, .word = arg});
      if (!inline_value) break;
      // "-di eth0": the rest of the word is the next short option.
      name = inline_value->substr(0, 1);
      inline_value = inline_value->size() > 1
                         ? std::optional(inline_value->substr(1))
                         : std::nullopt;
    }
  }
  return line;
}

// The flags that pick what the program does and which file it reads; they
// must be known before the file is.
absl::Status ApplyModeFlags(const CommandLine& line, DaemonConfig* config) {
  for (const Flag& flag : line.flags) {
    const std::string_view n = flag.name;
    if (n == "help") {
      config->action = DaemonConfig::Action::kHelp;
      return absl::OkStatus();
    }
    if (n == "version") {
      config->action = DaemonConfig::Action::kVersion;
      return absl::OkStatus();
    }
  }
  for (const Flag& flag : line.flags) {
    const std::string_view n = flag.name;
    if (n == "config") {
      if (!config->config_path.empty()) {
        return absl::InvalidArgumentError("-c/--config is given twice");
      }
      if (flag.value.empty()) {
        return absl::InvalidArgumentError("-c needs a file name");
      }
      config->config_path = std::string(flag.value);
    } else if (n == "status") {
      if (config->action != DaemonConfig::Action::kRun) {
        return absl::InvalidArgumentError(
            "--status goes alone, without --check-config or --explain");
      }
      config->action = DaemonConfig::Action::kStatus;
    } else if (n == "check-config" || n == "explain") {
      const auto action = n == "explain" ? DaemonConfig::Action::kExplain
                                         : DaemonConfig::Action::kCheckConfig;
      if (config->action != DaemonConfig::Action::kRun &&
          config->action != action) {
        return absl::InvalidArgumentError(
            "--check-config, --explain and --status go alone: choose one");
      }
      config->action = action;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntFlagValue(const IntSetting& setting,
                                     std::string_view value) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(Sv(value), &v) || !InRange(setting, v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", Sv(setting.flag), " is ", Sv(setting.range)));
  }
  return v;
}

// [server]'s flags. `interfaces_replaced`: whether an -i has already
// replaced the file's interface list (later ones add to it).
absl::Status ApplyServerFlag(const Flag& flag, DaemonConfig* config,
                             bool* interfaces_replaced) {
  const std::string_view n = flag.name;
  const std::string_view v = flag.value;
  BootPolicy& policy = config->policy;
  if (n == "interface") {
    if (v.empty()) {
      return absl::InvalidArgumentError("-i needs an interface name");
    }
    if (!*interfaces_replaced) config->interfaces.clear();
    *interfaces_replaced = true;
    config->interfaces.emplace_back(v);
  } else if (n == "listen") {
    PXE_ASSIGN_OR_RETURN(policy.listen_address, ParseIpv4(v));
  } else if (n == "tftp-server") {
    // Once per family: -t 10.0.0.5 -t 2001:db8::5.
    if (v.find(':') != std::string_view::npos) {
      PXE_ASSIGN_OR_RETURN(policy.defaults.tftp_server6, ParseIpv6(v));
    } else {
      PXE_ASSIGN_OR_RETURN(policy.defaults.tftp_server, ParseIpv4(v));
    }
  } else if (n == "broadcast") {
    PXE_ASSIGN_OR_RETURN(policy.offer_broadcast, ParseIpv4(v));
  } else if (n == "uefi-offer") {
    std::optional<UefiOfferStyle> style = ParseUefiOfferStyle(v);
    if (!style) {
      return absl::InvalidArgumentError(
          absl::StrCat("--uefi-offer is binl or direct, not \"", Sv(v), "\""));
    }
    policy.uefi_offer_style = *style;
  } else if (n == "relay-server") {
    PXE_ASSIGN_OR_RETURN(RelayServerAddress relay, ParseRelayServer(v));
    policy.relay_servers.push_back(relay);
  } else if (n == "vlan") {
    PXE_ASSIGN_OR_RETURN(VlanConfig vlan, ParseVlanSpec(v));
    config->vlans.push_back(std::move(vlan));
  } else {
    for (const IntSetting& setting : IntSettings()) {
      if (setting.flag == n) {
        PXE_ASSIGN_OR_RETURN(int64_t value, IntFlagValue(setting, v));
        setting.apply(config, value);
      }
    }
  }
  return absl::OkStatus();
}

// [boot]'s flags: the defaults' answer.
absl::Status ApplyBootFlag(const Flag& flag, BootAnswer* defaults) {
  const std::string_view n = flag.name;
  const std::string_view v = flag.value;
  if (n == "boot-file") {
    auto split = SplitArch(v);
    if (!split) {
      return absl::InvalidArgumentError(
          absl::StrCat("--boot-file wants ARCH=PATH with ARCH one of ",
                       ArchList(), "; got \"", Sv(v), "\""));
    }
    defaults->files[static_cast<size_t>(split->first)] = split->second;
  } else if (n == "http-url") {
    // An IPv6 literal host makes it the URL for HTTP boot over IPv6.
    if (auto split = SplitArch(v)) {
      const size_t arch = static_cast<size_t>(split->first);
      (UrlHasIpv6Host(split->second) ? defaults->http_urls6[arch]
                                     : defaults->http_urls[arch]) =
          split->second;
    } else {
      (UrlHasIpv6Host(v) ? defaults->http_url6 : defaults->http_url) =
          std::string(v);
    }
  } else if (n == "ipxe-script") {
    defaults->ipxe_script = std::string(v);
  }
  return absl::OkStatus();
}

// Every flag over what the file set, in command-line order.
absl::Status ApplyFlags(const CommandLine& line, DaemonConfig* config) {
  bool interfaces_replaced = false;
  for (const Flag& flag : line.flags) {
    const std::string_view n = flag.name;
    if (n == "debug") {
      config->debug = true;
    } else if (n == "foreground") {
      config->foreground = true;
    } else if (n == "wait-for-interfaces") {
      config->wait_for_interfaces = true;
    } else if (n == "user") {
      if (flag.value.empty()) {
        return absl::InvalidArgumentError("--user needs a user name");
      }
      config->user = std::string(flag.value);
    } else if (n == "no-sandbox") {
      config->sandbox = false;
    } else if (n == "log-level") {
      const std::optional<log::Level> level = log::ParseLevel(flag.value);
      if (!level) {
        return absl::InvalidArgumentError(
            absl::StrCat("--log-level is debug, info, warning or error, not \"",
                         Sv(flag.value), "\""));
      }
      config->log_level = *level;
    } else if (n == "log-format") {
      const std::optional<log::Format> format = log::ParseFormat(flag.value);
      if (!format) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--log-format is text or json, not \"", Sv(flag.value), "\""));
      }
      config->log_format = *format;
    } else if (n == "metrics") {
      if (absl::Status s = ParseMetricsAddress(flag.value).status(); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--metrics: ", s.message()));
      }
      config->metrics_listen = std::string(flag.value);
    } else if (n == "replay") {
      config->replay_path = std::string(flag.value);
    } else if (n == "write") {
      config->write_path = std::string(flag.value);
    } else if (n == "replay-address") {
      if (flag.value.find(':') != std::string_view::npos) {
        PXE_ASSIGN_OR_RETURN(Ipv6InterfaceAddress a,
                             ParseIpv6Prefix(flag.value, 64));
        config->replay_addresses6.push_back(a);
      } else {
        PXE_ASSIGN_OR_RETURN(InterfaceAddress a,
                             ParseIpv4Prefix(flag.value, 24));
        config->replay_addresses.push_back(a);
      }
    } else {
      PXE_RETURN_IF_ERROR(ApplyServerFlag(flag, config, &interfaces_replaced));
      PXE_RETURN_IF_ERROR(ApplyBootFlag(flag, &config->policy.defaults));
    }
  }
  if (config->debug) {
    config->foreground = true;
    config->log_level = log::Level::kDebug;
  }
  config->worker.responder.log_every_decision =
      config->log_level == log::Level::kDebug;
  return absl::OkStatus();
}

// The <nbp name> (over [boot] file), and --explain's FIELD=VALUE words.
absl::Status ApplyPositional(const CommandLine& line, DaemonConfig* config) {
  std::vector<std::string_view> nbp;
  for (std::string_view word : line.positional) {
    if (config->action == DaemonConfig::Action::kExplain &&
        word.find('=') != std::string_view::npos) {
      config->explain_fields.emplace_back(word);
    } else {
      nbp.push_back(word);
    }
  }
  if (nbp.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("one <nbp name> expected, got ", nbp.size(), ": \"",
                     Sv(nbp[1]), "\" is extra"));
  }
  if (!nbp.empty()) config->policy.defaults.file = std::string(nbp[0]);
  if (config->action == DaemonConfig::Action::kExplain &&
      config->explain_fields.empty()) {
    return absl::InvalidArgumentError(
        "--explain describes a client: e.g. --explain "
        "mac=52:54:00:12:34:56 arch=uefi-x64");
  }
  return absl::OkStatus();
}

absl::Status CheckReplayFlags(DaemonConfig* config) {
  if (!config->write_path.empty() && config->replay_path.empty()) {
    return absl::InvalidArgumentError("--write goes with --replay");
  }
  if (config->replay_path.empty() && !config->replay_addresses6.empty()) {
    return absl::InvalidArgumentError("--replay-address goes with --replay");
  }
  if (!config->replay_path.empty() &&
      std::none_of(
          config->replay_addresses6.begin(), config->replay_addresses6.end(),
          [](const Ipv6InterfaceAddress& a) { return a.link_local(); })) {
    // Solicits are answered from a link-local address: the one the
    // interface would have.
    config->replay_addresses6.insert(
        config->replay_addresses6.begin(),
        {.address = LinkLocalOf(config->replay_mac), .prefix_length = 64});
  }
  if (config->replay_path.empty() && !config->replay_addresses.empty()) {
    return absl::InvalidArgumentError("--replay-address goes with --replay");
  }
  if (!config->replay_path.empty() && config->replay_addresses.empty()) {
    config->replay_addresses.push_back(
        {.address = config->policy.listen_address != 0
                        ? config->policy.listen_address
                        : MakeIpv4(192, 0, 2, 1),
         .prefix_length = 24});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseCommandLine(
    std::span<const char* const> args) {
  PXE_ASSIGN_OR_RETURN(CommandLine line, SplitCommandLine(args));
  DaemonConfig config;
  PXE_RETURN_IF_ERROR(ApplyModeFlags(line, &config));
  if (config.action == DaemonConfig::Action::kHelp ||
      config.action == DaemonConfig::Action::kVersion) {
    return config;
  }
  if (!config.config_path.empty()) {
    PXE_RETURN_IF_ERROR(LoadPolicyFile(config.config_path, &config));
  }
  PXE_RETURN_IF_ERROR(ApplyFlags(line, &config));
  PXE_RETURN_IF_ERROR(ApplyPositional(line, &config));
  PXE_RETURN_IF_ERROR(CheckReplayFlags(&config));
  // --status needs only the metrics address, not a policy that serves.
  if (config.action == DaemonConfig::Action::kStatus) return config;
  if (config.replay_path.empty()) PXE_RETURN_IF_ERROR(CheckVlans(config));
  // The file was checked where it was written; what is left is the whole
  // (a boot file at all) and what the flags changed.
  if (absl::Status s = ValidateBootPolicy(config.policy); !s.ok()) {
    if (config.config_path.empty()) return s;
    const bool no_file = absl::StartsWith(s.message(), "no boot file");
    return absl::InvalidArgumentError(absl::StrCat(
        config.config_path, " with the command line: ", s.message(),
        no_file ? " in [boot] file = \"...\" or on the command line" : ""));
  }
  return config;
}

std::span<const IntSetting> IntSettings() {
  static constexpr IntSetting kSettings[] = {
      {.flag = "offer-hold-ms",
       .key = "offer_hold_ms",
       .min = 0,
       .max = 1500,
       .range = "0 to 1500 (iPXE waits about 2 s)",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->worker.responder.offer_hold_ns = uint64_t(v) * 1'000'000;
           }},
      {.flag = "rx-ring-frames",
       .key = "rx_ring_frames",
       .min = 32,
       .max = 0x7FFFFFE0,
       .multiple_of = 32,
       .range = "a multiple of 32",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->ring.rx_frames = static_cast<uint32_t>(v);
           }},
      {.flag = "workers",
       .key = "workers",
       .min = 1,
       .max = 64,
       .range = "1 to 64",
       .apply = [](DaemonConfig* c,
                   int64_t v) { c->workers = static_cast<int>(v); }},
      {.flag = "client-rate",
       .key = "client_rate_per_minute",
       .min = 0,
       .max = 1'000'000,
       .range = "0 (no limit) to 1000000 a minute",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->worker.responder.client_per_minute = static_cast<uint32_t>(v);
           }},
      {.flag = "client-burst",
       .key = "client_burst",
       .min = 1,
       .max = 1'000'000,
       .range = "1 to 1000000",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->worker.responder.client_burst = static_cast<uint32_t>(v);
           }},
      {.flag = "interface-rate",
       .key = "interface_rate_per_second",
       .min = 0,
       .max = 10'000'000,
       .range = "0 (no limit) to 10000000 a second",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->worker.responder.interface_per_second =
                 static_cast<uint32_t>(v);
           }},
      {.flag = "busy-poll",
       .key = "busy_poll_us",
       .min = 0,
       .max = 1'000'000,
       .range = "0 to 1000000 microseconds",
       .apply =
           [](DaemonConfig* c, int64_t v) {
             c->worker.busy_poll_ns = uint64_t(v) * 1'000;
           }},
  };
  return kSettings;
}

bool InRange(const IntSetting& setting, int64_t value) {
  return value >= setting.min && value <= setting.max &&
         value % setting.multiple_of == 0;
}

std::optional<UefiOfferStyle> ParseUefiOfferStyle(std::string_view text) {
  if (text == "binl") return UefiOfferStyle::kBinl;
  if (text == "direct") return UefiOfferStyle::kDirect;
  return std::nullopt;
}

absl::StatusOr<RelayServerAddress> ParseRelayServer(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "--relay-server wants NET/LEN=ADDR, e.g. 10.1.0.0/16=10.0.0.5");
  }
  PXE_ASSIGN_OR_RETURN(InterfaceAddress net,
                       ParseIpv4Prefix(text.substr(0, eq), 24));
  PXE_ASSIGN_OR_RETURN(uint32_t server, ParseIpv4(text.substr(eq + 1)));
  return RelayServerAddress{
      .relay_subnet = {.network =
                           net.address & Ipv4Prefix::Mask(net.prefix_length),
                       .prefix_length = net.prefix_length},
      .server = server};
}

}  // namespace pxe
