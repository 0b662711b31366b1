#!/usr/bin/env python3
"""Checks pxe-pdhcp's replies in a pcap with a decoder that is not ours.

Wireshark's DHCP dissector (tshark -T json), not the engine's ClassifyFrame,
decodes every reply sent from --server's address, so a bug the writer and our
parser share cannot pass. Each reply must decode without a malformed-packet
or error-level expert item (IPv4 and UDP checksums are verified), and hold
what a proxy's OFFER or ACK must: op 2 and hops 0, option 53 first, then 54
= the IPv4 source, then 60 "PXEClient" or "HTTPClient" (RFC 2131 §4.3.1
table 3, RFC 2132 §9.6-9.7, PXE 2.1); no lease options (1, 3, 6, 51, 58,
59); END last; option 43 closed by its END (PXE 2.1); siaddr set; in an
OFFER yiaddr 0 and the broadcast flag (RFC 2131 §4.1); in an ACK yiaddr 0
or the client's own address; 300 bytes of BOOTP at least (RFC 951); TTL 64
and TOS 0xC0; UDP 67 -> 68 (67 -> 67 to a relay, RFC 2131 §4.1) for an
OFFER, 4011 -> 68 or 4011 for an ACK (PXE 2.1).

  tshark_replies.py PCAP --server IP [--min-replies N] [--ignore-leases]
                    [--expect FRAME:FIELD=VALUE ...]

--ignore-leases skips the replies that carry an IP address lease time
(option 51): where the LAN's DHCP server shares the proxy's address, those
are its replies (a proxy reply with option 51 still fails --min-replies).

--expect checks one tshark field of one frame (its first value, at any depth
of the dissection), e.g. 3:dhcp.option.vendor.pxeclient.discovery_control=0x08;
the value "-" means the field is absent.

Prints one line per failed check, naming the frame number and the field, and
exits 1; exits 0 when every reply passed (and there were at least
--min-replies); 77 when tshark is missing.
"""

import argparse
import json
import shutil
import subprocess
import sys

ERROR_SEVERITY = 0x800000  # Wireshark's PI_ERROR (epan/proto.h)
LEASE_OPTIONS = {1, 3, 6, 51, 58, 59}  # RFC 2132: never in a proxy reply


def pairs(items):
    """Keeps repeated keys of tshark's JSON (one per option) as a list."""
    out = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def first(node, key, default=None):
    values = node.get(key)
    return values[0] if values else default


def walk(node):
    """Every (key, value) pair at any depth of a pairs() tree."""
    if isinstance(node, dict):
        for key, values in node.items():
            for value in values:
                yield key, value
                yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def options_of(dhcp):
    """The DHCP options as [(code, tree)], in wire order."""
    out = []
    types = dhcp.get("dhcp.option.type", [])
    trees = dhcp.get("dhcp.option.type_tree", [])
    for code, tree in zip(types, trees):
        out.append((int(code), tree))
    return out


def check_reply(number, layers, fail):
    ip = first(layers, "ip")
    udp = first(layers, "udp")
    dhcp = first(layers, "dhcp")
    where = "frame %d" % number

    def expect(field, got, want):
        if got != want:
            fail("%s: %s is %r, expected %r" % (where, field, got, want))

    for key, value in walk(layers):
        if key == "_ws.malformed":
            fail("%s: malformed packet (%s)" % (where, value))
        if key == "_ws.expert":
            severity = int(first(value, "_ws.expert.severity", "0"))
            if severity >= ERROR_SEVERITY:
                fail("%s: expert error: %s" %
                     (where, first(value, "_ws.expert.message")))
    if dhcp is None:
        fail("%s: not decoded as DHCP" % where)
        return None
    expect("ip.checksum.status (1 = good)",
           first(ip, "ip.checksum.status"), "1")
    expect("udp.checksum.status (1 = good)",
           first(udp, "udp.checksum.status"), "1")
    expect("ip.ttl", first(ip, "ip.ttl"), "64")
    expect("ip.dsfield", first(ip, "ip.dsfield"), "0xc0")
    expect("dhcp.type (op)", first(dhcp, "dhcp.type"), "2")
    expect("dhcp.hops", first(dhcp, "dhcp.hops"), "0")
    bootp_length = int(first(udp, "udp.length")) - 8
    if bootp_length < 300:
        fail("%s: BOOTP message of %d bytes, expected at least 300" %
             (where, bootp_length))

    options = options_of(dhcp)
    codes = [code for code, _ in options]
    if codes[:3] != [53, 54, 60]:
        fail("%s: options start %s, expected 53, 54, 60" % (where, codes[:3]))
    # tshark shows END as option "0" holding dhcp.option.end.
    if not options or "dhcp.option.end" not in options[-1][1]:
        fail("%s: the last option is not END (255)" % where)
    for code in LEASE_OPTIONS & set(codes):
        fail("%s: carries lease option %d" % (where, code))
    by_code = {code: tree for code, tree in options}
    message = first(by_code.get(53, {}), "dhcp.option.dhcp")
    if message not in ("2", "5"):
        fail("%s: option 53 is %r, expected 2 (OFFER) or 5 (ACK)" %
             (where, message))
        return None
    offer = message == "2"
    kind = "OFFER" if offer else "ACK"
    where = "frame %d (%s)" % (number, kind)
    server_id = first(by_code.get(54, {}), "dhcp.option.dhcp_server_id")
    expect("option 54", server_id, first(ip, "ip.src"))
    vendor_class = first(by_code.get(60, {}), "dhcp.option.vendor_class_id")
    if vendor_class not in ("PXEClient", "HTTPClient"):
        fail("%s: option 60 is %r, expected PXEClient or HTTPClient" %
             (where, vendor_class))
    if 43 in by_code and vendor_class == "PXEClient":
        if "dhcp.option.vendor.pxeclient.end" not in by_code[43]:
            fail("%s: option 43 not closed by END (255)" % where)
    if first(dhcp, "dhcp.ip.server") == "0.0.0.0":
        fail("%s: siaddr is 0.0.0.0" % where)
    src_port = first(udp, "udp.srcport")
    dst_port = first(udp, "udp.dstport")
    relayed = first(dhcp, "dhcp.ip.relay") != "0.0.0.0"
    if offer:
        expect("yiaddr", first(dhcp, "dhcp.ip.your"), "0.0.0.0")
        expect("dhcp.flags (broadcast)", first(dhcp, "dhcp.flags"), "0x8000")
        expect("udp ports", (src_port, dst_port),
               ("67", "67" if relayed else "68"))
    else:
        your = first(dhcp, "dhcp.ip.your")
        if your not in ("0.0.0.0", first(ip, "ip.dst")):
            fail("%s: yiaddr %s is neither 0.0.0.0 nor the client's %s" %
                 (where, your, first(ip, "ip.dst")))
        if src_port not in ("4011", "67") or dst_port not in ("68", "4011"):
            fail("%s: udp ports %s -> %s, expected 4011 -> 68 or 4011" %
                 (where, src_port, dst_port))
    return kind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pcap")
    parser.add_argument("--server", required=True,
                        help="IPv4 address pxe-pdhcp answers from")
    parser.add_argument("--min-replies", type=int, default=1)
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--ignore-leases", action="store_true")
    args = parser.parse_args()
    expectations = {}
    for item in args.expect:
        frame, _, rest = item.partition(":")
        field, _, value = rest.partition("=")
        expectations.setdefault(int(frame), []).append((field, value))
    if shutil.which("tshark") is None:
        print("tshark is not installed")
        return 77
    # Replies to 4011 from EDK2's port are not recognised as DHCP by port:
    # decode UDP 4011 as DHCP too.
    run = subprocess.run(
        ["tshark", "-n", "-r", args.pcap, "-T", "json",
         "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         "-d", "udp.port==4011,dhcp",
         "-Y", "ip.src == %s && (udp.srcport == 67 || udp.srcport == 4011)"
         % args.server],
        capture_output=True, text=True)
    if run.returncode != 0:
        print("tshark failed (%d): %s" % (run.returncode, run.stderr.strip()))
        return 1
    packets = json.loads(run.stdout or "[]", object_pairs_hook=pairs)
    failures = []
    counts = {}
    checked = 0
    for packet in packets:
        layers = first(first(packet, "_source"), "layers")
        number = int(first(first(layers, "frame"), "frame.number"))
        dhcp = first(layers, "dhcp")
        if (args.ignore_leases and dhcp is not None and
                "51" in dhcp.get("dhcp.option.type", [])):
            continue
        checked += 1
        kind = check_reply(number, layers, failures.append)
        counts[kind] = counts.get(kind, 0) + 1
        for field, want in expectations.pop(number, []):
            got = next((v for k, v in walk(layers) if k == field), None)
            if want == "-":
                want = None
            if got != want:
                failures.append("frame %d (%s): %s is %r, expected %r" %
                                (number, kind, field, got, want))
    for number in sorted(expectations):
        failures.append("frame %d: no reply from %s to check %s" %
                        (number, args.server,
                         ", ".join(f for f, _ in expectations[number])))
    if checked < args.min_replies:
        failures.append("%d replies from %s in %s, expected at least %d" %
                        (checked, args.server, args.pcap, args.min_replies))
    for line in failures:
        print(line)
    print("%d replies from %s decoded by tshark (%s): %s" %
          (checked, args.server,
           ", ".join("%s %d" % (k, v) for k, v in sorted(
               counts.items(), key=lambda kv: str(kv[0]))),
           "FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
