#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# exec, attach, start -a, restart, restart policies, healthchecks, log
# rotation and --stop-signal: the monitor's lifecycle settings end to end.

# shellcheck disable=SC2016 # $ in single quotes is for the container's sh

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        busybox_setup
}

teardown() {
        run_pea '?' rm -f ex-1 at-1 at-2 rs-fail rs-always rs-unless hc-1 hc-kill hc-none \
                lg-1 st-1 sa-1
}

# Polls "inspect --format FMT NAME" until it matches REGEX (about 20 s).
wait_inspect() {
        local fmt=$1 name=$2 regex=$3 _
        for _ in $(seq 100); do
                run_pea '?' inspect --format "$fmt" "$name"
                [[ "$output" =~ ^$regex$ ]] && return 0
                sleep 0.2
        done
        die "inspect $fmt $name: '$output' never matched '$regex'"
}

@test "exec: exit codes 0, 7, 126, 127 and a stopped container (125)" {
        run_pea run -d --network none --name ex-1 --hostname exhost "$IMAGE" sleep 1000
        run_pea exec ex-1 true
        run_pea 7 exec ex-1 sh -c 'exit 7'
        run_pea 126 exec ex-1 /etc
        is "$output" "Error: .*/etc.*" "126: the path in the message"
        run_pea 127 exec ex-1 no-such-command
        is "$output" "Error: .*no-such-command.*not found.*" "127: podman's wording"
        run_pea 125 exec ex-1
        is "$output" "Error: you must provide a command to exec"
        run_pea stop -t 0 ex-1
        run_pea 125 exec ex-1 true
        is "$output" "Error: can only create exec sessions on running containers: container state improper"
}

@test "exec: -e, --env-file, -u, -w, the container's env, pid namespace and hostname" {
        run_pea run -d --network none --name ex-1 --hostname exhost -e FROMRUN=yes "$IMAGE" sleep 1000
        local pid
        run_pea inspect --format '{{.State.Pid}}' ex-1
        pid=$output
        run_pea exec -e FOO=bar -u nobody -w /tmp ex-1 sh -c 'echo "$FOO $FROMRUN $(id -u) $(pwd) $(hostname)"'
        is "$output" "bar yes 65534 /tmp exhost"
        printf 'A=1\n# comment\nB=two\n' >"$BATS_TEST_TMPDIR/env"
        run_pea exec --env-file "$BATS_TEST_TMPDIR/env" ex-1 sh -c 'echo $A$B'
        is "$output" "1two"
        # the container's init is pid 1 in the exec's pid namespace
        run_pea exec ex-1 cat /proc/1/cmdline
        is "$output" "sleep.?1000"
        run_pea exec ex-1 sh -c 'for n in pid mnt uts; do readlink /proc/self/ns/$n; done'
        local want
        want=$(readlink "/proc/$pid/ns/pid" "/proc/$pid/ns/mnt" "/proc/$pid/ns/uts" | tr '\n' ' ')
        is "$(echo "$output" | tr '\n' ' ')" "$want" "same namespaces as the container"
        # the container's capabilities and seccomp filter
        run_pea exec ex-1 grep -E '^(CapBnd|Seccomp):' /proc/self/status
        local cap
        cap=$(grep '^CapBnd:' "/proc/$pid/status")
        is "${lines[0]}" "$cap" "the container's bounding set"
        is "${lines[1]}" "Seccomp:[[:space:]]+2" "a seccomp filter"
        run_pea exec --privileged ex-1 grep '^Seccomp:' /proc/self/status
        is "$output" "Seccomp:[[:space:]]+0" "--privileged: no filter"
}

@test "exec: -t allocates a terminal, -i passes stdin, -d returns at once" {
        run_pea run -d --network none --name ex-1 "$IMAGE" sleep 1000
        local out
        out=$(script -qc "$PEA ${PEA_TEST_ROOT:+--root $PEA_TEST_ROOT} ${PEA_TEST_RUNROOT:+--runroot $PEA_TEST_RUNROOT} exec -t ex-1 sh -c 'tty; echo \$TERM'" /dev/null </dev/null)
        is "$(echo "$out" | tr -d '\r' | head -1)" "/dev/pts/[0-9]+" "exec -t: a pty"
        is "$(echo "$out" | tr -d '\r' | sed -n 2p)" "xterm" "exec -t: TERM"
        run_pea '?' exec ex-1 tty
        is "$output" "not a tty" "no terminal without -t"
        run bash -c "echo piped | $(printf '%q ' "$PEA" ${PEA_TEST_ROOT:+--root "$PEA_TEST_ROOT"} ${PEA_TEST_RUNROOT:+--runroot "$PEA_TEST_RUNROOT"}) exec -i ex-1 cat"
        is "$output" "piped" "exec -i: stdin"
        run_pea exec -d ex-1 sleep 30
        is "$output" "[0-9a-f]{64}" "exec -d: a session ID"
        run_pea exec ex-1 ps -o args
        is "$output" ".*sleep 30.*" "the detached process runs"
}

@test "attach: output, the exit code, detach keys" {
        run_pea run -d --network none --name at-1 "$IMAGE" sh -c 'sleep 1; echo one; echo two >&2; sleep 1; exit 3'
        run_pea 3 attach at-1
        is "$output" ".*one.*two.*" "attach: both streams"

        run_pea run -d -i --network none --name at-2 "$IMAGE" cat
        local fifo=$BATS_TEST_TMPDIR/in
        mkfifo "$fifo"
        # ctrl-p ctrl-q detaches; nothing is printed and the container still runs
        (
                sleep 1
                printf 'hello\n'
                sleep 1
                printf '\020\021'
                sleep 1
        ) >"$fifo" &
        run_pea attach at-2 <"$fifo"
        is "$output" "hello" "attach: stdin echoed by cat, nothing on detach"
        run_pea inspect --format '{{.State.Status}}' at-2
        is "$output" "running" "still running after the detach"
        (
                sleep 1
                printf 'x'
                sleep 1
                printf 'q'
                sleep 1
        ) >"$fifo" &
        run_pea attach --detach-keys x,q at-2 <"$fifo"
        is "$output" "" "custom detach keys"
        run_pea 125 attach --detach-keys ctrl-+ at-2
        run_pea stop -t 0 at-2
        run_pea 125 attach at-2
        is "$output" "Error: you can only attach to running containers"
}

@test "start -a: the container's output and exit code" {
        run_pea create --network none --name sa-1 "$IMAGE" sh -c 'echo started; exit 4'
        run_pea 4 start -a sa-1
        is "$output" "started"
        run_pea 4 start --attach sa-1
        is "$output" "started" "again"
}

@test "restart: a running container gets a new process" {
        run_pea run -d --network none --name at-1 "$IMAGE" sleep 1000
        run_pea inspect --format '{{.State.Pid}}' at-1
        local pid=$output
        run_pea restart -t 0 at-1
        is "$output" "at-1"
        run_pea inspect --format '{{.State.Status}} {{.State.Pid}}' at-1
        is "$output" "running [0-9]+"
        [ "${output#running }" != "$pid" ] || die "the pid did not change"
        run_pea 125 restart no-such-container
}

@test "restart policy: on-failure:3 restarts exactly 3 times" {
        run_pea run -d --network none --name rs-fail --restart on-failure:3 "$IMAGE" sh -c 'exit 3'
        wait_inspect '{{.RestartCount}} {{.State.Status}}' rs-fail "3 exited"
        sleep 1
        run_pea inspect --format '{{.RestartCount}} {{.State.ExitCode}} {{json .HostConfig.RestartPolicy}}' rs-fail
        is "$output" '3 3 {"Name":"on-failure","MaximumRetryCount":3}'
}

@test "restart policy: always restarts, unless-stopped not after stop" {
        run_pea run -d --network none --name rs-always --restart always "$IMAGE" sh -c 'sleep 0.3; exit 0'
        wait_inspect '{{ge .RestartCount 2}}' rs-always "true"
        run_pea inspect --format '{{.Id}}' rs-always
        local id=$output
        pgrep -f "pea-monitor --id=$id" >/dev/null || die "no monitor for rs-always"
        # rm -f ends the monitor too, also between two restarts
        run_pea rm -f rs-always
        sleep 0.5
        ! pgrep -f "pea-monitor --id=$id" >/dev/null || die "the monitor of rs-always still runs"

        run_pea run -d --network none --name rs-unless --restart unless-stopped "$IMAGE" sleep 1000
        run_pea stop -t 0 rs-unless
        sleep 1.5
        run_pea inspect --format '{{.State.Status}} {{.RestartCount}}' rs-unless
        is "$output" "exited 0" "not restarted after stop"
        run_pea inspect --format '{{.Id}}' rs-unless
        ! pgrep -f "pea-monitor --id=$output" >/dev/null || die "the monitor still runs after stop"
}

@test "healthcheck: turns unhealthy, healthcheck run, --health-on-failure=kill" {
        run_pea run -d --network none --name hc-1 --health-cmd 'test -e /tmp/ok' --health-interval 1s \
                --health-retries 2 "$IMAGE" sleep 1000
        run_pea inspect --format '{{json .Config.Healthcheck}}' hc-1
        is "$output" '.*"Test":\["CMD-SHELL","test -e /tmp/ok"\].*' "Healthcheck.Test"
        is "$output" '.*"Interval":1000000000.*' "Healthcheck.Interval"
        is "$output" '.*"Retries":2.*' "Healthcheck.Retries"
        wait_inspect '{{.State.Health.Status}}' hc-1 "unhealthy"
        run_pea ps --filter health=unhealthy --format '{{.Names}} {{.Status}}'
        is "$output" "hc-1 Up .* \(unhealthy\)"
        run_pea 1 healthcheck run hc-1
        is "$output" "unhealthy"
        run_pea exec hc-1 touch /tmp/ok
        run_pea healthcheck run hc-1
        is "$output" ""
        run_pea inspect --format '{{.State.Health.Status}}' hc-1
        is "$output" "healthy"

        run_pea run -d --network none --name hc-none "$IMAGE" sleep 1000
        run_pea 125 healthcheck run hc-none
        is "$output" "Error: container [0-9a-f]{64} has no defined healthcheck"
        run_pea stop -t 0 hc-none
        run_pea 125 healthcheck run hc-none
        is "$output" "Error: container [0-9a-f]{64} is not running"

        run_pea 125 run --rm --network none --no-healthcheck --health-cmd true "$IMAGE" true
        is "$output" "Error: cannot specify both --no-healthcheck and --health-cmd"
        run_pea 125 run --rm --network none --health-interval 1 "$IMAGE" true
        is "$output" 'Error: time: invalid duration "1"'
        run_pea 125 run --rm --network none --restart sometimes "$IMAGE" true

        run_pea run -d --network none --name hc-kill --health-cmd false --health-interval 1s --health-retries 1 \
                --health-on-failure kill "$IMAGE" sleep 1000
        wait_inspect '{{.State.Status}}' hc-kill "exited"
        run_pea inspect --format '{{.State.ExitCode}} {{.State.Health.Status}}' hc-kill
        is "$output" "137 unhealthy"
}

@test "log: --log-opt max-size truncates the k8s-file log" {
        run_pea run -d --network none --name lg-1 --log-opt max-size=2k "$IMAGE" \
                sh -c 'i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; sleep 1000'
        run_pea inspect --format '{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Size}} {{.LogPath}}' lg-1
        is "$output" "k8s-file 2.05kB .*"
        local log=${output##* }
        wait_inspect '{{.State.Status}}' lg-1 "running"
        sleep 1
        local size
        size=$(stat -c %s "$log")
        [ "$size" -le 2048 ] || die "the log is $size bytes, over max-size"
        run_pea logs lg-1
        is "${lines[-1]}" "line-399" "the newest lines are kept"
        run_pea 125 run --rm --network none --log-driver journald "$IMAGE" true
}

@test "stop: uses --stop-signal and --stop-timeout" {
        run_pea run -d --network none --name st-1 --stop-signal USR1 --stop-timeout 30 "$IMAGE" \
                sh -c 'trap "echo got-usr1; exit 9" USR1; while :; do sleep 0.1; done'
        run_pea inspect --format '{{.Config.StopSignal}} {{.Config.StopTimeout}}' st-1
        is "$output" "10 30"
        sleep 0.5
        local start=$SECONDS
        run_pea stop st-1
        [ $((SECONDS - start)) -lt 10 ] || die "stop waited for the timeout"
        run_pea inspect --format '{{.State.ExitCode}}' st-1
        is "$output" "9" "the trap ran"
        run_pea logs st-1
        is "$output" "got-usr1"
}
