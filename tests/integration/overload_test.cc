// pxe-pdhcp overloaded, in a namespace sandbox LAN: pxe-storm sends as fast
// as it can (it is asked for twice the highest rate one worker sustains in
// the storm benchmark, bench/results/2core-vm) at one worker with the
// smallest receive ring, for a minute (PXE_OVERLOAD_SECONDS). The daemon's
// memory stays flat, it never dies, what its ring could not take is counted
// in its stop summary, every answer it gives is right, and a client that
// boots once the load stops is fully answered within a second. And SIGTERM
// or SIGINT under full load (one worker, the default ring): the daemon exits
// with status 0 within a second, with its summary. The figures (rates, the
// memory series, drops, times) are printed.
//
// Each pxe-storm run keeps a table of all its clients, so the minute of load
// is a chain of runs of a few seconds, each started a second before the
// previous one ends so that the load never pauses.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

// One worker's highest sustained rate in the storm benchmark (clients/s,
// pxe-storm being the limit), and what pxe-storm is asked for here.
constexpr double kSustainedRate = 270'000;
constexpr double kAskedRate = 2 * kSustainedRate;
constexpr int kDefaultOverloadSeconds = 60;
// The smallest receive ring pxe-pdhcp accepts: overload overflows it.
constexpr int kDefaultRingFrames = 32;
// Each pxe-storm run sends for this long, plus the overlap with the next.
constexpr double kRunSeconds = 5;
constexpr double kRunOverlapSeconds = 1;
// Memory: from this far into the load on, the RSS may vary by less than
// this much.
constexpr absl::Duration kRssWarmup = absl::Seconds(5);
constexpr int64_t kMaxRssSpreadKb = 4 * 1024;
constexpr absl::Duration kServiceLimit = absl::Seconds(1);
// After its last client is done, pxe-storm waits this long for late replies
// before it exits (kDrainNs in tools/storm/storm_runner.cc).
constexpr absl::Duration kStormDrain = absl::Milliseconds(250);

// The LAN: pxe-pdhcp at 10.0.0.1/8; pxe-storm's clients own 10.128.0.0/9
// (millions of addresses, one per client of a run) and ask on 4011 from
// there.
constexpr char kServerCidr[] = "10.0.0.1/8";
constexpr char kClientNet[] = "10.128.0.0/9";

// An integer from the environment, or `fallback` when unset or invalid.
int EnvInt(const char* name, int fallback, int min, int max) {
  const char* text = std::getenv(name);
  int value = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &value) || value < min ||
      value > max) {
    return fallback;
  }
  return value;
}

int OverloadSeconds() {
  return EnvInt("PXE_OVERLOAD_SECONDS", kDefaultOverloadSeconds, 10, 3600);
}
int RingFrames() {
  return EnvInt("PXE_OVERLOAD_RX_RING_FRAMES", kDefaultRingFrames, 32, 1 << 20);
}

// "VmRSS:  1234 kB" of /proc/PID/status; -1 if unreadable.
int64_t RssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoll(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

// User + system CPU time of a process, from /proc/PID/stat; -1 if gone.
double CpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');  // the name may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  // After the name: state (3) ... utime (14), stime (15).
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) stime = std::strtod(field.c_str(), nullptr);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// pxe-pdhcp's stop line: "stopping: F frames, A answered, L lost in the
// ring; Reason N; ...".
struct Summary {
  bool found = false;
  int64_t frames = 0;
  int64_t answered = 0;
  int64_t lost_in_ring = 0;
  int64_t dropped = 0;  // the sum of the reasons
  std::string reasons;  // "; Reason N; ..."

  int64_t Reason(const std::string& name) const {
    std::smatch m;
    if (!std::regex_search(reasons, m, std::regex("; " + name + " ([0-9]+)"))) {
      return 0;
    }
    return std::stoll(m[1]);
  }
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
  s.frames = std::stoll(m[1]);
  s.answered = std::stoll(m[2]);
  s.lost_in_ring = std::stoll(m[3]);
  s.reasons = m[4];
  const std::regex reason("; [A-Za-z]+ ([0-9]+)");
  for (auto it =
           std::sregex_iterator(s.reasons.begin(), s.reasons.end(), reason);
       it != std::sregex_iterator(); ++it) {
    s.dropped += std::stoll((*it)[1]);
  }
  return s;
}

// What the pxe-storm runs of a test did, summed over their JSON reports.
struct Load {
  int runs = 0;
  int64_t clients = 0;  // first DISCOVERs: clients that powered on and sent
  int64_t sent = 0;     // DISCOVERs and 4011 REQUESTs, retries included
  int64_t replies = 0;
  int64_t wrong = 0;
  int64_t capture_drops = 0;
  std::vector<std::string> unreadable;  // runs without a report

  void Add(const std::string& name, const std::string& json) {
    ++runs;
    const double discovers = JsonNumber(json, "sent", "discovers");
    if (discovers < 0) {
      unreadable.push_back(name);
      return;
    }
    clients += static_cast<int64_t>(discovers);
    sent += static_cast<int64_t>(discovers +
                                 JsonNumber(json, "sent", "discover_retries") +
                                 JsonNumber(json, "sent", "requests_4011") +
                                 JsonNumber(json, "sent", "request_retries"));
    replies += static_cast<int64_t>(JsonNumber(json, "received", "replies"));
    wrong += static_cast<int64_t>(JsonNumber(json, "wrong_answers", "total"));
    capture_drops +=
        static_cast<int64_t>(JsonNumber(json, "run", "capture_drops"));
  }
};

void Report(const std::string& key, const std::string& value) {
  std::printf("%s: %s\n", key.c_str(), value.c_str());
  std::fflush(stdout);
  ::testing::Test::RecordProperty(key, value);
}

class OverloadTest : public ::testing::Test {
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
    ASSERT_TRUE(sandbox_->AddAddress(srv_, "v1", kServerCidr).ok());
  }

  // pxe-pdhcp in the foreground on v1, every client type answered, with
  // `flags` on top; its PID once it says it is ready.
  pid_t StartDaemon(const std::vector<std::string>& flags) {
    log_ = sandbox_->Path("proxy.log");
    std::vector<std::string> argv = {PXE_PDHCP_BINARY, "--foreground", "-i",
                                     "v1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const char* flag :
         {"--boot-file", "uefi-x64=syslinux.efi", "--boot-file",
          "uefi-arm64=grubaa64.efi", "--http-url", "http://10.0.0.1/boot.efi",
          "pxelinux.0"}) {
      argv.push_back(flag);
    }
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(srv_, argv, log_);
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) return -1;
    const absl::Status ready = WaitForFileContains(
        log_, " ready, ", {.timeout = absl::Seconds(10), .abort_if = [&] {
                             return sandbox_->CheckRunning(*pid, "pxe-pdhcp");
                           }});
    EXPECT_TRUE(ready.ok()) << ready << "\n" << TailOfFile(log_);
    return ready.ok() ? *pid : -1;
  }

  // One pxe-storm run at kAskedRate for `seconds`, in the background;
  // `index` picks its seed (and so its clients) and its report file.
  pid_t StartStorm(int index, double seconds) {
    const std::string report = StormReport(index);
    const int64_t clients = static_cast<int64_t>(kAskedRate * seconds);
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(
        cli_,
        {PXE_STORM_BINARY, "-i", "v0", "-n", absl::StrCat(clients), "--rate",
         absl::StrCat(kAskedRate), "--max-seconds", absl::StrCat(seconds),
         "--client-net", kClientNet, "--seed", absl::StrCat(1000 + index),
         "--json"},
        report);
    EXPECT_TRUE(pid.ok()) << pid.status();
    return pid.ok() ? *pid : -1;
  }

  // Frames v1, the daemon's interface, has received so far; -1 if unknown.
  int64_t FramesIn() {
    absl::StatusOr<CommandResult> cat = sandbox_->RunIn(
        srv_, {"cat", "/sys/class/net/v1/statistics/rx_packets"});
    int64_t n = -1;
    if (!cat.ok() || cat->exit_code != 0 ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(cat->out), &n)) {
      return -1;
    }
    return n;
  }

  std::string StormReport(int index) const {
    return sandbox_->Path(absl::StrCat("storm-", index, ".json"));
  }

  // A few fresh clients of every type, all at once, right now: the
  // pxe-storm report.
  std::string FreshClients() {
    absl::StatusOr<CommandResult> run =
        sandbox_->RunIn(cli_,
                        {PXE_STORM_BINARY, "-i", "v0", "-n", "20",
                         "--storm-window", "0", "--max-seconds", "3",
                         "--client-net", kClientNet, "--seed", "7", "--json"},
                        absl::Seconds(30));
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << run->err;
    return run->out;
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string cli_;
  std::string log_;
};

TEST_F(OverloadTest, TwiceTheSustainedRateForAMinute) {
  const int seconds = OverloadSeconds();
  const int ring = RingFrames();
  Report("overload",
         absl::StrFormat("%d s, pxe-storm asked for %.0f clients/s (2 x %.0f), "
                         "one worker, --rx-ring-frames %d",
                         seconds, kAskedRate, kSustainedRate, ring));
  const pid_t daemon =
      StartDaemon({"--workers", "1", "--rx-ring-frames", absl::StrCat(ring)});
  ASSERT_GT(daemon, 0);

  struct Sample {
    double t;  // seconds into the load
    int64_t rss_kb;
    double cpu_s;
  };
  std::vector<Sample> samples;
  std::vector<pid_t> storms;
  const int64_t frames_in_before = FramesIn();
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  absl::Time next_run = start;
  absl::Time next_sample = start;
  while (absl::Now() < end) {
    const absl::Status alive = sandbox_->CheckRunning(daemon, "pxe-pdhcp");
    ASSERT_TRUE(alive.ok()) << alive << " under load\n" << TailOfFile(log_);
    const absl::Time now = absl::Now();
    if (now >= next_sample) {
      samples.push_back({absl::ToDoubleSeconds(now - start), RssKb(daemon),
                         CpuSeconds(daemon)});
      next_sample += absl::Seconds(1);
    }
    if (now >= next_run) {
      const pid_t storm = StartStorm(static_cast<int>(storms.size()),
                                     kRunSeconds + kRunOverlapSeconds);
      ASSERT_GT(storm, 0);
      storms.push_back(storm);
      next_run += absl::Seconds(kRunSeconds);
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  // The load stops: SIGTERM ends each run at once, with its report.
  for (pid_t storm : storms) {
    if (sandbox_->IsRunning(storm)) ::kill(storm, SIGTERM);
  }
  const absl::Time load_stop = absl::Now();
  for (pid_t storm : storms) sandbox_->Stop(storm);
  const double load_seconds = absl::ToDoubleSeconds(load_stop - start);
  samples.push_back({load_seconds, RssKb(daemon), CpuSeconds(daemon)});
  const int64_t frames_in = FramesIn() - frames_in_before;
  ASSERT_TRUE(sandbox_->CheckRunning(daemon, "pxe-pdhcp").ok())
      << TailOfFile(log_);

  // Full service again: fresh clients, right after the load.
  const std::string fresh = FreshClients();
  // Every fresh client was done this soon after the load stopped (at most:
  // this includes pxe-storm's start and the writing of its report).
  const absl::Duration service = absl::Now() - load_stop - kStormDrain;
  const double fresh_clients = JsonNumber(fresh, "clients", "total");
  const double fresh_booted = JsonNumber(fresh, "clients", "booted_first_try");
  Load after;
  after.Add("fresh clients", fresh);
  const int64_t frames_in_all = FramesIn() - frames_in_before;

  sandbox_->Stop(daemon);  // SIGTERM: the summary
  const Summary summary = ReadSummary(ReadFileOrEmpty(log_));
  Load load;
  for (size_t i = 0; i < storms.size(); ++i) {
    load.Add(absl::StrCat("run ", i),
             ReadFileOrEmpty(StormReport(static_cast<int>(i))));
  }

  // The figures.
  const double sent_rate = static_cast<double>(load.sent) / load_seconds;
  const int64_t served = summary.answered - after.replies;
  const double served_rate = static_cast<double>(served) / load_seconds;
  Report("offered",
         absl::StrFormat("%d pxe-storm runs sent %d requests in %.1f s: %.0f "
                         "requests/s (DISCOVERs and 4011 REQUESTs), %.0f new "
                         "clients/s",
                         load.runs, load.sent, load_seconds, sent_rate,
                         load.clients / load_seconds));
  Report("arrived", absl::StrFormat("%d frames at the daemon's interface: "
                                    "%.0f/s",
                                    frames_in, frames_in / load_seconds));
  Report("served",
         absl::StrFormat("%d answered: %.0f replies/s; pxe-storm received %d "
                         "replies, %d wrong",
                         served, served_rate, load.replies, load.wrong));
  Report("daemon",
         absl::StrFormat("%d frames, %d answered, %d lost in the "
                         "ring, %d dropped by reason (%s)",
                         summary.frames, summary.answered, summary.lost_in_ring,
                         summary.dropped, summary.reasons));
  std::vector<std::string> rss_mib;
  int64_t warm_min = INT64_MAX;
  int64_t warm_max = 0;
  int64_t rss_first = -1;
  for (const Sample& s : samples) {
    rss_mib.push_back(absl::StrFormat("%.1f", s.rss_kb / 1024.0));
    if (rss_first < 0 && s.rss_kb > 0) rss_first = s.rss_kb;
    if (s.t >= absl::ToDoubleSeconds(kRssWarmup) && s.rss_kb > 0) {
      warm_min = std::min(warm_min, s.rss_kb);
      warm_max = std::max(warm_max, s.rss_kb);
    }
  }
  Report("rss_mib_each_second", absl::StrJoin(rss_mib, " "));
  Report("rss", absl::StrFormat(
                    "first %.1f MiB; from %.0f s on: min %.1f, "
                    "max %.1f MiB (spread %d KiB)",
                    rss_first / 1024.0, absl::ToDoubleSeconds(kRssWarmup),
                    warm_min / 1024.0, warm_max / 1024.0, warm_max - warm_min));
  if (samples.size() >= 2) {
    const double cpu = samples.back().cpu_s - samples.front().cpu_s;
    Report("daemon_cpu",
           absl::StrFormat("%.1f s in %.1f s (%.0f %% of a CPU)", cpu,
                           load_seconds, 100 * cpu / load_seconds));
  }
  Report("service_after_load",
         absl::StrFormat("%.0f/%.0f fresh clients booted on the first try, "
                         "all within %.0f ms of the end of the load "
                         "(pxe-storm's exit less its wait for late replies; "
                         "boot p50 %.2f ms, max %.2f ms)",
                         fresh_booted, fresh_clients,
                         absl::ToDoubleMilliseconds(service),
                         JsonNumber(fresh, "boot", "p50"),
                         JsonNumber(fresh, "boot", "max")));

  // Memory flat.
  ASSERT_GT(samples.size(), 6u);
  EXPECT_LT(warm_max - warm_min, kMaxRssSpreadKb)
      << "pxe-pdhcp's memory grew under load: " << absl::StrJoin(rss_mib, " ")
      << " MiB";
  // Every run was read and the load was really on.
  EXPECT_TRUE(load.unreadable.empty())
      << "no report from " << absl::StrJoin(load.unreadable, ", ");
  EXPECT_GE(load.runs, seconds / static_cast<int>(kRunSeconds));
  ASSERT_TRUE(summary.found) << TailOfFile(log_);
  EXPECT_GT(served, 0);
  // Counted: every frame the daemon took ends in an answer or a reason,
  // each request was taken at most once, and what the ring could not take
  // is counted when more was sent than served.
  EXPECT_EQ(summary.frames, summary.answered + summary.dropped)
      << summary.reasons;
  EXPECT_EQ(summary.Reason("Duplicate"), 0)
      << "pxe-storm sends no request twice within 50 ms: the daemon read some "
         "frames twice";
  EXPECT_LE(summary.frames + summary.lost_in_ring, frames_in_all)
      << "the daemon counted more frames than its interface received";
  if (load.sent > served + served / 10) {
    EXPECT_GT(summary.lost_in_ring, 0)
        << "more was sent than served, and the ring lost nothing?";
  }
  // Whatever was answered under overload was right.
  EXPECT_EQ(load.wrong, 0);
  // Full service within a second of the load's end.
  EXPECT_EQ(fresh_booted, fresh_clients) << fresh;
  EXPECT_GT(fresh_clients, 0) << fresh;
  EXPECT_EQ(JsonNumber(fresh, "wrong_answers", "total"), 0) << fresh;
  EXPECT_LT(service, kServiceLimit)
      << "fresh clients were served " << absl::FormatDuration(service)
      << " after the load stopped";
}

// SIGTERM (systemd, kill) and SIGINT (Ctrl-C at a terminal) alike.
class StopUnderLoadTest : public OverloadTest,
                          public ::testing::WithParamInterface<int> {};

TEST_P(StopUnderLoadTest, ExitsWithinASecondWithItsSummary) {
  const int signal = GetParam();
  const std::string name = signal == SIGTERM ? "SIGTERM" : "SIGINT";
  // One worker, so that pxe-storm's full rate is more than it can serve,
  // with the default ring (the most frames waiting at a time).
  const pid_t daemon = StartDaemon({"--workers", "1"});
  ASSERT_GT(daemon, 0);
  const pid_t storm = StartStorm(0, 10);
  ASSERT_GT(storm, 0);

  // Wait for the full load: at least kLoadOn frames a second at the daemon's
  // interface, and no longer rising, over two half-second windows in a row.
  constexpr double kLoadOn = 20'000;
  double frames_per_second = 0;
  double previous = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(8);
  while (absl::Now() < give_up && sandbox_->IsRunning(storm)) {
    const int64_t before = FramesIn();
    const absl::Time t0 = absl::Now();
    absl::SleepFor(absl::Milliseconds(500));
    frames_per_second =
        (FramesIn() - before) / absl::ToDoubleSeconds(absl::Now() - t0);
    if (previous >= kLoadOn && frames_per_second >= kLoadOn &&
        frames_per_second < 1.2 * previous) {
      break;
    }
    previous = frames_per_second;
  }
  ASSERT_TRUE(sandbox_->IsRunning(storm)) << ReadFileOrEmpty(StormReport(0));
  ASSERT_GE(frames_per_second, kLoadOn) << "the load never came";
  const double cpu_before = CpuSeconds(daemon);
  absl::SleepFor(absl::Milliseconds(500));
  const double cpu_rate = (CpuSeconds(daemon) - cpu_before) / 0.5;

  const absl::Time sent = absl::Now();
  ASSERT_EQ(::kill(daemon, signal), 0);
  while (sandbox_->IsRunning(daemon) && absl::Now() - sent < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const absl::Duration exit_time = absl::Now() - sent;
  const bool exited = !sandbox_->IsRunning(daemon);
  const std::string status =
      exited
          ? std::string(sandbox_->CheckRunning(daemon, "pxe-pdhcp").message())
          : "pxe-pdhcp still running";
  const bool storm_ran = sandbox_->IsRunning(storm);
  sandbox_->Stop(storm);
  sandbox_->Stop(daemon);  // if it is still there

  const Summary summary = ReadSummary(ReadFileOrEmpty(log_));
  Report(absl::AsciiStrToLower(name),
         absl::StrFormat("at %.0f frames/s (pxe-pdhcp using %.0f %% of a "
                         "CPU): %s %.1f ms after %s",
                         frames_per_second, 100 * cpu_rate, status,
                         absl::ToDoubleMilliseconds(exit_time), name));
  Report("summary",
         absl::StrFormat("%d frames, %d answered, %d lost in the ring%s",
                         summary.frames, summary.answered, summary.lost_in_ring,
                         summary.reasons));
  EXPECT_TRUE(storm_ran) << "the load ended before the daemon did";
  ASSERT_TRUE(exited) << "pxe-pdhcp still ran 5 s after " << name;
  EXPECT_NE(status.find("exited with status 0"), std::string::npos) << status;
  EXPECT_LT(exit_time, absl::Seconds(1));
  ASSERT_TRUE(summary.found) << TailOfFile(log_);
  EXPECT_GT(summary.frames, 0);
  EXPECT_GT(summary.answered, 0);
}

INSTANTIATE_TEST_SUITE_P(Signals, StopUnderLoadTest,
                         ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return param.param == SIGTERM ? "Sigterm" : "Sigint";
                         });

}  // namespace
}  // namespace pxe::testing
