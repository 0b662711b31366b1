// Offline packet I/O through libpcap: replay a capture into the engine and
// record its replies, with no root and no network.
#ifndef PXE_CAPTURE_PCAP_FILE_H_
#define PXE_CAPTURE_PCAP_FILE_H_

#include <pcap/pcap.h>

#include <memory>
#include <string>
#include <vector>

#include "capture/packet_io.h"

namespace pxe {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct PcapDumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

// Reads an Ethernet (DLT_EN10MB) capture. Frames are copied into the source's
// own buffers (a file is not the fast path), so a whole batch stays valid.
// Checksum status is kUnknown: non-zero UDP checksums are verified, as for
// frames off the wire.
class PcapFileSource : public PacketSource {
 public:
  static absl::StatusOr<std::unique_ptr<PcapFileSource>> Open(
      const std::string& path);

  absl::StatusOr<size_t> Receive(std::span<RxFrame> batch,
                                 int timeout_ms) override;

 private:
  explicit PcapFileSource(PcapHandle handle) : handle_(std::move(handle)) {}

  PcapHandle handle_;
  std::vector<std::vector<uint8_t>> buffers_;
};

// Writes frames to an Ethernet pcap file, one record per committed slot.
class PcapFileSink : public PacketSink {
 public:
  static absl::StatusOr<std::unique_ptr<PcapFileSink>> Create(
      const std::string& path);
  ~PcapFileSink() override;

  std::span<uint8_t> NextSlot() override { return slot_; }
  void Commit(size_t size) override;
  absl::Status Flush() override;

  // Timestamp of the records written next (e.g. the request's time).
  void set_timestamp_ns(uint64_t ns) { timestamp_ns_ = ns; }
  size_t frames_written() const { return frames_written_; }

 private:
  PcapFileSink(PcapHandle handle, pcap_dumper_t* dumper)
      : handle_(std::move(handle)), dumper_(dumper) {}

  PcapHandle handle_;
  std::unique_ptr<pcap_dumper_t, PcapDumperCloser> dumper_;
  std::vector<uint8_t> slot_ = std::vector<uint8_t>(2048);
  uint64_t timestamp_ns_ = 0;
  size_t frames_written_ = 0;
};

}  // namespace pxe

#endif  // PXE_CAPTURE_PCAP_FILE_H_
