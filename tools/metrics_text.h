// The Prometheus text exposition format (version 0.0.4): metric families
// with their # HELP and # TYPE lines, samples with escaped label values,
// and histograms with cumulative buckets, +Inf, _sum and _count.
//
//   MetricsText text;
//   text.Family("pxe_pdhcp_drops_total", "counter", "Frames not answered.");
//   text.Sample("pxe_pdhcp_drops_total", {{"reason", "Duplicate"}}, 3);
//   std::string body = text.Take();
#ifndef PXE_TOOLS_METRICS_TEXT_H_
#define PXE_TOOLS_METRICS_TEXT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pxe {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

// A label value with backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// Help text with backslash and newline escaped.
std::string EscapeHelp(std::string_view help);
// Nanoseconds as decimal seconds, exactly and without trailing zeros:
// 2'500'000 -> "0.0025", 1'000'000'000 -> "1".
std::string NanosAsSeconds(uint64_t ns);

class MetricsText {
 public:
  // Starts a family: `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type,
              std::string_view help);
  void Sample(std::string_view name, const MetricLabels& labels,
              uint64_t value);
  // A value already formatted (e.g. NanosAsSeconds()).
  void Sample(std::string_view name, const MetricLabels& labels,
              std::string_view value);
  // One histogram series (its family started with Family(name,
  // "histogram", ...)): `buckets[i]` counts the observations in
  // (bounds_ns[i-1], bounds_ns[i]], the last one everything above the last
  // bound; written as cumulative name_bucket{le=...} lines, then
  // name_sum (seconds) and name_count.
  void Histogram(std::string_view name, const MetricLabels& labels,
                 std::span<const uint64_t> bounds_ns,
                 std::span<const uint64_t> buckets, uint64_t sum_ns);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Series(std::string_view name, const MetricLabels& labels,
              std::string_view extra_label = {},
              std::string_view extra_value = {});

  std::string out_;
};

}  // namespace pxe

#endif  // PXE_TOOLS_METRICS_TEXT_H_
