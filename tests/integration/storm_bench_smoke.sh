#!/usr/bin/env bash
# The benchmark harness end to end at its smallest (bench/storm_bench.py
# --quick): pxe-pdhcp, dnsmasq and the reflector all run through the same
# loads in the harness's own sandbox, the report carries every table, and
# the plot is drawn. The figures themselves are the benchmark's business;
# here only what holds on any machine is checked: every server sustains the
# lowest rate, pxe-pdhcp boots every client of the 1,000-client storm on the
# first try, no server gives a wrong answer in a storm, and the harness
# exits 0 (it does not when pxe-pdhcp gives a wrong answer). Needs root,
# dnsmasq, gnuplot and taskset; without them it cannot run: it exits 77
# (skipped), or 1 with CI=true or PXE_REQUIRE_ALL=1 (cannot_run.sh).
#   storm_bench_smoke.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
source "$(dirname "${BASH_SOURCE[0]}")/../testing/cannot_run.sh"
if [[ $(id -u) -ne 0 ]]; then
  cannot_run "needs root (network namespaces, raw sockets)"
fi
for tool in dnsmasq gnuplot taskset; do
  if ! command -v "$tool" >/dev/null; then
    cannot_run "$tool is not installed (tools/install-deps.sh --all)"
  fi
done
out=$(mktemp -d /tmp/storm-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

if ! /usr/bin/python3 "$source/bench/storm_bench.py" --quick --build "$build" \
  --out "$out" >"$out/stdout" 2>"$out/stderr"; then
  echo "storm_bench.py failed:"
  cat "$out/stderr"
  exit 1
fi
report=$out/report.md
fail=0
expect() {
  if ! grep -qF -- "$1" "$report"; then
    echo "the report lacks: $1"
    fail=1
  fi
}
expect "## Sustained rate"
expect "## Latency at fixed rates"
expect "## Boot storms"
expect "## Memory"
expect "## IPv6 clients (pxe-pdhcp alone)"
expect "## Engine"
expect "| BM_Respond/bios_ipxe_discover |"
expect "## Targets"
sustained=$(awk '/^## Sustained/ { on = 1; next } /^## / { on = 0 } on' \
  "$report")
for server in pxe-pdhcp dnsmasq reflector pxe-pdhcp-busy; do
  # In the sustained-rate table, its "max clients/s" cell is a number: every
  # server holds the lowest rate (1,000 clients/s) without loss.
  if ! grep -qE "^\| $server \| [^|]* \| [0-9]" <<<"$sustained"; then
    echo "$server did not sustain the lowest rate"
    fail=1
  fi
done
expect "| CPU: system minus pxe-storm |"
# clients | server | first try % | after retries % | not booted | p99 | wrong
if ! grep -qE '^\| 1000 \| pxe-pdhcp \| 100 \| 0\.00 \| 0 \| [0-9.]+ \| 0 \|' \
  "$report"; then
  echo "pxe-pdhcp did not boot all of the 1,000-client storm on the first try"
  fail=1
fi
# Every server's answers pass pxe-storm's checks against its configuration
# (the file per architecture, the server address): no wrong answer in any
# storm, however the machine is loaded.
storms=$(awk '/^## Boot storms/ { on = 1; next } /^## / { on = 0 } on' \
  "$report")
for server in pxe-pdhcp dnsmasq reflector; do
  rows=$(grep -cE "^\| [0-9]+ \| $server \|" <<<"$storms" || true)
  right=$(grep -cE "^\| [0-9]+ \| $server \|( [^|]* \|){4} 0 \|" \
    <<<"$storms" || true)
  if ((rows == 0 || rows != right)); then
    echo "$server gave wrong answers in a storm (or ran none)"
    fail=1
  fi
done
# IPv6 clients: 1,000/s without loss or wrong answer, and the storm booted
# on the first try.
if ! grep -qE '^\| 1000 \| 1 \| 0\.000 \| [^|]* \| [^|]* \| [^|]* \| 0 \|$' \
  "$report"; then
  echo "pxe-pdhcp lost IPv6 clients at 1,000/s, or answered them wrongly"
  fail=1
fi
if ! grep -qE '^\| 1000 \| 1 \| 100(\.00)? \| 0 \| [^|]* \| 0 \|$' "$report"; then
  echo "pxe-pdhcp did not boot the 1,000 IPv6 clients of the storm at once"
  fail=1
fi
if [[ ! -s $out/latency.png ]]; then
  echo "no plot"
  fail=1
fi
if ((fail)); then
  cat "$report"
  exit 1
fi
echo "storm-bench --quick: report and plot complete"
