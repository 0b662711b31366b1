#include "engine/bootp.h"

namespace pxe {

DropReason BootpView::Parse(std::span<const uint8_t> payload, BootpView* out) {
  if (payload.size() < bootp::kFixedSize) return DropReason::kBootpTooShort;
  const uint8_t* p = payload.data();
  if (p[bootp::kHtype] != bootp::kHtypeEthernet || p[bootp::kHlen] != 6) {
    return DropReason::kBadHardwareType;
  }
  // Plain BOOTP (no cookie) is not DHCP, and PXE needs DHCP options.
  if (payload.size() < bootp::kOptions ||
      LoadBe32(p + bootp::kCookie) != bootp::kMagicCookie) {
    return DropReason::kBadMagicCookie;
  }
  out->data_ = p;
  out->size_ = payload.size();
  return DropReason::kNone;
}

}  // namespace pxe
