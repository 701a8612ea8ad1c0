#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The container lifecycle through the per-container monitor: run -d, ps,
# inspect, logs, stop, kill, start, rm -f; podman's Status wording; a
# container whose monitor and process were killed shows what is real.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        busybox_setup
}

teardown() {
        run_pea '?' rm -f inspector lc-json lc-crash lc-kill lc-created
}

# The PPID of pid: the container's monitor.
ppid_of() {
        awk '{ print $4 }' "/proc/$1/stat"
}

@test "lifecycle: the seed exercise (run -d, ps, inspect, logs, stop, start, rm)" {
        run_pea run -d --name inspector "$IMAGE" sh -c 'echo hello from inspector; exec sleep 1000'
        is "$output" "[0-9a-f]{64}" "run -d prints the full ID"
        local id=$output

        run_pea ps --format '{{.Names}} {{.Status}}' --filter name=inspector
        is "$output" "inspector Up ([0-9]+ seconds?|Less than a second)" "ps: Up"
        run_pea ps --filter name=inspector
        is "${lines[0]}" "CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES" "ps header"
        is "${lines[1]}" "${id:0:12} +$IMAGE:latest +sh -c echo hello.{4} +.* ago +Up .* +inspector" \
                "ps row"

        run_pea inspect --format '{{.State.Pid}}' inspector
        local pid=$output
        is "$pid" "[1-9][0-9]*" "inspect: a pid"
        kill -0 "$pid" || die "the container's pid $pid is not alive"
        [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
                die "the container shares the host's network namespace"
        run_pea inspect --format '{{.State.Status}} {{.State.Running}} {{.Name}} {{.Id}}' inspector
        is "$output" "running true inspector $id"

        local _
        for _ in $(seq 50); do
                run_pea logs inspector
                [ -n "$output" ] && break
                sleep 0.1
        done
        is "$output" "hello from inspector" "logs"
        run_pea logs -t inspector
        is "$output" "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[-+Z][0-9:]* hello from inspector" "logs -t"

        # sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL after -t
        run_pea stop -t 1 inspector
        is "$output" "inspector" "stop prints the name"
        kill -0 "$pid" 2>/dev/null && die "pid $pid still alive after stop"
        run_pea ps --format '{{.Names}}' --filter name=inspector --filter status=running
        is "$output" "" "ps: only running containers"
        run_pea ps --format '{{.Names}}'
        [[ $output != *inspector* ]] || die "ps lists a stopped container"
        run_pea ps -a --format '{{.Names}} {{.Status}}' --filter name=inspector
        is "$output" "inspector Exited \(137\) .* ago" "ps -a: Exited"
        run_pea inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' inspector
        is "$output" "exited 137 0"

        run_pea start inspector
        is "$output" "inspector" "start prints the name"
        run_pea ps --format '{{.Names}} {{.Status}}' --filter name=inspector
        is "$output" "inspector Up ([0-9]+ seconds?|Less than a second)" "ps: Up again"
        run_pea inspect --format '{{.State.Pid}}' inspector
        [ "$output" != "$pid" ] || die "start reused the old pid"
        kill -0 "$output" || die "the restarted container's pid is not alive"

        run_pea rm -f inspector
        run_pea ps -a -q --filter name=inspector
        is "$output" "" "rm -f leaves no row"
        run_pea unshare cat /proc/self/mountinfo
        [[ $output != *"$id"* ]] || die "a mount of $id is left"
}

@test "lifecycle: ps --format json, -q, --filter, --no-trunc, -n; inspect JSON" {
        run_pea run -d --name lc-json --label app=pea "$IMAGE" sleep 1000
        local id=$output
        run_pea create --name lc-created "$IMAGE" true
        run_pea ps -a --format json
        json_valid "$output"
        is "$(jq -r '.[] | select(.Names[0] == "lc-json") | .State + " " + .Id' <<<"$output")" \
                "running $id"
        is "$(jq -r '.[] | select(.Names[0] == "lc-created") | .State' <<<"$output")" "created"
        run_pea ps -a --format '{{.Names}} {{.Status}}' --filter name=lc-created
        is "$output" "lc-created Created"
        run_pea ps -q --filter name=lc-json
        is "$output" "${id:0:12}"
        run_pea ps -q --no-trunc --filter status=running --filter label=app=pea
        is "$output" "$id"
        run_pea ps -a -n 1 --format '{{.Names}}'
        is "$output" "lc-created" "-n 1: the newest"
        run_pea ps -a -l --format '{{.Names}}'
        is "$output" "lc-created" "-l: the latest"
        run_pea ps -a --filter id="${id:0:8}" --format '{{.Names}} {{.Command}}'
        is "$output" "lc-json sleep 1000"

        run_pea inspect lc-json lc-created
        json_valid "$output"
        is "$(jq -r 'length' <<<"$output")" "2"
        is "$(jq -r '.[0].Config.Labels.app + " " + .[0].Path + " " + (.[0].Args | join(","))' \
                <<<"$output")" "pea sleep 1000"
        run_pea 125 inspect no-such-thing
        is "${lines[-1]}" 'Error: inspecting object: no such object: "no-such-thing"'
        run_pea inspect --type image --format '{{.Id}}' "$IMAGE"
        is "$output" "[0-9a-f]{64}" "inspect --type image"
}

@test "lifecycle: kill -s, rm of a running container needs -f" {
        run_pea run -d --name lc-kill "$IMAGE" sleep 1000
        run_pea 125 rm lc-kill
        is "$output" ".*cannot remove container .* as it is running.*"
        run_pea kill -s TERM lc-kill
        is "$output" "lc-kill"
        # PID 1 ignores SIGTERM: still up
        sleep 0.3
        run_pea ps --format '{{.Names}}' --filter name=lc-kill
        is "$output" "lc-kill"
        run_pea kill lc-kill
        local _
        for _ in $(seq 50); do
                run_pea ps -a --format '{{.Names}} {{.Status}}' --filter name=lc-kill
                [[ $output == *Exited* ]] && break
                sleep 0.1
        done
        is "$output" "lc-kill Exited \(137\) .* ago"
        run_pea 125 kill lc-kill
        is "$output" ".*can only kill running containers.*"
}

@test "lifecycle: a killed monitor and container show as exited; rm -f cleans" {
        run_pea run -d --name lc-crash "$IMAGE" sleep 1000
        local id=$output
        run_pea inspect --format '{{.State.Pid}}' lc-crash
        local pid=$output monitor
        monitor=$(ppid_of "$pid")
        [ "$monitor" -gt 1 ] || die "no monitor for pid $pid"
        kill -9 "$monitor" "$pid"
        local _
        for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        run_pea ps -a --format '{{.Names}} {{.Status}}' --filter name=lc-crash
        is "$output" "lc-crash Exited \(-?[0-9]+\) .* ago" "ps -a after kill -9"
        run_pea inspect --format '{{.State.Status}} {{.State.Running}} {{.State.Pid}}' lc-crash
        is "$output" "exited false 0"
        run_pea rm -f lc-crash
        run_pea ps -a -q --filter name=lc-crash
        is "$output" ""
        run_pea unshare cat /proc/self/mountinfo
        [[ $output != *"$id"* ]] || die "a mount of $id is left"
}
