# -*- bash -*-
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154 # output, status and lines are set by bats' run
#
# Helpers for pea's bats system tests, in the style of Podman's
# test/system/helpers.bash. Every .bats file starts with `load helpers`.
#
# Environment (set by contrib/scripts/test-all; all optional):
#   PEA                 the pea binary (default: the build tree's, else pea in PATH)
#   PEA_TEST_ROOT       passed as --root to every run_pea (root runs: a private store)
#   PEA_TEST_RUNROOT    passed as --runroot to every run_pea
#   PEA_TEST_STRICT=1   a skip whose reason matches no line of skip-allowlist fails
#   PEA_TEST_TIMEOUT    seconds before run_pea kills pea (default 60)
#   PEA_TEST_VERSION    the version pea must report (default: from meson.build)
#   PEA_REGISTRY...     the test registries (see ../shared/testenv/README.md)

# run -N (see run_pea) needs bats >= 1.5 (Debian 12 has 1.8.2)
bats_require_minimum_version 1.5.0

# bats-support and bats-assert, when installed (Debian: bats-support, bats-assert)
for _lib in bats-support bats-assert; do
        for _dir in "${BATS_LIB_PATH:-}" /usr/lib/bats /usr/share/bats /usr/local/lib/bats; do
                if [ -n "$_dir" ] && [ -f "$_dir/$_lib/load.bash" ]; then
                        # shellcheck disable=SC1090
                        source "$_dir/$_lib/load.bash"
                        break
                fi
        done
done
unset _lib _dir

_pea_srcdir=$(cd "$BATS_TEST_DIRNAME/../.." 2>/dev/null && pwd)
if [ -z "${PEA:-}" ]; then
        PEA=$(find "$_pea_srcdir/build" -maxdepth 2 -name pea -type f -perm -u+x 2>/dev/null | head -n1)
        PEA=${PEA:-$(command -v pea || echo pea)}
fi
if [ -z "${PEA_TEST_VERSION:-}" ] && [ -r "$_pea_srcdir/meson.build" ]; then
        PEA_TEST_VERSION=$(sed -nE "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'([^']+)'.*/\1/p" \
                "$_pea_srcdir/meson.build" | head -n1)
fi
PEA_TEST_VERSION=${PEA_TEST_VERSION:-0.1.0}
PEA_TEST_TIMEOUT=${PEA_TEST_TIMEOUT:-60}
PEA_TEST_STRICT=${PEA_TEST_STRICT:-0}
export PEA PEA_TEST_VERSION

# The prompt run_pea logs commands with (shown when a test fails).
_LOG_PROMPT='$'

###############################################################################
# Setup and teardown (a test file may define its own and call these)

pea_setup() {
        :
}

pea_teardown() {
        # Later issues: assert that no monitor processes and no mounts the
        # test created are left over (rule 39), killing leftovers by PID.
        :
}

setup() {
        pea_setup
}

teardown() {
        pea_teardown
}

###############################################################################
# Running pea

# setup_file() of the container tests: busybox pulled once per file (into
# the private store of the rootful run when there is one).
busybox_setup_file() {
        [ -n "${PEA_REGISTRY:-}" ] || return 0
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")
        "$PEA" "${opts[@]}" pull -q --tls-verify=false "$PEA_REGISTRY/busybox" >/dev/null
}

# setup() of the container tests: skips without a registry, sets IMAGE.
busybox_setup() {
        [ -n "${PEA_REGISTRY:-}" ] || skip "no test registry: PEA_REGISTRY is not set"
        # shellcheck disable=SC2034 # used by the tests that call this
        IMAGE=$PEA_REGISTRY/busybox
}

# run_pea [EXPECTED_RC] ARGS...
#
# Runs "$PEA ARGS" (with --root/--runroot from PEA_TEST_ROOT/PEA_TEST_RUNROOT)
# under timeout, logs the command and its output, and sets $output (stdout
# and stderr) and $status. Fails unless the exit code is EXPECTED_RC (default
# 0); EXPECTED_RC '?' accepts any exit code.
run_pea() {
        local expected_rc=0
        case "${1:-}" in
        [0-9] | [0-9][0-9] | [0-9][0-9][0-9]) expected_rc=$1; shift ;;
        '?') expected_rc=; shift ;;
        esac
        local opts=()
        [ -n "${PEA_TEST_ROOT:-}" ] && opts+=(--root "$PEA_TEST_ROOT")
        [ -n "${PEA_TEST_RUNROOT:-}" ] && opts+=(--runroot "$PEA_TEST_RUNROOT")

        echo "$_LOG_PROMPT pea${opts[*]:+ ${opts[*]}} $*"
        # "run -127" tells bats that 127 (not found) is expected, which avoids its BW01 warning
        local runopt=()
        [ "$expected_rc" = 127 ] && runopt=(-127)
        run "${runopt[@]}" timeout --foreground -v --kill-after=10 "$PEA_TEST_TIMEOUT" "$PEA" "${opts[@]}" "$@"
        PEA_LAST_COMMAND="pea $*"
        [ -n "$output" ] && echo "$output"
        if [ "$status" -ne 0 ]; then
                echo -n "[ rc=$status "
                if [ -n "$expected_rc" ]; then
                        if [ "$status" -eq "$expected_rc" ]; then
                                echo -n "(expected) "
                        else
                                echo -n "(** EXPECTED $expected_rc **) "
                        fi
                fi
                echo "]"
        fi
        if [ "$status" -eq 124 ] && [[ $output == *"timeout: sending signal"* ]]; then
                die "pea $* timed out after ${PEA_TEST_TIMEOUT}s"
        fi
        if [ -n "$expected_rc" ] && [ "$status" -ne "$expected_rc" ]; then
                die "exit code is $status; expected $expected_rc"
        fi
}

###############################################################################
# Checking results

# die MESSAGE: fail the current test with a visible message.
die() {
        echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" >&2
        echo "#| FAIL: $*" >&2
        echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" >&2
        false
}

# is ACTUAL EXPECTED [DESCRIPTION]
#
# Passes when ACTUAL equals EXPECTED. When EXPECTED contains a regex
# metacharacter (* [ ] ( ) | + ? ^ $ { } \) it is also tried as an extended
# regular expression that must match all of ACTUAL (a multi-line ACTUAL
# included: use ".*" for "anything"). An empty EXPECTED matches only an empty
# ACTUAL.
is() {
        local actual=$1 expect=$2 desc=${3:-${PEA_LAST_COMMAND:-[no description]}}
        if [ "$actual" = "$expect" ]; then
                return 0
        fi
        # shellcheck disable=SC2016 # the $ is one of the characters
        local how='' meta='[][*()|+?^${}\]'
        if [ -n "$expect" ] && [[ $expect =~ $meta ]]; then
                how=' (as a regex)'
                if [[ $actual =~ ^($expect)$ ]]; then
                        return 0
                fi
        fi
        [ -z "$expect" ] && expect='[no output]'
        [ -z "$actual" ] && actual='[no output]'
        local indent='#|     '
        {
                echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
                echo "#|     FAIL: $desc"
                printf '#| expected: %s%s\n' "${expect//$'\n'/$'\n'$indent}" "$how"
                printf '#|   actual: %s\n' "${actual//$'\n'/$'\n'$indent}"
                echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
        } >&2
        false
}

# is_rootless: true when the tests run as a non-root user.
is_rootless() {
        [ "$(id -u)" -ne 0 ]
}

skip_if_rootless() { # [reason]
        if is_rootless; then
                skip "${1:-needs root}"
        fi
}

skip_if_root() { # [reason]
        if ! is_rootless; then
                skip "${1:-rootless only}"
        fi
}

# json_valid TEXT: fails the test unless TEXT is one valid JSON document.
json_valid() {
        jq -e . >/dev/null 2>&1 <<<"$1" || die "not valid JSON: $1"
}

###############################################################################
# Strict mode: with PEA_TEST_STRICT=1 (CI) a skip fails the test unless its
# reason matches one of the extended regexes in skip-allowlist (one a line,
# "#" starts a comment). bats' own skip stays available as _pea_bats_skip.

if ! declare -F _pea_bats_skip >/dev/null && declare -F skip >/dev/null; then
        eval "_pea_bats_$(declare -f skip)"
fi

skip() {
        local reason=${1:-}
        if [ "${PEA_TEST_STRICT:-0}" = 1 ] && ! _pea_skip_allowed "$reason"; then
                die "skip in strict mode (PEA_TEST_STRICT=1) with a reason not in" \
                        "tests/system/skip-allowlist: '${reason:-[no reason]}'"
                return 1
        fi
        _pea_bats_skip "$@"
}

_pea_skip_allowed() { # reason
        local list=$BATS_TEST_DIRNAME/skip-allowlist re
        [ -n "$1" ] && [ -r "$list" ] || return 1
        while IFS= read -r re || [ -n "$re" ]; do
                case $re in '' | '#'*) continue ;; esac
                if [[ $1 =~ $re ]]; then
                        return 0
                fi
        done <"$list"
        return 1
}
