#!/usr/bin/env bash
# Configures and builds one flavour of facefuse.
#
#   scripts/build.sh [release|asan|fuzz] [TARGET...]
#
#   release  build/release  Release, tests + benchmarks (the default)
#   asan     build/asan     -O1 -g1, AddressSanitizer + UndefinedBehaviorSanitizer, tests
#   fuzz     build/fuzz     clang, libFuzzer + ASan/UBSan; builds only the fuzz targets
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

case "$mode" in
  release)
    build_dir=build/release
    cmake_args=(-DCMAKE_BUILD_TYPE=Release
                -DFACEFUSE_SANITIZE=OFF -DFACEFUSE_FUZZ=OFF -DFACEFUSE_TESTS=ON -DFACEFUSE_BENCH=ON)
    ;;
  asan)
    # RelWithDebInfo with its flags replaced: -O1 keeps sanitizer reports readable, and
    # leaving out -DNDEBUG keeps assert() active. -g1 (line tables) is all a sanitizer's stack
    # trace needs and compiles in about half the time of -g: it keeps CI's build phase short.
    build_dir=build/asan
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
                -DFACEFUSE_SANITIZE=ON -DFACEFUSE_FUZZ=OFF -DFACEFUSE_TESTS=ON -DFACEFUSE_BENCH=OFF)
    ;;
  fuzz)
    build_dir=build/fuzz
    export CC=clang CXX=clang++
    cmake_args=(-DCMAKE_CXX_COMPILER=clang++
                -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
                -DFACEFUSE_SANITIZE=OFF -DFACEFUSE_FUZZ=ON -DFACEFUSE_TESTS=ON -DFACEFUSE_BENCH=OFF)
    # Only the fuzzers (tests/fuzz/CMakeLists.txt) and the libraries they link.
    [[ ${#targets[@]} -gt 0 ]] || targets=(facefuse_fuzzers)
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
