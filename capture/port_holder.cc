#include "capture/port_holder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "capture/bpf_filter.h"
#include "engine/status_macros.h"

namespace pxe {

absl::StatusOr<UniqueFd> HoldUdpPort(uint16_t port) {
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(
        absl::StrCat("socket(UDP): ", std::strerror(errno)));
  }
  PXE_RETURN_IF_ERROR(AttachFilter(fd.get(), DropAllProgram()));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // The smallest receive buffer: nothing passes the filter anyway.
  const int small = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{.sin_family = AF_INET, .sin_port = htons(port)};
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EADDRINUSE) {
      return absl::AlreadyExistsError(
          absl::StrCat("UDP port ", port, " is held by another program"));
    }
    return absl::InternalError(
        absl::StrCat("bind(UDP ", port, "): ", std::strerror(errno)));
  }
  return fd;
}

absl::StatusOr<UniqueFd> HoldUdpPort6(uint16_t port) {
  UniqueFd fd(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::UnavailableError(
        absl::StrCat("socket(UDP, IPv6): ", std::strerror(errno)));
  }
  PXE_RETURN_IF_ERROR(AttachFilter(fd.get(), DropAllProgram()));
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const int small = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in6 addr{.sin6_family = AF_INET6, .sin6_port = htons(port)};
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EADDRINUSE) {
      return absl::AlreadyExistsError(absl::StrCat(
          "UDP port ", port, " on IPv6 is held by another program"));
    }
    return absl::InternalError(
        absl::StrCat("bind(UDP [::]:", port, "): ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace pxe
