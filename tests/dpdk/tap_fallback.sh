#!/usr/bin/env bash
# tcpcryptd on DPDK's net_tap (its kernel side bridged to a veth) serves a
# plain kernel host in another namespace: programs under tcpcrypt-run and a
# peer without tcpcrypt fall back to plain TCP, both ways, nothing lost.
# net_tap offers transmit checksum offload, so this also checks the
# checksums the port fills in (the kernel drops a segment with a bad one).
TEST_NAME=dpdk_tap_fallback
. "$(dirname "$0")/lib.sh"
need curl timeout sha256sum ethtool
BYTES=3000000
PORT=7002
HTTP=8081
TAP=dt$tag

ip netns add "$NSA"
ip netns add "$NSB"
inns "$NSA" ip link set lo up
inns "$NSB" ip link set lo up
ip link add vA$tag type veth peer name vB$tag
ip link set vA$tag netns "$NSA"
ip link set vB$tag netns "$NSB"
start_dpdk A "net_tap0,iface=$TAP"
# net_tap gives its kernel side the port's MAC, which is also the daemon's:
# a bridge would keep frames to it for itself.  The kernel side gets
# another (the port receives every frame the tap passes it).
inns "$NSA" ip link set "$TAP" address 02:00:00:81:00:0b
inns "$NSA" ip link add brA type bridge
inns "$NSA" ip link set "$TAP" master brA
inns "$NSA" ip link set vA$tag master brA
for l in brA "$TAP" vA$tag; do inns "$NSA" ip link set "$l" up; done
inns "$NSB" ip addr add "$KB_IP/24" dev vB$tag
inns "$NSB" ip link set vB$tag up
# The veth would mark frames as checked (rx checksumming): turned off, so
# B's kernel verifies every checksum, those the port filled in included.
inns "$NSB" ethtool -K vB$tag rx off >/dev/null
grep -q "tx checksums port" "$WORK/daemonA.log" && say "net_tap: transmit checksums by the port"
wait_reach "$NSB" "$A_IP"

# 1. Plain kernel client -> xfer.py under tcpcrypt-run: both ways.
run_tc A timeout 60 "$PY" "$XFER" server $PORT $BYTES --sessid-opt "$(sessid_opt)" >"$WORK/s1.json" 2>"$WORK/s1.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/s1.json" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/s1.json" || fail "server did not listen"
inns "$NSB" timeout 60 "$PY" "$XFER" client "$A_IP" $PORT $BYTES >"$WORK/c1.json" 2>"$WORK/c1.log" ||
    fail "kernel client failed: $(cat "$WORK/c1.json" "$WORK/c1.log")"
wait "$srv" || fail "server failed: $(cat "$WORK/s1.json" "$WORK/s1.log")"
[ "$(json "$WORK/s1.json" received_sha256)" = "$(json "$WORK/c1.json" sent_sha256)" ] || fail "client->server sha256 differs"
[ "$(json "$WORK/c1.json" received_sha256)" = "$(json "$WORK/s1.json" sent_sha256)" ] || fail "server->client sha256 differs"
[ "$(json "$WORK/c1.json" received)" = $BYTES ] || fail "client received $(json "$WORK/c1.json" received) bytes"
[ "$(json "$WORK/s1.json" sessid)" = ENOPROTOOPT ] || fail "session ID on a plain connection: $(json "$WORK/s1.json" sessid)"
say "kernel client <-> tcpcrypt server on net_tap: plain TCP, 3 MB each way intact"

# 2. curl (plain, kernel) from python3 -m http.server under tcpcrypt-run.
mkdir "$WORK/www"
head -c 2000000 /dev/urandom >"$WORK/www/blob"
(cd "$WORK/www" && exec ip netns exec "$NSA" "$TCPCRYPT_RUN" --daemon "$WORK/A.sock" -- \
    timeout 60 "$PY" -m http.server --bind "$A_IP" $HTTP) >"$WORK/http.log" 2>&1 &
http=$!
PIDS+=($http)
ok=0
for _ in $(seq 50); do
    if inns "$NSB" timeout 30 curl -sS -o "$WORK/blob.got" "http://$A_IP:$HTTP/blob" 2>"$WORK/curl.err"; then ok=1; break; fi
    sleep 0.2
done
[ $ok = 1 ] || fail "curl failed: $(cat "$WORK/curl.err")"
[ "$(sha256sum <"$WORK/blob.got")" = "$(sha256sum <"$WORK/www/blob")" ] || fail "curl got a different file"
grep -q "established encrypted" "$WORK/daemonA.log" && fail "a connection with a plain peer was logged as encrypted"
say "kernel curl fetched 2 MB from a tcpcrypt http.server on net_tap (plain TCP)"

kill "$http" 2>/dev/null; wait "$http" 2>/dev/null || true
stop_dpdk A
check_exit A
say "PASS"
