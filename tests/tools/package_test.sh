#!/usr/bin/env bash
# The Debian package as an operator meets it, on this machine: built from
# the tree (tools/build-deb.sh), checked with lintian, installed with
# dpkg -i, used (--version, --check-config on the packaged configuration,
# the manual pages, the unit checked by systemd-analyze), then purged, after
# which nothing it installed or made may be left.
#   tests/tools/package_test.sh SOURCE_DIR [DEB]
# With DEB, that package is tested instead of one built here. Cannot run
# (tests/testing/cannot_run.sh: skipped, or failed in CI) when not root,
# without dpkg, or when pxe-pdhcp is already installed here: an operator's
# installation is never touched.
set -euo pipefail

source_dir=$(cd "$1" && pwd)
deb=${2:-}
# shellcheck source=tests/testing/cannot_run.sh
source "$source_dir/tests/testing/cannot_run.sh"
skip() { cannot_run "$@"; }
failures=0
fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

[[ $(id -u) -eq 0 ]] || skip "needs root: installs and purges the package"
command -v dpkg >/dev/null || skip "not a Debian system (no dpkg)"
if dpkg-query -W -f='${Status}' pxe-pdhcp 2>/dev/null |
  grep -q "installed"; then
  skip "pxe-pdhcp is already installed on this machine; not touching it"
fi
for tool in systemd-analyze lintian man; do
  command -v "$tool" >/dev/null ||
    skip "missing $tool (tools/install-deps.sh --all installs it)"
done

work=$(mktemp -d)
installed=0
cleanup() {
  # A failure half-way must not leave the package on the machine.
  if ((installed)); then dpkg --purge pxe-pdhcp >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -z $deb ]]; then
  echo "== building the package"
  if ! "$source_dir/tools/build-deb.sh" "$work/out" >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log"
    fail "tools/build-deb.sh failed"
    exit 1
  fi
  deb=$(ls "$work"/out/pxe-pdhcp_*.deb)
fi
echo "== $deb"
version=$(dpkg-parsechangelog -l "$source_dir/debian/changelog" -S Version)
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] ||
  fail "package version $(dpkg-deb -f "$deb" Version), changelog $version"

echo "== lintian"
if ! lintian --fail-on error "$deb" >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log"
  fail "lintian reports errors"
fi
cat "$work/lintian.log"

echo "== dpkg -i"
installed=1
dpkg -i "$deb" || { fail "dpkg -i failed"; exit 1; }
# What it installed, without the directories (/lib, /usr/sbin, ...).
mapfile -t files < <(dpkg -L pxe-pdhcp | while read -r f; do
  if [[ ! -d $f ]] && [[ -e $f || -L $f ]]; then echo "$f"; fi; done)
echo "${#files[@]} files installed"

out=$(/usr/sbin/pxe-pdhcp --version) || fail "pxe-pdhcp --version failed"
[[ $out == "pxe-pdhcp ${version%%-*}" ]] ||
  fail "pxe-pdhcp --version says \"$out\", the package is $version"
for program in /usr/bin/pxe-probe /usr/bin/pxe-storm; do
  "$program" --help >/dev/null 2>&1 || fail "$program --help failed"
done
config=/etc/pxe-pdhcp/pxe-pdhcp.toml
dpkg-query -W -f='${Conffiles}\n' pxe-pdhcp | grep -q " $config " ||
  fail "$config is not a conffile"
if ! out=$(/usr/sbin/pxe-pdhcp --check-config -c "$config" 2>&1); then
  echo "$out"
  fail "--check-config on the packaged $config"
fi
grep -q "^configuration OK$" <<<"$out" ||
  fail "--check-config did not say \"configuration OK\""
for page in pxe-pdhcp.8 pxe-pdhcp.toml.5 pxe-probe.1 pxe-storm.1; do
  man -w "${page##*.}" "${page%.*}" >/dev/null 2>&1 ||
    fail "man ${page##*.} ${page%.*} not found"
done
getent passwd pxe-pdhcp >/dev/null || fail "no pxe-pdhcp user"
[[ $(getent passwd pxe-pdhcp | cut -d: -f3) -lt 1000 ]] ||
  fail "pxe-pdhcp is not a system user"

unit=/lib/systemd/system/pxe-pdhcp.service
[[ -f $unit ]] || fail "no $unit"
grep -q "^ExecStart=/usr/sbin/pxe-pdhcp " "$unit" ||
  fail "$unit does not start /usr/sbin/pxe-pdhcp"
# Installed, the unit's programs and documentation are all there: verify
# must be silent.
if ! out=$(systemd-analyze verify "$unit" 2>&1) || [[ -n $out ]]; then
  echo "$out"
  fail "systemd-analyze verify $unit"
fi
out=$(systemd-analyze security --offline=yes "$unit" 2>&1 | tail -n 1)
echo "$out"
grep -qE "Overall exposure level for pxe-pdhcp.service: [0-9.]+ (OK|SAFE)" \
  <<<"$out" || fail "the unit's exposure is worse than OK"
# Installed disabled: a proxy must not start answering on its own.
if compgen -G "/etc/systemd/system/*.wants/pxe-pdhcp.service" >/dev/null; then
  fail "the unit was enabled on installation"
fi

echo "== dpkg --purge"
dpkg --purge pxe-pdhcp || fail "dpkg --purge failed"
installed=0
for f in "${files[@]}"; do
  [[ -e $f || -L $f ]] && fail "left behind: $f"
done
[[ -e /etc/pxe-pdhcp ]] && fail "left behind: /etc/pxe-pdhcp"
getent passwd pxe-pdhcp >/dev/null && fail "left behind: the pxe-pdhcp user"
getent group pxe-pdhcp >/dev/null && fail "left behind: the pxe-pdhcp group"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "OK: built, lintian-clean, installed, used and purged without a trace"
