// Classification of one received frame: what kind of DHCP message it is, who
// sent it, and what the client needs to boot. The second stage of the packet
// path: ClassifyFrame() runs ParseFrame(), BootpView::Parse() and the option
// index, then reads the fields the decision needs.
#ifndef PXE_ENGINE_REQUEST_H_
#define PXE_ENGINE_REQUEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/arch.h"
#include "engine/bootp.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/frame.h"

namespace pxe {

// The longest option 82 (relay agent information) a reply can echo, and so
// the longest a request may bring (RFC 3046 §2.2: the server copies it back;
// RFC 3396: a value over 255 bytes travels as consecutive instances). A reply
// is one IPv4 datagram of at most 1500 bytes: after the IPv4, UDP and BOOTP
// headers and the cookie, 1232 bytes of options, of which 53, 54, 60
// "PXEClient" and END take 21; 1201 bytes in five instances (2 header bytes
// each) fill the other 1211. A longer one: DropReason::kRelayInfoTooLong.
inline constexpr size_t kMaxRelayInfoLength = 1201;

enum class ClientKind : uint8_t {
  kNotBooting,  // option 60 absent or not a boot client: never answered
  kPxe,         // option 60 starts with "PXEClient"
  kHttp,        // option 60 starts with "HTTPClient" (UEFI HTTP boot)
};

// Everything the decision and the reply need from a request, as plain
// copyable data. ClassifyFrame() resets all of it first, so nothing from a
// previous frame survives into the next (Request objects are reused).
struct RequestInfo {
  FrameView frame;
  BootpView bootp;

  dhcp::MessageType type = dhcp::MessageType::kNone;
  ClientKind kind = ClientKind::kNotBooting;
  uint16_t arch_code = 0;  // first known code of option 93, else from 60
  ArchInfo arch{ArchClass::kBios, false, false};
  bool arch_known = true;  // false: option 93 listed only unknown codes
  bool is_ipxe = false;    // option 77 "iPXE" or option 175 present
  bool has_undi = false;   // option 94 (client network device interface)
  std::array<uint8_t, 3> undi{};
  std::span<const uint8_t> uuid;          // option 97 if well formed (17 bytes)
  bool uuid_present = false;              // option 97 present, valid or not
  std::span<const uint8_t> boot_item;     // option 43.71 value (4 bytes) if any
  std::span<const uint8_t> relay_info;    // option 82 whole, echoed
  std::span<const uint8_t> vendor_class;  // option 60
  std::span<const uint8_t> user_class;    // option 77

  // Convenience copies of BOOTP fields.
  uint32_t xid = 0;
  uint32_t ciaddr = 0;
  uint32_t yiaddr = 0;  // a server reply's offered address
  uint32_t giaddr = 0;
  bool broadcast = false;  // BOOTP broadcast flag
  MacAddress chaddr{};
  uint32_t server_id = 0;  // option 54, a server reply's identity

  bool relayed() const { return giaddr != 0; }
  bool on_pxe_port() const { return frame.udp_dst == kPxeServerPort; }
};

// A classified request with its option index and scratch. Spans point into
// the frame or into this object's scratch (RFC 3396 concatenations), so a
// Request is neither copied nor moved, and lives no longer than the frame.
struct Request : RequestInfo {
  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  OptionIndex options;
  // Room for concatenated options: up to kScratchSlot bytes each of 60, 77,
  // 93, 97 and 43 (more would be unusual: longer concatenations are treated
  // as absent), then option 82 up to kMaxRelayInfoLength.
  static constexpr size_t kScratchSlot = 256;
  std::array<uint8_t, 5 * kScratchSlot + kMaxRelayInfoLength> scratch;
};

// Classifies `frame`. Returns kNone for a request worth deciding on (a
// DISCOVER on 67, a REQUEST or INFORM on 4011, from a booting client), or the
// reason it is not. kServerReply means a well-formed BOOTREPLY to port 68:
// `out` then describes it (yiaddr, server_id, chaddr, vendor_class), which is
// how a caller learns what the LAN's DHCP server offers a client.
DropReason ClassifyFrame(std::span<const uint8_t> frame, const RxMeta& meta,
                         Request* out);

}  // namespace pxe

#endif  // PXE_ENGINE_REQUEST_H_
