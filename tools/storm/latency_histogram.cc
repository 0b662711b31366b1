#include "tools/storm/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pxe::storm {

size_t LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < 2 * kSubBuckets) return static_cast<size_t>(ns);
  // Keep the top 8 bits: the value lies in [128, 255] << shift.
  const int shift = std::bit_width(ns) - 8;
  return static_cast<size_t>(shift) * kSubBuckets +
         static_cast<size_t>(ns >> shift);
}

uint64_t LatencyHistogram::BucketUpperEdge(size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  const size_t shift = bucket / kSubBuckets - 1;
  const uint64_t top = bucket % kSubBuckets + kSubBuckets;
  // The last bucket's edge would be 2^64: saturate.
  if (shift == 56 && top == 2 * kSubBuckets - 1) return ~uint64_t{0};
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  ++buckets_[BucketOf(ns)];
  ++count_;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

uint64_t LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  // Nearest rank: ceil(p/100 * n), at least 1.
  // The small epsilon keeps 99.9 % of 10000 at rank 9990 despite rounding.
  const double exact =
      std::ceil(percent * static_cast<double>(count_) / 100.0 - 1e-9);
  const uint64_t rank =
      std::clamp<uint64_t>(static_cast<uint64_t>(exact), 1, count_);
  uint64_t seen = 0;
  for (size_t b = 0; b < kBucketCount; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(BucketUpperEdge(b), min_, max_);
  }
  return max_;
}

}  // namespace pxe::storm
