#!/usr/bin/env bash
# Checks the container image's recipe, deploy/docker/Dockerfile, and the build context's
# .dockerignore, without a Docker engine (none runs on the development machines or in CI):
#
#   1. lint: dockerfile-utils (npm, pinned in tests/peers) reports no problem at all,
#      warnings included;
#   2. build steps: the builder stage runs exactly the scripts a developer and CI run, and
#      both stages start from the same Debian 12 image, the release this machine runs;
#   3. runtime libraries: every library in the binary's NEEDED entries comes from a package the
#      runtime stage lists (dpkg -S on this machine), no listed package is left over, and every
#      library ldd resolves comes from a listed package or a dependency of one;
#   4. user: USER is numeric, non-root and the UID/GID deploy/k8s runs the pods as;
#   5. HEALTHCHECK present, pointed at the default command's port, its tool installed;
#   6. ENTRYPOINT is the binary the builder built, and CMD names a subcommand it has;
#   7. .dockerignore keeps build output, .git and node_modules out of the build context.
#
#   tests/deploy/dockerfile_test.sh [FACEFUSE_BINARY]    (or FACEFUSE=...; default build/release/src/facefuse)
#
# DOCKERFILE=... and DOCKERIGNORE=... check other files instead (to see a check fail on a
# broken copy). Needs node + `npm ci` in tests/peers, python3, readelf, ldd and dpkg (all from
# scripts/install-deps.sh). Registered with CTest as deploy.dockerfile. Exits 1 on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${1:-${FACEFUSE:-build/release/src/facefuse}}"
DOCKERFILE="${DOCKERFILE:-deploy/docker/Dockerfile}"
DOCKERIGNORE="${DOCKERIGNORE:-.dockerignore}"
LINTER=tests/peers/node_modules/dockerfile-utils/bin/dockerfile-utils
PARSE=deploy/docker/dockerfile-parse.sh
# The UID/GID the Kubernetes pods run as; the image's USER must be the same.
K8S_POD_SPECS=(deploy/k8s/base/gateway.yaml deploy/k8s/base/worker.yaml)

failed=()
passed=0
step() { printf '\n== %s\n' "$*"; }
record() {  # record NAME CMD...: run CMD, remember NAME if it failed (and keep going)
  local name="$1"; shift
  if "$@"; then echo "   PASS $name"; passed=$((passed + 1)); else echo "   FAIL $name"; failed+=("$name"); fi
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/facefuse-dockerfile-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

step "tools"
missing=0
for tool in node python3 readelf ldd dpkg dpkg-query; do
  command -v "$tool" >/dev/null 2>&1 || { echo "   MISSING $tool (scripts/install-deps.sh installs it)"; missing=1; }
done
[[ -f "$LINTER" ]] || { echo "   MISSING $LINTER (run scripts/install-deps.sh: npm ci in tests/peers)"; missing=1; }
[[ -x "$BIN" ]] || { echo "   MISSING facefuse binary '$BIN' (build it, or pass its path as the first argument)"; missing=1; }
for f in "$DOCKERFILE" "$PARSE"; do [[ -f "$f" ]] || { echo "   MISSING $f"; missing=1; }; done
if (( missing )); then echo "dockerfile_test: missing prerequisites"; exit 1; fi
echo "   $(node "$LINTER" --version)"
echo "   checking $DOCKERFILE against $BIN"

# One logical instruction a line: STAGE<TAB>INSTRUCTION<TAB>ARGUMENTS.
"$PARSE" instructions "$DOCKERFILE" > "$WORK/instructions.tsv"
args_of() {  # args_of STAGE INSTRUCTION: the arguments of each such instruction, one a line
  awk -F'\t' -v s="$1" -v i="$2" '$1 == s && $2 == i { print $3 }' "$WORK/instructions.tsv"
}
# The runtime stage's final settings (Docker: the last one of each counts).
last_of() { args_of runtime "$1" | tail -n 1; }

# ------------------------------------------------------------------------------------------
step "1. lint"
lint() {
  # --json lists every diagnostic, warnings too (the plain output's exit code counts errors only).
  local out rc=0
  out="$(node "$LINTER" lint --json "$DOCKERFILE")" || rc=$?
  if [[ "$out" == "[]" && $rc -eq 0 ]]; then return 0; fi
  echo "   dockerfile-utils found problems (exit $rc); fix them (line numbers count from 1):"
  node -e '
    for (const d of JSON.parse(process.argv[1]))
      console.log(`     line ${d.range.start.line + 1}: ${d.severity}: ${d.message}`);
  ' "$out" 2>/dev/null || echo "     $out"
  return 1
}
record "dockerfile-utils lint: no errors, no warnings" lint

# ------------------------------------------------------------------------------------------
step "2. build steps are the scripts CI runs"
builder_runs() {
  # Exactly these RUNs, in this order, and nothing else: any other build step (an extra
  # package, another flag) would make the image differ from what the tests passed on.
  local want got
  want=$'scripts/install-deps.sh --build-only\nscripts/build.sh release facefuse'
  got="$(args_of builder RUN)"
  [[ "$got" == "$want" ]] && return 0
  echo "   the builder stage must run exactly:"; sed 's/^/     RUN /' <<<"$want"
  echo "   it runs:"; sed 's/^/     RUN /' <<<"${got:-(nothing)}"
  echo "   change scripts/install-deps.sh or scripts/build.sh instead, so CI builds the same way"
  return 1
}
record "builder RUNs exactly install-deps.sh --build-only, build.sh release facefuse" builder_runs

same_base() {
  # The runtime libraries must be the versions the builder linked against, and the package
  # names this test maps libraries to (dpkg -S here) must be those of the image's release.
  local stages from_b from_r arg codename
  stages="$(awk -F'\t' '$2 == "FROM" { print $1 }' "$WORK/instructions.tsv" | paste -sd' ')"
  if [[ "$stages" != "builder runtime" ]]; then
    echo "   stages are '$stages'; expected 'builder runtime' (runtime last: docker build's default target)"
    return 1
  fi
  from_b="$(args_of builder FROM)"; from_r="$(args_of runtime FROM)"
  if [[ "${from_b% AS *}" != "${from_r% AS *}" ]]; then
    echo "   builder FROM '${from_b% AS *}' differs from runtime FROM '${from_r% AS *}': use one image for both"
    return 1
  fi
  arg="$(awk -F'\t' '$1 == "-" && $2 == "ARG" && $3 ~ /^DEBIAN_IMAGE=/ { sub(/^DEBIAN_IMAGE=/, "", $3); print $3 }' "$WORK/instructions.tsv")"
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  if [[ "${from_r% AS *}" != '${DEBIAN_IMAGE}' || ! "$arg" =~ ^debian:${codename}(-slim)?(@sha256:[0-9a-f]{64})?$ ]]; then
    echo "   both stages must be FROM \${DEBIAN_IMAGE} with ARG DEBIAN_IMAGE=debian:${codename}[-slim][@sha256:...]"
    echo "   (this machine runs Debian '$codename'; the image has '${arg:-no ARG DEBIAN_IMAGE}')"
    return 1
  fi
}
record "both stages FROM the same debian image, this machine's release" same_base

# ------------------------------------------------------------------------------------------
step "3. the runtime stage installs what the binary links"
"$PARSE" runtime-packages "$DOCKERFILE" | sort -u > "$WORK/packages.txt" || true
echo "   runtime packages: $(paste -sd' ' "$WORK/packages.txt")"
readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' > "$WORK/needed.txt"
ldd "$BIN" > "$WORK/ldd.txt"
# The default landmark model, whose path the built-in model manifest compiles into the binary:
# the runtime needs its package too.
MODEL="$(grep -ao '/usr/share/dlib/[A-Za-z0-9_.-]*\.dat' "$BIN" | sort -u | head -n 1 || true)"
HEALTH_TOOL="$(last_of HEALTHCHECK | sed -n 's/.* CMD \(\[ *"\)\{0,1\}\([^ ",]*\).*/\2/p')"

libraries() {
  python3 - "$WORK" "$MODEL" "$HEALTH_TOOL" <<'PY'
import os, re, subprocess, sys

work, model, health_tool = sys.argv[1:4]
listed = set(open(f"{work}/packages.txt").read().split())
needed = open(f"{work}/needed.txt").read().split()
ok = True

def fail(msg):
    global ok
    ok = False
    print("   " + msg)

# ldd: "name => /path (0x...)", "/path (0x...)", "name => not found", "linux-vdso.so.1 (0x...)".
resolved = {}
for line in open(f"{work}/ldd.txt"):
    m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line) or re.match(r"\s*((/\S+))\s+\(", line)
    if not m:
        continue
    name, path = m.group(1), m.group(2)
    if path == "not":
        fail(f"ldd: {name} not found on this machine: rebuild, or install its package here")
        continue
    resolved[name] = path

def candidates(path):
    # dpkg records paths as its packages ship them: on a merged /usr, /lib/... may be recorded
    # for a library ldd finds in /usr/lib/...; an alternatives link (libblas.so.3) belongs to
    # the package of the file it points to.
    real = os.path.realpath(path)
    out = []
    for p in (real, path):
        out.append(p)
        if p.startswith("/usr/lib/"):
            out.append(p[4:])
        elif p.startswith("/lib"):
            out.append("/usr" + p)
    return list(dict.fromkeys(out))

paths = {p for lib_path in list(resolved.values()) + ([model] if model else []) for p in candidates(lib_path)}
dpkg = subprocess.run(["dpkg", "-S", *sorted(paths)], capture_output=True, text=True)
owner = {}
for line in dpkg.stdout.splitlines():
    if line.startswith("diversion "):
        continue
    pkgs, _, path = line.rpartition(": ")
    owner[path] = [p.strip().split(":")[0] for p in pkgs.split(",")]

def package_of(path):
    for c in candidates(path):
        if c in owner:
            return owner[c][0]
    return None

# Every NEEDED library: its package is listed. These are the packages the runtime list is for.
providers = {}
for name in needed:
    if name not in resolved:
        fail(f"{name} (NEEDED) is not resolved by ldd")
        continue
    pkg = package_of(resolved[name])
    if pkg is None:
        fail(f"{name} ({resolved[name]}) belongs to no Debian package here: the image cannot install it")
    elif pkg not in listed:
        fail(f"{name} (NEEDED) comes from {pkg}: add {pkg} to the runtime stage's apt-get install")
    else:
        providers[pkg] = name

# Every listed package has a reason: a NEEDED library, or one of the three non-library needs.
extra_reasons = {}
if model:
    mp = package_of(model)
    if mp is None:
        fail(f"the default landmark model {model} belongs to no package here (install libdlib-data)")
    elif mp not in listed:
        fail(f"the default landmark model {model} comes from {mp}: add {mp} to the runtime stage")
    else:
        extra_reasons[mp] = "default landmark model " + model
else:
    fail("the binary names no /usr/share/dlib/*.dat default landmark model any more: update this test")
extra_reasons["ca-certificates"] = "libcurl verifies S3 over TLS"
if health_tool:
    extra_reasons[health_tool] = "HEALTHCHECK runs it"
for pkg in ("ca-certificates",):
    if pkg not in listed:
        fail(f"{pkg} is not installed: libcurl could not verify an https S3 endpoint; add it")
if health_tool and health_tool not in listed:
    fail(f"HEALTHCHECK runs '{health_tool}', which the runtime stage does not install: add its package")
for pkg in sorted(listed - set(providers) - set(extra_reasons)):
    fail(f"{pkg} is installed but provides no library the binary needs: remove it (or say here why it is needed)")
for pkg in sorted(providers):
    print(f"   {pkg:24} {providers[pkg]}")
for pkg in sorted(set(extra_reasons) & listed):
    print(f"   {pkg:24} ({extra_reasons[pkg]})")

# Every library ldd resolves (NEEDED and theirs): from a listed package or one that apt installs
# with them, i.e. their Depends/Pre-Depends closure as this machine's dpkg records it.
status = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Provides}\t${Pre-Depends}, ${Depends}\n"],
                        capture_output=True, text=True, check=True).stdout
deps, provided_by = {}, {}
for line in status.splitlines():
    pkg, provides, depends = (line.split("\t") + ["", ""])[:3]
    deps[pkg] = [[re.sub(r"[\s(:].*", "", alt.strip()) for alt in group.split("|")]
                 for group in depends.split(",") if group.strip()]
    for v in provides.split(","):
        if v.strip():
            provided_by.setdefault(re.sub(r"[\s(].*", "", v.strip()), []).append(pkg)
closure, todo = set(), list(listed)
while todo:
    pkg = todo.pop()
    if pkg in closure:
        continue
    closure.add(pkg)
    for group in deps.get(pkg, []):
        for alt in group:  # any alternative installed here may be the one that provides a library
            for real in ([alt] if alt in deps else []) + provided_by.get(alt, []):
                todo.append(real)
unreached = []
for name, path in sorted(resolved.items()):
    pkg = package_of(path)
    if pkg is None:
        fail(f"{name} ({path}) belongs to no Debian package here")
    elif pkg not in closure:
        unreached.append(f"{name} ({pkg})")
if unreached:
    fail("not installed by the runtime packages or their dependencies: " + ", ".join(unreached))
print(f"   {len(resolved)} libraries ldd resolves come from {len(listed)} listed packages and their dependencies")
sys.exit(0 if ok else 1)
PY
}
record "runtime packages = the binary's libraries (ldd, dpkg -S) + model, CA certificates, healthcheck tool" libraries

# ------------------------------------------------------------------------------------------
step "4. non-root user, the UID/GID of deploy/k8s"
user_check() {
  local user uid gid k8s_uid k8s_gid
  user="$(last_of USER)"
  if [[ ! "$user" =~ ^([0-9]+)(:([0-9]+))?$ ]]; then
    echo "   USER '${user:-(none)}' must be numeric UID:GID (Kubernetes runAsNonRoot can verify only a number)"
    return 1
  fi
  uid="${BASH_REMATCH[1]}"; gid="${BASH_REMATCH[3]:-}"
  k8s_uid="$(grep -ho 'runAsUser: *[0-9]*' "${K8S_POD_SPECS[@]}" | grep -o '[0-9]*$' | sort -u)"
  k8s_gid="$(grep -ho 'runAsGroup: *[0-9]*' "${K8S_POD_SPECS[@]}" | grep -o '[0-9]*$' | sort -u)"
  if (( uid == 0 )) || [[ "$gid" == 0 ]]; then echo "   USER $user is root: use 65532:65532"; return 1; fi
  if [[ "$uid" != "$k8s_uid" || "$gid" != "$k8s_gid" ]]; then
    echo "   USER $user differs from the pods' runAsUser/runAsGroup ${k8s_uid//$'\n'/,}:${k8s_gid//$'\n'/,} (${K8S_POD_SPECS[*]})"
    return 1
  fi
  # The numeric user has an entry (tools that look up the user name work) and owns the data dir.
  if ! args_of runtime RUN | grep -Eq -- "useradd .*--uid $uid( |$)"; then
    echo "   no 'useradd ... --uid $uid' in the runtime stage: create the user the image runs as"; return 1
  fi
  if ! args_of runtime RUN | grep -Eq -- "(install -d -o $uid -g $gid |chown $uid:$gid )"; then
    echo "   the runtime stage gives no directory to $uid:$gid: the data dir must be writable"; return 1
  fi
  echo "   USER $uid:$gid, as the pods run"
}
record "USER numeric, non-root, 65532 as in deploy/k8s" user_check

# ------------------------------------------------------------------------------------------
step "5. HEALTHCHECK"
healthcheck() {
  local hc url port listen
  hc="$(last_of HEALTHCHECK)"
  if [[ -z "$hc" || "$hc" =~ ^NONE ]]; then echo "   no HEALTHCHECK in the runtime stage"; return 1; fi
  if [[ "$hc" != *" CMD "* ]]; then echo "   HEALTHCHECK '$hc' has no CMD"; return 1; fi
  # It asks /healthz on the port the default command listens on: the URL it names, or else
  # HEALTHCHECK_URL's default (ENV).
  url="$(grep -o 'http://[^ "]*' <<<"$hc" || true)"
  if [[ -z "$url" && "$hc" == *'$HEALTHCHECK_URL'* ]]; then
    url="$(last_of ENV | grep -o 'HEALTHCHECK_URL=[^ ]*' | cut -d= -f2- || true)"
  fi
  if [[ "$url" != */healthz ]]; then
    echo "   HEALTHCHECK '$hc' must ask /healthz (asks '${url:-no URL}')"; return 1
  fi
  port="$(sed -n 's|^http://[^/]*:\([0-9]*\)/.*|\1|p' <<<"$url")"
  listen="$(last_of CMD | grep -o '"--listen", *"[^"]*"' | grep -o '[0-9]*"$' | tr -d '"')"
  if [[ -z "$port" || "$port" != "$listen" ]]; then
    echo "   HEALTHCHECK asks '$url' but the default CMD listens on port '${listen:-?}'"; return 1
  fi
  echo "   $url (the default command's port)"
}
record "HEALTHCHECK present, asks /healthz on the default command's port" healthcheck

# ------------------------------------------------------------------------------------------
step "6. ENTRYPOINT and CMD"
entry_cmd() {
  local copy src dst entry sub
  copy="$(args_of runtime COPY | grep -- '--from=builder' | tail -n 1)"
  read -r _ src dst <<<"$copy"
  if [[ "$src" != */build/release/src/facefuse ]]; then
    echo "   the runtime stage must COPY --from=builder the release binary build/release/src/facefuse (has '$copy')"; return 1
  fi
  entry="$(last_of ENTRYPOINT)"
  if [[ "$entry" != "[\"$dst\"]" ]]; then
    echo "   ENTRYPOINT '$entry' must be [\"$dst\"] (exec form: the binary is PID 1 and gets SIGTERM)"; return 1
  fi
  sub="$(last_of CMD | sed -n 's/^\[ *"\([^"]*\)".*/\1/p')"
  if [[ -z "$sub" ]] || ! "$BIN" --help | awk '/^Subcommands:/ { s = 1; next } s { print $1 }' | grep -qx -- "$sub"; then
    echo "   CMD '$(last_of CMD)' must start with a subcommand that \`facefuse --help\` lists"; return 1
  fi
  echo "   ENTRYPOINT [\"$dst\"], CMD $(last_of CMD)"
}
record "ENTRYPOINT is the built binary, CMD one of its subcommands" entry_cmd

# ------------------------------------------------------------------------------------------
step "7. .dockerignore"
dockerignore() {
  [[ -f "$DOCKERIGNORE" ]] || { echo "   no $DOCKERIGNORE: the build context would carry build trees and node_modules"; return 1; }
  python3 - "$DOCKERIGNORE" <<'PY'
import re, sys

# Docker's rules: patterns are relative to the context root (a leading / is dropped), * and ?
# stay within one path element, ** spans any number, ! re-includes, the last match wins, and
# a pattern matches a path when it matches the path or one of its parent directories.
rules = []
for raw in open(sys.argv[1]):
    line = raw.strip()
    if not line or line.startswith("#"):
        continue
    neg = line.startswith("!")
    pat = line[1:].strip() if neg else line
    pat = pat.strip("/")
    rx = ""
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            rx += "(?:.*/)?"; i += 3
        elif pat.startswith("**", i):
            rx += ".*"; i += 2
        elif pat[i] == "*":
            rx += "[^/]*"; i += 1
        elif pat[i] == "?":
            rx += "[^/]"; i += 1
        else:
            rx += re.escape(pat[i]); i += 1
    rules.append((neg, re.compile(rx + r"\Z")))

def excluded(path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    state = False
    for neg, rx in rules:
        if any(rx.match(p) for p in prefixes):
            state = not neg
    return state

must_exclude = ["build/release/src/facefuse", "build/asan/CMakeCache.txt", "build-debug/x",
                ".git/HEAD", "tests/peers/node_modules/s3rver/package.json", "node_modules/x",
                "facefuse-data/tasks.db"]
must_keep = ["CMakeLists.txt", "src/CMakeLists.txt", "scripts/install-deps.sh", "scripts/build.sh",
             "tests/CMakeLists.txt", "bench/CMakeLists.txt", "tests/peers/package.json"]
ok = True
for p in must_exclude:
    if not excluded(p):
        print(f"   {sys.argv[1]} lets {p} into the build context: exclude it"); ok = False
for p in must_keep:
    if excluded(p):
        print(f"   {sys.argv[1]} excludes {p}, which the builder stage needs"); ok = False
sys.exit(0 if ok else 1)
PY
}
record ".dockerignore excludes build output, .git, node_modules; keeps the sources" dockerignore

# ------------------------------------------------------------------------------------------
echo
echo "dockerfile_test: ${passed} passed, ${#failed[@]} failed"
if (( ${#failed[@]} )); then
  echo "dockerfile_test: failed: ${failed[*]}"
  exit 1
fi
