#!/usr/bin/env bash
# 2000 short connections from 20 concurrent clients through two tcpcryptd to a
# server under tcpcrypt-run whose 4 forked workers share one listener: every
# connection completes with the right answer, and the capture on the link
# shows each connection's SYN and SYN-ACK exactly once, no other TCP
# retransmission (e.g. of a FIN left unacknowledged) and no RST.  No timing
# thresholds: counts only.
TEST_NAME=accept_burst
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
PORT=7010
THREADS=20
PER=100
N=$((THREADS * PER))
BURST=$TC_SRCDIR/tests/netns/burst.py

start_hosts

ip netns exec "$NSA" tcpdump -i vA$tag -s 128 -w "$WORK/link.pcap" -U "tcp port $PORT" >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
tcpd=$!
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done

run_tc A "$PY" "$BURST" server $PORT 4 >"$WORK/srv.out" 2>"$WORK/srv.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/srv.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/srv.out" || fail "server did not listen: $(cat "$WORK/srv.log")"

t0=$(date +%s.%N)
run_tc B timeout 300 "$PY" "$BURST" client "$A_IP" $PORT $THREADS $PER >"$WORK/cli.json" 2>"$WORK/cli.log" ||
    fail "client: $(cat "$WORK/cli.json" "$WORK/cli.log")"
t1=$(date +%s.%N)
ok=$(json "$WORK/cli.json" ok)
[ "$ok" = $N ] || fail "$ok of $N connections answered correctly: $(cat "$WORK/cli.json")"
say "$N connections ($THREADS concurrent) answered correctly, $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"

# Let the last FIN/ACK exchanges cross the link, then stop the capture.
sleep 2
kill -TERM $tcpd; wait $tcpd 2>/dev/null || true

count() { tshark -r "$WORK/link.pcap" -Y "$1" 2>/dev/null | wc -l; }
syn=$(count 'tcp.flags.syn==1 && tcp.flags.ack==0')
synack=$(count 'tcp.flags.syn==1 && tcp.flags.ack==1')
syn_tuples=$(tshark -r "$WORK/link.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>/dev/null | sort -u | wc -l)
retx=$(count 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission')
rst=$(count 'tcp.flags.reset==1')
say "capture: $syn SYN ($syn_tuples port tuples), $synack SYN-ACK, $retx retransmissions, $rst RST"
[ "$syn" = $N ] && [ "$syn_tuples" = $N ] || fail "$syn SYNs for $syn_tuples port tuples, expected $N each (SYN retransmitted?)"
[ "$synack" = $N ] || fail "$synack SYN-ACKs for $N connections (SYN-ACK retransmitted?)"
[ "$retx" = 0 ] || fail "$retx retransmitted segments: $(tshark -r "$WORK/link.pcap" -Y 'tcp.analysis.retransmission' -T fields -e ip.src -e tcp.srcport -e tcp.flags.str 2>/dev/null | head -5 | tr '\n' ' ')"
[ "$rst" = 0 ] || fail "$rst RSTs"
grep -q "established encrypted" "$WORK/daemonA.log" || fail "no encrypted connection in daemon A's log"
say "PASS"
