#!/usr/bin/env bash
# Runs fuzz_frame for a while on a copy of the seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [extra libFuzzer flags...]
#
# BUILD_DIR is a build configured with clang++ and -DPXE_FUZZ=ON, with the
# fuzz_frame target built. The seed corpus is copied to a temporary
# directory, which is removed after a clean run unless FUZZ_KEEP=1 (then the
# new inputs can be merged into tests/fuzz/corpus with -merge=1). Crash
# inputs are copied to BUILD_DIR/fuzz-artifacts/. Exits non-zero if the
# fuzzer found a crash, a sanitizer report or a violated property.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fuzzer="$build_dir/tests/fuzz/fuzz_frame"
if [[ ! -x "$fuzzer" ]]; then
  echo "$fuzzer not found: configure with -DCMAKE_CXX_COMPILER=clang++" \
       "-DPXE_FUZZ=ON and build the fuzz_frame target" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_frame.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp "$here"/corpus/* "$work/corpus/"
artifacts="$build_dir/fuzz-artifacts"

# Every sanitizer report is fatal, so libFuzzer saves the input; UBSan
# reports are recoverable at compile time so that ubsan.supp can list a known
# engine bug while it is being fixed.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$here/ubsan.supp}"

echo "fuzz_frame: ${seconds}s, corpus $work/corpus ($(ls "$work/corpus" | wc -l) seeds)"
status=0
"$fuzzer" "$work/corpus" \
  -max_total_time="$seconds" \
  -dict="$here/frame.dict" \
  -max_len=2048 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" \
  "$@" 2>&1 | tee "$work/fuzz.log" || status=$?
status=${PIPESTATUS[0]:-$status}

echo
# libFuzzer prints its final stats twice after a crash: once is enough.
grep -E '^Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb' \
  "$work/fuzz.log" | awk '!seen[$0]++' || true
echo "corpus now: $(ls "$work/corpus" | wc -l) inputs in $work/corpus"
if compgen -G "$work/artifacts/*" > /dev/null; then
  mkdir -p "$artifacts"
  cp "$work"/artifacts/* "$artifacts/"
  echo "FAILED: crash inputs copied to $artifacts:"
  ls -l "$artifacts"
  for f in "$work"/artifacts/*; do
    echo "--- $(basename "$f")"
    od -An -tx1 -v "$f" | head -40
  done
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "FAILED: fuzz_frame exited with status $status (see $work/fuzz.log)"
  exit 1
fi
echo "OK: no crash in ${seconds}s"
if [[ "${FUZZ_KEEP:-0}" != 1 ]]; then
  rm -rf "$work"
fi
