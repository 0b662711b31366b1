// Which rule of a policy a client falls under: the first rule, in file order,
// whose every given field matches (BootPolicy::rules). Compiled once per
// policy into lookup structures; Match() allocates nothing and costs a few
// hash lookups however many MAC and subnet rules the policy has.
#ifndef PXE_ENGINE_RULE_MATCHER_H_
#define PXE_ENGINE_RULE_MATCHER_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
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

// Each rule is filed under one key field: its MAC patterns (one hash entry
// per pattern, keyed by prefix length and octets), else its subnets (keyed
// by prefix length and network), else a short list of rules tried for every
// client. A client's candidates are the rules under its own MAC prefixes and
// subnets plus that list; each candidate is checked in full with Matches(),
// in rule order, and the lowest matching index wins, so first-match order is
// exactly that of the plain scan.
class RuleMatcher {
 public:
  RuleMatcher() = default;
  // `rules` must outlive the matcher (the snapshot owns both).
  explicit RuleMatcher(std::span<const Rule> rules);

  // Index of the first matching rule, or -1.
  int Match(const ClientFacts& facts) const;

 private:
  // A run of ascending rule indices in postings_.
  struct Range {
    uint32_t begin = 0;
    uint32_t end = 0;
  };
  // Lowers *best to the first index in `range` below it whose rule matches.
  void Scan(Range range, const ClientFacts& facts, uint32_t* best) const;

  std::vector<const RuleMatch*> rules_;
  std::vector<uint32_t> postings_;
  absl::flat_hash_map<uint64_t, Range> index_;
  Range unindexed_;
  // The prefix lengths that occur, each with the first rule filed under
  // it, in that rule's order: a lookup is skipped once a match was found
  // before its first rule.
  struct Lookup {
    bool mac = false;  // else a subnet
    uint8_t length = 0;
    uint32_t first_rule = 0;
  };
  std::vector<Lookup> lookups_;
};

}  // namespace pxe

#endif  // PXE_ENGINE_RULE_MATCHER_H_
