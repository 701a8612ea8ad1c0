#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea save, load and import: docker-archive and oci-archive round trips keep
# the image ID (the config digest), archives are checked with tar and jq
# rather than with pea, broken input changes nothing, and a failed save
# leaves no file behind.

load helpers

bats_require_minimum_version 1.5.0

# pea with the test's --root/--runroot, for pipes and redirections run_pea cannot do.
pea_direct() {
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" "$@"
}

# Rootless: a store of this file's own, so other files' images do not interfere.
setup_file() {
        if [ -z "${PEA_TEST_ROOT:-}" ]; then
                export PEA_TEST_ROOT=$BATS_FILE_TMPDIR/root
                export PEA_IO_OWN_ROOT=1
        fi
}

# Layers hold files of subordinate ids: remove them inside the user namespace.
teardown_file() {
        if [ "${PEA_IO_OWN_ROOT:-0}" = 1 ] && [ -d "$PEA_TEST_ROOT" ]; then
                "$PEA" --root "$PEA_TEST_ROOT" unshare rm -rf "$PEA_TEST_ROOT" 2>/dev/null ||
                        rm -rf "$PEA_TEST_ROOT" 2>/dev/null || true
        fi
}

setup() {
        pea_setup
        command -v jq >/dev/null || skip "jq is not installed"
        T=$BATS_TEST_TMPDIR
        # a name no other test uses
        NAME=localhost/pea-io-test/img$$-$BATS_TEST_NUMBER
}

teardown() {
        pea_direct rmi -f "$NAME" >/dev/null 2>&1 || true
        pea_teardown
}

# A rootfs tarball ($T/rootfs.tar) holding /bin/busybox when the host has it,
# and a file whose content ($1) makes the image unique.
make_rootfs() {
        mkdir -p "$T/rootfs/bin" "$T/rootfs/etc"
        if [ -x /bin/busybox ]; then
                cp /bin/busybox "$T/rootfs/bin/busybox"
        fi
        echo "${1:-pea io test}" >"$T/rootfs/etc/pea-io-test"
        tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
}

# Imports $T/rootfs.tar as $NAME (extra args: --change ...); sets ID (64 hex).
import_image() {
        make_rootfs "$BATS_TEST_NAME $$"
        run_pea import -q "$@" "$T/rootfs.tar" "$NAME"
        [[ $output =~ ^sha256:([0-9a-f]{64})$ ]] || die "import printed '$output'"
        ID=${BASH_REMATCH[1]}
}

image_id() {
        pea_direct image inspect --format '{{.Id}}' "$1"
}

@test "import: --change and --message make the config" {
        import_image --change 'CMD=["/bin/busybox","sh"]' -c 'ENV FOO=bar' -c 'EXPOSE 8080' \
                -c 'WORKDIR=/srv' -c 'LABEL a=b' -m "imported by bats"
        # the config as stored, read from a saved archive: its sha256 is the ID
        run_pea save -q -o "$T/img.tar" "$NAME"
        tar -C "$T" -xf "$T/img.tar" "$ID.json"
        is "$(sha256sum <"$T/$ID.json" | cut -d' ' -f1)" "$ID" "config digest is the ID"
        local cfg=$T/$ID.json
        is "$(jq -c .config.Cmd "$cfg")" '["/bin/busybox","sh"]' "Cmd"
        is "$(jq -c .config.Env "$cfg")" '["FOO=bar"]' "Env"
        is "$(jq -c .config.ExposedPorts "$cfg")" '{"8080/tcp":{}}' "ExposedPorts"
        is "$(jq -r .config.WorkingDir "$cfg")" /srv "WorkingDir"
        is "$(jq -r .config.Labels.a "$cfg")" b "Labels"
        is "$(jq -r .os "$cfg")" linux "os"
        is "$(jq -r '.history[0].comment' "$cfg")" "imported by bats" "history comment"
        is "$(jq -r '.rootfs.diff_ids[0]' "$cfg")" "sha256:$(sha256sum <"$T/rootfs.tar" | cut -d' ' -f1)" \
                "the diff_id is the tarball's digest"
        run_pea image inspect --format '{{json .Config.Cmd}}' "$NAME"
        is "$output" '["/bin/busybox","sh"]' "inspect shows the Cmd"
}

@test "import: from stdin, gzip-compressed, without a name" {
        make_rootfs "stdin $$"
        gzip -c "$T/rootfs.tar" >"$T/rootfs.tar.gz"
        run pea_direct import -q - <"$T/rootfs.tar.gz"
        is "$status" 0 "import from stdin"
        [[ $output =~ ^sha256:([0-9a-f]{64})$ ]] || die "import printed '$output'"
        local id=${BASH_REMATCH[1]}
        run_pea image inspect --format '{{json .RepoTags}}' "$id"
        is "$output" "[]" "no name"
        run_pea rmi "$id"
}

@test "import: errors" {
        run_pea 125 import /nonexistent/rootfs.tar
        is "$output" "Error: opening '/nonexistent/rootfs.tar': No such file or directory"
        echo "not a tarball" >"$T/garbage"
        run_pea 125 import -q "$T/garbage" "$NAME"
        is "$output" "Error: the input is not a tar archive: Unrecognized archive format"
        run_pea 1 image exists "$NAME"
        run_pea 125 import -c 'FROM busybox' "$T/garbage" "$NAME"
        is "$output" "Error: invalid change 'FROM busybox': unknown instruction 'FROM'"
}

@test "save/load: docker-archive round trip keeps the image ID" {
        import_image
        run_pea save -o "$T/img.tar" "$NAME"
        [[ $output == *"Copying config sha256:$ID"* ]] || die "no progress: $output"
        # docker save's layout, checked without pea
        tar -C "$T" -xf "$T/img.tar" manifest.json repositories
        is "$(jq -r '.[0].Config' "$T/manifest.json")" "$ID.json" "manifest.json Config"
        is "$(jq -r '.[0].RepoTags[0]' "$T/manifest.json")" "$NAME:latest" "manifest.json RepoTags"
        local layer
        layer=$(jq -r '.[0].Layers[0]' "$T/manifest.json")
        is "$(tar -xOf "$T/img.tar" "$layer" | sha256sum | cut -d' ' -f1).tar" "$layer" \
                "the layer is the plain tar, named by its diff_id"
        is "$(tar -xOf "$T/img.tar" "$layer" | sha256sum | cut -d' ' -f1)" \
                "$(sha256sum <"$T/rootfs.tar" | cut -d' ' -f1)" "the layer is the imported tarball"
        is "$(jq -r 'keys[0]' "$T/repositories")" "$NAME" "repositories"

        run_pea rmi "$NAME"
        run_pea 1 image exists "$ID"
        run_pea load -i "$T/img.tar"
        is "${lines[-1]}" "Loaded image: $NAME:latest"
        is "$(image_id "$NAME")" "$ID" "same ID after save, rmi, load"
}

@test "save/load: oci-archive round trip keeps the ID and the manifest digest" {
        import_image
        local digest
        run_pea image inspect --format '{{.Digest}}' "$NAME"
        digest=$output
        run_pea save -q --format oci-archive -o "$T/img.oci.tar" "$NAME"
        tar -C "$T" -xf "$T/img.oci.tar" index.json oci-layout
        is "$(jq -r .imageLayoutVersion "$T/oci-layout")" 1.0.0 "oci-layout"
        is "$(jq -r '.manifests[0].digest' "$T/index.json")" "$digest" "index.json digest"
        is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/index.json")" \
                "$NAME:latest" "ref.name annotation"
        local hex=${digest#sha256:}
        is "$(tar -xOf "$T/img.oci.tar" "blobs/sha256/$hex" | sha256sum | cut -d' ' -f1)" "$hex" \
                "the manifest blob"
        is "$(tar -xOf "$T/img.oci.tar" "blobs/sha256/$hex" | jq -r .config.digest)" "sha256:$ID" \
                "the manifest names the config"

        run_pea rmi "$NAME"
        run_pea load -q -i "$T/img.oci.tar"
        is "$output" "Loaded image: $NAME:latest"
        is "$(image_id "$NAME")" "$ID" "same ID"
        run_pea image inspect --format '{{.Digest}}' "$NAME"
        is "$output" "$digest" "same manifest digest"
        if command -v skopeo >/dev/null; then
                run skopeo inspect --raw "oci-archive:$T/img.oci.tar"
                is "$status" 0 "skopeo reads the archive"
        fi
}

@test "save/load: stdout and stdin, also gzip-compressed; a terminal is refused" {
        import_image
        pea_direct save "$NAME" >"$T/out.tar" 2>"$T/err"
        tar -tf "$T/out.tar" | grep -qx manifest.json || die "stdout is no docker-archive"
        run_pea rmi "$NAME"
        gzip -c "$T/out.tar" | pea_direct load -q >"$T/loaded" 2>&1 || die "load from stdin failed: $(cat "$T/loaded")"
        is "$(cat "$T/loaded")" "Loaded image: $NAME:latest"
        is "$(image_id "$NAME")" "$ID" "same ID"
        if command -v script >/dev/null; then
                local flags=""
                [ -n "${PEA_TEST_ROOT:-}" ] && flags="--root $PEA_TEST_ROOT"
                [ -n "${PEA_TEST_RUNROOT:-}" ] && flags="$flags --runroot $PEA_TEST_RUNROOT"
                run script -qec "$PEA $flags save $NAME" /dev/null
                [[ $output == *"Error: refusing to save to terminal. Use -o flag or redirect"* ]] ||
                        die "saved to a terminal: $output"
        fi
}

@test "save: several images in one archive load back" {
        local name2=$NAME-two id1 id2 fmt
        import_image
        id1=$ID
        make_rootfs "second $$"
        run_pea import -q "$T/rootfs.tar" "$name2"
        id2=${output#sha256:}
        for fmt in docker-archive oci-archive; do
                run_pea save -q -m --format "$fmt" -o "$T/multi.tar" "$NAME" "$name2"
                run_pea rmi "$NAME" "$name2"
                run_pea 1 image exists "$id1"
                run_pea load -q -i "$T/multi.tar"
                is "$output" "Loaded image: $NAME:latest"$'\n'"Loaded image: $name2:latest" \
                        "$fmt: both loaded"
                is "$(image_id "$NAME")" "$id1" "$fmt: first ID"
                is "$(image_id "$name2")" "$id2" "$fmt: second ID"
        done
        run_pea rmi "$name2"
}

@test "load: the shared fixture archives give the fixtures' config digests" {
        [ -n "${PEA_SHARED_FIXTURES:-}" ] || skip "no fixtures: PEA_SHARED_FIXTURES is not set"
        local f want name
        for f in busybox.docker.tar:1490336b3bac1c5fd904dcc730fbf2866a1801ee367ee5914c16c6cb2180eade \
                busybox.oci.tar:6d3392eeb8d08f27a75d98ced58365d9ad4336ea150803f60e8c20c25ee643e8 \
                layers.docker.tar:380bf5cbd18dc4c4cff8faf04432370d00408ba86c5394284e4696196bad38e0; do
                want=${f#*:}
                run_pea load -q -i "$PEA_SHARED_FIXTURES/${f%%:*}"
                [[ $output =~ ^Loaded\ image:\ (.*)$ ]] || die "load printed '$output'"
                name=${BASH_REMATCH[1]}
                is "$(image_id "$name")" "$want" "${f%%:*}"
                run_pea rmi "$name"
        done
}

@test "load: docker-archive of a fixture, saved again, has the same layer and config bytes" {
        [ -n "${PEA_SHARED_FIXTURES:-}" ] || skip "no fixtures: PEA_SHARED_FIXTURES is not set"
        local fx=$PEA_SHARED_FIXTURES/busybox.docker.tar
        run_pea load -q -i "$fx"
        is "$output" "Loaded image: localhost/busybox-v2s2:latest"
        run_pea save -q -o "$T/again.tar" localhost/busybox-v2s2:latest
        local cfg=1490336b3bac1c5fd904dcc730fbf2866a1801ee367ee5914c16c6cb2180eade.json
        local layer=458b9597c6c15600f2d59da2ee59b0a079c30a29e37dea1adce7d79bcb628cbd.tar
        cmp <(tar -xOf "$fx" "$cfg") <(tar -xOf "$T/again.tar" "$cfg") || die "config differs"
        cmp <(tar -xOf "$fx" "$layer") <(tar -xOf "$T/again.tar" "$layer") || die "layer differs"
        run_pea rmi localhost/busybox-v2s2:latest
}

@test "load: a truncated or broken archive fails with one Error line and changes nothing" {
        import_image
        run_pea save -q -o "$T/full.tar" "$NAME"
        run_pea rmi "$NAME"
        local before size
        run_pea images -a -q --no-trunc
        before=$(sort <<<"$output")
        size=$(stat -c %s "$T/full.tar")
        head -c $((size / 2)) "$T/full.tar" >"$T/trunc.tar"
        echo "garbage" >"$T/garbage.tar"
        for f in trunc.tar garbage.tar; do
                run_pea 125 load -q -i "$T/$f"
                is "${#lines[@]}" 1 "$f: one line"
                [[ ${lines[0]} == Error:* ]] || die "$f: not an error line: ${lines[0]}"
        done
        run_pea 125 load -i "$T/nonexistent.tar"
        is "$output" "Error: opening '$T/nonexistent.tar': No such file or directory"
        run_pea images -a -q --no-trunc
        is "$(sort <<<"$output")" "$before" "images unchanged"
}

@test "save: a failure leaves no file behind" {
        # rootless pea runs as root of its user namespace: only a directory of an
        # unmapped owner (real root) is out of its reach
        skip_if_root "root may write everywhere"
        [ "$(stat -c %u /var/lib)" = 0 ] && [ ! -w /var/lib ] || skip "/var/lib is writable"
        import_image
        local out=/var/lib/pea-io-test-$$.tar
        run_pea 125 save -o "$out" "$NAME"
        is "${#lines[@]}" 1 "one line"
        [[ ${lines[0]} == Error:* ]] || die "not an error line: ${lines[0]}"
        is "$(find /var/lib -maxdepth 1 -name "*pea-io-test-$$*")" "" "nothing left in /var/lib"
        mkdir "$T/out"
        run_pea 125 save -q -o "$T/out/out.tar" "$NAME" no-such-image-$$
        is "$output" "Error: no-such-image-$$: image not known"
        is "$(ls -A "$T/out")" "" "no partial archive"
        run_pea 125 save -q --format oci-dir -o "$T/out/layout" no-such-image-$$
        is "$(ls -A "$T/out")" "" "no partial directory"
}

@test "save: oci-dir and docker-dir are directories skopeo reads" {
        command -v skopeo >/dev/null || skip "skopeo is not installed"
        import_image
        run_pea save -q --format oci-dir -o "$T/layout" "$NAME"
        run skopeo inspect --raw "oci:$T/layout"
        is "$status" 0 "skopeo reads the OCI layout"
        is "$(jq -r .config.digest <<<"$output")" "sha256:$ID" "OCI layout config"
        run_pea save -q --format docker-dir -o "$T/dir" "$NAME"
        run skopeo inspect --raw "dir:$T/dir"
        is "$status" 0 "skopeo reads the dir"
        is "$(jq -r .mediaType <<<"$output")" application/vnd.docker.distribution.manifest.v2+json
        is "$(jq -r .config.digest <<<"$output")" "sha256:$ID" "dir config"
}

# bats test_tags=rootful
@test "save/load as root: both formats keep the image ID" {
        skip_if_rootless
        import_image -c 'CMD ["/bin/busybox"]'
        local fmt
        for fmt in docker-archive oci-archive; do
                run_pea save -q --format "$fmt" -o "$T/img.tar" "$NAME"
                run_pea rmi "$NAME"
                run_pea load -q -i "$T/img.tar"
                is "$output" "Loaded image: $NAME:latest" "$fmt"
                is "$(image_id "$NAME")" "$ID" "$fmt: same ID"
        done
}
