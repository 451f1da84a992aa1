#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test, fuzz and benchmark facefuse.
# Idempotent: asks dpkg what is already installed and only calls apt-get (update + install)
# when something is missing, so a second run is a fast no-op.
# Runs as root directly; as another user it uses sudo when it must install something.
set -euo pipefail

# The one list of system packages. Later features append here (redis-server, nodejs, ...).
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # clang + its libFuzzer and sanitizer runtimes (fuzz build)
  clang libclang-rt-14-dev
  # product libraries
  libopencv-dev libdlib-dev libdlib-data libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  # dlib's CMake config links libblas.so, liblapack.so and libjpeg.so, but libdlib-dev does not
  # depend on the packages that provide them
  libblas-dev liblapack-dev libjpeg-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # contact sheets of test output images
  imagemagick
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; this script supports Debian 12 only." >&2
  echo "install-deps: install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-deps: not root and sudo is not available; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
