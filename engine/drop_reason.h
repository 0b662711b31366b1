// Why a frame got no reply. Every frame the engine sees ends in exactly one of
// these (kNone: it was answered), so counters add up: received = answered +
// the sum of the drops.
#ifndef PXE_ENGINE_DROP_REASON_H_
#define PXE_ENGINE_DROP_REASON_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/relaxed_counter.h"

namespace pxe {

#define PXE_DROP_REASONS(X)                                                 \
  X(kNone, "answered")                                                      \
  /* Ethernet, 802.1Q */                                                    \
  X(kFrameTooShort, "frame shorter than its headers")                       \
  X(kNotIpv4, "ethertype is neither IPv4 nor IPv6")                         \
  X(kServiceVlanTag, "802.1ad S-tag (or 0x9100): not served")               \
  X(kStackedVlanTags, "stacked VLAN tags (QinQ): not served")               \
  X(kVlanNotServed,                                                         \
    "VLAN not served on this interface (no [[server.vlan]] for it)")        \
  /* IPv4 */                                                                \
  X(kBadIpHeader, "IPv4 version or header length invalid")                  \
  X(kBadIpLength, "IPv4 total length invalid")                              \
  X(kBadIpChecksum, "IPv4 header checksum wrong")                           \
  X(kIpFragment, "IPv4 fragment")                                           \
  X(kNotUdp, "IP protocol is not UDP")                                      \
  /* IPv6 */                                                                \
  X(kBadIpv6Header, "IPv6 version or payload length invalid")               \
  X(kIpv6ExtensionHeader, "IPv6 extension header before UDP: not served")   \
  /* UDP */                                                                 \
  X(kBadUdpLength, "UDP length invalid")                                    \
  X(kBadUdpChecksum, "UDP checksum wrong")                                  \
  X(kWrongPort, "UDP destination port is not 67, 547 or 4011")              \
  /* BOOTP / DHCP */                                                        \
  X(kBootpTooShort, "BOOTP message shorter than its fixed header")          \
  X(kBadHardwareType, "htype/hlen is not Ethernet")                         \
  X(kBadMagicCookie, "DHCP magic cookie missing or wrong")                  \
  X(kTooManyOptions, "more DHCP options than the index holds")              \
  X(kNoMessageType, "no DHCP message type (option 53)")                     \
  X(kServerReply, "BOOTREPLY (a DHCP server's message)")                    \
  X(kUntrustedServerReply,                                                  \
    "DHCP server reply not learned from: server not on this link or not "   \
    "in [server] dhcp_servers")                                             \
  X(kBadOpcode, "BOOTP op is neither request nor reply")                    \
  X(kUnhandledMessage, "message type not answered on this port")            \
  X(kNotBooting,                                                            \
    "client is not PXE or HTTP booting (option 60; DHCPv6 option 16)")      \
  /* DHCPv6 */                                                              \
  X(kDhcp6TooShort, "DHCPv6 message shorter than its header")               \
  X(kBadDhcp6Option, "DHCPv6 option runs past the end of its message")      \
  X(kNoClientId, "DHCPv6 message without a client identifier")              \
  X(kBadRelayForward,                                                       \
    "DHCPv6 Relay-forward without a relayed message, or nested twice")      \
  X(kNotOurServerId,                                                        \
    "DHCPv6 Request or Information-request for another server")             \
  X(kAddressRequested,                                                      \
    "DHCPv6 Request to us for addresses (IA): we assign none")              \
  /* Policy */                                                              \
  X(kIgnoredByRule, "a rule says: ignore this client")                      \
  X(kBisCredentials, "PXE BIS credentials request (layer bit 15)")          \
  X(kUnknownBootItem, "boot menu item not served (unknown, or local boot)") \
  X(kUnknownArch, "client architecture (option 93) not served")             \
  X(kNoBootFile, "no boot file configured for this client's architecture")  \
  X(kNoServerAddress, "no server address for this client")                  \
  X(kNoClientAddress,                                                       \
    "4011 request without a client address or port to answer")              \
  X(kReplyBufferTooSmall, "reply does not fit the transmit buffer")         \
  X(kRelayInfoTooLong,                                                      \
    "relay agent information (option 82) too long to echo in one reply")    \
  /* Where a reply may go */                                                \
  X(kGroupSourceMac, "source MAC is a group (multicast) address")           \
  X(kCiaddrNotSource, "ciaddr is set and differs from the IP source")       \
  X(kBadReplyTarget, "reply target is not another host's unicast address")  \
  X(kBadClientPort, "request to 4011 or 67 not from port 68 or 4011")       \
  X(kBadRelayAddress,                                                       \
    "giaddr is not a unicast address of another host or a known relay")     \
  X(kOffLinkRequest, "not relayed, and from an address off this link")      \
  /* Worker */                                                              \
  X(kClientRateLimited, "client over its rate limit (--client-rate)")       \
  X(kInterfaceRateLimited,                                                  \
    "interface over its reply ceiling (--interface-rate)")                  \
  X(kDuplicate, "same request seen within 50 ms (a bridge or bond copy)")   \
  X(kTxRingFull, "no free transmit slot")                                   \
  X(kHoldQueueFull,                                                         \
    "hold queue full: not held for the LAN server's offer or the delay")    \
  X(kReplacedWhileHeld,                                                     \
    "held for the LAN server's offer, then replaced by a retransmit")

enum class DropReason : uint8_t {
#define PXE_DROP_ENUM(name, text) name,
  PXE_DROP_REASONS(PXE_DROP_ENUM)
#undef PXE_DROP_ENUM
};

inline constexpr size_t kDropReasonCount = 0
#define PXE_DROP_COUNT(name, text) +1
    PXE_DROP_REASONS(PXE_DROP_COUNT)
#undef PXE_DROP_COUNT
    ;

// A human-readable sentence for logs and reports.
constexpr std::string_view DropReasonText(DropReason reason) {
  constexpr std::array<std::string_view, kDropReasonCount> kTexts = {
#define PXE_DROP_TEXT(name, text) text,
      PXE_DROP_REASONS(PXE_DROP_TEXT)
#undef PXE_DROP_TEXT
  };
  return kTexts[static_cast<size_t>(reason)];
}

// The enumerator's name without the leading 'k', for counters and JSON.
constexpr std::string_view DropReasonName(DropReason reason) {
  constexpr std::array<std::string_view, kDropReasonCount> kNames = {
#define PXE_DROP_NAME(name, text) std::string_view(#name).substr(1),
      PXE_DROP_REASONS(PXE_DROP_NAME)
#undef PXE_DROP_NAME
  };
  return kNames[static_cast<size_t>(reason)];
}

// Per-worker counters: one slot per outcome. Written by the worker that owns
// them; other threads may read them while it runs (relaxed), and sum them.
struct Counters {
  std::array<RelaxedCounter, kDropReasonCount> by_reason{};

  void Count(DropReason reason) {
    by_reason[static_cast<size_t>(reason)].Increment();
  }
  uint64_t answered() const { return by_reason[0].load(); }
  uint64_t received() const {
    uint64_t total = 0;
    for (const RelaxedCounter& n : by_reason) total += n.load();
    return total;
  }
  Counters& operator+=(const Counters& other) {
    for (size_t i = 0; i < kDropReasonCount; ++i) {
      by_reason[i].Add(other.by_reason[i].load());
    }
    return *this;
  }
};

}  // namespace pxe

#endif  // PXE_ENGINE_DROP_REASON_H_
