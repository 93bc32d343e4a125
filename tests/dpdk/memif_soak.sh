#!/usr/bin/env bash
# 500 short tcpcrypt connections over net_memif between two DPDK daemons
# (tests/netns/burst.py: request, answer checked byte for byte, close),
# then 6 connections of 2 MB each whose reader stalls for 2 s (stall.py),
# so that the daemon holds more received frames than a quarter of its small
# pool (--dpdk-mbufs 1024) and must copy instead of keeping them in place:
# every connection answered or intact, both daemons alive, frames copied,
# and every packet buffer back in the pool when they exit.
TEST_NAME=dpdk_memif_soak
. "$(dirname "$0")/lib.sh"
need timeout
BURST=$TC_SRCDIR/tests/netns/burst.py
PORT=7003
THREADS=4
PER=125
N=$((THREADS * PER))

start_memif_pair --dpdk-mbufs 1024
wait_path B "$A_IP"

run_tc A timeout 300 "$PY" "$BURST" server $PORT 2 >"$WORK/srv.out" 2>"$WORK/srv.log" &
srv=$!
PIDS+=($srv)
for _ in $(seq 100); do grep -q listening "$WORK/srv.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/srv.out" || fail "server did not listen: $(cat "$WORK/srv.log")"
run_tc B timeout 300 "$PY" "$BURST" client "$A_IP" $PORT $THREADS $PER >"$WORK/cli.json" 2>"$WORK/cli.log" ||
    fail "client: $(cat "$WORK/cli.json" "$WORK/cli.log")"
ok=$(json "$WORK/cli.json" ok)
[ "$ok" = $N ] || fail "$ok of $N connections answered correctly: $(cat "$WORK/cli.json")"
for side in A B; do
    kill -0 "${DPID[$side]}" 2>/dev/null || fail "daemon $side died during the soak"
done
say "$N short connections over memif answered correctly"

kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true

STALL=$TC_SRCDIR/tests/dpdk/stall.py
run_tc A timeout 120 "$PY" "$STALL" server $((PORT + 1)) 6 2 >"$WORK/stall_srv.json" 2>"$WORK/stall_srv.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/stall_srv.json" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/stall_srv.json" || fail "stall server did not listen: $(cat "$WORK/stall_srv.log")"
run_tc B timeout 120 "$PY" "$STALL" client "$A_IP" $((PORT + 1)) 6 2000000 >"$WORK/stall_cli.json" 2>"$WORK/stall_cli.log" ||
    fail "stall client: $(cat "$WORK/stall_cli.json" "$WORK/stall_cli.log")"
wait "$srv" || fail "stall server: $(cat "$WORK/stall_srv.log")"
[ "$(json "$WORK/stall_srv.json" bytes)" = 12000000 ] || fail "stalled connections: $(json "$WORK/stall_srv.json" bytes) of 12000000 bytes"
[ "$(json "$WORK/stall_srv.json" sha256)" = "$(json "$WORK/stall_cli.json" sha256)" ] || fail "stalled connections: data differs"
say "6 connections x 2 MB with a reader stalled for 2 s: intact"
sleep 0.5
stop_dpdk B
stop_dpdk A
check_exit A
check_exit B
copied=$(sed -n 's/.*received frames kept in place [0-9]*, copied \([0-9]*\).*/\1/p' "$WORK/daemonA.log")
[ "${copied:-0}" -gt 0 ] || fail "daemon A never copied a frame with its pool low: $(grep 'packet buffers' "$WORK/daemonA.log")"
say "daemon A: $(grep -o 'received frames kept.*' "$WORK/daemonA.log")"
say "PASS"
