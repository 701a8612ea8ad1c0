#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea push: to the plain test registry and to the TLS one with basic auth.
# Results are checked with skopeo and curl against the registry, never with
# pea: a pushed image whose layers are unchanged has the pulled manifest
# digest; blobs the registry has are skipped; images without their original
# compressed blobs (docker-archive, import) get gzip layers and keep their ID.

load helpers

bats_require_minimum_version 1.5.0

ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

pea_direct() {
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" "$@"
}

# Rootless: a store of this file's own, so the layers pulled and loaded here
# are not already there from other files.
setup_file() {
        if [ -z "${PEA_TEST_ROOT:-}" ]; then
                export PEA_TEST_ROOT=$BATS_FILE_TMPDIR/root
                export PEA_IO_OWN_ROOT=1
        fi
}

teardown_file() {
        if [ "${PEA_IO_OWN_ROOT:-0}" = 1 ] && [ -d "$PEA_TEST_ROOT" ]; then
                "$PEA" --root "$PEA_TEST_ROOT" unshare rm -rf "$PEA_TEST_ROOT" 2>/dev/null ||
                        rm -rf "$PEA_TEST_ROOT" 2>/dev/null || true
        fi
}

setup() {
        pea_setup
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        command -v skopeo >/dev/null || skip "skopeo is not installed"
        command -v jq >/dev/null || skip "jq is not installed"
        REG_URL=${PEA_REGISTRY_URL:-http://$PEA_REGISTRY}
        # a repository no earlier run used: every blob is new to it
        REPO=pea-io-test/push-$(date +%s)-$$-$BATS_TEST_NUMBER
        T=$BATS_TEST_TMPDIR
}

# The manifest digest the registry reports (Docker-Content-Digest) for REPO:REF.
reg_digest() {
        curl -sfI -H "Accept: $ACCEPT" "$REG_URL/v2/$1/manifests/$2" |
                tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# sha256 of the raw manifest skopeo reads from docker://REF (plain registry).
raw_digest() {
        echo "sha256:$(skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | cut -d' ' -f1)"
}

@test "push: a pulled image to a new name keeps its manifest digest" {
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        local want
        want=$(raw_digest "$PEA_REGISTRY/busybox")
        run_pea push --tls-verify=false "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/$REPO"
        [[ $output == *"Copying blob sha256:"* ]] || die "no blob line: $output"
        [[ $output == *"Writing manifest to image destination"* ]] || die "no manifest line"
        run skopeo inspect --tls-verify=false "docker://$PEA_REGISTRY/$REPO"
        is "$status" 0 "skopeo inspect of the pushed image"
        is "$(raw_digest "$PEA_REGISTRY/$REPO")" "$want" "pushed manifest = pulled manifest"
        is "$(reg_digest "$REPO" latest)" "$want" "Docker-Content-Digest"
}

@test "push: blobs the registry has are skipped" {
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        run_pea push -q --tls-verify=false "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/$REPO:one"
        is "$output" "" "-q prints nothing"
        run_pea push --tls-verify=false "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/$REPO:two"
        [[ $output =~ Copying\ blob\ sha256:[0-9a-f]{64}\ skipped:\ already\ exists ]] ||
                die "the layer was not skipped: $output"
        is "$(reg_digest "$REPO" two)" "$(reg_digest "$REPO" one)" "same manifest under both tags"
}

@test "push: --format v2s2 and --digestfile" {
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        run_pea push -q --tls-verify=false --format v2s2 --digestfile "$T/digest" \
                "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/$REPO"
        local raw src
        src=$(skopeo inspect --tls-verify=false --raw "docker://$PEA_REGISTRY/busybox")
        raw=$(skopeo inspect --tls-verify=false --raw "docker://$PEA_REGISTRY/$REPO")
        is "$(jq -r .mediaType <<<"$raw")" application/vnd.docker.distribution.manifest.v2+json
        is "$(jq -r .config.digest <<<"$raw")" "$(jq -r .config.digest <<<"$src")" "same config"
        is "$(jq -r '.layers[].digest' <<<"$raw")" "$(jq -r '.layers[].digest' <<<"$src")" \
                "same layer blobs"
        is "$(cat "$T/digest")" "$(raw_digest "$PEA_REGISTRY/$REPO")" "--digestfile"
}

@test "push: a docker-archive image gets gzip layers and keeps its ID" {
        [ -n "${PEA_SHARED_FIXTURES:-}" ] || skip "no fixtures: PEA_SHARED_FIXTURES is not set"
        run_pea load -q -i "$PEA_SHARED_FIXTURES/busybox.docker.tar"
        run_pea push --tls-verify=false localhost/busybox-v2s2 "$PEA_REGISTRY/$REPO"
        local raw layer
        raw=$(skopeo inspect --tls-verify=false --raw "docker://$PEA_REGISTRY/$REPO")
        is "$(jq -r .config.digest <<<"$raw")" \
                sha256:1490336b3bac1c5fd904dcc730fbf2866a1801ee367ee5914c16c6cb2180eade "config = image ID"
        is "$(jq -r '.layers[0].mediaType' <<<"$raw")" application/vnd.docker.image.rootfs.diff.tar.gzip
        layer=$(jq -r '.layers[0].digest' <<<"$raw")
        curl -sfL -o "$T/layer" "$REG_URL/v2/$REPO/blobs/$layer" || die "fetching the layer"
        is "sha256:$(sha256sum <"$T/layer" | cut -d' ' -f1)" "$layer" "blob digest"
        is "$(gzip -dc "$T/layer" | sha256sum | cut -d' ' -f1)" \
                458b9597c6c15600f2d59da2ee59b0a079c30a29e37dea1adce7d79bcb628cbd \
                "the gunzipped layer is the diff_id"
        run_pea rmi localhost/busybox-v2s2
}

@test "push: an imported image; skopeo copies it back" {
        mkdir -p "$T/rootfs/etc"
        echo "push test $$" >"$T/rootfs/etc/pea-io-test"
        tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
        run_pea import -q "$T/rootfs.tar" pea-io-test/imported
        local id=${output#sha256:}
        run_pea push -q --tls-verify=false localhost/pea-io-test/imported "$PEA_REGISTRY/$REPO"
        run skopeo copy -q --src-tls-verify=false "docker://$PEA_REGISTRY/$REPO" "dir:$T/copy"
        is "$status" 0 "skopeo copy"
        is "$(jq -r .config.digest "$T/copy/manifest.json")" "sha256:$id" "config = image ID"
        local layer
        layer=$(jq -r '.layers[0].digest' "$T/copy/manifest.json")
        is "$(sha256sum <"$T/copy/${layer#sha256:}" | cut -d' ' -f1)" \
                "$(sha256sum <"$T/rootfs.tar" | cut -d' ' -f1)" "the layer is the tarball"
        run_pea rmi localhost/pea-io-test/imported
}

@test "push: layers another archive put in the store are mounted, the digest kept" {
        [ -n "${PEA_SHARED_FIXTURES:-}" ] || skip "no fixtures: PEA_SHARED_FIXTURES is not set"
        # the docker-archive puts the layers in the store without their gzip blobs
        run_pea load -q -i "$PEA_SHARED_FIXTURES/layers.docker.tar"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/layers"
        run_pea push --tls-verify=false "$PEA_REGISTRY/layers" "$PEA_REGISTRY/$REPO"
        is "$(raw_digest "$PEA_REGISTRY/$REPO")" "$(raw_digest "$PEA_REGISTRY/layers")" \
                "pushed manifest = pulled manifest"
        run_pea rmi localhost/layers-v2s2
}

@test "push: to the TLS registry with --creds and --cert-dir" {
        [ -n "${PEA_REGISTRY_TLS:-}" ] && [ -n "${PEA_REGISTRY_CERT_DIR:-}" ] ||
                skip "no TLS test registry: PEA_REGISTRY_TLS is not set"
        local creds=$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD want
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        want=$(raw_digest "$PEA_REGISTRY/busybox")
        run_pea push -q --creds "$creds" --cert-dir "$PEA_REGISTRY_CERT_DIR" \
                "$PEA_REGISTRY/busybox" "$PEA_REGISTRY_TLS/$REPO"
        run skopeo inspect --raw --creds "$creds" --cert-dir "$PEA_REGISTRY_CERT_DIR" \
                "docker://$PEA_REGISTRY_TLS/$REPO"
        is "$status" 0 "skopeo inspect"
        is "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" "$want" "same digest"
        # without credentials: one error line
        run_pea 125 push -q --cert-dir "$PEA_REGISTRY_CERT_DIR" "$PEA_REGISTRY/busybox" \
                "$PEA_REGISTRY_TLS/$REPO-noauth"
        is "${#lines[@]}" 1 "one line"
        [[ $output == Error:*"authentication required"* ]] || die "unexpected error: $output"
        # without the CA: the certificate is refused
        run_pea 125 push -q --creds "$creds" "$PEA_REGISTRY/busybox" "$PEA_REGISTRY_TLS/$REPO-noca"
        is "${#lines[@]}" 1 "one line"
        [[ $output == Error:*certificate* ]] || die "unexpected error: $output"
}

@test "push: errors" {
        run_pea 125 push --tls-verify=false no-such-image-$$ "$PEA_REGISTRY/$REPO"
        is "$output" "Error: no-such-image-$$: image not known"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        run_pea 125 push --tls-verify=false "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/Bad/Name"
        is "$output" "Error: invalid reference format: repository name must be lowercase"
        run_pea 125 push -q --tls-verify=false "$PEA_REGISTRY/busybox" 127.0.0.1:1/x
        is "${#lines[@]}" 1 "one line"
        [[ $output == Error:* ]] || die "not an error: $output"
        run_pea 125 push --format xml "$PEA_REGISTRY/busybox" "$PEA_REGISTRY/$REPO"
        is "$output" 'Error: unsupported manifest type "xml"'
}

@test "push: to oci-archive: writes an archive" {
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/busybox"
        run_pea push -q "$PEA_REGISTRY/busybox" "oci-archive:$T/out.tar"
        is "$(tar -xOf "$T/out.tar" index.json | jq -r '.manifests[0].digest')" \
                "$(raw_digest "$PEA_REGISTRY/busybox")" "the manifest as pulled"
}
