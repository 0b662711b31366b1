// One pxe-pdhcp serving two interfaces at once (-i v1 -i v2), with 1, 2 and
// 4 workers (each interface has its own fan-out group of one ring a
// worker), in a namespace sandbox:
//
//   namespace "srv"                               namespace "cli1"
//     v1 10.77.0.1/24                <-veth->       v0  pxe-probe, tcpdump
//                                                 namespace "cli2"
//     v2 10.88.0.1/24, 10.89.0.1/24  <-veth->       v0  pxe-probe, tcpdump
//
// No DHCP server anywhere. A client on each side is answered on its own
// interface, from that interface's address, and nothing crosses to the other
// side. v2 has two addresses, so with --offer-hold-ms pxe-pdhcp holds a
// DISCOVER there for the DHCP server's OFFER (which would tell it the
// client's subnet); none comes, and on the time-out it answers from v2's
// primary address, on v2: the hold end to end. The client's own capture
// times it: the offer arrives the hold time after the DISCOVER, not before
// and not much after. v1 has one address: no hold, an answer at once.
#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kOfferHoldMs = 300;
// The hold's release is due on the worker's next wake-up, which poll()'s
// time-out puts at the deadline: a little scheduling and the capture's
// timestamps on top. Generous for a loaded 2-core machine.
constexpr double kHoldLateMs = 100;
// An answer "at once" on a one-address interface.
constexpr double kAtOnceMs = 100;
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

// One side of the LAN.
struct Side {
  const char* role;  // the client's namespace
  const char* device;
  std::vector<const char*> cidrs;  // pxe-pdhcp's addresses, primary first
  const char* server_ip;           // what it answers this side's clients with
  const char* client_mac;
};

const Side kSides[] = {
    {.role = "cli1",
     .device = "v1",
     .cidrs = {"10.77.0.1/24"},
     .server_ip = "10.77.0.1",
     .client_mac = "52:54:00:77:00:01"},
    {.role = "cli2",
     .device = "v2",
     .cidrs = {"10.88.0.1/24", "10.89.0.1/24"},
     .server_ip = "10.88.0.1",
     .client_mac = "52:54:00:88:00:01"},
};

// The time (seconds since the epoch) of the first line of a `tcpdump -n
// -tt` capture that holds `what`; -1 if none.
double FirstTime(const std::string& capture, const std::string& what) {
  std::smatch m;
  const std::regex line("(?:^|\\n)([0-9]+\\.[0-9]+) ([^\\n]*)");
  for (auto it = std::sregex_iterator(capture.begin(), capture.end(), line);
       it != std::sregex_iterator(); ++it) {
    if ((*it)[2].str().find(what) != std::string::npos) {
      double t = -1;
      return absl::SimpleAtod((*it)[1].str(), &t) ? t : -1;
    }
  }
  return -1;
}

class MultiInterfaceTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs pxe-pdhcp, "
          "pxe-probe and tcpdump's raw sockets inside them");
    }
    for (const char* program : {"ip", "tcpdump"}) {
      if (!FindProgram(program).ok()) {
        PXE_CANNOT_RUN(absl::StrCat(program, " is not installed"));
      }
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    ASSERT_TRUE(srv.ok()) << srv.status();
    srv_ = *srv;
    for (const Side& side : kSides) {
      absl::StatusOr<std::string> cli = sandbox_->AddNamespace(side.role);
      ASSERT_TRUE(cli.ok()) << cli.status();
      clients_.push_back(*cli);
      ASSERT_TRUE(sandbox_->AddVethPair(srv_, side.device, *cli, "v0").ok());
      for (const char* cidr : side.cidrs) {
        ASSERT_TRUE(sandbox_->AddAddress(srv_, side.device, cidr).ok());
      }
    }
  }

  // tcpdump of DHCP on the client side of `side`, into `name`.
  void StartCapture(size_t side, const std::string& name) {
    const std::string log = sandbox_->Path(name);
    // -Z root: a process that changes user loses its kill-on-parent-death
    // guard.
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(
        clients_[side],
        {"tcpdump", "-Z", "root", "--immediate-mode", "-l", "-n", "-tt", "-i",
         "v0", "udp", "and", "(port", "67", "or", "port", "68)"},
        log);
    ASSERT_TRUE(pid.ok()) << pid.status();
    const absl::Status listening = WaitForFileContains(
        log, "listening on", {.timeout = kStartTimeout, .abort_if = [&] {
                                return sandbox_->CheckRunning(*pid, "tcpdump");
                              }});
    ASSERT_TRUE(listening.ok()) << listening;
    captures_.push_back(*pid);
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::vector<std::string> clients_;  // by side
  std::vector<pid_t> captures_;
};

TEST_P(MultiInterfaceTest, EachInterfaceAnswersItsOwnClients) {
  const int workers = GetParam();
  const std::string log = sandbox_->Path("proxy.log");
  absl::StatusOr<pid_t> daemon =
      sandbox_->Spawn(srv_,
                      {PXE_PDHCP_BINARY, "-d", "-i", "v1", "-i", "v2",
                       "--workers", absl::StrCat(workers), "--offer-hold-ms",
                       absl::StrCat(kOfferHoldMs), "pxelinux.0"},
                      log);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const absl::Status ready = WaitForFileContains(
      log, " ready, ", {.timeout = kStartTimeout, .abort_if = [&] {
                          return sandbox_->CheckRunning(*daemon, "pxe-pdhcp");
                        }});
  ASSERT_TRUE(ready.ok()) << ready << "\n" << TailOfFile(log);
  EXPECT_THAT(ReadFileOrEmpty(log),
              HasSubstr(absl::StrCat(" ready, ", workers, " worker")));
  for (size_t i = 0; i < std::size(kSides); ++i) {
    ASSERT_NO_FATAL_FAILURE(StartCapture(i, absl::StrCat("side", i, ".pcap")));
  }

  for (size_t i = 0; i < std::size(kSides); ++i) {
    const Side& side = kSides[i];
    SCOPED_TRACE(absl::StrCat("client on ", side.device));
    const std::vector<std::string> argv = {
        PXE_PROBE_BINARY, "-i", "v0",        "--mac", side.client_mac,
        "--arch",         "0",  "--timeout", "2",     "--no-4011"};
    absl::StatusOr<CommandResult> probe =
        sandbox_->RunIn(clients_[i], argv, absl::Seconds(10));
    ASSERT_TRUE(probe.ok()) << probe.status();
    const std::string report = absl::StrCat("\n$ ", absl::StrJoin(argv, " "),
                                            "\n", probe->out, probe->err);
    EXPECT_EQ(probe->exit_code, 0) << report;
    // The offer, from this side's address.
    EXPECT_THAT(probe->out, HasSubstr(absl::StrCat("proxy-offer from ",
                                                   side.server_ip, ": ")))
        << report;
    EXPECT_THAT(probe->out,
                HasSubstr(absl::StrCat(" server-id ", side.server_ip, " ")))
        << report;
  }
  for (pid_t capture : captures_) sandbox_->Stop(capture);

  for (size_t i = 0; i < std::size(kSides); ++i) {
    const Side& side = kSides[i];
    const Side& other = kSides[1 - i];
    SCOPED_TRACE(absl::StrCat("capture on ", side.role));
    const std::string capture =
        ReadFileOrEmpty(sandbox_->Path(absl::StrCat("side", i, ".pcap")));
    // Nothing of the other side's crossed over: neither its client's
    // DISCOVER answered here nor its server address.
    EXPECT_THAT(capture, Not(HasSubstr(other.server_ip))) << capture;
    // One answer here: this side's client's (a held DISCOVER released on
    // another port would add one on that side and none on its own).
    size_t replies = 0;
    for (size_t at = capture.find("BOOTP/DHCP, Reply"); at != std::string::npos;
         at = capture.find("BOOTP/DHCP, Reply", at + 1)) {
      ++replies;
    }
    EXPECT_EQ(replies, 1u) << capture;
    const double discover =
        FirstTime(capture, "0.0.0.0.68 > 255.255.255.255.67");
    const double offer = FirstTime(
        capture,
        absl::StrCat("IP ", side.server_ip, ".67 > 255.255.255.255.68"));
    ASSERT_GT(discover, 0) << capture;
    ASSERT_GT(offer, 0) << capture;
    const double delay_ms = 1000 * (offer - discover);
    std::printf(
        "[ figures  ] %d worker%s, %s (%zu address%s): offer %.1f ms "
        "after the DISCOVER\n",
        workers, workers > 1 ? "s" : "", side.device, side.cidrs.size(),
        side.cidrs.size() > 1 ? "es" : "", delay_ms);
    if (side.cidrs.size() > 1) {
      // Held for the server's OFFER, then answered on the time-out.
      EXPECT_GE(delay_ms, kOfferHoldMs - 1) << capture;
      EXPECT_LT(delay_ms, kOfferHoldMs + kHoldLateMs) << capture;
    } else {
      EXPECT_LT(delay_ms, kAtOnceMs) << capture;
    }
  }

  // The log: one answer to each client, on its own interface.
  const std::string text = ReadFileOrEmpty(log);
  for (const Side& side : kSides) {
    EXPECT_THAT(text, ::testing::ContainsRegex(absl::StrCat(
                          "iface=", side.device, " [^\n]*mac=", side.client_mac,
                          " [^\n]*sent=offer from=", side.server_ip, " ")))
        << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, MultiInterfaceTest,
                         ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return absl::StrCat(param.param, "Workers");
                         });

}  // namespace
}  // namespace pxe::testing
