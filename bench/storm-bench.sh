#!/usr/bin/env bash
# The boot-storm benchmark in one command: installs what it needs, builds
# pxe-pdhcp (optimised), and runs pxe-pdhcp, dnsmasq and the path's ceiling
# through the same pxe-storm loads in a sandbox LAN of its own (see
# bench/storm_bench.py). Needs root (asks through sudo when not root).
#   bench/storm-bench.sh            the full run (about 15 minutes)
#   bench/storm-bench.sh --quick    a small one (about a minute)
set -euo pipefail
source "$(dirname "$0")/../tools/as-root.sh"
cd "$(dirname "$0")/.."
tools/install-deps.sh --all
# Optimised, whatever an earlier configure of build/ chose.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPXE_SANITIZE=OFF \
  -DPXE_FUZZ=OFF -DPXE_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)" --target pxe-pdhcp pxe-storm pxe-reflector \
  engine_bench
exec /usr/bin/python3 bench/storm_bench.py --build build "$@"
