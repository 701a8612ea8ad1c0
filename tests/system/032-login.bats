#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# pea login and logout against the TLS + basic auth test registry: podman's
# auth.json (read back with jq), pulls that need the credentials, --creds,
# --cert-dir and --tls-verify.

load helpers
load image-helpers

bats_require_minimum_version 1.5.0

setup_file() {
        image_setup_file
}

teardown_file() {
        image_teardown_file
}

setup() {
        pea_setup
        [ -n "${PEA_REGISTRY_TLS:-}" ] || skip "no TLS test registry: PEA_REGISTRY_TLS is not set"
        command -v jq >/dev/null || skip "jq is not installed"
        TLS=$PEA_REGISTRY_TLS
        CERTS=$PEA_REGISTRY_CERT_DIR
        AUTH=$BATS_TEST_TMPDIR/auth.json
}

@test "login, pull from the TLS registry, logout, and the pull fails again" {
        run_pea login --authfile "$AUTH" --cert-dir "$CERTS" -u "$PEA_REGISTRY_USER" \
                -p "$PEA_REGISTRY_PASSWORD" "$TLS"
        is "$output" "Login Succeeded!"
        # podman's format: base64(user:password) under the registry
        is "$(jq -r --arg r "$TLS" '.auths[$r].auth' "$AUTH" | base64 -d)" \
                "$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD"
        is "$(stat -c %a "$AUTH")" 600 "auth.json is private"

        run_pea pull -q --authfile "$AUTH" --cert-dir "$CERTS" "$TLS/busybox"
        local config
        config=$(curl -sf --cacert "$PEA_REGISTRY_CA" -u "$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD" \
                -H "Accept: $ACCEPT_MANIFESTS" "https://$TLS/v2/busybox/manifests/latest" |
                jq -r .config.digest)
        is "$output" "${config#sha256:}"
        run_pea images --format '{{.Repository}}' "$TLS/busybox"
        is "$output" "$TLS/busybox"

        run_pea logout --authfile "$AUTH" "$TLS"
        is "$output" "Removed login credentials for $TLS"
        is "$(jq -r --arg r "$TLS" '.auths[$r]' "$AUTH")" "null"
        run_pea 125 logout --authfile "$AUTH" "$TLS"
        is "$output" "Error: not logged into $TLS"

        run_pea rmi "$TLS/busybox"
        run_pea 125 pull -q --authfile "$AUTH" --cert-dir "$CERTS" "$TLS/busybox"
        is "$output" "Error: initializing source docker://$TLS/busybox:latest: .*authentication required.*"
        run_pea 1 image exists "$TLS/busybox"
}

@test "login with a wrong password fails and stores nothing" {
        run_pea 125 login --authfile "$AUTH" --cert-dir "$CERTS" -u "$PEA_REGISTRY_USER" \
                -p wrong "$TLS"
        is "$output" "Error: logging into \"$TLS\": invalid username/password"
        if [ -e "$AUTH" ]; then
                is "$(jq -r --arg r "$TLS" '.auths[$r]' "$AUTH")" "null"
        fi
}

@test "login: --password-stdin, --get-login, the default auth file and logout -a" {
        local def=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/containers/auth.json
        run pea_direct login --cert-dir "$CERTS" -u "$PEA_REGISTRY_USER" --password-stdin \
                "https://$TLS/" <<<"$PEA_REGISTRY_PASSWORD"
        is "$status" 0 "login --password-stdin: $output"
        is "$output" "Login Succeeded!"
        [ -f "$def" ] || die "no $def"
        run_pea login --get-login "$TLS"
        is "$output" "$PEA_REGISTRY_USER"
        run_pea 125 login --get-login "$PEA_REGISTRY"
        is "$output" "Error: not logged into $PEA_REGISTRY"

        # the default file is used by pull too
        run_pea pull -q --cert-dir "$CERTS" "$TLS/busybox"
        run_pea rmi "$TLS/busybox"

        run_pea logout -a
        is "$output" "Removed login credentials for all registries"
        is "$(jq -r '.auths | length' "$def")" 0
        run_pea 125 login --get-login "$TLS"

        run_pea 125 login --password-stdin -p x "$TLS"
        is "$output" "Error: can't specify both --password-stdin and --password"
}

@test "pull --creds, --tls-verify and --cert-dir" {
        run_pea pull -q --creds "$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD" --cert-dir "$CERTS" \
                "$TLS/busybox"
        run_pea rmi "$TLS/busybox"
        # without the CA the certificate is not trusted...
        run_pea 125 pull -q --creds "$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD" "$TLS/busybox"
        is "$output" "Error: initializing source docker://$TLS/busybox:latest: pinging container registry $TLS: .*certificate.*"
        # ...unless verification is off
        run_pea pull -q --tls-verify=false --creds "$PEA_REGISTRY_USER:$PEA_REGISTRY_PASSWORD" \
                "$TLS/busybox"
        run_pea rmi "$TLS/busybox"
        run_pea 125 pull -q --creds "$PEA_REGISTRY_USER:wrong" --cert-dir "$CERTS" "$TLS/busybox"
        is "$output" "Error: initializing source docker://$TLS/busybox:latest: .*"
        run_pea 125 pull -q --authfile "$BATS_TEST_TMPDIR/none.json" "$TLS/busybox"
        is "$output" "Error: checking authfile: stat $BATS_TEST_TMPDIR/none.json: No such file or directory"
}
