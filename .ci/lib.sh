# .ci/lib.sh: build and test helpers shared by .ci/run and .ci/demo.
# Source it from the repository root.

# Parallelism: CI machines have 2 cores; override with JOBS=N.
JOBS=${JOBS:-2}

# configure_and_build DIR [CMAKE_ARGS...] [-- TARGETS...]
# Configures DIR (inside the clone, so a fresh clone builds from scratch)
# with Ninja and builds TARGETS (default: everything).
configure_and_build() {
  local dir=$1
  shift
  local cmake_args=() targets=()
  while (($#)); do
    if [[ $1 == -- ]]; then
      shift
      targets=("$@")
      break
    fi
    cmake_args+=("$1")
    shift
  done
  echo "==> configure $dir: ${cmake_args[*]}"
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja "${cmake_args[@]}" >"$dir/configure.log" 2>&1 || {
    cat "$dir/configure.log"
    return 1
  }
  echo "==> build $dir ${targets[*]}"
  ninja -C "$dir" -j"$JOBS" "${targets[@]}"
}

# build_and_test DIR [CMAKE_ARGS...]
# Builds everything in DIR and runs every test with ctest. Prints ctest's
# summary line ("100% tests passed, 0 tests failed out of N") last and
# returns non-zero when anything failed.
build_and_test() {
  local dir=$1
  configure_and_build "$@"
  echo "==> test $dir"
  local log="$dir/ctest.log" status
  # Tests leave reports (tests/interop: interop and byte-identity counts)
  # as $dir/*-report.txt (SHELF_REPORT_DIR); they are shown below.
  rm -f "$dir"/*-report.txt
  if (set -o pipefail; cd "$dir" && ctest --output-on-failure -j"$JOBS" --timeout 900 2>&1 | tee ctest.log); then
    status=0
  else
    status=$?
  fi
  # ctest may fail before running anything (no tests found): that is a failure too.
  local summary
  summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
  if [[ -z $summary ]]; then
    echo "no ctest summary in $dir: treating as failure"
    return 1
  fi
  local r
  for r in "$dir"/*-report.txt; do
    [[ -f $r ]] || continue
    echo
    echo "==> $r"
    cat "$r"
  done
  echo
  echo "==> $dir: ctest exit status $status"
  echo "$summary"
  return "$status"
}
