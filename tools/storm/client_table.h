// The emulated clients: one flat array of small per-client states, indexed
// by client number, and the state machine that drives each one as PXE
// firmware does:
//
//   off -> discovering   DISCOVER sent; re-sent at 4, 8, 16, 32 s after the
//                        first; no proxy offer by 64 s -> no_offer
//   discovering -> booted      on an offer with a file (BIOS, iPXE) or a URL
//                              (HTTP boot)
//   discovering -> requesting  on an offer without a file, or any offer for
//                              UEFI: REQUEST to 4011; re-sent once after
//                              1 s; no ACK 1 s later -> no_ack
//   requesting -> booted       on the ACK
//
// IPv6 clients (uefi-x64-v6, http-v6) run the same machine over DHCPv6:
// Solicit for DISCOVER, a proxy Advertise for the offer (HTTPv6 boots on
// its URL), the Request to [X]:4011 for the REQUEST and the Reply for the
// ACK, with the same retries.
//
// (times scaled by --retry-scale). Wrong answers (reply_check.h; against
// --expect-* too) are counted and ignored, as firmware ignores them.
//
// No I/O and no clock: the caller powers clients on, asks for frames to send
// (built straight into its buffer), reports when they went out and what came
// back, and calls ExpireTimers(). Nothing on that path allocates.
#ifndef PXE_TOOLS_STORM_CLIENT_TABLE_H_
#define PXE_TOOLS_STORM_CLIENT_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/byte_order.h"
#include "engine/client_request6.h"
#include "engine/request.h"
#include "tools/storm/client_identity.h"
#include "tools/storm/client_profile.h"
#include "tools/storm/storm_config.h"
#include "tools/storm/storm_stats.h"
#include "tools/storm/timer_queue.h"

namespace pxe::storm {

enum class Phase : uint8_t {
  kOff,          // not powered on yet
  kDiscovering,  // DISCOVER sent, waiting for a proxy offer
  kRequesting,   // REQUEST sent to 4011, waiting for the ACK
  kBooted,
  kNoOffer,  // gave up: no proxy offer
  kNoAck,    // gave up: no ACK on 4011
};

// 48 bytes per client.
struct ClientSlot {
  uint64_t first_discover_ns = 0;  // CLOCK_REALTIME of the first DISCOVER
  uint64_t last_send_ns = 0;       // of the latest DISCOVER or REQUEST
  uint64_t due_ns = 0;  // when the queued frame was due (for send_lag)
  // Where the 4011 request goes; for an IPv6 client, the index of its
  // proxy's server ID in the table's list (its address is in the table).
  uint32_t server_ip = 0;
  MacAddress server_mac{};  // the proxy offer's Ethernet source
  Phase phase = Phase::kOff;
  ClientType type = ClientType::kBios;
  uint8_t discovers_sent = 0;
  uint8_t requests_sent = 0;
  uint8_t offers_seen = 0;  // valid offers, saturating (duplicates)
  uint8_t acks_seen = 0;
  bool send_queued = false;  // in the send queue (at most once)
  bool first_try = false;    // the offer came within the first-try window
  bool has_boot_item = false;
  std::array<uint8_t, 4> boot_item{};

  bool finished() const { return phase >= Phase::kBooted; }
};

class ClientTable {
 public:
  // Allocates every per-client structure for config.clients clients.
  ClientTable(const StormConfig& config, uint64_t seed);

  uint32_t size() const { return identity_.count(); }
  const ClientIdentity& identity() const { return identity_; }
  const ClientSlot& slot(uint32_t client) const { return slots_[client]; }
  const StormStats& stats() const { return stats_; }
  uint32_t finished() const { return finished_; }
  bool AllFinished() const { return finished_ == size(); }

  // Turns client `client` on at `due_ns` (when it should have): its
  // DISCOVER is queued. Once per client.
  void PowerOn(uint32_t client, uint64_t due_ns);

  bool HasFrameToSend() const { return send_count_ != 0; }
  // Writes the frame of the next queued client into `out` (skipping those
  // that need none any more) and sets *client. Returns its size, or 0 when
  // the queue is empty. `now_ns` fills the BOOTP secs field.
  size_t WriteNextFrame(std::span<uint8_t> out, uint64_t now_ns,
                        uint32_t* client);
  // The frame WriteNextFrame() wrote for `client` left at `now_ns`
  // (CLOCK_REALTIME read just before the send): counts it, arms its timer.
  void OnSent(uint32_t client, uint64_t now_ns);

  // A frame ClassifyFrame() called kServerReply, received at `rx_ns` (the
  // kernel's CLOCK_REALTIME stamp). Replies to chaddrs not ours are ignored.
  void OnReply(const Request& reply, uint64_t rx_ns);
  // A DHCPv6 Advertise or Reply (ParseServerFrame6() accepted `frame`),
  // received at `rx_ns`. Messages to MACs not ours are ignored.
  void OnReply6(const FrameView6& frame, const ServerMessage6& message,
                uint64_t rx_ns);
  // A frame to our MAC prefix whose IPv4 or UDP checksum is wrong.
  void OnBadChecksum() { ++stats_.bad_checksums; }
  // How long a reply waited in the receive ring before it was handled.
  void RecordReceiveLag(uint64_t ns) { stats_.receive_lag.Record(ns); }

  // Fires every timer due at `now_ns`: re-sends and give-ups.
  void ExpireTimers(uint64_t now_ns);
  // The earliest pending timer, or ~0 when none.
  uint64_t NextDeadline() const;

  // Clients powered on but not finished when the run was cut short.
  uint64_t Unfinished() const { return stats_.powered_on - finished_; }

 private:
  void QueueSend(uint32_t client, uint64_t due_ns);
  void Finish(uint32_t client, Phase outcome, uint64_t when_ns);
  void CountBootFile(std::span<const uint8_t> file, uint32_t siaddr);
  void AcceptOffer(uint32_t client, const Request& reply, uint64_t rx_ns);
  // The ACK (or Reply) part of OnReply() and OnReply6(), after the checks.
  void OnGoodAck(uint32_t client, uint64_t rx_ns);
  void AcceptAdvertise(uint32_t client, const FrameView6& frame,
                       const ServerMessage6& message, uint64_t rx_ns);
  size_t WriteFrame6(uint32_t client, uint64_t now_ns, std::span<uint8_t> out);
  ClientExpectation Expectation(uint32_t client) const;

  ClientIdentity identity_;
  RetrySchedule schedule_;
  ExpectedAnswers answers_;  // what ClientExpectation's views point into
  std::vector<ClientSlot> slots_;
  // Clients with a frame to send, FIFO (a ring: a client is in it at most
  // once at a time).
  std::vector<uint32_t> send_queue_;
  size_t send_head_ = 0;
  size_t send_count_ = 0;
  // One queue per DISCOVER deadline (retries, then the give-up), and for
  // the 4011 re-send and give-up.
  std::vector<TimerQueue> discover_timers_;
  std::vector<TimerQueue> request_timers_;
  // IPv6 clients: each one's 4011 target (sized only when the mix has any),
  // and the proxies' server IDs they echo (a few proxies on one LAN).
  std::vector<Ipv6Address> server_ip6_;
  struct ServerId {
    uint8_t size = 0;
    std::array<uint8_t, 130> bytes{};
  };
  static constexpr size_t kServerIdSlots = 8;
  std::array<ServerId, kServerIdSlots> server_ids_{};
  size_t server_id_count_ = 0;
  uint16_t ip_id_ = 0;
  uint32_t finished_ = 0;
  StormStats stats_;
};

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_CLIENT_TABLE_H_
