// SnapshotCell (engine/snapshot_cell.h): readers always see a whole, live
// snapshot; a replaced one is freed exactly when no reader names it any more.
// The threaded test is meant for the sanitizer build, where reading a freed
// snapshot is a reported use-after-free.
#include "engine/snapshot_cell.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace pxe {
namespace {

// Counts live instances, and carries a value twice so a torn or freed
// snapshot shows.
struct Versioned {
  static inline std::atomic<int> live{0};
  explicit Versioned(uint64_t v) : version(v), check(~v) { ++live; }
  ~Versioned() {
    --live;
    check = version;  // a reader that sees this one after free fails
  }
  uint64_t version;
  uint64_t check;
};

TEST(SnapshotCellTest, ReaderKeepsItsSnapshotUntilItAcquiresAgain) {
  Versioned::live = 0;
  {
    SnapshotCell<Versioned> cell(std::make_unique<Versioned>(1), 2);
    const Versioned* first = cell.Acquire(0);
    EXPECT_EQ(first->version, 1u);

    cell.Publish(std::make_unique<Versioned>(2));
    EXPECT_EQ(cell.generation(), 1u);
    // Reader 0 still names version 1: it stays.
    EXPECT_EQ(cell.Reclaim(), 1u);
    EXPECT_EQ(Versioned::live, 2);
    EXPECT_EQ(first->check, ~uint64_t{1});

    // Reader 1 sees the new one at once; reader 0 at its next Acquire().
    EXPECT_EQ(cell.Acquire(1)->version, 2u);
    EXPECT_EQ(cell.Acquire(0)->version, 2u);
    EXPECT_EQ(cell.Reclaim(), 0u);
    EXPECT_EQ(Versioned::live, 1);
  }
  EXPECT_EQ(Versioned::live, 0);
}

TEST(SnapshotCellTest, ReleasedReaderHoldsNothing) {
  Versioned::live = 0;
  SnapshotCell<Versioned> cell(std::make_unique<Versioned>(1), 1);
  cell.Acquire(0);
  cell.Release(0);
  cell.Publish(std::make_unique<Versioned>(2));
  EXPECT_EQ(cell.Reclaim(), 0u);
  EXPECT_EQ(Versioned::live, 1);
  EXPECT_EQ(cell.current()->version, 2u);
}

TEST(SnapshotCellTest, ManyPublishesUnderReadersNeverShowAFreedSnapshot) {
  Versioned::live = 0;
  constexpr size_t kReaders = 3;
  constexpr uint64_t kPublishes = 20'000;
  SnapshotCell<Versioned> cell(std::make_unique<Versioned>(0), kReaders);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> readers;
  std::vector<std::atomic<uint64_t>> reads(kReaders);
  for (size_t r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      uint64_t last = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const Versioned* s = cell.Acquire(r);
        // Whole, alive, and never older than what this reader saw before.
        if (s->check != ~s->version || s->version < last) ++bad;
        last = s->version;
        reads[r].fetch_add(1, std::memory_order_relaxed);
      }
      cell.Release(r);
    });
  }
  // Every reader is reading before the first publish, so the publishes
  // race with reads on every thread.
  for (size_t r = 0; r < kReaders; ++r) {
    while (reads[r].load(std::memory_order_relaxed) == 0) {
      std::this_thread::yield();
    }
  }
  for (uint64_t v = 1; v <= kPublishes; ++v) {
    cell.Publish(std::make_unique<Versioned>(v));
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad, 0u);
  for (size_t r = 0; r < kReaders; ++r) EXPECT_GT(reads[r], 0u) << r;
  // Every reader has released: all but the current one can go.
  EXPECT_EQ(cell.Reclaim(), 0u);
  EXPECT_EQ(Versioned::live, 1);
  EXPECT_EQ(cell.current()->version, kPublishes);
}

}  // namespace
}  // namespace pxe
