#!/usr/bin/env bash
# Hostile handshakes crafted with scapy against a tcpcryptd listener: each
# falls back exactly as RFC 8547 says, and the daemon keeps serving.
TEST_NAME=e2e_badinput
. "$(dirname "$0")/lib.sh"
need iptables timeout socat
PORT=7005

setup_hosts
start_daemon A
wait_reach "$NSB" "$A_IP"
"$PY" -c 'import scapy' 2>/dev/null || fail "python3-scapy missing"
# The echo server: socat under tcpcrypt-run.
run_tc A timeout 120 socat TCP-LISTEN:$PORT,reuseaddr,fork EXEC:cat >"$WORK/echo.log" 2>&1 &
for _ in $(seq 100); do inns "$NSA" socat -u /dev/null TCP:127.0.0.1:$PORT 2>/dev/null && break; sleep 0.1; done
# Namespace B's kernel must not answer the crafted connections with RST.
inns "$NSB" iptables -A OUTPUT -p tcp --tcp-flags RST RST -d "$A_IP" -j DROP

for c in malformed duplicate vacuous no-ack-eno; do
    out=$(inns "$NSB" timeout 30 "$PY" "$TC_SRCDIR/tests/netns/eno_craft.py" brB "$KB_IP" "$A_IP" $PORT $c 2>&1) ||
        fail "$c: $out"
    say "$out"
done
inns "$NSB" iptables -D OUTPUT -p tcp --tcp-flags RST RST -d "$A_IP" -j DROP
kill -0 "${PIDS[0]}" || fail "tcpcryptd died"
# Still serving: a plain kernel client echoes through.
got=$(echo still-serving | inns "$NSB" timeout 10 socat -t 2 - TCP:$A_IP:$PORT) || fail "daemon stopped serving"
[ "$got" = still-serving ] || fail "echo after bad input: '$got'"
say "daemon still serving after hostile handshakes"
say "PASS"
