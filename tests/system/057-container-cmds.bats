#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Container commands: wait, top, rename, pause/unpause, the container group
# (exists, prune, ls), and events.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        [ -n "${PEA_REGISTRY:-}" ] || return 0
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/busybox" >/dev/null
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
}

teardown() {
        run_pea '?' rm -f cc-w1 cc-w2 cc-w3 cc-top cc-r1 cc-r2 cc-other cc-p1 cc-p2 cc-p3 \
                cc-run cc-pause cc-ev cc-ev2 cc-evs
}

# wait_for_status NAME REGEX: polls ps -a until the Status matches (5 s).
wait_for_status() {
        local _
        for _ in $(seq 50); do
                run_pea ps -a --format '{{.Status}}' --filter name="$1"
                [[ $output =~ $2 ]] && return 0
                sleep 0.1
        done
        die "container $1: status '$output' does not match '$2'"
}

# The freezer: root can always use it here; rootless only with a delegated cgroup v2.
pause_or_skip() { # name
        run_pea '?' pause "$1"
        local rc=$status out=$output
        if [ "$rc" -ne 0 ] && is_rootless &&
                [[ $out == *"rootless containers have no cgroup pea may write"* ]]; then
                skip "rootless pause needs a writable cgroup (cgroup v2 with delegation); this host has none"
        fi
        [ "$rc" -eq 0 ] || die "pause failed: $out"
}

@test "wait: exit codes, several containers, conditions, errors" {
        run_pea run -d --network none --name cc-w1 "$IMAGE" sh -c 'sleep 0.5; exit 3'
        run_pea run -d --network none --name cc-w2 "$IMAGE" sh -c 'exit 7'
        run_pea wait cc-w1 cc-w2
        is "${lines[0]}" "3" "cc-w1's exit code"
        is "${lines[1]}" "7" "cc-w2's exit code"
        is "${#lines[@]}" "2" "one line per container"
        run_pea inspect --format '{{.State.Status}} {{.State.ExitCode}}' cc-w1
        is "$output" "exited 3" "wait returned after the exit was recorded"

        run_pea create --network none --name cc-w3 "$IMAGE" true
        run_pea wait cc-w3
        is "$output" "0" "a created container counts as stopped"

        run_pea run -d --network none --name cc-top "$IMAGE" sleep 1000
        run_pea wait --condition running --interval 50ms cc-top
        is "$output" "-1" "a state that is no exit prints -1, as podman"
        run_pea wait --condition=stopped,running -i 100 cc-top
        is "$output" "-1" "conditions may be a list; -i takes milliseconds"

        run_pea 125 wait --condition bogus cc-top
        is "$output" "Error: unknown container state: bogus: invalid argument"
        run_pea 125 wait cc-no-such
        is "$output" ".*no container with name or ID .?cc-no-such.? found.*"
        run_pea 125 wait
        is "$output" "Error: \`pea wait\` requires at least 1 argument"
        run_pea 125 wait --interval xyz cc-top
        is "$output" "Error: invalid duration 'xyz'"
}

@test "top: the container's processes from /proc, descriptors" {
        run_pea run -d --network none --name cc-top "$IMAGE" sh -c 'sleep 1001 & exec sleep 1000'
        run_pea inspect --format '{{.State.Pid}}' cc-top
        local hpid=$output
        local _
        for _ in $(seq 50); do
                run_pea top cc-top
                [ "${#lines[@]}" -ge 3 ] && break
                sleep 0.1
        done
        is "${lines[0]}" "USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND" "podman's header"
        is "${lines[1]}" "root +1 +0 +[0-9]+\.[0-9]{3} +[0-9.]+(ms|s|m[0-9.]+s) +\? +0s +sleep 1000" \
                "pid 1 of the container"
        is "${lines[2]}" "root +[0-9]+ +1 +.* +sleep 1001" "its child"
        is "${#lines[@]}" "3" "only the container's processes"

        run_pea top cc-top hpid,pid comm
        is "${lines[0]}" "HPID +PID +COMMAND"
        is "${lines[1]}" "$hpid +1 +sleep" "hpid is the host pid"
        # cross-check the child against /proc on the host
        local child_hpid
        child_hpid=$(awk '{ print $1 }' <<<"${lines[2]}")
        is "$(tr '\0' ' ' <"/proc/$child_hpid/cmdline")" "sleep 1001 " "/proc agrees"
        is "$(awk '{ print $4 }' "/proc/$child_hpid/stat")" "$hpid" "its parent is pid 1"

        run_pea top cc-top '%p' '%U' seccomp state
        is "${lines[0]}" "PID +USER +SECCOMP +STATE"
        is "${lines[1]}" "1 +root +filter +S"

        # not descriptors: ps(1) inside the container gets them, as podman does
        run_pea top cc-top -o pid,comm
        is "${lines[0]}" " *PID +COMMAND" "busybox ps's header"
        is "${lines[1]}" " *1 +sleep" "ps ran in the container's pid namespace"
        run_pea 125 top cc-top --bogus
        is "$output" "Error: unknown descriptor: --bogus"
        run_pea stop -t 0 cc-top
        run_pea 125 top cc-top
        is "$output" "Error: top can only be used on running containers"
}

@test "rename: running and stopped containers, taken and invalid names" {
        run_pea run -d --network none --name cc-r1 "$IMAGE" sleep 1000
        local id=$output
        run_pea create --network none --name cc-other "$IMAGE" true
        run_pea rename cc-r1 cc-r2
        is "$output" "" "rename prints nothing"
        run_pea inspect --format '{{.Id}} {{.Name}} {{.State.Status}}' cc-r2
        is "$output" "$id cc-r2 running" "same container, new name, still running"
        run_pea 1 container exists cc-r1

        run_pea 125 rename cc-r2 cc-other
        is "$output" "Error: renaming container $id: name cc-other already in use, .*container already exists"
        run_pea 125 rename cc-r2 'bad name!'
        is "$output" "Error: names must match \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\*: invalid argument"
        run_pea 125 rename cc-no-such cc-x
        is "$output" ".*no container with name or ID .?cc-no-such.? found.*"
        run_pea stop -t 0 cc-r2
        run_pea rename "${id:0:12}" cc-r1
        run_pea ps -a --format '{{.Names}}' --filter id="$id"
        is "$output" "cc-r1" "renamed by ID prefix while stopped"
}

@test "container: the group, exists, ls, prune with filters" {
        run_pea container --help
        local c
        for c in attach commit cp create diff exec exists export inspect kill list logs ls pause port prune ps \
                rename restart rm run start stop top unpause wait; do
                [[ $output == *"  $c "* ]] || die "container --help does not list $c"
        done
        run_pea 125 container
        run_pea 125 container frobnicate
        is "$output" "Error: unrecognized command \`pea container frobnicate\`"

        run_pea container run -d --network none --name cc-p1 --label keep=yes "$IMAGE" sleep 1000
        local running=$output
        run_pea container create --network none --name cc-p2 --label tier=a "$IMAGE" true
        local p2=$output
        run_pea container run --network none --name cc-p3 --label tier=b "$IMAGE" true
        run_pea ps -a -q --no-trunc --filter name=cc-p3
        local p3=$output

        run_pea container exists cc-p1
        run_pea container exists "${running:0:10}"
        run_pea 1 container exists cc-no-such
        is "$output" "" "exists prints nothing"

        run_pea container ls --format '{{.Names}}' --filter name=cc-p --filter status=running
        is "$output" "cc-p1" "container ls = ps"
        run_pea container list -a --format '{{.Names}}' --filter name=cc-p
        is "$(sort <<<"$output" | tr '\n' ' ')" "cc-p1 cc-p2 cc-p3 " "container list -a"

        run_pea container prune -f --filter label=tier=b
        is "$output" "$p3" "only the matching container"
        run_pea 1 container exists cc-p3
        run_pea container exists cc-p2
        run_pea container prune -f --filter label!=tier=zzz --filter until=1h
        is "$output" "" "until=1h: nothing created an hour ago"
        run_pea 125 container prune -f --filter colour=red
        is "$output" "Error: colour=red is an invalid filter"
        run_pea container prune <<<"n"
        is "$output" "WARNING! This will remove all non running containers.*" "asks first"
        run_pea container exists cc-p2
        run_pea container prune -f
        [[ $output == *"$p2"* ]] || die "prune did not remove cc-p2"
        [[ $output != *"$running"* ]] || die "prune removed a running container"
        run_pea 1 container exists cc-p2
        run_pea container exists cc-p1
        run_pea container inspect --format '{{.State.Status}}' cc-p1
        is "$output" "running"
}

# bats test_tags=rootful
@test "pause/unpause: frozen processes, ps, stop of a paused container" {
        run_pea run -d --network none --name cc-pause "$IMAGE" sh -c 'while :; do date +%s%N > /tmp/tick; sleep 0.05; done'
        run_pea inspect --format '{{.State.Pid}}' cc-pause
        local pid=$output
        pause_or_skip cc-pause
        is "$output" "cc-pause" "pause prints the name"
        run_pea inspect --format '{{.Name}} {{.State.Status}} {{.State.Paused}}' cc-pause
        is "$output" "cc-pause paused true"
        run_pea ps -a --filter name=cc-pause --format '{{.Status}}'
        is "$output" "Paused" "ps shows podman's Paused"
        # the kernel says frozen: the process's cgroup is pea's freezer cgroup, and it is FROZEN
        local cg
        if grep -q freezer "/proc/$pid/cgroup"; then
                cg=/sys/fs/cgroup/freezer$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")
                is "$(cat "$cg/freezer.state")" "FROZEN" "freezer.state"
        else
                cg=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
                is "$(cat "$cg/cgroup.freeze")" "1" "cgroup.freeze"
        fi
        [[ $cg == *pea-* ]] || die "pid $pid is not in pea's freezer cgroup: $cg"
        local t1 t2
        t1=$(cat "/proc/$pid/root/tmp/tick")
        sleep 0.3
        t2=$(cat "/proc/$pid/root/tmp/tick")
        is "$t2" "$t1" "the loop does not run while paused"
        run_pea 125 pause cc-pause
        is "$output" 'Error: "paused" is not running, can'"'"'t pause: container state improper'

        run_pea unpause cc-pause
        is "$output" "cc-pause"
        sleep 0.3
        [ "$(cat "/proc/$pid/root/tmp/tick")" != "$t2" ] || die "the loop did not resume"
        [ -d "$cg" ] && die "the freezer cgroup $cg is left"
        run_pea inspect --format '{{.Name}} {{.State.Status}} {{.State.Paused}}' cc-pause
        is "$output" "cc-pause running false"
        run_pea 125 unpause cc-pause
        is "$output" "Error: \"[0-9a-f]{64}\" is not paused, can't unpause: container state improper"

        pause_or_skip cc-pause
        run_pea stop -t 1 cc-pause
        wait_for_status cc-pause "Exited"
        kill -0 "$pid" 2>/dev/null && die "pid $pid survived stop of a paused container"
        run_pea rm cc-pause
}

@test "pause: rootless on cgroup v1 gives one clear error" {
        is_rootless || skip "rootless only"
        grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts && skip "cgroup v2 host"
        run_pea run -d --network none --name cc-pause "$IMAGE" sleep 1000
        run_pea 125 pause cc-pause
        is "${#lines[@]}" "1" "one line"
        is "$output" "Error: pausing container 'cc-pause': rootless containers have no cgroup pea may write on cgroup v1 .*pause needs root.*"
        run_pea inspect --format '{{.State.Status}}' cc-pause
        is "$output" "running" "still running"
}

@test "events: the journal, formats, filters, since/until, streaming" {
        local t0
        t0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
        run_pea run -d --network none --name cc-ev --label app=ev "$IMAGE" sleep 1000
        local id=$output
        run_pea rename cc-ev cc-ev2
        run_pea stop -t 0 cc-ev2
        run_pea rm cc-ev2

        run_pea events --stream=false --since "$t0" --filter container="$id" --format '{{.Status}}'
        is "$(tr '\n' ' ' <<<"$output")" "create init start rename died stop remove " "the life of cc-ev"
        run_pea events --stream=false --since "$t0" --filter event=create --filter type=container
        is "$output" "[0-9-]{10} [0-9:.]+ \+0000 UTC container create $id \(image=$IMAGE:latest, name=cc-ev, app=ev\)" \
                "podman's text line"
        run_pea events --stream=false --since "$t0" --filter event=rename --format json
        json_valid "$output"
        is "$(jq -r '.ID + " " + .Name + " " + .Status + " " + .Type + " " + .Attributes.app' <<<"$output")" \
                "$id cc-ev2 rename container ev"
        run_pea events --stream=false --since "$t0" --filter event=died --format '{{.ContainerExitCode}}'
        is "$output" "137" "died carries the exit code"
        run_pea events --stream=false --since "$t0" --filter label=app=ev --filter event=start \
                --no-trunc=false --format '{{.ID}}'
        is "$output" "$id" "template .ID is the full ID"
        run_pea events --stream=false --since "$t0" --filter event=start --no-trunc=false
        is "$output" ".* container start ${id:0:12} \(.*" "--no-trunc=false: 12 characters"
        run_pea events --stream=false --until "$t0" --filter container="$id"
        is "$output" "" "--until before everything"
        run_pea events --stream=false --since 1h --filter container=cc-ev2 --format '{{.Status}}'
        is "$(tr '\n' ' ' <<<"$output")" "rename died stop remove " "container= matches names too"
        # images and volumes
        run_pea tag "$IMAGE" cc-evtag:1
        run_pea untag "$IMAGE" cc-evtag:1
        run_pea volume create cc-evvol
        run_pea volume rm cc-evvol
        run_pea events --stream=false --since "$t0" --filter type=image --filter type=volume \
                --format '{{.Type}} {{.Status}} {{.Name}}'
        is "$(tr '\n' ' ' <<<"$output")" \
                "image tag localhost/cc-evtag:1 image untag localhost/cc-evtag:1 volume create cc-evvol volume remove cc-evvol " \
                "image and volume events"
        run_pea events --stream=false --since "$t0" --filter volume=cc-evvol
        is "${lines[0]}" "[0-9-]{10} [0-9:.]+ \+0000 UTC volume create cc-evvol" "a volume's text line"

        run_pea 125 events --stream=false --filter colour=red
        is "$output" "Error: 'colour=red' is an invalid filter"
        run_pea 125 events --since yesterday
        is "$output" "Error: invalid time 'yesterday'"

        # the journal: one JSON object per line, under the runtime dir
        local log
        log=$(find "${PEA_TEST_RUNROOT:-$XDG_RUNTIME_DIR}" -path '*/events/events.log' 2>/dev/null | head -n1)
        [ -n "$log" ] || skip "cannot find the runtime dir's events.log"
        while IFS= read -r line; do
                jq -e . >/dev/null <<<"$line" || die "not JSON: $line"
        done <"$log"

        # streaming (the default) until the --until time, seeing events written meanwhile
        local until out
        until=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
        out=$BATS_TEST_TMPDIR/stream
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        timeout 20 "$PEA" "${opts[@]}" events --since 1s --until "$until" --filter event=create \
                --format '{{.Name}}' >"$out" &
        local bg=$!
        sleep 0.5
        run_pea create --network none --name cc-evs "$IMAGE" true
        wait "$bg" || die "events --until did not end by itself"
        is "$(cat "$out")" "cc-evs" "the streamed event"
}
