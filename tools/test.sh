#!/usr/bin/env bash
# Installs what the tests need, builds pxe-pdhcp twice (optimised, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs every test in both, and
# gives the fuzzers a short run. It asks for root (through sudo when not run as
# root); without root it installs nothing and the integration tests skip and
# say so.
#   tools/test.sh                 everything
#   FUZZ_SECONDS=300 tools/test.sh   longer fuzzing runs (45 s by default)
set -euo pipefail
AS_ROOT_OPTIONAL=1 source "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then tools/install-deps.sh --all; fi

jobs=$(nproc)
step() { printf '\n== %s\n' "$*"; }

step "build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

step "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPXE_SANITIZE=ON \
  -DPXE_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"

step "build (libFuzzer, clang)"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DPXE_FUZZ=ON -DPXE_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" \
  --target fuzz_frame fuzz_responder fuzz_config

step "tests under ASan + UBSan"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

# FUZZ_SECONDS in all, shared 4:3:2 (20 s, 15 s and 10 s by default); every
# fuzzer runs even when an earlier one fails.
fuzz_seconds=${FUZZ_SECONDS:-45}
step "fuzz smoke runs (${fuzz_seconds} s)"
fuzz_failed=0
for share in fuzz_frame:4 fuzz_responder:3 fuzz_config:2; do
  seconds=$((fuzz_seconds * ${share#*:} / 9))
  tests/fuzz/run.sh build-fuzz "$((seconds > 0 ? seconds : 1))" \
    "${share%%:*}" || fuzz_failed=1
done
[[ $fuzz_failed -eq 0 ]]

step "tests"
ctest --test-dir build --output-on-failure -j"$jobs"
