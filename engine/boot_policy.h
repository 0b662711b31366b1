// The boot policy as an operator writes it: server settings, the default
// answer, PXE boot menus and per-client rules, as plain data. The daemon
// fills a BootPolicy from a TOML file (tools/policy_file.h) and the command
// line, validates it once, and compiles it into an immutable PolicySnapshot
// (engine/policy_snapshot.h), which is what the packet path reads.
#ifndef PXE_ENGINE_BOOT_POLICY_H_
#define PXE_ENGINE_BOOT_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/arch.h"
#include "engine/byte_order.h"

namespace pxe {

// How UEFI PXE clients are offered their boot file (PXE 2.1 proxy offer).
enum class UefiOfferStyle : uint8_t {
  // No option 43, siaddr = us, no file: every EDK2 asks on 4011 and gets the
  // file in the ACK. What dnsmasq and pixiecore do; works with old EDK2.
  kBinl,
  // siaddr + file + 43 = 06 01 08 FF, like BIOS: current EDK2 boots at once.
  kDirect,
};

// An IPv4 network: `network` with its host bits cleared.
struct Ipv4Prefix {
  uint32_t network = 0;
  uint8_t prefix_length = 32;

  static constexpr uint32_t Mask(uint8_t length) {
    return length == 0 ? 0 : ~uint32_t{0} << (32 - length);
  }
  constexpr bool Contains(uint32_t ip) const {
    return (ip & Mask(prefix_length)) == network;
  }
  bool operator==(const Ipv4Prefix&) const = default;
};

struct RelayServerAddress {
  Ipv4Prefix relay_subnet;  // the relay's subnet (giaddr & mask)
  uint32_t server = 0;      // our address that clients behind it can reach
};

// A MAC address pattern: the first `length` octets must be equal ("*" for
// whole trailing octets in the file: 52:54:00:* has length 3; 6 = exact).
struct MacPattern {
  MacAddress octets{};  // octets past `length` are zero
  uint8_t length = 6;

  bool Matches(const MacAddress& mac) const {
    for (uint8_t i = 0; i < length; ++i) {
      if (mac[i] != octets[i]) return false;
    }
    return true;
  }
  bool operator==(const MacPattern&) const = default;
};

// A byte string compared exactly, or as a prefix ("PXEClient:Arch:00007*"
// in the file: text without the '*', prefix = true).
struct BytePattern {
  std::string text;
  bool prefix = false;

  bool Matches(std::span<const uint8_t> bytes) const {
    if (prefix ? bytes.size() < text.size() : bytes.size() != text.size()) {
      return false;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      if (bytes[i] != static_cast<uint8_t>(text[i])) return false;
    }
    return true;
  }
  bool operator==(const BytePattern&) const = default;
};

// What a rule matches on. Every non-empty field must match (AND); within a
// field any listed value may (OR). An empty field matches every client.
struct RuleMatch {
  std::vector<MacPattern> mac;
  // The client's subnet: the relay's giaddr, the address of a 4011 request,
  // or the address the LAN's DHCP server offered the client (when seen). A
  // client whose subnet is unknown matches no subnet rule.
  std::vector<Ipv4Prefix> subnet;
  uint32_t arch_mask = 0;  // bit (1 << ArchClass); 0 = any architecture
  std::vector<BytePattern> vendor_class;      // option 60
  std::vector<BytePattern> user_class;        // option 77 (e.g. "iPXE")
  std::vector<std::array<uint8_t, 16>> uuid;  // option 97, without type 0
  std::vector<std::string> interface;         // receiving interface name
  // 802.1Q VLAN id of the request; kUntagged matches untagged frames.
  std::vector<uint16_t> vlan;
  std::vector<BytePattern> circuit_id;  // option 82.1 (a switch port)
  std::vector<BytePattern> remote_id;   // option 82.2 (the relay agent)

  static constexpr uint16_t kUntagged = 0xFFFF;
  bool empty() const {
    return mac.empty() && subnet.empty() && arch_mask == 0 &&
           vendor_class.empty() && user_class.empty() && uuid.empty() &&
           interface.empty() && vlan.empty() && circuit_id.empty() &&
           remote_id.empty();
  }
};

// One DHCP option written verbatim into replies (after option 43). Codes
// that assign an address or a lease, or that pxe-pdhcp writes itself, are
// refused at load time (ValidateBootPolicy()).
struct ExtraOption {
  uint8_t code = 0;
  std::vector<uint8_t> value;  // at most 255 bytes
  bool operator==(const ExtraOption&) const = default;
};

// A PXE boot menu (PXE 2.1 option 43 sub-options 6, 8, 9, 10): the firmware
// shows `prompt` for `timeout_s` seconds, then boots the first item; the
// user may pick another. The client then asks for the chosen item's file
// with a REQUEST carrying 43.71 (the item's type).
struct MenuItem {
  std::string label;  // at most 255 bytes (the whole sub-option 9 too)
  // PXE boot server type (43.71); 0 = boot from the local disk, which the
  // firmware does itself. Items of one menu have distinct types.
  uint16_t type = 0;
  std::string file;  // the item's NBP (TFTP path); empty for local boot
};

struct Menu {
  std::string name;
  std::string prompt = "Press F8 for the boot menu";
  // Seconds the prompt waits (PXE 2.1): 0 boots the first item at once; 255
  // waits for a key.
  uint8_t timeout_s = 10;
  std::vector<MenuItem> items;
};

// What a client is told. In a rule, an empty or unset field inherits the
// defaults' value (BootPolicy::defaults): a rule names only what differs.
// Lookup order for a PXE client: files[arch], then file (the rule's, then
// the defaults'); for HTTP boot: http_urls[arch], then http_url.
struct BootAnswer {
  std::string file;  // TFTP path of the NBP ("<nbp name>")
  std::array<std::string, kArchClassCount> files;
  std::string http_url;  // HTTP-boot URL; none at all: HTTP clients ignored
  std::array<std::string, kArchClassCount> http_urls;
  // What iPXE clients get instead of the NBP (a URL or a TFTP path):
  // breaks the iPXE -> NBP -> iPXE chainload loop.
  std::string ipxe_script;
  uint32_t tftp_server = 0;  // siaddr and sname; 0 = the answering address
  // DHCPv6 clients (RFC 5970): the URL for HTTP boot over IPv6, whose host
  // is an IPv6 literal ("http://[2001:db8::5]/x.efi") or a name; none: an
  // HTTP URL whose host is no IPv4 literal serves both families.
  std::string http_url6;
  std::array<std::string, kArchClassCount> http_urls6;
  // The TFTP server in a PXEv6 client's boot file URL; all zeros = the
  // answering address.
  Ipv6Address tftp_server6{};
  // Answer this late (dnsmasq's --dhcp-reply-delay), for firmware that
  // drops an instant reply. Timed by the responder, never by sleeping.
  std::optional<uint32_t> reply_delay_ms;
  std::string menu;                  // a Menu's name; empty: no menu
  std::vector<ExtraOption> options;  // by code; a rule's replace the same code
  // The Raspberry Pi bootloader profile: option 43 with the "Raspberry Pi
  // Boot" menu entry and option 66 = the TFTP server, as the Pi expects.
  bool raspberry_pi = false;
};

// Where a rule was written, for messages ("FILE:LINE:COL").
struct SourceLocation {
  uint32_t line = 0;  // 0 = not from a file (the command line)
  uint32_t column = 0;
};

enum class RuleAction : uint8_t {
  kAnswer,  // answer with the rule's BootAnswer
  kIgnore,  // never answered; counted
};

struct Rule {
  std::string name;  // unique within a policy
  RuleMatch match;
  RuleAction action = RuleAction::kAnswer;
  BootAnswer answer;
  // log = true: every decision this rule makes is logged (one line each),
  // also when the daemon logs at the normal level.
  bool log = false;
  SourceLocation where;
};

struct BootPolicy {
  // [server]: where replies come from and go.
  // Address we answer from when nothing better fits the client; 0 = the
  // interface's primary address.
  uint32_t listen_address = 0;
  // Destination of broadcast offers (RFC 2131 §4.1: 255.255.255.255).
  uint32_t offer_broadcast = 0xFFFFFFFF;
  UefiOfferStyle uefi_offer_style = UefiOfferStyle::kBinl;
  // Per-relay server address, for relays whose subnet we have no address in.
  std::vector<RelayServerAddress> relay_servers;
  // The relay agents (giaddr) whose requests are answered; empty: any
  // unicast address of another host.
  std::vector<uint32_t> relays;
  // The DHCP servers whose offers show a client's subnet (by IP source);
  // empty: any server on the receiving interface's subnets.
  std::vector<uint32_t> dhcp_servers;

  // [boot]: what a client gets when no rule says otherwise.
  BootAnswer defaults;
  std::vector<Menu> menus;  // [menu.NAME]
  std::vector<Rule> rules;  // [[rule]], tried in this order; first match wins
};

// Whether `url`'s host is an IPv6 literal ("http://[2001:db8::5]/x.efi",
// RFC 3986 §3.2.2): a URL for HTTP boot over IPv6 only.
inline bool UrlHasIpv6Host(std::string_view url) {
  const size_t scheme = url.find("://");
  return scheme != std::string_view::npos && url.size() > scheme + 3 &&
         url[scheme + 3] == '[';
}

// Longest NBP path: the 128-byte BOOTP file field holds 127 + NUL.
inline constexpr size_t kMaxBootFileLength = 127;
// Longest URL: the file field, or option 67 alone (255) when it is longer.
inline constexpr size_t kMaxUrlLength = 255;

}  // namespace pxe

#endif  // PXE_ENGINE_BOOT_POLICY_H_
