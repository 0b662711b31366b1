#include "engine/client_request.h"

#include <algorithm>
#include <cstring>

#include "engine/bootp.h"
#include "engine/checksum.h"
#include "engine/frame_writer.h"

namespace pxe {
namespace {

constexpr size_t kMaxOptionLength = 255;
constexpr std::string_view kIpxeUserClass = "iPXE";
// Option codes only clients send (RFC 2132 §9.8, §9.10).
constexpr uint8_t kParameterRequestList = 55;
constexpr uint8_t kMaxMessageSize = 57;

// Appends options at a cursor. Lengths were checked before any byte is
// written, so no call here can overrun.
class OptionWriter {
 public:
  explicit OptionWriter(uint8_t* p) : p_(p) {}

  void Header(uint8_t code, size_t length) {
    *p_++ = code;
    *p_++ = static_cast<uint8_t>(length);
  }
  void Bytes(const void* data, size_t n) {
    std::memcpy(p_, data, n);
    p_ += n;
  }
  void Option(uint8_t code, std::span<const uint8_t> value) {
    Header(code, value.size());
    Bytes(value.data(), value.size());
  }
  void Option(uint8_t code, std::string_view text) {
    Header(code, text.size());
    Bytes(text.data(), text.size());
  }
  // RFC 3396: a value longer than 255 bytes as consecutive instances.
  void SplitOption(uint8_t code, std::span<const uint8_t> value) {
    while (!value.empty()) {
      const size_t part = std::min(value.size(), kMaxOptionLength);
      Option(code, value.first(part));
      value = value.subspan(part);
    }
  }
  void U8(uint8_t v) { *p_++ = v; }
  void U16(uint16_t v) {
    StoreBe16(p_, v);
    p_ += 2;
  }

 private:
  uint8_t* p_;
};

// Bytes of the options area, END included; 0 when a value is too long for a
// single option. Firmware never splits an option, but a relay agent splits
// a long option 82 (RFC 3396), so only that one is.
size_t OptionsLength(const ClientRequestSpec& spec) {
  if (spec.arch_codes.size() * 2 > kMaxOptionLength ||
      spec.vendor_class.size() > kMaxOptionLength ||
      spec.parameter_request_list.size() > kMaxOptionLength ||
      spec.user_class.size() > kMaxOptionLength) {
    return 0;
  }
  size_t n = 3 + 1;  // 53, END
  if (spec.max_message_size != 0) n += 2 + 2;
  if (!spec.arch_codes.empty()) n += 2 + 2 * spec.arch_codes.size();
  if (spec.undi) n += 2 + 3;
  if (!spec.vendor_class.empty()) n += 2 + spec.vendor_class.size();
  if (spec.ipxe) n += 2 + kIpxeUserClass.size() + 2 + kIpxeFeatures.size();
  if (!spec.ipxe && !spec.user_class.empty()) n += 2 + spec.user_class.size();
  const size_t relay_parts =
      (spec.relay_agent_info.size() + kMaxOptionLength - 1) / kMaxOptionLength;
  n += 2 * relay_parts + spec.relay_agent_info.size();
  if (!spec.parameter_request_list.empty()) {
    n += 2 + spec.parameter_request_list.size();
  }
  if (spec.uuid) n += 2 + 1 + spec.uuid->size();
  if (spec.boot_item) n += 2 + 2 + spec.boot_item->size() + 1;
  return n;
}

void WriteOptions(const ClientRequestSpec& spec, uint8_t* p) {
  OptionWriter w(p);
  w.Header(dhcp::kMessageType, 1);
  w.U8(static_cast<uint8_t>(spec.type));
  if (spec.max_message_size != 0) {
    w.Header(kMaxMessageSize, 2);
    w.U16(spec.max_message_size);
  }
  if (!spec.arch_codes.empty()) {
    w.Header(dhcp::kClientArch, 2 * spec.arch_codes.size());
    for (uint16_t code : spec.arch_codes) w.U16(code);
  }
  if (spec.undi) {
    // RFC 4578 §2.2: type 1 (UNDI), then major and minor version.
    w.Header(dhcp::kClientNdi, 3);
    w.U8(1);
    w.Bytes(spec.undi->data(), spec.undi->size());
  }
  if (!spec.vendor_class.empty()) {
    w.Option(dhcp::kVendorClass, spec.vendor_class);
  }
  if (spec.ipxe) {
    w.Option(dhcp::kUserClass, kIpxeUserClass);
  } else if (!spec.user_class.empty()) {
    w.Option(dhcp::kUserClass, spec.user_class);
  }
  if (!spec.parameter_request_list.empty()) {
    w.Option(kParameterRequestList, spec.parameter_request_list);
  }
  if (spec.ipxe) w.Option(dhcp::kIpxeEncap, kIpxeFeatures);
  if (spec.uuid) {
    // RFC 4578 §2.3: type 0, then the 16-byte UUID.
    w.Header(dhcp::kClientUuid, 1 + spec.uuid->size());
    w.U8(0);
    w.Bytes(spec.uuid->data(), spec.uuid->size());
  }
  if (spec.boot_item) {
    // PXE 2.1 §2.4: PXE_BOOT_ITEM (71) inside option 43, closed by END.
    w.Header(dhcp::kVendorSpecific, 2 + spec.boot_item->size() + 1);
    w.Option(dhcp::kPxeBootItem, *spec.boot_item);
    w.U8(dhcp::kEnd);
  }
  // RFC 3046 §2.1: the relay agent's option comes last, before END.
  w.SplitOption(dhcp::kRelayAgentInfo, spec.relay_agent_info);
  w.U8(dhcp::kEnd);
}

}  // namespace

size_t BuildClientRequest(const ClientRequestSpec& spec,
                          std::span<uint8_t> out) {
  const size_t options_length = OptionsLength(spec);
  if (options_length == 0) return 0;
  const size_t bootp_length =
      std::max(bootp::kOptions + options_length, bootp::kMinMessageSize);
  const size_t udp_length = kUdpHeaderSize + bootp_length;
  const size_t ip_length = kIpv4MinHeaderSize + udp_length;
  const bool vlan = spec.vlan_tci.has_value();
  const size_t l2_length = kEthernetHeaderSize + (vlan ? kVlanTagSize : 0);
  const size_t frame_length = l2_length + ip_length;
  if (frame_length > out.size() || ip_length > 0xFFFF) return 0;

  uint8_t* frame = out.data();
  std::memset(frame, 0, frame_length);

  // Ethernet, with the 802.1Q tag in the frame when one is asked for.
  const MacAddress& src_mac =
      spec.src_mac == MacAddress{} ? spec.client_mac : spec.src_mac;
  const size_t ip_offset =
      WriteEthernetHeader(frame, spec.dst_mac, src_mac, spec.vlan_tci);
  // IPv4 (RFC 791): TOS 0 as firmware sends.
  uint8_t* udp = WriteIpv4UdpHeaders(
      frame + ip_offset, {.src_ip = spec.src_ip,
                          .dst_ip = spec.dst_ip,
                          .src_port = spec.src_port,
                          .dst_port = spec.dst_port,
                          .udp_length = static_cast<uint16_t>(udp_length),
                          .id = spec.ip_id,
                          .dont_fragment = spec.dont_fragment});

  // BOOTP fixed header (RFC 2131 §2).
  uint8_t* m = udp + kUdpHeaderSize;
  m[bootp::kOp] = bootp::kOpRequest;
  m[bootp::kHtype] = bootp::kHtypeEthernet;
  m[bootp::kHlen] = 6;
  m[bootp::kHops] = spec.hops;
  StoreBe32(m + bootp::kXid, spec.xid);
  StoreBe16(m + bootp::kSecs, spec.secs);
  if (spec.broadcast) StoreBe16(m + bootp::kFlags, bootp::kFlagBroadcast);
  StoreBe32(m + bootp::kCiaddr, spec.ciaddr);
  StoreBe32(m + bootp::kGiaddr, spec.giaddr);
  std::memcpy(m + bootp::kChaddr, spec.client_mac.data(), 6);
  StoreBe32(m + bootp::kCookie, bootp::kMagicCookie);
  WriteOptions(spec, m + bootp::kOptions);

  const uint64_t sum = UdpPseudoHeaderSum(spec.src_ip, spec.dst_ip,
                                          static_cast<uint16_t>(udp_length));
  uint16_t udp_checksum = ChecksumFinish(ChecksumAdd(sum, {udp, udp_length}));
  if (udp_checksum == 0) udp_checksum = 0xFFFF;  // RFC 768: 0 means "none"
  StoreBe16(udp + 6, udp_checksum);
  return frame_length;
}

std::array<char, 32> PxeVendorClass(uint16_t arch, uint8_t undi_major,
                                    uint8_t undi_minor) {
  // PXE 2.1 §2.2: "PXEClient:Arch:xxxxx:UNDI:yyyzzz", all decimal.
  std::array<char, 32> out;
  constexpr std::string_view kText = "PXEClient:Arch:00000:UNDI:000000";
  static_assert(kText.size() == 32);
  std::memcpy(out.data(), kText.data(), kText.size());
  auto put = [&out](size_t end, unsigned value, int digits) {
    for (int i = 1; i <= digits; ++i, value /= 10) {
      out[end - i] = static_cast<char>('0' + value % 10);
    }
  };
  put(20, arch, 5);
  put(29, undi_major, 3);
  put(32, undi_minor, 3);
  return out;
}

}  // namespace pxe
