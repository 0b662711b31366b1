// Which rule a client falls under (engine/rule_matcher.h): the matching
// semantics the configuration file documents, field by field, and the
// compiled RuleMatcher agreeing with a plain first-match scan over Matches()
// on random policies and clients.
#include "engine/rule_matcher.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace pxe {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

MacPattern Mac(MacAddress octets, uint8_t length = 6) {
  for (size_t i = length; i < 6; ++i) octets[i] = 0;
  return {.octets = octets, .length = length};
}

Ipv4Prefix Net(uint32_t network, uint8_t length) {
  return {.network = network & Ipv4Prefix::Mask(length),
          .prefix_length = length};
}

Rule Named(std::string name, RuleMatch match) {
  return {.name = std::move(name), .match = std::move(match)};
}

uint32_t ArchBit(ArchClass arch) {
  return uint32_t{1} << static_cast<uint32_t>(arch);
}

constexpr MacAddress kClientMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint32_t kClientAddress = MakeIpv4(10, 12, 3, 4);

ClientFacts Client() {
  return {.mac = kClientMac,
          .subnet_address = kClientAddress,
          .arch = ArchClass::kUefiX64,
          .vendor_class = Bytes("PXEClient:Arch:00007:UNDI:003016"),
          .user_class = Bytes("iPXE"),
          .interface = "eth0",
          .vlan = 10,
          .circuit_id = Bytes("Gi1/0/7"),
          .remote_id = Bytes("switch-12")};
}

// One field of RuleMatch set to a value that matches Client(), or not.
struct FieldCase {
  std::string name;
  RuleMatch match;
  bool matches;
};

std::vector<FieldCase> FieldCases() {
  std::vector<FieldCase> cases;
  auto add = [&](std::string name, bool matches, auto set) {
    RuleMatch m;
    set(m);
    cases.push_back({std::move(name), std::move(m), matches});
  };
  add("EmptyMatchesEveryone", true, [](RuleMatch&) {});
  add("ExactMac", true, [](RuleMatch& m) { m.mac = {Mac(kClientMac)}; });
  add("OtherMac", false, [](RuleMatch& m) {
    m.mac = {Mac({0x52, 0x54, 0x00, 0x12, 0x34, 0x57})};
  });
  add("MacWildcardThreeOctets", true,
      [](RuleMatch& m) { m.mac = {Mac(kClientMac, 3)}; });
  add("MacWildcardOtherOui", false, [](RuleMatch& m) {
    m.mac = {Mac({0xb8, 0x27, 0xeb, 0, 0, 0}, 3)};
  });
  add("AnyListedMacMatches", true, [](RuleMatch& m) {
    m.mac = {Mac({0xb8, 0x27, 0xeb, 0, 0, 0}, 3), Mac(kClientMac, 5)};
  });
  add("Subnet", true,
      [](RuleMatch& m) { m.subnet = {Net(MakeIpv4(10, 12, 0, 0), 16)}; });
  add("OtherSubnet", false,
      [](RuleMatch& m) { m.subnet = {Net(MakeIpv4(10, 13, 0, 0), 16)}; });
  add("HostRoute", true,
      [](RuleMatch& m) { m.subnet = {Net(kClientAddress, 32)}; });
  add("Arch", true, [](RuleMatch& m) {
    m.arch_mask = ArchBit(ArchClass::kBios) | ArchBit(ArchClass::kUefiX64);
  });
  add("OtherArch", false,
      [](RuleMatch& m) { m.arch_mask = ArchBit(ArchClass::kUefiArm64); });
  add("VendorClassPrefix", true, [](RuleMatch& m) {
    m.vendor_class = {{.text = "PXEClient:Arch:00007", .prefix = true}};
  });
  add("VendorClassExactIsNotAPrefix", false, [](RuleMatch& m) {
    m.vendor_class = {{.text = "PXEClient:Arch:00007", .prefix = false}};
  });
  add("UserClass", true,
      [](RuleMatch& m) { m.user_class = {{.text = "iPXE"}}; });
  add("OtherUserClass", false,
      [](RuleMatch& m) { m.user_class = {{.text = "gPXE"}}; });
  add("Interface", true, [](RuleMatch& m) { m.interface = {"eth1", "eth0"}; });
  add("OtherInterface", false, [](RuleMatch& m) { m.interface = {"eth1"}; });
  add("Vlan", true, [](RuleMatch& m) { m.vlan = {10}; });
  add("UntaggedIsNotVlan10", false,
      [](RuleMatch& m) { m.vlan = {RuleMatch::kUntagged}; });
  add("CircuitId", true, [](RuleMatch& m) {
    m.circuit_id = {{.text = "Gi1/0/", .prefix = true}};
  });
  add("OtherCircuitId", false,
      [](RuleMatch& m) { m.circuit_id = {{.text = "Gi1/0/8"}}; });
  add("RemoteId", true,
      [](RuleMatch& m) { m.remote_id = {{.text = "switch-12"}}; });
  add("Uuid", false, [](RuleMatch& m) { m.uuid = {{1, 2, 3}}; });
  // Every field given must match: one wrong field is enough to fail.
  add("AllFieldsButOneMatch", false, [](RuleMatch& m) {
    m.mac = {Mac(kClientMac, 3)};
    m.subnet = {Net(MakeIpv4(10, 12, 0, 0), 16)};
    m.arch_mask = ArchBit(ArchClass::kUefiX64);
    m.vlan = {20};
  });
  add("AllFieldsMatch", true, [](RuleMatch& m) {
    m.mac = {Mac(kClientMac, 3)};
    m.subnet = {Net(MakeIpv4(10, 12, 0, 0), 16)};
    m.arch_mask = ArchBit(ArchClass::kUefiX64);
    m.vlan = {10};
    m.user_class = {{.text = "iPXE"}};
  });
  return cases;
}

class FieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(FieldTest, MatchesAsDocumented) {
  const FieldCase& c = GetParam();
  EXPECT_EQ(Matches(c.match, Client()), c.matches);
  // The compiled matcher agrees, with the rule alone and behind a rule
  // that never matches.
  const std::vector<Rule> rules = {
      Named("never", {.mac = {Mac({2, 0, 0, 0, 0, 1})}}),
      Named(c.name, c.match)};
  EXPECT_EQ(RuleMatcher(std::span(rules).subspan(1)).Match(Client()),
            c.matches ? 0 : -1);
  EXPECT_EQ(RuleMatcher(rules).Match(Client()), c.matches ? 1 : -1);
}

INSTANTIATE_TEST_SUITE_P(RuleMatcher, FieldTest,
                         ::testing::ValuesIn(FieldCases()),
                         [](const ::testing::TestParamInfo<FieldCase>& param) {
                           return param.param.name;
                         });

TEST(RuleMatcherTest, UnknownSubnetMatchesNoSubnetRule) {
  ClientFacts client = Client();
  client.subnet_address = 0;
  const std::vector<Rule> rules = {
      Named("everything", {.subnet = {Net(0, 0)}}),
      Named("rack", {.subnet = {Net(MakeIpv4(10, 12, 0, 0), 16)}})};
  EXPECT_EQ(RuleMatcher(rules).Match(client), -1);
  client.subnet_address = kClientAddress;
  EXPECT_EQ(RuleMatcher(rules).Match(client), 0);
}

TEST(RuleMatcherTest, FirstMatchInFileOrderWinsWhateverTheField) {
  // Each earlier rule is filed under another lookup (the unindexed list, a
  // subnet, a MAC prefix, an exact MAC): the earliest still wins.
  const std::vector<Rule> rules = {
      Named("x64", {.arch_mask = ArchBit(ArchClass::kUefiX64)}),
      Named("rack", {.subnet = {Net(MakeIpv4(10, 12, 0, 0), 16)}}),
      Named("oui", {.mac = {Mac(kClientMac, 3)}}),
      Named("exact", {.mac = {Mac(kClientMac)}})};
  for (size_t first = 0; first < rules.size(); ++first) {
    const std::span<const Rule> tail = std::span(rules).subspan(first);
    EXPECT_EQ(RuleMatcher(tail).Match(Client()), 0) << rules[first].name;
  }
  // Reversed, the exact MAC rule comes first.
  const std::vector<Rule> reversed(rules.rbegin(), rules.rend());
  EXPECT_EQ(RuleMatcher(reversed).Match(Client()), 0);
}

TEST(RuleMatcherTest, LaterRuleWinsWhenTheEarlierOneFailsAnotherField) {
  const std::vector<Rule> rules = {
      Named("exact-but-bios",
            {.mac = {Mac(kClientMac)}, .arch_mask = ArchBit(ArchClass::kBios)}),
      Named("oui", {.mac = {Mac(kClientMac, 3)}})};
  EXPECT_EQ(RuleMatcher(rules).Match(Client()), 1);
}

TEST(RuleMatcherTest, NoRulesMatchNothing) {
  EXPECT_EQ(RuleMatcher().Match(Client()), -1);
  EXPECT_EQ(RuleMatcher(std::span<const Rule>()).Match(Client()), -1);
}

TEST(RuleMatcherTest, SameValueListedTwiceIsHarmless) {
  const std::vector<Rule> rules = {
      Named("twice", {.mac = {Mac(kClientMac), Mac(kClientMac)}, .vlan = {20}}),
      Named("then", {.mac = {Mac(kClientMac)}})};
  EXPECT_EQ(RuleMatcher(rules).Match(Client()), 1);
}

TEST(RuleMatcherTest, FactsOfReadsRelayAgentSubOptions) {
  RequestInfo request;
  request.chaddr = kClientMac;
  // Option 82: circuit id (1) "ge-0/1", remote id (2) "sw1" (RFC 3046 §2).
  static constexpr uint8_t kRelayInfo[] = {1,   6, 'g', 'e', '-', '0', '/',
                                           '1', 2, 3,   's', 'w', '1'};
  request.relay_info = kRelayInfo;
  const ClientFacts facts = FactsOf(request, kClientAddress, "eth0");
  EXPECT_EQ(
      std::string_view(reinterpret_cast<const char*>(facts.circuit_id.data()),
                       facts.circuit_id.size()),
      "ge-0/1");
  EXPECT_EQ(
      std::string_view(reinterpret_cast<const char*>(facts.remote_id.data()),
                       facts.remote_id.size()),
      "sw1");
  EXPECT_EQ(facts.subnet_address, kClientAddress);
  EXPECT_EQ(facts.interface, "eth0");
  EXPECT_EQ(facts.vlan, RuleMatch::kUntagged);
}

// --- The compiled matcher against the definition, on random policies. ----

int PlainScan(std::span<const Rule> rules, const ClientFacts& facts) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (Matches(rules[i].match, facts)) return static_cast<int>(i);
  }
  return -1;
}

// Small value sets, so that random rules and clients collide often.
class RandomPolicy {
 public:
  explicit RandomPolicy(uint32_t seed) : rng_(seed) {}

  MacAddress RandomMac() {
    return {0x52, 0x54, Pick(2), Pick(3), Pick(3), Pick(4)};
  }
  uint32_t RandomAddress() {
    return MakeIpv4(10, Pick(2), Pick(4), static_cast<uint8_t>(Pick(4) * 64));
  }
  ArchClass RandomArch() { return static_cast<ArchClass>(Pick(3)); }

  Rule RandomRule(size_t n) {
    RuleMatch m;
    for (uint8_t k = Pick(3); k > 0; --k) {
      m.mac.push_back(Mac(RandomMac(), static_cast<uint8_t>(Pick(7))));
    }
    for (uint8_t k = Pick(3); k > 0; --k) {
      m.subnet.push_back(
          Net(RandomAddress(), static_cast<uint8_t>(Pick(5) * 8)));
    }
    if (Pick(3) == 0) m.arch_mask = ArchBit(RandomArch());
    if (Pick(4) == 0) m.vlan = {static_cast<uint16_t>(Pick(2) + 10)};
    if (Pick(5) == 0) m.interface = {Pick(2) ? "eth0" : "eth1"};
    return Named("r" + std::to_string(n), std::move(m));
  }

  ClientFacts RandomClient() {
    return {.mac = RandomMac(),
            .subnet_address = Pick(4) == 0 ? 0 : RandomAddress(),
            .arch = RandomArch(),
            .interface = Pick(2) ? "eth0" : "eth1",
            .vlan = static_cast<uint16_t>(Pick(2) + 10)};
  }

 private:
  uint8_t Pick(int n) {
    return static_cast<uint8_t>(
        std::uniform_int_distribution<int>(0, n - 1)(rng_));
  }
  std::mt19937 rng_;
};

TEST(RuleMatcherTest, AgreesWithThePlainScanOnRandomPolicies) {
  int matched = 0;
  int unmatched = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    RandomPolicy random(seed);
    std::vector<Rule> rules;
    const size_t count = seed % 40;
    for (size_t i = 0; i < count; ++i) rules.push_back(random.RandomRule(i));
    const RuleMatcher matcher(rules);
    for (int c = 0; c < 200; ++c) {
      const ClientFacts client = random.RandomClient();
      const int expected = PlainScan(rules, client);
      ASSERT_EQ(matcher.Match(client), expected)
          << "seed " << seed << " client " << c;
      (expected < 0 ? unmatched : matched)++;
    }
  }
  // The generator reaches both outcomes often, or the comparison says little.
  EXPECT_GT(matched, 2000);
  EXPECT_GT(unmatched, 2000);
}

}  // namespace
}  // namespace pxe
