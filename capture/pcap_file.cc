#include "capture/pcap_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace pxe {

absl::StatusOr<std::unique_ptr<PcapFileSource>> PcapFileSource::Open(
    const std::string& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  PcapHandle handle(pcap_open_offline(path.c_str(), error));
  if (!handle) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", error));
  }
  if (pcap_datalink(handle.get()) != DLT_EN10MB) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an Ethernet capture (link type ",
                     pcap_datalink(handle.get()), ")"));
  }
  return std::unique_ptr<PcapFileSource>(new PcapFileSource(std::move(handle)));
}

absl::StatusOr<size_t> PcapFileSource::Receive(std::span<RxFrame> batch,
                                               int /*timeout_ms*/) {
  if (buffers_.size() < batch.size()) buffers_.resize(batch.size());
  size_t n = 0;
  while (n < batch.size()) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc != 1) {
      return absl::DataLossError(
          absl::StrCat("reading capture: ", pcap_geterr(handle_.get())));
    }
    buffers_[n].assign(data, data + header->caplen);
    batch[n].data = buffers_[n];
    batch[n].meta =
        RxMeta{.timestamp_ns = uint64_t(header->ts.tv_sec) * 1'000'000'000 +
                               uint64_t(header->ts.tv_usec) * 1'000};
    ++n;
  }
  if (n == 0) return absl::OutOfRangeError("end of capture");
  return n;
}

absl::StatusOr<std::unique_ptr<PcapFileSink>> PcapFileSink::Create(
    const std::string& path) {
  PcapHandle handle(pcap_open_dead(DLT_EN10MB, 65535));
  if (!handle) return absl::InternalError("pcap_open_dead failed");
  pcap_dumper_t* dumper = pcap_dump_open(handle.get(), path.c_str());
  if (dumper == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", path, ": ", pcap_geterr(handle.get())));
  }
  return std::unique_ptr<PcapFileSink>(
      new PcapFileSink(std::move(handle), dumper));
}

PcapFileSink::~PcapFileSink() = default;

void PcapFileSink::Commit(size_t size) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(timestamp_ns_ / 1'000'000'000);
  header.ts.tv_usec =
      static_cast<suseconds_t>(timestamp_ns_ % 1'000'000'000 / 1'000);
  header.caplen = header.len = static_cast<bpf_u_int32>(size);
  pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &header, slot_.data());
  ++frames_written_;
}

absl::Status PcapFileSink::Flush() {
  if (pcap_dump_flush(dumper_.get()) != 0) {
    return absl::DataLossError("flushing the output capture failed");
  }
  return absl::OkStatus();
}

}  // namespace pxe
