#!/usr/bin/env bash
# Measures the container image deploy/docker/Dockerfile builds, and proves its runtime stage is
# complete, without a Docker engine (none runs on the development machines or in CI):
#
#   1. debootstrap a Debian 12 minbase root filesystem (the packages debian:bookworm-slim is made
#      of) and slim it as that image is slimmed (no docs but copyrights, man pages, locales);
#   2. run the runtime stage on it: each RUN of the Dockerfile's `runtime` stage, verbatim, in a
#      chroot (apt-get install of the runtime packages, the 65532 user, the data dir), and its
#      COPY --from=builder with the binary given here;
#   3. as UID 65532 inside the chroot, with only the chroot's libraries: `facefuse --version`,
#      a real `facefuse swap` of two test photos, and `facefuse serve` answering the
#      Dockerfile's own HEALTHCHECK command;
#   4. print the sizes: the base, the whole tree (what `docker images` would show, within a few
#      MB), its gzip-compressed tar (about what a registry stores and a node pulls), and the
#      largest packages.
#
#   sudo deploy/docker/measure-rootfs.sh [FACEFUSE_BINARY]     (default build/release/src/facefuse)
#
# Not run by CI: it downloads about 150 MB of packages and needs root (debootstrap, chroot,
# mount) and `debootstrap` (apt-get install debootstrap). MIRROR=... picks the Debian mirror,
# FACES=... the folder of test photos (default ../shared/data/faces), KEEP=1 keeps the tree.
# Its results are written up in docs/deployment.md, "Container image".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${1:-build/release/src/facefuse}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
FACES="${FACES:-$ROOT/../shared/data/faces}"
SOURCE_PHOTO=man_luciano_codait.png
TARGET_PHOTO=obama_official_portrait_2012.jpg
DOCKERFILE=deploy/docker/Dockerfile
PARSE=deploy/docker/dockerfile-parse.sh

die() { echo "measure-rootfs: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot, mount): run it with sudo"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
[[ -x "$BIN" ]] || die "no facefuse binary at '$BIN': build it (scripts/build.sh release facefuse) or pass its path"
for photo in "$SOURCE_PHOTO" "$TARGET_PHOTO"; do
  [[ -f "$FACES/$photo" ]] || die "no test photo $FACES/$photo: set FACES to the folder of the test photos"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/facefuse-rootfs.XXXXXX")"
RFS="$WORK/rootfs"
SERVE_PID=""
cleanup() {
  if [[ -n "$SERVE_PID" ]] && kill -0 "$SERVE_PID" 2>/dev/null; then kill -KILL "$SERVE_PID" 2>/dev/null || true; fi
  if mountpoint -q "$RFS/proc" 2>/dev/null; then umount "$RFS/proc" || true; fi
  # Never delete through a mount that is still there.
  if findmnt -rn -o TARGET | grep -q "^$RFS/"; then
    echo "measure-rootfs: something is still mounted under $RFS; unmount it and remove $WORK by hand" >&2
  elif [[ "${KEEP:-0}" == 1 ]]; then
    echo "measure-rootfs: kept $RFS"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

in_root() { chroot "$RFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"; }
mib() { du -sx --apparent-size -B1M "$1" | cut -f1; }
gz_mib() { tar -C "$1" --one-file-system -cf - . | gzip -6 | wc -c | awk '{ printf "%.0f", $1 / 1048576 }'; }

# ------------------------------------------------------------------------------------------
echo "== 1. Debian 12 minbase from $MIRROR, slimmed like debian:bookworm-slim"
debootstrap --variant=minbase bookworm "$RFS" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 ||
  { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above); is $MIRROR reachable?"; }
# The slim variant's dpkg exclusions (debuerreotype's slimify), so that later installs skip
# the same files, and the files the base already has removed.
cat > "$RFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$RFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$RFS/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$RFS"/usr/share/{groff,info,linda,locale,man}/* "$RFS"/usr/share/lintian/overrides/*
# The image's sources: the release, its updates and security (debootstrap sets the first only).
cat > "$RFS/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
in_root apt-get clean
rm -rf "$RFS"/var/lib/apt/lists/* "$RFS"/var/cache/apt/*.bin
BASE_MIB="$(mib "$RFS")"
BASE_PKGS="$(in_root dpkg-query -W -f '${Package}\n' | sort)"
echo "   base: ${BASE_MIB} MiB, $(wc -l <<<"$BASE_PKGS") packages"

# ------------------------------------------------------------------------------------------
echo "== 2. the runtime stage of $DOCKERFILE"
cp /etc/resolv.conf "$RFS/etc/resolv.conf"
mount -t proc proc "$RFS/proc"
stage_env=()
while IFS=$'\t' read -r stage instr args; do
  [[ "$stage" == runtime ]] || continue
  case "$instr" in
    FROM|USER|WORKDIR|VOLUME|EXPOSE|HEALTHCHECK|ENTRYPOINT|CMD) ;;  # image metadata: used in 3.
    ENV)
      # `ENV K=V K2=V2` (values without spaces, as the Dockerfile writes them)
      read -r -a kv <<<"$args"; stage_env+=("${kv[@]}") ;;
    RUN)
      [[ "$args" != \[* ]] || die "exec-form RUN is not supported here: $args"
      echo "   RUN ${args:0:100}..."
      in_root "${stage_env[@]}" DEBIAN_FRONTEND=noninteractive /bin/sh -c "$args" > "$WORK/run.log" 2>&1 ||
        { tail -n 20 "$WORK/run.log" >&2; die "this RUN of the runtime stage failed: $args"; } ;;
    COPY)
      read -r from src dst <<<"$args"
      [[ "$from" == --from=builder && "$src" == */build/release/src/facefuse ]] ||
        die "unexpected COPY in the runtime stage: $args (teach this script what it copies)"
      echo "   COPY $BIN -> $dst"
      install -D -m 0755 "$BIN" "$RFS$dst" ;;
    *) die "instruction $instr in the runtime stage is not handled here: teach this script" ;;
  esac
done < <("$PARSE" instructions "$DOCKERFILE")
rm -f "$RFS/etc/resolv.conf"

# ------------------------------------------------------------------------------------------
echo "== 3. run it as the image would, as UID 65532 with the chroot's libraries only"
user="$("$PARSE" instructions "$DOCKERFILE" | awk -F'\t' '$1 == "runtime" && $2 == "USER" { u = $3 } END { print u }')"
entry="$("$PARSE" instructions "$DOCKERFILE" | awk -F'\t' '$1 == "runtime" && $2 == "ENTRYPOINT" { e = $3 } END { print e }' | sed 's/^\[ *"\([^"]*\)".*/\1/')"
healthcheck="$("$PARSE" instructions "$DOCKERFILE" | awk -F'\t' '$1 == "runtime" && $2 == "HEALTHCHECK" { h = $3 } END { print h }' | sed 's/.* CMD //')"
as_user() { chroot --userspec="$user" "$RFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/var/lib/facefuse "${stage_env[@]}" "$@"; }

if in_root ldd "$entry" | grep 'not found'; then die "libraries missing in the runtime stage (above)"; fi
as_user "$entry" --version | sed 's/^/   /'

mkdir -p "$RFS/tmp/faces"
cp "$FACES/$SOURCE_PHOTO" "$FACES/$TARGET_PHOTO" "$RFS/tmp/faces/"
chmod -R a+rX "$RFS/tmp/faces"
as_user /bin/sh -c "cd /var/lib/facefuse && '$entry' swap -s /tmp/faces/$SOURCE_PHOTO -t /tmp/faces/$TARGET_PHOTO -o swapped.png"
[[ -s "$RFS/var/lib/facefuse/swapped.png" ]] || die "swap wrote no output"
echo "   swap: $SOURCE_PHOTO onto $TARGET_PHOTO -> $(stat -c %s "$RFS/var/lib/facefuse/swapped.png") bytes (PNG)"

# serve on a free loopback port (the machine may be shared), then the HEALTHCHECK's command.
# Its output comes through fd 3: first its pid, then its log, read until it says where it listens.
secret="$(head -c 48 /dev/urandom | base64)"
exec 3< <(as_user FACEFUSE_JWT_SECRET="$secret" "$entry" serve --listen 127.0.0.1:0 2>&1 &
          echo "pid $!"; wait)
port=""
while read -r -t 60 -u 3 line; do
  case "$line" in
    "pid "*) SERVE_PID="${line#pid }" ;;
    *'"event":"serve_started"'*) port="$(grep -o '"port":[0-9]*' <<<"$line" | cut -d: -f2)"; break ;;
  esac
done
[[ -n "$port" && -n "$SERVE_PID" ]] || die "facefuse serve did not start within 60 s"
as_user HEALTHCHECK_URL="http://127.0.0.1:$port/healthz" /bin/sh -c "$healthcheck" ||
  die "the HEALTHCHECK command failed against serve on port $port"
echo "   serve (JWT auth, key from FACEFUSE_JWT_SECRET) on port $port: the HEALTHCHECK command passed"
# SIGTERM drains and exits; its output ends when it has.
kill -TERM "$SERVE_PID"
while read -r -t 30 -u 3 _; do :; done
if kill -0 "$SERVE_PID" 2>/dev/null; then die "facefuse serve did not stop on SIGTERM within 30 s"; fi
SERVE_PID=""
exec 3<&-
umount "$RFS/proc"
rm -rf "$RFS/tmp/faces" "$RFS/var/lib/facefuse"/* "$RFS"/var/lib/apt/lists/* "$RFS"/var/cache/apt/*.bin

# ------------------------------------------------------------------------------------------
echo "== 4. sizes"
TOTAL_MIB="$(mib "$RFS")"
added="$(comm -13 <(echo "$BASE_PKGS") <(in_root dpkg-query -W -f '${Package}\n' | sort) | wc -l)"
echo "   base (Debian 12 minbase, slimmed):  ${BASE_MIB} MiB"
echo "   image (base + runtime stage):        ${TOTAL_MIB} MiB, ${added} packages added to the base"
echo "   image, gzip-compressed tar:          $(gz_mib "$RFS") MiB"
echo "   of which: binary $(( $(stat -c %s "$RFS$entry") / 1048576 )) MiB, /usr/share/dlib $(mib "$RFS/usr/share/dlib") MiB"
echo "   largest packages (installed size, MiB):"
in_root dpkg-query -W -f '${Installed-Size}\t${Package}\n' | sort -rn | head -n 15 |
  awk -F'\t' '{ printf "     %6.1f  %s\n", $1 / 1024, $2 }'
