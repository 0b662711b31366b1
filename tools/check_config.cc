#include "tools/check_config.h"

#include <cstdio>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/describe.h"
#include "engine/reply6.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// Text as written when printable, else "hex:..." (as a rule writes bytes).
std::string Bytes(std::string_view bytes) {
  bool printable = !bytes.empty();
  for (char c : bytes) printable = printable && c >= 0x20 && c < 0x7f;
  if (printable) return absl::StrCat("\"", Sv(bytes), "\"");
  std::string out = "hex:";
  for (char c : bytes)
    absl::StrAppend(&out, absl::StrFormat("%02x", uint8_t(c)));
  return out;
}

std::string Pattern(const BytePattern& p) {
  std::string out = Bytes(p.text);
  if (p.prefix) absl::StrAppend(&out, "*");
  return out;
}

std::string Mac(const MacPattern& p) {
  std::string out;
  for (uint8_t i = 0; i < p.length; ++i) {
    absl::StrAppend(&out, i ? ":" : "", absl::StrFormat("%02x", p.octets[i]));
  }
  if (p.length < 6) absl::StrAppend(&out, ":*");
  return out;
}

std::string Uuid(const std::array<uint8_t, 16>& u) {
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    absl::StrAppend(&out, absl::StrFormat("%02x", u[i]));
  }
  return out;
}

template <typename T, typename Fn>
void Field(std::vector<std::string>* out, std::string_view name,
           const std::vector<T>& values, Fn&& format) {
  if (values.empty()) return;
  std::vector<std::string> parts;
  for (const T& v : values) parts.push_back(format(v));
  out->push_back(absl::StrCat(Sv(name), " ", absl::StrJoin(parts, ", ")));
}

std::string DescribeMatch(const RuleMatch& m) {
  if (m.empty()) return "every client";
  std::vector<std::string> f;
  Field(&f, "mac", m.mac, Mac);
  Field(&f, "subnet", m.subnet, [](const Ipv4Prefix& p) {
    return absl::StrCat(FormatIpv4(p.network), "/", p.prefix_length);
  });
  if (m.arch_mask != 0) {
    std::vector<std::string> names;
    for (size_t i = 0; i < kArchClassCount; ++i) {
      if (m.arch_mask & (uint32_t{1} << i)) {
        names.emplace_back(ArchClassName(static_cast<ArchClass>(i)));
      }
    }
    f.push_back(absl::StrCat("arch ", absl::StrJoin(names, ", ")));
  }
  Field(&f, "vendor_class", m.vendor_class, Pattern);
  Field(&f, "user_class", m.user_class, Pattern);
  Field(&f, "uuid", m.uuid, Uuid);
  Field(&f, "interface", m.interface, [](const std::string& s) { return s; });
  Field(&f, "vlan", m.vlan, [](uint16_t v) {
    return v == RuleMatch::kUntagged ? std::string("untagged")
                                     : absl::StrCat(v);
  });
  Field(&f, "circuit_id", m.circuit_id, Pattern);
  Field(&f, "remote_id", m.remote_id, Pattern);
  return absl::StrJoin(f, "; ");
}

std::string Option(const ExtraOption& o) {
  return absl::StrCat(
      o.code, " = ",
      Bytes(std::string_view(reinterpret_cast<const char*>(o.value.data()),
                             o.value.size())));
}

std::string Ipv6Text(const Ipv6Address& a) {
  char text[40];
  return std::string(text, FormatIpv6(a, text));
}

// What a BootAnswer sets (in a rule: what differs from the defaults).
std::vector<std::string> DescribeAnswer(const BootAnswer& a) {
  std::vector<std::string> f;
  if (!a.file.empty()) f.push_back(absl::StrCat("file \"", a.file, "\""));
  for (size_t i = 0; i < kArchClassCount; ++i) {
    const std::string_view arch = ArchClassName(static_cast<ArchClass>(i));
    if (!a.files[i].empty()) {
      f.push_back(absl::StrCat("file for ", Sv(arch), " \"", a.files[i], "\""));
    }
  }
  if (!a.http_url.empty()) {
    f.push_back(absl::StrCat("http_url \"", a.http_url, "\""));
  }
  for (size_t i = 0; i < kArchClassCount; ++i) {
    const std::string_view arch = ArchClassName(static_cast<ArchClass>(i));
    if (!a.http_urls[i].empty()) {
      f.push_back(
          absl::StrCat("http_url for ", Sv(arch), " \"", a.http_urls[i], "\""));
    }
  }
  if (!a.http_url6.empty()) {
    f.push_back(absl::StrCat("http_url6 \"", a.http_url6, "\""));
  }
  for (size_t i = 0; i < kArchClassCount; ++i) {
    const std::string_view arch = ArchClassName(static_cast<ArchClass>(i));
    if (!a.http_urls6[i].empty()) {
      f.push_back(absl::StrCat("http_url6 for ", Sv(arch), " \"",
                               a.http_urls6[i], "\""));
    }
  }
  if (!a.ipxe_script.empty()) {
    f.push_back(absl::StrCat("ipxe_script \"", a.ipxe_script, "\""));
  }
  if (a.tftp_server != 0) {
    f.push_back(absl::StrCat("tftp_server ", FormatIpv4(a.tftp_server)));
  }
  if (a.tftp_server6 != Ipv6Address{}) {
    f.push_back(absl::StrCat("tftp_server ", Ipv6Text(a.tftp_server6)));
  }
  if (a.reply_delay_ms) {
    f.push_back(absl::StrCat("reply_delay_ms ", *a.reply_delay_ms));
  }
  if (!a.menu.empty()) f.push_back(absl::StrCat("menu \"", a.menu, "\""));
  if (a.raspberry_pi) f.push_back("raspberry_pi (the Pi bootloader profile)");
  for (const ExtraOption& o : a.options) {
    f.push_back(absl::StrCat("option ", Option(o)));
  }
  return f;
}

void DescribeServer(const DaemonConfig& c, std::string* out) {
  const BootPolicy& p = c.policy;
  auto line = [&](std::string_view key, const std::string& value) {
    absl::StrAppend(out, absl::StrFormat("  %-15s %s\n", Sv(key), value));
  };
  absl::StrAppend(out, "[server]\n");
  line("interfaces", c.interfaces.empty()
                         ? "the first interface that is up with IPv4"
                         : absl::StrJoin(c.interfaces, ", "));
  line("listen", p.listen_address != 0 ? FormatIpv4(p.listen_address)
                                       : "the interface's primary address");
  line("tftp_server", p.defaults.tftp_server != 0
                          ? FormatIpv4(p.defaults.tftp_server)
                          : "the answering address");
  line("tftp_server6", p.defaults.tftp_server6 != Ipv6Address{}
                           ? Ipv6Text(p.defaults.tftp_server6)
                           : "the answering address");
  line("broadcast", FormatIpv4(p.offer_broadcast));
  line("uefi_offer", p.uefi_offer_style == UefiOfferStyle::kBinl
                         ? "binl (the file on port 4011)"
                         : "direct (the file in the offer)");
  std::vector<std::string> relays;
  for (const RelayServerAddress& r : p.relay_servers) {
    relays.push_back(absl::StrCat(FormatIpv4(r.relay_subnet.network), "/",
                                  r.relay_subnet.prefix_length, "=",
                                  FormatIpv4(r.server)));
  }
  line("relay_servers", relays.empty() ? "none" : absl::StrJoin(relays, ", "));
  std::vector<std::string> agents;
  for (const uint32_t r : p.relays) agents.push_back(FormatIpv4(r));
  line("relays", agents.empty() ? "any (giaddr: another host's unicast address)"
                                : absl::StrJoin(agents, ", "));
  std::vector<std::string> servers;
  for (const uint32_t s : p.dhcp_servers) servers.push_back(FormatIpv4(s));
  line("dhcp_servers", servers.empty()
                           ? "any on the interface's subnets (offers learned)"
                           : absl::StrJoin(servers, ", "));
  line("offer_hold_ms",
       absl::StrCat(c.worker.responder.offer_hold_ns / 1'000'000));
  line("workers", c.workers == 0 ? "one per core" : absl::StrCat(c.workers));
  line("rx_ring_frames", absl::StrCat(c.ring.rx_frames));
  line("busy_poll_us", absl::StrCat(c.worker.busy_poll_ns / 1'000));
  const ResponderOptions& r = c.worker.responder;
  line("client_rate_per_minute",
       r.client_per_minute == 0
           ? std::string("0 (no limit)")
           : absl::StrCat(r.client_per_minute, " after a burst of ",
                          r.client_burst, " (client_burst)"));
  line("interface_rate_per_second", r.interface_per_second == 0
                                        ? std::string("0 (no limit)")
                                        : absl::StrCat(r.interface_per_second));
  line("wait_for_interfaces", c.wait_for_interfaces ? "true" : "false");
  line("user", c.user.empty() ? "the user that starts pxe-pdhcp" : c.user);
  constexpr std::string_view kLevels[] = {
      "debug (every boot client's decision)", "info", "warning", "error"};
  line("log_level", std::string(kLevels[static_cast<size_t>(c.log_level)]));
  line("log_format",
       c.log_format == log::Format::kJson ? "json" : "text (key=value)");
  absl::StrAppend(out, "[metrics]\n");
  line("listen", c.metrics_listen.empty()
                     ? std::string("off")
                     : absl::StrCat("http://", c.metrics_listen, "/metrics"));
}

void DescribeDefaults(const PolicySnapshot& policy, std::string* out) {
  const ResolvedAnswer& d = policy.defaults();
  absl::StrAppend(out, "[boot] the defaults, per architecture\n");
  for (size_t i = 0; i < kArchClassCount; ++i) {
    std::vector<std::string> f;
    if (!d.pxe_file[i].empty()) {
      f.push_back(absl::StrCat("file \"", d.pxe_file[i], "\""));
    }
    if (!d.http_url[i].empty()) {
      f.push_back(absl::StrCat("http \"", d.http_url[i], "\""));
    }
    if (!d.http_url6[i].empty() && d.http_url6[i] != d.http_url[i]) {
      f.push_back(absl::StrCat("http over IPv6 \"", d.http_url6[i], "\""));
    }
    const std::string what =
        f.empty() ? "no boot file" : absl::StrJoin(f, ", ");
    absl::StrAppend(
        out,
        absl::StrFormat("  %-15s %s\n",
                        Sv(ArchClassName(static_cast<ArchClass>(i))), what));
  }
  // What applies to every architecture (file and URLs are shown above).
  BootAnswer rest = policy.policy().defaults;
  rest.file.clear();
  rest.files = {};
  rest.http_url.clear();
  rest.http_urls = {};
  rest.http_url6.clear();
  rest.http_urls6 = {};
  rest.tftp_server = 0;  // shown under [server]
  rest.tftp_server6 = {};
  for (const std::string& f : DescribeAnswer(rest)) {
    absl::StrAppend(out, "  ", f, "\n");
  }
}

void DescribeMenus(const BootPolicy& p, std::string* out) {
  for (const Menu& m : p.menus) {
    absl::StrAppend(out, "[menu.", m.name, "] prompt \"", m.prompt,
                    "\", timeout ", m.timeout_s,
                    m.timeout_s == 0     ? " (boots the first item at once)"
                    : m.timeout_s == 255 ? " (waits for a key)"
                                         : " s",
                    "\n");
    for (const MenuItem& i : m.items) {
      absl::StrAppend(out, absl::StrFormat("  type 0x%04x  ", i.type), "\"",
                      i.label, "\" ",
                      i.type == 0 ? std::string("local disk")
                                  : absl::StrCat("file \"", i.file, "\""),
                      "\n");
    }
  }
}

void DescribeRules(const DaemonConfig& c, const BootPolicy& p,
                   std::string* out) {
  absl::StrAppend(out, "[[rule]] ", p.rules.size(),
                  p.rules.empty() ? " (every client gets the defaults)"
                                  : ", tried in order; the first match wins",
                  "\n");
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    // Numbers right-aligned, so that rule 10's lines line up with rule 9's.
    absl::StrAppend(out, absl::StrFormat("%3d. \"", i + 1), r.name, "\" (",
                    c.config_path, ":", r.where.line, ")\n");
    absl::StrAppend(out, "       match:  ", DescribeMatch(r.match), "\n");
    if (r.log) {
      absl::StrAppend(out, "       log:    every decision, one line each\n");
    }
    if (r.action == RuleAction::kIgnore) {
      absl::StrAppend(out, "       action: ignore (never answered; counted)\n");
      continue;
    }
    std::vector<std::string> changes = DescribeAnswer(r.answer);
    absl::StrAppend(
        out, "       answer: ",
        changes.empty() ? "the defaults" : absl::StrJoin(changes, "; "), "\n");
  }
}

}  // namespace

std::string DescribeConfig(const DaemonConfig& config,
                           const PolicySnapshot& policy) {
  std::string out = absl::StrCat(
      "configuration: ",
      config.config_path.empty() ? "the command line (no -c file)"
                                 : config.config_path + " and the command line",
      "\n");
  DescribeServer(config, &out);
  DescribeDefaults(policy, &out);
  DescribeMenus(policy.policy(), &out);
  DescribeRules(config, policy.policy(), &out);
  absl::StrAppend(&out, "warnings: ", config.warnings.size(), "\n");
  for (const std::string& w : config.warnings)
    absl::StrAppend(&out, "  ", w, "\n");
  absl::StrAppend(&out, "configuration OK\n");
  return out;
}

}  // namespace pxe
