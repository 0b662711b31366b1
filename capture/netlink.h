// What the kernel says about links and IPv4 addresses, through rtnetlink
// (libmnl): a dump when asked, and a monitor socket that hears every change
// after that (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR). Neither needs a
// capability. The parsing is pure, so tests feed it messages they build.
#ifndef PXE_CAPTURE_NETLINK_H_
#define PXE_CAPTURE_NETLINK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "capture/interfaces.h"

struct mnl_socket;

namespace pxe {

// One link or address message.
struct NetlinkEvent {
  enum class Kind : uint8_t {
    kLink,            // RTM_NEWLINK: a link appeared or changed
    kLinkRemoved,     // RTM_DELLINK: it is gone (deleted, or moved away)
    kAddress,         // RTM_NEWADDR: an address added or changed
    kAddressRemoved,  // RTM_DELADDR
  };
  Kind kind = Kind::kLink;
  // Link messages: everything but the addresses (and link_name, which the
  // table fills in). kLinkRemoved: ifindex and name.
  InterfaceInfo link;
  // kLink: the parent (IFLA_LINK) is in another network namespace
  // (IFLA_LINK_NETNSID), so its index means nothing here.
  bool link_elsewhere = false;
  // Address messages.
  int ifindex = 0;
  InterfaceAddress address;
  bool secondary = false;  // IFA_F_SECONDARY: another address's subnet
  bool ipv6 = false;       // an IPv6 address: in address6, not address
  Ipv6InterfaceAddress address6;
};

// Parses a buffer of netlink messages (what one recv returned). Link
// messages of a family other than AF_UNSPEC (a bridge's AF_BRIDGE port
// messages, which say nothing about the device itself), addresses that are
// neither IPv4 nor IPv6, truncated messages and other types are skipped. `done`
// (if given) is set when an NLMSG_DONE ends a dump, `interrupted` when a dump
// message carries NLM_F_DUMP_INTR (the kernel's tables changed during it).
// Errors: an NLMSG_ERROR from the kernel, as its errno.
absl::Status ParseNetlinkMessages(std::span<const uint8_t> buffer,
                                  std::vector<NetlinkEvent>* events,
                                  bool* done = nullptr,
                                  bool* interrupted = nullptr);

// The links of a network namespace and their IPv4 and IPv6 addresses, kept
// as the
// kernel orders them (primaries in the order they were added, then
// secondaries) by applying events in the order they came.
class LinkTable {
 public:
  void Apply(const NetlinkEvent& event);

  // The interface named `name` (link_name filled in), if there is one.
  std::optional<InterfaceInfo> Find(std::string_view name) const;
  // Every interface, by name.
  std::vector<InterfaceInfo> All() const;
  size_t size() const { return links_.size(); }

 private:
  struct Entry {
    InterfaceInfo info;
    std::vector<bool> secondary;  // per address
    bool named = false;           // a link message came, not only addresses
    bool link_elsewhere = false;
  };
  InterfaceInfo Complete(const Entry& entry) const;

  std::map<int, Entry> links_;  // by ifindex
};

struct MnlSocketCloser {
  void operator()(mnl_socket* socket) const;
};

// An rtnetlink socket: for dumps, or (Monitor) subscribed to link and IPv4
// address changes.
class NetlinkSocket {
 public:
  // A socket for requests (Dump()).
  static absl::StatusOr<NetlinkSocket> Open();
  // A non-blocking socket that hears every link and IPv4 address change in
  // this network namespace (ReadEvents()).
  static absl::StatusOr<NetlinkSocket> Monitor();

  // Every link and IPv4 address, fresh. A dump the kernel marks interrupted
  // is taken again.
  absl::StatusOr<LinkTable> Dump();
  // The events waiting on a Monitor() socket, without blocking, appended to
  // `events`. ResourceExhausted (ENOBUFS): the kernel dropped events because
  // the socket's buffer was full; what was read is valid, but only a fresh
  // Dump() is complete.
  absl::Status ReadEvents(std::vector<NetlinkEvent>* events);

  int fd() const;

 private:
  explicit NetlinkSocket(mnl_socket* socket);
  absl::Status DumpInto(uint16_t type, LinkTable* table, bool* interrupted);

  std::unique_ptr<mnl_socket, MnlSocketCloser> socket_;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buffer_;
};

// One dump on a socket of its own.
absl::StatusOr<LinkTable> DumpLinks();

// The checks LookupInterface() makes, on `table`.
absl::StatusOr<InterfaceInfo> LookupInterface(const LinkTable& table,
                                              std::string_view name);

}  // namespace pxe

#endif  // PXE_CAPTURE_NETLINK_H_
