// What the libFuzzer targets share: a property check that traps (so
// libFuzzer saves the input whatever the build's NDEBUG), a reader that
// parses a reply the engine built back through ClassifyFrame(), as the
// client would, and the properties of a reply towards its request.
#ifndef PXE_TESTS_FUZZ_FUZZ_CHECK_H_
#define PXE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "engine/bootp.h"
#include "engine/byte_order.h"
#include "engine/dhcp_options.h"
#include "engine/drop_reason.h"
#include "engine/frame.h"
#include "engine/reply.h"
#include "engine/request.h"

namespace pxe::fuzz {

[[noreturn]] inline void Fail(const char* property, const char* file,
                              int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, property);
  std::fflush(stderr);
  __builtin_trap();
}

#define PXE_FUZZ_CHECK(cond)                                   \
  do {                                                         \
    if (!(cond)) ::pxe::fuzz::Fail(#cond, __FILE__, __LINE__); \
  } while (0)

inline bool StartsWith(std::span<const uint8_t> bytes,
                       std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

// Option 60 of every reply, and of every request the engine answers.
inline bool IsBootClass(std::span<const uint8_t> vendor_class) {
  return StartsWith(vendor_class, "PXEClient") ||
         StartsWith(vendor_class, "HTTPClient");
}

// Where the UDP header of a frame the engine built starts (Ethernet, an
// optional 802.1Q tag, IPv4 with the header length it says).
inline size_t UdpOffset(std::span<const uint8_t> frame) {
  size_t l2 = kEthernetHeaderSize;
  if (LoadBe16(frame.data() + 12) == kEtherTypeVlan) l2 += kVlanTagSize;
  return l2 + size_t{frame[l2] & 0x0Fu} * 4;
}

// A reply parsed back. `request` points into `bytes`, so the two live and
// die together (hence one heap object).
struct ParsedReply {
  DropReason reason = DropReason::kNone;
  uint16_t dst_port = 0;  // as the engine wrote it
  std::array<uint8_t, kMaxReplyFrameSize> bytes;
  Request request;
};

// Classifies `reply` (at least the headers and a BOOTP message: checked).
// An ACK goes back to the port the 4011 request came from (OVMF sends from
// 4011, iPXE from 68, a fuzzer from anything), but ClassifyFrame() only
// reads frames for 67, 68 and 4011: such a copy is readdressed to 68 with
// its UDP checksum adjusted incrementally (RFC 1624, eqn. 3), so that a
// wrong checksum stays wrong.
inline std::unique_ptr<ParsedReply> ParseReply(std::span<const uint8_t> reply) {
  PXE_FUZZ_CHECK(reply.size() >= kEthernetHeaderSize + kIpv4MinHeaderSize +
                                     kUdpHeaderSize + bootp::kMinMessageSize);
  PXE_FUZZ_CHECK(reply.size() <= kMaxReplyFrameSize);
  auto out = std::make_unique<ParsedReply>();
  std::memcpy(out->bytes.data(), reply.data(), reply.size());
  uint8_t* const copy = out->bytes.data();
  const size_t udp = UdpOffset(reply);
  PXE_FUZZ_CHECK(udp + kUdpHeaderSize <= reply.size());
  out->dst_port = LoadBe16(copy + udp + 2);
  if (out->dst_port != kDhcpServerPort && out->dst_port != kDhcpClientPort &&
      out->dst_port != kPxeServerPort) {
    const uint16_t old_sum = LoadBe16(copy + udp + 6);
    PXE_FUZZ_CHECK(old_sum != 0);  // the engine always writes a checksum
    uint32_t sum = uint32_t{static_cast<uint16_t>(~old_sum)} +
                   static_cast<uint16_t>(~out->dst_port) + kDhcpClientPort;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    const auto new_sum = static_cast<uint16_t>(~sum);
    StoreBe16(copy + udp + 2, kDhcpClientPort);
    StoreBe16(copy + udp + 6, new_sum == 0 ? 0xFFFF : new_sum);
  }
  out->reason = ClassifyFrame({copy, reply.size()}, RxMeta{}, &out->request);
  PXE_FUZZ_CHECK(static_cast<size_t>(out->reason) < kDropReasonCount);
  if (out->reason != DropReason::kServerReply) {
    std::fprintf(stderr, "fuzz: the reply classifies as %.*s\n",
                 static_cast<int>(DropReasonName(out->reason).size()),
                 DropReasonName(out->reason).data());
  }
  return out;
}

// The properties of a reply towards the request it answers: a BOOTREPLY
// with the request's xid, chaddr and VLAN tag (priority bits included),
// option 60 PXEClient or HTTPClient, and never an address (a proxy leaves that
// to the DHCP server). An OFFER answers a DISCOVER to 67; an ACK answers a 4011
// request, or a boot-server request broadcast to 67 (a REQUEST for a menu
// item, 43.71), from the port the request came to and back to the one it came
// from (but through a relay: to the relay's port 67).
inline void CheckAnswers(const Request& request, const ParsedReply& reply) {
  const Request& back = reply.request;
  PXE_FUZZ_CHECK(reply.reason == DropReason::kServerReply);
  PXE_FUZZ_CHECK(back.bootp.op() == bootp::kOpReply);
  PXE_FUZZ_CHECK(back.frame.payload.size() >= bootp::kMinMessageSize);
  PXE_FUZZ_CHECK(back.xid == request.xid);
  PXE_FUZZ_CHECK(back.chaddr == request.chaddr);
  PXE_FUZZ_CHECK(std::memcmp(back.bootp.chaddr_field(),
                             request.bootp.chaddr_field(),
                             bootp::kChaddrSize) == 0);
  PXE_FUZZ_CHECK(IsBootClass(back.vendor_class));
  PXE_FUZZ_CHECK(IsBootClass(request.vendor_class));
  PXE_FUZZ_CHECK(back.frame.has_vlan == request.frame.has_vlan);
  if (request.frame.has_vlan) {
    PXE_FUZZ_CHECK(back.frame.vlan_tci == request.frame.vlan_tci);
  }
  if (back.type == dhcp::MessageType::kAck) {
    PXE_FUZZ_CHECK(request.type != dhcp::MessageType::kDiscover);
    PXE_FUZZ_CHECK(request.on_pxe_port() || !request.boot_item.empty());
    PXE_FUZZ_CHECK(back.yiaddr == 0 || back.yiaddr == request.ciaddr);
    PXE_FUZZ_CHECK(back.frame.udp_src == request.frame.udp_dst);
    if (request.on_pxe_port() || !request.relayed()) {
      PXE_FUZZ_CHECK(reply.dst_port == request.frame.udp_src);
    }
  } else {
    PXE_FUZZ_CHECK(back.type == dhcp::MessageType::kOffer);
    PXE_FUZZ_CHECK(request.type == dhcp::MessageType::kDiscover);
    PXE_FUZZ_CHECK(request.frame.udp_dst == kDhcpServerPort);
    PXE_FUZZ_CHECK(back.yiaddr == 0);
    PXE_FUZZ_CHECK(back.frame.udp_src == kDhcpServerPort);
  }
}

}  // namespace pxe::fuzz

#endif  // PXE_TESTS_FUZZ_FUZZ_CHECK_H_
