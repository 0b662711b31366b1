// The decision log: one line per answer or drop (--log-level debug, or a
// rule with log = true) with what an operator asks at 3 a.m.: which
// interface and VLAN, which machine (MAC, xid), what it asked for (message
// type, architecture), the rule that decided, and what was sent (the boot
// file or URL, the boot server, where the reply went) or why nothing was.
#ifndef PXE_TOOLS_DECISION_LOG_H_
#define PXE_TOOLS_DECISION_LOG_H_

#include <vector>

#include "engine/responder.h"
#include "tools/log.h"

namespace pxe {

// In this order: iface, vlan (tagged only), mac, xid, type, arch, client
// (pxe or http), ipxe (iPXE only), port, relay (relayed only), rule
// ("(defaults)" for the defaults; absent when none was consulted), then
// either sent, from, to, boot_server, file or url, class (the reply's
// option 60) and menu (the PXE menu's labels), or drop and why. For a
// DHCPv6 request: iface, vlan, mac (from its DUID, "-" when none says),
// xid, type (solicit, request, information-request), arch, client, port,
// relay (the relay's address), rule, then sent (advertise, reply,
// "relay-reply advertise"...), from, to ([address]:port), url (option 59)
// and class (option 16), or drop and why.
std::vector<log::Field> DecisionFields(const Decision& decision);

// Writes the line (tools/log.h).
void LogDecision(const Decision& decision);

}  // namespace pxe

#endif  // PXE_TOOLS_DECISION_LOG_H_
