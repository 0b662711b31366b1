// ARP for the emulated clients' addresses (RFC 826): a proxy that answers on
// 4011 through its kernel (dnsmasq) resolves the client's ciaddr first, and
// no kernel here owns those addresses, so pxe-storm answers for them.
#ifndef PXE_TOOLS_STORM_ARP_H_
#define PXE_TOOLS_STORM_ARP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "engine/byte_order.h"

namespace pxe::storm {

inline constexpr uint16_t kEtherTypeArp = 0x0806;
// An Ethernet frame's minimum size without the FCS: ARP replies are padded
// to it, as NICs do.
inline constexpr size_t kArpFrameSize = 60;

struct ArpRequest {
  MacAddress sender_mac{};
  uint32_t sender_ip = 0;
  uint32_t target_ip = 0;
};

// An ARP request for IPv4 over Ethernet in `frame` (Ethernet header first),
// or nullopt for anything else.
std::optional<ArpRequest> ParseArpRequest(std::span<const uint8_t> frame);

// Writes the reply "target_ip is at `mac`" to `request`'s sender. Returns
// kArpFrameSize, or 0 when `out` is smaller.
size_t BuildArpReply(const ArpRequest& request, const MacAddress& mac,
                     std::span<uint8_t> out);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_ARP_H_
