// libFuzzer target for the configuration file: any byte string, as the text
// of a TOML file, through LoadPolicyText() into a default DaemonConfig; when
// it loads, through ShadowWarnings() and PolicySnapshot::Compile(). The
// properties, whatever the text:
//
//  - nothing throws, aborts or crashes ("any input is safe");
//  - an error has a message, and every line of it is "fuzz.toml:LINE:COL: "
//    and some text, except a last "fuzz.toml: and N more errors";
//  - every warning is one line "fuzz.toml:LINE:COL: warning: ..."
//  - a file that loads compiles, or is refused only for want of a boot file
//    (the command line may still name one); with a boot file named, as the
//    command line would, it compiles;
//  - the compiled policy answers fixed clients, and clients made from each
//    rule's own match values: the rule AnswerFor() picks is the first one
//    the plain definition, Matches(), accepts (the matcher's hash index
//    must agree with a scan), and its answer is that rule's.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "engine/boot_policy.h"
#include "engine/policy_snapshot.h"
#include "engine/rule_matcher.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/config.h"
#include "tools/policy_file.h"

namespace pxe {
namespace {

constexpr std::string_view kPath = "fuzz.toml";
// Rules whose own match values become a client to ask about.
constexpr size_t kMaxRulesProbed = 16;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes a positive decimal number from the front of `*s`.
bool ConsumeNumber(std::string_view* s) {
  size_t n = 0;
  while (n < s->size() && IsDigit((*s)[n])) ++n;
  if (n == 0 || (n == 1 && (*s)[0] == '0')) return false;
  s->remove_prefix(n);
  return true;
}

// "fuzz.toml:LINE:COL: " followed by `more` and some text.
bool IsLocatedLine(std::string_view line, std::string_view more = {}) {
  if (!line.starts_with(kPath)) return false;
  line.remove_prefix(kPath.size());
  if (!line.starts_with(':')) return false;
  line.remove_prefix(1);
  if (!ConsumeNumber(&line) || !line.starts_with(':')) return false;
  line.remove_prefix(1);
  if (!ConsumeNumber(&line) || !line.starts_with(": ")) return false;
  line.remove_prefix(2);
  if (!line.starts_with(more)) return false;
  return line.size() > more.size();
}

// "fuzz.toml: and N more errors"
bool IsMoreErrorsLine(std::string_view line) {
  const std::string prefix = std::string(kPath) + ": and ";
  if (!line.starts_with(prefix)) return false;
  line.remove_prefix(prefix.size());
  return ConsumeNumber(&line) && line == " more errors";
}

void CheckErrorMessage(std::string_view message) {
  PXE_FUZZ_CHECK(!message.empty());
  for (size_t number = 1; !message.empty(); ++number) {
    const size_t end = message.find('\n');
    const std::string_view line = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size()
                                                        : end + 1);
    const bool last = message.empty();
    const bool ok =
        IsLocatedLine(line) || (last && number > 1 && IsMoreErrorsLine(line));
    if (!ok) {
      std::fprintf(stderr, "fuzz_config: error line %zu is not located: %.*s\n",
                   number, static_cast<int>(line.size()), line.data());
    }
    PXE_FUZZ_CHECK(ok);
  }
}

void CheckWarnings(std::span<const std::string> warnings) {
  for (const std::string& w : warnings) {
    const bool ok =
        IsLocatedLine(w, "warning: ") && w.find('\n') == std::string::npos;
    if (!ok) std::fprintf(stderr, "fuzz_config: warning: %s\n", w.c_str());
    PXE_FUZZ_CHECK(ok);
  }
}

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Clients the fuzzer's rules can be written against (the dictionary holds
// their values).
struct FixedClients {
  std::array<uint8_t, 16> uuid = {0x4c, 0x4c, 0x45, 0x44, 0x00, 0x32,
                                  0x35, 0x10, 0x80, 0x52, 0xb4, 0xc0,
                                  0x4f, 0x4d, 0x4e, 0x31};
  std::array<uint8_t, 3> remote_id = {0x0a, 0x0b, 0x0c};
  std::vector<ClientFacts> facts;

  FixedClients() {
    facts.push_back({});  // nothing known
    facts.push_back({.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
                     .arch = ArchClass::kBios,
                     .vendor_class = Bytes("PXEClient:Arch:00000:UNDI:002001"),
                     .user_class = Bytes("iPXE"),
                     .interface = "eth0"});
    facts.push_back({.mac = {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e},
                     .subnet_address = MakeIpv4(10, 12, 3, 4),
                     .arch = ArchClass::kUefiX64,
                     .vendor_class = Bytes("PXEClient:Arch:00007:UNDI:003000"),
                     .uuid = uuid,
                     .interface = "eth1",
                     .vlan = 5,
                     .circuit_id = Bytes("Gi1/0/12"),
                     .remote_id = remote_id});
    facts.push_back({.mac = {0xb8, 0x27, 0xeb, 0x00, 0x00, 0x01},
                     .subnet_address = MakeIpv4(192, 168, 1, 77),
                     .arch = ArchClass::kUefiArm64,
                     .vendor_class = Bytes("HTTPClient:Arch:00019:UNDI:003001"),
                     .interface = "eth0",
                     .vlan = 4094});
  }
};

const FixedClients& Clients() {
  static const FixedClients* clients = new FixedClients();
  return *clients;
}

std::span<const uint8_t> FirstPattern(const std::vector<BytePattern>& v) {
  return v.empty() ? std::span<const uint8_t>() : Bytes(v.front().text);
}

// A client that `match` matches: the first value of every field it sets.
ClientFacts FactsFrom(const RuleMatch& m) {
  ClientFacts f;
  if (!m.mac.empty()) f.mac = m.mac.front().octets;
  if (!m.subnet.empty()) {
    const Ipv4Prefix& p = m.subnet.front();
    f.subnet_address = p.network | (p.prefix_length < 32 ? 1 : 0);
  }
  if (m.arch_mask != 0) {
    f.arch = static_cast<ArchClass>(__builtin_ctz(m.arch_mask));
  }
  f.vendor_class = FirstPattern(m.vendor_class);
  f.user_class = FirstPattern(m.user_class);
  if (!m.uuid.empty()) f.uuid = m.uuid.front();
  if (!m.interface.empty()) f.interface = m.interface.front();
  if (!m.vlan.empty()) f.vlan = m.vlan.front();
  f.circuit_id = FirstPattern(m.circuit_id);
  f.remote_id = FirstPattern(m.remote_id);
  return f;
}

// The first rule that matches, by the definition.
int ScanRules(std::span<const Rule> rules, const ClientFacts& facts) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (Matches(rules[i].match, facts)) return static_cast<int>(i);
  }
  return -1;
}

void CheckAnswer(const PolicySnapshot& snapshot, const ClientFacts& facts) {
  const std::span<const Rule> rules = snapshot.policy().rules;
  int rule = -2;
  const ResolvedAnswer& answer = snapshot.AnswerFor(facts, &rule);
  const int expected = ScanRules(rules, facts);
  if (rule != expected) {
    std::fprintf(stderr, "fuzz_config: AnswerFor() picks rule %d, a scan %d\n",
                 rule, expected);
  }
  PXE_FUZZ_CHECK(rule == expected);
  if (rule < 0) {
    PXE_FUZZ_CHECK(&answer == &snapshot.defaults());
    PXE_FUZZ_CHECK(answer.rule_name.empty());
    PXE_FUZZ_CHECK(!answer.ignore);
    return;
  }
  const size_t i = static_cast<size_t>(rule);
  PXE_FUZZ_CHECK(i < snapshot.rule_answers().size());
  PXE_FUZZ_CHECK(&answer == &snapshot.rule_answers()[i]);
  PXE_FUZZ_CHECK(answer.rule_name == rules[i].name);
  PXE_FUZZ_CHECK(answer.ignore == (rules[i].action == RuleAction::kIgnore));
}

void CheckCompiled(const PolicySnapshot& snapshot) {
  for (const ClientFacts& facts : Clients().facts) {
    CheckAnswer(snapshot, facts);
  }
  const std::span<const Rule> rules = snapshot.policy().rules;
  for (size_t i = 0; i < rules.size() && i < kMaxRulesProbed; ++i) {
    const ClientFacts facts = FactsFrom(rules[i].match);
    PXE_FUZZ_CHECK(Matches(rules[i].match, facts));
    PXE_FUZZ_CHECK(ScanRules(rules, facts) <= static_cast<int>(i));
    CheckAnswer(snapshot, facts);
  }
}

void Run(std::string_view text) {
  DaemonConfig config;
  const absl::Status loaded = LoadPolicyText(text, kPath, &config);
  CheckWarnings(config.warnings);
  if (!loaded.ok()) {
    PXE_FUZZ_CHECK(loaded.code() == absl::StatusCode::kInvalidArgument);
    const std::string_view message(loaded.message().data(),
                                   loaded.message().size());
    CheckErrorMessage(message);
    return;
  }
  CheckWarnings(ShadowWarnings(config.policy.rules, kPath));

  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> compiled =
      PolicySnapshot::Compile(config.policy);
  if (!compiled.ok()) {
    // Only the whole can lack a boot file: the command line may name one.
    const bool no_file =
        absl::StartsWith(compiled.status().message(), "no boot file");
    if (!no_file) {
      std::fprintf(stderr, "fuzz_config: loaded, but does not compile: %s\n",
                   std::string(compiled.status().message()).c_str());
    }
    PXE_FUZZ_CHECK(no_file);
    config.policy.defaults.file = "pxelinux.0";  // <nbp name>
    compiled = PolicySnapshot::Compile(std::move(config.policy));
    if (!compiled.ok()) {
      std::fprintf(stderr,
                   "fuzz_config: with a boot file, does not compile: %s\n",
                   std::string(compiled.status().message()).c_str());
    }
    PXE_FUZZ_CHECK(compiled.ok());
  }
  PXE_FUZZ_CHECK(*compiled != nullptr);
  CheckCompiled(**compiled);
}

}  // namespace
}  // namespace pxe

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    pxe::Run(text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: exception escaped: %s\n", e.what());
    PXE_FUZZ_CHECK(false && "no exception escapes");
  } catch (...) {
    PXE_FUZZ_CHECK(false && "no exception escapes");
  }
  return 0;
}
