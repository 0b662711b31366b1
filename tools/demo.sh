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
# pxelinux.0 (syslinux.efi) by TFTP, and pxelinux loads a Linux kernel and an
# initramfs by TFTP too. The kernel is Debian's cloud kernel, taken from its
# package with apt-get download and dpkg-deb (not installed); the initramfs
# is busybox-static and an /init that says the machine booted through
# pxe-pdhcp and powers it off. Both are kept in BUILD_DIR/demo-cache, so a
# second run downloads nothing. The demo exits 0 only when the machine's
# console shows that line. Everything it creates outside that cache is
# removed when it ends, also on Ctrl-C. Apart from the build directory (and
# APT's package lists, when the download needs an apt-get update), nothing
# outside the namespaces is touched.
#
#   tools/demo.sh           install, build, boot a BIOS machine
#   tools/demo.sh --uefi    boot OVMF's UEFI PXE client instead
#   tools/demo.sh --no-build  use the existing build directory
#   tools/demo.sh --build-dir DIR  build in (or use) DIR instead of build/
set -euo pipefail
# shellcheck source=tools/as-root.sh
source "$(dirname "$0")/as-root.sh"
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD

usage() {
  echo "usage: tools/demo.sh [--uefi] [--no-build] [--build-dir DIR]" >&2
  exit 2
}
uefi=0
build=1
build_dir=$root/build
while (($#)); do
  case $1 in
    --uefi) uefi=1 ;;
    --no-build) build=0 ;;
    --build-dir)
      (($# >= 2)) || usage
      build_dir=$(cd "$caller" && realpath -m "$2")
      shift
      ;;
    *) usage ;;
  esac
  shift
done

if ((build)); then
  tools/install-deps.sh --all
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target pxe-pdhcp
fi
pdhcp=$build_dir/tools/pxe-pdhcp
if [[ ! -x $pdhcp ]]; then
  echo "demo: no $pdhcp; build it first (tools/demo.sh without --no-build)" >&2
  exit 1
fi
cache=$build_dir/demo-cache
# The kernel: whichever image Debian's linux-image-cloud-amd64 depends on
# now (a small kernel for virtual machines that boots fast), e.g.
# linux-image-6.1.0-57-cloud-amd64.
kernel_meta=linux-image-cloud-amd64
# What the machine's /init prints once Linux runs: the demo waits for it.
success="Linux booted over the network through pxe-pdhcp"
# Seconds the machine has to get there from QEMU's start: a BIOS boot takes
# about 30 s under emulation (TCG), a UEFI one about 20 s; the rest is for a
# busy machine.
limit=240

tag=pxd$$
ns_srv=$tag-srv
ns_lan=$tag-lan
work=$(mktemp -d /tmp/pxe-pdhcp-demo.XXXXXX)
pids=()

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  set +e
  # Also whatever else still runs inside the demo's own namespaces.
  for ns in "$ns_srv" "$ns_lan"; do
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  ip netns del "$ns_srv" 2>/dev/null
  ip netns del "$ns_lan" 2>/dev/null
  rm -rf "$work"
  rm -f "$cache"/.*."$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Puts FILE into the cache as NAME, whole or not at all.
keep() {
  mkdir -p "$cache"
  cp "$1" "$cache/.$2.$$"
  mv "$cache/.$2.$$" "$cache/$2"
}

# Sets kernel to a cached vmlinuz, downloading the current kernel package
# and unpacking its image first when it is not cached. Without package
# lists (offline), the newest cached kernel will do.
fetch_kernel() {
  local pkg
  pkg=$(apt-cache depends "$kernel_meta" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && !pkg { pkg = $2 } END { print pkg }') ||
    pkg=""
  if [[ -z $pkg ]]; then
    kernel=$(find "$cache" -maxdepth 1 -name 'vmlinuz-*' -printf '%T@ %p\n' 2>/dev/null |
      sort -n | tail -n 1 | cut -d' ' -f2-)
    if [[ -z $kernel ]]; then
      echo "demo: APT does not know $kernel_meta: run apt-get update" >&2
      exit 1
    fi
    echo "APT does not know $kernel_meta; using the cached $(basename "$kernel")"
    return
  fi
  kernel=$cache/vmlinuz-${pkg#linux-image-}
  [[ -s $kernel ]] && return
  mkdir -p "$work/deb"
  echo "downloading $pkg (to unpack, not to install)"
  # -o APT::Sandbox::User=root: APT's _apt user cannot write to $work.
  if ! (cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg"); then
    echo "retrying after apt-get update"
    apt-get update -q
    (cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg")
  fi
  # The image alone: the package's modules are of no use to this machine.
  dpkg-deb --fsys-tarfile "$work"/deb/*.deb |
    tar -x -C "$work/deb" --wildcards './boot/vmlinuz-*'
  keep "$work"/deb/boot/vmlinuz-* "$(basename "$kernel")"
  rm -rf "$work/deb"
  # Kernels of earlier packages.
  find "$cache" -maxdepth 1 -name 'vmlinuz-*' ! -name "$(basename "$kernel")" -delete
}

# Sets initrd to the cached initramfs (cpio newc, gzip): busybox-static and
# an /init that says the machine booted and powers it off. Built again when
# this script (which holds /init) or busybox is newer.
build_initramfs() {
  local busybox=/bin/busybox dir=$work/initramfs
  initrd=$cache/initrd.gz
  [[ -s $initrd && $initrd -nt $root/tools/demo.sh && $initrd -nt $busybox ]] && return
  mkdir -p "$dir"/{bin,dev,proc,sys}
  cp "$busybox" "$dir/bin/busybox"
  ln -s busybox "$dir/bin/sh"
  cat >"$dir/init" <<INIT
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo
echo "$success: \$(uname -r)"
echo "  \$(cat /proc/version)"
echo "  kernel command line: \$(cat /proc/cmdline)"
echo "  powering off"
poweroff -f
INIT
  chmod 755 "$dir/init"
  (cd "$dir" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) |
    gzip -9 >"$work/initrd.gz"
  keep "$work/initrd.gz" initrd.gz
  rm -rf "$dir" "$work/initrd.gz"
}

say "Linux for the machine: Debian's $kernel_meta kernel and a busybox initramfs (kept in $cache)"
fetch_kernel
build_initramfs
ls -l "$kernel" "$initrd"

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
cp "$kernel" "$tftp/vmlinuz"
cp "$initrd" "$tftp/initrd.gz"
# syslinux.efi reads the same file. IPAPPEND 3 adds ip=... (the address
# dnsmasq gave) and BOOTIF=... (the machine's MAC address) to the kernel's
# command line; loglevel=2 keeps the kernel's console to its last words
# (edd=off: no BIOS disk probe line either); after a panic the machine
# restarts, which ends QEMU (-no-reboot) at once.
cat >"$tftp/pxelinux.cfg/default" <<CFG
SAY pxe-pdhcp demo: pxelinux loads Linux over TFTP.
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0 loglevel=2 panic=-1 edd=off
  IPAPPEND 3
CFG
(cd "$tftp" && find . -type f | sed 's|^\./||' | sort)

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

# shellcheck disable=SC2054  # commas inside QEMU's arguments
if ((uefi)); then
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
  firmware=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
    -drive "if=pflash,format=raw,file=$work/vars.fd"
    -device virtio-net-pci,netdev=n0,romfile=,bootindex=1,mac=52:54:00:77:00:10)
  say "QEMU: OVMF's own UEFI PXE client (about 20 s to Linux under emulation)"
else
  firmware=(-boot n -device e1000,netdev=n0,mac=52:54:00:77:00:10)
  say "QEMU: SeaBIOS + iPXE ROM (about 30 s to Linux under emulation)"
fi
started=$SECONDS
ip netns exec "$ns_lan" qemu-system-x86_64 -machine accel=tcg -m 512 -nographic -no-reboot \
  -serial "file:$work/console.log" -monitor none \
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no "${firmware[@]}" \
  >"$work/qemu.log" 2>&1 &
qemu=$!
pids+=("$qemu")

# The console as text: UEFI consoles position every character with ANSI
# escapes (a move to column 1 starts a line), and Linux resets the serial
# terminal (ESC c).
console_text() {
  sed -E 's/\x1b\[[0-9]+;0*1H/\n/g; s/\x1b\[[0-9;=?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' \
    "$work/console.log" 2>/dev/null | tr -d '\r'
}

# Until /init's line is on the console, the machine stops, or the limit.
ok=0
while ((SECONDS - started < limit)); do
  if console_text | grep -qF "$success"; then
    ok=1
    break
  fi
  kill -0 "$qemu" 2>/dev/null || break
  sleep 0.5
done
booted=$((SECONDS - started))
# /init powers the machine off: QEMU exits by itself.
if ((ok)); then
  for _ in $(seq 20); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.5; done
fi

say "what pxe-pdhcp answered"
# Its decision log (-d), one line per answer, without the time stamps.
grep -F " sent=" "$work/pxe-pdhcp.log" | sed -E 's/^time=[^ ]+ //' || true
say "the DHCP exchange on the wire (tcpdump)"
grep -v TFTP "$work/tcpdump.log" || true
say "files the machine fetched over TFTP"
grep -oE 'RRQ "[^"]*"' "$work/tcpdump.log" | awk '!seen[$0]++' || true
say "the machine's console (last lines)"
console_text | grep -v '^\s*$' | tail -n 15 || true

if ((ok)); then
  if kill -0 "$qemu" 2>/dev/null; then
    say "Linux booted through pxe-pdhcp in $booted s, but the machine did not power off"
  else
    say "Linux booted through pxe-pdhcp in $booted s ($nbp, vmlinuz, initrd.gz over TFTP) and powered off"
  fi
  exit 0
fi
if kill -0 "$qemu" 2>/dev/null; then
  say "FAILED: no \"$success\" on the machine's console within $limit s"
else
  say "FAILED: the machine stopped after $booted s without \"$success\" on its console"
  grep -v '^\s*$' "$work/qemu.log" | tail -n 5 || true
fi
exit 1
