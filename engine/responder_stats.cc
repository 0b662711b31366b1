#include "engine/responder_stats.h"

namespace pxe {

std::string_view MessageTypeLabel(size_t slot) {
  constexpr std::string_view kLabels[kMessageTypeSlots] = {
      "other",   "discover", "offer",    "request",
      "decline", "ack",      "nak",      "release",
      "inform",  "solicit",  "request6", "information-request"};
  return slot < kMessageTypeSlots ? kLabels[slot] : kLabels[0];
}

std::string_view ArchSlotLabel(size_t slot) {
  if (slot >= kArchClassCount) return "unknown";
  return ArchClassName(static_cast<ArchClass>(slot));
}

std::string_view ReplyTypeLabel(size_t slot) {
  constexpr std::string_view kLabels[kReplyTypeSlots] = {"offer", "ack",
                                                         "advertise", "reply"};
  return slot < kReplyTypeSlots ? kLabels[slot] : kLabels[0];
}

}  // namespace pxe
