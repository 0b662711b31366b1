// The decision: which reply a classified request gets under a compiled
// policy (engine/policy_snapshot.h), and where it goes, before any byte is
// written.
#ifndef PXE_ENGINE_POLICY_H_
#define PXE_ENGINE_POLICY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/arch.h"
#include "engine/byte_order.h"
#include "engine/drop_reason.h"
#include "engine/policy_snapshot.h"
#include "engine/request.h"

namespace pxe {

// One IPv4 address of the interface a frame came in on.
struct InterfaceAddress {
  uint32_t address = 0;
  uint8_t prefix_length = 24;

  bool Contains(uint32_t ip) const {
    const uint32_t mask =
        prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
    return (ip & mask) == (address & mask);
  }
};

// One IPv6 address of the interface a frame came in on.
struct Ipv6InterfaceAddress {
  Ipv6Address address{};
  uint8_t prefix_length = 64;

  bool Contains(const Ipv6Address& ip) const {
    const size_t bits = prefix_length > 128 ? 128 : prefix_length;
    const size_t whole = bits / 8;
    for (size_t i = 0; i < whole; ++i) {
      if (ip[i] != address[i]) return false;
    }
    if (bits % 8 == 0) return true;
    const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - bits % 8));
    return (ip[whole] & mask) == (address[whole] & mask);
  }
  // fe80::/10 (RFC 4291 §2.5.6).
  bool link_local() const {
    return address[0] == 0xFE && (address[1] & 0xC0) == 0x80;
  }
};

// The addresses pxe-pdhcp answers from on one 802.1Q VLAN of an interface
// (a trunk): a tagged request is answered from these, never from the
// interface's own (untagged) addresses.
struct VlanAddresses {
  uint16_t vlan = 0;  // 1 to 4094
  std::vector<InterfaceAddress> addresses;
  std::vector<Ipv6InterfaceAddress> addresses6;
};

// What the caller knows about the receiving side of one request.
struct ServerContext {
  MacAddress mac{};  // our interface's MAC: the reply's source
  // Ours on the request's network (its VLAN, or untagged); first = primary.
  std::span<const InterfaceAddress> addresses;
  // The address the LAN's DHCP server offered this client, if seen (0 = not
  // seen). Picks our address in the same subnet for broadcast DISCOVERs.
  uint32_t offered_address = 0;
  std::string_view interface_name;  // for rules that match on it
};

// The decided reply, before any byte is written.
struct ReplyPlan {
  dhcp::MessageType type = dhcp::MessageType::kNone;  // kOffer or kAck
  uint32_t server_address = 0;                        // IPv4 source, option 54
  uint32_t siaddr = 0;
  uint32_t tftp_server = 0;        // written as text into sname when non-zero
  std::string_view file;           // NBP path or URL; may be empty
  bool file_in_option67 = false;   // too long for the file field
  bool discovery_control = false;  // 43 = 06 01 08 FF: boot the file now
  const Menu* menu = nullptr;      // 43 = a boot menu (sub-options 6-10)
  bool raspberry_pi = false;       // 43 = "Raspberry Pi Boot", 66 = TFTP
  bool http = false;               // option 60 HTTPClient, else PXEClient
  const ResolvedAnswer* answer = nullptr;  // the rule's (or defaults')
  // The client's choice from a boot menu (43.71), echoed in the ACK.
  std::span<const uint8_t> boot_item;
  // Where the frame goes.
  MacAddress dst_mac{};
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// Picks the address we answer `request` from (the one in the client's
// subnet: RFC 2131 §4.1, RFC 3046 for relays), or 0.
uint32_t SelectServerAddress(const Request& request, const BootPolicy& policy,
                             const ServerContext& context);

// The client's address as rules see it (ClientFacts::subnet_address).
uint32_t ClientSubnetAddress(const Request& request,
                             const ServerContext& context);

// Decides the reply to a request ClassifyFrame() accepted, under the rule
// that matches it. kNone and a filled `plan`, or the reason not to answer.
DropReason Decide(const Request& request, const PolicySnapshot& policy,
                  const ServerContext& context, ReplyPlan* plan);
// The same with the rule already looked up (`answer` from
// policy.AnswerFor()).
DropReason DecideWith(const Request& request, const ResolvedAnswer& answer,
                      const BootPolicy& settings, const ServerContext& context,
                      ReplyPlan* plan);

}  // namespace pxe

#endif  // PXE_ENGINE_POLICY_H_
