// pxe-reflector: the ceiling of the packet path, for the storm benchmark.
// It answers each PXE request with the least work that still gives a client
// a valid proxy reply: the request frame copied into the TX ring and patched
// in place (addresses, ports, op, yiaddr 0, message type), IPv4 checksum
// redone, UDP checksum 0 ("none", allowed over IPv4), and the two options a
// client needs that a request lacks (54, and 43 in an offer). No option
// index, no policy, no per-client state: whatever a real server does on top
// of this is its own cost. Like pxe-pdhcp it holds UDP 4011, so that the kernel
// sends no ICMP port unreachable (and resolves no neighbour) for each request.
//
//   pxe-reflector -i IFACE -a ADDRESS     (runs until SIGTERM/SIGINT)
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "capture/bpf_filter.h"
#include "capture/interfaces.h"
#include "capture/packet_ring.h"
#include "capture/port_holder.h"
#include "engine/bootp.h"
#include "engine/checksum.h"
#include "engine/dhcp_options.h"
#include "tools/config.h"

namespace pxe {
namespace {

std::atomic<bool> stop{false};

constexpr size_t kIp = kEthernetHeaderSize;
constexpr size_t kUdp = kIp + kIpv4MinHeaderSize;
constexpr size_t kBootp = kUdp + kUdpHeaderSize;

// Written over the request's END: 54 = us, and in an offer 43 = 06 01 08 FF
// (PXE 2.1 43.6 bit 3: boot the file named here, what a PXE ROM needs to
// take a proxy offer's file), then END.
constexpr size_t kAddedOptions = 6 + 6 + 1;

// Patches a copy of a request (untagged, IHL 5) into a reply, in a buffer
// of `room` bytes. Returns the reply's size, or 0 if the frame is not a
// DISCOVER to 67 or a REQUEST to 4011 of that shape.
size_t Reflect(uint8_t* f, size_t size, size_t room, const MacAddress& mac,
               uint32_t self) {
  if (size < kBootp + bootp::kOptions || LoadBe16(f + 12) != kEtherTypeIpv4 ||
      f[kIp] != 0x45 || room < size + kAddedOptions) {
    return 0;
  }
  const uint16_t dst_port = LoadBe16(f + kUdp + 2);
  const uint8_t reply_type = dst_port == kDhcpServerPort  ? 2  // OFFER
                             : dst_port == kPxeServerPort ? 5  // ACK
                                                          : 0;
  if (reply_type == 0 || f[kBootp + bootp::kOp] != bootp::kOpRequest) {
    return 0;
  }
  // Option 53, and the END where ours go.
  uint8_t* opt = f + kBootp + bootp::kOptions;
  const uint8_t* end = f + size;
  uint8_t* type = nullptr;
  while (opt < end && *opt != dhcp::kEnd) {
    if (*opt == dhcp::kPad) {
      ++opt;
      continue;
    }
    if (end - opt < 2 || end - opt - 2 < opt[1]) return 0;
    if (*opt == dhcp::kMessageType && opt[1] == 1) type = opt;
    opt += 2 + opt[1];
  }
  if (type == nullptr || opt >= end) return 0;
  type[2] = reply_type;
  const bool ack = reply_type == 5;
  *opt++ = dhcp::kServerId;
  *opt++ = 4;
  StoreBe32(opt, self);
  opt += 4;
  if (!ack) {
    const uint8_t boot_file_now[] = {
        dhcp::kVendorSpecific, 4, 6, 1, 8, dhcp::kEnd};
    std::memcpy(opt, boot_file_now, sizeof(boot_file_now));
    opt += sizeof(boot_file_now);
  }
  *opt++ = dhcp::kEnd;
  const size_t reply_size =
      std::max(size, static_cast<size_t>(opt - f));  // padding stays

  const uint32_t ciaddr = LoadBe32(f + kBootp + bootp::kCiaddr);
  std::memcpy(f, ack ? f + 6 : kBroadcastMac.data(), 6);
  std::memcpy(f + 6, mac.data(), 6);
  StoreBe16(f + kIp + 2, static_cast<uint16_t>(reply_size - kIp));
  StoreBe32(f + kIp + 12, self);
  StoreBe32(f + kIp + 16, ack ? ciaddr : 0xFFFFFFFF);
  f[kIp + 8] = 64;
  StoreBe16(f + kIp + 10, 0);
  StoreBe16(f + kIp + 10,
            ChecksumFinish(ChecksumAdd(0, {f + kIp, kIpv4MinHeaderSize})));
  const uint16_t client_port = LoadBe16(f + kUdp);
  StoreBe16(f + kUdp, dst_port);
  StoreBe16(f + kUdp + 2, ack ? client_port : kDhcpClientPort);
  StoreBe16(f + kUdp + 4, static_cast<uint16_t>(reply_size - kUdp));
  StoreBe16(f + kUdp + 6, 0);
  f[kBootp + bootp::kOp] = bootp::kOpReply;
  StoreBe32(f + kBootp + bootp::kYiaddr, ack ? ciaddr : 0);
  StoreBe32(f + kBootp + bootp::kSiaddr, self);
  if (!ack) StoreBe16(f + kBootp + bootp::kFlags, bootp::kFlagBroadcast);
  // A boot file, as every real reply to a booting client names one.
  constexpr char kFile[16] = "pxelinux.0";
  std::memcpy(f + kBootp + bootp::kFile, kFile, sizeof(kFile));
  return reply_size;
}

int Run(const std::string& name, uint32_t self) {
  absl::StatusOr<InterfaceInfo> info = LookupInterface(name);
  if (!info.ok()) {
    std::fprintf(stderr, "pxe-reflector: %s\n",
                 std::string(info.status().message()).c_str());
    return 1;
  }
  const InterfaceAddress ours[] = {{self, 32}};
  absl::StatusOr<BpfProgram> filter = CompileFilter(DhcpFilterExpression(ours));
  if (!filter.ok()) return 1;
  absl::StatusOr<std::unique_ptr<PacketRing>> ring =
      PacketRing::Open(*info, RingOptions{}, *filter);
  if (!ring.ok()) {
    std::fprintf(stderr, "pxe-reflector: %s\n",
                 std::string(ring.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<UniqueFd> port_4011 = HoldUdpPort(kPxeServerPort);
  if (!port_4011.ok() && !absl::IsAlreadyExists(port_4011.status())) {
    std::fprintf(stderr, "pxe-reflector: %s\n",
                 std::string(port_4011.status().message()).c_str());
    return 1;
  }
  std::vector<RxFrame> batch(64);
  uint64_t answered = 0;
  std::fprintf(stderr, "pxe-reflector: answering on %s\n", name.c_str());
  while (!stop.load(std::memory_order_relaxed)) {
    absl::StatusOr<size_t> n = (*ring)->Receive(batch, 200);
    if (!n.ok()) break;
    for (size_t i = 0; i < *n; ++i) {
      std::span<uint8_t> slot = (*ring)->NextSlot();
      if (slot.empty()) {
        (void)(*ring)->Flush();
        slot = (*ring)->NextSlot();
      }
      const std::span<const uint8_t> in = batch[i].data;
      if (slot.size() < in.size()) continue;
      std::memcpy(slot.data(), in.data(), in.size());
      if (const size_t size =
              Reflect(slot.data(), in.size(), slot.size(), info->mac, self)) {
        (*ring)->Commit(size);
        ++answered;
      }
    }
    (*ring)->ReleaseHeld();
    (void)(*ring)->Flush();
  }
  std::fprintf(stderr, "pxe-reflector: %llu answered\n",
               static_cast<unsigned long long>(answered));
  return 0;
}

}  // namespace
}  // namespace pxe

int main(int argc, char** argv) {
  std::string interface;
  std::string address;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "-i") interface = argv[i + 1];
    if (flag == "-a") address = argv[i + 1];
  }
  absl::StatusOr<uint32_t> self = pxe::ParseIpv4(address);
  if (interface.empty() || !self.ok()) {
    std::fprintf(stderr, "usage: pxe-reflector -i IFACE -a ADDRESS\n");
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = [](int) { pxe::stop.store(true); };
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return pxe::Run(interface, *self);
}
