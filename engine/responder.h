// The responder: everything pxe-pdhcp does with a received frame, for every
// caller (the daemon's workers, --replay, the benchmarks, the fuzzers). It
// classifies each frame, drops bridge and bond duplicates, learns what the
// LAN's DHCP server offers each client, holds DISCOVERs on interfaces with
// several addresses until that offer shows the client's subnet, delays
// replies a rule asks to delay, decides under the current policy snapshot,
// and writes each reply into a slot its ReplySink hands out.
//
// Time is the caller's: every call takes `now_ns` (CLOCK_MONOTONIC live, the
// capture's timestamps in a replay), and Tick() releases what is due. One
// Responder per worker thread; nothing in it is shared, and after
// construction nothing on its path allocates (except the log callback).
#ifndef PXE_ENGINE_RESPONDER_H_
#define PXE_ENGINE_RESPONDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dhcp6.h"
#include "engine/drop_reason.h"
#include "engine/duplicate_filter.h"
#include "engine/hold_queue.h"
#include "engine/ipxe_loop_detector.h"
#include "engine/offer_table.h"
#include "engine/policy.h"
#include "engine/policy_snapshot.h"
#include "engine/rate_limiter.h"
#include "engine/request.h"
#include "engine/responder_stats.h"

namespace pxe {

// Where replies are written: a transmit slot per port.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // A buffer of at least kMaxReplyFrameSize bytes for the next reply on
  // `port`, or empty when none is free.
  virtual std::span<uint8_t> NextSlot(size_t port) = 0;
  // Queues the first `size` bytes of the last NextSlot() for sending: the
  // reply to the frame received with `request` (whose timestamp gives the
  // reply's latency).
  virtual void Commit(size_t port, size_t size, const RxMeta& request) = 0;
};

// One interface the responder answers on.
struct ResponderPort {
  std::string name;
  uint32_t ifindex = 0;
  MacAddress mac{};
  // Untagged (and priority-tagged, VLAN 0) requests are answered from these;
  // first = primary.
  std::vector<InterfaceAddress> addresses;
  // DHCPv6 requests are answered from these (untagged): the link-local one
  // answers Solicits, the first global one is where PXEv6 clients ask next.
  std::vector<Ipv6InterfaceAddress> addresses6;
  // Tagged requests, on the VLANs served here; any other VLAN is dropped
  // (kVlanNotServed).
  std::vector<VlanAddresses> vlans;
};

struct ResponderOptions {
  // How long a DISCOVER on an interface with several addresses may wait for
  // the LAN server's OFFER (which shows the client's subnet); 0 = never.
  // Well inside iPXE's 2 s proxy wait.
  uint64_t offer_hold_ns = 300'000'000;
  // How long a learned offer is remembered (covers the client's retries and
  // its 4011 request).
  uint64_t learn_ttl_ns = 120'000'000'000;
  size_t offer_table_capacity = 65536;
  // DISCOVERs held at once (on interfaces with several addresses) and
  // delayed replies; about 2 KiB each. When full, further ones are dropped
  // and counted rather than answered from a guessed subnet.
  size_t hold_capacity = 4096;
  size_t duplicate_filter_capacity = 16384;
  // Requests answered per client MAC: a burst, then so many a minute (0:
  // no limit). ROMs retry at 4, 8, 16 and 32 s and iPXE a few times more:
  // a booting machine sends well under 20 requests in its first minute.
  uint32_t client_burst = 20;
  uint32_t client_per_minute = 60;
  size_t client_table_capacity = 16384;
  // Replies per second per interface and worker (0: no limit).
  uint32_t interface_per_second = 0;
  // An iPXE client that comes back within this long for the file it was
  // just given is in a chainload loop (engine/ipxe_loop_detector.h).
  uint64_t ipxe_loop_window_ns = IpxeLoopDetector::kDefaultWindowNs;
  // Log every boot client's decision (--log-level debug), not only those of
  // rules with log = true.
  bool log_every_decision = false;
};

// One decision about a boot client's request, for the decision log.
struct Decision {
  // The DHCPv4 request; for a DHCPv6 one (request6 set) an empty Request.
  const Request& request;
  std::string_view interface;      // the port's interface name
  std::span<const uint8_t> reply;  // the frame sent; empty when dropped
  DropReason reason;               // kNone: answered
  // The rule's answer (or the defaults') that decided; null when the request
  // was dropped before any was consulted (a duplicate, a rate limit, ...).
  const ResolvedAnswer* answer;
  // This DISCOVER is the Nth exchange in a row that sends an iPXE client
  // back to the file it was just given (the chainload loop); 0: none.
  uint32_t ipxe_loop = 0;
  // Set for a DHCPv6 request (its reply an Advertise, Reply or Relay-reply).
  const Request6* request6 = nullptr;
};
// Called for the decisions to log: every one with
// ResponderOptions::log_every_decision, else those of rules with log = true.
// It allocates: logging is not free, and is the operator's choice.
using ClientLogFn = std::function<void(const Decision& decision)>;
// One-off notices (e.g. a DHCP server that sends PXEClient itself).
using NoticeFn = std::function<void(std::string_view text)>;

class Responder {
 public:
  Responder(std::vector<ResponderPort> ports, const ResponderOptions& options,
            ReplySink* sink, ClientLogFn client_log = {}, NoticeFn notice = {});

  // The policy every later decision uses, including those of frames held
  // earlier. Must outlive its use; call between frames. `rule_slots[i]` is
  // the slot (ResponderStats::replies) that counts the replies of rule i:
  // the same rule name gets the same slot in every snapshot. Without one,
  // rule i counts in slot i + 1 (one policy, e.g. a replay). It must live
  // as long as `policy` is in use.
  void SetPolicy(const PolicySnapshot* policy,
                 std::span<const uint16_t> rule_slots = {}) {
    policy_ = policy;
    rule_slots_ = rule_slots;
  }
  const PolicySnapshot* policy() const { return policy_; }

  // Handles one frame received on `port` at `now_ns`: DHCPv4 (RFC 2131,
  // PXE 2.1) or DHCPv6 (RFC 8415, RFC 5970; engine/reply6.h).
  void HandleFrame(size_t port, std::span<const uint8_t> frame,
                   const RxMeta& meta, uint64_t now_ns);
  // Answers held requests that are due at `now_ns`.
  void Tick(uint64_t now_ns);
  // When Tick() next has work (UINT64_MAX: nothing held).
  uint64_t next_deadline_ns() const { return holds_.earliest_deadline_ns(); }

  const Counters& counters() const { return stats_.outcomes; }
  // Readable from other threads while the responder runs (relaxed loads).
  const ResponderStats& stats() const { return stats_; }
  // Offers learned from the LAN's DHCP server and not yet expired at
  // `now_ns` (a scan of the table: call now and then, not per frame).
  size_t learned_offers(uint64_t now_ns) const {
    return offers_.LiveEntries(now_ns);
  }
  size_t held() const { return holds_.size(); }
  std::span<const ResponderPort> ports() const { return ports_; }
  // Replaces what `port` answers with (its interface's addresses or MAC
  // changed; no addresses: it is gone). Call between frames; it allocates.
  void UpdatePort(size_t port, ResponderPort update);

 private:
  // Learns the LAN server's offer in request_ (received on `port`), if it
  // comes from a server to trust, and releases the client's held DISCOVER.
  void Learn(size_t port, uint64_t now_ns);
  // Our addresses on the network `frame` came in on at `port`: its VLAN's,
  // or the port's own when untagged. Null: a VLAN not served there.
  const std::vector<InterfaceAddress>* NetworkOf(size_t port,
                                                 const FrameView& frame) const;
  // The same for IPv6.
  const std::vector<Ipv6InterfaceAddress>* NetworkOf6(
      size_t port, const FrameView6& frame) const;
  // The DHCPv6 path of HandleFrame(): request6_ holds the frame's
  // classification afterwards.
  void HandleFrame6(size_t port, std::span<const uint8_t> frame,
                    const RxMeta& meta, uint64_t now_ns);
  // Decides and writes the reply to the request in request6_.
  void Reply6(size_t port, const RxMeta& meta, std::span<const uint8_t> frame,
              uint64_t now_ns, bool delay_done);
  // Counts request6_ by port, type and architecture.
  void CountRequest6(size_t port);
  // Indexes ports_[port]'s VLANs into vlan_slots_[port].
  void IndexVlans(size_t port);
  // [server] dhcp_servers when set; else a server on one of `network`'s
  // subnets.
  bool TrustedServer(std::span<const InterfaceAddress> network,
                     uint32_t server) const;
  // Decides and writes the reply to the request in request_; a frame
  // released after its delay is not delayed again.
  void Reply(size_t port, std::span<const uint8_t> frame, const RxMeta& meta,
             uint64_t now_ns, bool delay_done);
  // Counts the decision about request_ (received on `port`) and logs it
  // when asked to; `answer` is the rule's (or the defaults') that decided.
  void Record(size_t port, std::span<const uint8_t> reply, DropReason reason,
              const ResolvedAnswer* answer = nullptr, uint32_t ipxe_loop = 0);
  // Follows the client's exchanges for the iPXE chainload loop once
  // `plan` was sent; returns the loop's round (0: none), counted and told.
  uint32_t TrackIpxeLoop(size_t port, const ResolvedAnswer& answer,
                         const ReplyPlan& plan, uint64_t now_ns);
  // The same for the DHCPv6 request in request6_.
  void Record6(size_t port, std::span<const uint8_t> reply, DropReason reason,
               const ResolvedAnswer* answer = nullptr);
  void Released(const HoldQueue::Held& held, uint64_t now_ns);
  // Counts request_ by port, type and architecture.
  void CountRequest(size_t port);
  // The reply counter slot of rule `rule` (-1: the defaults).
  size_t RuleSlot(int rule) const;

  std::vector<ResponderPort> ports_;
  // Per port: VLAN id -> index into its vlans, -1 when not served (empty
  // when the port serves no VLAN).
  std::vector<std::vector<int16_t>> vlan_slots_;
  ResponderOptions options_;
  ReplySink* sink_;
  ClientLogFn client_log_;
  NoticeFn notice_;
  const PolicySnapshot* policy_ = nullptr;
  std::span<const uint16_t> rule_slots_;
  // kNone when a request from `client` on `port` is within the rate
  // limits, else which limit it is over (the operator is told, at most once
  // a minute; the caller counts it).
  DropReason RateLimited(size_t port, const MacAddress& client,
                         uint64_t now_ns);

  OfferTable offers_;
  ClientRateLimiter client_limit_;
  std::vector<RateLimit> port_limits_;
  uint64_t rate_notice_ns_ = 0;   // when the last rate-limit notice went out
  uint64_t rate_suppressed_ = 0;  // limited since then
  HoldQueue holds_;
  DuplicateFilter duplicates_;
  IpxeLoopDetector ipxe_loops_;
  uint64_t loop_notice_ns_ = 0;  // when the last iPXE loop notice went out
  ResponderStats stats_;
  std::unique_ptr<Request> request_;    // scratch, reused for every frame
  std::unique_ptr<Request6> request6_;  // the same for DHCPv6
  std::unique_ptr<const Request> no_request_;  // Decision::request for v6
  bool warned_pxe_server_ = false;
  bool warned_hold_full_ = false;  // until the hold queue is empty again
};

}  // namespace pxe

#endif  // PXE_ENGINE_RESPONDER_H_
