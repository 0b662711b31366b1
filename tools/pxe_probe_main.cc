// pxe-probe: a scripted PXE client for people and integration tests. Sends
// one PXE DHCPDISCOVER, prints the offers (proxy and DHCP server told apart),
// then asks the proxy on UDP 4011 as the firmware would and prints the ACK.
// See ProbeUsageText() for the flags and the exit status.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "capture/bpf_filter.h"
#include "capture/unique_fd.h"
#include "engine/describe.h"
#include "engine/reply6.h"
#include "engine/status_macros.h"
#include "tools/probe.h"
#include "tools/probe6.h"

namespace pxe {
namespace {

// IPv4 UDP, unfragmented, to a client (68), to the PXE port (4011), or to a
// relay (67). The BOOTP checks are the engine's.
constexpr char kFilter[] =
    "ip and udp and (ip[6:2] & 0x3fff) = 0 and "
    "(dst port 68 or dst port 4011 or dst port 67)";

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

absl::Status Errno(std::string_view what) {
  return absl::InternalError(
      absl::StrCat(Sv(what), ": ", std::strerror(errno)));
}

template <typename T>
T RandomValue() {
  T value{};
  // getrandom() of a few bytes does not fail once the pool is initialised.
  if (getrandom(&value, sizeof(value), 0) != sizeof(value)) {
    // Never expected; still vary between concurrent probes.
    const uint64_t now = NowNs();
    std::memcpy(&value, &now, std::min(sizeof(value), sizeof(now)));
  }
  return value;
}

struct Interface {
  int ifindex = 0;
  MacAddress mac{};
};

// Unlike LookupInterface(), no IPv4 address is needed: a PXE client has none.
absl::StatusOr<Interface> FindInterface(const std::string& name) {
  Interface out;
  out.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (out.ifindex == 0) {
    return absl::NotFoundError(absl::StrCat("no such interface: ", name));
  }
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (!fd.valid() || ioctl(fd.get(), SIOCGIFHWADDR, &req) != 0) {
    return Errno(absl::StrCat("reading the MAC of ", name));
  }
  if (req.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is not an Ethernet interface"));
  }
  std::memcpy(out.mac.data(), req.ifr_hwaddr.sa_data, 6);
  return out;
}

struct Received {
  std::span<const uint8_t> frame;
  RxMeta meta;
  bool checksum_not_ready = false;
};

// An AF_PACKET socket on one interface: send() whole frames, receive the
// filtered ones with their auxiliary data (stripped VLAN tag, checksum state).
class ProbeSocket {
 public:
  static absl::StatusOr<ProbeSocket> Open(const Interface& interface,
                                          const MacAddress& client_mac) {
    // Protocol 0: nothing is queued until bind(), after the drop-all filter.
    ProbeSocket s;
    s.fd_ = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!s.fd_.valid()) return Errno("AF_PACKET socket (root needed)");
    const int fd = s.fd_.get();
    PXE_RETURN_IF_ERROR(AttachFilter(fd, DropAllProgram()));
    const int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) != 0) {
      return Errno("PACKET_AUXDATA");
    }
    // Our own frames are of no interest to a client (best effort: the
    // receive path skips PACKET_OUTGOING anyway).
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = interface.ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Errno("binding the packet socket");
    }
    // Replies come to the client's MAC, which the NIC does not know: have
    // the kernel accept it (on devices without a unicast filter this turns
    // on promiscuous mode until the socket closes).
    if (client_mac != interface.mac) {
      packet_mreq mreq{};
      mreq.mr_ifindex = interface.ifindex;
      mreq.mr_type = PACKET_MR_UNICAST;
      mreq.mr_alen = 6;
      std::memcpy(mreq.mr_address, client_mac.data(), 6);
      if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                     sizeof(mreq)) != 0) {
        return Errno("adding the client MAC to the interface");
      }
    }
    uint8_t sink[64];
    while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) >= 0) {
    }
    PXE_ASSIGN_OR_RETURN(BpfProgram filter, CompileFilter(kFilter));
    PXE_RETURN_IF_ERROR(AttachFilter(fd, filter));
    return s;
  }

  absl::Status Send(std::span<const uint8_t> frame) {
    if (send(fd_.get(), frame.data(), frame.size(), 0) !=
        static_cast<ssize_t>(frame.size())) {
      return Errno("send");
    }
    return absl::OkStatus();
  }

  // Waits until `deadline_ns` for the next frame. False on timeout; `out`
  // views this socket's buffer until the next call.
  absl::StatusOr<bool> Receive(uint64_t deadline_ns, Received* out) {
    while (true) {
      const uint64_t now = NowNs();
      if (now >= deadline_ns) return false;
      pollfd pfd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
      const int timeout_ms =
          static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
      const int ready = poll(&pfd, 1, timeout_ms);
      if (ready < 0 && errno != EINTR) return Errno("poll");
      if (ready <= 0) continue;

      sockaddr_ll from{};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
      iovec iov{.iov_base = buffer_->data(), .iov_len = buffer_->size()};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof(from);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Errno("recvmsg");
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      *out = Received{.frame = std::span(buffer_->data(), size_t(n))};
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) {
          continue;
        }
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
        out->meta.vlan_valid = (aux.tp_status & TP_STATUS_VLAN_VALID) != 0;
        out->meta.vlan_tci = aux.tp_vlan_tci;
        out->checksum_not_ready = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
        if (out->checksum_not_ready) {
          out->meta.udp_checksum = UdpChecksumStatus::kNotReady;
        } else if (aux.tp_status & TP_STATUS_CSUM_VALID) {
          out->meta.udp_checksum = UdpChecksumStatus::kVerified;
        }
      }
      return true;
    }
  }

 private:
  ProbeSocket() : buffer_(std::make_unique<std::array<uint8_t, 65536>>()) {}

  UniqueFd fd_;
  std::unique_ptr<std::array<uint8_t, 65536>> buffer_;
};

class Probe {
 public:
  explicit Probe(const ProbeConfig& config) : config_(config) {}

  // OK when the run went as --expect-none (or its absence) wants; else the
  // one-line reason.
  absl::Status Run() {
    PXE_ASSIGN_OR_RETURN(const Interface interface,
                         FindInterface(config_.interface));
    InitProbeClient(config_, RandomValue<MacAddress>(), interface.mac,
                    RandomValue<uint32_t>(), RandomValue<uint32_t>(),
                    RandomValue<std::array<uint8_t, 16>>(), &client_);
    PXE_ASSIGN_OR_RETURN(ProbeSocket socket,
                         ProbeSocket::Open(interface, client_.mac));
    socket_.emplace(std::move(socket));

    PXE_RETURN_IF_ERROR(Send("discover", DiscoverSpec(config_, client_)));
    PXE_RETURN_IF_ERROR(CollectOffers());
    if (config_.expect_none) {
      if (proxy_offer_) {
        return absl::FailedPreconditionError(
            absl::StrCat("a proxy offer arrived from ",
                         FormatIpv4(proxy_offer_->ip_src), " (expected none)"));
      }
      return absl::OkStatus();
    }
    if (!proxy_offer_) {
      return absl::NotFoundError(absl::StrCat("no proxy offer within ",
                                              config_.timeout_seconds, " s"));
    }
    if (config_.relayed() && (proxy_offer_->ip_dst != config_.relay ||
                              proxy_offer_->udp_dst != kDhcpServerPort)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the proxy offer went to ", FormatIpv4(proxy_offer_->ip_dst), ":",
          proxy_offer_->udp_dst, ", not to the relay ",
          FormatIpv4(config_.relay), ":67"));
    }
    if (config_.no_4011) return absl::OkStatus();
    return RequestOn4011();
  }

 private:
  absl::Status Send(std::string_view label, const ClientRequestSpec& spec) {
    std::array<uint8_t, kMaxClientRequestFrameSize> frame;
    const size_t size = BuildClientRequest(spec, frame);
    if (size == 0) return absl::InternalError("the request does not fit");
    const std::span<const uint8_t> bytes = std::span(frame).first(size);
    if (config_.service_tag) {
      // The S-tag goes first, outside any 802.1Q tag.
      std::vector<uint8_t> tagged(bytes.begin(), bytes.end());
      const uint8_t tag[4] = {0x88, 0xA8,
                              static_cast<uint8_t>(*config_.service_tag >> 8),
                              static_cast<uint8_t>(*config_.service_tag)};
      tagged.insert(tagged.begin() + 12, tag, tag + 4);
      PXE_RETURN_IF_ERROR(socket_->Send(tagged));
    } else {
      PXE_RETURN_IF_ERROR(socket_->Send(bytes));
    }
    auto sent = std::make_unique<Request>();
    ClassifyFrame(bytes, RxMeta{}, sent.get());
    Print(absl::StrCat(Sv(label), ": ", DescribeRequest(*sent)));
    return absl::OkStatus();
  }

  // Calls `on_reply` for every BOOTREPLY to our chaddr and `xid` on our VLAN
  // until `deadline_ns` or until it returns true.
  absl::Status ForEachReply(
      uint32_t xid, uint64_t deadline_ns,
      const std::function<bool(const Request&, std::string_view)>& on_reply) {
    auto reply = std::make_unique<Request>();
    Received received;
    while (true) {
      PXE_ASSIGN_OR_RETURN(bool got, socket_->Receive(deadline_ns, &received));
      if (!got) return absl::OkStatus();
      if (ClassifyFrame(received.frame, received.meta, reply.get()) !=
              DropReason::kServerReply ||
          reply->chaddr != client_.mac || reply->xid != xid ||
          reply->frame.has_vlan != config_.vlan.has_value() ||
          (config_.vlan && reply->frame.vlan_id() != *config_.vlan)) {
        continue;
      }
      const std::vector<uint8_t> wire =
          AsOnTheWire(received.frame,
                      received.meta.vlan_valid
                          ? std::optional<uint16_t>(received.meta.vlan_tci)
                          : std::nullopt,
                      received.checksum_not_ready);
      if (on_reply(*reply, DescribeReply(wire))) return absl::OkStatus();
    }
  }

  absl::Status CollectOffers() {
    const uint64_t deadline = NowNs() + TimeoutNs();
    return ForEachReply(
        client_.discover_xid, deadline,
        [&](const Request& reply, std::string_view text) {
          const SeenReply seen = ToSeenReply(reply);
          const bool offer = seen.type == dhcp::MessageType::kOffer;
          const char* label = !offer       ? "reply"
                              : seen.proxy ? "proxy-offer"
                                           : "dhcp-offer";
          Print(absl::StrCat(label, " from ", FormatIpv4(seen.ip_src), ": ",
                             Sv(text)));
          if (offer && seen.proxy && !proxy_offer_) proxy_offer_ = seen;
          if (offer && !seen.proxy && !dhcp_offer_) dhcp_offer_ = seen;
          // --expect-none fails at the first proxy offer; otherwise stop as
          // iPXE does once both kinds are in.
          if (config_.expect_none) return proxy_offer_.has_value();
          return !config_.wait_full && proxy_offer_ && dhcp_offer_;
        });
  }

  absl::Status RequestOn4011() {
    const uint32_t ciaddr =
        dhcp_offer_ ? dhcp_offer_->yiaddr : config_.client_ip;
    if (ciaddr == 0) {
      return absl::FailedPreconditionError(
          "no DHCP server offer seen, so no client address for the 4011 "
          "request: pass --client-ip (or --no-4011)");
    }
    const ClientRequestSpec spec =
        RequestSpec(config_, client_, *proxy_offer_, ciaddr);
    PXE_RETURN_IF_ERROR(Send("request", spec));

    const uint64_t deadline = NowNs() + TimeoutNs();
    std::optional<SeenReply> ack;
    bool has_file = false;
    PXE_RETURN_IF_ERROR(ForEachReply(
        spec.xid, deadline, [&](const Request& reply, std::string_view text) {
          const SeenReply seen = ToSeenReply(reply);
          const bool is_ack = seen.type == dhcp::MessageType::kAck;
          Print(absl::StrCat(is_ack ? "ack" : "reply", " from ",
                             FormatIpv4(seen.ip_src), ": ", Sv(text)));
          if (!is_ack) return false;
          ack = seen;
          has_file = reply.bootp.file()[0] != 0 ||
                     reply.options.Has(dhcp::kBootFileName);
          return true;
        }));
    if (!ack) {
      return absl::NotFoundError(
          absl::StrCat("no ack from ", FormatIpv4(spec.dst_ip), ":4011 within ",
                       config_.timeout_seconds, " s"));
    }
    // The firmware listens where it sent from: OVMF on 4011 only.
    if (ack->ip_dst != ciaddr || ack->udp_dst != spec.src_port) {
      return absl::FailedPreconditionError(
          absl::StrCat("the ack went to ", FormatIpv4(ack->ip_dst), ":",
                       ack->udp_dst, ", but the request came from ",
                       FormatIpv4(ciaddr), ":", spec.src_port));
    }
    if (!has_file) {
      return absl::FailedPreconditionError(
          "the ack names no boot file (EDK2 rejects such an ack)");
    }
    return absl::OkStatus();
  }

  uint64_t TimeoutNs() const {
    return static_cast<uint64_t>(config_.timeout_seconds * 1e9);
  }

  void Print(const std::string& line) const {
    if (config_.quiet) return;
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);  // line by line, also into a pipe or a log file
  }

  const ProbeConfig& config_;
  ProbeClient client_;
  std::optional<ProbeSocket> socket_;
  std::optional<SeenReply> proxy_offer_;
  std::optional<SeenReply> dhcp_offer_;
};

// The interface's link-local address: a PXEv6 client sends from it.
absl::StatusOr<Ipv6Address> LinkLocalOf(const std::string& name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Errno("getifaddrs");
  std::optional<Ipv6Address> found;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET6 ||
        name != a->ifa_name) {
      continue;
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
    if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
    Ipv6Address address;
    std::memcpy(address.data(), &sin6->sin6_addr, 16);
    found = address;
  }
  freeifaddrs(list);
  if (!found) {
    return absl::FailedPreconditionError(absl::StrCat(
        name,
        " has no IPv6 link-local address, and a PXEv6 client sends its "
        "Solicit from one (is IPv6 off there? sysctl "
        "net.ipv6.conf.",
        name, ".disable_ipv6)"));
  }
  return *found;
}

std::string Ipv6Text(const Ipv6Address& address) {
  char text[48];
  return std::string(text, FormatIpv6(address, text));
}

sockaddr_in6 SocketAddress(const Ipv6Address& ip, uint16_t port, int ifindex) {
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(port);
  std::memcpy(&addr.sin6_addr, ip.data(), 16);
  // Link-local and link-scope multicast addresses need the interface.
  if ((ip[0] == 0xFE && (ip[1] & 0xC0) == 0x80) ||
      (ip[0] == 0xFF && (ip[1] & 0x0F) <= 2)) {
    addr.sin6_scope_id = static_cast<uint32_t>(ifindex);
  }
  return addr;
}

// A UDP socket on IFACE at [ip]:port (ip all zero: any of IFACE's).
absl::StatusOr<UniqueFd> OpenUdp6(const std::string& interface, int ifindex,
                                  const Ipv6Address& ip, uint16_t port) {
  UniqueFd fd(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("IPv6 UDP socket");
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                 static_cast<socklen_t>(interface.size())) != 0) {
    return Errno(absl::StrCat("binding to ", interface, " (root needed)"));
  }
  const int index = ifindex;
  if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
                 sizeof(index)) != 0) {
    return Errno("IPV6_MULTICAST_IF");
  }
  const sockaddr_in6 addr = SocketAddress(ip, port, ifindex);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return Errno(absl::StrCat(
        "binding UDP [", Ipv6Text(ip), "]:", port, " on ", interface,
        errno == EADDRINUSE ? " (a DHCPv6 client or pxe-pdhcp holds it?)"
        : errno == EADDRNOTAVAIL
            ? " (address not ready yet: duplicate address detection?)"
            : ""));
  }
  return fd;
}

// pxe-probe --ipv6: an EDK2 PXEv6 or HTTPv6 client over UDP sockets (it has
// its link-local address, so the kernel's IPv6 stack can carry the exchange).
class Probe6 {
 public:
  explicit Probe6(const ProbeConfig& config) : config_(config) {}

  // The exit status; the reason for a non-zero one on stderr.
  absl::StatusOr<Probe6Verdict> Run() {
    PXE_ASSIGN_OR_RETURN(const Interface interface,
                         FindInterface(config_.interface));
    PXE_ASSIGN_OR_RETURN(const Ipv6Address link_local,
                         LinkLocalOf(config_.interface));
    ifindex_ = interface.ifindex;
    InitProbe6Client(config_, interface.mac, RandomValue<uint32_t>(),
                     RandomValue<uint32_t>(), &client_);
    PXE_ASSIGN_OR_RETURN(
        UniqueFd client_socket,
        OpenUdp6(config_.interface, ifindex_, link_local, kDhcp6ClientPort));

    const ClientRequest6Spec solicit = Solicit6Spec(client_);
    Print(absl::StrCat("solicit: from [", Ipv6Text(link_local),
                       "]:546 to [ff02::1:2]:547, xid ",
                       absl::Hex(client_.xid, absl::kZeroPad6), ", client-id ",
                       HexColon(MakeDuidLl(client_.mac)), ", arch ",
                       client_.arch, ", ", client_.vendor_class));
    PXE_RETURN_IF_ERROR(SendTo(client_socket.get(), solicit, kAllDhcp6Agents,
                               kDhcp6ServerPort));

    std::vector<SeenServer6> servers;
    const uint64_t deadline = NowNs() + TimeoutNs();
    PXE_RETURN_IF_ERROR(
        ForEachMessage(client_socket.get(), deadline, [&](SeenServer6 seen) {
          if (seen.type != dhcp6::MessageType::kAdvertise) return false;
          Print(Describe6(seen));
          servers.push_back(std::move(seen));
          bool proxy = false, address_server = false;
          for (const SeenServer6& s : servers) {
            proxy |= s.proxy;
            address_server |= !s.proxy;
          }
          if (config_.expect_none) return proxy;
          return !config_.wait_full && proxy && address_server;
        }));

    std::optional<SeenServer6> reply;
    const SeenServer6* proxy = nullptr;
    for (const SeenServer6& s : servers) {
      if (s.proxy && s.client_id_echoed && !proxy) proxy = &s;
    }
    if (proxy && !client_.http && !config_.no_4011 && !config_.expect_none) {
      PXE_RETURN_IF_ERROR(RequestOn4011(*proxy, &reply));
    }
    return Judge6(config_, client_, servers, reply);
  }

 private:
  absl::Status SendTo(int fd, const ClientRequest6Spec& spec,
                      const Ipv6Address& ip, uint16_t port) {
    std::array<uint8_t, kMaxClientMessage6Size> message;
    const size_t size = BuildClientMessage6(spec, message);
    if (size == 0) return absl::InternalError("the message does not fit");
    const sockaddr_in6 to = SocketAddress(ip, port, ifindex_);
    if (sendto(fd, message.data(), size, 0,
               reinterpret_cast<const sockaddr*>(&to),
               sizeof(to)) != static_cast<ssize_t>(size)) {
      return Errno(absl::StrCat(
          "sending to [", Ipv6Text(ip), "]:", port,
          errno == ENETUNREACH || errno == EHOSTUNREACH
              ? absl::StrCat(" (no route from ", config_.interface,
                             ": a firmware would have an address from the "
                             "DHCPv6 server, or an on-link prefix from a "
                             "router advertisement)")
              : ""));
    }
    return absl::OkStatus();
  }

  // Calls `on_message` for every Advertise or Reply with our xid until
  // `deadline_ns` or until it returns true.
  absl::Status ForEachMessage(
      int fd, uint64_t deadline_ns,
      const std::function<bool(SeenServer6)>& on_message) {
    std::array<uint8_t, 65536> buffer;
    while (true) {
      const uint64_t now = NowNs();
      if (now >= deadline_ns) return absl::OkStatus();
      pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
      const int ready = poll(
          &pfd, 1, static_cast<int>((deadline_ns - now + 999'999) / 1'000'000));
      if (ready < 0 && errno != EINTR) return Errno("poll");
      if (ready <= 0) continue;
      sockaddr_in6 from{};
      socklen_t from_size = sizeof(from);
      const ssize_t n =
          recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&from), &from_size);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Errno("recvfrom");
      }
      ServerMessage6 message;
      if (!ParseServerMessage6(std::span(buffer.data(), size_t(n)), &message) ||
          message.xid != client_.xid) {
        continue;
      }
      Ipv6Address source;
      std::memcpy(source.data(), &from.sin6_addr, 16);
      if (on_message(ToSeenServer6(message, client_, Ipv6Text(source)))) {
        return absl::OkStatus();
      }
    }
  }

  absl::Status RequestOn4011(const SeenServer6& proxy,
                             std::optional<SeenServer6>* reply) {
    const std::optional<Ipv6Address> target = Request6Target(proxy);
    if (!target) {
      return absl::FailedPreconditionError(
          absl::StrCat("the proxy's option 59 \"", *proxy.boot_url,
                       "\" names no tftp://[IPv6]/ server to ask on 4011"));
    }
    PXE_ASSIGN_OR_RETURN(
        UniqueFd socket,
        OpenUdp6(config_.interface, ifindex_, Ipv6Address{}, kPxeServerPort));
    Print(absl::StrCat("request: from port 4011 to [", Ipv6Text(*target),
                       "]:4011, xid ", absl::Hex(client_.xid, absl::kZeroPad6),
                       ", server-id ", HexColon(proxy.server_id), ", no IA"));
    PXE_RETURN_IF_ERROR(SendTo(socket.get(),
                               Request6Spec(client_, proxy.server_id), *target,
                               kPxeServerPort));
    return ForEachMessage(socket.get(), NowNs() + TimeoutNs(),
                          [&](SeenServer6 seen) {
                            if (seen.type != dhcp6::MessageType::kReply) {
                              return false;
                            }
                            Print(Describe6(seen));
                            *reply = std::move(seen);
                            return true;
                          });
  }

  uint64_t TimeoutNs() const {
    return static_cast<uint64_t>(config_.timeout_seconds * 1e9);
  }

  void Print(const std::string& line) const {
    if (config_.quiet) return;
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  const ProbeConfig& config_;
  Probe6Client client_;
  int ifindex_ = 0;
};

}  // namespace
}  // namespace pxe

int main(int argc, char** argv) {
  absl::StatusOr<pxe::ProbeConfig> config = pxe::ParseProbeCommandLine(
      std::span<const char* const>(argv + 1, static_cast<size_t>(argc - 1)));
  if (!config.ok()) {
    std::fprintf(stderr, "pxe-probe: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->action == pxe::ProbeConfig::Action::kHelp) {
    std::fputs(pxe::ProbeUsageText().c_str(), stdout);
    return 0;
  }
  if (config->ipv6) {
    absl::StatusOr<pxe::Probe6Verdict> verdict = pxe::Probe6(*config).Run();
    if (!verdict.ok()) {
      std::fprintf(stderr, "pxe-probe: %s\n",
                   std::string(verdict.status().message()).c_str());
      return 1;
    }
    if (verdict->exit_status != 0) {
      std::fprintf(stderr, "pxe-probe: %s\n", verdict->reason.c_str());
    }
    return verdict->exit_status;
  }
  if (absl::Status status = pxe::Probe(*config).Run(); !status.ok()) {
    std::fprintf(stderr, "pxe-probe: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
