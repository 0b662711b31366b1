#include "capture/worker_stats.h"

#include <algorithm>

#include "engine/responder_stats.h"

namespace pxe {

RuleSlotTable::RuleSlotTable() : names_(1) {}

uint16_t RuleSlotTable::SlotOf(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Slot 0 is the defaults, which have no name: start past it.
  const auto it = std::find(names_.begin() + 1, names_.end(), name);
  if (it != names_.end()) return static_cast<uint16_t>(it - names_.begin());
  if (names_.size() >= kOverflowRuleSlot) return kOverflowRuleSlot;
  names_.emplace_back(name);
  return static_cast<uint16_t>(names_.size() - 1);
}

std::vector<std::string> RuleSlotTable::Names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return names_;
}

}  // namespace pxe
