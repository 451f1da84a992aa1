#!/usr/bin/env bash
# The main job: swap the face of SOURCE into TARGET and write OUTPUT.
#
#   scripts/run.sh SOURCE TARGET OUTPUT [extra flags for `facefuse swap`]
#
# Installs missing system packages, builds the release binary (quietly; build errors are shown),
# then runs: build/release/src/facefuse swap --source SOURCE --target TARGET --output OUTPUT [flags]
# Paths are taken relative to the directory you run it from.
#   e.g. scripts/run.sh me.jpg group.jpg out.jpg
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
esac
if [[ $# -lt 3 ]]; then
  usage >&2
  exit 2
fi
source_img="$1" target_img="$2" output_img="$3"
shift 3

"$root/scripts/install-deps.sh" >&2
log="$(mktemp)"
if ! "$root/scripts/build.sh" release facefuse >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "run.sh: build failed" >&2
  exit 1
fi
rm -f "$log"

exec "$root/build/release/src/facefuse" swap \
  --source "$source_img" --target "$target_img" --output "$output_img" "$@"
