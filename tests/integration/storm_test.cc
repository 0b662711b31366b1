// A boot storm from pxe-storm against pxe-pdhcp with two workers (a
// chaddr-keyed fan-out group) in a namespace sandbox: every client boots on
// the first try, no answer is wrong or duplicated, and the daemon's counters
// add up (frames received = answered + dropped by reason). Modest scale, so
// it runs in CI; the big figures come from the benchmark.
#include <cstdio>
#include <regex>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

constexpr int kClients = 2000;

class StormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs pxe-pdhcp and "
          "pxe-storm's raw sockets inside them");
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
  }

  std::unique_ptr<Sandbox> sandbox_;
};

TEST_F(StormTest, TwoWorkersAnswerEveryClientOnceOnTheFirstTry) {
  absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
  absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
  ASSERT_TRUE(srv.ok() && cli.ok());
  ASSERT_TRUE(sandbox_->AddVethPair(*srv, "v1", *cli, "v0").ok());
  // A /16: pxe-storm's clients own 10.77.128.0/17 and ask on 4011 from there.
  ASSERT_TRUE(sandbox_->AddAddress(*srv, "v1", "10.77.0.1/16").ok());

  const std::string log = sandbox_->Path("proxy.log");
  absl::StatusOr<pid_t> daemon = sandbox_->Spawn(
      *srv,
      {PXE_PDHCP_BINARY, "--foreground", "--workers", "2", "-i", "v1",
       "--http-url", "http://10.77.0.1/boot.efi", "pxelinux.0"},
      log);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  ASSERT_TRUE(
      WaitForFileContains(log, " ready, 2 workers", absl::Seconds(10)).ok())
      << TailOfFile(log);

  absl::StatusOr<CommandResult> storm = sandbox_->RunIn(
      *cli,
      {PXE_STORM_BINARY, "-i", "v0", "-n", absl::StrCat(kClients),
       "--storm-window", "1", "--seed", "7", "--json"},
      absl::Seconds(90));
  ASSERT_TRUE(storm.ok()) << storm.status();
  ASSERT_EQ(storm->exit_code, 0) << storm->err;
  const std::string& json = storm->out;

  sandbox_->Stop(*daemon);  // SIGTERM: the daemon prints its counters
  const std::string summary = ReadFileOrEmpty(log);

  // What the clients saw.
  EXPECT_EQ(JsonNumber(json, "clients", "booted_first_try"), kClients) << json;
  EXPECT_EQ(JsonNumber(json, "clients", "never"), 0);
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "total"), 0) << json;
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "duplicates"), 0);
  EXPECT_EQ(JsonNumber(json, "sent", "discover_retries"), 0);

  // What the daemon says, and that it adds up: one reply per request, none
  // twice (two workers, one fan-out group), none lost.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      summary, m,
      std::regex("stopping: ([0-9]+) frames, ([0-9]+) answered, ([0-9]+) "
                 "lost in the ring([^\\n]*)")))
      << summary;
  const long frames = std::stol(m[1]);
  const long answered = std::stol(m[2]);
  EXPECT_EQ(std::stol(m[3]), 0);
  long dropped = 0;
  const std::string reasons = m[4];
  const std::regex reason("; [A-Za-z]+ ([0-9]+)");
  for (auto it = std::sregex_iterator(reasons.begin(), reasons.end(), reason);
       it != std::sregex_iterator(); ++it) {
    dropped += std::stol((*it)[1]);
  }
  EXPECT_EQ(frames, answered + dropped) << summary;
  EXPECT_EQ(answered, JsonNumber(json, "received", "replies")) << json;
  EXPECT_EQ(answered, JsonNumber(json, "sent", "discovers") +
                          JsonNumber(json, "sent", "requests_4011"));
}

}  // namespace
}  // namespace pxe::testing
