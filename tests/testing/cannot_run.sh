# shellcheck shell=bash
# Sourced by the shell tests: the shell side of tests/testing/cannot_run.h.
#   cannot_run REASON...
# The test cannot run on this machine (no root, a program or file missing):
# it says why and exits 77, which ctest counts as skipped (SKIP_RETURN_CODE
# 77), or, when CI=true or PXE_REQUIRE_ALL=1 is in the environment (CI, and
# tools/test.sh as root), exits 1: there every test must run.
#   every_test_must_run
# True (status 0) with CI=true or PXE_REQUIRE_ALL=1: for a test that would
# leave out only some of its checks.
every_test_must_run() {
  [[ ${CI:-} == true || ${PXE_REQUIRE_ALL:-} == 1 ]]
}
cannot_run() {
  if every_test_must_run; then
    echo "FAILED: could not run (CI=true or PXE_REQUIRE_ALL=1): $*"
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}
