#!/usr/bin/env bash
# tcpcryptd against plain kernel hosts, driven through its control protocol
# (tests/netns/ctl.py plays the preload library's part):
#
#   ns A: tcpcryptd 10.77.0.1/24 fd77::1/64 --tap tcA-- br0 --veth--+
#   ns B: kernel 10.77.0.2/24 fd77::2/64 ---------------------------+
#
# Checks: bad flags fail with one line; ARP, ICMP echo and ND/ICMPv6 echo
# answered by lwIP; HELLO; a kernel client in B reaches a daemon listener and
# the daemon connects to a kernel server in B, 1 MB each way with sha256,
# over IPv4 and IPv6; the listener's kernel socket still serves loopback;
# destinations the daemon does not serve answer PASS; ECONNREFUSED,
# EHOSTUNREACH and a peer's RST (ECONNRESET) reach STATUS; a second daemon on
# the same tap or control socket is refused; SIGTERM resets open connections,
# exits 0 and removes the control socket; a stale socket is replaced; --gw
# routes off-link destinations (IPv4 and IPv6) to the gateway.  Root only
# (exit 77 otherwise); every namespace, link and file it creates is removed on
# exit; bounded in time.
set -euo pipefail

if [ -z "${TC_UNDER_TIMEOUT:-}" ]; then
    TC_UNDER_TIMEOUT=1 exec timeout -k 5 240 bash "$0" "$@"
fi

NAME=daemon_plain
here=$(cd "$(dirname "$0")" && pwd)
TC_SRCDIR=${TC_SRCDIR:-$(cd "$here/../.." && pwd)}
if [ -z "${TC_BUILDDIR:-}" ]; then
    if [ -x "$PWD/stack/tcpcryptd" ]; then TC_BUILDDIR=$PWD; else TC_BUILDDIR=$TC_SRCDIR/build; fi
fi
D=$TC_BUILDDIR/stack/tcpcryptd
PY=/usr/bin/python3
CTL=$here/ctl.py

say() { printf '%s: %s\n' "$NAME" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$NAME" "$*" >&2
    [ -n "${WORK:-}" ] && for f in "$WORK"/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}
[ -x "$D" ] || fail "no $D (build first)"

# ---------------------------------------------------------------- bad flags
# Each: exit status 2, exactly one line on stderr, nothing on stdout.
bad_flags() {
    local out err rc
    out=$(mktemp) err=$(mktemp)
    rc=0
    "$D" "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq 2 ] || { rm -f "$out" "$err"; fail "'$*': exit $rc, want 2"; }
    [ ! -s "$out" ] || { rm -f "$out" "$err"; fail "'$*': wrote to stdout"; }
    [ "$(wc -l <"$err")" -eq 1 ] || { cat "$err" >&2; rm -f "$out" "$err"; fail "'$*': not one line"; }
    rm -f "$out" "$err"
}
A4=(--tap tcX --addr 10.9.0.1/24)
bad_flags --bogus
bad_flags -x
bad_flags --tap
bad_flags --tap tcX
bad_flags --addr 10.9.0.1/24
bad_flags --tap tcX --addr 10.9.0.1
bad_flags --tap tcX --addr 10.9.0.1/33
bad_flags --tap tcX --addr 10.9.0.1/0
bad_flags --tap tcX --addr 300.1.1.1/24
bad_flags --tap tcX --addr 127.0.0.1/8
bad_flags --tap tcX --addr fe80::1/64
bad_flags "${A4[@]}" --addr 10.9.0.2/24
bad_flags "${A4[@]}" --gw 10.9.0.254 --gw 10.9.0.253
bad_flags "${A4[@]}" --gw fd00::1
bad_flags "${A4[@]}" --gw nowhere
bad_flags "${A4[@]}" --mac 02:00:00:00:00
bad_flags "${A4[@]}" --mac 01:00:00:00:00:01
bad_flags "${A4[@]}" --mac 02:00:00:00:00:0g
bad_flags "${A4[@]}" --eph-lifetime -1
bad_flags "${A4[@]}" --eph-lifetime 1x
bad_flags "${A4[@]}" --eph-lifetime 99999999999
bad_flags "${A4[@]}" --control ''
bad_flags "${A4[@]}" --keylog ''
bad_flags "${A4[@]}" stray
say "ok: 24 bad command lines each exit 2 with one line"

[ "$(id -u)" -eq 0 ] || { say "SKIP: the network part needs root"; exit 77; }
for c in ip ping timeout "$PY"; do
    command -v "$c" >/dev/null || fail "missing $c (apt-get install iproute2 iputils-ping)"
done

# ---------------------------------------------------------------- the network
tag=$(printf '%x' $$)
NSA=tdpa$tag
NSB=tdpb$tag
VA=tdva$tag
VB=tdvb$tag
WORK=$(mktemp -d /tmp/tcpcrypt-daemon-plain.XXXXXX)
SOCK=$WORK/ctl.sock
DPID=
cleanup() {
    set +e
    [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
    for ns in "$NSA" "$NSB"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    ip link del "$VA" 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ctl() { nsx "$NSA" "$PY" "$CTL" "$SOCK" "$@"; }
kern() { local ns=$1; shift; nsx "$ns" "$PY" "$CTL" - "$@"; }
json() { "$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[3])]); print(d.get(sys.argv[2]))' "$1" "$2" "${3:--1}"; }
wait_line() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; fail "no '$2' in $1"; }

ip netns add "$NSA"
ip netns add "$NSB"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NSA"
ip link set "$VB" netns "$NSB"
nsx "$NSA" ip link set lo up
nsx "$NSB" ip link set lo up
nsx "$NSA" ip link add br0 type bridge
nsx "$NSA" ip tuntap add dev tcA mode tap
nsx "$NSA" ip link set tcA master br0
nsx "$NSA" ip link set "$VA" master br0
for l in br0 tcA "$VA"; do nsx "$NSA" ip link set "$l" up; done
nsx "$NSB" ip addr add 10.77.0.2/24 dev "$VB"
nsx "$NSB" ip addr add fd77::2/64 dev "$VB" nodad
nsx "$NSB" ip link set "$VB" up

start_daemon() {
    ip netns exec "$NSA" "$D" --tap tcA --addr 10.77.0.1/24 --addr fd77::1/64 --control "$SOCK" "$@" \
        >"$WORK/daemon.log" 2>&1 &
    DPID=$!
    for _ in $(seq 100); do
        # Answering HELLO: a stale socket file alone does not count.
        [ -S "$SOCK" ] && ctl hello >/dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || fail "tcpcryptd exited: $(tail -n1 "$WORK/daemon.log")"
        sleep 0.05
    done
    fail "tcpcryptd does not answer on $SOCK"
}
start_daemon --eph-lifetime 0
grep -q "^tcpcryptd: listening on $SOCK, tap tcA, addresses 10.77.0.1/24 fd77::1/64 fe80::" \
    "$WORK/daemon.log" || fail "startup line: $(head -n1 "$WORK/daemon.log")"
say "ok: $(head -n1 "$WORK/daemon.log")"

# ---- ARP + ICMP, ND + ICMPv6 (lwIP answers by itself)
ok=
for _ in $(seq 20); do nsx "$NSB" ping -c1 -W1 10.77.0.1 >/dev/null 2>&1 && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] || fail "no ping reply from 10.77.0.1"
ok=
for _ in $(seq 30); do nsx "$NSB" ping -6 -c1 -W1 fd77::1 >/dev/null 2>&1 && { ok=1; break; }; sleep 0.2; done
[ -n "$ok" ] || fail "no ping6 reply from fd77::1 (duplicate address detection takes about 1 s)"
say "ok: ping 10.77.0.1 and ping -6 fd77::1 from the kernel host answered"

# ---- HELLO
ctl hello >"$WORK/hello.json" || fail "HELLO: $(cat "$WORK/hello.json")"
[ "$(json "$WORK/hello.json" addrs)" = "['10.77.0.1/24', 'fd77::1/64']" ] ||
    fail "HELLO addresses: $(cat "$WORK/hello.json")"
say "ok: HELLO $(cat "$WORK/hello.json")"

# transfer PORT FAMILY BYTES: kernel client in B -> daemon listener in A, and
# the daemon connecting to a kernel server in B.
MB=1000000
check_pair() { # check_pair FILE_A FILE_B what: both directions intact
    [ "$(json "$1" received)" = "$3" ] || fail "$4: $1 received $(json "$1" received) bytes"
    [ "$(json "$2" received)" = "$3" ] || fail "$4: $2 received $(json "$2" received) bytes"
    [ "$(json "$1" received_sha256)" = "$(json "$2" sent_sha256)" ] || fail "$4: data altered one way"
    [ "$(json "$2" received_sha256)" = "$(json "$1" sent_sha256)" ] || fail "$4: data altered the other way"
    [ "$(json "$1" read_error)" = None ] && [ "$(json "$2" read_error)" = None ] || fail "$4: read error"
}

# ---- kernel client (B) -> listener served by the daemon (A), IPv4
ctl listen 7101 --send $MB >"$WORK/srv4.json" 2>"$WORK/srv4.log" &
srv=$!
wait_line "$WORK/srv4.json" listening
kern "$NSB" kclient 10.77.0.1 7101 --send $MB >"$WORK/cli4.json" || fail "kernel client: $(cat "$WORK/cli4.json")"
wait "$srv" || fail "listener side: $(cat "$WORK/srv4.json" "$WORK/srv4.log")"
check_pair "$WORK/srv4.json" "$WORK/cli4.json" $MB "kernel client -> daemon listener"
[ "$(json "$WORK/srv4.json" kernel)" = False ] || fail "connection not served by the daemon"
[ "$(json "$WORK/srv4.json" encrypted)" = False ] || fail "a kernel peer cannot be encrypted"
case $(json "$WORK/srv4.json" remote) in 10.77.0.2:*) ;; *) fail "accepted remote $(json "$WORK/srv4.json" remote)" ;; esac
[ "$(json "$WORK/srv4.json" sessid)" = ENOPROTOOPT ] || fail "TCP_CRYPT_SESSID on plain TCP: $(json "$WORK/srv4.json" sessid)"
say "ok: kernel client -> daemon listener, 1 MB each way intact in $(json "$WORK/srv4.json" transfer_seconds) s (plain, TCP_CRYPT_SESSID: ENOPROTOOPT)"

# ---- daemon -> kernel server (B), IPv4
kern "$NSB" kserver 10.77.0.2 7102 --send $MB >"$WORK/ksrv4.json" 2>"$WORK/ksrv4.log" &
srv=$!
wait_line "$WORK/ksrv4.json" listening
ctl connect 10.77.0.2 7102 --send $MB >"$WORK/conn4.json" 2>"$WORK/conn4.log" || fail "connect: $(cat "$WORK/conn4.json")"
wait "$srv" || fail "kernel server: $(cat "$WORK/ksrv4.json" "$WORK/ksrv4.log")"
check_pair "$WORK/conn4.json" "$WORK/ksrv4.json" $MB "daemon -> kernel server"
[ "$(json "$WORK/ksrv4.json" peer)" = 10.77.0.1 ] || fail "the server saw $(json "$WORK/ksrv4.json" peer)"
say "ok: daemon -> kernel server, 1 MB each way intact in $(json "$WORK/conn4.json" transfer_seconds) s (connect $(json "$WORK/conn4.json" connect_seconds) s)"

# ---- the same over IPv6
ctl listen 7103 --v6 --send $MB >"$WORK/srv6.json" 2>"$WORK/srv6.log" &
srv=$!
wait_line "$WORK/srv6.json" listening
kern "$NSB" kclient fd77::1 7103 --send $MB >"$WORK/cli6.json" || fail "kernel client v6: $(cat "$WORK/cli6.json")"
wait "$srv" || fail "listener side v6: $(cat "$WORK/srv6.json" "$WORK/srv6.log")"
check_pair "$WORK/srv6.json" "$WORK/cli6.json" $MB "IPv6 kernel client -> daemon listener"
kern "$NSB" kserver fd77::2 7104 --send $MB >"$WORK/ksrv6.json" 2>"$WORK/ksrv6.log" &
srv=$!
wait_line "$WORK/ksrv6.json" listening
ctl connect fd77::2 7104 --send $MB >"$WORK/conn6.json" 2>"$WORK/conn6.log" || fail "connect v6: $(cat "$WORK/conn6.json")"
wait "$srv" || fail "kernel server v6"
check_pair "$WORK/conn6.json" "$WORK/ksrv6.json" $MB "IPv6 daemon -> kernel server"
say "ok: IPv6 both ways, 1 MB each way intact ($(json "$WORK/srv6.json" transfer_seconds) s, $(json "$WORK/conn6.json" transfer_seconds) s)"

# ---- the listener's own kernel socket keeps serving loopback (TC_CTL_F_KERNEL)
ctl listen 7105 --send 5000 >"$WORK/srvk.json" 2>"$WORK/srvk.log" &
srv=$!
wait_line "$WORK/srvk.json" listening
kern "$NSA" kclient 127.0.0.1 7105 --send 7000 >"$WORK/clik.json" || fail "loopback client"
wait "$srv" || fail "loopback listener: $(cat "$WORK/srvk.json")"
[ "$(json "$WORK/srvk.json" kernel)" = True ] || fail "loopback connection not forwarded as a kernel fd"
[ "$(json "$WORK/srvk.json" received_sha256)" = "$(json "$WORK/clik.json" sent_sha256)" ] &&
    [ "$(json "$WORK/clik.json" received_sha256)" = "$(json "$WORK/srvk.json" sent_sha256)" ] ||
    fail "loopback data altered"
say "ok: loopback client reaches the same listener through its kernel socket (TC_CTL_F_KERNEL)"

# ---- what the daemon does not serve
ctl pass-connect 127.0.0.1 80 >/dev/null || fail "loopback CONNECT not PASS"
ctl pass-connect 192.0.2.1 80 >/dev/null || fail "off-link CONNECT without gateway not PASS"
ctl pass-connect ::1 80 >/dev/null || fail "::1 CONNECT not PASS"
ctl pass-listen 127.0.0.1 7106 >/dev/null || fail "LISTEN on 127.0.0.1 not PASS"
say "ok: loopback, off-link (no gateway) and ::1 CONNECT, and LISTEN on 127.0.0.1 answer PASS"

# ---- failures reach STATUS (SO_ERROR semantics: cleared by reading it)
ctl connect 10.77.0.2 7199 --expect-error ECONNREFUSED >"$WORK/refused.json" ||
    fail "closed port: $(cat "$WORK/refused.json")"
[ "$(json "$WORK/refused.json" read_error)" = ECONNREFUSED ] || fail "read_error after refusal"
say "ok: connect to a closed port: $(cat "$WORK/refused.json")"
ctl connect 10.77.0.99 7199 --expect-error EHOSTUNREACH >"$WORK/unreach.json" ||
    fail "absent host: $(cat "$WORK/unreach.json")"
say "ok: connect to an absent host: $(cat "$WORK/unreach.json")"
kern "$NSB" kserver 10.77.0.2 7107 --reset >"$WORK/reset.json" 2>&1 &
srv=$!
wait_line "$WORK/reset.json" listening
ctl connect 10.77.0.2 7107 >"$WORK/connreset.json" 2>&1 || fail "reset: $(cat "$WORK/connreset.json")"
wait "$srv" || true
[ "$(json "$WORK/connreset.json" read_error)" = ECONNRESET ] ||
    fail "peer's RST: read_error $(json "$WORK/connreset.json" read_error)"
say "ok: the peer's RST: EOF, then STATUS read_error ECONNRESET"

# ---- one daemon per tap and per control socket
nsx "$NSA" ip tuntap add dev tcZ mode tap
rc=0
nsx "$NSA" "$D" --tap tcA --addr 10.77.0.5/24 --control "$WORK/other.sock" >"$WORK/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "device busy: another tcpcryptd?" "$WORK/second.log" && [ "$(wc -l <"$WORK/second.log")" -eq 1 ] ||
    fail "second daemon on the tap: exit $rc: $(cat "$WORK/second.log")"
rc=0
nsx "$NSA" "$D" --tap tcZ --addr 10.77.0.5/24 --control "$SOCK" >"$WORK/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "another tcpcryptd is listening on $SOCK" "$WORK/second.log" && [ "$(wc -l <"$WORK/second.log")" -eq 1 ] ||
    fail "second daemon on the control socket: exit $rc: $(cat "$WORK/second.log")"
[ -S "$SOCK" ] || fail "the refused daemon removed the control socket"
say "ok: a second daemon on the same tap or control socket is refused with one line"

# ---- the daemon logged each connection
grep -q "established plain" "$WORK/daemon.log" || fail "no 'established plain' line"
grep -q "aborted: reset by peer" "$WORK/daemon.log" || fail "no 'aborted' line"
grep -q "failed: connection refused" "$WORK/daemon.log" || fail "no 'failed' line"

# ---- SIGTERM: connections end with RST, exit 0, control socket removed
kern "$NSB" kserver 10.77.0.2 7108 >"$WORK/held.json" 2>"$WORK/held.log" &
srv=$!
wait_line "$WORK/held.json" listening
ctl connect 10.77.0.2 7108 --hold 30 >"$WORK/hold.json" 2>"$WORK/hold.log" &
holder=$!
wait_line "$WORK/hold.json" held
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
[ $rc -eq 0 ] || fail "tcpcryptd exited $rc after SIGTERM: $(tail -n 5 "$WORK/daemon.log")"
[ ! -e "$SOCK" ] || fail "control socket left behind"
wait "$srv" || fail "kernel server: $(cat "$WORK/held.json" "$WORK/held.log")"
[ "$(json "$WORK/held.json" read_error)" = ECONNRESET ] ||
    fail "the peer of an open connection saw $(json "$WORK/held.json" read_error), want ECONNRESET"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
say "ok: SIGTERM: open connection reset (the peer read ECONNRESET), exit 0, control socket removed"

# ---- a stale socket (daemon killed) is replaced
start_daemon --quiet
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
[ -S "$SOCK" ] || fail "no stale socket to test with"
start_daemon --quiet --gw 10.77.0.2 --gw fd77::2
say "ok: a stale control socket is replaced"

# ---- off-link destinations through the gateways (B holds 10.88.0.1 and
# fd88::1 on its loopback: frames for them must go to B's MAC)
ctl hello >"$WORK/hello2.json" || fail "HELLO: $(cat "$WORK/hello2.json")"
[ "$(json "$WORK/hello2.json" gw4)" = 1 ] && [ "$(json "$WORK/hello2.json" gw6)" = 1 ] ||
    fail "HELLO gateways: $(cat "$WORK/hello2.json")"
nsx "$NSB" ip addr add 10.88.0.1/32 dev lo
# The restarted daemon's fd77::1 is tentative until duplicate address
# detection ends (no IPv6 source address before that).
for _ in $(seq 30); do nsx "$NSB" ping -6 -c1 -W1 fd77::1 >/dev/null 2>&1 && break; sleep 0.2; done
nsx "$NSB" ip addr add fd88::1/128 dev lo
for dst in 10.88.0.1 fd88::1; do
    kern "$NSB" kserver $dst 7109 --send 100000 >"$WORK/gw.json" 2>"$WORK/gw.log" &
    srv=$!
    wait_line "$WORK/gw.json" listening
    ctl connect $dst 7109 --send 100000 >"$WORK/gwc.json" 2>&1 || fail "via gateway to $dst: $(cat "$WORK/gwc.json")"
    wait "$srv" || fail "kernel server $dst: $(cat "$WORK/gw.json" "$WORK/gw.log")"
    check_pair "$WORK/gwc.json" "$WORK/gw.json" 100000 "via the gateway to $dst"
done
say "ok: off-link 10.88.0.1 and fd88::1 reached through --gw 10.77.0.2 and --gw fd77::2"
[ ! -s "$WORK/daemon.log" ] || fail "--quiet printed: $(cat "$WORK/daemon.log")"
kill -TERM "$DPID"
wait "$DPID" || fail "second run did not exit 0"
DPID=
say "ok: --quiet printed nothing"
say "PASS"
