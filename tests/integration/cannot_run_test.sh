#!/usr/bin/env bash
# An integration test that cannot run skips on a developer's machine and
# fails in CI (tests/testing/cannot_run.h and cannot_run.sh). Runs one
# GoogleTest integration test and storm_bench_smoke.sh without root (as
# nobody through setpriv when started as root, else as the user running
# it), where both cannot run:
#   - with neither CI=true nor PXE_REQUIRE_ALL=1, the GoogleTest binary exits
#     0 and reports the test skipped, with its reason; the script exits 77;
#   - with CI=true, and with PXE_REQUIRE_ALL=1, both exit 1 and say "could
#     not run", with the reason.
#   cannot_run_test.sh SOURCE_DIR GTEST_BINARY
set -euo pipefail
source_dir=$1
binary=$2
filter=ServiceNotifyTest.ReadyReloadWatchdogAndStop
reason="needs root"

work=$(mktemp -d /tmp/cannot-run-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A copy nobody can read: the build directory may be in root's home.
cp "$binary" "$work/gtest"
mkdir "$work/integration" "$work/testing"
cp "$source_dir/tests/integration/storm_bench_smoke.sh" "$work/integration/"
cp "$source_dir/tests/testing/cannot_run.sh" "$work/testing/"
chmod -R a+rX "$work"

as_user=()
if [[ $(id -u) -eq 0 ]]; then
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

failed=0
# expect NAME STATUS PATTERN ENV... -- COMMAND...: COMMAND run without root
# and with only the given CI / PXE_REQUIRE_ALL variables exits STATUS and
# prints PATTERN (grep -E).
expect() {
  local name=$1 want=$2 pattern=$3
  shift 3
  local vars=()
  while [[ $1 != -- ]]; do
    vars+=("$1")
    shift
  done
  shift
  local status=0
  (cd "$work" && env -u CI -u PXE_REQUIRE_ALL "${vars[@]}" \
    "${as_user[@]}" "$@") >"$work/out" 2>&1 || status=$?
  if [[ $status -ne $want ]] || ! grep -qE -- "$pattern" "$work/out"; then
    echo "FAIL: $name: exit $status (want $want), output without /$pattern/:"
    sed 's/^/  | /' "$work/out"
    failed=1
  else
    echo "ok: $name: exit $status, /$pattern/"
  fi
}

gtest=("$work/gtest" "--gtest_filter=$filter")
expect "GoogleTest, no CI" 0 "\[  SKIPPED \] $filter" -- "${gtest[@]}"
expect "GoogleTest, no CI, reason" 0 "$reason" -- "${gtest[@]}"
expect "GoogleTest, CI=true" 1 "could not run .*$reason" CI=true -- \
  "${gtest[@]}"
expect "GoogleTest, CI=true, reported failed" 1 "\[  FAILED  \] $filter" \
  CI=true -- "${gtest[@]}"
expect "GoogleTest, PXE_REQUIRE_ALL=1" 1 "could not run .*$reason" \
  PXE_REQUIRE_ALL=1 -- "${gtest[@]}"
# CI=false is not CI.
expect "GoogleTest, CI=false" 0 "\[  SKIPPED \] $filter" CI=false -- \
  "${gtest[@]}"

smoke=(bash "$work/integration/storm_bench_smoke.sh" /nonexistent
  "$source_dir")
expect "shell, no CI" 77 "^SKIPPED: $reason" -- "${smoke[@]}"
expect "shell, CI=true" 1 "^FAILED: could not run .*$reason" CI=true -- \
  "${smoke[@]}"
expect "shell, PXE_REQUIRE_ALL=1" 1 "^FAILED: could not run .*$reason" \
  PXE_REQUIRE_ALL=1 -- "${smoke[@]}"
exit "$failed"
