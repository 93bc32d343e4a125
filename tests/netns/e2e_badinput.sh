#!/usr/bin/env bash
# Hostile handshakes crafted with scapy against a tcpcryptd listener: each
# falls back exactly as RFC 8547 says, and the daemon keeps serving.  Then a
# hand-made tcpcrypt host A (tc_peer.py, raw sockets and the Python RFC 8548
# implementation): Init1 in one-byte segments (completes), cut short (times
# out), frames with clen 0, 65535 and beyond the data, FIN without FINp (an
# error for the application, not EOF) and with it (a clean EOF); and as
# host B, Init2 in one-byte segments (completes) and cut short (connect()
# fails at the handshake timeout).
TEST_NAME=e2e_badinput
. "$(dirname "$0")/lib.sh"
need iptables timeout socat
PORT=7005

setup_hosts
start_daemon A --handshake-timeout 2000
wait_reach "$NSB" "$A_IP"
"$PY" -c 'import scapy' 2>/dev/null || fail "python3-scapy missing"
# The echo server: socat under tcpcrypt-run.
run_tc A timeout 120 socat TCP-LISTEN:$PORT,reuseaddr,fork EXEC:cat >"$WORK/echo.log" 2>&1 &
for _ in $(seq 100); do inns "$NSA" socat -u /dev/null TCP:127.0.0.1:$PORT 2>/dev/null && break; sleep 0.1; done
# Namespace B's kernel must not answer the crafted connections with RST.
inns "$NSB" iptables -A OUTPUT -p tcp --tcp-flags RST RST -d "$A_IP" -j DROP

for c in malformed duplicate vacuous no-ack-eno len-at-end len-beyond len-then-00 len-then-23 \
    len-then-9f duplicate-same vacuous-empty b1-first len-valid b0-first; do
    out=$(inns "$NSB" timeout 30 "$PY" "$TC_SRCDIR/tests/netns/eno_craft.py" brB "$KB_IP" "$A_IP" $PORT $c 2>&1) ||
        fail "$c: $out"
    say "$out"
done

peer() { inns "$NSB" timeout 40 "$PY" "$TC_SRCDIR/tests/netns/tc_peer.py" "$KB_IP" "$A_IP" "$@"; }
out=$(peer $PORT split-init1) || fail "split-init1: $out"
say "Init1 in one-byte segments: the handshake completes, an encrypted echo decrypts: $out"
out=$(peer $PORT split-cut) || fail "split-cut: $out"
say "Init1 cut after 40 one-byte segments: no Init2, reset at the handshake timeout (2 s): $out"
out=$(peer $PORT clen-max) || fail "clen-max: $out"
say "a frame with clen 65535 (the most): echoed intact: $out"
# The rest against an application that reports how its read ended.
xport=7100
for c in clen-zero clen-beyond fin-no-finp fin-finp; do
    xport=$((xport + 1))
    run_tc A timeout 30 "$PY" "$XFER" server $xport 0 >"$WORK/x$c.json" 2>"$WORK/x$c.err" &
    XS=$!
    for _ in $(seq 100); do grep -q listening "$WORK/x$c.json" && break; sleep 0.1; done
    out=$(peer $xport $c) || fail "$c: $out"
    wait $XS || true
    rerr=$(json "$WORK/x$c.json" read_error)
    case $c in
    fin-finp)
        [ "$rerr" = None ] || fail "$c: the application's read failed ($rerr) after FINp"
        [ "$(json "$WORK/x$c.json" received)" = 10 ] || fail "$c: $(cat "$WORK/x$c.json")"
        say "$c: a frame with FINp then FIN: the application reads its 10 bytes and EOF: $out" ;;
    *)
        [ "$rerr" != None ] || fail "$c: the application read EOF, not an error: $(cat "$WORK/x$c.json")"
        say "$c: the application's read fails with $rerr, not EOF: $out" ;;
    esac
done
# The daemon as host A: a hand-made host B on B's kernel address sends
# Init2 in one-byte segments (whole, then cut short) to a program under
# tcpcrypt-run.
client() {
    run_tc A timeout 30 "$PY" -c 'import json, socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 15)
    s.sendall(b"hello-from-A\n")
    got = b""
    while not got.endswith(b"\n"):
        c = s.recv(100)
        if not c:
            break
        got += c
    sid = s.getsockopt(socket.IPPROTO_TCP, int(sys.argv[3], 0), 33).hex()
    print(json.dumps({"echo": got.decode(), "sid": sid}))
except OSError as e:
    print(json.dumps({"error": type(e).__name__}))' "$KB_IP" "$1" "$(sessid_opt)"
}
for c in init2-split init2-cut; do
    port=$([ $c = init2-split ] && echo 7201 || echo 7202)
    peer $port $c >"$WORK/$c.json" 2>&1 &
    PP=$!
    sleep 0.5
    got=$(client $port)
    wait $PP || fail "$c: $(cat "$WORK/$c.json"); client: $got"
    if [ $c = init2-split ]; then
        [ "$(json <(echo "$got") echo)" = hello-from-A ] || fail "$c: client: $got"
        [ "$(json <(echo "$got") sid)" = "$(json "$WORK/$c.json" sid)" ] ||
            fail "$c: session IDs differ: client $got, peer $(cat "$WORK/$c.json")"
        say "Init2 in one-byte segments: the program's line is echoed, same session ID at both ends: $(cat "$WORK/$c.json")"
    else
        [ "$(json <(echo "$got") error)" != None ] || fail "$c: connect succeeded: $got"
        say "Init2 cut after 30 one-byte segments: connect() fails ($(json <(echo "$got") error)), RST at the handshake timeout: $(cat "$WORK/$c.json")"
    fi
done
n=$(grep -c "aborted: TCP FIN without a FINp frame" "$WORK/daemonA.log" || true)
[ "$n" -ge 2 ] || fail "daemon log: $n 'FIN without a FINp frame' aborts (clen-beyond, fin-no-finp)"
say "daemon: $(grep -m1 'aborted: TCP FIN without a FINp frame' "$WORK/daemonA.log" | sed 's/.*aborted/aborted/') ($n times)"
inns "$NSB" iptables -D OUTPUT -p tcp --tcp-flags RST RST -d "$A_IP" -j DROP
kill -0 "${PIDS[0]}" || fail "tcpcryptd died"
# Still serving: a plain kernel client echoes through.
got=$(echo still-serving | inns "$NSB" timeout 10 socat -t 2 - TCP:$A_IP:$PORT) || fail "daemon stopped serving"
[ "$got" = still-serving ] || fail "echo after bad input: '$got'"
say "daemon still serving after hostile handshakes"
say "PASS"
