#!/usr/bin/env bash
# tools/demo.sh end to end, as a user runs it (with --no-build): in the
# demo's sandbox LAN a QEMU machine gets its boot file from pxe-pdhcp,
# pxelinux (syslinux.efi with --uefi) loads Debian's kernel and the
# busybox initramfs over TFTP, and the kernel's /init says so and powers
# the machine off. Checked here: the demo exits 0, pxe-pdhcp answered with
# the boot file, the machine fetched vmlinuz and initrd.gz, Linux got
# pxelinux's IPAPPEND line, the machine powered itself off, and the demo's
# namespaces are gone afterwards. Needs root; without it, without the
# programs and firmware the demo starts, or when there is no kernel to boot
# (none cached and APT does not know the package) it cannot run: it exits 77
# (skipped), or 1 with CI=true or PXE_REQUIRE_ALL=1 (cannot_run.sh).
#   demo_test.sh SOURCE_DIR BUILD_DIR bios|uefi
set -euo pipefail
source=$1
build=$2
firmware=$3

source "$(dirname "${BASH_SOURCE[0]}")/../testing/cannot_run.sh"
skip() { cannot_run "$@"; }
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, a tap device)"
for tool in qemu-system-x86_64 dnsmasq in.tftpd tcpdump busybox dpkg-deb; do
  command -v "$tool" >/dev/null ||
    skip "$tool is not installed (tools/install-deps.sh --all)"
done
flags=(--no-build --build-dir "$build")
case $firmware in
  bios)
    files=(/usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32)
    nbp=pxelinux.0
    ;;
  uefi)
    files=(/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi
      /usr/lib/syslinux/modules/efi64/ldlinux.e64
      /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd)
    nbp=syslinux.efi
    flags+=(--uefi)
    ;;
  *)
    echo "usage: demo_test.sh SOURCE_DIR BUILD_DIR bios|uefi" >&2
    exit 2
    ;;
esac
for file in "${files[@]}"; do
  [[ -e $file ]] || skip "no $file (tools/install-deps.sh --all)"
done
depends=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null) || depends=""
if ! compgen -G "$build/demo-cache/vmlinuz-*" >/dev/null &&
  [[ $depends != *"Depends: linux-image-"* ]]; then
  skip "no kernel: none in $build/demo-cache and APT does not know" \
    "linux-image-cloud-amd64 (apt-get update)"
fi

out=$(mktemp /tmp/demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
# In the background, to know its PID: the demo names its namespaces after it.
"$source/tools/demo.sh" "${flags[@]}" >"$out" 2>&1 &
demo=$!
status=0
wait "$demo" || status=$?
# The output as text, without the demo's bold headings.
sed -i -E 's/\x1b\[[0-9;]*m//g' "$out"

fail=0
expect() {
  if ! grep -qF -- "$1" "$out"; then
    echo "the demo's output lacks: $1"
    fail=1
  fi
}
if ((status != 0)); then
  echo "tools/demo.sh ${flags[*]} exited with $status"
  fail=1
fi
expect "Linux booted over the network through pxe-pdhcp: "
expect "file=$nbp "
expect "RRQ \"$nbp\""
expect 'RRQ "vmlinuz"'
expect 'RRQ "initrd.gz"'
expect "BOOTIF=01-52-54-00-77-00-10"
expect "and powered off"
if ip netns list | grep -qE "^pxd$demo-"; then
  echo "the demo left its namespaces behind: $(ip netns list | grep -E "^pxd$demo-" | tr '\n' ' ')"
  fail=1
fi
if ((fail)); then
  echo "---- the demo's output"
  cat "$out"
  exit 1
fi
grep -E "^== Linux booted|^Linux booted" "$out"
