// Everything a storm run counts: what the clients sent, what came back, how
// each client ended, and the latency histograms. Plain data with fixed size,
// filled by ClientTable and read by the report.
#ifndef PXE_TOOLS_STORM_STORM_STATS_H_
#define PXE_TOOLS_STORM_STORM_STATS_H_

#include <array>
#include <cstdint>

#include "tools/storm/client_profile.h"
#include "tools/storm/latency_histogram.h"
#include "tools/storm/reply_check.h"

namespace pxe::storm {

// How the clients of one type ended.
struct OutcomeCounts {
  uint64_t clients = 0;  // of this type in the run
  uint64_t first_try = 0;
  uint64_t after_retries = 0;
  uint64_t no_offer = 0;  // gave up: no proxy offer after the last retry
  uint64_t no_ack = 0;    // gave up: no ACK to the 4011 request and re-send

  uint64_t booted() const { return first_try + after_retries; }
  uint64_t never() const { return no_offer + no_ack; }
};

// How often each (boot file, TFTP server) pair was handed out, over the
// accepted replies that name a file: a fixed table, so counting allocates
// nothing. Shows which policy a server answered with, and any mix of two.
struct BootFileCount {
  std::array<char, 256> file{};  // NUL-terminated
  uint32_t siaddr = 0;
  uint64_t count = 0;
};
inline constexpr size_t kBootFileCountSlots = 8;

struct StormStats {
  // Sent.
  uint64_t powered_on = 0;
  uint64_t discovers_sent = 0;
  uint64_t discover_retries = 0;  // of discovers_sent, re-sends
  uint64_t requests_sent = 0;     // to 4011
  uint64_t request_retries = 0;   // of requests_sent, re-sends

  // The benchmark's loss figure: first DISCOVERs and first 4011 REQUESTs
  // (re-sends are the client's reaction to a loss, not new demand), and how
  // many of them were answered within --late-after.
  uint64_t first_discovers() const { return discovers_sent - discover_retries; }
  uint64_t timed_requests() const {
    return first_discovers() + requests_sent - request_retries;
  }
  uint64_t answered_in_time = 0;
  uint64_t lost() const { return timed_requests() - answered_in_time; }

  // Received: server replies to one of our chaddrs. Every one is counted
  // once in exactly one of the groups below, so
  // replies = offers_accepted + acks_accepted + late_replies + duplicates +
  //           dhcp_server_offers + sum(problems).
  uint64_t replies = 0;
  uint64_t offers_accepted = 0;  // the proxy offer a client acted on
  uint64_t acks_accepted = 0;
  uint64_t acks_after_request_retry = 0;  // of acks_accepted
  // Valid, but the client had moved on: the answer to an earlier send
  // (a retried DISCOVER or REQUEST answered twice is not a duplicate).
  uint64_t late_replies = 0;
  // More answers than the client sent requests of that kind.
  uint64_t duplicates = 0;
  uint64_t dhcp_server_offers = 0;  // not a proxy's: ignored
  std::array<BootFileCount, kBootFileCountSlots> boot_files{};
  uint64_t boot_files_other = 0;  // pairs beyond the table's slots
  std::array<uint64_t, kReplyProblemCount> problems{};  // [kNone] unused
  // Replies to our MAC prefix that fail their IPv4 or UDP checksum (not
  // counted in `replies`: their chaddr cannot be trusted).
  uint64_t bad_checksums = 0;

  // Outcomes, in total and per client type.
  OutcomeCounts outcome;
  std::array<OutcomeCounts, kClientTypeCount> by_type;

  // CLOCK_REALTIME of the first send and of the last reply: the window the
  // answered rate is measured over.
  uint64_t first_send_ns = 0;
  uint64_t last_reply_ns = 0;
  // CLOCK_REALTIME of the last client's first DISCOVER: with first_send_ns,
  // the power-on rate pxe-storm achieved (not just the one asked for).
  uint64_t last_power_on_ns = 0;

  // Send (CLOCK_REALTIME just before the batch's send()) to the reply's
  // kernel receive timestamp.
  LatencyHistogram offer_latency;
  LatencyHistogram ack_latency;
  // First DISCOVER to the reply that completed the boot exchange.
  LatencyHistogram boot_time;

  // pxe-storm's own delays, to tell a slow server from a busy generator:
  // a frame's send() after it was due (power-on, timer, or the reply it
  // answers), and a reply's handling after its kernel timestamp.
  LatencyHistogram send_lag;
  LatencyHistogram receive_lag;

  uint64_t wrong_answers() const {
    uint64_t total = 0;
    for (uint64_t n : problems) total += n;
    return total;
  }
};

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_STORM_STATS_H_
