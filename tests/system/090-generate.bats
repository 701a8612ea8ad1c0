#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea generate systemd and what its units use (run --cidfile/--replace/--sdnotify,
# stop/rm --cidfile --ignore). No systemd runs as PID 1 here, so every unit is
# checked with `systemd-analyze verify` and run by tests/tools/unit-harness, which
# plays the service manager: systemd's order and environment, %t/%n expanded,
# a NOTIFY_SOCKET that must get READY=1 and a MAINPID that is the monitor.
#
# shellcheck disable=SC2154 # run sets $output and $status

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
        HARNESS=$BATS_TEST_DIRNAME/../tools/unit-harness
        [ -x "$HARNESS" ] || die "tests/tools/unit-harness not found"
        UNITS=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/units.XXXXXX")
        # an absolute pea for the Exec lines
        PEA_ABS=$(cd "$(dirname "$PEA")" && pwd)/$(basename "$PEA")
        # a container that stops on SIGTERM at once
        CMD=(sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
}

teardown() {
        run_pea '?' rm -f -t 0 gen-web gen-old gen-opts gen-tpl-1 gen-cid gen-pa gen-pb gen-au
        run_pea '?' pod rm -f gen-pod
}

# verify UNIT...: systemd-analyze verify without warnings about the units.
verify() {
        command -v systemd-analyze >/dev/null ||
                skip "systemd-analyze not installed (apt package systemd)"
        local f
        for f in "$@"; do
                run env PATH="$(dirname "$PEA_ABS"):$PATH" systemd-analyze verify --man=no "$f"
                [ "$status" -eq 0 ] || die "systemd-analyze verify $(basename "$f"): $output"
                if grep -q "$(basename "$f"):" <<<"$output"; then
                        die "systemd-analyze verify warns about $(basename "$f"): $output"
                fi
        done
}

# harness ARGS...: runs the unit harness; its report is shown when a test fails.
# The test's private HOME and XDG dirs stand for the user's (a user manager's
# units get the user's HOME).
harness() {
        local pass=() v
        for v in HOME XDG_DATA_HOME XDG_CONFIG_HOME; do pass+=(--pass-env "$v"); done
        run "$HARNESS" --state-dir "$UNITS/state" "${pass[@]}" "$@"
        echo "$output"
        [ "$status" -eq 0 ] || die "unit-harness $*: exit code $status"
}

# The ID of a container, or "" when there is none.
id_of() {
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

@test "generate systemd --new --name: the unit verifies and runs under the harness" {
        run_pea create --name gen-web -e 'GREETING=hello world' "$IMAGE" "${CMD[@]}"
        local created=$output
        cd "$UNITS"
        run_pea generate systemd --new --name --files gen-web
        is "$output" "$UNITS/container-gen-web.service" "--files prints the path"
        local unit=$UNITS/container-gen-web.service
        grep -q "^Type=notify$" "$unit" || die "not Type=notify"
        grep -q "^NotifyAccess=all$" "$unit" || die "no NotifyAccess=all"
        grep -q "^ExecStartPre=/bin/rm" "$unit" || die "no ExecStartPre removing the cidfile"
        grep -q "^ExecStart=$PEA_ABS" "$unit" || die "ExecStart does not run $PEA_ABS"
        grep -q -- "--cidfile=%t/%n.ctr-id" "$unit" || die "no --cidfile=%t/%n.ctr-id"
        grep -q -- '"GREETING=hello world"' "$unit" || die "-e value not quoted"
        verify "$unit"

        # start: the container runs, labelled with its unit
        harness start "$unit"
        [[ $output == *"MAINPID: ok"* ]] || die "MAINPID not checked"
        local first
        first=$(id_of gen-web)
        [ -n "$first" ] || die "the unit did not create gen-web"
        [ "$first" != "$created" ] || die "ExecStart did not replace the created container"
        run_pea inspect --format '{{.State.Status}} {{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}' gen-web
        is "$output" "running container-gen-web.service"

        # ExecStart again (--replace): a new container, the old one gone
        harness start "$unit"
        local second
        second=$(id_of gen-web)
        [ -n "$second" ] && [ "$second" != "$first" ] || die "second start did not replace: $second"
        run_pea '?' inspect "$first"
        [ "$status" -ne 0 ] || die "the first container $first is still there"

        # ExecStop stops it, ExecStopPost removes it
        harness stop "$unit"
        [[ $output == *"ExecStop: ok"* ]] || die "ExecStop did not run"
        [[ $output == *"ExecStopPost: ok"* ]] || die "ExecStopPost did not run"
        run_pea '?' inspect gen-web
        [ "$status" -ne 0 ] || die "gen-web still exists after ExecStopPost"
}

# bats test_tags=rootful
@test "generate systemd --new as root: the unit runs under the harness" {
        run_pea create --name gen-web "$IMAGE" "${CMD[@]}"
        run_pea generate systemd --new --name gen-web
        local unit=$UNITS/container-gen-web.service
        echo "$output" >"$unit"
        grep -q "^RequiresMountsFor=" "$unit" || die "no RequiresMountsFor"
        verify "$unit"
        # %t: a private directory rather than /run, so no cidfile is left there
        mkdir -p "$UNITS/run"
        harness --runtime-dir "$UNITS/run" --twice run "$unit"
        [[ $output == *"--cidfile=$UNITS/run/container-gen-web.service.ctr-id"* ]] ||
                die "%t/%n not expanded"
        run_pea '?' container exists gen-web
        [ "$status" -eq 1 ] || die "gen-web still exists after the unit stopped"
}

@test "generate systemd --new: run, --twice, stop in one harness run" {
        run_pea create --name gen-web --restart on-failure "$IMAGE" "${CMD[@]}"
        run_pea generate systemd --new --name gen-web
        echo "$output" >"$UNITS/container-gen-web.service"
        grep -q "^Restart=on-failure$" "$UNITS/container-gen-web.service" || die "Restart="
        ! grep -q -- "--restart" "$UNITS/container-gen-web.service" ||
                die "--restart left in ExecStart (systemd restarts the unit)"
        verify "$UNITS/container-gen-web.service"
        # while the unit is up (after the second start), the container runs
        local gopts=''
        [ -n "${PEA_TEST_ROOT:-}" ] && gopts+=" --root '$PEA_TEST_ROOT'"
        [ -n "${PEA_TEST_RUNROOT:-}" ] && gopts+=" --runroot '$PEA_TEST_RUNROOT'"
        printf '#!/bin/sh\n"%s"%s inspect --format "{{.State.Status}}" gen-web | grep -qx running\n' \
                "$PEA_ABS" "$gopts" >"$UNITS/check"
        chmod +x "$UNITS/check"
        harness --twice --between "$UNITS/check" run "$UNITS/container-gen-web.service"
        run_pea '?' container exists gen-web
        [ "$status" -eq 1 ] || die "gen-web still exists after the unit stopped"
}

@test "generate systemd: a unit for an existing container (start/stop)" {
        run_pea create --name gen-old "$IMAGE" "${CMD[@]}"
        local id=$output
        run_pea generate systemd gen-old
        local unit=$UNITS/container-$id.service
        echo "$output" >"$unit"
        grep -q "^ExecStart=$PEA_ABS start $id$" "$unit" || die "ExecStart is not pea start ID"
        verify "$unit"
        harness start "$unit"
        run_pea inspect --format '{{.State.Status}}' gen-old
        is "$output" "running"
        harness stop "$unit"
        run_pea inspect --format '{{.State.Status}}' gen-old
        is "$output" "exited" "the container stays, stopped"
}

@test "generate systemd: options" {
        run_pea create --name gen-opts --stop-timeout 7 "$IMAGE" "${CMD[@]}"
        run_pea generate systemd --new --name --no-header --restart-policy=always --restart-sec 5 \
                --start-timeout 30 --after a.service --wants b.service --requires c.service \
                -e FOO=bar -e 'SP=a b' --container-prefix ctr --separator _ gen-opts
        local unit=$output
        [[ $unit != "#"* ]] || die "--no-header: header printed"
        local want
        for want in "Restart=always" "RestartSec=5" "TimeoutStartSec=30" "TimeoutStopSec=67" \
                "After=a.service" "Wants=b.service" "Requires=c.service" "Environment=FOO=bar" \
                'Environment="SP=a b"' "Description=Pea ctr_gen-opts.service"; do
                grep -qxF "$want" <<<"$unit" || die "missing '$want' in: $unit"
        done
        grep -q -- "--ignore -t 7" <<<"$unit" || die "ExecStop does not use the stop timeout 7"
        run_pea generate systemd --new --name --stop-timeout 3 gen-opts
        grep -q -- "--ignore -t 3" <<<"$output" || die "--stop-timeout not used"

        run_pea generate systemd --new --name --format json gen-opts
        [[ $output == *'"container-gen-opts": "# container-gen-opts.service'* ]] ||
                die "--format json: $output"

        run_pea 125 generate systemd --restart-policy=sometimes gen-opts
        is "$output" "Error: sometimes is not a valid restart policy"
        run_pea 125 generate systemd --template gen-opts
        is "$output" "Error: --template cannot be set without --new"
        run_pea 125 generate systemd no-such-ctr
        is "$output" "Error: 'no-such-ctr' does not refer to a container or pod"
        run_pea 125 generate systemd
        is "$output" "Error: \`pea generate systemd\` requires exactly 1 argument"
}

@test "generate systemd --template: NAME@.service, %i in the container name" {
        run_pea create --name gen-tpl "$IMAGE" "${CMD[@]}"
        run_pea generate systemd --new --name --template gen-tpl
        local unit=$UNITS/container-gen-tpl@.service
        echo "$output" >"$unit"
        grep -q -- "--name gen-tpl-%i" "$unit" || die "no --name gen-tpl-%i"
        verify "$unit"
        harness --instance 1 start "$unit"
        run_pea inspect --format '{{.State.Status}}' gen-tpl-1
        is "$output" "running"
        harness --instance 1 stop "$unit"
        run_pea '?' container exists gen-tpl-1
        [ "$status" -eq 1 ] || die "gen-tpl-1 not removed"
        run_pea rm -f gen-tpl
}

@test "run --cidfile, --replace, --sdnotify; stop and rm --cidfile --ignore" {
        local cid=$UNITS/ctr.cid
        run_pea run -d --name gen-cid --cidfile "$cid" "$IMAGE" "${CMD[@]}"
        local id=$output
        is "$(cat "$cid")" "$id" "the cidfile holds the ID"
        run_pea 125 run -d --name gen-cid2 --cidfile "$cid" "$IMAGE" true
        is "$output" "Error: container id file exists. Ensure another container is not using it or delete $cid"
        run_pea '?' container exists gen-cid2
        [ "$status" -eq 1 ] || die "a container was created despite the cidfile error"

        run_pea 125 run -d --replace "$IMAGE" true
        is "$output" "Error: cannot replace container without --name being set"
        run_pea 125 run -d --sdnotify=bogus "$IMAGE" true
        is "$output" "Error: invalid sdnotify value 'bogus': must be container, conmon or ignore"

        # --replace: same name, a new container
        run_pea run -d --replace --name gen-cid --sdnotify=ignore "$IMAGE" "${CMD[@]}"
        local id2=$output
        [ "$id2" != "$id" ] || die "--replace kept the old container"
        run_pea '?' inspect "$id"
        [ "$status" -ne 0 ] || die "the replaced container still exists"

        echo "$id2" >"$cid"
        run_pea stop -t 1 --cidfile "$cid"
        is "$output" "$id2"
        run_pea rm -f --ignore -t 1 --cidfile "$cid"
        run_pea '?' container exists gen-cid
        [ "$status" -eq 1 ] || die "rm --cidfile did not remove the container"
        # --ignore: a missing container or cidfile is fine (podman >= 4.4)
        run_pea rm -f --ignore --cidfile "$cid"
        run_pea stop --ignore --cidfile "$UNITS/none.cid"
        run_pea rm --ignore --cidfile "$UNITS/none.cid"
        run_pea 125 rm --cidfile "$UNITS/none.cid"
        is "$output" "Error: reading CIDFile: .*No such file or directory.*"
}

@test "--sdnotify=container: the container's READY=1 is proxied, MAINPID the monitor" {
        command -v cc >/dev/null || skip "no C compiler for the notify helper"
        # a static sd_notify client for the container (busybox has none)
        printf '%s\n' '#include <stdlib.h>' '#include <string.h>' '#include <sys/socket.h>' \
                '#include <sys/un.h>' 'int main(int c, char **v) {' \
                ' const char *p = getenv("NOTIFY_SOCKET"); struct sockaddr_un a = {AF_UNIX};' \
                ' int fd = socket(AF_UNIX, SOCK_DGRAM, 0);' \
                ' if (!p || c < 2 || fd < 0 || strlen(p) >= sizeof(a.sun_path)) return 2;' \
                ' memcpy(a.sun_path, p, strlen(p));' \
                ' return sendto(fd, v[1], strlen(v[1]), 0, (struct sockaddr *)&a, sizeof(a)) < 0; }' \
                >"$UNITS/notify.c"
        cc -static -o "$UNITS/notify" "$UNITS/notify.c" 2>/dev/null || skip "cc -static failed"
        run_pea create --name gen-web --sdnotify=container -v "$UNITS/notify:/notify:ro" "$IMAGE" \
                sh -c 'trap "exit 0" TERM; sleep 1; /notify "READY=1
STATUS=from the container"; while :; do sleep 0.1; done'
        run_pea generate systemd --new --name gen-web
        local unit=$UNITS/container-gen-web.service
        echo "$output" >"$unit"
        grep -q -- "--sdnotify=container" "$unit" || die "--sdnotify=container not kept"
        ! grep -q -- "--sdnotify=conmon" "$unit" || die "--sdnotify=conmon added"
        verify "$unit"
        harness --twice run "$unit"
        [[ $output == *"notify: 'MAINPID="*"\nREADY=1\nSTATUS=from the container'"* ]] ||
                die "the container's message was not proxied with MAINPID"
}

@test "generate systemd: a pod gives a pod unit and one unit per member" {
        run_pea '?' pod create --help
        [ "$status" -eq 0 ] || skip "pods are not built yet"
        run_pea pod create --name gen-pod
        run_pea create --pod gen-pod --name gen-pa "$IMAGE" "${CMD[@]}"
        run_pea create --pod gen-pod --name gen-pb "$IMAGE" "${CMD[@]}"
        cd "$UNITS"
        run_pea generate systemd --new --name --files gen-pod
        local pod=$UNITS/pod-gen-pod.service a=$UNITS/container-gen-pa.service
        local b=$UNITS/container-gen-pb.service
        [ -f "$pod" ] && [ -f "$a" ] && [ -f "$b" ] || die "three units expected: $output"
        grep -q "^Requires=container-gen-pa.service container-gen-pb.service$" "$pod" ||
                die "the pod unit does not require its members"
        grep -q "^BindsTo=pod-gen-pod.service$" "$a" || die "member not bound to the pod"
        grep -q "^After=pod-gen-pod.service$" "$b" || die "member not ordered after the pod"
        verify "$pod" "$a" "$b"
        harness start "$pod" "$a" "$b"
        run_pea inspect --format '{{.State.Status}}' gen-pa
        is "$output" "running"
        run_pea inspect --format '{{.State.Status}}' gen-pb
        is "$output" "running"
        harness stop "$pod" "$a" "$b"
        run_pea '?' pod exists gen-pod
        [ "$status" -eq 1 ] || die "the pod was not removed by its unit"
}

@test "auto-update: registry policy, --dry-run, the unit restarted" {
        local tag=$PEA_REGISTRY/pea-au-$$-$BATS_TEST_NUMBER:latest
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox-v2s2"
        run_pea push -q --tls-verify=false "$PEA_REGISTRY/busybox" "$tag"
        run_pea create --name gen-au --tls-verify=false \
                --label io.containers.autoupdate=registry "$tag" "${CMD[@]}"
        run_pea generate systemd --new --name gen-au
        local unit=$UNITS/container-gen-au.service
        echo "$output" >"$unit"
        harness start "$unit"
        local old
        old=$(id_of gen-au)

        run_pea auto-update --dry-run --tls-verify=false
        is "${lines[0]}" "UNIT +CONTAINER +IMAGE +POLICY +UPDATED"
        is "${lines[1]}" "container-gen-au.service +${old:0:12} \(gen-au\) +$tag +registry +false"

        # a new image under the tag: pending, then pulled and the unit restarted
        run_pea push -q --tls-verify=false "$PEA_REGISTRY/busybox-v2s2" "$tag"
        run_pea auto-update --dry-run --tls-verify=false --format json
        [[ $output == *'"Updated": "pending"'* ]] || die "dry-run: no pending update: $output"
        printf '#!/bin/sh\necho "$@" >>"%s"\n' "$UNITS/systemctl.log" >"$UNITS/systemctl"
        chmod +x "$UNITS/systemctl"
        PEA_SYSTEMCTL=$UNITS/systemctl run_pea auto-update --tls-verify=false
        is "${lines[-1]}" "container-gen-au.service +${old:0:12} \(gen-au\) +$tag +registry +true"
        local want="restart container-gen-au.service"
        [ "$(id -u)" -eq 0 ] || want="--user $want"
        is "$(cat "$UNITS/systemctl.log")" "$want" "systemctl restart of the unit"

        # what systemd does then: stop and start the unit; the container runs the new image
        harness stop "$unit"
        harness start "$unit"
        run_pea inspect --format '{{.Image}}' gen-au
        local new_image=$output
        run_pea image inspect --format '{{.Id}}' "$PEA_REGISTRY/busybox-v2s2"
        is "$new_image" "$output" "the restarted container runs the new image"
        run_pea auto-update --dry-run --tls-verify=false
        is "${lines[1]}" ".* +registry +false"
        harness stop "$unit"
}

@test "auto-update: containers without a unit label are reported" {
        run_pea create --name gen-au --label io.containers.autoupdate=registry "$IMAGE" true
        run_pea 125 auto-update --dry-run --tls-verify=false
        is "$output" ".*Error: auto-updating container '[0-9a-f]{12}': no PODMAN_SYSTEMD_UNIT label found.*"
        run_pea rm gen-au
}
