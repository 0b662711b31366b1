#include "capture/interfaces.h"

#include "capture/netlink.h"

namespace pxe {

absl::StatusOr<InterfaceInfo> LookupInterface(const std::string& name) {
  absl::StatusOr<LinkTable> table = DumpLinks();
  if (!table.ok()) return table.status();
  return LookupInterface(*table, name);
}

std::vector<InterfaceInfo> ListUsableInterfaces() {
  std::vector<InterfaceInfo> out;
  absl::StatusOr<LinkTable> table = DumpLinks();
  if (!table.ok()) return out;
  for (InterfaceInfo& info : table->All()) {
    if (info.up && !info.addresses.empty() && info.mac != MacAddress{}) {
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace pxe
