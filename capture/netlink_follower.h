// Keeps the served interfaces in step with the kernel while the daemon
// runs. Each configured interface is followed by NAME through rtnetlink
// (capture/netlink.h): an address added is answered from at once and one
// removed never again (the workers' ports and the rings' socket filters are
// updated); a link that goes down keeps its rings (frames just stop); an
// interface deleted has its rings closed in every worker; one created
// again, with a new index, gets new rings. An interface missing at start is
// waited for when asked. Changes go to the workers through their mailboxes
// (Worker::Post()); each is logged once.
//
// Every file descriptor it needs later is made in Start() (the netlink
// sockets, the workers' eventfds); after that it only opens AF_PACKET
// sockets (CAP_NET_RAW: socket, setsockopt, mmap, bind, getsockopt) and
// reads and writes its netlink sockets (recvmsg, sendto; no capability).
#ifndef PXE_CAPTURE_NETLINK_FOLLOWER_H_
#define PXE_CAPTURE_NETLINK_FOLLOWER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/bpf_filter.h"
#include "capture/interfaces.h"
#include "capture/netlink.h"
#include "capture/packet_ring.h"
#include "capture/worker.h"
#include "engine/responder.h"

namespace pxe {

struct FollowerOptions {
  // The interfaces to serve, by name; empty: the first (by name) that is up
  // with an IPv4 address, followed by its name from then on.
  std::vector<std::string> interfaces;
  // A configured interface that is missing, or has no IPv4 address, at
  // start is logged and waited for; false: that is an error.
  bool wait_for_interfaces = false;
  // -l: put first among its interface's addresses (the primary).
  uint32_t listen_address = 0;
  // VLANs served tagged on the interfaces (an empty interface name: the one
  // served), checked by CheckVlans().
  std::vector<VlanConfig> vlans;
  RingOptions ring;
  int workers = 1;
  // Log lines: what changed and what the daemon does about it; and what
  // went wrong.
  NoticeFn info;
  NoticeFn warning;
};

class InterfaceFollower {
 public:
  // Subscribes to link and address changes, reads every interface, checks
  // the configured ones and opens the rings of those that are there and up
  // (for each interface, one ring per worker in one fan-out group). Errors:
  // what the daemon cannot start with (a missing interface, or one without
  // an IPv4 address, unless waiting for them; a listen address on none of
  // them; a ring that does not open).
  static absl::StatusOr<std::unique_ptr<InterfaceFollower>> Start(
      FollowerOptions options);

  // Port i serves names()[i].
  const std::vector<std::string>& names() const { return names_; }
  // What worker `worker` starts with: the ports, its ring on each (null
  // where the interface is not open yet), and its wake-up eventfd.
  WorkerPorts TakeWorkerPorts(size_t worker);
  // The workers that get the changes; before they run.
  void Attach(std::vector<Worker*> workers) { workers_ = std::move(workers); }

  // Readable when the kernel has news: call Process() then.
  int fd() const { return monitor_.fd(); }
  // Reads the kernel's news and acts on it. Never blocks.
  void Process();

 private:
  // What the workers were last told about one served interface.
  struct Served {
    std::string name;
    int ifindex = 0;       // of the rings the workers hold; 0: none
    int gone_ifindex = 0;  // of the rings closed, until new ones open
    InterfaceInfo told;
    enum class Note {
      kNone,
      kMissing,
      kNotEthernet,
      kDown,
      kNoAddress,
      kOpenFailed
    };
    Note note = Note::kNone;  // the last "waiting" line logged
  };

  InterfaceFollower(FollowerOptions options, NetlinkSocket monitor,
                    NetlinkSocket requests)
      : options_(std::move(options)),
        monitor_(std::move(monitor)),
        requests_(std::move(requests)) {}

  // Brings port `port` in line with the table: tells the workers what
  // changed, or (at start) keeps the rings for TakeRings(). Errors only at
  // start; later, what fails is logged.
  absl::Status Reconcile(size_t port);
  // Says when the -l address leaves the served interfaces (the policy
  // still answers from it) and when it is back.
  void CheckListenAddress();
  bool ListenThere() const;
  // Reads the kernel's news into the table (a fresh dump when some were
  // lost), and notes that there was some.
  void ReadPending();
  // Opens a ring on `info` in fan-out group `*group` (-1: a new one, whose
  // id it stores there).
  absl::StatusOr<std::unique_ptr<PacketRing>> OpenRing(
      const InterfaceInfo& info, int* group) const;
  // The kernel's view of `name`, with the VLANs configured on it.
  std::optional<InterfaceInfo> Find(const std::string& name) const;
  // Fails when a served VLAN device's VLAN is also configured on its served
  // parent.
  absl::Status CheckSubInterfaces() const;
  // `info` as the responder sees it: the listen address first.
  ResponderPort PortFor(const InterfaceInfo& info) const;
  absl::StatusOr<BpfProgram> FilterFor(const InterfaceInfo& info) const;
  void Send(size_t port, bool replace_ring,
            std::vector<std::unique_ptr<PacketRing>> rings,
            std::optional<BpfProgram> filter, const ResponderPort& update);
  void Note(Served& s, Served::Note note, const std::string& text);
  void Info(const std::string& text) const;
  void Warning(const std::string& text) const;

  FollowerOptions options_;
  NetlinkSocket monitor_;   // subscribed to changes
  NetlinkSocket requests_;  // for dumps (a resync)
  LinkTable table_;
  std::vector<std::string> names_;
  std::vector<Served> served_;
  std::vector<Worker*> workers_;
  // Before the workers exist: rings_[worker][port], and their eventfds.
  std::vector<std::vector<std::unique_ptr<PacketRing>>> rings_;
  std::vector<UniqueFd> wakes_;
  bool started_ = false;
  bool changed_ = false;      // news read since the last round of Reconcile()
  bool listen_there_ = true;  // the -l address is on a served interface
};

// "eth1 (52:54:00:12:34:56) 10.0.0.5/24 10.1.0.5/16"
std::string DescribeInterface(const InterfaceInfo& info);

}  // namespace pxe

#endif  // PXE_CAPTURE_NETLINK_FOLLOWER_H_
