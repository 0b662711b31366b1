#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_frame into tests/fuzz/corpus/.

Every frame of the captures in tests/data as a file of its own, plus variants
of the real requests that reach code the captures do not: an 802.1Q tag, a
relayed DISCOVER (giaddr, option 82), options moved into `file` and `sname`
through option 52, option 60 split in two (RFC 3396), an HTTP-boot client, a
4011 REQUEST carrying a boot item (43.71), a boot-server REQUEST for a menu
item broadcast to 67, an unknown architecture, and a
frame without UDP checksum; and for DHCPv6, OVMF's PXEv6 Request to
[fd77::2]:4011 with our server ID (a DUID-LL of 02:00:00:00:00:02), the same
to ff02::1:2:4011, a relayed Solicit (Relay-forward with an Interface-ID),
a tagged Solicit and an Information-request. Lengths and checksums are recomputed so the
variants also pass the verifying run. Standard library only; run it again
after adding a capture:

    python3 tests/fuzz/make_corpus.py
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
CORPUS = os.path.join(HERE, "corpus")

BOOTP_FILE = 108
BOOTP_SNAME = 44
BOOTP_OPTIONS = 240


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    offset, frames = 24, []
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        frames.append(data[offset:offset + caplen])
        offset += caplen
    return frames


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Frame:
    """An Ethernet/IPv4/UDP/BOOTP frame split into editable parts."""

    def __init__(self, raw):
        self.eth = bytearray(raw[:14])
        ihl = (raw[14] & 0x0F) * 4
        self.ip = bytearray(raw[14:14 + ihl])
        total = struct.unpack("!H", self.ip[2:4])[0]
        self.udp = bytearray(raw[14 + ihl:14 + ihl + 8])
        payload = raw[14 + ihl + 8:14 + total]
        self.bootp = bytearray(payload[:BOOTP_OPTIONS])
        self.options = parse_options(payload[BOOTP_OPTIONS:])
        self.vlan = None
        self.udp_checksum = True

    def build(self):
        payload = bytes(self.bootp) + serialize(self.options)
        payload += b"\0" * max(0, 300 - len(payload))
        udp = bytearray(self.udp)
        struct.pack_into("!HH", udp, 4, 8 + len(payload), 0)
        ip = bytearray(self.ip)
        struct.pack_into("!H", ip, 2, len(ip) + 8 + len(payload))
        struct.pack_into("!H", ip, 10, 0)
        struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
        if self.udp_checksum:
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, 8 + len(payload))
            sum_ = checksum(bytes(pseudo) + bytes(udp) + payload) or 0xFFFF
            struct.pack_into("!H", udp, 6, sum_)
        eth = bytes(self.eth)
        if self.vlan is not None:
            eth = eth[:12] + struct.pack("!HH", 0x8100, self.vlan) + eth[12:]
        return eth + bytes(ip) + bytes(udp) + payload

    def set_option(self, code, value):
        for i, (c, _) in enumerate(self.options):
            if c == code:
                self.options[i] = (code, value)
                return
        self.options.append((code, value))

    def remove_option(self, code):
        self.options = [(c, v) for c, v in self.options if c != code]


def parse_options(area):
    options, i = [], 0
    while i < len(area) and area[i] != 255:
        if area[i] == 0:
            i += 1
            continue
        code, length = area[i], area[i + 1]
        options.append((code, bytes(area[i + 2:i + 2 + length])))
        i += 2 + length
    return options


def serialize(options):
    out = b""
    for code, value in options:
        out += bytes([code, len(value)]) + value
    return out + b"\xff"


def write(name, data):
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def options6(body):
    """A DHCPv6 option area as a list of [code, value]."""
    out, i = [], 0
    while i + 4 <= len(body):
        code, length = struct.unpack("!HH", body[i:i + 4])
        out.append([code, body[i + 4:i + 4 + length]])
        i += 4 + length
    return out


def message6(msg_type, xid, options):
    return bytes([msg_type]) + xid + b"".join(
        struct.pack("!HH", c, len(v)) + v for c, v in options)


def frame6(message, src, dst, sport, dport, src_mac, dst_mac, vlan=None):
    """Ethernet/IPv6/UDP around a DHCPv6 message, checksum computed."""
    udp_length = 8 + len(message)
    pseudo = src + dst + struct.pack("!IxxxB", udp_length, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_length, 0) + message
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!IHBB", 6 << 28, udp_length, 17, 255) + src + dst
    eth = dst_mac + src_mac
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + b"\x86\xdd" + ip + udp


def v6_variants(solicit):
    client_mac, server_mac = solicit[6:12], bytes([2, 0, 0, 0, 0, 2])
    client_ll, all_dhcp = solicit[22:38], solicit[38:54]
    ours = bytes.fromhex("fd770000000000000000000000000002")
    client = bytes.fromhex("fd770000000000000000000000000100")
    relay = bytes.fromhex("fd770000000000000000000000000001")
    message = solicit[62:]
    xid, options = message[1:4], options6(message[4:])
    duid = bytes([0, 3, 0, 1]) + server_mac
    request = message6(3, xid, [[2, duid]] +
                       [o for o in options if o[0] not in (3, 4)])
    write("variant6-request-4011", frame6(
        request, client, ours, 4011, 4011, client_mac, server_mac))
    write("variant6-request-4011-multicast", frame6(
        request, client_ll, all_dhcp, 4011, 4011, client_mac, solicit[0:6]))
    forward = (bytes([12, 0]) + bytes.fromhex("fd99" + "00" * 13 + "01") +
               client_ll + struct.pack("!HH", 18, 4) + b"ge-7" +
               struct.pack("!HH", 9, len(message)) + message)
    write("variant6-relay-forward-solicit", frame6(
        forward, relay, ours, 547, 547, bytes([2, 0, 0, 0, 0, 1]),
        server_mac))
    write("variant6-vlan-solicit", frame6(
        message, client_ll, all_dhcp, 546, 547, client_mac, solicit[0:6],
        vlan=(6 << 13) | 5))
    inform = message6(11, xid, [o for o in options if o[0] != 3])
    write("variant6-information-request", frame6(
        inform, client_ll, all_dhcp, 546, 547, client_mac, solicit[0:6]))


def main():
    os.makedirs(CORPUS, exist_ok=True)
    captures = {}
    for name in sorted(os.listdir(DATA)):
        if not name.endswith(".pcap"):
            continue
        stem = name[:-len(".pcap")]
        captures[stem] = read_pcap(os.path.join(DATA, name))
        for number, raw in enumerate(captures[stem], start=1):
            write("%s-%02d" % (stem, number), raw)

    bios = captures["bios-ipxe-proxy-offer"]
    uefi = captures["uefi-ovmf-proxy-offer"]
    server_mac = bytes([0x02, 0, 0, 0, 0, 0x02])

    f = Frame(bios[0])  # BIOS iPXE DISCOVER, 802.1Q VLAN 5, PCP 6
    f.vlan = (6 << 13) | 5
    write("variant-vlan-bios-discover", f.build())

    f = Frame(uefi[5])  # UEFI 4011 REQUEST, tagged
    f.vlan = 5
    write("variant-vlan-uefi-4011", f.build())

    f = Frame(uefi[0])  # relayed: unicast from the relay, giaddr, option 82
    f.eth[0:6] = server_mac
    f.ip[12:16] = bytes([10, 9, 0, 1])
    f.ip[16:20] = bytes([10, 77, 0, 2])
    f.udp[0:2] = struct.pack("!H", 67)
    f.bootp[3] = 1  # hops
    f.bootp[24:28] = bytes([10, 9, 0, 1])
    f.set_option(82, b"\x01\x04port\x02\x06" + bytes(6))
    write("variant-relayed-uefi-discover", f.build())

    f = Frame(uefi[0])  # option 52 = 3: option 60 in file, option 93 in sname
    vendor = dict(f.options)[60]
    arch = dict(f.options)[93]
    f.remove_option(60)
    f.remove_option(93)
    f.set_option(52, b"\x03")
    f.bootp[BOOTP_FILE:BOOTP_FILE + 128] = (
        serialize([(60, vendor)]).ljust(128, b"\0"))
    f.bootp[BOOTP_SNAME:BOOTP_SNAME + 64] = (
        serialize([(93, arch)]).ljust(64, b"\0"))
    write("variant-overload-uefi-discover", f.build())

    f = Frame(bios[0])  # option 60 split in two occurrences (RFC 3396)
    vendor = dict(f.options)[60]
    f.remove_option(60)
    f.options += [(60, vendor[:9]), (60, vendor[9:])]
    write("variant-split60-bios-discover", f.build())

    f = Frame(uefi[0])  # UEFI HTTP boot, x64 (arch 16)
    f.set_option(60, b"HTTPClient:Arch:00016:UNDI:003001")
    f.set_option(93, b"\x00\x10")
    write("variant-http-uefi-discover", f.build())

    f = Frame(uefi[0])  # UEFI arm64 HTTP boot: the long URL, option 67
    f.set_option(60, b"HTTPClient:Arch:00019:UNDI:003001")
    f.set_option(93, b"\x00\x13")
    write("variant-http-arm64-discover", f.build())

    f = Frame(uefi[5])  # 4011 REQUEST with a PXE boot item (43.71)
    f.set_option(43, b"\x47\x04\x80\x00\x00\x00\xff")
    write("variant-bootitem-uefi-4011", f.build())

    f = Frame(uefi[0])  # an architecture nobody serves (Itanium, 2)
    f.set_option(93, b"\x00\x02")
    f.set_option(60, b"PXEClient:Arch:00002:UNDI:003000")
    write("variant-unknown-arch-discover", f.build())

    f = Frame(bios[0])  # no UDP checksum (allowed over IPv4)
    f.udp_checksum = False
    write("variant-nochecksum-bios-discover", f.build())

    f = Frame(bios[3])  # boot-server REQUEST broadcast to 67, a menu item
    f.remove_option(50)
    f.remove_option(54)
    f.set_option(43, b"\x47\x04\x80\x01\x00\x00\xff")
    write("variant-bootitem-bios-67", f.build())

    f = Frame(bios[5])  # 4011 INFORM from iPXE
    f.set_option(53, b"\x08")
    write("variant-inform-bios-4011", f.build())

    v6 = captures["ovmf-uefi-pxev6-httpv4-httpv6-solicits"]
    v6_variants([raw for raw in v6 if raw[12:14] == b"\x86\xdd"][0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
