#include "tools/storm/client_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "engine/client_request.h"
#include "engine/frame.h"

namespace pxe::storm {
namespace {

constexpr size_t kRequestTimers = 2;  // the re-send, then the give-up

// An IPv6 literal ("fd77::1") without allocating: copied to a terminated
// stack buffer for inet_pton().
bool ParseIpv6Literal(std::string_view text, Ipv6Address* out) {
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = 0;
  return inet_pton(AF_INET6, buffer, out->data()) == 1;
}

uint8_t SaturatingIncrement(uint8_t n) { return n == 255 ? n : n + 1; }

uint64_t Elapsed(uint64_t from_ns, uint64_t to_ns) {
  return to_ns > from_ns ? to_ns - from_ns : 0;
}

}  // namespace

ClientTable::ClientTable(const StormConfig& config, uint64_t seed)
    : identity_(seed, config.clients, config.client_net.address),
      schedule_(MakeRetrySchedule(config)),
      answers_(config.expected),
      slots_(config.clients),
      send_queue_(config.clients) {
  const size_t v6 = static_cast<size_t>(ClientType::kUefiX64V6);
  if (config.mix[v6] != 0) server_ip6_.resize(config.clients);
  const std::vector<ClientType> types = AssignTypes(config.mix, size());
  for (uint32_t i = 0; i < size(); ++i) {
    slots_[i].type = types[i];
    ++stats_.by_type[static_cast<size_t>(types[i])].clients;
  }
  stats_.outcome.clients = size();
  discover_timers_.reserve(schedule_.discover_deadline_ns.size());
  for (size_t i = 0; i < schedule_.discover_deadline_ns.size(); ++i) {
    discover_timers_.emplace_back(size());
  }
  request_timers_.reserve(kRequestTimers);
  for (size_t i = 0; i < kRequestTimers; ++i) {
    request_timers_.emplace_back(size());
  }
}

void ClientTable::PowerOn(uint32_t client, uint64_t due_ns) {
  ClientSlot& slot = slots_[client];
  if (slot.phase != Phase::kOff) return;
  slot.phase = Phase::kDiscovering;
  ++stats_.powered_on;
  QueueSend(client, due_ns);
}

void ClientTable::QueueSend(uint32_t client, uint64_t due_ns) {
  ClientSlot& slot = slots_[client];
  if (slot.send_queued) return;  // the queued entry sends what is due then
  slot.send_queued = true;
  slot.due_ns = due_ns;
  send_queue_[(send_head_ + send_count_) % send_queue_.size()] = client;
  ++send_count_;
}

size_t ClientTable::WriteNextFrame(std::span<uint8_t> out, uint64_t now_ns,
                                   uint32_t* client) {
  while (send_count_ > 0) {
    const uint32_t i = send_queue_[send_head_];
    send_head_ = (send_head_ + 1) % send_queue_.size();
    --send_count_;
    ClientSlot& slot = slots_[i];
    slot.send_queued = false;
    if (slot.phase != Phase::kDiscovering && slot.phase != Phase::kRequesting) {
      continue;  // finished while queued
    }
    const ClientProfile& profile = Profile(slot.type);
    if (profile.ipv6) {
      const size_t size = WriteFrame6(i, now_ns, out);
      if (size == 0) continue;  // cannot happen: every spec here fits
      *client = i;
      return size;
    }
    const std::array<uint8_t, 16> uuid = identity_.Uuid(i);
    const uint64_t secs =
        slot.discovers_sent == 0
            ? 0
            : Elapsed(slot.first_discover_ns, now_ns) / 1'000'000'000;
    ClientRequestSpec spec{
        .client_mac = identity_.Mac(i),
        .xid = identity_.DiscoverXid(i),
        .secs = static_cast<uint16_t>(std::min<uint64_t>(secs, 0xFFFF)),
        .broadcast = profile.broadcast,
        .ip_id = ip_id_++,
        .arch_codes = profile.arch_codes,
        .vendor_class = profile.vendor_class,
        .undi = profile.undi,
        .ipxe = profile.ipxe,
        .uuid = uuid};
    if (slot.phase == Phase::kRequesting) {
      const uint32_t address = identity_.Address(i);
      spec.type = dhcp::MessageType::kRequest;
      spec.xid = identity_.RequestXid(i);
      spec.dst_mac = slot.server_mac;
      spec.ciaddr = address;
      spec.src_ip = address;
      spec.dst_ip = slot.server_ip;
      spec.src_port = profile.edk2 ? kPxeServerPort : kDhcpClientPort;
      spec.dst_port = kPxeServerPort;
      spec.dont_fragment = profile.edk2;
      if (slot.has_boot_item) spec.boot_item = slot.boot_item;
    }
    const size_t size = BuildClientRequest(spec, out);
    if (size == 0) continue;  // cannot happen: every spec here fits
    *client = i;
    return size;
  }
  return 0;
}

size_t ClientTable::WriteFrame6(uint32_t i, uint64_t now_ns,
                                std::span<uint8_t> out) {
  const ClientSlot& slot = slots_[i];
  const ClientProfile& profile = Profile(slot.type);
  // Option 8 counts hundredths of a second since the first Solicit.
  const uint64_t elapsed =
      slot.discovers_sent == 0
          ? 0
          : Elapsed(slot.first_discover_ns, now_ns) / 10'000'000;
  const MacAddress mac = identity_.Mac(i);
  ClientRequest6Spec spec{.xid = identity_.DiscoverXid(i) & 0xFFFFFF,
                          .client_mac = mac,
                          .ia_na_iaid = identity_.RequestXid(i),
                          .elapsed_centiseconds = static_cast<uint16_t>(
                              std::min<uint64_t>(elapsed, 0xFFFF)),
                          .nii = profile.undi,
                          .arch = profile.arch_codes[0],
                          .vendor_class = profile.vendor_class,
                          .src_mac = mac,
                          .src_ip = identity_.LinkLocal(i)};
  if (slot.phase == Phase::kRequesting) {
    // EDK2's 4011 Request: the proxy's server ID, no IA, 4011 to 4011.
    const ServerId& id = server_ids_[slot.server_ip];
    spec.type = dhcp6::MessageType::kRequest;
    spec.server_id = std::span(id.bytes).first(id.size);
    spec.ia_na_iaid = std::nullopt;
    spec.dst_ip = server_ip6_[i];
    spec.dst_mac =
        spec.dst_ip[0] == 0xFF ? kAllDhcp6AgentsMac : slot.server_mac;
    spec.src_port = kPxeServerPort;
    spec.dst_port = kPxeServerPort;
  }
  return BuildClientFrame6(spec, out);
}

void ClientTable::OnSent(uint32_t client, uint64_t now_ns) {
  ClientSlot& slot = slots_[client];
  if (stats_.first_send_ns == 0) stats_.first_send_ns = now_ns;
  stats_.send_lag.Record(Elapsed(slot.due_ns, now_ns));
  slot.last_send_ns = now_ns;
  if (slot.phase == Phase::kDiscovering) {
    if (slot.discovers_sent == 0) {
      slot.first_discover_ns = now_ns;
      stats_.last_power_on_ns = now_ns;
    } else {
      ++stats_.discover_retries;
    }
    ++stats_.discovers_sent;
    const size_t k = slot.discovers_sent++;
    if (k < discover_timers_.size()) {
      discover_timers_[k].Push(
          slot.first_discover_ns + schedule_.discover_deadline_ns[k], client);
    }
  } else if (slot.phase == Phase::kRequesting) {
    if (slot.requests_sent > 0) ++stats_.request_retries;
    ++stats_.requests_sent;
    const size_t k = slot.requests_sent++;
    if (k < request_timers_.size()) {
      request_timers_[k].Push(now_ns + schedule_.request_timeout_ns, client);
    }
  }
}

ClientExpectation ClientTable::Expectation(uint32_t client) const {
  const ClientSlot& slot = slots_[client];
  const ClientProfile& profile = Profile(slot.type);
  ClientExpectation expect{
      .profile = &profile,
      .discover_xid = identity_.DiscoverXid(client),
      .request_xid = identity_.RequestXid(client),
      .address = identity_.Address(client),
      .request_port = profile.edk2 ? kPxeServerPort : kDhcpClientPort,
      .request_sent = slot.requests_sent > 0,
      .has_boot_item = slot.has_boot_item,
      .boot_item = slot.boot_item};
  ApplyExpectedAnswers(answers_, profile, &expect);
  return expect;
}

void ClientTable::OnReply(const Request& reply, uint64_t rx_ns) {
  const std::optional<uint32_t> index = identity_.IndexOfMac(reply.chaddr);
  if (!index) return;  // another machine's reply
  const uint32_t i = *index;
  ClientSlot& slot = slots_[i];
  ++stats_.replies;
  stats_.last_reply_ns = std::max(stats_.last_reply_ns, rx_ns);
  if (slot.phase == Phase::kOff || Profile(slot.type).ipv6) {
    // Nothing sent yet: a stale answer (an earlier run with this seed); or
    // a DHCPv4 answer to a client that sent only DHCPv6.
    ++stats_.problems[static_cast<size_t>(ReplyProblem::kUnexpectedType)];
    return;
  }
  const ReplyVerdict verdict = CheckReply(reply, Expectation(i));
  if (verdict.kind == ReplyKind::kDhcpServerOffer) {
    ++stats_.dhcp_server_offers;
    return;
  }
  if (verdict.problem != ReplyProblem::kNone) {
    ++stats_.problems[static_cast<size_t>(verdict.problem)];
    return;
  }
  CountBootFile(BootFile(reply), reply.bootp.siaddr());
  if (verdict.kind == ReplyKind::kOffer) {
    slot.offers_seen = SaturatingIncrement(slot.offers_seen);
    if (slot.phase == Phase::kDiscovering) {
      AcceptOffer(i, reply, rx_ns);
    } else if (slot.offers_seen > slot.discovers_sent) {
      ++stats_.duplicates;
    } else {
      ++stats_.late_replies;
    }
    return;
  }
  // An ACK (CheckReply() flags every other type).
  OnGoodAck(i, rx_ns);
}

void ClientTable::OnReply6(const FrameView6& frame,
                           const ServerMessage6& message, uint64_t rx_ns) {
  const std::optional<uint32_t> index = identity_.IndexOfMac(frame.eth_dst);
  if (!index) return;  // another machine's, or multicast
  const uint32_t i = *index;
  ClientSlot& slot = slots_[i];
  ++stats_.replies;
  stats_.last_reply_ns = std::max(stats_.last_reply_ns, rx_ns);
  if (slot.phase == Phase::kOff || !Profile(slot.type).ipv6) {
    ++stats_.problems[static_cast<size_t>(ReplyProblem::kUnexpectedType)];
    return;
  }
  const std::array<uint8_t, kDuidLlSize> duid = MakeDuidLl(identity_.Mac(i));
  const ReplyVerdict verdict =
      CheckReply6(frame, message, Expectation(i), duid, identity_.LinkLocal(i));
  if (verdict.kind == ReplyKind::kDhcpServerOffer) {
    ++stats_.dhcp_server_offers;
    return;
  }
  if (verdict.problem != ReplyProblem::kNone) {
    ++stats_.problems[static_cast<size_t>(verdict.problem)];
    return;
  }
  CountBootFile(message.boot_url, 0);
  if (verdict.kind == ReplyKind::kOffer) {
    slot.offers_seen = SaturatingIncrement(slot.offers_seen);
    if (slot.phase == Phase::kDiscovering) {
      AcceptAdvertise(i, frame, message, rx_ns);
    } else if (slot.offers_seen > slot.discovers_sent) {
      ++stats_.duplicates;
    } else {
      ++stats_.late_replies;
    }
    return;
  }
  OnGoodAck(i, rx_ns);
}

void ClientTable::AcceptAdvertise(uint32_t client, const FrameView6& frame,
                                  const ServerMessage6& message,
                                  uint64_t rx_ns) {
  ClientSlot& slot = slots_[client];
  const ClientProfile& profile = Profile(slot.type);
  if (!profile.http) {
    // Which proxy: its server ID, kept once in a small table.
    size_t k = 0;
    while (k < server_id_count_ &&
           !(server_ids_[k].size == message.server_id.size() &&
             std::memcmp(server_ids_[k].bytes.data(), message.server_id.data(),
                         message.server_id.size()) == 0)) {
      ++k;
    }
    if (k == server_id_count_) {
      if (k == kServerIdSlots || message.server_id.size() > 130) {
        ++stats_.late_replies;  // more proxies than we track: not taken
        return;
      }
      server_ids_[k].size = static_cast<uint8_t>(message.server_id.size());
      std::memcpy(server_ids_[k].bytes.data(), message.server_id.data(),
                  message.server_id.size());
      ++server_id_count_;
    }
    slot.server_ip = static_cast<uint32_t>(k);
    // EDK2 asks the host of "tftp://[X]/..." (no URL: ff02::1:2).
    Ipv6Address target = kAllDhcp6Agents;
    if (message.has_boot_url) {
      target = frame.ip_src;
      const std::string_view url(
          reinterpret_cast<const char*>(message.boot_url.data()),
          message.boot_url.size());
      constexpr std::string_view kTftp = "tftp://[";
      const size_t close = url.find(']');
      Ipv6Address parsed;
      if (url.starts_with(kTftp) && close != std::string_view::npos &&
          ParseIpv6Literal(url.substr(kTftp.size(), close - kTftp.size()),
                           &parsed)) {
        target = parsed;
      }
    }
    server_ip6_[client] = target;
    slot.server_mac = frame.eth_src;
  }
  ++stats_.offers_accepted;
  stats_.offer_latency.Record(Elapsed(slot.last_send_ns, rx_ns));
  const uint64_t since_first = Elapsed(slot.first_discover_ns, rx_ns);
  slot.first_try = since_first <= schedule_.first_try_ns;
  if (since_first <= schedule_.in_time_ns) ++stats_.answered_in_time;
  if (profile.http) {
    Finish(client, Phase::kBooted, rx_ns);
    return;
  }
  slot.phase = Phase::kRequesting;
  QueueSend(client, rx_ns);
}

void ClientTable::OnGoodAck(uint32_t i, uint64_t rx_ns) {
  ClientSlot& slot = slots_[i];
  slot.acks_seen = SaturatingIncrement(slot.acks_seen);
  if (slot.phase == Phase::kRequesting) {
    ++stats_.acks_accepted;
    if (slot.requests_sent > 1) {
      ++stats_.acks_after_request_retry;
    } else if (Elapsed(slot.last_send_ns, rx_ns) <= schedule_.in_time_ns) {
      ++stats_.answered_in_time;
    }
    stats_.ack_latency.Record(Elapsed(slot.last_send_ns, rx_ns));
    Finish(i, Phase::kBooted, rx_ns);
  } else if (slot.acks_seen > slot.requests_sent) {
    ++stats_.duplicates;
  } else {
    ++stats_.late_replies;
  }
}

void ClientTable::CountBootFile(std::span<const uint8_t> file,
                                uint32_t siaddr) {
  if (file.empty()) return;
  const size_t length = std::min(file.size(), size_t{255});
  for (BootFileCount& slot : stats_.boot_files) {
    if (slot.count == 0) {
      std::memcpy(slot.file.data(), file.data(), length);
      slot.file[length] = 0;
      slot.siaddr = siaddr;
    } else if (slot.siaddr != siaddr ||
               std::strlen(slot.file.data()) != length ||
               std::memcmp(slot.file.data(), file.data(), length) != 0) {
      continue;
    }
    ++slot.count;
    return;
  }
  ++stats_.boot_files_other;
}

void ClientTable::AcceptOffer(uint32_t client, const Request& reply,
                              uint64_t rx_ns) {
  ClientSlot& slot = slots_[client];
  const ClientProfile& profile = Profile(slot.type);
  ++stats_.offers_accepted;
  stats_.offer_latency.Record(Elapsed(slot.last_send_ns, rx_ns));
  const uint64_t since_first = Elapsed(slot.first_discover_ns, rx_ns);
  slot.first_try = since_first <= schedule_.first_try_ns;
  if (since_first <= schedule_.in_time_ns) ++stats_.answered_in_time;
  const OfferFacts offer = ReadOffer(reply);
  if (!NeedsBootServerRequest(profile, offer)) {
    Finish(client, Phase::kBooted, rx_ns);
    return;
  }
  slot.phase = Phase::kRequesting;
  slot.server_ip = BootServerAddress(profile, offer);
  slot.server_mac = offer.eth_src;
  const std::optional<std::array<uint8_t, 4>> item = BootItem(profile, offer);
  slot.has_boot_item = item.has_value();
  if (item) slot.boot_item = *item;
  QueueSend(client, rx_ns);
}

void ClientTable::Finish(uint32_t client, Phase outcome, uint64_t when_ns) {
  ClientSlot& slot = slots_[client];
  slot.phase = outcome;
  ++finished_;
  OutcomeCounts& by_type = stats_.by_type[static_cast<size_t>(slot.type)];
  for (OutcomeCounts* counts : {&stats_.outcome, &by_type}) {
    switch (outcome) {
      case Phase::kBooted:
        ++(slot.first_try ? counts->first_try : counts->after_retries);
        break;
      case Phase::kNoOffer:
        ++counts->no_offer;
        break;
      default:
        ++counts->no_ack;
        break;
    }
  }
  if (outcome == Phase::kBooted) {
    stats_.boot_time.Record(Elapsed(slot.first_discover_ns, when_ns));
  }
}

void ClientTable::ExpireTimers(uint64_t now_ns) {
  TimerQueue::Entry e;
  const size_t last = discover_timers_.size() - 1;
  for (size_t k = 0; k < discover_timers_.size(); ++k) {
    while (discover_timers_[k].PopDue(now_ns, &e)) {
      const ClientSlot& slot = slots_[e.client];
      // Stale unless still waiting on the (k+1)-th DISCOVER.
      if (slot.phase != Phase::kDiscovering || slot.discovers_sent != k + 1) {
        continue;
      }
      if (k < last) {
        QueueSend(e.client, e.deadline_ns);
      } else {
        Finish(e.client, Phase::kNoOffer, now_ns);
      }
    }
  }
  for (size_t k = 0; k < request_timers_.size(); ++k) {
    while (request_timers_[k].PopDue(now_ns, &e)) {
      const ClientSlot& slot = slots_[e.client];
      if (slot.phase != Phase::kRequesting || slot.requests_sent != k + 1) {
        continue;
      }
      if (k == 0) {
        QueueSend(e.client, e.deadline_ns);
      } else {
        Finish(e.client, Phase::kNoAck, now_ns);
      }
    }
  }
}

uint64_t ClientTable::NextDeadline() const {
  uint64_t next = ~uint64_t{0};
  for (const TimerQueue& q : discover_timers_) {
    next = std::min(next, q.next_deadline());
  }
  for (const TimerQueue& q : request_timers_) {
    next = std::min(next, q.next_deadline());
  }
  return next;
}

}  // namespace pxe::storm
