// Offline mode over the real firmware captures: RunReplay() and the built
// pxe-pdhcp binary, as a user runs them (`pxe-pdhcp --replay in.pcap
// --write out.pcap ...`). Each capture holds two PXE requests to answer,
// frames 1 (DISCOVER on 67) and 6 (REQUEST on 4011).
#include "tools/replay.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef PXE_TEST_DATA_DIR
#error "PXE_TEST_DATA_DIR must name tests/data"
#endif
#ifndef PXE_PDHCP_BINARY
#error "PXE_PDHCP_BINARY must name the built pxe-pdhcp"
#endif

namespace pxe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint32_t kReplayAddress = MakeIpv4(10, 77, 0, 2);

struct PcapRecord {
  std::vector<uint8_t> bytes;
  uint64_t timestamp_ns;
};

// Every record of the Ethernet capture at `path`, read with libpcap alone.
std::vector<PcapRecord> ReadPcap(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_open_offline(path.c_str(), error);
  EXPECT_NE(pcap, nullptr) << path << ": " << error;
  std::vector<PcapRecord> out;
  if (pcap == nullptr) return out;
  EXPECT_EQ(pcap_datalink(pcap), DLT_EN10MB);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    out.push_back({std::vector<uint8_t>(data, data + header->caplen),
                   uint64_t(header->ts.tv_sec) * 1'000'000'000 +
                       uint64_t(header->ts.tv_usec) * 1'000});
  }
  pcap_close(pcap);
  return out;
}

std::string DataFile(const std::string& name) {
  return std::string(PXE_TEST_DATA_DIR) + "/" + name;
}

std::string FileField(const Request& r) {
  std::span<const uint8_t> file = r.bootp.file();
  std::string out(file.begin(), file.end());
  return out.substr(0, out.find('\0'));
}

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "pxe-replay-test-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  bool ok() const { return !path_.empty(); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Captures everything a FILE* receives, as a string.
class MemoryStream {
 public:
  MemoryStream() : file_(open_memstream(&buffer_, &size_)) {}
  ~MemoryStream() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(buffer_);
  }
  FILE* get() { return file_; }
  std::string Text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

class ReplayTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Capture() const { return DataFile(GetParam()); }

  DaemonConfig ConfigWriting(const std::string& out) const {
    DaemonConfig config;
    config.policy.defaults.file = "pxelinux.0";
    config.replay_path = Capture();
    config.write_path = out;
    config.replay_addresses = {
        {.address = kReplayAddress, .prefix_length = 24}};
    return config;
  }
};

TEST_P(ReplayTest, AnswersTheTwoRequestsAndCountsEveryFrame) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::vector<PcapRecord> input = ReadPcap(Capture());
  ASSERT_GE(input.size(), 6u);

  MemoryStream out;
  absl::StatusOr<Counters> counters =
      RunReplay(ConfigWriting(dir.File("out.pcap")), out.get());
  ASSERT_TRUE(counters.ok()) << counters.status();
  EXPECT_EQ(counters->answered(), 2u);
  EXPECT_EQ(counters->received(), input.size());
  uint64_t drops = 0;
  for (size_t i = 1; i < kDropReasonCount; ++i) drops += counters->by_reason[i];
  EXPECT_EQ(counters->received(), counters->answered() + drops);

  // One entry per frame, in order: frames 1 and 6 answered, the rest not.
  const std::string text = out.Text();
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "");  // ends with a newline
  lines.pop_back();
  ASSERT_EQ(lines.size(), input.size() + 2 + 1) << text;
  size_t line = 0;
  for (size_t frame = 1; frame <= input.size(); ++frame) {
    const std::string number = "#" + std::to_string(frame) + " ";
    if (frame == 1 || frame == 6) {
      EXPECT_THAT(lines[line],
                  StartsWith(number + (frame == 1 ? "DISCOVER" : "REQUEST")))
          << text;
      EXPECT_THAT(lines[line + 1],
                  StartsWith(frame == 1 ? "   -> OFFER 10.77.0.2:67 "
                                        : "   -> ACK 10.77.0.2:4011 "))
          << text;
      line += 2;
    } else {
      EXPECT_THAT(lines[line], StartsWith(number + "no reply: ")) << text;
      line += 1;
    }
  }
  EXPECT_EQ(lines.back(), std::to_string(input.size()) + " frames, 2 answered");
}

TEST_P(ReplayTest, WritesTwoValidRepliesToThePcap) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::vector<PcapRecord> input = ReadPcap(Capture());
  ASSERT_GE(input.size(), 6u);
  MemoryStream out;
  absl::StatusOr<Counters> counters =
      RunReplay(ConfigWriting(dir.File("out.pcap")), out.get());
  ASSERT_TRUE(counters.ok()) << counters.status();

  const std::vector<PcapRecord> written = ReadPcap(dir.File("out.pcap"));
  ASSERT_EQ(written.size(), 2u);
  const size_t request_frames[] = {0, 5};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i == 0 ? "OFFER" : "ACK");
    auto request = std::make_unique<Request>();
    ASSERT_EQ(
        ClassifyFrame(input[request_frames[i]].bytes, RxMeta{}, request.get()),
        DropReason::kNone);
    auto reply = std::make_unique<Request>();
    // Correct IPv4 and UDP checksums, a DHCP reply to the client.
    ASSERT_EQ(ClassifyFrame(written[i].bytes, RxMeta{}, reply.get()),
              DropReason::kServerReply);
    EXPECT_EQ(reply->xid, request->xid);
    EXPECT_EQ(reply->chaddr, request->chaddr);
    EXPECT_EQ(reply->frame.ip_src, kReplayAddress);
    EXPECT_EQ(reply->server_id, kReplayAddress);
    EXPECT_EQ(reply->frame.eth_src,
              (MacAddress{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
    // Stamped with the request's time.
    EXPECT_EQ(written[i].timestamp_ns, input[request_frames[i]].timestamp_ns);
    if (i == 0) {
      EXPECT_EQ(reply->type, dhcp::MessageType::kOffer);
      EXPECT_EQ(reply->yiaddr, 0u);  // a proxy never offers an address
      EXPECT_EQ(reply->frame.udp_dst, 68);
    } else {
      EXPECT_EQ(reply->type, dhcp::MessageType::kAck);
      EXPECT_EQ(reply->frame.udp_src, 4011);
      EXPECT_EQ(reply->frame.ip_dst, request->ciaddr);
      // At most the client's own address, echoed.
      EXPECT_TRUE(reply->yiaddr == 0 || reply->yiaddr == request->ciaddr)
          << reply->yiaddr;
      EXPECT_EQ(FileField(*reply), "pxelinux.0");
    }
  }
}

TEST_P(ReplayTest, WithoutWriteOnlyPrints) {
  DaemonConfig config = ConfigWriting("");
  MemoryStream out;
  absl::StatusOr<Counters> counters = RunReplay(config, out.get());
  ASSERT_TRUE(counters.ok()) << counters.status();
  EXPECT_EQ(counters->answered(), 2u);
  EXPECT_THAT(out.Text(), HasSubstr(" frames, 2 answered\n"));
}

INSTANTIATE_TEST_SUITE_P(RealFirmware, ReplayTest,
                         ::testing::Values("bios-ipxe-proxy-offer.pcap",
                                           "uefi-ovmf-proxy-offer.pcap",
                                           "uefi-ovmf-port4011.pcap"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name =
                               p.param.substr(0, p.param.find('.'));
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(RunReplayTest, MissingCaptureNamesThePath) {
  DaemonConfig config;
  config.policy.defaults.file = "pxelinux.0";
  config.replay_path = "/nonexistent/pxe-replay-test.pcap";
  config.replay_addresses = {{.address = kReplayAddress}};
  MemoryStream out;
  absl::StatusOr<Counters> counters = RunReplay(config, out.get());
  ASSERT_FALSE(counters.ok());
  EXPECT_THAT(std::string(counters.status().message()),
              HasSubstr("/nonexistent/pxe-replay-test.pcap"));
}

TEST(RunReplayTest, UnwritableOutputNamesThePath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  DaemonConfig config;
  config.policy.defaults.file = "pxelinux.0";
  config.replay_path = DataFile("bios-ipxe-proxy-offer.pcap");
  config.write_path = dir.File("no-such-dir/out.pcap");
  config.replay_addresses = {{.address = kReplayAddress}};
  MemoryStream out;
  absl::StatusOr<Counters> counters = RunReplay(config, out.get());
  ASSERT_FALSE(counters.ok());
  EXPECT_THAT(std::string(counters.status().message()),
              HasSubstr(config.write_path));
}

TEST(RunReplayTest, NotAPcapIsAnError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("text.pcap");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("not a capture\n", f);
  std::fclose(f);
  DaemonConfig config;
  config.policy.defaults.file = "pxelinux.0";
  config.replay_path = path;
  config.replay_addresses = {{.address = kReplayAddress}};
  MemoryStream out;
  absl::StatusOr<Counters> counters = RunReplay(config, out.get());
  ASSERT_FALSE(counters.ok());
  EXPECT_THAT(std::string(counters.status().message()), HasSubstr(path));
}

// --- The built binary, end to end ---

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs pxe-pdhcp with `args` (at most 30 s), stdout and stderr apart.
RunResult RunBinary(const std::vector<std::string>& args) {
  RunResult result;
  TempDir dir;
  if (!dir.ok()) return result;
  const std::string err_path = dir.File("stderr");
  std::string command = "timeout 30 " + Quote(PXE_PDHCP_BINARY);
  for (const std::string& a : args) command += " " + Quote(a);
  command += " 2>" + Quote(err_path) + " </dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* err = std::fopen(err_path.c_str(), "r")) {
    while ((n = std::fread(buffer, 1, sizeof(buffer), err)) > 0) {
      result.err.append(buffer, n);
    }
    std::fclose(err);
  }
  return result;
}

// The line of `text` containing `needle`, or "".
std::string LineWith(const std::string& text, const std::string& needle) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.find(needle) != absl::string_view::npos) return std::string(line);
  }
  return "";
}

class BinaryReplayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BinaryReplayTest, PrintsTheOfferAndTheAck) {
  const RunResult r =
      RunBinary({"--replay", DataFile(GetParam()), "--replay-address",
                 "10.77.0.2/24", "pxelinux.0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string offer = LineWith(r.out, "-> OFFER ");
  EXPECT_THAT(offer, HasSubstr("10.77.0.2:67 -> 255.255.255.255:68")) << r.out;
  const std::string ack = LineWith(r.out, "-> ACK ");
  EXPECT_THAT(ack, HasSubstr("10.77.0.2:4011 -> 10.77.0.113:")) << r.out;
  EXPECT_THAT(ack, HasSubstr("file \"pxelinux.0\"")) << r.out;
  if (GetParam().starts_with("bios")) {
    // BIOS clients get the file in the OFFER already.
    EXPECT_THAT(offer, HasSubstr("file \"pxelinux.0\"")) << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr(" frames, 2 answered\n"));
}

TEST_P(BinaryReplayTest, WritesTheRepliesWithWrite) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string out = dir.File("replies.pcap");
  const RunResult r =
      RunBinary({"--replay", DataFile(GetParam()), "--write", out,
                 "--replay-address", "10.77.0.2/24", "pxelinux.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<PcapRecord> written = ReadPcap(out);
  ASSERT_EQ(written.size(), 2u);
  for (const PcapRecord& record : written) {
    auto reply = std::make_unique<Request>();
    EXPECT_EQ(ClassifyFrame(record.bytes, RxMeta{}, reply.get()),
              DropReason::kServerReply);
  }
}

INSTANTIATE_TEST_SUITE_P(RealFirmware, BinaryReplayTest,
                         ::testing::Values("bios-ipxe-proxy-offer.pcap",
                                           "uefi-ovmf-proxy-offer.pcap",
                                           "uefi-ovmf-port4011.pcap"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string name =
                               p.param.substr(0, p.param.find('.'));
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// OVMF's captured PXEv6 and HTTPv6 Solicits, offline: --replay-address
// with an IPv6 prefix (and the link-local address added for it) answers
// each with an Advertise, written to the pcap with its IPv4 replies.
TEST(BinaryTest, ReplayAnswersCapturedDhcpv6Solicits) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string out = dir.File("replies.pcap");
  const RunResult r = RunBinary(
      {"--replay", DataFile("ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap"),
       "--write", out, "--replay-address", "10.77.0.2/24", "--replay-address",
       "fd77::2/64", "--http-url", "http://[fd77::2]/boot/bootx64.efi",
       "--boot-file", "uefi-x64=bootx64.efi", "pxelinux.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 4 PXEv4 DISCOVERs, 4 PXEv6 and 4 HTTPv6 Solicits; the HTTPv4 ones have
  // no IPv4 URL.
  EXPECT_THAT(r.out, HasSubstr("16 frames, 12 answered")) << r.out;
  // Each DHCPv6 decision as the decision log writes it.
  EXPECT_THAT(LineWith(r.out, "#5 DHCPv6 "),
              HasSubstr("mac=52:54:00:77:00:10 xid=0xff1bc2 type=solicit "
                        "arch=uefi-x64 client=pxe port=547 rule=(defaults) "
                        "sent=advertise from=fe80::ff:fe00:1 "
                        "to=[fe80::5054:ff:fe77:10]:546 "
                        "url=tftp://[fd77::2]/bootx64.efi class=PXEClient"))
      << r.out;
  EXPECT_THAT(LineWith(r.out, "#13 DHCPv6 "),
              HasSubstr("client=http port=547 rule=(defaults) sent=advertise"))
      << r.out;
  const std::vector<PcapRecord> written = ReadPcap(out);
  ASSERT_EQ(written.size(), 12u);
  size_t advertises = 0;
  for (const PcapRecord& record : written) {
    if (record.bytes.size() < 63 || record.bytes[12] != 0x86 ||
        record.bytes[13] != 0xdd) {
      continue;
    }
    // IPv6 from the link-local address made from the replay MAC
    // (fe80::ff:fe00:1), UDP 547 -> 546, an Advertise (2).
    EXPECT_EQ(record.bytes[22], 0xfe);
    EXPECT_EQ(record.bytes[37], 0x01);
    EXPECT_EQ(record.bytes[54] << 8 | record.bytes[55], 547);
    EXPECT_EQ(record.bytes[56] << 8 | record.bytes[57], 546);
    EXPECT_EQ(record.bytes[62], 2);
    const std::string text(record.bytes.begin(), record.bytes.end());
    EXPECT_TRUE(
        text.find("tftp://[fd77::2]/bootx64.efi") != std::string::npos ||
        text.find("http://[fd77::2]/boot/bootx64.efi") != std::string::npos);
    ++advertises;
  }
  EXPECT_EQ(advertises, 8u);
}

TEST(BinaryTest, UnknownOptionExitsOneWithOneLine) {
  const RunResult r = RunBinary({"--bogus"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "pxe-pdhcp: unknown option --bogus (see --help)\n");
}

TEST(BinaryTest, HelpExitsZeroWithUsage) {
  const RunResult r = RunBinary({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("usage: pxe-pdhcp [-d] [-i interface]"));
  EXPECT_THAT(r.out, HasSubstr("--replay FILE"));
  EXPECT_EQ(r.err, "");
}

TEST(BinaryTest, VersionExitsZero) {
  const RunResult r = RunBinary({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "pxe-pdhcp 0.1.0\n");
  EXPECT_EQ(r.err, "");
}

TEST(BinaryTest, NoBootFileExitsOne) {
  const RunResult r = RunBinary({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("pxe-pdhcp: no boot file configured"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(BinaryTest, MissingCaptureExitsOneNamingIt) {
  const RunResult r =
      RunBinary({"--replay", "/nonexistent/capture.pcap", "pxelinux.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/capture.pcap"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(BinaryTest, UnknownInterfaceExitsOneNamingIt) {
  // Fails at the interface lookup, before any socket: no root needed.
  const RunResult r = RunBinary({"-i", "nosuchif0", "pxelinux.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(LineWith(r.err, "nosuchif0"), StartsWith("pxe-pdhcp: ")) << r.err;
}

}  // namespace
}  // namespace pxe
