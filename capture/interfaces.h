// Interface and address discovery at start-up (getifaddrs + ioctl).
#ifndef PXE_CAPTURE_INTERFACES_H_
#define PXE_CAPTURE_INTERFACES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/byte_order.h"
#include "engine/policy.h"

namespace pxe {

struct InterfaceInfo {
  std::string name;
  int ifindex = 0;
  MacAddress mac{};
  int mtu = 1500;
  bool up = false;
  // IPv4 addresses in the kernel's order; the first is the primary.
  std::vector<InterfaceAddress> addresses;
};

// Looks up one interface. Errors: NotFound (no such interface),
// FailedPrecondition (no IPv4 address, or not Ethernet).
absl::StatusOr<InterfaceInfo> LookupInterface(const std::string& name);

// Every interface that is up, not loopback, and has an IPv4 address.
std::vector<InterfaceInfo> ListUsableInterfaces();

}  // namespace pxe

#endif  // PXE_CAPTURE_INTERFACES_H_
