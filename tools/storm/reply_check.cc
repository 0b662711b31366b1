#include "tools/storm/reply_check.h"

#include <cstring>
#include <span>

namespace pxe::storm {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
// PXE 2.1 §2.4: option 43 sub-option 9, PXE_BOOT_MENU.
constexpr uint8_t kPxeBootMenu = 9;

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
  }
  return v;
}

}  // namespace

std::string_view ReplyProblemName(ReplyProblem problem) {
  constexpr std::array<std::string_view, kReplyProblemCount> kNames = {
      "none",         "unexpected_type", "wrong_xid",
      "offer_yiaddr", "vendor_class",    "http_no_url",
      "ack_yiaddr",   "ack_no_file",     "ack_destination"};
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
      "ACK not to the request's source address:port"};
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

OfferFacts ReadOffer(const Request& reply) {
  OfferFacts facts;
  facts.has_file = !BootFile(reply).empty();
  facts.siaddr = reply.bootp.siaddr();
  facts.server_id = reply.server_id;
  facts.ip_src = reply.frame.ip_src;
  facts.eth_src = reply.frame.eth_src;
  // Sub-options of option 43: code, length, value; the menu holds entries
  // of type (2 bytes), description length, description.
  const std::span<const uint8_t> vendor =
      reply.options.First(dhcp::kVendorSpecific);
  size_t i = 0;
  while (i < vendor.size() && vendor[i] != dhcp::kEnd) {
    if (vendor[i] == dhcp::kPad) {
      ++i;
      continue;
    }
    if (vendor.size() - i < 2 || vendor.size() - i - 2 < vendor[i + 1]) break;
    const uint8_t code = vendor[i];
    const uint8_t length = vendor[i + 1];
    if (code == kPxeBootMenu && length >= 3) {
      facts.has_menu = true;
      facts.first_menu_type = {vendor[i + 2], vendor[i + 3]};
    }
    i += 2 + size_t{length};
  }
  return facts;
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
