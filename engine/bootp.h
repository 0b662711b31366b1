// The BOOTP fixed header (RFC 951, RFC 2131 §2) as named offsets, and a view
// over a message that has been checked to hold the whole header and cookie.
#ifndef PXE_ENGINE_BOOTP_H_
#define PXE_ENGINE_BOOTP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/byte_order.h"
#include "engine/drop_reason.h"

namespace pxe {

namespace bootp {
inline constexpr size_t kOp = 0;
inline constexpr size_t kHtype = 1;
inline constexpr size_t kHlen = 2;
inline constexpr size_t kHops = 3;
inline constexpr size_t kXid = 4;
inline constexpr size_t kSecs = 8;
inline constexpr size_t kFlags = 10;
inline constexpr size_t kCiaddr = 12;
inline constexpr size_t kYiaddr = 16;
inline constexpr size_t kSiaddr = 20;
inline constexpr size_t kGiaddr = 24;
inline constexpr size_t kChaddr = 28;
inline constexpr size_t kChaddrSize = 16;
inline constexpr size_t kSname = 44;
inline constexpr size_t kSnameSize = 64;
inline constexpr size_t kFile = 108;
inline constexpr size_t kFileSize = 128;
inline constexpr size_t kFixedSize = 236;
inline constexpr size_t kCookie = 236;
inline constexpr size_t kOptions = 240;
static_assert(kSname == kChaddr + kChaddrSize);
static_assert(kFile == kSname + kSnameSize);
static_assert(kFixedSize == kFile + kFileSize);

inline constexpr uint8_t kOpRequest = 1;
inline constexpr uint8_t kOpReply = 2;
inline constexpr uint8_t kHtypeEthernet = 1;
inline constexpr uint16_t kFlagBroadcast = 0x8000;    // RFC 2131 §2, figure 2
inline constexpr uint32_t kMagicCookie = 0x63825363;  // RFC 2131 §3
// Some relays and ROMs drop BOOTP messages shorter than BOOTP's original 300.
inline constexpr size_t kMinMessageSize = 300;
}  // namespace bootp

// A BOOTP/DHCP message whose fixed header and magic cookie are present.
class BootpView {
 public:
  // Checks the size, htype/hlen and the cookie. kNone on success.
  static DropReason Parse(std::span<const uint8_t> payload, BootpView* out);

  uint8_t op() const { return data_[bootp::kOp]; }
  uint8_t htype() const { return data_[bootp::kHtype]; }
  uint8_t hlen() const { return data_[bootp::kHlen]; }
  uint32_t xid() const { return LoadBe32(data_ + bootp::kXid); }
  uint16_t flags() const { return LoadBe16(data_ + bootp::kFlags); }
  uint32_t ciaddr() const { return LoadBe32(data_ + bootp::kCiaddr); }
  uint32_t yiaddr() const { return LoadBe32(data_ + bootp::kYiaddr); }
  uint32_t siaddr() const { return LoadBe32(data_ + bootp::kSiaddr); }
  uint32_t giaddr() const { return LoadBe32(data_ + bootp::kGiaddr); }
  MacAddress chaddr() const { return LoadMac(data_ + bootp::kChaddr); }
  // The raw 16-byte chaddr field, echoed in replies.
  const uint8_t* chaddr_field() const { return data_ + bootp::kChaddr; }
  std::span<const uint8_t> sname() const {
    return {data_ + bootp::kSname, bootp::kSnameSize};
  }
  std::span<const uint8_t> file() const {
    return {data_ + bootp::kFile, bootp::kFileSize};
  }
  std::span<const uint8_t> options() const {
    return {data_ + bootp::kOptions, size_ - bootp::kOptions};
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace pxe

#endif  // PXE_ENGINE_BOOTP_H_
