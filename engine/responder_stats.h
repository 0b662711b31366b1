// What a Responder counts besides the outcome of every frame (Counters):
// the requests it considered, by interface, DHCP message type and client
// architecture, and the replies it sent, by rule and type. Plain arrays of
// RelaxedCounter indexed by small integers, so counting is an increment;
// metrics readers on other threads load them while the worker runs.
//
// Replies are counted by rule *slot*, not by the rule's index in the policy:
// a reload may reorder, add or remove rules, and the index of one snapshot
// names another rule in the next. The caller gives each snapshot a table
// from rule index to a slot that stays with the rule's name for the life of
// the process (Responder::SetPolicy), so counts keep their label across
// reloads and the packet path never looks a name up.
#ifndef PXE_ENGINE_RESPONDER_STATS_H_
#define PXE_ENGINE_RESPONDER_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/arch.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/relaxed_counter.h"

namespace pxe {

// DHCP message types 0 to 8 (RFC 2132 §9.6); 0 stands for anything else.
// Then the DHCPv6 requests answered: Solicit, Request, Information-request.
inline constexpr size_t kMessageTypeSlots = 12;
inline constexpr size_t kSolicitSlot = 9;
inline constexpr size_t kRequest6Slot = 10;
inline constexpr size_t kInformationRequestSlot = 11;
// "discover", "request", ..., "solicit", "request6",
// "information-request"; "other" for slot 0.
std::string_view MessageTypeLabel(size_t slot);
inline size_t MessageTypeSlot(dhcp::MessageType type) {
  const size_t t = static_cast<size_t>(type);
  return t < kSolicitSlot ? t : 0;
}

// The architecture classes, then one for option 93 codes not served.
inline constexpr size_t kArchSlots = kArchClassCount + 1;
inline constexpr size_t kUnknownArchSlot = kArchClassCount;
// ArchClassName(), or "unknown".
std::string_view ArchSlotLabel(size_t slot);

// Reply types: a proxy OFFER (to a DISCOVER) or an ACK (to a REQUEST or an
// INFORM on port 4011); a DHCPv6 Advertise (to a Solicit) or Reply.
inline constexpr size_t kReplyTypeSlots = 4;
inline constexpr size_t kAdvertiseSlot = 2;
inline constexpr size_t kReply6Slot = 3;
// "offer", "ack", "advertise", "reply"
std::string_view ReplyTypeLabel(size_t slot);

// Slot 0 is the defaults (no rule matched); the last slot takes the rules
// past the table's end (a process that saw more rule names than it holds).
inline constexpr size_t kRuleSlots = 256;
inline constexpr size_t kOverflowRuleSlot = kRuleSlots - 1;

struct ResponderStats {
  explicit ResponderStats(size_t ports) : requests(ports) {}

  // One port's requests, indexed [type][arch]. Cache-line aligned: the
  // vector below is a heap block of its own, which must not share a line
  // with what another worker writes.
  struct alignas(64) ByTypeAndArch
      : std::array<std::array<RelaxedCounter, kArchSlots>, kMessageTypeSlots> {
  };

  Counters outcomes;  // every frame, by DropReason (0: answered)
  // Requests from boot clients that passed the frame checks (whatever then
  // became of them), by port. Sized once: the port count never changes.
  std::vector<ByTypeAndArch> requests;
  // Replies handed to the transmit ring, by rule slot and reply type.
  std::array<std::array<RelaxedCounter, kReplyTypeSlots>, kRuleSlots> replies{};
  // DISCOVERs answered that sent an iPXE client back to the boot file it
  // was just given: rounds of the iPXE chainload loop
  // (engine/ipxe_loop_detector.h).
  RelaxedCounter ipxe_loops;
};

}  // namespace pxe

#endif  // PXE_ENGINE_RESPONDER_STATS_H_
