#include "engine/reply6.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "engine/checksum.h"
#include "engine/frame_writer.h"
#include "engine/reply.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
constexpr std::string_view kTftpScheme = "tftp://[";

bool IsMulticast(const Ipv6Address& ip) { return ip[0] == 0xFF; }
bool IsLinkLocal(const Ipv6Address& ip) {
  return ip[0] == 0xFE && (ip[1] & 0xC0) == 0x80;
}
bool IsUnspecifiedOrLoopback(const Ipv6Address& ip) {
  for (size_t i = 0; i < 15; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[15] <= 1;
}

bool IsOurs(const ServerContext6& context, const Ipv6Address& ip) {
  for (const Ipv6InterfaceAddress& a : context.addresses) {
    if (a.address == ip) return true;
  }
  return false;
}

const Ipv6InterfaceAddress* LinkLocal(const ServerContext6& context) {
  for (const Ipv6InterfaceAddress& a : context.addresses) {
    if (a.link_local()) return &a;
  }
  return nullptr;
}

const Ipv6InterfaceAddress* FirstGlobal(const ServerContext6& context) {
  for (const Ipv6InterfaceAddress& a : context.addresses) {
    if (!a.link_local()) return &a;
  }
  return nullptr;
}

// Our address on the prefix of `ip` (a global one; a link-local `ip` gets
// our link-local address), or null.
const Ipv6InterfaceAddress* OnLinkWith(const ServerContext6& context,
                                       const Ipv6Address& ip) {
  if (IsLinkLocal(ip)) return LinkLocal(context);
  for (const Ipv6InterfaceAddress& a : context.addresses) {
    if (!a.link_local() && a.Contains(ip)) return &a;
  }
  return nullptr;
}

// X in a PXE Advertise's "tftp://[X]/file": where the client sends its 4011
// Request. A global address (the client reaches it once a router
// advertisement gives the prefix as on-link), else the link-local one.
const Ipv6InterfaceAddress* BootHost(const ServerContext6& context) {
  const Ipv6InterfaceAddress* global = FirstGlobal(context);
  return global != nullptr ? global : LinkLocal(context);
}

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Where the reply goes: to the client on this link, from our link-local
// address (a Solicit or Information-request on 547) or from the address it
// asked (4011); to the relay for a relayed request. pxe-pdhcp writes whole
// frames past the host's UDP stack and firewall: a crafted request must not
// steer a reply anywhere else.
DropReason Route6(const Request6& request, const ServerContext6& context,
                  ReplyPlan6* plan) {
  const FrameView6& f = request.frame;
  if (f.eth_src[0] & 1) return DropReason::kGroupSourceMac;
  plan->dst_mac = f.eth_src;
  plan->dst_ip = f.ip_src;
  if (IsUnspecifiedOrLoopback(f.ip_src)) return DropReason::kNoClientAddress;
  if (IsMulticast(f.ip_src) || IsOurs(context, f.ip_src)) {
    return request.relayed ? DropReason::kBadRelayAddress
                           : DropReason::kBadReplyTarget;
  }
  const Ipv6InterfaceAddress* src = nullptr;
  if (request.relayed) {
    // RFC 8415 §19.3: the Relay-reply goes to the relay, on 547.
    src = OnLinkWith(context, f.ip_src);
    if (src == nullptr) src = FirstGlobal(context);
    plan->src_port = kDhcp6ServerPort;
    plan->dst_port = kDhcp6ServerPort;
  } else if (request.on_pxe_port()) {
    // EDK2 sends from 4011 and listens there (PXEBC_BS_DISCOVER_PORT).
    if (f.udp_src != kPxeServerPort && f.udp_src != kDhcp6ClientPort) {
      return DropReason::kBadClientPort;
    }
    for (const Ipv6InterfaceAddress& a : context.addresses) {
      if (a.address == f.ip_dst) src = &a;
    }
    if (src == nullptr) src = OnLinkWith(context, f.ip_src);
    if (src == nullptr) return DropReason::kOffLinkRequest;
    plan->src_port = kPxeServerPort;
    plan->dst_port = f.udp_src;
  } else {
    if (f.udp_src != kDhcp6ClientPort) return DropReason::kBadClientPort;
    // RFC 8415 §18.3: servers answer from where the client can reach them;
    // a client without an address of its own yet only has its link-local.
    if (!IsLinkLocal(f.ip_src) && OnLinkWith(context, f.ip_src) == nullptr) {
      return DropReason::kOffLinkRequest;
    }
    src = IsLinkLocal(f.ip_src) ? LinkLocal(context)
                                : OnLinkWith(context, f.ip_src);
    plan->src_port = kDhcp6ServerPort;
    plan->dst_port = kDhcp6ClientPort;
  }
  if (src == nullptr) return DropReason::kNoServerAddress;
  plan->src_ip = src->address;
  return DropReason::kNone;
}

// Writes `url` as option 59 text: "tftp://[host]/file".
size_t TftpUrl(const Ipv6Address& host, std::string_view file, char* out) {
  std::memcpy(out, kTftpScheme.data(), kTftpScheme.size());
  size_t n = kTftpScheme.size();
  n += FormatIpv6(host, out + n);
  out[n++] = ']';
  out[n++] = '/';
  std::memcpy(out + n, file.data(), file.size());
  return n + file.size();
}

// Room for "tftp://[" + 39 + "]/" + a boot file (kMaxBootFileLength), or an
// HTTP URL (kMaxUrlLength) and its NUL.
constexpr size_t kMaxUrlText = 320;
static_assert(8 + 39 + 2 + kMaxBootFileLength <= kMaxUrlText &&
              kMaxUrlLength + 1 <= kMaxUrlText);

class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  void U8(uint8_t v) { *p_++ = v; }
  void U16(uint16_t v) {
    StoreBe16(p_, v);
    p_ += 2;
  }
  void U32(uint32_t v) {
    StoreBe32(p_, v);
    p_ += 4;
  }
  void Bytes(const void* data, size_t n) {
    if (n == 0) return;
    std::memcpy(p_, data, n);
    p_ += n;
  }
  void Option(uint16_t code, std::span<const uint8_t> value) {
    U16(code);
    U16(static_cast<uint16_t>(value.size()));
    Bytes(value.data(), value.size());
  }
  uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

}  // namespace

ServerDuid MakeServerDuid(const MacAddress& mac) {
  ServerDuid duid{};
  StoreBe16(duid.data(), dhcp6::kDuidLl);
  StoreBe16(duid.data() + 2, dhcp6::kHardwareEthernet);
  std::memcpy(duid.data() + 4, mac.data(), mac.size());
  return duid;
}

size_t FormatIpv6(const Ipv6Address& address, char* out) {
  uint16_t groups[8];
  for (size_t i = 0; i < 8; ++i) groups[i] = LoadBe16(address.data() + 2 * i);
  // RFC 5952 §4.2: the longest run of two or more zero groups (the first
  // of equal ones) becomes "::".
  int best = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_length && j - i >= 2) {
      best = i;
      best_length = j - i;
    }
    i = j;
  }
  constexpr char kHex[] = "0123456789abcdef";
  size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out[n++] = ':';
      out[n++] = ':';
      i += best_length - 1;
      continue;
    }
    if (i != 0 && i != best + best_length) out[n++] = ':';
    const uint16_t g = groups[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned digit = (g >> shift) & 0xF;
      if (digit != 0 || started || shift == 0) {
        out[n++] = kHex[digit];
        started = true;
      }
    }
  }
  return n;
}

ClientFacts FactsOf6(const Request6& request, std::string_view interface) {
  return ClientFacts{
      .mac = request.mac,
      .subnet_address = 0,
      .arch = request.arch.arch_class,
      .vendor_class = request.vendor_class,
      .interface = interface,
      .vlan = request.frame.has_vlan ? request.frame.vlan_id()
                                     : RuleMatch::kUntagged,
  };
}

DropReason Decide6(const Request6& request, const ResolvedAnswer& answer,
                   const ServerContext6& context, ReplyPlan6* plan) {
  using MT = dhcp6::MessageType;
  if (answer.ignore) return DropReason::kIgnoredByRule;
  if (!request.arch_known) return DropReason::kUnknownArch;
  // A Request names the server it asks (RFC 8415 §16.4): the LAN's DHCPv6
  // server's are not ours to answer. An Information-request may name none.
  const ServerDuid duid = MakeServerDuid(context.mac);
  const bool ours = SameBytes(request.server_id, duid);
  if (request.type == MT::kRequest && !ours) {
    return DropReason::kNotOurServerId;
  }
  if (request.type == MT::kInformationRequest && !request.server_id.empty() &&
      !ours) {
    return DropReason::kNotOurServerId;
  }
  if (request.type == MT::kRequest && request.has_ia) {
    return DropReason::kAddressRequested;
  }
  *plan = ReplyPlan6{};
  plan->answer = &answer;
  plan->type = request.type == MT::kSolicit ? MT::kAdvertise : MT::kReply;
  const size_t arch = static_cast<size_t>(request.arch.arch_class);
  if (request.kind == ClientKind::kHttp || request.arch.http) {
    plan->file = answer.http_url6[arch];
    if (plan->file.empty()) return DropReason::kNoBootFile;
    plan->http = true;
  } else {
    plan->file = answer.pxe_file[arch];
    if (plan->file.empty()) return DropReason::kNoBootFile;
  }
  if (DropReason d = Route6(request, context, plan); d != DropReason::kNone) {
    return d;
  }
  if (!plan->http) {
    if (plan->type == MT::kAdvertise) {
      // The client asks us again on 4011, at X.
      const Ipv6InterfaceAddress* x =
          request.relayed ? FirstGlobal(context) : BootHost(context);
      if (x == nullptr) return DropReason::kNoServerAddress;
      plan->boot_host = x->address;
    } else if (answer.tftp_server6 != Ipv6Address{}) {
      plan->boot_host = answer.tftp_server6;
    } else {
      // The answering address when the client reaches it beyond this link's
      // scope, else X.
      const Ipv6InterfaceAddress* x = BootHost(context);
      plan->boot_host = !IsLinkLocal(plan->src_ip) || x == nullptr
                            ? plan->src_ip
                            : x->address;
    }
  }
  return DropReason::kNone;
}

size_t CraftReply6(const Request6& request, const ReplyPlan6& plan,
                   const ServerContext6& context, std::span<uint8_t> out,
                   DropReason* why) {
  const bool vlan = request.frame.has_vlan;
  const std::string_view vendor_class = plan.http ? kHttpClient : kPxeClient;
  const ServerDuid duid = MakeServerDuid(context.mac);
  std::array<char, kMaxUrlText> url;
  size_t url_length;
  if (plan.http) {
    url_length = std::min(plan.file.size(), kMaxUrlLength);
    std::memcpy(url.data(), plan.file.data(), url_length);
    // EDK2's HTTP boot takes option 59 with AsciiStrLen(): end it.
    url[url_length++] = '\0';
  } else {
    url_length = TftpUrl(plan.boot_host,
                         plan.file.substr(0, kMaxBootFileLength), url.data());
  }

  // Lengths first: the client's message, then the relay's around it.
  const size_t vendor_option_length = 4 + 2 + vendor_class.size();
  const size_t message_length =
      dhcp6::kHeaderSize + dhcp6::kOptionHeaderSize + request.client_id.size() +
      dhcp6::kOptionHeaderSize + duid.size() + dhcp6::kOptionHeaderSize +
      vendor_option_length + dhcp6::kOptionHeaderSize + url_length;
  size_t dhcp_length = message_length;
  if (request.relayed) {
    dhcp_length += dhcp6::kRelayHeaderSize + dhcp6::kOptionHeaderSize;
    if (!request.interface_id.empty()) {
      dhcp_length += dhcp6::kOptionHeaderSize + request.interface_id.size();
    }
  }
  const size_t udp_length = kUdpHeaderSize + dhcp_length;
  const size_t l2_length = kEthernetHeaderSize + (vlan ? kVlanTagSize : 0);
  const size_t frame_length = l2_length + kIpv6HeaderSize + udp_length;
  if (frame_length > out.size() || frame_length > kMaxReplyFrameSize) {
    if (why != nullptr) *why = DropReason::kReplyBufferTooSmall;
    return 0;
  }

  uint8_t* frame = out.data();
  const size_t ip_offset = WriteEthernetHeader(
      frame, plan.dst_mac, context.mac,
      vlan ? std::optional<uint16_t>(request.frame.vlan_tci) : std::nullopt,
      kEtherTypeIpv6);
  uint8_t* udp = WriteIpv6UdpHeaders(
      frame + ip_offset, {.src_ip = plan.src_ip,
                          .dst_ip = plan.dst_ip,
                          .src_port = plan.src_port,
                          .dst_port = plan.dst_port,
                          .udp_length = static_cast<uint16_t>(udp_length)});
  Writer w(udp + kUdpHeaderSize);
  if (request.relayed) {
    // RFC 8415 §9.2: hop count, link and peer addresses copied; the
    // Interface-ID echoed; the reply in a Relay Message option.
    w.U8(static_cast<uint8_t>(dhcp6::MessageType::kRelayReply));
    w.U8(request.hop_count);
    w.Bytes(request.link_address.data(), 16);
    w.Bytes(request.peer_address.data(), 16);
    if (!request.interface_id.empty()) {
      w.Option(dhcp6::kInterfaceId, request.interface_id);
    }
    w.U16(dhcp6::kRelayMessage);
    w.U16(static_cast<uint16_t>(message_length));
  }
  // The message: the client's transaction id; no IA of any kind.
  w.U8(static_cast<uint8_t>(plan.type));
  w.U8(static_cast<uint8_t>(request.xid >> 16));
  w.U8(static_cast<uint8_t>(request.xid >> 8));
  w.U8(static_cast<uint8_t>(request.xid));
  w.Option(dhcp6::kClientId, request.client_id);
  w.Option(dhcp6::kServerId, duid);
  w.U16(dhcp6::kVendorClass);
  w.U16(static_cast<uint16_t>(vendor_option_length));
  w.U32(dhcp6::kEnterpriseIntel);
  w.U16(static_cast<uint16_t>(vendor_class.size()));
  w.Bytes(vendor_class.data(), vendor_class.size());
  // Last, so the NUL of an HTTP URL also ends the message.
  w.Option(dhcp6::kBootFileUrl,
           {reinterpret_cast<const uint8_t*>(url.data()), url_length});
  assert(static_cast<size_t>(w.position() - udp) == udp_length);

  uint64_t sum = Udp6PseudoHeaderSum(plan.src_ip, plan.dst_ip,
                                     static_cast<uint32_t>(udp_length));
  sum = ChecksumAdd(sum, {udp, udp_length});
  uint16_t checksum = ChecksumFinish(sum);
  if (checksum == 0) checksum = 0xFFFF;  // RFC 8200 §8.1: 0 is not allowed
  StoreBe16(udp + 6, checksum);
  return frame_length;
}

DropReason Respond6(std::span<const uint8_t> frame, const RxMeta& meta,
                    const PolicySnapshot& policy, const ServerContext6& context,
                    Request6* request, std::span<uint8_t> out,
                    size_t* reply_size) {
  *reply_size = 0;
  if (DropReason d = ClassifyFrame6(frame, meta, request);
      d != DropReason::kNone) {
    return d;
  }
  const ResolvedAnswer& answer =
      policy.AnswerFor(FactsOf6(*request, context.interface_name));
  ReplyPlan6 plan;
  if (DropReason d = Decide6(*request, answer, context, &plan);
      d != DropReason::kNone) {
    return d;
  }
  DropReason why = DropReason::kNone;
  *reply_size = CraftReply6(*request, plan, context, out, &why);
  return *reply_size == 0 ? why : DropReason::kNone;
}

}  // namespace pxe
