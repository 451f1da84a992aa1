#!/usr/bin/env bash
# Reads deploy/docker/Dockerfile for the two scripts that must agree with it, so they parse it
# the same way: tests/deploy/dockerfile_test.sh (checks it) and deploy/docker/measure-rootfs.sh
# (installs its runtime packages into a Debian root filesystem to measure the image).
#
#   deploy/docker/dockerfile-parse.sh instructions [DOCKERFILE]
#       one logical instruction a line (continuations joined, comments dropped):
#       STAGE<TAB>INSTRUCTION<TAB>ARGUMENTS; STAGE is the `FROM ... AS name`, "-" before any FROM
#   deploy/docker/dockerfile-parse.sh runtime-packages [DOCKERFILE]
#       the Debian packages the `runtime` stage's `apt-get install` installs, one a line
#
# Handles what the Dockerfile uses: `\` continuations and whole-line comments (also inside a
# continued instruction, as Docker allows). Not heredocs or a changed escape character.
set -euo pipefail

usage() { sed -n '5,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

mode="${1:-}"
dockerfile="${2:-$(dirname "${BASH_SOURCE[0]}")/Dockerfile}"
[[ -f "$dockerfile" ]] || { echo "dockerfile-parse: no file '$dockerfile'" >&2; exit 2; }

instructions() {
  awk '
    /^[[:space:]]*#/ { next }
    {
      line = $0
      sub(/\r$/, "", line)
      continued = sub(/\\[[:space:]]*$/, "", line)
      buf = buf line (continued ? " " : "")
      if (continued) next
      emit()
    }
    END { emit() }
    function emit(   word, args) {
      gsub(/[[:space:]]+/, " ", buf); sub(/^ /, "", buf); sub(/ $/, "", buf)
      if (buf == "") return
      word = toupper(buf); sub(/ .*/, "", word)
      args = buf; if (!sub(/^[^ ]+ /, "", args)) args = ""
      if (word == "FROM") {
        stage = "-"
        if (match(toupper(args), / AS [^ ]+$/)) stage = substr(args, RSTART + 4)
      }
      print (stage == "" ? "-" : stage) "\t" word "\t" args
      buf = ""
    }
  ' "$dockerfile"
}

runtime_packages() {
  # Words after `apt-get install` up to the end of that command (&&, ;, |), less its options.
  local out
  out="$(instructions | awk -F'\t' '
    $1 == "runtime" && $2 == "RUN" {
      n = split($3, w, " ")
      for (i = 1; i < n; i++) {
        if (w[i] != "apt-get" || w[i + 1] != "install") continue
        for (j = i + 2; j <= n && w[j] !~ /^(&&|;|\|\|?)$/; j++)
          if (w[j] !~ /^-/) print w[j]
      }
    }')"
  if [[ -z "$out" ]]; then
    echo "dockerfile-parse: no 'apt-get install' in a RUN of the 'runtime' stage of $dockerfile" >&2
    exit 1
  fi
  printf '%s\n' "$out"
}

case "$mode" in
  instructions) instructions ;;
  runtime-packages) runtime_packages ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
