// The configuration examples users copy: tools/pxe-pdhcp.toml as shipped and
// with every example line uncommented, and the README's worked example,
// which must load, compile, and give the clients the README names the rules
// the README says they get.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/policy_snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/command.h"
#include "tools/config.h"
#include "tools/policy_file.h"

namespace pxe {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// In tools/pxe-pdhcp.toml, "## " explains and "# " comments out an example.
constexpr std::string_view kExamplePrefix = "# ";
// [[rule]]s in tools/pxe-pdhcp.toml once every example is uncommented.
constexpr size_t kExampleRules = 10;

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(PXE_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with the "# " taken off every line that starts with it.
std::string Uncomment(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    if (std::string_view(line).starts_with(kExamplePrefix)) {
      line.erase(0, kExamplePrefix.size());
    }
    out += line + "\n";
  }
  return out;
}

// The ```toml block right under README.md's "## Configuration file" (after
// one blank line), or empty.
std::string ReadmeExample() {
  constexpr std::string_view kStart = "\n## Configuration file\n\n```toml\n";
  const std::string readme = ReadSource("README.md");
  const size_t start = readme.find(kStart);
  if (start == std::string::npos) return "";
  const size_t begin = start + kStart.size();
  const size_t end = readme.find("\n```\n", begin);
  if (end == std::string::npos) return "";
  return readme.substr(begin, end + 1 - begin);
}

// Loads `text` as the daemon's -c file and compiles it; the loaded config.
DaemonConfig LoadAndCompile(const std::string& text, std::string_view name) {
  DaemonConfig config;
  const absl::Status loaded = LoadPolicyText(text, name, &config);
  EXPECT_TRUE(loaded.ok()) << loaded;
  const absl::Status valid = ValidateBootPolicy(config.policy);
  EXPECT_TRUE(valid.ok()) << valid;
  const auto compiled = PolicySnapshot::Compile(config.policy);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return config;
}

using RunResult = ::pxe::testing::CommandResult;

RunResult RunPdhcp(const std::string& args) {
  return ::pxe::testing::RunCommand(std::string(PXE_PDHCP_BINARY) + " " + args);
}

using ::pxe::testing::TempFile;

TEST(ExampleConfigTest, ShippedFileLoadsAsIs) {
  const DaemonConfig config =
      LoadAndCompile(ReadSource("tools/pxe-pdhcp.toml"), "pxe-pdhcp.toml");
  EXPECT_EQ(config.policy.defaults.file, "pxelinux.0");
  EXPECT_THAT(config.policy.rules, IsEmpty());
  EXPECT_THAT(config.warnings, IsEmpty());
}

TEST(ExampleConfigTest, ShippedFileLoadsWithEveryExampleUncommented) {
  const std::string text = Uncomment(ReadSource("tools/pxe-pdhcp.toml"));
  const DaemonConfig config = LoadAndCompile(text, "pxe-pdhcp.toml");
  EXPECT_EQ(config.policy.rules.size(), kExampleRules) << text;
  EXPECT_EQ(config.policy.menus.size(), 1u);
  EXPECT_THAT(config.interfaces, ::testing::ElementsAre("eth1"));
  EXPECT_THAT(config.warnings, IsEmpty());
}

// What the package's users run first.
TEST(ExampleConfigTest, ShippedFilePassesCheckConfig) {
  const RunResult as_is = RunPdhcp(std::string("--check-config -c ") +
                                   PXE_SOURCE_DIR + "/tools/pxe-pdhcp.toml");
  EXPECT_EQ(as_is.exit_code, 0) << as_is.output;
  EXPECT_THAT(as_is.output, HasSubstr("configuration OK"));
  const TempFile all(Uncomment(ReadSource("tools/pxe-pdhcp.toml")));
  const RunResult uncommented = RunPdhcp("--check-config -c " + all.path());
  EXPECT_EQ(uncommented.exit_code, 0) << uncommented.output;
  EXPECT_THAT(
      uncommented.output,
      HasSubstr(absl::StrCat("[[rule]] ", kExampleRules,
                             ", tried in order; the first match wins")));
}

TEST(ExampleConfigTest, ReadmeExampleLoads) {
  const std::string text = ReadmeExample();
  ASSERT_FALSE(text.empty())
      << "README.md: no ```toml block right under \"## Configuration file\"";
  const DaemonConfig config = LoadAndCompile(text, "cluster.toml");
  EXPECT_EQ(config.policy.rules.size(), 4u);
  EXPECT_THAT(config.warnings, IsEmpty());
}

// The clients the README explains, and a Raspberry Pi, get the rules the
// README says they get.
TEST(ExampleConfigTest, ReadmeExampleExplains) {
  const std::string readme = ReadSource("README.md");
  const TempFile file(ReadmeExample());
  struct Case {
    std::string client;
    std::string rule;
    int exit_code;
    std::string reply;
  };
  const Case cases[] = {
      {"mac=52:54:00:12:00:07 arch=uefi-x64 subnet=10.12.3.7",
       "rack12-reinstall", 0, "file \"installer/shimx64.efi\""},
      {"mac=52:54:00:0a:00:17 arch=bios", "db-01-local-disk", 3,
       "no reply: a rule says: ignore"},
      {"mac=dc:a6:32:01:02:03 arch=bios", "raspberry-pi", 0,
       "Raspberry Pi Boot"},
  };
  for (const Case& c : cases) {
    const RunResult r =
        RunPdhcp("-c " + file.path() + " --explain " + c.client);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.client << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("rule:    \"" + c.rule + "\"")) << c.client;
    EXPECT_THAT(r.output, HasSubstr(c.reply)) << c.client;
  }
  // The README shows the first two with these rule names.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_THAT(readme, HasSubstr("--explain " + cases[i].client));
    EXPECT_THAT(readme, HasSubstr("rule:    \"" + cases[i].rule + "\""));
  }
}

}  // namespace
}  // namespace pxe
