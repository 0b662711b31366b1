// Cost of each stage of the packet path on real firmware requests from
// tests/data: ParseFrame (UDP checksum verified), the option index,
// ClassifyFrame, Decide, CraftReply, the whole Respond(), and the
// Responder's whole per-frame work (duplicate filter, learned offers, rule
// lookup, decision, reply) with no rules and with 11,050. The project's
// budget is 100 ns (median) per answered frame for the Responder. The
// DHCPv6 path has the same stages (ParseFrame6, ClassifyFrame6, the whole
// Respond6() and the Responder) on OVMF's captured PXEv6 and HTTPv6
// Solicits and a PXEv6 Request to 4011.
//
// As in a worker, the Request, the option index and the transmit buffer live
// outside the timed loop and are reused; only the stage itself is timed.
// Each stage's outcome is checked once before timing, so a benchmark never
// measures an early drop by mistake.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/pcap_file.h"
#include "engine/reply.h"
#include "engine/reply6.h"
#include "engine/responder.h"

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
constexpr FrameRef kPxe6Solicit = {
    "ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap", 5};
constexpr FrameRef kHttp6Solicit = {
    "ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap", 13};
// A frame file of fuzz_frame's seed corpus (number 0): OVMF's PXEv6 Request
// to [fd77::2]:4011 with our server ID, built from the captured Solicit by
// tests/fuzz/make_corpus.py.
constexpr FrameRef kPxe6Request4011 = {"../fuzz/corpus/variant6-request-4011",
                                       0};

// Reads the frame once per process; later calls return the cached copy.
// Empty if the capture cannot be read (the benchmark then skips).
const std::vector<uint8_t>& LoadFrame(const FrameRef& ref) {
  static auto* cache =
      new std::map<std::pair<std::string, size_t>, std::vector<uint8_t>>();
  const auto key = std::make_pair(std::string(ref.file), ref.number);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  std::vector<uint8_t>& frame = (*cache)[key];
  if (ref.number == 0) {
    const std::string path =
        std::string(PXE_TEST_DATA_DIR) + "/" + std::string(ref.file);
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
      std::array<uint8_t, 2048> buffer;
      frame.assign(
          buffer.begin(),
          buffer.begin() + std::fread(buffer.data(), 1, buffer.size(), f));
      std::fclose(f);
    }
    return frame;
  }
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
    p.defaults.http_url6 = "http://[fd77::2]/boot/ipxe.efi";
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

// fe80::2 and fd77::2/64.
const std::vector<Ipv6InterfaceAddress>& Addresses6() {
  static const auto* addresses = new std::vector<Ipv6InterfaceAddress>{
      {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64},
      {{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64}};
  return *addresses;
}

const ServerContext6& Context6() {
  static const ServerContext6 context{.mac = kServerMac,
                                      .addresses = Addresses6()};
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

void BM_ParseFrame6(benchmark::State& state, FrameRef ref) {
  const std::span<const uint8_t> frame = LoadFrame(ref);
  FrameView6 view;
  if (frame.empty() ||
      ParseFrame6(frame, kVerifyMeta, &view) != DropReason::kNone) {
    state.SkipWithError("the frame does not parse");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = ParseFrame6(frame, kVerifyMeta, &view);
    benchmark::DoNotOptimize(d);
    benchmark::DoNotOptimize(view);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ClassifyFrame6(benchmark::State& state, FrameRef ref) {
  const std::span<const uint8_t> frame = LoadFrame(ref);
  auto request = std::make_unique<Request6>();
  if (frame.empty() ||
      ClassifyFrame6(frame, kVerifyMeta, request.get()) != DropReason::kNone) {
    state.SkipWithError("the frame is not a request to answer");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = ClassifyFrame6(frame, kVerifyMeta, request.get());
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Respond6(benchmark::State& state, FrameRef ref) {
  const std::span<const uint8_t> frame = LoadFrame(ref);
  auto request = std::make_unique<Request6>();
  std::array<uint8_t, kMaxReplyFrameSize> out{};
  size_t size = 0;
  if (frame.empty() ||
      Respond6(frame, kVerifyMeta, Policy(), Context6(), request.get(), out,
               &size) != DropReason::kNone) {
    state.SkipWithError("Respond6() did not answer");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    DropReason d = Respond6(frame, kVerifyMeta, Policy(), Context6(),
                            request.get(), out, &size);
    benchmark::DoNotOptimize(d);
    benchmark::DoNotOptimize(size);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

#define PXE_BENCH_STAGE6(fn)                                 \
  BENCHMARK_CAPTURE(fn, ovmf_pxev6_solicit, kPxe6Solicit);   \
  BENCHMARK_CAPTURE(fn, ovmf_httpv6_solicit, kHttp6Solicit); \
  BENCHMARK_CAPTURE(fn, ovmf_pxev6_request_4011, kPxe6Request4011)

PXE_BENCH_STAGE6(BM_ParseFrame6);
PXE_BENCH_STAGE6(BM_ClassifyFrame6);
PXE_BENCH_STAGE6(BM_Respond6);

// A sink with one reusable slot: the reply is written, never sent.
class DiscardSink : public ReplySink {
 public:
  std::span<uint8_t> NextSlot(size_t) override { return slot_; }
  void Commit(size_t, size_t size, const RxMeta&) override {
    ++committed_;
    benchmark::DoNotOptimize(size);
  }
  uint64_t committed() const { return committed_; }

 private:
  std::array<uint8_t, kMaxReplyFrameSize> slot_{};
  uint64_t committed_ = 0;
};

MacAddress ChaddrOf(const FrameRef& ref) {
  auto request = std::make_unique<Request>();
  ClassifyFrame(LoadFrame(ref), kVerifyMeta, request.get());
  return request->chaddr;
}

// The large policy: 10,000 exact-MAC rules, 1,000 subnet rules and
// 50 MAC-wildcard rules, each with its own file. The captured BIOS and UEFI
// clients match exact rules deep in the list (5,000 and 9,999), one subnet
// rule covers the 4011 requests' subnet, and one wildcard rule their OUI:
// every lookup kind finds candidates, and first-match order must pick the
// exact rule.
// Null if it does not compile (the benchmark then skips).
const PolicySnapshot* RulesPolicy() {
  static const PolicySnapshot* policy = [] {
    BootPolicy p = Policy().policy();
    const MacAddress bios = ChaddrOf(kBiosDiscover);
    const MacAddress uefi = ChaddrOf(kUefiDiscover);
    auto add = [&](RuleMatch match) {
      const size_t n = p.rules.size();
      p.rules.push_back(
          {.name = "rule-" + std::to_string(n),
           .match = std::move(match),
           .answer = {.file = "rule-" + std::to_string(n) + ".0"}});
    };
    for (uint32_t i = 0; i < 10'000; ++i) {
      MacAddress mac = {0x02,
                        0x00,
                        0x00,
                        static_cast<uint8_t>(i >> 16),
                        static_cast<uint8_t>(i >> 8),
                        static_cast<uint8_t>(i)};
      if (i == 5'000) mac = bios;
      if (i == 9'999) mac = uefi;
      add({.mac = {{.octets = mac, .length = 6}}});
    }
    for (uint32_t i = 0; i < 1'000; ++i) {
      uint32_t network = MakeIpv4(10, 0, 0, 0) + (i << 8);
      if (i == 999) network = kServer & Ipv4Prefix::Mask(24);
      add({.subnet = {{.network = network, .prefix_length = 24}}});
    }
    for (uint32_t i = 0; i < 50; ++i) {
      MacPattern oui{.octets = {0x0c, static_cast<uint8_t>(i), 0x11},
                     .length = static_cast<uint8_t>(3 + i % 3)};
      if (i == 49) oui = {.octets = {bios[0], bios[1], bios[2]}, .length = 3};
      add({.mac = {oui}});
    }
    auto compiled = PolicySnapshot::Compile(std::move(p));
    return compiled.ok() ? compiled->release() : nullptr;
  }();
  return policy;
}

// A frame in, a reply written: everything a worker does per frame but the
// ring I/O. The clock moves 1 s per frame, past the duplicate filter's
// window and one token of the default per-client rate limit (60 a minute),
// so every frame is answered.
void BM_Responder(benchmark::State& state, FrameRef ref, bool rules) {
  const std::span<const uint8_t> frame = LoadFrame(ref);
  if (frame.empty()) {
    state.SkipWithError("cannot read the frame from tests/data");
    return;
  }
  const PolicySnapshot* policy = rules ? RulesPolicy() : &Policy();
  if (policy == nullptr) {
    state.SkipWithError("the large policy does not compile");
    return;
  }
  DiscardSink sink;
  Responder responder({{.name = "eth0",
                        .ifindex = 2,
                        .mac = kServerMac,
                        .addresses = {InterfaceAddress{kServer, 24}},
                        .addresses6 = Addresses6()}},
                      ResponderOptions{}, &sink);
  responder.SetPolicy(policy);
  uint64_t now_ns = 1'000'000'000;
  constexpr uint64_t kStep = 1'000'000'000;
  responder.HandleFrame(0, frame, kVerifyMeta, now_ns);
  if (sink.committed() != 1) {
    state.SkipWithError("the Responder did not answer this frame");
    return;
  }
  for (auto _ : state) {
    now_ns += kStep;
    benchmark::DoNotOptimize(frame.data());
    responder.HandleFrame(0, frame, kVerifyMeta, now_ns);
    benchmark::ClobberMemory();
  }
  if (sink.committed() != static_cast<uint64_t>(state.iterations()) + 1) {
    state.SkipWithError("some frames were not answered");
  }
  state.SetItemsProcessed(state.iterations());
}

// The rule lookup alone, for the captured BIOS client's DISCOVER and 4011
// REQUEST (whose address makes the subnet rules candidates too).
void BM_RuleLookup(benchmark::State& state, FrameRef ref) {
  const PolicySnapshot* policy = RulesPolicy();
  auto request = std::make_unique<Request>();
  if (policy == nullptr || !Prepare(state, ref, request.get())) return;
  const ClientFacts facts = FactsOf(*request, request->ciaddr, "eth0");
  int rule = -1;
  policy->AnswerFor(facts, &rule);
  if (rule < 0) {
    state.SkipWithError("no rule matches the captured client");
    return;
  }
  for (auto _ : state) {
    const ResolvedAnswer& answer = policy->AnswerFor(facts, &rule);
    benchmark::DoNotOptimize(&answer);
    benchmark::DoNotOptimize(rule);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_RuleLookup, rules_11050_bios_ipxe_discover, kBiosDiscover);
BENCHMARK_CAPTURE(BM_RuleLookup, rules_11050_bios_ipxe_request_4011,
                  kBiosRequest4011);

#define PXE_BENCH_RESPONDER(name, rules)                                    \
  BENCHMARK_CAPTURE(BM_Responder, name##_bios_ipxe_discover, kBiosDiscover, \
                    rules);                                                 \
  BENCHMARK_CAPTURE(BM_Responder, name##_uefi_ovmf_discover, kUefiDiscover, \
                    rules);                                                 \
  BENCHMARK_CAPTURE(BM_Responder, name##_bios_ipxe_request_4011,            \
                    kBiosRequest4011, rules);                               \
  BENCHMARK_CAPTURE(BM_Responder, name##_uefi_ovmf_request_4011,            \
                    kUefiRequest4011, rules)

PXE_BENCH_RESPONDER(no_rules, false);
BENCHMARK_CAPTURE(BM_Responder, no_rules_ovmf_pxev6_solicit, kPxe6Solicit,
                  false);
BENCHMARK_CAPTURE(BM_Responder, no_rules_ovmf_httpv6_solicit, kHttp6Solicit,
                  false);
BENCHMARK_CAPTURE(BM_Responder, no_rules_ovmf_pxev6_request_4011,
                  kPxe6Request4011, false);
PXE_BENCH_RESPONDER(rules_11050, true);

}  // namespace
}  // namespace pxe

BENCHMARK_MAIN();
