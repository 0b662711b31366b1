#include "engine/describe.h"

#include <cstdio>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

std::string Hex(std::span<const uint8_t> bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    absl::StrAppend(&out, i ? " " : "", absl::StrFormat("%02x", bytes[i]));
  }
  return out;
}

}  // namespace

std::string_view MessageTypeName(dhcp::MessageType type) {
  switch (type) {
    case dhcp::MessageType::kDiscover:
      return "DISCOVER";
    case dhcp::MessageType::kOffer:
      return "OFFER";
    case dhcp::MessageType::kRequest:
      return "REQUEST";
    case dhcp::MessageType::kDecline:
      return "DECLINE";
    case dhcp::MessageType::kAck:
      return "ACK";
    case dhcp::MessageType::kNak:
      return "NAK";
    case dhcp::MessageType::kRelease:
      return "RELEASE";
    case dhcp::MessageType::kInform:
      return "INFORM";
    default:
      return "no-type";
  }
}

std::string PrintableText(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t c : bytes) {
    if (c == 0) break;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    }
  }
  return out;
}

std::string FormatIpv4(uint32_t ip) {
  return absl::StrFormat("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF,
                         (ip >> 8) & 0xFF, ip & 0xFF);
}

std::string FormatMac(const MacAddress& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                         mac[2], mac[3], mac[4], mac[5]);
}

std::string DescribeRequest(const Request& r) {
  std::string out = absl::StrCat(
      Sv(MessageTypeName(r.type)), " xid ", absl::StrFormat("0x%08x", r.xid),
      " from ", FormatMac(r.chaddr), " ", FormatIpv4(r.frame.ip_src), ":",
      r.frame.udp_src, " to ", FormatIpv4(r.frame.ip_dst), ":",
      r.frame.udp_dst);
  if (r.kind != ClientKind::kNotBooting) {
    absl::StrAppend(&out, r.kind == ClientKind::kHttp ? " HTTPClient" : " PXE",
                    " arch ", r.arch_code, " (",
                    Sv(r.arch_known ? ArchClassName(r.arch.arch_class)
                                    : std::string_view("unknown")),
                    r.arch.http ? ", http" : "", ")");
  }
  if (r.is_ipxe) absl::StrAppend(&out, " iPXE");
  if (r.has_undi) {
    absl::StrAppend(&out, " UNDI ", r.undi[0], ".", r.undi[1], ".", r.undi[2]);
  }
  if (r.uuid_present)
    absl::StrAppend(&out, r.uuid.empty() ? " bad-uuid" : " uuid");
  if (r.relayed()) absl::StrAppend(&out, " via relay ", FormatIpv4(r.giaddr));
  if (r.ciaddr) absl::StrAppend(&out, " ciaddr ", FormatIpv4(r.ciaddr));
  if (!r.boot_item.empty()) {
    absl::StrAppend(&out, " boot-item ", Hex(r.boot_item));
  }
  if (r.frame.has_vlan) absl::StrAppend(&out, " vlan ", r.frame.vlan_id());
  return out;
}

std::vector<MenuItemText> MenuItems(std::span<const uint8_t> vendor) {
  std::vector<MenuItemText> out;
  size_t i = 0;
  while (i + 2 <= vendor.size() && vendor[i] != dhcp::kEnd) {
    const uint8_t code = vendor[i];
    const size_t length = vendor[i + 1];
    if (i + 2 + length > vendor.size()) break;
    if (code == dhcp::kPxeBootMenu) {
      std::span<const uint8_t> items = vendor.subspan(i + 2, length);
      while (items.size() >= 3 && items.size() >= 3u + items[2]) {
        out.push_back({.label = PrintableText(items.subspan(3, items[2])),
                       .type = LoadBe16(items.data())});
        items = items.subspan(3 + items[2]);
      }
    }
    i += 2 + length;
  }
  return out;
}

namespace {

// The items of a PXE boot menu as ' menu ["label" type 32769, ...]', or
// empty.
std::string DescribeMenu(std::span<const uint8_t> vendor) {
  std::string out;
  for (const MenuItemText& item : MenuItems(vendor)) {
    absl::StrAppend(&out, out.empty() ? " menu [" : ", ", "\"", item.label,
                    "\" type ", item.type);
  }
  if (!out.empty()) out += "]";
  return out;
}

}  // namespace

std::string DescribeReply(std::span<const uint8_t> frame) {
  Request r;
  // Our own frames carry correct checksums: verify them.
  const DropReason d = ClassifyFrame(frame, RxMeta{}, &r);
  if (d != DropReason::kServerReply) {
    return absl::StrCat("unparsable reply: ", Sv(DropReasonText(d)));
  }
  std::string out =
      absl::StrCat(Sv(MessageTypeName(r.type)), " ", FormatIpv4(r.frame.ip_src),
                   ":", r.frame.udp_src, " -> ", FormatIpv4(r.frame.ip_dst),
                   ":", r.frame.udp_dst, " (", FormatMac(r.frame.eth_dst),
                   ") xid ", absl::StrFormat("0x%08x", r.xid), " chaddr ",
                   FormatMac(r.chaddr), " yiaddr ", FormatIpv4(r.yiaddr),
                   " siaddr ", FormatIpv4(r.bootp.siaddr()));
  if (r.broadcast) absl::StrAppend(&out, " broadcast");
  if (r.server_id)
    absl::StrAppend(&out, " server-id ", FormatIpv4(r.server_id));
  absl::StrAppend(&out, " class \"", PrintableText(r.vendor_class), "\"");
  const std::string sname = PrintableText(r.bootp.sname());
  if (!sname.empty()) absl::StrAppend(&out, " sname \"", sname, "\"");
  const std::string file = PrintableText(r.bootp.file());
  if (!file.empty()) absl::StrAppend(&out, " file \"", file, "\"");
  std::span<const uint8_t> opt67 = r.options.First(dhcp::kBootFileName);
  if (!opt67.empty())
    absl::StrAppend(&out, " option-67 \"", PrintableText(opt67), "\"");
  std::span<const uint8_t> vendor = r.options.First(dhcp::kVendorSpecific);
  if (r.options.Has(dhcp::kVendorSpecific)) {
    absl::StrAppend(&out, " option-43 [", Hex(vendor), "]",
                    DescribeMenu(vendor));
  }
  std::span<const uint8_t> opt66 = r.options.First(dhcp::kTftpServerName);
  if (!opt66.empty()) {
    absl::StrAppend(&out, " option-66 \"", PrintableText(opt66), "\"");
  }
  if (r.frame.has_vlan) absl::StrAppend(&out, " vlan ", r.frame.vlan_id());
  return out;
}

}  // namespace pxe
