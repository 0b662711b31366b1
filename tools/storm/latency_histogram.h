// A fixed-size log-linear histogram of durations in nanoseconds: exact below
// 256 ns, then 128 buckets per power of two (at most 0.8 % relative error),
// up to 2^64 ns. Recording is a few instructions and never allocates, so
// memory stays the same however many replies a storm brings.
#ifndef PXE_TOOLS_STORM_LATENCY_HISTOGRAM_H_
#define PXE_TOOLS_STORM_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace pxe::storm {

class LatencyHistogram {
 public:
  static constexpr size_t kSubBuckets = 128;
  static constexpr size_t kBucketCount = 58 * kSubBuckets;

  void Record(uint64_t ns);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }

  // The nearest-rank percentile (the smallest recorded value v with at least
  // `percent` % of the values <= v), as the upper edge of v's bucket clamped
  // to [min, max]: exact for min and max, within 0.8 % elsewhere. 0 when
  // empty. `percent` is in (0, 100].
  uint64_t Percentile(double percent) const;

  // The bucket a value lands in, and the largest value of a bucket.
  static size_t BucketOf(uint64_t ns);
  static uint64_t BucketUpperEdge(size_t bucket);

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t min_ = ~uint64_t{0};
  uint64_t max_ = 0;
};

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_LATENCY_HISTOGRAM_H_
