// A compiled, immutable boot policy: what the packet path reads. Compile()
// validates a BootPolicy and resolves every answer once (per architecture,
// defaults filled in, extra options encoded), so deciding a reply is a rule
// lookup and a few array reads. Workers share one snapshot read-only; a
// reload publishes a new one (engine/snapshot_cell.h).
#ifndef PXE_ENGINE_POLICY_SNAPSHOT_H_
#define PXE_ENGINE_POLICY_SNAPSHOT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/boot_policy.h"
#include "engine/rule_matcher.h"

namespace pxe {

// One rule's (or the defaults') answer with nothing left to inherit.
struct ResolvedAnswer {
  std::string_view rule_name;                         // empty for the defaults
  bool ignore = false;                                // action = "ignore"
  bool log = false;                                   // log = true
  std::array<std::string, kArchClassCount> pxe_file;  // empty: none
  std::array<std::string, kArchClassCount> http_url;  // empty: none
  // For HTTP boot over IPv6: the IPv6 URL, else an IPv4 one whose host is a
  // name (it resolves for either family); empty: none.
  std::array<std::string, kArchClassCount> http_url6;
  std::string ipxe_script;
  uint32_t tftp_server = 0;    // 0 = the answering address
  Ipv6Address tftp_server6{};  // all zeros = the answering address
  uint32_t reply_delay_ms = 0;
  const Menu* menu = nullptr;  // into the snapshot's policy
  bool raspberry_pi = false;
  // Extra options as TLVs, ready to copy into a reply (sorted by code).
  std::vector<uint8_t> extra_options;
  bool has_option67 = false;  // an extra option 67 replaces ours
  bool has_option66 = false;  // an extra option 66 replaces the Pi's
};

class PolicySnapshot {
 public:
  // Validates `policy` and compiles it. The error names the rule, menu or
  // setting and what to write instead.
  static absl::StatusOr<std::unique_ptr<const PolicySnapshot>> Compile(
      BootPolicy policy);

  const BootPolicy& policy() const { return policy_; }
  const ResolvedAnswer& defaults() const { return defaults_; }
  std::span<const ResolvedAnswer> rule_answers() const { return rules_; }

  // The answer for a client: the first matching rule's, else the defaults.
  // `rule` (optional) receives the rule's index or -1.
  const ResolvedAnswer& AnswerFor(const ClientFacts& facts,
                                  int* rule = nullptr) const {
    const int i = matcher_.Match(facts);
    if (rule != nullptr) *rule = i;
    return i < 0 ? defaults_ : rules_[static_cast<size_t>(i)];
  }

  PolicySnapshot(const PolicySnapshot&) = delete;
  PolicySnapshot& operator=(const PolicySnapshot&) = delete;

 private:
  explicit PolicySnapshot(BootPolicy policy);

  BootPolicy policy_;
  ResolvedAnswer defaults_;
  std::vector<ResolvedAnswer> rules_;
  RuleMatcher matcher_;
};

// Checks every name, address, option and menu once, at load time, so the
// packet path never has to cut a name short or refuse an option.
absl::Status ValidateBootPolicy(const BootPolicy& policy);

// Option codes a policy may not send: they assign an address or a lease,
// or pxe-pdhcp writes them itself. The reason, or empty if allowed.
std::string_view RefusedOptionReason(uint8_t code);

}  // namespace pxe

#endif  // PXE_ENGINE_POLICY_SNAPSHOT_H_
