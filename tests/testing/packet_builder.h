// Test-only builder for DHCP/BOOTP Ethernet frames. A FrameSpec holds every
// field with a sensible default; tests change the fields they care about
// (including deliberately broken lengths, checksums and options) and call
// BuildFrame(). Depends only on the C++ standard library.
#ifndef PXE_TESTS_TESTING_PACKET_BUILDER_H_
#define PXE_TESTS_TESTING_PACKET_BUILDER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

namespace pxe::testing {

using Mac = std::array<uint8_t, 6>;

// The n-th of 2^32 distinct locally made-up client MACs, 52:54:n (n big
// endian), for tests that need many clients.
constexpr Mac NthMac(uint32_t n) {
  return {0x52,
          0x54,
          static_cast<uint8_t>(n >> 24),
          static_cast<uint8_t>(n >> 16),
          static_cast<uint8_t>(n >> 8),
          static_cast<uint8_t>(n)};
}

// IPv4 addresses are uint32_t in host byte order everywhere:
// Ip(10, 77, 0, 1) == 0x0A4D0001.
constexpr uint32_t Ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) |
         uint32_t{d};
}

// One DHCP option, emitted as code, len, value in the order given. The
// builder never reorders or merges options and gives codes 0 and 255 no
// special meaning. A value longer than 255 bytes is truncated to 255.
struct DhcpOption {
  uint8_t code;
  std::vector<uint8_t> value;
};

// Option whose value is the bytes of `text` (no terminating NUL).
DhcpOption Opt(uint8_t code, std::string_view text);
// Option whose value is `bytes`.
DhcpOption Opt(uint8_t code, std::initializer_list<uint8_t> bytes);
// Option 53 (DHCP message type), e.g. 1 = DISCOVER, 3 = REQUEST.
DhcpOption MessageTypeOpt(uint8_t type);
// Option 93 (client system architectures), each code big-endian 16-bit.
DhcpOption ArchOpt(std::initializer_list<uint16_t> codes);
// Option 97 (client UUID/GUID): 17 bytes, type 0 then 16 bytes first_byte,
// first_byte + 1, ... (wrapping at 256).
DhcpOption UuidOpt(uint8_t first_byte = 0x11);

// Every field of a UDP/IPv4 DHCP frame. Defaults describe a valid broadcast
// DHCP request from 52:54:00:77:00:10 with no options (add them).
struct FrameSpec {
  // --- Ethernet ---
  Mac eth_dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Mac eth_src = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
  std::optional<uint16_t> vlan_tci;  // set: insert an 802.1Q tag (TPID 0x8100)
  uint16_t ethertype = 0x0800;       // after the VLAN tag, if any

  // --- IPv4 ---
  uint8_t ihl = 5;  // header words; >5: options of NOP (1) bytes, last EOL (0).
                    // <5 is written as is (20 header bytes still emitted);
                    // >15 is clamped to 15.
  uint8_t tos = 0;
  uint16_t ip_id = 1;
  uint16_t frag = 0;  // flags + fragment offset as on the wire (0x2000 = MF,
                      // 0x4000 = DF)
  uint8_t ttl = 64;
  uint8_t protocol = 17;  // the UDP bytes follow whatever this says
  uint32_t ip_src = 0;
  uint32_t ip_dst = 0xFFFFFFFF;
  std::optional<uint16_t> ip_total_length;  // override; default = correct
                                            // (clamped to 65535)
  std::optional<uint16_t> ip_checksum;      // override; default = correct

  // --- UDP ---
  uint16_t src_port = 68;
  uint16_t dst_port = 67;
  // Override; default = correct (clamped to 65535). The checksum uses the
  // value written, in the pseudo header and as the number of bytes covered
  // (at most the bytes actually present).
  std::optional<uint16_t> udp_length;
  enum class UdpChecksum {
    kCorrect,  // RFC 768 over pseudo header + UDP bytes; 0 is sent as 0xFFFF
    kZero,     // 0: "no checksum"
    kWrong,    // correct value + 1 (never 0)
  };
  UdpChecksum udp_checksum = UdpChecksum::kCorrect;

  // --- BOOTP fixed header (RFC 2131), 236 bytes ---
  uint8_t op = 1;  // 1 = BOOTREQUEST, 2 = BOOTREPLY
  uint8_t htype = 1;
  uint8_t hlen = 6;
  uint8_t hops = 0;
  uint32_t xid = 0x12345678;
  uint16_t secs = 0;
  uint16_t flags = 0;  // 0x8000 = broadcast
  uint32_t ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;
  Mac chaddr = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};  // first 6 of 16 bytes
  std::vector<uint8_t> sname;  // raw bytes for the 64-byte sname field
                               // (zero-filled; longer is truncated to 64)
  std::vector<uint8_t> file;   // raw bytes for the 128-byte file field
                               // (zero-filled; longer is truncated to 128)

  // --- DHCP options area ---
  std::array<uint8_t, 4> cookie = {0x63, 0x82, 0x53, 0x63};
  bool include_cookie = true;  // false: the BOOTP payload is exactly the
                               // 236-byte fixed header (no cookie, options,
                               // END, tail or padding)
  std::vector<DhcpOption> options;        // emitted in order after the cookie
  bool end_option = true;                 // append END (255) after `options`
  std::vector<uint8_t> raw_options_tail;  // raw bytes after options (and
                                          // after END), e.g. a cut-off option
  size_t pad_bootp_to = 300;    // zero-pad the BOOTP payload (fixed header +
                                // cookie + options + tail) to at least this
  size_t ethernet_trailer = 0;  // zero bytes after the IP packet (Ethernet
                                // padding, not counted in IP/UDP lengths)
};

// Replaces the first option `option.code` in `spec` (or appends it).
void SetOption(FrameSpec& spec, DhcpOption option);
// Removes every option `code` from `spec`.
void RemoveOption(FrameSpec& spec, uint8_t code);

// Builds the whole Ethernet frame. Lengths and checksums are computed unless
// overridden; inconsistent overrides still produce bytes (never crashes).
std::vector<uint8_t> BuildFrame(const FrameSpec& spec);

// Encodes `options` as code, len, value..., plus END (255) if `end_option`.
// Useful to fill the file/sname fields for option 52 (overload) tests.
std::vector<uint8_t> EncodeOptions(const std::vector<DhcpOption>& options,
                                   bool end_option);

// --- Ready-made specs mirroring real firmware (tests/data captures) ---

// QEMU iPXE BIOS ROM DHCPDISCOVER: broadcast flag clear; options 53=1,
// 57=1472, 93={0}, 94={1,2,1}, 60 "PXEClient:Arch:00000:UNDI:002001",
// 77 "iPXE", 55, 175 (iPXE features), 61, 97 UuidOpt().
FrameSpec BiosIpxeDiscover();
// OVMF (UEFI x64) DHCPDISCOVER: flags 0x8000; options 53=1, 57=1472, 55,
// 97 (type 0 + 16 zero bytes), 94={1,3,0}, 93={7},
// 60 "PXEClient:Arch:00007:UNDI:003000".
FrameSpec UefiOvmfDiscover();
// OVMF REQUEST unicast client_ip:4011 -> proxy_ip:4011 (DF set) to the proxy
// MAC 1a:5a:70:09:3c:c1, ciaddr = client_ip; options 53=3, 55, 57, 60, 93={7},
// 94, 97 as in OVMF's discover.
FrameSpec UefiOvmfRequest4011(uint32_t client_ip, uint32_t proxy_ip);
// iPXE BIOS REQUEST client_ip:68 -> proxy_ip:4011 to the proxy MAC, xid 0,
// flags 0x8000, ciaddr = client_ip; options 53=3, 57, 93={0}, 94,
// 60 "PXEClient", 77 "iPXE", 55, 175, 61, 97, 43={71,4,0x80,0,0,0,255}.
FrameSpec BiosIpxeRequest4011(uint32_t client_ip, uint32_t proxy_ip);
// A plain non-PXE client DISCOVER from 52:54:00:77:00:20: options 53=1,
// 61 (type 1 + MAC), 55; no option 60.
FrameSpec PlainDhcpDiscover();
// A LAN DHCP server OFFER: op 2, server_ip:67 -> 255.255.255.255:68 from MAC
// ce:2a:37:47:db:c8, flags 0x8000, yiaddr, siaddr = server_ip; options 53=2,
// 54=server_ip, 51=3600, 1=255.255.255.0, 3=server_ip.
FrameSpec ServerOffer(uint32_t server_ip, uint32_t yiaddr);

}  // namespace pxe::testing

#endif  // PXE_TESTS_TESTING_PACKET_BUILDER_H_
