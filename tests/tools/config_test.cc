// ParseCommandLine(): the original pxe-pdhcp command line, the long options,
// --help/--version, and the errors a user sees for a wrong command line.
#include "tools/config.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pxe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Parses `args` as if typed after "pxe-pdhcp".
absl::StatusOr<DaemonConfig> Parse(std::initializer_list<const char*> args) {
  const std::vector<const char*> argv(args);
  return ParseCommandLine(argv);
}

// The error message for `args`, or a marker that fails every HasSubstr.
std::string ErrorOf(std::initializer_list<const char*> args) {
  absl::StatusOr<DaemonConfig> config = Parse(args);
  if (config.ok()) return "<parsed without error>";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

const std::string& BootFileFor(const DaemonConfig& config, ArchClass arch) {
  return config.policy.defaults.files[static_cast<size_t>(arch)];
}

const std::string& HttpUrlFor(const DaemonConfig& config, ArchClass arch) {
  return config.policy.defaults.http_urls[static_cast<size_t>(arch)];
}

TEST(ParseCommandLineTest, OriginalCommandLineVerbatim) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"-d", "-i", "eth0", "-l", "10.0.0.2", "-t", "10.0.0.3", "-b",
             "10.0.0.255", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->action, DaemonConfig::Action::kRun);
  EXPECT_TRUE(config->debug);
  EXPECT_TRUE(config->foreground);  // -d implies the foreground
  EXPECT_THAT(config->interfaces, ElementsAre("eth0"));
  EXPECT_EQ(config->policy.listen_address, 0x0A000002u);
  EXPECT_EQ(config->policy.defaults.tftp_server, 0x0A000003u);
  EXPECT_EQ(config->policy.offer_broadcast, 0x0A0000FFu);
  EXPECT_EQ(config->policy.defaults.file, "pxelinux.0");
  EXPECT_TRUE(config->replay_path.empty());
  EXPECT_TRUE(config->replay_addresses.empty());
}

TEST(ParseCommandLineTest, LogLevelAndFormat) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--log-level", "warning", "--log-format", "json", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_level, log::Level::kWarning);
  EXPECT_EQ(config->log_format, log::Format::kJson);
  EXPECT_FALSE(config->worker.responder.log_every_decision);
  // debug logs every decision; -d is --foreground --log-level debug.
  config = Parse({"--log-level", "debug", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->worker.responder.log_every_decision);
  EXPECT_FALSE(config->foreground);
  config = Parse({"-d", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_level, log::Level::kDebug);
  EXPECT_TRUE(config->worker.responder.log_every_decision);
  EXPECT_THAT(ErrorOf({"--log-level", "loud", "a.0"}),
              HasSubstr("--log-level is debug, info, warning or error, not "
                        "\"loud\""));
  EXPECT_THAT(ErrorOf({"--log-format", "xml", "a.0"}),
              HasSubstr("--log-format is text or json, not \"xml\""));
}

TEST(ParseCommandLineTest, OnlyTheBootFileGivesTheDocumentedDefaults) {
  absl::StatusOr<DaemonConfig> config = Parse({"pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->action, DaemonConfig::Action::kRun);
  EXPECT_FALSE(config->debug);
  EXPECT_FALSE(config->foreground);
  EXPECT_TRUE(config->interfaces.empty());
  EXPECT_EQ(config->policy.defaults.file, "pxelinux.0");
  EXPECT_EQ(config->policy.listen_address, 0u);
  EXPECT_EQ(config->policy.defaults.tftp_server, 0u);
  EXPECT_EQ(config->policy.offer_broadcast, 0xFFFFFFFFu);
  EXPECT_EQ(config->policy.uefi_offer_style, UefiOfferStyle::kBinl);
  EXPECT_TRUE(config->policy.defaults.http_url.empty());
  EXPECT_TRUE(config->policy.relay_servers.empty());
  // The --help text promises these.
  EXPECT_EQ(config->worker.responder.offer_hold_ns, 300'000'000u);
  EXPECT_EQ(config->ring.rx_frames, 16384u);
}

TEST(ParseCommandLineTest, CombinedDebugAndInterfaceFlags) {
  absl::StatusOr<DaemonConfig> config = Parse({"-di", "eth0", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->debug);
  EXPECT_TRUE(config->foreground);
  EXPECT_THAT(config->interfaces, ElementsAre("eth0"));
  EXPECT_EQ(config->policy.defaults.file, "pxelinux.0");
}

TEST(ParseCommandLineTest, CombinedDebugAndInterfaceWithAttachedValue) {
  absl::StatusOr<DaemonConfig> config = Parse({"-dieth1", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->debug);
  EXPECT_THAT(config->interfaces, ElementsAre("eth1"));
}

TEST(ParseCommandLineTest, AttachedShortOptionValues) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"-ieth0", "-l10.0.0.2", "-t10.0.0.3", "-b10.0.0.255", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->interfaces, ElementsAre("eth0"));
  EXPECT_EQ(config->policy.listen_address, 0x0A000002u);
  EXPECT_EQ(config->policy.defaults.tftp_server, 0x0A000003u);
  EXPECT_EQ(config->policy.offer_broadcast, 0x0A0000FFu);
  EXPECT_FALSE(config->debug);
}

TEST(ParseCommandLineTest, RepeatedInterfaceKeepsEveryOneInOrder) {
  absl::StatusOr<DaemonConfig> config = Parse(
      {"-i", "eth0", "-i", "eth1", "--interface", "br0", "-ieth2", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->interfaces, ElementsAre("eth0", "eth1", "br0", "eth2"));
}

TEST(ParseCommandLineTest, LongOptionsWithEqualsOrSeparateValue) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--interface=x", "--listen", "10.0.0.2", "--tftp-server=10.0.0.3",
             "--broadcast", "10.0.0.255", "--debug", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->interfaces, ElementsAre("x"));
  EXPECT_EQ(config->policy.listen_address, 0x0A000002u);
  EXPECT_EQ(config->policy.defaults.tftp_server, 0x0A000003u);
  EXPECT_EQ(config->policy.offer_broadcast, 0x0A0000FFu);
  EXPECT_TRUE(config->debug);
}

TEST(ParseCommandLineTest, BootFileForOneArchitecture) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--boot-file", "uefi-x64=ipxe.efi",
             "--boot-file=bios=undionly.kpxe", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(BootFileFor(*config, ArchClass::kUefiX64), "ipxe.efi");
  EXPECT_EQ(BootFileFor(*config, ArchClass::kBios), "undionly.kpxe");
  EXPECT_EQ(BootFileFor(*config, ArchClass::kUefiArm64), "");
  EXPECT_EQ(config->policy.defaults.file, "pxelinux.0");
}

TEST(ParseCommandLineTest, PerArchitectureBootFileIsEnoughWithoutNbpName) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--boot-file", "uefi-x64=ipxe.efi"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.file, "");
  EXPECT_EQ(BootFileFor(*config, ArchClass::kUefiX64), "ipxe.efi");
}

TEST(ParseCommandLineTest, HttpUrlForAllAndForOneArchitecture) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--http-url", "http://10.0.0.2/boot.efi", "--http-url",
             "uefi-arm64=http://10.0.0.2/arm64.efi"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.http_url, "http://10.0.0.2/boot.efi");
  EXPECT_EQ(HttpUrlFor(*config, ArchClass::kUefiArm64),
            "http://10.0.0.2/arm64.efi");
  EXPECT_EQ(HttpUrlFor(*config, ArchClass::kUefiX64), "");
}

TEST(ParseCommandLineTest, HttpUrlWithEqualsInQueryIsNotAnArchitecture) {
  // "http://h/x?a" is no architecture name: the whole text is the URL.
  absl::StatusOr<DaemonConfig> config =
      Parse({"--http-url=http://h/boot.ipxe?mac=1"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.http_url, "http://h/boot.ipxe?mac=1");
}

TEST(ParseCommandLineTest, IpxeScript) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--ipxe-script", "http://10.0.0.2/boot.ipxe", "undionly.kpxe"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.ipxe_script, "http://10.0.0.2/boot.ipxe");
  EXPECT_EQ(config->policy.defaults.file, "undionly.kpxe");
}

TEST(ParseCommandLineTest, UefiOfferStyles) {
  absl::StatusOr<DaemonConfig> binl = Parse({"--uefi-offer", "binl", "a.0"});
  ASSERT_TRUE(binl.ok()) << binl.status();
  EXPECT_EQ(binl->policy.uefi_offer_style, UefiOfferStyle::kBinl);

  absl::StatusOr<DaemonConfig> direct = Parse({"--uefi-offer=direct", "a.0"});
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(direct->policy.uefi_offer_style, UefiOfferStyle::kDirect);

  const std::string error = ErrorOf({"--uefi-offer", "pxe", "a.0"});
  EXPECT_THAT(error, HasSubstr("--uefi-offer"));
  EXPECT_THAT(error, HasSubstr("\"pxe\""));
}

TEST(ParseCommandLineTest, RelayServer) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--relay-server", "10.1.0.0/16=10.0.0.5", "--relay-server",
             "10.2.3.0=10.0.0.6", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->policy.relay_servers.size(), 2u);
  EXPECT_EQ(config->policy.relay_servers[0].relay_subnet.network, 0x0A010000u);
  EXPECT_EQ(config->policy.relay_servers[0].relay_subnet.prefix_length, 16);
  EXPECT_EQ(config->policy.relay_servers[0].server, 0x0A000005u);
  // Without /LEN the prefix is 24.
  EXPECT_EQ(config->policy.relay_servers[1].relay_subnet.network, 0x0A020300u);
  EXPECT_EQ(config->policy.relay_servers[1].relay_subnet.prefix_length, 24);
  EXPECT_EQ(config->policy.relay_servers[1].server, 0x0A000006u);
}

TEST(ParseCommandLineTest, RelayServerErrorsNameTheProblem) {
  EXPECT_THAT(ErrorOf({"--relay-server", "10.1.0.0/16", "a.0"}),
              HasSubstr("NET/LEN=ADDR"));
  EXPECT_THAT(ErrorOf({"--relay-server", "10.1.0.0/33=10.0.0.5", "a.0"}),
              HasSubstr("10.1.0.0/33"));
  EXPECT_THAT(ErrorOf({"--relay-server", "10.1.0.0/16=10.0.0.500", "a.0"}),
              HasSubstr("10.0.0.500"));
}

TEST(ParseCommandLineTest, OfferHoldMilliseconds) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--offer-hold-ms", "150", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->worker.responder.offer_hold_ns, 150'000'000u);

  absl::StatusOr<DaemonConfig> never = Parse({"--offer-hold-ms=0", "a.0"});
  ASSERT_TRUE(never.ok()) << never.status();
  EXPECT_EQ(never->worker.responder.offer_hold_ns, 0u);

  absl::StatusOr<DaemonConfig> longest =
      Parse({"--offer-hold-ms", "1500", "a.0"});
  ASSERT_TRUE(longest.ok()) << longest.status();
  EXPECT_EQ(longest->worker.responder.offer_hold_ns, 1'500'000'000u);

  for (const char* bad : {"1501", "-1", "abc", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ErrorOf({"--offer-hold-ms", bad, "a.0"}),
                HasSubstr("--offer-hold-ms is 0 to 1500"));
  }
}

TEST(ParseCommandLineTest, RxRingFrames) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--rx-ring-frames", "8192", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ring.rx_frames, 8192u);

  for (const char* bad : {"100", "0", "16", "-32", "many"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ErrorOf({"--rx-ring-frames", bad, "a.0"}),
                HasSubstr("--rx-ring-frames is a multiple of 32"));
  }
}

TEST(ParseCommandLineTest, BusyPollMicroseconds) {
  EXPECT_EQ(Parse({"a.0"})->worker.busy_poll_ns, 0u);  // off by default
  absl::StatusOr<DaemonConfig> config = Parse({"--busy-poll", "50", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->worker.busy_poll_ns, 50'000u);
  for (const char* bad : {"-1", "1000001", "fast", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ErrorOf({"--busy-poll", bad, "a.0"}),
                HasSubstr("--busy-poll is 0 to 1000000 microseconds"));
  }
}

TEST(ParseCommandLineTest, ForegroundWithoutDebug) {
  absl::StatusOr<DaemonConfig> config = Parse({"--foreground", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->foreground);
  EXPECT_FALSE(config->debug);
}

TEST(ParseCommandLineTest, ReplayWriteAndReplayAddress) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--replay", "in.pcap", "--write=out.pcap", "--replay-address",
             "10.77.0.2/16", "--replay-address", "10.78.0.2", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->replay_path, "in.pcap");
  EXPECT_EQ(config->write_path, "out.pcap");
  ASSERT_EQ(config->replay_addresses.size(), 2u);
  EXPECT_EQ(config->replay_addresses[0].address, 0x0A4D0002u);
  EXPECT_EQ(config->replay_addresses[0].prefix_length, 16);
  EXPECT_EQ(config->replay_addresses[1].address, 0x0A4E0002u);
  EXPECT_EQ(config->replay_addresses[1].prefix_length, 24);
}

TEST(ParseCommandLineTest, ReplayAddressDefaultsToListenElseDocumentation) {
  absl::StatusOr<DaemonConfig> plain = Parse({"--replay", "in.pcap", "a.0"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(plain->replay_addresses.size(), 1u);
  EXPECT_EQ(plain->replay_addresses[0].address, 0xC0000201u);  // 192.0.2.1
  EXPECT_EQ(plain->replay_addresses[0].prefix_length, 24);
  EXPECT_TRUE(plain->write_path.empty());

  absl::StatusOr<DaemonConfig> listen =
      Parse({"--replay", "in.pcap", "-l", "10.0.0.2", "a.0"});
  ASSERT_TRUE(listen.ok()) << listen.status();
  ASSERT_EQ(listen->replay_addresses.size(), 1u);
  EXPECT_EQ(listen->replay_addresses[0].address, 0x0A000002u);
  EXPECT_EQ(listen->replay_addresses[0].prefix_length, 24);
}

TEST(ParseCommandLineTest, ReplayAddressErrors) {
  EXPECT_THAT(ErrorOf({"--replay-address", "10.0.0.2/24", "a.0"}),
              HasSubstr("--replay-address goes with --replay"));
  EXPECT_THAT(ErrorOf({"--replay", "in.pcap", "--replay-address", "10.0.0.2/40",
                       "a.0"}),
              HasSubstr("10.0.0.2/40"));
}

// IPv6 (DHCPv6 clients): -t once per family, --http-url with an IPv6
// literal host for HTTPv6 clients, --replay-address with an IPv6 prefix.
TEST(ParseCommandLineTest, TftpServerOncePerFamily) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"-t", "10.0.0.5", "-t", "2001:db8::5", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.tftp_server, 0x0A000005u);
  EXPECT_EQ(config->policy.defaults.tftp_server6,
            (Ipv6Address{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                         0, 5}));
  EXPECT_THAT(ErrorOf({"-t", "2001:db8::zz", "a.0"}),
              HasSubstr("\"2001:db8::zz\" is not an IPv6 address"));
}

TEST(ParseCommandLineTest, HttpUrlWithIpv6HostIsForHttpv6Clients) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--http-url", "http://10.0.0.2/boot.efi", "--http-url",
             "http://[2001:db8::2]:8080/boot.efi", "--http-url",
             "uefi-arm64=http://[2001:db8::2]/arm64.efi"});
  ASSERT_TRUE(config.ok()) << config.status();
  const BootAnswer& d = config->policy.defaults;
  EXPECT_EQ(d.http_url, "http://10.0.0.2/boot.efi");
  EXPECT_EQ(d.http_url6, "http://[2001:db8::2]:8080/boot.efi");
  EXPECT_EQ(d.http_urls6[static_cast<size_t>(ArchClass::kUefiArm64)],
            "http://[2001:db8::2]/arm64.efi");
  EXPECT_EQ(HttpUrlFor(*config, ArchClass::kUefiArm64), "");
}

TEST(ParseCommandLineTest, ReplayAddressIpv6) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"--replay", "in.pcap", "--replay-address", "10.77.0.2/24",
             "--replay-address", "fd77::2/64", "a.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->replay_addresses.size(), 1u);
  // A link-local address from the replay MAC (02:00:00:00:00:01) comes
  // first, so Solicits are answered; then the one given.
  ASSERT_EQ(config->replay_addresses6.size(), 2u);
  EXPECT_EQ(config->replay_addresses6[0].address,
            (Ipv6Address{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0,
                         0, 1}));
  EXPECT_EQ(
      config->replay_addresses6[1].address,
      (Ipv6Address{0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(config->replay_addresses6[1].prefix_length, 64);
  // A link-local one given is used as is.
  absl::StatusOr<DaemonConfig> ll =
      Parse({"--replay", "in.pcap", "--replay-address", "fe80::2/64", "a.0"});
  ASSERT_TRUE(ll.ok()) << ll.status();
  ASSERT_EQ(ll->replay_addresses6.size(), 1u);
  EXPECT_EQ(ll->replay_addresses6[0].address[15], 2);
  EXPECT_THAT(ErrorOf({"--replay", "in.pcap", "--replay-address", "fd77::2/129",
                       "a.0"}),
              HasSubstr("fd77::2/129"));
  EXPECT_THAT(ErrorOf({"--replay-address", "fd77::2/64", "a.0"}),
              HasSubstr("--replay-address goes with --replay"));
}

TEST(ParseCommandLineTest, HelpAndVersionNeedNoBootFile) {
  for (const char* flag : {"--help", "-h"}) {
    SCOPED_TRACE(flag);
    absl::StatusOr<DaemonConfig> config = Parse({flag});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->action, DaemonConfig::Action::kHelp);
  }
  for (const char* flag : {"--version", "-V"}) {
    SCOPED_TRACE(flag);
    absl::StatusOr<DaemonConfig> config = Parse({flag});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->action, DaemonConfig::Action::kVersion);
  }
  // Even with a command line that would not validate otherwise.
  absl::StatusOr<DaemonConfig> config = Parse({"a.0", "b.0", "--help"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->action, DaemonConfig::Action::kHelp);
}

TEST(UsageTextTest, ListsTheOriginalSynopsisAndEveryOption) {
  const std::string usage = UsageText();
  EXPECT_THAT(usage, StartsWith("usage: pxe-pdhcp [-d] [-i interface] "
                                "[-l listen address] [-t tftp address]\n"));
  for (const char* option : {"[-b broadcast address]",
                             "<nbp name>",
                             "--debug",
                             "--interface",
                             "--listen",
                             "--tftp-server",
                             "--broadcast",
                             "--boot-file",
                             "--http-url",
                             "--ipxe-script",
                             "--uefi-offer",
                             "--relay-server",
                             "--offer-hold-ms",
                             "--rx-ring-frames",
                             "--busy-poll",
                             "--workers",
                             "--foreground",
                             "--replay",
                             "--write",
                             "--replay-address",
                             "--help",
                             "--version",
                             "uefi-x64",
                             "uefi-riscv64"}) {
    EXPECT_THAT(usage, HasSubstr(option));
  }
  EXPECT_EQ(usage.back(), '\n');
}

TEST(VersionTextTest, NamesTheProgramAndItsVersion) {
  EXPECT_EQ(VersionText(), "pxe-pdhcp 0.1.0");
}

TEST(ParseCommandLineTest, UnknownOptionIsNamed) {
  std::string error = ErrorOf({"--bogus", "a.0"});
  EXPECT_THAT(error, HasSubstr("unknown option --bogus"));
  EXPECT_THAT(error, HasSubstr("--help"));
  EXPECT_THAT(ErrorOf({"-x", "a.0"}), HasSubstr("unknown option -x"));
  EXPECT_THAT(ErrorOf({"--bogus=1", "a.0"}), HasSubstr("--bogus"));
  // After -d the next letter is a flag of its own.
  EXPECT_THAT(ErrorOf({"-dx", "a.0"}), HasSubstr("-dx"));
}

TEST(ParseCommandLineTest, MissingValueIsNamed) {
  for (const char* flag :
       {"-i", "-l", "-t", "-b", "--interface", "--boot-file", "--http-url",
        "--replay", "--write", "--offer-hold-ms", "--relay-server",
        "--busy-poll", "--workers"}) {
    SCOPED_TRACE(flag);
    const std::string error = ErrorOf({"pxelinux.0", flag});
    EXPECT_THAT(error, HasSubstr(flag));
    EXPECT_THAT(error, HasSubstr("needs a value"));
  }
}

TEST(ParseCommandLineTest, BadIpv4AddressIsQuoted) {
  EXPECT_THAT(ErrorOf({"-l", "10.0.0.256", "a.0"}),
              HasSubstr("\"10.0.0.256\" is not an IPv4 address"));
  EXPECT_THAT(ErrorOf({"-t", "tftp.example", "a.0"}),
              HasSubstr("\"tftp.example\""));
  EXPECT_THAT(ErrorOf({"--broadcast=10.0.0", "a.0"}), HasSubstr("\"10.0.0\""));
  EXPECT_THAT(ErrorOf({"-l", "", "a.0"}), HasSubstr("\"\""));
}

TEST(ParseCommandLineTest, TwoNbpNamesAreAnError) {
  const std::string error = ErrorOf({"pxelinux.0", "ipxe.efi"});
  EXPECT_THAT(error, HasSubstr("one <nbp name> expected, got 2"));
  EXPECT_THAT(error, HasSubstr("\"ipxe.efi\""));
}

TEST(ParseCommandLineTest, WriteWithoutReplayIsAnError) {
  const std::string error = ErrorOf({"--write", "out.pcap", "pxelinux.0"});
  EXPECT_THAT(error, HasSubstr("--write"));
  EXPECT_THAT(error, HasSubstr("--replay"));
}

TEST(ParseCommandLineTest, BadBootFileArchitectureListsTheValidOnes) {
  const std::string error =
      ErrorOf({"--boot-file", "sparc=boot.img", "pxelinux.0"});
  EXPECT_THAT(error, HasSubstr("\"sparc=boot.img\""));
  EXPECT_THAT(error, HasSubstr("ARCH=PATH"));
  EXPECT_THAT(error, HasSubstr("bios, uefi-ia32, uefi-x64"));
  // No "=" at all.
  EXPECT_THAT(ErrorOf({"--boot-file", "ipxe.efi", "pxelinux.0"}),
              HasSubstr("\"ipxe.efi\""));
}

TEST(ParseCommandLineTest, BootFileOf127BytesFitsAnd128DoesNot) {
  const std::string fits(127, 'f');
  absl::StatusOr<DaemonConfig> config = Parse({fits.c_str()});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.file, fits);

  const std::string too_long(128, 'f');
  const std::string error = ErrorOf({too_long.c_str()});
  EXPECT_THAT(error, HasSubstr("boot file is 128 bytes long"));
  EXPECT_THAT(error, HasSubstr("at most 127"));

  const std::string by_arch = "uefi-x64=" + too_long;
  EXPECT_THAT(ErrorOf({"--boot-file", by_arch.c_str(), "a.0"}),
              HasSubstr("boot file for uefi-x64 is 128 bytes long"));
}

TEST(ParseCommandLineTest, UrlOf255BytesFitsAnd256DoesNot) {
  const std::string prefix = "http://10.0.0.2/";
  const std::string fits = prefix + std::string(255 - prefix.size(), 'u');
  absl::StatusOr<DaemonConfig> config = Parse({"--http-url", fits.c_str()});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.http_url, fits);

  const std::string too_long = fits + "u";
  std::string error = ErrorOf({"--http-url", too_long.c_str()});
  EXPECT_THAT(error, HasSubstr("HTTP boot URL is 256 bytes long"));
  EXPECT_THAT(error, HasSubstr("at most 255"));

  const std::string by_arch = "uefi-arm64=" + too_long;
  EXPECT_THAT(ErrorOf({"--http-url", by_arch.c_str()}),
              HasSubstr("HTTP boot URL for uefi-arm64 is 256 bytes long"));
  EXPECT_THAT(ErrorOf({"--ipxe-script", too_long.c_str(), "a.0"}),
              HasSubstr("iPXE script is 256 bytes long"));
}

TEST(ParseCommandLineTest, NoBootFileAtAll) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("no boot file configured"));
  EXPECT_THAT(ErrorOf({"-d", "-i", "eth0"}),
              HasSubstr("no boot file configured"));
}

TEST(ParseCommandLineTest, DoubleDashEndsOptions) {
  absl::StatusOr<DaemonConfig> config = Parse({"-d", "--", "-boot.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->debug);
  EXPECT_EQ(config->policy.defaults.file, "-boot.0");

  // After "--", "-i" is a second name, not an option.
  const std::string error = ErrorOf({"--", "pxelinux.0", "-i"});
  EXPECT_THAT(error, HasSubstr("\"-i\" is extra"));
}

TEST(ParseCommandLineTest, NbpNameMayComeBeforeOptions) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"pxelinux.0", "-i", "eth0", "-d"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy.defaults.file, "pxelinux.0");
  EXPECT_THAT(config->interfaces, ElementsAre("eth0"));
  EXPECT_TRUE(config->debug);
}

// getopt_long rejects "--flag=value" for an option that takes no value; a
// user typing "--foreground=no" must not silently get the foreground.
TEST(ParseCommandLineTest, ValueForAFlagWithoutValueIsAnError) {
  const struct {
    const char* arg;
    const char* flag;
  } kCases[] = {{"--foreground=no", "--foreground"},
                {"--debug=0", "--debug"},
                {"--help=x", "--help"},
                {"--version=1", "--version"}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.arg);
    EXPECT_THAT(ErrorOf({c.arg, "a.0"}), HasSubstr(c.flag));
  }
}

TEST(ParseIpv4Test, HostByteOrder) {
  absl::StatusOr<uint32_t> ip = ParseIpv4("10.77.0.1");
  ASSERT_TRUE(ip.ok()) << ip.status();
  EXPECT_EQ(*ip, 0x0A4D0001u);
  EXPECT_FALSE(ParseIpv4("10.77.0.1 ").ok());
  EXPECT_FALSE(ParseIpv4("::1").ok());
}

TEST(ParseIpv4PrefixTest, PrefixOrDefault) {
  absl::StatusOr<InterfaceAddress> with = ParseIpv4Prefix("10.0.0.2/16", 24);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->address, 0x0A000002u);
  EXPECT_EQ(with->prefix_length, 16);

  absl::StatusOr<InterfaceAddress> without = ParseIpv4Prefix("10.0.0.2", 20);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->prefix_length, 20);

  for (const char* bad :
       {"10.0.0.2/33", "10.0.0.2/-1", "10.0.0.2/", "10.0.0.2/x"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<InterfaceAddress> a = ParseIpv4Prefix(bad, 24);
    ASSERT_FALSE(a.ok());
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(bad));
  }
}

TEST(ParseCommandLineTest, VlansOnATrunk) {
  absl::StatusOr<DaemonConfig> config =
      Parse({"-i", "eth0", "--vlan", "eth0:10=10.10.0.5/24", "--vlan",
             "20=10.20.0.5/24,10.21.0.5/23", "pxelinux.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->vlans.size(), 2u);
  EXPECT_EQ(config->vlans[0].interface, "eth0");
  EXPECT_EQ(config->vlans[0].vlan.vlan, 10);
  ASSERT_EQ(config->vlans[0].vlan.addresses.size(), 1u);
  EXPECT_EQ(config->vlans[0].vlan.addresses[0].address, 0x0A0A0005u);
  EXPECT_EQ(config->vlans[0].vlan.addresses[0].prefix_length, 24);
  EXPECT_EQ(config->vlans[1].interface, "");  // the one interface served
  EXPECT_EQ(config->vlans[1].vlan.vlan, 20);
  ASSERT_EQ(config->vlans[1].vlan.addresses.size(), 2u);
  EXPECT_EQ(config->vlans[1].vlan.addresses[1].address, 0x0A150005u);
  EXPECT_EQ(config->vlans[1].vlan.addresses[1].prefix_length, 23);
}

TEST(ParseCommandLineTest, VlanMistakesAreExplained) {
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:10", "x"}),
              HasSubstr("no '=' and address"));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:4095=10.0.0.1/24", "x"}),
              HasSubstr("the VLAN id is 1 to 4094"));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:0=10.0.0.1/24", "x"}),
              HasSubstr("the VLAN id is 1 to 4094"));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:10=10.0.0.1", "x"}),
              HasSubstr("an address needs its prefix length"));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:10=10.0.0/24", "x"}),
              HasSubstr("VLAN \"eth0:10=10.0.0/24\""));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth1:10=10.0.0.1/24", "x"}),
              HasSubstr("VLAN 10 is on eth1, which is not served"));
  EXPECT_THAT(
      ErrorOf({"-i", "eth0", "-i", "eth1", "--vlan", "10=10.0.0.1/24", "x"}),
      HasSubstr("name its interface"));
  EXPECT_THAT(ErrorOf({"--vlan", "10=10.0.0.1/24", "x"}),
              HasSubstr("no interface is named with -i"));
  EXPECT_THAT(ErrorOf({"-i", "eth0", "--vlan", "eth0:10=10.0.0.1/24", "--vlan",
                       "10=10.0.1.1/24", "x"}),
              HasSubstr("VLAN 10 on eth0 is configured twice"));
}

}  // namespace
}  // namespace pxe
