#include "engine/policy.h"

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

absl::Status CheckName(std::string_view what, std::string_view value,
                       size_t max_length) {
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " is ", value.size(), " bytes long; at most ",
                     max_length, " fit in a DHCP reply: \"", Sv(value), "\""));
  }
  if (value.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " contains a NUL byte"));
  }
  return absl::OkStatus();
}

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

// Boot file for a PXE (TFTP) client, or empty.
std::string_view PxeBootFile(const Request& request, const BootPolicy& policy) {
  if (request.is_ipxe && !policy.ipxe_script.empty()) {
    return policy.ipxe_script;
  }
  const std::string& by_arch =
      policy.boot_file_by_arch[static_cast<size_t>(request.arch.arch_class)];
  return by_arch.empty() ? std::string_view(policy.boot_file) : by_arch;
}

std::string_view HttpBootUrl(const Request& request, const BootPolicy& policy) {
  const std::string& by_arch =
      policy.http_url_by_arch[static_cast<size_t>(request.arch.arch_class)];
  return by_arch.empty() ? std::string_view(policy.http_url) : by_arch;
}

}  // namespace

absl::Status ValidatePolicy(const BootPolicy& policy) {
  auto check_all = [](std::string_view what, const std::string& one,
                      const auto& by_arch, size_t max) -> absl::Status {
    PXE_RETURN_IF_ERROR(CheckName(what, one, max));
    for (size_t i = 0; i < by_arch.size(); ++i) {
      PXE_RETURN_IF_ERROR(
          CheckName(absl::StrCat(Sv(what), " for ",
                                 Sv(ArchClassName(static_cast<ArchClass>(i)))),
                    by_arch[i], max));
    }
    return absl::OkStatus();
  };
  PXE_RETURN_IF_ERROR(check_all("boot file", policy.boot_file,
                                policy.boot_file_by_arch, kMaxBootFileLength));
  PXE_RETURN_IF_ERROR(check_all("HTTP boot URL", policy.http_url,
                                policy.http_url_by_arch, kMaxUrlLength));
  PXE_RETURN_IF_ERROR(
      CheckName("iPXE script", policy.ipxe_script, kMaxUrlLength));
  bool any_file = !policy.boot_file.empty() || !policy.http_url.empty() ||
                  !policy.ipxe_script.empty();
  for (size_t i = 0; i < kArchClassCount; ++i) {
    any_file = any_file || !policy.boot_file_by_arch[i].empty() ||
               !policy.http_url_by_arch[i].empty();
  }
  if (!any_file) {
    return absl::InvalidArgumentError(
        "no boot file configured: name an NBP (e.g. pxelinux.0)");
  }
  for (const RelayServerAddress& r : policy.relay_servers) {
    if (r.prefix_length > 32 || r.server == 0) {
      return absl::InvalidArgumentError(
          "relay server entry needs a prefix length <= 32 and an address");
    }
  }
  return absl::OkStatus();
}

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
      if (InterfaceAddress{r.network, r.prefix_length}.Contains(
              request.giaddr)) {
        return r.server;
      }
    }
  } else if (uint32_t a = AddressInSubnetOf(context, context.offered_address)) {
    return a;
  }
  if (policy.listen_address != 0) return policy.listen_address;
  return context.addresses.empty() ? 0 : context.addresses.front().address;
}

DropReason Decide(const Request& request, const BootPolicy& policy,
                  const ServerContext& context, ReplyPlan* plan) {
  if (!request.arch_known) return DropReason::kUnknownArch;
  *plan = ReplyPlan{};
  plan->server_address = SelectServerAddress(request, policy, context);
  if (plan->server_address == 0) return DropReason::kNoServerAddress;
  const uint32_t tftp =
      policy.tftp_server != 0 ? policy.tftp_server : plan->server_address;
  const bool ack = request.on_pxe_port();
  plan->type = ack ? dhcp::MessageType::kAck : dhcp::MessageType::kOffer;

  if (request.kind == ClientKind::kHttp || request.arch.http) {
    plan->file = HttpBootUrl(request, policy);
    if (plan->file.empty()) return DropReason::kNoBootFile;
    plan->http = true;
    plan->siaddr = plan->server_address;
  } else {
    plan->file = PxeBootFile(request, policy);
    if (plan->file.empty()) return DropReason::kNoBootFile;
    const bool binl = !ack && request.arch.uefi &&
                      policy.uefi_offer_style == UefiOfferStyle::kBinl &&
                      !(request.is_ipxe && !policy.ipxe_script.empty());
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

  if (ack) {
    plan->dst_ip = request.ciaddr != 0 ? request.ciaddr : request.frame.ip_src;
    // Nowhere to send it: no address, or port 0 (not a port one can listen
    // on).
    if (plan->dst_ip == 0 || request.frame.udp_src == 0) {
      return DropReason::kNoClientAddress;
    }
    plan->dst_mac = request.frame.eth_src;
    plan->src_port = kPxeServerPort;
    plan->dst_port = request.frame.udp_src;  // OVMF listens on 4011, iPXE 68
  } else if (request.relayed()) {
    plan->dst_ip = request.giaddr;
    plan->dst_mac = request.frame.eth_src;
    plan->src_port = kDhcpServerPort;
    plan->dst_port = kDhcpServerPort;
  } else {
    plan->dst_ip = policy.offer_broadcast;
    plan->dst_mac = kBroadcastMac;
    plan->src_port = kDhcpServerPort;
    plan->dst_port = kDhcpClientPort;
  }
  return DropReason::kNone;
}

}  // namespace pxe
