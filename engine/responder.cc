#include "engine/responder.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/reply6.h"

namespace pxe {
namespace {

constexpr std::string_view kPxeClient = "PXEClient";

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

Responder::Responder(std::vector<ResponderPort> ports,
                     const ResponderOptions& options, ReplySink* sink,
                     ClientLogFn client_log, NoticeFn notice)
    : ports_(std::move(ports)),
      options_(options),
      sink_(sink),
      client_log_(std::move(client_log)),
      notice_(std::move(notice)),
      offers_(options.offer_table_capacity),
      client_limit_(RateLimit(options.client_per_minute, 60'000'000'000,
                              options.client_burst),
                    options.client_table_capacity),
      holds_(options.hold_capacity),
      duplicates_(options.duplicate_filter_capacity),
      ipxe_loops_(options.client_table_capacity, options.ipxe_loop_window_ns),
      stats_(ports_.size()),
      request_(std::make_unique<Request>()),
      request6_(std::make_unique<Request6>()),
      no_request_(std::make_unique<Request>()) {
  vlan_slots_.resize(ports_.size());
  for (size_t i = 0; i < ports_.size(); ++i) {
    IndexVlans(i);
    port_limits_.emplace_back(options.interface_per_second, 1'000'000'000,
                              options.interface_per_second);
  }
}

void Responder::UpdatePort(size_t port, ResponderPort update) {
  ports_[port] = std::move(update);
  IndexVlans(port);
}

void Responder::IndexVlans(size_t port) {
  std::vector<int16_t>& slots = vlan_slots_[port];
  slots.clear();
  const std::vector<VlanAddresses>& vlans = ports_[port].vlans;
  if (vlans.empty()) return;
  // Every slot -1 (all bits set), as one memset: a fill loop costs the
  // fuzzers, whose instrumentation counts each element, a tenth of their
  // time, as the responder is built for every input.
  slots.resize(4096);
  std::memset(slots.data(), 0xFF, slots.size() * sizeof(slots[0]));
  for (size_t i = 0; i < vlans.size(); ++i) {
    slots[vlans[i].vlan & 0x0FFF] = static_cast<int16_t>(i);
  }
}

const std::vector<InterfaceAddress>* Responder::NetworkOf(
    size_t port, const FrameView& frame) const {
  // VLAN 0 is a priority tag only (802.1p): the untagged network.
  if (!frame.has_vlan || frame.vlan_id() == 0) return &ports_[port].addresses;
  const std::vector<int16_t>& slots = vlan_slots_[port];
  if (slots.empty() || slots[frame.vlan_id()] < 0) return nullptr;
  return &ports_[port]
              .vlans[static_cast<size_t>(slots[frame.vlan_id()])]
              .addresses;
}

const std::vector<Ipv6InterfaceAddress>* Responder::NetworkOf6(
    size_t port, const FrameView6& frame) const {
  if (!frame.has_vlan || frame.vlan_id() == 0) return &ports_[port].addresses6;
  const std::vector<int16_t>& slots = vlan_slots_[port];
  if (slots.empty() || slots[frame.vlan_id()] < 0) return nullptr;
  return &ports_[port]
              .vlans[static_cast<size_t>(slots[frame.vlan_id()])]
              .addresses6;
}

void Responder::Record(size_t port, std::span<const uint8_t> reply,
                       DropReason reason, const ResolvedAnswer* answer,
                       uint32_t ipxe_loop) {
  stats_.outcomes.Count(reason);
  if (client_log_ &&
      (options_.log_every_decision || (answer != nullptr && answer->log))) {
    client_log_({.request = *request_,
                 .interface = ports_[port].name,
                 .reply = reply,
                 .reason = reason,
                 .answer = answer,
                 .ipxe_loop = ipxe_loop});
  }
}

void Responder::Record6(size_t port, std::span<const uint8_t> reply,
                        DropReason reason, const ResolvedAnswer* answer) {
  stats_.outcomes.Count(reason);
  if (client_log_ &&
      (options_.log_every_decision || (answer != nullptr && answer->log))) {
    client_log_({.request = *no_request_,
                 .interface = ports_[port].name,
                 .reply = reply,
                 .reason = reason,
                 .answer = answer,
                 .request6 = request6_.get()});
  }
}

void Responder::HandleFrame(size_t port, std::span<const uint8_t> frame,
                            const RxMeta& meta, uint64_t now_ns) {
  // What was due before this frame goes first, whether or not the caller
  // ticked: it also keeps the hold queue's wheel within its span of now.
  if (holds_.size() != 0) Tick(now_ns);
  if (holds_.size() == 0) warned_hold_full_ = false;
  Request& r = *request_;
  DropReason d = ClassifyFrame(frame, meta, &r);
  if (d == DropReason::kNotIpv4) {
    HandleFrame6(port, frame, meta, now_ns);
    return;
  }
  // A VLAN not served here is not ours to answer, nor to learn from (on a
  // trunk, and when a VLAN sub-interface of this one serves it).
  if ((d == DropReason::kNone || d == DropReason::kServerReply) &&
      NetworkOf(port, r.frame) == nullptr) {
    d = DropReason::kVlanNotServed;
  }
  if (d == DropReason::kServerReply) {
    Learn(port, now_ns);
    return;
  }
  if (d != DropReason::kVlanNotServed) CountRequest(port);
  if (d != DropReason::kNone) {
    // A DHCPREQUEST to the LAN's server: the client chose an offer, which
    // ends its exchange (for the iPXE loop's bookkeeping, which knows only
    // clients it answered).
    if (d == DropReason::kUnhandledMessage &&
        r.type == dhcp::MessageType::kRequest &&
        r.frame.udp_dst == kDhcpServerPort) {
      ipxe_loops_.Selected(r.chaddr);
    }
    // Requests that are not ours are the common case: log only boot clients.
    if (r.kind != ClientKind::kNotBooting) {
      Record(port, {}, d);
    } else {
      stats_.outcomes.Count(d);
    }
    return;
  }
  if (duplicates_.SeenRecently(r.chaddr, r.xid, static_cast<uint8_t>(r.type),
                               r.frame.udp_dst, now_ns)) {
    Record(port, {}, DropReason::kDuplicate);
    return;
  }
  if (DropReason limited = RateLimited(port, r.chaddr, now_ns);
      limited != DropReason::kNone) {
    Record(port, {}, limited);
    return;
  }
  if (options_.offer_hold_ns != 0 && NetworkOf(port, r.frame)->size() > 1 &&
      r.type == dhcp::MessageType::kDiscover && !r.relayed() &&
      offers_.Lookup(r.chaddr, now_ns) == 0) {
    bool replaced = false;
    if (!holds_.Hold(frame, meta, r.chaddr, static_cast<uint32_t>(port),
                     HoldQueue::Kind::kAwaitOffer, now_ns,
                     now_ns + options_.offer_hold_ns, &replaced)) {
      // Answering now would guess the client's subnet: count it, say so
      // once until the queue drains, and let the firmware retry.
      Record(port, {}, DropReason::kHoldQueueFull);
      if (!warned_hold_full_ && notice_) {
        notice_(absl::StrCat(
            "hold queue full (", holds_.capacity(),
            " DISCOVERs waiting for the DHCP server's offer): further ones "
            "are dropped, not answered from a guessed subnet, until it "
            "drains"));
      }
      warned_hold_full_ = true;
      return;
    }
    // Answered when the server's OFFER shows up, or on time-out; the frame
    // it replaced never will be.
    if (replaced) stats_.outcomes.Count(DropReason::kReplacedWhileHeld);
    return;
  }
  Reply(port, frame, meta, now_ns, /*delay_done=*/false);
}

void Responder::CountRequest(size_t port) {
  const Request& r = *request_;
  // A boot client's DHCP message, whatever becomes of it.
  if (r.kind == ClientKind::kNotBooting || r.type == dhcp::MessageType::kNone) {
    return;
  }
  const size_t arch =
      r.arch_known ? static_cast<size_t>(r.arch.arch_class) : kUnknownArchSlot;
  stats_.requests[port][MessageTypeSlot(r.type)][arch].Increment();
}

size_t Responder::RuleSlot(int rule) const {
  if (rule < 0) return 0;
  const size_t i = static_cast<size_t>(rule);
  if (i < rule_slots_.size()) return rule_slots_[i];
  return std::min(i + 1, kOverflowRuleSlot);
}

DropReason Responder::RateLimited(size_t port, const MacAddress& client,
                                  uint64_t now_ns) {
  DropReason d = DropReason::kNone;
  if (!client_limit_.Allow(client, now_ns)) {
    d = DropReason::kClientRateLimited;
  } else if (!port_limits_[port].Allow(now_ns)) {
    d = DropReason::kInterfaceRateLimited;
  }
  if (d == DropReason::kNone) return d;
  ++rate_suppressed_;
  if (notice_ &&
      (rate_notice_ns_ == 0 || now_ns - rate_notice_ns_ >= 60'000'000'000)) {
    notice_(absl::StrCat("rate limit: ", std::string(DropReasonText(d)), " (",
                         FormatMac(client), " on ", ports_[port].name, "); ",
                         rate_suppressed_ - 1,
                         " similar messages suppressed in the last minute"));
    rate_notice_ns_ = now_ns;
    rate_suppressed_ = 0;
  }
  return d;
}

bool Responder::TrustedServer(std::span<const InterfaceAddress> network,
                              uint32_t server) const {
  const std::vector<uint32_t>& servers = policy_->policy().dhcp_servers;
  if (!servers.empty()) {
    return std::find(servers.begin(), servers.end(), server) != servers.end();
  }
  // A server (or the relay that passes its offers on) on this link, or on
  // this host: one elsewhere cannot send to this segment's clients.
  for (const InterfaceAddress& a : network) {
    if (a.Contains(server)) return true;
  }
  return false;
}

void Responder::Learn(size_t port, uint64_t now_ns) {
  Request& r = *request_;
  // A DHCP server on this host sends from our own MAC: its frames count.
  // Our own replies never do: offers carry yiaddr 0, ACKs leave from 4011.
  const bool from_server = r.frame.udp_src == kDhcpServerPort &&
                           r.yiaddr != 0 &&
                           (r.type == dhcp::MessageType::kOffer ||
                            r.type == dhcp::MessageType::kAck);
  if (!from_server) {
    stats_.outcomes.Count(DropReason::kServerReply);
    return;
  }
  // A spoofed offer must not move a client to another subnet.
  if (policy_ == nullptr ||
      !TrustedServer(*NetworkOf(port, r.frame), r.frame.ip_src)) {
    stats_.outcomes.Count(DropReason::kUntrustedServerReply);
    return;
  }
  stats_.outcomes.Count(DropReason::kServerReply);
  offers_.Learn(r.chaddr, r.yiaddr, now_ns + options_.learn_ttl_ns);
  if (!warned_pxe_server_ && StartsWith(r.vendor_class, kPxeClient)) {
    warned_pxe_server_ = true;
    if (notice_) {
      notice_(absl::StrCat(
          "the DHCP server at ", FormatIpv4(r.frame.ip_src),
          " sends option 60 PXEClient itself: clients may ask it, not us, for "
          "the boot file (PXE-E55); remove its PXE options"));
    }
  }
  const MacAddress chaddr = r.chaddr;
  holds_.Release(chaddr,
                 [&](const HoldQueue::Held& held) { Released(held, now_ns); });
}

void Responder::Released(const HoldQueue::Held& held, uint64_t now_ns) {
  // The frame was accepted once; classify it again into the scratch.
  const DropReason d = ClassifyFrame(held.frame, held.meta, request_.get());
  if (d == DropReason::kNotIpv4) {
    // Only DHCPv6 requests a rule delays are held.
    if (ClassifyFrame6(held.frame, held.meta, request6_.get()) ==
        DropReason::kNone) {
      Reply6(held.port, held.meta, held.frame, now_ns, /*delay_done=*/true);
    }
    return;
  }
  if (d == DropReason::kNone) {
    Reply(held.port, held.frame, held.meta, now_ns,
          /*delay_done=*/held.kind == HoldQueue::Kind::kDelay);
  }
}

void Responder::Reply(size_t port, std::span<const uint8_t> frame,
                      const RxMeta& meta, uint64_t now_ns, bool delay_done) {
  assert(policy_ != nullptr);
  const Request& request = *request_;
  const ResponderPort& p = ports_[port];
  const std::vector<InterfaceAddress>* network = NetworkOf(port, request.frame);
  if (network == nullptr) {  // held, then the port's VLANs changed
    Record(port, {}, DropReason::kVlanNotServed);
    return;
  }
  const ServerContext context{
      .mac = p.mac,
      .addresses = *network,
      .offered_address = offers_.Lookup(request.chaddr, now_ns),
      .interface_name = p.name};
  const ClientFacts facts = FactsOf(
      request, ClientSubnetAddress(request, context), context.interface_name);
  int rule = -1;
  const ResolvedAnswer& answer = policy_->AnswerFor(facts, &rule);
  ReplyPlan plan;
  if (DropReason d =
          DecideWith(request, answer, policy_->policy(), context, &plan);
      d != DropReason::kNone) {
    Record(port, {}, d, &answer);
    return;
  }
  if (answer.reply_delay_ms != 0 && !delay_done) {
    if (!holds_.Hold(frame, meta, request.chaddr, static_cast<uint32_t>(port),
                     HoldQueue::Kind::kDelay, now_ns,
                     now_ns + uint64_t{answer.reply_delay_ms} * 1'000'000)) {
      Record(port, {}, DropReason::kHoldQueueFull, &answer);
    }
    return;
  }
  const std::span<uint8_t> slot = sink_->NextSlot(port);
  if (slot.empty()) {
    Record(port, {}, DropReason::kTxRingFull, &answer);
    return;
  }
  DropReason why = DropReason::kNone;
  const size_t size = CraftReply(request, plan, context, slot, &why);
  if (size == 0) {
    Record(port, {}, why, &answer);
    return;
  }
  sink_->Commit(port, size, meta);
  stats_.replies[RuleSlot(rule)][plan.type == dhcp::MessageType::kOffer ? 0 : 1]
      .Increment();
  const uint32_t loop = TrackIpxeLoop(port, answer, plan, now_ns);
  Record(port, slot.first(size), DropReason::kNone, &answer, loop);
}

uint32_t Responder::TrackIpxeLoop(size_t port, const ResolvedAnswer& answer,
                                  const ReplyPlan& plan, uint64_t now_ns) {
  const Request& request = *request_;
  uint32_t loop = 0;
  if (request.type == dhcp::MessageType::kDiscover) {
    // The file this iPXE is sent back to: the plain boot file, when no
    // script, menu or URL is what it gets instead.
    const bool plain_file = request.is_ipxe && answer.ipxe_script.empty() &&
                            !plan.http && plan.menu == nullptr &&
                            !plan.raspberry_pi && plan.boot_item.empty();
    const std::string_view file =
        plain_file
            ? std::string_view(
                  answer.pxe_file[static_cast<size_t>(request.arch.arch_class)])
            : std::string_view();
    loop = ipxe_loops_.Discover(request.chaddr, file, now_ns);
  }
  if (!plan.http) ipxe_loops_.FileGiven(request.chaddr, plan.file, now_ns);
  if (loop == 0) return 0;
  stats_.ipxe_loops.Increment();
  if (notice_ &&
      (loop_notice_ns_ == 0 || now_ns - loop_notice_ns_ >= 60'000'000'000)) {
    loop_notice_ns_ = now_ns;
    notice_(absl::StrCat(
        "iPXE chainload loop: ", FormatMac(request.chaddr), " on ",
        ports_[port].name,
        " is back, as iPXE, for the boot file it was just given (",
        answer.pxe_file[static_cast<size_t>(request.arch.arch_class)],
        ", round ", loop,
        "): that file runs iPXE again. Set ipxe_script (--ipxe-script) to "
        "give iPXE its script instead"));
  }
  return loop;
}

void Responder::Tick(uint64_t now_ns) {
  holds_.ReleaseDue(
      now_ns, [&](const HoldQueue::Held& held) { Released(held, now_ns); });
}

void Responder::CountRequest6(size_t port) {
  const Request6& r = *request6_;
  if (r.kind == ClientKind::kNotBooting) return;
  using MT = dhcp6::MessageType;
  const size_t type = r.type == MT::kSolicit   ? kSolicitSlot
                      : r.type == MT::kRequest ? kRequest6Slot
                      : r.type == MT::kInformationRequest
                          ? kInformationRequestSlot
                          : 0;
  const size_t arch =
      r.arch_known ? static_cast<size_t>(r.arch.arch_class) : kUnknownArchSlot;
  stats_.requests[port][type][arch].Increment();
}

void Responder::HandleFrame6(size_t port, std::span<const uint8_t> frame,
                             const RxMeta& meta, uint64_t now_ns) {
  Request6& r = *request6_;
  DropReason d = ClassifyFrame6(frame, meta, &r);
  if (d == DropReason::kNone && NetworkOf6(port, r.frame) == nullptr) {
    d = DropReason::kVlanNotServed;
  }
  if (d != DropReason::kVlanNotServed) CountRequest6(port);
  if (d != DropReason::kNone) {
    // Requests that are not ours are the common case: log only boot clients.
    if (r.kind != ClientKind::kNotBooting) {
      Record6(port, {}, d);
    } else {
      stats_.outcomes.Count(d);
    }
    return;
  }
  // Message types live above DHCPv4's in the duplicate filter's key.
  if (duplicates_.SeenRecently(r.mac, r.xid,
                               static_cast<uint8_t>(0x80 | uint8_t(r.type)),
                               r.frame.udp_dst, now_ns)) {
    Record6(port, {}, DropReason::kDuplicate);
    return;
  }
  if (DropReason limited = RateLimited(port, r.mac, now_ns);
      limited != DropReason::kNone) {
    Record6(port, {}, limited);
    return;
  }
  Reply6(port, meta, frame, now_ns, /*delay_done=*/false);
}

void Responder::Reply6(size_t port, const RxMeta& meta,
                       std::span<const uint8_t> frame, uint64_t now_ns,
                       bool delay_done) {
  assert(policy_ != nullptr);
  const Request6& request = *request6_;
  const ResponderPort& p = ports_[port];
  const std::vector<Ipv6InterfaceAddress>* network =
      NetworkOf6(port, request.frame);
  if (network == nullptr) {  // held, then the port's VLANs changed
    Record6(port, {}, DropReason::kVlanNotServed);
    return;
  }
  const ServerContext6 context{
      .mac = p.mac, .addresses = *network, .interface_name = p.name};
  int rule = -1;
  const ResolvedAnswer& answer =
      policy_->AnswerFor(FactsOf6(request, context.interface_name), &rule);
  ReplyPlan6 plan;
  if (DropReason d = Decide6(request, answer, context, &plan);
      d != DropReason::kNone) {
    Record6(port, {}, d, &answer);
    return;
  }
  if (answer.reply_delay_ms != 0 && !delay_done) {
    if (!holds_.Hold(frame, meta, request.mac, static_cast<uint32_t>(port),
                     HoldQueue::Kind::kDelay, now_ns,
                     now_ns + uint64_t{answer.reply_delay_ms} * 1'000'000)) {
      Record6(port, {}, DropReason::kHoldQueueFull, &answer);
    }
    return;
  }
  const std::span<uint8_t> slot = sink_->NextSlot(port);
  if (slot.empty()) {
    Record6(port, {}, DropReason::kTxRingFull, &answer);
    return;
  }
  DropReason why = DropReason::kNone;
  const size_t size = CraftReply6(request, plan, context, slot, &why);
  if (size == 0) {
    Record6(port, {}, why, &answer);
    return;
  }
  sink_->Commit(port, size, meta);
  stats_
      .replies[RuleSlot(rule)]
              [plan.type == dhcp6::MessageType::kAdvertise ? kAdvertiseSlot
                                                           : kReply6Slot]
      .Increment();
  Record6(port, slot.first(size), DropReason::kNone, &answer);
}

}  // namespace pxe
