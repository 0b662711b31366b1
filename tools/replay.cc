#include "tools/replay.h"

#include <array>
#include <memory>

#include "capture/pcap_file.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/status_macros.h"

namespace pxe {

absl::StatusOr<Counters> RunReplay(const DaemonConfig& config, FILE* out) {
  PXE_ASSIGN_OR_RETURN(std::unique_ptr<PcapFileSource> source,
                       PcapFileSource::Open(config.replay_path));
  std::unique_ptr<PcapFileSink> sink;
  if (!config.write_path.empty()) {
    PXE_ASSIGN_OR_RETURN(sink, PcapFileSink::Create(config.write_path));
  }
  const ServerContext context{.mac = config.replay_mac,
                              .addresses = config.replay_addresses};
  Counters counters;
  auto request = std::make_unique<Request>();
  std::array<uint8_t, kMaxReplyFrameSize> reply{};
  std::array<RxFrame, 64> batch;
  size_t index = 0;
  while (true) {
    absl::StatusOr<size_t> n = source->Receive(batch, 0);
    if (absl::IsOutOfRange(n.status())) break;
    if (!n.ok()) return n.status();
    for (size_t i = 0; i < *n; ++i) {
      ++index;
      size_t size = 0;
      const DropReason d = Respond(batch[i].data, batch[i].meta, config.policy,
                                   context, request.get(), reply, &size);
      counters.Count(d);
      if (d == DropReason::kNone) {
        std::fprintf(out, "#%zu %s\n   -> %s\n", index,
                     DescribeRequest(*request).c_str(),
                     DescribeReply({reply.data(), size}).c_str());
        if (sink) {
          std::span<uint8_t> slot = sink->NextSlot();
          std::copy_n(reply.begin(), size, slot.begin());
          sink->set_timestamp_ns(batch[i].meta.timestamp_ns);
          sink->Commit(size);
        }
      } else {
        std::fprintf(out, "#%zu no reply: %s\n", index,
                     std::string(DropReasonText(d)).c_str());
      }
    }
  }
  if (sink) PXE_RETURN_IF_ERROR(sink->Flush());
  std::fprintf(out, "%llu frames, %llu answered\n",
               static_cast<unsigned long long>(counters.received()),
               static_cast<unsigned long long>(counters.answered()));
  return counters;
}

}  // namespace pxe
