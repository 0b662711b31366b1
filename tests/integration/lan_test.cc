// pxe-pdhcp on small LANs made of network namespaces, beside real DHCP
// servers (dnsmasq, Kea, ISC dhcpd) and real DHCP clients (udhcpc, dhclient),
// with pxe-probe as the booting client. Each test checks what a client would
// see: who answered, from which address, to which address and port, with
// which boot file; and, where it says more, pxe-pdhcp's own -d log.
//
// The LAN shapes (all names live inside the sandbox's own namespaces):
//
//   Same host: namespace "srv"                    namespace "cli"
//     v1 10.77.0.1/24 (+ more addresses)  <-veth->  v0 (no address)
//       the LAN's DHCP server                        pxe-probe, udhcpc,
//       pxe-pdhcp, on the same interface             dhclient, tcpdump
//
//   Separate hosts: namespace "lan" holds bridge br0 with ports p1, p2, p3,
//   each a veth to v0 in namespace "dhcp" (10.77.0.1/24, the DHCP server),
//   "pxe" (10.77.0.2/24, pxe-pdhcp) and "cli" (the client).
//
// The Ipv6Probe tests turn IPv6 on in the same-host LAN (fd77::1/64 on v1)
// and run pxe-probe --ipv6 beside dnsmasq's DHCPv6 server.
//
// The LAN's DHCP server hands out addresses and nothing else (no option 60,
// no boot file), so every piece of boot data a client gets comes from
// pxe-pdhcp. Needs root, iproute2, ss, sysctl, dnsmasq and tcpdump; the Kea,
// ISC dhcpd, udhcpc and dhclient parts skip, saying so, when those are not
// installed. Each test takes 2-10 s.
#include <arpa/inet.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kBiosNbp[] = "pxelinux.0";
constexpr char kUefiNbp[] = "syslinux.efi";
constexpr char kBroadcastMac[] = "ff:ff:ff:ff:ff:ff";

constexpr absl::Duration kDaemonStartTimeout = absl::Seconds(10);
// A probe waits at most --timeout for offers and again for the ACK.
constexpr absl::Duration kProbeRunTimeout = absl::Seconds(20);

// absl::Status has no gtest matcher in this Abseil; say what failed instead.
#define ASSERT_OK_STATUS(expr)                                  \
  do {                                                          \
    const absl::Status pxe_assert_status_ = (expr);             \
    ASSERT_TRUE(pxe_assert_status_.ok()) << pxe_assert_status_; \
  } while (0)

// `text` split at every `sep` (views into `text`); empty pieces dropped
// when `skip_empty`.
std::vector<std::string_view> Split(std::string_view text, char sep,
                                    bool skip_empty = false) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = text.find(sep);
    const std::string_view piece = text.substr(0, at);
    if (!skip_empty || !piece.empty()) out.push_back(piece);
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// ---------------------------------------------------------------------------
// Reading pxe-probe's output.
//
// pxe-probe prints one line per frame, e.g.
//   proxy-offer from 10.77.0.1: OFFER 10.77.0.1:67 -> 255.255.255.255:68
//     (ff:ff:ff:ff:ff:ff) xid 0x... chaddr ... yiaddr 0.0.0.0 siaddr 10.77.0.1
//     broadcast server-id 10.77.0.1 class "PXEClient" sname "10.77.0.1"
//     file "pxelinux.0" option-43 [06 01 08 ff]
// (on one line). Field(line, "siaddr") is the word after " siaddr ", without
// quotes, parentheses or a trailing ':'; "" when the key is absent.
std::string Field(std::string_view line, std::string_view key,
                  size_t skip = 0) {
  const std::vector<std::string_view> words = Split(line, ' ', true);
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] != key) continue;
    if (i + 1 + skip >= words.size()) return "";
    std::string_view word = words[i + 1 + skip];
    if (word.size() >= 2 && ((word.front() == '"' && word.back() == '"') ||
                             (word.front() == '(' && word.back() == ')'))) {
      word = word.substr(1, word.size() - 2);
    }
    if (word.ends_with(':')) word.remove_suffix(1);
    return std::string(word);
  }
  return "";
}

uint32_t Ipv4(std::string_view text) {
  in_addr addr{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &addr) != 1) return 0;
  return ntohl(addr.s_addr);
}

// True when `ip` is an address from `low` to `high` (inclusive).
bool InPool(std::string_view ip, std::string_view low, std::string_view high) {
  const uint32_t a = Ipv4(ip);
  return a != 0 && Ipv4(low) <= a && a <= Ipv4(high);
}

// One pxe-probe run.
struct ProbeRun {
  std::string command;
  CommandResult result;

  // Output lines that start with `prefix` ("proxy-offer from ",
  // "dhcp-offer from ", "ack from ", "request: ").
  std::vector<std::string> Lines(std::string_view prefix) const {
    std::vector<std::string> out;
    for (std::string_view line : Split(result.out, '\n')) {
      if (line.starts_with(prefix)) out.emplace_back(line);
    }
    return out;
  }
  // The first such line, "" when there is none.
  std::string First(std::string_view prefix) const {
    std::vector<std::string> lines = Lines(prefix);
    return lines.empty() ? "" : lines.front();
  }
  // Everything, for failure messages.
  std::string Report() const {
    return absl::StrCat("\n$ ", command, "\n",
                        result.timed_out
                            ? std::string("(timed out)")
                            : absl::StrCat("(exit ", result.exit_code, ")"),
                        "\n", result.out, result.err);
  }
};

// The packets of a `tcpdump -vv` log: each starts on a line with a timestamp,
// its decoded fields follow on indented lines.
std::vector<std::string> CapturedPackets(std::string_view log) {
  std::vector<std::string> packets;
  for (std::string_view line : Split(log, '\n')) {
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') {
      packets.emplace_back(line);
    } else if (!packets.empty()) {
      packets.back().append("\n").append(line);
    }
  }
  return packets;
}

// ---------------------------------------------------------------------------
// The fixture.

class LanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs DHCP servers, "
          "pxe-pdhcp and raw-socket clients inside them (run ctest as root)");
    }
    std::vector<std::string> missing;
    for (const char* program : {"ip", "ss", "sysctl", "dnsmasq", "tcpdump"}) {
      if (!FindProgram(program).ok()) missing.push_back(program);
    }
    if (!missing.empty()) {
      PXE_CANNOT_RUN(
          absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                       " (Debian: iproute2 procps dnsmasq-base tcpdump)"));
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Create();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = *std::move(sandbox);
  }

  void TearDown() override {
    if (sandbox_ == nullptr) return;
    if (HasFailure()) {
      for (const char* file : {"proxy.log", "dhcp.log", "kea.log", "kea.out",
                               "dhcpd.log", "dhclient.log", "capture.log"}) {
        const std::string path = sandbox_->Path(file);
        if (!std::filesystem::exists(path)) continue;
        std::printf("----- tail of %s -----\n%s\n", path.c_str(),
                    TailOfFile(path).c_str());
      }
    }
    sandbox_.reset();  // stops every process, deletes the namespaces
  }

  // ----- LAN shapes -------------------------------------------------------

  std::string AddNamespace(std::string_view role) {
    absl::StatusOr<std::string> ns = sandbox_->AddNamespace(role);
    EXPECT_TRUE(ns.ok()) << ns.status();
    return ns.ok() ? *ns : "";
  }

  // srv (v1, with `server_cidrs` in this order) <-veth-> cli (v0).
  void BuildSameHostLan(const std::vector<std::string>& server_cidrs) {
    srv_ = AddNamespace("srv");
    cli_ = AddNamespace("cli");
    ASSERT_FALSE(srv_.empty() || cli_.empty());
    ASSERT_OK_STATUS(sandbox_->AddVethPair(srv_, "v1", cli_, "v0"));
    for (const std::string& cidr : server_cidrs) {
      ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, "v1", cidr));
    }
  }

  // Bridge br0 in "lan"; dhcp, pxe and cli each reach it through their v0.
  void BuildSeparateHostsLan(const std::vector<std::string>& dhcp_cidrs,
                             const std::vector<std::string>& pxe_cidrs) {
    const std::string lan = AddNamespace("lan");
    dhcp_ = AddNamespace("dhcp");
    pxe_ = AddNamespace("pxe");
    cli_ = AddNamespace("cli");
    ASSERT_FALSE(lan.empty() || dhcp_.empty() || pxe_.empty() || cli_.empty());
    ASSERT_OK_STATUS(sandbox_->AddBridge(lan, "br0"));
    const std::vector<std::pair<std::string, std::string>> hosts = {
        {dhcp_, "p1"}, {pxe_, "p2"}, {cli_, "p3"}};
    for (const auto& [ns, port] : hosts) {
      ASSERT_OK_STATUS(sandbox_->AddVethPair(lan, port, ns, "v0"));
      ASSERT_OK_STATUS(sandbox_->AttachToBridge(lan, port, "br0"));
    }
    for (const std::string& cidr : dhcp_cidrs) {
      ASSERT_OK_STATUS(sandbox_->AddAddress(dhcp_, "v0", cidr));
    }
    for (const std::string& cidr : pxe_cidrs) {
      ASSERT_OK_STATUS(sandbox_->AddAddress(pxe_, "v0", cidr));
    }
  }

  // The MAC address of `dev` in `ns` (ip netns exec gives the namespace its
  // own /sys).
  std::string DeviceMac(const std::string& ns, const std::string& dev) {
    absl::StatusOr<CommandResult> r = sandbox_->RunIn(
        ns, {"cat", absl::StrCat("/sys/class/net/", dev, "/address")});
    EXPECT_TRUE(r.ok() && r->exit_code == 0)
        << "cannot read the MAC of " << dev << " in " << ns;
    if (!r.ok()) return "";
    return std::string(absl::StripAsciiWhitespace(r->out));
  }

  // ----- daemons ----------------------------------------------------------

  // dnsmasq as the LAN's plain DHCP server (addresses only) on `dev`, with
  // the given --dhcp-range / --dhcp-host arguments.
  void StartDnsmasq(const std::string& ns, const std::string& dev,
                    const std::vector<std::string>& dhcp_args) {
    const std::string log = sandbox_->Path("dhcp.log");
    std::vector<std::string> argv = {
        "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
        "--no-hosts", "--no-resolv", absl::StrCat("--interface=", dev),
        "--bind-interfaces",
        // Skips the 3 s ICMP probe before each offer.
        "--no-ping",
        absl::StrCat("--dhcp-leasefile=", sandbox_->Path("dhcp.leases")),
        absl::StrCat("--pid-file=", sandbox_->Path("dhcp.pid")),
        "--log-facility=-", "--log-dhcp"};
    argv.insert(argv.end(), dhcp_args.begin(), dhcp_args.end());
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(ns, argv, log);
    ASSERT_TRUE(pid.ok()) << pid.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        log, "sockets bound exclusively to interface",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*pid, "dnsmasq");
                    }}));
  }

  // pxe-pdhcp -d on `dev` with workers_ workers and `extra` flags; BIOS
  // clients get kBiosNbp, x64 UEFI clients kUefiNbp. Returns once it logs
  // that it is ready.
  pid_t StartPdhcp(const std::string& ns, const std::string& dev,
                   const std::vector<std::string>& extra = {}) {
    const std::string log = sandbox_->Path("proxy.log");
    std::vector<std::string> argv = {PXE_PDHCP_BINARY,
                                     "-d",
                                     "-i",
                                     dev,
                                     "--workers",
                                     absl::StrCat(workers_),
                                     "--boot-file",
                                     absl::StrCat("uefi-x64=", kUefiNbp)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(kBiosNbp);
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(ns, argv, log);
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) return -1;
    const absl::Status ready = WaitForFileContains(
        log, " ready, ",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*pid, "pxe-pdhcp");
                    }});
    EXPECT_TRUE(ready.ok()) << ready;
    return ready.ok() ? *pid : -1;
  }

  // tcpdump -vv on `dev` in `ns`, decoded text to `log_name`; returns once
  // it listens.
  void StartCapture(const std::string& ns, const std::string& dev,
                    const std::string& filter, const std::string& log_name) {
    const std::string log = sandbox_->Path(log_name);
    // -Z root: tcpdump would otherwise switch to its own user, and a process
    // that changes user loses its kill-on-parent-death guard.
    std::vector<std::string> argv = {
        "tcpdump", "-Z", "root", "--immediate-mode", "-l", "-n",
        "-vv",     "-i", dev};
    for (std::string_view word : Split(filter, ' ')) {
      argv.emplace_back(word);
    }
    absl::StatusOr<pid_t> pid = sandbox_->Spawn(ns, argv, log);
    ASSERT_TRUE(pid.ok()) << pid.status();
    ASSERT_OK_STATUS(WaitForFileContains(
        log, "listening on",
        WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                      return sandbox_->CheckRunning(*pid, "tcpdump");
                    }}));
  }

  // ----- clients ----------------------------------------------------------

  // pxe-probe -i v0 `args` in `ns`, to completion.
  ProbeRun Probe(const std::string& ns, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {PXE_PROBE_BINARY, "-i", "v0"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProbeRun run{.command = absl::StrCat("ip netns exec ", ns, " ",
                                         absl::StrJoin(argv, " "))};
    absl::StatusOr<CommandResult> result =
        sandbox_->RunIn(ns, argv, kProbeRunTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) run.result = *std::move(result);
    return run;
  }

  std::string ProxyLog() const {
    return ReadFileOrEmpty(sandbox_->Path("proxy.log"));
  }

  // The lines of pxe-pdhcp's -d log that answer the client `chaddr`.
  std::vector<std::string> ProxyAnswersTo(std::string_view chaddr) const {
    std::vector<std::string> out;
    const std::string log = ProxyLog();  // outlives the views Split returns
    for (std::string_view line : Split(log, '\n')) {
      if (Contains(line, " sent=") &&
          Contains(line, absl::StrCat(" mac=", Sv(chaddr), " "))) {
        out.emplace_back(line);
      }
    }
    return out;
  }

  // Icmp OutDestUnreachs of `ns` (/proc/net/snmp is per namespace).
  int64_t IcmpOutDestUnreachs(const std::string& ns) {
    absl::StatusOr<CommandResult> r =
        sandbox_->RunIn(ns, {"cat", "/proc/net/snmp"});
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << "cannot read /proc/net/snmp";
    if (!r.ok()) return -1;
    // Two "Icmp:" lines: the names, then the values.
    std::vector<std::vector<std::string>> icmp;
    for (std::string_view line : Split(r->out, '\n')) {
      if (line.starts_with("Icmp: ")) {
        std::vector<std::string> words;
        for (std::string_view w : Split(line, ' ', true)) words.emplace_back(w);
        icmp.push_back(std::move(words));
      }
    }
    if (icmp.size() < 2 || icmp[0].size() != icmp[1].size()) return -1;
    for (size_t i = 0; i < icmp[0].size(); ++i) {
      int64_t value = 0;
      if (icmp[0][i] == "OutDestUnreachs" &&
          absl::SimpleAtoi(icmp[1][i], &value)) {
        return value;
      }
    }
    return -1;
  }

  // IPv6 on the same-host LAN (the sandbox turns it off): link-local
  // addresses at once (no duplicate address detection), fd77::1/64 on the
  // server, and on the client `client_cidr` ("" for none: the address a
  // DHCPv6 server would have handed out, which the firmware has before it
  // asks the proxy's global address on 4011). `client_ipv6` false leaves
  // IPv6 off on the client's v0.
  void EnableIpv6(const std::string& client_cidr, bool client_ipv6 = true) {
    std::vector<std::pair<std::string, std::string>> devices = {{srv_, "v1"}};
    if (client_ipv6) devices.emplace_back(cli_, "v0");
    for (const auto& [ns, dev] : devices) {
      ASSERT_OK_STATUS(sandbox_->RunInOrError(
          ns, {"sysctl", "-q", "-w",
               absl::StrCat("net.ipv6.conf.", dev, ".accept_dad=0"),
               absl::StrCat("net.ipv6.conf.", dev, ".disable_ipv6=0")}));
    }
    ASSERT_OK_STATUS(sandbox_->RunInOrError(
        srv_, {"ip", "-6", "addr", "add", "fd77::1/64", "dev", "v1", "nodad"}));
    if (!client_cidr.empty()) {
      ASSERT_OK_STATUS(sandbox_->RunInOrError(
          cli_,
          {"ip", "-6", "addr", "add", client_cidr, "dev", "v0", "nodad"}));
    }
  }

  // ----- the common check -------------------------------------------------

  struct BootCheck {
    std::string client_ns;
    std::string proxy_ip;  // pxe-pdhcp's address: offers and ACKs from here
    std::string dhcp_ip;   // the DHCP server's: its offer comes from here
    std::string pool_low = "10.77.0.100";
    std::string pool_high = "10.77.0.200";
  };

  // A BIOS client (iPXE style: 4011 request from port 68, xid 0, to option
  // 54) and an x64 UEFI client (EDK2 style: broadcast flag, 4011 request from
  // port 4011 to siaddr, fresh xid) each get their address from the DHCP
  // server and their boot data from pxe-pdhcp, as PXE says.
  void ExpectBiosAndUefiClientsBoot(const BootCheck& check) {
    for (const bool uefi : {false, true}) {
      SCOPED_TRACE(uefi ? "UEFI (EDK2-style) client"
                        : "BIOS (iPXE-style) client");
      const ProbeRun run = Probe(
          check.client_ns,
          uefi ? std::vector<std::string>{"--arch", "7", "--style", "edk2"}
               : std::vector<std::string>{"--arch", "0", "--style", "ipxe"});
      ASSERT_EQ(run.result.exit_code, 0) << run.Report();

      // The DHCP server: an address from its pool, no boot data.
      const std::string dhcp = run.First("dhcp-offer from ");
      ASSERT_THAT(dhcp, Not(IsEmpty())) << run.Report();
      EXPECT_EQ(Field(dhcp, "from"), check.dhcp_ip) << dhcp;
      const std::string yiaddr = Field(dhcp, "yiaddr");
      EXPECT_TRUE(InPool(yiaddr, check.pool_low, check.pool_high))
          << "yiaddr " << yiaddr << " is not in " << check.pool_low << "-"
          << check.pool_high << ": " << dhcp;
      EXPECT_EQ(Field(dhcp, "class"), "") << dhcp;
      EXPECT_EQ(Field(dhcp, "file"), "") << dhcp;

      // pxe-pdhcp: a broadcast proxy offer, yiaddr 0, from its address.
      const std::vector<std::string> offers = run.Lines("proxy-offer from ");
      ASSERT_THAT(offers, SizeIs(1)) << run.Report();
      const std::string& offer = offers.front();
      EXPECT_EQ(Field(offer, "from"), check.proxy_ip) << offer;
      EXPECT_EQ(Field(offer, "OFFER"), absl::StrCat(check.proxy_ip, ":67"))
          << offer;
      EXPECT_EQ(Field(offer, "->"), "255.255.255.255:68") << offer;
      EXPECT_EQ(Field(offer, "->", 1), kBroadcastMac) << offer;
      EXPECT_EQ(Field(offer, "yiaddr"), "0.0.0.0") << offer;
      EXPECT_THAT(offer, HasSubstr(" broadcast ")) << "flags 0x8000";
      EXPECT_EQ(Field(offer, "server-id"), check.proxy_ip) << offer;
      EXPECT_EQ(Field(offer, "class"), "PXEClient") << offer;
      if (uefi) {
        // BINL style: siaddr = us, no file, no option 43.
        EXPECT_EQ(Field(offer, "siaddr"), check.proxy_ip) << offer;
        EXPECT_EQ(Field(offer, "file"), "") << offer;
        EXPECT_THAT(offer, Not(HasSubstr("option-43"))) << offer;
      } else {
        EXPECT_EQ(Field(offer, "siaddr"), check.proxy_ip) << offer;
        EXPECT_EQ(Field(offer, "file"), kBiosNbp) << offer;
        EXPECT_THAT(offer, HasSubstr("option-43 [06 01 08 ff]")) << offer;
      }

      // The 4011 request went to pxe-pdhcp; its ACK, with the file, came
      // back from there to the port the request came from.
      const std::string request = run.First("request: ");
      EXPECT_EQ(Field(request, "to"), absl::StrCat(check.proxy_ip, ":4011"))
          << request;
      const std::string ack = run.First("ack from ");
      ASSERT_THAT(ack, Not(IsEmpty())) << run.Report();
      EXPECT_EQ(Field(ack, "ACK"), absl::StrCat(check.proxy_ip, ":4011"))
          << ack;
      EXPECT_EQ(Field(ack, "->"), absl::StrCat(yiaddr, uefi ? ":4011" : ":68"))
          << ack;
      EXPECT_EQ(Field(ack, "xid"), Field(request, "xid")) << ack;
      EXPECT_EQ(Field(ack, "file"), uefi ? kUefiNbp : kBiosNbp) << ack;

      // pxe-pdhcp's log agrees: it answered this client, and only it.
      const std::string chaddr = Field(offer, "chaddr");
      EXPECT_THAT(
          ProxyAnswersTo(chaddr),
          ::testing::ElementsAre(
              AllOf(HasSubstr(" type=discover "),
                    HasSubstr(absl::StrCat(" sent=offer from=", check.proxy_ip,
                                           " to=255.255.255.255:68"))),
              AllOf(HasSubstr(" type=request "),
                    HasSubstr(absl::StrCat(" sent=ack from=", check.proxy_ip,
                                           " to=", yiaddr, ":")))));
    }
  }

  // pxe-pdhcp's, fixed: never the machine's core count (the default).
  int workers_ = 2;
  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;   // same-host LANs: the server namespace
  std::string cli_;   // the client namespace
  std::string dhcp_;  // separate-host LANs: the DHCP server's namespace
  std::string pxe_;   // separate-host LANs: pxe-pdhcp's namespace
};

// The tests that run with 1, 2 and 4 workers (one fan-out group: the
// DISCOVER, the server's OFFER seen going out, and the 4011 request of a
// client all reach the worker its MAC picks); the others run with 2.
class LanWorkersTest : public LanTest,
                       public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    workers_ = GetParam();
    LanTest::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Workers, LanWorkersTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return absl::StrCat(param.param, "Workers");
                         });

// ---------------------------------------------------------------------------
// 1. dnsmasq and pxe-pdhcp on the same interface of the same host.
TEST_P(LanWorkersTest, SameHostDnsmasq) {
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  ASSERT_NO_FATAL_FAILURE(
      StartDnsmasq(srv_, "v1", {"--dhcp-range=10.77.0.100,10.77.0.200,1h"}));
  ASSERT_GT(StartPdhcp(srv_, "v1"), 0);
  ExpectBiosAndUefiClientsBoot(
      {.client_ns = cli_, .proxy_ip = "10.77.0.1", .dhcp_ip = "10.77.0.1"});
  // dnsmasq did hand out the addresses (and nothing told it about PXE).
  EXPECT_THAT(ReadFileOrEmpty(sandbox_->Path("dhcp.log")),
              ContainsRegex("DHCPOFFER\\(v1\\) 10\\.77\\.0\\.[0-9]+ "));
}

// 2. Kea DHCPv4 (raw sockets, like pxe-pdhcp) and pxe-pdhcp on the same
// interface: Kea's packet socket and pxe-pdhcp's coexist.
TEST_F(LanTest, SameHostKea) {
  absl::StatusOr<std::string> kea = FindProgram("kea-dhcp4");
  if (!kea.ok()) {
    PXE_CANNOT_RUN("kea-dhcp4 is not installed (Debian: kea-dhcp4-server)");
  }
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  const std::string config = sandbox_->Path("kea.json");
  const std::string kea_log = sandbox_->Path("kea.log");
  ASSERT_OK_STATUS(WriteFile(config, absl::StrCat(R"({"Dhcp4": {
  "interfaces-config": {"interfaces": ["v1"], "dhcp-socket-type": "raw"},
  "lease-database": {"type": "memfile", "persist": false},
  "valid-lifetime": 3600,
  "subnet4": [{"id": 1, "subnet": "10.77.0.0/24",
               "pools": [{"pool": "10.77.0.100 - 10.77.0.200"}]}],
  "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
               "output_options": [{"output": ")",
                                                  kea_log, R"("}]}]
}}
)")));
  // Kea wants writable pid-file and logger-lock directories: the scratch
  // directory, not the host's /run.
  absl::StatusOr<pid_t> pid = sandbox_->Spawn(
      srv_,
      {"env", absl::StrCat("KEA_PIDFILE_DIR=", sandbox_->dir()),
       absl::StrCat("KEA_LOCKFILE_DIR=", sandbox_->dir()), *kea, "-c", config},
      sandbox_->Path("kea.out"));
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_OK_STATUS(WaitForFileContains(
      kea_log, "DHCP4_STARTED",
      WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                    return sandbox_->CheckRunning(*pid, "kea-dhcp4");
                  }}));
  // Kea opens its raw socket on v1 (and a fallback UDP socket on 67).
  ASSERT_THAT(ReadFileOrEmpty(kea_log),
              Not(HasSubstr("DHCPSRV_OPEN_SOCKET_FAIL")));
  ASSERT_OK_STATUS(sandbox_->WaitForUdpListener(srv_, 67, kDaemonStartTimeout));

  ASSERT_GT(StartPdhcp(srv_, "v1"), 0);
  ExpectBiosAndUefiClientsBoot(
      {.client_ns = cli_, .proxy_ip = "10.77.0.1", .dhcp_ip = "10.77.0.1"});
  EXPECT_TRUE(sandbox_->IsRunning(*pid)) << "kea-dhcp4 died";
}

// 2b. ISC dhcpd (LPF sockets) and pxe-pdhcp on the same interface.
TEST_F(LanTest, SameHostIscDhcpd) {
  absl::StatusOr<std::string> dhcpd = FindProgram("dhcpd");
  if (!dhcpd.ok()) {
    PXE_CANNOT_RUN(
        "ISC dhcpd is not installed (Debian: isc-dhcp-server); nothing to "
        "test against");
  }
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  const std::string config = sandbox_->Path("dhcpd.conf");
  const std::string leases = sandbox_->Path("dhcpd.leases");
  ASSERT_OK_STATUS(WriteFile(config,
                             "authoritative;\n"
                             "default-lease-time 3600;\n"
                             "max-lease-time 3600;\n"
                             "subnet 10.77.0.0 netmask 255.255.255.0 {\n"
                             "  range 10.77.0.100 10.77.0.200;\n"
                             "}\n"));
  ASSERT_OK_STATUS(WriteFile(leases, ""));  // dhcpd insists that it exists
  const std::string log = sandbox_->Path("dhcpd.log");
  absl::StatusOr<pid_t> pid =
      sandbox_->Spawn(srv_,
                      {*dhcpd, "-4", "-f", "-d", "-cf", config, "-lf", leases,
                       "-pf", sandbox_->Path("dhcpd.pid"), "v1"},
                      log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_OK_STATUS(WaitForFileContains(
      log, "Server starting service",
      WaitOptions{.timeout = kDaemonStartTimeout, .abort_if = [&] {
                    return sandbox_->CheckRunning(*pid, "dhcpd");
                  }}));

  ASSERT_GT(StartPdhcp(srv_, "v1"), 0);
  ExpectBiosAndUefiClientsBoot(
      {.client_ns = cli_, .proxy_ip = "10.77.0.1", .dhcp_ip = "10.77.0.1"});
}

// 3. The DHCP server, pxe-pdhcp and the client on three hosts of one LAN:
// addresses come from 10.77.0.1, boot data from pxe-pdhcp's 10.77.0.2.
TEST_F(LanTest, SeparateHosts) {
  ASSERT_NO_FATAL_FAILURE(
      BuildSeparateHostsLan({"10.77.0.1/24"}, {"10.77.0.2/24"}));
  ASSERT_NO_FATAL_FAILURE(
      StartDnsmasq(dhcp_, "v0", {"--dhcp-range=10.77.0.100,10.77.0.200,1h"}));
  ASSERT_GT(StartPdhcp(pxe_, "v0"), 0);
  ExpectBiosAndUefiClientsBoot(
      {.client_ns = cli_, .proxy_ip = "10.77.0.2", .dhcp_ip = "10.77.0.1"});
}

// 4. One interface, two subnets. pxe-pdhcp's 10.77.0.2/24 and 10.78.0.2/24
// come first on v1 (so they are its primary addresses and what it picks in
// each subnet); dnsmasq's 10.77.0.1/24 and 10.78.0.1/24 follow. dnsmasq
// leases each probe MAC an address in one subnet; pxe-pdhcp must learn that
// subnet from dnsmasq's OFFER (an outgoing frame on the same interface; it
// holds the first offer up to --offer-hold-ms for it) and answer from its
// own address there, on port 67 and on 4011. (dnsmasq also takes the first
// address of a subnet as its own, so its replies come from the .2 addresses
// too: only their yiaddr is checked here.)
constexpr char kClient77[] = "52:54:00:77:00:50";
constexpr char kClient78[] = "52:54:00:78:00:50";
constexpr char kLease77[] = "10.77.0.50";
constexpr char kLease78[] = "10.78.0.50";

// The dnsmasq arguments for the two-subnet LANs.
std::vector<std::string> TwoSubnetDhcpArgs() {
  return {"--dhcp-range=10.77.0.100,10.77.0.200,1h",
          "--dhcp-range=10.78.0.100,10.78.0.200,1h",
          absl::StrCat("--dhcp-host=", kClient77, ",", kLease77),
          absl::StrCat("--dhcp-host=", kClient78, ",", kLease78)};
}

TEST_P(LanWorkersTest, MultiAddress) {
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan(
      {"10.77.0.2/24", "10.78.0.2/24", "10.77.0.1/24", "10.78.0.1/24"}));
  ASSERT_NO_FATAL_FAILURE(StartDnsmasq(srv_, "v1", TwoSubnetDhcpArgs()));
  ASSERT_GT(StartPdhcp(srv_, "v1", {"--offer-hold-ms", "300"}), 0);

  struct Case {
    const char* mac;
    const char* lease;
    const char* proxy_ip;  // pxe-pdhcp's address in the lease's subnet
    const char* style;
    const char* arch;
  };
  for (const Case& c : {Case{kClient77, kLease77, "10.77.0.2", "ipxe", "0"},
                        Case{kClient78, kLease78, "10.78.0.2", "ipxe", "0"},
                        Case{kClient78, kLease78, "10.78.0.2", "edk2", "7"}}) {
    SCOPED_TRACE(absl::StrCat("client ", c.mac, " (", c.style, " style)"));
    const ProbeRun run =
        Probe(cli_, {"--mac", c.mac, "--arch", c.arch, "--style", c.style});
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    const std::string dhcp = run.First("dhcp-offer from ");
    ASSERT_EQ(Field(dhcp, "yiaddr"), c.lease) << run.Report();

    const std::vector<std::string> offers = run.Lines("proxy-offer from ");
    ASSERT_THAT(offers, SizeIs(1)) << run.Report();
    EXPECT_EQ(Field(offers[0], "from"), c.proxy_ip) << offers[0];
    EXPECT_EQ(Field(offers[0], "server-id"), c.proxy_ip) << offers[0];
    EXPECT_EQ(Field(offers[0], "siaddr"), c.proxy_ip) << offers[0];
    EXPECT_EQ(Field(offers[0], "yiaddr"), "0.0.0.0") << offers[0];

    const std::string ack = run.First("ack from ");
    EXPECT_EQ(Field(ack, "ACK"), absl::StrCat(c.proxy_ip, ":4011"))
        << run.Report();
    EXPECT_EQ(
        Field(ack, "->"),
        absl::StrCat(c.lease,
                     c.style == std::string_view("edk2") ? ":4011" : ":68"))
        << ack;
  }

  // The log: every answer to each client came from the address in its
  // subnet; none from the other subnet's address or from the default.
  for (const auto& [mac, proxy_ip] :
       {std::pair{kClient77, "10.77.0.2"}, std::pair{kClient78, "10.78.0.2"}}) {
    const std::vector<std::string> answers = ProxyAnswersTo(mac);
    EXPECT_THAT(answers, Not(IsEmpty())) << "no answer to " << mac;
    for (const std::string& line : answers) {
      EXPECT_THAT(line, ContainsRegex(absl::StrCat(
                            " sent=(offer|ack) from=", proxy_ip, " ")))
          << "answered " << mac << " from the wrong address";
    }
  }
}

// 4b. The same two subnets with dnsmasq on another host: a broadcast OFFER
// (EDK2 sets the broadcast flag) crosses the LAN, and pxe-pdhcp learns the
// client's subnet from it. (A remote server's unicast OFFER never reaches
// pxe-pdhcp; then the default address is all it can use.) Together with
// MultiAddress this tells "cannot learn" from "cannot learn from a server on
// its own host".
TEST_F(LanTest, MultiAddressServerOnAnotherHost) {
  ASSERT_NO_FATAL_FAILURE(BuildSeparateHostsLan(
      {"10.77.0.1/24", "10.78.0.1/24"}, {"10.77.0.2/24", "10.78.0.2/24"}));
  ASSERT_NO_FATAL_FAILURE(StartDnsmasq(dhcp_, "v0", TwoSubnetDhcpArgs()));
  ASSERT_GT(StartPdhcp(pxe_, "v0", {"--offer-hold-ms", "300"}), 0);

  const ProbeRun run =
      Probe(cli_, {"--mac", kClient78, "--arch", "7", "--style", "edk2"});
  EXPECT_EQ(run.result.exit_code, 0) << run.Report();
  const std::string dhcp = run.First("dhcp-offer from ");
  ASSERT_EQ(Field(dhcp, "yiaddr"), kLease78) << run.Report();
  ASSERT_THAT(dhcp, HasSubstr(" broadcast ")) << dhcp;
  const std::string offer = run.First("proxy-offer from ");
  EXPECT_EQ(Field(offer, "from"), "10.78.0.2") << run.Report();
  EXPECT_EQ(Field(offer, "server-id"), "10.78.0.2") << offer;
  EXPECT_EQ(Field(offer, "siaddr"), "10.78.0.2") << offer;
  const std::string ack = run.First("ack from ");
  EXPECT_EQ(Field(ack, "ACK"), "10.78.0.2:4011") << run.Report();
  EXPECT_EQ(Field(ack, "->"), absl::StrCat(kLease78, ":4011")) << ack;
}

// 5. Relayed DISCOVERs: the offer goes unicast to giaddr:67 through the
// relay's MAC, still with the broadcast flag, yiaddr 0 and giaddr copied.
// The answering address: ours in the relay's subnet, else the configured
// --relay-server one, else the default (the primary address).
TEST_F(LanTest, Relay) {
  ASSERT_NO_FATAL_FAILURE(
      BuildSameHostLan({"10.77.0.1/24", "10.88.0.1/24", "10.66.0.1/24"}));
  const std::string relay_ns = cli_;  // v0 there plays the relay agent
  ASSERT_NO_FATAL_FAILURE(
      StartCapture(relay_ns, "v0", "udp port 67", "capture.log"));
  ASSERT_GT(
      StartPdhcp(srv_, "v1", {"--relay-server", "10.99.0.0/16=10.66.0.1"}), 0);
  const std::string server_mac = DeviceMac(srv_, "v1");
  const std::string relay_mac = DeviceMac(relay_ns, "v0");
  ASSERT_FALSE(server_mac.empty() || relay_mac.empty());

  struct Case {
    const char* giaddr;
    const char* client_ip;
    const char* proxy_ip;
    const char* why;
  };
  for (const Case& c :
       {Case{"10.55.0.1", "10.55.0.50", "10.77.0.1",
             "no address of ours there, no --relay-server: the default"},
        Case{"10.88.0.254", "10.88.0.50", "10.88.0.1",
             "our address in the relay's subnet"},
        Case{"10.99.3.1", "10.99.3.50", "10.66.0.1",
             "--relay-server 10.99.0.0/16=10.66.0.1"}}) {
    SCOPED_TRACE(absl::StrCat("giaddr ", c.giaddr, ": ", c.why));
    const ProbeRun run = Probe(
        relay_ns, {"--relay", c.giaddr, "--server", "10.77.0.1", "--server-mac",
                   server_mac, "--client-ip", c.client_ip, "--timeout", "1"});
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    const std::vector<std::string> offers = run.Lines("proxy-offer from ");
    ASSERT_THAT(offers, SizeIs(1)) << run.Report();
    const std::string& offer = offers.front();
    EXPECT_EQ(Field(offer, "OFFER"), absl::StrCat(c.proxy_ip, ":67")) << offer;
    EXPECT_EQ(Field(offer, "->"), absl::StrCat(c.giaddr, ":67")) << offer;
    EXPECT_EQ(Field(offer, "->", 1), relay_mac) << "next hop: the relay";
    EXPECT_THAT(offer, HasSubstr(" broadcast ")) << offer;
    EXPECT_EQ(Field(offer, "yiaddr"), "0.0.0.0") << offer;
    EXPECT_EQ(Field(offer, "server-id"), c.proxy_ip) << offer;
    EXPECT_EQ(Field(offer, "siaddr"), c.proxy_ip) << offer;
    EXPECT_EQ(Field(offer, "file"), kBiosNbp) << offer;
    // The client's 4011 request comes back through the router too.
    const std::string ack = run.First("ack from ");
    EXPECT_EQ(Field(ack, "ACK"), absl::StrCat(c.proxy_ip, ":4011"))
        << run.Report();
    EXPECT_EQ(Field(ack, "->"), absl::StrCat(c.client_ip, ":68")) << ack;
    EXPECT_EQ(Field(ack, "->", 1), relay_mac) << ack;

    EXPECT_THAT(ProxyLog(),
                ContainsRegex(absl::StrCat(" relay=", c.giaddr,
                                           ".* sent=offer from=", c.proxy_ip,
                                           " to=", c.giaddr, ":67 ")));
  }

  // On the wire (tcpdump at the relay): giaddr copied, flags 0x8000, no
  // yiaddr (tcpdump prints Your-IP only when it is not 0).
  ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("capture.log"),
                                       "10.66.0.1.67 > 10.99.3.1.67",
                                       absl::Seconds(3)));
  const std::vector<std::string> packets =
      CapturedPackets(ReadFileOrEmpty(sandbox_->Path("capture.log")));
  for (const auto& [proxy_ip, giaddr] : {std::pair{"10.77.0.1", "10.55.0.1"},
                                         std::pair{"10.88.0.1", "10.88.0.254"},
                                         std::pair{"10.66.0.1", "10.99.3.1"}}) {
    const std::string head = absl::StrCat(proxy_ip, ".67 > ", giaddr, ".67");
    int seen = 0;
    for (const std::string& packet : packets) {
      if (!Contains(packet, head)) continue;
      ++seen;
      EXPECT_THAT(packet, HasSubstr(absl::StrCat("Gateway-IP ", giaddr)))
          << packet;
      EXPECT_THAT(packet, HasSubstr("Flags [Broadcast]")) << packet;
      EXPECT_THAT(packet, HasSubstr("Offer")) << packet;
      EXPECT_THAT(packet, Not(HasSubstr("Your-IP"))) << packet;
    }
    EXPECT_EQ(seen, 1) << "offers " << head << " in the capture";
  }
}

// 6. Port 4011: an iPXE-style request (from port 68, xid 0, boot item) and
// an EDK2-style one (from port 4011, fresh xid) each get an ACK with the file
// at their own source port, and the server's kernel sends the client no ICMP
// port unreachable (pxe-pdhcp holds UDP 4011).
TEST_F(LanTest, Port4011) {
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  // The client addresses exist on v0 only so that the server's ARP for them
  // resolves: an ICMP error, if the server sent one, would reach the wire.
  for (const char* cidr : {"10.77.0.50/24", "10.77.0.51/24", "10.77.0.9/24"}) {
    ASSERT_OK_STATUS(sandbox_->AddAddress(cli_, "v0", cidr));
  }
  ASSERT_NO_FATAL_FAILURE(
      StartCapture(cli_, "v0", "icmp and src host 10.77.0.1", "capture.log"));
  ASSERT_GT(StartPdhcp(srv_, "v1"), 0);
  // pxe-pdhcp holds UDP 4011 (with a socket that reads nothing). Not fatal:
  // the checks below tell what a client would suffer without it.
  const absl::Status held =
      sandbox_->WaitForUdpListener(srv_, 4011, absl::Seconds(3));
  EXPECT_TRUE(held.ok()) << held;
  const int64_t unreachables_before = IcmpOutDestUnreachs(srv_);
  ASSERT_GE(unreachables_before, 0);

  // No DHCP server here: --client-ip is the address the client would have.
  {
    SCOPED_TRACE("iPXE style");
    const ProbeRun run =
        Probe(cli_, {"--arch", "0", "--ipxe", "--style", "ipxe", "--client-ip",
                     "10.77.0.50", "--timeout", "1"});
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    const std::string request = run.First("request: ");
    EXPECT_EQ(Field(request, "from", 1), "10.77.0.50:68") << run.Report();
    EXPECT_EQ(Field(request, "to"), "10.77.0.1:4011") << request;
    EXPECT_EQ(Field(request, "xid"), "0x00000000") << request;
    EXPECT_THAT(request, HasSubstr("boot-item 80 00 00 00")) << request;
    const std::string ack = run.First("ack from ");
    EXPECT_EQ(Field(ack, "ACK"), "10.77.0.1:4011") << run.Report();
    EXPECT_EQ(Field(ack, "->"), "10.77.0.50:68") << ack;
    EXPECT_EQ(Field(ack, "xid"), "0x00000000") << ack;
    EXPECT_EQ(Field(ack, "file"), kBiosNbp) << ack;
    // The boot item echoed: 43 = {71 len 4: 80 00 00 00, END}.
    EXPECT_THAT(ack, HasSubstr("option-43 [47 04 80 00 00 00 ff]")) << ack;
  }
  {
    SCOPED_TRACE("EDK2 style");
    const ProbeRun run =
        Probe(cli_, {"--arch", "7", "--style", "edk2", "--client-ip",
                     "10.77.0.51", "--timeout", "1"});
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    const std::string request = run.First("request: ");
    EXPECT_EQ(Field(request, "from", 1), "10.77.0.51:4011") << run.Report();
    EXPECT_EQ(Field(request, "to"), "10.77.0.1:4011") << request;
    const std::string ack = run.First("ack from ");
    EXPECT_EQ(Field(ack, "ACK"), "10.77.0.1:4011") << run.Report();
    EXPECT_EQ(Field(ack, "->"), "10.77.0.51:4011") << ack;
    EXPECT_EQ(Field(ack, "xid"), Field(request, "xid")) << ack;
    EXPECT_EQ(Field(ack, "file"), kUefiNbp) << ack;
  }

  EXPECT_EQ(IcmpOutDestUnreachs(srv_), unreachables_before)
      << "the server's kernel sent ICMP destination unreachable for a 4011 "
         "request";

  // The control: a request to a port nobody holds (a relayed DISCOVER to
  // 10.77.0.1:67; no DHCP server runs here) does draw one, and both checks
  // see it, so their silence above means something.
  const ProbeRun control = Probe(
      cli_, {"--relay", "10.77.0.9", "--server", "10.77.0.1", "--server-mac",
             DeviceMac(srv_, "v1"), "--no-4011", "--timeout", "1"});
  EXPECT_EQ(control.result.exit_code, 0) << control.Report();
  ASSERT_OK_STATUS(WaitForFileContains(sandbox_->Path("capture.log"),
                                       "udp port 67 unreachable",
                                       absl::Seconds(3)));
  EXPECT_EQ(IcmpOutDestUnreachs(srv_), unreachables_before + 1);
  const std::string capture = ReadFileOrEmpty(sandbox_->Path("capture.log"));
  EXPECT_THAT(capture, Not(HasSubstr("port 4011 unreachable"))) << capture;
  EXPECT_THAT(capture, Not(HasSubstr("port 68 unreachable"))) << capture;
}

// 7. Clients that are not booting get nothing from pxe-pdhcp: busybox
// udhcpc and ISC dhclient get their leases from dnsmasq; pxe-probe posing as
// Windows ("MSFT 5.0") or without option 60 gets no proxy offer. pxe-pdhcp
// saw all of it (its stop summary counts the frames) and answered none.
// Both clients are the point of the test: without either it cannot run.
TEST_F(LanTest, Silence) {
  for (const char* client : {"busybox", "dhclient"}) {
    if (!FindProgram(client).ok()) {
      PXE_CANNOT_RUN(absl::StrCat(
          client, " is not installed (Debian: udhcpc, isc-dhcp-client)"));
    }
  }
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  ASSERT_NO_FATAL_FAILURE(
      StartDnsmasq(srv_, "v1", {"--dhcp-range=10.77.0.100,10.77.0.200,1h"}));
  const pid_t proxy = StartPdhcp(srv_, "v1");
  ASSERT_GT(proxy, 0);

  // -s /bin/true: report the lease, configure nothing.
  absl::StatusOr<CommandResult> udhcpc =
      sandbox_->RunIn(cli_,
                      {"busybox", "udhcpc", "-i", "v0", "-f", "-q", "-n", "-t",
                       "3", "-T", "1", "-s", "/bin/true"},
                      absl::Seconds(15));
  ASSERT_TRUE(udhcpc.ok()) << udhcpc.status();
  EXPECT_EQ(udhcpc->exit_code, 0) << udhcpc->out << udhcpc->err;
  EXPECT_THAT(udhcpc->out + udhcpc->err,
              ContainsRegex("lease of 10\\.77\\.0\\.[0-9]+ obtained"));

  const std::string dhclient_log = sandbox_->Path("dhclient.log");
  absl::StatusOr<pid_t> dhclient =
      sandbox_->Spawn(cli_,
                      {"dhclient", "-d", "-1", "-v", "-cf", "/dev/null", "-sf",
                       "/bin/true", "-lf", sandbox_->Path("dhclient.leases"),
                       "-pf", sandbox_->Path("dhclient.pid"), "v0"},
                      dhclient_log);
  ASSERT_TRUE(dhclient.ok()) << dhclient.status();
  const absl::Status bound = WaitForFileContains(
      dhclient_log, "bound to 10.77.0.",
      WaitOptions{.timeout = absl::Seconds(15), .abort_if = [&] {
                    return sandbox_->CheckRunning(*dhclient, "dhclient");
                  }});
  EXPECT_TRUE(bound.ok()) << bound;
  sandbox_->Stop(*dhclient);
  for (const char* vendor_class : {"MSFT 5.0", ""}) {
    SCOPED_TRACE(absl::StrCat("option 60 \"", vendor_class, "\""));
    const ProbeRun run = Probe(cli_, {"--vendor-class", vendor_class,
                                      "--expect-none", "--timeout", "1.5"});
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    EXPECT_THAT(run.Lines("proxy-offer from "), IsEmpty()) << run.Report();
    // The exchange did happen: dnsmasq answered it.
    EXPECT_THAT(run.Lines("dhcp-offer from "), Not(IsEmpty())) << run.Report();
  }

  sandbox_->Stop(proxy);  // SIGTERM: it prints its summary
  const std::string log = ProxyLog();
  EXPECT_THAT(log, Not(HasSubstr(" sent="))) << "pxe-pdhcp answered someone";
  EXPECT_THAT(log, HasSubstr(" 0 answered,"));
  // "stopping: N frames, 0 answered, ...": it did see the traffic (each
  // client's DISCOVER and dnsmasq's OFFER at least).
  int64_t frames = -1;
  if (const size_t at = log.find("stopping: "); at != std::string::npos) {
    const std::string count = Field(log.substr(at), "stopping:");
    (void)absl::SimpleAtoi(count, &frames);
  }
  EXPECT_GE(frames, 4) << log;
}

// 8. 802.1Q on a trunk. pxe-probe injects tagged frames over the untagged
// veth (no VLAN device is needed on either side). VLANs 100 and 200 are
// served, each from its own address and with its own tag; an untagged
// client gets the interface's address, untagged. VLAN 300 (not served), an
// 802.1ad S-tag and QinQ get nothing, and the log says why.
TEST_F(LanTest, Vlan) {
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  const pid_t proxy = StartPdhcp(
      srv_, "v1",
      {"--vlan", "v1:100=10.100.0.1/24", "--vlan", "v1:200=10.200.0.1/24"});
  ASSERT_GT(proxy, 0);

  struct Case {
    std::vector<std::string> args;
    const char* vlan;  // "" = untagged
    const char* from;
    const char* what;
  };
  for (const Case& c :
       {Case{{"--vlan", "100", "--client-ip", "10.100.0.50"},
             "100",
             "10.100.0.1",
             "BIOS, VLAN 100"},
        Case{{"--vlan", "200", "--arch", "7", "--client-ip", "10.200.0.50"},
             "200",
             "10.200.0.1",
             "UEFI, VLAN 200"},
        Case{{"--client-ip", "10.77.0.50"},
             "",
             "10.77.0.1",
             "BIOS, untagged"}}) {
    SCOPED_TRACE(c.what);
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--timeout", "1"});
    const ProbeRun run = Probe(cli_, args);
    // pxe-probe itself ignores replies whose tag differs from its own.
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
    const std::string offer = run.First("proxy-offer from ");
    const std::string ack = run.First("ack from ");
    ASSERT_THAT(offer, Not(IsEmpty())) << run.Report();
    ASSERT_THAT(ack, Not(IsEmpty())) << run.Report();
    EXPECT_EQ(Field(offer, "vlan"), c.vlan) << offer;
    EXPECT_EQ(Field(ack, "vlan"), c.vlan) << ack;
    EXPECT_EQ(Field(offer, "from"), c.from) << offer;
    EXPECT_EQ(Field(ack, "from"), c.from) << ack;
    EXPECT_THAT(Field(ack, "file"), Not(IsEmpty())) << ack;
    const std::string chaddr = Field(offer, "chaddr");
    for (const std::string& line : ProxyAnswersTo(chaddr)) {
      // The request's tag (the reply's is on the wire, checked above).
      if (*c.vlan == '\0') {
        EXPECT_THAT(line, Not(HasSubstr(" vlan="))) << line;
      } else {
        EXPECT_THAT(line, HasSubstr(absl::StrCat(" vlan=", c.vlan, " ")))
            << line;
      }
    }
  }

  for (const Case& c :
       {Case{{"--vlan", "300"}, "300", "", "VLAN 300, not served"},
        Case{{"--service-tag", "100"}, "", "", "an S-tag"},
        Case{{"--service-tag", "7", "--vlan", "100"}, "100", "", "QinQ"}}) {
    SCOPED_TRACE(c.what);
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--expect-none", "--no-4011", "--timeout", "1"});
    const ProbeRun run = Probe(cli_, args);
    EXPECT_EQ(run.result.exit_code, 0) << run.Report();
  }
  sandbox_->Stop(proxy);  // SIGTERM: it prints its summary
  const std::string log = ProxyLog();
  EXPECT_THAT(log, HasSubstr("VlanNotServed 1")) << log;
  EXPECT_THAT(log, HasSubstr("ServiceVlanTag 1")) << log;
  EXPECT_THAT(log, HasSubstr("StackedVlanTags 1")) << log;
}

// 9. A VLAN device and its parent both served: a client on VLAN 100 is
// answered once, by v1.100 from its address; the parent drops the tagged
// copy it sees. The same VLAN also configured on the parent is refused at
// start. Needs a kernel that can create VLAN devices (8021q).
TEST_F(LanTest, VlanDeviceAndItsParent) {
  ASSERT_NO_FATAL_FAILURE(BuildSameHostLan({"10.77.0.1/24"}));
  absl::StatusOr<CommandResult> made =
      sandbox_->RunIn(srv_, {"ip", "link", "add", "link", "v1", "name",
                             "v1.100", "type", "vlan", "id", "100"});
  ASSERT_TRUE(made.ok()) << made.status();
  if (made->exit_code != 0) {
    PXE_SKIP_KERNEL_LACKS("8021q",
                          absl::StrCat("`ip link add ... type vlan` fails: ",
                                       absl::StripAsciiWhitespace(made->err)));
  }
  ASSERT_OK_STATUS(sandbox_->AddAddress(srv_, "v1.100", "10.100.0.1/24"));
  ASSERT_OK_STATUS(
      sandbox_->RunInOrError(srv_, {"ip", "link", "set", "v1.100", "up"}));

  // Refused: VLAN 100 on v1 and the device v1.100.
  absl::StatusOr<CommandResult> refused =
      sandbox_->RunIn(srv_, {PXE_PDHCP_BINARY, "-d", "-i", "v1", "-i", "v1.100",
                             "--vlan", "v1:100=10.100.0.1/24", kBiosNbp});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_NE(refused->exit_code, 0);
  EXPECT_THAT(refused->err, HasSubstr("VLAN 100 is served twice"));

  const pid_t proxy = StartPdhcp(srv_, "v1", {"-i", "v1.100"});
  ASSERT_GT(proxy, 0);
  const ProbeRun run =
      Probe(cli_, {"--vlan", "100", "--client-ip", "10.100.0.50", "--wait-full",
                   "--timeout", "1"});
  EXPECT_EQ(run.result.exit_code, 0) << run.Report();
  EXPECT_EQ(run.Lines("proxy-offer from ").size(), 1u) << run.Report();
  EXPECT_EQ(Field(run.First("proxy-offer from "), "from"), "10.100.0.1")
      << run.Report();
  sandbox_->Stop(proxy);
  EXPECT_THAT(ProxyLog(), HasSubstr("VlanNotServed")) << ProxyLog();
}

// pxe-probe --ipv6 as EDK2's PXEv6 client beside dnsmasq's DHCPv6 address
// server: both Advertises reported (ours a proxy: no address, our server ID,
// option 59 naming us), then the 4011 Request to [fd77::1] answered with the
// boot file URL; as the HTTPv6 client (arch 16) the Advertise's URL is the
// answer.
TEST_F(LanTest, Ipv6ProbeGetsTheBootFileUrl) {
  BuildSameHostLan({"10.77.0.1/24"});
  EnableIpv6("fd77::150/64");
  StartDnsmasq(srv_, "v1", {"--dhcp-range=fd77::100,fd77::1ff,64,1h"});
  const pid_t proxy = StartPdhcp(
      srv_, "v1", {"-t", "fd77::1", "--http-url", "http://[fd77::1]/boot.efi"});
  ASSERT_GT(proxy, 0);
  // Our server ID: a DUID-LL (00:03:00:01) of v1's MAC.
  const std::string server_id =
      absl::StrCat("00:03:00:01:", DeviceMac(srv_, "v1"));

  const ProbeRun pxe = Probe(cli_, {"--ipv6"});
  EXPECT_EQ(pxe.result.exit_code, 0) << pxe.Report();
  EXPECT_THAT(pxe.First("solicit: "),
              AllOf(HasSubstr("to [ff02::1:2]:547"), HasSubstr("arch 7"),
                    HasSubstr("PXEClient:Arch:00007:UNDI:003000")))
      << pxe.Report();
  const std::vector<std::string> proxies = pxe.Lines("proxy-advertise from ");
  ASSERT_THAT(proxies, SizeIs(1)) << pxe.Report();
  EXPECT_THAT(
      proxies[0],
      AllOf(StartsWith("proxy-advertise from fe80::"),
            HasSubstr(absl::StrCat("server-id ", server_id, ",")),
            HasSubstr("boot-url tftp://[fd77::1]/syslinux.efi"),
            Not(HasSubstr("address offered")), Not(HasSubstr("NOT echoed"))))
      << pxe.Report();
  // dnsmasq: an address server, no boot data.
  EXPECT_THAT(pxe.First("advertise from "),
              AllOf(HasSubstr("address offered"), HasSubstr("boot-url none"),
                    Not(HasSubstr(server_id))))
      << pxe.Report();
  EXPECT_THAT(pxe.First("request: "),
              AllOf(HasSubstr("to [fd77::1]:4011"),
                    HasSubstr(absl::StrCat("server-id ", server_id))))
      << pxe.Report();
  EXPECT_THAT(pxe.First("reply from "),
              AllOf(StartsWith("reply from fd77::1: "),
                    HasSubstr("boot-url tftp://[fd77::1]/syslinux.efi")))
      << pxe.Report();

  const ProbeRun http = Probe(cli_, {"--ipv6", "--arch", "16"});
  EXPECT_EQ(http.result.exit_code, 0) << http.Report();
  EXPECT_THAT(http.First("proxy-advertise from "),
              AllOf(HasSubstr("HTTPClient"),
                    HasSubstr("boot-url http://[fd77::1]/boot.efi")))
      << http.Report();
  EXPECT_THAT(http.Lines("request: "), IsEmpty()) << http.Report();
  sandbox_->Stop(proxy);
}

// The control: dnsmasq's DHCPv6 server alone answers, with an address and
// no boot data, so the probe reports no proxy and fails; --expect-none then
// succeeds.
TEST_F(LanTest, Ipv6ProbeWithoutProxyFindsNone) {
  BuildSameHostLan({"10.77.0.1/24"});
  EnableIpv6("fd77::150/64");
  StartDnsmasq(srv_, "v1", {"--dhcp-range=fd77::100,fd77::1ff,64,1h"});

  const ProbeRun run = Probe(cli_, {"--ipv6", "--timeout", "2"});
  EXPECT_EQ(run.result.exit_code, 1) << run.Report();
  EXPECT_THAT(run.Lines("proxy-advertise from "), IsEmpty()) << run.Report();
  EXPECT_THAT(run.First("advertise from "), HasSubstr("address offered"))
      << run.Report();
  EXPECT_THAT(run.Lines("request: "), IsEmpty()) << run.Report();
  EXPECT_THAT(run.result.err,
              HasSubstr("no proxy Advertise within 2 s (only address servers "
                        "answered)"))
      << run.Report();

  const ProbeRun none =
      Probe(cli_, {"--ipv6", "--timeout", "1", "--expect-none"});
  EXPECT_EQ(none.result.exit_code, 0) << none.Report();
}

// A client interface without IPv6 has no link-local address to send from:
// said plainly, exit 1.
TEST_F(LanTest, Ipv6ProbeNeedsALinkLocalAddress) {
  BuildSameHostLan({"10.77.0.1/24"});
  EnableIpv6("", /*client_ipv6=*/false);
  const ProbeRun run = Probe(cli_, {"--ipv6", "--timeout", "1"});
  EXPECT_EQ(run.result.exit_code, 1) << run.Report();
  EXPECT_THAT(run.result.err,
              HasSubstr("v0 has no IPv6 link-local address, and a PXEv6 "
                        "client sends its Solicit from one"))
      << run.Report();
}

}  // namespace
}  // namespace pxe::testing
