#include "engine/rule_matcher.h"

#include <algorithm>
#include <cstring>

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

RuleMatcher::RuleMatcher(std::span<const Rule> rules) {
  for (const Rule& rule : rules) rules_.push_back(&rule.match);
}

int RuleMatcher::Match(const ClientFacts& facts) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (Matches(*rules_[i], facts)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace pxe
