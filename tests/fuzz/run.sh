#!/usr/bin/env bash
# Runs one fuzzer for a while on a copy of its seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [FUZZER] [extra libFuzzer flags...]
#
# FUZZER is fuzz_frame (the default), fuzz_responder or fuzz_config; each
# has its seed corpus, dictionary and input size limit here (and the crash
# inputs kept in regressions/FUZZER/ join the seeds). BUILD_DIR is a
# build configured with clang++ and -DPXE_FUZZ=ON, with that target built.
# The seed corpus is copied to a temporary directory, which is removed
# after a clean run unless FUZZ_KEEP=1 (then the new inputs can be merged
# into the seed corpus with -merge=1). Crash inputs are copied to
# BUILD_DIR/fuzz-artifacts/FUZZER/.
#
# Prints "OK" and exits 0 only when the fuzzer ran to the end: it exits 1,
# after "FAILED", when the fuzzer found a crash, a sanitizer report, a
# violated property or a slow input, and also when it did not start,
# rejected its dictionary or corpus, or exited non-zero for any reason.
set -euo pipefail

usage() {
  echo "usage: $0 BUILD_DIR SECONDS [fuzz_frame|fuzz_responder|fuzz_config]" \
       "[libFuzzer flags...]" >&2
  exit 2
}
fail() {
  echo "FAILED: $*"
  exit 1
}

[[ $# -ge 2 ]] || usage
build_dir=$(cd "$1" 2> /dev/null && pwd) || fail "no build directory $1"
seconds=$2
shift 2
name=fuzz_frame
if [[ $# -gt 0 && $1 != -* ]]; then
  name=$1
  shift
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "$name" in
  fuzz_frame) seeds=corpus dict=frame.dict max_len=2048 ;;
  # Records of frames and clock ticks: room for a dozen frames.
  fuzz_responder) seeds=corpus_responder dict=frame.dict max_len=8192 ;;
  fuzz_config) seeds=corpus_config dict=config.dict max_len=4096 ;;
  *) echo "unknown fuzzer: $name" >&2; usage ;;
esac

fuzzer="$build_dir/tests/fuzz/$name"
[[ -x "$fuzzer" ]] ||
  fail "$fuzzer not found: configure with -DCMAKE_CXX_COMPILER=clang++" \
       "-DPXE_FUZZ=ON and build the $name target"
compgen -G "$here/$seeds/*" > /dev/null ||
  fail "$name: no seed corpus in $here/$seeds"

work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp "$here/$seeds"/* "$work/corpus/"
# The inputs that once found a bug are seeds too.
if compgen -G "$here/regressions/$name/*" > /dev/null; then
  cp "$here/regressions/$name"/* "$work/corpus/"
fi
artifacts="$build_dir/fuzz-artifacts/$name"

# Every sanitizer report is fatal, so libFuzzer saves the input; UBSan
# reports are recoverable at compile time so that ubsan.supp can list a known
# engine bug while it is being fixed.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$here/ubsan.supp}"

echo "$name: ${seconds}s, corpus $work/corpus ($(ls "$work/corpus" | wc -l) seeds)"
# The fuzzer's own exit status, read right after the pipeline (tee's is of
# no interest, and any command in between would reset PIPESTATUS).
set +e
"$fuzzer" "$work/corpus" \
  -max_total_time="$seconds" \
  -dict="$here/$dict" \
  -max_len="$max_len" \
  -timeout=20 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" \
  "$@" 2>&1 | tee "$work/fuzz.log"
status=${PIPESTATUS[0]}
set -e

echo
# libFuzzer prints its final stats twice after a crash: once is enough.
grep -E '^Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb' \
  "$work/fuzz.log" | awk '!seen[$0]++' || true
echo "corpus now: $(ls "$work/corpus" | wc -l) inputs in $work/corpus"
if compgen -G "$work/artifacts/*" > /dev/null; then
  mkdir -p "$artifacts"
  cp "$work"/artifacts/* "$artifacts/"
  echo "FAILED: $name: crash inputs copied to $artifacts:"
  ls -l "$artifacts"
  for f in "$work"/artifacts/*; do
    echo "--- $(basename "$f")"
    od -An -tx1 -v "$f" | head -40
  done
  exit 1
fi
if [[ $status -ne 0 ]]; then
  fail "$name exited with status $status (see $work/fuzz.log)"
fi
# Exit status 0 without a finished run (e.g. -help=1): not a fuzzing run.
grep -qE '^Done [0-9]+ runs' "$work/fuzz.log" ||
  fail "$name did not fuzz (no \"Done N runs\"; see $work/fuzz.log)"
echo "OK: $name: no crash in ${seconds}s"
if [[ "${FUZZ_KEEP:-0}" != 1 ]]; then
  rm -rf "$work"
fi
