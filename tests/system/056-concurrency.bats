#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Concurrency and crashes: parallel run -d / rm -f loops, 200 containers
# started at once, kill -9 of the CLI and the monitor at random points, and a
# "reboot" (runtime dir wiped). What ps -a says must be what is real, and
# rm -f must leave no row, mount or process behind.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        [ -n "${PEA_REGISTRY:-}" ] || return 0
        pea_opts_init
        "$PEA" "${PEA_OPTS[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/busybox" >/dev/null
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
        pea_opts_init
}

teardown() {
        pea_opts_init
        local ids
        ids=$("$PEA" "${PEA_OPTS[@]}" ps -a -q --filter name=conc- 2>/dev/null) || true
        # shellcheck disable=SC2086
        [ -z "$ids" ] || "$PEA" "${PEA_OPTS[@]}" rm -f $ids >/dev/null 2>&1 || true
        kill_strays
}

# The global flags run_pea adds, for direct calls: PEA_OPTS.
pea_opts_init() {
        PEA_OPTS=()
        [ -n "${PEA_TEST_ROOT:-}" ] && PEA_OPTS+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && PEA_OPTS+=(--runroot "$PEA_TEST_RUNROOT")
        return 0
}

# The runtime dir pea uses.
run_root() {
        if [ -n "${PEA_TEST_RUNROOT:-}" ]; then
                echo "$PEA_TEST_RUNROOT"
        else
                "$PEA" info --format '{{.Store.RunRoot}}'
        fi
}

kill_strays() {
        local p
        for p in $(pgrep -f '^sleep 42[0-9][0-9]$' || true); do
                # only processes whose owner we are (or that our user namespace maps)
                kill -9 "$p" 2>/dev/null || true
        done
}

# Fails when a row named conc-*, a mount of one of the IDs or a process is left.
assert_clean() { # ids...
        run_pea ps -a -q --filter name=conc-
        is "$output" "" "ps -a lists no test container"
        run_pea unshare cat /proc/self/mountinfo
        local id
        for id in "$@"; do
                [[ $output != *"$id"* ]] || die "a mount of $id is left"
        done
        local p
        p=$(pgrep -f '^sleep 42[0-9][0-9]$' || true)
        [ -z "$p" ] || die "processes left: $(ps -o pid,user,args -p "${p//$'\n'/,}")"
        for id in "$@"; do
                p=$(pgrep -f -- "$id" || true)
                [ -z "$p" ] || die "processes of $id left: $(ps -o pid,args -p "${p//$'\n'/,}")"
        done
}

@test "concurrency: 50 parallel run -d + rm -f loops leave nothing behind" {
        local dir=$BATS_TEST_TMPDIR i
        for i in $(seq 50); do
                (
                        for round in 1 2; do
                                out=$("$PEA" "${PEA_OPTS[@]}" run -d --network none --name "conc-$i" "$IMAGE" sleep 4201 2>&1) ||
                                        { echo "run $i.$round: $out" >>"$dir/errors"; continue; }
                                echo "$out" >>"$dir/ids.$i"
                                "$PEA" "${PEA_OPTS[@]}" rm -f "conc-$i" >/dev/null 2>>"$dir/errors" ||
                                        echo "rm $i.$round failed" >>"$dir/errors"
                        done
                ) &
        done
        wait
        [ ! -s "$dir/errors" ] || die "failures: $(cat "$dir/errors")"
        local ids
        ids=$(cat "$dir"/ids.* | tr '\n' ' ')
        is "$(wc -w <<<"$ids")" "100" "100 containers ran"
        # shellcheck disable=SC2086
        assert_clean $ids
}

@test "concurrency: 200 run -d at once all succeed" {
        local dir=$BATS_TEST_TMPDIR
        # shellcheck disable=SC2016
        seq 200 | timeout 300 xargs -P 200 -I{} sh -c '
                out=$("$0" "$@" run -d --network none --name conc-200-{} "'"$IMAGE"'" sleep 4202 2>&1) ||
                        echo "conc-200-{}: $out" >>"'"$dir"'/errors"' "$PEA" "${PEA_OPTS[@]}"
        if [ -s "$dir/errors" ]; then
                grep -q 'database is locked' "$dir/errors" && die "database is locked: $(head -5 "$dir/errors")"
                die "$(wc -l <"$dir/errors") failed: $(head -5 "$dir/errors")"
        fi
        run_pea ps -q --no-trunc --filter name=conc-200-
        is "${#lines[@]}" "200" "200 running"
        local ids=$output
        is "$(pgrep -c -f '^sleep 4202$')" "200" "200 processes"
        # shellcheck disable=SC2086
        echo $ids | timeout 300 xargs -n 10 -P 8 "$PEA" "${PEA_OPTS[@]}" rm -f >/dev/null
        # shellcheck disable=SC2086
        assert_clean $ids
}

@test "crash: kill -9 of the CLI and the monitor at random points; ps -a is real; rm -f cleans" {
        local i pid ids=() delay
        for i in $(seq 12); do
                "$PEA" "${PEA_OPTS[@]}" run -d --network none --name "conc-crash-$i" "$IMAGE" sleep 4203 >/dev/null 2>&1 &
                pid=$!
                # somewhere between 0 and ~400 ms into run -d
                delay=$(printf '0.%03d' $((RANDOM % 400)))
                sleep "$delay"
                kill -9 "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        # kill -9 some monitors too (every other running container)
        run_pea ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Pid}}' --filter name=conc-crash-
        local id name cpid mon n=0
        while read -r id name cpid; do
                [ -n "$id" ] || continue
                ids+=("$id")
                [ "$cpid" -gt 0 ] 2>/dev/null || continue
                n=$((n + 1))
                [ $((n % 2)) -eq 0 ] || continue
                mon=$(awk '{ print $4 }' "/proc/$cpid/stat" 2>/dev/null) || continue
                [ "$mon" -gt 1 ] && kill -9 "$mon"
                # and on every fourth also the container's process
                [ $((n % 4)) -eq 0 ] && kill -9 "$cpid"
        done <<<"$output"
        sleep 0.5

        # ps -a tells the truth: running <=> the process is alive
        run_pea inspect --format '{{.Name}} {{.State.Status}} {{.State.Pid}}' "${ids[@]}"
        local state
        while read -r name state cpid; do
                [ -n "$name" ] || continue
                case $state in
                running)
                        kill -0 "$cpid" 2>/dev/null || die "$name: running, but pid $cpid is gone"
                        [[ $(tr '\0' ' ' <"/proc/$cpid/cmdline") == "sleep 4203 " ]] ||
                                die "$name: pid $cpid is not the container's process"
                        ;;
                exited | stopped | created) [ "$cpid" = 0 ] || die "$name: $state with pid $cpid" ;;
                *) die "$name: unexpected state $state" ;;
                esac
        done <<<"$output"

        # rm -f cleans everything, whatever state each one is in
        run_pea rm -f "${ids[@]}"
        assert_clean "${ids[@]}"
}

@test "crash: after a reboot (runtime dir wiped) containers show as stopped and start again" {
        local i ids=()
        for i in 1 2 3; do
                run_pea run -d --network none --name "conc-boot-$i" "$IMAGE" sleep 4204
                ids+=("$output")
        done
        run_pea create --network none --name conc-boot-created "$IMAGE" sleep 4204
        local rr
        rr=$(run_root)
        [ -d "$rr" ] || die "no runtime dir '$rr'"
        # the "reboot": every process dies, every mount goes, the tmpfs is empty
        local pid
        for pid in $(pgrep -f '^sleep 4204$'); do
                kill -9 "$(awk '{ print $4 }' "/proc/$pid/stat")" "$pid" 2>/dev/null || true
        done
        if is_rootless; then
                # the user namespace holder keeps the mounts: it goes too
                [ -f "$rr/userns.pid" ] && kill -9 "$(cat "$rr/userns.pid")" 2>/dev/null
        else
                local id m
                for id in "${ids[@]}"; do
                        awk -v id="$id" 'index($5, id) { print $5 }' /proc/self/mountinfo | sort -r |
                                while read -r m; do umount -l "$m" || true; done
                done
        fi
        sleep 0.3
        find "$rr" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true

        run_pea inspect --format '{{.Name}} {{.State.Status}} {{.State.Pid}}' conc-boot-1 \
                conc-boot-2 conc-boot-3 conc-boot-created
        local name state
        while read -r name state pid; do
                case $name in
                conc-boot-created) is "$state $pid" "created 0" "$name" ;;
                *) [[ $state == exited || $state == stopped ]] || die "$name: $state after reboot"
                        is "$pid" "0" "$name: no pid" ;;
                esac
        done <<<"$output"
        is "${#lines[@]}" "4" "four containers"

        run_pea start conc-boot-1 conc-boot-2 conc-boot-3 conc-boot-created
        run_pea ps --format '{{.Names}}' --filter name=conc-boot-
        is "${#lines[@]}" "4" "all four run again"
        run_pea inspect --format '{{.State.Pid}}' conc-boot-1
        kill -0 "$output" || die "conc-boot-1's process is not alive"
        run_pea rm -f conc-boot-1 conc-boot-2 conc-boot-3 conc-boot-created
        assert_clean "${ids[@]}"
}
