// Who emulated client number i is: its MAC, xids, UUID, address and type,
// all derived from a seed and i, so nothing per client has to be stored to
// recognise it, and a reply's chaddr leads straight back to i.
#ifndef PXE_TOOLS_STORM_CLIENT_IDENTITY_H_
#define PXE_TOOLS_STORM_CLIENT_IDENTITY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/byte_order.h"
#include "tools/storm/client_profile.h"
#include "tools/storm/storm_config.h"

namespace pxe::storm {

class ClientIdentity {
 public:
  // `count` clients (at most kMaxClients); client i owns `net_base` + i + 1.
  ClientIdentity(uint64_t seed, uint32_t count, uint32_t net_base);

  uint32_t count() const { return count_; }

  // Locally administered unicast: 3 bytes from the seed, then i scrambled
  // by a seed-derived mask (so two seeds share no MAC).
  MacAddress Mac(uint32_t index) const;
  // The client a chaddr belongs to; nullopt when it is not one of ours.
  std::optional<uint32_t> IndexOfMac(const MacAddress& mac) const;
  // The first three bytes every client MAC shares (for the capture filter).
  std::array<uint8_t, 3> mac_prefix() const { return prefix_; }

  // Non-zero, distinct for the DISCOVERs and for the 4011 REQUESTs (EDK2
  // uses a fresh xid there; iPXE would use 0, but the proxy must key on
  // chaddr anyway, so a fresh one tells replies apart).
  uint32_t DiscoverXid(uint32_t index) const;
  uint32_t RequestXid(uint32_t index) const;
  // Option 97: a random-looking RFC 4122 version 4 UUID.
  std::array<uint8_t, 16> Uuid(uint32_t index) const;

  uint32_t Address(uint32_t index) const { return net_base_ + index + 1; }
  // An IPv6 client's address: fe80::/64 with the modified EUI-64 of its MAC
  // (RFC 4291 §2.5.1, appendix A), as the firmware forms it.
  Ipv6Address LinkLocal(uint32_t index) const;
  std::optional<uint32_t> IndexOfAddress(uint32_t address) const;

 private:
  uint64_t Hash(uint64_t salt, uint32_t index) const;

  uint64_t seed_;
  uint32_t count_;
  uint32_t net_base_;
  std::array<uint8_t, 3> prefix_;
  uint32_t index_mask_;  // 24 bits
};

// The type of every client: exact proportions of `mix` (largest share
// first), interleaved so that any stretch of clients has about the mix
// (smooth weighted round-robin).
std::vector<ClientType> AssignTypes(const Mix& mix, uint32_t count);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_CLIENT_IDENTITY_H_
