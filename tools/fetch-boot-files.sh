#!/usr/bin/env bash
# Fetches the boot files the firmware tests serve that must come from Debian
# packages which must not be installed on this host, and unpacks them (never
# installs them) into a cache directory:
#   ${PXE_BOOT_FILES:-/var/cache/pxe-pdhcp-tests}/
#     secure-boot/   shim-signed and grub-efi-amd64-signed (their scripts
#                    would rewrite this host's boot loader)
#     arm64/         grub-efi-arm64-bin, an arm64 package, downloaded through
#                    a private arm64 APT configuration: the host's dpkg
#                    architectures and APT state stay as they are
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

# --- Secure Boot (x86-64): Microsoft-signed shim and Debian-signed GRUB.
secure_boot() {
  local dir=$cache/secure-boot
  [[ -e $dir/.complete ]] && return 0
  fetch_into "$dir" -q -- shim-signed grub-efi-amd64-signed
}

# --- ARM64: GRUB's network image for arm64 UEFI.
arm64() {
  local dir=$cache/arm64
  [[ -e $dir/.complete ]] && return 0
  # A private APT configuration for arm64 only: its own sources (the
  # host's Debian mirror and suites), state and cache, so that neither
  # `dpkg --add-architecture` nor the host's package lists change.
  local apt
  apt=$(mktemp -d)
  chmod 755 "$apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc"
  local sources=()
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources; do
    [[ -r $file ]] && sources+=("$file")
  done
  # Debian's own archives only (deb.debian.org and its mirrors' paths).
  python3 - "$apt/etc/sources.list" "${sources[@]}" <<'EOF'
import re, sys
out, files = sys.argv[1], sys.argv[2:]
lines = set()
for path in files:
    text = open(path).read()
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    lines.add((uri, suite, fields.get("components", "main")))
    else:
        for line in text.splitlines():
            words = line.split("#")[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            words = [w for w in words[1:] if not w.startswith("[")]
            lines.add((words[0], words[1], " ".join(words[2:])))
debian = [l for l in sorted(lines) if "debian" in l[0]]
if not debian:
    sys.exit("fetch-boot-files: no Debian archive in the host's APT sources")
with open(out, "w") as f:
    for uri, suite, components in debian:
        f.write(f"deb [arch=arm64] {uri} {suite} {components}\n")
EOF
  local options=(-q -o APT::Architecture=arm64 -o APT::Architectures=arm64
    -o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists"
    -o "Dir::State::status=/dev/null" -o "Dir::Cache=$apt/cache"
    -o "Dir::Etc::SourceList=$apt/etc/sources.list"
    -o "Dir::Etc::SourceParts=$apt/etc/none")
  $sudo apt-get "${options[@]}" update
  fetch_into "$dir" "${options[@]}" -- grub-efi-arm64-bin:arm64
  $sudo rm -rf "$apt"
}

# --- iPXE: Debian's builds for UEFI x64 (boot/ipxe.efi; usr/lib/ipxe/
# ipxe.efi is an absolute link to /boot) and for a PXE stack
# (usr/lib/ipxe/undionly.kpxe), for the HTTP and iPXE chain tests.
ipxe() {
  local dir=$cache/ipxe
  [[ -e $dir/.complete ]] && return 0
  fetch_into "$dir" -q -- ipxe
}

secure_boot
arm64
ipxe
