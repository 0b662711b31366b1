#include "engine/hold_queue.h"

#include <cstring>

namespace pxe {

HoldQueue::HoldQueue(size_t capacity)
    : capacity_(capacity), slots_(new Slot[capacity]) {}

bool HoldQueue::Hold(std::span<const uint8_t> frame, const RxMeta& meta,
                     const MacAddress& chaddr, uint64_t deadline_ns) {
  if (frame.size() > kMaxFrameSize) return false;
  Slot* free_slot = nullptr;
  for (size_t i = 0; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (s.in_use && s.held.chaddr == chaddr) {
      // Keep the first deadline: a retransmit must not extend the wait.
      deadline_ns = s.held.deadline_ns;
      free_slot = &s;
      --size_;
      break;
    }
    if (!s.in_use && free_slot == nullptr) free_slot = &s;
  }
  if (free_slot == nullptr) return false;
  std::memcpy(free_slot->bytes, frame.data(), frame.size());
  free_slot->in_use = true;
  free_slot->held = Held{.frame = {free_slot->bytes, frame.size()},
                         .meta = meta,
                         .chaddr = chaddr,
                         .deadline_ns = deadline_ns};
  ++size_;
  if (deadline_ns < earliest_ns_) earliest_ns_ = deadline_ns;
  return true;
}

}  // namespace pxe
