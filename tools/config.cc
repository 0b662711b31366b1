#include "tools/config.h"

#include <arpa/inet.h>

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"
#include "tools/arg_reader.h"

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

std::string ArchList() {
  std::string out;
  for (size_t i = 0; i < kArchClassCount; ++i) {
    absl::StrAppend(&out, i ? ", " : "",
                    Sv(ArchClassName(static_cast<ArchClass>(i))));
  }
  return out;
}

}  // namespace

absl::StatusOr<uint32_t> ParseIpv4(std::string_view text) {
  in_addr addr{};
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" is not an IPv4 address"));
  }
  return ntohl(addr.s_addr);
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

std::string VersionText() { return absl::StrCat("pxe-pdhcp ", kVersion); }

std::string UsageText() {
  return absl::StrCat(
      "usage: pxe-pdhcp [-d] [-i interface] [-l listen address] "
      "[-t tftp address]\n"
      "                 [-b broadcast address] [options] <nbp name>\n"
      "\n"
      "Proxy DHCP server for PXE network boot: answers only PXE and HTTP-boot\n"
      "clients with boot data (never an IP address), beside any DHCP server.\n"
      "\n"
      "  -d, --debug              stay in the foreground, log every client\n"
      "  -i, --interface IF       interface to serve (repeatable)\n"
      "  -l, --listen ADDR        address to answer from when the client's\n"
      "                           subnet does not pick one (default: the\n"
      "                           interface's primary address)\n"
      "  -t, --tftp-server ADDR   TFTP server (default: the answering "
      "address)\n"
      "  -b, --broadcast ADDR     destination of offers (default "
      "255.255.255.255)\n"
      "  <nbp name>               boot file for every PXE client\n"
      "      --boot-file ARCH=PATH  boot file for one architecture; ARCH is "
      "one of\n"
      "                           ",
      ArchList(),
      "\n"
      "      --http-url [ARCH=]URL  URL for UEFI HTTP-boot clients\n"
      "      --ipxe-script URL    hand this to iPXE clients (breaks chainload "
      "loops)\n"
      "      --uefi-offer binl|direct  UEFI PXE offer style (default binl:\n"
      "                           the file is sent on port 4011)\n"
      "      --relay-server NET/LEN=ADDR  answer clients of relay NET from "
      "ADDR\n"
      "      --offer-hold-ms MS   on interfaces with several addresses, wait "
      "up to\n"
      "                           MS for the DHCP server's offer to pick the\n"
      "                           client's subnet (default 300, 0 = never)\n"
      "      --rx-ring-frames N   receive ring slots per worker (default "
      "16384)\n"
      "      --workers N          worker threads (default: one per core)\n"
      "      --busy-poll USEC     spin up to USEC on the rings before "
      "sleeping\n"
      "                           (lower latency, a busy core; default 0)\n"
      "      --foreground         do not daemonize (for systemd)\n"
      "      --replay FILE        run over a pcap capture instead of an "
      "interface\n"
      "      --write FILE         with --replay: write the replies to a pcap\n"
      "      --replay-address A/LEN  with --replay: our address (default -l, "
      "else 192.0.2.1/24)\n"
      "  -h, --help               this text\n"
      "  -V, --version            the version\n");
}

absl::StatusOr<DaemonConfig> ParseCommandLine(
    std::span<const char* const> args) {
  DaemonConfig config;
  ArgReader reader(args);
  std::vector<std::string> positional;
  bool options_done = false;
  while (!reader.Done()) {
    std::string_view arg = reader.Next();
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    auto [name, inline_value] = SplitOptionWord(arg);
    if (name == "d" && inline_value && !arg.starts_with("--")) {
      // "-di eth0": flags combined as getopt allows.
      config.debug = true;
      name = arg.substr(2, 1);
      inline_value.reset();
      if (arg.size() > 3) inline_value = arg.substr(3);
    }
    auto value = [&]() { return reader.Value(arg, inline_value); };
    // Switches take no value: "--foreground=no" is a mistake, not a no.
    const bool is_switch = name == "h" || name == "help" || name == "V" ||
                           name == "version" || name == "d" ||
                           name == "debug" || name == "foreground";
    if (is_switch && inline_value && arg.starts_with("--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", Sv(name), " takes no value"));
    }
    if (name == "h" || name == "help") {
      config.action = DaemonConfig::Action::kHelp;
    } else if (name == "V" || name == "version") {
      config.action = DaemonConfig::Action::kVersion;
    } else if (name == "d" || name == "debug") {
      config.debug = true;
    } else if (name == "foreground") {
      config.foreground = true;
    } else if (name == "i" || name == "interface") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v.empty()) {
        return absl::InvalidArgumentError("-i needs an interface name");
      }
      config.interfaces.emplace_back(v);
    } else if (name == "l" || name == "listen") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.policy.listen_address, ParseIpv4(v));
    } else if (name == "t" || name == "tftp-server") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.policy.defaults.tftp_server, ParseIpv4(v));
    } else if (name == "b" || name == "broadcast") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.policy.offer_broadcast, ParseIpv4(v));
    } else if (name == "boot-file") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      auto split = SplitArch(v);
      if (!split) {
        return absl::InvalidArgumentError(
            absl::StrCat("--boot-file wants ARCH=PATH with ARCH one of ",
                         ArchList(), "; got \"", Sv(v), "\""));
      }
      config.policy.defaults.files[static_cast<size_t>(split->first)] =
          split->second;
    } else if (name == "http-url") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (auto split = SplitArch(v)) {
        config.policy.defaults.http_urls[static_cast<size_t>(split->first)] =
            split->second;
      } else {
        config.policy.defaults.http_url = std::string(v);
      }
    } else if (name == "ipxe-script") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      config.policy.defaults.ipxe_script = std::string(v);
    } else if (name == "uefi-offer") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v == "binl") {
        config.policy.uefi_offer_style = UefiOfferStyle::kBinl;
      } else if (v == "direct") {
        config.policy.uefi_offer_style = UefiOfferStyle::kDirect;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "--uefi-offer is binl or direct, not \"", Sv(v), "\""));
      }
    } else if (name == "relay-server") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      const size_t eq = v.find('=');
      if (eq == std::string_view::npos) {
        return absl::InvalidArgumentError(
            "--relay-server wants NET/LEN=ADDR, e.g. 10.1.0.0/16=10.0.0.5");
      }
      PXE_ASSIGN_OR_RETURN(InterfaceAddress net,
                           ParseIpv4Prefix(v.substr(0, eq), 24));
      PXE_ASSIGN_OR_RETURN(uint32_t server, ParseIpv4(v.substr(eq + 1)));
      config.policy.relay_servers.push_back(
          {.relay_subnet = {.network = net.address &
                                       Ipv4Prefix::Mask(net.prefix_length),
                            .prefix_length = net.prefix_length},
           .server = server});
    } else if (name == "offer-hold-ms") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      int ms = 0;
      if (!absl::SimpleAtoi(Sv(v), &ms) || ms < 0 || ms > 1500) {
        return absl::InvalidArgumentError(
            "--offer-hold-ms is 0 to 1500 (iPXE waits about 2 s)");
      }
      config.worker.responder.offer_hold_ns = uint64_t(ms) * 1'000'000;
    } else if (name == "rx-ring-frames") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      int frames = 0;
      if (!absl::SimpleAtoi(Sv(v), &frames) || frames < 32 ||
          frames % 32 != 0) {
        return absl::InvalidArgumentError(
            "--rx-ring-frames is a multiple of 32");
      }
      config.ring.rx_frames = static_cast<uint32_t>(frames);
    } else if (name == "busy-poll") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      int us = 0;
      if (!absl::SimpleAtoi(Sv(v), &us) || us < 0 || us > 1'000'000) {
        return absl::InvalidArgumentError(
            "--busy-poll is 0 to 1000000 microseconds");
      }
      config.worker.busy_poll_ns = uint64_t(us) * 1'000;
    } else if (name == "workers") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (!absl::SimpleAtoi(Sv(v), &config.workers) || config.workers < 1 ||
          config.workers > 64) {
        return absl::InvalidArgumentError("--workers is 1 to 64");
      }
    } else if (name == "replay") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      config.replay_path = std::string(v);
    } else if (name == "write") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      config.write_path = std::string(v);
    } else if (name == "replay-address") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(InterfaceAddress a, ParseIpv4Prefix(v, 24));
      config.replay_addresses.push_back(a);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", Sv(arg), " (see --help)"));
    }
  }
  if (config.action != DaemonConfig::Action::kRun) return config;

  if (positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("one <nbp name> expected, got ", positional.size(), ": \"",
                     positional[1], "\" is extra"));
  }
  if (!positional.empty()) config.policy.defaults.file = positional[0];
  if (config.debug) config.foreground = true;
  if (!config.write_path.empty() && config.replay_path.empty()) {
    return absl::InvalidArgumentError("--write goes with --replay");
  }
  if (config.replay_path.empty() && !config.replay_addresses.empty()) {
    return absl::InvalidArgumentError("--replay-address goes with --replay");
  }
  if (!config.replay_path.empty() && config.replay_addresses.empty()) {
    config.replay_addresses.push_back(
        {.address = config.policy.listen_address != 0
                        ? config.policy.listen_address
                        : MakeIpv4(192, 0, 2, 1),
         .prefix_length = 24});
  }
  PXE_RETURN_IF_ERROR(ValidateBootPolicy(config.policy));
  return config;
}

}  // namespace pxe
