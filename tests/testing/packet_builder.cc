#include "tests/testing/packet_builder.h"

#include <algorithm>

namespace pxe::testing {
namespace {

constexpr size_t kBootpFixedSize = 236;
constexpr Mac kProxyMac = {0x1a, 0x5a, 0x70, 0x09, 0x3c, 0xc1};

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v));
}

void PutBytes(std::vector<uint8_t>& out, const uint8_t* data, size_t size) {
  out.insert(out.end(), data, data + size);
}

// Copies `bytes` into a zero-filled field of `size` bytes (truncating).
void PutField(std::vector<uint8_t>& out, const std::vector<uint8_t>& bytes,
              size_t size) {
  size_t n = std::min(bytes.size(), size);
  PutBytes(out, bytes.data(), n);
  out.resize(out.size() + (size - n), 0);
}

// RFC 1071 one's-complement sum of big-endian 16-bit words (odd byte padded
// with zero), not folded or inverted; `sum` carries a previous partial sum.
uint32_t SumWords(const uint8_t* data, size_t size, uint32_t sum) {
  for (size_t i = 0; i + 1 < size; i += 2) {
    sum += (uint32_t{data[i]} << 8) | data[i + 1];
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  if (size % 2 == 1) {
    sum += uint32_t{data[size - 1]} << 8;
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return sum;
}

uint16_t FinishChecksum(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint16_t ClampU16(size_t v) {
  return static_cast<uint16_t>(std::min<size_t>(v, 0xFFFF));
}

std::vector<uint8_t> BuildBootp(const FrameSpec& spec) {
  std::vector<uint8_t> out;
  out.reserve(std::max(spec.pad_bootp_to, size_t{576}));
  out.push_back(spec.op);
  out.push_back(spec.htype);
  out.push_back(spec.hlen);
  out.push_back(spec.hops);
  Put32(out, spec.xid);
  Put16(out, spec.secs);
  Put16(out, spec.flags);
  Put32(out, spec.ciaddr);
  Put32(out, spec.yiaddr);
  Put32(out, spec.siaddr);
  Put32(out, spec.giaddr);
  PutField(out, std::vector<uint8_t>(spec.chaddr.begin(), spec.chaddr.end()),
           16);
  PutField(out, spec.sname, 64);
  PutField(out, spec.file, 128);
  if (!spec.include_cookie) return out;  // exactly kBootpFixedSize bytes
  PutBytes(out, spec.cookie.data(), spec.cookie.size());
  std::vector<uint8_t> options = EncodeOptions(spec.options, spec.end_option);
  PutBytes(out, options.data(), options.size());
  PutBytes(out, spec.raw_options_tail.data(), spec.raw_options_tail.size());
  if (out.size() < spec.pad_bootp_to) out.resize(spec.pad_bootp_to, 0);
  return out;
}

// The UDP datagram (header + BOOTP payload) with its checksum filled in.
std::vector<uint8_t> BuildUdp(const FrameSpec& spec) {
  std::vector<uint8_t> bootp = BuildBootp(spec);
  uint16_t length = spec.udp_length.value_or(ClampU16(8 + bootp.size()));
  std::vector<uint8_t> out;
  out.reserve(8 + bootp.size());
  Put16(out, spec.src_port);
  Put16(out, spec.dst_port);
  Put16(out, length);
  Put16(out, 0);  // checksum, filled below
  PutBytes(out, bootp.data(), bootp.size());

  uint16_t checksum = 0;
  if (spec.udp_checksum != FrameSpec::UdpChecksum::kZero) {
    std::vector<uint8_t> pseudo;
    Put32(pseudo, spec.ip_src);
    Put32(pseudo, spec.ip_dst);
    pseudo.push_back(0);
    pseudo.push_back(17);
    Put16(pseudo, length);
    uint32_t sum = SumWords(pseudo.data(), pseudo.size(), 0);
    // Cover the bytes the length field claims (as a receiver would), but
    // never more than exist.
    size_t covered = std::min<size_t>(length, out.size());
    checksum = FinishChecksum(SumWords(out.data(), covered, sum));
    if (checksum == 0) checksum = 0xFFFF;
    if (spec.udp_checksum == FrameSpec::UdpChecksum::kWrong) {
      checksum = static_cast<uint16_t>(checksum + 1);
      if (checksum == 0) checksum = 1;
    }
  }
  out[6] = static_cast<uint8_t>(checksum >> 8);
  out[7] = static_cast<uint8_t>(checksum);
  return out;
}

}  // namespace

DhcpOption Opt(uint8_t code, std::string_view text) {
  return DhcpOption{code, std::vector<uint8_t>(text.begin(), text.end())};
}

DhcpOption Opt(uint8_t code, std::initializer_list<uint8_t> bytes) {
  return DhcpOption{code, std::vector<uint8_t>(bytes)};
}

DhcpOption MessageTypeOpt(uint8_t type) { return Opt(53, {type}); }

DhcpOption ArchOpt(std::initializer_list<uint16_t> codes) {
  DhcpOption option{93, {}};
  for (uint16_t code : codes) Put16(option.value, code);
  return option;
}

DhcpOption UuidOpt(uint8_t first_byte) {
  DhcpOption option{97, {0}};
  for (int i = 0; i < 16; ++i) {
    option.value.push_back(static_cast<uint8_t>(first_byte + i));
  }
  return option;
}

std::vector<uint8_t> EncodeOptions(const std::vector<DhcpOption>& options,
                                   bool end_option) {
  std::vector<uint8_t> out;
  for (const DhcpOption& option : options) {
    size_t len = std::min<size_t>(option.value.size(), 255);
    out.push_back(option.code);
    out.push_back(static_cast<uint8_t>(len));
    PutBytes(out, option.value.data(), len);
  }
  if (end_option) out.push_back(255);
  return out;
}

std::vector<uint8_t> BuildFrame(const FrameSpec& spec) {
  std::vector<uint8_t> udp = BuildUdp(spec);

  uint8_t ihl = std::min<uint8_t>(spec.ihl, 15);
  size_t header_size = std::max<size_t>(ihl, 5) * 4;
  std::vector<uint8_t> ip;
  ip.reserve(header_size + udp.size());
  ip.push_back(static_cast<uint8_t>(0x40 | ihl));
  ip.push_back(spec.tos);
  Put16(ip, spec.ip_total_length.value_or(ClampU16(header_size + udp.size())));
  Put16(ip, spec.ip_id);
  Put16(ip, spec.frag);
  ip.push_back(spec.ttl);
  ip.push_back(spec.protocol);
  Put16(ip, 0);  // checksum, filled below
  Put32(ip, spec.ip_src);
  Put32(ip, spec.ip_dst);
  if (header_size > 20) {
    ip.resize(header_size - 1, 1);  // NOP options
    ip.push_back(0);                // EOL
  }
  uint16_t checksum = spec.ip_checksum.value_or(
      FinishChecksum(SumWords(ip.data(), ip.size(), 0)));
  ip[10] = static_cast<uint8_t>(checksum >> 8);
  ip[11] = static_cast<uint8_t>(checksum);
  PutBytes(ip, udp.data(), udp.size());

  std::vector<uint8_t> frame;
  frame.reserve(18 + ip.size() + spec.ethernet_trailer);
  PutBytes(frame, spec.eth_dst.data(), spec.eth_dst.size());
  PutBytes(frame, spec.eth_src.data(), spec.eth_src.size());
  if (spec.vlan_tci.has_value()) {
    Put16(frame, 0x8100);
    Put16(frame, *spec.vlan_tci);
  }
  Put16(frame, spec.ethertype);
  PutBytes(frame, ip.data(), ip.size());
  frame.resize(frame.size() + spec.ethernet_trailer, 0);
  return frame;
}

// --- Ready-made specs. Option values are copied from tests/data captures. ---

namespace {

// iPXE 1.x (QEMU BIOS ROM) parameter request list, option 55.
DhcpOption IpxeParamRequest() {
  return Opt(55, {1,   3,   6,   7,   12,  15,  17,  26,  43,  60,  66, 67,
                  119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203});
}

// iPXE feature list, option 175 (encapsulated).
DhcpOption IpxeFeatures() {
  return Opt(175, {0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e, 0xeb, 0x03, 0x01,
                   0x00, 0x00, 0x17, 0x01, 0x01, 0x22, 0x01, 0x01, 0x13, 0x01,
                   0x01, 0x11, 0x01, 0x01, 0x27, 0x01, 0x01, 0x19, 0x01, 0x01,
                   0x29, 0x01, 0x01, 0x10, 0x01, 0x02, 0x21, 0x01, 0x01, 0x15,
                   0x01, 0x01, 0x18, 0x01, 0x01, 0x12, 0x01, 0x01});
}

// Option 61: hardware type 1 + MAC.
DhcpOption ClientIdOpt(const Mac& mac) {
  DhcpOption option{61, {1}};
  PutBytes(option.value, mac.data(), mac.size());
  return option;
}

// OVMF parameter request list, option 55.
DhcpOption OvmfParamRequest() {
  return Opt(55, {1,  2,  3,  4,   5,   6,   12,  13,  15,  17,  18, 22,
                  23, 28, 40, 41,  42,  43,  50,  51,  54,  58,  59, 60,
                  66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135});
}

// What OVMF sends as option 97: type 0 + 16 zero bytes.
DhcpOption OvmfUuid() { return DhcpOption{97, std::vector<uint8_t>(17, 0)}; }

constexpr uint16_t kMaxMessageSize = 1472;

DhcpOption MaxMessageSizeOpt() {
  return Opt(57, {kMaxMessageSize >> 8, kMaxMessageSize & 0xFF});
}

}  // namespace

FrameSpec BiosIpxeDiscover() {
  FrameSpec spec;
  spec.options = {MessageTypeOpt(1),
                  MaxMessageSizeOpt(),
                  ArchOpt({0}),
                  Opt(94, {1, 2, 1}),
                  Opt(60, "PXEClient:Arch:00000:UNDI:002001"),
                  Opt(77, "iPXE"),
                  IpxeParamRequest(),
                  IpxeFeatures(),
                  ClientIdOpt(spec.chaddr),
                  UuidOpt()};
  return spec;
}

FrameSpec UefiOvmfDiscover() {
  FrameSpec spec;
  spec.flags = 0x8000;
  spec.options = {MessageTypeOpt(1),
                  MaxMessageSizeOpt(),
                  OvmfParamRequest(),
                  OvmfUuid(),
                  Opt(94, {1, 3, 0}),
                  ArchOpt({7}),
                  Opt(60, "PXEClient:Arch:00007:UNDI:003000")};
  return spec;
}

FrameSpec UefiOvmfRequest4011(uint32_t client_ip, uint32_t proxy_ip) {
  FrameSpec spec;
  spec.eth_dst = kProxyMac;
  spec.frag = 0x4000;  // DF
  spec.ip_src = client_ip;
  spec.ip_dst = proxy_ip;
  spec.src_port = 4011;
  spec.dst_port = 4011;
  spec.ciaddr = client_ip;
  spec.options = {
      MessageTypeOpt(3),   OvmfParamRequest(),
      MaxMessageSizeOpt(), Opt(60, "PXEClient:Arch:00007:UNDI:003000"),
      ArchOpt({7}),        Opt(94, {1, 3, 0}),
      OvmfUuid()};
  return spec;
}

FrameSpec BiosIpxeRequest4011(uint32_t client_ip, uint32_t proxy_ip) {
  FrameSpec spec;
  spec.eth_dst = kProxyMac;
  spec.ip_src = client_ip;
  spec.ip_dst = proxy_ip;
  spec.dst_port = 4011;
  spec.xid = 0;
  spec.flags = 0x8000;
  spec.ciaddr = client_ip;
  spec.options = {MessageTypeOpt(3),
                  MaxMessageSizeOpt(),
                  ArchOpt({0}),
                  Opt(94, {1, 2, 1}),
                  Opt(60, "PXEClient"),
                  Opt(77, "iPXE"),
                  IpxeParamRequest(),
                  IpxeFeatures(),
                  ClientIdOpt(spec.chaddr),
                  UuidOpt(),
                  Opt(43, {71, 4, 0x80, 0x00, 0x00, 0x00, 255})};
  return spec;
}

FrameSpec PlainDhcpDiscover() {
  FrameSpec spec;
  spec.eth_src = {0x52, 0x54, 0x00, 0x77, 0x00, 0x20};
  spec.chaddr = spec.eth_src;
  spec.options = {MessageTypeOpt(1), ClientIdOpt(spec.chaddr),
                  Opt(55, {1, 3, 6, 15, 28, 51, 58, 59, 119})};
  return spec;
}

FrameSpec ServerOffer(uint32_t server_ip, uint32_t yiaddr) {
  FrameSpec spec;
  spec.eth_src = {0xce, 0x2a, 0x37, 0x47, 0xdb, 0xc8};
  spec.tos = 0xc0;
  spec.ip_src = server_ip;
  spec.src_port = 67;
  spec.dst_port = 68;
  spec.op = 2;
  spec.flags = 0x8000;
  spec.yiaddr = yiaddr;
  spec.siaddr = server_ip;
  DhcpOption server_id{54, {}};
  Put32(server_id.value, server_ip);
  DhcpOption router{3, {}};
  Put32(router.value, server_ip);
  spec.options = {MessageTypeOpt(2), server_id, Opt(51, {0, 0, 0x0e, 0x10}),
                  Opt(1, {255, 255, 255, 0}), router};
  return spec;
}

void SetOption(FrameSpec& spec, DhcpOption option) {
  for (DhcpOption& o : spec.options) {
    if (o.code == option.code) {
      o = std::move(option);
      return;
    }
  }
  spec.options.push_back(std::move(option));
}

void RemoveOption(FrameSpec& spec, uint8_t code) {
  std::erase_if(spec.options,
                [code](const DhcpOption& o) { return o.code == code; });
}

}  // namespace pxe::testing
