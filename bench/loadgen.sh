#!/usr/bin/env bash
# The service's load figures on this machine (embedded shape): for noop and for face_swapper,
# starts `facefuse serve` on a free loopback port with a fresh data directory, waits for
# /readyz, runs `facefuse loadgen` against it, and stops it with SIGTERM.
#
#   bench/loadgen.sh [extra flags for `facefuse loadgen`, e.g. --json]
#
# Settings (environment):
#   FACEFUSE       binary (default build/release/src/facefuse)
#   TARGET SOURCE  images (default ../shared/data/faces/chris_pratt_2018.jpg, 81 KB, used as is,
#                  and mae_jemison_nasa.jpg, 89 KB)
#   CLIENTS        concurrent clients (32); NOOP_REQUESTS (2000); SWAP_REQUESTS (500: about 10 s of swaps on 2 cores, a steady rate)
#   CASES          which runs, in order (default "noop face_swapper")
#   WORKERS        serve --workers (default: serve's own, the number of cores)
#   LOADGEN_URL    skip starting a server and load this one instead (e.g. a cluster gateway on
#                  loopback); SERVER_PID then names its process for the memory figures
# Every wait is bounded; nothing but loopback is contacted.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -h|--help) sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
esac

facefuse="${FACEFUSE:-$root/build/release/src/facefuse}"
faces="$root/../shared/data/faces"
target="${TARGET:-$faces/chris_pratt_2018.jpg}"
source_img="${SOURCE:-$faces/mae_jemison_nasa.jpg}"
clients="${CLIENTS:-32}"
noop_requests="${NOOP_REQUESTS:-2000}"
swap_requests="${SWAP_REQUESTS:-500}"
for f in "$facefuse" "$target" "$source_img"; do
  [[ -r "$f" ]] || { echo "loadgen.sh: $f: not found (build first: scripts/build.sh release facefuse)" >&2; exit 2; }
done

work="$(mktemp -d)"
server_pid=""

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  # serve drains for at most its --drain-timeout (20 s); allow a little more, then insist.
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "loadgen.sh: server $server_pid did not stop within 30 s of SIGTERM; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  local status=0
  wait "$server_pid" 2>/dev/null || status=$?
  echo "server stopped (SIGTERM), exit status $status"
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

# Starts serve on 127.0.0.1 with port 0 (the kernel picks a free one, so no race with other
# listeners) and sets $url once /readyz answers 200.
start_server() {
  local name="$1" log="$work/$1.log"
  local args=(serve --listen 127.0.0.1:0 --data-dir "$work/$name-data" --auth none)
  [[ -n "${WORKERS:-}" ]] && args+=(--workers "$WORKERS")
  "$facefuse" "${args[@]}" >"$log" 2>&1 &
  server_pid=$!
  local port=""
  for _ in $(seq 1 300); do  # 30 s for the model load and the bind
    port="$(sed -n 's#.*serving on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$log" | head -n 1)"
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "loadgen.sh: serve exited:" >&2; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "loadgen.sh: serve did not start listening within 30 s" >&2; exit 1; }
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    if curl -fsS --noproxy '*' --max-time 1 "$url/readyz" >/dev/null 2>&1; then
      echo "server pid $server_pid ready at $url (log: $log)"
      return 0
    fi
    sleep 0.1
  done
  echo "loadgen.sh: $url/readyz did not answer 200 within 30 s" >&2
  exit 1
}

run_case() {
  local name="$1"; shift
  echo
  echo "== $name =="
  local pid_args=()
  if [[ -n "${LOADGEN_URL:-}" ]]; then
    url="$LOADGEN_URL"
    [[ -n "${SERVER_PID:-}" ]] && pid_args=(--server-pid "$SERVER_PID")
  else
    start_server "$name"
    pid_args=(--server-pid "$server_pid")
  fi
  # loadgen bounds itself (--duration, the drain timeout); timeout is the backstop.
  timeout 900 "$facefuse" loadgen --url "$url" --clients "$clients" --wait-results "${pid_args[@]}" "$@"
  [[ -n "${LOADGEN_URL:-}" ]] || stop_server
}

echo "facefuse loadgen on $(nproc) cores; target $(stat -c %s "$target") bytes ($target)"
for case_name in ${CASES:-noop face_swapper}; do
  case "$case_name" in
    noop)
      run_case noop --processor noop --target "$target" --requests "$noop_requests" --duration 120s "$@" ;;
    face_swapper)
      run_case face_swapper --processor face_swapper --source "$source_img" --target "$target" \
        --requests "$swap_requests" --duration 300s "$@" ;;
    *) echo "loadgen.sh: CASES: unknown case '$case_name' (noop, face_swapper)" >&2; exit 2 ;;
  esac
done
