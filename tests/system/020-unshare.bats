#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea unshare and pea system migrate: the per-user user namespace (and mount
# namespace) that every rootless command joins, kept alive by a holder process.
#
# shellcheck disable=SC2016 # $ in single quotes is for the inner sh and awk
# shellcheck disable=SC2154 # run --separate-stderr sets $stderr

load helpers

bats_require_minimum_version 1.5.0

NOSUB_USER=${PEA_TEST_NOSUB_USER:-peanosub}

# The run root pea uses, computed as pea's configuration does: $XDG_RUNTIME_DIR/pea
# when that is our directory, else /tmp/pea-run-UID.
run_root() {
        local x=${XDG_RUNTIME_DIR:-}
        if [[ $x == /* ]] && [ -d "$x" ] && [ -O "$x" ] && [ -w "$x" ]; then
                echo "$x/pea"
        else
                echo "/tmp/pea-run-$(id -u)"
        fi
}

# The map lines a namespace must have: "0 ID 1", then the ranges of user $1
# (uid $3) in subid file $4 from 1 on; ID is $2 (the uid or the gid).
expected_map() {
        awk -F: -v user="$1" -v id="$2" -v uid="$3" '
                BEGIN { print "0 " id " 1"; next_id = 1 }
                $1 !~ /^#/ && NF == 3 && ($1 == user || $1 == uid) && $3 > 0 {
                        print next_id " " $2 " " $3; next_id += $3
                }' "$4"
}

# Squeezes the columns of a uid_map/gid_map to single spaces.
normalise_map() {
        awk '{ $1 = $1; print }' <<<"$1"
}

# True while process $1 runs (a zombie left to an init that does not reap
# does not count).
is_running() {
        local state
        state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
        [ -n "$state" ] && [ "$state" != Z ]
}

# Stops the holder recorded in run root $1, by pid and only when it belongs
# to user $2 (default: us) and really is a holder, without asking pea.
stop_holder() {
        local pid i owner=${2:-$(id -un)}
        pid=$(cat "$1/userns.pid" 2>/dev/null) || return 0
        [[ $pid =~ ^[0-9]+$ ]] || return 0
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pea-holder ] &&
                [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$owner" ]; then
                kill "$pid" 2>/dev/null || true
                for i in $(seq 50); do
                        is_running "$pid" || break
                        sleep 0.1
                done
                is_running "$pid" && kill -9 "$pid" 2>/dev/null
        fi
        rm -f "$1/userns.pid"
}

# Remembers to remove /tmp/pea-run-UID in teardown when it is not there yet.
note_tmp_run_root() {
        local dir
        dir=/tmp/pea-run-$(id -u)
        if [ ! -e "$dir" ]; then
                TMP_RUN_ROOT_CREATED=1
        elif [ ! -O "$dir" ]; then
                die "$dir exists and belongs to somebody else"
        fi
}

teardown() {
        if is_rootless; then
                stop_holder "$(run_root)"
                stop_holder "/tmp/pea-run-$(id -u)"
                if [ -n "${TMP_RUN_ROOT_CREATED:-}" ]; then
                        rm -rf "/tmp/pea-run-$(id -u)"
                fi
        fi
        if [ -n "${BYSTANDER:-}" ]; then
                kill "$BYSTANDER" 2>/dev/null || true
        fi
        if [ -n "${NOSUB_DIR:-}" ]; then
                stop_holder "$NOSUB_DIR/xdg/pea" "$NOSUB_USER"
                rm -rf "$NOSUB_DIR"
        fi
        pea_teardown
}

@test "pea unshare: the mapping is the user plus its subordinate ranges" {
        skip_if_root "rootless only"
        local user uid gid
        user=$(id -un) uid=$(id -u) gid=$(id -g)

        run_pea unshare cat /proc/self/uid_map
        is "$(normalise_map "$output")" "$(expected_map "$user" "$uid" "$uid" /etc/subuid)" "uid_map"
        [ "${#lines[@]}" -ge 2 ] || die "$user has no range in /etc/subuid: run contrib/scripts/setup-test-host"

        run_pea unshare cat /proc/self/gid_map
        is "$(normalise_map "$output")" "$(expected_map "$user" "$gid" "$uid" /etc/subgid)" "gid_map"

        run_pea unshare id -u
        is "$output" "0" "uid in the namespace"
        run_pea unshare id -g
        is "$output" "0" "gid in the namespace"
}

@test "pea unshare: every command joins the same namespaces, not the host's" {
        skip_if_root "rootless only"
        run_pea unshare readlink /proc/self/ns/user /proc/self/ns/mnt
        local first=$output
        is "${#lines[@]}" 2 "two namespace links"
        run_pea unshare readlink /proc/self/ns/user /proc/self/ns/mnt
        is "$output" "$first" "namespaces of the second command"

        local host_user host_mnt
        host_user=$(readlink /proc/self/ns/user) host_mnt=$(readlink /proc/self/ns/mnt)
        [ "${lines[0]}" != "$host_user" ] || die "pea unshare runs in the host's user namespace"
        [ "${lines[1]}" != "$host_mnt" ] || die "pea unshare runs in the host's mount namespace"

        # pea inside pea unshare stays where it is, with the same run root
        note_tmp_run_root
        run_pea unshare "$PEA" unshare readlink /proc/self/ns/user /proc/self/ns/mnt
        is "$output" "$first" "namespaces of a nested pea unshare"
        run_pea unshare "$PEA" unshare printenv PEA_RUNROOT
        is "$output" "$(run_root)" "run root of a nested pea unshare"
}

@test "pea unshare: the holder outlives the command" {
        skip_if_root "rootless only"
        run_pea unshare readlink /proc/self/ns/user
        local ns=$output pid
        pid=$(cat "$(run_root)/userns.pid") || die "no pid file in $(run_root)"
        is_running "$pid" || die "holder $pid is not running"
        is "$(cat "/proc/$pid/comm")" "pea-holder" "comm of the holder"
        is "$(readlink "/proc/$pid/ns/user")" "$ns" "user namespace of the holder"
        # still the user outside: real, effective, saved and fs uid
        run awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status"
        local uid
        uid=$(id -u)
        is "$output" "$uid $uid $uid $uid" "uids of the holder"
        # detached: its own session, nothing but /dev/null open
        is "$(awk '{ print $6 }' "/proc/$pid/stat")" "$pid" "session of the holder"
        run find "/proc/$pid/fd" -mindepth 1 -printf '%f %l\n'
        is "$(sort <<<"$output")" "0 /dev/null
1 /dev/null
2 /dev/null" "open fds of the holder"

        # the next command uses it
        run_pea unshare true
        is "$(cat "$(run_root)/userns.pid")" "$pid" "holder pid after another command"
        is_running "$pid" || die "holder $pid exited"
}

@test "pea unshare: works without XDG_RUNTIME_DIR" {
        skip_if_root "rootless only"
        local dir
        dir=/tmp/pea-run-$(id -u)
        note_tmp_run_root
        local saved=$XDG_RUNTIME_DIR
        unset XDG_RUNTIME_DIR
        run_pea unshare cat /proc/self/uid_map
        local map=$output
        run_pea unshare readlink /proc/self/ns/user
        local ns=$output
        export XDG_RUNTIME_DIR=$saved

        local user uid
        user=$(id -un) uid=$(id -u)
        is "$(normalise_map "$map")" "$(expected_map "$user" "$uid" "$uid" /etc/subuid)" "uid_map"
        is "$(stat -c '%a %U' "$dir")" "700 $user" "mode and owner of $dir"
        local pid
        pid=$(cat "$dir/userns.pid")
        is "$(readlink "/proc/$pid/ns/user")" "$ns" "the holder in $dir"

        unset XDG_RUNTIME_DIR
        run_pea system migrate
        export XDG_RUNTIME_DIR=$saved
        is "$output" "" "output of pea system migrate"
        if is_running "$pid"; then
                die "holder $pid still runs after pea system migrate"
        fi
}

@test "pea system migrate: stops the holder, the next command starts a new one" {
        skip_if_root "rootless only"
        run_pea unshare readlink /proc/self/ns/user
        local old_ns=$output old_pid
        old_pid=$(cat "$(run_root)/userns.pid")
        is_running "$old_pid" || die "holder $old_pid is not running"

        run_pea system migrate
        is "$output" "" "output of pea system migrate"
        if is_running "$old_pid"; then
                die "holder $old_pid still runs after pea system migrate"
        fi
        [ ! -e "$(run_root)/userns.pid" ] || die "the pid file is still there"

        # nothing to stop is fine
        run_pea system migrate
        is "$output" "" "output of a second pea system migrate"

        run_pea unshare readlink /proc/self/ns/user
        [ "$output" != "$old_ns" ] || die "the new namespace is the old one ($output)"
        local new_pid
        new_pid=$(cat "$(run_root)/userns.pid")
        [ "$new_pid" != "$old_pid" ] || die "the new holder has the old pid"
        is "$(readlink "/proc/$new_pid/ns/user")" "$output" "user namespace of the new holder"
}

@test "pea unshare: a stale pid file is replaced, an unrelated process is left alone" {
        skip_if_root "rootless only"
        # bats waits for whoever holds its fd 3
        sleep 300 3>&- &
        BYSTANDER=$!
        local bystander=$BYSTANDER
        mkdir -p "$(run_root)"
        echo "$bystander" >"$(run_root)/userns.pid"

        # migrate must not kill a process that is not the holder
        run_pea system migrate
        is_running "$bystander" || die "pea system migrate killed an unrelated process"

        echo "$bystander" >"$(run_root)/userns.pid"
        run_pea unshare readlink /proc/self/ns/user
        local pid
        pid=$(cat "$(run_root)/userns.pid")
        [ "$pid" != "$bystander" ] || die "the stale pid was kept"
        is "$(cat "/proc/$pid/comm")" "pea-holder" "comm of the new holder"
        is_running "$bystander" || die "pea unshare killed an unrelated process"

        stop_holder "$(run_root)"
        echo garbage >"$(run_root)/userns.pid"
        run_pea unshare true
        [ "$(cat "$(run_root)/userns.pid")" != garbage ] || die "the garbage pid file was kept"
}

@test "pea unshare: concurrent first commands share one holder" {
        skip_if_root "rootless only"
        run_pea system migrate
        local d=$BATS_TEST_TMPDIR i
        for i in 1 2 3 4 5 6; do
                timeout 60 "$PEA" unshare readlink /proc/self/ns/user >"$d/ns.$i" 2>&1 &
        done
        wait
        run sort -u "$d"/ns.*
        echo "$output"
        is "${#lines[@]}" 1 "distinct namespaces"
        local pid
        pid=$(cat "$(run_root)/userns.pid")
        is "$(readlink "/proc/$pid/ns/user")" "$output" "the holder's namespace"
}

@test "pea unshare: mounts are shared between commands and stay off the host" {
        skip_if_root "rootless only"
        local d=$BATS_TEST_TMPDIR/mnt
        mkdir "$d"
        run_pea unshare mount -t tmpfs none "$d"
        run_pea unshare sh -c "echo shared >'$d/file'"

        # a later command sees the mount
        # mountinfo: ... MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ...
        run_pea unshare awk -v d="$d" \
                '$5 == d { for (i = 7; i < NF; i++) if ($i == "-") print $(i + 1) }' /proc/self/mountinfo
        is "$output" "tmpfs" "the mount in a second pea unshare"
        run_pea unshare cat "$d/file"
        is "$output" "shared" "the file in the mount"

        # the host does not
        run awk -v d="$d" '$5 == d' /proc/self/mountinfo
        is "$output" "" "the mount on the host"
        [ ! -e "$d/file" ] || die "the file is visible on the host"

        run_pea unshare umount "$d"
}

@test "pea unshare: command, arguments, environment and exit codes" {
        skip_if_root "rootless only"
        run_pea 7 unshare sh -c 'exit 7'

        run_pea 127 unshare /nonexistent
        is "$output" "Error: executing '/nonexistent': No such file or directory"
        run_pea 127 unshare no-such-command-pea
        is "$output" "Error: executing 'no-such-command-pea': No such file or directory"
        touch "$BATS_TEST_TMPDIR/not-executable"
        run_pea 126 unshare "$BATS_TEST_TMPDIR/not-executable"
        is "$output" "Error: executing '.*/not-executable': Permission denied"

        # options after the command are the command's
        run_pea unshare sh -c 'echo "$*"' sh -l --help -- x
        is "$output" "-l --help -- x" "arguments of the command"
        run_pea unshare -- sh -c 'echo ok'
        is "$output" "ok"

        # the default command is $SHELL
        local fake=$BATS_TEST_TMPDIR/fake-shell
        printf '#!/bin/sh\necho "shell as $(id -u)"\n' >"$fake"
        chmod +x "$fake"
        SHELL=$fake run_pea unshare
        is "$output" "shell as 0" "the default command"

        # the working directory is kept
        cd "$BATS_TEST_TMPDIR"
        run_pea unshare pwd
        is "$output" "$BATS_TEST_TMPDIR" "working directory"

        local graph=${XDG_DATA_HOME:-$HOME/.local/share}/containers/pea
        run_pea unshare sh -c 'echo "$CONTAINERS_GRAPHROOT $CONTAINERS_RUNROOT $PEA_GRAPHROOT $PEA_RUNROOT"'
        is "$output" "$graph $(run_root) $graph $(run_root)" "storage paths"
        run_pea unshare printenv _PEA_ROOTLESS_UID _PEA_ROOTLESS_GID
        is "$output" "$(id -u)
$(id -g)" "the user pea runs for"
}

@test "pea unshare and pea system migrate: options" {
        run_pea unshare --help
        assert_line --regexp '^  pea unshare \[options\] \[COMMAND \[ARG\.\.\.\]\]$'
        run_pea system migrate --help
        assert_line --regexp '^  pea system migrate \[options\]$'
        run_pea system --help
        assert_line --regexp '^  migrate +.+'

        run_pea 125 unshare --bogus
        is "$output" "Error: unknown flag: --bogus"
        run_pea 125 system migrate extra
        is "$output" "Error: .*takes no arguments"
}

# bats test_tags=rootful
@test "pea unshare as root fails, pea system migrate does nothing" {
        skip_if_rootless
        run_pea 125 unshare true
        is "$output" "Error: please use unshare with rootless"
        run_pea system migrate
        is "$output" "" "output of pea system migrate as root"
}

# bats test_tags=rootful
@test "pea unshare: a user without subordinate ids gets a single-id mapping" {
        skip_if_rootless
        id "$NOSUB_USER" >/dev/null 2>&1 ||
                skip "user $NOSUB_USER missing: run contrib/scripts/setup-test-host"
        local uid gid
        uid=$(id -u "$NOSUB_USER") gid=$(id -g "$NOSUB_USER")
        if [ "$(expected_map "$NOSUB_USER" "$uid" "$uid" /etc/subuid | wc -l)" != 1 ]; then
                die "$NOSUB_USER must have no range in /etc/subuid"
        fi
        # somewhere the user can reach: the test's TMPDIR is root's
        NOSUB_DIR=$(mktemp -d /tmp/pea-test-nosub.XXXXXX)
        chmod 0755 "$NOSUB_DIR"
        install -d -m 0700 -o "$NOSUB_USER" -g "$gid" "$NOSUB_DIR/home" "$NOSUB_DIR/xdg"
        local as=(timeout 60 runuser -u "$NOSUB_USER" -- env
                HOME="$NOSUB_DIR/home" XDG_RUNTIME_DIR="$NOSUB_DIR/xdg" "$PEA")

        run --separate-stderr "${as[@]}" unshare cat /proc/self/uid_map /proc/self/gid_map
        echo "$output"
        echo "$stderr"
        is "$status" 0 "exit code of pea unshare as $NOSUB_USER"
        is "$(normalise_map "$output")" "0 $uid 1
0 $gid 1" "uid_map and gid_map"
        is "$stderr" ".*level=warning msg=\"no subuid ranges found for user '$NOSUB_USER' in /etc/subuid, using a single-id mapping\".*" \
                "the warning"

        # once: the holder is there now
        run --separate-stderr "${as[@]}" unshare id -u
        is "$status" 0 "exit code of the second pea unshare"
        is "$output" "0" "uid in the namespace"
        is "$stderr" "" "stderr of the second pea unshare"
        local pid
        pid=$(cat "$NOSUB_DIR/xdg/pea/userns.pid")
        is_running "$pid" || die "holder $pid of $NOSUB_USER is not running"
        is "$(stat -c %U "/proc/$pid")" "$NOSUB_USER" "owner of the holder"

        run "${as[@]}" system migrate
        is "$status" 0 "exit code of pea system migrate as $NOSUB_USER"
        if is_running "$pid"; then
                die "holder $pid still runs after pea system migrate"
        fi
}
