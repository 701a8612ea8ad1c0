#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# Pods: pod create/start/stop/rm/ps/inspect/exists/top/logs/kill/prune, the
# infra container (pea-pause from the built-in pause image, no pull), run
# --pod joining the infra's net, ipc and uts namespaces, ps --pod, and
# nothing left running (pause, monitors, slirp4netns, the host port) after
# pod rm -f.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
        [ -n "${PEA_REGISTRY:-}" ] || return 0
        local opts=() i
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        for i in busybox nginx registry; do
                "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/$i" >/dev/null
        done
}

setup() {
        busybox_setup
}

teardown() {
        run_pea '?' pod rm -f -t 0 my-app-pod pod-a pod-b pod-new pod-reg pod-pid pod-dup
        run_pea '?' rm -f -v -t 0 reg-alone reg-client
        # the registry image's VOLUME: anonymous volumes of the pod's members
        run_pea '?' volume prune -f
}

# A free TCP port on the host.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'
}

port_in_use() { # port
        ss -Htln "sport = :$1" | grep -q .
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

# The pids of processes whose command line mentions $1 (monitors, slirp4netns).
pids_mentioning() { # word
        local p
        for p in $(pgrep -u "$(id -u)" .); do
                tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q -- "$1" && echo "$p"
        done
        return 0
}

# Whether pid runs (a zombie left to an init that does not reap does not count).
alive() { # pid
        local st
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$st" ] && [ "$st" != Z ]
}

ctr_pid() { # container: its host pid in $CPID
        run_pea inspect --format '{{.State.Pid}}' "$1"
        CPID=$output
}

@test "pod: create needs no pull; inspect, ps, exists, rm" {
        run_pea pod create --name pod-a --label tier=web --hostname podhost
        local id=$output
        [[ $id =~ ^[0-9a-f]{64}$ ]] || die "pod create prints the full ID: $id"
        run_pea images --format '{{.Repository}}:{{.Tag}}'
        is "$output" ".*localhost/pea-pause:.*" "the pause image is built locally"
        run_pea pod exists pod-a
        run_pea 1 pod exists nosuch-pod
        run_pea pod inspect pod-a
        json_valid "$output"
        is "$(jq -r .Id <<<"$output")" "$id"
        is "$(jq -r .Name <<<"$output")" "pod-a"
        is "$(jq -r .State <<<"$output")" "Created"
        is "$(jq -r .Hostname <<<"$output")" "podhost"
        is "$(jq -r .Labels.tier <<<"$output")" "web"
        is "$(jq -r '.SharedNamespaces | join(",")' <<<"$output")" "ipc,net,uts"
        is "$(jq -r .NumContainers <<<"$output")" "1" "the infra container"
        local infra
        infra=$(jq -r .InfraContainerID <<<"$output")
        is "$(jq -r '.Containers[0].Id' <<<"$output")" "$infra"
        run_pea pod ps --no-trunc --format '{{.Id}} {{.Name}} {{.Status}} {{.InfraId}}'
        is "$output" ".*$id pod-a Created $infra.*"
        run_pea pod ps --filter name=pod-a
        is "${lines[0]}" "POD ID *NAME *STATUS *CREATED *INFRA ID *# OF CONTAINERS" "header"
        run_pea pod ps --ctr-names --filter label=tier=web --format '{{.ContainerNames}}'
        is "$output" "${id:0:12}-infra"
        run_pea pod inspect --format '{{.Name}} {{.NumContainers}}' pod-a
        is "$output" "pod-a 1"
        run_pea pod rm pod-a
        is "$output" "$id"
        run_pea 125 inspect "$infra"
        run_pea 1 pod exists pod-a
}

@test "pod: tutorial pod: frontend and backend share localhost, ports, hostname, ipc" {
        local port
        port=$(free_port)
        run_pea pod create --name my-app-pod -p "$port:80"
        run_pea run -d --pod my-app-pod --name my-app-frontend "$PEA_REGISTRY/nginx"
        run_pea run -d --pod my-app-pod --name my-app-backend "$IMAGE" \
                sh -c 'mkdir /www && echo backend-ok >/www/index.html && exec httpd -f -p 5000 -h /www'
        wait_http "http://127.0.0.1:$port/" "nginx"
        local _ ok=
        for _ in $(seq 50); do
                run_pea '?' exec my-app-frontend curl -s http://localhost:5000/
                [[ $output == *backend-ok* ]] && ok=1 && break
                sleep 0.1
        done
        [ -n "$ok" ] || die "the frontend does not reach the backend on localhost:5000"

        run_pea pod inspect my-app-pod
        is "$(jq -r '[.Containers[].Name] | sort | join(" ")' <<<"$output")" \
                "[0-9a-f]{12}-infra my-app-backend my-app-frontend" "both members and the infra"
        is "$(jq -r .State <<<"$output")" "Running"
        is "$(jq -r '.InfraConfig.PortBindings["80/tcp"][0].HostPort' <<<"$output")" "$port"
        run_pea ps --pod --filter pod=my-app-pod --format '{{.Names}} {{.PodName}}'
        is "$output" ".*my-app-frontend my-app-pod.*" "ps --pod lists the frontend"
        is "$output" ".*my-app-backend my-app-pod.*" "ps --pod lists the backend"
        run_pea ps --pod --filter pod=my-app-pod
        is "${lines[0]}" ".*NAMES *POD ID *PODNAME" "the POD ID and PODNAME columns"

        # same namespaces (checked on /proc, not pea's word), but each its own pid namespace
        local f b ns
        ctr_pid my-app-frontend
        f=$CPID
        ctr_pid my-app-backend
        b=$CPID
        for ns in net ipc uts; do
                is "$(readlink "/proc/$f/ns/$ns")" "$(readlink "/proc/$b/ns/$ns")" "same $ns ns"
        done
        [ "$(readlink "/proc/$f/ns/pid")" != "$(readlink "/proc/$b/ns/pid")" ] ||
                die "members must not share the pid namespace by default"
        run_pea exec my-app-backend ps -o comm
        [[ $output != *nginx* ]] || die "the backend sees the frontend's processes"
        run_pea exec my-app-frontend hostname
        local h=$output
        run_pea exec my-app-backend hostname
        is "$output" "$h" "same hostname"
        is "$h" "my-app-pod" "the pod's name is the hostname"
        run_pea exec my-app-backend cat /etc/hosts
        is "$output" ".*my-app-frontend.*" "the backend's /etc/hosts names the frontend"
        run_pea exec my-app-frontend cat /etc/hosts
        is "$output" ".*my-app-backend.*" "the frontend's /etc/hosts names the later backend"

        # a System V IPC object made in one member is seen in the other
        run_pea exec my-app-frontend ipcmk -M 4096
        local shmid=${output##* }
        run_pea exec my-app-backend cat /proc/sysvipc/shm
        is "$output" ".* $shmid .*" "the backend sees the frontend's shared memory segment"

        run_pea logs my-app-backend
        run_pea pod logs --tail 1 my-app-pod
        run_pea pod top my-app-pod
        is "$output" ".*httpd.*" "pod top shows the backend"
        is "$output" ".*nginx.*" "pod top shows the frontend"
}

@test "pod: stop stops all, start brings the infra back first and members rejoin it" {
        run_pea pod create --name pod-b
        run_pea run -d --pod pod-b --name pod-b-1 "$IMAGE" sleep 1000
        run_pea pod stop -t 0 pod-b
        run_pea ps -a --filter pod=pod-b --format '{{.Names}} {{.State}}'
        [[ $output != *running* ]] || die "a container of the pod still runs: $output"
        run_pea pod ps --filter name=pod-b --format '{{.Status}}'
        is "$output" "Exited"
        run_pea start pod-b-1
        local infra m
        run_pea pod inspect --format '{{.InfraContainerID}}' pod-b
        ctr_pid "$output"
        infra=$CPID
        ctr_pid pod-b-1
        m=$CPID
        [ "$infra" -gt 0 ] || die "starting a member starts the infra"
        for ns in net ipc uts; do
                is "$(readlink "/proc/$m/ns/$ns")" "$(readlink "/proc/$infra/ns/$ns")" \
                        "the member joins the new infra's $ns"
        done
        run_pea pod restart pod-b
        run_pea pod ps --filter name=pod-b --format '{{.Status}}'
        is "$output" "Running"
        run_pea pod kill pod-b
        run_pea pod ps --filter name=pod-b --format '{{.Status}}'
        is "$output" "Exited" "pod kill sends SIGKILL to all"
}

@test "pod: rm -f removes everything and leaves no process, the port is free" {
        local port id infra pids=
        port=$(free_port)
        run_pea pod create --name pod-a -p "$port:80"
        id=$output
        run_pea run -d --pod pod-a --name pod-a-web "$PEA_REGISTRY/nginx"
        run_pea run -d --pod pod-a --name pod-a-sleep "$IMAGE" sleep 1000
        wait_http "http://127.0.0.1:$port/" "nginx"
        run_pea pod inspect --format '{{.InfraContainerID}}' pod-a
        infra=$output
        local c
        for c in "$infra" pod-a-web pod-a-sleep; do
                ctr_pid "$c"
                pids+=" $CPID"
        done
        pids+=" $(pids_mentioning "$infra") $(pids_mentioning "$id")"
        run_pea pod rm -f -t 0 pod-a
        is "$output" "$id"
        run_pea ps -a --filter pod="$id" --format '{{.Names}}'
        is "$output" "" "no container of the pod is left"
        run_pea 1 pod exists pod-a
        local p
        for p in $pids; do
                [ "$p" -gt 0 ] || continue
                if alive "$p"; then
                        die "process $p of the pod is still running: $(tr '\0' ' ' <"/proc/$p/cmdline")"
                fi
        done
        [ -z "$(pids_mentioning "$infra")" ] || die "a process (slirp4netns, monitor) of the infra remains"
        ! pgrep -u "$(id -u)" -x pea-pause >/dev/null || die "a pea-pause process remains"
        ! port_in_use "$port" || die "port $port is still in use"
}

@test "pod: bad input fails with one clear error and creates nothing" {
        run_pea 125 run --rm --pod nosuch-pod "$IMAGE" true
        is "$output" "Error: no pod with name or ID 'nosuch-pod' found: no such pod"
        run_pea 125 pod start nosuch-pod
        is "$output" "Error: no pod with name or ID 'nosuch-pod' found: no such pod"

        run_pea pod create --name pod-dup
        local dup=$output
        run_pea 125 pod create --name pod-dup
        is "$output" "Error: .*name 'pod-dup' is in use: pod already exists"
        run_pea 125 run --rm --pod pod-dup -p 8080:80 "$IMAGE" true
        is "$output" "Error: invalid config provided: published or exposed ports must be defined when the pod is created.*"
        run_pea pod inspect --format '{{.NumContainers}} {{.InfraContainerID}}' pod-dup
        is "$output" "1 .*" "the refused member was not created"
        local infra=${output#* }
        run_pea 125 rm "$infra"
        is "$output" "Error: container $infra is the infra container of pod .* and cannot be removed without removing the pod"

        local port
        port=$(free_port)
        python3 -m http.server --bind 0.0.0.0 "$port" >/dev/null 2>&1 &
        local server=$!
        wait_http "http://127.0.0.1:$port/" .
        run_pea 125 pod create --name pod-b -p "$port:80"
        kill "$server"
        is "$output" "Error: cannot expose port $port: address already in use"
        run_pea 1 pod exists pod-b
        run_pea ps -a --format '{{.Names}}'
        is "$output" "${dup:0:12}-infra" "only pod-dup's infra container exists"
        run_pea 125 pod create --name 'bad name'
        is "$output" "Error: pod name 'bad name' must match .*"
        run_pea 125 pod create --name pod-b --share net,mnt
        is "$output" "Error: invalid kernel namespace to share: mnt.*"
        run_pea 1 pod exists pod-b
}

@test "pod: --pod new:NAME, --pod-id-file, --share +pid, --no-infra, prune" {
        run_pea run -d --pod new:pod-new --name pod-new-1 "$IMAGE" sleep 1000
        run_pea pod inspect --format '{{.NumContainers}}' pod-new
        is "$output" "2" "new: created the pod with its infra"
        local idfile=$BATS_TEST_TMPDIR/pod.id
        run_pea pod create --name pod-pid --share +pid --pod-id-file "$idfile"
        is "$(cat "$idfile")" "$output" "--pod-id-file"
        run_pea run -d --pod-id-file "$idfile" --name pod-pid-1 "$IMAGE" sleep 1000
        run_pea run --rm --pod pod-pid "$IMAGE" ps -o comm
        is "$output" ".*pea-pause.*" "--share +pid: members see the pause process"
        is "$output" ".*sleep.*" "--share +pid: members see each other"
        run_pea pod create --name pod-b --no-infra
        run_pea pod inspect --format '{{.NumContainers}} {{.CreateInfra}}' pod-b
        is "$output" "0 false"
        run_pea run --rm --pod pod-b "$IMAGE" true
        run_pea pod stop -t 0 pod-new
        run_pea pod prune -f
        is "$output" ".*" "prune"
        run_pea 1 pod exists pod-new
        run_pea pod exists pod-b # created, not stopped
        run_pea pod exists pod-pid
}

@test "pod: a registry and its client in one pod, and with --network container:" {
        local port
        port=$(free_port)
        run_pea pod create --name pod-reg -p "127.0.0.1:$port:5000"
        run_pea run -d --pod pod-reg --name pod-reg-registry "$PEA_REGISTRY/registry"
        wait_http "http://127.0.0.1:$port/v2/" "{}"
        # push from the host side through the published port, list from inside the pod
        run_pea push --tls-verify=false "$IMAGE" "127.0.0.1:$port/inpod/busybox:1"
        run_pea run --rm --pod pod-reg "$IMAGE" wget -qO- http://localhost:5000/v2/_catalog
        is "$output" '.*"inpod/busybox".*' "the client in the pod lists the pushed image"
        run_pea run --rm --pod pod-reg "$IMAGE" wget -qO- http://localhost:5000/v2/inpod/busybox/tags/list
        is "$output" '.*"1".*'

        port=$(free_port)
        run_pea run -d --name reg-alone -p "127.0.0.1:$port:5000" "$PEA_REGISTRY/registry"
        wait_http "http://127.0.0.1:$port/v2/" "{}"
        run_pea push --tls-verify=false "$IMAGE" "127.0.0.1:$port/shared/busybox:2"
        run_pea run --rm --network container:reg-alone "$IMAGE" wget -qO- http://localhost:5000/v2/_catalog
        is "$output" '.*"shared/busybox".*' "a client in reg-alone's network namespace"
}

# bats test_tags=rootful
@test "pod: as root, members share the infra's namespaces and pod rm -f cleans up" {
        run_pea pod create --name pod-a
        run_pea run -d --pod pod-a --name pod-a-1 "$IMAGE" sleep 1000
        run_pea pod inspect --format '{{.InfraContainerID}}' pod-a
        local infra=$output
        ctr_pid "$infra"
        local ip=$CPID
        ctr_pid pod-a-1
        local mp=$CPID
        local ns
        for ns in net ipc uts; do
                is "$(readlink "/proc/$mp/ns/$ns")" "$(readlink "/proc/$ip/ns/$ns")" "same $ns ns"
        done
        run_pea pod rm -f -t 0 pod-a
        if alive "$ip" || alive "$mp"; then
                die "a process of the pod is left"
        fi
        [ -z "$(pids_mentioning "$infra")" ] || die "a monitor or slirp4netns of the infra is left"
}
