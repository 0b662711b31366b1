// Which rule of a policy a client falls under: the first rule, in file order,
// whose every given field matches (BootPolicy::rules). Compiled once per
// policy into lookup structures; Match() allocates nothing.
#ifndef PXE_ENGINE_RULE_MATCHER_H_
#define PXE_ENGINE_RULE_MATCHER_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/boot_policy.h"
#include "engine/request.h"

namespace pxe {

// What a rule can match on, for one request.
struct ClientFacts {
  MacAddress mac{};
  // The client's address as far as it is known (giaddr for a relayed
  // request, the 4011 request's address, or the LAN server's offer); 0 =
  // unknown: no subnet rule matches.
  uint32_t subnet_address = 0;
  ArchClass arch = ArchClass::kBios;
  std::span<const uint8_t> vendor_class;  // option 60
  std::span<const uint8_t> user_class;    // option 77
  std::span<const uint8_t> uuid;          // option 97 without type: 16 bytes
  std::string_view interface;
  uint16_t vlan = RuleMatch::kUntagged;
  std::span<const uint8_t> circuit_id;  // option 82.1
  std::span<const uint8_t> remote_id;   // option 82.2
};

// The facts of a classified request. `subnet_address` as above.
ClientFacts FactsOf(const RequestInfo& request, uint32_t subnet_address,
                    std::string_view interface);

// Whether `match` matches `facts`: the definition every faster lookup must
// agree with.
bool Matches(const RuleMatch& match, const ClientFacts& facts);

class RuleMatcher {
 public:
  RuleMatcher() = default;
  explicit RuleMatcher(std::span<const Rule> rules);

  // Index of the first matching rule, or -1.
  int Match(const ClientFacts& facts) const;

 private:
  std::vector<const RuleMatch*> rules_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_RULE_MATCHER_H_
