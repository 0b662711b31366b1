#include "engine/policy_snapshot.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace pxe {
namespace {

// Longest reply_delay_ms: later than this, firmware has retried (4 s) or
// moved on without the proxy offer.
constexpr uint32_t kMaxReplyDelayMs = 5000;
// Room for extra options in a reply frame (kMaxReplyFrameSize leaves it).
constexpr size_t kMaxExtraOptionBytes = 400;

absl::Status CheckName(std::string_view what, std::string_view value,
                       size_t max_length) {
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " is ", value.size(), " bytes long; at most ",
                     max_length, " fit in a DHCP reply: \"", Sv(value), "\""));
  }
  if (value.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " contains a NUL byte"));
  }
  return absl::OkStatus();
}

absl::Status CheckUrl(std::string_view what, std::string_view url) {
  PXE_RETURN_IF_ERROR(CheckName(what, url, kMaxUrlLength));
  if (!url.empty() && url.substr(0, 7) != "http://" &&
      url.substr(0, 8) != "https://") {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " \"", Sv(url),
                     "\" is not a URL: write http://... or https://..."));
  }
  return absl::OkStatus();
}

absl::Status CheckAnswer(std::string_view owner, const BootAnswer& a,
                         const BootPolicy& policy) {
  PXE_RETURN_IF_ERROR(CheckName(absl::StrCat(Sv(owner), "boot file"), a.file,
                                kMaxBootFileLength));
  PXE_RETURN_IF_ERROR(
      CheckUrl(absl::StrCat(Sv(owner), "HTTP boot URL"), a.http_url));
  for (size_t i = 0; i < kArchClassCount; ++i) {
    const std::string_view arch = ArchClassName(static_cast<ArchClass>(i));
    PXE_RETURN_IF_ERROR(
        CheckName(absl::StrCat(Sv(owner), "boot file for ", Sv(arch)),
                  a.files[i], kMaxBootFileLength));
    PXE_RETURN_IF_ERROR(
        CheckUrl(absl::StrCat(Sv(owner), "HTTP boot URL for ", Sv(arch)),
                 a.http_urls[i]));
    PXE_RETURN_IF_ERROR(
        CheckUrl(absl::StrCat(Sv(owner), "IPv6 HTTP boot URL for ", Sv(arch)),
                 a.http_urls6[i]));
  }
  PXE_RETURN_IF_ERROR(
      CheckUrl(absl::StrCat(Sv(owner), "IPv6 HTTP boot URL"), a.http_url6));
  PXE_RETURN_IF_ERROR(CheckName(absl::StrCat(Sv(owner), "iPXE script"),
                                a.ipxe_script, kMaxUrlLength));
  if (a.reply_delay_ms && *a.reply_delay_ms > kMaxReplyDelayMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(owner), "reply_delay_ms ", *a.reply_delay_ms, " is more than ",
        kMaxReplyDelayMs, ": firmware stops waiting for proxy offers"));
  }
  if (!a.menu.empty() &&
      std::none_of(policy.menus.begin(), policy.menus.end(),
                   [&](const Menu& m) { return m.name == a.menu; })) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(owner), "menu \"", a.menu,
                     "\" is not defined: add [menu.", a.menu, "]"));
  }
  if (!a.menu.empty() && a.raspberry_pi) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(owner),
        "a menu and the Raspberry Pi profile both write option 43: "
        "choose one"));
  }
  std::set<uint8_t> codes;
  size_t bytes = 0;
  for (const ExtraOption& o : a.options) {
    if (std::string_view why = RefusedOptionReason(o.code); !why.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(owner), "option ", o.code, " is refused: ", Sv(why)));
    }
    if (o.value.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(owner), "option ", o.code, " is ", o.value.size(),
                       " bytes long; at most 255 fit"));
    }
    if (!codes.insert(o.code).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(owner), "option ", o.code, " is given twice"));
    }
    bytes += 2 + o.value.size();
  }
  if (bytes > kMaxExtraOptionBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(owner), "extra options take ", bytes, " bytes; at most ",
        kMaxExtraOptionBytes, " fit in a reply"));
  }
  return absl::OkStatus();
}

absl::Status CheckMenu(const Menu& menu) {
  const std::string owner = absl::StrCat("menu \"", menu.name, "\": ");
  if (menu.name.empty()) {
    return absl::InvalidArgumentError("a menu needs a name");
  }
  if (menu.items.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, "has no items: add [[menu.", menu.name, ".item]]"));
  }
  // Sub-option 10 is the timeout byte and the prompt; sub-option 9 holds
  // every item (type 2, length 1, label).
  PXE_RETURN_IF_ERROR(
      CheckName(absl::StrCat(owner, "prompt"), menu.prompt, 254));
  size_t items_bytes = 0;
  std::set<uint16_t> types;
  for (const MenuItem& item : menu.items) {
    PXE_RETURN_IF_ERROR(
        CheckName(absl::StrCat(owner, "item label"), item.label, 252));
    PXE_RETURN_IF_ERROR(
        CheckName(absl::StrCat(owner, "item \"", item.label, "\" file"),
                  item.file, kMaxBootFileLength));
    if (item.label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(owner, "an item has no label"));
    }
    if (!types.insert(item.type).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          owner, "two items have type ", item.type, ": give each its own"));
    }
    if (item.type == 0 && !item.file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          owner, "item \"", item.label,
          "\" boots from the local disk (type 0) and cannot have a file"));
    }
    if (item.type != 0 && item.file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          owner, "item \"", item.label,
          "\" needs a file (or local = true to boot from the disk)"));
    }
    items_bytes += 3 + item.label.size();
  }
  // Sub-options 6, 8 (one address per network item), 9, 10 and END must
  // fit in one option 43.
  const size_t network_items =
      std::count_if(menu.items.begin(), menu.items.end(),
                    [](const MenuItem& i) { return i.type != 0; });
  const size_t total = 3 + (network_items ? 2 + 7 * network_items : 0) + 2 +
                       items_bytes + 3 + menu.prompt.size() + 1;
  if (items_bytes > 255 || total > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, "its labels and prompt take ", total,
                     " bytes of option 43; at most 255 fit: shorten them"));
  }
  return absl::OkStatus();
}

bool AnyBootSource(const BootAnswer& a) {
  if (!a.file.empty() || !a.http_url.empty() || !a.http_url6.empty() ||
      !a.ipxe_script.empty() || !a.menu.empty() || a.raspberry_pi) {
    return true;
  }
  for (size_t i = 0; i < kArchClassCount; ++i) {
    if (!a.files[i].empty() || !a.http_urls[i].empty() ||
        !a.http_urls6[i].empty()) {
      return true;
    }
  }
  return false;
}

// Whether `url`'s host is a dotted IPv4 literal ("http://10.0.0.5:8080/x"),
// which an IPv6-only client cannot reach.
bool HasIpv4LiteralHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view host = url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of(":/?#"));
  if (host.empty()) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

const std::string& FirstSet(const std::string& a, const std::string& b,
                            const std::string& c, const std::string& d) {
  return !a.empty() ? a : !b.empty() ? b : !c.empty() ? c : d;
}

ResolvedAnswer Resolve(const BootAnswer& rule, const BootAnswer& defaults,
                       const BootPolicy& policy) {
  ResolvedAnswer out;
  for (size_t i = 0; i < kArchClassCount; ++i) {
    out.pxe_file[i] =
        FirstSet(rule.files[i], rule.file, defaults.files[i], defaults.file);
    out.http_url[i] = FirstSet(rule.http_urls[i], rule.http_url,
                               defaults.http_urls[i], defaults.http_url);
    out.http_url6[i] = FirstSet(rule.http_urls6[i], rule.http_url6,
                                defaults.http_urls6[i], defaults.http_url6);
    if (out.http_url6[i].empty() && !HasIpv4LiteralHost(out.http_url[i])) {
      out.http_url6[i] = out.http_url[i];
    }
  }
  out.ipxe_script =
      !rule.ipxe_script.empty() ? rule.ipxe_script : defaults.ipxe_script;
  out.tftp_server =
      rule.tftp_server != 0 ? rule.tftp_server : defaults.tftp_server;
  out.tftp_server6 = rule.tftp_server6 != Ipv6Address{} ? rule.tftp_server6
                                                        : defaults.tftp_server6;
  out.reply_delay_ms =
      rule.reply_delay_ms.value_or(defaults.reply_delay_ms.value_or(0));
  const std::string& menu = !rule.menu.empty() ? rule.menu : defaults.menu;
  out.raspberry_pi =
      rule.raspberry_pi || (rule.menu.empty() && defaults.raspberry_pi);
  if (!out.raspberry_pi) {
    for (const Menu& m : policy.menus) {
      if (m.name == menu) out.menu = &m;
    }
  }
  std::map<uint8_t, const std::vector<uint8_t>*> options;
  for (const ExtraOption& o : defaults.options) options[o.code] = &o.value;
  for (const ExtraOption& o : rule.options) options[o.code] = &o.value;
  for (const auto& [code, value] : options) {
    out.extra_options.push_back(code);
    out.extra_options.push_back(static_cast<uint8_t>(value->size()));
    out.extra_options.insert(out.extra_options.end(), value->begin(),
                             value->end());
    out.has_option67 = out.has_option67 || code == 67;
    out.has_option66 = out.has_option66 || code == 66;
  }
  return out;
}

}  // namespace

std::string_view RefusedOptionReason(uint8_t code) {
  switch (code) {
    case 0:
    case 255:
      return "0 and 255 are padding and the end marker";
    case 1:
    case 3:
    case 6:
    case 15:
    case 28:
    case 33:
    case 121:
    case 249:
      return "it configures the client's network, which is the DHCP server's "
             "job";
    case 50:
    case 51:
    case 58:
    case 59:
      return "it assigns an address or a lease";
    case 52:
    case 53:
    case 54:
    case 55:
    case 57:
    case 61:
      return "it is part of the DHCP exchange itself";
    case 43:
    case 60:
    case 82:
    case 97:
      return "pxe-pdhcp writes it itself (43: use menu or the Raspberry Pi "
             "profile)";
    default:
      return {};
  }
}

absl::Status ValidateBootPolicy(const BootPolicy& policy) {
  std::set<std::string> menu_names;
  for (const Menu& menu : policy.menus) {
    PXE_RETURN_IF_ERROR(CheckMenu(menu));
    if (!menu_names.insert(menu.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("menu \"", menu.name, "\" is defined twice"));
    }
  }
  PXE_RETURN_IF_ERROR(CheckAnswer("", policy.defaults, policy));
  bool any = AnyBootSource(policy.defaults);
  std::set<std::string> rule_names;
  for (const Rule& rule : policy.rules) {
    if (rule.name.empty()) {
      return absl::InvalidArgumentError("every rule needs a name");
    }
    if (!rule_names.insert(rule.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("rule \"", rule.name,
                       "\" is defined twice: give each rule its own name"));
    }
    PXE_RETURN_IF_ERROR(CheckAnswer(absl::StrCat("rule \"", rule.name, "\": "),
                                    rule.answer, policy));
    any = any ||
          (rule.action == RuleAction::kAnswer && AnyBootSource(rule.answer));
  }
  if (!any) {
    return absl::InvalidArgumentError(
        "no boot file configured: name an NBP (e.g. pxelinux.0)");
  }
  for (const RelayServerAddress& r : policy.relay_servers) {
    if (r.relay_subnet.prefix_length > 32 || r.server == 0) {
      return absl::InvalidArgumentError(
          "relay server entry needs a prefix length <= 32 and an address");
    }
  }
  return absl::OkStatus();
}

PolicySnapshot::PolicySnapshot(BootPolicy policy) : policy_(std::move(policy)) {
  defaults_ = Resolve(policy_.defaults, BootAnswer{}, policy_);
  for (const Rule& rule : policy_.rules) {
    ResolvedAnswer a = Resolve(rule.answer, policy_.defaults, policy_);
    a.rule_name = rule.name;
    a.ignore = rule.action == RuleAction::kIgnore;
    a.log = rule.log;
    rules_.push_back(std::move(a));
  }
  matcher_ = RuleMatcher(policy_.rules);
}

absl::StatusOr<std::unique_ptr<const PolicySnapshot>> PolicySnapshot::Compile(
    BootPolicy policy) {
  PXE_RETURN_IF_ERROR(ValidateBootPolicy(policy));
  return std::unique_ptr<const PolicySnapshot>(
      new PolicySnapshot(std::move(policy)));
}

}  // namespace pxe
