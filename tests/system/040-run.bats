#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea run / create / start / rm: a rootless container from an image of the
# test registry, checked from inside (uid_map, caps, seccomp, hostname, pids)
# and from outside (files on the host, mounts in the holder's namespace).
# The same checks run with pea's built-in runtime and with runc on the same bundle.
#
# shellcheck disable=SC2016 # $ in single quotes is for the container's sh and awk

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        [ -n "${PEA_REGISTRY:-}" ] || return 0
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/busybox" >/dev/null
        "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/layers" >/dev/null
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
        RUNC=$(command -v runc || echo /usr/sbin/runc)
}

# The runtimes every check runs with: the built-in one, and runc when installed.
runtimes() {
        echo builtin
        [ -x "$RUNC" ] && echo "$RUNC"
}

# run_ctr RUNTIME [EXPECTED_RC] ARGS... : pea run --rm [--runtime R] ARGS
run_ctr() {
        local rt=$1
        shift
        local rc=0
        case "${1:-}" in
        [0-9] | [0-9][0-9] | [0-9][0-9][0-9]) rc=$1; shift ;;
        esac
        if [ "$rt" = builtin ]; then
                run_pea "$rc" run --rm "$@"
        else
                run_pea "$rc" run --rm --runtime "$rt" "$@"
        fi
}

# The storage graph root pea uses (from pea info).
graph_root() {
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        "$PEA" "${opts[@]}" info --format '{{.Store.GraphRoot}}'
}

# The default capability mask, computed from podman's list (not from pea).
default_capeff() {
        local mask=0 c
        # CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT
        for c in 0 1 3 4 5 10 31 6 8 7 18; do
                mask=$((mask | (1 << c)))
        done
        printf '%016x\n' "$mask"
}

@test "run: uid_map shows the subuid mapping" {
        skip_if_root
        local user expected
        user=$(id -un)
        expected=$(awk -F: -v u="$user" -v uid="$(id -u)" '
                BEGIN { print "0 " uid " 1"; n = 1 }
                ($1 == u || $1 == uid) && $3 > 0 { print n " " $2 " " $3; n += $3 }' /etc/subuid)
        [ "$(echo "$expected" | wc -l)" -eq 2 ] || skip "user has no subuid range"
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" cat /proc/self/uid_map
                is "$(awk '{ $1 = $1; print }' <<<"$output")" "$expected" "uid_map ($rt)"
                is "${#lines[@]}" 2 "two lines ($rt)"
        done
}

@test "run: id is root, hostname is set, only the container's processes" {
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" id -u
                is "$output" 0 "id -u ($rt)"
                run_ctr "$rt" --hostname pea-host "$IMAGE" hostname
                is "$output" pea-host "hostname ($rt)"
                run_ctr "$rt" "$IMAGE" sh -c 'ls -d /proc/[0-9]* | wc -l'
                # sh and ls (the wc runs in the same pipeline: at most 3)
                [ "$output" -le 3 ] || die "too many processes visible ($rt): $output"
                run_ctr "$rt" "$IMAGE" sh -c 'echo $$'
                is "$output" 1 "the command is pid 1 ($rt)"
        done
}

@test "run: default hostname is the short ID" {
        run_pea run --rm "$IMAGE" sh -c 'hostname; cat /etc/hostname'
        [[ ${lines[0]} =~ ^[0-9a-f]{12}$ ]] || die "hostname '${lines[0]}'"
        is "${lines[1]}" "${lines[0]}" "/etc/hostname"
}

@test "run: layers fixture keeps owners, modes and whiteouts" {
        run_pea info --format '{{.Store.GraphDriverName}}'
        local drv=$output
        if [ "$drv" = fuse-overlayfs ]; then
                run_pea run --rm --entrypoint sh "$PEA_REGISTRY/layers" \
                        -c 'grep -v nlink= /expected.txt >/tmp/e; /usr/local/bin/check-expected /tmp/e'
        else
                run_pea run --rm "$PEA_REGISTRY/layers"
        fi
        assert_line --regexp '^check-expected: [0-9]+ checks, 0 failed$'
}

@test "run: CapEff is the default set, Seccomp is 2" {
        local want
        want=$(default_capeff)
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" grep -E '^(CapEff|Seccomp):' /proc/self/status
                is "$(awk '$1 == "CapEff:" { print $2 }' <<<"$output")" "$want" "CapEff ($rt)"
                is "$(awk '$1 == "Seccomp:" { print $2 }' <<<"$output")" 2 "Seccomp ($rt)"
        done
}

@test "run: masked paths unreadable, /proc/sys read-only" {
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" sh -c 'cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable;
                        [ -s /proc/timer_list ] && echo timer_list-readable;
                        ls -A /sys/firmware 2>/dev/null | grep -q . && echo firmware-visible;
                        echo x 2>/dev/null >/proc/sys/kernel/hostname && echo sys-writable; echo done'
                is "$output" "done" "nothing readable or writable ($rt)"
        done
}

@test "run: a file written outside a volume is gone after --rm" {
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" sh -c 'test ! -e /marker && echo > /marker && echo written'
                is "$output" written "first run ($rt)"
                run_ctr "$rt" "$IMAGE" sh -c 'test ! -e /marker && echo absent'
                is "$output" absent "second run ($rt)"
        done
}

@test "run: a bind-mounted host dir is writable, files owned by the user" {
        skip_if_root
        local dir
        for rt in $(runtimes); do
                dir=$(mktemp -d "$BATS_TEST_TMPDIR/vol.XXXXXX")
                run_ctr "$rt" -v "$dir:/data" "$IMAGE" sh -c 'echo hi > /data/f; stat -c %u /data/f'
                is "$output" 0 "root inside ($rt)"
                is "$(stat -c %u "$dir/f")" "$(id -u)" "the user outside ($rt)"
                is "$(cat "$dir/f")" hi "content ($rt)"
        done
}

@test "run: --userns=keep-id gives the user's uid" {
        skip_if_root
        run_pea run --rm --userns=keep-id "$IMAGE" id -u
        is "$output" "$(id -u)"
}

@test "run: -it under a pty" {
        command -v script >/dev/null || skip "script (bsdutils) is not installed"
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        for rt in $(runtimes); do
                local rtopt=""
                [ "$rt" != builtin ] && rtopt="--runtime $rt"
                run -3 timeout 60 script -qec "$PEA ${opts[*]} run --rm -it $rtopt $IMAGE sh -c 'tty; exit 3'" /dev/null
                echo "$output"
                [[ $output == *"/dev/pts/"* ]] || die "no pty ($rt): $output"
        done
}

@test "run: exit codes 0, 7, 125, 126, 127" {
        for rt in $(runtimes); do
                run_ctr "$rt" 0 "$IMAGE" true
                run_ctr "$rt" 7 "$IMAGE" sh -c 'exit 7'
                run_ctr "$rt" 126 "$IMAGE" /etc/passwd
                run_ctr "$rt" 127 "$IMAGE" /no/such/command
        done
        run_pea 125 run --bogus
        is "${#lines[@]}" 1 "one line"
        assert_line --regexp '^Error: unknown flag: --bogus$'
        run_pea 125 run --rm --pull=never "$PEA_REGISTRY/no-such-image"
        assert_line --partial "image not known"
}

@test "run: a killed command gives 128+signal" {
        # pid 1 of a pid namespace cannot be killed from inside: pea-init is pid 1
        run_pea 137 run --rm --init "$IMAGE" sh -c 'kill -9 $$'
}

@test "run: no mount and no directory left after --rm" {
        local graph
        graph=$(graph_root)
        for rt in $(runtimes); do
                run_ctr "$rt" "$IMAGE" true
        done
        run_ctr builtin 127 "$IMAGE" /no/such/command
        if is_rootless; then
                run_pea unshare cat /proc/self/mountinfo
        else
                run cat /proc/self/mountinfo
        fi
        if grep -F "$graph/containers" <<<"$output"; then
                die "mounts left in $graph/containers"
        fi
        run ls -A "$graph/containers"
        is "$output" "" "no container directory left"
}

@test "create, start -a, rm" {
        run_pea create --name c040 "$IMAGE" sh -c 'echo started; exit 4'
        local id=$output
        [[ $id =~ ^[0-9a-f]{64}$ ]] || die "create printed '$id'"
        run_pea 125 create --name c040 "$IMAGE" true
        assert_line --partial "the container name \"c040\" is already in use by $id"
        run_pea 4 start -a c040
        is "$output" started
        run_pea rm c040
        is "$output" c040 "rm prints the name as given, as podman 4 does"
        run_pea 125 rm c040
        assert_line --partial "no container with name or ID"
}

@test "run: image Entrypoint/Cmd, -e, -w, --entrypoint, --env-file" {
        local envf=$BATS_TEST_TMPDIR/env
        printf 'FROMFILE=yes\n' >"$envf"
        run_pea run --rm -e FOO=bar --env-file "$envf" -w /tmp "$IMAGE" sh -c 'echo $FOO $FROMFILE $(pwd)'
        is "$output" "bar yes /tmp"
        run_pea run --rm --entrypoint echo "$IMAGE" hello
        is "$output" hello
        run_pea run --rm "$PEA_REGISTRY/layers" /expected.txt
        assert_line --regexp '^check-expected: '
}

@test "run: --init reaps and forwards, exit code of the command" {
        run_pea 5 run --rm --init "$IMAGE" sh -c 'cat /proc/1/cmdline | tr "\0" " "; exit 5'
        assert_line --partial "/run/pea-init"
}

# bats test_tags=rootful
@test "run as root: exit codes, caps, no mount left" {
        skip_if_rootless
        run_pea run --rm "$IMAGE" id -u
        is "$output" 0
        run_pea 7 run --rm "$IMAGE" sh -c 'exit 7'
        run_pea 127 run --rm "$IMAGE" /no/such/command
        run_pea run --rm "$IMAGE" grep CapEff /proc/self/status
        is "$(awk '{ print $2 }' <<<"$output")" "$(default_capeff)"
        local graph
        graph=$(graph_root)
        run grep -F "$graph/containers" /proc/self/mountinfo
        is "$output" "" "no mount left"
}
