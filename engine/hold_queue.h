// Offers held back a short while on interfaces with several addresses,
// waiting for the LAN DHCP server's OFFER to show which subnet the client is
// in (PROTOCOL.md §5). A bounded pool of frame copies: when full, Hold()
// refuses and the caller answers at once from the default address.
#ifndef PXE_ENGINE_HOLD_QUEUE_H_
#define PXE_ENGINE_HOLD_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "engine/byte_order.h"
#include "engine/frame.h"

namespace pxe {

class HoldQueue {
 public:
  static constexpr size_t kMaxFrameSize = 1536;

  struct Held {
    std::span<const uint8_t> frame;
    RxMeta meta;
    MacAddress chaddr;
    uint64_t deadline_ns;
  };

  explicit HoldQueue(size_t capacity);

  // Copies `frame` and keeps it until `deadline_ns`. False if the pool is
  // full or the frame too large: answer now instead. A second hold for the
  // same client replaces the first (a retransmit with the same xid).
  bool Hold(std::span<const uint8_t> frame, const RxMeta& meta,
            const MacAddress& chaddr, uint64_t deadline_ns);

  // Calls `fn(const Held&)` for the entry of `chaddr`, if any, and removes it.
  template <typename Fn>
  void Release(const MacAddress& chaddr, Fn&& fn) {
    if (size_ == 0) return;
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].in_use && slots_[i].held.chaddr == chaddr) {
        fn(const_cast<const Held&>(slots_[i].held));
        Free(i);
        return;
      }
    }
  }

  // Calls `fn(const Held&)` for every entry due at `now_ns` and removes them.
  template <typename Fn>
  void ReleaseDue(uint64_t now_ns, Fn&& fn) {
    if (size_ == 0 || now_ns < earliest_ns_) return;
    earliest_ns_ = UINT64_MAX;
    for (size_t i = 0; i < capacity_ && size_ > 0; ++i) {
      if (!slots_[i].in_use) continue;
      if (slots_[i].held.deadline_ns <= now_ns) {
        fn(const_cast<const Held&>(slots_[i].held));
        Free(i);
      } else if (slots_[i].held.deadline_ns < earliest_ns_) {
        earliest_ns_ = slots_[i].held.deadline_ns;
      }
    }
  }

  size_t size() const { return size_; }
  // The earliest deadline (UINT64_MAX when empty): how long to poll.
  uint64_t earliest_deadline_ns() const {
    return size_ == 0 ? UINT64_MAX : earliest_ns_;
  }

 private:
  struct Slot {
    bool in_use = false;
    Held held{};
    uint8_t bytes[kMaxFrameSize];
  };
  void Free(size_t i) {
    slots_[i].in_use = false;
    --size_;
  }

  size_t capacity_;
  size_t size_ = 0;
  uint64_t earliest_ns_ = UINT64_MAX;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_HOLD_QUEUE_H_
