#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The command line itself: version, help, error handling, info.

load helpers

# The commands listed under "Available Commands:" in help output ($1).
list_commands() {
        awk '/^Available Commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' <<<"$1"
}

# The id mappings pea should report for user $1 (uid or gid $2) from a subid
# file $3, computed without pea: [[container_id, host_id, size], ...].
expected_idmap() {
        awk -F: -v user="$1" -v id="$2" '
                BEGIN { printf "[[0,%d,1]", id; next_id = 1 }
                ($1 == user || $1 == id) && $3 > 0 {
                        printf ",[%d,%d,%d]", next_id, $2, $3; next_id += $3
                }
                END { print "]" }' "$3"
}

# Runs pea with $HOME etc. as given, without the --root/--runroot of the test
# environment: the defaults are what is being checked.
run_pea_defaults() {
        PEA_TEST_ROOT='' PEA_TEST_RUNROOT='' run_pea "$@"
}

@test "pea --version and pea version print the version" {
        run_pea --version
        is "$output" "pea version $PEA_TEST_VERSION"

        run_pea -v
        is "$output" "pea version $PEA_TEST_VERSION"

        run_pea version
        is "${lines[0]}" "Client: *Pea Engine" "first line of pea version"
        is "${lines[1]}" "Version: *$PEA_TEST_VERSION" "second line of pea version"
}

@test "pea version --format json and Go templates" {
        run_pea version --format json
        json_valid "$output"
        is "$(jq -r .Client.Version <<<"$output")" "$PEA_TEST_VERSION" ".Client.Version"
        is "$(jq -r .Client.OsArch <<<"$output")" "linux/.+" ".Client.OsArch"

        run_pea version --format '{{.Client.Version}}'
        is "$output" "$PEA_TEST_VERSION"

        run_pea version --format '{{.Client.Version}} {{.Client.Os}}'
        is "$output" "$PEA_TEST_VERSION linux"
}

@test "pea help and pea --help list the commands" {
        run_pea help
        local help=$output
        is "${lines[0]}" ".+" "help starts with a summary"
        assert_line "Available Commands:"
        for c in info version; do
                list_commands "$help" | grep -qx "$c" || die "pea help does not list '$c'"
        done
        assert_line --regexp '^Usage:$'
        assert_line --regexp "^ +--root string"
        assert_line --regexp '^Global Options:$'

        run_pea --help
        is "$output" "$help" "pea --help is pea help"

        run_pea -h
        is "$output" "$help" "pea -h is pea help"
}

@test "every command answers --help with a usage line" {
        run_pea --help
        local cmds
        cmds=$(list_commands "$output")
        [ -n "$cmds" ] || die "no commands found in pea --help"
        for c in $cmds; do
                run_pea "$c" --help
                assert_line "Usage:"
                assert_line --regexp "^  pea $c( |\$)"
                local sub
                for sub in $(list_commands "$output"); do
                        run_pea "$c" "$sub" --help
                        assert_line "Usage:"
                        assert_line --regexp "^  pea $c $sub( |\$)"
                done
        done
}

@test "unknown commands and flags exit 125 with one error line" {
        run_pea 125 frobnicate
        is "${#lines[@]}" 1 "number of output lines"
        is "$output" "Error: unrecognized command.*frobnicate.*"

        for c in version info; do
                run_pea 125 "$c" --bogus
                is "$output" "Error: unknown flag: --bogus" "pea $c --bogus"
        done

        run_pea 125 --bogus info
        is "$output" "Error: unknown flag: --bogus" "pea --bogus info"

        run_pea 125 version extra-argument
        is "${#lines[@]}" 1 "number of output lines"
        is "$output" "Error: .+" "pea version extra-argument"
}

@test "an invalid --log-level exits 125" {
        run_pea 125 --log-level=bogus info
        is "${#lines[@]}" 1 "number of output lines"
        is "$output" "Error: .*bogus.*"

        run_pea 125 --log-level bogus version
        is "$output" "Error: .*bogus.*"

        run_pea --log-level=debug version --format '{{.Client.Version}}'
        assert_line "$PEA_TEST_VERSION"
}

@test "pea info is JSON with the fields of podman info" {
        run_pea info
        json_valid "$output"
        local info=$output
        local f
        for f in '.host.arch' '.host.kernel' '.host.os' '.host.cgroupVersion' \
                '.store.graphRoot' '.store.runRoot' '.store.graphDriverName' \
                '.host.networkBackend' '.version.Version'; do
                is "$(jq -r "$f | type" <<<"$info")" string "type of $f"
                is "$(jq -r "$f" <<<"$info")" ".+" "$f is not empty"
        done
        is "$(jq -r '.host.security.rootless | type' <<<"$info")" boolean ".host.security.rootless"
        is "$(jq -r '.host.idMappings | type' <<<"$info")" object ".host.idMappings"

        # the values, checked against the host rather than pea
        is "$(jq -r .host.os <<<"$info")" linux ".host.os"
        is "$(jq -r .host.kernel <<<"$info")" "$(uname -r)" ".host.kernel"
        local arch
        case $(uname -m) in
        x86_64) arch=amd64 ;;
        aarch64) arch=arm64 ;;
        *) arch=$(uname -m) ;;
        esac
        is "$(jq -r .host.arch <<<"$info")" "$arch" ".host.arch"
        local cgv=v1
        [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && cgv=v2
        is "$(jq -r .host.cgroupVersion <<<"$info")" "$cgv" ".host.cgroupVersion"
        is "$(jq -r .version.Version <<<"$info")" "$PEA_TEST_VERSION" ".version.Version"

        run_pea info --format json
        json_valid "$output"
        local volatile='del(.host.memFree, .host.swapFree, .host.uptime, .store.graphRootUsed)'
        is "$(jq -S "$volatile" <<<"$output")" "$(jq -S "$volatile" <<<"$info")" \
                "pea info --format json is pea info"
}

@test "rootless: pea info reports rootless, subordinate ids and per-user paths" {
        skip_if_root "this test is for the rootless run (as peatest)"

        run_pea info --format '{{.Host.Security.Rootless}}'
        is "$output" true

        run_pea info
        local user
        user=$(id -un)
        is "$(jq -c '[.host.idMappings.uidmap[] | [.container_id, .host_id, .size]]' <<<"$output")" \
                "$(expected_idmap "$user" "$(id -u)" /etc/subuid)" "uidmap from /etc/subuid"
        is "$(jq -c '[.host.idMappings.gidmap[] | [.container_id, .host_id, .size]]' <<<"$output")" \
                "$(expected_idmap "$user" "$(id -g)" /etc/subgid)" "gidmap from /etc/subgid"
}

@test "rootless: default graph root and run root" {
        skip_if_root "this test is for the rootless run (as peatest)"
        [ -d "${XDG_RUNTIME_DIR:-}" ] || die "the test needs a private XDG_RUNTIME_DIR"

        XDG_DATA_HOME='' run_pea_defaults info --format '{{.Store.GraphRoot}}'
        is "$output" "$HOME/.local/share/containers/pea" "graph root without XDG_DATA_HOME"

        local data=$BATS_TEST_TMPDIR/data
        mkdir -p "$data"
        XDG_DATA_HOME=$data run_pea_defaults info --format '{{.Store.GraphRoot}}'
        is "$output" "$data/containers/pea" "graph root with XDG_DATA_HOME"

        run_pea_defaults info --format '{{.Store.RunRoot}}'
        is "$output" "$XDG_RUNTIME_DIR/pea" "run root with XDG_RUNTIME_DIR"

        # Without XDG_RUNTIME_DIR pea falls back to /tmp; remove what it creates.
        local fallback
        fallback=/tmp/pea-run-$(id -u)
        local existed=0
        [ -e "$fallback" ] && existed=1
        run env -u XDG_RUNTIME_DIR timeout 60 "$PEA" info --format '{{.Store.RunRoot}}'
        [ "$existed" = 1 ] || rm -rf "$fallback"
        is "$status" 0 "exit code without XDG_RUNTIME_DIR"
        is "$output" "$fallback" "run root without XDG_RUNTIME_DIR"
}

@test "--root and --runroot are honoured" {
        local root=$BATS_TEST_TMPDIR/root runroot=$BATS_TEST_TMPDIR/runroot
        run_pea_defaults --root "$root" --runroot "$runroot" info --format '{{.Store.GraphRoot}}'
        is "$output" "$root" "--root"

        run_pea_defaults --root="$root" --runroot="$runroot" info --format '{{.Store.RunRoot}}'
        is "$output" "$runroot" "--runroot"

        run_pea_defaults --root "$root" --runroot "$runroot" info
        is "$(jq -r .store.graphRoot <<<"$output")" "$root" ".store.graphRoot"
        is "$(jq -r .store.runRoot <<<"$output")" "$runroot" ".store.runRoot"
}

# bats test_tags=rootful
@test "root: pea info reports rootful and /var/lib/pea" {
        skip_if_rootless "this test is for the rootful run (as root)"

        run_pea info --format '{{.Host.Security.Rootless}}'
        is "$output" false

        # The default store: remove it afterwards unless it was there before.
        local existed=0
        [ -e /var/lib/pea ] && existed=1
        run_pea_defaults '?' --runroot "$BATS_TEST_TMPDIR/runroot" info --format '{{.Store.GraphRoot}}'
        local rc=$status out=$output
        [ "$existed" = 1 ] || rm -rf /var/lib/pea
        is "$rc" 0 "exit code of pea info with the default root"
        is "$out" /var/lib/pea "default graph root of root"

        local root=$BATS_TEST_TMPDIR/store
        run_pea_defaults --root "$root" --runroot "$BATS_TEST_TMPDIR/run" info --format '{{.Store.GraphRoot}}'
        is "$output" "$root" "--root as root"
}
