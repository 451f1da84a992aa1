#!/usr/bin/env bash
# Checks everything under deploy/: Kubernetes manifests (kustomize base, components and
# overlays), Prometheus rules and their unit tests, the scrape configuration, the Grafana
# dashboard, and that every facefuse metric they name is exported by the binary.
#
#   tests/deploy/deploy_test.sh [FACEFUSE_BINARY]     (or FACEFUSE=...; default build/release/src/facefuse)
#
# Offline. Needs kubectl (built-in kustomize), promtool (Debian's prometheus), node and python3,
# and the validators pinned in tests/peers (scripts/install-deps.sh installs all of them).
# Registered with CTest as deploy.manifests. Prints what it checks; exits 1 on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${1:-${FACEFUSE:-build/release/src/facefuse}}"
CHECK=(node tests/deploy/check_deploy.cjs)

failed=()
step() { printf '\n== %s\n' "$*"; }
record() {  # record NAME CMD...: run CMD, remember NAME if it failed (and keep going)
  local name="$1"; shift
  if "$@"; then echo "   PASS $name"; else echo "   FAIL $name"; failed+=("$name"); fi
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/facefuse-deploy-test.XXXXXX")"
SERVE_PID=""
cleanup() {
  if [[ -n "$SERVE_PID" ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -KILL "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step "tools"
missing=0
for tool in kubectl promtool node python3 curl; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "   $tool: $(command -v "$tool")"
  else
    echo "   MISSING $tool (scripts/install-deps.sh installs it)"; missing=1
  fi
done
if [[ ! -d tests/peers/node_modules/kubernetes-models ]]; then
  echo "   MISSING tests/peers/node_modules (run scripts/install-deps.sh: npm ci in tests/peers)"; missing=1
fi
if [[ ! -x "$BIN" ]]; then
  echo "   MISSING facefuse binary '$BIN' (build it, or pass its path as the first argument)"; missing=1
fi
if (( missing )); then echo "deploy_test: missing prerequisites"; exit 1; fi
# Components and the `labels` field need kustomize v4+; v5 is what the manifests are written for.
# Debian 12's kubernetes-client (kubectl 1.20, kustomize v2.0.3) is too old: see
# docs/deployment.md, "Tests", for how a fresh machine gets a current kubectl.
KUSTOMIZE_VERSION="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\{0,1\}//p')"
echo "   kubectl's kustomize: ${KUSTOMIZE_VERSION:-unknown}"
KUSTOMIZE_MAJOR="${KUSTOMIZE_VERSION%%.*}"
if ! [[ "$KUSTOMIZE_MAJOR" =~ ^[0-9]+$ ]] || (( KUSTOMIZE_MAJOR < 5 )); then
  echo "deploy_test: kubectl with built-in kustomize v5 or later is needed (docs/deployment.md, Tests)"; exit 1
fi
echo "   $(promtool --version 2>&1 | head -1)"
echo "   node $(node --version)"

# ------------------------------------------------------------------------------------------
step "render base and every overlay with kubectl kustomize"
RENDERED=()
render() {
  local dir="$1" name
  name="$(echo "${dir#deploy/k8s/}" | sed 's#^overlays/##; s#/#-#g')"
  if kubectl kustomize "$dir" >"$WORK/$name.yaml" 2>"$WORK/$name.err" && [[ -s "$WORK/$name.yaml" ]]; then
    echo "   PASS $dir ($(grep -c '^kind:' "$WORK/$name.yaml") objects)"
    RENDERED+=("$WORK/$name.yaml")
  else
    echo "   FAIL $dir: $(head -5 "$WORK/$name.err")"; failed+=("render $dir")
  fi
}
render deploy/k8s/base
# Every directory under overlays/ that holds a kustomization (including nested ones such as
# autoscale-prometheus/prometheus-adapter), so a new overlay is tested without editing this.
while IFS= read -r k; do
  render "$(dirname "$k")"
done < <(find deploy/k8s/overlays -name kustomization.yaml | sort)

step "validate every rendered object (kubernetes-models schemas + strict types, references, policy)"
if (( ${#RENDERED[@]} )); then
  record "manifests" "${CHECK[@]}" validate "${RENDERED[@]}"
fi

# ------------------------------------------------------------------------------------------
step "Prometheus: promtool check rules / check config / test rules"
record "promtool check rules" promtool check rules deploy/prometheus/rules/*.yml
record "promtool check config" promtool check config deploy/prometheus/prometheus.yml
record "kubernetes_sd scrape job" "${CHECK[@]}" scrape-config deploy/prometheus/scrape-kubernetes.yml
record "promtool test rules" promtool test rules deploy/prometheus/tests/*.yml

# ------------------------------------------------------------------------------------------
step "Grafana dashboard"
record "dashboard is JSON (python3 -m json.tool)" python3 -m json.tool deploy/grafana/facefuse.json /dev/null
record "dashboard structure" "${CHECK[@]}" dashboard deploy/grafana/facefuse.json

# ------------------------------------------------------------------------------------------
step "metrics exported by $BIN"
# `serve` with JWT auth and --metrics-listen, as deployed: one noop task makes the task series
# appear, one unauthenticated request the denial series; /metrics is read from the metrics port.
scrape_binary() {
  local data="$WORK/serve" api="" metrics="" token i
  mkdir -p "$data"
  head -c 48 /dev/urandom | base64 >"$data/jwt.secret"
  # A 16x16 PNG made here: noop copies the target, any decodable image will do.
  python3 - "$data/target.png" <<'PY'
import struct, sys, zlib
w = h = 16
raw = b"".join(b"\x00" + b"".join(bytes((x * 16, y * 16, 128)) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
  # No FACEFUSE_* from the caller's environment: they would act as flags.
  local unset=()
  while IFS= read -r v; do unset+=(-u "$v"); done < <(env | sed -n 's/^\(FACEFUSE_[A-Za-z0-9_]*\)=.*/\1/p')
  env "${unset[@]}" "$BIN" serve --jwt-secret-file "$data/jwt.secret" --workers 1 \
      --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --data-dir "$data/state" \
      >"$data/stdout.log" 2>"$data/stderr.log" &
  SERVE_PID=$!
  for ((i = 0; i < 300; i++)); do
    api="$(sed -n 's#^facefuse: serving on \(http://[0-9.:]*\).*#\1#p' "$data/stderr.log" | head -1)"
    metrics="$(sed -n 's#^facefuse: metrics on \(http://[0-9.:]*/metrics\).*#\1#p' "$data/stderr.log" | head -1)"
    [[ -n "$api" && -n "$metrics" ]] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$api" || -z "$metrics" ]]; then
    echo "   facefuse serve did not start:"; tail -5 "$data/stderr.log" | sed 's/^/     /'; return 1
  fi
  echo "   facefuse serve: API $api, metrics $metrics"
  token="$("$BIN" token --jwt-secret-file "$data/jwt.secret" --sub deploy-test --tenant deploy-test --role user)"
  if ! curl -fsS -H "Authorization: Bearer $token" -F "target=@$data/target.png" \
        -F 'options={"processors":["noop"]}' "$api/v1/swaps?wait=10" >"$data/task.json"; then
    echo "   submitting a noop task failed"; return 1
  fi
  grep -q '"status":"succeeded"' "$data/task.json" || { echo "   noop task did not succeed: $(head -c 300 "$data/task.json")"; return 1; }
  echo "   noop task succeeded"
  curl -s -o /dev/null "$api/v1/tasks" || true   # 401: facefuse_http_denied_total{reason}
  curl -fsS "$metrics" >"$WORK/metrics.txt" || { echo "   scraping $metrics failed"; return 1; }
  echo "   scraped $(grep -c '^# TYPE facefuse_' "$WORK/metrics.txt") metric families"
  kill -TERM "$SERVE_PID"
  for ((i = 0; i < 100; i++)); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVE_PID" 2>/dev/null; then echo "   facefuse serve did not stop on SIGTERM"; return 1; fi
  # Its exit status is service.md's business (and tested there); a sanitizer build may report
  # at exit. Only the metrics matter here.
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  (( rc == 0 )) || echo "   note: facefuse serve exited with status $rc on SIGTERM"
  return 0
}
record "scrape a running facefuse" scrape_binary

step "every facefuse metric named by HPAs, adapter rules, KEDA triggers, rules, tests and dashboard exists"
if [[ -s "$WORK/metrics.txt" ]]; then
  record "metric names" "${CHECK[@]}" metrics \
    --exported "$WORK/metrics.txt" --expected deploy/prometheus/expected-metrics.txt \
    --rendered "${RENDERED[@]}" \
    --rules deploy/prometheus/rules/*.yml --tests deploy/prometheus/tests/*.yml \
    --dashboard deploy/grafana/facefuse.json
else
  echo "   FAIL no metrics scraped"; failed+=("metric names")
fi

# ------------------------------------------------------------------------------------------
echo
if (( ${#failed[@]} )); then
  echo "deploy_test: ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "deploy_test: all checks passed"
