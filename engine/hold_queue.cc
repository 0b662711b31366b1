#include "engine/hold_queue.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "engine/offer_table.h"

namespace pxe {

HoldQueue::HoldQueue(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)),
      slots_(new Slot[capacity_]),
      wheel_(new uint32_t[kWheelSize]),
      hash_mask_(std::bit_ceil(capacity_ * 2) - 1),
      hash_(new uint32_t[hash_mask_ + 1]) {
  // kNil is all bits set: one memset each (see Responder::IndexVlans()).
  static_assert(kNil == UINT32_MAX);
  std::memset(wheel_.get(), 0xFF, kWheelSize * sizeof(uint32_t));
  std::memset(hash_.get(), 0xFF, (hash_mask_ + 1) * sizeof(uint32_t));
  for (size_t i = capacity_; i-- > 0;) {
    slots_[i].wheel_next = free_head_;
    free_head_ = static_cast<uint32_t>(i);
  }
}

uint32_t& HoldQueue::HashHead(const MacAddress& chaddr) {
  return hash_[HashMac(chaddr) & hash_mask_];
}

uint32_t HoldQueue::FindAwaiting(const MacAddress& chaddr) {
  if (size_ == 0) return kNil;
  for (uint32_t i = HashHead(chaddr); i != kNil; i = slots_[i].hash_next) {
    if (slots_[i].held.kind == Kind::kAwaitOffer &&
        slots_[i].held.chaddr == chaddr) {
      return i;
    }
  }
  return kNil;
}

bool HoldQueue::Hold(std::span<const uint8_t> frame, const RxMeta& meta,
                     const MacAddress& chaddr, uint32_t port, Kind kind,
                     uint64_t now_ns, uint64_t deadline_ns, bool* replaced) {
  if (frame.size() > kMaxFrameSize) return false;
  assert(deadline_ns >= now_ns && deadline_ns - now_ns <= kMaxHoldNs);
  if (size_ == 0) cursor_tick_ = Tick(now_ns);
  assert(Tick(deadline_ns) < cursor_tick_ + kWheelSize);
  if (kind == Kind::kAwaitOffer) {
    if (const uint32_t i = FindAwaiting(chaddr); i != kNil) {
      Slot& s = slots_[i];
      std::memcpy(s.bytes, frame.data(), frame.size());
      s.held.frame = {s.bytes, frame.size()};
      s.held.meta = meta;
      s.held.port = port;
      if (replaced != nullptr) *replaced = true;
      return true;
    }
  }
  if (free_head_ == kNil) return false;
  const uint32_t i = free_head_;
  Slot& s = slots_[i];
  free_head_ = s.wheel_next;
  std::memcpy(s.bytes, frame.data(), frame.size());
  s.held = {.frame = {s.bytes, frame.size()},
            .meta = meta,
            .chaddr = chaddr,
            .deadline_ns = deadline_ns,
            .port = port,
            .kind = kind};
  s.in_use = true;
  // A deadline already behind the cursor (a capture's clock) goes in the
  // cursor's bucket, which is visited next.
  s.bucket = static_cast<uint32_t>(std::max(Tick(deadline_ns), cursor_tick_) &
                                   kWheelMask);
  uint32_t& bucket = wheel_[s.bucket];
  s.wheel_prev = kNil;
  s.wheel_next = bucket;
  if (bucket != kNil) slots_[bucket].wheel_prev = i;
  bucket = i;
  uint32_t& head = HashHead(chaddr);
  s.hash_next = head;
  head = i;
  ++size_;
  if (earliest_cache_ != 0 && deadline_ns < earliest_cache_) {
    earliest_cache_ = deadline_ns;
  }
  return true;
}

void HoldQueue::Unlink(uint32_t i) {
  Slot& s = slots_[i];
  if (s.wheel_prev != kNil) {
    slots_[s.wheel_prev].wheel_next = s.wheel_next;
  } else {
    wheel_[s.bucket] = s.wheel_next;
  }
  if (s.wheel_next != kNil) slots_[s.wheel_next].wheel_prev = s.wheel_prev;
  uint32_t* link = &HashHead(s.held.chaddr);
  while (*link != i) link = &slots_[*link].hash_next;
  *link = s.hash_next;
}

void HoldQueue::Free(uint32_t i) {
  Slot& s = slots_[i];
  if (s.held.deadline_ns <= earliest_cache_) earliest_cache_ = 0;
  s.in_use = false;
  s.wheel_next = free_head_;
  free_head_ = i;
  --size_;
}

uint64_t HoldQueue::earliest_deadline_ns() const {
  if (size_ == 0) return UINT64_MAX;
  if (earliest_cache_ != 0) return earliest_cache_;
  for (size_t k = 0; k < kWheelSize; ++k) {
    uint32_t i = wheel_[(cursor_tick_ + k) & kWheelMask];
    if (i == kNil) continue;
    uint64_t earliest = UINT64_MAX;
    for (; i != kNil; i = slots_[i].wheel_next) {
      earliest = std::min(earliest, slots_[i].held.deadline_ns);
    }
    earliest_cache_ = earliest;
    return earliest;
  }
  return UINT64_MAX;  // not reached: size_ > 0
}

}  // namespace pxe
