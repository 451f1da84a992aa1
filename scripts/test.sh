#!/usr/bin/env bash
# Runs every test of facefuse: the README's test command and what CI runs (.ci/run).
#
#   scripts/test.sh            deps, release tests, ASan/UBSan tests, fuzzing
#   scripts/test.sh --quick    deps and release tests only (local iteration)
#
# Environment:
#   FUZZ_SECONDS   seconds each fuzz target runs (default 45)
#   TEST_JOBS      parallel ctest jobs (default 2)
#
# Ends with one line "N passed, M failed" (ctest tests of every phase plus one per fuzz target;
# a build that fails counts as one failure) and exits non-zero if anything failed or nothing ran.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "test.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

FUZZ_SECONDS="${FUZZ_SECONDS:-45}"
TEST_JOBS="${TEST_JOBS:-2}"

passed=0
failed=0
script_start=$SECONDS
phase_name=""
phase_start=0

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

begin_phase() {
  phase_name="$1"
  phase_start=$SECONDS
  echo
  echo "==================== $phase_name ===================="
}

end_phase() {
  echo "---- $phase_name: $1 ($(fmt_time $((SECONDS - phase_start))))"
}

finish() {
  echo
  echo "==================== summary ===================="
  echo "total time $(fmt_time $((SECONDS - script_start)))"
  [[ $((passed + failed)) -eq 0 ]] && echo "test.sh: no tests ran"
  echo "$passed passed, $failed failed"
  if [[ $failed -eq 0 && $passed -gt 0 ]]; then
    exit 0
  fi
  exit 1
}

# Builds one flavour; on failure counts one failure and stops (later phases would fail the same way).
build_or_stop() {
  if ! scripts/build.sh "$@"; then
    echo "test.sh: build '$1' failed" >&2
    failed=$((failed + 1))
    end_phase "build failed"
    finish
  fi
}

# Runs ctest in a build directory and adds its counts to the totals.
run_ctest() {
  local dir="$1" log rc=0
  log="$(mktemp)"
  ctest --test-dir "$dir" --output-on-failure -j "$TEST_JOBS" 2>&1 | tee "$log" || rc=$?
  # ctest's own summary: "95% tests passed, 1 tests failed out of 20"
  local summary total bad
  summary="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  rm -f "$log"
  if [[ -n "$summary" ]]; then
    total="$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")"
    bad="$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")"
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    if [[ $rc -ne 0 && $bad -eq 0 ]]; then
      failed=$((failed + 1))  # ctest failed outside any test (e.g. test discovery)
    fi
    end_phase "$((total - bad)) passed, $bad failed"
  elif [[ $rc -ne 0 ]]; then
    failed=$((failed + 1))
    end_phase "ctest failed before running tests (exit $rc)"
  else
    end_phase "no tests found"
  fi
}

begin_phase "dependencies"
if ! scripts/install-deps.sh; then
  failed=$((failed + 1))
  end_phase "failed"
  finish
fi
end_phase "ok"

begin_phase "release: build"
build_or_stop release
end_phase "ok"
begin_phase "release: tests"
run_ctest build/release

if [[ $quick -eq 1 ]]; then
  echo
  echo "test.sh: --quick: skipping the ASan/UBSan and fuzz phases"
  finish
fi

# Sanitizer settings for the asan and fuzz phases; child processes (the facefuse binary run by
# integration tests) inherit them. tests/lsan.supp and tests/ubsan.supp are used when present:
# they may only name third-party libraries (OpenCV, dlib, ...), never our own code.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
if [[ -f tests/lsan.supp && "$LSAN_OPTIONS" != *suppressions=* ]]; then
  LSAN_OPTIONS="$LSAN_OPTIONS:suppressions=$root/tests/lsan.supp"
fi
if [[ -f tests/ubsan.supp && "$UBSAN_OPTIONS" != *suppressions=* ]]; then
  UBSAN_OPTIONS="$UBSAN_OPTIONS:suppressions=$root/tests/ubsan.supp"
fi
echo
echo "ASAN_OPTIONS=$ASAN_OPTIONS"
echo "LSAN_OPTIONS=$LSAN_OPTIONS"
echo "UBSAN_OPTIONS=$UBSAN_OPTIONS"

begin_phase "asan: build"
build_or_stop asan
end_phase "ok"
begin_phase "asan: tests"
run_ctest build/asan

begin_phase "fuzz: run (${FUZZ_SECONDS}s per target)"
shopt -s nullglob
fuzz_srcs=(tests/fuzz/*_fuzz.cpp)
fuzz_passed=0
fuzz_failed=0
mkdir -p build/asan/fuzz/logs

# Runs one fuzz target for FUZZ_SECONDS; its exit status lands in build/asan/fuzz/logs/NAME.rc.
run_fuzzer() {
  local name="$1" bin="build/asan/fuzzers/$1" corpus="build/asan/fuzz/corpus/$1"
  local artifacts="build/asan/fuzz/artifacts/$1" log="build/asan/fuzz/logs/$1.log" rc=0
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "tests/fuzz/seeds/$name" ]]; then
    cp -r "tests/fuzz/seeds/$name/." "$corpus/"
  fi
  local fuzz_args=(-max_total_time="$FUZZ_SECONDS" -timeout=30 -print_final_stats=1
                   -artifact_prefix="$artifacts/")
  [[ -f "tests/fuzz/$name.dict" ]] && fuzz_args+=(-dict="tests/fuzz/$name.dict")
  echo "---- fuzzing $name (log: $log)"
  echo "+ $bin ${fuzz_args[*]} $corpus"
  "$bin" "${fuzz_args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  echo "$rc" >"build/asan/fuzz/logs/$name.rc"
}

# Each target is single-threaded, so TEST_JOBS of them run side by side: the same fuzzing time
# per target in a fraction of the wall-clock time. Results are reported in order afterwards.
running=0
for src in "${fuzz_srcs[@]}"; do
  name="$(basename "$src" .cpp)"
  rm -f "build/asan/fuzz/logs/$name.rc"
  if [[ $running -ge $TEST_JOBS ]]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_fuzzer "$name" &
  running=$((running + 1))
done
wait || true

for src in "${fuzz_srcs[@]}"; do
  name="$(basename "$src" .cpp)"
  log="build/asan/fuzz/logs/$name.log"
  artifacts="build/asan/fuzz/artifacts/$name"
  rc="$(cat "build/asan/fuzz/logs/$name.rc" 2>/dev/null || echo "no exit status")"
  if [[ "$rc" == 0 ]]; then
    fuzz_passed=$((fuzz_passed + 1))
    grep -E '^(stat::|Done )' "$log" || true
    echo "---- $name: ok"
  else
    fuzz_failed=$((fuzz_failed + 1))
    tail -n 150 "$log" || true
    echo "---- $name: FAILED (exit $rc); reproducer in $artifacts/ (replay: build/asan/fuzzers/$name $artifacts/<file>)"
  fi
done
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))
if [[ ${#fuzz_srcs[@]} -eq 0 ]]; then
  end_phase "no fuzz targets"
else
  end_phase "$fuzz_passed passed, $fuzz_failed failed"
fi

finish
