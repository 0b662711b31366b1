#include "tools/storm/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/describe.h"
#include "engine/status_macros.h"

namespace pxe::storm {
namespace {

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// Above this p99 of its own lag, pxe-storm says it could not keep up.
constexpr uint64_t kLagWarningNs = 10'000'000;

std::string LagText(const LatencyHistogram& h) {
  const LatencySummary s = Summarize(h);
  return absl::StrFormat("p50 %.3f, p99 %.3f, max %.3f", Ms(s.p50), Ms(s.p99),
                         Ms(s.max));
}

std::string Mode(const StormConfig& config) {
  if (config.rate > 0) return absl::StrFormat("rate %g clients/s", config.rate);
  return absl::StrFormat("storm window %g s", config.storm_window_seconds);
}

std::string LatencyRow(std::string_view label, const LatencyHistogram& h) {
  const LatencySummary s = Summarize(h);
  if (s.count == 0) {
    return absl::StrFormat("  %-8s %8d %9s\n", Sv(label), 0, "-");
  }
  return absl::StrFormat("  %-8s %8d %9.3f %9.3f %9.3f %9.3f %9.3f\n",
                         Sv(label), s.count, Ms(s.p50), Ms(s.p90), Ms(s.p99),
                         Ms(s.p999), Ms(s.max));
}

std::string OutcomeRow(std::string_view label, const OutcomeCounts& c) {
  return absl::StrFormat("  %-11s %8d %10d %14d %8d %9d %7d\n", Sv(label),
                         c.clients, c.first_try, c.after_retries, c.never(),
                         c.no_offer, c.no_ack);
}

std::string JsonLatency(const LatencyHistogram& h) {
  const LatencySummary s = Summarize(h);
  return absl::StrFormat(
      "{\"count\":%d,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,"
      "\"max\":%.3f}",
      s.count, Ms(s.p50), Ms(s.p90), Ms(s.p99), Ms(s.p999), Ms(s.max));
}

std::string JsonOutcome(const OutcomeCounts& c) {
  return absl::StrFormat(
      "{\"clients\":%d,\"booted_first_try\":%d,\"booted_after_retries\":%d,"
      "\"never\":%d,\"never_no_offer\":%d,\"never_no_ack\":%d}",
      c.clients, c.first_try, c.after_retries, c.never(), c.no_offer, c.no_ack);
}

std::string ClientNet(const StormConfig& config) {
  return absl::StrCat(FormatIpv4(config.client_net.address), "/",
                      config.client_net.prefix_length);
}

// Every way the server answered wrongly, duplicates and bad checksums too.
uint64_t AllWrong(const StormStats& stats) {
  return stats.wrong_answers() + stats.duplicates + stats.bad_checksums;
}

// "boot_files":[{"file":"pxelinux.0","siaddr":"10.0.0.1","count":9},...],
// with a plain-text file name (JSON-escaped).
std::string BootFilesJson(const StormStats& stats) {
  std::string out = "\"boot_files\":[";
  bool first = true;
  for (const BootFileCount& slot : stats.boot_files) {
    if (slot.count == 0) continue;
    std::string file;
    for (const char* c = slot.file.data(); *c != 0; ++c) {
      if (*c == '"' || *c == '\\') file += '\\';
      file += (*c >= 0x20 && *c < 0x7F) ? *c : '?';
    }
    absl::StrAppend(&out, first ? "" : ",", "{\"file\":\"", file,
                    "\",\"siaddr\":\"", FormatIpv4(slot.siaddr),
                    "\",\"count\":", slot.count, "}");
    first = false;
  }
  absl::StrAppend(&out, "],\"boot_files_other\":", stats.boot_files_other, ",");
  return out;
}

}  // namespace

LatencySummary Summarize(const LatencyHistogram& histogram) {
  return LatencySummary{.count = histogram.count(),
                        .p50 = histogram.Percentile(50),
                        .p90 = histogram.Percentile(90),
                        .p99 = histogram.Percentile(99),
                        .p999 = histogram.Percentile(99.9),
                        .max = histogram.max()};
}

double AnsweredRate(const StormStats& stats) {
  if (stats.replies == 0 || stats.last_reply_ns <= stats.first_send_ns) {
    return 0;
  }
  return static_cast<double>(stats.replies) * 1e9 /
         static_cast<double>(stats.last_reply_ns - stats.first_send_ns);
}

double PowerOnRate(const StormStats& stats) {
  const uint64_t first_discovers = stats.first_discovers();
  if (first_discovers < 2 || stats.last_power_on_ns <= stats.first_send_ns) {
    return 0;
  }
  return static_cast<double>(first_discovers - 1) * 1e9 /
         static_cast<double>(stats.last_power_on_ns - stats.first_send_ns);
}

double LossPercent(const StormStats& stats) {
  if (stats.timed_requests() == 0) return 0;
  return 100.0 * static_cast<double>(stats.lost()) /
         static_cast<double>(stats.timed_requests());
}

std::string FormatClientLine(uint32_t index, const MacAddress& mac,
                             uint32_t address, ClientType type) {
  return absl::StrCat(index, " ", FormatMac(mac), " ", FormatIpv4(address), " ",
                      Sv(Profile(type).name), "\n");
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

namespace {

// The --expect-* answers as JSON: {"server":..., "files":{"bios":...}, ...};
// absent facts are left out.
std::string ExpectedJson(const ExpectedAnswers& e) {
  auto per_arch = [](const std::array<std::string, kArchClassCount>& values) {
    std::string out;
    for (size_t i = 0; i < kArchClassCount; ++i) {
      if (values[i].empty()) continue;
      absl::StrAppend(&out, out.empty() ? "" : ",",
                      JsonString(ArchClassName(static_cast<ArchClass>(i))), ":",
                      JsonString(values[i]));
    }
    return out;
  };
  std::string out;
  auto add = [&](std::string_view key, const std::string& json) {
    absl::StrAppend(&out, out.empty() ? "" : ",", JsonString(key), ":", json);
  };
  if (e.server != 0) add("server", JsonString(FormatIpv4(e.server)));
  if (e.tftp_server != 0) {
    add("tftp_server", JsonString(FormatIpv4(e.tftp_server)));
  }
  if (std::string files = per_arch(e.file); !files.empty()) {
    add("files", absl::StrCat("{", files, "}"));
  }
  if (std::string urls = per_arch(e.http_url); !urls.empty()) {
    add("http_urls", absl::StrCat("{", urls, "}"));
  }
  if (!e.ipxe_script.empty()) add("ipxe_script", JsonString(e.ipxe_script));
  if (!e.http_url6.empty()) add("http_url6", JsonString(e.http_url6));
  return absl::StrCat("{", out, "}");
}

// One line on what replies were checked against, beyond the protocol.
std::string ExpectedLine(const ExpectedAnswers& e) {
  if (!e.any()) {
    return "Checked    the protocol only (no --expect-*: files and servers "
           "not checked)\n";
  }
  std::string facts;
  auto add = [&](const std::string& text) {
    absl::StrAppend(&facts, facts.empty() ? "" : ", ", text);
  };
  if (e.server != 0) add(absl::StrCat("server ", FormatIpv4(e.server)));
  if (e.tftp_server != 0) {
    add(absl::StrCat("TFTP server ", FormatIpv4(e.tftp_server)));
  }
  for (size_t i = 0; i < kArchClassCount; ++i) {
    const absl::string_view arch = Sv(ArchClassName(static_cast<ArchClass>(i)));
    if (!e.file[i].empty()) add(absl::StrCat(arch, "=", e.file[i]));
    if (!e.http_url[i].empty()) {
      add(absl::StrCat("HTTP ", arch, "=", e.http_url[i]));
    }
  }
  if (!e.ipxe_script.empty()) add(absl::StrCat("iPXE=", e.ipxe_script));
  if (!e.http_url6.empty()) add(absl::StrCat("HTTPv6=", e.http_url6));
  return absl::StrCat("Checked    against ", facts, "\n");
}

}  // namespace

std::string FormatSummary(const StormConfig& config, const RunFacts& run,
                          const StormStats& stats) {
  std::string out = absl::StrFormat(
      "pxe-storm: %d clients on %s (%s), %s, seed %d\n"
      "  mix %s; client net %s; retry scale %g; first-try window %g s\n",
      config.clients, config.interface, FormatMac(run.interface_mac),
      Mode(config), run.seed, FormatMix(config.mix), ClientNet(config),
      config.retry_scale, config.first_try_seconds);
  if (run.interrupted) {
    absl::StrAppend(&out, "  INTERRUPTED: the figures cover the run so far\n");
  }
  if (run.cut_short) {
    absl::StrAppendFormat(&out,
                          "  CUT SHORT at --max-seconds %g: %d clients still "
                          "waiting, counted in none of the outcomes\n",
                          config.max_seconds, run.unfinished);
  }
  absl::StrAppend(&out,
                  "\nClients        total  first try  after retries    never  "
                  "no offer  no ACK\n",
                  OutcomeRow("all", stats.outcome));
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    if (stats.by_type[t].clients == 0) continue;
    absl::StrAppend(&out, OutcomeRow(Profile(static_cast<ClientType>(t)).name,
                                     stats.by_type[t]));
  }
  absl::StrAppendFormat(&out,
                        "  (first try: the proxy offer came within %g s of "
                        "the first DISCOVER)\n",
                        config.first_try_seconds);
  absl::StrAppend(
      &out,
      "\nLatency (ms)  count       p50       p90       p99     p99.9       "
      "max\n",
      LatencyRow("offer", stats.offer_latency),
      LatencyRow("ack", stats.ack_latency), LatencyRow("boot", stats.boot_time),
      "  (offer/ack: send() to the reply's kernel timestamp; boot: first "
      "DISCOVER to the\n  reply that completed the exchange)\n");
  absl::StrAppendFormat(
      &out,
      "\nSent       %d DISCOVER (%d re-sent), %d REQUEST to 4011 (%d "
      "re-sent), %d ARP replies\n"
      "Received   %d replies, %.0f/s answered: %d offers and %d ACKs taken "
      "(%d ACKs\n           after a re-sent REQUEST), %d late answers to "
      "re-sent requests, %d DHCP server\n           offers (ignored)\n",
      stats.discovers_sent, stats.discover_retries, stats.requests_sent,
      stats.request_retries, run.arp_replies, stats.replies,
      AnsweredRate(stats), stats.offers_accepted, stats.acks_accepted,
      stats.acks_after_request_retry, stats.late_replies,
      stats.dhcp_server_offers);
  absl::StrAppendFormat(
      &out,
      "Loss       %d of %d first requests (%.3f %%) not answered within %g "
      "s\n"
      "Offered    %.0f clients/s powered on (first DISCOVERs as sent)\n",
      stats.lost(), stats.timed_requests(), LossPercent(stats),
      config.late_after_seconds, PowerOnRate(stats));
  absl::StrAppend(&out, ExpectedLine(config.expected));
  if (AllWrong(stats) == 0) {
    absl::StrAppend(&out, "Wrong      no wrong answers\n");
  } else {
    absl::StrAppendFormat(&out, "Wrong      %d wrong answer%s\n",
                          AllWrong(stats), AllWrong(stats) == 1 ? "" : "s");
    for (size_t p = 1; p < kReplyProblemCount; ++p) {
      if (stats.problems[p] == 0) continue;
      absl::StrAppendFormat(&out, "  %8d  %s\n", stats.problems[p],
                            ReplyProblemText(static_cast<ReplyProblem>(p)));
    }
    if (stats.duplicates != 0) {
      absl::StrAppendFormat(&out,
                            "  %8d  duplicate (more answers than requests)\n",
                            stats.duplicates);
    }
    if (stats.bad_checksums != 0) {
      absl::StrAppendFormat(&out, "  %8d  IPv4 or UDP checksum wrong\n",
                            stats.bad_checksums);
    }
  }
  absl::StrAppendFormat(
      &out,
      "Run        %.2f s; RSS %d KiB (peak %d KiB); capture drops %d; send "
      "errors %d%s\n",
      run.duration_seconds, run.rss_kb, run.peak_rss_kb, run.capture_drops,
      run.tx_errors,
      run.arp_dropped
          ? absl::StrCat("; ARP requests unanswered ", run.arp_dropped)
          : "");
  if (run.capture_drops != 0) {
    absl::StrAppend(&out,
                    "  (capture drops: our receive ring overflowed, so some "
                    "replies went uncounted)\n");
  }
  absl::StrAppend(&out, "Self lag   sending ", LagText(stats.send_lag),
                  " ms; handling replies ", LagText(stats.receive_lag), " ms\n",
                  absl::StrFormat("           CPU %.2f s; waited for a CPU "
                                  "%.2f s\n",
                                  run.cpu_seconds, run.cpu_wait_seconds));
  if (stats.send_lag.Percentile(99) > kLagWarningNs ||
      stats.receive_lag.Percentile(99) > kLagWarningNs) {
    absl::StrAppend(
        &out,
        "  (pxe-storm fell behind: too little CPU here. Offer and ACK "
        "latencies are\n  still measured on the wire, but the clients reacted "
        "late: boot times and\n  first-try counts are pessimistic)\n");
  }
  absl::StrAppendFormat(
      &out,
      "Timing     DISCOVER re-sent at %g, %g, %g, %g s, give-up at %g s; the "
      "4011 REQUEST is re-sent once after %g s, give-up %g s later\n",
      4 * config.retry_scale, 8 * config.retry_scale, 16 * config.retry_scale,
      32 * config.retry_scale, 64 * config.retry_scale, config.retry_scale,
      config.retry_scale);
  return out;
}

std::string FormatJson(const StormConfig& config, const RunFacts& run,
                       const StormStats& stats) {
  std::string mix;
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    absl::StrAppend(&mix, t ? "," : "",
                    JsonString(Profile(static_cast<ClientType>(t)).name), ":",
                    config.mix[t]);
  }
  std::string by_type;
  for (size_t t = 0; t < kClientTypeCount; ++t) {
    absl::StrAppend(&by_type, t ? "," : "",
                    JsonString(Profile(static_cast<ClientType>(t)).name), ":",
                    JsonOutcome(stats.by_type[t]));
  }
  std::string wrong;
  for (size_t p = 1; p < kReplyProblemCount; ++p) {
    absl::StrAppend(&wrong,
                    JsonString(ReplyProblemName(static_cast<ReplyProblem>(p))),
                    ":", stats.problems[p], ",");
  }
  const OutcomeCounts& o = stats.outcome;
  return absl::StrCat(
      "{\"tool\":\"pxe-storm\",",
      absl::StrFormat(
          "\"config\":{\"interface\":%s,\"clients\":%d,\"mix\":{%s},"
          "\"mode\":\"%s\",\"storm_window_s\":%g,\"rate_per_s\":%g,"
          "\"retry_scale\":%g,\"first_try_window_s\":%g,\"client_net\":%s,"
          "\"seed\":%d,\"max_seconds\":%g,"
          "\"discover_retry_s\":[%g,%g,%g,%g],\"discover_give_up_s\":%g,"
          "\"request_retry_s\":%g,\"request_give_up_s\":%g,\"expected\":%s},",
          JsonString(config.interface), config.clients, mix,
          config.rate > 0 ? "rate" : "storm_window",
          config.rate > 0 ? 0.0 : config.storm_window_seconds, config.rate,
          config.retry_scale, config.first_try_seconds,
          JsonString(ClientNet(config)), run.seed, config.max_seconds,
          4 * config.retry_scale, 8 * config.retry_scale,
          16 * config.retry_scale, 32 * config.retry_scale,
          64 * config.retry_scale, config.retry_scale, 2 * config.retry_scale,
          ExpectedJson(config.expected)),
      absl::StrFormat(
          "\"clients\":{\"total\":%d,\"powered_on\":%d,\"booted_first_try\":%d,"
          "\"booted_after_retries\":%d,\"never\":%d,\"never_no_offer\":%d,"
          "\"never_no_ack\":%d,\"unfinished\":%d,\"by_type\":{%s}},",
          o.clients, stats.powered_on, o.first_try, o.after_retries, o.never(),
          o.no_offer, o.no_ack, run.unfinished, by_type),
      "\"latency_ms\":{\"offer\":", JsonLatency(stats.offer_latency),
      ",\"ack\":", JsonLatency(stats.ack_latency),
      ",\"boot\":", JsonLatency(stats.boot_time), "},",
      "\"self_lag_ms\":{\"send\":", JsonLatency(stats.send_lag),
      ",\"receive\":", JsonLatency(stats.receive_lag), "},",
      absl::StrFormat(
          "\"sent\":{\"discovers\":%d,\"discover_retries\":%d,"
          "\"requests_4011\":%d,\"request_retries\":%d,\"arp_replies\":%d},",
          stats.discovers_sent, stats.discover_retries, stats.requests_sent,
          stats.request_retries, run.arp_replies),
      absl::StrFormat("\"received\":{\"replies\":%d,\"answered_per_s\":%.1f,"
                      "\"offers_accepted\":%d,\"acks_accepted\":%d,"
                      "\"acks_after_request_retry\":%d,\"late_replies\":%d,"
                      "\"dhcp_server_offers\":%d},",
                      stats.replies, AnsweredRate(stats), stats.offers_accepted,
                      stats.acks_accepted, stats.acks_after_request_retry,
                      stats.late_replies, stats.dhcp_server_offers),
      absl::StrFormat("\"loss\":{\"late_after_s\":%g,\"timed_requests\":%d,"
                      "\"answered_in_time\":%d,\"lost\":%d,"
                      "\"lost_pct\":%.4f,\"power_on_per_s\":%.1f},",
                      config.late_after_seconds, stats.timed_requests(),
                      stats.answered_in_time, stats.lost(), LossPercent(stats),
                      PowerOnRate(stats)),
      "\"wrong_answers\":{\"total\":", AllWrong(stats), ",", wrong,
      "\"duplicates\":", stats.duplicates,
      ",\"bad_checksums\":", stats.bad_checksums, "},", BootFilesJson(stats),
      absl::StrFormat(
          "\"run\":{\"duration_s\":%.3f,\"cut_short\":%s,\"interrupted\":%s,"
          "\"capture_drops\":%d,\"tx_errors\":%d,\"arp_dropped\":%d,"
          "\"rss_kb\":%d,\"peak_rss_kb\":%d,\"cpu_s\":%.3f,"
          "\"cpu_wait_s\":%.3f}",
          run.duration_seconds, run.cut_short ? "true" : "false",
          run.interrupted ? "true" : "false", run.capture_drops, run.tx_errors,
          run.arp_dropped, run.rss_kb, run.peak_rss_kb, run.cpu_seconds,
          run.cpu_wait_seconds),
      "}\n");
}

std::string FormatProgress(const StormConfig& config, double elapsed_seconds,
                           const StormStats& stats, uint64_t finished) {
  const OutcomeCounts& o = stats.outcome;
  return absl::StrFormat(
      "[%6.1f s] on %d/%d  booted %d  never %d  waiting %d  replies %d  "
      "wrong %d",
      elapsed_seconds, stats.powered_on, config.clients, o.booted(), o.never(),
      stats.powered_on - finished, stats.replies, AllWrong(stats));
}

}  // namespace pxe::storm
