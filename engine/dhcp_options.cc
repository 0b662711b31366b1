#include "engine/dhcp_options.h"

#include <cstring>

namespace pxe {

DropReason OptionIndex::Parse(const BootpView& message) {
  head_.fill(0);
  count_ = 0;
  truncated_ = overloaded_file_ = overloaded_sname_ = false;
  if (!ParseArea(message.options(), /*allow_overload=*/true)) {
    return DropReason::kTooManyOptions;
  }
  // RFC 2132 §9.3: 1 = file holds options, 2 = sname, 3 = both; file is read
  // first. Option 52 inside those areas is ignored, so there is no loop.
  std::span<const uint8_t> overload = First(dhcp::kOverload);
  if (!overload.empty()) {
    if (overload[0] & 1) {
      overloaded_file_ = true;
      if (!ParseArea(message.file(), false)) {
        return DropReason::kTooManyOptions;
      }
    }
    if (overload[0] & 2) {
      overloaded_sname_ = true;
      if (!ParseArea(message.sname(), false)) {
        return DropReason::kTooManyOptions;
      }
    }
  }
  return DropReason::kNone;
}

bool OptionIndex::ParseArea(std::span<const uint8_t> area,
                            bool allow_overload) {
  const uint8_t* p = area.data();
  const uint8_t* end = p + area.size();
  while (p < end) {
    const uint8_t code = *p;
    if (code == dhcp::kEnd) return true;
    if (code == dhcp::kPad) {
      ++p;
      continue;
    }
    if (end - p < 2 || end - p - 2 < p[1]) {
      truncated_ = true;
      return true;
    }
    const uint8_t length = p[1];
    if (code != dhcp::kOverload || allow_overload) {
      if (count_ == kMaxOccurrences) return false;
      occurrences_[count_] = {p + 2, length, 0};
      const auto index = static_cast<uint8_t>(++count_);
      if (head_[code] == 0) {
        head_[code] = index;
      } else {
        occurrences_[tail_[code] - 1].next = index;
      }
      tail_[code] = index;
    }
    p += 2 + length;
  }
  return true;
}

std::span<const uint8_t> OptionIndex::First(uint8_t code) const {
  if (head_[code] == 0) return {};
  const Occurrence& o = occurrences_[head_[code] - 1];
  return {o.data, o.length};
}

size_t OptionIndex::TotalLength(uint8_t code) const {
  size_t total = 0;
  for (uint8_t i = head_[code]; i != 0; i = occurrences_[i - 1].next) {
    total += occurrences_[i - 1].length;
  }
  return total;
}

std::span<const uint8_t> OptionIndex::Get(uint8_t code,
                                          std::span<uint8_t> scratch) const {
  if (head_[code] == 0) return {};
  const Occurrence& first = occurrences_[head_[code] - 1];
  if (first.next == 0) return {first.data, first.length};
  size_t used = 0;
  for (uint8_t i = head_[code]; i != 0; i = occurrences_[i - 1].next) {
    const Occurrence& o = occurrences_[i - 1];
    if (scratch.size() - used < o.length) return {};
    std::memcpy(scratch.data() + used, o.data, o.length);
    used += o.length;
  }
  return scratch.first(used);
}

}  // namespace pxe
