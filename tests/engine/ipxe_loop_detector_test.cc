// IpxeLoopDetector: the iPXE chainload loop (PXE -> ipxe.efi -> iPXE ->
// ipxe.efi ...) is told apart from retransmits of one exchange, from iPXE
// given its script, from another file, and from a reboot long after.
#include "engine/ipxe_loop_detector.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace pxe {
namespace {

constexpr uint64_t kS = 1'000'000'000;
constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x11};
constexpr MacAddress kOther = {0x52, 0x54, 0x00, 0x77, 0x00, 0x12};

// OVMF's UEFI PXE: DISCOVER (not iPXE), its REQUEST to the DHCP server,
// then the file on port 4011.
void FirmwareLoads(IpxeLoopDetector& d, const MacAddress& mac,
                   uint64_t now_ns) {
  EXPECT_EQ(d.Discover(mac, "", now_ns), 0u);
  d.Selected(mac);
  d.FileGiven(mac, "ipxe.efi", now_ns + kS);
}

TEST(IpxeLoopDetectorTest, IpxeBackForTheFileItWasGivenIsALoopEachRound) {
  IpxeLoopDetector d(64);
  FirmwareLoads(d, kMac, 10 * kS);
  // ipxe.efi runs and asks as iPXE: sent back to ipxe.efi.
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 20 * kS), 1u);
  d.Selected(kMac);
  d.FileGiven(kMac, "ipxe.efi", 21 * kS);
  // And the iPXE that one loads: the second round.
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 30 * kS), 2u);
  d.FileGiven(kMac, "ipxe.efi", 30 * kS);  // BIOS order: file, then select
  d.Selected(kMac);
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 40 * kS), 3u);
}

TEST(IpxeLoopDetectorTest, RetransmitsOfOneExchangeNeverCount) {
  IpxeLoopDetector d(64);
  // QEMU's BIOS ROM (iPXE): offered undionly.kpxe, offer lost, retries.
  EXPECT_EQ(d.Discover(kMac, "undionly.kpxe", 1 * kS), 0u);
  d.FileGiven(kMac, "undionly.kpxe", 1 * kS);
  EXPECT_EQ(d.Discover(kMac, "undionly.kpxe", 2 * kS), 0u);
  d.FileGiven(kMac, "undionly.kpxe", 2 * kS);
  // It takes the offer: only a DISCOVER after that is a new exchange.
  d.Selected(kMac);
  EXPECT_EQ(d.Discover(kMac, "undionly.kpxe", 10 * kS), 1u);
  // The retransmit of that new exchange is not a second round.
  EXPECT_EQ(d.Discover(kMac, "undionly.kpxe", 11 * kS), 0u);
}

TEST(IpxeLoopDetectorTest, IpxeGivenItsScriptOrAnotherFileIsNoLoop) {
  IpxeLoopDetector d(64);
  FirmwareLoads(d, kMac, 10 * kS);
  // With ipxe_script the responder passes no file: no loop.
  EXPECT_EQ(d.Discover(kMac, "", 20 * kS), 0u);
  d.Selected(kMac);
  d.FileGiven(kMac, "http://10.77.0.1/boot.ipxe", 20 * kS);
  EXPECT_EQ(d.Discover(kMac, "", 30 * kS), 0u);

  // pxelinux.0 for the firmware, then a rule gives iPXE another file.
  FirmwareLoads(d, kOther, 10 * kS);
  EXPECT_EQ(d.Discover(kOther, "other.efi", 20 * kS), 0u);
}

TEST(IpxeLoopDetectorTest, ABootLongAfterIsNoLoopAndRoundsStartAgain) {
  IpxeLoopDetector d(64, /*window_ns=*/60 * kS);
  FirmwareLoads(d, kMac, 10 * kS);
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 20 * kS), 1u);
  d.Selected(kMac);
  d.FileGiven(kMac, "ipxe.efi", 21 * kS);
  // Two minutes later: a reboot, not the loop; the count starts over.
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 141 * kS), 0u);
  d.Selected(kMac);
  d.FileGiven(kMac, "ipxe.efi", 142 * kS);
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 150 * kS), 1u);
}

TEST(IpxeLoopDetectorTest, AFullTableForgetsTheOldestAndNeverFails) {
  IpxeLoopDetector d(4);  // one probe window: four entries
  FirmwareLoads(d, kMac, 1 * kS);
  for (uint8_t i = 0; i < 16; ++i) {
    const MacAddress mac = {0x02, 0, 0, 0, 1, i};
    FirmwareLoads(d, mac, (10 + i) * kS);
  }
  // kMac's entry made room: its iPXE is a first sighting, not a loop.
  EXPECT_EQ(d.Discover(kMac, "ipxe.efi", 30 * kS), 0u);
  // The newest clients are still known.
  const MacAddress last = {0x02, 0, 0, 0, 1, 15};
  EXPECT_EQ(d.Discover(last, "ipxe.efi", 30 * kS), 1u);
}

}  // namespace
}  // namespace pxe
