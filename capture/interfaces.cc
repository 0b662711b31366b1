#include "capture/interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "capture/unique_fd.h"

namespace pxe {
namespace {

uint8_t PrefixLength(uint32_t mask) {
  return static_cast<uint8_t>(__builtin_popcount(mask));
}

// All interfaces by name, filled from one getifaddrs() walk.
std::map<std::string, InterfaceInfo> Snapshot() {
  std::map<std::string, InterfaceInfo> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> guard(list, freeifaddrs);
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    InterfaceInfo& info = out[a->ifa_name];
    info.name = a->ifa_name;
    info.up =
        (a->ifa_flags & IFF_UP) != 0 && (a->ifa_flags & IFF_LOOPBACK) == 0;
    if (a->ifa_addr == nullptr) continue;
    if (a->ifa_addr->sa_family == AF_PACKET) {
      const auto* ll = reinterpret_cast<const sockaddr_ll*>(a->ifa_addr);
      info.ifindex = ll->sll_ifindex;
      if (ll->sll_halen == 6) info.mac = LoadMac(ll->sll_addr);
    } else if (a->ifa_addr->sa_family == AF_INET && a->ifa_netmask) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      const auto* mask = reinterpret_cast<const sockaddr_in*>(a->ifa_netmask);
      info.addresses.push_back(
          {.address = ntohl(in->sin_addr.s_addr),
           .prefix_length = PrefixLength(ntohl(mask->sin_addr.s_addr))});
    }
  }
  return out;
}

int ReadMtu(const std::string& name) {
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (fd.valid() && ioctl(fd.get(), SIOCGIFMTU, &req) == 0) return req.ifr_mtu;
  return 1500;
}

}  // namespace

absl::StatusOr<InterfaceInfo> LookupInterface(const std::string& name) {
  std::map<std::string, InterfaceInfo> all = Snapshot();
  auto it = all.find(name);
  if (it == all.end() || it->second.ifindex == 0) {
    return absl::NotFoundError(absl::StrCat("no such interface: ", name));
  }
  InterfaceInfo info = it->second;
  if (info.addresses.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "interface ", name, " has no IPv4 address to answer from"));
  }
  if (info.mac == MacAddress{}) {
    return absl::FailedPreconditionError(
        absl::StrCat("interface ", name, " is not an Ethernet interface"));
  }
  info.mtu = ReadMtu(name);
  return info;
}

std::vector<InterfaceInfo> ListUsableInterfaces() {
  std::vector<InterfaceInfo> out;
  for (auto& [name, info] : Snapshot()) {
    if (info.up && !info.addresses.empty() && info.ifindex != 0 &&
        info.mac != MacAddress{}) {
      info.mtu = ReadMtu(name);
      out.push_back(info);
    }
  }
  return out;
}

}  // namespace pxe
