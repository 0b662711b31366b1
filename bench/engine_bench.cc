// Cost of each stage of the packet path on real firmware requests from
// tests/data: ParseFrame (UDP checksum verified), the option index,
// ClassifyFrame, Decide, CraftReply, and the whole Respond(). The project's
// budget is 100 ns (median) per answered frame for Respond().
//
// As in a worker, the Request, the option index and the transmit buffer live
// outside the timed loop and are reused; only the stage itself is timed.
// Each stage's outcome is checked once before timing, so a benchmark never
// measures an early drop by mistake.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/reply.h"

namespace pxe {
namespace {

constexpr uint32_t kServer = MakeIpv4(10, 77, 0, 2);
constexpr MacAddress kServerMac = {0x02, 0, 0, 0, 0, 0x02};

// One frame of a capture in tests/data; `number` is 1-based, as tcpdump
// numbers frames.
struct FrameRef {
  const char* file;
  size_t number;
};

constexpr FrameRef kBiosDiscover = {"bios-ipxe-proxy-offer.pcap", 1};
constexpr FrameRef kBiosRequest4011 = {"bios-ipxe-proxy-offer.pcap", 6};
constexpr FrameRef kUefiDiscover = {"uefi-ovmf-proxy-offer.pcap", 1};
constexpr FrameRef kUefiRequest4011 = {"uefi-ovmf-proxy-offer.pcap", 6};
// A DHCP DISCOVER without "PXEClient" in option 60: the common frame a
// proxy sees on a busy LAN, and drops.
constexpr FrameRef kNonPxeDiscover = {"uefi-ovmf-proxy-offer.pcap", 8};

// Reads the frame once per process; later calls return the cached copy.
// Empty if the capture cannot be read (the benchmark then skips).
const std::vector<uint8_t>& LoadFrame(const FrameRef& ref) {
  static auto* cache =
      new std::map<std::pair<std::string, size_t>, std::vector<uint8_t>>();
  const auto key = std::make_pair(std::string(ref.file), ref.number);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  std::vector<uint8_t>& frame = (*cache)[key];
  auto source = PcapFileSource::Open(std::string(PXE_TEST_DATA_DIR) + "/" +
                                     std::string(ref.file));
  if (!source.ok()) return frame;
  std::vector<RxFrame> batch(256);
  absl::StatusOr<size_t> n = (*source)->Receive(batch, 0);
  if (n.ok() && *n >= ref.number) {
    const std::span<const uint8_t> data = batch[ref.number - 1].data;
    frame.assign(data.begin(), data.end());
  }
  return frame;
}

// The configuration every benchmark answers with: a BIOS NBP, a UEFI x64
// one, an iPXE script and an HTTP URL, as a typical deployment has.
const PolicySnapshot& Policy() {
  static const PolicySnapshot* policy = [] {
    BootPolicy p{.defaults = {.file = "pxelinux.0"}};
    p.defaults.files[static_cast<size_t>(ArchClass::kUefiX64)] = "syslinux.efi";
    p.defaults.http_url = "http://10.77.0.2/boot/ipxe.efi";
    return PolicySnapshot::Compile(std::move(p))->release();
  }();
  return *policy;
}

const ServerContext& Context() {
  static const std::array<InterfaceAddress, 1> addresses = {
      InterfaceAddress{kServer, 24}};
  static const ServerContext context{.mac = kServerMac, .addresses = addresses};
  return context;
}

// Frames as they come off a pcap file or a ring without checksum offload:
// the UDP checksum is verified in software.
constexpr RxMeta kVerifyMeta{.udp_checksum = UdpChecksumStatus::kUnknown};

// Loads `ref` and classifies it into `request`, which must then be a request
// to answer. False (and the benchmark marked as failed) otherwise.
bool Prepare(benchmark::State& state, const FrameRef& ref, Request* request) {
  const std::vector<uint8_t>& frame = LoadFrame(ref);
  if (frame.empty()) {
    state.SkipWithError("cannot read the frame from tests/data");
    return false;
  }
  const DropReason d = ClassifyFrame(frame, kVerifyMeta, request);
  if (d != DropReason::kNone) {
    state.SkipWithError(std::string(DropReasonText(d)).c_str());
    return false;
  }
  return true;
}

void BM_ParseFrame(benchmark::State& state, FrameRef ref) {
  auto request = std::make_unique<Request>();
  if (!Prepare(state, ref, request.get())) return;
  const std::span<const uint8_t> frame = LoadFrame(ref);
  FrameView view;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = ParseFrame(frame, kVerifyMeta, &view);
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();  // the view's fields count as written
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_OptionIndex(benchmark::State& state, FrameRef ref) {
  auto request = std::make_unique<Request>();
  if (!Prepare(state, ref, request.get())) return;
  auto index = std::make_unique<OptionIndex>();
  for (auto _ : state) {
    DropReason d = index->Parse(request->bootp);
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ClassifyFrame(benchmark::State& state, FrameRef ref) {
  auto request = std::make_unique<Request>();
  if (!Prepare(state, ref, request.get())) return;
  const std::span<const uint8_t> frame = LoadFrame(ref);
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = ClassifyFrame(frame, kVerifyMeta, request.get());
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Decide(benchmark::State& state, FrameRef ref) {
  auto request = std::make_unique<Request>();
  if (!Prepare(state, ref, request.get())) return;
  ReplyPlan plan;
  if (Decide(*request, Policy(), Context(), &plan) != DropReason::kNone) {
    state.SkipWithError("Decide() drops this request");
    return;
  }
  for (auto _ : state) {
    DropReason d = Decide(*request, Policy(), Context(), &plan);
    benchmark::DoNotOptimize(d);
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CraftReply(benchmark::State& state, FrameRef ref) {
  auto request = std::make_unique<Request>();
  if (!Prepare(state, ref, request.get())) return;
  ReplyPlan plan;
  if (Decide(*request, Policy(), Context(), &plan) != DropReason::kNone) {
    state.SkipWithError("Decide() drops this request");
    return;
  }
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  for (auto _ : state) {
    size_t size = CraftReply(*request, plan, Context(), out);
    benchmark::DoNotOptimize(size);
    benchmark::ClobberMemory();  // the frame counts as written
  }
  state.SetItemsProcessed(state.iterations());
}

// Frame in, reply frame out: everything a worker does per request except
// the ring I/O.
void BM_Respond(benchmark::State& state, FrameRef ref, DropReason expected) {
  const std::span<const uint8_t> frame = LoadFrame(ref);
  if (frame.empty()) {
    state.SkipWithError("cannot read the frame from tests/data");
    return;
  }
  auto request = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  if (Respond(frame, kVerifyMeta, Policy(), Context(), request.get(), out,
              &size) != expected) {
    state.SkipWithError("Respond() did not give the expected outcome");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = Respond(frame, kVerifyMeta, Policy(), Context(),
                           request.get(), out, &size);
    benchmark::DoNotOptimize(d);
    benchmark::DoNotOptimize(size);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

#define PXE_BENCH_STAGE(fn)                                        \
  BENCHMARK_CAPTURE(fn, bios_ipxe_discover, kBiosDiscover);        \
  BENCHMARK_CAPTURE(fn, uefi_ovmf_discover, kUefiDiscover);        \
  BENCHMARK_CAPTURE(fn, bios_ipxe_request_4011, kBiosRequest4011); \
  BENCHMARK_CAPTURE(fn, uefi_ovmf_request_4011, kUefiRequest4011)

PXE_BENCH_STAGE(BM_ParseFrame);
PXE_BENCH_STAGE(BM_OptionIndex);
PXE_BENCH_STAGE(BM_ClassifyFrame);
PXE_BENCH_STAGE(BM_Decide);
PXE_BENCH_STAGE(BM_CraftReply);

BENCHMARK_CAPTURE(BM_Respond, bios_ipxe_discover, kBiosDiscover,
                  DropReason::kNone);
BENCHMARK_CAPTURE(BM_Respond, uefi_ovmf_discover, kUefiDiscover,
                  DropReason::kNone);
BENCHMARK_CAPTURE(BM_Respond, bios_ipxe_request_4011, kBiosRequest4011,
                  DropReason::kNone);
BENCHMARK_CAPTURE(BM_Respond, uefi_ovmf_request_4011, kUefiRequest4011,
                  DropReason::kNone);
BENCHMARK_CAPTURE(BM_Respond, dropped_non_pxe_discover, kNonPxeDiscover,
                  DropReason::kNotBooting);

}  // namespace
}  // namespace pxe

BENCHMARK_MAIN();
