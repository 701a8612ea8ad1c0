#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/pod.sh: `pod create -p` + 3 `run -d --pod`, pea vs podman (--runtime runc), rootless.
#
#   usage: bench/pod.sh [N]      (run as root: the runs are made as $BENCH_USER)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), RUNC (default: runc in PATH)
# Both engines get private stores in a fresh HOME; the image is pulled first.
# Each round (N, default 5) times the whole sequence, then sums the RSS of the
# helper processes it left running (pea: pea-pause, pea-monitor, slirp4netns;
# podman: catatonit, conmon, slirp4netns, rootlessport and its child "exe"),
# then removes the pod. Prints medians and the ratios.
# podman needs catatonit (Debian package catatonit) for its pause image.
set -euo pipefail

N=${1:-5}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEA=${PEA:-$HERE/build/pea}
REG=${PEA_REGISTRY:-localhost:5000}
BENCH_USER=${BENCH_USER:-peatest}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
command -v catatonit >/dev/null || [ -x /usr/libexec/podman/catatonit ] ||
        { echo "bench: podman's pods need catatonit (apt-get install catatonit)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pea-bench.XXXXXX)
chmod 755 "$WORK"
cp "$PEA" "$WORK/pea"
for h in pea-init pea-monitor pea-pause; do [ -x "$(dirname "$PEA")/$h" ] && cp "$(dirname "$PEA")/$h" "$WORK/"; done
chown -R "$BENCH_USER" "$WORK"

as_user() {
        runuser -u "$BENCH_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home" \
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data" \
                XDG_CONFIG_HOME="$WORK/home/config" "$@"
}
PODMAN=(podman --root "$WORK/podman" --runroot "$WORK/run/podman" --runtime "$RUNC")
cleanup() {
        as_user "$WORK/pea" pod rm -f -t 0 bench-pod >/dev/null 2>&1 || true
        as_user "${PODMAN[@]}" pod rm -f -t 0 bench-pod >/dev/null 2>&1 || true
        as_user "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
        as_user "$WORK/pea" system migrate >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT
as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"

as_user "$WORK/pea" pull -q --tls-verify=false "$REG/busybox" >/dev/null
as_user "${PODMAN[@]}" pull -q --tls-verify=false "$REG/busybox" >/dev/null
# warm up both (namespace holder, podman's pause process and pause image)
for e in "$WORK/pea" "${PODMAN[*]}"; do
        # shellcheck disable=SC2086 # the podman command line is split on purpose
        as_user $e pod create --name bench-pod >/dev/null
        # shellcheck disable=SC2086
        as_user $e pod rm -f -t 0 bench-pod >/dev/null
done

uid=$(id -u "$BENCH_USER")
user_pids() { pgrep -u "$uid" . | sort; }

# The RSS (KiB) of the engines' helper processes among $1 (pids): $RSS.
rss_of() {
        local p sum=0 comm kb
        for p in $1; do
                comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
                # the engines' helpers only: other processes of the user are not ours
                case $comm in
                pea-pause | pea-monitor | slirp4netns | pasta* | catatonit | conmon | rootlessport | exe) ;;
                *) continue ;;
                esac
                kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
                [ -n "$kb" ] || continue
                sum=$((sum + kb))
                DETAIL[$comm]=$(( ${DETAIL[$comm]:-0} + kb ))
        done
        RSS=$sum
}

declare -A T R DETAIL
one() { # name engine...
        local name=$1 before after t0 t1 port
        shift
        port=$((20000 + RANDOM % 20000))
        before=$(user_pids)
        t0=$EPOCHREALTIME
        as_user "$@" pod create --name bench-pod -p "$port:80" >/dev/null
        for i in 1 2 3; do
                as_user "$@" run -d --pod bench-pod --name "bench-$i" "$REG/busybox" sleep 1000 >/dev/null
        done
        t1=$EPOCHREALTIME
        after=$(comm -13 <(echo "$before") <(user_pids))
        T[$name]+="$(echo "($t1 - $t0) * 1000" | bc -l) "
        rss_of "$after"
        R[$name]+="$RSS "
        as_user "$@" pod rm -f -t 0 bench-pod >/dev/null
}

for _ in $(seq "$N"); do
        one pea "$WORK/pea"
        one podman "${PODMAN[@]}"
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
pt=$(median <<<"${T[podman]}")
pr=$(median <<<"${R[podman]}")
printf '%-30s %12s %16s %10s %10s\n' "pod create -p + 3 run -d --pod" "median ms" "left RSS KiB" "time" "RSS"
for k in pea podman; do
        t=$(median <<<"${T[$k]}")
        r=$(median <<<"${R[$k]}")
        printf '%-30s %12.1f %16.0f %9.1fx %9.1fx\n' "$k" "$t" "$r" \
                "$(echo "$pt / $t" | bc -l)" "$(echo "$pr / $r" | bc -l)"
done
echo "RSS by program over all rounds (KiB, summed):"
for c in "${!DETAIL[@]}"; do printf '  %-20s %10d\n' "$c" "${DETAIL[$c]}"; done | sort
