// A LAN for booting real firmware under QEMU through a proxy DHCP server,
// made of network namespaces, and what the firmware tests check on it: the
// files fetched over TFTP, the boot loader's message on the console, the
// proxy's decision lines and its replies as tshark decodes them.
//
// The LAN (every name below lives inside the sandbox's own namespaces):
//
//   namespace "srv"                        namespace "lan"
//   v1 10.77.0.1/24  <---- veth ---->  v0 --+
//     dnsmasq (plain DHCP server)           br0 -- tap0 -- QEMU (the client)
//     the proxy under test
//     in.tftpd, tcpdump (a log, and a pcap of every DHCP reply)
//
// The LAN's DHCP server hands out addresses and nothing else, so a client
// boots only if the proxy gives it boot data; the proxy command is a
// parameter (ProxyFactory) so the same tests run against any proxy.
//
// Each test file defines its own fixture named FirmwareBootTest on top of
// FirmwareLan (so that `ctest -R 'FirmwareBootTest.*Path'` selects a boot
// path whatever file holds it), adding what its path needs with Require().
#ifndef PXE_TESTS_INTEGRATION_FIRMWARE_LAN_H_
#define PXE_TESTS_INTEGRATION_FIRMWARE_LAN_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/sandbox.h"

namespace pxe::testing {

inline constexpr char kServerAddress[] = "10.77.0.1";
inline constexpr char kServerCidr[] = "10.77.0.1/24";
inline constexpr char kServerDevice[] = "v1";  // in srv
inline constexpr char kLanUplink[] = "v0";     // in lan, the other end of v1
inline constexpr char kBridge[] = "br0";       // in lan
inline constexpr char kTap[] = "tap0";         // in lan

// Generous: a boot takes 15-25 s under TCG, but a loaded CI host is slower.
inline constexpr absl::Duration kBootTimeout = absl::Seconds(150);
inline constexpr absl::Duration kDaemonStartTimeout = absl::Seconds(10);

// QEMU's iPXE option ROM for the e1000 (ipxe-qemu), found by QEMU itself.
inline constexpr char kIpxeE1000Rom[] = "/usr/lib/ipxe/qemu/efi-e1000.rom";
inline constexpr char kOvmfCode[] = "/usr/share/OVMF/OVMF_CODE_4M.fd";
inline constexpr char kOvmfVars[] = "/usr/share/OVMF/OVMF_VARS_4M.fd";
inline constexpr char kPxelinux[] = "/usr/lib/PXELINUX/pxelinux.0";
inline constexpr char kLdlinuxBios[] =
    "/usr/lib/syslinux/modules/bios/ldlinux.c32";
inline constexpr char kSyslinuxEfi[] =
    "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi";
inline constexpr char kLdlinuxEfi64[] =
    "/usr/lib/syslinux/modules/efi64/ldlinux.e64";

// absl::Status has no gtest matcher in this Abseil; say what failed instead.
#define ASSERT_OK_STATUS(expr)                                  \
  do {                                                          \
    const absl::Status pxe_assert_status_ = (expr);             \
    ASSERT_TRUE(pxe_assert_status_.ok()) << pxe_assert_status_; \
  } while (0)

// ---------------------------------------------------------------------------
// The proxy under test.

// What a proxy needs to know about the LAN it serves.
struct ProxySetup {
  std::string ns;            // the namespace it runs in
  std::string interface;     // its LAN interface in `ns`
  std::string address;       // that interface's address; also the TFTP server
  std::string bios_nbp;      // boot file for BIOS clients (arch 0)
  std::string uefi_x64_nbp;  // boot file for x64 UEFI clients (arch 7, 9)
  std::string work_dir;      // for its lease and pid files
};

// How to start a proxy, and how to tell that it serves.
struct ProxyLaunch {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  // Text its log shows once it answers clients; "" when it prints nothing
  // reliable (then it only has to survive its start-up).
  std::string ready_text;
};

// Builds the launch for a given LAN. To run these tests against another
// proxy, write another factory and pass it to StartProxyWith().
using ProxyFactory = std::function<ProxyLaunch(const ProxySetup&)>;

// pxe-pdhcp in the foreground with per-client logging, on the interface the
// LAN's dnsmasq serves too (it never binds port 67).
ProxyLaunch PxePdhcpProxy(const ProxySetup& setup);

// The same with `extra` options before the BIOS boot file name.
ProxyFactory PxePdhcpWithFlags(std::vector<std::string> extra);

// pxe-pdhcp with a policy file: `toml` is written into the sandbox and
// passed with -c (no boot file on the command line).
ProxyFactory PxePdhcpWithPolicy(std::string toml);

// ---------------------------------------------------------------------------
// The fixture.

enum class Client {
  kBiosIpxe,  // SeaBIOS + QEMU's iPXE ROM on an e1000
  kOvmfUefi,  // OVMF's own UEFI PXE client on a virtio-net without ROM
};

// How to power on an x86 client beyond its kind.
struct ClientOptions {
  std::string mac;  // "" = the kind's usual MAC
  // OVMF images (kOvmfUefi): e.g. the Secure Boot ones.
  std::string ovmf_code = kOvmfCode;
  std::string ovmf_vars = kOvmfVars;
  // Appended to QEMU's command line (e.g. -fw_cfg switches).
  std::vector<std::string> extra_args;
};

// A unique line for a boot loader's configuration to print: seeing it on
// the console proves this run's configuration came over the network and
// the boot loader ran.
std::string MakeBanner();

class FirmwareLan : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Called from a fixture's constructor: SetUp() also needs these programs
  // and files, and names `packages` (Debian) when one is missing.
  void Require(std::vector<std::string> programs,
               std::vector<std::string> files, std::string packages);

  // Fills the TFTP root for `client` (pxelinux or syslinux.efi, and a
  // pxelinux.cfg/default that says banner_), then starts, in srv, a capture
  // of DHCP/TFTP requests, the TFTP server, and the LAN's DHCP server
  // (addresses only: no boot options).
  void StartLanServices(Client client);
  // The same without boot files: the test puts its own in tftp_root_.
  void StartLanServices();

  void StartProxyWith(const ProxyFactory& factory);

  // Powers on the client in lan, network boot first, its serial console
  // going to console.log.
  void StartClient(Client client);
  void StartClient(Client client, const std::string& mac);
  void StartClient(Client client, const ClientOptions& options);
  // Starts `argv` (a QEMU command line the test built) in lan as the client.
  void StartClientCommand(const std::vector<std::string>& argv);

  // Powers the client off (and waits for QEMU to exit), and moves its
  // console log aside, so that the next client starts with an empty one.
  void StopClient();

  // Waits (at most kBootTimeout from the client's start) for `text` on the
  // serial console; fails at once if QEMU dies.
  absl::Status WaitForConsole(std::string_view text);
  absl::Status WaitForConsole(std::string_view text, absl::Duration timeout);

  std::string ProxyLog() const;
  std::string Console() const;

  // The file names of every TFTP read request the capture saw, in order.
  std::vector<std::string> TftpReadRequests() const;
  // TftpReadRequests() once the capture shows a request for `file` (or 5 s
  // passed): the console can run ahead of the capture log.
  std::vector<std::string> TftpReadRequestsOnceSeen(std::string_view file);

  // Stops the pcap capture and runs tshark's DHCP dissector over the
  // proxy's replies in it (tests/testing/tshark_replies.py): as many as the
  // proxy logged, each decoded without error and with what a proxy reply
  // carries. dnsmasq answers from the same address: its replies, the ones
  // with a lease time, are left out.
  void ExpectRepliesDecode();

  void ReportBootTime(std::string_view what);

  // Logs whose tails TearDown() prints when the test failed, beside the
  // LAN's own: {what, file name in the sandbox}.
  void AddLogToReport(std::string what, std::string file);

  // Appended to the LAN DHCP server's (dnsmasq's) command line by
  // StartLanServices(), e.g. "--dhcp-option=option:dns-server,10.77.0.1".
  std::vector<std::string> dhcp_server_args_;

  std::unique_ptr<Sandbox> sandbox_;
  std::string srv_;
  std::string lan_;
  std::string tftp_root_;
  std::string banner_;
  pid_t qemu_ = -1;
  pid_t pcap_ = -1;
  int boots_ = 0;
  absl::Time client_started_;

 private:
  std::vector<std::string> programs_;
  std::vector<std::string> files_;
  std::vector<std::string> packages_;
  std::vector<std::pair<std::string, std::string>> reports_;
};

}  // namespace pxe::testing

#endif  // PXE_TESTS_INTEGRATION_FIRMWARE_LAN_H_
