#!/usr/bin/env bash
# A real facefuse cluster on this machine, end to end (CTest: cluster.local): scripts/cluster up
# starts Redis, s3rver, Prometheus, 1 gateway and 2 workers as separate processes; face_swapper
# load on real photos runs through the gateway while the workers' model manifest changes and
# the workers get SIGHUP (scripts/cluster reload); then it checks that every worker serves the new
# version, that no task failed, that Prometheus really scraped every target (its HTTP API), that
# `status` tells a healthy cluster from one with a dead worker, and that `down` leaves nothing.
#
#   tests/cluster/cluster_test.sh [FACEFUSE_BINARY [DATA_DIR]]
#
# Binary: the argument, $FACEFUSE, or build/release/src/facefuse. Photos: DATA_DIR/faces, else
# $FACEFUSE_TEST_DATA/faces, else ../shared/data/faces beside the checkout. About 40 s on 2 cores.
# Every wait polls with a deadline. On failure it says which check failed and prints the logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${1:-${FACEFUSE:-build/release/src/facefuse}}"
DATA="${2:-${FACEFUSE_TEST_DATA:-$ROOT/../shared/data}}"
SOURCE="$DATA/faces/man_luciano_codait.png"
TARGET="$DATA/faces/obama_official_portrait_2012.jpg"
REQUESTS=80     # face_swapper tasks
RATE=5          # submits per second: the load lasts >= REQUESTS/RATE s, so the reload lands inside it
WORKERS=2

WORK="$(mktemp -d "${TMPDIR:-/tmp}/facefuse-cluster-test.XXXXXX")"
DIR="$WORK/cluster"
CLUSTER=(bash scripts/cluster)
LOADGEN_PID=""
T0=$(date +%s)

step() { printf '\n== [%3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
pass() { echo "   PASS $*"; }
dump_logs() {
  local f
  for f in "$DIR"/logs/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- $f (last 30 lines) ----"
    tail -n 30 "$f"
  done
  [[ -f "$WORK/loadgen.out" ]] && { echo "---- loadgen output ----"; cat "$WORK/loadgen.out"; }
  return 0
}
# fail MESSAGE [PROCESS]: print the message, the log of PROCESS (or every log), stop.
fail() {
  echo "   FAIL $1"
  if [[ -n "${2:-}" && -f "$DIR/logs/$2.log" ]]; then
    echo "---- $DIR/logs/$2.log (last 60 lines) ----"; tail -n 60 "$DIR/logs/$2.log"
  else
    dump_logs
  fi
  exit 1
}
cleanup() {
  local rc=$?
  if [[ -n "$LOADGEN_PID" ]] && kill -0 "$LOADGEN_PID" 2>/dev/null; then kill -KILL "$LOADGEN_PID" 2>/dev/null || true; fi
  if [[ -d "$DIR/run" ]]; then "${CLUSTER[@]}" down --dir "$DIR" --timeout 10 >/dev/null 2>&1 || true; fi
  if (( rc == 0 )); then rm -rf "$WORK"; else echo "cluster_test: FAILED (files kept in $WORK)"; fi
}
trap cleanup EXIT

# poll SECONDS CMD...: runs CMD every 0.2 s until it succeeds (0) or SECONDS pass (1).
poll() {
  local until_ms=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
  until "$@"; do
    (( $(date +%s%N) / 1000000 < until_ms )) || return 1
    sleep 0.2   # polling interval
  done
}

# metric URL NAME LABELS: the value of the sample NAME{LABELS} (exact label text) on a /metrics page,
# or nothing when there is no such sample.
metric() {
  local want="$2"
  [[ -n "$3" ]] && want="$2{$3}"
  curl -fsS --max-time 3 "$1" | awk -v want="$want" '$1 == want { v = $2 } END { if (v != "") print v }'
  return 0
}
# running PID [STARTTIME]: the process exists, has not exited (a zombie waiting for its reaper
# has) and, with STARTTIME (as in scripts/cluster's pid files), is not a later one with its pid.
running() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -r -a fields <<<"${stat##*) }"
  [[ -n "${fields[0]:-}" && "${fields[0]}" != Z ]] || return 1
  [[ -z "${2:-}" || "${fields[19]}" == "$2" ]]
}
worker_metrics() { echo "http://127.0.0.1:$((BASE + 50 + $1 - 1))/metrics"; }
sum_succeeded() {
  local i v total=0
  for ((i = 1; i <= WORKERS; i++)); do
    v="$(metric "$(worker_metrics "$i")" facefuse_tasks_finished_total 'kind="swap",status="succeeded"')"
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}
# prom PATH PYTHON: run PYTHON on Prometheus' JSON answer `d`; its exit status is the check.
prom() {
  local body
  body="$(curl -fsS --max-time 3 "http://127.0.0.1:$((BASE + 2))$1")" || return 1
  python3 -c "import json,sys
d = json.loads(sys.stdin.read())
$2" <<<"$body"
}

# ------------------------------------------------------------------------------------------
step "prerequisites"
for tool in redis-server prometheus promtool node curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
[[ -x "$BIN" ]] || fail "facefuse binary '$BIN' is missing (build it, or pass its path)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
[[ -f "$SOURCE" && -f "$TARGET" ]] || fail "test photos missing: $SOURCE, $TARGET (../shared/data/faces beside the checkout, or FACEFUSE_TEST_DATA)"
pass "tools, $BIN, photos in $DATA/faces"

# A base port whose 100 ports nobody uses now (a random block, so parallel runs do not meet).
# The block lies below the kernel's ephemeral range: a port in that range can be taken at any
# moment as the local end of some outgoing connection (this cluster's own workers dialling Redis,
# Prometheus scraping, the other tests running beside this one), and the gateway's listen then
# fails with "Address already in use" although the check below found the port free.
# Blocks start at 20000: the C++ tests' servers take single ports from 10000-19999
# (tests/support/background_process.hpp), so the two never pick the same port.
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
BLOCKS=$(( (EPHEMERAL_LOW - 20000) / 100 - 1 ))
(( BLOCKS >= 10 )) || fail "the ephemeral port range starts at $EPHEMERAL_LOW: no room below it for a block of 100 ports from 20000"
BASE=""
for _ in $(seq 1 30); do
  p=$(( 20000 + (RANDOM % BLOCKS) * 100 ))
  free=1
  for ((q = p; q < p + 100; q++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$q") 2>/dev/null; then free=0; break; fi
  done
  if (( free )); then BASE=$p; break; fi
done
[[ -n "$BASE" ]] || fail "no free block of 100 ports found"

# ------------------------------------------------------------------------------------------
step "scripts/cluster up: 1 gateway, $WORKERS workers, ports $BASE..$((BASE + 99))"
if ! "${CLUSTER[@]}" up --dir "$DIR" --gateways 1 --workers "$WORKERS" --concurrency 1 \
    --base-port "$BASE" --scrape-interval 1s --binary "$BIN" --timeout 90 >"$WORK/up.out" 2>&1; then
  cat "$WORK/up.out"; fail "scripts/cluster up failed"
fi
cat "$WORK/up.out"
API="http://127.0.0.1:$((BASE + 10))"
PROM="http://127.0.0.1:$((BASE + 2))"
grep -qF "API:            $API" "$WORK/up.out" || fail "up did not print the gateway URL $API"
grep -qF "Prometheus UI:  $PROM" "$WORK/up.out" || fail "up did not print the Prometheus URL $PROM"
for n in redis s3 prometheus gateway-1 worker-1 worker-2; do
  [[ -s "$DIR/run/$n.pid" ]] || fail "no pid file for $n"
done
ALL_PIDS=() ALL_STARTS=()
for f in "$DIR"/run/*.pid; do
  read -r pid start <"$f"
  running "$pid" "$start" || fail "$(basename "$f" .pid) (pid $pid) is not running after up" "$(basename "$f" .pid)"
  ALL_PIDS+=("$pid") ALL_STARTS+=("$start")
done
curl -fsS --max-time 3 "$API/v1/capabilities" >/dev/null || fail "the gateway API at $API does not answer" gateway-1
pass "up; pids ${ALL_PIDS[*]}; API and Prometheus URLs printed"

step "a second cluster on the same ports is refused"
if "${CLUSTER[@]}" up --dir "$WORK/second" --base-port "$BASE" --binary "$BIN" >"$WORK/second.out" 2>&1; then
  "${CLUSTER[@]}" down --dir "$WORK/second" >/dev/null 2>&1 || true
  fail "a second up on base port $BASE succeeded"
fi
grep -q "port in use: 127.0.0.1:$BASE " "$WORK/second.out" || { cat "$WORK/second.out"; fail "the refusal does not name port $BASE"; }
if ls "$WORK/second/run"/*.pid >/dev/null 2>&1; then fail "the refused up started something: $(ls "$WORK/second/run")"; fi
pass "refused: $(grep -c 'port in use' "$WORK/second.out") ports named in use, nothing started"

step "up refuses a folder that is not a cluster's (it would empty its data/ and logs/)"
mkdir -p "$WORK/notours/data" && echo keep >"$WORK/notours/data/precious"
if "${CLUSTER[@]}" up --dir "$WORK/notours" --base-port "$BASE" --binary "$BIN" >"$WORK/notours.out" 2>&1; then
  fail "up in a folder with other files succeeded"
fi
grep -q "is not a cluster's folder" "$WORK/notours.out" || { cat "$WORK/notours.out"; fail "the refusal does not say why"; }
[[ "$(cat "$WORK/notours/data/precious")" == keep && ! -e "$WORK/notours/cluster.env" ]] || fail "the refused up touched the folder"
pass "refused, folder untouched"

step "workers serve the manifest's model (version 19.24), no reload yet"
for ((i = 1; i <= WORKERS; i++)); do
  u="$(worker_metrics "$i")"
  v="$(metric "$u" facefuse_model_info 'name="dlib_68_landmarks",version="19.24"')"
  [[ "$v" == 1 ]] || fail "worker-$i: facefuse_model_info{version=\"19.24\"} is '$v', not 1" "worker-$i"
  v="$(metric "$u" facefuse_model_reloads_total '')"
  [[ "$v" == 0 ]] || fail "worker-$i: facefuse_model_reloads_total is '$v' before any reload" "worker-$i"
done
pass "both workers: facefuse_model_info{version=\"19.24\"} 1, reloads 0"

# ------------------------------------------------------------------------------------------
step "load: $REQUESTS face_swapper tasks at $RATE/s through the gateway (background)"
"$BIN" loadgen --url "$API" --clients 4 --requests "$REQUESTS" --rate "$RATE" \
  --processor face_swapper -s "$SOURCE" -t "$TARGET" --wait-results --drain-timeout 90s --json \
  >"$WORK/loadgen.out" 2>&1 &
LOADGEN_PID=$!

# The load is flowing: tasks finish on the workers before the reload starts.
three_done_or_loadgen_ended() { (( $(sum_succeeded) >= 3 )) || ! kill -0 "$LOADGEN_PID" 2>/dev/null; }
poll 60 three_done_or_loadgen_ended || fail "fewer than 3 tasks finished in 60 s ($(sum_succeeded))"
kill -0 "$LOADGEN_PID" 2>/dev/null || fail "loadgen ended before 3 tasks finished"
pass "$(sum_succeeded) tasks finished; load running"

step "hot reload under load: manifest -> version 2 (a copy of the model file), SIGHUP via scripts/cluster reload"
MODEL_SRC="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["models"][0]["path"])' "$DIR/models/manifest.json")"
cp "$MODEL_SRC" "$DIR/models/landmarks-v2.dat"
python3 - "$DIR/models/manifest.json" <<'EOF'
import json, sys
path = sys.argv[1]
m = json.load(open(path))
m["models"][0]["version"] = "2"
m["models"][0]["path"] = "landmarks-v2.dat"   # relative: beside the manifest
json.dump(m, open(path + ".tmp", "w"), indent=2)
import os; os.replace(path + ".tmp", path)
EOF
"${CLUSTER[@]}" reload --dir "$DIR" --timeout 60 >"$WORK/reload.out" 2>&1 || { cat "$WORK/reload.out"; fail "scripts/cluster reload failed"; }
cat "$WORK/reload.out"
kill -0 "$LOADGEN_PID" 2>/dev/null || fail "the load had already ended when the reload finished: not a reload under load (raise REQUESTS)"
AT_RELOAD="$(sum_succeeded)"
for ((i = 1; i <= WORKERS; i++)); do
  u="$(worker_metrics "$i")"
  v="$(metric "$u" facefuse_model_info 'name="dlib_68_landmarks",version="2"')"
  [[ "$v" == 1 ]] || fail "worker-$i: facefuse_model_info{version=\"2\"} is '$v', not 1" "worker-$i"
  v="$(metric "$u" facefuse_model_info 'name="dlib_68_landmarks",version="19.24"')"
  [[ "$v" == 0 ]] || fail "worker-$i: the old version still shows '$v', not 0" "worker-$i"
  v="$(metric "$u" facefuse_model_reloads_total '')"
  [[ "$v" == 1 ]] || fail "worker-$i: facefuse_model_reloads_total is '$v', not 1" "worker-$i"
  v="$(metric "$u" facefuse_model_reload_failures_total '')"
  [[ "$v" == 0 ]] || fail "worker-$i: facefuse_model_reload_failures_total is '$v'" "worker-$i"
  grep -q '"event":"model_reloaded"' "$DIR/logs/worker-$i.log" || fail "worker-$i logged no model_reloaded" "worker-$i"
done
pass "both workers serve version 2 (19.24 -> 0), reloads 1, failures 0; load still running ($AT_RELOAD tasks done)"

step "the load completes with zero failed tasks"
loadgen_ended() { ! kill -0 "$LOADGEN_PID" 2>/dev/null; }
poll 150 loadgen_ended || fail "loadgen still running after 150 s"
LOADGEN_RC=0; wait "$LOADGEN_PID" || LOADGEN_RC=$?
LOADGEN_PID=""
cat "$WORK/loadgen.out"
(( LOADGEN_RC == 0 )) || fail "loadgen exited $LOADGEN_RC"
python3 - "$WORK/loadgen.out" "$REQUESTS" <<'EOF' || fail "the loadgen report shows lost or failed tasks (above)"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); res = r.get("results", {})
checks = [
    ("sent", r["sent"] == n, r["sent"]),
    ("accepted", r["accepted"] == n, r["accepted"]),
    ("rejected_429", r["rejected_429"] == 0, r["rejected_429"]),
    ("errors", r["errors"] == 0, r["errors_by_code"]),
    ("completed", res.get("completed") == n, res.get("completed")),
    ("outcomes all succeeded", res.get("outcomes") == {"succeeded": n}, res.get("outcomes")),
    ("unfinished", res.get("unfinished") == 0, res.get("unfinished")),
    ("poll errors", not res.get("poll_errors"), res.get("poll_errors")),
]
bad = [c for c in checks if not c[1]]
for name, ok, value in checks:
    print("   %s %s = %s" % ("ok  " if ok else "BAD ", name, value))
sys.exit(1 if bad else 0)
EOF
total=0
for ((i = 1; i <= WORKERS; i++)); do
  u="$(worker_metrics "$i")"
  for status in failed cancelled; do
    v="$(metric "$u" facefuse_tasks_finished_total "kind=\"swap\",status=\"$status\"")"
    [[ -z "$v" || "$v" == 0 ]] || fail "worker-$i: facefuse_tasks_finished_total{status=\"$status\"} is $v" "worker-$i"
  done
  v="$(metric "$u" facefuse_dead_letters_total '')"
  [[ -z "$v" || "$v" == 0 ]] || fail "worker-$i: facefuse_dead_letters_total is $v" "worker-$i"
  v="$(metric "$u" facefuse_tasks_finished_total 'kind="swap",status="succeeded"')"
  (( ${v:-0} > 0 )) || fail "worker-$i finished no task: the load did not reach every worker" "worker-$i"
  total=$(( total + v ))
done
(( total == REQUESTS )) || fail "the workers count $total succeeded tasks, expected $REQUESTS"
(( total > AT_RELOAD )) || fail "no task finished after the reload"
pass "loadgen: $REQUESTS accepted, $REQUESTS succeeded, 0 failed; workers: $total succeeded ($((total - AT_RELOAD)) after the reload), no failed/cancelled/dead-lettered"

# ------------------------------------------------------------------------------------------
step "Prometheus scraped every target (HTTP API)"
targets_all_up() {
  prom /api/v1/targets "
t = d['data']['activeTargets']
pods = sorted(x['labels']['pod'] for x in t if x['health'] == 'up')
sys.exit(0 if pods == ['gateway-1', 'worker-1', 'worker-2'] and len(t) == 3 else 1)"
}
poll 30 targets_all_up || {
  prom /api/v1/targets "print(*(json.dumps({k: x.get(k) for k in ('labels', 'health', 'lastError')}) for x in d['data']['activeTargets']), sep='\n')" || true
  fail "Prometheus targets not all up (above)"
}
pass "/api/v1/targets: gateway-1, worker-1, worker-2 all up"
up_is_1_everywhere() {
  prom '/api/v1/query?query=up%7Bjob%3D%22facefuse%22%7D' "
r = {(x['metric']['component'], x['metric']['pod']): x['value'][1] for x in d['data']['result']}
sys.exit(0 if r == {('gateway', 'gateway-1'): '1', ('worker', 'worker-1'): '1', ('worker', 'worker-2'): '1'} else 1)"
}
poll 30 up_is_1_everywhere || {
  prom '/api/v1/query?query=up' "print(d['data']['result'])" || true
  fail "up{job=\"facefuse\"} is not 1 for every gateway and worker (above)"
}
pass "up{job=\"facefuse\"} = 1 for gateway-1, worker-1, worker-2"
# Samples scraped after the reload and the load: the new model on both workers, every task counted.
scraped_after_reload() {
  prom '/api/v1/query?query=sum(facefuse_model_info%7Bversion%3D%222%22%2Ccomponent%3D%22worker%22%7D)%20and%20on()%20sum(facefuse_tasks_finished_total%7Bstatus%3D%22succeeded%22%2Ccomponent%3D%22worker%22%7D)%20%3D%3D%20'"$REQUESTS" "
r = d['data']['result']
sys.exit(0 if len(r) == 1 and r[0]['value'][1] == '$WORKERS' else 1)"
}
poll 30 scraped_after_reload || fail "Prometheus never showed version 2 on $WORKERS workers with $REQUESTS tasks succeeded"
pass "Prometheus: facefuse_model_info{version=\"2\"} on $WORKERS workers, $REQUESTS succeeded tasks scraped"

# ------------------------------------------------------------------------------------------
step "scripts/cluster status: healthy"
"${CLUSTER[@]}" status --dir "$DIR" >"$WORK/status.out" 2>&1 || { cat "$WORK/status.out"; fail "status exited non-zero on a healthy cluster"; }
cat "$WORK/status.out"
for n in redis s3 prometheus gateway-1 worker-1 worker-2; do
  grep -qE "^  $n +[0-9]+ +alive" "$WORK/status.out" || fail "status does not show $n alive"
done
[[ "$(grep -cE '^  (gateway|worker)-[0-9]+ +127\.0\.0\.1:[0-9]+ +up ' "$WORK/status.out")" == 3 ]] || fail "status does not show 3 targets up"
grep -qE '^Queue depth .*: vip [0-9]+, normal [0-9]+, batch [0-9]+' "$WORK/status.out" || fail "status shows no queue depth"
pass "status exit 0: 6 processes alive, 3 targets up, queue depth shown"

step "scripts/cluster status: a dead worker makes it fail"
read -r victim _ <"$DIR/run/worker-2.pid"
kill -KILL "$victim"
victim_gone() { ! running "$victim"; }
poll 10 victim_gone || fail "worker-2 survived SIGKILL"
if "${CLUSTER[@]}" status --dir "$DIR" >"$WORK/status-dead.out" 2>&1; then
  cat "$WORK/status-dead.out"; fail "status exited 0 with worker-2 dead"
fi
grep -qE '^  worker-2 +- +DEAD' "$WORK/status-dead.out" || { cat "$WORK/status-dead.out"; fail "status does not name worker-2 dead"; }
pass "status exit non-zero, worker-2 DEAD"

# ------------------------------------------------------------------------------------------
step "scripts/cluster down (twice) leaves no process"
"${CLUSTER[@]}" down --dir "$DIR" --timeout 30 >"$WORK/down.out" 2>&1 || { cat "$WORK/down.out"; fail "down failed"; }
cat "$WORK/down.out"
for k in "${!ALL_PIDS[@]}"; do
  pid="${ALL_PIDS[k]}"
  if running "$pid" "${ALL_STARTS[k]}"; then
    fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) still runs after down"
  fi
done
for ((q = BASE; q < BASE + 100; q++)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$q") 2>/dev/null; then fail "port $q still accepts connections after down"; fi
done
"${CLUSTER[@]}" down --dir "$DIR" >"$WORK/down2.out" 2>&1 || { cat "$WORK/down2.out"; fail "a second down failed"; }
pass "all ${#ALL_PIDS[@]} processes gone, ports $BASE..$((BASE + 99)) closed, second down exit 0"

# ------------------------------------------------------------------------------------------
step "--auth jwt on the same ports: 401 without a token, the printed token command works"
if ! "${CLUSTER[@]}" up --dir "$WORK/jwt" --gateways 1 --workers 1 --base-port "$BASE" \
    --auth jwt --scrape-interval 1s --binary "$BIN" --timeout 90 >"$WORK/jwt-up.out" 2>&1; then
  cat "$WORK/jwt-up.out"; DIR="$WORK/jwt"; fail "scripts/cluster up --auth jwt failed"
fi
DIR="$WORK/jwt"   # cleanup and fail() now look here
[[ -s "$DIR/jwt.secret" && "$(stat -c %a "$DIR/jwt.secret")" == 600 ]] || fail "no jwt.secret readable by its owner only"
# shellcheck disable=SC2016  # the literal text TOKEN=$(...) that up prints
token_cmd="$(sed -n 's/^    TOKEN=\$(\(.*\))$/\1/p' "$WORK/jwt-up.out")"
[[ "$token_cmd" == "$BIN token --jwt-secret-file $DIR/jwt.secret "* ]] || { cat "$WORK/jwt-up.out"; fail "up --auth jwt printed no token command"; }
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -F source=@"$SOURCE" -F target=@"$TARGET" "$API/v1/swaps")"
[[ "$code" == 401 ]] || fail "a submit without a token answered $code, not 401" gateway-1
read -r -a token_argv <<<"$token_cmd"
TOKEN="$("${token_argv[@]}")" || fail "the printed token command failed: $token_cmd"
code="$(curl -s -o "$WORK/jwt-task.json" -w '%{http_code}' --max-time 40 -H "Authorization: Bearer $TOKEN" \
  -F source=@"$SOURCE" -F target=@"$TARGET" "$API/v1/swaps?wait=30")"
if [[ "$code" != 200 ]] || ! grep -q '"status":"succeeded"' "$WORK/jwt-task.json"; then
  cat "$WORK/jwt-task.json"; echo; fail "a submit with the printed token answered $code, not 200 succeeded" gateway-1
fi
"${CLUSTER[@]}" status --dir "$DIR" >"$WORK/jwt-status.out" 2>&1 || { cat "$WORK/jwt-status.out"; fail "status of the jwt cluster failed"; }
"${CLUSTER[@]}" down --dir "$DIR" >/dev/null 2>&1 || fail "down of the jwt cluster failed"
compgen -G "$DIR/run/*.pid" >/dev/null && fail "pid files left after down: $(ls "$DIR/run")"
pass "401 without a token; 200 succeeded with \`$token_cmd\`; status 0; down"

step "cluster_test: all checks passed in $(( $(date +%s) - T0 )) s"
