#include "tools/probe6.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/arch.h"
#include "engine/client_request.h"
#include "engine/reply6.h"
#include "tools/config.h"

namespace pxe {
namespace {

constexpr std::string_view kTftpPrefix = "tftp://[";

std::string Text(std::span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

void InitProbe6Client(const ProbeConfig& config,
                      const MacAddress& interface_mac, uint32_t xid,
                      uint32_t iaid, Probe6Client* client) {
  client->mac = config.mac.value_or(interface_mac);
  client->xid = xid & 0xFFFFFF;
  client->iaid = iaid;
  client->arch = config.arch_given ? config.arch : kDefaultArch6;
  const std::optional<ArchInfo> info = LookupArch(client->arch);
  client->http = info && info->http;
  if (config.vendor_class) {
    client->vendor_class = *config.vendor_class;
    if (client->vendor_class.starts_with("HTTPClient")) client->http = true;
  } else {
    // UNDI 3.0, as OVMF's PXEv6 and HTTPv6 clients report it.
    const std::array<char, 32> text = PxeVendorClass(client->arch, 3, 0);
    client->vendor_class.assign(text.data(), text.size());
    if (client->http) client->vendor_class.replace(0, 9, "HTTPClient");
  }
}

ClientRequest6Spec Solicit6Spec(const Probe6Client& client) {
  return {.type = dhcp6::MessageType::kSolicit,
          .xid = client.xid,
          .client_mac = client.mac,
          .ia_na_iaid = client.iaid,
          .arch = client.arch,
          .vendor_class = client.vendor_class};
}

ClientRequest6Spec Request6Spec(const Probe6Client& client,
                                std::span<const uint8_t> server_id) {
  ClientRequest6Spec spec = Solicit6Spec(client);
  spec.type = dhcp6::MessageType::kRequest;
  spec.server_id = server_id;
  spec.ia_na_iaid = std::nullopt;  // the proxy hands out no address
  spec.src_port = kPxeServerPort;
  spec.dst_port = kPxeServerPort;
  return spec;
}

SeenServer6 ToSeenServer6(const ServerMessage6& m, const Probe6Client& client,
                          std::string from) {
  const std::array<uint8_t, kDuidLlSize> duid = MakeDuidLl(client.mac);
  SeenServer6 seen{
      .type = m.type,
      .from = std::move(from),
      .server_id = {m.server_id.begin(), m.server_id.end()},
      .proxy = m.proxy(),
      .has_address = m.has_address,
      .has_ia = m.has_ia,
      .client_id_echoed =
          m.client_id.size() == duid.size() &&
          std::memcmp(m.client_id.data(), duid.data(), duid.size()) == 0,
      .vendor_class = Text(m.vendor_class),
  };
  if (m.has_boot_url) seen.boot_url = Text(m.boot_url);
  if (m.has_status) seen.status = m.status;
  return seen;
}

std::string HexColon(std::span<const uint8_t> bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    absl::StrAppend(&out, i ? ":" : "", absl::Hex(bytes[i], absl::kZeroPad2));
  }
  return out;
}

std::string Describe6(const SeenServer6& s) {
  const char* label = s.type == dhcp6::MessageType::kReply ? "reply"
                      : s.proxy                            ? "proxy-advertise"
                                                           : "advertise";
  std::string out = absl::StrCat(
      label, " from ", s.from, ": server-id ",
      s.server_id.empty() ? std::string("none") : HexColon(s.server_id));
  if (s.has_address) {
    absl::StrAppend(&out, ", address offered");
  } else if (s.has_ia) {
    absl::StrAppend(&out, ", IA without address");
  }
  if (!s.vendor_class.empty()) absl::StrAppend(&out, ", ", s.vendor_class);
  absl::StrAppend(&out, ", boot-url ", s.boot_url ? *s.boot_url : "none");
  if (s.status && *s.status != 0) {
    absl::StrAppend(&out, ", status ", *s.status);
  }
  if (!s.client_id_echoed) absl::StrAppend(&out, ", client ID NOT echoed");
  return out;
}

std::optional<Ipv6Address> Request6Target(const SeenServer6& proxy) {
  if (!proxy.boot_url) return kAllDhcp6Agents;
  const std::string_view url = *proxy.boot_url;
  if (!url.starts_with(kTftpPrefix)) return std::nullopt;
  const size_t close = url.find(']', kTftpPrefix.size());
  if (close == std::string_view::npos) return std::nullopt;
  absl::StatusOr<Ipv6Address> host =
      ParseIpv6(url.substr(kTftpPrefix.size(), close - kTftpPrefix.size()));
  if (!host.ok()) return std::nullopt;
  return *host;
}

Probe6Verdict Judge6(const ProbeConfig& config, const Probe6Client& client,
                     const std::vector<SeenServer6>& servers,
                     const std::optional<SeenServer6>& reply) {
  const SeenServer6* proxy = nullptr;
  for (const SeenServer6& s : servers) {
    if (s.type == dhcp6::MessageType::kAdvertise && s.proxy) {
      proxy = &s;
      break;
    }
  }
  const std::string seconds = absl::StrCat(config.timeout_seconds, " s");
  if (config.expect_none) {
    if (proxy) {
      return {1, absl::StrCat("a proxy Advertise arrived from ", proxy->from,
                              " (expected none)")};
    }
    return {0, ""};
  }
  if (!proxy) {
    return {1,
            absl::StrCat("no proxy Advertise within ", seconds,
                         servers.empty() ? " (no DHCPv6 server answered)"
                                         : " (only address servers answered)")};
  }
  if (!proxy->client_id_echoed) {
    return {1, absl::StrCat("the proxy Advertise from ", proxy->from,
                            " does not echo our client ID")};
  }
  if (client.http || config.no_4011) {
    if (!proxy->boot_url || proxy->boot_url->empty()) {
      return {1, absl::StrCat("the proxy Advertise from ", proxy->from,
                              " names no boot file URL (option 59)")};
    }
    return {0, ""};
  }
  if (!reply) {
    return {1, absl::StrCat("no Reply to the 4011 Request within ", seconds)};
  }
  if (!reply->boot_url || reply->boot_url->empty()) {
    return {1, "the 4011 Reply names no boot file URL (option 59)"};
  }
  if (!reply->client_id_echoed) {
    return {1, "the 4011 Reply does not echo our client ID"};
  }
  if (reply->has_ia) {
    return {1, "the 4011 Reply carries an IA (a proxy hands out no address)"};
  }
  return {0, ""};
}

}  // namespace pxe
