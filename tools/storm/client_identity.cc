#include "tools/storm/client_identity.h"

namespace pxe::storm {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit hash.
uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr uint64_t kSaltPrefix = 1;
constexpr uint64_t kSaltDiscoverXid = 2;
constexpr uint64_t kSaltRequestXid = 3;
constexpr uint64_t kSaltUuid = 4;

}  // namespace

ClientIdentity::ClientIdentity(uint64_t seed, uint32_t count, uint32_t net_base)
    : seed_(seed), count_(count), net_base_(net_base) {
  const uint64_t h = Mix64(seed ^ Mix64(kSaltPrefix));
  // Bit 1 of the first byte: locally administered; bit 0 clear: unicast.
  prefix_ = {static_cast<uint8_t>((h & 0xFC) | 0x02),
             static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h >> 16)};
  index_mask_ = static_cast<uint32_t>(h >> 24) & 0xFFFFFF;
}

uint64_t ClientIdentity::Hash(uint64_t salt, uint32_t index) const {
  return Mix64(seed_ ^ Mix64(salt << 32 | index));
}

MacAddress ClientIdentity::Mac(uint32_t index) const {
  const uint32_t low = (index ^ index_mask_) & 0xFFFFFF;
  return {prefix_[0],
          prefix_[1],
          prefix_[2],
          static_cast<uint8_t>(low >> 16),
          static_cast<uint8_t>(low >> 8),
          static_cast<uint8_t>(low)};
}

std::optional<uint32_t> ClientIdentity::IndexOfMac(
    const MacAddress& mac) const {
  if (mac[0] != prefix_[0] || mac[1] != prefix_[1] || mac[2] != prefix_[2]) {
    return std::nullopt;
  }
  const uint32_t low = uint32_t{mac[3]} << 16 | uint32_t{mac[4]} << 8 | mac[5];
  const uint32_t index = low ^ index_mask_;
  if (index >= count_) return std::nullopt;
  return index;
}

uint32_t ClientIdentity::DiscoverXid(uint32_t index) const {
  const uint32_t xid = static_cast<uint32_t>(Hash(kSaltDiscoverXid, index));
  return xid != 0 ? xid : 1;
}

uint32_t ClientIdentity::RequestXid(uint32_t index) const {
  uint32_t xid = static_cast<uint32_t>(Hash(kSaltRequestXid, index));
  if (xid == 0) xid = 2;
  return xid != DiscoverXid(index) ? xid : ~xid;
}

std::array<uint8_t, 16> ClientIdentity::Uuid(uint32_t index) const {
  std::array<uint8_t, 16> uuid;
  const uint64_t a = Hash(kSaltUuid, index);
  const uint64_t b = Mix64(a);
  for (size_t i = 0; i < 8; ++i) {
    uuid[i] = static_cast<uint8_t>(a >> (8 * i));
    uuid[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0F) | 0x40);  // version 4
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3F) | 0x80);  // RFC 4122
  return uuid;
}

Ipv6Address ClientIdentity::LinkLocal(uint32_t index) const {
  const MacAddress mac = Mac(index);
  return {0xfe,   0x80,   0,
          0,      0,      0,
          0,      0,      static_cast<uint8_t>(mac[0] ^ 0x02),
          mac[1], mac[2], 0xff,
          0xfe,   mac[3], mac[4],
          mac[5]};
}

std::optional<uint32_t> ClientIdentity::IndexOfAddress(uint32_t address) const {
  if (address <= net_base_) return std::nullopt;
  const uint32_t index = address - net_base_ - 1;
  if (index >= count_) return std::nullopt;
  return index;
}

std::vector<ClientType> AssignTypes(const Mix& mix, uint32_t count) {
  int64_t total = 0;
  for (uint32_t w : mix) total += w;
  std::vector<ClientType> types(count, ClientType::kBios);
  if (total == 0) return types;
  // Each round every type gains its weight; the richest is picked and pays
  // the total. Over `total` rounds each type is picked exactly `weight`
  // times, evenly spread.
  std::array<int64_t, kClientTypeCount> credit{};
  for (uint32_t i = 0; i < count; ++i) {
    size_t best = 0;
    for (size_t t = 0; t < kClientTypeCount; ++t) {
      credit[t] += mix[t];
      if (credit[t] > credit[best]) best = t;
    }
    credit[best] -= total;
    types[i] = static_cast<ClientType>(best);
  }
  return types;
}

}  // namespace pxe::storm
