#!/usr/bin/env bash
# pxe-pdhcp demo: a sandbox LAN in network namespaces where a virtual machine
# network-boots through pxe-pdhcp.
#
#   "lan" namespace:  a bridge, and a tap device for the QEMU machine
#   "srv" namespace:  10.77.0.1/24 with dnsmasq as the plain DHCP server (no
#                     boot options), tftpd-hpa, and pxe-pdhcp beside dnsmasq
#                     on the same interface
#
# The machine (SeaBIOS + QEMU's iPXE ROM, or OVMF's UEFI PXE with --uefi)
# gets its address from dnsmasq and its boot file from pxe-pdhcp, fetches
# pxelinux.0 (syslinux.efi) by TFTP and prints its banner. Everything the
# demo creates is removed when it ends, also on Ctrl-C. Nothing outside the
# namespaces is touched.
#
#   tools/demo.sh           install, build, boot a BIOS machine
#   tools/demo.sh --uefi    boot OVMF's UEFI PXE client instead
#   tools/demo.sh --no-build  use the existing build/
set -euo pipefail
source "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
root=$PWD

uefi=0
build=1
for arg in "$@"; do
  case $arg in
    --uefi) uefi=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: tools/demo.sh [--uefi] [--no-build]" >&2; exit 2 ;;
  esac
done

if ((build)); then
  tools/install-deps.sh --all
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target pxe-pdhcp
fi
pdhcp=$root/build/tools/pxe-pdhcp

tag=pxd$$
ns_srv=$tag-srv
ns_lan=$tag-lan
work=$(mktemp -d /tmp/pxe-pdhcp-demo.XXXXXX)
pids=()

cleanup() {
  set +e
  # Also whatever else still runs inside the demo's own namespaces.
  for ns in "$ns_srv" "$ns_lan"; do
    pids+=($(ip netns pids "$ns" 2>/dev/null))
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  ip netns del "$ns_srv" 2>/dev/null
  ip netns del "$ns_lan" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Background processes are started with a plain `ip netns exec ... &` (which
# execs the program), never through a shell function: $! must be the
# program's own PID for the cleanup to reach it.

say "sandbox LAN: namespaces $ns_srv (servers) and $ns_lan (bridge + VM)"
ip netns add "$ns_srv"
ip netns add "$ns_lan"
ip link add "$tag-s" type veth peer name "$tag-b"
ip link set "$tag-s" netns "$ns_srv"
ip link set "$tag-b" netns "$ns_lan"
for ns in "$ns_srv" "$ns_lan"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$ns_srv" addr add 10.77.0.1/24 dev "$tag-s"
ip -n "$ns_srv" link set "$tag-s" up
ip -n "$ns_lan" link add br0 type bridge
ip -n "$ns_lan" link set "$tag-b" master br0 up
ip -n "$ns_lan" tuntap add dev tap0 mode tap
ip -n "$ns_lan" link set tap0 master br0 up
ip -n "$ns_lan" link set br0 up

say "TFTP root"
tftp=$work/tftp
mkdir -p "$tftp/pxelinux.cfg"
if ((uefi)); then
  nbp=syslinux.efi
  cp /usr/lib/SYSLINUX.EFI/efi64/syslinux.efi /usr/lib/syslinux/modules/efi64/ldlinux.e64 "$tftp/"
else
  nbp=pxelinux.0
  cp /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tftp/"
fi
cat >"$tftp/pxelinux.cfg/default" <<CFG
SAY pxe-pdhcp demo: the network boot worked.
PROMPT 0
TIMEOUT 0
CFG
ls -1 "$tftp"

say "dnsmasq (DHCP server only, no boot options) on 10.77.0.1"
ip netns exec "$ns_srv" dnsmasq --no-daemon --port=0 --conf-file=/dev/null \
  --interface="$tag-s" --bind-interfaces --no-ping \
  --dhcp-range=10.77.0.100,10.77.0.200,1h \
  --dhcp-leasefile="$work/leases" --pid-file="$work/dnsmasq.pid" \
  --log-dhcp >"$work/dnsmasq.log" 2>&1 &
pids+=($!)

say "tftpd-hpa on 10.77.0.1:69"
ip netns exec "$ns_srv" in.tftpd --foreground --address 10.77.0.1:69 --secure "$tftp" \
  >"$work/tftpd.log" 2>&1 &
pids+=($!)

say "pxe-pdhcp beside dnsmasq: $pdhcp -d -i $tag-s $nbp"
ip netns exec "$ns_srv" "$pdhcp" -d -i "$tag-s" "$nbp" >"$work/pxe-pdhcp.log" 2>&1 &
pids+=($!)
sleep 0.5

say "tcpdump of the DHCP exchange"
ip netns exec "$ns_srv" tcpdump -i "$tag-s" -n -l -e 'udp port 67 or udp port 68 or udp port 4011 or udp port 69' \
  >"$work/tcpdump.log" 2>/dev/null &
pids+=($!)
sleep 0.5

if ((uefi)); then
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
  firmware=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
    -drive "if=pflash,format=raw,file=$work/vars.fd"
    -device virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=52:54:00:77:00:10)
  say "QEMU: OVMF's own UEFI PXE client (takes about 20 s under emulation)"
else
  firmware=(-boot n -device e1000,netdev=n0,mac=52:54:00:77:00:10)
  say "QEMU: SeaBIOS + iPXE ROM (takes about 25 s under emulation)"
fi
ip netns exec "$ns_lan" qemu-system-x86_64 -machine accel=tcg -m 256 -nographic -no-reboot \
  -serial "file:$work/console.log" -monitor none \
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no "${firmware[@]}" \
  >"$work/qemu.log" 2>&1 &
qemu=$!
pids+=($qemu)

# The console as text: UEFI consoles position every character with ANSI
# escapes.
console_text() {
  sed -E 's/\x1b\[[0-9;=?]*[A-Za-z]//g' "$work/console.log" 2>/dev/null | tr -d '\r'
}

ok=0
for _ in $(seq 240); do
  if console_text | grep -q "the network boot worked"; then
    ok=1
    break
  fi
  kill -0 "$qemu" 2>/dev/null || break
  sleep 0.5
done
sleep 0.5

say "what pxe-pdhcp answered"
grep -E "=>" "$work/pxe-pdhcp.log" | sed 's/^pxe-pdhcp: //' || true
say "the DHCP exchange on the wire (tcpdump)"
grep -v TFTP "$work/tcpdump.log" || true
say "files the machine fetched over TFTP"
grep -oE 'RRQ "[^"]*"' "$work/tcpdump.log" | sort -u || true
say "the machine's console (last lines)"
console_text | grep -v '^\s*$' | tail -n 15 || true

if ((ok)); then
  say "the machine booted $nbp through pxe-pdhcp"
  exit 0
fi
say "the machine did not boot within 120 s"
exit 1
