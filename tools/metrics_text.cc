#include "tools/metrics_text.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  return Escape(value, /*quotes=*/true);
}

std::string EscapeHelp(std::string_view help) {
  return Escape(help, /*quotes=*/false);
}

std::string NanosAsSeconds(uint64_t ns) {
  const uint64_t whole = ns / 1'000'000'000;
  uint64_t fraction = ns % 1'000'000'000;
  if (fraction == 0) return absl::StrCat(whole);
  int digits = 9;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --digits;
  }
  return absl::StrFormat("%d.%0*d", whole, digits, fraction);
}

void MetricsText::Family(std::string_view name, std::string_view type,
                         std::string_view help) {
  absl::StrAppend(&out_, "# HELP ", Sv(name), " ", EscapeHelp(help), "\n",
                  "# TYPE ", Sv(name), " ", Sv(type), "\n");
}

void MetricsText::Series(std::string_view name, const MetricLabels& labels,
                         std::string_view extra_label,
                         std::string_view extra_value) {
  absl::StrAppend(&out_, Sv(name));
  if (labels.empty() && extra_label.empty()) return;
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view key, std::string_view value) {
    absl::StrAppend(&out_, first ? "" : ",", Sv(key), "=\"",
                    EscapeLabelValue(value), "\"");
    first = false;
  };
  for (const auto& [key, value] : labels) label(key, value);
  if (!extra_label.empty()) label(extra_label, extra_value);
  out_ += '}';
}

void MetricsText::Sample(std::string_view name, const MetricLabels& labels,
                         uint64_t value) {
  Series(name, labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void MetricsText::Sample(std::string_view name, const MetricLabels& labels,
                         std::string_view value) {
  Series(name, labels);
  absl::StrAppend(&out_, " ", Sv(value), "\n");
}

void MetricsText::Histogram(std::string_view name, const MetricLabels& labels,
                            std::span<const uint64_t> bounds_ns,
                            std::span<const uint64_t> buckets,
                            uint64_t sum_ns) {
  assert(buckets.size() == bounds_ns.size() + 1);
  const std::string bucket = absl::StrCat(Sv(name), "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    Series(bucket, labels, "le",
           i < bounds_ns.size() ? NanosAsSeconds(bounds_ns[i]) : "+Inf");
    absl::StrAppend(&out_, " ", cumulative, "\n");
  }
  Sample(absl::StrCat(Sv(name), "_sum"), labels, NanosAsSeconds(sum_ns));
  Sample(absl::StrCat(Sv(name), "_count"), labels, cumulative);
}

}  // namespace pxe
