#!/usr/bin/env bash
# Fetches the boot files the firmware tests serve that must come from Debian
# packages which must not be installed on this host, and unpacks them (never
# installs them) into a cache directory:
#   ${PXE_BOOT_FILES:-/var/cache/pxe-pdhcp-tests}/
#     ipxe/          Debian's ipxe (ipxe.efi, undionly.kpxe): its
#                    configuration script runs update-grub, which would add
#                    iPXE to this host's boot menu
# Each directory holds the packages' files as `dpkg -x` unpacks them, and the
# .deb files it came from. Run again, it does nothing for what is there.
# Called by tools/install-deps.sh --all; needs root (asks through sudo).
set -euo pipefail

cache=${PXE_BOOT_FILES:-/var/cache/pxe-pdhcp-tests}

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "fetch-boot-files: not root and no sudo" >&2
    exit 1
  }
  sudo=sudo
fi

# unpack DIR DEB...: unpacks each .deb (already in DIR) into DIR, then marks
# DIR complete.
unpack() {
  local dir=$1
  shift
  for deb in "$@"; do
    $sudo dpkg -x "$dir/$deb" "$dir"
  done
  $sudo touch "$dir/.complete"
}

# fetch_into DIR APT-OPTION... -- PACKAGE...: downloads the packages with
# apt-get download (into a scratch directory the _apt user may write, then
# DIR) and unpacks them.
fetch_into() {
  local dir=$1
  shift
  local options=()
  while [[ $1 != -- ]]; do
    options+=("$1")
    shift
  done
  shift
  local scratch
  scratch=$(mktemp -d)
  chmod 755 "$scratch"
  $sudo chown _apt "$scratch" 2>/dev/null || true
  (cd "$scratch" && $sudo apt-get "${options[@]}" download "$@")
  $sudo rm -rf "$dir"
  $sudo mkdir -p "$dir"
  $sudo mv "$scratch"/*.deb "$dir/"
  rm -rf "$scratch" 2>/dev/null || $sudo rm -rf "$scratch"
  local debs=()
  for deb in "$dir"/*.deb; do debs+=("$(basename "$deb")"); done
  unpack "$dir" "${debs[@]}"
  echo "fetch-boot-files: $* unpacked in $dir"
}

# --- iPXE: Debian's builds for UEFI x64 (boot/ipxe.efi; usr/lib/ipxe/
# ipxe.efi is an absolute link to /boot) and for a PXE stack
# (usr/lib/ipxe/undionly.kpxe), for the HTTP and iPXE chain tests.
ipxe() {
  local dir=$cache/ipxe
  [[ -e $dir/.complete ]] && return 0
  fetch_into "$dir" -q -- ipxe
}

ipxe
