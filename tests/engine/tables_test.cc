// The worker's bounded per-client tables: OfferTable (what the LAN's DHCP
// server offered each MAC) and HoldQueue (DISCOVERs held back until that
// offer shows the client's subnet).
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/hold_queue.h"
#include "engine/offer_table.h"
#include "gtest/gtest.h"
#include "tests/testing/packet_builder.h"

namespace pxe {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

using ::pxe::testing::NthMac;

uint32_t NthAddress(uint32_t n) { return MakeIpv4(10, 0, 0, 0) + 1 + n; }

// `count` distinct MACs that all hash to the same home slot of `table`.
std::vector<MacAddress> MacsWithSameHome(const OfferTable& table,
                                         size_t count) {
  std::vector<MacAddress> out;
  const size_t mask = table.capacity() - 1;
  const size_t home = HashMac(NthMac(0)) & mask;
  for (uint32_t n = 0; out.size() < count; ++n) {
    if ((HashMac(NthMac(n)) & mask) == home) out.push_back(NthMac(n));
  }
  return out;
}

// --- OfferTable ---

TEST(OfferTableTest, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(OfferTable(0).capacity(), 8u);
  EXPECT_EQ(OfferTable(5).capacity(), 8u);
  EXPECT_EQ(OfferTable(64).capacity(), 64u);
  EXPECT_EQ(OfferTable(100).capacity(), 128u);
}

TEST(OfferTableTest, LearnedAddressIsFoundForThatMacOnly) {
  OfferTable table(64);
  const MacAddress client = NthMac(1);
  EXPECT_EQ(table.Lookup(client, 0), 0u);
  table.Learn(client, MakeIpv4(10, 77, 0, 113), 10 * kSecond);
  EXPECT_EQ(table.Lookup(client, 0), MakeIpv4(10, 77, 0, 113));
  EXPECT_EQ(table.Lookup(client, 9 * kSecond), MakeIpv4(10, 77, 0, 113));
  EXPECT_EQ(table.Lookup(NthMac(2), 0), 0u);
  // Same low bytes, different OUI: another client.
  MacAddress other = client;
  other[0] = 0x02;
  EXPECT_EQ(table.Lookup(other, 0), 0u);
}

TEST(OfferTableTest, EntryExpiresAtItsDeadline) {
  OfferTable table(64);
  const MacAddress client = NthMac(1);
  table.Learn(client, MakeIpv4(10, 77, 0, 113), 10 * kSecond);
  EXPECT_EQ(table.Lookup(client, 10 * kSecond - 1), MakeIpv4(10, 77, 0, 113));
  EXPECT_EQ(table.Lookup(client, 10 * kSecond), 0u);
  EXPECT_EQ(table.Lookup(client, 11 * kSecond), 0u);
  // Learning it again brings it back.
  table.Learn(client, MakeIpv4(10, 77, 0, 114), 20 * kSecond);
  EXPECT_EQ(table.Lookup(client, 11 * kSecond), MakeIpv4(10, 77, 0, 114));
}

TEST(OfferTableTest, RelearningTheSameMacReplacesAddressAndDeadline) {
  OfferTable table(64);
  const MacAddress client = NthMac(1);
  table.Learn(client, MakeIpv4(10, 77, 0, 113), 10 * kSecond);
  table.Learn(client, MakeIpv4(10, 78, 0, 50), 5 * kSecond);
  EXPECT_EQ(table.Lookup(client, 0), MakeIpv4(10, 78, 0, 50));
  // The new, shorter deadline counts: no stale entry resurfaces after it.
  EXPECT_EQ(table.Lookup(client, 6 * kSecond), 0u);
}

TEST(OfferTableTest, RelearningTheSameMacTakesNoExtraSlot) {
  OfferTable table(8);
  const std::vector<MacAddress> macs = MacsWithSameHome(table, 8);
  // One client re-offered many times, then seven more in the same probe
  // window: if updates took new slots, the window would overflow.
  for (uint32_t i = 0; i < 20; ++i) {
    table.Learn(macs[0], NthAddress(100 + i), (100 + i) * kSecond);
  }
  for (uint32_t i = 1; i < 8; ++i) {
    table.Learn(macs[i], NthAddress(i), (200 + i) * kSecond);
  }
  EXPECT_EQ(table.Lookup(macs[0], 0), NthAddress(119));
  for (uint32_t i = 1; i < 8; ++i) {
    EXPECT_EQ(table.Lookup(macs[i], 0), NthAddress(i)) << "client " << i;
  }
}

TEST(OfferTableTest, AddressZeroIsIgnored) {
  OfferTable table(64);
  const MacAddress client = NthMac(1);
  table.Learn(client, 0, 10 * kSecond);
  EXPECT_EQ(table.Lookup(client, 0), 0u);
  // And does not erase or shorten what was learned.
  table.Learn(client, MakeIpv4(10, 77, 0, 113), 10 * kSecond);
  table.Learn(client, 0, 1);
  EXPECT_EQ(table.Lookup(client, 5 * kSecond), MakeIpv4(10, 77, 0, 113));
}

TEST(OfferTableTest, FullProbeWindowForgetsTheEntryClosestToExpiry) {
  OfferTable table(8);
  const std::vector<MacAddress> macs = MacsWithSameHome(table, 9);
  // Oldest deadline on macs[3], not on the first one learned.
  for (uint32_t i = 0; i < 8; ++i) {
    table.Learn(macs[i], NthAddress(i), (i == 3 ? 50 : 100 + i) * kSecond);
  }
  table.Learn(macs[8], NthAddress(8), 200 * kSecond);
  EXPECT_EQ(table.Lookup(macs[3], 0), 0u);
  for (uint32_t i : {0u, 1u, 2u, 4u, 5u, 6u, 7u, 8u}) {
    EXPECT_EQ(table.Lookup(macs[i], 0), NthAddress(i)) << "client " << i;
  }
  EXPECT_EQ(table.capacity(), 8u);
}

TEST(OfferTableTest, ManyMoreClientsThanCapacityStayBounded) {
  OfferTable table(64);
  const size_t capacity = table.capacity();
  constexpr uint32_t kClients = 64 * 50;
  for (uint32_t n = 0; n < kClients; ++n) {
    table.Learn(NthMac(n), NthAddress(n), kSecond + n);
    // The client just learned is always found.
    ASSERT_EQ(table.Lookup(NthMac(n), 0), NthAddress(n)) << "client " << n;
  }
  EXPECT_EQ(table.capacity(), capacity);
  // Every lookup answers 0 or that client's own address, never another's,
  // and the table holds at most `capacity` clients.
  size_t found = 0;
  for (uint32_t n = 0; n < kClients; ++n) {
    const uint32_t a = table.Lookup(NthMac(n), 0);
    if (a != 0) {
      EXPECT_EQ(a, NthAddress(n)) << "client " << n;
      ++found;
    }
  }
  EXPECT_LE(found, capacity);
  EXPECT_GT(found, 0u);
  // An entry is only replaced when the other seven in its probe window are
  // newer, so the last eight clients are all still there.
  for (uint32_t n = kClients - 8; n < kClients; ++n) {
    EXPECT_EQ(table.Lookup(NthMac(n), 0), NthAddress(n)) << "client " << n;
  }
}

// --- HoldQueue ---

constexpr uint64_t kMs = 1'000'000;
using Kind = HoldQueue::Kind;

std::vector<uint8_t> FrameOf(size_t size, uint8_t seed) {
  std::vector<uint8_t> frame(size);
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<uint8_t>(seed + i);
  return frame;
}

RxMeta MetaFor(uint32_t ifindex) {
  return RxMeta{.vlan_valid = true,
                .vlan_tci = 42,
                .udp_checksum = UdpChecksumStatus::kVerified,
                .timestamp_ns = 1234,
                .ifindex = ifindex};
}

// A DISCOVER held at time 0 until `deadline_ns` for the LAN server's offer.
bool HoldAwaiting(HoldQueue& queue, std::span<const uint8_t> frame,
                  const RxMeta& meta, const MacAddress& chaddr,
                  uint64_t deadline_ns, uint32_t port = 0) {
  return queue.Hold(frame, meta, chaddr, port, Kind::kAwaitOffer, 0,
                    deadline_ns);
}

TEST(HoldQueueTest, ReleaseByChaddrCallsBackOnceWithAnIdenticalCopy) {
  HoldQueue queue(4);
  std::vector<uint8_t> frame = FrameOf(342, 7);
  const std::vector<uint8_t> original = frame;
  const MacAddress client = NthMac(1);
  ASSERT_TRUE(HoldAwaiting(queue, frame, MetaFor(3), client, 500 * kMs, 2));
  EXPECT_EQ(queue.size(), 1u);
  // The caller's buffer is reused for the next frame right away.
  std::fill(frame.begin(), frame.end(), 0xEE);

  int calls = 0;
  queue.Release(NthMac(2), [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(queue.size(), 1u);

  queue.Release(client, [&](const HoldQueue::Held& held) {
    ++calls;
    EXPECT_EQ(std::vector<uint8_t>(held.frame.begin(), held.frame.end()),
              original);
    EXPECT_NE(held.frame.data(), frame.data());
    EXPECT_EQ(held.chaddr, client);
    EXPECT_EQ(held.deadline_ns, 500 * kMs);
    EXPECT_EQ(held.port, 2u);
    EXPECT_EQ(held.kind, Kind::kAwaitOffer);
    EXPECT_TRUE(held.meta.vlan_valid);
    EXPECT_EQ(held.meta.vlan_tci, 42);
    EXPECT_EQ(held.meta.udp_checksum, UdpChecksumStatus::kVerified);
    EXPECT_EQ(held.meta.timestamp_ns, 1234u);
    EXPECT_EQ(held.meta.ifindex, 3u);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.earliest_deadline_ns(), UINT64_MAX);

  // Gone: neither a second Release nor ReleaseDue sees it again.
  queue.Release(client, [&](const HoldQueue::Held&) { ++calls; });
  queue.ReleaseDue(UINT64_MAX - 1, [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 1);
}

// A release long after the deadline (the caller did not tick for longer
// than the wheel's span) whose callback holds a new entry, as the Responder
// does for a reply delay: the new entry waits for its own deadline.
TEST(HoldQueueTest, HoldFromALateReleaseWaitsForItsOwnDeadline) {
  HoldQueue queue(4);
  const std::vector<uint8_t> frame = FrameOf(300, 1);
  ASSERT_TRUE(HoldAwaiting(queue, frame, MetaFor(1), NthMac(1), 300 * kMs));
  const uint64_t late = 20'000 * kMs;  // 20 s on, past the 8.2 s wheel
  int released = 0;
  queue.ReleaseDue(late, [&](const HoldQueue::Held& held) {
    ++released;
    EXPECT_TRUE(queue.Hold(held.frame, held.meta, NthMac(2), 0, Kind::kDelay,
                           late, late + 5'000 * kMs));
  });
  EXPECT_EQ(released, 1);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.earliest_deadline_ns(), late + 5'000 * kMs);
  queue.ReleaseDue(late + 5'000 * kMs - 1,
                   [&](const HoldQueue::Held&) { ++released; });
  EXPECT_EQ(released, 1);
  queue.ReleaseDue(late + 5'000 * kMs, [&](const HoldQueue::Held& held) {
    ++released;
    EXPECT_EQ(held.chaddr, NthMac(2));
  });
  EXPECT_EQ(released, 2);
  EXPECT_EQ(queue.size(), 0u);
}

TEST(HoldQueueTest, EmptyQueueHasNoDeadline) {
  HoldQueue queue(4);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.earliest_deadline_ns(), UINT64_MAX);
  int calls = 0;
  queue.ReleaseDue(UINT64_MAX, [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(HoldQueueTest, ReleaseDueReleasesOnlyDueEntriesInAnyOrder) {
  HoldQueue queue(8);
  // Held out of deadline order.
  const uint64_t deadlines[] = {300, 100, 500, 200, 400};
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, static_cast<uint8_t>(i)),
                             MetaFor(i), NthMac(i), deadlines[i] * kMs));
  }
  EXPECT_EQ(queue.earliest_deadline_ns(), 100 * kMs);

  std::vector<MacAddress> released;
  auto record = [&](const HoldQueue::Held& held) {
    EXPECT_LE(held.deadline_ns, 250 * kMs);
    // Each copy still matches its own frame.
    const std::vector<uint8_t> expected =
        FrameOf(300, static_cast<uint8_t>(held.meta.ifindex));
    EXPECT_EQ(std::vector<uint8_t>(held.frame.begin(), held.frame.end()),
              expected);
    released.push_back(held.chaddr);
  };
  queue.ReleaseDue(100 * kMs - 1, record);
  EXPECT_TRUE(released.empty());
  EXPECT_EQ(queue.size(), 5u);

  queue.ReleaseDue(250 * kMs, record);
  ASSERT_EQ(released.size(), 2u);
  EXPECT_TRUE((released[0] == NthMac(1) && released[1] == NthMac(3)) ||
              (released[0] == NthMac(3) && released[1] == NthMac(1)));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.earliest_deadline_ns(), 300 * kMs);

  released.clear();
  queue.ReleaseDue(500 * kMs, [&](const HoldQueue::Held& held) {
    released.push_back(held.chaddr);
  });
  EXPECT_EQ(released.size(), 3u);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.earliest_deadline_ns(), UINT64_MAX);
}

TEST(HoldQueueTest, EarlierHoldMovesTheEarliestDeadline) {
  HoldQueue queue(4);
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 0), {}, NthMac(0), 400 * kMs));
  EXPECT_EQ(queue.earliest_deadline_ns(), 400 * kMs);
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 1), {}, NthMac(1), 600 * kMs));
  EXPECT_EQ(queue.earliest_deadline_ns(), 400 * kMs);
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 2), {}, NthMac(2), 200 * kMs));
  EXPECT_EQ(queue.earliest_deadline_ns(), 200 * kMs);
}

TEST(HoldQueueTest, DeadlineIsNeverLaterThanTheEarliestHeldEntry) {
  // The worker polls until earliest_deadline_ns(): reporting a later time
  // would answer a held client late.
  HoldQueue queue(4);
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 0), {}, NthMac(0), 100 * kMs));
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 1), {}, NthMac(1), 300 * kMs));
  queue.Release(NthMac(0), [](const HoldQueue::Held&) {});
  EXPECT_LE(queue.earliest_deadline_ns(), 300 * kMs);
  // Waking early releases nothing, and then the deadline is exact.
  int calls = 0;
  queue.ReleaseDue(200 * kMs, [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(queue.earliest_deadline_ns(), 300 * kMs);
  queue.ReleaseDue(300 * kMs, [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(HoldQueueTest, RetransmitReplacesTheFrameWithoutExtendingTheDeadline) {
  HoldQueue queue(4);
  const MacAddress client = NthMac(1);
  ASSERT_TRUE(
      HoldAwaiting(queue, FrameOf(300, 1), MetaFor(1), client, 100 * kMs));
  ASSERT_TRUE(queue.Hold(FrameOf(320, 2), MetaFor(2), client, 0,
                         Kind::kAwaitOffer, 60 * kMs, 140 * kMs));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.earliest_deadline_ns(), 100 * kMs);

  int calls = 0;
  queue.ReleaseDue(139 * kMs, [&](const HoldQueue::Held& held) {
    ++calls;
    EXPECT_EQ(held.deadline_ns, 100 * kMs);
    EXPECT_EQ(std::vector<uint8_t>(held.frame.begin(), held.frame.end()),
              FrameOf(320, 2));
    EXPECT_EQ(held.meta.ifindex, 2u);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(queue.size(), 0u);
}

TEST(HoldQueueTest, FullPoolRefusesNewClientsButTakesRetransmits) {
  HoldQueue queue(2);
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 0), {}, NthMac(0), 100 * kMs));
  ASSERT_TRUE(HoldAwaiting(queue, FrameOf(300, 1), {}, NthMac(1), 200 * kMs));
  EXPECT_FALSE(HoldAwaiting(queue, FrameOf(300, 2), {}, NthMac(2), 50 * kMs));
  EXPECT_EQ(queue.size(), 2u);
  // The refused hold left no trace.
  EXPECT_EQ(queue.earliest_deadline_ns(), 100 * kMs);
  int calls = 0;
  queue.Release(NthMac(2), [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 0);
  // A held client's retransmit still fits.
  EXPECT_TRUE(HoldAwaiting(queue, FrameOf(300, 3), {}, NthMac(1), 300 * kMs));
  EXPECT_EQ(queue.size(), 2u);
  // A slot freed is usable again.
  queue.Release(NthMac(0), [&](const HoldQueue::Held&) { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(HoldAwaiting(queue, FrameOf(300, 2), {}, NthMac(2), 400 * kMs));
  EXPECT_EQ(queue.size(), 2u);
}

TEST(HoldQueueTest, OversizeFrameIsRefused) {
  HoldQueue queue(2);
  EXPECT_TRUE(HoldAwaiting(queue, FrameOf(HoldQueue::kMaxFrameSize, 0), {},
                           NthMac(0), 100 * kMs));
  EXPECT_FALSE(HoldAwaiting(queue, FrameOf(HoldQueue::kMaxFrameSize + 1, 1), {},
                            NthMac(1), 100 * kMs));
  EXPECT_EQ(queue.size(), 1u);
  // Also for a held client: its first frame stays.
  EXPECT_FALSE(HoldAwaiting(queue, FrameOf(HoldQueue::kMaxFrameSize + 1, 2), {},
                            NthMac(0), 100 * kMs));
  int calls = 0;
  queue.Release(NthMac(0), [&](const HoldQueue::Held& held) {
    ++calls;
    EXPECT_EQ(held.frame.size(), HoldQueue::kMaxFrameSize);
    EXPECT_EQ(held.frame[0], 0);
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace pxe
