#include "tools/decision_log.h"

#include <cctype>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/describe.h"
#include "engine/reply6.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

std::string Lower(std::string_view text) {
  return absl::AsciiStrToLower(Sv(text));
}

std::string Number(uint64_t n) { return absl::StrCat(n); }

// The reply frame's fields: it is our own, so it parses; if it ever did
// not, the line says so rather than hiding the decision.
void AppendReply(std::span<const uint8_t> frame, std::vector<log::Field>* out) {
  Request r;
  const DropReason d = ClassifyFrame(frame, RxMeta{}, &r);
  if (d != DropReason::kServerReply) {
    out->push_back({.key = "sent", .value = "unparsable"});
    return;
  }
  out->push_back({.key = "sent", .value = Lower(MessageTypeName(r.type))});
  out->push_back({.key = "from", .value = FormatIpv4(r.frame.ip_src)});
  out->push_back({.key = "to",
                  .value = absl::StrCat(FormatIpv4(r.frame.ip_dst), ":",
                                        r.frame.udp_dst)});
  if (r.bootp.siaddr() != 0) {
    out->push_back(
        {.key = "boot_server", .value = FormatIpv4(r.bootp.siaddr())});
  }
  // The boot file: option 67 when the reply carries one, else the BOOTP
  // file field. An HTTPClient reply's file is a URL.
  std::span<const uint8_t> file = r.options.First(dhcp::kBootFileName);
  if (file.empty()) file = r.bootp.file();
  const std::string text = PrintableText(file);
  if (!text.empty()) {
    const bool http = PrintableText(r.vendor_class).starts_with("HTTPClient");
    out->push_back({.key = http ? "url" : "file", .value = text});
  }
  out->push_back({.key = "class", .value = PrintableText(r.vendor_class)});
  std::string menu;
  for (const MenuItemText& item :
       MenuItems(r.options.First(dhcp::kVendorSpecific))) {
    absl::StrAppend(&menu, menu.empty() ? "" : ",", item.label);
  }
  if (!menu.empty()) out->push_back({.key = "menu", .value = menu});
}

std::string Ipv6Text(const Ipv6Address& a) {
  char text[40];
  return std::string(text, FormatIpv6(a, text));
}

std::string_view Dhcp6TypeName(dhcp6::MessageType type) {
  using MT = dhcp6::MessageType;
  switch (type) {
    case MT::kSolicit:
      return "solicit";
    case MT::kAdvertise:
      return "advertise";
    case MT::kRequest:
      return "request";
    case MT::kReply:
      return "reply";
    case MT::kInformationRequest:
      return "information-request";
    case MT::kRelayReply:
      return "relay-reply";
    default:
      return "other";
  }
}

// A DHCPv6 reply's fields: the message type (inside a Relay-reply, with
// relay-reply before it), where it went, option 59 and option 16.
void AppendReply6(std::span<const uint8_t> frame,
                  std::vector<log::Field>* out) {
  FrameView6 view;
  if (ParseFrame6(frame, RxMeta{}, &view) != DropReason::kNone ||
      view.payload.size() < dhcp6::kHeaderSize) {
    out->push_back({.key = "sent", .value = "unparsable"});
    return;
  }
  std::span<const uint8_t> message = view.payload;
  std::string sent;
  if (message[0] == static_cast<uint8_t>(dhcp6::MessageType::kRelayReply) &&
      message.size() >= dhcp6::kRelayHeaderSize) {
    sent = "relay-reply ";
    dhcp6::OptionCursor relay(message.subspan(dhcp6::kRelayHeaderSize));
    uint16_t code;
    std::span<const uint8_t> value;
    message = {};
    while (relay.Next(&code, &value)) {
      if (code == dhcp6::kRelayMessage) message = value;
    }
  }
  if (message.size() < dhcp6::kHeaderSize) {
    out->push_back({.key = "sent", .value = "unparsable"});
    return;
  }
  sent += Dhcp6TypeName(static_cast<dhcp6::MessageType>(message[0]));
  out->push_back({.key = "sent", .value = sent});
  out->push_back({.key = "from", .value = Ipv6Text(view.ip_src)});
  out->push_back(
      {.key = "to",
       .value = absl::StrCat("[", Ipv6Text(view.ip_dst), "]:", view.udp_dst)});
  dhcp6::OptionCursor options(message.subspan(dhcp6::kHeaderSize));
  uint16_t code;
  std::span<const uint8_t> value;
  std::string url, vendor;
  while (options.Next(&code, &value)) {
    if (code == dhcp6::kBootFileUrl) url = PrintableText(value);
    if (code == dhcp6::kVendorClass && value.size() > 6) {
      vendor = PrintableText(value.subspan(6));
    }
  }
  // A trailing NUL (HTTP boot) is no part of the URL.
  while (!url.empty() && url.back() == '\0') url.pop_back();
  if (!url.empty()) out->push_back({.key = "url", .value = url});
  out->push_back({.key = "class", .value = vendor});
}

// The rule that decided, then what was sent (`append_reply` decodes the
// frame) or why nothing was.
void AppendOutcome(const Decision& decision,
                   void (*append_reply)(std::span<const uint8_t> frame,
                                        std::vector<log::Field>* out),
                   std::vector<log::Field>* out) {
  if (decision.answer != nullptr) {
    out->push_back({.key = "rule",
                    .value = decision.answer->rule_name.empty()
                                 ? std::string("(defaults)")
                                 : std::string(decision.answer->rule_name)});
  }
  if (decision.reason == DropReason::kNone) {
    append_reply(decision.reply, out);
  } else {
    out->push_back(
        {.key = "drop", .value = std::string(DropReasonName(decision.reason))});
    out->push_back(
        {.key = "why", .value = std::string(DropReasonText(decision.reason))});
  }
}

std::vector<log::Field> DecisionFields6(const Decision& decision) {
  const Request6& r = *decision.request6;
  std::vector<log::Field> out;
  out.push_back({.key = "iface", .value = std::string(decision.interface)});
  if (r.frame.has_vlan) {
    out.push_back(
        {.key = "vlan", .value = Number(r.frame.vlan_id()), .number = true});
  }
  out.push_back({.key = "mac", .value = r.mac_known ? FormatMac(r.mac) : "-"});
  out.push_back({.key = "xid", .value = absl::StrFormat("0x%06x", r.xid)});
  out.push_back({.key = "type", .value = std::string(Dhcp6TypeName(r.type))});
  out.push_back({.key = "arch",
                 .value = r.arch_known
                              ? std::string(ArchClassName(r.arch.arch_class))
                              : absl::StrCat("unknown-", r.arch_code)});
  out.push_back(
      {.key = "client", .value = r.kind == ClientKind::kHttp ? "http" : "pxe"});
  out.push_back(
      {.key = "port", .value = Number(r.frame.udp_dst), .number = true});
  if (r.relayed) {
    out.push_back({.key = "relay", .value = Ipv6Text(r.frame.ip_src)});
  }
  AppendOutcome(decision, AppendReply6, &out);
  return out;
}

}  // namespace

std::vector<log::Field> DecisionFields(const Decision& decision) {
  if (decision.request6 != nullptr) return DecisionFields6(decision);
  const Request& r = decision.request;
  std::vector<log::Field> out;
  out.push_back({.key = "iface", .value = std::string(decision.interface)});
  if (r.frame.has_vlan) {
    out.push_back(
        {.key = "vlan", .value = Number(r.frame.vlan_id()), .number = true});
  }
  out.push_back({.key = "mac", .value = FormatMac(r.chaddr)});
  out.push_back({.key = "xid", .value = absl::StrFormat("0x%08x", r.xid)});
  out.push_back({.key = "type", .value = Lower(MessageTypeName(r.type))});
  out.push_back({.key = "arch",
                 .value = r.arch_known
                              ? std::string(ArchClassName(r.arch.arch_class))
                              : absl::StrCat("unknown-", r.arch_code)});
  out.push_back(
      {.key = "client", .value = r.kind == ClientKind::kHttp ? "http" : "pxe"});
  if (r.is_ipxe)
    out.push_back({.key = "ipxe", .value = "true", .number = true});
  out.push_back(
      {.key = "port", .value = Number(r.frame.udp_dst), .number = true});
  if (r.relayed()) {
    out.push_back({.key = "relay", .value = FormatIpv4(r.giaddr)});
  }
  if (decision.ipxe_loop != 0) {
    out.push_back({.key = "ipxe_loop",
                   .value = Number(decision.ipxe_loop),
                   .number = true});
  }
  AppendOutcome(decision, AppendReply, &out);
  return out;
}

void LogDecision(const Decision& decision) {
  log::Decision(DecisionFields(decision));
}

}  // namespace pxe
