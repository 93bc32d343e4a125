#!/usr/bin/env bash
# tools/tcpcrypt-run: flag errors, exit status propagation, starting and
# stopping a private daemon.  The daemon is the mock (tests/preload/mockd.py,
# which takes tcpcryptd's flags) through TCPCRYPT_DAEMON, so this test does
# not depend on tcpcryptd.  Run by make check, or directly:
#   TC_BUILDDIR=build bash tests/preload/run_tcpcrypt_run.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
builddir=${TC_BUILDDIR:-$PWD}
[ -x "$builddir/tools/tcpcrypt-run" ] || builddir=$top_srcdir/build
builddir=$(cd "$builddir" && pwd)
run=$builddir/tools/tcpcrypt-run
lib=$builddir/preload/libtcpcrypt_preload.so
client=$builddir/tests/preload/client_test
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tc-run.XXXXXX")
mock=
checks=0

cleanup() {
    if [ -n "$mock" ]; then
        kill "$mock" 2>/dev/null
        wait "$mock" 2>/dev/null
    fi
    if [ -s "$tmp/pid" ]; then
        kill "$(cat "$tmp/pid")" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$tmp/out" "$tmp/err"; do
        [ -s "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
    done
    exit 1
}

# expect STATUS STDERR-LINE -- command...: exit status and the whole stderr
# (one line, or empty when STDERR-LINE is "")
expect() {
    local want=$1 line=$2
    shift 2
    [ "$1" = -- ] && shift
    # (the outer 2> keeps bash's own "Terminated" notice out of the output)
    { "$@" >"$tmp/out" 2>"$tmp/err"; } 2>/dev/null
    local rc=$?
    [ "$rc" = "$want" ] || fail "$*: exit $rc, want $want"
    if [ -z "$line" ]; then
        [ -s "$tmp/err" ] && fail "$*: unexpected stderr"
    else
        [ "$(wc -l <"$tmp/err")" = 1 ] && [ "$(cat "$tmp/err")" = "$line" ] ||
            fail "$*: stderr is not the line: $line"
    fi
    checks=$((checks + 1))
}

[ -x "$run" ] || fail "$run not built"
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 (Debian's) not found"

# ---------------------------------------------------------------- flags
expect 2 "tcpcrypt-run: no program to run (see --help)" -- "$run"
expect 2 "tcpcrypt-run: unknown option --bogus (see --help)" -- "$run" --bogus true
expect 2 "tcpcrypt-run: option --tap needs a value (see --help)" -- "$run" --tap
expect 2 "tcpcrypt-run: --tap needs at least one --addr ADDRESS/PREFIX (see --help)" -- \
    "$run" --tap tc0 -- true
expect 2 "tcpcrypt-run: --addr, --gw and --keylog go with --tap (see --help)" -- \
    "$run" --addr 198.51.100.2/24 -- true
expect 2 "tcpcrypt-run: --tap and --daemon exclude each other (see --help)" -- \
    "$run" --tap tc0 --addr 198.51.100.2/24 --daemon /x.sock -- true
expect 2 "tcpcrypt-run: --addr 198.51.100.2: expected ADDRESS/PREFIX (see --help)" -- \
    "$run" --tap tc0 --addr 198.51.100.2 -- true
expect 0 "" -- "$run" --help
grep -q '^usage: tcpcrypt-run' "$tmp/out" || fail "--help prints no usage"
echo "ok: flag errors are one line each, exit 2"

# ---------------------------------------------------------------- joining a daemon
expect 127 "tcpcrypt-run: $tmp/nothing: No such file or directory" -- "$run" -- "$tmp/nothing"
printf 'not a program\n' >"$tmp/noexec"
chmod -x "$tmp/noexec"
expect 126 "tcpcrypt-run: $tmp/noexec: Permission denied" -- "$run" "$tmp/noexec"
expect 1 "tcpcrypt-run: no tcpcryptd answers at $tmp/none.sock: No such file or directory" -- \
    "$run" --daemon "$tmp/none.sock" -- true

/usr/bin/python3 "$here/mockd.py" --control "$tmp/ctl.sock" 2>"$tmp/mock.err" &
mock=$!
for _ in $(seq 100); do
    [ -S "$tmp/ctl.sock" ] && break
    sleep 0.05
done
[ -S "$tmp/ctl.sock" ] || fail "mock daemon did not start"
expect 7 "" -- "$run" --daemon "$tmp/ctl.sock" -- sh -c 'exit 7'
expect 0 "" -- "$run" --daemon "$tmp/ctl.sock" sh -c 'printf "%s\n" "$LD_PRELOAD" "$TCPCRYPT_SOCKET"'
[ "$(cat "$tmp/out")" = "$(printf '%s\n' "$lib" "$tmp/ctl.sock")" ] ||
    fail "environment: $(cat "$tmp/out")"
libc=$(ldd /bin/sh | awk '/libc\.so/ { print $3; exit }')
LD_PRELOAD=$libc expect 0 "" -- "$run" --daemon "$tmp/ctl.sock" sh -c 'printf "%s\n" "$LD_PRELOAD"'
[ "$(cat "$tmp/out")" = "$lib:$libc" ] || fail "LD_PRELOAD not prepended: $(cat "$tmp/out")"
TCPCRYPT_SOCKET=$tmp/ctl.sock expect 0 "" -- "$run" sh -c 'printf "%s\n" "$TCPCRYPT_SOCKET"'
[ "$(cat "$tmp/out")" = "$tmp/ctl.sock" ] || fail "TCPCRYPT_SOCKET not kept"
expect 143 "" -- "$run" --daemon "$tmp/ctl.sock" -- sh -c 'kill -TERM $$'
expect 0 "" -- "$run" --daemon "$tmp/ctl.sock" -- "$client" echo
echo "ok: --daemon: exit status (and 128+signal) passed through, environment set, a connection made"

# ---------------------------------------------------------------- a private daemon
cat >"$tmp/fake-tcpcryptd" <<EOF
#!/bin/sh
exec /usr/bin/python3 "$here/mockd.py" "\$@"
EOF
chmod +x "$tmp/fake-tcpcryptd"
export TCPCRYPT_DAEMON=$tmp/fake-tcpcryptd MOCKD_ARGS=$tmp/args MOCKD_PIDFILE=$tmp/pid

stopped() {
    local pid
    pid=$(cat "$tmp/pid")
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.02
    done
    return 1
}

tap="--tap tc0 --addr 198.51.100.2/24 --addr 2001:db8::2/64 --gw 198.51.100.254"
# shellcheck disable=SC2086
LD_PRELOAD=$lib expect 3 "" -- "$run" $tap --keylog "$tmp/keys" -- sh -c 'exit 3'
read -r args <"$tmp/args"
ctl=${args##*--control }
[ "$args" = "--tap tc0 --addr 198.51.100.2/24 --addr 2001:db8::2/64 --gw 198.51.100.254 --keylog $tmp/keys --control $ctl" ] ||
    fail "daemon arguments: $args"
grep -qx 'LD_PRELOAD=' "$tmp/args" || fail "the daemon was started with the preload library"
stopped || fail "the daemon still runs after the program"
[ -e "$(dirname "$ctl")" ] && fail "the private directory $(dirname "$ctl") was left behind"
# shellcheck disable=SC2086
expect 0 "" -- "$run" $tap -- "$client" echo
stopped || fail "the daemon still runs after the program"
# shellcheck disable=SC2086
expect 130 "" -- "$run" $tap -- sh -c 'kill -INT $$'
# shellcheck disable=SC2086
expect 127 "tcpcrypt-run: $tmp/nothing: No such file or directory" -- "$run" $tap -- "$tmp/nothing"
stopped || fail "the daemon still runs after a missing program"
echo "ok: --tap: the daemon gets the flags and no LD_PRELOAD, the program runs with it, exit status passed through, the daemon is stopped and its directory removed"

# shellcheck disable=SC2086
MOCKD_FAIL="cannot open tap tc0: Operation not permitted" expect 1 \
    "tcpcrypt-run: tcpcryptd failed to start: cannot open tap tc0: Operation not permitted" -- \
    "$run" $tap -- touch "$tmp/ran"
[ -e "$tmp/ran" ] && fail "the program ran although the daemon failed"
# shellcheck disable=SC2086
MOCKD_HANG=1 TCPCRYPT_RUN_TIMEOUT=1 expect 1 \
    "tcpcrypt-run: tcpcryptd did not open its control socket within 1 s" -- \
    "$run" $tap -- touch "$tmp/ran"
[ -e "$tmp/ran" ] && fail "the program ran although the daemon never answered"
stopped || fail "the daemon that never answered was left running"
# shellcheck disable=SC2086
TCPCRYPT_DAEMON=$tmp/noexec expect 1 "tcpcrypt-run: TCPCRYPT_DAEMON=$tmp/noexec: Permission denied" -- \
    "$run" $tap -- true
echo "ok: --tap: a daemon that fails, hangs or is not executable gives one clear line, exit 1"
echo "run_tcpcrypt_run: all passed ($checks runs checked)"
