// rtnetlink parsing and the link table, on messages built here with libmnl
// as the kernel sends them: no root, no network. The last tests read this
// namespace's own links (reading needs no privilege and changes nothing).
#include "capture/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pxe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

uint32_t Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return ntohl(a.s_addr);
}

// Netlink messages, appended one after another as one recv returns them.
class Messages {
 public:
  struct Link {
    uint16_t type = RTM_NEWLINK;
    uint8_t family = AF_UNSPEC;
    int index = 2;
    std::string name = "eth1";
    unsigned flags = IFF_UP | IFF_RUNNING;
    uint16_t arp_type = ARPHRD_ETHER;
    bool with_mac = true;
    uint32_t mtu = 1500;
    // A VLAN device: its parent, id and protocol.
    int parent = 0;
    uint16_t vlan_id = 0;
    uint16_t vlan_protocol = ETH_P_8021Q;
    bool parent_elsewhere = false;
  };
  struct Address {
    uint16_t type = RTM_NEWADDR;
    uint8_t family = AF_INET;
    int index = 2;
    const char* local = "10.0.0.5";
    const char* peer = nullptr;  // IFA_ADDRESS when it differs (ptp)
    uint8_t prefix = 24;
    uint32_t flags = 0;
  };

  Messages& Add(const Link& l) {
    nlmsghdr* nlh = Start(l.type);
    auto* ifi = static_cast<ifinfomsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = l.family;
    ifi->ifi_index = l.index;
    ifi->ifi_flags = l.flags;
    ifi->ifi_type = l.arp_type;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, l.name.c_str());
    if (l.with_mac) mnl_attr_put(nlh, IFLA_ADDRESS, 6, kMac.data());
    mnl_attr_put_u32(nlh, IFLA_MTU, l.mtu);
    if (l.vlan_id != 0) {
      mnl_attr_put_u32(nlh, IFLA_LINK, static_cast<uint32_t>(l.parent));
      if (l.parent_elsewhere) mnl_attr_put_u32(nlh, IFLA_LINK_NETNSID, 0);
      nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
      mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
      nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
      mnl_attr_put_u16(nlh, IFLA_VLAN_ID, l.vlan_id);
      mnl_attr_put_u16(nlh, IFLA_VLAN_PROTOCOL, htons(l.vlan_protocol));
      mnl_attr_nest_end(nlh, data);
      mnl_attr_nest_end(nlh, info);
    }
    return End(nlh);
  }

  Messages& Add(const Address& a) {
    nlmsghdr* nlh = Start(a.type);
    auto* ifa = static_cast<ifaddrmsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = a.family;
    ifa->ifa_prefixlen = a.prefix;
    ifa->ifa_index = static_cast<uint32_t>(a.index);
    ifa->ifa_flags = static_cast<uint8_t>(a.flags);
    if (a.family == AF_INET) {
      const uint32_t local = htonl(Ip(a.local));
      const uint32_t peer = htonl(Ip(a.peer != nullptr ? a.peer : a.local));
      mnl_attr_put(nlh, IFA_ADDRESS, 4, &peer);
      mnl_attr_put(nlh, IFA_LOCAL, 4, &local);
    } else {
      uint8_t v6[16] = {0xfe, 0x80};
      if (std::strchr(a.local, ':') != nullptr) {
        inet_pton(AF_INET6, a.local, v6);
      }
      mnl_attr_put(nlh, IFA_ADDRESS, 16, v6);
    }
    mnl_attr_put_u32(nlh, IFA_FLAGS, a.flags);
    return End(nlh);
  }

  Messages& Control(uint16_t type, int error = 0, uint16_t flags = 0) {
    nlmsghdr* nlh = Start(type);
    nlh->nlmsg_flags |= flags;
    if (type == NLMSG_ERROR) {
      auto* e = static_cast<nlmsgerr*>(
          mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
      e->error = error;
    }
    return End(nlh);
  }

  // Marks the last message (a dump's) as interrupted.
  Messages& Interrupted() {
    reinterpret_cast<nlmsghdr*>(bytes_.data() + last_)->nlmsg_flags |=
        NLM_F_DUMP_INTR;
    return *this;
  }

  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  nlmsghdr* Start(uint16_t type) {
    scratch_.assign(4096, 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(scratch_.data());
    nlh->nlmsg_type = type;
    return nlh;
  }
  Messages& End(nlmsghdr* nlh) {
    last_ = bytes_.size();
    bytes_.insert(bytes_.end(), scratch_.begin(),
                  scratch_.begin() + nlh->nlmsg_len);
    return *this;
  }

  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> bytes_;
  size_t last_ = 0;
};

std::vector<NetlinkEvent> Parse(const Messages& m) {
  std::vector<NetlinkEvent> events;
  const absl::Status s = ParseNetlinkMessages(m.bytes(), &events);
  EXPECT_TRUE(s.ok()) << s;
  return events;
}

LinkTable TableOf(const Messages& m) {
  LinkTable table;
  for (const NetlinkEvent& e : Parse(m)) table.Apply(e);
  return table;
}

std::vector<std::string> AddressesOf(const LinkTable& table,
                                     const std::string& name) {
  std::vector<std::string> out;
  if (std::optional<InterfaceInfo> info = table.Find(name)) {
    for (const InterfaceAddress& a : info->addresses) {
      char text[INET_ADDRSTRLEN];
      const uint32_t be = htonl(a.address);
      inet_ntop(AF_INET, &be, text, sizeof(text));
      out.push_back(std::string(text) + "/" + std::to_string(a.prefix_length));
    }
  }
  return out;
}

TEST(NetlinkParseTest, LinkMessageGivesNameIndexMacMtuAndState) {
  Messages m;
  m.Add(Messages::Link{.index = 7, .name = "eth1", .mtu = 9000});
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 1u);
  const NetlinkEvent& e = events[0];
  EXPECT_EQ(e.kind, NetlinkEvent::Kind::kLink);
  EXPECT_EQ(e.link.name, "eth1");
  EXPECT_EQ(e.link.ifindex, 7);
  EXPECT_EQ(e.link.mac, kMac);
  EXPECT_EQ(e.link.mtu, 9000);
  EXPECT_TRUE(e.link.up);
  EXPECT_TRUE(e.link.running);
  EXPECT_EQ(e.link.vlan_id, 0);
  EXPECT_EQ(e.link.link_ifindex, 0);
}

TEST(NetlinkParseTest, DownAndNoCarrierAreTold) {
  Messages m;
  m.Add(Messages::Link{.flags = 0});
  m.Add(Messages::Link{.flags = IFF_UP});  // up, no carrier
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].link.up);
  EXPECT_FALSE(events[0].link.running);
  EXPECT_TRUE(events[1].link.up);
  EXPECT_FALSE(events[1].link.running);
}

TEST(NetlinkParseTest, LoopbackIsNeverUpAndOtherLinkTypesHaveNoMac) {
  Messages m;
  m.Add(Messages::Link{.index = 1,
                       .name = "lo",
                       .flags = IFF_UP | IFF_RUNNING | IFF_LOOPBACK,
                       .arp_type = ARPHRD_LOOPBACK});
  m.Add(Messages::Link{.index = 3, .name = "tun0", .arp_type = ARPHRD_NONE});
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].link.up);
  EXPECT_EQ(events[0].link.mac, MacAddress{});
  EXPECT_EQ(events[1].link.mac, MacAddress{});
}

TEST(NetlinkParseTest, VlanDeviceGivesItsIdProtocolAndParent) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "bond0"});
  m.Add(Messages::Link{
      .index = 9, .name = "bond0.42", .parent = 2, .vlan_id = 42});
  m.Add(Messages::Link{.index = 10,
                       .name = "qinq.100",
                       .parent = 2,
                       .vlan_id = 100,
                       .vlan_protocol = ETH_P_8021AD});
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].link.vlan_id, 42);
  EXPECT_EQ(events[1].link.vlan_protocol, ETH_P_8021Q);
  EXPECT_EQ(events[1].link.link_ifindex, 2);
  EXPECT_EQ(events[2].link.vlan_protocol, ETH_P_8021AD);

  LinkTable table = TableOf(m);
  std::optional<InterfaceInfo> vlan = table.Find("bond0.42");
  ASSERT_TRUE(vlan.has_value());
  EXPECT_EQ(vlan->link_name, "bond0");
  EXPECT_EQ(vlan->vlan_id, 42);
  EXPECT_EQ(table.Find("bond0")->link_name, "");
}

TEST(NetlinkParseTest, VlanWhoseParentIsInAnotherNamespaceNamesNoParent) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth0"});
  m.Add(Messages::Link{.index = 9,
                       .name = "vlan7",
                       .parent = 2,
                       .vlan_id = 7,
                       .parent_elsewhere = true});
  std::optional<InterfaceInfo> vlan = TableOf(m).Find("vlan7");
  ASSERT_TRUE(vlan.has_value());
  EXPECT_EQ(vlan->vlan_id, 7);
  EXPECT_EQ(vlan->link_name, "");  // index 2 there is not our eth0
}

TEST(NetlinkParseTest, BridgePortMessagesAreNotAboutTheDevice) {
  // When a port leaves a bridge the kernel sends RTM_DELLINK with family
  // AF_BRIDGE: the device still exists.
  Messages m;
  m.Add(Messages::Link{.type = RTM_DELLINK, .family = AF_BRIDGE});
  m.Add(Messages::Link{.type = RTM_NEWLINK, .family = AF_BRIDGE});
  EXPECT_THAT(Parse(m), IsEmpty());
}

TEST(NetlinkParseTest, DeletedLink) {
  Messages m;
  m.Add(Messages::Link{.type = RTM_DELLINK, .index = 7, .name = "eth1"});
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, NetlinkEvent::Kind::kLinkRemoved);
  EXPECT_EQ(events[0].link.ifindex, 7);
  EXPECT_EQ(events[0].link.name, "eth1");
}

TEST(NetlinkParseTest, AddressesTakeTheLocalAddressAndTheSecondaryFlag) {
  Messages m;
  m.Add(Messages::Address{.index = 4, .local = "10.0.0.5", .prefix = 24});
  // Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours.
  m.Add(Messages::Address{
      .index = 4, .local = "10.9.0.1", .peer = "10.9.0.2", .prefix = 32});
  m.Add(Messages::Address{.type = RTM_DELADDR,
                          .index = 4,
                          .local = "10.0.0.6",
                          .prefix = 24,
                          .flags = IFA_F_SECONDARY});
  std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, NetlinkEvent::Kind::kAddress);
  EXPECT_EQ(events[0].ifindex, 4);
  EXPECT_EQ(events[0].address.address, Ip("10.0.0.5"));
  EXPECT_EQ(events[0].address.prefix_length, 24);
  EXPECT_FALSE(events[0].secondary);
  EXPECT_EQ(events[1].address.address, Ip("10.9.0.1"));
  EXPECT_EQ(events[2].kind, NetlinkEvent::Kind::kAddressRemoved);
  EXPECT_TRUE(events[2].secondary);
}

TEST(NetlinkParseTest, Ipv6AddressesAreParsedApart) {
  Messages m;
  m.Add(
      Messages::Address{.family = AF_INET6, .local = "fd77::2", .prefix = 64});
  const std::vector<NetlinkEvent> events = Parse(m);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, NetlinkEvent::Kind::kAddress);
  EXPECT_TRUE(events[0].ipv6);
  EXPECT_EQ(events[0].ifindex, 2);
  EXPECT_EQ(
      events[0].address6.address,
      (Ipv6Address{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(events[0].address6.prefix_length, 64);
  EXPECT_EQ(events[0].address.address, 0u);  // not an IPv4 one
}

// The IPv6 addresses DHCPv6 requests are answered from: kept beside the
// IPv4 ones, removed when deleted or when duplicate address detection fails.
TEST(LinkTableTest, Ipv6AddressesAreKeptApart) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth1"});
  m.Add(Messages::Address{.local = "10.0.0.5", .prefix = 24});
  m.Add(
      Messages::Address{.family = AF_INET6, .local = "fe80::2", .prefix = 64});
  m.Add(
      Messages::Address{.family = AF_INET6, .local = "fd77::2", .prefix = 64});
  m.Add(
      Messages::Address{.family = AF_INET6, .local = "fd78::2", .prefix = 64});
  m.Add(Messages::Address{.type = RTM_DELADDR,
                          .family = AF_INET6,
                          .local = "fd77::2",
                          .prefix = 64});
  m.Add(Messages::Address{.family = AF_INET6,
                          .local = "fd78::2",
                          .prefix = 64,
                          .flags = IFA_F_DADFAILED});
  m.Add(Messages::Link{.index = 2, .name = "eth1", .flags = 0});
  LinkTable table = TableOf(m);
  ASSERT_TRUE(table.Find("eth1").has_value());
  EXPECT_THAT(AddressesOf(table, "eth1"), ElementsAre("10.0.0.5/24"));
  const std::vector<Ipv6InterfaceAddress> v6 = table.Find("eth1")->addresses6;
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_TRUE(v6[0].link_local());
  EXPECT_EQ(v6[0].address[15], 2);
}

TEST(NetlinkParseTest, KernelErrorsAreReturnedAndAcknowledgementsAreNot) {
  Messages ack;
  ack.Control(NLMSG_ERROR, 0);
  std::vector<NetlinkEvent> events;
  EXPECT_TRUE(ParseNetlinkMessages(ack.bytes(), &events).ok());

  Messages error;
  error.Control(NLMSG_ERROR, -EPERM);
  const absl::Status s = ParseNetlinkMessages(error.bytes(), &events);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(std::strerror(EPERM)));
}

TEST(NetlinkParseTest, DumpEndAndInterruptionAreReported) {
  Messages m;
  m.Add(Messages::Link{}).Interrupted();
  m.Control(NLMSG_DONE);
  std::vector<NetlinkEvent> events;
  bool done = false;
  bool interrupted = false;
  ASSERT_TRUE(
      ParseNetlinkMessages(m.bytes(), &events, &done, &interrupted).ok());
  EXPECT_TRUE(done);
  EXPECT_TRUE(interrupted);
  EXPECT_EQ(events.size(), 1u);
}

TEST(NetlinkParseTest, ATruncatedMessageIsSkippedNotRead) {
  Messages m;
  m.Add(Messages::Link{.name = "eth1"});
  m.Add(Messages::Link{.index = 3, .name = "eth2"});
  std::span<const uint8_t> bytes = m.bytes();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + cut);
    std::vector<NetlinkEvent> events;
    EXPECT_TRUE(ParseNetlinkMessages(copy, &events).ok());
    EXPECT_LE(events.size(), 2u);
  }
}

TEST(LinkTableTest, KeepsAddressesInTheKernelsOrder) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth1"});
  m.Add(Messages::Address{.local = "10.0.0.5", .prefix = 24});
  m.Add(Messages::Address{
      .local = "10.0.0.6", .prefix = 24, .flags = IFA_F_SECONDARY});
  // A new primary (another subnet) goes after the primaries, before the
  // secondaries.
  m.Add(Messages::Address{.local = "10.1.0.5", .prefix = 16});
  LinkTable table = TableOf(m);
  EXPECT_THAT(AddressesOf(table, "eth1"),
              ElementsAre("10.0.0.5/24", "10.1.0.5/16", "10.0.0.6/24"));
}

TEST(LinkTableTest, APromotedSecondaryMovesUpAndRemovedAddressesGo) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth1"});
  m.Add(Messages::Address{.local = "10.0.0.5", .prefix = 24});
  m.Add(Messages::Address{.local = "10.1.0.5", .prefix = 16});
  m.Add(Messages::Address{
      .local = "10.0.0.6", .prefix = 24, .flags = IFA_F_SECONDARY});
  // The primary 10.0.0.5 is deleted; with promote_secondaries the kernel
  // announces 10.0.0.6 again, now primary.
  m.Add(Messages::Address{
      .type = RTM_DELADDR, .local = "10.0.0.5", .prefix = 24});
  m.Add(Messages::Address{.local = "10.0.0.6", .prefix = 24});
  EXPECT_THAT(AddressesOf(TableOf(m), "eth1"),
              ElementsAre("10.1.0.5/16", "10.0.0.6/24"));
}

TEST(LinkTableTest, ALinkChangeKeepsItsAddresses) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth1"});
  m.Add(Messages::Address{.local = "10.0.0.5"});
  m.Add(Messages::Link{.index = 2, .name = "eth1", .flags = 0});
  LinkTable table = TableOf(m);
  ASSERT_TRUE(table.Find("eth1").has_value());
  EXPECT_FALSE(table.Find("eth1")->up);
  EXPECT_THAT(AddressesOf(table, "eth1"), ElementsAre("10.0.0.5/24"));
}

TEST(LinkTableTest, DeletedThenCreatedAgainWithANewIndex) {
  Messages m;
  m.Add(Messages::Link{.index = 7, .name = "eth1"});
  m.Add(Messages::Address{.index = 7, .local = "10.0.0.5"});
  m.Add(Messages::Link{.type = RTM_DELLINK, .index = 7, .name = "eth1"});
  LinkTable gone = TableOf(m);
  EXPECT_FALSE(gone.Find("eth1").has_value());
  EXPECT_EQ(gone.size(), 0u);

  m.Add(Messages::Link{.index = 9, .name = "eth1"});
  LinkTable back = TableOf(m);
  ASSERT_TRUE(back.Find("eth1").has_value());
  EXPECT_EQ(back.Find("eth1")->ifindex, 9);
  EXPECT_THAT(back.Find("eth1")->addresses, IsEmpty());  // not the old one's
}

TEST(LinkTableTest, AnAddressHeardBeforeItsLinkWaitsForIt) {
  Messages m;
  m.Add(Messages::Address{.index = 5, .local = "10.0.0.5"});
  LinkTable table = TableOf(m);
  EXPECT_THAT(table.All(), IsEmpty());
  m.Add(Messages::Link{.index = 5, .name = "eth5"});
  EXPECT_THAT(AddressesOf(TableOf(m), "eth5"), ElementsAre("10.0.0.5/24"));
}

TEST(LinkTableTest, RenamedLinkIsFoundByItsNewName) {
  Messages m;
  m.Add(Messages::Link{.index = 2, .name = "eth1"});
  m.Add(Messages::Link{.index = 2, .name = "lan0"});
  LinkTable table = TableOf(m);
  EXPECT_FALSE(table.Find("eth1").has_value());
  EXPECT_TRUE(table.Find("lan0").has_value());
}

TEST(NetlinkLiveTest, DumpsThisNamespacesLinks) {
  absl::StatusOr<LinkTable> table = DumpLinks();
  ASSERT_TRUE(table.ok()) << table.status();
  std::optional<InterfaceInfo> lo = table->Find("lo");
  ASSERT_TRUE(lo.has_value()) << "every network namespace has lo";
  EXPECT_GT(lo->ifindex, 0);
  EXPECT_FALSE(lo->up);  // loopback never counts as up
  // lo is not Ethernet: not servable.
  EXPECT_EQ(LookupInterface(*table, "lo").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(LookupInterface(*table, "no-such-if0").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(NetlinkLiveTest, MonitorSocketReadsNothingWhenNothingChanges) {
  absl::StatusOr<NetlinkSocket> monitor = NetlinkSocket::Monitor();
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  std::vector<NetlinkEvent> events;
  EXPECT_TRUE(monitor->ReadEvents(&events).ok());  // never blocks
}

}  // namespace
}  // namespace pxe
