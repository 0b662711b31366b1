#include "tools/storm/reply_check.h"

#include <cstring>
#include <span>

namespace pxe::storm {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
// PXE 2.1 §2.4, PXE_DISCOVERY_CONTROL (43.6) bit 3: "if set, and a boot file
// name is present in the initial DHCP or ProxyDHCP offer packet, download
// the boot file (do not prompt/menu/discover)".
constexpr uint8_t kDiscoveryBootFile = 0x08;
// Option 43 put together from its instances (RFC 3396): at most this long.
constexpr size_t kVendorScratch = 1024;

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

std::span<const uint8_t> BootFile(const Request& reply) {
  std::span<const uint8_t> file = reply.bootp.file();
  const auto* nul =
      static_cast<const uint8_t*>(std::memchr(file.data(), 0, file.size()));
  file = file.first(nul ? static_cast<size_t>(nul - file.data()) : file.size());
  if (!file.empty()) return file;
  return reply.options.First(dhcp::kBootFileName);
}

namespace {

bool IsUrl(std::span<const uint8_t> file) {
  return StartsWith(file, "http://") || StartsWith(file, "https://");
}

ReplyProblem CheckVendorClass(const Request& reply,
                              const ClientProfile& profile) {
  const std::string_view wanted = profile.http ? kHttpClient : kPxeClient;
  return StartsWith(reply.vendor_class, wanted) ? ReplyProblem::kNone
                                                : ReplyProblem::kVendorClass;
}

bool SameBytes(std::span<const uint8_t> bytes, std::string_view text) {
  return bytes.size() == text.size() &&
         std::memcmp(bytes.data(), text.data(), text.size()) == 0;
}

// Whether each entry of a list of {type (2), length, text} (43.9) or
// {type (2), count, count addresses} (43.8) fits the sub-option exactly.
bool EntriesTile(std::span<const uint8_t> value, size_t unit) {
  if (value.empty()) return false;
  size_t i = 0;
  while (i + 3 <= value.size()) i += 3 + size_t{value[i + 2]} * unit;
  return i == value.size();
}

// Option 43 as the firmware it reaches reads it (PXE 2.1 §2.4, iPXE's
// dhcp_pxebs_rx(), EDK2's PxeBcParseVendorOptions()).
ReplyProblem CheckVendorOptions(const Request& reply, const ReplyKind kind,
                                const ClientExpectation& e) {
  const VendorOptionFacts vendor = ReadVendorOptions(reply);
  if (!vendor.well_formed) return ReplyProblem::kBadOption43;
  const ClientProfile& profile = *e.profile;
  if (kind == ReplyKind::kOffer) {
    // A PXE 2.1 ROM takes the file of a proxy offer only when 43.6 bit 3
    // says so; otherwise it starts boot server discovery (or shows the
    // menu). iPXE boots any file with siaddr, EDK2 asks on 4011 whatever
    // the offer holds, HTTP boot has no 43.
    const bool pxe_rom = !profile.ipxe && !profile.edk2 && !profile.http;
    if (pxe_rom && !BootFile(reply).empty() && !vendor.has_menu &&
        !vendor.boot_file_bit) {
      return ReplyProblem::kBadOption43;
    }
    return ReplyProblem::kNone;
  }
  // An ACK to a boot-server request names the boot item it answers
  // (PXE 2.1 §2.4, PXE_BOOT_ITEM: type, layer): iPXE drops an ACK whose
  // 43.71 type is not the one it asked for (dhcp_pxebs_rx()).
  if (e.has_boot_item &&
      (!vendor.has_boot_item || vendor.boot_item_type[0] != e.boot_item[0] ||
       vendor.boot_item_type[1] != e.boot_item[1])) {
    return ReplyProblem::kBadOption43;
  }
  return ReplyProblem::kNone;
}

// The servers and file against --expect-*: option 54, then siaddr (the
// TFTP server when the reply names a TFTP file; else where EDK2 sends its
// 4011 request, so the proxy, or 0 to fall back to option 54), then the
// file or URL for the client's architecture.
ReplyProblem CheckExpected(const Request& reply, const ClientExpectation& e) {
  if (e.server != 0 && reply.server_id != e.server) {
    return ReplyProblem::kWrongServer;
  }
  const std::span<const uint8_t> file = BootFile(reply);
  const uint32_t siaddr = reply.bootp.siaddr();
  if (!e.profile->http) {
    if (!file.empty()) {
      if (e.tftp_server != 0 && siaddr != e.tftp_server) {
        return ReplyProblem::kWrongSiaddr;
      }
    } else if (e.server != 0 && siaddr != 0 && siaddr != e.server) {
      return ReplyProblem::kWrongSiaddr;
    }
  }
  if (!e.file.empty() && !file.empty() && !SameBytes(file, e.file)) {
    return ReplyProblem::kWrongFile;
  }
  return ReplyProblem::kNone;
}

// The checks every reply kind shares, after its own: option 43, then the
// expected answers.
ReplyProblem CheckContent(const Request& reply, ReplyKind kind,
                          const ClientExpectation& e) {
  if (ReplyProblem p = CheckVendorOptions(reply, kind, e);
      p != ReplyProblem::kNone) {
    return p;
  }
  return CheckExpected(reply, e);
}

ReplyVerdict CheckOffer(const Request& reply, const ClientExpectation& e) {
  ReplyVerdict v{.kind = ReplyKind::kOffer};
  const bool boot_marker = StartsWith(reply.vendor_class, kPxeClient) ||
                           StartsWith(reply.vendor_class, kHttpClient);
  // The LAN's DHCP server offers an address and no boot data: not judged.
  if (reply.yiaddr != 0 && !boot_marker) {
    return {.kind = ReplyKind::kDhcpServerOffer};
  }
  if (reply.xid != e.discover_xid) {
    v.problem = ReplyProblem::kWrongXid;
  } else if (reply.yiaddr != 0) {
    v.problem = ReplyProblem::kOfferYiaddr;
  } else if (ReplyProblem p = CheckVendorClass(reply, *e.profile);
             p != ReplyProblem::kNone) {
    v.problem = p;
  } else if (e.profile->http && !IsUrl(BootFile(reply))) {
    v.problem = ReplyProblem::kHttpNoUrl;
  } else {
    v.problem = CheckContent(reply, v.kind, e);
  }
  return v;
}

ReplyVerdict CheckAck(const Request& reply, const ClientExpectation& e) {
  ReplyVerdict v{.kind = ReplyKind::kAck};
  if (!e.request_sent) {
    v.problem = ReplyProblem::kUnexpectedType;
  } else if (reply.xid != e.request_xid) {
    v.problem = ReplyProblem::kWrongXid;
  } else if (reply.yiaddr != 0 && reply.yiaddr != e.address) {
    v.problem = ReplyProblem::kAckYiaddr;
  } else if (ReplyProblem p = CheckVendorClass(reply, *e.profile);
             p != ReplyProblem::kNone) {
    v.problem = p;
  } else if (BootFile(reply).empty()) {
    v.problem = ReplyProblem::kAckNoFile;
  } else if (reply.frame.ip_dst != e.address ||
             reply.frame.udp_dst != e.request_port) {
    v.problem = ReplyProblem::kAckDestination;
  } else if (reply.frame.udp_src != kPxeServerPort) {
    // The boot server answers from the port it was asked on, 4011:
    // iPXE's dhcp_pxebs_rx() drops a boot-server ACK from any other port
    // (current releases take 67 too, older ones only 4011).
    v.problem = ReplyProblem::kAckSourcePort;
  } else {
    v.problem = CheckContent(reply, v.kind, e);
  }
  return v;
}

}  // namespace

std::string_view ReplyProblemName(ReplyProblem problem) {
  constexpr std::array<std::string_view, kReplyProblemCount> kNames = {
      "none",
      "unexpected_type",
      "wrong_xid",
      "offer_yiaddr",
      "vendor_class",
      "http_no_url",
      "ack_yiaddr",
      "ack_no_file",
      "ack_destination",
      "ack_source_port",
      "bad_option43",
      "wrong_server",
      "wrong_siaddr",
      "wrong_file",
      "client_id_not_echoed",
      "proxy_ia"};
  return kNames[static_cast<size_t>(problem)];
}

std::string_view ReplyProblemText(ReplyProblem problem) {
  constexpr std::array<std::string_view, kReplyProblemCount> kTexts = {
      "none",
      "unexpected message (NAK, other type, ACK without request)",
      "wrong xid for the chaddr",
      "OFFER with yiaddr != 0",
      "option 60 PXEClient/HTTPClient missing or wrong",
      "HTTP-boot offer without a URL",
      "ACK with yiaddr not 0 nor the client's address",
      "ACK without a boot file",
      "ACK not to the request's source address:port",
      "ACK not from UDP port 4011",
      "option 43 malformed or without what the firmware needs",
      "option 54 not the expected server",
      "siaddr not the expected TFTP server or proxy",
      "boot file or URL not the one for the client's architecture",
      "DHCPv6 answer without the client's ID",
      "DHCPv6 proxy answer with an IA (an address offer)"};
  return kTexts[static_cast<size_t>(problem)];
}

ReplyVerdict CheckReply(const Request& reply, const ClientExpectation& expect) {
  switch (reply.type) {
    case dhcp::MessageType::kOffer:
      return CheckOffer(reply, expect);
    case dhcp::MessageType::kAck:
      return CheckAck(reply, expect);
    default:
      return {.kind = ReplyKind::kOther,
              .problem = ReplyProblem::kUnexpectedType};
  }
}

std::string_view TftpUrlFile(std::span<const uint8_t> url) {
  constexpr std::string_view kTftp = "tftp://[";
  const std::string_view text(reinterpret_cast<const char*>(url.data()),
                              url.size());
  if (!text.starts_with(kTftp)) return {};
  const size_t close = text.find("]/", kTftp.size());
  if (close == std::string_view::npos) return {};
  return text.substr(close + 2);
}

ReplyVerdict CheckReply6(const FrameView6& frame, const ServerMessage6& m,
                         const ClientExpectation& e,
                         std::span<const uint8_t> client_id,
                         const Ipv6Address& client_ip) {
  const ClientProfile& profile = *e.profile;
  const std::string_view url(reinterpret_cast<const char*>(m.boot_url.data()),
                             m.boot_url.size());
  ReplyVerdict v;
  if (m.type == dhcp6::MessageType::kAdvertise) {
    v.kind = ReplyKind::kOffer;
    // An address server's Advertise: not a proxy's, not ours to judge.
    if (m.has_ia && !m.boot_class()) {
      v.kind = ReplyKind::kDhcpServerOffer;
      return v;
    }
  } else if (m.type == dhcp6::MessageType::kReply && e.request_sent) {
    v.kind = ReplyKind::kAck;
  } else {
    return {.kind = ReplyKind::kOther,
            .problem = ReplyProblem::kUnexpectedType};
  }
  const std::string_view want_class = profile.http ? "HTTPClient" : "PXEClient";
  const std::string_view vendor(
      reinterpret_cast<const char*>(m.vendor_class.data()),
      m.vendor_class.size());
  if (m.xid != (e.discover_xid & 0xFFFFFF)) {
    v.problem = ReplyProblem::kWrongXid;
  } else if (m.client_id.size() != client_id.size() ||
             std::memcmp(m.client_id.data(), client_id.data(),
                         client_id.size()) != 0) {
    v.problem = ReplyProblem::kClientIdNotEchoed;
  } else if (m.has_ia) {
    v.problem = ReplyProblem::kProxyIa;
  } else if (!m.has_vendor_class || !vendor.starts_with(want_class)) {
    v.problem = ReplyProblem::kVendorClass;
  } else if (m.server_id.empty()) {
    v.problem = ReplyProblem::kWrongServer;
  } else if (profile.http && !url.starts_with("http://") &&
             !url.starts_with("https://")) {
    v.problem = ReplyProblem::kHttpNoUrl;
  } else if (v.kind == ReplyKind::kAck && frame.udp_src != kPxeServerPort) {
    v.problem = ReplyProblem::kAckSourcePort;
  } else if (v.kind == ReplyKind::kAck &&
             (frame.udp_dst != kPxeServerPort || frame.ip_dst != client_ip)) {
    v.problem = ReplyProblem::kAckDestination;
  } else if (v.kind == ReplyKind::kAck && TftpUrlFile(m.boot_url).empty()) {
    v.problem = ReplyProblem::kAckNoFile;
  } else if (!e.file.empty()) {
    // HTTPv6: the Advertise's URL; PXEv6: the file of the Reply's URL.
    if (profile.http
            ? url != e.file
            : v.kind == ReplyKind::kAck && TftpUrlFile(m.boot_url) != e.file) {
      v.problem = ReplyProblem::kWrongFile;
    }
  }
  return v;
}

OfferFacts ReadOffer(const Request& reply) {
  OfferFacts facts;
  facts.has_file = !BootFile(reply).empty();
  facts.siaddr = reply.bootp.siaddr();
  facts.server_id = reply.server_id;
  facts.ip_src = reply.frame.ip_src;
  facts.eth_src = reply.frame.eth_src;
  const VendorOptionFacts vendor = ReadVendorOptions(reply);
  facts.has_menu = vendor.has_menu;
  facts.first_menu_type = vendor.first_menu_type;
  return facts;
}

VendorOptionFacts ReadVendorOptions(const Request& reply) {
  VendorOptionFacts facts;
  std::array<uint8_t, kVendorScratch> scratch;
  const std::span<const uint8_t> vendor =
      reply.options.Get(dhcp::kVendorSpecific, scratch);
  facts.present = reply.options.Has(dhcp::kVendorSpecific);
  if (!facts.present) return facts;
  // Present but empty, or too long to put together: not a list.
  facts.well_formed = false;
  size_t i = 0;
  while (i < vendor.size()) {
    const uint8_t code = vendor[i];
    if (code == dhcp::kEnd) {
      facts.well_formed = true;
      break;
    }
    if (code == dhcp::kPad) {
      ++i;
      continue;
    }
    if (vendor.size() - i < 2 || vendor.size() - i - 2 < vendor[i + 1]) break;
    const std::span<const uint8_t> value = vendor.subspan(i + 2, vendor[i + 1]);
    bool fits = true;
    switch (code) {
      case dhcp::kPxeDiscoveryControl:
        fits = value.size() == 1;
        if (fits) facts.boot_file_bit = (value[0] & kDiscoveryBootFile) != 0;
        break;
      case dhcp::kPxeBootServers:
        fits = EntriesTile(value, 4);
        break;
      case dhcp::kPxeBootMenu:
        fits = EntriesTile(value, 1);
        if (fits) {
          facts.has_menu = true;
          facts.first_menu_type = {value[0], value[1]};
        }
        break;
      case dhcp::kPxeMenuPrompt:
        fits = !value.empty();
        break;
      case dhcp::kPxeBootItem:
        fits = value.size() == 4;
        if (fits) {
          facts.has_boot_item = true;
          facts.boot_item_type = {value[0], value[1]};
        }
        break;
      default:
        break;
    }
    if (!fits) break;
    i += 2 + value.size();
  }
  return facts;
}

bool ExpectedAnswers::any() const {
  for (size_t i = 0; i < kArchClassCount; ++i) {
    if (!file[i].empty() || !http_url[i].empty()) return true;
  }
  return !ipxe_script.empty() || !http_url6.empty() || server != 0 ||
         tftp_server != 0;
}

ArchClass ArchClassOf(const ClientProfile& profile) {
  const std::optional<ArchInfo> info = LookupArch(profile.arch_codes.front());
  return info ? info->arch_class : ArchClass::kBios;
}

void ApplyExpectedAnswers(const ExpectedAnswers& answers,
                          const ClientProfile& profile,
                          ClientExpectation* expect) {
  const size_t arch = static_cast<size_t>(ArchClassOf(profile));
  if (profile.http && profile.ipv6) {
    expect->file = answers.http_url6;
  } else if (profile.http) {
    expect->file = answers.http_url[arch];
  } else if (profile.ipxe && !answers.ipxe_script.empty()) {
    expect->file = answers.ipxe_script;
  } else {
    expect->file = answers.file[arch];
  }
  expect->server = answers.server;
  expect->tftp_server =
      answers.tftp_server != 0 ? answers.tftp_server : answers.server;
}

bool NeedsBootServerRequest(const ClientProfile& profile,
                            const OfferFacts& offer) {
  if (profile.http) return false;
  return profile.edk2 || !offer.has_file;
}

uint32_t BootServerAddress(const ClientProfile& profile,
                           const OfferFacts& offer) {
  const uint32_t first = profile.edk2 ? offer.siaddr : offer.server_id;
  const uint32_t second = profile.edk2 ? offer.server_id : offer.siaddr;
  if (first != 0) return first;
  if (second != 0) return second;
  return offer.ip_src;
}

std::optional<std::array<uint8_t, 4>> BootItem(const ClientProfile& profile,
                                               const OfferFacts& offer) {
  if (offer.has_menu) {
    return std::array<uint8_t, 4>{offer.first_menu_type[0],
                                  offer.first_menu_type[1], 0, 0};
  }
  if (profile.ipxe) return kIpxeBootItem;
  return std::nullopt;
}

}  // namespace pxe::storm
