#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# cp (both ways, tar streams, symlinks that point out of the rootfs), export,
# commit, diff, and system df / prune / reset (in a private store, so the
# other test files keep theirs).

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
        WORK=$BATS_TEST_TMPDIR/work
        mkdir -p "$WORK"
}

teardown() {
        run_pea '?' rm -f cp-run cp-stopped cp-export cp-commit cp-commit-run cp-diff
        run_pea '?' rmi -f localhost/cp-committed:latest localhost/cp-committed2:latest
        if [ -n "${PRIV:-}" ] && [ -d "$PRIV" ]; then
                priv '?' system reset -f
        fi
}

# priv [EXPECTED_RC] ARGS: run_pea in a private store under $PRIV.
priv() {
        PEA_TEST_ROOT=$PRIV/root PEA_TEST_RUNROOT=$PRIV/run run_pea "$@"
}

@test "cp: out of a running container, files, directories and tar streams" {
        run_pea run -d --network none --name cp-run "$IMAGE" sh -c \
                'mkdir -p /data/sub && echo hello > /data/f && echo deep > /data/sub/g &&
                 ln -s / /escape && ln -s /data/f /link && touch /ready && exec sleep 1000'
        local _
        for _ in $(seq 50); do
                run_pea '?' cp cp-run:/ready "$WORK/ready"
                [ "$status" -eq 0 ] && break
                sleep 0.1
        done

        run_pea cp cp-run:/data/f "$WORK/f"
        is "$(cat "$WORK/f")" "hello" "a file copied out"
        is "$(stat -c %u "$WORK/f")" "$(id -u)" "copied-out files belong to the caller"

        run_pea cp cp-run:/data "$WORK/d"
        is "$(cat "$WORK/d/sub/g")" "deep" "a directory copied out under a new name"
        run_pea cp cp-run:/data "$WORK/d"
        is "$(cat "$WORK/d/data/f")" "hello" "a directory into an existing one lands below it"
        mkdir "$WORK/contents"
        run_pea cp cp-run:/data/. "$WORK/contents"
        is "$(cat "$WORK/contents/f")" "hello" "dir/. copies the contents"

        run_pea cp cp-run:/link "$WORK/link"
        is "$(cat "$WORK/link")" "hello" "a symlink source is followed inside the container"

        # /escape -> /: resolved inside the rootfs, never the host's /
        run_pea 125 cp cp-run:/escape/etc/os-release "$WORK/x"
        is "$output" "Error: \"/escape/etc/os-release\" could not be found on container cp-run: no such file or directory"
        run_pea cp cp-run:/escape/data/f "$WORK/via-escape"
        is "$(cat "$WORK/via-escape")" "hello" "/escape/data is the container's /data"

        run_pea 125 cp cp-run:/nonexistent "$WORK/y"
        is "$output" "Error: \"/nonexistent\" could not be found on container cp-run: no such file or directory"
        run_pea 125 cp cp-run:/data/f "$WORK/missing-dir/x"
        is "$output" "Error: \"$WORK/missing-dir/x\" could not be found on the host: no such file or directory"

        "$PEA" ${PEA_TEST_ROOT:+--root "$PEA_TEST_ROOT"} ${PEA_TEST_RUNROOT:+--runroot "$PEA_TEST_RUNROOT"} \
                cp cp-run:/data - >"$WORK/out.tar"
        run tar tf "$WORK/out.tar"
        is "$(sort <<<"$output" | tr '\n' ' ')" "data/ data/f data/sub/ data/sub/g " "cp CTR:DIR - is a tar"
}

@test "cp: into a running container, and from a tar stream on stdin" {
        run_pea run -d --network none --name cp-run "$IMAGE" sleep 1000
        mkdir -p "$WORK/src/sub"
        echo one >"$WORK/src/one"
        echo two >"$WORK/src/sub/two"

        run_pea cp "$WORK/src/one" cp-run:/tmp/
        run_pea exec cp-run cat /tmp/one
        is "$output" "one" "a file copied in"
        run_pea exec cp-run stat -c '%u:%g' /tmp/one
        is "$output" "0:0" "copied-in files belong to the container's root"

        run_pea cp "$WORK/src" cp-run:/copied
        run_pea exec cp-run cat /copied/sub/two
        is "$output" "two" "a directory copied in under a new name"

        run_pea 125 cp "$WORK/src/one" cp-run:/no/such/dir
        is "$output" "Error: \"/no/such/dir\" could not be found on container cp-run: no such file or directory"

        tar cf "$WORK/in.tar" -C "$WORK/src" .
        "$PEA" ${PEA_TEST_ROOT:+--root "$PEA_TEST_ROOT"} ${PEA_TEST_RUNROOT:+--runroot "$PEA_TEST_RUNROOT"} \
                cp - cp-run:/tmp <"$WORK/in.tar"
        run_pea exec cp-run cat /tmp/sub/two
        is "$output" "two" "a tar stream unpacked from stdin"

        run_pea 125 cp - cp-run:/nonexistent </dev/null
        is "$output" "Error: destination must be a directory when copying from stdin"

        # a symlink in the container that points to / must not lead to the host's /
        run_pea exec cp-run ln -s / /hostroot
        run_pea cp "$WORK/src/one" cp-run:/hostroot/tmp/through-link
        [ ! -e /tmp/through-link ] || die "cp wrote through a symlink onto the host"
        run_pea exec cp-run cat /tmp/through-link
        is "$output" "one" "the link resolved inside the container"
}

@test "cp: into a stopped container, then start sees the file" {
        run_pea create --network none --name cp-stopped "$IMAGE" cat /hello.txt
        echo "from the host" >"$WORK/hello.txt"
        run_pea cp "$WORK/hello.txt" cp-stopped:/hello.txt
        run_pea start -a cp-stopped
        is "$output" "from the host" "the started container sees the copied file"

        # a directory may not replace a file unless --overwrite
        mkdir -p "$WORK/ov/hello.txt"
        echo inner >"$WORK/ov/hello.txt/inner"
        run_pea 125 cp "$WORK/ov/hello.txt" cp-stopped:/
        is "$output" 'Error: cannot overwrite non-directory "/hello.txt" with directory'
        run_pea cp --overwrite "$WORK/ov/hello.txt" cp-stopped:/
        run_pea cp cp-stopped:/hello.txt/inner "$WORK/inner"
        is "$(cat "$WORK/inner")" "inner" "--overwrite replaced the file with the directory"
}

@test "export: the container's file system as a tar" {
        run_pea run --network none --name cp-export "$IMAGE" sh -c 'echo exported > /exported.txt'
        run_pea export -o "$WORK/export.tar" cp-export
        run tar tf "$WORK/export.tar"
        [[ "$output" == *exported.txt* ]] || die "export lacks /exported.txt: $output"
        [[ "$output" == *bin/busybox* ]] || die "export lacks the image's files"
        tar xf "$WORK/export.tar" -C "$WORK" exported.txt
        is "$(cat "$WORK/exported.txt")" "exported" "the exported file's content"
}

@test "diff and commit: the changes, then a run of the new image sees them" {
        run_pea run --network none --name cp-diff "$IMAGE" sh -c \
                'mkdir /newdir && echo hi > /newdir/f && rm /etc/group && echo x >> /etc/passwd'
        run_pea diff cp-diff
        is "$output" "C /etc
D /etc/group
C /etc/passwd
A /newdir
A /newdir/f" "diff lines"
        run_pea diff --format json cp-diff
        json_valid "$output"
        is "$(jq -c . <<<"$output")" \
                '{"changed":["/etc","/etc/passwd"],"added":["/newdir","/newdir/f"],"deleted":["/etc/group"]}'

        run_pea commit -q -c 'CMD=["cat","/newdir/f"]' -m "a message" cp-diff cp-committed
        is "$output" "[0-9a-f]{64}" "commit prints the image ID"
        local id=$output
        run_pea images --format '{{.ID}} {{.Repository}}:{{.Tag}}' localhost/cp-committed
        is "$output" "${id:0:12} localhost/cp-committed:latest"
        run_pea run --rm --network none cp-committed
        is "$output" "hi" "the new image's CMD and file"
        run_pea 1 run --rm --network none cp-committed ls /etc/group
        run_pea run --rm --network none cp-committed tail -n1 /etc/passwd
        is "$output" "x" "the change to a lower file"
        run_pea history --format '{{.Comment}}' cp-committed
        is "${lines[0]}" "a message" "the history comment"

        run_pea commit -q -f docker cp-diff cp-committed2
        run_pea run --rm --network none cp-committed2 cat /newdir/f
        is "$output" "hi" "a docker-format commit"
        run_pea 125 commit -f bogus cp-diff
        is "$output" 'Error: unrecognized image type "bogus"'
}

@test "system df, prune and reset in a private store" {
        PRIV=$BATS_TEST_TMPDIR/priv
        mkdir -p "$PRIV"
        priv system df --format '{{.Type}}:{{.Total}}:{{.Active}}'
        is "$output" "Images:0:0
Containers:0:0
Local Volumes:0:0" "an empty store"

        priv pull -q --tls-verify=false "$IMAGE"
        priv run --network none --name df-ctr "$IMAGE" sh -c 'echo data > /file'
        priv volume create df-vol
        priv system df --format '{{.Type}}:{{.Total}}:{{.Active}}'
        is "$output" "Images:1:1
Containers:1:0
Local Volumes:1:0" "after pull, run and volume create"
        priv system df
        is "${lines[0]}" "TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE" "df header"
        is "${lines[1]}" "Images +1 +1 +[0-9.]+[kM]?B +0B \(0%\)" "df images row"
        priv system df -v
        is "${lines[0]}" "Images space usage:"

        # a dangling image: commit without a name
        priv commit -q df-ctr
        local dangling=$output
        priv system prune -f
        is "$output" "Deleted Containers
[0-9a-f]{64}
Deleted Images
$dangling
Total reclaimed space: .*B" "prune removes the stopped container and the dangling image"
        priv ps -a --format '{{.Names}}'
        is "$output" "" "no containers left"
        priv images -q
        is "$(wc -l <<<"$output")" "1" "the named image stays"

        priv system reset <<<"n"
        [[ "$output" == *"Are you sure you want to continue? [y/N]"* ]] || die "no prompt"
        priv images -q
        is "$(wc -l <<<"$output")" "1" "answering n keeps everything"

        priv run -d --network none --name df-running "$IMAGE" sleep 1000
        priv system reset -f
        priv images -q
        is "$output" "" "reset: no images"
        priv ps -a -q
        is "$output" "" "reset: no containers"
        priv volume ls -q
        is "$output" "" "reset: no volumes"
}

# bats test_tags=rootful
@test "cp: ownership as root (--archive, copied-out files belong to the caller)" {
        run_pea run -d --network none --name cp-run "$IMAGE" sh -c \
                'echo x > /owned && chown 1234:1234 /owned && exec sleep 1000'
        echo in >"$WORK/in"
        chown 4321:4321 "$WORK/in"
        run_pea cp "$WORK/in" cp-run:/in-default
        run_pea cp --archive=false "$WORK/in" cp-run:/in-kept
        run_pea exec cp-run stat -c '%u:%g' /in-default /in-kept
        is "$output" "0:0
4321:4321" "--archive chowns to the container's root; --archive=false keeps the owner"
        local _
        for _ in $(seq 50); do
                run_pea exec cp-run stat -c %u /owned
                [ "$output" = 1234 ] && break
                sleep 0.1
        done
        run_pea cp cp-run:/owned "$WORK/owned"
        is "$(stat -c '%u:%g' "$WORK/owned")" "0:0" "a copied-out file belongs to the caller"
}
