#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/pull.sh: pulls into an empty store, and `images` with 200 tags: pea vs podman, rootless.
#
#   usage: bench/pull.sh [N]      (as root the runs are made as $BENCH_USER, else as you)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), BENCH_IMAGES (default "caddy debian:bookworm")
# Each pull goes into a fresh store (pea --root, podman --root/--runroot, podman with
# the overlay driver, as pea), both with --tls-verify=false; the stores are removed at
# the end (about 3 GB with the defaults). Runs alternate pea and
# podman N times (default 5); the table has the median wall time, the median peak
# RSS (GNU time's %M: the largest process of the command) and podman/pea ratios.
set -euo pipefail

N=${1:-5}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEA=${PEA:-$HERE/build/pea}
REG=${PEA_REGISTRY:-localhost:5000}
IMAGES=${BENCH_IMAGES:-caddy debian:bookworm}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
[ -x "$PEA" ] || { echo "bench: no pea binary at $PEA (set PEA)" >&2; exit 1; }
command -v podman >/dev/null || { echo "bench: podman is not installed" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
        BENCH_USER=${BENCH_USER:-peatest}
else
        BENCH_USER=$(id -un)
fi
WORK=$(mktemp -d /tmp/pea-bench-pull.XXXXXX)
chmod 755 "$WORK"
cp "$PEA" "$WORK/pea"
[ "$(id -u)" -eq 0 ] && chown -R "$BENCH_USER" "$WORK"

as_user() {
        local env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home"
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data"
                XDG_CONFIG_HOME="$WORK/home/config")
        if [ "$(id -u)" -eq 0 ]; then
                runuser -u "$BENCH_USER" -- "${env[@]}" "$@"
        else
                "${env[@]}" "$@"
        fi
}

PEA_CMD=("$WORK/pea")
podman_set() { # store-name: sets PODMAN to podman with that private store
        PODMAN=(podman --root "$WORK/podman-$1" --runroot "$WORK/run/podman-$1"
                --storage-driver overlay)
}

cleanup() {
        local d
        for d in "$WORK"/pea-*; do
                [ -d "$d" ] && as_user "$WORK/pea" --root "$d" unshare rm -rf "$d" 2>/dev/null
        done
        for d in "$WORK"/podman-*; do
                [ -d "$d" ] || continue
                podman_set "${d##*-}"
                as_user "${PODMAN[@]}" system reset -f >/dev/null 2>&1
        done
        as_user "$WORK/pea" system migrate >/dev/null 2>&1 || true
        local pause=$WORK/run/libpod/tmp/pause.pid
        [ -s "$pause" ] && kill "$(cat "$pause")" 2>/dev/null
        rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"
# warm up: pea's namespace holder and podman's pause process exist before timing
as_user "$WORK/pea" --root "$WORK/pea-warm" images >/dev/null
podman_set warm
as_user "${PODMAN[@]}" images >/dev/null 2>&1

declare -A T R
# one KEY cmd...: times one command, records wall seconds and peak RSS KiB
one() {
        local key=$1 out
        shift
        out=$(as_user "$TIME" -f '%e %M' "$@" 2>&1 >/dev/null | tail -n1)
        [[ $out =~ ^[0-9.]+\ [0-9]+$ ]] || { echo "bench: $* failed: $out" >&2; exit 1; }
        T[$key]+="${out% *} "
        R[$key]+="${out#* } "
}

run=0
for img in $IMAGES; do
        for _ in $(seq "$N"); do
                run=$((run + 1))
                # the stores stay until the end: ext4 creates files slowly right after
                # many were deleted (it skips recently freed inodes), which would time
                # the previous run's cleanup
                one "pea pull $img" "${PEA_CMD[@]}" --root "$WORK/pea-$run" pull -q \
                        --tls-verify=false "$REG/$img"
                podman_set "$run"
                one "podman pull $img" "${PODMAN[@]}" pull -q --tls-verify=false "$REG/$img"
        done
done

# images with one image under 200 names
tags=()
for i in $(seq 200); do tags+=("localhost/bench/tag:$i"); done
as_user "$WORK/pea" --root "$WORK/pea-tags" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "$WORK/pea" --root "$WORK/pea-tags" tag "$REG/busybox" "${tags[@]}"
podman_set tags
as_user "${PODMAN[@]}" pull -q --tls-verify=false "$REG/busybox" >/dev/null 2>&1
as_user "${PODMAN[@]}" tag "$REG/busybox" "${tags[@]}"
for _ in $(seq "$N"); do
        one "pea images" "$WORK/pea" --root "$WORK/pea-tags" images
        one "podman images" "${PODMAN[@]}" images
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '%-26s %9s %10s %7s %12s %14s %7s\n' "benchmark (median of $N)" "pea ms" "podman ms" \
        "ratio" "pea RSS KiB" "podman RSS KiB" "ratio"
row() { # label key
        local pt qt pr qr
        pt=$(median <<<"${T[pea $2]}") qt=$(median <<<"${T[podman $2]}")
        pr=$(median <<<"${R[pea $2]}") qr=$(median <<<"${R[podman $2]}")
        printf '%-26s %9.0f %10.0f %6.1fx %12.0f %14.0f %6.1fx\n' "$1" \
                "$(echo "$pt * 1000" | bc -l)" "$(echo "$qt * 1000" | bc -l)" \
                "$(echo "$qt / $pt" | bc -l)" "$pr" "$qr" "$(echo "$qr / $pr" | bc -l)"
}
for img in $IMAGES; do
        row "pull $img" "pull $img"
done
row "images (200 tags)" images
echo "(ratio: podman / pea, higher is better for pea; fresh store per pull;" \
        "podman $(podman --version | awk '{print $3}') --storage-driver overlay)"
