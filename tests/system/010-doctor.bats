#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea doctor (pea system doctor): the rootless prerequisite checks.

load helpers

NOSUB_USER=${PEA_TEST_NOSUB_USER:-peanosub}
DOCTOR_CHECKS=(newuidmap newgidmap subuid subgid userns overlay network pasta cgroups runtime-dir)

# The first id after every range in /etc/subuid and /etc/subgid, computed
# without pea (as contrib/scripts/setup-test-host does).
next_free_subid() {
        cat /etc/subuid /etc/subgid 2>/dev/null |
                awk -F: 'BEGIN { m = 100000 } NF == 3 && $1 !~ /^#/ && $2 + $3 > m { m = $2 + $3 }
                        END { print m }'
}

# The number of subordinate ids user $1 (uid $2) has in file $3.
subid_total() {
        awk -F: -v u="$1" -v id="$2" '($1 == u || $1 == id) && $3 > 0 { t += $3 } END { print t + 0 }' "$3"
}

# Fails unless $output has exactly one well-formed line per check, in order,
# and every line that is not OK names its fix.
check_doctor_lines() {
        local i=0 line
        is "${#lines[@]}" "${#DOCTOR_CHECKS[@]}" "number of doctor lines"
        for line in "${lines[@]}"; do
                is "$line" "(OK|WARN|FAIL) +${DOCTOR_CHECKS[$i]} +[^ ].*" "doctor line $i"
                if [[ $line != OK* ]]; then
                        is "$line" ".* \(fix: .+\)" "a $line names its fix"
                fi
                i=$((i + 1))
        done
}

@test "pea doctor: no check fails for the test user" {
        run_pea doctor
        check_doctor_lines
        refute_line --regexp '^FAIL'

        # pea system doctor is the same command
        local first=$output
        run_pea system doctor
        is "$output" "$first" "pea system doctor"
}

@test "pea doctor agrees with the host" {
        run_pea doctor
        if is_rootless; then
                local user uid
                user=$(id -un) uid=$(id -u)
                assert_line "OK    subuid         $(subid_total "$user" "$uid" /etc/subuid) ids for '$user' in /etc/subuid"
                assert_line "OK    subgid         $(subid_total "$user" "$uid" /etc/subgid) ids for '$user' in /etc/subgid"
                # a user namespace can be created without pea, so pea must say so
                unshare --user --map-root-user true || die "unshare -r fails on this host"
                assert_line --regexp '^OK +userns '
                assert_line --regexp "^OK +runtime-dir +XDG_RUNTIME_DIR '$XDG_RUNTIME_DIR' "
        else
                assert_line --regexp '^OK +subuid +running as root, not needed$'
        fi
        if [ -c /dev/net/tun ] && command -v slirp4netns >/dev/null; then
                assert_line --regexp "^OK +network +/dev/net/tun usable, slirp4netns '$(command -v slirp4netns)'$"
        fi
        # the overlay probe cleans up its temporary directory
        local left
        left=$(find "$HOME" "$(dirname "${PEA_TEST_ROOT:-$HOME}")" -maxdepth 4 -name '.pea-doctor-*' 2>/dev/null)
        is "$left" "" "directories left by the overlay probe"
        run grep -c pea-doctor /proc/self/mountinfo
        is "$output" "0" "mounts left by the overlay probe"
}

@test "pea doctor --format json and Go templates" {
        run_pea doctor --format json
        json_valid "$output"
        local json=$output
        is "$(jq 'length' <<<"$json")" "${#DOCTOR_CHECKS[@]}" "number of checks"
        is "$(jq -r '.[].Name' <<<"$json" | tr '\n' ' ')" "${DOCTOR_CHECKS[*]} " "check names"
        is "$(jq '[.[] | select(.Status == "FAIL")] | length' <<<"$json")" "0" "FAIL entries"
        is "$(jq '[.[] | select(.Status | test("^(OK|WARN|FAIL)$") | not)] | length' <<<"$json")" \
                "0" "entries with an unknown status"
        is "$(jq '[.[] | select(.Status != "OK" and .Fix == "")] | length' <<<"$json")" "0" \
                "non-OK entries without a fix"
        is "$(jq '[.[] | select(.Status == "OK" and .Fix != "")] | length' <<<"$json")" "0" \
                "OK entries with a fix"

        run_pea doctor --format '{{.Name}}={{.Status}}'
        is "$output" "$(jq -r '.[] | "\(.Name)=\(.Status)"' <<<"$json")" "template output"
}

@test "pea doctor: options and arguments" {
        run_pea doctor --help
        assert_line "Usage:"
        assert_line --regexp '^  pea doctor \[options\]$'
        assert_line --regexp '^ +-f, --format string'

        run_pea system --help
        assert_line --regexp '^  doctor +.+'

        run_pea 125 doctor --bogus
        is "$output" "Error: unknown flag: --bogus"

        run_pea 125 doctor extra
        is "$output" "Error: .*takes no arguments"
}

@test "pea doctor: a bad XDG_RUNTIME_DIR fails, an unset one warns" {
        skip_if_root "root does not use XDG_RUNTIME_DIR"
        local d=$BATS_TEST_TMPDIR/xdg-run
        mkdir -m 0755 "$d"
        XDG_RUNTIME_DIR=$d run_pea 1 doctor
        assert_line "FAIL  runtime-dir    XDG_RUNTIME_DIR '$d' does not have mode 0700 (fix: chmod 0700 $d)"

        chmod 0700 "$d"
        XDG_RUNTIME_DIR=$d run_pea doctor
        assert_line --regexp "^OK +runtime-dir +XDG_RUNTIME_DIR '$d' "

        XDG_RUNTIME_DIR='' run_pea doctor
        assert_line --regexp "^WARN +runtime-dir +XDG_RUNTIME_DIR is not set, pea uses /tmp/pea-run-$(id -u) \(fix: .+\)$"
}

# bats test_tags=rootful
@test "pea doctor as root" {
        skip_if_rootless
        run_pea doctor
        check_doctor_lines
        refute_line --regexp '^FAIL'
        for c in newuidmap newgidmap subuid subgid; do
                assert_line --regexp "^OK +$c +running as root, not needed$"
        done
}

# bats test_tags=rootful
@test "pea doctor fails for a user without subordinate ids" {
        skip_if_rootless
        id "$NOSUB_USER" >/dev/null 2>&1 ||
                skip "user $NOSUB_USER missing: run contrib/scripts/setup-test-host"
        local uid
        uid=$(id -u "$NOSUB_USER")
        if [ "$(subid_total "$NOSUB_USER" "$uid" /etc/subuid)" != 0 ] ||
                [ "$(subid_total "$NOSUB_USER" "$uid" /etc/subgid)" != 0 ]; then
                die "$NOSUB_USER must have no range in /etc/subuid and /etc/subgid"
        fi
        local start end
        start=$(next_free_subid)
        end=$((start + 65535))
        local fix="sudo usermod --add-subuids $start-$end --add-subgids $start-$end $NOSUB_USER"

        run timeout 60 runuser -u "$NOSUB_USER" -- env -u XDG_RUNTIME_DIR HOME=/nonexistent "$PEA" doctor
        echo "$output"
        is "$status" 1 "exit code of pea doctor as $NOSUB_USER"
        assert_line "FAIL  subuid         no range for '$NOSUB_USER' in /etc/subuid (fix: $fix)"
        assert_line "FAIL  subgid         no range for '$NOSUB_USER' in /etc/subgid (fix: $fix)"
        # the range the fix hands out overlaps nobody's
        run awk -F: -v s="$start" -v e="$end" 'NF == 3 && $2 <= e && $2 + $3 - 1 >= s' /etc/subuid /etc/subgid
        is "$output" "" "ranges overlapping $start-$end"

        run timeout 60 runuser -u "$NOSUB_USER" -- env -u XDG_RUNTIME_DIR HOME=/nonexistent "$PEA" doctor --format json
        is "$status" 1 "exit code of pea doctor --format json as $NOSUB_USER"
        json_valid "$output"
        is "$(jq -r '.[] | select(.Name == "subuid") | .Status + " " + .Fix' <<<"$output")" "FAIL $fix"
}
