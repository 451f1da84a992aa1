#!/usr/bin/env bash
# The security layer's cost on this machine (issue "Security, tenants and content policy"):
#
#   1. overhead: noop submits at 32 clients, `serve --auth none` against `serve --auth jwt`
#      with rate limits (set high enough never to refuse) and an audit log to a file;
#   2. a 10x overload burst: the tenant's limit is LIMIT submits/s, 32 clients offer 10 x LIMIT
#      submits/s on a fixed schedule for BURST_SECONDS; prints how fast the 429s are answered
#      (p50/p99) and the server's memory before and after.
#
#   bench/security.sh
#
# Settings (environment): FACEFUSE (binary), TARGET (image, default
# ../shared/data/faces/chris_pratt_2018.jpg), REQUESTS (3000), LIMIT (100), BURST_SECONDS (10).
# Loopback only; every wait is bounded.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in -h|--help) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;; esac
facefuse="${FACEFUSE:-$root/build/release/src/facefuse}"
target="${TARGET:-$root/../shared/data/faces/chris_pratt_2018.jpg}"
requests="${REQUESTS:-3000}"
limit="${LIMIT:-100}"
burst_seconds="${BURST_SECONDS:-10}"
for f in "$facefuse" "$target"; do
  [[ -r "$f" ]] || { echo "security.sh: $f: not found (build first: scripts/build.sh release facefuse)" >&2; exit 2; }
done

work="$(mktemp -d)"
server_pid=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

head -c 48 /dev/urandom | base64 > "$work/jwt.secret"
"$facefuse" token --jwt-secret-file "$work/jwt.secret" --sub bench --tenant bench --role user > "$work/token"

# start_server NAME ARGS...: serve on a free loopback port; sets $url once /readyz answers.
start_server() {
  local name="$1"; shift
  local log="$work/$name.log"
  "$facefuse" serve --listen 127.0.0.1:0 --data-dir "$work/$name-data" "$@" >"$log" 2>&1 &
  server_pid=$!
  local port=""
  for _ in $(seq 1 300); do
    port="$(sed -n 's#.*serving on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$log" | head -n 1)"
    [[ -n "$port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "security.sh: serve exited:" >&2; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "security.sh: serve did not listen within 30 s" >&2; exit 1; }
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    curl -fsS --noproxy '*' --max-time 1 "$url/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "security.sh: $url/readyz did not answer within 30 s" >&2; exit 1
}

loadgen() { timeout 900 "$facefuse" loadgen --url "$url" --clients 32 --target "$target" --server-pid "$server_pid" "$@"; }

echo "facefuse security bench on $(nproc) cores; target $(stat -c %s "$target") bytes"
echo
echo "== 1a. submits, --auth none (no limits, no audit) =="
start_server open --auth none --workers 0 --queue-max 100000
loadgen --requests "$requests" --duration 120s
stop_server

echo
echo "== 1b. submits, --auth jwt + rate limit (never reached) + audit log =="
start_server secured --workers 0 --queue-max 100000 --jwt-secret-file "$work/jwt.secret" \
  --rate-limit 100000:100000 --audit-log "$work/audit.jsonl"
loadgen --requests "$requests" --duration 120s --token-file "$work/token"
stop_server
echo "audit lines written: $(wc -l < "$work/audit.jsonl")"

echo
echo "== 2. overload: limit $limit/s (burst $limit), 32 clients offering $((10 * limit))/s for ${burst_seconds}s =="
start_server burst --workers 0 --queue-max 100000 --jwt-secret-file "$work/jwt.secret" \
  --rate-limit "$limit:$limit" --audit-log "$work/audit-burst.jsonl"
echo "server memory before: $(grep -E 'VmRSS' /proc/$server_pid/status | tr -s ' ')"
loadgen --duration "${burst_seconds}s" --rate "$((10 * limit))" --token-file "$work/token"
echo "server memory after:  $(grep -E 'VmRSS|VmHWM' /proc/$server_pid/status | tr -s ' ' | paste -sd' ')"
stop_server
