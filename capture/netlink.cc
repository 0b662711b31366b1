#include "capture/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// Room for the largest message a link dump sends (a device with many
// attributes): a message cut short would be lost whole (MSG_TRUNC).
constexpr size_t kBufferSize = 64 * 1024;
// A monitor socket's receive buffer: a burst of changes (a bond and its
// VLANs re-created) must fit, or the kernel drops events (ENOBUFS).
constexpr int kMonitorBufferBytes = 4 << 20;
constexpr int kDumpAttempts = 5;

absl::Status Errno(std::string_view what) {
  return absl::InternalError(
      absl::StrCat(Sv(what), ": ", std::strerror(errno)));
}

// Calls fn(attr) for each attribute of `nlh` after `offset` payload bytes.
template <typename Fn>
void ForEachAttribute(const nlmsghdr* nlh, size_t offset, Fn fn) {
  mnl_attr_parse(
      nlh, static_cast<unsigned>(offset),
      [](const nlattr* attr, void* data) {
        (*static_cast<Fn*>(data))(attr);
        return MNL_CB_OK;
      },
      &fn);
}

// The same, for the attributes nested in `nest`.
template <typename Fn>
void ForEachNested(const nlattr* nest, Fn fn) {
  mnl_attr_parse_nested(
      nest,
      [](const nlattr* attr, void* data) {
        (*static_cast<Fn*>(data))(attr);
        return MNL_CB_OK;
      },
      &fn);
}

std::string_view AttributeString(const nlattr* attr) {
  const char* text = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string_view(text, strnlen(text, mnl_attr_get_payload_len(attr)));
}

bool IsU32(const nlattr* attr) {
  return mnl_attr_validate(attr, MNL_TYPE_U32) >= 0;
}

bool IsU16(const nlattr* attr) {
  return mnl_attr_validate(attr, MNL_TYPE_U16) >= 0;
}

// RTM_NEWLINK, RTM_DELLINK. False: not a message about a device.
bool ParseLink(const nlmsghdr* nlh, NetlinkEvent* event) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) return false;
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0) return false;
  event->kind = nlh->nlmsg_type == RTM_DELLINK
                    ? NetlinkEvent::Kind::kLinkRemoved
                    : NetlinkEvent::Kind::kLink;
  InterfaceInfo& info = event->link;
  info.ifindex = ifi->ifi_index;
  info.up =
      (ifi->ifi_flags & IFF_UP) != 0 && (ifi->ifi_flags & IFF_LOOPBACK) == 0;
  info.running = info.up && (ifi->ifi_flags & IFF_RUNNING) != 0;
  const bool ethernet = ifi->ifi_type == ARPHRD_ETHER;
  int link = 0;
  bool is_vlan = false;
  const nlattr* kind_data = nullptr;
  ForEachAttribute(nlh, sizeof(ifinfomsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case IFLA_IFNAME:
        info.name = std::string(AttributeString(attr));
        break;
      case IFLA_ADDRESS:
        if (ethernet && mnl_attr_get_payload_len(attr) == 6) {
          info.mac =
              LoadMac(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)));
        }
        break;
      case IFLA_MTU:
        if (IsU32(attr)) info.mtu = static_cast<int>(mnl_attr_get_u32(attr));
        break;
      case IFLA_LINK:
        if (IsU32(attr)) link = static_cast<int>(mnl_attr_get_u32(attr));
        break;
      case IFLA_LINK_NETNSID:
        event->link_elsewhere = true;
        break;
      case IFLA_LINKINFO:
        ForEachNested(attr, [&](const nlattr* inner) {
          if (mnl_attr_get_type(inner) == IFLA_INFO_KIND) {
            is_vlan = AttributeString(inner) == "vlan";
          } else if (mnl_attr_get_type(inner) == IFLA_INFO_DATA) {
            kind_data = inner;
          }
        });
        break;
    }
  });
  if (is_vlan) {
    info.link_ifindex = link;
    if (kind_data != nullptr) {
      ForEachNested(kind_data, [&](const nlattr* attr) {
        if (!IsU16(attr)) return;
        if (mnl_attr_get_type(attr) == IFLA_VLAN_ID) {
          info.vlan_id = mnl_attr_get_u16(attr);
        } else if (mnl_attr_get_type(attr) == IFLA_VLAN_PROTOCOL) {
          info.vlan_protocol = ntohs(mnl_attr_get_u16(attr));
        }
      });
    }
  } else {
    event->link_elsewhere = false;
  }
  return true;
}

// RTM_NEWADDR, RTM_DELADDR of an IPv6 address. False: not a usable one.
bool ParseAddress6(const nlmsghdr* nlh, const ifaddrmsg* ifa,
                   NetlinkEvent* event) {
  if (ifa->ifa_prefixlen > 128) return false;
  event->kind = nlh->nlmsg_type == RTM_DELADDR
                    ? NetlinkEvent::Kind::kAddressRemoved
                    : NetlinkEvent::Kind::kAddress;
  event->ifindex = static_cast<int>(ifa->ifa_index);
  event->ipv6 = true;
  uint32_t flags = ifa->ifa_flags;
  const void* address = nullptr;
  ForEachAttribute(nlh, sizeof(ifaddrmsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case IFA_LOCAL:
      case IFA_ADDRESS:
        if (mnl_attr_get_payload_len(attr) == 16 && address == nullptr) {
          address = mnl_attr_get_payload(attr);
        }
        break;
      case IFA_FLAGS:
        if (IsU32(attr)) flags = mnl_attr_get_u32(attr);
        break;
    }
  });
  if (address == nullptr || event->ifindex <= 0) return false;
  // An address whose duplicate address detection failed is not ours.
  if ((flags & IFA_F_DADFAILED) &&
      event->kind == NetlinkEvent::Kind::kAddress) {
    event->kind = NetlinkEvent::Kind::kAddressRemoved;
  }
  std::memcpy(event->address6.address.data(), address, 16);
  event->address6.prefix_length = ifa->ifa_prefixlen;
  return true;
}

// RTM_NEWADDR, RTM_DELADDR. False: not an IPv4 or IPv6 address.
bool ParseAddress(const nlmsghdr* nlh, NetlinkEvent* event) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg)) return false;
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family == AF_INET6) return ParseAddress6(nlh, ifa, event);
  if (ifa->ifa_family != AF_INET || ifa->ifa_prefixlen > 32) return false;
  event->kind = nlh->nlmsg_type == RTM_DELADDR
                    ? NetlinkEvent::Kind::kAddressRemoved
                    : NetlinkEvent::Kind::kAddress;
  event->ifindex = static_cast<int>(ifa->ifa_index);
  uint32_t flags = ifa->ifa_flags;
  const void* local = nullptr;
  const void* address = nullptr;
  ForEachAttribute(nlh, sizeof(ifaddrmsg), [&](const nlattr* attr) {
    const bool four = mnl_attr_get_payload_len(attr) == 4;
    switch (mnl_attr_get_type(attr)) {
      case IFA_LOCAL:
        if (four) local = mnl_attr_get_payload(attr);
        break;
      case IFA_ADDRESS:
        if (four) address = mnl_attr_get_payload(attr);
        break;
      case IFA_FLAGS:
        if (IsU32(attr)) flags = mnl_attr_get_u32(attr);
        break;
    }
  });
  // IFA_LOCAL is our own address; IFA_ADDRESS is the peer's on a
  // point-to-point link, and the same as IFA_LOCAL elsewhere.
  const void* ours = local != nullptr ? local : address;
  if (ours == nullptr || event->ifindex <= 0) return false;
  uint32_t be = 0;
  std::memcpy(&be, ours, 4);
  event->address = {.address = ntohl(be), .prefix_length = ifa->ifa_prefixlen};
  event->secondary = (flags & IFA_F_SECONDARY) != 0;
  return true;
}

// The messages of `buffer`; those of another sequence number are skipped
// when `seq` is not 0.
absl::Status ParseMessages(std::span<const uint8_t> buffer, uint32_t seq,
                           std::vector<NetlinkEvent>* events, bool* done,
                           bool* interrupted) {
  int length = static_cast<int>(buffer.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
  for (; mnl_nlmsg_ok(nlh, length); nlh = mnl_nlmsg_next(nlh, &length)) {
    if (seq != 0 && nlh->nlmsg_seq != seq) continue;
    if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && interrupted != nullptr) {
      *interrupted = true;
    }
    switch (nlh->nlmsg_type) {
      case NLMSG_DONE:
        if (done != nullptr) *done = true;
        break;
      case NLMSG_ERROR: {
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr)) break;
        const auto* error =
            static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (error->error == 0) break;  // an acknowledgement
        return absl::InternalError(absl::StrCat(
            "netlink: the kernel answered: ", std::strerror(-error->error)));
      }
      case RTM_NEWLINK:
      case RTM_DELLINK: {
        NetlinkEvent event;
        if (ParseLink(nlh, &event)) events->push_back(std::move(event));
        break;
      }
      case RTM_NEWADDR:
      case RTM_DELADDR: {
        NetlinkEvent event;
        if (ParseAddress(nlh, &event)) events->push_back(std::move(event));
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

bool SameAddress(const InterfaceAddress& a, const InterfaceAddress& b) {
  return a.address == b.address && a.prefix_length == b.prefix_length;
}

}  // namespace

absl::Status ParseNetlinkMessages(std::span<const uint8_t> buffer,
                                  std::vector<NetlinkEvent>* events, bool* done,
                                  bool* interrupted) {
  return ParseMessages(buffer, /*seq=*/0, events, done, interrupted);
}

void LinkTable::Apply(const NetlinkEvent& event) {
  switch (event.kind) {
    case NetlinkEvent::Kind::kLink: {
      Entry& entry = links_[event.link.ifindex];
      std::vector<InterfaceAddress> addresses = std::move(entry.info.addresses);
      std::vector<Ipv6InterfaceAddress> addresses6 =
          std::move(entry.info.addresses6);
      entry.info = event.link;
      entry.info.addresses = std::move(addresses);
      entry.info.addresses6 = std::move(addresses6);
      entry.link_elsewhere = event.link_elsewhere;
      entry.named = true;
      break;
    }
    case NetlinkEvent::Kind::kLinkRemoved:
      links_.erase(event.link.ifindex);
      break;
    case NetlinkEvent::Kind::kAddress:
    case NetlinkEvent::Kind::kAddressRemoved: {
      // An address may be heard of before its link: keep it unnamed until
      // the link message comes.
      Entry& entry = links_[event.ifindex];
      if (event.ipv6) {
        std::vector<Ipv6InterfaceAddress>& list6 = entry.info.addresses6;
        std::erase_if(list6, [&](const Ipv6InterfaceAddress& a) {
          return a.address == event.address6.address;
        });
        if (event.kind == NetlinkEvent::Kind::kAddress) {
          list6.push_back(event.address6);
        } else if (!entry.named && list6.empty() &&
                   entry.info.addresses.empty()) {
          links_.erase(event.ifindex);
        }
        break;
      }
      std::vector<InterfaceAddress>& list = entry.info.addresses;
      for (size_t i = 0; i < list.size(); ++i) {
        if (SameAddress(list[i], event.address)) {
          list.erase(list.begin() + static_cast<ptrdiff_t>(i));
          entry.secondary.erase(entry.secondary.begin() +
                                static_cast<ptrdiff_t>(i));
          break;
        }
      }
      if (event.kind == NetlinkEvent::Kind::kAddress) {
        // As the kernel lists them: a primary after the last primary, a
        // secondary at the end.
        size_t at = list.size();
        if (!event.secondary) {
          at = static_cast<size_t>(
              std::find(entry.secondary.begin(), entry.secondary.end(), true) -
              entry.secondary.begin());
        }
        list.insert(list.begin() + static_cast<ptrdiff_t>(at), event.address);
        entry.secondary.insert(
            entry.secondary.begin() + static_cast<ptrdiff_t>(at),
            event.secondary);
      } else if (!entry.named && list.empty() &&
                 entry.info.addresses6.empty()) {
        links_.erase(event.ifindex);
      }
      break;
    }
  }
}

InterfaceInfo LinkTable::Complete(const Entry& entry) const {
  InterfaceInfo info = entry.info;
  if (info.link_ifindex != 0 && !entry.link_elsewhere) {
    auto parent = links_.find(info.link_ifindex);
    if (parent != links_.end() && parent->second.named) {
      info.link_name = parent->second.info.name;
    }
  }
  return info;
}

std::optional<InterfaceInfo> LinkTable::Find(std::string_view name) const {
  for (const auto& [index, entry] : links_) {
    if (entry.named && entry.info.name == name) return Complete(entry);
  }
  return std::nullopt;
}

std::vector<InterfaceInfo> LinkTable::All() const {
  std::vector<InterfaceInfo> out;
  for (const auto& [index, entry] : links_) {
    if (entry.named) out.push_back(Complete(entry));
  }
  std::sort(out.begin(), out.end(),
            [](const InterfaceInfo& a, const InterfaceInfo& b) {
              return a.name < b.name;
            });
  return out;
}

void MnlSocketCloser::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

NetlinkSocket::NetlinkSocket(mnl_socket* socket)
    : socket_(socket),
      seq_(static_cast<uint32_t>(time(nullptr))),
      buffer_(kBufferSize) {}

int NetlinkSocket::fd() const { return mnl_socket_get_fd(socket_.get()); }

absl::StatusOr<NetlinkSocket> NetlinkSocket::Open() {
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) return Errno("socket(AF_NETLINK, NETLINK_ROUTE)");
  NetlinkSocket out(socket);
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Errno("bind(AF_NETLINK)");
  }
  // The kernel answers a dump at once; never wait on it forever.
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  setsockopt(out.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return out;
}

absl::StatusOr<NetlinkSocket> NetlinkSocket::Monitor() {
  mnl_socket* socket =
      mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (socket == nullptr) return Errno("socket(AF_NETLINK, NETLINK_ROUTE)");
  NetlinkSocket out(socket);
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Errno("bind(AF_NETLINK)");
  }
  for (int group : {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR}) {
    if (mnl_socket_setsockopt(socket, NETLINK_ADD_MEMBERSHIP, &group,
                              sizeof(group)) < 0) {
      return Errno("NETLINK_ADD_MEMBERSHIP (link and address changes)");
    }
  }
  // Capped by net.core.rmem_max; what it gets is enough for most bursts,
  // and ENOBUFS (a resync) covers the rest.
  const int bytes = kMonitorBufferBytes;
  setsockopt(out.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  return out;
}

absl::Status NetlinkSocket::DumpInto(uint16_t type, LinkTable* table,
                                     bool* interrupted) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = ++seq_;
  if (type == RTM_GETLINK) {
    auto* ifi = static_cast<ifinfomsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
  } else {
    auto* ifa = static_cast<ifaddrmsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_UNSPEC;  // IPv4 and IPv6 addresses
  }
  if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0) {
    return Errno("netlink dump request");
  }
  std::vector<NetlinkEvent> events;
  bool done = false;
  while (!done) {
    const ssize_t n =
        mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("netlink dump");
    }
    events.clear();
    PXE_RETURN_IF_ERROR(
        ParseMessages(std::span(buffer_.data(), static_cast<size_t>(n)),
                      nlh->nlmsg_seq, &events, &done, interrupted));
    for (const NetlinkEvent& event : events) table->Apply(event);
  }
  return absl::OkStatus();
}

absl::StatusOr<LinkTable> NetlinkSocket::Dump() {
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    LinkTable table;
    bool interrupted = false;
    PXE_RETURN_IF_ERROR(DumpInto(RTM_GETLINK, &table, &interrupted));
    PXE_RETURN_IF_ERROR(DumpInto(RTM_GETADDR, &table, &interrupted));
    if (!interrupted) return table;
  }
  return absl::UnavailableError(
      absl::StrCat("netlink: every dump of ", kDumpAttempts,
                   " was interrupted by changes; try again"));
}

absl::Status NetlinkSocket::ReadEvents(std::vector<NetlinkEvent>* events) {
  for (;;) {
    const ssize_t n =
        mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        return absl::ResourceExhaustedError(
            "netlink: the kernel dropped interface events (receive buffer "
            "full)");
      }
      return Errno("netlink: reading interface events");
    }
    PXE_RETURN_IF_ERROR(
        ParseMessages(std::span(buffer_.data(), static_cast<size_t>(n)),
                      /*seq=*/0, events, nullptr, nullptr));
  }
}

absl::StatusOr<LinkTable> DumpLinks() {
  PXE_ASSIGN_OR_RETURN(NetlinkSocket socket, NetlinkSocket::Open());
  return socket.Dump();
}

absl::StatusOr<InterfaceInfo> LookupInterface(const LinkTable& table,
                                              std::string_view name) {
  std::optional<InterfaceInfo> info = table.Find(name);
  if (!info) {
    return absl::NotFoundError(absl::StrCat("no such interface: ", Sv(name)));
  }
  if (info->mac == MacAddress{}) {
    return absl::FailedPreconditionError(
        absl::StrCat("interface ", Sv(name), " is not an Ethernet interface"));
  }
  return *std::move(info);
}

}  // namespace pxe
