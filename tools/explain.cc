#include "tools/explain.h"

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/client_request.h"
#include "engine/describe.h"
#include "engine/reply.h"
#include "engine/status_macros.h"
#include "tools/policy_file.h"

namespace pxe {
namespace {

constexpr std::string_view kFields =
    "mac, arch, subnet, vendor_class, user_class, uuid, interface, vlan, "
    "circuit_id, remote_id, port, type";
constexpr uint32_t kExplainXid = 0x5078e001;
// Where the client is when the command line does not say: on our /24.
constexpr uint32_t kDefaultClientHost = 100;

// The option-93 code a firmware of each class sends for PXE (RFC 4578).
constexpr std::array<uint16_t, kArchClassCount> kPxeArchCode = {
    0, 6, 7, 10, 11, 21, 22, 25, 27};

// One client, as the command line describes it.
struct Client {
  std::optional<MacAddress> mac;
  std::optional<uint16_t> arch_code;
  uint32_t subnet_address = 0;  // 0: not known
  std::optional<std::string> vendor_class;
  std::string user_class;
  std::optional<std::array<uint8_t, 16>> uuid;
  std::string interface;
  std::optional<uint16_t> vlan;
  std::string circuit_id;
  std::string remote_id;
  std::optional<uint16_t> port;
  std::optional<dhcp::MessageType> type;
};

absl::Status BadField(std::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--explain ", Sv(field), ": ", what));
}

absl::StatusOr<uint16_t> ParseArch(std::string_view v) {
  if (std::optional<ArchClass> a = ParseArchClassName(v)) {
    return kPxeArchCode[static_cast<size_t>(*a)];
  }
  int code = 0;
  if (absl::SimpleAtoi(Sv(v), &code) && code >= 0 && code <= 0xFFFF) {
    return static_cast<uint16_t>(code);
  }
  return BadField("arch",
                  absl::StrCat("\"", Sv(v), "\" is not one of ", ArchList(),
                               " nor an option-93 code (e.g. 16)"));
}

// Text, or "hex:0a0b0c" for bytes (as in a rule's match).
absl::StatusOr<std::string> ParseBytes(std::string_view field,
                                       std::string_view v) {
  if (!v.starts_with("hex:")) return std::string(v);
  absl::StatusOr<std::string> bytes = ParseHexBytes(v.substr(4));
  if (!bytes.ok()) return BadField(field, bytes.status().message());
  return bytes;
}

absl::Status ParseField(std::string_view field, std::string_view v, Client* c) {
  if (field == "mac") {
    absl::StatusOr<MacPattern> p = ParseMacPattern(v);
    if (!p.ok() || p->length != 6) {
      return BadField("mac", "write six octets like 52:54:00:12:34:56");
    }
    c->mac = p->octets;
  } else if (field == "arch") {
    PXE_ASSIGN_OR_RETURN(c->arch_code, ParseArch(v));
  } else if (field == "subnet") {
    absl::StatusOr<uint32_t> ip = ParseIpv4(v);
    if (!ip.ok() || *ip == 0) {
      return BadField("subnet",
                      "the client's address, e.g. subnet=10.12.0.7 (what the "
                      "LAN's DHCP server offers it)");
    }
    c->subnet_address = *ip;
  } else if (field == "vendor_class") {
    c->vendor_class = std::string(v);
  } else if (field == "user_class") {
    c->user_class = std::string(v);
  } else if (field == "uuid") {
    absl::StatusOr<std::array<uint8_t, 16>> u = ParseUuid(v);
    if (!u.ok()) return BadField("uuid", u.status().message());
    c->uuid = *u;
  } else if (field == "interface") {
    c->interface = std::string(v);
  } else if (field == "vlan") {
    int id = 0;
    if (v == "untagged") {
      c->vlan.reset();
    } else if (!absl::SimpleAtoi(Sv(v), &id) || id < 1 || id > 4094) {
      return BadField("vlan", "a VLAN id 1 to 4094, or untagged");
    } else {
      c->vlan = static_cast<uint16_t>(id);
    }
  } else if (field == "circuit_id") {
    PXE_ASSIGN_OR_RETURN(c->circuit_id, ParseBytes(field, v));
  } else if (field == "remote_id") {
    PXE_ASSIGN_OR_RETURN(c->remote_id, ParseBytes(field, v));
  } else if (field == "port") {
    if (v != "67" && v != "4011") return BadField("port", "67 or 4011");
    c->port = v == "67" ? kDhcpServerPort : kPxeServerPort;
  } else if (field == "type") {
    if (v == "discover") {
      c->type = dhcp::MessageType::kDiscover;
    } else if (v == "request") {
      c->type = dhcp::MessageType::kRequest;
    } else {
      return BadField("type", "discover or request");
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--explain: unknown field \"", Sv(field), "\"; fields: ", Sv(kFields)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Client> ParseClient(const std::vector<std::string>& words) {
  Client c;
  for (const std::string& word : words) {
    const size_t eq = word.find('=');
    PXE_RETURN_IF_ERROR(ParseField(std::string_view(word).substr(0, eq),
                                   std::string_view(word).substr(eq + 1), &c));
  }
  if (!c.mac || !c.arch_code) {
    return absl::InvalidArgumentError(
        "--explain needs at least mac= and arch=, e.g. --explain "
        "mac=52:54:00:12:34:56 arch=uefi-x64");
  }
  if (!c.port) {
    c.port = c.type == dhcp::MessageType::kRequest ? kPxeServerPort
                                                   : kDhcpServerPort;
  }
  if (!c.type) {
    c.type = *c.port == kPxeServerPort ? dhcp::MessageType::kRequest
                                       : dhcp::MessageType::kDiscover;
  }
  return c;
}

// Option 82's value: sub-options 1 (circuit id) and 2 (remote id).
std::vector<uint8_t> RelayAgentInfo(const Client& c) {
  std::vector<uint8_t> out;
  auto sub = [&](uint8_t code, const std::string& value) {
    if (value.empty()) return;
    out.push_back(code);
    out.push_back(static_cast<uint8_t>(std::min<size_t>(value.size(), 255)));
    out.insert(out.end(), value.begin(),
               value.begin() + std::min<size_t>(value.size(), 255));
  };
  sub(1, c.circuit_id);
  sub(2, c.remote_id);
  return out;
}

std::string VendorClassFor(uint16_t arch_code) {
  const std::optional<ArchInfo> info = LookupArch(arch_code);
  const bool bios = arch_code == 0;
  const std::array<char, 32> pxe =
      PxeVendorClass(arch_code, bios ? 2 : 3, bios ? 1 : 0);
  const std::string_view text(pxe.data(), pxe.size());
  if (info && info->http) {
    return absl::StrCat("HTTPClient", Sv(text.substr(9)));  // "PXEClient"
  }
  return std::string(text);
}

// The server side: our address (the listen address, else 192.0.2.1/24).
struct Server {
  std::array<InterfaceAddress, 1> addresses;
  MacAddress mac;
};

// One request through Respond(): the lines describing it, and whether it
// was answered. `reply` gets the reply frame.
struct Step {
  bool answered = false;
  std::vector<uint8_t> reply;
};

absl::StatusOr<Step> RunStep(const DaemonConfig& config,
                             const PolicySnapshot& policy, const Client& c,
                             const Server& server, dhcp::MessageType type,
                             uint16_t port, uint32_t client_address,
                             uint32_t server_ip, std::string* text) {
  const std::string vendor_class =
      c.vendor_class ? *c.vendor_class : VendorClassFor(*c.arch_code);
  const std::array<uint16_t, 1> arch = {*c.arch_code};
  const std::vector<uint8_t> relay_info = RelayAgentInfo(c);
  const bool to_proxy = port == kPxeServerPort;
  ClientRequestSpec spec{
      .type = type,
      .client_mac = *c.mac,
      .dst_mac = to_proxy ? server.mac : kBroadcastMac,
      .xid = kExplainXid,
      .ciaddr = to_proxy ? client_address : 0,
      .src_ip = to_proxy ? client_address : 0,
      .dst_ip = to_proxy ? server_ip : 0xFFFFFFFF,
      .dst_port = port,
      .arch_codes = arch,
      .vendor_class = vendor_class,
      .ipxe = c.user_class == "iPXE",
      .user_class = c.user_class,
      .uuid = c.uuid,
      .relay_agent_info = relay_info,
  };
  if (c.vlan) spec.vlan_tci = *c.vlan;
  // UNDI 2.1 on BIOS ROMs, 3.0 on UEFI firmware (as OVMF sends).
  if (*c.arch_code != 0) spec.undi = std::array<uint8_t, 2>{3, 0};
  std::array<uint8_t, kMaxClientRequestFrameSize> frame;
  const size_t size = BuildClientRequest(spec, frame);
  if (size == 0) {
    return absl::InvalidArgumentError(
        "--explain: the described request does not fit one frame (a "
        "shorter vendor_class, user_class, circuit_id or remote_id)");
  }
  const std::span<const uint8_t> request_frame(frame.data(), size);

  const ServerContext context{
      .mac = server.mac,
      .addresses = server.addresses,
      // As live: the LAN server's offer shows a DISCOVER's subnet.
      .offered_address = to_proxy ? 0 : c.subnet_address,
      .interface_name = c.interface,
  };
  Request request;
  const DropReason classified =
      ClassifyFrame(request_frame, RxMeta{}, &request);
  absl::StrAppend(text, "client:  ", DescribeRequest(request), "\n");
  if (classified == DropReason::kNone) {
    int rule = -1;
    policy.AnswerFor(FactsOf(request, ClientSubnetAddress(request, context),
                             context.interface_name),
                     &rule);
    if (rule < 0) {
      absl::StrAppend(text, "rule:    no rule: the defaults\n");
    } else {
      const Rule& r = policy.policy().rules[static_cast<size_t>(rule)];
      absl::StrAppend(
          text, "rule:    \"", r.name, "\" (",
          config.config_path.empty() ? "command line" : config.config_path, ":",
          r.where.line, ")\n");
    }
  }
  Step step;
  step.reply.resize(kMaxReplyFrameSize);
  size_t reply_size = 0;
  const DropReason d = Respond(request_frame, RxMeta{}, policy, context,
                               &request, step.reply, &reply_size);
  if (d != DropReason::kNone) {
    absl::StrAppend(text, "no reply: ", Sv(DropReasonText(d)), "\n");
    step.reply.clear();
    return step;
  }
  step.reply.resize(reply_size);
  step.answered = true;
  absl::StrAppend(text, "reply:   ", DescribeReply(step.reply), "\n");
  return step;
}

// Whether an offer leaves the boot file to a 4011 request (BINL style: no
// file, no option 67, no option 43).
bool LeavesFileToPort4011(std::span<const uint8_t> reply, uint32_t* siaddr) {
  Request r;
  if (ClassifyFrame(reply, RxMeta{}, &r) != DropReason::kServerReply ||
      r.type != dhcp::MessageType::kOffer) {
    return false;
  }
  *siaddr = r.bootp.siaddr();
  return r.bootp.file()[0] == 0 && !r.options.Has(dhcp::kBootFileName) &&
         !r.options.Has(dhcp::kVendorSpecific);
}

}  // namespace

absl::StatusOr<Explanation> Explain(const DaemonConfig& config,
                                    const PolicySnapshot& policy) {
  PXE_ASSIGN_OR_RETURN(Client c, ParseClient(config.explain_fields));
  const uint32_t our_address = config.policy.listen_address != 0
                                   ? config.policy.listen_address
                                   : MakeIpv4(192, 0, 2, 1);
  const Server server{
      .addresses = {InterfaceAddress{.address = our_address,
                                     .prefix_length = 24}},
      .mac = config.replay_mac,
  };
  const uint32_t default_client =
      (our_address & 0xFFFFFF00) | kDefaultClientHost;
  Explanation out;
  absl::StrAppend(&out.text, "server:  ", FormatIpv4(our_address), "/24 ",
                  FormatMac(server.mac), "\n");
  uint32_t client_address = c.subnet_address;
  if (*c.port == kPxeServerPort && client_address == 0) {
    client_address = default_client;
    absl::StrAppend(&out.text, "         (no subnet=: the client is ",
                    FormatIpv4(client_address), ")\n");
  }
  PXE_ASSIGN_OR_RETURN(Step step,
                       RunStep(config, policy, c, server, *c.type, *c.port,
                               client_address, our_address, &out.text));
  uint32_t siaddr = 0;
  if (step.answered && *c.port == kDhcpServerPort &&
      LeavesFileToPort4011(step.reply, &siaddr)) {
    // What EDK2 does next: ask siaddr on 4011, from the address the LAN's
    // DHCP server gave it.
    if (client_address == 0) client_address = default_client;
    absl::StrAppend(&out.text,
                    "then the client asks for its file on port 4011 (from ",
                    FormatIpv4(client_address), "):\n");
    PXE_ASSIGN_OR_RETURN(
        step, RunStep(config, policy, c, server, dhcp::MessageType::kRequest,
                      kPxeServerPort, client_address, siaddr, &out.text));
  }
  out.answered = step.answered;
  return out;
}

}  // namespace pxe
