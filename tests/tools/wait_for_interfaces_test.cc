// --wait-for-interfaces and [server] wait_for_interfaces: how the daemon is
// told to wait for an interface missing at start instead of failing.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/command.h"
#include "tools/config.h"

namespace pxe {
namespace {

using ::pxe::testing::TempFile;
using ::testing::HasSubstr;

absl::StatusOr<DaemonConfig> Parse(std::vector<const char*> argv) {
  return ParseCommandLine(argv);
}

TEST(WaitForInterfacesTest, OffByDefault) {
  absl::StatusOr<DaemonConfig> c = Parse({"-i", "eth1", "pxelinux.0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->wait_for_interfaces);
}

TEST(WaitForInterfacesTest, TheFlagTurnsItOn) {
  absl::StatusOr<DaemonConfig> c =
      Parse({"--wait-for-interfaces", "-i", "eth1", "pxelinux.0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->wait_for_interfaces);
}

TEST(WaitForInterfacesTest, TheFlagTakesNoValue) {
  absl::StatusOr<DaemonConfig> c =
      Parse({"--wait-for-interfaces=no", "pxelinux.0"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("takes no value"));
}

TEST(WaitForInterfacesTest, TheFileTurnsItOnAndOff) {
  TempFile on(
      "[server]\ninterfaces = [\"eth1\"]\nwait_for_interfaces = true\n"
      "[boot]\nfile = \"pxelinux.0\"\n");
  absl::StatusOr<DaemonConfig> c = Parse({"-c", on.path().c_str()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->wait_for_interfaces);

  TempFile off(
      "[server]\nwait_for_interfaces = false\n"
      "[boot]\nfile = \"pxelinux.0\"\n");
  c = Parse({"-c", off.path().c_str()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->wait_for_interfaces);
  // The flag wins over the file.
  c = Parse({"-c", off.path().c_str(), "--wait-for-interfaces"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->wait_for_interfaces);
}

TEST(WaitForInterfacesTest, TheKeyIsABoolean) {
  TempFile file(
      "[server]\nwait_for_interfaces = \"yes\"\n"
      "[boot]\nfile = \"pxelinux.0\"\n");
  absl::StatusOr<DaemonConfig> c = Parse({"-c", file.path().c_str()});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("[server] wait_for_interfaces must be true or false"));
}

TEST(WaitForInterfacesTest, HelpNamesTheFlag) {
  EXPECT_THAT(UsageText(), HasSubstr("--wait-for-interfaces"));
}

}  // namespace
}  // namespace pxe
