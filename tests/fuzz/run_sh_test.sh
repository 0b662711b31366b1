#!/usr/bin/env bash
# run.sh's verdict comes from the fuzzer's own exit status and output, not
# from tee's: run against fake fuzzers (scripts in a fake build directory),
# it prints "FAILED" and exits 1 for one that exits non-zero at once (as a
# fuzzer that rejects its dictionary or corpus does), one that fuzzes and
# then exits non-zero, one that exits 0 without fuzzing, and one that leaves
# a crash input (which it copies to BUILD_DIR/fuzz-artifacts/); "OK" and 0
# only for one that finishes its run.
#   run_sh_test.sh SOURCE_DIR
set -euo pipefail
run_sh=$1/tests/fuzz/run.sh

work=$(mktemp -d /tmp/run-sh-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build/tests/fuzz" "$work/tmp"

# fake BODY: the fake fuzz_frame, a shell script with BODY as its body. It
# gets run.sh's arguments: the corpus directory, then -flag=value pairs.
fake() {
  printf '#!/bin/sh\n%s\n' "$1" >"$work/build/tests/fuzz/fuzz_frame"
  chmod +x "$work/build/tests/fuzz/fuzz_frame"
}

failed=0
# expect NAME STATUS PATTERN: run.sh with the current fake exits STATUS and
# prints a line matching PATTERN (grep -E); when it fails, no "OK" line.
expect() {
  local name=$1 want=$2 pattern=$3 status=0
  TMPDIR=$work/tmp bash "$run_sh" "$work/build" 1 fuzz_frame \
    >"$work/out" 2>&1 || status=$?
  if [[ $status -ne $want ]] || ! grep -qE -- "$pattern" "$work/out" ||
    { [[ $want -ne 0 ]] && grep -q "^OK" "$work/out"; }; then
    echo "FAIL: $name: exit $status (want $want), want /$pattern/:"
    sed 's/^/  | /' "$work/out"
    failed=1
  else
    echo "ok: $name: exit $status, $(grep -E -- "$pattern" "$work/out")"
  fi
}

fake 'echo "ParseDictionaryFile: error in line 1" >&2; exit 1'
expect "rejects its dictionary" 1 "^FAILED: fuzz_frame exited with status 1"

fake 'echo "ERROR: The required directory \"$1\" does not exist" >&2; exit 1'
expect "rejects its corpus" 1 "^FAILED: fuzz_frame exited with status 1"

fake 'kill -SEGV $$'
expect "dies at start" 1 "^FAILED: fuzz_frame exited with status 139"

# Only the exit status tells this one apart from a clean run (e.g. a leak
# found at exit).
fake 'echo "Done 1000 runs in 1 second(s)"; exit 1'
expect "fuzzes, then exits 1" 1 "^FAILED: fuzz_frame exited with status 1"

fake 'echo "usage: fuzz_frame [-flag=val ...] [dir ...]"; exit 0'
expect "exits 0 without fuzzing" 1 "^FAILED: fuzz_frame did not fuzz"

fake 'for a in "$@"; do case $a in -artifact_prefix=*) p=${a#*=} ;; esac; done
printf x >"${p}crash-0000"
echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow"; exit 1'
expect "leaves a crash input" 1 "^FAILED: fuzz_frame: crash inputs copied"
if [[ ! -f $work/build/fuzz-artifacts/fuzz_frame/crash-0000 ]]; then
  echo "FAIL: the crash input was not copied to fuzz-artifacts/"
  failed=1
fi

fake 'echo "Done 1000 runs in 1 second(s)"; exit 0'
expect "finishes its run" 0 "^OK: fuzz_frame: no crash in 1s"
exit "$failed"
