#!/usr/bin/env bash
# Configures and builds one flavour of facefuse.
#
#   scripts/build.sh [release|asan|fuzz] [TARGET...]
#
#   release  build/release  GCC, Release, tests + benchmarks (the default)
#   asan     build/asan     clang -O1 -g1, AddressSanitizer + UndefinedBehaviorSanitizer, tests
#                           and the libFuzzer targets (build/asan/fuzzers)
#   fuzz     build/asan     the same build, only the fuzz targets and what they link
#
# TARGETs limit the build to those targets (e.g. `scripts/build.sh release facefuse`).
# Configuring is re-run every time (it is cheap and keeps the options in force).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

mode="${1:-release}"
[[ $# -gt 0 ]] && shift
targets=("$@")
wanted_cxx=""  # set by modes that need one compiler

case "$mode" in
  release)
    build_dir=build/release
    cmake_args=(-DCMAKE_BUILD_TYPE=Release
                -DFACEFUSE_SANITIZE=OFF -DFACEFUSE_FUZZ=OFF -DFACEFUSE_TESTS=ON -DFACEFUSE_BENCH=ON)
    ;;
  asan|fuzz)
    # One sanitizer build for tests and fuzzers: clang (libFuzzer is clang's), which also
    # compiles this code with sanitizers in about 60 % of GCC's time; the release build stays
    # on GCC, so both compilers check the code. RelWithDebInfo with its flags replaced: -O1
    # keeps sanitizer reports readable, leaving out -DNDEBUG keeps assert() active, and -g1
    # (line tables) is all a sanitizer's stack trace needs, at half the compile time of -g.
    build_dir=build/asan
    wanted_cxx=clang++
    export CC=clang CXX=clang++
    cmake_args=(-DCMAKE_CXX_COMPILER=clang++
                -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
                -DFACEFUSE_SANITIZE=ON -DFACEFUSE_FUZZ=ON -DFACEFUSE_TESTS=ON -DFACEFUSE_BENCH=OFF)
    if [[ "$mode" == fuzz ]]; then
      [[ ${#targets[@]} -gt 0 ]] || targets=(facefuse_fuzzers)
    fi
    ;;
  -h|--help|help)
    usage
    exit 0
    ;;
  *)
    echo "build.sh: unknown mode '$mode'" >&2
    usage >&2
    exit 2
    ;;
esac

# A tree configured for another compiler (build/asan was GCC's before it was clang's) cannot be
# reconfigured in place: start it afresh.
if [[ -n "$wanted_cxx" && -f "$build_dir/CMakeCache.txt" ]] &&
   ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$wanted_cxx\$" "$build_dir/CMakeCache.txt"; then
  echo "build.sh: $build_dir was configured for another compiler; removing it"
  rm -rf "$build_dir"
fi

jobs="$(nproc)"
echo "build.sh: configuring $mode in $build_dir"
echo "+ cmake -S . -B $build_dir -G Ninja ${cmake_args[*]}"
cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}"

build_cmd=(cmake --build "$build_dir" -j "$jobs")
[[ ${#targets[@]} -gt 0 ]] && build_cmd+=(--target "${targets[@]}")
echo "build.sh: building $mode ($jobs jobs)"
echo "+ ${build_cmd[*]}"
"${build_cmd[@]}"
echo "build.sh: $mode build ready in $build_dir"
