#include "engine/request.h"

#include <cstring>
#include <string_view>

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";
constexpr std::string_view kHttpClient = "HTTPClient";
constexpr std::string_view kIpxeUserClass = "iPXE";

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

// Option 43 from a client: PXE sub-options; we want 71 (boot item).
std::span<const uint8_t> FindBootItem(std::span<const uint8_t> vendor) {
  size_t i = 0;
  while (i < vendor.size()) {
    const uint8_t code = vendor[i];
    if (code == dhcp::kEnd) break;
    if (code == dhcp::kPad) {
      ++i;
      continue;
    }
    if (vendor.size() - i < 2 || vendor.size() - i - 2 < vendor[i + 1]) break;
    const uint8_t length = vendor[i + 1];
    if (code == dhcp::kPxeBootItem && length == 4) {
      return vendor.subspan(i + 2, 4);
    }
    i += 2 + size_t{length};
  }
  return {};
}

// Where in Request::scratch each option that may come in several instances
// (RFC 3396) is put together; option 82 last, with the rest of the room.
enum class Slot : size_t {
  kVendorClass,
  kUuid,
  kVendor,
  kUserClass,
  kArch,
  kRelayInfo
};
static_assert(static_cast<size_t>(Slot::kRelayInfo) * Request::kScratchSlot +
                  kMaxRelayInfoLength ==
              sizeof(Request::scratch));

std::span<uint8_t> ScratchFor(Request* r, Slot slot) {
  const size_t at = static_cast<size_t>(slot) * Request::kScratchSlot;
  return std::span<uint8_t>(r->scratch)
      .subspan(at, slot == Slot::kRelayInfo ? kMaxRelayInfoLength
                                            : Request::kScratchSlot);
}

void ReadArch(Request* r) {
  const ClientArch arch = ResolveClientArch(
      r->options.Get(dhcp::kClientArch, ScratchFor(r, Slot::kArch)),
      r->vendor_class);
  r->arch_code = arch.code;
  r->arch = arch.info;
  r->arch_known = arch.known;
}

}  // namespace

DropReason ClassifyFrame(std::span<const uint8_t> frame, const RxMeta& meta,
                         Request* out) {
  Request& r = *out;
  static_cast<RequestInfo&>(r) = RequestInfo{};
  if (DropReason d = ParseFrame(frame, meta, &r.frame);
      d != DropReason::kNone) {
    return d;
  }
  const uint16_t port = r.frame.udp_dst;
  if (port != kDhcpServerPort && port != kPxeServerPort &&
      port != kDhcpClientPort) {
    return DropReason::kWrongPort;
  }
  if (DropReason d = BootpView::Parse(r.frame.payload, &r.bootp);
      d != DropReason::kNone) {
    return d;
  }
  if (DropReason d = r.options.Parse(r.bootp); d != DropReason::kNone) {
    return d;
  }
  const BootpView& b = r.bootp;
  r.xid = b.xid();
  r.ciaddr = b.ciaddr();
  r.yiaddr = b.yiaddr();
  r.giaddr = b.giaddr();
  r.broadcast = (b.flags() & bootp::kFlagBroadcast) != 0;
  r.chaddr = b.chaddr();

  std::span<const uint8_t> type = r.options.First(dhcp::kMessageType);
  r.type = type.size() == 1 ? static_cast<dhcp::MessageType>(type[0])
                            : dhcp::MessageType::kNone;
  r.vendor_class =
      r.options.Get(dhcp::kVendorClass, ScratchFor(&r, Slot::kVendorClass));

  if (b.op() == bootp::kOpReply) {
    std::span<const uint8_t> server_id = r.options.First(dhcp::kServerId);
    r.server_id = server_id.size() == 4 ? LoadBe32(server_id.data()) : 0;
    return DropReason::kServerReply;
  }
  if (b.op() != bootp::kOpRequest) return DropReason::kBadOpcode;
  if (r.type == dhcp::MessageType::kNone) return DropReason::kNoMessageType;
  // On 67: DISCOVERs, and boot-server requests (PXE 2.1 broadcast
  // discovery after a menu: a REQUEST with 43.71, for no DHCP server: no
  // option 54 or 50), which the LAN's server does not answer.
  const bool request_type = r.type == dhcp::MessageType::kRequest;
  if (port == kPxeServerPort || (port == kDhcpServerPort && request_type)) {
    r.boot_item = FindBootItem(
        r.options.Get(dhcp::kVendorSpecific, ScratchFor(&r, Slot::kVendor)));
  }
  const bool answered_here =
      port == kDhcpServerPort ? r.type == dhcp::MessageType::kDiscover ||
                                    (request_type && !r.boot_item.empty() &&
                                     !r.options.Has(dhcp::kServerId) &&
                                     !r.options.Has(dhcp::kRequestedAddress))
      : port == kPxeServerPort
          ? (request_type || r.type == dhcp::MessageType::kInform)
          : false;
  if (!answered_here) return DropReason::kUnhandledMessage;

  if (StartsWith(r.vendor_class, kPxeClient)) {
    r.kind = ClientKind::kPxe;
  } else if (StartsWith(r.vendor_class, kHttpClient)) {
    r.kind = ClientKind::kHttp;
  } else {
    return DropReason::kNotBooting;
  }

  ReadArch(&r);
  r.user_class =
      r.options.Get(dhcp::kUserClass, ScratchFor(&r, Slot::kUserClass));
  r.is_ipxe = r.options.Has(dhcp::kIpxeEncap) ||
              (r.user_class.size() == kIpxeUserClass.size() &&
               StartsWith(r.user_class, kIpxeUserClass));
  std::array<uint8_t, 3> undi_parts;
  std::span<const uint8_t> undi = r.options.Get(dhcp::kClientNdi, undi_parts);
  if (undi.size() == 3) {
    r.has_undi = true;
    std::memcpy(r.undi.data(), undi.data(), 3);
  }
  r.uuid_present = r.options.Has(dhcp::kClientUuid);
  std::span<const uint8_t> uuid =
      r.options.Get(dhcp::kClientUuid, ScratchFor(&r, Slot::kUuid));
  // RFC 4578 §2.3: type 0 followed by a 16-byte UUID.
  if (uuid.size() == 17 && uuid[0] == 0) r.uuid = uuid;
  // RFC 3046 §2.2: option 82 goes back whole, however many instances it
  // came in (RFC 3396). One no reply can hold is not answered, rather than
  // answered without it or with it cut.
  if (r.options.TotalLength(dhcp::kRelayAgentInfo) > kMaxRelayInfoLength) {
    return DropReason::kRelayInfoTooLong;
  }
  r.relay_info =
      r.options.Get(dhcp::kRelayAgentInfo, ScratchFor(&r, Slot::kRelayInfo));
  return DropReason::kNone;
}

}  // namespace pxe
