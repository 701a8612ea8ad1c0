#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea pull: every fixture of the test registry with the digests the registry
# reports (asked with curl), what the layers fixture looks like on disk,
# platforms, short names through registries.conf, concurrency, a kill -9
# midway, and malformed images from tests/tools/fake-registry.py.

load helpers
load image-helpers

bats_require_minimum_version 1.5.0

setup_file() {
        image_setup_file
}

teardown_file() {
        local pid
        pid=$(cat "$BATS_FILE_TMPDIR/fake-pid" 2>/dev/null) || true
        if [ -n "$pid" ]; then
                kill "$pid" 2>/dev/null || true
        fi
        image_teardown_file
}

# Starts tests/tools/fake-registry.py (once per file); sets FAKE to 127.0.0.1:PORT.
start_fake_registry() {
        local tool
        for tool in "$BATS_TEST_DIRNAME/../tools/fake-registry.py" "${PEA_TEST_TOOLS:-}/fake-registry.py"; do
                [ -f "$tool" ] && break
        done
        [ -f "$tool" ] || skip "tests/tools/fake-registry.py is not staged next to tests/system"
        command -v python3 >/dev/null || skip "python3 is not installed"
        ESCAPE=$BATS_FILE_TMPDIR/escape
        FAKE_TOOL=$tool
        local portfile=$BATS_FILE_TMPDIR/fake-port
        if [ ! -s "$portfile" ]; then
                python3 "$tool" --escape "$ESCAPE" --port-file "$portfile" >/dev/null 2>&1 3>&- &
                echo "$!" >"$BATS_FILE_TMPDIR/fake-pid"
                for _ in $(seq 50); do
                        [ -s "$portfile" ] && break
                        sleep 0.1
                done
        fi
        [ -s "$portfile" ] || die "fake registry did not start"
        FAKE=127.0.0.1:$(cat "$portfile")
}

# fake_pull_fails REPO[@DIGEST] REGEX: one Error line matching, nothing stored, nothing left.
fake_pull_fails() {
        local before
        before=$(image_ids)
        run_pea 125 pull -q --tls-verify=false "$FAKE/$1"
        is "${#lines[@]}" 1 "one line of output for $1"
        is "$output" "Error: $2"
        is "$(image_ids)" "$before" "images unchanged after $1"
        [ ! -e "$ESCAPE" ] || die "$1 created $ESCAPE"
        assert_no_tmp
}

@test "pull: each fixture's ID is its config digest, its Digest the registry's" {
        require_registry
        local name n=0
        for name in $IMAGE_FIXTURES; do
                reg_has "$name" || continue
                n=$((n + 1))
                local digest config
                digest=$(reg_digest "$name" latest)
                config=$(reg_config "$name" latest)
                [ -n "$digest" ] && [ -n "$config" ] || die "registry gave no digests for $name"

                run_pea pull -q --tls-verify=false "$PEA_REGISTRY/$name"
                is "$output" "${config#sha256:}" "pull -q $name prints the config digest"

                # (one row per name: an image pulled under two names has two)
                run_pea images --digests --format '{{.Repository}} {{.Digest}} {{.ID}}' \
                        "$PEA_REGISTRY/$name"
                assert_line "$PEA_REGISTRY/$name $digest ${config:7:12}"
                run_pea image inspect --format '{{.Digest}} {{.Id}}' "$PEA_REGISTRY/$name"
                is "$output" "$digest ${config#sha256:}" "image inspect of $name"
        done
        [ "$n" -ge 8 ] || die "only $n fixtures in the registry"
        assert_no_tmp
}

@test "pull: podman's progress lines on stderr, the ID on stdout" {
        require_registry
        local out err
        out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
        pea_direct pull --tls-verify=false "$PEA_REGISTRY/busybox" >"$out" 2>"$err" ||
                die "pull failed: $(cat "$err")"
        local config
        config=$(reg_config busybox latest)
        is "$(cat "$out")" "${config#sha256:}" "stdout is the ID"
        run cat "$err"
        is "${lines[0]}" "Trying to pull $PEA_REGISTRY/busybox:latest..."
        is "${lines[1]}" "Getting image source signatures"
        is "${lines[2]}" "Copying blob sha256:[0-9a-f]{64}"
        is "${lines[3]}" "Copying config $config"
        is "${lines[4]}" "Writing manifest to image destination"
        is "${lines[5]}" "Storing signatures"
        is "${#lines[@]}" 6 "number of progress lines"

        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        is "$output" "${config#sha256:}" "-q: the ID alone"
}

@test "pull by digest: named REPO@DIGEST without a tag" {
        require_registry
        local digest config
        digest=$(reg_digest busybox-zstd latest)
        config=$(reg_config busybox-zstd latest)
        run_pea rmi -f -i "$PEA_REGISTRY/busybox-zstd"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox-zstd@$digest"
        is "$output" "${config#sha256:}"
        run_pea image inspect --format '{{.RepoTags}} {{.Digest}}' "${config#sha256:}"
        is "$output" "\[\] $digest"
        run_pea image inspect --format '{{index .NamesHistory 0}}' "${config#sha256:}"
        is "$output" "$PEA_REGISTRY/busybox-zstd@$digest"
        run_pea images --format '{{.Repository}} {{.Tag}}' "$PEA_REGISTRY/busybox-zstd"
        is "$output" "$PEA_REGISTRY/busybox-zstd <none>"
}

@test "pull --arch and --platform pick the entry of an index" {
        require_registry
        local name want
        for name in multiarch multiarch-v2s2; do
                reg_has "$name" || continue
                want=$(reg_config "$name" latest arm64)
                run_pea pull -q --tls-verify=false --arch arm64 "$PEA_REGISTRY/$name"
                is "$output" "${want#sha256:}" "$name --arch arm64"
                run_pea image inspect --format '{{.Architecture}}' "$PEA_REGISTRY/$name"
                is "$output" "arm64"

                want=$(reg_config "$name" latest amd64)
                run_pea pull -q --tls-verify=false --platform linux/amd64 "$PEA_REGISTRY/$name"
                is "$output" "${want#sha256:}" "$name --platform linux/amd64"
        done
        run_pea 125 pull -q --tls-verify=false --arch s390x "$PEA_REGISTRY/multiarch"
        is "$output" "Error: choosing an image from manifest list docker://$PEA_REGISTRY/multiarch:latest: no image found in image index for architecture s390x.*"
        run_pea 125 pull --platform linux/arm64 --arch arm64 "$PEA_REGISTRY/multiarch"
        is "$output" "Error: --platform option can not be specified with --arch or --os"
}

@test "pull layers: owners, whiteouts, hard links and setuid bits on disk" {
        require_registry
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/layers"
        local diffs l2 l3
        mapfile -t diffs < <(reg_diff_ids layers latest)
        is "${#diffs[@]}" 5 "layers has five layers"
        l2=$(layer_dir "${diffs[1]}")/diff || die "no directory for layer 2"
        l3=$(layer_dir "${diffs[2]}")/diff || die "no directory for layer 3"

        # uid/gid 1000 in the image: the 1000th id of the user namespace on disk
        local uid gid
        uid=$(host_id /etc/subuid 1000) && gid=$(host_id /etc/subgid 1000) ||
                die "no subordinate ids for $(id -un)"
        is "$(stat -c %u:%g "$l2/work/owned-1000")" "$uid:$gid" "owner of work/owned-1000"
        is "$(stat -c %u:%g "$l2/home/tester")" "$uid:$gid" "owner of /home/tester"
        is "$(stat -c %u "$l2/work/hello.txt")" "$(host_id /etc/subuid 0)" "root's files"

        is "$(stat -c %a "$l2/usr/local/bin/euid-status")" 4755 "setuid bit"
        is "$(stat -c %a "$l2/work/setgid-dir")" 2775 "setgid directory"
        local inodes
        inodes=$(stat -c '%i %h' "$l2/work/hardlink-src" "$l2/work/hardlink-dst" \
                "$l2/work/sub/hardlink-3" | sort -u)
        is "$inodes" "[0-9]+ 3" "three hard links share one inode"
        is "$(readlink "$l2/work/symlink-abs")" "/etc/passwd" "absolute symlink kept as is"

        # deletions: 0:0 character devices, or ".wh." files where mknod was refused
        local p
        for p in work/deleted.txt work/gone-dir bin/vi; do
                local dir=${p%/*} base=${p##*/}
                if [ -e "$l3/$dir/.wh.$base" ]; then
                        is "$(stat -c %F "$l3/$dir/.wh.$base")" "regular empty file" "$p"
                else
                        is "$(stat -c '%F %t:%T' "$l3/$p")" "character special file 0:0" "$p"
                fi
        done
        assert_no_tmp
}

@test "pull of a missing image: one Error line, exit 125" {
        require_registry
        local before
        before=$(image_ids)
        run_pea 125 pull --tls-verify=false "$PEA_REGISTRY/no-such-image"
        is "${lines[0]}" "Trying to pull $PEA_REGISTRY/no-such-image:latest..."
        is "${lines[1]}" "Error: initializing source docker://$PEA_REGISTRY/no-such-image:latest: reading manifest latest in $PEA_REGISTRY/no-such-image: .*unknown.*"
        is "${#lines[@]}" 2 "Trying line and one Error line"
        run_pea 125 pull -q --tls-verify=false "$PEA_REGISTRY/busybox:no-such-tag"
        is "$output" "Error: initializing source docker://.* manifest unknown.*"
        is "$(image_ids)" "$before" "images unchanged"
}

@test "pull: short names and insecure registries from registries.conf" {
        require_registry
        local conf=$BATS_TEST_TMPDIR/registries.conf
        cat >"$conf" <<EOF
unqualified-search-registries = ["127.0.0.1:1", "$PEA_REGISTRY"]

[[registry]]
location = "$PEA_REGISTRY"
insecure = true

[[registry]]
location = "127.0.0.1:1"
insecure = true
EOF
        # (busybox itself has an alias in Debian's shortnames.conf: docker.io)
        CONTAINERS_REGISTRIES_CONF=$conf run_pea pull busybox-zstd
        assert_line "Trying to pull 127.0.0.1:1/busybox-zstd:latest..."
        assert_line "Trying to pull $PEA_REGISTRY/busybox-zstd:latest..."
        local config
        config=$(reg_config busybox-zstd latest)
        is "${lines[-1]}" "${config#sha256:}"
        # a short name finds the pulled image
        CONTAINERS_REGISTRIES_CONF=$conf run_pea image inspect --format '{{.Id}}' busybox-zstd
        is "$output" "${config#sha256:}"

        CONTAINERS_REGISTRIES_CONF=$conf run_pea 125 pull no-such-image
        is "$output" ".*Error: 2 errors occurred while pulling:.*"

        echo 'unqualified-search-registries = []' >"$conf"
        CONTAINERS_REGISTRIES_CONF=$conf run_pea 125 pull busybox-nope
        is "$output" "Error: short-name \"busybox-nope\" did not resolve to an alias and no unqualified-search registries are defined in \"$conf\""
}

@test "pull: two concurrent pulls of one image both succeed and store one copy" {
        require_registry
        run_pea rmi -f -i "$PEA_REGISTRY/layers" "$PEA_REGISTRY/layers-v2s2"
        local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b pa pb
        pea_direct pull -q --tls-verify=false "$PEA_REGISTRY/layers" >"$a" 2>&1 &
        pa=$!
        pea_direct pull -q --tls-verify=false "$PEA_REGISTRY/layers" >"$b" 2>&1 &
        pb=$!
        wait "$pa" || die "first pull failed: $(cat "$a")"
        wait "$pb" || die "second pull failed: $(cat "$b")"
        local config
        config=$(reg_config layers latest)
        is "$(cat "$a")" "${config#sha256:}"
        is "$(cat "$b")" "${config#sha256:}"
        # one directory per layer (chain), however the unpacking raced
        local d n=0
        for d in $(reg_diff_ids layers latest); do
                local count
                count=$(grep -l "\"diff_id\": *\"$d\"" "$(graph_root)"/layers/*/layer.json | wc -l)
                n=$((n + count))
        done
        is "$n" 5 "layer directories of the five layers"
        run_pea images -q --no-trunc "$PEA_REGISTRY/layers"
        is "$output" "$config"
        assert_no_tmp
}

@test "pull: rmi of an image sharing a layer with a running pull breaks neither" {
        require_registry
        local out=$BATS_TEST_TMPDIR/out pid
        for _ in 1 2 3; do
                run_pea rmi -f -i "$PEA_REGISTRY/layers" "$PEA_REGISTRY/layers-v2s2"
                run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
                pea_direct pull -q --tls-verify=false "$PEA_REGISTRY/layers" >"$out" 2>&1 &
                pid=$!
                run_pea '?' rmi "$PEA_REGISTRY/busybox"
                wait "$pid" || die "pull of layers failed: $(cat "$out")"
                run_pea image exists "$PEA_REGISTRY/layers"
                run_pea 1 image exists "$PEA_REGISTRY/busybox"
                # the shared base layer is still whole: busybox comes back from it
                run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        done
        local l1
        l1=$(layer_dir "$(reg_diff_ids busybox latest | head -n1)") || die "base layer missing"
        [ -x "$l1/diff/bin/busybox" ] || die "base layer lost bin/busybox"
        assert_no_tmp
}

@test "pull: kill -9 midway leaves no image, and the next pull succeeds" {
        require_registry
        # the biggest fixture there is (36 MB of debian take about a second)
        local name=layers delay=0.1 big
        for big in debian caddy nginx registry; do
                if reg_has "$big"; then
                        name=$big delay=0.3
                        break
                fi
        done
        # an empty store (this file's own): every layer must be fetched
        run_pea rmi -a -f
        local before pid
        before=$(image_ids)
        # pea itself in the background (not a subshell running it), so that $! is pea's PID
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/$name" >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" || skip "the pull of $name ended within $delay s: nothing to interrupt"
        wait "$pid" 2>/dev/null || true
        is "$(image_ids)" "$before" "no half image is listed"
        run_pea 1 image exists "$PEA_REGISTRY/$name"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/$name"
        local config
        config=$(reg_config "$name" latest)
        is "$output" "${config#sha256:}"
        assert_no_tmp
}

@test "pull: malformed images are refused with one error and leave the store as it was" {
        start_fake_registry
        run_pea pull -q --tls-verify=false "$FAKE/good"
        is "$output" "[0-9a-f]{64}" "the fake registry serves a good image"

        fake_pull_fails traversal "copying blob sha256:[0-9a-f]{64}: .*'../escape'.*"
        fake_pull_fails truncated "copying blob sha256:[0-9a-f]{64}: .*mismatch.*"
        fake_pull_fails badconfig "copying config sha256:[0-9a-f]{64}: digest mismatch.*"
        fake_pull_fails baddiffid "copying blob sha256:[0-9a-f]{64}: layer diff ID mismatch.*"
        local digest
        digest=$(python3 "$FAKE_TOOL" --print-digest badmanifest)
        fake_pull_fails "badmanifest@$digest" "initializing source docker://$FAKE/badmanifest@$digest: .*digest mismatch.*"
        fake_pull_fails no-such-repo "initializing source docker://$FAKE/no-such-repo:latest: .*"
}

@test "pull: a symlink out of the layer is refused, nothing is written through it" {
        start_fake_registry
        local before
        before=$(image_ids)
        run_pea 125 pull -q --tls-verify=false "$FAKE/symlink"
        is "${#lines[@]}" 1 "refused with one line"
        is "$output" "Error: copying blob sha256:[0-9a-f]{64}: .*layer entry 'evil/owned'.*leads out of the layer directory through a symlink"
        [ ! -e "$ESCAPE" ] || die "symlink wrote through the symlink to $ESCAPE"
        is "$(image_ids)" "$before" "images unchanged after symlink"
        # split over two layers: with overlay layers the second one never sees the
        # symlink (its evil/ is a directory over it), with applied layers (vfs) it is refused
        run_pea '?' pull -q --tls-verify=false "$FAKE/symlink2"
        if [ "$status" -ne 0 ]; then
                is "${#lines[@]}" 1 "refused with one line"
                is "$output" "Error: .*leads out of the layer directory through a symlink"
                is "$(image_ids)" "$before" "images unchanged after symlink2"
        fi
        [ ! -e "$ESCAPE" ] || die "symlink2 wrote through the symlink to $ESCAPE"
        assert_no_tmp
}

# bats test_tags=rootful
@test "pull as root: the image and its files belong to root" {
        skip_if_rootless
        require_registry
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/layers"
        local l2
        l2=$(layer_dir "$(reg_diff_ids layers latest | sed -n 2p)")/diff || die "no layer 2"
        is "$(stat -c %u:%g "$l2/work/owned-1000")" "1000:1000"
        is "$(stat -c %u:%g "$l2/work/hello.txt")" "0:0"
        run_pea rmi "$PEA_REGISTRY/layers"
}
