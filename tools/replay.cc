#include "tools/replay.h"

#include <array>
#include <map>
#include <memory>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "capture/pcap_file.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/responder.h"
#include "engine/status_macros.h"
#include "tools/decision_log.h"

namespace pxe {
namespace {

// Writes replies into a pcap file (if any), stamped with the time the
// responder sent them.
class PcapReplySink : public ReplySink {
 public:
  explicit PcapReplySink(PcapFileSink* file) : file_(file) {}
  void set_now_ns(uint64_t now_ns) { now_ns_ = now_ns; }

  std::span<uint8_t> NextSlot(size_t) override {
    return file_ != nullptr ? file_->NextSlot() : std::span<uint8_t>(scratch_);
  }
  void Commit(size_t, size_t size, const RxMeta&) override {
    if (file_ == nullptr) return;
    file_->set_timestamp_ns(now_ns_);
    file_->Commit(size);
  }

 private:
  PcapFileSink* file_;
  uint64_t now_ns_ = 0;
  std::array<uint8_t, kMaxReplyFrameSize> scratch_;
};

// A request's identity, to name the capture frame a later reply answers.
using RequestKey = std::tuple<MacAddress, uint32_t, uint8_t, uint16_t>;
RequestKey KeyOf(const Request& r) {
  return {r.chaddr, r.xid, static_cast<uint8_t>(r.type), r.frame.udp_dst};
}

}  // namespace

absl::StatusOr<Counters> RunReplay(const DaemonConfig& config,
                                   const PolicySnapshot& policy, FILE* out) {
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<PcapFileSource> source,
                       PcapFileSource::Open(config.replay_path));
  std::unique_ptr<PcapFileSink> file;
  if (!config.write_path.empty()) {
    PXE_ASSIGN_OR_RETURN(file, PcapFileSink::Create(config.write_path));
  }
  PcapReplySink sink(file.get());
  std::map<RequestKey, size_t> frame_of;
  size_t index = 0;
  bool logged = false;
  auto log = [&](const Decision& d) {
    logged = true;
    if (d.request6 != nullptr) {
      // DHCPv6: the decision log's own fields.
      std::string line;
      for (const log::Field& f : DecisionFields(d)) {
        absl::StrAppend(&line, line.empty() ? "" : " ", std::string(f.key), "=",
                        f.value);
      }
      std::fprintf(out, "#%zu DHCPv6 %s\n", index, line.c_str());
      return;
    }
    auto it = frame_of.find(KeyOf(d.request));
    const size_t n = it != frame_of.end() ? it->second : index;
    const std::string by =
        d.answer == nullptr || d.answer->rule_name.empty()
            ? std::string()
            : " [rule " + std::string(d.answer->rule_name) + "]";
    if (d.reason == DropReason::kNone) {
      std::fprintf(out, "#%zu %s\n   -> %s%s\n", n,
                   DescribeRequest(d.request).c_str(),
                   DescribeReply(d.reply).c_str(), by.c_str());
    } else {
      std::fprintf(out, "#%zu no reply: %s%s\n", n,
                   std::string(DropReasonText(d.reason)).c_str(), by.c_str());
    }
  };
  // The capture stands for one interface: every --vlan is on it.
  std::vector<VlanAddresses> vlans;
  for (const VlanConfig& v : config.vlans) vlans.push_back(v.vlan);
  ResponderOptions options = config.worker.responder;
  options.log_every_decision = true;  // the replay reports every request
  Responder responder({{.name = "replay",
                        .mac = config.replay_mac,
                        .addresses = config.replay_addresses,
                        .addresses6 = config.replay_addresses6,
                        .vlans = std::move(vlans)}},
                      options, &sink, log);
  responder.SetPolicy(&policy);
  std::array<RxFrame, 64> batch;
  uint64_t now = 0;
  auto probe = std::make_unique<Request>();
  while (true) {
    absl::StatusOr<size_t> n = source->Receive(batch, 0);
    if (absl::IsOutOfRange(n.status())) break;
    if (!n.ok()) return n.status();
    for (size_t i = 0; i < *n; ++i) {
      ++index;
      // The capture's clock is the responder's: holds and delays expire as
      // they would have live.
      now = std::max(now, batch[i].meta.timestamp_ns);
      sink.set_now_ns(now);
      responder.Tick(now);
      if (ClassifyFrame(batch[i].data, batch[i].meta, probe.get()) ==
          DropReason::kNone) {
        frame_of[KeyOf(*probe)] = index;
      }
      const Counters before = responder.counters();
      const size_t held = responder.held();
      logged = false;
      responder.HandleFrame(0, batch[i].data, batch[i].meta, now);
      if (logged) continue;
      if (responder.held() > held) {
        std::fprintf(out, "#%zu held: answered when due\n", index);
        continue;
      }
      // Dropped without a log line (not a boot client): say why.
      for (size_t r = 0; r < kDropReasonCount; ++r) {
        if (responder.counters().by_reason[r] != before.by_reason[r]) {
          std::fprintf(
              out, "#%zu no reply: %s\n", index,
              std::string(DropReasonText(static_cast<DropReason>(r))).c_str());
        }
      }
    }
  }
  // Whatever is still held is answered when its time comes.
  now += HoldQueue::kMaxHoldNs;
  sink.set_now_ns(now);
  responder.Tick(now);
  if (file) PXE_RETURN_IF_ERROR(file->Flush());
  const Counters& counters = responder.counters();
  std::fprintf(out, "%llu frames, %llu answered\n",
               static_cast<unsigned long long>(counters.received()),
               static_cast<unsigned long long>(counters.answered()));
  return counters;
}

absl::StatusOr<Counters> RunReplay(const DaemonConfig& config, FILE* out) {
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<const PolicySnapshot> policy,
                       PolicySnapshot::Compile(config.policy));
  return RunReplay(config, *policy, out);
}

}  // namespace pxe
