#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_responder into tests/fuzz/corpus_responder/.

Each seed is a script of records for the fuzzer (see fuzz_responder.cc): the
captured exchanges of tests/data replayed on the port with one address and
on the port with two (where DISCOVERs wait for the LAN server's OFFER), with
the clock moving between frames, plus the stories the tables and timers
exist for: a hold that times out, replies a rule delays, a policy swap while
frames wait, more clients than the tables hold, a transmit ring without free
slots, retransmits and bridge copies, relayed and menu requests, a clock
that jumps past the timing wheel. The frames come from the captures through
make_corpus.py's Frame, so lengths and checksums stay right. Standard
library only; run it again after changing the record format:

    python3 tests/fuzz/make_responder_corpus.py
"""

import os
import struct
import sys

import make_corpus
from make_corpus import Frame

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus_responder")

# Record opcodes (fuzz_responder.cc).
FRAME = 0          # | port; | 0x08 verify the UDP checksum; | 0x10 a tag
                   # the kernel stripped: kStrippedTags[op >> 5]
ADVANCE_TICK = 2   # | (tenths of a ms) << 3; then ms, 16 bits
ADVANCE = 3        # the same without Tick()
TICK_DUE = 4
SWAP_POLICY = 5    # | (1 + port + 2 * variant) << 3: UpdatePort()
SLOTS = 6          # then the mask of free slots
REPEAT = 7         # | port << 3

CLIENT = bytes([0x52, 0x54, 0x00, 0x77, 0x00, 0x10])
IGNORED = bytes([0x52, 0x54, 0x00, 0x77, 0x00, 0x66])  # policy A ignores
SLOWEST = bytes([0x52, 0x54, 0x00, 0x77, 0x00, 0x20])  # policy B: 5 s


# Indexes into fuzz_responder.cc's kStrippedTags.
VLAN5, PRIORITY, VLAN7, VLAN5_PCP5, VLAN6, VLAN4094, PRIORITY_DEI, S_TAG = \
    range(8)


def frame(raw, port=0, verify=False, vlan=False, tag=VLAN5):
    op = FRAME | port | (0x08 if verify else 0)
    if vlan:
        op |= 0x10 | tag << 5
    return bytes([op]) + struct.pack("!H", len(raw)) + raw


def update_port(port, variant):
    """Port `port` becomes fuzz_responder.cc's PortVariant(port, variant)."""
    return bytes([SWAP_POLICY | (1 + port + 2 * variant) << 3])


def advance(ms, tick=True, tenths=0):
    op = (ADVANCE_TICK if tick else ADVANCE) | (tenths << 3)
    return bytes([op]) + struct.pack("!H", ms)


def repeat(port):
    return bytes([REPEAT | port << 3])


def slots(mask):
    return bytes([SLOTS, mask])


def with_client(raw, mac):
    """The frame with another client MAC (chaddr and Ethernet address)."""
    f = Frame(raw)
    f.bootp[28:34] = mac
    if f.eth[6:12] == CLIENT:
        f.eth[6:12] = mac
    if f.eth[0:6] == CLIENT:
        f.eth[0:6] = mac
    return f.build()


def replay(frames, port, gap_ms=1, verify=False):
    out = b""
    for raw in frames:
        out += frame(raw, port, verify) + advance(gap_ms)
    return out


def write(name, data):
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(CORPUS, exist_ok=True)
    data = os.path.join(HERE, "..", "data")
    bios = make_corpus.read_pcap(os.path.join(data, "bios-ipxe-proxy-offer.pcap"))
    uefi = make_corpus.read_pcap(os.path.join(data, "uefi-ovmf-proxy-offer.pcap"))
    uefi4011 = make_corpus.read_pcap(
        os.path.join(data, "uefi-ovmf-port4011.pcap"))
    bios_discover, bios_server_offer = bios[0], bios[2]
    uefi_discover, uefi_server_offer = uefi[0], uefi[2]

    # The captures as they happened, on either port.
    for name, frames in (("bios", bios), ("uefi", uefi),
                         ("uefi4011", uefi4011)):
        write("replay-%s-port0" % name, replay(frames, 0))
        write("replay-%s-port1" % name, replay(frames, 1))
    # OVMF's PXEv6 and HTTPv6 Solicits on either port (port 1 has no
    # link-local address: no Advertise there), a bridge's copy, and the
    # 4011 Request and relayed Solicit variants of fuzz_frame's corpus.
    v6 = [raw for raw in make_corpus.read_pcap(os.path.join(
        data, "ovmf-uefi-pxev6-httpv4-httpv6-solicits.pcap"))
        if raw[12:14] == b"\x86\xdd"]
    seeds = os.path.join(HERE, "corpus")
    extra = []
    for name in ("variant6-request-4011", "variant6-relay-forward-solicit",
                 "variant6-vlan-solicit", "variant6-information-request"):
        with open(os.path.join(seeds, name), "rb") as f:
            extra.append(f.read())
    write("dhcp6-solicits",
          replay(v6, 0, gap_ms=1000) + repeat(0) + replay(v6[:2], 1) +
          replay(extra, 0, gap_ms=100))
    # Rebuilt with correct UDP checksums (the captures' replies carry
    # offloaded, partial ones), for the verifying path.
    write("replay-bios-port1-verified",
          replay([Frame(raw).build() for raw in bios], 1, verify=True))

    # Port 1: the DISCOVER waits for the LAN server's OFFER, which releases
    # it; then the client's REQUEST on 4011.
    write("hold-released-by-offer",
          frame(bios_discover, 1) + advance(20) +
          frame(bios_server_offer, 1) + advance(5) +
          frame(bios[5], 1) + advance(1))
    # ... or no OFFER comes: answered when the hold times out.
    write("hold-times-out",
          frame(uefi_discover, 1) + advance(100) + advance(250) +
          bytes([TICK_DUE]) + advance(50))

    # Policy A delays UEFI x64 replies 40 ms; B delays BIOS ones 1.5 s.
    write("delay-uefi-policy-a",
          frame(uefi_discover, 0) + advance(39) + advance(1) + advance(5))
    write("delay-bios-policy-b",
          bytes([SWAP_POLICY]) + frame(bios_discover, 0) + advance(1000) +
          bytes([TICK_DUE]) + advance(1))
    write("delay-slowest-policy-b",
          bytes([SWAP_POLICY]) + frame(with_client(bios_discover, SLOWEST), 1) +
          frame(bios_server_offer, 1) + advance(4999) + bytes([TICK_DUE]))
    # The policy changes while frames wait.
    write("swap-while-held",
          frame(uefi_discover, 0) + frame(bios_discover, 1) + advance(10) +
          bytes([SWAP_POLICY]) + advance(300) + bytes([SWAP_POLICY]) +
          bytes([TICK_DUE, TICK_DUE]) + advance(2000))

    # An ignored client, and the menu client asking for the menu's item.
    item = Frame(bios[5])
    item.set_option(43, b"\x47\x04\x80\x01\x00\x00\xff")
    boot_server = Frame(bios[3])  # a REQUEST for the menu item, to 67
    boot_server.remove_option(50)
    boot_server.remove_option(54)
    boot_server.set_option(43, b"\x47\x04\x80\x01\x00\x00\xff")
    write("boot-server-request-67",
          frame(boot_server.build(), 0, verify=True) + advance(1) +
          frame(boot_server.build(), 1) + advance(60) + repeat(1) +
          advance(1))
    write("ignored-and-menu",
          frame(with_client(bios_discover, IGNORED), 0) + advance(1) +
          frame(bios_discover, 0) + advance(1) +
          frame(item.build(), 0) + advance(1) +
          frame(item.build(), 1) + advance(1))

    # More clients than the hold queue (3), offer table (4) and duplicate
    # filter (4) hold.
    script = b""
    for n in range(8):
        mac = bytes([0x52, 0x54, 0x00, 0x77, 0x01, n])
        script += frame(with_client(uefi_discover, mac), 1) + advance(0, True, 2)
    for n in range(8):
        mac = bytes([0x52, 0x54, 0x00, 0x77, 0x01, n])
        script += frame(with_client(uefi_server_offer, mac), 1)
    write("tables-fill", script + advance(400) + advance(100))

    # No free transmit slot, then every other one.
    write("sink-full",
          slots(0x00) + frame(bios_discover, 0) + advance(100) +
          slots(0x55) + frame(bios_discover, 0) + frame(uefi_discover, 0) +
          advance(100) + frame(bios[5], 0) + advance(1))

    # A bridge's copy on the other port, a retransmit within the duplicate
    # window and one after it, with the kernel's VLAN tag and unchecked UDP
    # checksums.
    write("duplicates",
          frame(bios_discover, 0, verify=False, vlan=True) + repeat(1) +
          repeat(0) + advance(20) + repeat(0) + advance(60) + repeat(0) +
          advance(1))

    # Relayed DISCOVERs (giaddr 10.9.0.1: policy A's relay server entry).
    relayed = Frame(uefi_discover)
    relayed.ip[12:16] = bytes([10, 9, 0, 1])
    relayed.ip[16:20] = bytes([10, 77, 0, 2])
    relayed.udp[0:2] = struct.pack("!H", 67)
    relayed.bootp[3] = 1
    relayed.bootp[24:28] = bytes([10, 9, 0, 1])
    relayed.set_option(82, b"\x01\x04port\x02\x06" + bytes(6))
    write("relayed",
          frame(relayed.build(), 1) + advance(1) + frame(relayed.build(), 0) +
          advance(50) + bytes([SWAP_POLICY]) + frame(relayed.build(), 1) +
          advance(1))

    # The networks a port serves: VLAN 5 on both ports (port 1 from two
    # addresses, so the DISCOVER is held), VLAN 7 on port 0 only, VLAN 0 and
    # the priority bits, a VLAN served nowhere and an S-tag. One client per
    # frame, so that the duplicate filter lets each through.
    script = b""
    for n, (port, tag) in enumerate(
            ((0, VLAN5), (0, VLAN7), (1, VLAN7), (0, VLAN6), (0, PRIORITY),
             (1, VLAN5_PCP5), (0, PRIORITY_DEI), (0, S_TAG), (1, VLAN5))):
        mac = bytes([0x52, 0x54, 0x00, 0x05, 0x00, n])
        script += frame(with_client(bios_discover, mac), port, vlan=True,
                        tag=tag) + advance(1)
    write("vlan-networks", script + advance(350) + advance(1))

    # Interfaces change while the responder runs: a DISCOVER held on
    # VLAN 5 when port 1's VLANs go, another primary address, a port gone,
    # a new MAC, VLANs 6 and 4094 added.
    def client(n):
        return with_client(bios_discover, bytes([0x52, 0x54, 0, 6, 0, n]))
    write("vlan-port-updates",
          frame(client(0), 1, vlan=True) + advance(10) + update_port(1, 2) +
          advance(350) + update_port(1, 0) +
          frame(client(1), 1, vlan=True) + update_port(1, 4) + advance(350) +
          update_port(0, 1) + frame(client(2), 0) + advance(1) +
          update_port(0, 6) + frame(client(3), 0) + advance(1) +
          update_port(0, 5) + frame(client(4), 0, vlan=True, tag=VLAN6) +
          advance(1) + update_port(0, 7) +
          frame(client(5), 0, vlan=True, tag=VLAN4094) + advance(1) +
          update_port(0, 3) + frame(client(6), 0) + advance(1))

    # The clock jumps past the timing wheel (8.2 s) without Tick(), while a
    # frame waits, and frames keep coming.
    write("clock-jump",
          frame(uefi_discover, 1) + advance(9000, tick=False) +
          frame(with_client(uefi_discover, SLOWEST), 1) +
          advance(9000, tick=False) + frame(bios_discover, 1) +
          bytes([TICK_DUE]) + advance(1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
