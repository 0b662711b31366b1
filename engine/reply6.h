// The DHCPv6 proxy's decision and reply (RFC 8415, RFC 5970), beside the
// DHCPv4 one (engine/policy.h, engine/reply.h), with the same rules: never
// an address (no IA_NA, IA_TA or IA_PD in anything written), never a
// non-booting client, the whole frame written into the caller's buffer.
//
// The exchange, as EDK2's PXEv6 and HTTPv6 clients run it:
// - Solicit (to ff02::1:2, UDP 547) -> Advertise from our link-local
//   address, UDP 547 -> the client's address, UDP 546: the client ID copied,
//   our server ID (a DUID-LL of our MAC), option 16 (enterprise 343,
//   "PXEClient" or "HTTPClient") and option 59: for PXE "tftp://[X]/file"
//   where X is us, for HTTP the boot URL itself, NUL-terminated (EDK2 reads
//   option 59 as a C string).
// - PXE: a Request from UDP 4011 to [X]:4011 (or ff02::1:2:4011 without an
//   option 59), with our server ID and no IA -> Reply from 4011 to 4011
//   whose option 59 names the TFTP server and the file.
// - Relayed (one Relay-forward): the same answer inside a Relay-reply to the
//   relay's address, UDP 547.
#ifndef PXE_ENGINE_REPLY6_H_
#define PXE_ENGINE_REPLY6_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/dhcp6.h"
#include "engine/policy.h"
#include "engine/policy_snapshot.h"
#include "engine/rule_matcher.h"

namespace pxe {

// Our server identifier: a DUID-LL (RFC 8415 §11.4) of the interface's MAC,
// so it is stable across restarts and needs no state.
inline constexpr size_t kServerDuidSize = 10;
using ServerDuid = std::array<uint8_t, kServerDuidSize>;
ServerDuid MakeServerDuid(const MacAddress& mac);

// What the caller knows about the receiving side of one DHCPv6 request.
struct ServerContext6 {
  MacAddress mac{};  // our interface's MAC: the reply's source, the DUID's
  // Ours on the request's network (its VLAN, or untagged): the link-local
  // one answers Solicits; the first global one is X in PXE offers.
  std::span<const Ipv6InterfaceAddress> addresses;
  std::string_view interface_name;  // for rules that match on it
};

// The decided reply, before any byte is written.
struct ReplyPlan6 {
  dhcp6::MessageType type = dhcp6::MessageType::kNone;  // Advertise, Reply
  bool http = false;  // "HTTPClient" and an HTTP URL, else "PXEClient"
  // PXE: option 59 is "tftp://[boot_host]/file"; HTTP: `file` is the URL.
  Ipv6Address boot_host{};
  std::string_view file;
  const ResolvedAnswer* answer = nullptr;
  // Where the frame goes (for a relayed request: the relay).
  Ipv6Address src_ip{};
  Ipv6Address dst_ip{};
  MacAddress dst_mac{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// The client as rules see it: MAC from its DUID (or the frame), no IPv4
// subnet (subnet rules never match a DHCPv6 client).
ClientFacts FactsOf6(const Request6& request, std::string_view interface);

// Decides the reply to a request ClassifyFrame6() accepted, under `answer`
// (policy.AnswerFor(FactsOf6(...))). kNone and a filled `plan`, or the reason
// not to answer.
DropReason Decide6(const Request6& request, const ResolvedAnswer& answer,
                   const ServerContext6& context, ReplyPlan6* plan);

// Writes the reply `plan` describes into `out`. Returns the frame's size, or
// 0 (`why` then says why: kReplyBufferTooSmall).
size_t CraftReply6(const Request6& request, const ReplyPlan6& plan,
                   const ServerContext6& context, std::span<uint8_t> out,
                   DropReason* why = nullptr);

// The whole path for one frame: classify, decide, craft (for tests, the
// fuzzers and the benchmarks; the Responder runs the same steps).
DropReason Respond6(std::span<const uint8_t> frame, const RxMeta& meta,
                    const PolicySnapshot& policy, const ServerContext6& context,
                    Request6* request, std::span<uint8_t> out,
                    size_t* reply_size);

// RFC 5952 text of `address` ("2001:db8::5") into `out` (at least 40
// bytes); returns the length (no NUL is written).
size_t FormatIpv6(const Ipv6Address& address, char* out);

}  // namespace pxe

#endif  // PXE_ENGINE_REPLY6_H_
