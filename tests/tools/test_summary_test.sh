#!/usr/bin/env bash
# tools/test-summary.py on real ctest output: a throwaway CMake project (no
# compiler) with unit and integration tests that pass, fail, skip (exit 77,
# and a GoogleTest-style skip), or skip because the kernel lacks a feature,
# run by ctest the way tools/test.sh runs it. The summary must count each,
# name the kernel skip, and fail exactly when it should: on a failed test, on
# a suite without results, on a failed fuzzer, and, with --require-all, on an
# integration test skipped for any other reason than the kernel.
#   test_summary_test.sh SOURCE_DIR
set -euo pipefail
summary=$1/tools/test-summary.py

work=$(mktemp -d /tmp/test-summary-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/project"
# Each test's outcome comes from the environment ctest runs in.
cat >"$work/project/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(summary_fixture NONE)
enable_testing()
function(fixture_test name label script)
  add_test(NAME ${name} COMMAND sh -c "${script}")
  set_tests_properties(${name} PROPERTIES LABELS "${label}"
    SKIP_RETURN_CODE 77 SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
fixture_test(UnitA unit "exit 0")
fixture_test(UnitB unit "exit \${FAIL_UNIT:-0}")
fixture_test(Lan.Basic integration "exit 0")
fixture_test(Lan.Vlan integration
  "echo 'kernel lacks 8021q: no vlan'; echo '[  SKIPPED ] Lan.Vlan'")
fixture_test(Lan.Firmware integration
  "if [ -n \"\${NO_ROOT:-}\" ]; then echo '[  SKIPPED ] Lan.Firmware'; fi")
fixture_test(demo_test integration
  "if [ -n \"\${NO_ROOT:-}\" ]; then echo 'SKIPPED: needs root'; exit 77; fi")
CMAKE
cmake -S "$work/project" -B "$work/build" >/dev/null

# run_suite DIR ENV...: ctest as tools/test.sh runs it, in ENV.
run_suite() {
  local dir=$1 status=0
  shift
  mkdir -p "$dir"
  ctest --test-dir "$work/build" --show-only=json-v1 >"$dir/ctest-tests.json"
  env "$@" ctest --test-dir "$work/build" \
    --output-junit "$dir/ctest-junit.xml" >/dev/null 2>&1 || status=$?
  echo "$status" >"$dir/ctest-exit-status"
}
run_suite "$work/clean"
run_suite "$work/noroot" NO_ROOT=1
run_suite "$work/failing" FAIL_UNIT=1

failed=0
# expect NAME STATUS PATTERN ARGS...: test-summary.py ARGS exits STATUS and
# prints a line matching PATTERN (grep -E).
expect() {
  local name=$1 want=$2 pattern=$3 status=0
  shift 3
  python3 "$summary" "$@" >"$work/out" 2>&1 || status=$?
  if [[ $status -ne $want ]] || ! grep -qE -- "$pattern" "$work/out"; then
    echo "FAIL: $name: exit $status (want $want), want /$pattern/:"
    sed 's/^/  | /' "$work/out"
    failed=1
  else
    echo "ok: $name: exit $status, $(grep -E -- "$pattern" "$work/out")"
  fi
}

kernel="the kernel lacks: Lan.Vlan \(8021q\)"
expect "all ran" 0 \
  "^s integration: ran 3, skipped 1, failed 0 \(of 4\); $kernel$" \
  s="$work/clean"
expect "all ran, unit" 0 "^s unit: ran 2, skipped 0, failed 0 \(of 2\)$" \
  s="$work/clean"
expect "all ran, verdict" 0 \
  "^PASSED: s ran 5, skipped 1, failed 0; skipped, $kernel$" s="$work/clean"
expect "all ran, required" 0 "^PASSED: " --require-all s="$work/clean"
expect "two suites" 0 \
  "^PASSED: a ran 5, skipped 1, failed 0; b ran 3, skipped 3, failed 0; \
fuzzers passed; skipped, $kernel$" \
  --fuzz passed a="$work/clean" b="$work/noroot"

skips="skipped: Lan.Firmware, demo_test"
expect "no root" 0 \
  "^s integration: ran 1, skipped 3, failed 0 \(of 4\); $kernel; $skips$" \
  s="$work/noroot"
expect "no root, required" 1 \
  "^s integration: .*; $skips \(must run here\)$" --require-all s="$work/noroot"
expect "no root, required, verdict" 1 \
  "^FAILED: s ran 3, skipped 3, failed 0; .* -- s integration: ran 1 of 4, \
1 skipped for want of a kernel feature$" \
  --require-all s="$work/noroot"

expect "a test failed" 1 \
  "^s unit: ran 2, skipped 0, failed 1 \(of 2\); failed: UnitB$" \
  s="$work/failing"
expect "a test failed, verdict" 1 \
  "^FAILED: s ran 5, skipped 1, failed 1; .* -- s unit: 1 failed$" \
  s="$work/failing"
expect "no results" 1 "^FAILED: .* -- s: no test results$" s="$work/nowhere"
expect "a fuzzer failed" 1 "^FAILED: .*fuzzers failed.* -- a fuzzer failed$" \
  --fuzz failed s="$work/clean"
echo 2 >"$work/clean/ctest-exit-status"
expect "ctest failed" 1 "^FAILED: .* -- s: ctest exited 2$" s="$work/clean"
exit "$failed"
