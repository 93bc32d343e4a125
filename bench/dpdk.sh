#!/usr/bin/env bash
# shellcheck disable=SC2086 # flag lists are word lists on purpose
# DPDK link benchmark (root, tcpcryptd built with DPDK): two tcpcryptd joined
# by net_memif (no hugepages: --no-huge, copy mode), each in its own
# namespace and pinned to its own CPU with its program (A and the server on
# CPU 1, B and the client on CPU 0).  Rows: one-way bulk throughput of one
# connection, plain (--no-eno) and encrypted with each AEAD, and short connections per
# second (64-byte request and reply, BENCH_CONC clients).  Skips (77)
# without DPDK.
#
#   make -C build bench/tc_bench_server bench/tc_bench_client
#   TC_BUILDDIR=$PWD/build TC_SRCDIR=$PWD bash bench/dpdk.sh
#
# Knobs: BENCH_BYTES (bytes per throughput run, 512 MiB), BENCH_SECS
# (seconds per connection-rate run, 4), BENCH_CONC (4), BENCH_FLAGS (more
# tcpcryptd flags, e.g. --busy-poll).
TEST_NAME=bench_dpdk
. "$TC_SRCDIR/tests/dpdk/lib.sh"
need taskset

SERVER=$TC_BUILDDIR/bench/tc_bench_server
CLIENT=$TC_BUILDDIR/bench/tc_bench_client
BYTES=${BENCH_BYTES:-536870912}
SECS=${BENCH_SECS:-4}
CONC=${BENCH_CONC:-4}
PORT=7400
[ -x "$SERVER" ] && [ -x "$CLIENT" ] ||
    fail "build the bench programs first: make -C $TC_BUILDDIR bench/tc_bench_server bench/tc_bench_client"

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# daemons FLAGS...: a fresh memif pair, daemon A on CPU 1, B on CPU 0.
daemons() {
    stop_dpdk B 2>/dev/null || true
    stop_dpdk A 2>/dev/null || true
    ip netns del "$NSA" 2>/dev/null || true
    ip netns del "$NSB" 2>/dev/null || true
    rm -f "$WORK/A.sock" "$WORK/B.sock"
    start_memif_pair "$@" ${BENCH_FLAGS:-}
    # ip netns exec execs the daemon: the pid is tcpcryptd's (all threads).
    taskset -a -p -c 1 "${DPID[A]}" >/dev/null
    taskset -a -p -c 0 "${DPID[B]}" >/dev/null
    wait_path B "$A_IP"
}

server() {
    inns "$NSA" taskset -c 1 "$TCPCRYPT_RUN" --daemon "$WORK/A.sock" -- \
        "$SERVER" --mode tcp --port $PORT --workers 1 >"$WORK/srv.out" 2>"$WORK/srv.log" &
    SRV=$!
    for _ in $(seq 100); do grep -q ready "$WORK/srv.out" 2>/dev/null && return 0; sleep 0.05; done
    fail "bench server did not start: $(cat "$WORK/srv.log")"
}
server_stop() {
    pkill -P "$SRV" 2>/dev/null || true
    kill $(awk '/ready/ {print $2}' "$WORK/srv.out") 2>/dev/null || true
    wait "$SRV" 2>/dev/null || true
    PORT=$((PORT + 1))
}
client() {
    inns "$NSB" taskset -c 0 timeout 120 "$TCPCRYPT_RUN" --daemon "$WORK/B.sock" -- \
        "$CLIENT" --host "$A_IP" --port $PORT "$@"
}

ROWS=()
# run NAME FLAGS: one throughput run and one connection-rate run.
run() {
    local name=$1 out mbps cps p50 p99
    shift
    daemons "$@"
    server
    out=$(client --bytes "$BYTES" 2>>"$WORK/cli.log") || fail "$name: throughput run failed: $(tail -n3 "$WORK/cli.log")"
    mbps=$(kv mbps "$out")
    server_stop
    server
    out=$(client -c "$CONC" -t "$SECS" 2>>"$WORK/cli.log") || fail "$name: connection run failed: $(tail -n3 "$WORK/cli.log")"
    cps=$(kv cps "$out") p50=$(kv p50_us "$out") p99=$(kv p99_us "$out")
    [ "$(kv errors "$out")" = 0 ] || say "$name: $(kv errors "$out") connection errors"
    server_stop
    ROWS+=("$(printf '%-36s %10s %10s %8s %8s' "$name" "$mbps" "$cps" "$p50" "$p99")")
    say "$name: $mbps MB/s one way, $cps conn/s (c=$CONC)"
}

run "memif plain (--no-eno)" --no-eno
run "memif tcpcrypt AES-128-GCM" --aeads aes128gcm
run "memif tcpcrypt AES-256-GCM" --aeads aes256gcm
run "memif tcpcrypt ChaCha20-Poly1305" --aeads chacha20poly1305

stop_dpdk B
stop_dpdk A
check_exit A
check_exit B
printf '\n%-36s %10s %10s %8s %8s\n' "DPDK net_memif, $(nproc) CPUs" "MB/s" "conn/s" "p50_us" "p99_us"
for r in "${ROWS[@]}"; do echo "$r"; done
