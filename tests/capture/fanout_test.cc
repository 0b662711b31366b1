// The chaddr fan-out group (capture/fanout.h): a new group gets an id that
// no other socket holds, so two pxe-pdhcp instances on one interface never
// split each other's traffic, and the daemon's other rings join it by id.
// Needs root (AF_PACKET); the sockets are bound to no interface and send
// nothing.
#include "capture/fanout.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/testing/cannot_run.h"

namespace pxe {
namespace {

UniqueFd PacketSocket() {
  return UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
}

class FanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      PXE_CANNOT_RUN("needs root (AF_PACKET sockets)");
    }
  }
};

TEST_F(FanoutTest, NewGroupsNeverShareAnIdAndOthersJoinByIt) {
  UniqueFd first = PacketSocket();
  UniqueFd second = PacketSocket();
  UniqueFd joiner = PacketSocket();
  ASSERT_GE(first.get(), 0);
  ASSERT_GE(second.get(), 0);
  ASSERT_GE(joiner.get(), 0);

  absl::StatusOr<uint16_t> a = JoinChaddrFanout(first.get(), kNewFanoutGroup);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<uint16_t> b = JoinChaddrFanout(second.get(), kNewFanoutGroup);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(*a, *b);

  absl::StatusOr<uint16_t> joined = JoinChaddrFanout(joiner.get(), *a);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(*joined, *a);
}

TEST_F(FanoutTest, JoiningTwiceFailsLoudly) {
  UniqueFd fd = PacketSocket();
  ASSERT_GE(fd.get(), 0);
  absl::StatusOr<uint16_t> a = JoinChaddrFanout(fd.get(), kNewFanoutGroup);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<uint16_t> again = JoinChaddrFanout(fd.get(), *a);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("PACKET_FANOUT"), std::string::npos)
      << again.status();
}

}  // namespace
}  // namespace pxe
