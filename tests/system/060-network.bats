#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Networking: slirp4netns (the default) and pasta, published ports (-p, ranges,
# /udp, -P), pea port, DNS and /etc/hosts, none/host, container: sharing, and
# nothing left running (no slirp4netns, no listener) once a container stops.

# shellcheck disable=SC2016 # perl code and podman's messages are literal
# shellcheck disable=SC2030,SC2031 # HOSTPIDS lives from setup to teardown of one test
load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        busybox_setup_file
}

setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        IMAGE=$PEA_REGISTRY/busybox
        HOSTPIDS=()
}

teardown() {
        run_pea '?' rm -f net-a net-b net-web net-udp net-p net-x net-gone net-busy net-pasta
        run_pea '?' rmi -f pea-net-test/exposed
        local p
        for p in "${HOSTPIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
}

# A free TCP port on the host.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'
}

# The pids of slirp4netns or pasta processes whose command line mentions $2.
helper_pids() { # prog word
        local p
        for p in $(pgrep -x "$1" 2>/dev/null); do
                tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2" && echo "$p"
        done
        return 0
}

# Waits until curl gets $2 from $1 (up to 10 s).
wait_http() { # url expected
        local _
        for _ in $(seq 100); do
                curl -s --max-time 2 "$1" 2>/dev/null | grep -q -- "$2" && return 0
                sleep 0.1
        done
        die "no '$2' from $1"
}

port_in_use() { # port
        ss -Htln "sport = :$1" | grep -q . || ss -Huln "sport = :$1" | grep -q .
}

@test "network: default slirp4netns: tap0 with 10.0.2.100 and the host on 10.0.2.2" {
        local port
        port=$(free_port)
        python3 -m http.server --bind 0.0.0.0 "$port" --directory /etc >/dev/null 2>&1 &
        HOSTPIDS+=($!)
        wait_http "http://127.0.0.1:$port/hostname" .
        run_pea run --rm "$IMAGE" sh -c "ip -4 addr show tap0; ip route"
        is "$output" ".*inet 10\.0\.2\.100/24.*" "tap0 has slirp4netns' address"
        is "$output" ".*default via 10\.0\.2\.2 dev tap0.*" "default route through slirp4netns"
        # podman's default: 10.0.2.2 does not lead to the host's loopback
        run_pea '?' run --rm "$IMAGE" wget -T 3 -qO- "http://10.0.2.2:$port/hostname"
        [ "$status" -ne 0 ] || die "10.0.2.2 reaches the host's loopback without allow_host_loopback"
        run_pea run --rm --network slirp4netns:allow_host_loopback=true "$IMAGE" \
                wget -qO- "http://10.0.2.2:$port/hostname"
        is "$output" "$(cat /etc/hostname)" "the container reaches a server on the host via 10.0.2.2"
        local addr
        addr=$(ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
        if [ -n "$addr" ]; then
                run_pea run --rm "$IMAGE" wget -qO- "http://$addr:$port/hostname"
                is "$output" "$(cat /etc/hostname)" "outbound: the host's address $addr"
        fi
        run_pea run --rm "$IMAGE" cat /etc/resolv.conf
        is "$output" ".*nameserver 10\.0\.2\.3.*" "slirp4netns' DNS in resolv.conf"
}

@test "network: -p publishes a busybox httpd; stop and rm leave nothing behind" {
        local port id
        port=$(free_port)
        run_pea run -d --name net-web -p "$port:80" "$IMAGE" \
                sh -c 'mkdir -p /w && echo hello-pea > /w/index.html && exec httpd -f -p 80 -h /w'
        id=$output
        wait_http "http://127.0.0.1:$port/" hello-pea
        [ -n "$(helper_pids slirp4netns "$id")" ] || die "no slirp4netns for the container"
        run_pea port net-web
        is "$output" "80/tcp -> 0.0.0.0:$port" "pea port"
        run_pea port net-web 80
        is "$output" "0.0.0.0:$port" "pea port CTR 80"
        run_pea 125 port net-web 81
        is "$output" 'Error: failed to find published port "81"' "unpublished port"
        run_pea ps --filter name=net-web --format '{{.Ports}}'
        is "$output" "0.0.0.0:$port->80/tcp" "ps PORTS"
        run_pea inspect --format '{{json .NetworkSettings.Ports}}' net-web
        json_valid "$output"
        is "$(jq -c . <<<"$output")" '{"80/tcp":[{"HostIp":"","HostPort":"'"$port"'"}]}' \
                "inspect Ports"
        run_pea stop -t 1 net-web
        [ -z "$(helper_pids slirp4netns "$id")" ] || die "slirp4netns is still running after stop"
        ! port_in_use "$port" || die "port $port is still in use after stop"
        run_pea start net-web
        wait_http "http://127.0.0.1:$port/" hello-pea
        run_pea rm -f net-web
        [ -z "$(helper_pids slirp4netns "$id")" ] || die "slirp4netns is still running after rm"
        ! port_in_use "$port" || die "port $port is still in use after rm"
}

@test "network: -p ranges and /udp" {
        local a b
        a=$(free_port)
        b=$((a + 1))
        port_in_use "$b" && skip "port $b is taken"
        run_pea run -d --name net-udp -p "$a-$b:8000-8001" -p "$a:9000/udp" "$IMAGE" \
                sh -c 'mkdir /w; echo tcp-8001 >/w/index.html; exec httpd -f -p 8001 -h /w'
        run_pea port net-udp
        is "$output" ".*8000/tcp -> 0.0.0.0:$a.*" "range start"
        is "$output" ".*8001/tcp -> 0.0.0.0:$b.*" "range end"
        is "$output" ".*9000/udp -> 0.0.0.0:$a.*" "udp"
        run_pea ps --filter name=net-udp --format '{{.Ports}}'
        is "$output" "0.0.0.0:$a-$b->8000-8001/tcp, 0.0.0.0:$a->9000/udp" "ps shows the range"
        wait_http "http://127.0.0.1:$b/" tcp-8001
        local _
        run_pea rm -f net-udp
        ! port_in_use "$a" || die "port $a is still in use after rm"

        # busybox's nc has no UDP: perl (debian's perl-base) receives the datagram
        run_pea pull -q --tls-verify=false "$PEA_REGISTRY/debian"
        run_pea run -d --name net-b -p "$a:9000/udp" "$PEA_REGISTRY/debian" perl -MIO::Socket::INET \
                -e '$s = IO::Socket::INET->new(LocalPort => 9000, Proto => "udp") or die;' \
                -e 'while ($s->recv($m, 100)) { open(F, ">>", "/tmp/udp"); print F $m; close(F) }'
        for _ in $(seq 50); do
                echo udp-hello >"/dev/udp/127.0.0.1/$a"
                run_pea '?' exec net-b cat /tmp/udp
                [[ $output == *udp-hello* ]] && break
                sleep 0.2
        done
        is "$output" ".*udp-hello.*" "a UDP datagram reaches the container"
}

@test "network: -P publishes the image's EXPOSE and --expose on free ports" {
        # a tiny image with EXPOSE 80: the host's static busybox
        local t=$BATS_TEST_TMPDIR
        file -L "$(command -v busybox)" | grep -q 'statically linked' ||
                skip "no static busybox on the host to build an image with EXPOSE"
        mkdir -p "$t/rootfs/bin" "$t/rootfs/www"
        cp "$(command -v busybox)" "$t/rootfs/bin/busybox"
        ln -s busybox "$t/rootfs/bin/sh"
        echo exposed-ok >"$t/rootfs/www/index.html"
        tar -C "$t/rootfs" -cf "$t/rootfs.tar" .
        run_pea import -q --change EXPOSE=80 \
                --change 'CMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]' \
                "$t/rootfs.tar" pea-net-test/exposed
        run_pea run -d --name net-p -P --expose 7000/udp pea-net-test/exposed
        run_pea port net-p 80
        is "$output" "0.0.0.0:[0-9]+" "80 got a host port"
        local hp=${output##*:}
        wait_http "http://127.0.0.1:$hp/" exposed-ok
        run_pea port net-p 7000/udp
        is "$output" "0.0.0.0:[0-9]+" "--expose 7000/udp got a host port too"
        run_pea inspect --format '{{json .NetworkSettings.Ports}}' net-p
        is "$(jq -c '."80/tcp"' <<<"$output")" '[{"HostIp":"","HostPort":"'"$hp"'"}]' "inspect"
        is "$(jq -c '."7000/udp"' <<<"$output")" '\[\{"HostIp":"","HostPort":"[0-9]+"\}\]' \
                "inspect: --expose with -P"
        run_pea rm -f net-p
}

@test "network: none has only lo; host sees the host's interfaces" {
        run_pea run --rm --network none "$IMAGE" ls /sys/class/net
        is "$output" "lo" "--network none: only lo"
        run_pea run --rm --network host "$IMAGE" ls /sys/class/net
        is "$output" "$(ls /sys/class/net)" "--network host: the host's interfaces"
        run_pea 125 run --rm --network bridge "$IMAGE" true
        is "$output" "Error: network 'bridge': bridge and named networks are not supported yet.*"
        run_pea 125 run --rm --network none -p 8080:80 "$IMAGE" true
        is "$output" "Error: publishing ports needs the container's own network namespace.*"
}

@test "network: --dns, --dns-search, --dns-option, --add-host, --no-hosts, hosts entries" {
        run_pea run --rm --name net-a --hostname hn1 --dns 192.0.2.53 --dns-search example.org \
                --dns-option ndots:3 --add-host "db.local:192.0.2.7" "$IMAGE" \
                sh -c 'cat /etc/resolv.conf; echo ---; cat /etc/hosts'
        is "$output" ".*search example\.org.*" "--dns-search"
        is "$output" ".*nameserver 192\.0\.2\.53.*" "--dns"
        is "$output" ".*options ndots:3.*" "--dns-option"
        [[ $output != *"nameserver 10.0.2.3"* ]] || die "--dns must replace the nameservers"
        is "$output" ".*192\.0\.2\.7	db\.local.*" "--add-host"
        is "$output" ".*10\.0\.2\.100	hn1 net-a.*" "the hostname and the container name"
        is "$output" ".*10\.0\.2\.2	host\.containers\.internal.*" "host.containers.internal"
        run_pea run --rm --no-hosts "$IMAGE" sh -c 'cat /etc/hosts 2>&1; true'
        [[ $output != *host.containers.internal* ]] || die "--no-hosts still writes /etc/hosts"
        run_pea 125 run --rm --no-hosts --add-host a:192.0.2.1 "$IMAGE" true
        is "$output" "Error: --no-hosts and --add-host cannot be set together"
        run_pea 125 run --rm --add-host nocolon "$IMAGE" true
        is "$output" "Error: .*nocolon.*"
}

@test "network: container:NAME shares localhost; --ipc, --pid, --uts container:" {
        run_pea run -d --name net-a --hostname alpha "$IMAGE" \
                sh -c 'echo shared-net > /tmp/i; httpd -p 127.0.0.1:8080 -h /tmp; exec sleep 1000'
        run_pea run --rm --network container:net-a "$IMAGE" wget -qO- http://127.0.0.1:8080/i
        is "$output" "shared-net" "a server on net-a's localhost"
        local pid
        run_pea inspect --format '{{.State.Pid}}' net-a
        pid=$output
        run_pea run --rm --ipc container:net-a --pid container:net-a --uts container:net-a \
                "$IMAGE" sh -c 'hostname; readlink /proc/1/ns/ipc; ps -o comm | grep -c sleep'
        is "${lines[0]}" "alpha" "--uts container: gives net-a's hostname"
        is "${lines[1]}" "$(readlink "/proc/$pid/ns/ipc")" "--ipc container: joins net-a's ipc"
        is "${lines[2]}" "1" "--pid container: sees net-a's sleep"
        run_pea 125 run --rm --network container:nosuch "$IMAGE" true
        is "$output" "Error: .*nosuch.*" "an unknown container"
}

@test "network: a published port already in use fails cleanly" {
        local port id
        port=$(free_port)
        python3 -m http.server --bind 0.0.0.0 "$port" >/dev/null 2>&1 &
        HOSTPIDS+=($!)
        wait_http "http://127.0.0.1:$port/" .
        run_pea 125 run -d --name net-busy -p "$port:80" "$IMAGE" sleep 100
        is "$output" "Error: cannot expose port $port: address already in use" "one error line"
        run_pea 125 inspect net-busy
        run_pea ps -a --filter name=net-busy --format '{{.Names}}'
        is "$output" "" "no container row is left"
        [ -z "$(helper_pids slirp4netns net-busy)" ] || die "a slirp4netns is left"
}

@test "network: pasta: a published port shows the client's real source address" {
        command -v pasta >/dev/null || skip "pasta is not installed"
        local port addr
        port=$(free_port)
        addr=$(ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
        [ -n "$addr" ] || skip "the host has no non-loopback IPv4 address"
        run_pea '?' run -d --name net-pasta --network pasta -p "$port:8080" "$IMAGE" \
                sh -c 'while true; do nc -l -p 8080 -e netstat -tn; done'
        if [ "$status" -ne 0 ]; then
                [[ $output == *pasta* ]] || die "pasta failed: $output"
                skip "pasta cannot set up a namespace here: $output"
        fi
        local got='' _
        # loopback clients work (pasta splices them; the server sees 127.0.0.1)
        for _ in $(seq 50); do
                got=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat <&3" 2>/dev/null) || true
                [[ $got == *ESTABLISHED* ]] && break
                sleep 0.2
        done
        is "$got" ".*127\.0\.0\.1:[0-9]+ +ESTABLISHED.*" "pasta forwards a published port"
        run_pea exec net-pasta ip -4 -o addr show
        is "$output" ".*$addr/.*" "pasta copies the host's address into the namespace"
        got=''
        for _ in $(seq 50); do
                got=$(timeout 3 bash -c "exec 3<>/dev/tcp/$addr/$port; cat <&3" 2>/dev/null) || true
                [[ $got == *ESTABLISHED* ]] && break
                sleep 0.2
        done
        [[ $got == *ESTABLISHED* ]] ||
                skip "pasta carries no non-loopback traffic on this host (seen on Debian 12)"
        is "$got" ".*$addr:[0-9]+ +ESTABLISHED.*" "the server sees the client's address $addr"
        run_pea rm -f net-pasta
        [ -z "$(helper_pids pasta net-pasta)" ] || die "pasta is still running after rm"
}

@test "network: a container that exits on its own loses its slirp4netns at the next command" {
        local id _
        run_pea run -d --name net-gone "$IMAGE" sleep 1
        id=$output
        [ -n "$(helper_pids slirp4netns "$id")" ] || die "no slirp4netns for the container"
        for _ in $(seq 100); do
                run_pea ps -a --filter name=net-gone --format '{{.State}}'
                [[ $output == *xited* ]] && break
                sleep 0.1
        done
        is "$output" ".*xited.*" "the container exited"
        [ -z "$(helper_pids slirp4netns "$id")" ] || die "slirp4netns outlived the container"
        run_pea start net-gone
        [ -n "$(helper_pids slirp4netns "$id")" ] || die "start did not set the network up again"
        run_pea rm -f net-gone
        [ -z "$(helper_pids slirp4netns "$id")" ] || die "slirp4netns is still running after rm"
}

@test "network: port --all and its errors" {
        local port
        port=$(free_port)
        run_pea run -d --name net-a -p "$port:80" "$IMAGE" sleep 1000
        run_pea port --all
        is "$output" ".*[0-9a-f]{12}	80/tcp -> 0.0.0.0:$port.*" "port --all"
        run_pea 125 port --all net-a
        is "$output" "Error: no arguments are needed with --all"
        run_pea 125 port
        is "$output" "Error: you must supply a running container name or id"
        run_pea 125 port net-a 80 81
        is "$output" 'Error: `port` accepts at most 2 arguments'
        run_pea create --name net-b -p "$((port + 1)):80" "$IMAGE" true
        run_pea port net-b
        is "$output" "" "a container that does not run shows no ports"
}

# bats test_tags=rootful
@test "network: root: slirp4netns by default, host and none keep working" {
        skip_if_rootless "root's networking"
        local port
        port=$(free_port)
        run_pea run -d --name net-web -p "$port:80" "$IMAGE" \
                sh -c 'mkdir -p /w && echo root-web > /w/index.html && exec httpd -f -p 80 -h /w'
        wait_http "http://127.0.0.1:$port/" root-web
        run_pea rm -f net-web
        ! port_in_use "$port" || die "port $port is still in use after rm"
        run_pea run --rm --network none "$IMAGE" ls /sys/class/net
        is "$output" "lo" "--network none"
        run_pea run --rm --network host "$IMAGE" ls /sys/class/net
        is "$output" "$(ls /sys/class/net)" "--network host"
}
