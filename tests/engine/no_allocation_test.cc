// Proves that the packet path — pxe::Respond(): classify, decide, craft, and
// the daemon's whole per-frame work, pxe::Responder (duplicates, learned
// offers, holds, delays, rule lookup) — never touches the heap, for real
// firmware requests and for dropped frames.
// The daemon answers from a fixed set of buffers; one allocation per frame
// would be a latency spike under a PXE storm and a failure mode under memory
// pressure.
//
// This binary counts every call of the C allocator (malloc and the rest,
// which operator new and the C library use; tests/testing/
// allocation_counter.h), which is why it is a test target of its own: the
// counters would change the behaviour of no other test, but the
// interposition applies to the whole program.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/policy_snapshot.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "engine/responder.h"
#include "gtest/gtest.h"
#include "tests/testing/allocation_counter.h"

namespace pxe {
namespace {

using testing::AllocationCounter;

// Keeps the optimizer from eliding a new/delete pair (allowed since C++14):
// the pointer escapes into memory it cannot see through.
void Escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 2);
constexpr uint32_t kSecondServer = MakeIpv4(192, 168, 5, 1);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};

// Frame `number` (1-based, as tcpdump numbers them) of a capture in
// tests/data, copied out of the reader.
std::vector<uint8_t> LoadFrame(const std::string& file, size_t number) {
  auto source =
      PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) + "/" + file);
  if (!source.ok()) {
    ADD_FAILURE() << source.status();
    return {};
  }
  std::vector<RxFrame> batch(256);
  absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
  if (!n.ok() || *n < number) {
    ADD_FAILURE() << file << " has no frame " << number;
    return {};
  }
  const std::span<const uint8_t> data = batch[number - 1].data;
  return {data.begin(), data.end()};
}

struct Frame {
  std::string name;
  std::vector<uint8_t> bytes;
  DropReason expected;
};

class NoAllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The counter must see what it guards against, or every test here
    // would pass vacuously: operator new, malloc, and an allocation inside
    // the C library.
    {
      AllocationCounter counter;
      int* volatile p = new int(1);
      Escape(p);
      delete p;
      void* volatile m = std::malloc(64);
      Escape(m);
      std::free(m);
      char* volatile d = strdup("a string the C library copies");
      Escape(d);
      std::free(d);
      counter.Stop();
      ASSERT_EQ(counter.allocations(), 3u);
      ASSERT_EQ(counter.deallocations(), 3u);
    }
    // A policy with an entry for every kind of client, strings long enough
    // to live on the heap (a short-string-optimized copy would hide a
    // std::string copy on the packet path), and two interface addresses.
    // Compiled here, outside every counting region: compiling allocates,
    // answering must not.
    BootPolicy policy;
    policy.defaults.file = "boot/x86/pxelinux.0-with-a-name-longer-than-sso";
    policy.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
        "boot/efi64/syslinux.efi-with-a-name-longer-than-sso";
    policy.defaults.http_url = "http://10.77.0.2/boot/efi64/ipxe.efi";
    policy.defaults.ipxe_script = "http://10.77.0.2/boot/script.ipxe";
    policy.relay_servers.push_back(
        {.relay_subnet = {.network = MakeIpv4(10, 9, 0, 0),
                          .prefix_length = 24},
         .server = kServer});
    absl::StatusOr<std::unique_ptr<const PolicySnapshot>> snapshot =
        PolicySnapshot::Compile(std::move(policy));
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    policy_ = *std::move(snapshot);

    const std::string bios = "bios-ipxe-proxy-offer.pcap";
    const std::string uefi = "uefi-ovmf-proxy-offer.pcap";
    requests_.push_back(
        {"bios-discover", LoadFrame(bios, 1), DropReason::kNone});
    requests_.push_back({"bios-4011", LoadFrame(bios, 6), DropReason::kNone});
    requests_.push_back(
        {"uefi-discover", LoadFrame(uefi, 1), DropReason::kNone});
    requests_.push_back({"uefi-4011", LoadFrame(uefi, 6), DropReason::kNone});

    // The LAN DHCP server's OFFER (its UDP checksum verifies: a reply we
    // learn from), the same server's ACK as captured on the host side of
    // checksum offload (wrong sum), a client's REQUEST on 67 (not ours to
    // answer), a frame cut inside the IPv4 header, one cut inside the BOOTP
    // header (its lengths claim more than is there), a flipped payload byte.
    drops_.push_back({"server-offer", LoadFrame("uefi-ovmf-port4011.pcap", 2),
                      DropReason::kServerReply});
    drops_.push_back(
        {"offloaded-ack", LoadFrame(bios, 5), DropReason::kBadUdpChecksum});
    drops_.push_back(
        {"request-on-67", LoadFrame(bios, 4), DropReason::kUnhandledMessage});
    drops_.push_back({"non-pxe", LoadFrame(uefi, 8), DropReason::kNotBooting});
    std::vector<uint8_t> truncated = requests_[0].bytes;
    truncated.resize(30);
    drops_.push_back({"cut-in-ip", truncated, DropReason::kFrameTooShort});
    truncated = requests_[0].bytes;
    truncated.resize(200);
    drops_.push_back({"cut-in-bootp", truncated, DropReason::kBadIpLength});
    std::vector<uint8_t> corrupt = requests_[0].bytes;
    corrupt[corrupt.size() / 2] ^= 0x5A;
    drops_.push_back({"corrupt", corrupt, DropReason::kBadUdpChecksum});
    drops_.push_back({"empty", {}, DropReason::kFrameTooShort});
  }

  // Runs every frame through Respond() `rounds` times inside one counting
  // region and checks that each got its expected outcome every time.
  void ExpectNoAllocations(const std::vector<Frame>& frames, int rounds) {
    auto request = std::make_unique<Request>();
    std::vector<uint8_t> out(kMaxReplyFrameSize);
    std::vector<DropReason> results(frames.size() * rounds);
    std::vector<size_t> sizes(frames.size() * rounds);
    const std::array<InterfaceAddress, 2> addresses = {
        InterfaceAddress{kServer, 24}, InterfaceAddress{kSecondServer, 24}};
    const ServerContext context{.mac = kServerMac, .addresses = addresses};

    AllocationCounter counter;
    for (int round = 0; round < rounds; ++round) {
      for (size_t i = 0; i < frames.size(); ++i) {
        const size_t slot = round * frames.size() + i;
        results[slot] = Respond(frames[i].bytes, RxMeta{}, *policy_, context,
                                request.get(), out, &sizes[slot]);
      }
    }
    counter.Stop();

    EXPECT_EQ(counter.allocations(), 0u)
        << "Respond() allocated on the packet path";
    EXPECT_EQ(counter.deallocations(), 0u)
        << "Respond() freed memory on the packet path";
    // The counts mean something only if every frame took the path we meant:
    // a request that is dropped early would prove nothing about crafting.
    for (size_t i = 0; i < frames.size(); ++i) {
      for (int round = 0; round < rounds; ++round) {
        const size_t slot = round * frames.size() + i;
        const bool ok =
            results[slot] == frames[i].expected &&
            (frames[i].expected != DropReason::kNone || sizes[slot] > 0);
        if (!ok) {
          ADD_FAILURE() << frames[i].name << " round " << round << ": got "
                        << DropReasonName(results[slot]) << ", expected "
                        << DropReasonName(frames[i].expected);
          break;  // one report per frame is enough
        }
      }
    }
  }

  std::unique_ptr<const PolicySnapshot> policy_;
  std::vector<Frame> requests_;
  std::vector<Frame> drops_;
};

// The test would pass vacuously if the replacements were not in effect.
TEST_F(NoAllocationTest, CounterSeesAllocations) {
  AllocationCounter counter;
  int* volatile one = new int(1);
  Escape(one);
  delete one;
  const uint64_t after_new = counter.allocations();
  const uint64_t after_delete = counter.deallocations();

  std::vector<int> grown;
  grown.push_back(1);
  Escape(grown.data());
  const uint64_t after_vector = counter.allocations();

  struct alignas(64) Wide {
    char bytes[64];
  };
  Wide* volatile wide = new Wide;
  Escape(wide);
  delete wide;
  char* volatile array = new (std::nothrow) char[32];
  Escape(array);
  delete[] array;
  counter.Stop();

  EXPECT_EQ(after_new, 1u);
  EXPECT_EQ(after_delete, 1u);
  EXPECT_EQ(after_vector, 2u);
  EXPECT_EQ(counter.allocations(), 4u);  // + the aligned and nothrow news
  EXPECT_EQ(counter.deallocations(), 3u);
}

TEST_F(NoAllocationTest, RealRequestsOnce) {
  ExpectNoAllocations(requests_, 1);
}

TEST_F(NoAllocationTest, RealRequestsRepeated) {
  ExpectNoAllocations(requests_, 1000);
}

TEST_F(NoAllocationTest, DroppedFrames) { ExpectNoAllocations(drops_, 100); }

// Requests and drops interleaved on one reused Request, as a worker sees
// them.
TEST_F(NoAllocationTest, MixedTraffic) {
  std::vector<Frame> mixed;
  for (size_t i = 0; i < std::max(requests_.size(), drops_.size()); ++i) {
    if (i < drops_.size()) mixed.push_back(drops_[i]);
    if (i < requests_.size()) mixed.push_back(requests_[i]);
  }
  ExpectNoAllocations(mixed, 100);
}

// With the checksum left to the NIC (TP_STATUS_CSUMNOTREADY) the frame takes
// the same path minus the UDP sum: still no heap.
TEST_F(NoAllocationTest, ChecksumNotReady) {
  auto request = std::make_unique<Request>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  const std::array<InterfaceAddress, 2> addresses = {
      InterfaceAddress{kServer, 24}, InterfaceAddress{kSecondServer, 24}};
  const ServerContext context{.mac = kServerMac, .addresses = addresses};
  const RxMeta meta{.udp_checksum = UdpChecksumStatus::kNotReady};
  std::vector<DropReason> results(requests_.size());

  AllocationCounter counter;
  for (size_t i = 0; i < requests_.size(); ++i) {
    size_t size = 0;
    results[i] = Respond(requests_[i].bytes, meta, *policy_, context,
                         request.get(), out, &size);
  }
  counter.Stop();

  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(counter.deallocations(), 0u);
  for (size_t i = 0; i < requests_.size(); ++i) {
    EXPECT_EQ(results[i], DropReason::kNone) << requests_[i].name;
  }
}

// A sink with one reusable slot that counts what it is given.
class CountingSink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t, const RxMeta&) override { ++committed_; }
  uint64_t committed() const { return committed_; }

 private:
  std::array<uint8_t, kMaxReplyFrameSize> slot_{};
  uint64_t committed_ = 0;
};

// The Responder as a worker runs it: two ports (one with two addresses, so
// DISCOVERs are held for the LAN server's offer), a policy with MAC, MAC
// prefix, subnet and delayed rules, the server's offers learned, held frames
// released by the offer and by Tick(), the clock moving on.
TEST_F(NoAllocationTest, ResponderWholePerFrameWork) {
  BootPolicy policy = policy_->policy();
  for (uint32_t i = 0; i < 1000; ++i) {
    policy.rules.push_back(
        {.name = "mac-" + std::to_string(i),
         .match = {.mac = {{.octets = {0x02, 0, 0, 0,
                                       static_cast<uint8_t>(i >> 8),
                                       static_cast<uint8_t>(i)},
                            .length = 6}}},
         .answer = {.file = "exact.0"}});
  }
  policy.rules.push_back(
      {.name = "subnet",
       .match = {.subnet = {{.network = MakeIpv4(10, 200, 0, 0),
                             .prefix_length = 16}}},
       .answer = {.file = "subnet.0"}});
  policy.rules.push_back(
      {.name = "slow-oui",
       .match = {.mac = {{.octets = {0x52, 0x54, 0x01}, .length = 3}}},
       .answer = {.reply_delay_ms = 5}});
  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> compiled =
      PolicySnapshot::Compile(std::move(policy));
  ASSERT_TRUE(compiled.ok()) << compiled.status();

  CountingSink sink;
  Responder responder(
      {{.name = "eth0",
        .ifindex = 2,
        .mac = kServerMac,
        .addresses = {InterfaceAddress{kServer, 24}}},
       {.name = "eth1",
        .ifindex = 3,
        .mac = kServerMac,
        .addresses = {InterfaceAddress{kServer, 24},
                      InterfaceAddress{kSecondServer, 24}}}},
      // The rate limits run, set so that the one client of the captures
      // (about 10 requests a second here) stays within them.
      ResponderOptions{.client_burst = 100,
                       .client_per_minute = 6000,
                       .interface_per_second = 100'000},
      &sink);
  responder.SetPolicy(compiled->get());
  std::vector<Frame> frames = requests_;
  frames.insert(frames.end(), drops_.begin(), drops_.end());

  // Past the duplicate window and the offer hold: each round's Tick()
  // releases what that round held.
  constexpr uint64_t kStep = 400'000'000;
  uint64_t now_ns = 1'000'000'000;
  // A warm-up outside the counter (each frame on both ports at one time:
  // the second copies are bridge duplicates), then counted rounds.
  for (const Frame& f : frames) {
    responder.HandleFrame(0, f.bytes, RxMeta{}, now_ns);
    responder.HandleFrame(1, f.bytes, RxMeta{}, now_ns);
  }
  responder.Tick(now_ns += kStep);
  const uint64_t warm_committed = sink.committed();
  const uint64_t warm_received = responder.counters().received();

  AllocationCounter counter;
  for (int round = 0; round < 300; ++round) {
    now_ns += kStep;
    for (const Frame& f : frames) {
      responder.HandleFrame(round & 1, f.bytes, RxMeta{}, now_ns);
    }
    responder.Tick(now_ns + kStep - 1);
  }
  counter.Stop();

  EXPECT_EQ(counter.allocations(), 0u)
      << "the Responder allocated on the packet path";
  EXPECT_EQ(counter.deallocations(), 0u)
      << "the Responder freed memory on the packet path";
  // Each counted round answered every request, on either port, except
  // that on the port with two addresses the UEFI DISCOVER replaces the held
  // BIOS one: both captures come from QEMU's default MAC, one client.
  const uint64_t replaced =
      responder.counters()
          .by_reason[static_cast<size_t>(DropReason::kReplacedWhileHeld)];
  EXPECT_GT(warm_committed, 0u);
  EXPECT_EQ(replaced, 150u);  // once in each odd round
  EXPECT_EQ(sink.committed() - warm_committed,
            300 * requests_.size() - replaced);
  EXPECT_EQ(responder.counters().received() - warm_received,
            300 * frames.size());
  EXPECT_EQ(responder.held(), 0u);
}

// The DHCPv6 path: OVMF's captured PXEv6 and HTTPv6 Solicits answered, a
// cut and a corrupted one dropped, through Respond6() and the Responder.
TEST_F(NoAllocationTest, Dhcp6Path) {
  BootPolicy policy = policy_->policy();
  policy.defaults.http_url6 = "http://[fd77::2]/boot/efi64/ipxe-long-name.efi";
  absl::StatusOr<std::unique_ptr<const PolicySnapshot>> compiled =
      PolicySnapshot::Compile(std::move(policy));
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const std::string file = "ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap";
  std::vector<Frame> frames = {
      {"pxev6-solicit", LoadFrame(file, 5), DropReason::kNone},
      {"httpv6-solicit", LoadFrame(file, 13), DropReason::kNone}};
  std::vector<uint8_t> cut = frames[0].bytes;
  cut.resize(100);
  frames.push_back({"cut", cut, DropReason::kBadIpv6Header});
  std::vector<uint8_t> corrupt = frames[0].bytes;
  corrupt[corrupt.size() - 3] ^= 0x5A;
  frames.push_back({"corrupt", corrupt, DropReason::kBadUdpChecksum});
  const std::vector<Ipv6InterfaceAddress> addresses = {
      {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64},
      {{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64}};
  const ServerContext6 context{.mac = kServerMac, .addresses = addresses};
  auto request = std::make_unique<Request6>();
  std::vector<uint8_t> out(kMaxReplyFrameSize);
  std::vector<DropReason> results;
  results.reserve(100 * frames.size());
  CountingSink sink;
  Responder responder(
      {{.name = "eth0",
        .ifindex = 2,
        .mac = kServerMac,
        .addresses = {InterfaceAddress{kServer, 24}},
        .addresses6 = addresses}},
      ResponderOptions{.client_burst = 1000, .client_per_minute = 60000},
      &sink);
  responder.SetPolicy(compiled->get());
  uint64_t now_ns = 1'000'000'000;

  AllocationCounter counter;
  for (int round = 0; round < 100; ++round) {
    now_ns += 100'000'000;  // past the duplicate window
    for (const Frame& f : frames) {
      size_t size = 0;
      results.push_back(Respond6(f.bytes, RxMeta{}, **compiled, context,
                                 request.get(), out, &size));
      responder.HandleFrame(0, f.bytes, RxMeta{}, now_ns);
    }
  }
  counter.Stop();

  EXPECT_EQ(counter.allocations(), 0u) << "the DHCPv6 path allocated";
  EXPECT_EQ(counter.deallocations(), 0u) << "the DHCPv6 path freed memory";
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i], frames[i % frames.size()].expected)
        << frames[i % frames.size()].name;
  }
  EXPECT_EQ(sink.committed(), 200u);
  EXPECT_EQ(responder.counters().answered(), 200u);
}

}  // namespace
}  // namespace pxe
