// A FIFO of (deadline, client) for timers that all have the same delay from
// an event that happens in time order, so deadlines come in non-decreasing
// order and the head is always the next to expire: O(1) push and pop, one
// allocation up front, no heap or tree on the packet path. pxe-storm keeps
// one per kind of timer (each DISCOVER retry, the 4011 re-send, the give-ups);
// a client enters each at most once, so `capacity` = clients suffices.
#ifndef PXE_TOOLS_STORM_TIMER_QUEUE_H_
#define PXE_TOOLS_STORM_TIMER_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pxe::storm {

class TimerQueue {
 public:
  struct Entry {
    uint64_t deadline_ns;
    uint32_t client;
  };

  explicit TimerQueue(size_t capacity) : entries_(capacity) {}

  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }
  // The earliest deadline, or ~0 when empty.
  uint64_t next_deadline() const {
    return empty() ? ~uint64_t{0} : entries_[head_].deadline_ns;
  }

  // False when full (more pushes than capacity: a caller bug). A deadline
  // earlier than the last one pushed is raised to it, keeping the order.
  bool Push(uint64_t deadline_ns, uint32_t client) {
    if (tail_ == entries_.size()) return false;
    if (tail_ > head_ && deadline_ns < entries_[tail_ - 1].deadline_ns) {
      deadline_ns = entries_[tail_ - 1].deadline_ns;
    }
    entries_[tail_++] = Entry{deadline_ns, client};
    return true;
  }

  // Removes and returns the head if it is due at `now_ns`.
  bool PopDue(uint64_t now_ns, Entry* out) {
    if (empty() || entries_[head_].deadline_ns > now_ns) return false;
    *out = entries_[head_++];
    return true;
  }

 private:
  std::vector<Entry> entries_;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_TIMER_QUEUE_H_
