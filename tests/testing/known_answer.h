// What the known-answer tests share: frames written out by hand as
// byte lists, their IPv4 and UDP checksums computed here (RFC 1071, RFC 768)
// independently of engine/checksum.h, and a whole-frame comparison whose
// failure names each differing byte's layer and field.
#ifndef PXE_TESTS_TESTING_KNOWN_ANSWER_H_
#define PXE_TESTS_TESTING_KNOWN_ANSWER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace pxe::testing {

inline std::vector<uint8_t> Bytes(
    std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
inline std::vector<uint8_t> Zeros(size_t n) {
  return std::vector<uint8_t>(n, 0);
}
inline std::vector<uint8_t> Text(std::string_view s) {
  return {s.begin(), s.end()};
}
inline std::vector<uint8_t> Be16(size_t v) {
  return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// RFC 1071 over `bytes` (an odd last byte padded with zero), added to `sum`.
inline uint32_t OnesComplementSum(std::span<const uint8_t> bytes,
                                  uint32_t sum = 0) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    sum += uint32_t{bytes[i]} << 8;
    if (i + 1 < bytes.size()) sum += bytes[i + 1];
  }
  return sum;
}
inline uint16_t Fold(uint32_t sum) {
  while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xFFFF);
}

// Writes the IPv4 header checksum (RFC 791) and the UDP checksum (pseudo
// header, RFC 768; a computed 0 is sent as 0xFFFF) of an Ethernet frame
// whose IPv4 header (20 bytes, no options) starts at `ip`: 14, or 18 after
// an 802.1Q tag.
inline std::vector<uint8_t> WithChecksums(std::vector<uint8_t> frame,
                                          size_t ip = 14) {
  const size_t udp_at = ip + 20;
  frame[ip + 10] = 0;
  frame[ip + 11] = 0;
  const uint16_t ip_sum = Fold(OnesComplementSum({frame.data() + ip, 20}));
  frame[ip + 10] = static_cast<uint8_t>(ip_sum >> 8);
  frame[ip + 11] = static_cast<uint8_t>(ip_sum);
  const size_t udp_length = frame.size() - udp_at;
  frame[udp_at + 6] = 0;
  frame[udp_at + 7] = 0;
  uint32_t sum = OnesComplementSum({frame.data() + ip + 12, 8});  // addresses
  sum += 17 + static_cast<uint32_t>(udp_length);
  uint16_t udp =
      Fold(OnesComplementSum({frame.data() + udp_at, udp_length}, sum));
  if (udp == 0) udp = 0xFFFF;
  frame[udp_at + 6] = static_cast<uint8_t>(udp >> 8);
  frame[udp_at + 7] = static_cast<uint8_t>(udp);
  return frame;
}

// The layer and field of byte `offset` of a frame whose IPv4 header starts
// at `ip` (RFC 791, RFC 768, RFC 2131 §2 figure 1).
inline std::string FieldAt(size_t offset, size_t ip) {
  struct Field {
    size_t end;
    const char* name;
  };
  static constexpr Field kIp[] = {
      {1, "IPv4 version/IHL"}, {2, "IPv4 TOS"},       {4, "IPv4 length"},
      {6, "IPv4 id"},          {8, "IPv4 fragment"},  {9, "IPv4 TTL"},
      {10, "IPv4 protocol"},   {12, "IPv4 checksum"}, {16, "IPv4 source"},
      {20, "IPv4 destination"}};
  static constexpr Field kUdp[] = {{2, "UDP source port"},
                                   {4, "UDP destination port"},
                                   {6, "UDP length"},
                                   {8, "UDP checksum"}};
  static constexpr Field kBootp[] = {
      {1, "BOOTP op"},     {2, "BOOTP htype"}, {3, "BOOTP hlen"},
      {4, "BOOTP hops"},   {8, "BOOTP xid"},   {10, "BOOTP secs"},
      {12, "BOOTP flags"}, {16, "ciaddr"},     {20, "yiaddr"},
      {24, "siaddr"},      {28, "giaddr"},     {44, "chaddr"},
      {108, "sname"},      {236, "file"},      {240, "magic cookie"}};
  auto find = [](std::span<const Field> fields, size_t at) -> std::string {
    for (const Field& f : fields) {
      if (at < f.end) return f.name;
    }
    return "";
  };
  if (offset < ip) {
    if (offset < 6) return "Ethernet destination";
    if (offset < 12) return "Ethernet source";
    if (ip == 18 && offset < 16) return "802.1Q tag";
    return "EtherType";
  }
  size_t at = offset - ip;
  if (at < 20) return find(kIp, at);
  at -= 20;
  if (at < 8) return find(kUdp, at);
  at -= 8;
  if (at < 240) return find(kBootp, at);
  return "options byte " + std::to_string(at - 240);
}

// Whether `got` equals `want` byte for byte; if not, the message lists the
// sizes and every differing byte (at most 32) with its field. Use as
// EXPECT_TRUE(SameFrame(got, want)).
inline ::testing::AssertionResult SameFrame(std::span<const uint8_t> got,
                                            std::span<const uint8_t> want,
                                            size_t ip = 14) {
  std::string diff;
  size_t differences = 0;
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    const bool have_got = i < got.size();
    const bool have_want = i < want.size();
    if (have_got && have_want && got[i] == want[i]) continue;
    if (++differences > 32) continue;
    char got_text[8] = "--";
    char want_text[8] = "--";
    if (have_got) std::snprintf(got_text, sizeof(got_text), "%02x", got[i]);
    if (have_want) {
      std::snprintf(want_text, sizeof(want_text), "%02x", want[i]);
    }
    char line[96];
    std::snprintf(line, sizeof(line), "  byte %4zu  %-22s got %s want %s\n", i,
                  FieldAt(i, ip).c_str(), got_text, want_text);
    diff += line;
  }
  if (differences == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "frames differ: " << got.size() << " bytes, expected "
         << want.size() << "; " << differences << " differing bytes (hex):\n"
         << diff;
}

}  // namespace pxe::testing

#endif  // PXE_TESTS_TESTING_KNOWN_ANSWER_H_
