#!/usr/bin/env bash
# A bit flipped on the wire after the handshake (by a relay that also fixes
# the TCP checksum): the receiving application gets EBADMSG, never the
# corrupted bytes and never EOF.
TEST_NAME=e2e_bitflip
. "$(dirname "$0")/lib.sh"
need timeout ethtool
NSM=tcm$tag
PORT=7006
BYTES=3000000

setup_relay_hosts() {
    ip netns add "$NSA"
    ip netns add "$NSB"
    ip netns add "$NSM"
    ip link add vA$tag type veth peer name mA$tag
    ip link add vB$tag type veth peer name mB$tag
    ip link set vA$tag netns "$NSA"
    ip link set vB$tag netns "$NSB"
    ip link set mA$tag netns "$NSM"
    ip link set mB$tag netns "$NSM"
    for side in A B; do
        local ns=$NSA
        [ $side = B ] && ns=$NSB
        setup_side $side
        inns "$NSM" ip link set m$side$tag up
        # Full checksums on frames the relay reads (no offload shortcuts).
        inns "$NSM" ethtool -K m$side$tag tx off rx off >/dev/null 2>&1 || true
        inns "$ns" ethtool -K v$side$tag tx off >/dev/null 2>&1 || true
    done
}
extra_cleanup() { ip netns pids "$NSM" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$NSM" 2>/dev/null; cleanup; }
trap extra_cleanup EXIT

setup_relay_hosts
# Corrupt the 20th large segment from B to A: well after Init1/Init2.
ip netns exec "$NSM" "$PY" "$TC_SRCDIR/tests/netns/relay.py" mA$tag mB$tag --corrupt-after 20 --min-payload 500 >"$WORK/relay.log" 2>&1 &
PIDS+=($!)
start_daemon A
start_daemon B
wait_reach "$NSB" "$A_IP"

run_tc A timeout 60 "$PY" "$XFER" server $PORT $BYTES >"$WORK/srv.json" 2>"$WORK/srv.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/srv.json" 2>/dev/null && break; sleep 0.1; done
run_tc B timeout 60 "$PY" "$XFER" client "$A_IP" $PORT $BYTES >"$WORK/cli.json" 2>"$WORK/cli.log" || true
rc=0
wait "$srv" || rc=$?
grep -q flipped "$WORK/relay.log" || fail "the relay never corrupted a segment"
say "$(grep flipped "$WORK/relay.log")"
[ $rc -eq 3 ] || fail "server exit $rc, want 3 (read error): $(cat "$WORK/srv.json")"
[ "$(json "$WORK/srv.json" read_error)" = EBADMSG ] || fail "server read error: $(json "$WORK/srv.json" read_error)"
[ "$(json "$WORK/srv.json" prefix_ok)" = True ] || fail "server received corrupted bytes"
got=$(json "$WORK/srv.json" received)
[ "$got" -lt $BYTES ] || fail "server received everything despite the corruption"
say "server: read failed with EBADMSG after $got intact bytes; no corrupted byte, no EOF"
kill -0 "${PIDS[1]}" || fail "tcpcryptd A died"
say "PASS"
