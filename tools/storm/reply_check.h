// What an emulated client makes of a server reply to its chaddr: is it the
// proxy offer or ACK it waits for, a plain DHCP server's offer (not ours to
// judge), or a wrong answer, and which; and, for an offer it takes, whether
// and where it asks on UDP 4011. Pure functions over a classified frame.
#ifndef PXE_TOOLS_STORM_REPLY_CHECK_H_
#define PXE_TOOLS_STORM_REPLY_CHECK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/arch.h"
#include "engine/byte_order.h"
#include "engine/client_request6.h"
#include "engine/dhcp6.h"
#include "engine/request.h"
#include "tools/storm/client_profile.h"

namespace pxe::storm {

// Wrong answers, one per reply (the first found, in this order).
enum class ReplyProblem : uint8_t {
  kNone,
  kUnexpectedType,  // NAK or another type; an ACK with no request sent
  kWrongXid,        // not the xid of the request this type answers
  kOfferYiaddr,     // a proxy offer (option 60 PXE/HTTPClient), yiaddr != 0
  kVendorClass,     // option 60 missing, or the other kind (PXE vs HTTP)
  kHttpNoUrl,       // HTTP-boot offer without an http:// or https:// URL
  kAckYiaddr,       // ACK yiaddr neither 0 nor the client's own address
  kAckNoFile,       // ACK names no boot file (EDK2 rejects it)
  kAckDestination,  // ACK not to the request's source address and port
  kAckSourcePort,   // ACK not from UDP 4011
  kBadOption43,     // option 43 malformed, or without what the firmware needs
  // With --expect-*: what the client was told differs from the right answer.
  kWrongServer,  // option 54 missing or not the expected server
  kWrongSiaddr,  // siaddr not the TFTP server (file) or the proxy (no file)
  kWrongFile,    // not the boot file or URL for the client's architecture
  // DHCPv6 only (kWrongXid, kVendorClass, kHttpNoUrl, kAckNoFile,
  // kAckDestination, kAckSourcePort, kWrongServer and kWrongFile apply too).
  kClientIdNotEchoed,  // option 1 missing or not the client's DUID
  kProxyIa,            // IA_NA, IA_TA or IA_PD in a proxy Advertise or Reply
};
inline constexpr size_t kReplyProblemCount = 16;
static_assert(static_cast<size_t>(ReplyProblem::kProxyIa) + 1 ==
              kReplyProblemCount);

// "wrong_xid", ... for JSON; a short sentence for people.
std::string_view ReplyProblemName(ReplyProblem problem);
std::string_view ReplyProblemText(ReplyProblem problem);

enum class ReplyKind : uint8_t {
  kOffer,            // a proxy OFFER
  kAck,              // a DHCPACK (from 4011)
  kDhcpServerOffer,  // yiaddr != 0 and no PXEClient/HTTPClient: the LAN's
                     // DHCP server, which a proxy storm does not judge
  kOther,
};

struct ReplyVerdict {
  ReplyKind kind = ReplyKind::kOther;
  ReplyProblem problem = ReplyProblem::kNone;
};

// The right answers as the user states them (--expect-*), the same way
// pxe-pdhcp is configured. Empty or 0: that fact is not checked.
struct ExpectedAnswers {
  // Boot file (TFTP) per architecture class, as pxe-pdhcp's --boot-file.
  std::array<std::string, kArchClassCount> file;
  // URL per architecture class for HTTP-boot clients (--http-url).
  std::array<std::string, kArchClassCount> http_url;
  std::string ipxe_script;   // for iPXE clients, over their arch's file
  std::string http_url6;     // for HTTPv6 clients (--expect-http-url6)
  uint32_t server = 0;       // the proxy: option 54; siaddr without a file
  uint32_t tftp_server = 0;  // siaddr with a TFTP file; 0: `server`

  bool any() const;
};

// What the client expects, from its identity and state.
struct ClientExpectation {
  const ClientProfile* profile = nullptr;
  uint32_t discover_xid = 0;
  uint32_t request_xid = 0;
  uint32_t address = 0;       // its ciaddr on 4011
  uint16_t request_port = 0;  // the source port of its 4011 request
  bool request_sent = false;
  // The boot item (43.71) its 4011 request carried: the ACK must name the
  // same type.
  bool has_boot_item = false;
  std::array<uint8_t, 4> boot_item{};
  // From ExpectedAnswers (empty / 0: not checked).
  std::string_view file;     // the boot file or URL for its architecture
  uint32_t server = 0;       // option 54
  uint32_t tftp_server = 0;  // siaddr of a reply that names a TFTP file
};

// Fills the ExpectedAnswers part of `expect` for a client of `profile`.
// The views point into `answers`.
void ApplyExpectedAnswers(const ExpectedAnswers& answers,
                          const ClientProfile& profile,
                          ClientExpectation* expect);

// The architecture class pxe-pdhcp files a client of `profile` under (its
// first option 93 code, engine/arch.h).
ArchClass ArchClassOf(const ClientProfile& profile);

// `reply` is a frame ClassifyFrame() called kServerReply. Allocates nothing.
ReplyVerdict CheckReply(const Request& reply, const ClientExpectation& expect);

// `message` came in `frame` to an IPv6 client (ClientProfile::ipv6) whose
// DUID-LL is `client_id` and whose link-local address is `client_ip`: an
// Advertise answers its Solicit (kOffer; kDhcpServerOffer for an address
// server's: an IA and no boot class), a Reply its 4011 Request (kAck). The
// xid of both is expect.discover_xid's low 24 bits. Allocates nothing.
ReplyVerdict CheckReply6(const FrameView6& frame, const ServerMessage6& message,
                         const ClientExpectation& expect,
                         std::span<const uint8_t> client_id,
                         const Ipv6Address& client_ip);

// The file of a "tftp://[X]/FILE" option 59 (empty for another form).
std::string_view TftpUrlFile(std::span<const uint8_t> url);

// The reply's boot file: the file field up to its NUL, else option 67.
std::span<const uint8_t> BootFile(const Request& reply);

// The parts of an accepted proxy offer the client acts on.
struct OfferFacts {
  bool has_file = false;  // file field or option 67
  bool has_menu = false;  // option 43 with a boot menu (43.9)
  std::array<uint8_t, 2> first_menu_type{};
  uint32_t siaddr = 0;
  uint32_t server_id = 0;  // option 54
  uint32_t ip_src = 0;
  MacAddress eth_src{};
};
OfferFacts ReadOffer(const Request& reply);

// Option 43 read as PXE vendor sub-options (PXE 2.1 §2.4): tag, length,
// value, closed by END (255).
struct VendorOptionFacts {
  bool present = false;
  // Every sub-option fits, END closes the list, and the sub-options a
  // firmware parses have the layout PXE 2.1 gives them (43.6: 1 byte;
  // 43.8: type, count, count addresses; 43.9: entries of type, length,
  // text; 43.10: timeout, text; 43.71: type, layer).
  bool well_formed = true;
  bool boot_file_bit = false;  // 43.6 bit 3: boot the file in this offer
  bool has_menu = false;       // 43.9
  std::array<uint8_t, 2> first_menu_type{};
  bool has_boot_item = false;  // 43.71
  std::array<uint8_t, 2> boot_item_type{};
};
VendorOptionFacts ReadVendorOptions(const Request& reply);

// Whether the client asks on 4011 after this offer: EDK2 always, HTTP boot
// never, PXE ROMs and iPXE when the offer names no boot file.
bool NeedsBootServerRequest(const ClientProfile& profile,
                            const OfferFacts& offer);

// Where the 4011 request goes: EDK2 to siaddr, else option 54; PXE ROMs and
// iPXE to option 54, else siaddr; either, failing both, the offer's source.
uint32_t BootServerAddress(const ClientProfile& profile,
                           const OfferFacts& offer);

// The boot item (43.71) of the 4011 request: the first menu entry's type
// (layer 0) when the offer has a menu, else iPXE's 80 00 00 00, else none.
std::optional<std::array<uint8_t, 4>> BootItem(const ClientProfile& profile,
                                               const OfferFacts& offer);

}  // namespace pxe::storm

#endif  // PXE_TOOLS_STORM_REPLY_CHECK_H_
