#!/usr/bin/env bash
# The main job: install what is missing, build, and start the service.
#
#   scripts/run.sh                      start `facefuse serve` on 127.0.0.1:8080 (embedded shape,
#                                       --auth none: loopback only, for local use)
#   scripts/run.sh serve [flags]        the same, with flags for `facefuse serve`
#   scripts/run.sh swap -s S -t T -o O  any other facefuse command, e.g. a one-shot swap
#
# Installs missing system packages, builds the release binary (quietly; build errors are shown),
# then execs build/release/src/facefuse. State of `serve` lives in ./facefuse-data.
#   e.g. curl -F source=@me.jpg -F target=@you.jpg 'http://127.0.0.1:8080/v1/swaps?wait=10'
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "${1:-}" in
  -h|--help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
esac

"$root/scripts/install-deps.sh" >&2
log="$(mktemp)"
if ! "$root/scripts/build.sh" release facefuse >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "run.sh: build failed" >&2
  exit 1
fi
rm -f "$log"

if [[ $# -eq 0 ]]; then
  exec "$root/build/release/src/facefuse" serve --listen 127.0.0.1:8080 --auth none
fi
exec "$root/build/release/src/facefuse" "$@"
