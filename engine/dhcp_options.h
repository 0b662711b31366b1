// A one-pass, allocation-free index of the DHCP options in a message.
//
// Handles PAD and END, options repeated per RFC 3396 (their values are
// concatenated on demand into a caller's buffer), option 52 overload (RFC 2132
// §9.3: more options in `file`, then `sname`), and a truncated last option or
// a missing END: parsing stops at the end of each area and never reads past
// it. A truncated option is ignored and noted in truncated().
#ifndef PXE_ENGINE_DHCP_OPTIONS_H_
#define PXE_ENGINE_DHCP_OPTIONS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/bootp.h"
#include "engine/drop_reason.h"

namespace pxe {

namespace dhcp {
// Option codes used here (RFC 2132, RFC 4578, RFC 3046, PXE 2.1).
inline constexpr uint8_t kPad = 0;
inline constexpr uint8_t kVendorSpecific = 43;
inline constexpr uint8_t kOverload = 52;
inline constexpr uint8_t kMessageType = 53;
inline constexpr uint8_t kRequestedAddress = 50;
inline constexpr uint8_t kServerId = 54;
inline constexpr uint8_t kVendorClass = 60;
inline constexpr uint8_t kTftpServerName = 66;
inline constexpr uint8_t kBootFileName = 67;
inline constexpr uint8_t kUserClass = 77;
inline constexpr uint8_t kRelayAgentInfo = 82;
inline constexpr uint8_t kClientArch = 93;
inline constexpr uint8_t kClientNdi = 94;
inline constexpr uint8_t kClientUuid = 97;
inline constexpr uint8_t kIpxeEncap = 175;
inline constexpr uint8_t kEnd = 255;

// PXE vendor sub-options inside option 43 (PXE 2.1 §2.4).
inline constexpr uint8_t kPxeDiscoveryControl = 6;
inline constexpr uint8_t kPxeBootServers = 8;
inline constexpr uint8_t kPxeBootMenu = 9;
inline constexpr uint8_t kPxeMenuPrompt = 10;
inline constexpr uint8_t kPxeBootItem = 71;

enum class MessageType : uint8_t {
  kNone = 0,
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};
}  // namespace dhcp

class OptionIndex {
 public:
  // Enough for any real client (they send 10 to 20); a message with more
  // occurrences than this is dropped as kTooManyOptions.
  static constexpr size_t kMaxOccurrences = 128;

  // Indexes the options of `message`. Returns kNone or kTooManyOptions. The
  // index points into the message's bytes.
  DropReason Parse(const BootpView& message);

  bool Has(uint8_t code) const { return head_[code] != 0; }

  // The first occurrence's value (empty if absent): how the one-byte and
  // four-byte options (52, 53, 54) are read. Anything that may be split
  // (RFC 3396 allows it for every option) is read with Get().
  std::span<const uint8_t> First(uint8_t code) const;

  // The whole value: the single occurrence as is, or the concatenation of all
  // occurrences (RFC 3396) written into `scratch`. Returns an empty span if
  // the option is absent or its concatenation does not fit `scratch`.
  std::span<const uint8_t> Get(uint8_t code, std::span<uint8_t> scratch) const;

  // Sum of the lengths of all occurrences of `code`.
  size_t TotalLength(uint8_t code) const;

  // True if an area ended inside an option (its bytes were ignored).
  bool truncated() const { return truncated_; }
  // True if options were found in `file` / `sname` through option 52.
  bool overloaded_file() const { return overloaded_file_; }
  bool overloaded_sname() const { return overloaded_sname_; }

 private:
  struct Occurrence {
    const uint8_t* data;
    uint8_t length;
    uint8_t next;  // 1-based index into occurrences_, 0 = last
  };

  // Indexes one area. Returns false when the table is full.
  bool ParseArea(std::span<const uint8_t> area, bool allow_overload);

  std::array<uint8_t, 256> head_;  // 1-based index into occurrences_; 0 = none
  std::array<uint8_t, 256> tail_;  // valid only where head_ != 0
  std::array<Occurrence, kMaxOccurrences> occurrences_;
  size_t count_ = 0;
  bool truncated_ = false;
  bool overloaded_file_ = false;
  bool overloaded_sname_ = false;
};

}  // namespace pxe

#endif  // PXE_ENGINE_DHCP_OPTIONS_H_
