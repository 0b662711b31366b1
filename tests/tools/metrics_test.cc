// The metrics exposition: label and help escaping, seconds from
// nanoseconds, histograms with cumulative buckets, +Inf, _sum and _count;
// the latency histogram's bucketing; rule slots that stay with a rule's name;
// a metrics address that parses, or an error that says why.
#include <string>
#include <vector>

#include "capture/worker_stats.h"
#include "engine/responder_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/metrics_server.h"
#include "tools/metrics_text.h"

namespace pxe {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)"
                             "\nd"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(EscapeLabelValue("plain-name 1"), "plain-name 1");
}

TEST(MetricsTextTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"b\" c\\d\ne"), "a \"b\" c\\\\d\\ne");
}

TEST(MetricsTextTest, NanosecondsAsExactSeconds) {
  EXPECT_EQ(NanosAsSeconds(0), "0");
  EXPECT_EQ(NanosAsSeconds(10'000), "0.00001");
  EXPECT_EQ(NanosAsSeconds(2'500'000), "0.0025");
  EXPECT_EQ(NanosAsSeconds(1'000'000'000), "1");
  EXPECT_EQ(NanosAsSeconds(2'500'000'000), "2.5");
  EXPECT_EQ(NanosAsSeconds(1'500'000'001), "1.500000001");
}

TEST(MetricsTextTest, FamilyAndSamplesWithEscapedLabels) {
  MetricsText m;
  m.Family("pxe_pdhcp_replies_total", "counter", "Replies\nsent.");
  m.Sample("pxe_pdhcp_replies_total",
           {{"type", "offer"}, {"rule", "lab \"A\""}}, 12);
  m.Sample("pxe_pdhcp_frames_total", {}, 0);
  EXPECT_EQ(
      m.text(),
      "# HELP pxe_pdhcp_replies_total Replies\\nsent.\n"
      "# TYPE pxe_pdhcp_replies_total counter\n"
      "pxe_pdhcp_replies_total{type=\"offer\",rule=\"lab \\\"A\\\"\"} 12\n"
      "pxe_pdhcp_frames_total 0\n");
}

TEST(MetricsTextTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsText m;
  const std::vector<uint64_t> bounds = {1'000'000, 10'000'000};  // 1, 10 ms
  // 2 at or under 1 ms, none in (1, 10] ms, 3 above 10 ms.
  const std::vector<uint64_t> buckets = {2, 0, 3};
  m.Histogram("lat_seconds", {{"worker", "0"}}, bounds, buckets, 5'500'000);
  EXPECT_EQ(m.text(),
            "lat_seconds_bucket{worker=\"0\",le=\"0.001\"} 2\n"
            "lat_seconds_bucket{worker=\"0\",le=\"0.01\"} 2\n"
            "lat_seconds_bucket{worker=\"0\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{worker=\"0\"} 0.0055\n"
            "lat_seconds_count{worker=\"0\"} 5\n");
}

TEST(LatencyHistogramTest, AnObservationOnABoundCountsInThatBucket) {
  LatencyHistogram h;
  h.Observe(0);
  h.Observe(LatencyHistogram::kBoundsNs[0]);          // 10 us: the first bucket
  h.Observe(LatencyHistogram::kBoundsNs[0] + 1);      // the second
  h.Observe(LatencyHistogram::kBoundsNs.back() + 1);  // past 2.5 s: +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 1u);
  EXPECT_EQ(h.bucket(LatencyHistogram::kBuckets - 1), 1u);
  EXPECT_EQ(h.sum_ns(), 2 * LatencyHistogram::kBoundsNs[0] + 1 +
                            LatencyHistogram::kBoundsNs.back() + 1);
}

TEST(RuleSlotTableTest, ANameKeepsItsSlotWhateverItsIndex) {
  RuleSlotTable table;
  const uint16_t a = table.SlotOf("lab-a");
  const uint16_t b = table.SlotOf("lab-b");
  EXPECT_NE(a, 0);  // slot 0 is the defaults
  EXPECT_NE(a, b);
  // The next snapshot lists them the other way round, with a new one.
  EXPECT_EQ(table.SlotOf("lab-b"), b);
  const uint16_t c = table.SlotOf("lab-c");
  EXPECT_EQ(table.SlotOf("lab-a"), a);
  const std::vector<std::string> names = table.Names();
  ASSERT_GT(names.size(), c);
  EXPECT_EQ(names[0], "");
  EXPECT_EQ(names[a], "lab-a");
  EXPECT_EQ(names[b], "lab-b");
  EXPECT_EQ(names[c], "lab-c");
}

TEST(RuleSlotTableTest, NamesPastTheTableShareTheOverflowSlot) {
  RuleSlotTable table;
  for (size_t i = 1; i < kOverflowRuleSlot; ++i) {
    EXPECT_EQ(table.SlotOf("rule-" + std::to_string(i)), i);
  }
  EXPECT_EQ(table.SlotOf("one-too-many"), kOverflowRuleSlot);
  EXPECT_EQ(table.SlotOf("another"), kOverflowRuleSlot);
  EXPECT_EQ(table.SlotOf("rule-1"), 1);
}

TEST(MetricsAddressTest, Ipv4AndBracketedIpv6Parse) {
  absl::StatusOr<MetricsAddress> four = ParseMetricsAddress("127.0.0.1:9767");
  ASSERT_TRUE(four.ok()) << four.status();
  EXPECT_EQ(four->address.ss_family, AF_INET);
  absl::StatusOr<MetricsAddress> six = ParseMetricsAddress("[::1]:9767");
  ASSERT_TRUE(six.ok()) << six.status();
  EXPECT_EQ(six->address.ss_family, AF_INET6);
}

TEST(MetricsAddressTest, BadAddressesSayWhatToWrite) {
  EXPECT_THAT(std::string(ParseMetricsAddress("9767").status().message()),
              HasSubstr("is not ADDR:PORT, e.g. 127.0.0.1:9767"));
  EXPECT_THAT(
      std::string(ParseMetricsAddress("127.0.0.1:0").status().message()),
      HasSubstr("the port must be 1 to 65535"));
  EXPECT_THAT(
      std::string(ParseMetricsAddress("127.0.0.1:http").status().message()),
      HasSubstr("the port must be 1 to 65535"));
  EXPECT_THAT(
      std::string(ParseMetricsAddress("localhost:9767").status().message()),
      HasSubstr("\"localhost\" is not an IPv4 or IPv6 address"));
  EXPECT_THAT(std::string(ParseMetricsAddress("::1:9767").status().message()),
              HasSubstr("IPv6 in brackets"));
}

}  // namespace
}  // namespace pxe
