// Human-readable one-line summaries of requests and replies, for debug logs,
// the replay tool and pxe-probe. They allocate: never on the packet path
// unless debug logging is on.
#ifndef PXE_ENGINE_DESCRIBE_H_
#define PXE_ENGINE_DESCRIBE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/byte_order.h"
#include "engine/request.h"

namespace pxe {

std::string FormatIpv4(uint32_t ip);
// "DISCOVER", "OFFER", ... ("no-type" for none or an unknown one).
std::string_view MessageTypeName(dhcp::MessageType type);
// A field as printable text, up to its first NUL; '"', '\\' and bytes
// outside printable ASCII as \xNN.
std::string PrintableText(std::span<const uint8_t> bytes);
std::string FormatMac(const MacAddress& mac);

// "DISCOVER xid 0x1234 from 52:54:00:..:10 PXE arch 7 (uefi-x64) iPXE ..."
std::string DescribeRequest(const Request& request);

// The items of a PXE boot menu (option 43 sub-option 9) in the vendor
// options `vendor` (option 43's value), in order.
struct MenuItemText {
  std::string label;  // PrintableText
  uint16_t type = 0;
};
std::vector<MenuItemText> MenuItems(std::span<const uint8_t> vendor);

// Parses a reply frame we built (or any DHCP reply) and describes it:
// "OFFER 10.77.0.1:67 -> 255.255.255.255:68 xid .. siaddr .. file ..".
// Returns a description of the problem if the frame does not parse.
std::string DescribeReply(std::span<const uint8_t> frame);

}  // namespace pxe

#endif  // PXE_ENGINE_DESCRIBE_H_
