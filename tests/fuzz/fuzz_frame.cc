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
// Each input runs twice: once with the UDP checksum to verify, and once with
// it marked not ready (TP_STATUS_CSUMNOTREADY), so that inputs with a wrong
// checksum (nearly all mutations) still reach the BOOTP and option parsers.
// The two runs use different configurations (see MakePolicy()) and the
// second reuses the first run's Request, as a worker does.
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
#include "engine/dhcp_options.h"
#include "engine/reply.h"
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
  p.relay_servers.push_back(
      {.relay_subnet = {.network = MakeIpv4(10, 9, 0, 0), .prefix_length = 16},
       .server = kServer});
  if (direct) {
    p.uefi_offer_style = UefiOfferStyle::kDirect;
    p.defaults.tftp_server = MakeIpv4(10, 77, 0, 9);
    p.listen_address = kSecondServer;
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
  return 0;
}
