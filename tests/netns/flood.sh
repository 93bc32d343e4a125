#!/usr/bin/env bash
# Floods against a tcpcryptd listener (tests/netns/flood.py, raw sockets from
# namespace B's kernel): a SYN flood from spoofed addresses and ports, half
# of it with a TCP-ENO option, then Init1 floods (garbage, a truncated
# well-formed Init1, nothing) from connections that completed TCP and
# TCP-ENO.  Meanwhile a legitimate client under tcpcrypt-run connects every
# 100 ms: every one must be echoed, encrypted, within FLOOD_MAX_MS.  The
# daemon's memory stays bounded, the incomplete handshakes time out
# (--handshake-timeout) and its connection count returns to where it was.
TEST_NAME=flood
. "$(dirname "$0")/lib.sh"
need iptables timeout socat
PORT=7007
HS_MS=3000            # the daemon's --handshake-timeout for this test
FLOOD_MAX_MS=1500     # a legitimate connection's bound during a flood
RSS_GROWTH_MAX_KB=32768
SYNS=${FLOOD_SYNS:-30000}
SYN_RATE=${FLOOD_SYN_RATE:-6000}
CONNS=${FLOOD_CONNS:-1500}
CONN_RATE=${FLOOD_CONN_RATE:-1000}
FLOOD=$TC_SRCDIR/tests/netns/flood.py
CTL=$TC_BUILDDIR/tools/tcpcryptctl
SESSID=$(sessid_opt)

# A sanitizer build keeps freed memory in quarantine and adds redzones: a
# small quarantine and a looser bound on its RSS.  It is also several times
# slower, and a real client survives a flood only while its handshake beats
# the turnover of the listener's slots (255 newer SYNs): gentler floods.
if grep -qa __asan_init "$TCPCRYPTD"; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
    RSS_GROWTH_MAX_KB=$((RSS_GROWTH_MAX_KB * 4))
    SYN_RATE=${FLOOD_SYN_RATE:-3000} SYNS=${FLOOD_SYNS:-12000} CONN_RATE=${FLOOD_CONN_RATE:-500}
    say "sanitizer build: ASan quarantine 16 MB, RSS growth bound $RSS_GROWTH_MAX_KB kB, $SYNS SYNs at $SYN_RATE/s, connections at $CONN_RATE/s"
fi
# The flag's bounds: one line and a usage error.
for bad in 5 600001 x; do
    msg=$("$TCPCRYPTD" --tap none --addr 10.78.0.1/24 --handshake-timeout $bad 2>&1) && fail "--handshake-timeout $bad accepted"
    [ "$(printf '%s\n' "$msg" | grep -c .)" -ge 1 ] && printf '%s' "$msg" | grep -q "handshake-timeout $bad: milliseconds, 100 to 600000" ||
        fail "--handshake-timeout $bad: '$msg'"
done
say "--handshake-timeout out of range: '$msg'"
setup_hosts
start_daemon A --handshake-timeout $HS_MS
start_daemon B
DPID=${PIDS[0]}
wait_reach "$NSB" "$A_IP"
wait_reach "$NSA" "$B_IP"
run_tc A timeout 300 socat TCP-LISTEN:$PORT,reuseaddr,fork,backlog=128 EXEC:cat >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 $PORT
# The flooder's kernel must not answer the daemon's SYN-ACKs with RST.
inns "$NSB" iptables -A OUTPUT -p tcp --tcp-flags RST RST -s "$KB_IP" -d "$A_IP" -j DROP

rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$DPID/status"; }
nfds() { ls "/proc/$DPID/fd" | wc -l; }
# status KEY...: a value from tcpcryptctl --json status (connections.KEY).
status() {
    "$CTL" --control "$WORK/A.sock" --json status |
        "$PY" -c 'import json,sys; d=json.load(sys.stdin)["connections"]
for k in sys.argv[1:]: d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$@"
}
# tcpstat KEY: lwIP's TCP figure KEY from tcpcryptctl --json status (lwip.tcp).
tcpstat() {
    "$CTL" --control "$WORK/A.sock" --json status |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["lwip"]["tcp"][sys.argv[1]])' "$1"
}
handshaking() {
    "$CTL" --control "$WORK/A.sock" --json sessions |
        "$PY" -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin) if s["state"] == "handshake"))'
}

# probe SECONDS NAME: the legitimate client, in the background (PROBE).
probe() {
    run_tc B timeout $(($1 + 30)) "$PY" "$FLOOD" probe "$A_IP" $PORT "$1" 0.1 "$SESSID" \
        >"$WORK/$2.probe" 2>"$WORK/$2.probe.err" &
    PROBE=$!
}
# check_probe NAME LABEL [BOUND_MS]: all echoed, all encrypted, the slowest
# within bound (FLOOD_MAX_MS).
check_probe() {
    local f=$WORK/$1.probe tries echoed enc max med bound=${3:-$FLOOD_MAX_MS}
    shift
    tries=$(json "$f" tries) echoed=$(json "$f" echoed) enc=$(json "$f" encrypted)
    max=$(json "$f" max_ms) med=$(json "$f" median_ms)
    [ "$tries" -ge 1 ] 2>/dev/null || fail "$1: the probe did not run: $(cat "$f" "$f.err")"
    [ "$echoed" = "$tries" ] || fail "$1: legitimate client: $echoed of $tries echoed ($(json "$f" errors))"
    [ "$enc" = "$tries" ] || fail "$1: legitimate client: $enc of $tries encrypted"
    "$PY" -c "import sys; sys.exit(0 if $max <= $bound else 1)" ||
        fail "$1: a legitimate connection took $max ms (bound $bound)"
    say "$1: $echoed/$tries legitimate connections echoed, all encrypted, median $med ms, max $max ms"
}

# VmHWM is updated lazily by the kernel: sample VmRSS too, every 100 ms.
( while [ -e "/proc/$DPID/status" ]; do rss >>"$WORK/rss.samples" 2>/dev/null; sleep 0.1; done ) &
PIDS+=($!)
peak() { sort -n "$WORK/rss.samples" <(hwm) | tail -n1; }
rss0=$(rss) fds0=$(nfds) open0=$(status open)
say "before: VmRSS $rss0 kB, $fds0 fds, $open0 connections open"

# ---- SYN flood
probe $((SYNS / SYN_RATE + 2)) syn
# Half-open connections, as tcpcryptctl status counts them, while it lasts.
( while :; do tcpstat half_open; sleep 0.2; done ) >"$WORK/halfopen.samples" 2>/dev/null &
HO=$!
PIDS+=($HO)
sleep 0.5
out=$(inns "$NSB" timeout 60 "$PY" "$FLOOD" syn "$A_IP" $PORT "$SYNS" "$SYN_RATE" 10.78.0 100 250) ||
    fail "syn flood: $out"
wait $PROBE || true
kill -0 "$DPID" || fail "tcpcryptd died under the SYN flood"
say "SYN flood: $out"
check_probe syn "SYN flood"
say "SYN flood: VmRSS $(rss) kB, peak so far $(peak) kB"
sleep 1.2 # the daemon notes evictions once a second
ev=$(sed -n 's/.*SYN flood: .*(\([0-9]*\) in all)$/\1/p' "$WORK/daemonA.log" | tail -n1)
[ "${ev:-0}" -gt 0 ] || fail "no half-open connection was evicted (the flood did not fill the SYN backlog)"
say "SYN flood: $ev half-open connections evicted for newer SYNs (the backlog holds 255 per listener)"
kill "$HO" 2>/dev/null
wait "$HO" 2>/dev/null || true
ho=$(sort -n "$WORK/halfopen.samples" | tail -n1)
sev=$(tcpstat syn_evicted)
[ "${ho:-0}" -gt 0 ] && [ "$ho" -le 255 ] ||
    fail "tcpcryptctl status: at most ${ho:-no} half-open connections during the flood, want 1 to 255"
[ "$sev" -ge "$ev" ] || fail "tcpcryptctl status: $sev SYN evictions, the log says $ev"
say "SYN flood: tcpcryptctl status: at most $ho half-open connections at once, $sev evicted, $(tcpstat half_open) half-open now"

# ---- Init1 floods
for kind in garbage truncated silent; do
    probe $((CONNS / CONN_RATE + 3)) "$kind"
    sleep 0.5
    out=$(inns "$NSB" timeout 60 "$PY" "$FLOOD" init1 "$KB_IP" "$A_IP" $PORT "$CONNS" "$CONN_RATE" $kind 1) ||
        fail "init1 flood ($kind): $out"
    hs=$(handshaking)
    wait $PROBE || true
    kill -0 "$DPID" || fail "tcpcryptd died under the Init1 flood ($kind)"
    say "Init1 flood ($kind): $out"
    say "Init1 flood ($kind): $hs handshakes open right after it, VmRSS $(rss) kB, peak so far $(peak) kB"
    [ "$(json <(echo "$out") synacks_with_eno)" -gt 0 ] || fail "$kind: no SYN-ACK with ENO (the flood proves nothing)"
    check_probe $kind "Init1 flood ($kind)"
    # The application's backlog (128) plus lwIP's slots (255) at most; the
    # oldest go once 200 ms old.
    [ "$hs" -le 383 ] || fail "$kind: $hs handshakes open at once (bound: backlog 128 + 255)"
done

# ---- afterwards: incomplete handshakes time out, counts come back
for _ in $(seq $((HS_MS / 100 + 60))); do
    [ "$(handshaking)" = 0 ] && [ "$(status open)" -le "$open0" ] && break
    sleep 0.2
done
hs=$(handshaking) open1=$(status open) timeouts=$(status failed_reasons handshake_timeout)
[ "$hs" = 0 ] || fail "$hs handshakes still open after the floods"
[ "$open1" -le "$open0" ] || fail "$open1 connections open after the floods (before: $open0)"
say "after: no handshake open, $open1 connections open (before $open0); failed handshakes: $(status failed)"
sleep 1
rss1=$(rss) peak=$(peak) fds1=$(nfds)
[ "$fds1" -le $((fds0 + 4)) ] || fail "descriptors: $fds0 before, $fds1 after"
[ $((peak - rss0)) -le $RSS_GROWTH_MAX_KB ] || fail "peak RSS $peak kB, $((peak - rss0)) kB over the start"
say "memory: VmRSS $rss0 kB before, peak $peak kB, $rss1 kB after; descriptors $fds0 before, $fds1 after"
# A burst of real clients beyond a small backlog (socat's 5, raised to the
# daemon's least, 16) is held back, not evicted: every one is served.
run_tc A timeout 300 socat TCP-LISTEN:7013,reuseaddr,fork EXEC:cat >"$WORK/echo16.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 7013
run_tc B timeout 60 "$PY" "$FLOOD" burst "$A_IP" 7013 150 "$SESSID" >"$WORK/burst.probe" 2>"$WORK/burst.probe.err" ||
    fail "burst: $(cat "$WORK/burst.probe" "$WORK/burst.probe.err")"
check_probe burst "150 clients at once against a backlog of 16" 5000
# Still serving after it all.
probe 1 after
wait $PROBE || true
check_probe after "after the floods"
# The flood's half-open connections expire (lwIP's SYN-RECEIVED timeout, 20 s).
for _ in $(seq 60); do
    [ "$(tcpstat half_open)" = 0 ] && break
    sleep 0.5
done
[ "$(tcpstat half_open)" = 0 ] || fail "$(tcpstat half_open) half-open connections left long after the SYN flood"
say "half-open connections: none left"
say "PASS"
