#include "engine/policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

uint32_t AddressInSubnetOf(const ServerContext& context, uint32_t ip) {
  if (ip == 0) return 0;
  for (const InterfaceAddress& a : context.addresses) {
    if (a.Contains(ip)) return a.address;
  }
  return 0;
}

bool IsOurs(const ServerContext& context, uint32_t ip) {
  for (const InterfaceAddress& a : context.addresses) {
    if (a.address == ip) return true;
  }
  return false;
}

// Whether a reply may be sent to `ip`: the unicast address of another host.
// Not 0.0.0.0/8 ("this network"), loopback, multicast, class E or the
// limited broadcast (RFC 1122 §3.2.1.3, RFC 5771), not one of our own
// addresses, nor the network or broadcast address of one of our subnets.
bool IsUnicastHost(const ServerContext& context, uint32_t ip) {
  const uint32_t first = ip >> 24;
  if (first == 0 || first == 127 || first >= 224) return false;
  for (const InterfaceAddress& a : context.addresses) {
    if (a.address == ip) return false;
    if (a.prefix_length <= 30) {
      const uint32_t host_mask = ~Ipv4Prefix::Mask(a.prefix_length);
      if (a.Contains(ip) &&
          ((ip & host_mask) == 0 || (ip & host_mask) == host_mask)) {
        return false;
      }
    }
  }
  return true;
}

// Boot file for a PXE (TFTP) client, or empty.
std::string_view PxeBootFile(const Request& request,
                             const ResolvedAnswer& answer) {
  if (request.is_ipxe && !answer.ipxe_script.empty()) {
    return answer.ipxe_script;
  }
  return answer.pxe_file[static_cast<size_t>(request.arch.arch_class)];
}

// The menu item a boot-server request (43.71) asks for, or the reason not
// to answer it. PXE 2.1: type (2 bytes), layer (2 bytes; bit 15 asks for
// BIS credentials, which we do not serve).
DropReason FindMenuItem(const Request& request, const ResolvedAnswer& answer,
                        const MenuItem** item) {
  *item = nullptr;
  const uint16_t type = LoadBe16(request.boot_item.data());
  const uint16_t layer = LoadBe16(request.boot_item.data() + 2);
  if (layer & 0x8000) return DropReason::kBisCredentials;
  if (answer.menu == nullptr) {
    // No menu: a plain boot-server request (iPXE after a proxy offer asks
    // for type 0 or the type it was offered); answer with the NBP.
    return DropReason::kNone;
  }
  for (const MenuItem& m : answer.menu->items) {
    if (m.type == type && m.type != 0) {
      *item = &m;
      return DropReason::kNone;
    }
  }
  return DropReason::kUnknownBootItem;
}

// Where the reply goes (RFC 2131 §4.1; PXE 2.1 for 4011), and only where a
// booting client or its relay can be: pxe-pdhcp writes whole frames past the
// host's UDP stack and firewall, so a crafted request must not steer a reply
// anywhere else.
DropReason Route(const Request& request, const BootPolicy& settings,
                 const ServerContext& context, ReplyPlan* plan) {
  // A group address is never a client's own (IEEE 802: the I/G bit).
  if (request.frame.eth_src[0] & 1) return DropReason::kGroupSourceMac;
  const bool ack = plan->type == dhcp::MessageType::kAck;
  if (ack && !(request.relayed() && !request.on_pxe_port())) {
    // To the IP source; a ciaddr that is set must be that source (a client
    // without an address yet may ask from 0.0.0.0 for an on-link ciaddr).
    const uint32_t src = request.frame.ip_src;
    if (src != 0 && request.ciaddr != 0 && request.ciaddr != src) {
      return DropReason::kCiaddrNotSource;
    }
    plan->dst_ip = src != 0 ? src : request.ciaddr;
    if (plan->dst_ip == 0) return DropReason::kNoClientAddress;
    if (src == 0 && AddressInSubnetOf(context, plan->dst_ip) == 0) {
      return DropReason::kBadReplyTarget;
    }
    if (!IsUnicastHost(context, plan->dst_ip)) {
      return DropReason::kBadReplyTarget;
    }
    // PXE clients listen on 68 (BIOS ROMs, iPXE) or 4011 (EDK2).
    if (request.frame.udp_src != kDhcpClientPort &&
        request.frame.udp_src != kPxeServerPort) {
      return DropReason::kBadClientPort;
    }
    plan->dst_mac = request.frame.eth_src;
    plan->src_port = request.frame.udp_dst;  // 4011, or 67 for a broadcast
    plan->dst_port = request.frame.udp_src;  // OVMF listens on 4011, iPXE 68
  } else if (request.relayed()) {
    if (!IsUnicastHost(context, request.giaddr) ||
        (!settings.relays.empty() &&
         std::find(settings.relays.begin(), settings.relays.end(),
                   request.giaddr) == settings.relays.end())) {
      return DropReason::kBadRelayAddress;
    }
    plan->dst_ip = request.giaddr;
    plan->dst_mac = request.frame.eth_src;
    plan->src_port = kDhcpServerPort;
    plan->dst_port = kDhcpServerPort;
  } else {
    // A client on this link asks from 0.0.0.0 or from its address here;
    // anything else came through a router and may not draw a LAN-wide
    // broadcast.
    if (request.frame.ip_src != 0 &&
        AddressInSubnetOf(context, request.frame.ip_src) == 0) {
      return DropReason::kOffLinkRequest;
    }
    plan->dst_ip = settings.offer_broadcast;
    plan->dst_mac = kBroadcastMac;
    plan->src_port = kDhcpServerPort;
    plan->dst_port = kDhcpClientPort;
  }
  return DropReason::kNone;
}

}  // namespace

uint32_t SelectServerAddress(const Request& request, const BootPolicy& policy,
                             const ServerContext& context) {
  if (request.on_pxe_port()) {
    // The client asked one of our addresses: answer from it.
    if (IsOurs(context, request.frame.ip_dst)) return request.frame.ip_dst;
    if (uint32_t a = AddressInSubnetOf(context, request.ciaddr)) return a;
    if (uint32_t a = AddressInSubnetOf(context, request.frame.ip_src)) {
      return a;
    }
  } else if (request.relayed()) {
    if (uint32_t a = AddressInSubnetOf(context, request.giaddr)) return a;
    for (const RelayServerAddress& r : policy.relay_servers) {
      if (r.relay_subnet.Contains(request.giaddr)) return r.server;
    }
  } else if (uint32_t c = AddressInSubnetOf(context, request.ciaddr)) {
    return c;  // a boot-server request broadcast to port 67
  } else if (uint32_t o = AddressInSubnetOf(context, context.offered_address)) {
    return o;
  }
  // -l, while it is one of ours on this network (not once it is removed,
  // nor for a VLAN it is not on).
  if (policy.listen_address != 0 && IsOurs(context, policy.listen_address)) {
    return policy.listen_address;
  }
  return context.addresses.empty() ? 0 : context.addresses.front().address;
}

uint32_t ClientSubnetAddress(const Request& request,
                             const ServerContext& context) {
  if (request.relayed()) return request.giaddr;
  if (request.ciaddr != 0) return request.ciaddr;
  if (request.on_pxe_port()) return request.frame.ip_src;
  return context.offered_address;
}

DropReason Decide(const Request& request, const PolicySnapshot& policy,
                  const ServerContext& context, ReplyPlan* plan) {
  const ClientFacts facts = FactsOf(
      request, ClientSubnetAddress(request, context), context.interface_name);
  return DecideWith(request, policy.AnswerFor(facts), policy.policy(), context,
                    plan);
}

DropReason DecideWith(const Request& request, const ResolvedAnswer& answer,
                      const BootPolicy& settings, const ServerContext& context,
                      ReplyPlan* plan) {
  if (answer.ignore) return DropReason::kIgnoredByRule;
  if (!request.arch_known) return DropReason::kUnknownArch;
  *plan = ReplyPlan{};
  plan->answer = &answer;
  plan->server_address = SelectServerAddress(request, settings, context);
  if (plan->server_address == 0) return DropReason::kNoServerAddress;
  const uint32_t tftp =
      answer.tftp_server != 0 ? answer.tftp_server : plan->server_address;
  // An ACK answers a 4011 request, or a boot-server request broadcast to 67.
  const bool ack = request.type != dhcp::MessageType::kDiscover;
  plan->type = ack ? dhcp::MessageType::kAck : dhcp::MessageType::kOffer;

  const MenuItem* item = nullptr;
  if (!request.boot_item.empty()) {
    if (DropReason d = FindMenuItem(request, answer, &item);
        d != DropReason::kNone) {
      return d;
    }
    plan->boot_item = request.boot_item;
  }
  if (item != nullptr) {
    plan->file = item->file;
    plan->siaddr = tftp;
    plan->tftp_server = tftp;
  } else if (request.kind == ClientKind::kHttp || request.arch.http) {
    plan->file = answer.http_url[static_cast<size_t>(request.arch.arch_class)];
    if (plan->file.empty()) return DropReason::kNoBootFile;
    plan->http = true;
    plan->siaddr = plan->server_address;
  } else if (!ack && answer.menu != nullptr) {
    // The firmware shows the menu and asks for the chosen item's file.
    plan->siaddr = plan->server_address;
    plan->menu = answer.menu;
  } else if (answer.raspberry_pi) {
    // The Pi bootloader fetches its files from siaddr (and option 66).
    plan->siaddr = tftp;
    plan->tftp_server = tftp;
    plan->raspberry_pi = true;
  } else {
    plan->file = PxeBootFile(request, answer);
    if (plan->file.empty()) return DropReason::kNoBootFile;
    const bool binl = !ack && request.arch.uefi &&
                      settings.uefi_offer_style == UefiOfferStyle::kBinl &&
                      !(request.is_ipxe && !answer.ipxe_script.empty());
    if (binl) {
      // Make every EDK2 ask us on 4011 (at siaddr first): no file, no 43.
      plan->siaddr = plan->server_address;
      plan->file = {};
    } else {
      plan->siaddr = tftp;
      plan->tftp_server = tftp;
      plan->discovery_control = !ack;
    }
  }
  plan->file_in_option67 = plan->file.size() > kMaxBootFileLength;
  return Route(request, settings, context, plan);
}

}  // namespace pxe
