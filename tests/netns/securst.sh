#!/usr/bin/env bash
# TCP_CRYPT_SECURST: a forged RST (right addresses, ports and sequence
# number, crafted with scapy from a third process) ends an ordinary
# encrypted connection, but not one whose listener set TCP_CRYPT_SECURST:
# there the daemon drops it, checks the peer with a key update, and the
# application's next exchange works.
TEST_NAME=securst
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
INFO=$TC_BUILDDIR/tools/tcpcrypt-info
start_hosts

# client NAME PORT: connect from B, exchange "one", wait for $WORK/NAME.go,
# exchange "two"; prints a JSON line.
client() {
    run_tc B timeout 60 "$PY" - "$A_IP" "$2" "$WORK/$1" >"$WORK/$1.json" 2>"$WORK/$1.err" <<'PYEOF' &
import json, os, socket, sys, time
host, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), 10)
s.sendall(b"one")
first = s.recv(100).decode()
open(base + ".port", "w").write(str(s.getsockname()[1]))
for _ in range(300):
    if os.path.exists(base + ".go"):
        break
    time.sleep(0.1)
try:
    s.sendall(b"two")
    second = s.recv(100).decode() or "EOF"
except OSError as e:
    second = type(e).__name__
print(json.dumps({"first": first, "second": second}))
PYEOF
    CLI=$!
    for _ in $(seq 100); do [ -s "$WORK/$1.port" ] && return 0; sleep 0.1; done
    fail "$1: client did not get its first answer: $(cat "$WORK/$1.err")"
}

# forge PORT CPORT: an RST from B's address to A's listener, seq = the next
# byte A expects (the ack of A's last segment, from the capture).
forge() {
    local ack
    sleep 0.3
    ack=$(tshark -r "$WORK/cap.pcap" -o tcp.relative_sequence_numbers:FALSE \
        -Y "ip.src==$A_IP && tcp.srcport==$1 && tcp.dstport==$2" -T fields -e tcp.ack 2>/dev/null | tail -n1)
    [ -n "$ack" ] || fail "no segment of the connection in the capture"
    inns "$NSB" "$PY" -c '
import sys
from scapy.all import IP, TCP, send, conf
conf.verb = 0
src, dst, sport, dport, seq = sys.argv[1:6]
send(IP(src=src, dst=dst) / TCP(sport=int(sport), dport=int(dport), flags="R", seq=int(seq)))
' "$B_IP" "$A_IP" "$2" "$1" "$ack" || fail "scapy could not send"
}

run_case() { # run_case NAME PORT [--set securst=1]
    local name=$1 port=$2
    shift 2
    ip netns exec "$NSA" tcpdump --immediate-mode -i vA$tag -s 200 -w "$WORK/cap.pcap" -U "tcp port $port" >"$WORK/td.log" 2>&1 &
    TD=$!
    PIDS+=($TD)
    for _ in $(seq 50); do grep -q listening "$WORK/td.log" && break; sleep 0.1; done
    run_tc A timeout 60 "$INFO" "$@" listen "$port" >"$WORK/$name.srv" 2>&1 &
    SRV=$!
    for _ in $(seq 100); do grep -q '^listening' "$WORK/$name.srv" && break; sleep 0.1; done
    client "$name" "$port"
    forge "$port" "$(cat "$WORK/$name.port")"
    sleep 2.5 # the poll callback sends the probe within a second
    touch "$WORK/$name.go"
    wait "$CLI" || true
    kill "$SRV" 2>/dev/null || true
    wait "$SRV" 2>/dev/null || true
    kill -TERM $TD
    wait $TD 2>/dev/null || true
}

run_case plain 7301
[ "$(json "$WORK/plain.json" first)" = one ] || fail "first exchange: $(cat "$WORK/plain.json" "$WORK/plain.err")"
[ "$(json "$WORK/plain.json" second)" != two ] || fail "the forged RST did not reach the daemon (the test proves nothing)"
grep -q "reset by peer" "$WORK/daemonA.log" || fail "daemon A did not see the RST"
say "without TCP_CRYPT_SECURST: the forged RST ends the connection (client: $(json "$WORK/plain.json" second))"

run_case secure 7302 --set securst=1
[ "$(json "$WORK/secure.json" first)" = one ] || fail "first exchange: $(cat "$WORK/secure.json" "$WORK/secure.err")"
[ "$(json "$WORK/secure.json" second)" = two ] || fail "TCP_CRYPT_SECURST: the connection did not survive: $(cat "$WORK/secure.json" "$WORK/secure.err")"
grep -q "RST ignored (TCP_CRYPT_SECURST)" "$WORK/daemonA.log" || fail "no 'RST ignored' in daemon A's log"
say "with TCP_CRYPT_SECURST: the forged RST is dropped, a key update checks the peer, the next exchange works"
