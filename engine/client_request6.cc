#include "engine/client_request6.h"

#include <cassert>
#include <cstring>

#include "engine/checksum.h"
#include "engine/frame_writer.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
constexpr uint16_t kStatusCode = 13;    // RFC 8415 §21.13
constexpr uint16_t kIaAddress = 5;      // RFC 8415 §21.6
constexpr size_t kIaNaHeaderSize = 12;  // IAID, T1, T2 (§21.4)
constexpr size_t kIaTaHeaderSize = 4;   // IAID (§21.5)
constexpr size_t kMaxRequestedOptions = 16;
constexpr size_t kMaxServerIdSize = 130;  // DUID: 2 + at most 128 (§11.1)

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

// Appends options to a buffer whose size was checked beforehand.
class OptionWriter {
 public:
  explicit OptionWriter(uint8_t* at) : at_(at) {}
  void Header(uint16_t code, size_t length) {
    StoreBe16(at_, code);
    StoreBe16(at_ + 2, static_cast<uint16_t>(length));
    at_ += dhcp6::kOptionHeaderSize;
  }
  void Bytes(std::span<const uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(at_, bytes.data(), bytes.size());
    at_ += bytes.size();
  }
  void U8(uint8_t v) { *at_++ = v; }
  void U16(uint16_t v) {
    StoreBe16(at_, v);
    at_ += 2;
  }
  void U32(uint32_t v) {
    StoreBe32(at_, v);
    at_ += 4;
  }
  uint8_t* at() const { return at_; }

 private:
  uint8_t* at_;
};

size_t MessageSize(const ClientRequest6Spec& s) {
  constexpr size_t h = dhcp6::kOptionHeaderSize;
  size_t size = dhcp6::kHeaderSize + h + kDuidLlSize + h + 2;
  if (!s.server_id.empty()) size += h + s.server_id.size();
  if (s.ia_na_iaid) size += h + kIaNaHeaderSize;
  if (!s.option_request.empty()) size += h + 2 * s.option_request.size();
  if (s.nii) size += h + 3;
  size += h + 2;  // option 61
  if (!s.vendor_class.empty()) size += h + 6 + s.vendor_class.size();
  return size;
}

}  // namespace

std::array<uint8_t, kDuidLlSize> MakeDuidLl(const MacAddress& mac) {
  std::array<uint8_t, kDuidLlSize> duid{};
  StoreBe16(duid.data(), dhcp6::kDuidLl);
  StoreBe16(duid.data() + 2, dhcp6::kHardwareEthernet);
  std::memcpy(duid.data() + 4, mac.data(), mac.size());
  return duid;
}

size_t BuildClientMessage6(const ClientRequest6Spec& spec,
                           std::span<uint8_t> out) {
  if (spec.vendor_class.size() > 255 ||
      spec.option_request.size() > kMaxRequestedOptions ||
      spec.server_id.size() > kMaxServerIdSize) {
    return 0;
  }
  const size_t size = MessageSize(spec);
  if (size > out.size()) return 0;
  uint8_t* const start = out.data();
  // RFC 8415 §8: msg-type, then the 24-bit transaction id.
  StoreBe32(start, (uint32_t{static_cast<uint8_t>(spec.type)} << 24) |
                       (spec.xid & 0xFFFFFF));
  OptionWriter w(start + dhcp6::kHeaderSize);
  const std::array<uint8_t, kDuidLlSize> duid = MakeDuidLl(spec.client_mac);
  w.Header(dhcp6::kClientId, duid.size());
  w.Bytes(duid);
  if (!spec.server_id.empty()) {
    w.Header(dhcp6::kServerId, spec.server_id.size());
    w.Bytes(spec.server_id);
  }
  w.Header(dhcp6::kElapsedTime, 2);
  w.U16(spec.elapsed_centiseconds);
  if (spec.ia_na_iaid) {
    // As OVMF: T1 = T2 = infinity, no IAADDR inside.
    w.Header(dhcp6::kIaNa, kIaNaHeaderSize);
    w.U32(*spec.ia_na_iaid);
    w.U32(0xFFFFFFFF);
    w.U32(0xFFFFFFFF);
  }
  if (!spec.option_request.empty()) {
    w.Header(dhcp6::kOptionRequest, 2 * spec.option_request.size());
    for (uint16_t code : spec.option_request) w.U16(code);
  }
  if (spec.nii) {
    w.Header(dhcp6::kClientNii, 3);
    w.U8(1);  // UNDI (RFC 5970 §3.4)
    w.U8((*spec.nii)[0]);
    w.U8((*spec.nii)[1]);
  }
  w.Header(dhcp6::kClientArch, 2);
  w.U16(spec.arch);
  if (!spec.vendor_class.empty()) {
    w.Header(dhcp6::kVendorClass, 6 + spec.vendor_class.size());
    w.U32(dhcp6::kEnterpriseIntel);
    w.U16(static_cast<uint16_t>(spec.vendor_class.size()));
    w.Bytes({reinterpret_cast<const uint8_t*>(spec.vendor_class.data()),
             spec.vendor_class.size()});
  }
  assert(static_cast<size_t>(w.at() - start) == size);
  return size;
}

size_t BuildClientFrame6(const ClientRequest6Spec& spec,
                         std::span<uint8_t> out) {
  const size_t l2 = kEthernetHeaderSize + (spec.vlan_tci ? kVlanTagSize : 0);
  const size_t headers = l2 + kIpv6HeaderSize + kUdpHeaderSize;
  if (out.size() < headers) return 0;
  const size_t message = BuildClientMessage6(spec, out.subspan(headers));
  if (message == 0) return 0;
  const size_t udp_length = kUdpHeaderSize + message;
  WriteEthernetHeader(out.data(), spec.dst_mac, spec.src_mac, spec.vlan_tci,
                      kEtherTypeIpv6);
  uint8_t* udp = WriteIpv6UdpHeaders(
      out.data() + l2, {.src_ip = spec.src_ip,
                        .dst_ip = spec.dst_ip,
                        .src_port = spec.src_port,
                        .dst_port = spec.dst_port,
                        .udp_length = static_cast<uint16_t>(udp_length)});
  uint64_t sum = Udp6PseudoHeaderSum(spec.src_ip, spec.dst_ip,
                                     static_cast<uint32_t>(udp_length));
  uint16_t checksum = ChecksumFinish(ChecksumAdd(sum, {udp, udp_length}));
  if (checksum == 0) checksum = 0xFFFF;  // RFC 8200 §8.1
  StoreBe16(udp + 6, checksum);
  return headers + message;
}

bool ServerMessage6::boot_class() const {
  return has_vendor_class && (StartsWith(vendor_class, kPxeClient) ||
                              StartsWith(vendor_class, kHttpClient));
}

bool ParseServerMessage6(std::span<const uint8_t> message,
                         ServerMessage6* out) {
  ServerMessage6& m = *out;
  m = ServerMessage6{};
  if (message.size() < dhcp6::kHeaderSize) return false;
  const uint32_t head = LoadBe32(message.data());
  m.type = static_cast<dhcp6::MessageType>(head >> 24);
  m.xid = head & 0xFFFFFF;
  if (m.type != dhcp6::MessageType::kAdvertise &&
      m.type != dhcp6::MessageType::kReply) {
    return false;
  }
  dhcp6::OptionCursor cursor(message.subspan(dhcp6::kHeaderSize));
  uint16_t code = 0;
  std::span<const uint8_t> value;
  while (cursor.Next(&code, &value)) {
    switch (code) {
      case dhcp6::kClientId:
        m.client_id = value;
        break;
      case dhcp6::kServerId:
        m.server_id = value;
        break;
      case dhcp6::kIaNa:
      case dhcp6::kIaTa:
      case dhcp6::kIaPd: {
        m.has_ia = true;
        const size_t skip =
            code == dhcp6::kIaTa ? kIaTaHeaderSize : kIaNaHeaderSize;
        if (code == dhcp6::kIaPd || value.size() < skip) break;
        dhcp6::OptionCursor inner(value.subspan(skip));
        uint16_t inner_code = 0;
        std::span<const uint8_t> inner_value;
        while (inner.Next(&inner_code, &inner_value)) {
          if (inner_code == kIaAddress) m.has_address = true;
        }
        break;
      }
      case dhcp6::kVendorClass:
        // The first class data of the Intel (343) option.
        if (value.size() >= 6 &&
            LoadBe32(value.data()) == dhcp6::kEnterpriseIntel) {
          const size_t length = LoadBe16(value.data() + 4);
          if (value.size() - 6 >= length) {
            m.has_vendor_class = true;
            m.vendor_class = value.subspan(6, length);
          }
        }
        break;
      case dhcp6::kBootFileUrl: {
        // EDK2 reads option 59 as a C string: stop at a NUL.
        const void* nul = std::memchr(value.data(), 0, value.size());
        m.boot_url = value.first(
            nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) -
                                      value.data())
                : value.size());
        m.has_boot_url = true;
        break;
      }
      case kStatusCode:
        if (value.size() >= 2) {
          m.has_status = true;
          m.status = LoadBe16(value.data());
        }
        break;
      default:
        break;
    }
  }
  return !cursor.failed();
}

DropReason ParseServerFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                             FrameView6* frame_out, ServerMessage6* out) {
  if (DropReason d = ParseFrame6(frame, meta, frame_out);
      d != DropReason::kNone) {
    return d;
  }
  if (frame_out->payload.size() < dhcp6::kHeaderSize) {
    return DropReason::kDhcp6TooShort;
  }
  if (ParseServerMessage6(frame_out->payload, out)) return DropReason::kNone;
  return out->type == dhcp6::MessageType::kAdvertise ||
                 out->type == dhcp6::MessageType::kReply
             ? DropReason::kBadDhcp6Option
             : DropReason::kUnhandledMessage;
}

}  // namespace pxe
