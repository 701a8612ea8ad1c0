#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea volume: create, ls, inspect, rm, prune, exists, export, import.
#
# shellcheck disable=SC2016 # $ in single quotes is for the inner sh

load helpers

# The graph root pea uses: --root in rootful runs, else the XDG data dir.
graph_root() {
        if [ -n "${PEA_TEST_ROOT:-}" ]; then
                echo "$PEA_TEST_ROOT"
        else
                echo "${XDG_DATA_HOME:-$HOME/.local/share}/containers/pea"
        fi
}

# $PEA with the --root/--runroot of the test environment, for pipelines run by bash -c.
pea_q() {
        printf "'%s'" "$PEA"
        [ -n "${PEA_TEST_ROOT:-}" ] && printf " --root '%s'" "$PEA_TEST_ROOT"
        [ -n "${PEA_TEST_RUNROOT:-}" ] && printf " --runroot '%s'" "$PEA_TEST_RUNROOT"
        true
}

# Runs sh -c "$1" as root of the user namespace (pea unshare), or as root.
as_ns_root() {
        if is_rootless; then
                run_pea unshare sh -c "$1"
        else
                run sh -c "$1"
                is "$status" 0 "sh -c $1: $output"
        fi
}

setup_file() {
        # the tests count volumes: start without those other files left (the
        # anonymous volumes of images with VOLUME entries, with their containers)
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" volume rm -af >/dev/null 2>&1 || true
}

teardown() {
        # every test starts without volumes
        run_pea '?' volume rm -af
        pea_teardown
}

# Asserts that $output is one "Error: ..." line matching $1 and $status is $2 (default 125).
is_error() {
        is "$status" "${2:-125}" "exit code"
        is "${#lines[@]}" 1 "one line of output: $output"
        is "$output" "Error: $1"
}

@test "volume create, inspect and ls" {
        run_pea volume create v1
        is "$output" "v1"
        local mp
        mp="$(graph_root)/volumes/v1/_data"

        run_pea volume inspect --format '{{.Mountpoint}}' v1
        is "$output" "$mp"
        [ -d "$output" ] || die "$output is not a directory"
        is "$(stat -c %a "$mp")" 755 "mode of _data"
        is "$(stat -c %u "$mp")" "$(id -u)" "owner of _data on the host"

        run_pea volume inspect v1
        json_valid "$output"
        is "$(jq -r '.[0].Name' <<<"$output")" v1
        is "$(jq -r '.[0].Driver' <<<"$output")" local
        is "$(jq -r '.[0].Scope' <<<"$output")" local
        is "$(jq -r '.[0].Mountpoint' <<<"$output")" "$mp"
        is "$(jq -c '.[0].Labels' <<<"$output")" '{}'
        is "$(jq -c '.[0].Options' <<<"$output")" '{}'
        is "$(jq -r '.[0].MountCount' <<<"$output")" 0
        is "$(jq -r '.[0].NeedsCopyUp' <<<"$output")" true
        is "$(jq -r '.[0].CreatedAt' <<<"$output")" \
                '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})'
        is "$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$output")" \
                "Name,Driver,Mountpoint,CreatedAt,Labels,Scope,Options,MountCount,NeedsCopyUp,NeedsChown"

        run_pea volume create
        local anon=$output
        is "$anon" '[0-9a-f]{64}' "a random name"

        run_pea volume ls
        is "${lines[0]}" "DRIVER      VOLUME NAME"
        assert_line "local       v1"
        assert_line "local       $anon"
        run_pea volume ls -q
        is "$(sort <<<"$output")" "$(printf '%s\n' "$anon" v1 | sort)"
        run_pea volume ls --noheading --format '{{.Name}}:{{.Driver}}'
        assert_line "v1:local"
        run_pea volume ls --format json
        json_valid "$output"
        is "$(jq -r '.[].Name' <<<"$output" | sort)" "$(printf '%s\n' "$anon" v1 | sort)"
        run_pea volume ls --format 'table {{.Name}} {{.Mountpoint}}'
        is "${lines[0]}" "VOLUME NAME +MOUNTPOINT"
        run_pea volume list -q --filter name=v1
        is "$output" v1

        run_pea volume inspect --all --format '{{.Name}}'
        is "$(sort <<<"$output")" "$(printf '%s\n' "$anon" v1 | sort)"
}

@test "volume create: labels, options, --ignore and errors" {
        run_pea volume create --label a=b --label c --opt type=tmpfs --opt device=tmpfs \
                --opt o=size=2m,mode=1777 lab
        run_pea volume inspect lab
        is "$(jq -c '.[0].Labels' <<<"$output")" '{"a":"b","c":""}'
        is "$(jq -c '.[0].Options' <<<"$output")" '{"device":"tmpfs","o":"size=2m,mode=1777","type":"tmpfs"}'

        run_pea 125 volume create lab
        is_error "volume with name lab already exists: volume already exists"
        run_pea volume create --ignore lab
        is "$output" lab
        run_pea volume inspect --format '{{.Labels.a}}' lab
        is "$output" b "--ignore keeps the existing volume"

        run_pea 125 volume create --driver foo d1
        is_error "volume d1 uses volume plugin foo but it could not be retrieved: no volume plugin with name foo available: required plugin missing"
        run_pea 125 volume create --opt foo=bar d2
        is_error "invalid mount option foo for driver 'local': invalid argument"
        run_pea 125 volume create 'bad name'
        is_error "running volume create option: names must match \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\*: invalid argument"
        run_pea 125 volume inspect nosuch
        is_error "inspecting object: no such volume nosuch"
        run_pea 125 volume ls --filter bogus=1
        is_error '"bogus" is an invalid volume filter'
        run_pea volume ls -q
        is "$output" lab "failed creates leave nothing behind"
        run ls -A "$(graph_root)/volumes"
        is "$(grep -v '^\.lock$' <<<"$output")" lab "no orphan directories"
}

@test "volume ls filters" {
        run_pea volume create --label app=web --label tier=front web
        run_pea volume create --label app=db db
        run_pea volume create plain

        run_pea volume ls -q --filter label=app
        is "$output" $'db\nweb'
        run_pea volume ls -q --filter label=app=web
        is "$output" web
        run_pea volume ls -q --filter label!=app
        is "$output" plain
        run_pea volume ls -q --filter name=^p
        is "$output" plain
        run_pea volume ls -q --filter name=db --filter name=plain
        is "$output" $'db\nplain'
        run_pea volume ls -q --filter driver=local --filter label=tier
        is "$output" web
        run_pea volume ls -q --filter dangling=true
        is "$output" $'db\nplain\nweb'
        run_pea volume ls -q --filter dangling=false
        is "$output" ""
}

@test "volume exists, rm and prune" {
        run_pea volume create e1
        run_pea volume exists e1
        run_pea 1 volume exists nosuch
        is "$output" ""

        run_pea volume rm e1
        is "$output" e1
        [ ! -e "$(graph_root)/volumes/e1" ] || die "e1's directory is left"
        run_pea 1 volume rm e1
        is_error 'no volume with name "e1" found: no such volume' 1

        run_pea volume create p1
        run_pea volume create --label keep=no p2
        run_pea volume prune -f --filter label=keep
        is "$output" p2
        echo n | run_pea volume prune
        run_pea volume ls -q
        is "$output" p1 "answering no keeps the volumes"
        run_pea volume prune --force
        is "$output" p1
        run_pea volume ls -q
        is "$output" ""

        run_pea volume create r1
        run_pea volume create r2
        run_pea volume rm -a
        is "$output" $'r1\nr2'
        run_pea 125 volume rm
        is_error "choose either one or more volumes or all"
}

@test "volume export | volume import round trip" {
        run_pea volume create a
        run_pea volume inspect --format '{{.Mountpoint}}' a
        local ma=$output
        as_ns_root "mkdir -p $ma/dir/sub && printf 'hello\n' >$ma/dir/f &&
                ln -s f $ma/dir/link && chmod 640 $ma/dir/f && printf x >$ma/top"
        run_pea volume create b
        run_pea volume inspect --format '{{.Mountpoint}}' b
        local mb=$output

        run bash -c "$(pea_q) volume export a | $(pea_q) volume import b -"
        is "$status" 0 "export | import: $output"
        is "$(cd "$mb" && find . | sort)" "$(cd "$ma" && find . | sort)" "file lists"
        is "$(cat "$mb/dir/f")" hello
        is "$(cat "$mb/top")" x
        is "$(readlink "$mb/dir/link")" f
        is "$(stat -c %a "$mb/dir/f")" 640

        local tarfile=$BATS_TEST_TMPDIR/a.tar
        run_pea volume export -o "$tarfile" a
        run tar -tf "$tarfile"
        assert_line "dir/f"
        assert_line "top"
        run_pea volume create c
        run_pea volume import c "$tarfile"
        run_pea volume inspect --format '{{.Mountpoint}}' c
        is "$(cat "$output/dir/f")" hello

        run_pea 125 volume export nosuch
        is_error "no such volume nosuch"
        run_pea 125 volume import nosuch "$tarfile"
        is_error "no such volume nosuch"
}

@test "files written in the user namespace are the user's on the host" {
        skip_if_root "rootless ownership"
        run_pea volume create own
        run_pea volume inspect --format '{{.Mountpoint}}' own
        local mp=$output
        run_pea unshare sh -c "echo data >$mp/file && stat -c %u:%g $mp/file"
        is "$output" "0:0" "root inside the user namespace"
        is "$(stat -c %u:%g "$mp/file")" "$(id -u):$(id -g)" "the user on the host"
        is "$(cat "$mp/file")" data
}

# bats test_tags=rootful
@test "rootful: volumes under --root keep owners through export and import" {
        skip_if_rootless
        run_pea volume create ra
        run_pea volume inspect --format '{{.Mountpoint}}' ra
        local ma=$output
        is "$ma" "$(graph_root)/volumes/ra/_data"
        mkdir "$ma/d" && echo hi >"$ma/d/f" && chown 1:2 "$ma/d/f" && chown 3:4 "$ma/d"
        run_pea volume create rb
        run_pea volume inspect --format '{{.Mountpoint}}' rb
        local mb=$output
        run bash -c "$(pea_q) volume export ra | $(pea_q) volume import rb -"
        is "$status" 0 "export | import: $output"
        is "$(stat -c %u:%g "$mb/d/f")" 1:2
        is "$(stat -c %u:%g "$mb/d")" 3:4
        is "$(cat "$mb/d/f")" hi
}
