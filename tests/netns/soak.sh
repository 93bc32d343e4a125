#!/usr/bin/env bash
# A long run through two tcpcryptd on a lossy path (tests/mbox/tc-mbox
# between the hosts, SOAK_IMPAIR: by default 1% of TCP segments dropped, 1%
# duplicated, 1% reordered, seeded; no corruption, which aborts by design):
# SOAK_CONNS short encrypted connections (SOAK_THREADS at a time, each
# answer checked byte for byte) and, all the while, SOAK_LONG long
# connections streaming both ways (every echoed byte checked, a session ID
# on each).  Before, at the peak and
# after, each daemon's VmRSS, open descriptors and lwIP memory (tcpcryptctl
# status --json): afterwards descriptors, connections, lwIP pcbs (the
# TIME-WAIT ones, which the daemon caps at 128 and lwIP frees 2 MSL later,
# accounted for), segments, frame buffers and heap are back at their
# starting level, VmRSS within SOAK_RSS_SLACK_KB (default 16 MB: malloc
# keeps the arenas it grew; not checked in a sanitizer build, where ASan's
# quarantine holds freed memory) of it, and no connection failed or fell
# back.
#
#   SOAK_CONNS=100000 make check TESTS=tests/netns/soak.sh    # the full run
#
# Defaults: 8,000 short connections (800 in a sanitizer build), 24 at a
# time, and 3 long ones; SOAK_IMPAIR="" for a clean path.
TEST_NAME=soak
. "$(dirname "$0")/lib.sh"
need timeout
PEER=$TC_BUILDDIR/tests/netns/soak_peer
CTL=$TC_BUILDDIR/tools/tcpcryptctl
[ -x "$PEER" ] || fail "no $PEER (make check builds it)"
[ -x "$CTL" ] || fail "no $CTL"

if grep -qa __asan_init "$TCPCRYPTD"; then
    build=sanitizer
    conns=${SOAK_CONNS:-800}
else
    build=plain
    conns=${SOAK_CONNS:-8000}
fi
impair=${SOAK_IMPAIR---drop 1% --dup 1% --reorder 1% --seed 7}
threads=${SOAK_THREADS:-24}
nlong=${SOAK_LONG:-3}
rss_slack=${SOAK_RSS_SLACK_KB:-16384}
# Generous bounds: each connection takes milliseconds, a stall is a failure.
limit=$((300 + conns / 50))
PORT=7020
LPORT=7030
SID=$(sessid_opt)

# shellcheck disable=SC2086 # the flags are words
setup_hosts_mbox $impair
start_daemon A
DPID_A=${PIDS[-1]}
start_daemon B
DPID_B=${PIDS[-1]}
wait_reach "$NSB" "$A_IP"
wait_reach "$NSA" "$B_IP"
for p in $DPID_A $DPID_B; do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = tcpcryptd ] || fail "pid $p is not tcpcryptd"
done
# SOAK_PCAP=DIR: capture both hosts' links there (what each daemon sent and
# received), with the key logs, to look into a failure with the dissector.
if [ -n "${SOAK_PCAP:-}" ]; then
    need tcpdump
    mkdir -p "$SOAK_PCAP"
    for side in A B; do
        ns=$NSA
        [ $side = B ] && ns=$NSB
        inns "$ns" tcpdump -i v$side$tag -s 0 -U -w "$SOAK_PCAP/$side.pcap" tcp >"$WORK/tcpdump$side.log" 2>&1 &
        PIDS+=($!)
    done
    sleep 1
fi
say "$build build: $conns short connections ($threads at a time), $nlong long ones; path: ${impair:-clean}"

# snap SIDE: one line of figures for that side's daemon.
snap() {
    local side=$1 pid=$DPID_A ns=$NSA
    [ "$side" = B ] && pid=$DPID_B ns=$NSB
    local rss fds
    rss=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)
    fds=$(ls /proc/$pid/fd | wc -l)
    inns "$ns" timeout 20 "$CTL" --control "$WORK/$side.sock" status --json >"$WORK/status$side.json" ||
        fail "tcpcryptctl status $side failed"
    "$PY" - "$WORK/status$side.json" "$rss" "$fds" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
l, c = s["lwip"], s["connections"]
p = l["pools"]
used = lambda n: p[n]["used"] if n in p else 0
print("rss_kb=%s fds=%s open=%d records=%d tcp_active=%d tcp_tw=%d tcp_listen=%d "
      "TCP_PCB=%d TCP_SEG=%d PBUF_POOL=%d PBUF=%d heap=%d encrypted=%d plain=%d failed=%d aborted=%d"
      % (sys.argv[2], sys.argv[3], c["open"], c["records"], l["tcp"]["active"], l["tcp"]["time_wait"],
         l["tcp"]["listen"], used("TCP_PCB"), used("TCP_SEG"), used("PBUF_POOL"), used("PBUF_REF/ROM"),
         l["heap"]["used"], c["encrypted"], c["plain"], c["failed"], c["aborted"]))
EOF
}
# On a failure: each daemon's connections (state, bytes each way), so that a
# stalled one shows where its bytes stopped.
on_fail() {
    local side ns
    for side in A B; do
        ns=$NSA
        [ $side = B ] && ns=$NSB
        echo "--- $side: tcpcryptctl sessions"
        inns "$ns" timeout 10 "$CTL" --control "$WORK/$side.sock" sessions 2>&1 | head -n 40
    done
    for f in "$WORK"/long*.json; do
        [ -f "$f" ] && { echo "--- $f ($(stat -c %s "$f") bytes)"; cat -A "$f"; }
    done
}
# val LINE KEY
val() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# Servers on A: short connections, and an echo server for the long ones.
run_tc A "$PEER" server $PORT 16 >"$WORK/srv.out" 2>"$WORK/srv.log" &
PIDS+=($!)
run_tc A "$PEER" echo $LPORT >"$WORK/echo.out" 2>"$WORK/echo.log" &
PIDS+=($!)
for f in srv echo; do
    for _ in $(seq 100); do grep -q listening "$WORK/$f.out" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$WORK/$f.out" || fail "$f server did not listen: $(cat "$WORK/$f.log")"
done

# One connection first, so that what a first connection sets up once (ARP
# entries, the resumption cache) is part of the baseline.
run_tc B timeout 60 "$PEER" client "$A_IP" $PORT 1 1 >"$WORK/warm.json" 2>&1 ||
    fail "first connection: $(cat "$WORK/warm.json")"
# Records of closed connections go within a few seconds (the daemon looks
# for their application ends every 2 s).
for _ in $(seq 40); do
    [ "$(val "$(snap A)" records)" = 0 ] && [ "$(val "$(snap B)" records)" = 0 ] && break
    sleep 0.5
done
before_a=$(snap A)
before_b=$(snap B)
say "before A: $before_a"
say "before B: $before_b"

# Peak figures, sampled every second while the load runs.
(
    while :; do
        echo "A $(snap A)"
        echo "B $(snap B)"
        sleep 1
    done
) >"$WORK/samples" 2>/dev/null &
sampler=$!
PIDS+=($sampler)

t0=$(date +%s.%N)
for i in $(seq "$nlong"); do
    run_tc B timeout $((limit + 60)) "$PEER" stream "$A_IP" $LPORT "$WORK/stop" "$limit" \
        >"$WORK/long$i.json" 2>"$WORK/long$i.log" &
    PIDS+=($!)
    eval "long_$i=$!"
done
run_tc B timeout "$limit" "$PEER" client "$A_IP" $PORT "$threads" "$conns" >"$WORK/cli.json" \
    2>"$WORK/cli.log" || true
t1=$(date +%s.%N)
touch "$WORK/stop"
# The long connections end within a second or two of the stop; one that
# still runs 20 s later has stalled: show both daemons' view of it while it
# is still open (it fails at its 60 s receive timeout).
for _ in $(seq 200); do
    running=0
    for i in $(seq "$nlong"); do
        eval "kill -0 \$long_$i 2>/dev/null" && running=1
    done
    [ $running = 0 ] && break
    sleep 0.1
done
[ $running = 0 ] || on_fail
for i in $(seq "$nlong"); do
    eval "wait \$long_$i" || true
done
t2=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true

res=$(tail -n1 "$WORK/cli.json")
ok=$(json "$WORK/cli.json" ok)
bad=$(json "$WORK/cli.json" bad)
errs=$(json "$WORK/cli.json" errors)
secs=$(json "$WORK/cli.json" seconds)
say "short connections: $ok of $conns answered correctly, $bad wrong answers, $errs errors, ${secs} s ($(echo "$conns / $secs" | bc 2>/dev/null || echo '?')/s)"
[ "$ok" = "$conns" ] && [ "$bad" = 0 ] && [ "$errs" = 0 ] || fail "short connections: $res $(cat "$WORK/cli.log")"

# Long connections: every byte back intact, encrypted (a session ID).
for i in $(seq "$nlong"); do
    "$PY" - "$WORK/long$i.json" "$i" <<'EOF' || { [ -z "${SOAK_PCAP:-}" ] || cp "$WORK"/*.keys "$SOAK_PCAP/"; fail "long connection $i: $(cat "$WORK/long$i.json" "$WORK/long$i.log")"; }
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["error"] is None and r["wrong_at"] == -1, r
assert r["sent"] > 0 and r["received"] == r["sent"], r
assert len(r["sessid"]) > 16, r
print("soak: long connection %s: %d bytes out and back intact, session %s..."
      % (sys.argv[2], r["sent"], r["sessid"][:16]))
EOF
done
say "load ran $(echo "$t2 - $t0" | bc) s (short connections $(echo "$t1 - $t0" | bc) s)"
# The relay's counters; a clean one carries what is still closing.
stop_mbox
say "path: $(cat "$WORK/mbox.stats")"
if [ -n "$impair" ]; then
    [ "$(mbox_count dropped)" -gt 0 ] && [ "$(mbox_count duplicated)" -gt 0 ] &&
        [ "$(mbox_count reordered)" -gt 0 ] || fail "the relay impaired nothing: $(cat "$WORK/mbox.stats")"
fi
start_mbox

# Back to the starting level: wait (bounded) for the last connections to
# finish closing, then compare.
settled() {
    local side=$1 before=$2 now
    now=$(snap "$side")
    [ "$(val "$now" open)" = "$(val "$before" open)" ] &&
        [ "$(val "$now" records)" = "$(val "$before" records)" ] &&
        [ "$(val "$now" tcp_active)" = "$(val "$before" tcp_active)" ] &&
        [ "$(val "$now" TCP_SEG)" = "$(val "$before" TCP_SEG)" ]
}
for _ in $(seq 120); do
    settled A "$before_a" && settled B "$before_b" && break
    sleep 0.5
done
sleep 1
after_a=$(snap A)
after_b=$(snap B)

for side in A B; do
    if [ $side = A ]; then before=$before_a after=$after_a; else before=$before_b after=$after_b; fi
    peak() { grep "^$side " "$WORK/samples" | tr ' ' '\n' | sed -n "s/^$1=//p" | sort -n | tail -n1; }
    say "after $side: $after"
    say "$side: VmRSS $(val "$before" rss_kb) -> peak $(peak rss_kb) -> $(val "$after" rss_kb) kB;" \
        "fds $(val "$before" fds) -> $(peak fds) -> $(val "$after" fds);" \
        "TCP_PCB $(val "$before" TCP_PCB) -> $(peak TCP_PCB) -> $(val "$after" TCP_PCB)" \
        "($(val "$after" tcp_tw) in TIME-WAIT);" \
        "TCP_SEG $(val "$before" TCP_SEG) -> $(peak TCP_SEG) -> $(val "$after" TCP_SEG);" \
        "PBUF_POOL $(val "$before" PBUF_POOL) -> $(peak PBUF_POOL) -> $(val "$after" PBUF_POOL);" \
        "heap $(val "$before" heap) -> $(peak heap) -> $(val "$after" heap) bytes"
    for k in fds open records tcp_active tcp_listen TCP_SEG PBUF_POOL PBUF heap; do
        [ "$(val "$after" $k)" = "$(val "$before" $k)" ] ||
            fail "$side: $k was $(val "$before" $k) before, $(val "$after" $k) after"
    done
    # Every pcb in use is a listener's, a connection's or a TIME-WAIT one.
    tw_growth=$(($(val "$after" tcp_tw) - $(val "$before" tcp_tw)))
    [ "$(val "$after" TCP_PCB)" = $(($(val "$before" TCP_PCB) + tw_growth)) ] ||
        fail "$side: TCP_PCB $(val "$before" TCP_PCB) before, $(val "$after" TCP_PCB) after with $tw_growth more in TIME-WAIT"
    [ "$(val "$after" tcp_tw)" -le 128 ] || fail "$side: $(val "$after" tcp_tw) TIME-WAIT pcbs, cap 128"
    # Under ASan freed memory waits in its quarantine (and LeakSanitizer
    # checks for leaks at exit instead): VmRSS is only reported there.
    [ "$build" = sanitizer ] || [ "$(val "$after" rss_kb)" -le $(($(val "$before" rss_kb) + rss_slack)) ] ||
        fail "$side: VmRSS grew from $(val "$before" rss_kb) to $(val "$after" rss_kb) kB (slack $rss_slack)"
    [ "$(val "$after" failed)" = "$(val "$before" failed)" ] && [ "$(val "$after" aborted)" = "$(val "$before" aborted)" ] &&
        [ "$(val "$after" plain)" = "$(val "$before" plain)" ] ||
        fail "$side: failed/aborted/plain connections: before $before, after $after"
    enc=$(($(val "$after" encrypted) - $(val "$before" encrypted)))
    [ "$enc" = $((conns + nlong)) ] || fail "$side: $enc encrypted connections, expected $((conns + nlong))"
    say "$side: $enc connections encrypted, none plain, failed or aborted; descriptors, connections, pcbs, segments, buffers and heap back at their starting level"
done
if [ -n "${SOAK_PCAP:-}" ]; then
    cp "$WORK/A.keys" "$WORK/B.keys" "$SOAK_PCAP/"
fi
say "PASS"
