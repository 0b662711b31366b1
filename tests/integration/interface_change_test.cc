// Interfaces that change under a running pxe-pdhcp, with pxe-storm powering
// on clients all the while: the served link goes down and up, its address
// is replaced, it is deleted and created again (a new index), and (with
// --wait-for-interfaces) it does not exist when the daemon starts. The
// clients must never get a wrong answer, never an answer from a removed
// address, and service must come back; tcpdump on the clients' side times
// every request and reply, and each test prints how long after the change
// the first correct reply came and from when on every request was answered.
//
// The LAN: pxe-storm on v0 (namespace cli), pxe-pdhcp on v1 (namespace srv),
// joined by bridge br0 in namespace br, so v1 can be deleted and created
// again while pxe-storm's interface stays:
//
//   cli: v0 ---- c0 [br0] s0 ---- v1 :srv
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "capture/pcap_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"
#include "tests/testing/cannot_run.h"

namespace pxe::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kServerCidr[] = "10.77.0.1/16";
constexpr char kServerIp[] = "10.77.0.1";
// pxe-storm's clients own 10.77.128.0/17 (its default) and ask on 4011
// from there.
constexpr int kRate = 1000;  // new clients a second
// Service must be back within this, or it never came back.
constexpr absl::Duration kServiceBound = absl::Seconds(5);

uint32_t Ipv4(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return ntohl(a.s_addr);
}

int64_t UnixNs(absl::Time t) { return absl::ToUnixNanos(t); }

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// One DHCP frame seen on the clients' side.
struct Packet {
  int64_t time_ns = 0;  // CLOCK_REALTIME, as absl::Now()
  bool reply = false;   // BOOTREPLY (from the proxy), else a client request
  uint8_t type = 0;     // option 53
  uint64_t client = 0;  // chaddr
  uint32_t xid = 0;
  uint32_t ip_src = 0;
  uint32_t ip_dst = 0;
  uint16_t udp_dst = 0;
  uint32_t server_id = 0;  // option 54
};

constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5;

uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

// Ethernet, IPv4, UDP, BOOTP with options 53 and 54; nullopt for anything
// else.
std::optional<Packet> ParseDhcp(std::span<const uint8_t> f, int64_t time_ns) {
  if (f.size() < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) return {};
  const size_t ip = 14;
  const size_t ihl = (f[ip] & 0x0f) * 4u;
  if (f[ip + 9] != 17 || f.size() < ip + ihl + 8 + 240) return {};
  const size_t udp = ip + ihl;
  const size_t bootp = udp + 8;
  Packet p;
  p.time_ns = time_ns;
  p.ip_src = Be32(&f[ip + 12]);
  p.ip_dst = Be32(&f[ip + 16]);
  p.udp_dst = static_cast<uint16_t>(f[udp + 2] << 8 | f[udp + 3]);
  p.reply = f[bootp] == 2;
  p.xid = Be32(&f[bootp + 4]);
  for (int i = 0; i < 6; ++i) p.client = p.client << 8 | f[bootp + 28 + i];
  if (Be32(&f[bootp + 236]) != 0x63825363) return {};
  for (size_t o = bootp + 240; o < f.size() && f[o] != 255;) {
    if (f[o] == 0) {
      ++o;
      continue;
    }
    if (o + 2 > f.size() || o + 2 + f[o + 1] > f.size()) break;
    const uint8_t code = f[o], length = f[o + 1];
    if (code == 53 && length == 1) p.type = f[o + 2];
    if (code == 54 && length == 4) p.server_id = Be32(&f[o + 2]);
    o += 2 + length;
  }
  if (p.type == 0) return {};
  return p;
}

// What tcpdump saw, and the figures the tests report.
class Traffic {
 public:
  static absl::StatusOr<Traffic> Read(const std::string& pcap) {
    absl::StatusOr<std::unique_ptr<PcapFileSource>> source =
        PcapFileSource::Open(pcap);
    if (!source.ok()) return source.status();
    Traffic out;
    std::vector<RxFrame> batch(64);
    for (;;) {
      absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
      if (!n.ok()) break;  // end of capture
      for (size_t i = 0; i < *n; ++i) {
        if (std::optional<Packet> p =
                ParseDhcp(batch[i].data,
                          static_cast<int64_t>(batch[i].meta.timestamp_ns))) {
          out.packets_.push_back(*p);
        }
      }
    }
    return out;
  }

  // Replies from `server` (IP source and server id) after `from_ns`.
  std::vector<const Packet*> RepliesFrom(uint32_t server, int64_t from_ns,
                                         int64_t to_ns = INT64_MAX) const {
    std::vector<const Packet*> out;
    for (const Packet& p : packets_) {
      if (p.reply && p.time_ns >= from_ns && p.time_ns <= to_ns &&
          (p.ip_src == server || p.server_id == server)) {
        out.push_back(&p);
      }
    }
    return out;
  }

  std::vector<const Packet*> Replies(int64_t from_ns, int64_t to_ns) const {
    std::vector<const Packet*> out;
    for (const Packet& p : packets_) {
      if (p.reply && p.time_ns >= from_ns && p.time_ns <= to_ns) {
        out.push_back(&p);
      }
    }
    return out;
  }

  // The first correct reply after `from_ns`: from `server`, its IP source
  // and its server id. Nanoseconds after `from_ns`, or -1.
  int64_t FirstReply(uint32_t server, int64_t from_ns) const {
    for (const Packet& p : packets_) {
      if (p.reply && p.time_ns >= from_ns && p.ip_src == server &&
          p.server_id == server) {
        return p.time_ns - from_ns;
      }
    }
    return -1;
  }

  // How long after `from_ns` service was full again: every DISCOVER sent
  // later was answered by `server` within 1 s, and the first correct reply
  // had come. -1 if the last DISCOVERs went unanswered (never restored).
  int64_t FullService(uint32_t server, int64_t from_ns) const {
    std::map<std::pair<uint64_t, uint32_t>, std::vector<int64_t>> offers;
    for (const Packet& p : packets_) {
      if (p.reply && p.type == kOffer && p.ip_src == server &&
          p.server_id == server) {
        offers[{p.client, p.xid}].push_back(p.time_ns);
      }
    }
    int64_t last_unanswered = -1;
    int64_t last_discover = -1;
    for (const Packet& p : packets_) {
      if (p.reply || p.type != kDiscover || p.time_ns < from_ns) continue;
      last_discover = std::max(last_discover, p.time_ns);
      bool answered = false;
      auto it = offers.find({p.client, p.xid});
      if (it != offers.end()) {
        for (int64_t t : it->second) {
          answered |= t >= p.time_ns && t <= p.time_ns + 1'000'000'000;
        }
      }
      if (!answered) last_unanswered = std::max(last_unanswered, p.time_ns);
    }
    const int64_t first = FirstReply(server, from_ns);
    if (first < 0 || last_unanswered == last_discover) return -1;
    return std::max(first, last_unanswered - from_ns);
  }

  // Clients whose 4011 request never got an ACK (PXE firmware gives up on
  // that boot), and the time of the last such request.
  std::set<uint64_t> Stranded(int64_t* last_request_ns) const {
    std::set<uint64_t> asked, acked;
    *last_request_ns = -1;
    for (const Packet& p : packets_) {
      if (p.reply && p.type == kAck) acked.insert(p.client);
    }
    std::set<uint64_t> out;
    for (const Packet& p : packets_) {
      if (!p.reply && p.type == kRequest && p.udp_dst == 4011 &&
          !acked.count(p.client)) {
        out.insert(p.client);
        *last_request_ns = std::max(*last_request_ns, p.time_ns);
      }
    }
    return out;
  }

  size_t size() const { return packets_.size(); }

 private:
  std::vector<Packet> packets_;
};

class InterfaceChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IsRoot()) {
      PXE_CANNOT_RUN(
          "needs root: builds network namespaces and runs pxe-pdhcp, "
          "pxe-storm and tcpdump inside them");
    }
    for (const char* program : {"ip", "tcpdump"}) {
      if (!FindProgram(program).ok()) {
        PXE_CANNOT_RUN(absl::StrCat(
            program, " is not installed (Debian: iproute2 tcpdump)"));
      }
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> made = Sandbox::Create();
    ASSERT_TRUE(made.ok()) << made.status();
    sandbox_ = *std::move(made);
    absl::StatusOr<std::string> srv = sandbox_->AddNamespace("srv");
    absl::StatusOr<std::string> br = sandbox_->AddNamespace("br");
    absl::StatusOr<std::string> cli = sandbox_->AddNamespace("cli");
    ASSERT_TRUE(srv.ok() && br.ok() && cli.ok());
    srv_ = *srv;
    br_ = *br;
    cli_ = *cli;
    ASSERT_TRUE(sandbox_->AddBridge(br_, "br0").ok());
    ASSERT_TRUE(sandbox_->AddVethPair(cli_, "v0", br_, "c0").ok());
    ASSERT_TRUE(sandbox_->AttachToBridge(br_, "c0", "br0").ok());
  }

  // The server's side: v1 in srv, its peer s0 in the bridge, an address.
  absl::Status AddServerLink(const std::string& cidr = kServerCidr) {
    if (absl::Status s = sandbox_->AddVethPair(srv_, "v1", br_, "s0");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = sandbox_->AttachToBridge(br_, "s0", "br0"); !s.ok()) {
      return s;
    }
    return sandbox_->AddAddress(srv_, "v1", cidr);
  }

  absl::Status RunIp(const std::string& ns, std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    return sandbox_->RunInOrError(ns, args);
  }

  void StartDaemon(std::vector<std::string> extra = {}) {
    log_ = sandbox_->Path("proxy.log");
    std::vector<std::string> argv = {
        PXE_PDHCP_BINARY, "--foreground", "--workers", "2", "-i", "v1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("pxelinux.0");
    absl::StatusOr<pid_t> daemon = sandbox_->Spawn(srv_, argv, log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *daemon;
    ASSERT_TRUE(
        WaitForFileContains(log_, " ready, 2 workers", absl::Seconds(10)).ok())
        << TailOfFile(log_);
  }

  // tcpdump on v0, then pxe-storm: `clients` at kRate a second.
  void StartStorm(int clients) {
    pcap_ = sandbox_->Path("clients.pcap");
    const std::string tcpdump_log = sandbox_->Path("tcpdump.log");
    // -Z root: tcpdump would otherwise switch to its own user and lose the
    // kill-on-parent-death guard. A short snapshot length makes small ring
    // blocks: in immediate mode a block may go out holding one frame, so
    // 32 MiB of them must be many to ride out a busy moment.
    absl::StatusOr<pid_t> tcpdump =
        sandbox_->Spawn(cli_,
                        {"tcpdump", "-Z", "root", "--immediate-mode", "-i",
                         "v0", "-n", "-s", "1024", "-B", "32768", "-w", pcap_,
                         "udp and (port 67 or port 68 or port 4011)"},
                        tcpdump_log);
    ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
    tcpdump_ = *tcpdump;
    ASSERT_TRUE(
        WaitForFileContains(tcpdump_log, "listening on", absl::Seconds(10))
            .ok())
        << TailOfFile(tcpdump_log);
    storm_out_ = sandbox_->Path("storm.json");
    // --retry-scale 0.5: DISCOVERs are retried after 2, 4, 8 s; a 4011
    // request after 0.5 s, given up after 1 s.
    absl::StatusOr<pid_t> storm = sandbox_->Spawn(
        cli_,
        {PXE_STORM_BINARY, "-i", "v0", "-n", absl::StrCat(clients), "--rate",
         absl::StrCat(kRate), "--mix", "bios=50,uefi-x64=50", "--retry-scale",
         "0.5", "--seed", "23", "--json"},
        storm_out_);
    ASSERT_TRUE(storm.ok()) << storm.status();
    storm_ = *storm;
  }

  // Waits for pxe-storm to finish, stops tcpdump and the daemon, and reads
  // what the clients saw.
  void FinishStorm() {
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (sandbox_->IsRunning(storm_) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_FALSE(sandbox_->IsRunning(storm_)) << "pxe-storm did not finish";
    json_ = ReadFileOrEmpty(storm_out_);
    ASSERT_TRUE(sandbox_->CheckRunning(daemon_, "pxe-pdhcp").ok())
        << TailOfFile(log_);
    sandbox_->Stop(tcpdump_);
    const std::string tcpdump_log =
        ReadFileOrEmpty(sandbox_->Path("tcpdump.log"));
    sandbox_->Stop(daemon_);
    daemon_log_ = ReadFileOrEmpty(log_);
    ASSERT_THAT(tcpdump_log, HasSubstr("\n0 packets dropped by kernel"))
        << "the capture lost frames: the figures would be wrong";
    absl::StatusOr<Traffic> traffic = Traffic::Read(pcap_);
    ASSERT_TRUE(traffic.ok()) << traffic.status();
    traffic_ = *std::move(traffic);
    ASSERT_GT(traffic_.size(), 0u);
  }

  // What every test asserts about the clients, and the figures it prints:
  // service restored by `server` after `from` (the change began), the
  // change's commands having taken until `until`.
  void CheckService(const std::string& what, uint32_t server, absl::Time from,
                    absl::Time until) {
    EXPECT_EQ(JsonNumber(json_, "wrong_answers", "total"), 0) << json_;
    const int64_t first = traffic_.FirstReply(server, UnixNs(from));
    const int64_t full = traffic_.FullService(server, UnixNs(from));
    ASSERT_GE(first, 0) << "no correct reply after the change";
    EXPECT_GE(full, 0) << "the last DISCOVERs went unanswered";
    EXPECT_LE(full, absl::ToInt64Nanoseconds(kServiceBound))
        << "service did not come back";
    // The clients that did not boot are those whose 4011 request fell into
    // the change (PXE firmware gives up after its second try).
    int64_t last_stranded = -1;
    const std::set<uint64_t> stranded = traffic_.Stranded(&last_stranded);
    EXPECT_EQ(JsonNumber(json_, "clients", "never"),
              static_cast<long>(stranded.size()))
        << json_;
    if (!stranded.empty()) {
      EXPECT_LE(last_stranded, UnixNs(from) + std::max<int64_t>(full, 0))
          << "a 4011 request went unanswered after service was back";
    }
    std::printf(
        "%s: first correct reply %.1f ms after the change began (its "
        "commands took %.1f ms), full service after %.1f ms; %zu of %.0f "
        "clients caught mid-exchange did not boot, %.0f booted after "
        "retries\n",
        what.c_str(), Ms(first), absl::ToDoubleMilliseconds(until - from),
        Ms(full), stranded.size(), JsonNumber(json_, "clients", "total"),
        JsonNumber(json_, "clients", "booted_after_retries"));
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_, br_, cli_;
  std::string log_, pcap_, storm_out_, json_, daemon_log_;
  pid_t daemon_ = -1, tcpdump_ = -1, storm_ = -1;
  Traffic traffic_;
};

TEST_F(InterfaceChangeTest, LinkDownThenUpUnderLoad) {
  ASSERT_TRUE(AddServerLink().ok());
  StartDaemon();
  StartStorm(6000);
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(RunIp(srv_, {"link", "set", "v1", "down"}).ok());
  const absl::Time down = absl::Now();
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time up = absl::Now();
  ASSERT_TRUE(RunIp(srv_, {"link", "set", "v1", "up"}).ok());
  const absl::Time up_done = absl::Now();
  ASSERT_NO_FATAL_FAILURE(FinishStorm());

  // Served before, not while down (the daemon kept running), again after.
  EXPECT_FALSE(traffic_.RepliesFrom(Ipv4(kServerIp), 0, UnixNs(down)).empty());
  EXPECT_TRUE(traffic_.Replies(UnixNs(down) + 50'000'000, UnixNs(up)).empty());
  CheckService("link down 0.5 s, then up", Ipv4(kServerIp), up, up_done);
  EXPECT_THAT(daemon_log_, HasSubstr("v1 is down; its rings stay open"));
  EXPECT_THAT(daemon_log_, HasSubstr("v1 is up"));
}

TEST_F(InterfaceChangeTest, AddressReplacedUnderLoad) {
  ASSERT_TRUE(AddServerLink().ok());
  StartDaemon();
  // One `ip` run: the old address removed and the new one added.
  const std::string batch = sandbox_->Path("renumber.ip");
  ASSERT_TRUE(WriteFile(batch,
                        "address del 10.77.0.1/16 dev v1\n"
                        "address add 10.77.0.2/16 dev v1\n")
                  .ok());
  StartStorm(6000);
  absl::SleepFor(absl::Seconds(2));
  const absl::Time change = absl::Now();
  ASSERT_TRUE(RunIp(srv_, {"-batch", batch}).ok());
  const absl::Time change_done = absl::Now();
  ASSERT_NO_FATAL_FAILURE(FinishStorm());

  const uint32_t old_ip = Ipv4("10.77.0.1");
  const uint32_t new_ip = Ipv4("10.77.0.2");
  EXPECT_FALSE(traffic_.RepliesFrom(old_ip, 0, UnixNs(change)).empty());
  // Never from the removed address once it is gone, never from the new one
  // before it was there.
  std::vector<const Packet*> stale =
      traffic_.RepliesFrom(old_ip, UnixNs(change_done));
  EXPECT_TRUE(stale.empty())
      << stale.size() << " replies from the removed address, the last "
      << Ms(stale.empty() ? 0 : stale.back()->time_ns - UnixNs(change_done))
      << " ms after it was removed";
  EXPECT_TRUE(traffic_.RepliesFrom(new_ip, 0, UnixNs(change)).empty());
  // Both steps answer from the new address: offers, and 4011 ACKs.
  bool ack_from_new = false;
  for (const Packet* p : traffic_.RepliesFrom(new_ip, UnixNs(change))) {
    ack_from_new |= p->type == kAck && p->ip_src == new_ip;
  }
  EXPECT_TRUE(ack_from_new) << "no 4011 ACK from the new address";
  CheckService("address 10.77.0.1 replaced by 10.77.0.2", new_ip, change,
               change_done);
  EXPECT_THAT(daemon_log_,
              HasSubstr("v1: address 10.77.0.1/16 removed; no longer "
                        "answering from it"));
  EXPECT_THAT(daemon_log_,
              HasSubstr("v1: address 10.77.0.2/16 added; answering from it"));
}

TEST_F(InterfaceChangeTest, LinkDeletedAndCreatedAgainUnderLoad) {
  ASSERT_TRUE(AddServerLink().ok());
  StartDaemon();
  StartStorm(6000);
  absl::SleepFor(absl::Seconds(2));
  // Deleting v1 deletes its peer s0 too; v0 and the bridge stay.
  ASSERT_TRUE(RunIp(srv_, {"link", "del", "v1"}).ok());
  const absl::Time deleted = absl::Now();
  ASSERT_TRUE(WaitForFileContains(log_,
                                  "v1 is gone; waiting for it to come back",
                                  absl::Seconds(5))
                  .ok())
      << TailOfFile(log_);
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time created = absl::Now();
  ASSERT_TRUE(AddServerLink().ok());
  const absl::Time created_done = absl::Now();
  ASSERT_NO_FATAL_FAILURE(FinishStorm());

  EXPECT_FALSE(
      traffic_.RepliesFrom(Ipv4(kServerIp), 0, UnixNs(deleted)).empty());
  EXPECT_TRUE(
      traffic_.Replies(UnixNs(deleted) + 50'000'000, UnixNs(created)).empty());
  CheckService("link deleted, created again 0.5 s later", Ipv4(kServerIp),
               created, created_done);
  EXPECT_THAT(daemon_log_, ::testing::ContainsRegex(
                               "v1 re-created \\(index [0-9]+ -> [0-9]+\\): "
                               "rings reopened"));
}

TEST_F(InterfaceChangeTest, WaitsForAnInterfaceMissingAtStart) {
  StartDaemon({"--wait-for-interfaces"});
  EXPECT_THAT(ReadFileOrEmpty(log_),
              HasSubstr("v1 is missing; waiting for it to appear"));
  StartStorm(4000);
  absl::SleepFor(absl::Seconds(1));
  const absl::Time created = absl::Now();
  ASSERT_TRUE(AddServerLink().ok());
  const absl::Time created_done = absl::Now();
  ASSERT_NO_FATAL_FAILURE(FinishStorm());

  EXPECT_TRUE(traffic_.Replies(0, UnixNs(created)).empty());
  CheckService("interface created 1 s after the start", Ipv4(kServerIp),
               created, created_done);
  EXPECT_EQ(JsonNumber(json_, "clients", "never"), 0) << json_;
  EXPECT_THAT(daemon_log_,
              ::testing::ContainsRegex("v1 appeared \\(index [0-9]+\\): rings "
                                       "opened"));
}

TEST_F(InterfaceChangeTest, AMissingInterfaceIsFatalWithoutWaiting) {
  absl::StatusOr<CommandResult> run = sandbox_->RunIn(
      srv_, {PXE_PDHCP_BINARY, "--foreground", "-i", "v1", "pxelinux.0"});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NE(run->exit_code, 0);
  EXPECT_THAT(run->err, HasSubstr("no such interface: v1"));
  EXPECT_THAT(run->err, HasSubstr("--wait-for-interfaces"));
}

}  // namespace
}  // namespace pxe::testing
