#!/usr/bin/env bash
# Installs what pxe-pdhcp needs on Debian 12, from Debian's archive only.
#   tools/install-deps.sh          build and unit-test dependencies
#   tools/install-deps.sh --all    plus what the integration tests and the demo
#                                  start for real: QEMU with iPXE and OVMF,
#                                  dnsmasq, Kea, tftpd-hpa, syslinux, clients,
#                                  busybox-static (the demo's initramfs),
#                                  tshark (decodes the replies in the tests,
#                                  a DHCP decoder that is not ours), and what
#                                  the package test uses (debhelper, lintian,
#                                  systemd-analyze); then, with
#                                  tools/fetch-boot-files.sh, the boot files
#                                  that come from packages which must not be
#                                  installed (signed shim and GRUB, arm64
#                                  GRUB, iPXE), unpacked into a cache
#                                  directory
set -euo pipefail

packages=(build-essential cmake pkg-config clang libclang-rt-14-dev
  clang-format libpcap-dev libmnl-dev libsystemd-dev libabsl-dev libgtest-dev
  libgmock-dev libbenchmark-dev libtomlplusplus-dev libcap-dev libseccomp-dev
  libmicrohttpd-dev tcpdump iproute2 groff-base man-db python3)
if [[ "${1:-}" == "--all" ]]; then
  packages+=(qemu-system-x86 ipxe-qemu ovmf pxelinux syslinux-common
    syslinux-efi tftpd-hpa dnsmasq-base kea-dhcp4-server udhcpc
    isc-dhcp-client isc-dhcp-server gnuplot-nox procps busybox-static
    tshark debhelper dpkg-dev lintian systemd prometheus
    qemu-system-arm qemu-efi-aarch64)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  if [[ "${1:-}" == "--all" ]]; then
    exec "$(dirname "$0")/fetch-boot-files.sh"
  fi
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2
    exit 1
  }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
# Package scripts must not start daemons on this host (dnsmasq, tftpd-hpa,
# kea): the tests start their own inside network namespaces.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
if [[ "${1:-}" == "--all" ]]; then
  "$(dirname "$0")/fetch-boot-files.sh"
fi
