#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/ps.sh: `ps -a` with many containers, pea vs podman (--runtime runc), rootless.
#
#   usage: bench/ps.sh [N] [CONTAINERS]   (run as root: the runs are made as $BENCH_USER)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), RUNC (default: runc in PATH)
# Both engines get private stores in a fresh HOME and CONTAINERS (default 500)
# created (not started) containers; then `ps -a` runs N times (default 20),
# alternating, and the median wall time and peak RSS are printed. pea's goal is
# at most 50 ms.
set -euo pipefail

N=${1:-20}
COUNT=${2:-500}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEA=${PEA:-$HERE/build/pea}
REG=${PEA_REGISTRY:-localhost:5000}
BENCH_USER=${BENCH_USER:-peatest}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: /usr/bin/time (package time) is needed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pea-bench.XXXXXX)
chmod 755 "$WORK"
cp "$PEA" "$WORK/pea"
for h in pea-init pea-monitor; do [ -x "$(dirname "$PEA")/$h" ] && cp "$(dirname "$PEA")/$h" "$WORK/"; done
chown -R "$BENCH_USER" "$WORK"
cleanup() {
        as_user "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
        as_user "$WORK/pea" system migrate >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT

as_user() {
        runuser -u "$BENCH_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home" \
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data" \
                XDG_CONFIG_HOME="$WORK/home/config" "$@"
}
as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"
export -f as_user
export WORK BENCH_USER REG

PODMAN=(podman --root "$WORK/podman" --runroot "$WORK/run/podman" --runtime "$RUNC")
as_user "$WORK/pea" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "${PODMAN[@]}" pull -q --tls-verify=false "$REG/busybox" >/dev/null

echo "creating $COUNT containers with each engine..." >&2
# shellcheck disable=SC2016
seq "$COUNT" | xargs -P 4 -I{} bash -c 'as_user "$WORK/pea" create --network none --name c{} "$REG/busybox" true >/dev/null'
# shellcheck disable=SC2016
seq "$COUNT" | xargs -P 4 -I{} bash -c 'as_user "$@" create --network none --name c{} "$REG/busybox" true >/dev/null' _ "${PODMAN[@]}"
[ "$(as_user "$WORK/pea" ps -a -q | wc -l)" -eq "$COUNT" ] || { echo "bench: pea has not $COUNT containers" >&2; exit 1; }
[ "$(as_user "${PODMAN[@]}" ps -a -q | wc -l)" -eq "$COUNT" ] || { echo "bench: podman has not $COUNT containers" >&2; exit 1; }

declare -A T R
base_ms() {
        local t0 t1 best=999999 v
        for _ in 1 2 3 4 5; do
                t0=$EPOCHREALTIME
                as_user "$TIME" -f '%M' true >/dev/null 2>&1
                t1=$EPOCHREALTIME
                v=$(echo "($t1 - $t0) * 1000" | bc -l)
                best=$(echo "if ($v < $best) $v else $best" | bc -l)
        done
        echo "$best"
}
BASE=$(base_ms)
one() { # name cmd...
        local name=$1 out t0 t1
        shift
        t0=$EPOCHREALTIME
        out=$(as_user "$TIME" -f '%M' "$@" 2>&1 >/dev/null | tail -n1)
        t1=$EPOCHREALTIME
        T[$name]+="$(echo "($t1 - $t0) * 1000 - $BASE" | bc -l) "
        R[$name]+="$out "
}
# warm up
as_user "$WORK/pea" ps -a >/dev/null
as_user "${PODMAN[@]}" ps -a >/dev/null
for _ in $(seq "$N"); do
        one pea "$WORK/pea" ps -a
        one podman "${PODMAN[@]}" ps -a
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pm=$(median <<<"${T[podman]}")
printf '%-28s %12s %14s %10s\n' "ps -a, $COUNT containers" "median ms" "peak RSS KiB" "vs podman"
for k in pea podman; do
        t=$(median <<<"${T[$k]}")
        r=$(median <<<"${R[$k]}")
        printf '%-28s %12.1f %14.0f %9.1fx\n' "$k" "$t" "$r" "$(echo "$pm / $t" | bc -l)"
done
pt=$(median <<<"${T[pea]}")
echo "(N=$N alternating runs; wall time without the $(printf '%.1f' "$BASE") ms that starting any"
echo " command as $BENCH_USER costs here; pea goal <= 50 ms: $(echo "$pt <= 50" | bc -l | sed 's/1/met/; s/0/NOT met/'))"
