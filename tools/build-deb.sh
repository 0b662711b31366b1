#!/usr/bin/env bash
# Builds the Debian package of pxe-pdhcp on Debian 12 and puts it in
# OUTPUT_DIR (default build/deb): pxe-pdhcp_VERSION_ARCH.deb, its -dbgsym
# package, .buildinfo and .changes.
#   tools/build-deb.sh [OUTPUT_DIR]
#   LINTIAN=1 tools/build-deb.sh     also check the result with lintian
# It installs what debian/control's Build-Depends names, with apt-get, when
# something is missing: as root, or through sudo. The package is built from
# a copy of the source tree (with uncommitted changes, without build
# directories), so nothing is left in the tree itself.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; fi
need_root() {
  if [[ -n $sudo ]] && ! command -v sudo >/dev/null; then
    echo "build-deb: not root and no sudo; as root, run: $*" >&2
    exit 1
  fi
  $sudo "$@"
}
wanted=()
command -v dpkg-checkbuilddeps >/dev/null && dpkg-checkbuilddeps 2>/dev/null ||
  wanted+=(build-dep)
if [[ ${LINTIAN:-0} == 1 ]] && ! command -v lintian >/dev/null; then
  wanted+=(lintian)
fi
if ((${#wanted[@]} > 0)); then
  echo "build-deb: installing the build dependencies"
  need_root apt-get update -q
  if [[ ${wanted[0]} == build-dep ]]; then
    need_root env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q \
      --no-install-recommends ./
  fi
  if [[ ${wanted[*]} == *lintian* ]]; then
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends lintian
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/pxe-pdhcp
mkdir "$tree"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new files as they are now; not what .gitignore leaves out.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      [[ -e $f || -L $f ]] && printf '%s\0' "$f"
    done | tar --null -T - -cf - | tar -C "$tree" -xf -
else
  tar --exclude='./build*' --exclude=./debian/build --exclude=./.git \
    -cf - . | tar -C "$tree" -xf -
fi

(cd "$tree" && dpkg-buildpackage -us -uc -b -j"${JOBS:-$(nproc)}")
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
echo "build-deb: in $out:"
ls -l "$out"
if [[ ${LINTIAN:-0} == 1 ]]; then
  lintian --info "$out"/*.changes
fi
