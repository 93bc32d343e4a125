#!/usr/bin/env bash
# Two tcpcryptd on DPDK, joined by net_memif, each in its own namespace:
# xfer.py under tcpcrypt-run sends 10 MB each way (intact, encrypted, the
# same session ID at both ends), then a real program pair (python3 -m
# http.server and curl) fetches a 4 MB file across; both daemons exit
# cleanly with every packet buffer back.
TEST_NAME=dpdk_memif_e2e
. "$(dirname "$0")/lib.sh"
need curl timeout sha256sum
BYTES=10000000
PORT=7001
HTTP=8080

start_memif_pair
SID=$(sessid_opt)
wait_path B "$A_IP"

run_tc A timeout 120 "$PY" "$XFER" server $PORT $BYTES --sessid-opt "$SID" >"$WORK/srv.json" 2>"$WORK/srv.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/srv.json" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/srv.json" || fail "server did not listen"
run_tc B timeout 120 "$PY" "$XFER" client "$A_IP" $PORT $BYTES --sessid-opt "$SID" >"$WORK/cli.json" 2>"$WORK/cli.log" ||
    fail "client failed: $(cat "$WORK/cli.json" "$WORK/cli.log")"
wait "$srv" || fail "server failed: $(cat "$WORK/srv.json" "$WORK/srv.log")"
for f in srv cli; do
    [ "$(json "$WORK/$f.json" received)" = $BYTES ] || fail "$f received $(json "$WORK/$f.json" received) bytes"
    [ "$(json "$WORK/$f.json" read_error)" = None ] || fail "$f read error $(json "$WORK/$f.json" read_error)"
done
[ "$(json "$WORK/srv.json" received_sha256)" = "$(json "$WORK/cli.json" sent_sha256)" ] || fail "client->server sha256 differs"
[ "$(json "$WORK/cli.json" received_sha256)" = "$(json "$WORK/srv.json" sent_sha256)" ] || fail "server->client sha256 differs"
sid_s=$(json "$WORK/srv.json" sessid)
sid_c=$(json "$WORK/cli.json" sessid)
[ ${#sid_s} -eq 66 ] || fail "server session ID: $sid_s"
[ "$sid_s" = "$sid_c" ] || fail "session IDs differ: $sid_s / $sid_c"
for side in A B; do
    grep -q "established encrypted .*session $sid_s" "$WORK/daemon$side.log" || fail "daemon $side did not log the encrypted session"
done
say "10 MB each way over memif intact, encrypted, same session ID $sid_s"

# A real program pair: python3 -m http.server and curl, both unmodified.
mkdir "$WORK/www"
head -c 4000000 /dev/urandom >"$WORK/www/blob"
(cd "$WORK/www" && exec ip netns exec "$NSA" "$TCPCRYPT_RUN" --daemon "$WORK/A.sock" -- \
    timeout 120 "$PY" -m http.server --bind "$A_IP" $HTTP) >"$WORK/http.log" 2>&1 &
http=$!
PIDS+=($http)
ok=0
for _ in $(seq 50); do
    if run_tc B timeout 60 curl -sS -o "$WORK/blob.got" "http://$A_IP:$HTTP/blob" 2>"$WORK/curl.err"; then ok=1; break; fi
    sleep 0.2
done
[ $ok = 1 ] || fail "curl over memif failed: $(cat "$WORK/curl.err")"
[ "$(sha256sum <"$WORK/blob.got")" = "$(sha256sum <"$WORK/www/blob")" ] || fail "curl got a different file"
n=$(grep -c "established encrypted" "$WORK/daemonA.log")
[ "$n" -ge 2 ] || fail "the HTTP connection was not encrypted ($n encrypted connections in A's log)"
say "curl fetched 4 MB from python3 -m http.server across memif, encrypted, sha256 equal"

# tcpcryptctl reports the DPDK link's state.
st=$("$TC_BUILDDIR/tools/tcpcryptctl" --control "$WORK/A.sock" status) || fail "tcpcryptctl status failed"
grep -qE "^link status +dpdk port [0-9]+ .*link up" <<<"$st" || fail "status lacks the DPDK link line: $st"
say "tcpcryptctl status: $(grep -E '^link status' <<<"$st" | cut -c1-90)..."

# Traffic first, then the daemons (a memif peer's exit code is no verdict).
kill "$http" 2>/dev/null; wait "$http" 2>/dev/null || true
sleep 0.3
stop_dpdk B
stop_dpdk A
check_exit A
check_exit B
say "PASS"
