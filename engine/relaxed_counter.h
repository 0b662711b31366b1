// A counter that one thread writes and any thread may read while it runs
// (a metrics scrape): a relaxed load and store, so an increment compiles to
// a plain add with no locked instruction. Only the owning thread may write;
// readers see some recent value, never a torn one.
#ifndef PXE_ENGINE_RELAXED_COUNTER_H_
#define PXE_ENGINE_RELAXED_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace pxe {

class RelaxedCounter {
 public:
  RelaxedCounter() = default;
  // Copies take a snapshot of the value (for sums and tests).
  RelaxedCounter(const RelaxedCounter& other) : value_(other.load()) {}
  RelaxedCounter& operator=(const RelaxedCounter& other) {
    store(other.load());
    return *this;
  }

  // Owner only: not atomic against another writer.
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  void Increment() { Add(1); }
  // Owner only (a gauge).
  void store(uint64_t v) { value_.store(v, std::memory_order_relaxed); }
  // Any thread.
  uint64_t load() const { return value_.load(std::memory_order_relaxed); }
  operator uint64_t() const { return load(); }  // NOLINT: reads like a number

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace pxe

#endif  // PXE_ENGINE_RELAXED_COUNTER_H_
