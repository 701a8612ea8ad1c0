#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Volumes in containers: -v NAME:/path (created on first use, copy-up of the
# image's content), anonymous volumes (-v /path, the image's VOLUME entries;
# removed by rm -v and run --rm), --mount, --volumes-from, :U, inspect's
# Mounts, and host directories kept across containers (the caddy fixture).
# Results are checked on the host: the volume's Mountpoint, owners, curl.
#
# shellcheck disable=SC2016 # $ in single quotes is for the container's sh
# shellcheck disable=SC2030,SC2031 # helpers read run_pea's $output in their own subshell

load helpers
load image-helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        busybox_setup
}

teardown() {
        run_pea '?' rm -f -v c1 c2 c3 u1 a1 a2 vf1
        run_pea '?' volume rm -af
        pea_teardown
}

# mountpoint NAME: the volume's directory on the host, as pea reports it.
mountpoint() {
        run_pea volume inspect --format '{{.Mountpoint}}' "$1" >/dev/null
        echo "$output"
}

# The names of the volumes, one per line, sorted.
volume_names() {
        run_pea volume ls -q >/dev/null
        echo "$output" | sort
}

# The owner the host sees for a file the container's root created.
host_owner() {
        if is_rootless; then id -u; else echo 0; fi
}

@test "volume: a named volume outlives its container, Mountpoint has the files" {
        run_pea run --rm -v nv:/data "$IMAGE" sh -c 'echo hello > /data/f; stat -c %u /data/f'
        is "$output" 0 "root inside"
        run_pea volume ls -q
        is "$output" nv "created on first use"
        local mp
        mp=$(mountpoint nv)
        is "$(cat "$mp/f")" hello "the file is in the Mountpoint"
        is "$(stat -c %u "$mp/f")" "$(host_owner)" "owner on the host"
        run_pea run --rm -v nv:/data:ro "$IMAGE" sh -c 'cat /data/f; touch /data/g 2>/dev/null || echo ro'
        is "$output" "hello
ro" "read back by a new container, read-only"
}

@test "volume: volume rm refuses a volume in use, until the container is gone" {
        run_pea create --name u1 -v inuse:/data "$IMAGE" true
        local id=$output
        run_pea 2 volume rm inuse
        is "$output" "Error: volume inuse is being used by the following container(s): $id: volume is being used"
        run_pea volume inspect --format '{{.Name}}' inuse
        is "$output" inuse "still there"
        run_pea rm u1
        run_pea volume rm inuse
        is "$output" inuse
        is "$(volume_names)" "" "no volume left"

        # --force removes the containers using it first, as podman does
        run_pea create --name u1 -v inuse:/data "$IMAGE" true
        run_pea volume rm -f inuse
        is "$output" inuse
        run_pea 1 container exists u1
        is "$(volume_names)" "" "no volume left"
}

@test "volume: copy-up of the image's content into a new volume, not with nocopy" {
        run_pea run --rm -v cu:/etc "$IMAGE" true
        local mp
        mp=$(mountpoint cu)
        [ -f "$mp/passwd" ] || die "no passwd copied up into $mp"
        grep -q '^root:' "$mp/passwd" || die "passwd has no root entry"
        is "$(stat -c %u "$mp/passwd")" "$(host_owner)" "owner kept (root inside)"
        # not copied again into a volume that is not empty any more
        rm -f "$mp/group" 2>/dev/null || run_pea unshare rm -f "$mp/group"
        run_pea run --rm -v cu:/etc "$IMAGE" sh -c 'test -e /etc/group && echo yes || echo no'
        is "$output" no "a used volume keeps its content"

        run_pea run --rm -v nc:/var:nocopy "$IMAGE" sh -c 'ls -A /var | wc -l'
        is "$output" 0 "nocopy: empty"
        run_pea run --rm -v cp2:/var "$IMAGE" sh -c 'ls -A /var | wc -l'
        [ "$output" -gt 0 ] || die "/var copied up: $output entries"
}

@test "volume: copy-up keeps owners, modes and setuid bits of the image (layers fixture)" {
        require_registry
        reg_has layers || skip "layers fixture not loaded (../shared fixtures)"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/layers"
        run_pea run --rm --entrypoint true -v lh:/home -v lb:/usr/local/bin "$PEA_REGISTRY/layers"
        run_pea run --rm -v lh:/h -v lb:/b "$IMAGE" \
                stat -c '%n %u:%g %a' /h/tester /b/euid-status
        is "$output" "/h/tester 1000:1000 700
/b/euid-status 0:0 4755" "seen by another container"
        if ! is_rootless; then
                is "$(stat -c '%u:%g %a' "$(mountpoint lh)/tester")" "1000:1000 700" "on the host"
        fi
}

@test "volume: export | import round trip through containers" {
        run_pea run --rm -v ex:/data "$IMAGE" sh -c 'mkdir /data/d; echo one > /data/d/f; ln -s d/f /data/l'
        local tar=$BATS_TEST_TMPDIR/ex.tar
        run_pea volume export ex --output "$tar"
        [ -s "$tar" ] || die "empty export"
        run_pea volume create im
        run_pea volume import im "$tar"
        run_pea run --rm -v im:/data "$IMAGE" sh -c 'cat /data/d/f; readlink /data/l'
        is "$output" "one
d/f" "imported content seen by a container"
}

@test "volume: anonymous volumes are removed by rm -v and run --rm, kept by rm" {
        run_pea run --rm -v /anon "$IMAGE" sh -c 'echo x > /anon/f'
        is "$(volume_names)" "" "run --rm removed the anonymous volume"

        run_pea create --name a1 -v /anon "$IMAGE" true
        run_pea volume ls -q
        is "${#lines[@]}" 1 "one anonymous volume"
        run_pea volume inspect --format '{{.Anonymous}}' "${lines[0]}"
        is "$output" true
        run_pea rm -v a1
        is "$(volume_names)" "" "rm -v removed it"

        run_pea create --name a2 -v /anon -v keep:/named "$IMAGE" true
        run_pea rm a2
        run_pea volume ls -q
        is "${#lines[@]}" 2 "rm without -v keeps both"
        run_pea rm -v -f a2
        run_pea create --name a1 -v keep:/named "$IMAGE" true
        run_pea rm -v a1
        run_pea volume ls -q --filter name=keep
        is "$output" keep "rm -v keeps named volumes"
}

@test "volume: --mount type=volume, bind and tmpfs; inspect shows Mounts" {
        local dir=$BATS_TEST_TMPDIR/bind
        mkdir -p "$dir"
        echo host > "$dir/h"
        run_pea create --name c1 --mount type=volume,src=mv,dst=/m \
                --mount "type=bind,src=$dir,dst=/b,ro" \
                --mount type=tmpfs,dst=/t,tmpfs-size=1m "$IMAGE" \
                sh -c 'cat /b/h; touch /b/x 2>/dev/null || echo ro; echo v > /m/f; grep " /t " /proc/mounts | cut -d" " -f3'
        run_pea inspect --format '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}};{{end}}' c1
        is "$output" "volume /m true;bind /b false;"
        run_pea inspect --format '{{range .Mounts}}{{if .Name}}{{.Name}} {{.Driver}}{{end}}{{end}}' c1
        is "$output" "mv local"
        run_pea start -a c1
        is "$output" "host
ro
tmpfs"
        is "$(cat "$(mountpoint mv)/f")" v "written into the volume"

        run_pea 125 create --mount type=foo,dst=/x "$IMAGE" true
        is "$output" 'Error: invalid filesystem type "foo"'
        run_pea 125 create --mount type=bind,src=/tmp "$IMAGE" true
        is "$output" "Error: must set volume destination"
        run_pea 125 create -v a:/x --mount type=volume,src=b,dst=/x "$IMAGE" true
        is "$output" "Error: '/x': duplicate mount destination"
}

@test "volume: --volumes-from shares volumes and binds, :ro makes them read-only" {
        local dir=$BATS_TEST_TMPDIR/vf
        mkdir -p "$dir"
        run_pea create --name vf1 -v vfv:/data -v "$dir:/host" "$IMAGE" true
        run_pea run --rm --volumes-from vf1 "$IMAGE" sh -c 'echo a > /data/f; echo b > /host/g'
        is "$(cat "$(mountpoint vfv)/f")" a "written through --volumes-from"
        is "$(cat "$dir/g")" b "bind shared"
        run_pea run --rm --volumes-from vf1:ro "$IMAGE" sh -c 'cat /data/f; touch /data/x 2>/dev/null || echo ro'
        is "$output" "a
ro"
        run_pea 125 run --rm --volumes-from nosuch "$IMAGE" true
        is "$output" "Error: looking up container \"nosuch\" for volumes-from: .*no such container"
        run_pea 125 run --rm --volumes-from vf1:xx "$IMAGE" true
        is "$output" 'Error: invalid option "xx" specified - volumes from another container can only use z,ro,rw options'
}

@test "volume: :U and first use give the volume to the container's user" {
        if is_rootless && ! grep -q "^$(id -un):" /etc/subuid; then
                skip "no subordinate uids for $(id -un): uid 1000 is not mapped"
        fi
        run_pea run --rm -u 1000:1000 -v uv:/data:U "$IMAGE" sh -c 'stat -c %u:%g /data; touch /data/ok && echo ok'
        is "$output" "1000:1000
ok"
        # a new volume goes to its first user, or takes the image directory's owner and mode
        run_pea run --rm -u 1000:1000 -v nu:/data "$IMAGE" sh -c 'stat -c %u:%g /data; touch /data/ok && echo ok'
        is "$output" "1000:1000
ok" "new volume owned by the first user"
        run_pea run --rm -u 1000:1000 -v nt:/tmp:nocopy "$IMAGE" stat -c %u:%g:%a /tmp
        is "$output" "0:0:1777" "the image's /tmp decides"
}

# mounted_count PATH: how many mounts sit on PATH in pea's mount namespace.
mounted_count() {
        local prog='$5 == m { n++ } END { print n + 0 }'
        if is_rootless; then
                run_pea unshare awk -v m="$1" "$prog" /proc/self/mountinfo >/dev/null
                echo "$output"
        else
                awk -v m="$1" "$prog" /proc/self/mountinfo
        fi
}

@test "volume: a tmpfs volume is mounted while containers use it" {
        run_pea volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=2m tv
        local mp
        mp=$(mountpoint tv)
        run_pea run --rm -v tv:/x "$IMAGE" sh -c 'grep " /x " /proc/mounts | cut -d" " -f3'
        is "$output" tmpfs "a tmpfs inside"
        is "$(mounted_count "$mp")" 0 "unmounted after run --rm"
        run_pea create --name c1 -v tv:/x "$IMAGE" true
        run_pea create --name c2 -v tv:/x "$IMAGE" true
        is "$(mounted_count "$mp")" 1 "mounted once while c1 and c2 exist"
        run_pea rm c1
        is "$(mounted_count "$mp")" 1 "still mounted for c2"
        run_pea rm c2
        is "$(mounted_count "$mp")" 0 "unmounted with the last user"
}

@test "volume: a failed create leaves no volume and no container" {
        run_pea 125 create --name c1 -v fail:/x -u nosuchuser "$IMAGE" true
        is "$(volume_names)" "" "the new volume is gone"
        run_pea ps -a -q
        is "$output" "" "no container"
}

@test "volume: the image's VOLUME entries get anonymous volumes" {
        require_registry
        reg_has caddy || skip "caddy fixture not loaded (../shared fixtures)"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/caddy"
        run_pea create --name c1 -v cfg:/config "$PEA_REGISTRY/caddy"
        run_pea inspect --format '{{range .Mounts}}{{.Destination}}={{.Name}};{{end}}' c1
        is "$output" "/config=cfg;/data=[0-9a-f]{64};" "-v wins, /data anonymous"
        run_pea rm -v c1
        is "$(volume_names)" "cfg" "the anonymous volume went with rm -v"
}

# A free TCP port on the host.
free_port() {
        local p
        for p in $(shuf -i 20000-40000 -n 20); do
                if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                        echo "$p"
                        return
                fi
        done
        die "no free port"
}

# wait_http URL EXPECTED: polls until the body is EXPECTED (10 s).
wait_http() {
        local body='' i
        for i in $(seq 50); do
                body=$(curl -s --max-time 2 "$1" || true)
                [ "$body" = "$2" ] && return 0
                sleep 0.2
        done
        is "$body" "$2" "GET $1 (after ${i} tries)"
}

# run_caddy NAME PORT: caddy serving $SITE on PORT, data and config on the host.
run_caddy() {
        run_pea run -d --name "$1" -p "$2:80" -v "$SITE:/srv" -v "$DATA:/data" -v "$CONFIG:/config" \
                "$PEA_REGISTRY/caddy" caddy run --config /config/Caddyfile --adapter caddyfile
}

@test "volume: caddy serves host dirs; changes show live; content survives rm" {
        require_registry
        reg_has caddy || skip "caddy fixture not loaded (../shared fixtures)"
        command -v curl >/dev/null || skip "curl is not installed"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/caddy"
        SITE=$BATS_TEST_TMPDIR/site DATA=$BATS_TEST_TMPDIR/data CONFIG=$BATS_TEST_TMPDIR/config
        mkdir -p "$SITE" "$DATA" "$CONFIG"
        echo "hello v1" > "$SITE/index.html"
        printf ':80 {\n\troot * /srv\n\tfile_server\n}\n' > "$CONFIG/Caddyfile"
        local port
        port=$(free_port)
        run_caddy c1 "$port"
        wait_http "http://127.0.0.1:$port/" "hello v1"

        echo "hello v2" > "$SITE/index.html"
        wait_http "http://127.0.0.1:$port/" "hello v2"

        # caddy's autosave lands on the host, owned by the user (root inside)
        local f=$CONFIG/caddy/autosave.json
        for _ in $(seq 50); do [ -f "$f" ] && break; sleep 0.2; done
        [ -f "$f" ] || die "no $f on the host"
        is "$(stat -c %u "$f")" "$(host_owner)" "owner on the host"
        run_pea run --rm -v "$CONFIG:/config" "$IMAGE" stat -c %u /config/caddy/autosave.json
        is "$output" 0 "root inside"

        run_pea rm -f c1
        port=$(free_port)
        run_caddy c2 "$port"
        wait_http "http://127.0.0.1:$port/" "hello v2"
        run_pea rm -f c2
        [ -f "$f" ] || die "$f gone after rm"

        # without volumes, what a container writes is gone with it
        run_pea run --name c3 "$PEA_REGISTRY/caddy" sh -c 'echo x > /srv/marker'
        run_pea rm c3
        run_pea 1 run --rm "$PEA_REGISTRY/caddy" test -e /srv/marker
}

# bats test_tags=rootful
@test "volume (root): named volume, copy-up owners and :U on the host" {
        skip_if_rootless
        require_registry
        reg_has layers || skip "layers fixture not loaded (../shared fixtures)"
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/layers"
        run_pea run --rm --entrypoint true -v rh:/home "$PEA_REGISTRY/layers"
        local mp
        mp=$(mountpoint rh)
        is "$(stat -c '%u:%g %a' "$mp/tester")" "1000:1000 700" "copied up with its owner"
        run_pea run --rm -v rv:/data "$IMAGE" sh -c 'echo root > /data/f'
        is "$(stat -c %u:%g "$(mountpoint rv)/f")" 0:0 "root's file"
        run_pea run --rm -u 123:456 -v rv:/data:U "$IMAGE" true
        is "$(stat -c %u:%g "$(mountpoint rv)/f")" 123:456 ":U chowned the content"
        run_pea create --name c1 -v /anon "$IMAGE" true
        run_pea rm -v c1
        is "$(volume_names)" "rh
rv" "rm -v removed only the anonymous volume"
}
