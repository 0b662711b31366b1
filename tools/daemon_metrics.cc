#include "tools/daemon_metrics.h"

#include <array>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/drop_reason.h"
#include "engine/responder_stats.h"
#include "engine/status_macros.h"
#include "tools/metrics_text.h"

namespace pxe {

void ReloadStatus::Loaded(bool reload, int64_t unix_seconds,
                          std::string_view path, std::string_view digest) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reload) ++view_.successes;
  view_.last_loaded_unix = unix_seconds;
  view_.path = std::string(path);
  view_.digest = std::string(digest);
}

void ReloadStatus::Failed() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++view_.failures;
}

ReloadStatus::View ReloadStatus::Read() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return view_;
}

namespace {

// Every worker's counts, summed. Plain numbers: a copy taken now.
struct Totals {
  std::array<uint64_t, kDropReasonCount> outcomes{};
  // By interface name (workers serve the same interfaces, port by port).
  std::map<std::string,
           std::array<std::array<uint64_t, kArchSlots>, kMessageTypeSlots>>
      requests;
  std::array<std::array<uint64_t, kReplyTypeSlots>, kRuleSlots> replies{};
  uint64_t ipxe_loops = 0;
  uint64_t ring_packets = 0;
  uint64_t ring_drops = 0;
  uint64_t tx_errors = 0;
  uint64_t held = 0;
  uint64_t learned_offers = 0;
  std::array<uint64_t, LatencyHistogram::kBuckets> latency{};
  uint64_t latency_sum_ns = 0;
};

Totals Sum(const std::vector<const Worker*>& workers) {
  Totals t;
  for (const Worker* w : workers) {
    const ResponderStats& r = w->responder_stats();
    for (size_t i = 0; i < kDropReasonCount; ++i) {
      t.outcomes[i] += r.outcomes.by_reason[i].load();
    }
    for (size_t port = 0; port < r.requests.size(); ++port) {
      auto& to = t.requests[w->port_names()[port]];
      for (size_t type = 0; type < kMessageTypeSlots; ++type) {
        for (size_t arch = 0; arch < kArchSlots; ++arch) {
          to[type][arch] += r.requests[port][type][arch].load();
        }
      }
    }
    for (size_t slot = 0; slot < kRuleSlots; ++slot) {
      for (size_t type = 0; type < kReplyTypeSlots; ++type) {
        t.replies[slot][type] += r.replies[slot][type].load();
      }
    }
    t.ipxe_loops += r.ipxe_loops.load();
    const WorkerStats& s = w->stats();
    t.ring_packets += s.ring_packets.load();
    t.ring_drops += s.ring_drops.load();
    t.tx_errors += s.tx_errors.load();
    t.held += s.held.load();
    t.learned_offers += s.learned_offers.load();
    for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
      t.latency[i] += s.latency.bucket(i);
    }
    t.latency_sum_ns += s.latency.sum_ns();
  }
  return t;
}

// The label of a reply counter slot.
std::string RuleLabel(const std::vector<std::string>& names, size_t slot) {
  if (slot == 0) return "(defaults)";
  if (slot == kOverflowRuleSlot) return "(other)";
  return slot < names.size() ? names[slot] : absl::StrCat("(slot ", slot, ")");
}

}  // namespace

std::string RenderMetrics(const DaemonMetricsSources& sources) {
  const Totals t = Sum(sources.workers);
  const std::vector<std::string> rules = sources.rule_slots != nullptr
                                             ? sources.rule_slots->Names()
                                             : std::vector<std::string>(1);
  MetricsText m;

  m.Family("pxe_pdhcp_build_info", "gauge",
           "Always 1; the version of the running pxe-pdhcp as a label.");
  m.Sample("pxe_pdhcp_build_info", {{"version", sources.version}}, 1);

  m.Family("pxe_pdhcp_frames_total", "counter",
           "Frames the workers took from their receive rings (answered or "
           "dropped).");
  uint64_t frames = 0;
  for (uint64_t n : t.outcomes) frames += n;
  m.Sample("pxe_pdhcp_frames_total", {}, frames);

  m.Family("pxe_pdhcp_requests_total", "counter",
           "DHCP messages from PXE and HTTP boot clients, by receiving "
           "interface, message type and client architecture class (whether "
           "answered or not).");
  for (const auto& [interface, by_type] : t.requests) {
    for (size_t type = 0; type < kMessageTypeSlots; ++type) {
      for (size_t arch = 0; arch < kArchSlots; ++arch) {
        if (by_type[type][arch] == 0) continue;
        m.Sample("pxe_pdhcp_requests_total",
                 {{"interface", interface},
                  {"type", MessageTypeLabel(type)},
                  {"arch", ArchSlotLabel(arch)}},
                 by_type[type][arch]);
      }
    }
  }

  m.Family("pxe_pdhcp_replies_total", "counter",
           "Replies handed to the transmit ring, by type and by the rule that "
           "decided them ((defaults): no rule matched).");
  for (size_t slot = 0; slot < kRuleSlots; ++slot) {
    for (size_t type = 0; type < kReplyTypeSlots; ++type) {
      // The defaults' always, so a scrape shows the series from the start.
      if (t.replies[slot][type] == 0 && slot != 0) continue;
      const std::string rule = RuleLabel(rules, slot);
      m.Sample("pxe_pdhcp_replies_total",
               {{"type", ReplyTypeLabel(type)}, {"rule", rule}},
               t.replies[slot][type]);
    }
  }

  m.Family("pxe_pdhcp_drops_total", "counter",
           "Frames not answered, by reason (the names of the stop summary; "
           "see pxe-pdhcp(8), METRICS).");
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    m.Sample("pxe_pdhcp_drops_total",
             {{"reason", DropReasonName(static_cast<DropReason>(i))}},
             t.outcomes[i]);
  }

  m.Family("pxe_pdhcp_ipxe_loops_total", "counter",
           "DISCOVERs answered that sent an iPXE client back to the boot "
           "file it was just given, with no ipxe_script to give it instead: "
           "rounds of the iPXE chainload loop.");
  m.Sample("pxe_pdhcp_ipxe_loops_total", {}, t.ipxe_loops);

  m.Family("pxe_pdhcp_ring_frames_total", "counter",
           "Frames the packet sockets accepted (PACKET_STATISTICS tp_packets; "
           "refreshed about once a second).");
  m.Sample("pxe_pdhcp_ring_frames_total", {}, t.ring_packets);
  m.Family("pxe_pdhcp_ring_drops_total", "counter",
           "Frames lost because a receive ring was full (PACKET_STATISTICS "
           "tp_drops; refreshed about once a second).");
  m.Sample("pxe_pdhcp_ring_drops_total", {}, t.ring_drops);
  m.Family("pxe_pdhcp_transmit_errors_total", "counter",
           "Replies the kernel refused to send from a transmit ring.");
  m.Sample("pxe_pdhcp_transmit_errors_total", {}, t.tx_errors);

  m.Family("pxe_pdhcp_held_requests", "gauge",
           "Requests held now: DISCOVERs waiting for the DHCP server's offer, "
           "and replies a rule delays.");
  m.Sample("pxe_pdhcp_held_requests", {}, t.held);
  m.Family("pxe_pdhcp_learned_offers", "gauge",
           "DHCP server offers remembered and not expired (refreshed about "
           "once a second).");
  m.Sample("pxe_pdhcp_learned_offers", {}, t.learned_offers);

  m.Family("pxe_pdhcp_reply_latency_seconds", "histogram",
           "From the kernel's receive timestamp of a request to its reply "
           "handed to the transmit ring (held and delayed replies included).");
  m.Histogram("pxe_pdhcp_reply_latency_seconds", {},
              LatencyHistogram::kBoundsNs, t.latency, t.latency_sum_ns);

  if (sources.reloads != nullptr) {
    const ReloadStatus::View r = sources.reloads->Read();
    m.Family("pxe_pdhcp_reloads_total", "counter",
             "Configuration reloads (SIGHUP), by result; a failed one keeps "
             "the running policy.");
    m.Sample("pxe_pdhcp_reloads_total", {{"result", "success"}}, r.successes);
    m.Sample("pxe_pdhcp_reloads_total", {{"result", "failure"}}, r.failures);
    m.Family("pxe_pdhcp_config_last_load_timestamp_seconds", "gauge",
             "When the configuration in effect was loaded (at start or by "
             "the last successful reload), in seconds since the epoch.");
    m.Sample("pxe_pdhcp_config_last_load_timestamp_seconds", {},
             static_cast<uint64_t>(r.last_loaded_unix));
    m.Family("pxe_pdhcp_config_info", "gauge",
             "Always 1; the configuration file in effect and a hash of its "
             "contents (FNV-1a, 64 bits) as labels.");
    m.Sample("pxe_pdhcp_config_info", {{"file", r.path}, {"hash", r.digest}},
             1);
  }
  return m.Take();
}

std::string MetricsSummary(const DaemonMetricsSources& sources) {
  const Totals t = Sum(sources.workers);
  uint64_t frames = 0;
  for (uint64_t n : t.outcomes) frames += n;
  uint64_t latency_count = 0;
  for (uint64_t n : t.latency) latency_count += n;
  std::string out =
      absl::StrCat("counters: ", frames, " frames, ", t.outcomes[0],
                   " answered, ", t.ring_drops, " lost in the ring, ", t.held,
                   " held, ", t.learned_offers, " offers learned");
  if (latency_count != 0) {
    absl::StrAppend(&out, ", mean reply latency ",
                    t.latency_sum_ns / latency_count / 1000, " us");
  }
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    if (t.outcomes[i] != 0) {
      absl::StrAppend(&out, "; ",
                      Sv(DropReasonName(static_cast<DropReason>(i))), " ",
                      t.outcomes[i]);
    }
  }
  if (t.ipxe_loops != 0) {
    absl::StrAppend(&out, "; iPXE chainload loops ", t.ipxe_loops);
  }
  const std::vector<std::string> rules = sources.rule_slots != nullptr
                                             ? sources.rule_slots->Names()
                                             : std::vector<std::string>(1);
  for (size_t slot = 0; slot < kRuleSlots; ++slot) {
    const uint64_t n = t.replies[slot][0] + t.replies[slot][1];
    if (n != 0) {
      absl::StrAppend(&out, "; replies by ", RuleLabel(rules, slot), " ", n);
    }
  }
  return out;
}

}  // namespace pxe
