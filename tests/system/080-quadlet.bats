#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea-quadlet, the systemd generator: the fixtures of tests/quadlet give the
# checked-in units of tests/quadlet/expected, the written units pass
# `systemd-analyze verify`, [Install] becomes .wants symlinks, and invalid
# files are reported and skipped while the others are still generated.
#
# shellcheck disable=SC2154 # run --separate-stderr sets $stderr

load helpers

bats_require_minimum_version 1.5.0

# The generator: $PEA_QUADLET, else next to $PEA, else in a build dir.
quadlet_bin() {
        local q=${PEA_QUADLET:-}
        if [ -z "$q" ] && [ -x "$(dirname "$PEA")/pea-quadlet" ]; then
                q=$(dirname "$PEA")/pea-quadlet
        fi
        if [ -z "$q" ]; then
                q=$(find "$_pea_srcdir"/build* -maxdepth 2 -name pea-quadlet -type f \
                        -perm -u+x 2>/dev/null | head -n1)
        fi
        echo "$q"
}

setup() {
        pea_setup
        QUADLET=$(quadlet_bin)
        if [ -z "$QUADLET" ] || [ ! -x "$QUADLET" ]; then
                skip "pea-quadlet is not built"
        fi
        FIXTURES=${PEA_QUADLET_FIXTURES:-$BATS_TEST_DIRNAME/../quadlet}
        [ -d "$FIXTURES/expected" ] || skip "quadlet fixtures not found (tests/quadlet)"
        FIXTURES=$(cd "$FIXTURES" && pwd)
        OUT=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/quadlet.XXXXXX")
}

# Splits dry-run output into $1/NAME.service files, the fixture dir as @FIXTURES@.
split_dryrun() {
        mkdir -p "$1"
        sed "s|$FIXTURES|@FIXTURES@|g" | awk -v dir="$1" '
                /^---.*---$/ { if (out) close(out); out = dir "/" substr($0, 4, length($0) - 6); next }
                { print > out }'
        for f in "$1"/*.service; do
                sed -i '$ { /^$/d }' "$f"
        done
}

@test "quadlet: dry-run output of the fixtures equals the expected units" {
        run --separate-stderr env QUADLET_UNIT_DIRS="$FIXTURES" PEA_BINARY=/usr/bin/pea \
                "$QUADLET" --dryrun
        [ "$status" -eq 0 ] || die "pea-quadlet failed ($status): $stderr"
        [ -z "$stderr" ] || die "unexpected warnings: $stderr"
        split_dryrun "$OUT/got" <<<"$output"
        run diff -ru "$FIXTURES/expected" "$OUT/got"
        [ "$status" -eq 0 ] || die "generated units differ from tests/quadlet/expected:
$output"
}

@test "quadlet: --unit-dir selects the source directory" {
        run --separate-stderr env PEA_BINARY=/usr/bin/pea "$QUADLET" --dryrun \
                --unit-dir "$FIXTURES"
        [ "$status" -eq 0 ] || die "pea-quadlet failed ($status): $stderr"
        split_dryrun "$OUT/got" <<<"$output"
        diff -u "$FIXTURES/expected/web.service" "$OUT/got/web.service"
}

@test "quadlet: written units, .wants symlinks, systemd-analyze verify" {
        local pea_bin=$PEA
        [ -x "$pea_bin" ] || pea_bin=$(command -v pea || true)
        [ -n "$pea_bin" ] || skip "no pea binary for ExecStart"
        pea_bin=$(cd "$(dirname "$pea_bin")" && pwd)/$(basename "$pea_bin")
        run env QUADLET_UNIT_DIRS="$FIXTURES" PEA_BINARY="$pea_bin" "$QUADLET" "$OUT/gen"
        [ "$status" -eq 0 ] || die "pea-quadlet failed ($status): $output"
        [ -f "$OUT/gen/web.service" ] || die "web.service not written"
        grep -q "^ExecStart=$pea_bin run " "$OUT/gen/web.service" ||
                die "ExecStart does not run $pea_bin"
        [ "$(readlink "$OUT/gen/multi-user.target.wants/web.service")" = ../web.service ] ||
                die "missing multi-user.target.wants/web.service symlink"
        [ "$(readlink "$OUT/gen/default.target.wants/app-pod.service")" = ../app-pod.service ] ||
                die "missing default.target.wants/app-pod.service symlink"

        command -v systemd-analyze >/dev/null ||
                skip "systemd-analyze not installed (apt package systemd)"
        local f
        for f in "$OUT"/gen/*.service; do
                run systemd-analyze verify --man=no "$f"
                [ "$status" -eq 0 ] || die "systemd-analyze verify $(basename "$f"): $output"
                # warnings about our keys would be printed with the file name
                if grep -q "$(basename "$f"):" <<<"$output"; then
                        die "systemd-analyze verify warns about $(basename "$f"): $output"
                fi
        done
}

@test "quadlet: invalid files are reported and skipped, the others generated" {
        run --separate-stderr env QUADLET_UNIT_DIRS="$FIXTURES/invalid" "$QUADLET" --dryrun
        [ "$status" -eq 1 ] || die "expected exit code 1, got $status"
        [[ $output == *"---good.service---"* ]] || die "good.container not generated: $output"
        [[ $output != *"unknown-key.service"* ]] || die "unknown-key.container was generated"
        [[ $stderr == *"unknown-key.container': unsupported key 'NoSuchKey' in group 'Container'"* ]] ||
                die "no warning naming the unknown key: $stderr"
        [[ $stderr == *"no-image.container': no Image key specified"* ]] ||
                die "no warning about the missing Image: $stderr"
        [[ $stderr == *"bad-syntax.container': line 1: invalid section header"* ]] ||
                die "no warning about the bad section header: $stderr"
        [[ $stderr == *"bad-bool.container': invalid boolean 'maybe' for key 'Notify'"* ]] ||
                die "no warning about the bad boolean: $stderr"
}

@test "quadlet: --user and the user-generator name read the rootless directories" {
        mkdir -p "$OUT/home/containers/systemd" "$OUT/link"
        printf '[Container]\nImage=busybox\n' >"$OUT/home/containers/systemd/mine.container"
        run env -u QUADLET_UNIT_DIRS XDG_CONFIG_HOME="$OUT/home" "$QUADLET" --user --dryrun
        [[ $output == *"---mine.service---"* ]] || die "--user did not read XDG_CONFIG_HOME: $output"
        ln -s "$QUADLET" "$OUT/link/pea-user-generator"
        run env -u QUADLET_UNIT_DIRS XDG_CONFIG_HOME="$OUT/home" \
                "$OUT/link/pea-user-generator" --dryrun
        [[ $output == *"---mine.service---"* ]] || die "user generator name did not imply --user"
}

@test "quadlet: usage errors" {
        run "$QUADLET"
        [ "$status" -eq 2 ] || die "no output dir: expected exit code 2, got $status"
        run "$QUADLET" --no-such-flag /tmp
        [ "$status" -eq 2 ] || die "bad flag: expected exit code 2, got $status"
}

# The units of the fixtures pea can run here (busybox, no pod or network
# units) run under tests/tools/unit-harness, which plays systemd: order,
# environment, NOTIFY_SOCKET (READY=1, MAINPID), %t/%N, ExecStop/ExecStopPost.
@test "quadlet: basic and job units run under the unit harness" {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        local harness=$BATS_TEST_DIRNAME/../tools/unit-harness
        [ -x "$harness" ] || die "tests/tools/unit-harness not found"
        local pea_bin
        pea_bin=$(cd "$(dirname "$PEA")" && pwd)/$(basename "$PEA")
        # the fixtures' image, from the test registry
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        run_pea tag "$PEA_REGISTRY/busybox" docker.io/library/busybox:latest
        # the units' pea, with the test's store
        mkdir -p "$OUT/bin"
        local gopts=''
        [ -n "${PEA_TEST_ROOT:-}" ] && gopts+=" --root '$PEA_TEST_ROOT'"
        [ -n "${PEA_TEST_RUNROOT:-}" ] && gopts+=" --runroot '$PEA_TEST_RUNROOT'"
        printf '#!/bin/sh\nexec "%s"%s "$@"\n' "$pea_bin" "$gopts" >"$OUT/bin/pea"
        chmod +x "$OUT/bin/pea"
        run env QUADLET_UNIT_DIRS="$FIXTURES" PEA_BINARY="$OUT/bin/pea" "$QUADLET" "$OUT/gen"
        [ "$status" -eq 0 ] || die "pea-quadlet failed ($status): $output"
        local pass=() v
        for v in HOME XDG_DATA_HOME XDG_CONFIG_HOME; do pass+=(--pass-env "$v"); done

        run "$harness" "${pass[@]}" --between "\"$OUT/bin/pea\" container exists systemd-basic" \
                run "$OUT/gen/basic.service"
        echo "$output"
        [ "$status" -eq 0 ] || die "basic.service failed under the harness"
        [[ $output == *"basic.service: MAINPID: ok"* ]] || die "basic.service: no MAINPID check"
        run_pea '?' container exists systemd-basic
        [ "$status" -eq 1 ] || die "systemd-basic still exists after the unit stopped"

        run "$harness" "${pass[@]}" run "$OUT/gen/job.service"
        echo "$output"
        [ "$status" -eq 0 ] || die "job.service failed under the harness"
        [[ $output == *"ExecStart: ok"*"done"* ]] || die "job.service did not print done"
        run_pea '?' container exists systemd-job
        [ "$status" -eq 1 ] || die "systemd-job still exists (--rm)"
        run_pea untag docker.io/library/busybox:latest
}
