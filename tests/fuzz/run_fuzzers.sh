#!/usr/bin/env bash
# tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# Builds the libFuzzer targets with clang 14 (ASan + UBSan, LeakSanitizer)
# in BUILD_DIR, generates the seed corpora (tests/fuzz/make_corpus.py), and
# runs each target (default: all of them), one after the other, for SECONDS
# seconds on its corpus plus tests/fuzz/regressions/<target>/. New inputs
# are kept in BUILD_DIR/fuzz-corpus/work/<target>, so a later run resumes.
# SECONDS=0 only replays the regression inputs through every target.
#
# Prints one summary line per target (executions, coverage, features,
# corpus size) and exits non-zero when any target found a crash, leak,
# timeout or out-of-memory; the input is in BUILD_DIR/fuzz-artifacts/<target>/
# and libFuzzer's report in BUILD_DIR/fuzz-logs/<target>.log.
#
# Environment: CC/CXX (default clang-14/clang++-14), FUZZ_FLAGS (extra
# libFuzzer flags), JOBS (build parallelism, default 2).
set -euo pipefail

if (($# < 2)); then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$1
seconds=$2
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
all_targets=(fuzz_load fuzz_dis fuzz_literal fuzz_roundtrip)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

if [[ ! -f $build/build.ninja ]]; then
  echo "==> configure $build (clang, SHELF_FUZZ=ON)"
  mkdir -p "$build"
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHELF_FUZZ=ON -DSHELF_BUILD_BENCH=OFF >"$build/fuzz-configure.log" 2>&1 || {
    cat "$build/fuzz-configure.log"
    exit 1
  }
fi
echo "==> build ${targets[*]}"
ninja -C "$build" -j"${JOBS:-2}" "${targets[@]}"

corpus=$build/fuzz-corpus
if [[ ! -d $corpus/pickles ]]; then
  echo "==> seed corpora"
  python3 "$root/tests/fuzz/make_corpus.py" "$corpus"
fi

# Every sanitizer report is fatal, with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
# ubsan.supp lists the reported, not yet fixed bugs (see the file).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/fuzz/ubsan.supp}
# -timeout: one input may take 10 s (slow under ASan on a loaded machine,
# still far from a hang); -rss_limit_mb / -malloc_limit_mb: a few KB of
# input never needs more, so any more is unbounded allocation.
flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=16384 -print_final_stats=1
  -use_value_profile=1 ${FUZZ_FLAGS:-})

status=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  seeds=$corpus/pickles
  [[ $t == fuzz_literal ]] && seeds=$corpus/literals
  regressions=$root/tests/fuzz/regressions/$t
  mkdir -p "$corpus/work/$t" "$build/fuzz-artifacts/$t" "$build/fuzz-logs" "$regressions"
  log=$build/fuzz-logs/$t.log
  if [[ $seconds == 0 ]]; then
    echo "==> $t: replaying regressions"
    files=("$regressions"/*)
    [[ -e ${files[0]} ]] || { summary+=("$t: no regression inputs"); continue; }
    if "$bin" "${flags[@]}" "${files[@]}" >"$log" 2>&1; then
      summary+=("$t: ${#files[@]} regression inputs pass")
    else
      status=1
      summary+=("$t: FAILED on a regression input (see $log)")
      tail -n 60 "$log"
    fi
    continue
  fi
  echo "==> $t: ${seconds}s"
  if "$bin" "${flags[@]}" -max_total_time="$seconds" -artifact_prefix="$build/fuzz-artifacts/$t/" \
    "$corpus/work/$t" "$seeds" "$regressions" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 80 "$log"
  fi
  # The last status line: "#123456 DONE cov: 2345 ft: 6789 corp: 1234/5Mb ..."
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
  summary+=("$t: $result, ${execs:-?} executions in ${seconds}s; last: ${last:-none}")
done

echo
echo "==> fuzz summary"
printf '%s\n' "${summary[@]}"
exit $status
