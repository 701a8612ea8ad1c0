#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/net-throughput.sh: TCP throughput of a 200 MB transfer from a container
# to the host through a published port on loopback, pea vs podman (--runtime
# runc), rootless, one run each (both use slirp4netns, the default).
#
#   usage: bench/net-throughput.sh [MB]   (run as root: the runs are made as $BENCH_USER)
#   env:   PEA (default build/pea), PEA_REGISTRY (default localhost:5000),
#          BENCH_USER (default peatest), RUNC (default: runc in PATH)
# The container serves MB (default 200) MiB of zeros with busybox nc on port
# 5001, published on a free host port; the host reads it with bash's
# /dev/tcp and the time from connect to EOF gives MB/s.
set -euo pipefail

MB=${1:-200}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEA=${PEA:-$HERE/build/pea}
REG=${PEA_REGISTRY:-localhost:5000}
BENCH_USER=${BENCH_USER:-peatest}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}

WORK=$(mktemp -d /tmp/pea-bench.XXXXXX)
chmod 755 "$WORK"
cp "$PEA" "$WORK/pea"
for h in pea-init pea-monitor; do
        if [ -x "$(dirname "$PEA")/$h" ]; then cp "$(dirname "$PEA")/$h" "$WORK/"; fi
done
chown -R "$BENCH_USER" "$WORK"

as_user() {
        runuser -u "$BENCH_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORK/home" \
                XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/home/data" \
                XDG_CONFIG_HOME="$WORK/home/config" "$@"
}
PODMAN=(podman --root "$WORK/podman" --runroot "$WORK/run/podman" --runtime "$RUNC")
cleanup() {
        as_user "$WORK/pea" rm -f pea-net-bench >/dev/null 2>&1 || true
        as_user "${PODMAN[@]}" rm -f -t 0 pea-net-bench >/dev/null 2>&1 || true
        as_user "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
        as_user "$WORK/pea" system migrate >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT
as_user mkdir -p -m 700 "$WORK/home" "$WORK/run"

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'
}

# Reads the whole stream from 127.0.0.1:$1 and prints the MB/s (0 on failure).
measure() { # port
        local t0 t1 bytes _
        for _ in $(seq 100); do
                t0=$EPOCHREALTIME
                bytes=$(timeout 120 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; cat <&3" 2>/dev/null |
                        wc -c)
                t1=$EPOCHREALTIME
                if [ "$bytes" -ge $((MB * 1024 * 1024)) ]; then
                        echo "$(echo "$bytes / 1048576 / ($t1 - $t0)" | bc -l) $bytes"
                        return 0
                fi
                sleep 0.1
        done
        echo "0 0"
}

one() { # name engine...
        local name=$1 port res
        shift
        port=$(free_port)
        as_user "$@" pull -q --tls-verify=false "$REG/busybox" >/dev/null
        as_user "$@" run -d --name pea-net-bench -p "$port:5001" "$REG/busybox" sh -c \
                "while true; do head -c $((MB * 1024 * 1024)) /dev/zero | nc -l -p 5001; done" \
                >/dev/null
        res=$(measure "$port")
        as_user "$@" rm -f pea-net-bench >/dev/null 2>&1 || true
        printf '%-10s %12.1f %14s\n' "$name" "${res%% *}" "${res##* }"
}

printf '%-10s %12s %14s\n' "engine" "MB/s" "bytes"
one pea "$WORK/pea"
one podman "${PODMAN[@]}"
echo "(one run each: ${MB} MiB container -> host through -p on 127.0.0.1, slirp4netns)"
