#!/usr/bin/env bash
# The service's face_swapper throughput against the engine's own rate on the same cores, for the
# same two images (the issue's target: within 15 %, i.e. a ratio of 85 % or more).
#
#   bench/swap-vs-engine.sh [pairs, default 3]
#
# Each pair, back to back:
#   1. `facefuse bench` "as given" on every core at once, one process per core as the service
#      runs one worker per core: the sum of their rates (1000 / total ms) is the engine's rate on
#      this machine's cores. One process times one core only, and on a shared VM the cores can
#      differ by a third from minute to minute.
#   2. bench/loadgen.sh's face_swapper case (serve on all cores, 32 clients, 500 swaps).
# Settings: FACEFUSE, TARGET, SOURCE, SWAP_REQUESTS as for bench/loadgen.sh; RUNS (bench runs, 31).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -h|--help) sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
esac
pairs="${1:-3}"
[[ "$pairs" =~ ^[1-9][0-9]?$ ]] || { echo "swap-vs-engine.sh: pairs: a number 1-99, not '$pairs'" >&2; exit 2; }

facefuse="${FACEFUSE:-$root/build/release/src/facefuse}"
faces="$root/../shared/data/faces"
export TARGET="${TARGET:-$faces/chris_pratt_2018.jpg}" SOURCE="${SOURCE:-$faces/mae_jemison_nasa.jpg}"
export FACEFUSE="$facefuse"
cores="$(nproc)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for pair in $(seq 1 "$pairs"); do
  pids=()
  for core in $(seq 1 "$cores"); do
    "$facefuse" bench -s "$SOURCE" -t "$TARGET" --runs "${RUNS:-31}" >"$work/bench-$core.txt" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || { echo "swap-vs-engine.sh: facefuse bench failed:" >&2; cat "$work"/bench-*.txt >&2; exit 1; }
  done
  engine_ms="$(awk '/^as given/ {printf "%s ", $NF}' "$work"/bench-*.txt)"
  CASES=face_swapper "$root/bench/loadgen.sh" >"$work/loadgen.txt" 2>&1 ||
    { echo "swap-vs-engine.sh: bench/loadgen.sh failed:" >&2; cat "$work/loadgen.txt" >&2; exit 1; }
  service="$(awk '/^  completed/ {print $(NF-1)}' "$work/loadgen.txt")"
  python3 - "$pair" "$service" $engine_ms <<'PY'
import sys
pair, service, engine_ms = sys.argv[1], float(sys.argv[2]), [float(v) for v in sys.argv[3:]]
engine = sum(1000 / ms for ms in engine_ms)
print(f"pair {pair}: engine {' / '.join(f'{ms:g}' for ms in engine_ms)} ms a swap on "
      f"{len(engine_ms)} cores at once = {engine:.1f} swaps/s; service {service:g} tasks/s; "
      f"ratio {100 * service / engine:.0f} %")
PY
done
