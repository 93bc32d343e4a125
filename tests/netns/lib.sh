# Shared by the network tests: two hosts, each a network namespace with a
# tcpcryptd on a tap, joined by a veth pair through one bridge per side:
#
#   ns A: tcpcryptd 10.78.0.1 --tap-- brA (kernel 10.78.0.11) --veth--+
#   ns B: tcpcryptd 10.78.0.2 --tap-- brB (kernel 10.78.0.12) --veth--+
#
# Programs under tcpcrypt-run reach the other side through their daemon;
# plain programs use the kernel address of their namespace (fallback).
# Everything is created under unique names and removed on exit.
set -euo pipefail

: "${TC_BUILDDIR:?run from make check, or set TC_BUILDDIR and TC_SRCDIR}"
: "${TC_SRCDIR:?}"
TCPCRYPTD=$TC_BUILDDIR/stack/tcpcryptd
TCPCRYPT_RUN=$TC_BUILDDIR/tools/tcpcrypt-run
XFER=$TC_SRCDIR/tests/netns/xfer.py
PY=/usr/bin/python3

tag=$(printf '%x' $$)
NSA=tca$tag
NSB=tcb$tag
WORK=$(mktemp -d /tmp/tcpcrypt-test.XXXXXX)
# Searchable by workers that drop privileges (the control sockets live here).
chmod 0711 "$WORK"
A_IP=10.78.0.1
B_IP=10.78.0.2
KA_IP=10.78.0.11
KB_IP=10.78.0.12
PIDS=()

say() { printf '%s: %s\n' "${TEST_NAME:-test}" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "${TEST_NAME:-test}" "$*" >&2
    # A test may define on_fail to print what it knows of the state (once).
    if declare -F on_fail >/dev/null && [ -z "${IN_ON_FAIL:-}" ]; then
        IN_ON_FAIL=1 on_fail >&2 || true
    fi
    for f in "$WORK"/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

need() {
    for c in "$@"; do
        command -v "$c" >/dev/null || fail "missing $c (scripts/deps.sh installs it)"
    done
}

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    ip netns pids "$NSA" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns pids "$NSB" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "${TEST_NAME:-test}: SKIP: needs root"; exit 77; }
need ip "$PY"
[ -x "$TCPCRYPTD" ] || fail "no $TCPCRYPTD"

# in NS cmd...: run in a namespace
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# setup_side A|B: the side's bridge joining its tap and its veth end
# (v<side>$tag, already moved into the namespace), with the kernel address.
setup_side() {
    local side=$1 ns=$NSA kip=$KA_IP
    [ "$side" = B ] && ns=$NSB kip=$KB_IP
    inns "$ns" ip link set lo up
    inns "$ns" ip link add br$side type bridge
    inns "$ns" ip tuntap add dev tap$side mode tap
    inns "$ns" ip link set tap$side master br$side
    inns "$ns" ip link set v$side$tag master br$side
    inns "$ns" ip addr add "$kip/24" dev br$side
    for l in br$side tap$side v$side$tag; do inns "$ns" ip link set "$l" up; done
}

setup_hosts() {
    ip netns add "$NSA"
    ip netns add "$NSB"
    ip link add vA$tag type veth peer name vB$tag
    ip link set vA$tag netns "$NSA"
    ip link set vB$tag netns "$NSB"
    setup_side A
    setup_side B
}

# start_hosts: both hosts with their daemons, each reaching the other.
# start_hosts [daemon flags]: the flags go to both daemons.
start_hosts() {
    setup_hosts
    start_daemon A "$@"
    start_daemon B "$@"
    wait_reach "$NSB" "$A_IP"
    wait_reach "$NSA" "$B_IP"
}

# start_daemon A|B [extra flags]: tcpcryptd on that side's tap.
start_daemon() {
    local side=$1 ns ip
    shift
    ns=$NSA ip=$A_IP
    [ "$side" = B ] && ns=$NSB ip=$B_IP
    [ "$side" = M ] && ns=$NSM ip=$M_IP
    ip netns exec "$ns" "$TCPCRYPTD" --tap tap$side --addr "$ip/24" --control "$WORK/$side.sock" \
        --keylog "$WORK/$side.keys" "$@" >"$WORK/daemon$side.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        [ -S "$WORK/$side.sock" ] && return 0
        kill -0 "${PIDS[-1]}" 2>/dev/null || fail "tcpcryptd $side exited: $(tail -n1 "$WORK/daemon$side.log")"
        sleep 0.1
    done
    fail "tcpcryptd $side did not create its control socket"
}

# wait_reach NS IP: the kernel in NS can ping IP (ARP resolved, path up).
wait_reach() {
    for _ in $(seq 50); do
        inns "$1" ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    fail "no ping from $1 to $2"
}

# run_tc A|B cmd...: a program under tcpcrypt-run joined to that side's daemon.
run_tc() {
    local side=$1 ns=$NSA
    shift
    [ "$side" = B ] && ns=$NSB
    [ "$side" = M ] && ns=$NSM
    inns "$ns" "$TCPCRYPT_RUN" --daemon "$WORK/$side.sock" -- "$@"
}

# The TCP_CRYPT_SESSID option number, from the public header.
sessid_opt() {
    sed -n 's/^#define TCP_CRYPT_SESSID[[:space:]]*\([0-9a-fA-Fx]*\).*/\1/p' \
        "$TC_SRCDIR/include/tcpcrypt/tcpcrypt.h"
}

# json FILE KEY: a value from xfer.py's JSON line.
json() { "$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d.get(sys.argv[2]))' "$1" "$2"; }

# ---- helpers added for tests/compat/ (programs from Debian, unmodified)

# wait_tcp NS IP PORT [TRIES]: a TCP connect from NS's kernel to IP:PORT
# succeeds (the server is up; 127.0.0.1 reaches a tcpcrypt listener's kernel
# socket, which the daemon also serves).
wait_tcp() {
    local tries=${4:-150}
    for _ in $(seq "$tries"); do
        inns "$1" "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
            "$2" "$3" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "nothing accepts on $2:$3 in $1"
}

# count_log SIDE PATTERN: lines of that side's daemon log matching PATTERN.
count_log() { grep -c -- "$2" "$WORK/daemon$1.log" 2>/dev/null || true; }

# wait_listening NS PORT: a kernel socket listens on PORT in NS (without
# connecting to it: for one-shot servers such as iperf3 -s -1; a listener
# under tcpcrypt-run keeps its kernel socket, which the daemon watches).
wait_listening() {
    for _ in $(seq 150); do
        inns "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q LISTEN && return 0
        sleep 0.1
    done
    fail "nothing listens on port $2 in $1"
}

# ---- a third host (tests/netns/auth_mitm.sh): M, a man in the middle
#
#   ns A: tcpcryptd 10.78.0.1 --tap-- brA --veth--+
#   ns M: tcpcryptd 10.78.0.3 --tap-- brM (kernel 10.78.0.13), both veths
#   ns B: tcpcryptd 10.78.0.2 --tap-- brB --veth--+
#
# One Ethernet segment through M's bridge: A and B still reach each other
# directly, and M's own daemon serves programs run there (run_tc M).
NSM=tcm$tag
M_IP=10.78.0.3
KM_IP=10.78.0.13

cleanup_mid() {
    set +e
    ip netns pids "$NSM" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$NSM" 2>/dev/null
}

# start_three_hosts [daemon flags]: A, B and M with their daemons.
start_three_hosts() {
    trap 'cleanup_mid; cleanup' EXIT
    ip netns add "$NSA"
    ip netns add "$NSB"
    ip netns add "$NSM"
    ip link add vA$tag type veth peer name wA$tag
    ip link add vB$tag type veth peer name wB$tag
    ip link set vA$tag netns "$NSA"
    ip link set vB$tag netns "$NSB"
    ip link set wA$tag netns "$NSM"
    ip link set wB$tag netns "$NSM"
    setup_side A
    setup_side B
    inns "$NSM" ip link set lo up
    inns "$NSM" ip link add brM type bridge
    inns "$NSM" ip tuntap add dev tapM mode tap
    for l in tapM wA$tag wB$tag; do inns "$NSM" ip link set "$l" master brM; done
    inns "$NSM" ip addr add "$KM_IP/24" dev brM
    for l in brM tapM wA$tag wB$tag; do inns "$NSM" ip link set "$l" up; done
    start_daemon A "$@"
    start_daemon B "$@"
    start_daemon M "$@"
    wait_reach "$NSA" "$B_IP"
    wait_reach "$NSB" "$A_IP"
    wait_reach "$NSM" "$A_IP"
    wait_reach "$NSM" "$B_IP"
    wait_reach "$NSA" "$M_IP"
}
# ---- the middlebox relay (tests/mbox/tc-mbox.c) between the two sides
#
#   ns A: ... brA -- vA$tag ==veth== mA$tag --+
#                                   ns $NSM:   tc-mbox mA$tag mB$tag FLAGS
#   ns B: ... brB -- vB$tag ==veth== mB$tag --+
#
# setup_hosts_mbox [tc-mbox flags...]: setup_hosts with tc-mbox in the path
# (side A is its first interface); then start_daemon A, start_daemon B and
# wait_reach as usual, or use start_hosts_mbox.  Offloads are off on the
# relay's interfaces and the hosts' veth ends (full checksums, 1500-byte
# frames).  Its output goes to $WORK/mbox.log; MBOX_PID is its process.
# stop_mbox ends it (SIGTERM) so that its counters line is in
# $WORK/mbox.stats; mbox_count NAME reads one counter from it; start_mbox
# [flags...] then starts another between the same hosts.
TC_MBOX=$TC_BUILDDIR/tests/mbox/tc-mbox
NSM=tcm$tag
MBOX_PID=
mbox_cleanup() {
    set +e
    ip netns pids "$NSM" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$NSM" 2>/dev/null
    cleanup
}

setup_hosts_mbox() {
    [ -x "$TC_MBOX" ] || fail "no $TC_MBOX (make builds it)"
    need ethtool
    trap mbox_cleanup EXIT
    ip netns add "$NSA"
    ip netns add "$NSB"
    ip netns add "$NSM"
    inns "$NSM" ip link set lo up
    local side ns
    for side in A B; do
        ns=$NSA
        [ $side = B ] && ns=$NSB
        ip link add v$side$tag type veth peer name m$side$tag
        ip link set v$side$tag netns "$ns"
        ip link set m$side$tag netns "$NSM"
        setup_side $side
        inns "$NSM" ethtool -K m$side$tag tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
        inns "$ns" ethtool -K v$side$tag tx off tso off gso off gro off >/dev/null 2>&1 || true
        inns "$NSM" ip link set m$side$tag up
    done
    start_mbox "$@"
}

# start_mbox [tc-mbox flags...]: (another) tc-mbox between the two sides, once
# the previous one is stopped (stop_mbox): the hosts and daemons stay up.
start_mbox() {
    [ -z "$MBOX_PID" ] || fail "start_mbox: tc-mbox still running (stop_mbox first)"
    rm -f "$WORK/mbox.stats"
    ip netns exec "$NSM" "$TC_MBOX" mA$tag mB$tag --stats "$WORK/mbox.stats" "$@" >"$WORK/mbox.log" 2>&1 &
    MBOX_PID=$!
    PIDS+=("$MBOX_PID")
    for _ in $(seq 50); do
        grep -q relaying "$WORK/mbox.log" 2>/dev/null && return 0
        kill -0 "$MBOX_PID" 2>/dev/null || fail "tc-mbox exited: $(tail -n1 "$WORK/mbox.log")"
        sleep 0.1
    done
    fail "tc-mbox did not start"
}

# start_hosts_mbox [tc-mbox flags...]: both daemons (default flags) behind it.
start_hosts_mbox() {
    setup_hosts_mbox "$@"
    start_daemon A
    start_daemon B
    wait_reach "$NSB" "$A_IP"
    wait_reach "$NSA" "$B_IP"
}

stop_mbox() {
    [ -n "$MBOX_PID" ] || return 0
    kill -TERM "$MBOX_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$MBOX_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$MBOX_PID" 2>/dev/null || true
    MBOX_PID=
    [ -s "$WORK/mbox.stats" ] || fail "tc-mbox wrote no counters"
}

mbox_count() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$WORK/mbox.stats"; }
