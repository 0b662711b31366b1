#include "capture/netlink_follower.h"

#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "capture/fanout.h"
#include "engine/describe.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

bool SameAddress(const InterfaceAddress& a, const InterfaceAddress& b) {
  return a.address == b.address && a.prefix_length == b.prefix_length;
}

bool SameAddresses6(const std::vector<Ipv6InterfaceAddress>& a,
                    const std::vector<Ipv6InterfaceAddress>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(),
      [](const Ipv6InterfaceAddress& x, const Ipv6InterfaceAddress& y) {
        return x.address == y.address && x.prefix_length == y.prefix_length;
      });
}

bool SameAddresses(const std::vector<InterfaceAddress>& a,
                   const std::vector<InterfaceAddress>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), SameAddress);
}

bool Has(const std::vector<InterfaceAddress>& list, const InterfaceAddress& a) {
  return std::any_of(list.begin(), list.end(), [&](const InterfaceAddress& x) {
    return SameAddress(x, a);
  });
}

absl::Status Errno(std::string_view what) {
  return absl::InternalError(
      absl::StrCat(Sv(what), ": ", std::strerror(errno)));
}

std::string Cidr(const InterfaceAddress& a) {
  return absl::StrCat(FormatIpv4(a.address), "/", a.prefix_length);
}

constexpr std::string_view kWaitHint =
    "; --wait-for-interfaces ([server] wait_for_interfaces = true) starts "
    "anyway and serves it once it is there";

}  // namespace

std::string DescribeInterface(const InterfaceInfo& info) {
  std::string out = absl::StrCat(info.name, " (", FormatMac(info.mac), ")");
  for (const InterfaceAddress& a : info.addresses) {
    absl::StrAppend(&out, " ", Cidr(a));
  }
  for (const VlanAddresses& v : info.vlans) {
    absl::StrAppend(&out, ", VLAN ", v.vlan, ":");
    for (const InterfaceAddress& a : v.addresses) {
      absl::StrAppend(&out, " ", Cidr(a));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<InterfaceFollower>> InterfaceFollower::Start(
    FollowerOptions options) {
  // Subscribed before the dump: a change made in between is heard after it,
  // not lost.
  PXE_ASSIGN_OR_RETURN(NetlinkSocket monitor, NetlinkSocket::Monitor());
  PXE_ASSIGN_OR_RETURN(NetlinkSocket requests, NetlinkSocket::Open());
  std::unique_ptr<InterfaceFollower> f(new InterfaceFollower(
      std::move(options), std::move(monitor), std::move(requests)));
  const FollowerOptions& o = f->options_;
  PXE_ASSIGN_OR_RETURN(f->table_, f->requests_.Dump());

  if (o.interfaces.empty()) {
    for (const InterfaceInfo& info : f->table_.All()) {
      if (info.up && !info.addresses.empty() && info.mac != MacAddress{}) {
        f->names_.push_back(info.name);
        break;
      }
    }
    if (f->names_.empty()) {
      return absl::NotFoundError(
          "no interface is up with an IPv4 address; name one with -i");
    }
    f->Info(absl::StrCat("no -i given: serving ", f->names_.front()));
  } else {
    f->names_ = o.interfaces;
  }
  bool listen_found = o.listen_address == 0;
  for (const std::string& name : f->names_) {
    absl::StatusOr<InterfaceInfo> info = LookupInterface(f->table_, name);
    if (info.ok()) info->vlans = f->Find(name)->vlans;
    if (absl::IsNotFound(info.status())) {
      if (!o.wait_for_interfaces) {
        return absl::NotFoundError(
            absl::StrCat(info.status().message(), Sv(kWaitHint)));
      }
      continue;  // Reconcile() says it waits
    }
    if (!info.ok()) return info.status();
    // A trunk may have no address of its own: its VLANs have theirs.
    if (info->addresses.empty() && info->vlans.empty() &&
        !o.wait_for_interfaces) {
      return absl::FailedPreconditionError(
          absl::StrCat("interface ", name,
                       " has no IPv4 address to answer from", Sv(kWaitHint)));
    }
    for (const InterfaceAddress& a : info->addresses) {
      if (a.address == o.listen_address) listen_found = true;
    }
  }
  PXE_RETURN_IF_ERROR(f->CheckSubInterfaces());
  if (!listen_found) {
    const std::string message =
        absl::StrCat("listen address ", FormatIpv4(o.listen_address),
                     " is not on the served interfaces");
    if (!o.wait_for_interfaces) {
      return absl::FailedPreconditionError(message);
    }
    f->Warning(absl::StrCat(message, " (yet)"));
  }

  f->served_.resize(f->names_.size());
  f->rings_.resize(static_cast<size_t>(std::max(1, o.workers)));
  for (auto& rings : f->rings_) {
    rings.resize(f->names_.size());
    f->wakes_.emplace_back(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!f->wakes_.back().valid()) return Errno("eventfd");
  }
  for (size_t port = 0; port < f->names_.size(); ++port) {
    f->served_[port].name = f->names_[port];
    f->served_[port].told.name = f->names_[port];
    PXE_RETURN_IF_ERROR(f->Reconcile(port));
  }
  f->started_ = true;
  // Said above when it is not there at start.
  f->listen_there_ = f->ListenThere();
  return f;
}

WorkerPorts InterfaceFollower::TakeWorkerPorts(size_t worker) {
  WorkerPorts out;
  for (const Served& s : served_) {
    out.ports.push_back(s.ifindex != 0 ? PortFor(s.told)
                                       : ResponderPort{.name = s.name});
  }
  out.rings = std::move(rings_.at(worker));
  out.wake = std::move(wakes_.at(worker));
  return out;
}

void InterfaceFollower::Process() {
  ReadPending();
  // A round that read more news (while rings opened) is followed by
  // another, so nothing waits for the kernel's next message.
  for (int round = 0; round < 8 && changed_; ++round) {
    changed_ = false;
    for (size_t port = 0; port < served_.size(); ++port) {
      // After the start, Reconcile() logs what fails rather than return it.
      (void)Reconcile(port);
    }
  }
  CheckListenAddress();
}

bool InterfaceFollower::ListenThere() const {
  for (const Served& s : served_) {
    for (const InterfaceAddress& a : s.told.addresses) {
      if (s.ifindex != 0 && a.address == options_.listen_address) return true;
    }
  }
  return false;
}

void InterfaceFollower::CheckListenAddress() {
  const uint32_t listen = options_.listen_address;
  if (listen == 0) return;
  const bool there = ListenThere();
  if (there == listen_there_) return;
  listen_there_ = there;
  if (there) {
    Info(absl::StrCat("listen address ", FormatIpv4(listen),
                      " (-l) is on a served interface again"));
  } else {
    Warning(absl::StrCat(
        "listen address ", FormatIpv4(listen),
        " (-l) is no longer on a served interface: replies whose client "
        "subnet picks no address come from the interface's primary address "
        "until it is back"));
  }
}

void InterfaceFollower::ReadPending() {
  std::vector<NetlinkEvent> events;
  const absl::Status read = monitor_.ReadEvents(&events);
  for (const NetlinkEvent& event : events) table_.Apply(event);
  changed_ |= !events.empty() || !read.ok();
  if (!read.ok()) {
    // Events were lost (or unreadable): only a fresh dump is complete.
    absl::StatusOr<LinkTable> fresh = requests_.Dump();
    if (fresh.ok()) {
      table_ = *std::move(fresh);
      Warning(absl::StrCat(read.message(), "; read every interface again"));
    } else {
      Warning(absl::StrCat(read.message(),
                           "; reading every interface again "
                           "failed too (",
                           fresh.status().message(),
                           "): acting on what is known"));
    }
  }
}

absl::Status InterfaceFollower::Reconcile(size_t port) {
  Served& s = served_[port];
  std::optional<InterfaceInfo> now = Find(s.name);
  if (now && now->mac == MacAddress{}) {
    Note(s, Served::Note::kNotEthernet,
         absl::StrCat(s.name, " is not an Ethernet interface: not served"));
    now.reset();
  }
  if (s.ifindex != 0 && (!now || now->ifindex != s.ifindex)) {
    // The device the rings are bound to is gone: deleted, renamed, or moved
    // to another namespace. Its rings close; nothing is sent there.
    Send(port, /*replace_ring=*/true, {}, std::nullopt,
         ResponderPort{.name = s.name});
    s.gone_ifindex = s.ifindex;
    s.ifindex = 0;
    s.told = InterfaceInfo{.name = s.name};
    if (!now) {
      Note(s, Served::Note::kMissing,
           absl::StrCat(s.name, " is gone; waiting for it to come back"));
    }
  }
  if (!now) {
    Note(s, Served::Note::kMissing,
         absl::StrCat(s.name, " is missing; waiting for it to appear"));
    return absl::OkStatus();
  }

  if (s.ifindex == 0) {
    // Fan-out groups take only sockets bound to a device that is up.
    if (!now->up) {
      Note(s, Served::Note::kDown,
           absl::StrCat(s.name, " (index ", now->ifindex,
                        ") is down; serving it once it is up"));
      return absl::OkStatus();
    }
    // One ring per worker, in a new fan-out group. Each goes to its worker
    // as soon as it is open: until the next one joins the group, the
    // workers that have theirs get every frame.
    const uint64_t opening = MonotonicNowNs();
    int group = -1;
    size_t opened = 0;
    for (size_t w = 0; w < rings_.size(); ++w) {
      absl::StatusOr<std::unique_ptr<PacketRing>> ring = OpenRing(*now, &group);
      if (!ring.ok()) {
        if (!started_) return ring.status();
        if (opened == 0) {
          Note(s, Served::Note::kOpenFailed,
               absl::StrCat(s.name, ": its rings did not open (",
                            ring.status().message(),
                            "); trying again at its next change"));
          return absl::OkStatus();
        }
        Warning(absl::StrCat(s.name, ": ", opened, " of ", rings_.size(),
                             " workers serve it; the other rings did not "
                             "open (",
                             ring.status().message(), ")"));
        break;
      }
      if (!started_) {
        rings_[w][port] = *std::move(ring);
        ++opened;
        continue;
      }
      std::optional<BpfProgram> filter;
      if (w == 0) {
        // What changed while the first ring opened (an address added just
        // after the link came up) goes out with it, before its first frame
        // is answered; the other rings open with it.
        ReadPending();
        std::optional<InterfaceInfo> latest = Find(s.name);
        if (!latest || latest->ifindex != now->ifindex) {
          return absl::OkStatus();  // gone again: the next round sees to it
        }
        if (!SameAddresses(latest->addresses, now->addresses) ||
            !SameAddresses6(latest->addresses6, now->addresses6)) {
          if (absl::StatusOr<BpfProgram> f = FilterFor(*latest); f.ok()) {
            filter = *std::move(f);
          }
        }
        now = std::move(latest);
      }
      workers_[w]->Post({.port = port,
                         .responder_port = PortFor(*now),
                         .replace_ring = true,
                         .ring = *std::move(ring),
                         .filter = std::move(filter)});
      ++opened;
    }
    const uint64_t open_ms = (MonotonicNowNs() - opening) / 1'000'000;
    if (s.gone_ifindex != 0) {
      Info(absl::StrCat(s.name, " re-created (index ", s.gone_ifindex, " -> ",
                        now->ifindex, "): rings reopened in ", open_ms, " ms"));
    } else if (started_) {
      Info(absl::StrCat(s.name, " appeared (index ", now->ifindex,
                        "): rings opened in ", open_ms, " ms"));
    }
    Info(absl::StrCat("serving ", DescribeInterface(*now)));
    s.ifindex = now->ifindex;
    s.gone_ifindex = 0;
    s.told = *now;
    s.note = Served::Note::kNone;
    if (now->addresses.empty()) {
      Note(s, Served::Note::kNoAddress,
           absl::StrCat(s.name,
                        " has no IPv4 address yet: no client is answered on "
                        "it until one is added"));
    }
    return absl::OkStatus();
  }

  // The same device: its addresses, its MAC, its state.
  const InterfaceInfo was = std::exchange(s.told, *now);
  const bool addresses_changed =
      !SameAddresses(was.addresses, now->addresses) ||
      !SameAddresses6(was.addresses6, now->addresses6);
  if (addresses_changed) {
    for (const InterfaceAddress& a : was.addresses) {
      if (!Has(now->addresses, a)) {
        Info(absl::StrCat(s.name, ": address ", Cidr(a),
                          " removed; no longer answering from it"));
      }
    }
    for (const InterfaceAddress& a : now->addresses) {
      if (!Has(was.addresses, a)) {
        Info(absl::StrCat(s.name, ": address ", Cidr(a),
                          " added; answering from it"));
      }
    }
    std::optional<BpfProgram> filter;
    if (absl::StatusOr<BpfProgram> f = FilterFor(*now); f.ok()) {
      filter = *std::move(f);
    } else {
      Warning(absl::StrCat(s.name, ": ", f.status().message(),
                           "; port 4011 requests to its new addresses are "
                           "not seen"));
    }
    Send(port, /*replace_ring=*/false, {}, std::move(filter), PortFor(*now));
    if (now->addresses.empty()) {
      Note(s, Served::Note::kNoAddress,
           absl::StrCat(s.name,
                        " has no IPv4 address now: no client is answered on "
                        "it until one is added"));
    } else if (s.note == Served::Note::kNoAddress) {
      s.note = Served::Note::kNone;
    }
  } else if (was.mac != now->mac) {
    Info(absl::StrCat(s.name, ": MAC address now ", FormatMac(now->mac),
                      "; answering with it"));
    Send(port, /*replace_ring=*/false, {}, std::nullopt, PortFor(*now));
  }
  if (was.up != now->up) {
    Info(now->up ? absl::StrCat(s.name, " is up")
                 : absl::StrCat(s.name,
                                " is down; its rings stay open, and it is "
                                "served again once it is up"));
  } else if (was.running != now->running) {
    Info(now->running ? absl::StrCat(s.name, " has a carrier")
                      : absl::StrCat(s.name, " lost its carrier"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PacketRing>> InterfaceFollower::OpenRing(
    const InterfaceInfo& info, int* group) const {
  PXE_ASSIGN_OR_RETURN(BpfProgram filter, FilterFor(info));
  RingOptions options = options_.ring;
  // One fan-out group per interface, its id picked by the kernel for the
  // first ring (never one another process uses), joined by the others.
  options.fanout_group =
      rings_.size() > 1 ? (*group < 0 ? kNewFanoutGroup : *group) : -1;
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<PacketRing> ring,
                       PacketRing::Open(info, options, filter));
  *group = ring->fanout_group();
  return ring;
}

std::optional<InterfaceInfo> InterfaceFollower::Find(
    const std::string& name) const {
  std::optional<InterfaceInfo> info = table_.Find(name);
  if (!info) return info;
  for (const VlanConfig& v : options_.vlans) {
    if (v.interface == name ||
        (v.interface.empty() && names_.size() == 1 && names_[0] == name)) {
      info->vlans.push_back(v.vlan);
    }
  }
  return info;
}

absl::Status InterfaceFollower::CheckSubInterfaces() const {
  // A VLAN device and a [[server.vlan]] on its parent for the same VLAN
  // would both answer its clients.
  for (const std::string& name : names_) {
    const std::optional<InterfaceInfo> sub = table_.Find(name);
    if (!sub || sub->vlan_id == 0 || sub->link_name.empty()) continue;
    const std::optional<InterfaceInfo> parent = Find(sub->link_name);
    if (!parent || std::find(names_.begin(), names_.end(), sub->link_name) ==
                       names_.end()) {
      continue;
    }
    for (const VlanAddresses& v : parent->vlans) {
      if (v.vlan == sub->vlan_id) {
        return absl::InvalidArgumentError(absl::StrCat(
            "VLAN ", v.vlan, " is served twice: by ", name,
            " (a VLAN device on ", sub->link_name, ") and by a VLAN entry for ",
            sub->link_name, "; remove one"));
      }
    }
  }
  return absl::OkStatus();
}

ResponderPort InterfaceFollower::PortFor(const InterfaceInfo& info) const {
  ResponderPort port = PortOf(info);
  // -l makes its address the interface's primary one.
  auto it = std::find_if(port.addresses.begin(), port.addresses.end(),
                         [&](const InterfaceAddress& a) {
                           return options_.listen_address != 0 &&
                                  a.address == options_.listen_address;
                         });
  if (it != port.addresses.end()) std::iter_swap(port.addresses.begin(), it);
  return port;
}

absl::StatusOr<BpfProgram> InterfaceFollower::FilterFor(
    const InterfaceInfo& info) const {
  return CompileFilter(DhcpFilterExpression(info));
}

void InterfaceFollower::Send(size_t port, bool replace_ring,
                             std::vector<std::unique_ptr<PacketRing>> rings,
                             std::optional<BpfProgram> filter,
                             const ResponderPort& update) {
  if (!started_) return;  // at start the workers get Ports() and TakeRings()
  for (size_t w = 0; w < workers_.size(); ++w) {
    PortUpdate u{.port = port,
                 .responder_port = update,
                 .replace_ring = replace_ring,
                 .filter = filter};
    if (w < rings.size()) u.ring = std::move(rings[w]);
    workers_[w]->Post(std::move(u));
  }
}

void InterfaceFollower::Note(Served& s, Served::Note note,
                             const std::string& text) {
  if (s.note == note) return;
  s.note = note;
  Warning(text);
}

void InterfaceFollower::Info(const std::string& text) const {
  if (options_.info) options_.info(text);
}

void InterfaceFollower::Warning(const std::string& text) const {
  if (options_.warning) options_.warning(text);
}

}  // namespace pxe
