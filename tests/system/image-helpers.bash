# -*- bash -*-
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154 # output, status and lines are set by bats' run
#
# Helpers of the image tests (030-pull, 031-images, 032-login): a private
# store per file, the test registry asked directly with curl (never through
# pea), and id mappings computed from /etc/subuid.

ACCEPT_MANIFESTS="application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

# The fixtures pulled by name from the plain registry (those it has).
# shellcheck disable=SC2034 # used by the .bats files
IMAGE_FIXTURES="busybox busybox-v2s2 busybox-uncompressed busybox-zstd multiarch multiarch-v2s2 layers layers-v2s2 debian caddy nginx registry"

# Rootless: a store of this file's own under BATS_FILE_TMPDIR, so counts of
# layers and images are not disturbed by other files. Root: test-all's.
image_setup_file() {
        if [ -z "${PEA_TEST_ROOT:-}" ]; then
                export PEA_TEST_ROOT=$BATS_FILE_TMPDIR/root
                export PEA_IMAGE_OWN_ROOT=1
        fi
}

# Layers hold files of subordinate ids: remove them inside the user namespace.
image_teardown_file() {
        if [ "${PEA_IMAGE_OWN_ROOT:-0}" = 1 ] && [ -d "$PEA_TEST_ROOT" ]; then
                "$PEA" --root "$PEA_TEST_ROOT" unshare rm -rf "$PEA_TEST_ROOT" 2>/dev/null ||
                        rm -rf "$PEA_TEST_ROOT" 2>/dev/null || true
        fi
}

require_registry() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        command -v jq >/dev/null || skip "jq is not installed"
        command -v curl >/dev/null || skip "curl is not installed"
        REG_URL=${PEA_REGISTRY_URL:-http://$PEA_REGISTRY}
}

# pea with the test's --root/--runroot, for background jobs and redirections.
pea_direct() {
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" "$@"
}

# The graph root of the store under test.
graph_root() {
        if [ -n "${PEA_TEST_ROOT:-}" ]; then
                echo "$PEA_TEST_ROOT"
        else
                echo "${XDG_DATA_HOME:-$HOME/.local/share}/containers/pea"
        fi
}

# reg_manifest REPO REF: the manifest (or index) as the plain registry serves it.
reg_manifest() {
        curl -sf -H "Accept: $ACCEPT_MANIFESTS" "$REG_URL/v2/$1/manifests/$2"
}

# reg_digest REPO REF: the registry's Docker-Content-Digest for REF.
reg_digest() {
        curl -sfI -H "Accept: $ACCEPT_MANIFESTS" "$REG_URL/v2/$1/manifests/$2" |
                awk 'tolower($1) == "docker-content-digest:" { print $2 }' | tr -d '\r'
}

# reg_has REPO: true when the plain registry holds REPO:latest.
reg_has() {
        curl -sfI -o /dev/null -H "Accept: $ACCEPT_MANIFESTS" "$REG_URL/v2/$1/manifests/latest"
}

host_arch() {
        case $(uname -m) in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        *) uname -m ;;
        esac
}

# reg_config REPO REF [ARCH]: the config digest (the image ID pea must report);
# an index is resolved for ARCH (default: this host's).
reg_config() {
        local m arch=${3:-$(host_arch)} d
        m=$(reg_manifest "$1" "$2") || return 1
        if jq -e '.manifests' >/dev/null <<<"$m"; then
                d=$(jq -r --arg a "$arch" \
                        '[.manifests[] | select(.platform.architecture == $a)][0].digest' <<<"$m")
                m=$(reg_manifest "$1" "$d") || return 1
        fi
        jq -r .config.digest <<<"$m"
}

# reg_diff_ids REPO REF: the diff IDs of the config, one a line.
reg_diff_ids() {
        local cfg
        cfg=$(reg_config "$1" "$2") || return 1
        curl -sf "$REG_URL/v2/$1/blobs/$cfg" | jq -r '.rootfs.diff_ids[]'
}

# layer_dir DIFF_ID: the store's layer directory holding that diff (by layer.json).
layer_dir() {
        local f
        f=$(grep -l "\"diff_id\": *\"$1\"" "$(graph_root)"/layers/*/layer.json 2>/dev/null | head -n1)
        [ -n "$f" ] || return 1
        dirname "$f"
}

# host_id FILE ID: the host id that id ID of a rootless container maps to:
# 0 is the user itself, 1.. the ranges of FILE (/etc/subuid or /etc/subgid).
host_id() {
        if ! is_rootless; then
                echo "$2"
                return
        fi
        [ "$2" -eq 0 ] && { id -u; return; }
        awk -F: -v user="$(id -un)" -v uid="$(id -u)" -v want="$2" '
                ($1 == user || $1 == uid) && $3 > 0 {
                        if (want - 1 < $3) { print $2 + want - 1; found = 1; exit }
                        want -= $3
                }
                END { if (!found) exit 1 }' "$1"
}

# Fails when the store holds leftovers of an interrupted or failed operation.
assert_no_tmp() {
        local left
        left=$(find "$(graph_root)/layers" "$(graph_root)/blobs" -maxdepth 2 -name '.tmp-*' 2>/dev/null)
        [ -z "$left" ] || die "leftovers in the store: $left"
}

# The image IDs in the store (sorted), to compare before and after.
image_ids() {
        pea_direct images -q --no-trunc | sort
}
