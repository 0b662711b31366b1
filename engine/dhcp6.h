// DHCPv6 (RFC 8415) as a PXE proxy sees it: read-only views of an Ethernet
// frame carrying IPv6/UDP/DHCPv6, an option cursor, and the classification
// of one request, beside the DHCPv4 path (engine/frame.h, engine/request.h).
// Nothing is copied: spans point into the caller's frame, which must outlive
// the view. Boot-related options follow RFC 5970 (59, 60, 61, 62).
#ifndef PXE_ENGINE_DHCP6_H_
#define PXE_ENGINE_DHCP6_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/arch.h"
#include "engine/byte_order.h"
#include "engine/drop_reason.h"
#include "engine/frame.h"
#include "engine/request.h"

namespace pxe {

inline constexpr size_t kIpv6HeaderSize = 40;  // RFC 8200 §3
inline constexpr uint8_t kIpv6NextHeaderFragment = 44;

inline constexpr uint16_t kDhcp6ClientPort = 546;  // RFC 8415 §7.2
inline constexpr uint16_t kDhcp6ServerPort = 547;

namespace dhcp6 {

// RFC 8415 §7.3.
enum class MessageType : uint8_t {
  kNone = 0,
  kSolicit = 1,
  kAdvertise = 2,
  kRequest = 3,
  kConfirm = 4,
  kRenew = 5,
  kRebind = 6,
  kReply = 7,
  kRelease = 8,
  kDecline = 9,
  kReconfigure = 10,
  kInformationRequest = 11,
  kRelayForward = 12,
  kRelayReply = 13,
};

// Option codes (RFC 8415 §21, RFC 5970 §3, RFC 6939).
inline constexpr uint16_t kClientId = 1;
inline constexpr uint16_t kServerId = 2;
inline constexpr uint16_t kIaNa = 3;
inline constexpr uint16_t kIaTa = 4;
inline constexpr uint16_t kRelayMessage = 9;
inline constexpr uint16_t kVendorClass = 16;
inline constexpr uint16_t kInterfaceId = 18;
inline constexpr uint16_t kIaPd = 25;
inline constexpr uint16_t kBootFileUrl = 59;
inline constexpr uint16_t kClientArch = 61;
inline constexpr uint16_t kClientNii = 62;
inline constexpr uint16_t kClientLinkLayerAddress = 79;

// The enterprise number PXE and HTTP boot clients put in option 16 (Intel).
inline constexpr uint32_t kEnterpriseIntel = 343;

// msg-type (1) + transaction-id (3), then options (RFC 8415 §8).
inline constexpr size_t kHeaderSize = 4;
// msg-type, hop-count, link-address, peer-address (RFC 8415 §9).
inline constexpr size_t kRelayHeaderSize = 34;
inline constexpr size_t kOptionHeaderSize = 4;

// DUID types (RFC 8415 §11).
inline constexpr uint16_t kDuidLlt = 1;
inline constexpr uint16_t kDuidLl = 3;
inline constexpr uint16_t kHardwareEthernet = 1;

// Walks the options of one DHCPv6 message (or of an option that holds
// options). Sticky failure: once an option runs past the end, Next() keeps
// returning false and failed() says so.
class OptionCursor {
 public:
  explicit OptionCursor(std::span<const uint8_t> options) : rest_(options) {}

  // The next option, or false at the end (or on a malformed option).
  bool Next(uint16_t* code, std::span<const uint8_t>* value) {
    if (rest_.empty() || failed_) return false;
    if (rest_.size() < kOptionHeaderSize) {
      failed_ = true;
      return false;
    }
    const size_t length = LoadBe16(rest_.data() + 2);
    if (rest_.size() - kOptionHeaderSize < length) {
      failed_ = true;
      return false;
    }
    *code = LoadBe16(rest_.data());
    *value = rest_.subspan(kOptionHeaderSize, length);
    rest_ = rest_.subspan(kOptionHeaderSize + length);
    return true;
  }
  bool failed() const { return failed_; }

 private:
  std::span<const uint8_t> rest_;
  bool failed_ = false;
};

}  // namespace dhcp6

// Headers of one IPv6/UDP frame, checked: lengths, UDP checksum (per
// RxMeta::udp_checksum; over IPv6 a zero checksum is invalid, RFC 8200
// §8.1). UDP must follow the fixed header directly: DHCPv6 clients send no
// extension headers.
struct FrameView6 {
  MacAddress eth_dst{};
  MacAddress eth_src{};
  bool has_vlan = false;
  uint16_t vlan_tci = 0;
  Ipv6Address ip_src{};
  Ipv6Address ip_dst{};
  uint16_t udp_src = 0;
  uint16_t udp_dst = 0;
  std::span<const uint8_t> payload;  // UDP payload, bounded by UDP length

  uint16_t vlan_id() const { return vlan_tci & 0x0FFF; }
};

// Parses `frame` into `out`. kNotIpv4 for a frame that is neither.
DropReason ParseFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                       FrameView6* out);

// Everything the decision and the reply need from a DHCPv6 request.
// ClassifyFrame6() resets it first. Spans point into the frame.
struct Request6 {
  FrameView6 frame;
  dhcp6::MessageType type = dhcp6::MessageType::kNone;  // the client's
  uint32_t xid = 0;                                     // 24 bits
  ClientKind kind = ClientKind::kNotBooting;
  uint16_t arch_code = 0;  // first known code of option 61, else from 16
  ArchInfo arch{ArchClass::kBios, false, false};
  bool arch_known = true;
  std::span<const uint8_t> client_id;     // option 1's value (a DUID)
  std::span<const uint8_t> server_id;     // option 2's value; empty: none
  std::span<const uint8_t> vendor_class;  // option 16's first class data
  bool has_ia = false;                    // IA_NA, IA_TA or IA_PD present
  bool has_undi = false;                  // option 62
  std::array<uint8_t, 3> undi{};
  // The client's MAC: from a DUID-LLT or DUID-LL over Ethernet, else (not
  // relayed) the frame's source, else a relay's option 79; mac_known false
  // when none says.
  MacAddress mac{};
  bool mac_known = false;

  // Set when the message came in a Relay-forward (RFC 8415 §9.1): what the
  // Relay-reply repeats.
  bool relayed = false;
  uint8_t hop_count = 0;
  Ipv6Address link_address{};
  Ipv6Address peer_address{};
  std::span<const uint8_t> interface_id;  // option 18, echoed

  bool on_pxe_port() const { return frame.udp_dst == kPxeServerPort; }
};

// Classifies `frame`: kNone for a message worth deciding on (a Solicit,
// Request or Information-request to 547, directly or in one Relay-forward;
// a Request or Information-request to 4011) from a PXE or HTTP boot client
// (option 16, enterprise 343, "PXEClient" or "HTTPClient"), or the reason
// not. Whether a Request names us as its server is Decide6()'s check.
DropReason ClassifyFrame6(std::span<const uint8_t> frame, const RxMeta& meta,
                          Request6* out);

}  // namespace pxe

#endif  // PXE_ENGINE_DHCP6_H_
