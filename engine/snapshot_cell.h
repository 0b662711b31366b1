// An immutable snapshot shared by reader threads and replaced by one
// publisher, without a lock and without allocation on the readers' side
// (hazard pointers): each reader announces the snapshot it uses in its own
// slot; a replaced snapshot is freed once no slot names it.
//
//   SnapshotCell<PolicySnapshot> cell(std::move(first), /*readers=*/workers);
//   worker w, between batches:  const PolicySnapshot* p = cell.Acquire(w);
//   on reload (publisher):      cell.Publish(std::move(next));
//   now and then (publisher):   cell.Reclaim();
#ifndef PXE_ENGINE_SNAPSHOT_CELL_H_
#define PXE_ENGINE_SNAPSHOT_CELL_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace pxe {

template <typename T>
class SnapshotCell {
 public:
  SnapshotCell(std::unique_ptr<const T> first, size_t readers)
      : current_(first.release()),
        readers_(readers),
        hazards_(new Hazard[readers]) {
    assert(current_.load() != nullptr);
  }
  ~SnapshotCell() {
    delete current_.load();
    // Readers are gone by now: whatever is retired can go.
  }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Reader `reader` (one thread each): the current snapshot, valid until
  // this reader's next Acquire() or Release().
  const T* Acquire(size_t reader) {
    assert(reader < readers_);
    const T* p = current_.load(std::memory_order_seq_cst);
    for (;;) {
      hazards_[reader].ptr.store(p, std::memory_order_seq_cst);
      // Announced before the publisher could have retired it: safe.
      const T* again = current_.load(std::memory_order_seq_cst);
      if (again == p) return p;
      p = again;
    }
  }
  // Reader `reader` holds no snapshot any more.
  void Release(size_t reader) {
    hazards_[reader].ptr.store(nullptr, std::memory_order_seq_cst);
  }

  // Publisher only: makes `next` current; readers see it at their next
  // Acquire(). The previous one is freed by Reclaim() once unused.
  void Publish(std::unique_ptr<const T> next) {
    const T* old = current_.exchange(next.release(), std::memory_order_seq_cst);
    retired_.emplace_back(old);
    ++generation_;
    Reclaim();
  }

  // Publisher only: frees the retired snapshots no reader holds; returns
  // how many are still held.
  size_t Reclaim() {
    for (size_t i = 0; i < retired_.size();) {
      if (InUse(retired_[i].get())) {
        ++i;
      } else {
        retired_[i] = std::move(retired_.back());
        retired_.pop_back();
      }
    }
    return retired_.size();
  }

  // Publisher only: the snapshot readers get now.
  const T* current() const { return current_.load(); }
  uint64_t generation() const { return generation_; }

 private:
  struct alignas(64) Hazard {
    std::atomic<const T*> ptr{nullptr};
  };
  bool InUse(const T* p) const {
    for (size_t r = 0; r < readers_; ++r) {
      if (hazards_[r].ptr.load(std::memory_order_seq_cst) == p) return true;
    }
    return false;
  }

  std::atomic<const T*> current_;
  size_t readers_;
  std::unique_ptr<Hazard[]> hazards_;
  std::vector<std::unique_ptr<const T>> retired_;  // publisher only
  uint64_t generation_ = 0;
};

}  // namespace pxe

#endif  // PXE_ENGINE_SNAPSHOT_CELL_H_
