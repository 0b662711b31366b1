// pxe-pdhcp's Prometheus metrics, scraped from a running daemon in a
// sandbox LAN the way an operator would (pxe-pdhcp --status, an HTTP GET
// from inside the daemon's namespace): the counts match what pxe-probe and
// pxe-storm sent, reply counts keep their rule across a reload that
// reorders the rules, promtool accepts the scrape without a lint complaint,
// SIGUSR1 writes the counters to the log, and a metrics address in use
// stops the start with a clear error. The daemon runs in its sandbox (the
// default as root) as nobody.
//
//   namespace "srv"                       namespace "cli"
//     v1 10.77.0.1/16  <--veth-->   v0 (no address)
//     pxe-pdhcp, metrics on              pxe-probe, pxe-storm
//     127.0.0.1:9767
#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"

namespace pxe::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kMetricsAddress[] = "127.0.0.1:9767";

// Rules by name; the reload swaps their order and adds one in front.
constexpr char kConfig[] = R"(
[boot]
file = "pxelinux.0"
http_url = "http://10.77.0.1/boot.efi"

[[rule]]
name = "uefi-lab"
match = { arch = "uefi-x64" }
file = "uefi/syslinux.efi"

[[rule]]
name = "ignored-mac"
match = { mac = "02:00:00:00:0e:01" }
action = "ignore"
)";
constexpr char kReloadedConfig[] = R"(
[boot]
file = "pxelinux.0"
http_url = "http://10.77.0.1/boot.efi"

[[rule]]
name = "arm-lab"
match = { arch = "uefi-arm64" }
file = "arm/grub.efi"

[[rule]]
name = "ignored-mac"
match = { mac = "02:00:00:00:0e:01" }
action = "ignore"

[[rule]]
name = "uefi-lab"
match = { arch = "uefi-x64" }
file = "uefi/syslinux.efi"
)";

// The lines of `text`.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// A sample's value ("12", "0.0025"), or -1.
double Number(std::string_view text) {
  double v = -1;
  return absl::SimpleAtod(std::string(text), &v) ? v : -1;
}

// The value of one series in a scrape ("name{labels}" exactly as the
// daemon writes it), or -1 when it is not there.
double Value(const std::string& scrape, std::string_view series) {
  for (std::string_view line : Lines(scrape)) {
    if (line.size() > series.size() && line.starts_with(series) &&
        line[series.size()] == ' ') {
      return Number(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// The sum of every series of `name` (with any labels).
double Sum(const std::string& scrape, std::string_view name) {
  double total = 0;
  for (std::string_view line : Lines(scrape)) {
    if (!line.starts_with(name)) continue;
    const std::string_view rest = line.substr(name.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;
    total += Number(rest.substr(rest.rfind(' ') + 1));
  }
  return total;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      GTEST_SKIP() << "needs root: builds network namespaces and runs "
                      "pxe-pdhcp, pxe-probe and pxe-storm inside them";
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
    ASSERT_TRUE(srv.ok() && cli.ok());
    srv_ = *srv;
    cli_ = *cli;
    ASSERT_TRUE(sandbox_->AddVethPair(srv_, "v1", cli_, "v0").ok());
    // A /16: pxe-storm's clients own 10.77.128.0/17.
    ASSERT_TRUE(sandbox_->AddAddress(srv_, "v1", "10.77.0.1/16").ok());
    config_ = sandbox_->Path("pxe-pdhcp.toml");
    ASSERT_TRUE(WriteFile(config_, kConfig).ok());
    // The daemon runs as nobody: the file must be readable on SIGHUP.
    ASSERT_TRUE(
        sandbox_->RunInOrError(srv_, {"chmod", "a+rx", sandbox_->dir()}).ok());
  }

  // Starts the daemon with metrics on; its PID, or -1.
  pid_t StartDaemon() {
    log_ = sandbox_->Path("proxy.log");
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(
        srv_,
        {PXE_PDHCP_BINARY, "--foreground", "--workers", "2", "-i", "v1",
         "--user", "nobody", "-c", config_, "--metrics", kMetricsAddress},
        log_);
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) return -1;
    const absl::Status ready = WaitForFileContains(
        log_, " ready, 2 workers",
        WaitOptions{.timeout = absl::Seconds(10), .abort_if = [&] {
                      return sandbox_->CheckRunning(*pid, "pxe-pdhcp");
                    }});
    EXPECT_TRUE(ready.ok()) << ready << TailOfFile(log_);
    return ready.ok() ? *pid : -1;
  }

  // What an operator sees: pxe-pdhcp --status from inside the namespace.
  std::string Scrape() {
    absl::StatusOr<CommandResult> r = sandbox_->RunIn(
        srv_, {PXE_PDHCP_BINARY, "--status", "--metrics", kMetricsAddress});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err;
    return r->out;
  }

  // One pxe-probe run from the client namespace; its exit code.
  int Probe(std::vector<std::string> args) {
    std::vector<std::string> argv = {PXE_PROBE_BINARY, "-i", "v0",
                                     "--timeout",      "1",  "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r =
        sandbox_->RunIn(cli_, argv, absl::Seconds(15));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->exit_code : -1;
  }

  void Signal(pid_t pid, int signal) { ASSERT_EQ(kill(pid, signal), 0); }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string cli_;
  std::string config_;
  std::string log_;
};

TEST_F(MetricsTest, CountsMatchWhatClientsSentAndSurviveAReload) {
  const pid_t daemon = StartDaemon();
  ASSERT_GT(daemon, 0);
  EXPECT_THAT(ReadFileOrEmpty(log_),
              HasSubstr("metrics at http://127.0.0.1:9767/metrics"));

  // Three BIOS clients, offers only.
  constexpr int kBios = 3;
  for (int i = 1; i <= kBios; ++i) {
    EXPECT_EQ(
        Probe({"--no-4011", "--mac", absl::StrCat("02:00:00:00:0b:0", i)}), 0);
  }
  // Two UEFI x64 clients, through to the ACK on 4011 (rule "uefi-lab").
  constexpr int kUefi = 2;
  for (int i = 1; i <= kUefi; ++i) {
    EXPECT_EQ(
        Probe({"--arch", "7", "--client-ip", absl::StrCat("10.77.0.", 50 + i),
               "--mac", absl::StrCat("02:00:00:00:0c:0", i)}),
        0);
  }
  // Crafted ones that get nothing: a client that is not booting (no option
  // 60), an architecture no class serves (2: Itanium), a MAC a rule
  // ignores, and a VLAN this interface does not serve.
  EXPECT_EQ(Probe({"--no-4011", "--expect-none", "--vendor-class", ""}), 0);
  EXPECT_EQ(Probe({"--no-4011", "--expect-none", "--arch", "2"}), 0);
  EXPECT_EQ(Probe({"--no-4011", "--expect-none", "--mac", "02:00:00:00:0e:01"}),
            0);
  EXPECT_EQ(Probe({"--no-4011", "--expect-none", "--vlan", "5"}), 0);

  std::string s = Scrape();
  EXPECT_EQ(Value(s, "pxe_pdhcp_build_info{version=\"0.1.0\"}"), 1) << s;
  EXPECT_EQ(Value(s,
                  "pxe_pdhcp_requests_total{interface=\"v1\",type="
                  "\"discover\",arch=\"bios\"}"),
            kBios + 1)  // and the MAC the rule ignores
      << s;
  EXPECT_EQ(Value(s,
                  "pxe_pdhcp_requests_total{interface=\"v1\",type="
                  "\"discover\",arch=\"uefi-x64\"}"),
            kUefi);
  EXPECT_EQ(Value(s,
                  "pxe_pdhcp_requests_total{interface=\"v1\",type="
                  "\"request\",arch=\"uefi-x64\"}"),
            kUefi);
  EXPECT_EQ(Value(s,
                  "pxe_pdhcp_requests_total{interface=\"v1\",type="
                  "\"discover\",arch=\"unknown\"}"),
            1);
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_replies_total{type=\"offer\",rule=\"(defaults)\"}"),
      kBios);
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_replies_total{type=\"offer\",rule=\"uefi-lab\"}"),
      kUefi);
  EXPECT_EQ(Value(s, "pxe_pdhcp_replies_total{type=\"ack\",rule=\"uefi-lab\"}"),
            kUefi);
  EXPECT_EQ(Sum(s, "pxe_pdhcp_replies_total"), kBios + 2 * kUefi);
  EXPECT_EQ(Value(s, "pxe_pdhcp_drops_total{reason=\"NotBooting\"}"), 1);
  EXPECT_EQ(Value(s, "pxe_pdhcp_drops_total{reason=\"UnknownArch\"}"), 1);
  EXPECT_EQ(Value(s, "pxe_pdhcp_drops_total{reason=\"IgnoredByRule\"}"), 1);
  EXPECT_EQ(Value(s, "pxe_pdhcp_drops_total{reason=\"VlanNotServed\"}"), 1);
  // Every frame is answered or dropped for one reason; every reply timed.
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_frames_total"),
      Sum(s, "pxe_pdhcp_replies_total") + Sum(s, "pxe_pdhcp_drops_total"));
  EXPECT_EQ(Value(s, "pxe_pdhcp_reply_latency_seconds_count"),
            kBios + 2 * kUefi);
  EXPECT_EQ(Value(s, "pxe_pdhcp_reply_latency_seconds_bucket{le=\"+Inf\"}"),
            kBios + 2 * kUefi);
  EXPECT_EQ(Value(s, "pxe_pdhcp_reloads_total{result=\"success\"}"), 0);
  const double loaded_at =
      Value(s, "pxe_pdhcp_config_last_load_timestamp_seconds");
  EXPECT_NEAR(loaded_at, absl::ToUnixSeconds(absl::Now()), 120);

  // A reload that puts a new rule first and moves "uefi-lab" last: its
  // counts keep their label, and new ones add to them.
  ASSERT_TRUE(WriteFile(config_, kReloadedConfig).ok());
  Signal(daemon, SIGHUP);
  ASSERT_TRUE(
      WaitForFileContains(log_, "reloaded: policy", absl::Seconds(5)).ok())
      << TailOfFile(log_);
  EXPECT_EQ(Probe({"--no-4011", "--arch", "7", "--mac", "02:00:00:00:0c:09"}),
            0);
  EXPECT_EQ(Probe({"--no-4011", "--arch", "11", "--mac", "02:00:00:00:0a:01"}),
            0);
  // And one that fails: the running policy stays, the failure is counted.
  ASSERT_TRUE(WriteFile(config_, "[boot\n").ok());
  Signal(daemon, SIGHUP);
  ASSERT_TRUE(WaitForFileContains(log_, "reload failed", absl::Seconds(5)).ok())
      << TailOfFile(log_);

  s = Scrape();
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_replies_total{type=\"offer\",rule=\"uefi-lab\"}"),
      kUefi + 1)
      << s;
  EXPECT_EQ(Value(s, "pxe_pdhcp_replies_total{type=\"ack\",rule=\"uefi-lab\"}"),
            kUefi);
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_replies_total{type=\"offer\",rule=\"arm-lab\"}"), 1);
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_replies_total{type=\"offer\",rule=\"ignored-mac\"}"),
      -1);  // it never answers: no series
  EXPECT_EQ(Value(s, "pxe_pdhcp_reloads_total{result=\"success\"}"), 1);
  EXPECT_EQ(Value(s, "pxe_pdhcp_reloads_total{result=\"failure\"}"), 1);
  EXPECT_GE(Value(s, "pxe_pdhcp_config_last_load_timestamp_seconds"),
            loaded_at);

  // SIGUSR1: the counters in the log.
  Signal(daemon, SIGUSR1);
  EXPECT_TRUE(WaitForFileContains(
                  log_,
                  absl::StrCat("counters: ", Value(s, "pxe_pdhcp_frames_total"),
                               " frames, ", Sum(s, "pxe_pdhcp_replies_total"),
                               " answered"),
                  absl::Seconds(5))
                  .ok())
      << TailOfFile(log_);
  EXPECT_THAT(ReadFileOrEmpty(log_), HasSubstr("replies by uefi-lab 5"));

  // SIGTERM stops the metrics thread with the workers, inside the sandbox.
  sandbox_->Stop(daemon);
  EXPECT_THAT(
      std::string(sandbox_->CheckRunning(daemon, "pxe-pdhcp").message()),
      HasSubstr("exited with status 0"));
}

TEST_F(MetricsTest, AStormAddsUpAndPromtoolAcceptsTheScrape) {
  const absl::StatusOr<std::string> promtool = FindProgram("promtool");
  if (!promtool.ok()) {
    GTEST_SKIP() << "promtool is missing (Debian: prometheus; "
                    "tools/install-deps.sh --all)";
  }
  const pid_t daemon = StartDaemon();
  ASSERT_GT(daemon, 0);
  absl::StatusOr<CommandResult> storm =
      sandbox_->RunIn(cli_,
                      {PXE_STORM_BINARY, "-i", "v0", "-n", "500",
                       "--storm-window", "1", "--seed", "11", "--json"},
                      absl::Seconds(60));
  ASSERT_TRUE(storm.ok()) << storm.status();
  ASSERT_EQ(storm->exit_code, 0) << storm->err;
  const std::string& json = storm->out;
  const double replies = JsonNumber(json, "received", "replies");
  const double sent = JsonNumber(json, "sent", "discovers") +
                      JsonNumber(json, "sent", "requests_4011");
  ASSERT_GT(replies, 0) << json;

  const std::string s = Scrape();
  EXPECT_EQ(Sum(s, "pxe_pdhcp_replies_total"), replies) << json << s;
  EXPECT_EQ(Sum(s, "pxe_pdhcp_requests_total"), sent) << json;
  EXPECT_EQ(Value(s, "pxe_pdhcp_reply_latency_seconds_count"), replies);
  EXPECT_EQ(
      Value(s, "pxe_pdhcp_frames_total"),
      Sum(s, "pxe_pdhcp_replies_total") + Sum(s, "pxe_pdhcp_drops_total"));
  EXPECT_EQ(Value(s, "pxe_pdhcp_ring_drops_total"), 0);
  EXPECT_GT(Value(s, "pxe_pdhcp_reply_latency_seconds_sum"), 0);
  EXPECT_EQ(Value(s, "pxe_pdhcp_held_requests"), 0);

  // The exposition format, and Prometheus' naming lint.
  const std::string file = sandbox_->Path("scrape.txt");
  ASSERT_TRUE(WriteFile(file, s).ok());
  absl::StatusOr<CommandResult> check = sandbox_->RunIn(
      srv_, {"sh", "-c", absl::StrCat(*promtool, " check metrics < ", file)});
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->exit_code, 0) << check->out << check->err;
  EXPECT_EQ(check->out + check->err, "");
}

TEST_F(MetricsTest, AnAddressInUseOrMalformedStopsTheStart) {
  const pid_t daemon = StartDaemon();
  ASSERT_GT(daemon, 0);
  absl::StatusOr<CommandResult> second =
      sandbox_->RunIn(srv_, {PXE_PDHCP_BINARY, "--foreground", "-i", "v1",
                             "--metrics", kMetricsAddress, "pxelinux.0"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->exit_code, 1);
  EXPECT_THAT(second->err,
              HasSubstr("metrics: listening on 127.0.0.1:9767: Address "
                        "already in use"));

  absl::StatusOr<CommandResult> malformed =
      sandbox_->RunIn(srv_, {PXE_PDHCP_BINARY, "--foreground", "-i", "v1",
                             "--metrics", "127.0.0.1", "pxelinux.0"});
  ASSERT_TRUE(malformed.ok()) << malformed.status();
  EXPECT_EQ(malformed->exit_code, 1);
  EXPECT_THAT(malformed->err,
              HasSubstr("--metrics: metrics address \"127.0.0.1\" is not "
                        "ADDR:PORT"));
  // The first daemon still serves its metrics.
  EXPECT_EQ(Value(Scrape(), "pxe_pdhcp_build_info{version=\"0.1.0\"}"), 1);
}

}  // namespace
}  // namespace pxe::testing
