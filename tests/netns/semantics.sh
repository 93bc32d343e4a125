#!/usr/bin/env bash
# Socket semantics a kernel TCP socket has, on the daemon's connections
# (programs under tcpcrypt-run on both hosts): select() on an fd near 1023,
# SO_LINGER {1, 0} resets, TCP_INFO carries the daemon TCP's own figures,
# SO_KEEPALIVE/TCP_KEEPIDLE send keepalives, a non-blocking connect to a
# silent host ends in ETIMEDOUT, a daemon restart gives the
# application an error (never a hang) and new connections work afterwards,
# and 10,000 concurrent connections on one daemon.
TEST_NAME=semantics
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
SEM=$TC_SRCDIR/tests/netns/semantics.py
MANY=${TC_MANY_CONNECTIONS:-10000}
start_hosts

start_server() { # start_server PORT: the echo server on A
    run_tc A "$PY" "$SEM" server "$1" >"$WORK/srv$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q listening "$WORK/srv$1.log" && return 0; sleep 0.1; done
    fail "echo server on $1 did not start: $(cat "$WORK/srv$1.log")"
}
sem() { # sem NAME ARGS...: a client on B, JSON into $WORK/NAME.json
    local name=$1
    shift
    run_tc B timeout 120 "$PY" "$SEM" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
        fail "$name: $(cat "$WORK/$name.err")"
}
j() { json "$WORK/$1.json" "$2"; }

start_server 7400

# select() with an fd near FD_SETSIZE.
sem sel select1023 "$A_IP" 7400
[ "$(j sel readable)" = True ] && [ "$(j sel writable)" = True ] && [ "$(j sel echo)" = ping ] ||
    fail "select on fd 1020: $(cat "$WORK/sel.json")"
say "select() on fd 1020: readable with the echo, writable"

# SO_RCVTIMEO (set on the kernel socket before connect()) bounds recv().
sem rt rcvtimeo "$A_IP" 7400
[ "$(j rt echo)" = True ] && [ "$(j rt result)" = EAGAIN ] || fail "SO_RCVTIMEO: $(cat "$WORK/rt.json")"
say "SO_RCVTIMEO 0.3 s set before connect(): an idle recv() fails with EAGAIN after $(j rt seconds) s"

# SO_LINGER {1, 0}: close() sends RST, not FIN.
ip netns exec "$NSA" tcpdump --immediate-mode -i vA$tag -s 120 -w "$WORK/linger.pcap" -U "tcp port 7400" >"$WORK/td.log" 2>&1 &
TD=$!
PIDS+=($TD)
for _ in $(seq 50); do grep -q listening "$WORK/td.log" && break; sleep 0.1; done
sem linger linger "$A_IP" 7400
sleep 0.5
kill -TERM $TD
wait $TD 2>/dev/null || true
[ "$(j linger echo)" = True ] || fail "linger: echo failed"
grep -q "application closed with SO_LINGER 0" "$WORK/daemonB.log" || fail "daemon B did not reset on close"
nrst=$(tshark -r "$WORK/linger.pcap" -Y "ip.src==$B_IP && tcp.flags.reset==1" 2>/dev/null | wc -l)
nfin=$(tshark -r "$WORK/linger.pcap" -Y "ip.src==$B_IP && tcp.flags.fin==1" 2>/dev/null | wc -l)
[ "$nrst" -ge 1 ] && [ "$nfin" -eq 0 ] || fail "SO_LINGER 0: $nrst RST and $nfin FIN from B"
say "SO_LINGER {1, 0}: close() sent RST ($nrst), no FIN"

# TCP_INFO: lwIP's figures for this connection.
sem info tcpinfo "$A_IP" 7400
[ "$(j info echo)" = True ] || fail "tcpinfo: echo failed"
[ "$(j info state)" = 1 ] || fail "TCP_INFO state $(j info state), want 1 (ESTABLISHED)"
for k in snd_mss rto snd_cwnd rcv_space; do
    [ "$(j info $k)" -gt 0 ] || fail "TCP_INFO $k is $(j info $k): $(cat "$WORK/info.json")"
done
say "TCP_INFO after 1 MB: state ESTABLISHED, mss $(j info snd_mss), cwnd $(j info snd_cwnd) segments, rto $(j info rto) us, rtt $(j info rtt) us, rcv_space $(j info rcv_space)"

# SO_KEEPALIVE with TCP_KEEPIDLE/TCP_KEEPINTVL 1 s: probes while idle.
ip netns exec "$NSA" tcpdump --immediate-mode -i vA$tag -s 120 -w "$WORK/ka.pcap" -U "tcp port 7400" >"$WORK/td.log" 2>&1 &
TD=$!
PIDS+=($TD)
for _ in $(seq 50); do grep -q listening "$WORK/td.log" && break; sleep 0.1; done
sem ka keepalive "$A_IP" 7400
sleep 0.3
kill -TERM $TD
wait $TD 2>/dev/null || true
[ "$(j ka idle)" = 1 ] || fail "TCP_KEEPIDLE reads back $(j ka idle)"
[ "$(j ka zero_idle)" = EINVAL ] || fail "TCP_KEEPIDLE 0: $(j ka zero_idle), want EINVAL"
[ "$(j ka echo)" = True ] || fail "keepalive: echo after idle failed"
nka=$(tshark -r "$WORK/ka.pcap" -Y "ip.src==$B_IP && tcp.analysis.keep_alive" 2>/dev/null | wc -l)
[ "$nka" -ge 1 ] || fail "keepalive: no probe from B in 4 idle seconds"
say "SO_KEEPALIVE, TCP_KEEPIDLE=1, TCP_KEEPINTVL=1: $nka keepalive probes in 4 idle seconds; TCP_KEEPIDLE 0 is EINVAL"

# A daemon restart while an application waits in recv(): an error, no hang.
run_tc B timeout 60 "$PY" "$SEM" hold "$A_IP" 7400 "$WORK/held" >"$WORK/hold.json" 2>"$WORK/hold.err" &
HOLD=$!
for _ in $(seq 100); do [ -s "$WORK/held" ] && break; sleep 0.1; done
[ -s "$WORK/held" ] || fail "hold: no connection: $(cat "$WORK/hold.err")"
kill -TERM "${PIDS[1]}"
wait "$HOLD" || fail "hold: client failed: $(cat "$WORK/hold.err")"
res=$(j hold result)
[ "$res" != data ] || fail "after the daemon stopped, recv() returned data"
say "tcpcryptd stopped under a blocked recv(): the application got $res after $(j hold seconds) s"
wait "${PIDS[1]}" 2>/dev/null || true
rm -f "$WORK/B.sock"
start_daemon B
PIDS[1]=${PIDS[-1]}
unset 'PIDS[-1]'
sem after select1023 "$A_IP" 7400
[ "$(j after echo)" = ping ] || fail "after the restart: $(cat "$WORK/after.json")"
say "tcpcryptd restarted: new connections work"

# A non-blocking connect to a host that drops the SYNs: SO_ERROR says
# ETIMEDOUT once the SYN retransmissions are spent (--syn-retries 1).
kill -TERM "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null || true
rm -f "$WORK/B.sock"
start_daemon B --syn-retries 1
PIDS[1]=${PIDS[-1]}
unset 'PIDS[-1]'
inns "$NSA" iptables -A INPUT -p tcp --dport 7999 -j DROP || fail "iptables in namespace A"
sem nb nbconnect "$KA_IP" 7999
[ "$(j nb first)" = EINPROGRESS ] && [ "$(j nb so_error)" = ETIMEDOUT ] ||
    fail "non-blocking connect to a silent host: $(cat "$WORK/nb.json")"
say "non-blocking connect to a host that drops SYNs: EINPROGRESS, then SO_ERROR ETIMEDOUT after $(j nb seconds) s (--syn-retries 1)"

# Many concurrent connections on one daemon.  Should one stall, both
# daemons' connection lists and counters are kept for the failure report.
run_tc B timeout 300 env SEM_PAUSE=5 "$PY" "$SEM" many "$A_IP" 7400 "$MANY" >"$WORK/many.json" 2>"$WORK/many.err" &
MPID=$!
while kill -0 $MPID 2>/dev/null; do
    if grep -q "no echo" "$WORK/many.err" && [ ! -f "$WORK/dumped" ]; then
        touch "$WORK/dumped"
        for s in A B; do
            "$TC_BUILDDIR/tools/tcpcryptctl" --control "$WORK/$s.sock" status >"$WORK/status$s.log" 2>&1
            "$TC_BUILDDIR/tools/tcpcryptctl" --control "$WORK/$s.sock" sessions >"$WORK/sessions$s.txt" 2>&1
            ip -n "$([ $s = A ] && echo "$NSA" || echo "$NSB")" -s link show tap$s >>"$WORK/status$s.log" 2>&1
        done
    fi
    sleep 0.2
done
wait $MPID || fail "many: $(cat "$WORK/many.err")"
[ "$(j many bad)" = 0 ] || fail "many: $(j many bad) of $MANY connections did not echo"
say "$MANY concurrent encrypted connections on one daemon: every one echoed its own bytes (connects $(j many connect_seconds) s, all $(j many seconds) s)"
say "PASS"
