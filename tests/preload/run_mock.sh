#!/usr/bin/env bash
# libtcpcrypt_preload.so against a mock tcpcryptd (tests/preload/mockd.py):
#   1. the library exports only the interposed functions and needs only libc
#   2. client_test runs every scenario with LD_PRELOAD, the library prints
#      nothing, and the mock was never asked about loopback or UDP
#   3. the product library (not the test build) does a connection too, and
#      TCPCRYPT_DEBUG=1 makes it talk
#   4. with no daemon at all, kernel TCP works and exactly one warning line
#      is printed
# As root it runs in a private network namespace, where 203.0.113.1 on lo
# stands for "a local address the daemon does not serve".  Run by make check
# (from the build directory) or directly: TC_BUILDDIR=build bash tests/preload/run_mock.sh
# (TC_NO_NETNS=1: stay in the current namespace).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
builddir=${TC_BUILDDIR:-$PWD}
[ -x "$builddir/tests/preload/client_test" ] || builddir=$top_srcdir/build
builddir=$(cd "$builddir" && pwd)

if [ -z "${TC_NETNS:-}" ] && [ -z "${TC_NO_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare -n true 2>/dev/null; then
    TC_NETNS=inside TC_BUILDDIR=$builddir exec unshare -n -- bash "$0" "$@"
fi

client=$builddir/tests/preload/client_test
testlib=$builddir/tests/preload/libtcpcrypt_preload_test.so
lib=$builddir/preload/libtcpcrypt_preload.so
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tc-preload.XXXXXX")
mock=

cleanup() {
    if [ -n "$mock" ]; then
        kill "$mock" 2>/dev/null
        wait "$mock" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
show() {
    for f in "$@"; do
        [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -n 40 "$f"; }
    done
    return 0
}

for f in "$client" "$testlib" "$lib"; do
    [ -e "$f" ] || fail "$f not built"
done
[ -x "$py" ] || fail "$py not found (Debian's python3)"

if [ "${TC_NETNS:-}" = inside ]; then
    ip link set lo up && ip addr add 203.0.113.1/32 dev lo || fail "netns setup"
    kaddr=203.0.113.1
else
    kaddr=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
    echo "note: no private network namespace: kernel address '${kaddr:-none}' of this namespace"
fi
export TC_TEST_KADDR=$kaddr

# A library built with gcc's ASan needs libasan first in LD_PRELOAD (clang
# links its runtime statically into the test program: nothing to add).
asan_rt=$(ldd "$client" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
pre=${asan_rt:+$asan_rt:}

# 1 ---------------------------------------------------------------- exports
want="__read_chk __recv_chk __recvfrom_chk accept accept4 bind close connect dup dup2 dup3 \
epoll_ctl fcntl fcntl64 getpeername getsockname getsockopt listen read readv recv recvfrom \
recvmsg setsockopt socket"
got=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort | xargs)
[ "$got" = "$want" ] || fail "exported symbols: $got"
needed=$(readelf -d "$lib" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }' | xargs)
[ "$needed" = "libc.so.6" ] || fail "needs more than libc: $needed"
echo "ok: exports exactly the 25 interposed functions, needs only libc.so.6"

# 2 ---------------------------------------------------------------- mock
"$py" "$here/mockd.py" --control "$tmp/ctl.sock" --log "$tmp/mock.log" 2>"$tmp/mock.err" &
mock=$!
for _ in $(seq 100); do
    [ -S "$tmp/ctl.sock" ] && break
    sleep 0.05
done
[ -S "$tmp/ctl.sock" ] || { show "$tmp/mock.err"; fail "mock daemon did not start"; }

timeout 150 env LD_PRELOAD="$pre$testlib" TCPCRYPT_SOCKET="$tmp/ctl.sock" "$client" mock \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
[ $rc = 0 ] || { show "$tmp/err" "$tmp/mock.err" "$tmp/mock.log"; fail "client_test exit $rc"; }
[ -s "$tmp/err" ] && { show "$tmp/err"; fail "the library printed on stderr without TCPCRYPT_DEBUG"; }
if grep '^ERROR' "$tmp/mock.log"; then
    fail "the mock daemon hit an error"
fi
if grep -E 'CONNECT (127\.|::1 |0\.0\.0\.0|::ffff:127)|LISTEN 127\.| 5353 |^BAD' "$tmp/mock.log"; then
    fail "the mock was asked about loopback, UDP, or got a malformed request"
fi
grep -q '^SETOPT 0x1$' "$tmp/mock.log" || fail "TCP_NODELAY was not passed on to the daemon"
n=$(grep -c '^CONNECT' "$tmp/mock.log")
[ "$n" -ge 15 ] || fail "only $n CONNECT requests reached the mock"
echo "ok: client_test scenarios; $n CONNECT requests, none for loopback or UDP; TCP_NODELAY passed on; stderr silent"

# 3 ---------------------------------------------------------------- product library
timeout 30 env LD_PRELOAD="$pre$lib" TCPCRYPT_SOCKET="$tmp/ctl.sock" "$client" echo \
    >"$tmp/out" 2>"$tmp/err" || { show "$tmp/out" "$tmp/err"; fail "product library: echo"; }
[ -s "$tmp/err" ] && { show "$tmp/err"; fail "product library printed on stderr"; }
timeout 30 env LD_PRELOAD="$pre$lib" TCPCRYPT_SOCKET="$tmp/ctl.sock" TCPCRYPT_DEBUG=1 "$client" echo \
    >"$tmp/out" 2>"$tmp/err" || fail "product library: echo with TCPCRYPT_DEBUG=1"
grep -q "^tcpcrypt\[[0-9]*\]: connect fd [0-9]*: the daemon's connection" "$tmp/err" ||
    { show "$tmp/err"; fail "TCPCRYPT_DEBUG=1 printed no debug line"; }
echo "ok: the product library carries a connection; TCPCRYPT_DEBUG=1 explains it"

# 4 ---------------------------------------------------------------- no daemon
if [ -n "$kaddr" ]; then
    for l in "$lib" "$testlib"; do
        timeout 30 env LD_PRELOAD="$pre$l" TCPCRYPT_SOCKET="$tmp/none.sock" "$client" nodaemon \
            >"$tmp/out" 2>"$tmp/err" || { show "$tmp/out" "$tmp/err"; fail "no daemon: $l"; }
        [ "$(wc -l <"$tmp/err")" = 1 ] &&
            grep -qx "tcpcrypt: daemon not reachable at $tmp/none.sock: connections are not encrypted" \
                "$tmp/err" || { show "$tmp/err"; fail "no daemon: want exactly one warning line"; }
    done
    echo "ok: no daemon: kernel TCP works, exactly one warning line"
else
    echo "skip: no daemon (no non-loopback address)"
fi
echo "run_mock: all passed"
