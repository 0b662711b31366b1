// libFuzzer target: any byte string, as a received Ethernet frame, through
// the whole packet path (pxe::Respond()), plus the properties every reply
// must have whatever came in:
//
//  - it fits the transmit buffer and is at least a full BOOTP message;
//  - it parses back (checksums verified) as a BOOTREPLY: kServerReply;
//  - an OFFER answers a DISCOVER to 67, from 67, with yiaddr 0; an ACK
//    answers a 4011 request or a boot-server request to 67, from that port
//    back to the client's, with yiaddr 0 or the request's ciaddr: a proxy
//    never hands out addresses (fuzz::CheckAnswers());
//  - same xid and chaddr as the request;
//  - option 60 is PXEClient or HTTPClient;
//  - it answers only requests whose option 60 starts with PXEClient or
//    HTTPClient, as read here by an independent option walker;
//  - every DropReason is a declared one.
//
// The same frame also goes through the DHCPv6 path (pxe::Respond6()), whose
// replies must parse back with a valid IPv6 UDP checksum, be an Advertise
// (to a Solicit) or a Reply, bare or in a Relay-reply to a relayed request,
// with the request's transaction id and client ID, our server ID, no IA of
// any kind (a proxy never hands out addresses), from one of our addresses
// back to the request's source; and answer only clients whose option 16,
// read here by an independent walker, says PXEClient or HTTPClient under
// enterprise 343.
//
// Each input runs twice: once with the UDP checksum to verify, and once with
// it marked not ready (TP_STATUS_CSUMNOTREADY), so that inputs with a wrong
// checksum (nearly all mutations) still reach the BOOTP and option parsers.
// The two runs use different configurations (see MakePolicy()) and the
// second reuses the first run's Request, as a worker does.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/bootp.h"
#include "engine/dhcp6.h"
#include "engine/dhcp_options.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "tests/fuzz/fuzz_check.h"

namespace pxe {
namespace {

using fuzz::IsBootClass;

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 2);
constexpr uint32_t kSecondServer = MakeIpv4(192, 168, 5, 1);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};

// Option 60 of a BOOTP message, read without the engine's OptionIndex: all
// occurrences concatenated (RFC 3396) over the options field, then `file`
// and `sname` if the first option 52 there says so (RFC 2132 §9.3). Stops an
// area at END or at an option that does not fit. Only the first 16 bytes
// are kept: enough to compare prefixes.
class VendorClassReader {
 public:
  explicit VendorClassReader(std::span<const uint8_t> message) {
    const std::span<const uint8_t> options = message.subspan(bootp::kOptions);
    Walk(options, /*main=*/true);
    if (overload_ & 1) {
      Walk(message.subspan(bootp::kFile, bootp::kFileSize), false);
    }
    if (overload_ & 2) {
      Walk(message.subspan(bootp::kSname, bootp::kSnameSize), false);
    }
  }
  std::span<const uint8_t> prefix() const { return {bytes_.data(), size_}; }

 private:
  void Walk(std::span<const uint8_t> area, bool main) {
    size_t i = 0;
    while (i < area.size()) {
      const uint8_t code = area[i];
      if (code == dhcp::kEnd) return;
      if (code == dhcp::kPad) {
        ++i;
        continue;
      }
      if (area.size() - i < 2 || area.size() - i - 2 < area[i + 1]) return;
      const uint8_t length = area[i + 1];
      const uint8_t* value = area.data() + i + 2;
      if (code == dhcp::kOverload && main && !overload_seen_) {
        overload_seen_ = true;
        if (length > 0) overload_ = value[0];
      }
      if (code == dhcp::kVendorClass) {
        for (uint8_t k = 0; k < length && size_ < bytes_.size(); ++k) {
          bytes_[size_++] = value[k];
        }
      }
      i += 2 + size_t{length};
    }
  }

  std::array<uint8_t, 16> bytes_{};
  size_t size_ = 0;
  bool overload_seen_ = false;
  uint8_t overload_ = 0;
};

// Two configurations, one per run, between them covering the BINL and
// direct UEFI offer styles, a separate TFTP server, a fixed listen address,
// per-arch NBPs and URLs (one URL too long for the file field, so it goes
// into option 67), an iPXE script and a relay entry.
const PolicySnapshot& MakePolicy(bool direct) {
  BootPolicy p{.defaults = {.file = "pxelinux.0"}};
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] =
      "efi64/syslinux.efi";
  p.defaults.files[static_cast<size_t>(ArchClass::kUefiArm64)] =
      "efiaa64/grubaa64.efi";
  p.defaults.http_url = "http://10.77.0.2/boot/ipxe.efi";
  p.defaults.http_urls[static_cast<size_t>(ArchClass::kUefiArm64)] =
      "http://10.77.0.2/boot/" + std::string(200, 'a') + "/grubaa64.efi";
  p.defaults.ipxe_script = "http://10.77.0.2/boot/script.ipxe";
  p.defaults.http_url6 = "http://[fd77::2]:8080/boot/ipxe.efi";
  p.relay_servers.push_back(
      {.relay_subnet = {.network = MakeIpv4(10, 9, 0, 0), .prefix_length = 16},
       .server = kServer});
  if (direct) {
    p.uefi_offer_style = UefiOfferStyle::kDirect;
    p.defaults.tftp_server = MakeIpv4(10, 77, 0, 9);
    p.listen_address = kSecondServer;
    p.defaults.tftp_server6 = {0xfd, 0x77, 0, 0, 0, 0, 0, 0,
                               0,    0,    0, 0, 0, 0, 0, 9};
  }
  auto snapshot = PolicySnapshot::Compile(std::move(p));
  if (!snapshot.ok()) std::abort();
  // Kept for the process's life; a plain pointer, so that LeakSanitizer
  // sees it reachable from Setup (a heap unique_ptr holding it was not).
  return *(*std::move(snapshot)).release();
}

struct Setup {
  const PolicySnapshot& verify_policy = MakePolicy(false);
  const PolicySnapshot& not_ready_policy = MakePolicy(true);
  std::array<InterfaceAddress, 2> addresses = {
      InterfaceAddress{kServer, 24}, InterfaceAddress{kSecondServer, 24}};
  // fe80::2 and fd77::2/64; the second run has only the link-local one.
  std::array<Ipv6InterfaceAddress, 2> addresses6 = {
      Ipv6InterfaceAddress{
          {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64},
      Ipv6InterfaceAddress{
          {0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64}};
};

const Setup& GetSetup() {
  static const Setup* setup = new Setup();
  return *setup;
}

void CheckReply(const Request& request, std::span<const uint8_t> reply) {
  fuzz::CheckAnswers(request, *fuzz::ParseReply(reply));
}

void RunOnce(std::span<const uint8_t> frame, UdpChecksumStatus checksum,
             const PolicySnapshot& policy, uint32_t offered_address,
             Request* request) {
  const Setup& setup = GetSetup();
  const ServerContext context{.mac = kServerMac,
                              .addresses = setup.addresses,
                              .offered_address = offered_address};
  const RxMeta meta{.udp_checksum = checksum};
  // Poisoned, so that any byte of the reply the engine forgot to write
  // breaks its checksums instead of passing as a zero.
  std::array<uint8_t, kMaxReplyFrameSize> out;
  out.fill(0xA5);
  size_t size = 0;
  const DropReason d =
      Respond(frame, meta, policy, context, request, out, &size);
  PXE_FUZZ_CHECK(static_cast<size_t>(d) < kDropReasonCount);
  if (d != DropReason::kNone) {
    PXE_FUZZ_CHECK(size == 0);
    return;
  }
  PXE_FUZZ_CHECK(size > 0 && size <= out.size());
  // Answered: the frame must really be a BOOTREQUEST from a boot client.
  BootpView message;
  PXE_FUZZ_CHECK(BootpView::Parse(request->frame.payload, &message) ==
                 DropReason::kNone);
  PXE_FUZZ_CHECK(message.op() == bootp::kOpRequest);
  PXE_FUZZ_CHECK(
      IsBootClass(VendorClassReader(request->frame.payload).prefix()));
  PXE_FUZZ_CHECK(IsBootClass(request->vendor_class));
  CheckReply(*request, {out.data(), size});
}

// The DHCPv6 client message in a UDP payload, unwrapping one Relay-forward
// with its own walk (not the engine's cursor); empty if there is none.
std::span<const uint8_t> ClientMessage6(std::span<const uint8_t> payload) {
  if (payload.empty() || payload[0] != 12) return payload;
  if (payload.size() < 34) return {};
  size_t i = 34;
  while (payload.size() - i >= 4) {
    const size_t code = size_t{payload[i]} << 8 | payload[i + 1];
    const size_t length = size_t{payload[i + 2]} << 8 | payload[i + 3];
    if (payload.size() - i - 4 < length) return {};
    if (code == 9) return payload.subspan(i + 4, length);
    i += 4 + length;
  }
  return {};
}

// Calls `f(code, value)` for each option after `header` bytes; false if an
// option runs past the end.
template <typename F>
bool WalkOptions6(std::span<const uint8_t> message, size_t header, F f) {
  if (message.size() < header) return false;
  size_t i = header;
  while (i < message.size()) {
    if (message.size() - i < 4) return false;
    const uint16_t code =
        static_cast<uint16_t>(message[i] << 8 | message[i + 1]);
    const size_t length = size_t{message[i + 2]} << 8 | message[i + 3];
    if (message.size() - i - 4 < length) return false;
    f(code, message.subspan(i + 4, length));
    i += 4 + length;
  }
  return true;
}

// Whether the client's message carries option 16 of enterprise 343 whose
// first class data starts with PXEClient or HTTPClient.
bool HasBootVendorClass6(std::span<const uint8_t> message) {
  bool boot = false;
  WalkOptions6(message, 4, [&](uint16_t code, std::span<const uint8_t> v) {
    if (code != 16 || v.size() < 6) return;
    if (v[0] != 0 || v[1] != 0 || v[2] != 0x01 || v[3] != 0x57) return;
    const size_t length = size_t{v[4]} << 8 | v[5];
    if (v.size() - 6 < length) return;
    if (IsBootClass(v.subspan(6, length))) boot = true;
  });
  return boot;
}

void RunOnce6(std::span<const uint8_t> frame, UdpChecksumStatus checksum,
              const PolicySnapshot& policy,
              std::span<const Ipv6InterfaceAddress> addresses,
              Request6* request) {
  const ServerContext6 context{.mac = kServerMac, .addresses = addresses};
  const RxMeta meta{.udp_checksum = checksum};
  std::array<uint8_t, kMaxReplyFrameSize> out;
  out.fill(0xA5);
  size_t size = 0;
  const DropReason d =
      Respond6(frame, meta, policy, context, request, out, &size);
  PXE_FUZZ_CHECK(static_cast<size_t>(d) < kDropReasonCount);
  if (d != DropReason::kNone) {
    PXE_FUZZ_CHECK(size == 0);
    return;
  }
  PXE_FUZZ_CHECK(size > 0 && size <= out.size());
  const std::span<const uint8_t> asked = ClientMessage6(request->frame.payload);
  PXE_FUZZ_CHECK(HasBootVendorClass6(asked));

  FrameView6 reply;
  PXE_FUZZ_CHECK(ParseFrame6({out.data(), size}, RxMeta{}, &reply) ==
                 DropReason::kNone);
  PXE_FUZZ_CHECK(reply.eth_src == kServerMac);
  PXE_FUZZ_CHECK(reply.eth_dst == request->frame.eth_src);
  PXE_FUZZ_CHECK(reply.ip_dst == request->frame.ip_src);
  PXE_FUZZ_CHECK(std::any_of(addresses.begin(), addresses.end(),
                             [&](const Ipv6InterfaceAddress& a) {
                               return a.address == reply.ip_src;
                             }));
  PXE_FUZZ_CHECK(reply.has_vlan == request->frame.has_vlan);
  std::span<const uint8_t> message = reply.payload;
  if (request->relayed) {
    PXE_FUZZ_CHECK(!message.empty() && message[0] == 13);
    PXE_FUZZ_CHECK(reply.udp_src == 547 && reply.udp_dst == 547);
    std::span<const uint8_t> inner;
    PXE_FUZZ_CHECK(WalkOptions6(reply.payload, 34,
                                [&](uint16_t code, std::span<const uint8_t> v) {
                                  if (code == 9) inner = v;
                                }));
    message = inner;
  }
  PXE_FUZZ_CHECK(message.size() >= 4);
  const bool advertise = message[0] == 2;
  PXE_FUZZ_CHECK(advertise || message[0] == 7);
  PXE_FUZZ_CHECK(advertise == (asked[0] == 1));  // Advertise iff Solicit
  if (!request->relayed) {
    if (request->frame.udp_dst == kPxeServerPort) {
      PXE_FUZZ_CHECK(reply.udp_src == kPxeServerPort &&
                     reply.udp_dst == request->frame.udp_src);
    } else {
      PXE_FUZZ_CHECK(reply.udp_src == 547 && reply.udp_dst == 546);
    }
  }
  PXE_FUZZ_CHECK(
      std::equal(message.begin() + 1, message.begin() + 4, asked.begin() + 1));
  const ServerDuid duid = MakeServerDuid(kServerMac);
  bool client_id = false, server_id = false, url = false;
  PXE_FUZZ_CHECK(
      WalkOptions6(message, 4, [&](uint16_t code, std::span<const uint8_t> v) {
        // Never an address, a temporary address or a prefix.
        PXE_FUZZ_CHECK(code != 3 && code != 4 && code != 25);
        if (code == 1) {
          client_id = std::equal(v.begin(), v.end(), request->client_id.begin(),
                                 request->client_id.end());
        }
        if (code == 2) {
          server_id = std::equal(v.begin(), v.end(), duid.begin(), duid.end());
        }
        if (code == 59) url = !v.empty();
      }));
  PXE_FUZZ_CHECK(client_id && server_id && url);
}

}  // namespace
}  // namespace pxe

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pxe::UdpChecksumStatus;
  const pxe::Setup& setup = pxe::GetSetup();
  // A fresh Request per input: what a Request holds from an earlier input
  // must not decide this one's outcome, or crashes would not reproduce.
  auto request = std::make_unique<pxe::Request>();
  const std::span<const uint8_t> frame(data, size);
  pxe::RunOnce(frame, UdpChecksumStatus::kUnknown, setup.verify_policy,
               /*offered_address=*/0, request.get());
  pxe::RunOnce(frame, UdpChecksumStatus::kNotReady, setup.not_ready_policy,
               /*offered_address=*/pxe::MakeIpv4(192, 168, 5, 77),
               request.get());
  auto request6 = std::make_unique<pxe::Request6>();
  pxe::RunOnce6(frame, UdpChecksumStatus::kUnknown, setup.verify_policy,
                setup.addresses6, request6.get());
  pxe::RunOnce6(frame, UdpChecksumStatus::kNotReady, setup.not_ready_policy,
                std::span(setup.addresses6).first(1), request6.get());
  return 0;
}
