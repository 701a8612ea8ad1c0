#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh: `run --rm busybox echo hi`, pea vs podman (--runtime runc), rootless.
#
#   usage: bench/run.sh [N]      (run as root: the runs are made as $BENCH_USER)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), RUNC (default: runc in PATH)
# Both engines get private stores in a fresh HOME; the image is pulled first.
# Runs alternate (pea, pea --runtime runc, podman, and both with --network none)
# N times (default 20); prints the median wall time, the median peak RSS of the
# engine process and the ratios (the --network none rows against podman's).
set -euo pipefail

N=${1:-20}
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
trap 'runuser -u "$BENCH_USER" -- env HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" podman --root "$WORK/podman" --runroot "$WORK/run/podman" system reset -f >/dev/null 2>&1 || true; runuser -u "$BENCH_USER" -- env HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" "$WORK/pea" system migrate >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

as_user() {
        runuser -u "$BENCH_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home" \
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data" \
                XDG_CONFIG_HOME="$WORK/home/config" "$@"
}
as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"

PODMAN=(podman --root "$WORK/podman" --runroot "$WORK/run/podman" --runtime "$RUNC")
as_user "$WORK/pea" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "${PODMAN[@]}" pull -q --tls-verify=false "$REG/busybox" >/dev/null
# warm up both (namespace holder, podman's pause process)
as_user "$WORK/pea" run --rm "$REG/busybox" true
as_user "${PODMAN[@]}" run --rm "$REG/busybox" true

declare -A T R
# Wall time in ms from bash's clock (time(1) has 10 ms steps), peak RSS from time(1);
# runuser's own start is measured once and taken off.
one() { # name cmd...
        local name=$1 out t0 t1
        shift
        t0=$EPOCHREALTIME
        out=$(as_user "$TIME" -f '%M' "$@" 2>&1 >/dev/null | tail -n1)
        t1=$EPOCHREALTIME
        T[$name]+="$(echo "($t1 - $t0) * 1000 - $BASE" | bc -l) "
        R[$name]+="$out "
}
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
for _ in $(seq "$N"); do
        one pea "$WORK/pea" run --rm "$REG/busybox" echo hi
        one pea-runc "$WORK/pea" run --rm --runtime "$RUNC" "$REG/busybox" echo hi
        one podman "${PODMAN[@]}" run --rm "$REG/busybox" echo hi
        # the engines without their default network helper (slirp4netns)
        one pea-net-none "$WORK/pea" run --rm --network none "$REG/busybox" echo hi
        one podman-net-none "${PODMAN[@]}" run --rm --network none "$REG/busybox" echo hi
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pm=$(median <<<"${T[podman]}")
printf '%-28s %12s %14s %10s\n' "run --rm busybox echo hi" "median ms" "peak RSS KiB" "vs podman"
pn=$(median <<<"${T[podman-net-none]}")
for k in pea pea-runc podman pea-net-none podman-net-none; do
        t=$(median <<<"${T[$k]}")
        r=$(median <<<"${R[$k]}")
        [[ $k == *net-none ]] && pm=$pn
        printf '%-28s %12.1f %14.0f %9.1fx\n' "$k" "$t" "$r" \
                "$(echo "$pm / $t" | bc -l)"
done
echo "(N=$N alternating runs; wall time without the $(printf '%.1f' "$BASE") ms that starting any"
echo " command as $BENCH_USER costs here; RSS: the engine process's peak, from /usr/bin/time)"
