// The last stage of the packet path: writes the whole reply frame (Ethernet,
// optional 802.1Q, IPv4, UDP, BOOTP, options) straight into the caller's
// transmit buffer (RFC 2131 §4.1 and §4.3.1, RFC 2132, PXE 2.1). Lengths
// first, then bytes, then the IPv4 and UDP checksums.
#ifndef PXE_ENGINE_REPLY_H_
#define PXE_ENGINE_REPLY_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/policy.h"
#include "engine/request.h"

namespace pxe {

// A reply is one IPv4 datagram of at most this many bytes, an Ethernet
// frame's payload: never fragmented, it needs no reassembly on the way.
inline constexpr size_t kMaxReplyIpLength = 1500;
// Large enough for any reply: headers, 300+ bytes of BOOTP and the longest
// options we write (a 255-byte URL, a boot menu, a policy's extra options,
// a relay's option 82): one Ethernet frame with an 802.1Q tag.
inline constexpr size_t kMaxReplyFrameSize = 1518;

// Writes the reply `plan` describes for `request` into `out`. Returns the
// frame's size, or 0 if it does not fit (nothing useful is left in `out`).
// `why` (if given) then says why: kRelayInfoTooLong when the request's
// option 82 does not fit one datagram beside the plan's options (the rest
// would), else kReplyBufferTooSmall (`out` is too small).
size_t CraftReply(const Request& request, const ReplyPlan& plan,
                  const ServerContext& context, std::span<uint8_t> out,
                  DropReason* why = nullptr);

// The whole path for one frame: classify, decide, craft. On kNone the reply
// is out.first(*reply_size). `request` is the caller's scratch (reused, never
// allocated here); its fields describe the frame afterwards, also on a drop
// (its option index only once the frame got as far as the DHCP options).
DropReason Respond(std::span<const uint8_t> frame, const RxMeta& meta,
                   const PolicySnapshot& policy, const ServerContext& context,
                   Request* request, std::span<uint8_t> out,
                   size_t* reply_size);

}  // namespace pxe

#endif  // PXE_ENGINE_REPLY_H_
