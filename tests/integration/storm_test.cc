// A boot storm from pxe-storm against pxe-pdhcp with two workers (a
// chaddr-keyed fan-out group) in a namespace sandbox: every client boots on
// the first try, no answer is wrong or duplicated (pxe-storm knows the file
// for each architecture and the servers, so a worker that sends the wrong
// one is caught), and the daemon's counters add up (frames received =
// answered + dropped by reason). Then the same check against deliberately
// wrong servers, a real pxe-pdhcp configured otherwise than pxe-storm
// expects: it must fire for exactly the clients concerned. And the rings'
// limits: a small receive ring that overflows, a transmit ring that fills
// (a slow link), each loss counted in the stop summary; --busy-poll; and
// PXEv6 and HTTPv6 clients beside IPv4 ones. Modest
// scale, so it runs in CI; the big figures come from the benchmark.
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

constexpr int kClients = 2000;

// The proxy, its TFTP server (another host), and a file per architecture.
constexpr char kProxy[] = "10.77.0.1";
constexpr char kTftp[] = "10.77.0.5";
constexpr char kHttpUrl[] = "http://10.77.0.1/boot.efi";

// pxe-storm flags saying what the right answers are.
std::vector<std::string> Expectations() {
  return {"--expect-server",      kProxy,
          "--expect-tftp-server", kTftp,
          "--expect-file",        "bios=pxelinux.0",
          "--expect-file",        "uefi-x64=grubx64.efi",
          "--expect-file",        "uefi-arm64=grubaa64.efi",
          "--expect-http-url",    kHttpUrl};
}

long Number(const std::string& json, const std::string& section,
            const std::string& key) {
  return static_cast<long>(JsonNumber(json, section, key));
}

// pxe-pdhcp's stop line: "stopping: F frames, A answered, L lost in the
// ring; Reason N; ...".
struct Summary {
  bool found = false;
  long frames = 0;
  long answered = 0;
  long lost_in_ring = 0;
  long dropped = 0;  // the sum of the reasons
  std::string text;
};

Summary ReadSummary(const std::string& log) {
  Summary s;
  std::smatch m;
  if (!std::regex_search(log, m,
                         std::regex("stopping: ([0-9]+) frames, ([0-9]+) "
                                    "answered, ([0-9]+) lost in the "
                                    "ring([^\\n]*)"))) {
    return s;
  }
  s.found = true;
  s.text = m[0];
  s.frames = std::stol(m[1]);
  s.answered = std::stol(m[2]);
  s.lost_in_ring = std::stol(m[3]);
  const std::string reasons = m[4];
  const std::regex reason("; [A-Za-z]+ ([0-9]+)");
  for (auto it = std::sregex_iterator(reasons.begin(), reasons.end(), reason);
       it != std::sregex_iterator(); ++it) {
    s.dropped += std::stol((*it)[1]);
  }
  return s;
}

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
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
    ASSERT_TRUE(srv.ok() && cli.ok());
    srv_ = *srv;
    cli_ = *cli;
    ASSERT_TRUE(sandbox_->AddVethPair(srv_, "v1", cli_, "v0").ok());
    // A /16: pxe-storm's clients own 10.77.128.0/17 and ask on 4011 from
    // there.
    ASSERT_TRUE(sandbox_->AddAddress(srv_, "v1", "10.77.0.1/16").ok());
  }

  // Starts pxe-pdhcp with `workers` workers and `flags` on v1.
  void StartProxy(const std::vector<std::string>& flags, int workers = 2) {
    log_ = sandbox_->Path("proxy.log");
    std::vector<std::string> argv = {
        PXE_PDHCP_BINARY,      "--foreground", "--workers",
        absl::StrCat(workers), "-i",           "v1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<pid_t> daemon = sandbox_->Spawn(srv_, argv, log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *daemon;
    ASSERT_TRUE(
        WaitForFileContains(log_, absl::StrCat(" ready, ", workers, " worker"),
                            absl::Seconds(10))
            .ok())
        << TailOfFile(log_);
  }

  // The daemon's stop line, once it has stopped (SIGTERM).
  Summary StopAndSummarize() {
    sandbox_->Stop(daemon_);
    return ReadSummary(ReadFileOrEmpty(log_));
  }

  // Runs pxe-storm on v0 with --json and `flags`; returns its report.
  std::string RunStorm(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {PXE_STORM_BINARY, "-i", "v0", "--json"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<CommandResult> storm =
        sandbox_->RunIn(cli_, argv, absl::Seconds(90));
    EXPECT_TRUE(storm.ok()) << storm.status();
    if (!storm.ok()) return "";
    EXPECT_EQ(storm->exit_code, 0) << storm->err;
    return storm->out;
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_, cli_, log_;
  pid_t daemon_ = 0;
};

TEST_F(StormTest, TwoWorkersAnswerEveryClientOnceOnTheFirstTry) {
  StartProxy({"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0",
              "--boot-file", "uefi-x64=grubx64.efi", "--boot-file",
              "uefi-arm64=grubaa64.efi", "--http-url", kHttpUrl});
  std::vector<std::string> flags = {
      "-n", absl::StrCat(kClients), "--storm-window", "1", "--seed", "7"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());

  sandbox_->Stop(daemon_);  // SIGTERM: the daemon prints its counters
  const std::string summary = ReadFileOrEmpty(log_);

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

// Every reply on the wire, decoded by a decoder that is not ours: tcpdump
// writes what v1 sends, and tests/testing/tshark_replies.py runs Wireshark's
// DHCP dissector over it. Each reply must decode without a malformed packet
// or an error (bad checksum), with the fields every proxy reply carries
// (RFC 2131 §2 and §4.1, RFC 2132, PXE 2.1), and there must be as many as
// pxe-storm received.
TEST_F(StormTest, EveryReplyOnTheWireDecodesCleanlyWithTshark) {
  for (const char* program : {"tcpdump", "tshark", "python3"}) {
    if (!FindProgram(program).ok()) {
      PXE_CANNOT_RUN(absl::StrCat(program,
                                  " is not installed (Debian: tcpdump tshark "
                                  "python3; tools/install-deps.sh --all)"));
    }
  }
  const std::string pcap = sandbox_->Path("replies.pcap");
  const std::string tcpdump_log = sandbox_->Path("tcpdump.log");
  // -Z root: tcpdump would otherwise switch to its own user, and a process
  // that changes user loses its kill-on-parent-death guard. -B: room for a
  // storm's burst (KiB), so the capture loses nothing.
  absl::StatusOr<pid_t> tcpdump = sandbox_->Spawn(
      srv_,
      {"tcpdump", "-Z", "root", "--immediate-mode", "-B", "16384", "-n", "-i",
       "v1", "-w", pcap, "udp src port 67 or udp src port 4011"},
      tcpdump_log);
  ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
  ASSERT_TRUE(
      WaitForFileContains(tcpdump_log, "listening on", absl::Seconds(10)).ok())
      << TailOfFile(tcpdump_log);
  StartProxy({"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0",
              "--boot-file", "uefi-x64=grubx64.efi", "--boot-file",
              "uefi-arm64=grubaa64.efi", "--http-url", kHttpUrl});
  std::vector<std::string> flags = {"-n",  "300",    "--storm-window",
                                    "0.5", "--seed", "10"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());
  sandbox_->Stop(daemon_);
  sandbox_->Stop(*tcpdump);  // SIGTERM: tcpdump flushes the file
  const long replies = Number(json, "received", "replies");
  ASSERT_GT(replies, 0) << json;

  absl::StatusOr<CommandResult> check =
      sandbox_->RunIn(srv_,
                      {"python3", PXE_TSHARK_REPLIES, pcap, "--server", kProxy,
                       "--min-replies", absl::StrCat(replies)},
                      absl::Seconds(120));
  ASSERT_TRUE(check.ok()) << check.status();
  std::printf("%s", check->out.c_str());  // "N replies ... decoded by tshark"
  EXPECT_EQ(check->exit_code, 0) << check->out << check->err << "\n(" << pcap
                                 << ", " << TailOfFile(tcpdump_log) << ")";
}

// A server that gives ARM64 clients the x64 UEFI file: each of them is
// told the wrong file in its ACK, asks again once, is told the same, and
// gives up; everyone else boots.
TEST_F(StormTest, AWrongFileForOneArchitectureIsCaughtForEachOfItsClients) {
  StartProxy({"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0",
              "--boot-file", "uefi-x64=grubx64.efi", "--boot-file",
              "uefi-arm64=grubx64.efi", "--http-url", kHttpUrl});
  std::vector<std::string> flags = {"-n",  "400",    "--storm-window",
                                    "0.5", "--seed", "8"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());

  const long arm64 = Number(json, "arm64", "clients");
  ASSERT_GT(arm64, 0) << json;
  EXPECT_EQ(Number(json, "wrong_answers", "wrong_file"), 2 * arm64) << json;
  EXPECT_EQ(Number(json, "wrong_answers", "total"), 2 * arm64);
  EXPECT_EQ(Number(json, "arm64", "booted_first_try") +
                Number(json, "arm64", "booted_after_retries"),
            0);
  EXPECT_EQ(Number(json, "arm64", "never_no_ack"), arm64);
  EXPECT_EQ(Number(json, "clients", "booted_first_try"), 400 - arm64);
  EXPECT_EQ(Number(json, "clients", "never"), arm64);
}

// A server whose TFTP server is not the one expected: every reply that
// names a file has the wrong siaddr, in the BIOS clients' offers (each
// DISCOVER and its retries) and the UEFI clients' ACKs (each request and
// its re-send); the UEFI offers, which name no file and send them to the
// proxy, are right. Nobody boots.
TEST_F(StormTest, AWrongTftpServerIsCaughtInEveryReplyThatNamesAFile) {
  StartProxy({"--tftp-server", "10.77.0.6", "--boot-file", "bios=pxelinux.0",
              "--boot-file", "uefi-x64=grubx64.efi"});
  std::vector<std::string> flags = {
      "-n",  "200",    "--mix", "bios=1,uefi-x64=1", "--retry-scale",
      "0.1", "--seed", "9"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());

  EXPECT_EQ(Number(json, "received", "offers_accepted"), 100) << json;
  const long wrong = Number(json, "wrong_answers", "wrong_siaddr");
  EXPECT_EQ(wrong, Number(json, "received", "replies") - 100);
  EXPECT_EQ(Number(json, "wrong_answers", "total"), wrong);
  // At least one per client; at most one per request sent.
  EXPECT_GE(wrong, 200);
  EXPECT_LE(wrong, Number(json, "sent", "discovers") - 100 +
                       Number(json, "sent", "requests_4011"));
  EXPECT_EQ(Number(json, "clients", "booted_first_try") +
                Number(json, "clients", "booted_after_retries"),
            0);
  EXPECT_EQ(Number(json, "bios", "never_no_offer"), 100);
  EXPECT_EQ(Number(json, "uefi-x64", "never_no_ack"), 100);
}

// The smallest receive ring (--rx-ring-frames 32) and one worker, hit by a
// burst (20,000 DISCOVERs within 50 ms): the ring overflows, the kernel
// counts what it could not take, and the stop summary reports it as "lost
// in the ring". Everything else still adds up, and what was answered was
// right.
TEST_F(StormTest, ASmallRingOverflowsAndItsLossesAreReported) {
  ASSERT_NO_FATAL_FAILURE(
      StartProxy({"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0",
                  "--rx-ring-frames", "32"},
                 /*workers=*/1));
  // BIOS clients only (no 4011 stage), retrying 20 times sooner than real
  // firmware so that the run ends in a few seconds.
  std::vector<std::string> flags = {
      "-n",     "20000",         "--storm-window", "0.05",   "--mix",
      "bios=1", "--retry-scale", "0.05",           "--seed", "10"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());
  const Summary summary = StopAndSummarize();
  ASSERT_TRUE(summary.found) << TailOfFile(log_);
  const long sent = Number(json, "sent", "discovers");
  std::printf("[ figures  ] %ld DISCOVERs sent; pxe-pdhcp: %s\n", sent,
              summary.text.c_str());

  EXPECT_GT(summary.lost_in_ring, 0) << summary.text;
  // Every frame sent was read or lost in the ring (or never reached the
  // socket at all), none twice.
  EXPECT_LE(summary.frames + summary.lost_in_ring, sent) << summary.text;
  EXPECT_EQ(summary.frames, summary.answered + summary.dropped) << summary.text;
  EXPECT_GT(summary.answered, 0);
  EXPECT_EQ(summary.answered, Number(json, "received", "replies")) << json;
  EXPECT_EQ(Number(json, "wrong_answers", "total"), 0) << json;
}

// A full transmit ring: the daemon's link sends at a trickle (a token
// bucket of 100 kbit/s with a deep queue on v1), so its sent frames pile up
// in the kernel until the socket's send buffer is full, then in the ring
// until every slot waits. Each answer that finds no slot is dropped and
// counted ("TxRingFull" in the stop summary), the daemon does not stall or
// die, still stops on SIGTERM with status 0, and answers again once the link
// is fast.
TEST_F(StormTest, AFullTransmitRingIsCountedAndSurvived) {
  if (!FindProgram("tc").ok()) PXE_CANNOT_RUN("tc is not installed (iproute2)");
  ASSERT_TRUE(sandbox_
                  ->RunInOrError(srv_, {"tc", "qdisc", "add", "dev", "v1",
                                        "root", "tbf", "rate", "100kbit",
                                        "burst", "1600", "limit", "10000000"})
                  .ok());
  ASSERT_NO_FATAL_FAILURE(
      StartProxy({"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0"},
                 /*workers=*/1));
  const std::string json =
      RunStorm({"-n", "3000", "--storm-window", "0.5", "--mix", "bios=1",
                "--retry-scale", "0.05", "--max-seconds", "3", "--seed", "12"});
  ASSERT_FALSE(json.empty());

  // The link is fast again: the queue goes, the ring drains, a new client
  // is answered.
  ASSERT_TRUE(
      sandbox_->RunInOrError(srv_, {"tc", "qdisc", "del", "dev", "v1", "root"})
          .ok());
  const std::string after =
      RunStorm({"-n", "20", "--mix", "bios=1", "--seed", "13"});
  EXPECT_EQ(Number(after, "clients", "booted_first_try"), 20) << after;

  const absl::Time sent = absl::Now();
  const Summary summary = StopAndSummarize();
  const absl::Duration stop = absl::Now() - sent;
  const std::string status(
      sandbox_->CheckRunning(daemon_, "pxe-pdhcp").message());
  std::printf("[ figures  ] %s; %s %.0f ms after SIGTERM\n",
              summary.text.c_str(), status.c_str(),
              absl::ToDoubleMilliseconds(stop));
  ASSERT_TRUE(summary.found) << TailOfFile(log_);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(summary.text, m, std::regex("; TxRingFull ([0-9]+)")))
      << summary.text;
  EXPECT_GT(std::stol(m[1]), 0);
  EXPECT_GT(summary.answered, 0);
  EXPECT_EQ(summary.frames, summary.answered + summary.dropped) << summary.text;
  EXPECT_THAT(status, ::testing::HasSubstr("exited with status 0"));
  EXPECT_LT(stop, absl::Seconds(1));
}

// --busy-poll: the workers spin on their rings before sleeping in poll();
// every client of a storm is still answered once, rightly, on the first try.
TEST_F(StormTest, BusyPollAnswersEveryClientOnceOnTheFirstTry) {
  ASSERT_NO_FATAL_FAILURE(StartProxy(
      {"--tftp-server", kTftp, "--boot-file", "bios=pxelinux.0", "--boot-file",
       "uefi-x64=grubx64.efi", "--boot-file", "uefi-arm64=grubaa64.efi",
       "--http-url", kHttpUrl, "--busy-poll", "50"}));
  std::vector<std::string> flags = {"-n", "1000",   "--storm-window",
                                    "1",  "--seed", "11"};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());
  const Summary summary = StopAndSummarize();
  ASSERT_TRUE(summary.found) << TailOfFile(log_);

  EXPECT_EQ(JsonNumber(json, "clients", "booted_first_try"), 1000) << json;
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "total"), 0) << json;
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "duplicates"), 0);
  EXPECT_EQ(summary.lost_in_ring, 0) << summary.text;
  EXPECT_EQ(summary.frames, summary.answered + summary.dropped) << summary.text;
  EXPECT_EQ(summary.answered, Number(json, "received", "replies")) << json;
}

// IPv6 clients beside IPv4 ones: PXEv6 clients (Solicit, Advertise, Request
// to [fd77::1]:4011, Reply) and HTTPv6 clients (the Advertise's URL) against
// pxe-pdhcp on fd77::1/64, every answer checked (xid, client ID echoed, no
// IA, the file of the Reply's URL, the HTTPv6 URL), each request answered
// once.
TEST_F(StormTest, Ipv6ClientsBootOnTheFirstTry) {
  ASSERT_TRUE(sandbox_
                  ->RunInOrError(srv_, {"sysctl", "-q", "-w",
                                        "net.ipv6.conf.v1.accept_dad=0",
                                        "net.ipv6.conf.v1.disable_ipv6=0"})
                  .ok());
  ASSERT_TRUE(sandbox_
                  ->RunInOrError(srv_, {"ip", "-6", "addr", "add", "fd77::1/64",
                                        "dev", "v1", "nodad"})
                  .ok());
  constexpr char kHttpUrl6[] = "http://[fd77::1]/boot.efi";
  StartProxy({"--tftp-server", kTftp, "-t", "fd77::5", "--boot-file",
              "bios=pxelinux.0", "--boot-file", "uefi-x64=grubx64.efi",
              "--boot-file", "uefi-arm64=grubaa64.efi", "--http-url", kHttpUrl,
              "--http-url", kHttpUrl6});
  constexpr int kClients6 = 1200;
  std::vector<std::string> flags = {"-n",
                                    absl::StrCat(kClients6),
                                    "--storm-window",
                                    "1",
                                    "--seed",
                                    "11",
                                    "--mix",
                                    "uefi-x64-v6=1,http-v6=1,uefi-x64=1",
                                    "--expect-http-url6",
                                    kHttpUrl6};
  for (const std::string& f : Expectations()) flags.push_back(f);
  const std::string json = RunStorm(flags);
  ASSERT_FALSE(json.empty());
  const Summary summary = StopAndSummarize();

  EXPECT_EQ(JsonNumber(json, "clients", "booted_first_try"), kClients6) << json;
  EXPECT_EQ(JsonNumber(json, "clients", "never"), 0);
  for (const char* type : {"uefi-x64-v6", "http-v6", "uefi-x64"}) {
    EXPECT_NE(json.find(absl::StrCat("\"", type,
                                     "\":{\"clients\":400,"
                                     "\"booted_first_try\":400,")),
              std::string::npos)
        << type << "\n"
        << json;
  }
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "total"), 0) << json;
  EXPECT_EQ(JsonNumber(json, "wrong_answers", "duplicates"), 0);
  EXPECT_EQ(JsonNumber(json, "sent", "discover_retries"), 0);
  // PXEv6 and UEFI x64 ask on 4011; HTTPv6 does not.
  EXPECT_EQ(JsonNumber(json, "sent", "requests_4011"), 800) << json;
  EXPECT_NE(json.find(R"({"file":"http://[fd77::1]/boot.efi","siaddr":)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"file":"tftp://[fd77::5]/grubx64.efi","siaddr":)"),
            std::string::npos)
      << json;

  ASSERT_TRUE(summary.found) << TailOfFile(log_);
  EXPECT_EQ(summary.lost_in_ring, 0);
  EXPECT_EQ(summary.frames, summary.answered + summary.dropped) << summary.text;
  EXPECT_EQ(summary.answered, JsonNumber(json, "received", "replies")) << json;
}

}  // namespace
}  // namespace pxe::testing
