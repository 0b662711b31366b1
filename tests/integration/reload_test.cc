// Reloading the policy under load: pxe-storm powers on clients at a steady
// 20,000/s while pxe-pdhcp is sent SIGHUP a hundred times, its file
// alternating between two valid policies and a broken one. Every client
// must boot on the first try, every reply must come whole from one policy
// (policy A's boot file with A's TFTP server, or B's with B's: never a mix),
// both policies must have answered, and every broken file must be logged
// and ignored.
#include <signal.h>

#include <cstdio>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

constexpr int kClients = 80000;
constexpr int kRate = 20000;
constexpr int kReloads = 100;

std::string Policy(const std::string& file, const std::string& tftp) {
  return absl::StrCat("[server]\ntftp_server = \"", tftp,
                      "\"\n\n[boot]\nfile = \"", file, "\"\n");
}

int CountMatches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                    std::sregex_iterator()));
}

TEST(ReloadTest, HundredReloadsUnderLoadLoseNoClientAndNeverMixPolicies) {
  if (!IsRoot()) {
    PXE_CANNOT_RUN(
        "needs root: builds network namespaces and runs pxe-pdhcp and "
        "pxe-storm's raw sockets inside them");
  }
  absl::StatusOr<std::unique_ptr<Sandbox>> made = Sandbox::Create();
  ASSERT_TRUE(made.ok()) << made.status();
  Sandbox& sandbox = **made;
  absl::StatusOr<std::string> srv = sandbox.AddNamespace("srv");
  absl::StatusOr<std::string> cli = sandbox.AddNamespace("cli");
  ASSERT_TRUE(srv.ok() && cli.ok());
  ASSERT_TRUE(sandbox.AddVethPair(*srv, "v1", *cli, "v0").ok());
  // A /8: the 80,000 clients own 10.80.0.0/14 and ask on 4011 from there.
  ASSERT_TRUE(sandbox.AddAddress(*srv, "v1", "10.77.0.1/8").ok());

  const std::string policy_a = Policy("policy-a.0", "10.77.0.1");
  const std::string policy_b = Policy("policy-b.0", "10.77.0.2");
  const std::string broken = "[boot\nfile = \"broken.0\"\n";
  const std::string config = sandbox.Path("pxe-pdhcp.toml");
  const std::string next = sandbox.Path("next.toml");
  ASSERT_TRUE(WriteFile(config, policy_a).ok());

  const std::string log = sandbox.Path("proxy.log");
  absl::StatusOr<pid_t> daemon =
      sandbox.Spawn(*srv,
                    {PXE_PDHCP_BINARY, "--foreground", "--workers", "2", "-i",
                     "v1", "-c", config},
                    log);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  ASSERT_TRUE(
      WaitForFileContains(log, " ready, 2 workers", absl::Seconds(10)).ok())
      << TailOfFile(log);

  const std::string storm_out = sandbox.Path("storm.json");
  absl::StatusOr<pid_t> storm = sandbox.Spawn(
      *cli,
      {PXE_STORM_BINARY, "-i", "v0", "-n", absl::StrCat(kClients), "--rate",
       absl::StrCat(kRate), "--mix", "bios=50,uefi-x64=50", "--client-net",
       "10.80.0.0/14", "--seed", "11", "--json"},
      storm_out);
  ASSERT_TRUE(storm.ok()) << storm.status();

  // The reloads, spread over the storm's 4 s: A, B, broken, A, B, ...
  absl::SleepFor(absl::Milliseconds(300));
  int valid = 0, failed = 0;
  const absl::Time reloads_started = absl::Now();
  for (int i = 1; i <= kReloads; ++i) {
    const std::string& text =
        i % 3 == 0 ? broken : (i % 3 == 1 ? policy_b : policy_a);
    (i % 3 == 0 ? failed : valid) += 1;
    ASSERT_TRUE(WriteFile(next, text).ok());
    ASSERT_EQ(std::rename(next.c_str(), config.c_str()), 0);
    ASSERT_EQ(::kill(*daemon, SIGHUP), 0);
    absl::SleepFor(absl::Milliseconds(30));
  }
  const absl::Duration reloading = absl::Now() - reloads_started;
  ASSERT_TRUE(sandbox.CheckRunning(*daemon, "pxe-pdhcp").ok())
      << TailOfFile(log);
  // The reloads happened under load: the storm was still sending.
  EXPECT_TRUE(sandbox.IsRunning(*storm))
      << "the storm ended before the reloads";

  // pxe-storm ends by itself once every client has booted or given up.
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (sandbox.IsRunning(*storm) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(sandbox.IsRunning(*storm)) << "pxe-storm did not finish";
  const std::string json = ReadFileOrEmpty(storm_out);
  sandbox.Stop(*daemon);
  const std::string daemon_log = ReadFileOrEmpty(log);

  EXPECT_EQ(JsonNumber(json, "clients", "booted_first_try"), kClients) << json;
  EXPECT_EQ(JsonNumber(json, "clients", "never"), 0);
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "total"), 0) << json;

  // Every reply that named a file came whole from one policy.
  std::smatch m;
  const std::regex entry(
      "\\{\"file\":\"([^\"]*)\",\"siaddr\":\"([0-9.]+)\",\"count\":([0-9]+)"
      "\\}");
  long a = 0, b = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), entry);
       it != std::sregex_iterator(); ++it) {
    const std::string pair = (*it)[1].str() + " from " + (*it)[2].str();
    const long count = std::stol((*it)[3]);
    if (pair == "policy-a.0 from 10.77.0.1") {
      a += count;
    } else if (pair == "policy-b.0 from 10.77.0.2") {
      b += count;
    } else {
      ADD_FAILURE() << count << " replies with a mix or another file: " << pair;
    }
  }
  EXPECT_GT(a, 0) << json;
  EXPECT_GT(b, 0) << json;
  EXPECT_NE(json.find("\"boot_files_other\":0"), std::string::npos) << json;
  // Each BIOS client takes its file from the offer, each UEFI client from
  // its 4011 ACK: one file per client.
  EXPECT_GE(a + b, kClients);
  std::printf(
      "%d reloads in %.1f s under load: %ld files from policy A, %ld "
      "from policy B\n",
      kReloads, absl::ToDoubleSeconds(reloading), a, b);

  EXPECT_EQ(CountMatches(daemon_log, "reloaded: policy [0-9]+"), valid)
      << TailOfFile(log);
  EXPECT_EQ(CountMatches(daemon_log, "reload failed, the running policy stays"),
            failed)
      << TailOfFile(log);
}

}  // namespace
}  // namespace pxe::testing
