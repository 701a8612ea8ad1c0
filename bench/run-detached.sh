#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/run-detached.sh: `run -d` of many containers, the monitor's memory per container
# and `stop` latency; pea vs podman (--runtime runc, conmon), rootless.
#
#   usage: bench/run-detached.sh [CONTAINERS] [STOPS]   (run as root; runs as $BENCH_USER)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), RUNC (default: runc in PATH)
# Each engine gets a private store in a fresh HOME and starts CONTAINERS (default
# 100) containers one after the other with `run -d --network none` (total wall
# time and median per run); then the VmRSS of every pea-monitor / conmon is read
# from /proc/PID/status (mean and median per container); then STOPS (default 10)
# containers that exit on SIGTERM are stopped one at a time (median `stop` time).
set -euo pipefail

COUNT=${1:-100}
STOPS=${2:-10}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEA=${PEA:-$HERE/build/pea}
REG=${PEA_REGISTRY:-localhost:5000}
BENCH_USER=${BENCH_USER:-peatest}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}

WORK=$(mktemp -d /tmp/pea-bench.XXXXXX)
chmod 755 "$WORK"
cp "$PEA" "$WORK/pea"
for h in pea-init pea-monitor; do [ -x "$(dirname "$PEA")/$h" ] && cp "$(dirname "$PEA")/$h" "$WORK/"; done
chown -R "$BENCH_USER" "$WORK"
# runc gives every container a session keyring; 100 of them exceed the per-user key
# quota (kernel.keys.maxkeys), so podman is told not to (pea makes none).
printf '[containers]\nkeyring = false\n' >"$WORK/containers.conf"
chmod 644 "$WORK/containers.conf"
as_user() {
        runuser -u "$BENCH_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home" \
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data" \
                XDG_CONFIG_HOME="$WORK/home/config" CONTAINERS_CONF="$WORK/containers.conf" "$@"
}
PODMAN=(podman --root "$WORK/podman" --runroot "$WORK/run/podman" --runtime "$RUNC")
cleanup() {
        as_user "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
        as_user "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
        local ids
        ids=$(as_user "$WORK/pea" ps -a -q 2>/dev/null) || true
        # shellcheck disable=SC2086
        [ -z "$ids" ] || as_user "$WORK/pea" rm -f $ids >/dev/null 2>&1 || true
        as_user "$WORK/pea" system migrate >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT
as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"

as_user "$WORK/pea" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "${PODMAN[@]}" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "$WORK/pea" run --rm --network none "$REG/busybox" true
as_user "${PODMAN[@]}" run --rm --network none "$REG/busybox" true

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mean() { tr ' ' '\n' | grep . | awk '{ s += $1 } END { print NR ? s / NR : 0 }'; }
ms_since() { echo "($EPOCHREALTIME - $1) * 1000" | bc -l; }

declare -A WALL EACH RSS STOP
# run_all NAME CMD...: COUNT detached containers, one after the other
run_all() {
        local name=$1 t0 t1 i
        shift
        t0=$EPOCHREALTIME
        for i in $(seq "$COUNT"); do
                t1=$EPOCHREALTIME
                as_user "$@" run -d --network none --name "b$i" "$REG/busybox" sleep 3600 >/dev/null
                EACH[$name]+="$(ms_since "$t1") "
        done
        WALL[$name]=$(ms_since "$t0")
}
# monitor_rss NAME COMM: VmRSS (KiB) of every COMM process under WORK
monitor_rss() {
        local name=$1 comm=$2 p
        for p in $(pgrep -x "$comm"); do
                { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "$WORK" || continue
                RSS[$name]+="$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) "
        done
}
stop_all() {
        local name=$1 t0 i
        shift
        for i in $(seq "$STOPS"); do
                as_user "$@" run -d --network none --name "s$i" "$REG/busybox" \
                        sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
        done
        sleep 1
        for i in $(seq "$STOPS"); do
                t0=$EPOCHREALTIME
                as_user "$@" stop "s$i" >/dev/null
                STOP[$name]+="$(ms_since "$t0") "
        done
}

run_all pea "$WORK/pea"
monitor_rss pea pea-monitor
stop_all pea "$WORK/pea"
ids=$(as_user "$WORK/pea" ps -a -q)
# shellcheck disable=SC2086
as_user "$WORK/pea" rm -f $ids >/dev/null

run_all podman "${PODMAN[@]}"
monitor_rss podman conmon
stop_all podman "${PODMAN[@]}"
as_user "${PODMAN[@]}" rm -a -f -t 0 >/dev/null

printf '%-10s %14s %14s %16s %16s %14s\n' "engine" "run -d total s" "median run ms" \
        "monitor RSS KiB" "(median, n)" "median stop ms"
for k in pea podman; do
        printf '%-10s %14.1f %14.1f %16.0f %11.0f %4d %14.1f\n' "$k" \
                "$(echo "${WALL[$k]} / 1000" | bc -l)" "$(median <<<"${EACH[$k]}")" \
                "$(mean <<<"${RSS[$k]:-0}")" "$(median <<<"${RSS[$k]:-0}")" \
                "$(wc -w <<<"${RSS[$k]:-}")" "$(median <<<"${STOP[$k]}")"
done
echo "($COUNT sequential run -d --network none of busybox sleep; monitor RSS: pea-monitor vs conmon,"
echo " VmRSS from /proc/PID/status with all $COUNT running; stop: $STOPS containers exiting on SIGTERM)"
