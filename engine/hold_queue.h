// Requests the responder answers later: a DISCOVER held on an interface with
// several addresses until the LAN DHCP server's OFFER shows the client's
// subnet (see offer_table.h), or a reply a rule delays (reply_delay_ms). A
// bounded pool of frame copies, allocated once.
//
// Every operation is O(1) per frame: a free list for the slots, a hash of
// chaddr for Release(), and a timing wheel of 1 ms buckets for the
// deadlines, so ReleaseDue() touches only the buckets whose time has come
// and the entries in them, never every slot.
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
  // Deadlines lie at most this far ahead (the wheel's span).
  static constexpr uint64_t kMaxHoldNs = 8'000'000'000;

  enum class Kind : uint8_t {
    kAwaitOffer,  // released early by Release(chaddr)
    kDelay,       // released only when due
  };

  struct Held {
    std::span<const uint8_t> frame;
    RxMeta meta;
    MacAddress chaddr;
    uint64_t deadline_ns;
    uint32_t port;
    Kind kind;
  };

  explicit HoldQueue(size_t capacity);

  // Copies `frame` and keeps it until `deadline_ns` (at most kMaxHoldNs
  // after `now_ns`). While anything is held, ReleaseDue() must have run
  // within the wheel's span less kMaxHoldNs (about 190 ms) before `now_ns`,
  // or the deadline would wrap around the wheel: the Responder runs it
  // before every frame. False if the pool is full or the frame too large. A
  // second kAwaitOffer hold for the same client replaces the frame of the
  // first (a retransmit) and keeps its deadline; then `*replaced` (if
  // given) is set.
  bool Hold(std::span<const uint8_t> frame, const RxMeta& meta,
            const MacAddress& chaddr, uint32_t port, Kind kind, uint64_t now_ns,
            uint64_t deadline_ns, bool* replaced = nullptr);

  // Calls `fn(const Held&)` for the kAwaitOffer entry of `chaddr`, if any,
  // and removes it (before the call: `fn` may Hold() again).
  template <typename Fn>
  void Release(const MacAddress& chaddr, Fn&& fn) {
    const uint32_t i = FindAwaiting(chaddr);
    if (i == kNil) return;
    Unlink(i);
    fn(static_cast<const Held&>(slots_[i].held));
    Free(i);
  }

  // Calls `fn(const Held&)` for every entry due at `now_ns`, in deadline
  // order (to the bucket), and removes them. The due entries are taken out
  // and the wheel's cursor moved to `now_ns` first, so `fn` may Hold() new
  // entries, with any deadline from `now_ns` on.
  template <typename Fn>
  void ReleaseDue(uint64_t now_ns, Fn&& fn) {
    const uint64_t now_tick = Tick(now_ns);
    if (size_ == 0) {
      cursor_tick_ = now_tick;
      return;
    }
    // Behind by more than the wheel: one turn visits every bucket.
    if (now_tick >= cursor_tick_ + kWheelSize) {
      cursor_tick_ = now_tick - kWheelSize + 1;
    }
    uint32_t due_head = kNil;
    uint32_t due_tail = kNil;
    for (;; ++cursor_tick_) {
      uint32_t i = wheel_[cursor_tick_ & kWheelMask];
      while (i != kNil) {
        const uint32_t next = slots_[i].wheel_next;
        if (slots_[i].held.deadline_ns <= now_ns) {
          Unlink(i);
          slots_[i].wheel_next = kNil;
          (due_tail == kNil ? due_head : slots_[due_tail].wheel_next) = i;
          due_tail = i;
        }
        i = next;
      }
      if (cursor_tick_ == now_tick) break;  // later entries here not due yet
    }
    while (due_head != kNil) {
      const uint32_t i = due_head;
      due_head = slots_[i].wheel_next;
      fn(static_cast<const Held&>(slots_[i].held));
      Free(i);
    }
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // The earliest deadline (UINT64_MAX when empty): how long to sleep.
  uint64_t earliest_deadline_ns() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr size_t kWheelSize = 8192;  // 1 ms buckets: 8.2 s
  static constexpr size_t kWheelMask = kWheelSize - 1;
  static constexpr uint64_t kTickNs = 1'000'000;
  static_assert(kMaxHoldNs < (kWheelSize - 1) * kTickNs);

  struct Slot {
    Held held{};
    uint32_t wheel_prev = kNil;
    uint32_t wheel_next = kNil;  // also the free list's link
    uint32_t hash_next = kNil;
    uint32_t bucket = 0;  // its wheel bucket
    bool in_use = false;
    uint8_t bytes[kMaxFrameSize];
  };

  static uint64_t Tick(uint64_t ns) { return ns / kTickNs; }
  uint32_t& HashHead(const MacAddress& chaddr);
  uint32_t FindAwaiting(const MacAddress& chaddr);
  void Unlink(uint32_t i);  // from the wheel and the hash
  void Free(uint32_t i);

  size_t capacity_;
  size_t size_ = 0;
  uint64_t cursor_tick_ = 0;             // buckets before this one are empty
  mutable uint64_t earliest_cache_ = 0;  // 0 = to be computed
  uint32_t free_head_ = kNil;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint32_t[]> wheel_;
  size_t hash_mask_;
  std::unique_ptr<uint32_t[]> hash_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_HOLD_QUEUE_H_
