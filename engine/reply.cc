#include "engine/reply.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "engine/checksum.h"
#include "engine/frame_writer.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
constexpr uint8_t kTosLowDelay = 0xC0;  // what DHCP servers send (CS6)

// Decimal text of 0..255, so writing sname costs four copies per reply.
struct OctetText {
  uint8_t length;
  char text[3];
};
constexpr std::array<OctetText, 256> MakeOctetTexts() {
  std::array<OctetText, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    OctetText& t = table[i];
    if (i >= 100) t.text[t.length++] = static_cast<char>('0' + i / 100);
    if (i >= 10) t.text[t.length++] = static_cast<char>('0' + i / 10 % 10);
    t.text[t.length++] = static_cast<char>('0' + i % 10);
  }
  return table;
}
constexpr std::array<OctetText, 256> kOctetTexts = MakeOctetTexts();

// "10.77.0.1" into `out` (at least 16 bytes); returns the length.
size_t FormatIpv4(uint32_t ip, uint8_t* out) {
  size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const OctetText& t = kOctetTexts[(ip >> shift) & 0xFF];
    std::memcpy(out + n, t.text, 3);  // out has room; extra bytes overwritten
    n += t.length;
    out[n++] = '.';
  }
  out[--n] = 0;  // the last '.' becomes the terminator
  return n;
}

constexpr std::string_view kRaspberryPiBoot = "Raspberry Pi Boot";

// Discovery control (PXE 2.1 43.6) with a menu: no broadcast and no
// multicast discovery; ask the boot servers listed in 43.8 on 4011.
constexpr uint8_t kDiscoveryUnicastOnly = 0x03;
// Bit 3: boot the file named in this offer, no boot server discovery.
constexpr uint8_t kDiscoveryBootFile = 0x08;

// Writes the body of option 43 (PXE 2.1 vendor sub-options, RFC 2132 §8.4)
// into `out` (256 bytes); returns its length, 0 for no option 43.
size_t WriteVendorOptions(const ReplyPlan& plan, uint8_t* out) {
  uint8_t* p = out;
  auto sub = [&](uint8_t code, size_t length) {
    *p++ = code;
    *p++ = static_cast<uint8_t>(length);
  };
  if (plan.discovery_control) {
    sub(dhcp::kPxeDiscoveryControl, 1);
    *p++ = kDiscoveryBootFile;
  } else if (plan.menu != nullptr) {
    const std::vector<MenuItem>& items = plan.menu->items;
    sub(dhcp::kPxeDiscoveryControl, 1);
    *p++ = kDiscoveryUnicastOnly;
    // 43.8: each network item's boot server (type, 1 address: us).
    size_t servers = 0;
    for (const MenuItem& i : items) servers += i.type != 0 ? 7 : 0;
    if (servers != 0) {
      sub(dhcp::kPxeBootServers, servers);
      for (const MenuItem& i : items) {
        if (i.type == 0) continue;
        StoreBe16(p, i.type);
        p[2] = 1;
        StoreBe32(p + 3, plan.server_address);
        p += 7;
      }
    }
    // 43.9: the items (type, label length, label), in menu order.
    size_t menu_length = 0;
    for (const MenuItem& i : items) menu_length += 3 + i.label.size();
    sub(dhcp::kPxeBootMenu, menu_length);
    for (const MenuItem& i : items) {
      StoreBe16(p, i.type);
      p[2] = static_cast<uint8_t>(i.label.size());
      std::memcpy(p + 3, i.label.data(), i.label.size());
      p += 3 + i.label.size();
    }
    // 43.10: timeout, then the prompt.
    sub(dhcp::kPxeMenuPrompt, 1 + plan.menu->prompt.size());
    *p++ = plan.menu->timeout_s;
    std::memcpy(p, plan.menu->prompt.data(), plan.menu->prompt.size());
    p += plan.menu->prompt.size();
  } else if (plan.raspberry_pi) {
    // What the Pi bootloader looks for, as dnsmasq's
    // pxe-service=0,"Raspberry Pi Boot" writes it.
    sub(dhcp::kPxeDiscoveryControl, 1);
    *p++ = kDiscoveryUnicastOnly;
    sub(dhcp::kPxeMenuPrompt, 4);
    *p++ = 0;
    std::memcpy(p, "PXE", 3);
    p += 3;
    sub(dhcp::kPxeBootMenu, 3 + kRaspberryPiBoot.size());
    StoreBe16(p, 0);
    p[2] = static_cast<uint8_t>(kRaspberryPiBoot.size());
    std::memcpy(p + 3, kRaspberryPiBoot.data(), kRaspberryPiBoot.size());
    p += 3 + kRaspberryPiBoot.size();
  }
  if (!plan.boot_item.empty()) {
    sub(dhcp::kPxeBootItem, plan.boot_item.size());
    std::memcpy(p, plan.boot_item.data(), plan.boot_item.size());
    p += plan.boot_item.size();
  }
  if (p == out) return 0;
  *p++ = dhcp::kEnd;
  return static_cast<size_t>(p - out);
}

// Option 82 may exceed 255 bytes after RFC 3396 concatenation: split again
// into 255-byte instances.
constexpr size_t SplitOptionLength(size_t value_length) {
  return value_length + 2 * ((value_length + 254) / 255);
}

static_assert(kMaxReplyFrameSize ==
              kEthernetHeaderSize + kVlanTagSize + kMaxReplyIpLength);
// kMaxRelayInfoLength is the longest option 82 the smallest reply holds (53,
// 54, 60 "PXEClient", END): a longer one never fits.
constexpr size_t kSmallestReplyOptions = 3 + 6 + 2 + kPxeClient.size() + 1;
constexpr size_t kMaxReplyOptions =
    kMaxReplyIpLength - kIpv4MinHeaderSize - kUdpHeaderSize - bootp::kOptions;
static_assert(SplitOptionLength(kMaxRelayInfoLength) + kSmallestReplyOptions <=
                  kMaxReplyOptions &&
              SplitOptionLength(kMaxRelayInfoLength + 1) +
                      kSmallestReplyOptions >
                  kMaxReplyOptions);

class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  void U8(uint8_t v) { *p_++ = v; }
  void U32(uint32_t v) {
    StoreBe32(p_, v);
    p_ += 4;
  }
  void Bytes(const void* data, size_t n) {
    if (n == 0) return;  // data may be null: memcpy's contract forbids it
    std::memcpy(p_, data, n);
    p_ += n;
  }
  void Option(uint8_t code, std::span<const uint8_t> value) {
    do {
      const size_t chunk = std::min<size_t>(value.size(), 255);
      U8(code);
      U8(static_cast<uint8_t>(chunk));
      Bytes(value.data(), chunk);
      value = value.subspan(chunk);
    } while (!value.empty());
  }
  void Option(uint8_t code, std::string_view text) {
    Option(code, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }
  const uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

}  // namespace

size_t CraftReply(const Request& request, const ReplyPlan& plan,
                  const ServerContext& context, std::span<uint8_t> out,
                  DropReason* why) {
  const bool vlan = request.frame.has_vlan;
  const std::string_view vendor_class = plan.http ? kHttpClient : kPxeClient;
  std::array<uint8_t, 256> vendor;
  const size_t vendor_length = WriteVendorOptions(plan, vendor.data());
  std::array<uint8_t, 16> tftp_text;
  size_t tftp_text_length = 0;
  // An extra option 66 from the policy replaces the Pi profile's own.
  if (plan.raspberry_pi &&
      !(plan.answer != nullptr && plan.answer->has_option66)) {
    tftp_text_length = FormatIpv4(plan.tftp_server, tftp_text.data());
  }
  const std::span<const uint8_t> extra =
      plan.answer != nullptr
          ? std::span<const uint8_t>(plan.answer->extra_options)
          : std::span<const uint8_t>();
  const bool own_option67 =
      plan.file_in_option67 &&
      !(plan.answer != nullptr && plan.answer->has_option67);

  size_t options_length = 3 + 6 + 2 + vendor_class.size() + 1;  // 53 54 60 END
  if (!request.uuid.empty()) options_length += 2 + request.uuid.size();
  if (vendor_length != 0) options_length += 2 + vendor_length;
  if (tftp_text_length != 0) options_length += 2 + tftp_text_length;
  if (own_option67) options_length += 2 + plan.file.size();
  options_length += extra.size();
  const size_t relay_length =
      request.relay_info.empty() ? 0
                                 : SplitOptionLength(request.relay_info.size());
  options_length += relay_length;
  const size_t bootp_length =
      std::max(bootp::kOptions + options_length, bootp::kMinMessageSize);
  const size_t udp_length = kUdpHeaderSize + bootp_length;
  const size_t ip_length = kIpv4MinHeaderSize + udp_length;
  const size_t l2_length = kEthernetHeaderSize + (vlan ? kVlanTagSize : 0);
  const size_t frame_length = l2_length + ip_length;
  // The policy's limits keep every reply without option 82 in one datagram;
  // the relay's option is echoed whole or not at all (RFC 3046 §2.2).
  if (ip_length > kMaxReplyIpLength) {
    if (why != nullptr) {
      *why = ip_length - relay_length <= kMaxReplyIpLength
                 ? DropReason::kRelayInfoTooLong
                 : DropReason::kReplyBufferTooSmall;
    }
    return 0;
  }
  if (frame_length > out.size()) {
    if (why != nullptr) *why = DropReason::kReplyBufferTooSmall;
    return 0;
  }

  uint8_t* frame = out.data();
  std::memset(frame, 0, frame_length);

  // Ethernet, with the request's 802.1Q tag kept.
  const size_t ip_offset = WriteEthernetHeader(
      frame, plan.dst_mac, context.mac,
      vlan ? std::optional<uint16_t>(request.frame.vlan_tci) : std::nullopt);
  // The IPv4 id only has to vary between datagrams.
  uint8_t* udp = WriteIpv4UdpHeaders(
      frame + ip_offset,
      {.src_ip = plan.server_address,
       .dst_ip = plan.dst_ip,
       .src_port = plan.src_port,
       .dst_port = plan.dst_port,
       .udp_length = static_cast<uint16_t>(udp_length),
       .tos = kTosLowDelay,
       .id = static_cast<uint16_t>(request.xid ^ (request.xid >> 16))});

  // BOOTP fixed header (RFC 2131 §2).
  uint8_t* m = udp + kUdpHeaderSize;
  const bool offer = plan.type == dhcp::MessageType::kOffer;
  m[bootp::kOp] = bootp::kOpReply;
  m[bootp::kHtype] = request.bootp.htype();
  m[bootp::kHlen] = request.bootp.hlen();
  StoreBe32(m + bootp::kXid, request.xid);
  // Every offer is broadcast-flagged, relayed ones too: yiaddr is 0, so a
  // relay must not unicast it (RFC 2131 §4.1).
  if (offer) StoreBe16(m + bootp::kFlags, bootp::kFlagBroadcast);
  if (!offer) {
    // An ACK may echo the client's own address, never any other; the ACK
    // to an INFORM has yiaddr 0 (RFC 2131 §4.3.5, table 3).
    StoreBe32(m + bootp::kCiaddr, request.ciaddr);
    if (request.type != dhcp::MessageType::kInform) {
      StoreBe32(m + bootp::kYiaddr, request.ciaddr);
    }
  }
  StoreBe32(m + bootp::kSiaddr, plan.siaddr);
  StoreBe32(m + bootp::kGiaddr, request.giaddr);
  std::memcpy(m + bootp::kChaddr, request.bootp.chaddr_field(),
              bootp::kChaddrSize);
  size_t sname_length = 0;
  if (plan.tftp_server != 0) {
    sname_length = FormatIpv4(plan.tftp_server, m + bootp::kSname);
  }
  size_t file_length = 0;
  if (!plan.file_in_option67 && !plan.file.empty()) {
    file_length = plan.file.size();
    std::memcpy(m + bootp::kFile, plan.file.data(), file_length);
  }
  StoreBe32(m + bootp::kCookie, bootp::kMagicCookie);

  // Options: 53 54 60 97 43 (66 67 extras), then 82 last (RFC 3046 §2.1),
  // then END.
  Writer w(m + bootp::kOptions);
  w.U8(dhcp::kMessageType);
  w.U8(1);
  w.U8(static_cast<uint8_t>(plan.type));
  w.U8(dhcp::kServerId);
  w.U8(4);
  w.U32(plan.server_address);
  w.Option(dhcp::kVendorClass, vendor_class);
  if (!request.uuid.empty()) w.Option(dhcp::kClientUuid, request.uuid);
  if (vendor_length != 0) {
    w.Option(dhcp::kVendorSpecific, {vendor.data(), vendor_length});
  }
  if (tftp_text_length != 0) {
    w.Option(dhcp::kTftpServerName, {tftp_text.data(), tftp_text_length});
  }
  if (own_option67) w.Option(dhcp::kBootFileName, plan.file);
  w.Bytes(extra.data(), extra.size());
  if (!request.relay_info.empty()) {
    w.Option(dhcp::kRelayAgentInfo, request.relay_info);
  }
  w.U8(dhcp::kEnd);

  // The UDP checksum over what was written: the zeros between the pieces
  // (unused chaddr, sname and file bytes, the padding) add nothing. Every
  // piece starts at an even offset from the UDP header.
  static_assert((kUdpHeaderSize + bootp::kSname) % 2 == 0 &&
                (kUdpHeaderSize + bootp::kFile) % 2 == 0 &&
                (kUdpHeaderSize + bootp::kCookie) % 2 == 0);
  uint64_t sum = UdpPseudoHeaderSum(plan.server_address, plan.dst_ip,
                                    static_cast<uint16_t>(udp_length));
  sum = ChecksumAdd(sum, {udp, kUdpHeaderSize + bootp::kSname});
  sum = ChecksumAdd(sum, {m + bootp::kSname, sname_length});
  sum = ChecksumAdd(sum, {m + bootp::kFile, file_length});
  sum = ChecksumAdd(sum,
                    {m + bootp::kCookie,
                     static_cast<size_t>(w.position() - (m + bootp::kCookie))});
  uint16_t udp_checksum = ChecksumFinish(sum);
  if (udp_checksum == 0) udp_checksum = 0xFFFF;  // RFC 768: 0 means "none"
  StoreBe16(udp + 6, udp_checksum);
  return frame_length;
}

DropReason Respond(std::span<const uint8_t> frame, const RxMeta& meta,
                   const PolicySnapshot& policy, const ServerContext& context,
                   Request* request, std::span<uint8_t> out,
                   size_t* reply_size) {
  *reply_size = 0;
  if (DropReason d = ClassifyFrame(frame, meta, request);
      d != DropReason::kNone) {
    return d;
  }
  ReplyPlan plan;
  if (DropReason d = Decide(*request, policy, context, &plan);
      d != DropReason::kNone) {
    return d;
  }
  DropReason why = DropReason::kNone;
  *reply_size = CraftReply(*request, plan, context, out, &why);
  return *reply_size == 0 ? why : DropReason::kNone;
}

}  // namespace pxe
