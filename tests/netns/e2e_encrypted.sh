#!/usr/bin/env bash
# Two unmodified programs, each under tcpcrypt-run in its own namespace,
# exchange 10 MB both ways through two tcpcryptd: the bytes arrive intact,
# both ends read the same session ID, the SYN and SYN-ACK carry option 69,
# no plaintext crosses the link, and the key logs name the session.
TEST_NAME=e2e_encrypted
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
BYTES=10000000
PORT=7001

start_hosts
SID=$(sessid_opt)
[ -n "$SID" ] || fail "TCP_CRYPT_SESSID not found in include/tcpcrypt/tcpcrypt.h"

ip netns exec "$NSA" tcpdump -i vA$tag -s 200 -w "$WORK/link.pcap" -U "tcp port $PORT" >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done

run_tc A timeout 120 "$PY" "$XFER" server $PORT $BYTES --sessid-opt "$SID" >"$WORK/srv.json" 2>"$WORK/srv.log" &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/srv.json" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/srv.json" || fail "server did not listen"
t0=$(date +%s.%N)
run_tc B timeout 120 "$PY" "$XFER" client "$A_IP" $PORT $BYTES --sessid-opt "$SID" >"$WORK/cli.json" 2>"$WORK/cli.log" ||
    fail "client failed: $(cat "$WORK/cli.json" "$WORK/cli.log")"
wait "$srv" || fail "server failed: $(cat "$WORK/srv.json" "$WORK/srv.log")"
t1=$(date +%s.%N)
sleep 0.5
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

for f in srv cli; do
    [ "$(json "$WORK/$f.json" received)" = $BYTES ] || fail "$f received $(json "$WORK/$f.json" received) bytes"
    [ "$(json "$WORK/$f.json" prefix_ok)" = True ] || fail "$f received altered bytes"
    [ "$(json "$WORK/$f.json" read_error)" = None ] || fail "$f read error $(json "$WORK/$f.json" read_error)"
done
[ "$(json "$WORK/srv.json" received_sha256)" = "$(json "$WORK/cli.json" sent_sha256)" ] || fail "client->server sha256 differs"
[ "$(json "$WORK/cli.json" received_sha256)" = "$(json "$WORK/srv.json" sent_sha256)" ] || fail "server->client sha256 differs"
say "10 MB each way intact (sha256 $(json "$WORK/srv.json" received_sha256 | cut -c1-16)...), $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"

sid_s=$(json "$WORK/srv.json" sessid)
sid_c=$(json "$WORK/cli.json" sessid)
[ ${#sid_s} -eq 66 ] || fail "server session ID: $sid_s"
[ "$sid_s" = "$sid_c" ] || fail "session IDs differ: $sid_s / $sid_c"
case $sid_s in 23*) ;; *) fail "session ID does not start with TEP 0x23: $sid_s" ;; esac
say "same session ID at both ends: $sid_s"

syn=$(tshark -r "$WORK/link.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.option_kind==69' 2>/dev/null | wc -l)
synack=$(tshark -r "$WORK/link.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.option_kind==69' 2>/dev/null | wc -l)
[ "$syn" -ge 1 ] && [ "$synack" -ge 1 ] || fail "option 69: $syn SYN, $synack SYN-ACK"
size=$(stat -c %s "$WORK/link.pcap")
frames=$(tshark -r "$WORK/link.pcap" 2>/dev/null | wc -l)
[ "$frames" -gt 1000 ] || fail "capture has only $frames frames"
if grep -a -q "TCPCRYPT-PLAINTEXT-MARKER" "$WORK/link.pcap"; then
    fail "plaintext marker found on the wire"
fi
say "capture: $frames frames ($size bytes), option 69 in $syn SYN and $synack SYN-ACK, no plaintext marker"

for side in A B; do
    grep -q "^TCPCRYPT_SS $sid_s " "$WORK/$side.keys" || fail "key log $side lacks the session"
    grep -q "^TCPCRYPT_ES [0-9a-f]\{64\} [0-9a-f]\{64\}$" "$WORK/$side.keys" || fail "key log $side lacks ES"
    [ "$(stat -c %a "$WORK/$side.keys")" = 600 ] || fail "key log $side mode $(stat -c %a "$WORK/$side.keys")"
done
say "key logs (mode 0600) name the session"
say "PASS"
