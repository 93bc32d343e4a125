#!/usr/bin/env bash
# 500 short tcpcrypt connections over net_memif between two DPDK daemons
# (tests/netns/burst.py: request, answer checked byte for byte, close),
# with a small buffer pool (--dpdk-mbufs 1024, so frames are also copied
# when the pool runs low): every connection answered, both daemons alive,
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
sleep 0.5
stop_dpdk B
stop_dpdk A
check_exit A
check_exit B
say "PASS"
