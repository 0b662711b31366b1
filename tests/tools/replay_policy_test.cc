// pxe-pdhcp --replay with a policy file (-c): a capture of several clients,
// each answered with its own rule's boot file, run through the binary as a
// user would, with no root and no network.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capture/pcap_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/packet_builder.h"

namespace pxe::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// A PXE DISCOVER from `mac` for option-93 architecture `arch`.
std::vector<uint8_t> Discover(const Mac& mac, uint16_t arch, uint32_t xid) {
  FrameSpec spec;
  spec.eth_src = mac;
  spec.chaddr = mac;
  spec.xid = xid;
  spec.options = {
      MessageTypeOpt(1), ArchOpt({arch}),
      Opt(60, absl::StrCat("PXEClient:Arch:0000", arch, ":UNDI:003016"))};
  return BuildFrame(spec);
}

class ReplayPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pxe-replay-policy-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `frames` as a capture, one millisecond apart.
  void WriteCapture(const std::vector<std::vector<uint8_t>>& frames) {
    auto sink = PcapFileSink::Create(dir_ + "/in.pcap");
    ASSERT_TRUE(sink.ok()) << sink.status();
    uint64_t t = 1'700'000'000'000'000'000;
    for (const std::vector<uint8_t>& frame : frames) {
      std::span<uint8_t> slot = (*sink)->NextSlot();
      std::copy(frame.begin(), frame.end(), slot.begin());
      (*sink)->set_timestamp_ns(t += 1'000'000);
      (*sink)->Commit(frame.size());
    }
    ASSERT_TRUE((*sink)->Flush().ok());
  }

  // Runs the binary; returns its exit code and puts its stdout in `out`.
  int Run(const std::string& args, std::string* out) {
    const std::string command =
        absl::StrCat(PXE_PDHCP_BINARY, " ", args, " > ", dir_, "/out.txt 2>&1");
    const int status = std::system(command.c_str());
    std::ifstream in(dir_ + "/out.txt");
    out->assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string dir_;
};

TEST_F(ReplayPolicyTest, EachClientOfACaptureGetsItsRulesFile) {
  const Mac rack = {0x52, 0x54, 0x00, 0x12, 0x00, 0x01};
  const Mac disk = {0x52, 0x54, 0x00, 0x99, 0x00, 0x01};
  const Mac other = {0x52, 0x54, 0x00, 0x33, 0x00, 0x07};
  ASSERT_NO_FATAL_FAILURE(WriteCapture({
      Discover(rack, 0, 0x101),    // BIOS in rack 12: the rack rule
      Discover(rack, 7, 0x102),    // the same MAC as UEFI: not the rule's arch
      Discover(disk, 0, 0x103),    // must boot from disk: ignored
      Discover(other, 0, 0x104),   // no rule: the defaults
      Discover(other, 11, 0x105),  // no rule, ARM64: the defaults' arm64 file
  }));
  std::ofstream(dir_ + "/policy.toml") << R"(
[server]
uefi_offer = "direct"

[boot]
file = "pxelinux.0"
files = { uefi-arm64 = "grubnetaa64.efi" }

[[rule]]
name = "rack12-reinstall"
match = { mac = ["52:54:00:12:*"], arch = ["bios"] }
file = "installer/pxelinux.0"
tftp_server = "10.12.0.9"

[[rule]]
name = "boot-from-disk"
match = { mac = ["52:54:00:99:00:01"] }
action = "ignore"
)";
  std::string out;
  ASSERT_EQ(Run(absl::StrCat("-c ", dir_, "/policy.toml --replay ", dir_,
                             "/in.pcap --replay-address 10.77.0.2/24"),
                &out),
            0)
      << out;
  EXPECT_THAT(out, ContainsRegex("#1 [^\n]*\n   -> OFFER [^\n]*sname "
                                 "\"10\\.12\\.0\\.9\" file "
                                 "\"installer/pxelinux\\.0\"[^\n]*"
                                 "\\[rule rack12-reinstall\\]"));
  // No rule for it: the line ends without a rule's name.
  EXPECT_THAT(out, ContainsRegex("#2 [^\n]*\n   -> OFFER [^\n]*file "
                                 "\"pxelinux\\.0\" option-43 \\[06 01 08 "
                                 "ff\\]\n"));
  EXPECT_THAT(out, ContainsRegex("#3 no reply: a rule says: ignore this "
                                 "client \\[rule boot-from-disk\\]"));
  EXPECT_THAT(out, ContainsRegex("#4 [^\n]*\n   -> OFFER [^\n]*file "
                                 "\"pxelinux\\.0\""));
  EXPECT_THAT(out, ContainsRegex("#5 [^\n]*\n   -> OFFER [^\n]*file "
                                 "\"grubnetaa64\\.efi\""));
  EXPECT_THAT(out, HasSubstr("5 frames, 4 answered"));
}

}  // namespace
}  // namespace pxe::testing
