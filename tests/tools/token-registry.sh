#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# token-registry.sh: a docker-registry (distribution 2.8) with token auth, plus the token
# server tests/tools/token-server.py that signs its tokens, for pea's registry tests.
#
#   usage: token-registry.sh start   start both on free 127.0.0.1 ports (no-op if running),
#                                    wait until they answer, print the env lines
#          token-registry.sh env     print shell assignments: eval "$(token-registry.sh env)"
#          token-registry.sh stop    kill exactly the two PIDs started here, remove the state
#          token-registry.sh status  exit 0 if both run
#   env:   PEA_TOKEN_DIR     state: key, cert, config, storage, logs, pids
#                            (default /tmp/pea-token-registry)
#          PEA_TOKEN_EXPIRY  token lifetime in seconds (default 2, so tests see renewals)
#          PEA_TOKEN_ALG     RS256 (default) or ES256
# Users: pea/peapass may pull and push; reader/readpass may only pull.
# The registry is plain HTTP; clients use --tls-verify=false (insecure).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
STATE=${PEA_TOKEN_DIR:-/tmp/pea-token-registry}
EXPIRY=${PEA_TOKEN_EXPIRY:-2}
ALG=${PEA_TOKEN_ALG:-RS256}
SERVICE=pea-registry ISSUER=pea-test
USERS=pea:peapass,reader:readpass:pull
PYTHON=/usr/bin/python3

say() { printf 'token-registry: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

running() { # name: true if the PID recorded for NAME still runs our command line
	local pid
	pid=$(cat "$STATE/$1.pid" 2>/dev/null) || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE/"
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

make_keys() {
	local newkey=(-newkey rsa:2048)
	[ "$ALG" = ES256 ] && newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
	openssl req -x509 -nodes "${newkey[@]}" -days 3650 -subj "/CN=pea test token signer" \
		-keyout "$STATE/key.pem" -out "$STATE/cert.pem" 2>/dev/null
	chmod 600 "$STATE/key.pem"
}

write_config() { # registry-port token-port
	printf '%s\n' 'version: 0.1' 'log:' '  level: info' '  formatter: text' 'storage:' \
		'  filesystem:' "    rootdirectory: $STATE/storage" '  delete:' '    enabled: true' \
		'http:' "  addr: 127.0.0.1:$1" '  secret: pea-token-registry-not-a-secret' \
		'auth:' '  token:' "    realm: http://127.0.0.1:$2/token" "    service: $SERVICE" \
		"    issuer: $ISSUER" "    rootcertbundle: $STATE/cert.pem" >"$STATE/config.yml"
}

start_token_server() {
	rm -f "$STATE/token.port"
	setsid "$PYTHON" "$here/token-server.py" --port 0 --port-file "$STATE/token.port" \
		--key "$STATE/key.pem" --cert "$STATE/cert.pem" --issuer "$ISSUER" \
		--service "$SERVICE" --users "$USERS" --expiry "$EXPIRY" --alg "$ALG" \
		</dev/null >"$STATE/token.log" 2>&1 &
	echo $! >"$STATE/token.pid"
	for _ in $(seq 100); do
		[ -s "$STATE/token.port" ] && return
		running token || break
		sleep 0.1
	done
	tail -5 "$STATE/token.log" >&2
	die "the token server did not start"
}

start_registry() { # port
	# REGISTRY_* variables would override the config file, so they are dropped.
	(
		for v in $(compgen -e | grep '^REGISTRY_'); do unset "$v"; done
		exec setsid docker-registry serve "$STATE/config.yml" </dev/null >"$STATE/registry.log" 2>&1
	) &
	echo $! >"$STATE/registry.pid"
	local code
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/v2/" || true)
		[ "$code" = 401 ] && return
		running registry || break
		sleep 0.1
	done
	tail -5 "$STATE/registry.log" >&2
	die "the registry did not come up on 127.0.0.1:$1 (last HTTP status: ${code:-none})"
}

print_env() {
	local rport tport
	rport=$(cat "$STATE/registry.port") tport=$(cat "$STATE/token.port")
	cat <<-EOF
		PEA_TOKEN_REGISTRY=127.0.0.1:$rport
		PEA_TOKEN_REGISTRY_URL=http://127.0.0.1:$rport
		PEA_TOKEN_REALM=http://127.0.0.1:$tport/token
		PEA_TOKEN_STATS=http://127.0.0.1:$tport/stats
		PEA_TOKEN_USER=pea
		PEA_TOKEN_PASSWORD=peapass
		PEA_TOKEN_READER=reader:readpass
		PEA_TOKEN_EXPIRY=$(cat "$STATE/expiry")
	EOF
}

stop_one() { # name
	local pid
	running "$1" || return 0
	pid=$(cat "$STATE/$1.pid")
	kill "$pid"
	for _ in $(seq 50); do running "$1" || break; sleep 0.1; done
	running "$1" && kill -9 "$pid"
	say "$1 stopped (pid $pid)"
}

case ${1:-} in
start)
	command -v docker-registry >/dev/null || die "docker-registry not installed"
	if running registry && running token; then
		say "already running"
		print_env
		exit 0
	fi
	stop_one registry
	stop_one token
	rm -rf "$STATE/storage"
	mkdir -p "$STATE"
	chmod 755 "$STATE"
	make_keys
	echo "$EXPIRY" >"$STATE/expiry"
	start_token_server
	rport=$(free_port)
	echo "$rport" >"$STATE/registry.port"
	write_config "$rport" "$(cat "$STATE/token.port")"
	start_registry "$rport"
	say "registry pid $(cat "$STATE/registry.pid") on 127.0.0.1:$rport, token server pid $(cat "$STATE/token.pid") on 127.0.0.1:$(cat "$STATE/token.port")"
	print_env
	;;
env)
	if ! running registry || ! running token; then
		die "not running; run $0 start"
	fi
	print_env
	;;
status)
	running registry && running token
	;;
stop)
	stop_one registry
	stop_one token
	rm -rf "$STATE"
	;;
*)
	sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
