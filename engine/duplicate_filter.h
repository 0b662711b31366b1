// Answers each request once when bridges or bonds deliver it twice: a frame
// is a duplicate when (chaddr, xid, message type, destination port) was seen
// within the window (about 50 ms). A firmware retransmit a second later is a
// new request and is answered again. Bounded and allocation-free after
// construction; a slot is simply overwritten when its probe range is full.
#ifndef PXE_ENGINE_DUPLICATE_FILTER_H_
#define PXE_ENGINE_DUPLICATE_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/byte_order.h"

namespace pxe {

class DuplicateFilter {
 public:
  static constexpr uint64_t kDefaultWindowNs = 50'000'000;

  DuplicateFilter(size_t capacity, uint64_t window_ns = kDefaultWindowNs);

  // True if the same request was seen within the window before `now_ns`;
  // otherwise records it and returns false.
  bool SeenRecently(const MacAddress& chaddr, uint32_t xid, uint8_t type,
                    uint16_t port, uint64_t now_ns);

 private:
  static constexpr size_t kProbe = 4;
  struct Entry {
    uint64_t key;  // chaddr (48 bits), type (8), port 67 or not (8); 0 = empty
    uint32_t xid;
    uint64_t seen_ns;
  };

  size_t mask_;
  uint64_t window_ns_;
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_DUPLICATE_FILTER_H_
