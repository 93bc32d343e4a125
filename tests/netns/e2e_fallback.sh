#!/usr/bin/env bash
# Fallback to plain TCP with peers that do not speak tcpcrypt, nothing lost:
# a plain kernel client to a program under tcpcrypt-run, and a program under
# tcpcrypt-run to a plain kernel server.  Also real programs: curl to
# python3's http.server, both under tcpcrypt-run (encrypted).
TEST_NAME=e2e_fallback
. "$(dirname "$0")/lib.sh"
need tcpdump tshark curl timeout sha256sum
BYTES=2000000

start_hosts
SID=$(sessid_opt)

capture() { # capture NAME FILTER: start tcpdump on A's veth
    ip netns exec "$NSA" tcpdump -i vA$tag -s 200 -w "$WORK/$1.pcap" -U "$2" >"$WORK/$1.tcpdump.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q listening "$WORK/$1.tcpdump.log" && break; sleep 0.1; done
}
stop_capture() { sleep 0.3; kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; }
wait_listen() { for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.1; done; fail "no listener ($1)"; }
same_data() { # same_data SRV CLI: both directions intact
    [ "$(json "$1" received_sha256)" = "$(json "$2" sent_sha256)" ] || fail "$3: client->server data differs"
    [ "$(json "$2" received_sha256)" = "$(json "$1" sent_sha256)" ] || fail "$3: server->client data differs"
    [ "$(json "$1" received)" = $BYTES ] || fail "$3: server received $(json "$1" received)"
}

# 1. Plain kernel client (namespace B's kernel) -> server under tcpcrypt-run.
capture k2t "tcp port 7002"
run_tc A timeout 60 "$PY" "$XFER" server 7002 $BYTES --sessid-opt "$SID" >"$WORK/s1.json" 2>"$WORK/s1.log" &
srv=$!
wait_listen "$WORK/s1.json"
inns "$NSB" timeout 60 "$PY" "$XFER" client "$A_IP" 7002 $BYTES --sessid-opt "$SID" >"$WORK/c1.json" 2>"$WORK/c1.log" || fail "kernel client failed"
wait "$srv" || fail "server failed: $(cat "$WORK/s1.log")"
stop_capture
same_data "$WORK/s1.json" "$WORK/c1.json" "kernel client"
[ "$(json "$WORK/s1.json" sessid)" = ENOPROTOOPT ] || fail "session ID on a plain connection: $(json "$WORK/s1.json" sessid)"
grep -a -q "TCPCRYPT-PLAINTEXT-MARKER" "$WORK/k2t.pcap" || fail "plain connection: marker not in the clear"
n69=$(tshark -r "$WORK/k2t.pcap" -Y 'tcp.option_kind==69' 2>/dev/null | wc -l)
[ "$n69" -eq 0 ] || fail "option 69 sent to a peer without ENO ($n69 segments)"
say "kernel client -> tcpcrypt server: plain TCP, data intact, TCP_CRYPT_SESSID fails with ENOPROTOOPT, marker in the clear"

# 2. Client under tcpcrypt-run -> plain kernel server (namespace A's kernel).
capture t2k "tcp port 7003"
inns "$NSA" timeout 60 "$PY" "$XFER" server 7003 $BYTES >"$WORK/s2.json" 2>"$WORK/s2.log" &
srv=$!
wait_listen "$WORK/s2.json"
run_tc B timeout 60 "$PY" "$XFER" client "$KA_IP" 7003 $BYTES --sessid-opt "$SID" >"$WORK/c2.json" 2>"$WORK/c2.log" || fail "tcpcrypt client failed: $(cat "$WORK/c2.log")"
wait "$srv" || fail "kernel server failed"
stop_capture
same_data "$WORK/s2.json" "$WORK/c2.json" "kernel server"
[ "$(json "$WORK/c2.json" sessid)" = ENOPROTOOPT ] || fail "session ID on a plain connection: $(json "$WORK/c2.json" sessid)"
syn=$(tshark -r "$WORK/t2k.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.option_kind==69' 2>/dev/null | wc -l)
[ "$syn" -ge 1 ] || fail "the tcpcrypt client's SYN lacks option 69"
say "tcpcrypt client -> kernel server: SYN offered ENO, fell back to plain TCP, data intact"

# 3. curl -> python3 -m http.server, both under tcpcrypt-run.
mkdir -p "$WORK/www"
head -c 3000000 /dev/urandom >"$WORK/www/blob"
(cd "$WORK/www" && run_tc A timeout 60 "$PY" -m http.server 7004 --bind 0.0.0.0 >"$WORK/http.log" 2>&1) &
srv=$!
for _ in $(seq 100); do inns "$NSA" "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 7004), 1)' 2>/dev/null && break; sleep 0.1; done
capture http "tcp port 7004"
run_tc B timeout 60 curl -sS -o "$WORK/blob.got" "http://$A_IP:7004/blob" 2>"$WORK/curl.log" || fail "curl failed: $(cat "$WORK/curl.log")"
stop_capture
cmp -s "$WORK/www/blob" "$WORK/blob.got" || fail "curl got different bytes"
syn=$(tshark -r "$WORK/http.pcap" -Y 'tcp.flags.syn==1 && tcp.option_kind==69' 2>/dev/null | wc -l)
[ "$syn" -ge 2 ] || fail "curl/http.server: option 69 on $syn SYN segments"
grep -a -q "GET /blob" "$WORK/http.pcap" && fail "the HTTP request crossed the link in the clear"
say "curl -> python3 http.server under tcpcrypt-run: 3 MB intact, request not in the clear"
kill "$srv" 2>/dev/null || true
say "PASS"
