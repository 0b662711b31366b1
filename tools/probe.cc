#include "tools/probe.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/arch.h"
#include "engine/checksum.h"
#include "engine/status_macros.h"
#include "tools/arg_reader.h"
#include "tools/config.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
// What iPXE asks for in a boot server request: item type 0x8000, layer 0.
constexpr std::array<uint8_t, 4> kIpxeBootItem = {0x80, 0x00, 0x00, 0x00};

absl::StatusOr<uint32_t> ParseNumber(std::string_view flag,
                                     std::string_view text, uint32_t min,
                                     uint32_t max) {
  uint32_t value = 0;
  if (!absl::SimpleAtoi(Sv(text), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(flag), " is a number from ", min, " to ", max,
                     ", not \"", Sv(text), "\""));
  }
  return value;
}

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

absl::StatusOr<MacAddress> ParseMac(std::string_view text) {
  MacAddress mac{};
  // Six two-digit hex groups separated by ':' or '-': 17 characters.
  bool ok = text.size() == 17;
  for (size_t i = 0; ok && i < 6; ++i) {
    const std::string_view group = text.substr(i * 3, 2);
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') ok = false;
    uint32_t value = 0;
    if (!absl::SimpleHexAtoi(Sv(group), &value) ||
        group.find_first_of("+- ") != std::string_view::npos) {
      ok = false;
    }
    mac[i] = static_cast<uint8_t>(value);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", Sv(text), "\" is not a MAC address"));
  }
  return mac;
}

ProbeStyle DefaultStyle(uint16_t arch) {
  const std::optional<ArchInfo> info = LookupArch(arch);
  return info && info->uefi && !info->http ? ProbeStyle::kEdk2
                                           : ProbeStyle::kIpxe;
}

std::string ProbeUsageText() {
  return "usage: pxe-probe -i IFACE [options]\n"
         "\n"
         "A scripted PXE client: sends one PXE DHCPDISCOVER on IFACE, prints "
         "every\n"
         "offer (proxy-offer / dhcp-offer), then sends a DHCPREQUEST to the "
         "proxy on\n"
         "UDP 4011 as the firmware would, and prints the ack.\n"
         "\n"
         "  -i, --interface IFACE   interface to probe on (needs root or "
         "CAP_NET_RAW)\n"
         "      --mac MAC           client MAC (default: a random, locally\n"
         "                          administered one)\n"
         "      --arch N            client architecture, option 93 "
         "(default 0: BIOS)\n"
         "      --vendor-class TEXT option 60 (default "
         "PXEClient:Arch:<N>:UNDI:...;\n"
         "                          \"\" leaves it out: a non-PXE client)\n"
         "      --ipxe              announce iPXE (option 77 \"iPXE\", option "
         "175)\n"
         "      --uuid              send a random client UUID (option 97)\n"
         "      --vlan ID           802.1Q-tag every frame with VLAN ID\n"
         "      --service-tag ID    and put an 802.1ad S-tag outside (QinQ "
         "with\n"
         "                          --vlan)\n"
         "      --relay GIADDR      act as a relay at GIADDR: send the "
         "DISCOVER\n"
         "                          unicast from GIADDR:67 to the server, "
         "with giaddr\n"
         "      --server IP         with --relay: the proxy's address\n"
         "      --server-mac MAC    with --relay: the proxy's (or next hop's) "
         "MAC\n"
         "      --no-4011           stop after the offers\n"
         "      --style ipxe|edk2   4011 behaviour: ipxe = to option 54 from "
         "port 68,\n"
         "                          xid 0 (boot item 80 00 00 00 with "
         "--ipxe);\n"
         "                          edk2 = to siaddr from port 4011, fresh "
         "xid\n"
         "                          (default: edk2 for UEFI arch codes, else "
         "ipxe)\n"
         "      --4011-from-port 68|4011  override the style's source port\n"
         "      --client-ip IP      ciaddr of the 4011 request when no DHCP "
         "server\n"
         "                          offer is seen\n"
         "      --timeout SECONDS   wait for offers, and for the ack "
         "(default 3)\n"
         "      --wait-full         collect offers for the whole timeout "
         "(default:\n"
         "                          stop, like iPXE, once a proxy offer and a "
         "DHCP\n"
         "                          offer are in)\n"
         "  -6, --ipv6              probe over DHCPv6 as EDK2's PXEv6 client "
         "(arch 7\n"
         "                          unless --arch; an HTTP arch such as 16 "
         "makes it\n"
         "                          HTTPv6): a Solicit from IFACE's "
         "link-local address\n"
         "                          to ff02::1:2, every Advertise printed, "
         "then for a\n"
         "                          PXE proxy the Request to [X]:4011 and "
         "its Reply\n"
         "      --expect-none       succeed only if NO proxy offer arrives\n"
         "      --quiet             print nothing; only the exit status and "
         "errors\n"
         "  -h, --help              this text\n"
         "\n"
         "Exit status: 0 when a proxy offer (and the ack, unless --no-4011) "
         "arrived\n"
         "(--ipv6: when a boot file URL came, in the 4011 Reply for PXE, in "
         "the\n"
         "proxy Advertise for HTTP or with --no-4011),\n"
         "or with --expect-none when none did; 1 otherwise, with the reason "
         "on\n"
         "stderr; 2 for a bad command line.\n";
}

absl::StatusOr<ProbeConfig> ParseProbeCommandLine(
    std::span<const char* const> args) {
  ProbeConfig config;
  ArgReader reader(args);
  while (!reader.Done()) {
    const std::string_view arg = reader.Next();
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", Sv(arg), "\" (see --help)"));
    }
    auto [name, inline_value] = SplitOptionWord(arg);
    auto value = [&]() { return reader.Value(arg, inline_value); };
    if (name == "h" || name == "help") {
      config.action = ProbeConfig::Action::kHelp;
    } else if (name == "i" || name == "interface") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      config.interface = std::string(v);
    } else if (name == "mac") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.mac, ParseMac(v));
      if ((*config.mac)[0] & 1) {
        return absl::InvalidArgumentError("--mac must be a unicast address");
      }
    } else if (name == "arch") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(uint32_t arch, ParseNumber(arg, v, 0, 0xFFFF));
      config.arch = static_cast<uint16_t>(arch);
      config.arch_given = true;
    } else if (name == "ipv6" || name == "6") {
      config.ipv6 = true;
    } else if (name == "vendor-class") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v.size() > 255) {
        return absl::InvalidArgumentError(
            "--vendor-class is at most 255 bytes");
      }
      config.vendor_class = std::string(v);
    } else if (name == "ipxe") {
      config.ipxe = true;
    } else if (name == "uuid") {
      config.uuid = true;
    } else if (name == "vlan") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(uint32_t id, ParseNumber(arg, v, 1, 4094));
      config.vlan = static_cast<uint16_t>(id);
    } else if (name == "service-tag") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(uint32_t id, ParseNumber(arg, v, 1, 4094));
      config.service_tag = static_cast<uint16_t>(id);
    } else if (name == "relay") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.relay, ParseIpv4(v));
    } else if (name == "server") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.server, ParseIpv4(v));
    } else if (name == "server-mac") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.server_mac, ParseMac(v));
    } else if (name == "client-ip") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      PXE_ASSIGN_OR_RETURN(config.client_ip, ParseIpv4(v));
    } else if (name == "no-4011") {
      config.no_4011 = true;
    } else if (name == "4011-from-port") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v == "68") {
        config.request_source_port = kDhcpClientPort;
      } else if (v == "4011") {
        config.request_source_port = kPxeServerPort;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "--4011-from-port is 68 or 4011, not \"", Sv(v), "\""));
      }
    } else if (name == "style") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      if (v == "ipxe") {
        config.style = ProbeStyle::kIpxe;
      } else if (v == "edk2") {
        config.style = ProbeStyle::kEdk2;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--style is ipxe or edk2, not \"", Sv(v), "\""));
      }
    } else if (name == "timeout") {
      PXE_ASSIGN_OR_RETURN(std::string_view v, value());
      double seconds = 0;
      if (!absl::SimpleAtod(Sv(v), &seconds) || !(seconds > 0) ||
          seconds > 3600) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--timeout is a number of seconds, above 0 and at most 3600, "
            "not \"",
            Sv(v), "\""));
      }
      config.timeout_seconds = seconds;
    } else if (name == "wait-full") {
      config.wait_full = true;
    } else if (name == "expect-none") {
      config.expect_none = true;
    } else if (name == "quiet") {
      config.quiet = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", Sv(arg), " (see --help)"));
    }
  }
  if (config.action != ProbeConfig::Action::kRun) return config;

  if (config.interface.empty()) {
    return absl::InvalidArgumentError("name the interface with -i IFACE");
  }
  if (config.ipv6 &&
      (config.relayed() || config.server != 0 || config.server_mac ||
       config.vlan || config.service_tag || config.ipxe || config.uuid ||
       config.style || config.request_source_port || config.client_ip != 0)) {
    return absl::InvalidArgumentError(
        "--ipv6 goes with -i, --mac, --arch, --vendor-class, --no-4011, "
        "--timeout, --wait-full, --expect-none and --quiet only (probe a "
        "VLAN on its VLAN interface)");
  }
  if (config.relayed() && (config.server == 0 || !config.server_mac)) {
    return absl::InvalidArgumentError(
        "--relay needs --server IP and --server-mac MAC (the probe sends "
        "no ARP)");
  }
  if (!config.relayed() && (config.server != 0 || config.server_mac)) {
    return absl::InvalidArgumentError(
        "--server and --server-mac go with --relay");
  }
  return config;
}

void InitProbeClient(const ProbeConfig& config, const MacAddress& random_mac,
                     const MacAddress& interface_mac, uint32_t discover_xid,
                     uint32_t request_xid,
                     const std::array<uint8_t, 16>& random_uuid,
                     ProbeClient* client) {
  client->mac = config.mac.value_or(random_mac);
  // Locally administered, unicast: never a real NIC's address.
  if (!config.mac) client->mac[0] = (client->mac[0] & 0xFC) | 0x02;
  client->interface_mac = interface_mac;
  client->discover_xid = discover_xid;
  const ProbeStyle style = config.style.value_or(DefaultStyle(config.arch));
  client->request_xid = style == ProbeStyle::kEdk2 ? request_xid : 0;
  client->arch = {config.arch};
  if (config.vendor_class) {
    client->vendor_class = *config.vendor_class;
  } else {
    // UNDI 3.0 as OVMF reports it, 2.1 as iPXE and PXE 2.1 ROMs do.
    const bool edk2 = style == ProbeStyle::kEdk2;
    const std::array<char, 32> text =
        PxeVendorClass(config.arch, edk2 ? 3 : 2, edk2 ? 0 : 1);
    client->vendor_class.assign(text.data(), text.size());
    const std::optional<ArchInfo> info = LookupArch(config.arch);
    if (info && info->http) {
      client->vendor_class.replace(0, kPxeClient.size(), kHttpClient);
    }
  }
  if (config.uuid) client->uuid = random_uuid;
}

ClientRequestSpec DiscoverSpec(const ProbeConfig& config,
                               const ProbeClient& client) {
  const ProbeStyle style = config.style.value_or(DefaultStyle(config.arch));
  const bool edk2 = style == ProbeStyle::kEdk2;
  ClientRequestSpec spec{
      .type = dhcp::MessageType::kDiscover,
      .client_mac = client.mac,
      .vlan_tci = config.vlan,
      .xid = client.discover_xid,
      .broadcast = edk2,  // OVMF sets the flag, iPXE does not
      .arch_codes = client.arch,
      .vendor_class = client.vendor_class,
      .undi =
          edk2 ? std::array<uint8_t, 2>{3, 0} : std::array<uint8_t, 2>{2, 1},
      .ipxe = config.ipxe,
      .uuid = client.uuid,
  };
  if (config.relayed()) {
    // What a relay forwards (RFC 1542 §4.1.1): from its own address and
    // MAC, port 67 to port 67, giaddr set, hops counted.
    spec.src_mac = client.interface_mac;
    spec.dst_mac = *config.server_mac;
    spec.hops = 1;
    spec.giaddr = config.relay;
    spec.src_ip = config.relay;
    spec.dst_ip = config.server;
    spec.src_port = kDhcpServerPort;
  }
  return spec;
}

SeenReply ToSeenReply(const Request& reply) {
  const bool boot_class = StartsWith(reply.vendor_class, kPxeClient) ||
                          StartsWith(reply.vendor_class, kHttpClient);
  return {.type = reply.type,
          .proxy = reply.yiaddr == 0 && boot_class,
          .eth_src = reply.frame.eth_src,
          .ip_src = reply.frame.ip_src,
          .ip_dst = reply.frame.ip_dst,
          .udp_dst = reply.frame.udp_dst,
          .yiaddr = reply.yiaddr,
          .siaddr = reply.bootp.siaddr(),
          .server_id = reply.server_id};
}

uint32_t RequestTarget(ProbeStyle style, const SeenReply& offer) {
  if (style == ProbeStyle::kEdk2) {
    // EDK2 asks siaddr first: why a BINL-style offer has siaddr = the proxy.
    if (offer.siaddr != 0) return offer.siaddr;
    if (offer.server_id != 0) return offer.server_id;
  } else {
    if (offer.server_id != 0) return offer.server_id;
    if (offer.siaddr != 0) return offer.siaddr;
  }
  return offer.ip_src;
}

ClientRequestSpec RequestSpec(const ProbeConfig& config,
                              const ProbeClient& client,
                              const SeenReply& proxy_offer, uint32_t ciaddr) {
  const ProbeStyle style = config.style.value_or(DefaultStyle(config.arch));
  const bool edk2 = style == ProbeStyle::kEdk2;
  const uint16_t source_port = config.request_source_port.value_or(
      edk2 ? kPxeServerPort : kDhcpClientPort);
  ClientRequestSpec spec = DiscoverSpec(config, client);
  spec.type = dhcp::MessageType::kRequest;
  // Behind a relay the request reaches the proxy through the router (our
  // interface); the client itself sends from its own MAC.
  spec.src_mac = config.relayed() ? client.interface_mac : MacAddress{};
  // The offer's source MAC: the proxy, or the router in front of it. The
  // probe sends no ARP.
  spec.dst_mac = proxy_offer.eth_src;
  spec.xid = client.request_xid;
  spec.hops = 0;
  spec.giaddr = 0;
  spec.ciaddr = ciaddr;
  spec.src_ip = ciaddr;
  spec.dst_ip = RequestTarget(style, proxy_offer);
  spec.src_port = source_port;
  spec.dst_port = kPxeServerPort;
  if (edk2) {
    // As OVMF: no broadcast flag, DF set, no boot item.
    spec.broadcast = false;
    spec.dont_fragment = true;
  } else {
    // As iPXE's boot server request: flag set, the bare class "PXEClient",
    // and (when it is iPXE) the boot item it asks for.
    spec.broadcast = true;
    if (!config.vendor_class) spec.vendor_class = kPxeClient;
    if (config.ipxe) spec.boot_item = kIpxeBootItem;
  }
  return spec;
}

std::vector<uint8_t> AsOnTheWire(std::span<const uint8_t> frame,
                                 std::optional<uint16_t> stripped_vlan_tci,
                                 bool checksum_not_ready) {
  std::vector<uint8_t> out(frame.begin(), frame.end());
  if (stripped_vlan_tci && out.size() >= kEthernetHeaderSize) {
    const uint8_t tag[4] = {0x81, 0x00,
                            static_cast<uint8_t>(*stripped_vlan_tci >> 8),
                            static_cast<uint8_t>(*stripped_vlan_tci)};
    out.insert(out.begin() + 12, tag, tag + 4);
  }
  if (!checksum_not_ready) return out;
  size_t offset = kEthernetHeaderSize;
  if (out.size() >= 18 && LoadBe16(&out[12]) == kEtherTypeVlan) offset += 4;
  if (out.size() < offset + kIpv4MinHeaderSize ||
      LoadBe16(&out[offset - 2]) != kEtherTypeIpv4 ||
      out[offset + 9] != kIpProtoUdp) {
    return out;
  }
  const uint8_t* ip = &out[offset];
  const size_t ihl = size_t{ip[0] & 0x0Fu} * 4;
  if (out.size() < offset + ihl + kUdpHeaderSize) return out;
  uint8_t* udp = &out[offset + ihl];
  const size_t udp_length = LoadBe16(udp + 4);
  if (udp_length < kUdpHeaderSize || out.size() < offset + ihl + udp_length) {
    return out;
  }
  StoreBe16(udp + 6, 0);
  const uint64_t sum = UdpPseudoHeaderSum(LoadBe32(ip + 12), LoadBe32(ip + 16),
                                          static_cast<uint16_t>(udp_length));
  uint16_t checksum = ChecksumFinish(ChecksumAdd(sum, {udp, udp_length}));
  if (checksum == 0) checksum = 0xFFFF;
  StoreBe16(udp + 6, checksum);
  return out;
}

}  // namespace pxe
