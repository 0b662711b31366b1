#include "engine/rule_matcher.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace pxe {
namespace {

// Sub-option `code` of option 82 (RFC 3046 §2.0), or empty.
std::span<const uint8_t> RelaySubOption(std::span<const uint8_t> info,
                                        uint8_t code) {
  size_t i = 0;
  while (i + 2 <= info.size()) {
    const uint8_t length = info[i + 1];
    if (i + 2 + length > info.size()) break;
    if (info[i] == code) return info.subspan(i + 2, length);
    i += 2 + length;
  }
  return {};
}

template <typename T, typename Fn>
bool AnyOf(const std::vector<T>& values, Fn&& fn) {
  if (values.empty()) return true;
  return std::any_of(values.begin(), values.end(), fn);
}

bool AnyPattern(const std::vector<BytePattern>& patterns,
                std::span<const uint8_t> bytes) {
  return AnyOf(patterns,
               [&](const BytePattern& p) { return p.Matches(bytes); });
}

}  // namespace

ClientFacts FactsOf(const RequestInfo& request, uint32_t subnet_address,
                    std::string_view interface) {
  ClientFacts facts{
      .mac = request.chaddr,
      .subnet_address = subnet_address,
      .arch = request.arch.arch_class,
      .vendor_class = request.vendor_class,
      .user_class = request.user_class,
      .uuid = request.uuid.size() == 17 ? request.uuid.subspan(1)
                                        : std::span<const uint8_t>(),
      .interface = interface,
      .vlan = request.frame.has_vlan ? request.frame.vlan_id()
                                     : RuleMatch::kUntagged,
  };
  if (!request.relay_info.empty()) {
    facts.circuit_id = RelaySubOption(request.relay_info, 1);
    facts.remote_id = RelaySubOption(request.relay_info, 2);
  }
  return facts;
}

bool Matches(const RuleMatch& m, const ClientFacts& f) {
  if (m.arch_mask != 0 &&
      (m.arch_mask & (uint32_t{1} << static_cast<uint32_t>(f.arch))) == 0) {
    return false;
  }
  return AnyOf(m.mac, [&](const MacPattern& p) { return p.Matches(f.mac); }) &&
         AnyOf(m.subnet,
               [&](const Ipv4Prefix& p) {
                 return f.subnet_address != 0 && p.Contains(f.subnet_address);
               }) &&
         AnyPattern(m.vendor_class, f.vendor_class) &&
         AnyPattern(m.user_class, f.user_class) &&
         AnyOf(m.uuid,
               [&](const std::array<uint8_t, 16>& u) {
                 return f.uuid.size() == 16 &&
                        std::memcmp(u.data(), f.uuid.data(), 16) == 0;
               }) &&
         AnyOf(m.interface,
               [&](const std::string& name) { return name == f.interface; }) &&
         AnyOf(m.vlan, [&](uint16_t vlan) { return vlan == f.vlan; }) &&
         AnyPattern(m.circuit_id, f.circuit_id) &&
         AnyPattern(m.remote_id, f.remote_id);
}

namespace {

// Index keys: a tag in the top bits keeps MAC and subnet keys apart.
constexpr uint64_t kMacTag = uint64_t{1} << 60;
constexpr uint64_t kSubnetTag = uint64_t{2} << 60;

uint64_t MacKey(const MacAddress& mac, uint8_t length) {
  uint64_t octets = 0;
  for (uint8_t i = 0; i < 6; ++i) {
    octets = (octets << 8) | (i < length ? mac[i] : 0);
  }
  return kMacTag | (uint64_t{length} << 48) | octets;
}

uint64_t SubnetKey(uint32_t address, uint8_t length) {
  return kSubnetTag | (uint64_t{length} << 32) |
         (address & Ipv4Prefix::Mask(length));
}

}  // namespace

RuleMatcher::RuleMatcher(std::span<const Rule> rules) {
  // Keys in rule order, so each key's indices come out ascending.
  std::vector<std::pair<uint64_t, uint32_t>> keyed;
  std::vector<uint32_t> unindexed;
  // First rule per MAC prefix length (0-6) and subnet length (0-32).
  std::array<uint32_t, 7> mac_first;
  std::array<uint32_t, 33> subnet_first;
  mac_first.fill(UINT32_MAX);
  subnet_first.fill(UINT32_MAX);
  for (const Rule& rule : rules) {
    const RuleMatch& m = rule.match;
    const auto index = static_cast<uint32_t>(rules_.size());
    rules_.push_back(&m);
    const bool by_mac =
        !m.mac.empty() &&
        std::none_of(m.mac.begin(), m.mac.end(),
                     [](const MacPattern& p) { return p.length == 0; });
    const bool by_subnet =
        !by_mac && !m.subnet.empty() &&
        std::none_of(m.subnet.begin(), m.subnet.end(),
                     [](const Ipv4Prefix& p) { return p.prefix_length == 0; });
    if (by_mac) {
      for (const MacPattern& p : m.mac) {
        keyed.emplace_back(MacKey(p.octets, p.length), index);
        mac_first[p.length] = std::min(mac_first[p.length], index);
      }
    } else if (by_subnet) {
      for (const Ipv4Prefix& p : m.subnet) {
        keyed.emplace_back(SubnetKey(p.network, p.prefix_length), index);
        subnet_first[p.prefix_length] =
            std::min(subnet_first[p.prefix_length], index);
      }
    } else {
      unindexed.push_back(index);
    }
  }
  std::stable_sort(
      keyed.begin(), keyed.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  index_.reserve(keyed.size());
  for (size_t i = 0; i < keyed.size();) {
    const uint64_t key = keyed[i].first;
    const auto begin = static_cast<uint32_t>(postings_.size());
    for (; i < keyed.size() && keyed[i].first == key; ++i) {
      // A rule may list one value twice.
      if (postings_.size() == begin || postings_.back() != keyed[i].second) {
        postings_.push_back(keyed[i].second);
      }
    }
    index_[key] = Range{begin, static_cast<uint32_t>(postings_.size())};
  }
  unindexed_.begin = static_cast<uint32_t>(postings_.size());
  postings_.insert(postings_.end(), unindexed.begin(), unindexed.end());
  unindexed_.end = static_cast<uint32_t>(postings_.size());
  for (uint8_t length = 1; length < mac_first.size(); ++length) {
    if (mac_first[length] != UINT32_MAX) {
      lookups_.push_back(
          {.mac = true, .length = length, .first_rule = mac_first[length]});
    }
  }
  for (uint8_t length = 1; length < subnet_first.size(); ++length) {
    if (subnet_first[length] != UINT32_MAX) {
      lookups_.push_back(
          {.mac = false, .length = length, .first_rule = subnet_first[length]});
    }
  }
  std::sort(lookups_.begin(), lookups_.end(),
            [](const Lookup& a, const Lookup& b) {
              return a.first_rule < b.first_rule;
            });
}

void RuleMatcher::Scan(Range range, const ClientFacts& facts,
                       uint32_t* best) const {
  for (uint32_t i = range.begin; i < range.end; ++i) {
    const uint32_t rule = postings_[i];
    if (rule >= *best) return;
    if (Matches(*rules_[rule], facts)) {
      *best = rule;
      return;
    }
  }
}

int RuleMatcher::Match(const ClientFacts& facts) const {
  uint32_t best = UINT32_MAX;
  Scan(unindexed_, facts, &best);
  for (const Lookup& lookup : lookups_) {
    if (lookup.first_rule >= best) break;  // sorted: none later can win
    if (!lookup.mac && facts.subnet_address == 0) continue;
    const uint64_t key = lookup.mac
                             ? MacKey(facts.mac, lookup.length)
                             : SubnetKey(facts.subnet_address, lookup.length);
    if (auto it = index_.find(key); it != index_.end()) {
      Scan(it->second, facts, &best);
    }
  }
  return best == UINT32_MAX ? -1 : static_cast<int>(best);
}

}  // namespace pxe
