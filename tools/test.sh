#!/usr/bin/env bash
# Installs what the tests need, builds pxe-pdhcp twice (optimised, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs every test in both, and
# gives the fuzzers a short run. It asks for root (through sudo when not run as
# root); without root it installs nothing and the integration tests skip and
# say so.
#
# As root, and with CI=true, every test must run: a test that cannot (a
# program or firmware file missing) fails, and so does the run when fewer
# integration tests ran than exist. The one exception, still counted and
# named: a test skipped because the kernel lacks a feature it needs (no
# package can fix that).
#
# It ends with a line per suite and label (ran, skipped, failed), and one
# verdict line with the counts of each suite (tools/test-summary.py); it
# exits non-zero when a build, a test or a fuzzer failed, or a test that
# had to run did not. Failed tests or fuzzers do not stop the later steps.
#   tools/test.sh                 everything
#   FUZZ_SECONDS=300 tools/test.sh   longer fuzzing runs (45 s by default)
set -euo pipefail
AS_ROOT_OPTIONAL=1 source "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."

require_all=()
if [[ $(id -u) -eq 0 ]]; then
  tools/install-deps.sh --all
  # Read by the tests (tests/testing/cannot_run.h, cannot_run.sh): a test
  # that cannot run fails.
  export PXE_REQUIRE_ALL=1
fi
if [[ $(id -u) -eq 0 || ${CI:-} == true || ${PXE_REQUIRE_ALL:-} == 1 ]]; then
  require_all=(--require-all)
fi

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

# run_tests DIR: every ctest test of DIR. The list of tests with their labels
# and each one's result stay in DIR for tools/test-summary.py.
run_tests() {
  local dir=$1 status=0
  rm -f "$dir/ctest-junit.xml" "$dir/ctest-exit-status"
  ctest --test-dir "$dir" --show-only=json-v1 >"$dir/ctest-tests.json"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" \
    --output-junit "$PWD/$dir/ctest-junit.xml" || status=$?
  echo "$status" >"$dir/ctest-exit-status"
}

step "tests under ASan + UBSan"
run_tests build-asan

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
fuzz=passed
[[ $fuzz_failed -eq 0 ]] || fuzz=failed

step "tests"
run_tests build

step "summary"
python3 tools/test-summary.py "${require_all[@]}" --fuzz "$fuzz" \
  release=build asan=build-asan
