#!/usr/bin/env bash
# A misbehaving client of tcpcryptd's control socket (tests/netns/ctl_abuse.py):
# short, cut, lying, unknown, oversized and random requests, descriptors that
# are not what the request needs or too many of them, clients that die
# before their request, before their reply, after CONNECT or LISTEN, or with
# connections waiting unaccepted, and more idle clients than the daemon
# keeps.  Throughout, a program under tcpcrypt-run keeps getting encrypted
# echoes and tcpcryptctl answers; the daemon logs each bad client, and its
# descriptors and connections come back to where they were.
TEST_NAME=ctl_abuse
. "$(dirname "$0")/lib.sh"
need timeout socat
PORT=7008
ABUSE=$TC_SRCDIR/tests/netns/ctl_abuse.py
FLOOD=$TC_SRCDIR/tests/netns/flood.py
CTL=$TC_BUILDDIR/tools/tcpcryptctl
SESSID=$(sessid_opt)
start_hosts
DPID=${PIDS[0]}
run_tc A timeout 300 socat TCP-LISTEN:$PORT,reuseaddr,fork EXEC:cat >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 $PORT
# A kernel echo server on B for the connections abandoned clients open.
inns "$NSB" timeout 300 socat TCP-LISTEN:7009,reuseaddr,fork EXEC:cat >/dev/null 2>&1 &
PIDS+=($!)
wait_tcp "$NSB" "$KB_IP" 7009

nfds() { ls "/proc/$DPID/fd" | wc -l; }
status() {
    timeout 10 "$CTL" --control "$WORK/A.sock" --json status |
        "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d = d[k]
print(d)' "$@"
}
abuse() { inns "$NSA" timeout 60 "$PY" "$ABUSE" "$WORK/A.sock" "$@"; }

fds0=$(nfds) open0=$(status connections open) lst0=$(status listeners)
say "before: $fds0 descriptors, $open0 connections open, $lst0 listeners"
# The legitimate client, for the whole test.
run_tc B timeout 120 "$PY" "$FLOOD" probe "$A_IP" $PORT 25 0.2 "$SESSID" >"$WORK/probe.json" 2>"$WORK/probe.err" &
PROBE=$!

for c in empty short header-only-connect len-mismatch unknown-op reply-op huge status-no-fd \
    status-bogus-fd listen-pipe keylog-pipe keylog-readonly many-fds two-cmsgs; do
    out=$(abuse $c) || fail "$c: $out"
    say "$out"
done
out=$(abuse garbage 300) || fail "garbage: $out"
say "$out"
lines=$(grep -c 'control: client pid' "$WORK/daemonA.log" || true)
[ "$lines" -ge 10 ] || fail "the daemon logged $lines lines about bad clients"
say "daemon log: $lines lines about bad clients, e.g. '$(grep -m1 'unknown request' "$WORK/daemonA.log")'"

out=$(abuse die-before-request 500) || fail "$out"
say "$out"
out=$(abuse die-before-reply 500) || fail "$out"
say "$out"
out=$(abuse die-after-connect "$KB_IP" 7009 50) || fail "$out"
say "$out"
out=$(abuse die-after-listen 7010) || fail "$out"
say "$out"
# A client that holds a listener, never accepts, and dies with 20
# connections waiting (kernel clients from B, each hanging on).
abuse die-with-queue 7011 1 >"$WORK/queue.json" 2>&1 &
Q=$!
for _ in $(seq 50); do grep -q listening "$WORK/queue.json" && break; sleep 0.1; done
grep -q listening "$WORK/queue.json" || fail "die-with-queue: $(cat "$WORK/queue.json")"
for i in $(seq 20); do
    inns "$NSB" timeout 8 socat -u /dev/zero TCP:$A_IP:7011 >/dev/null 2>&1 &
done
wait $Q || fail "die-with-queue: $(cat "$WORK/queue.json")"
say "$(tail -n1 "$WORK/queue.json")"

# More idle clients than the daemon keeps (1024): the oldest go, and
# tcpcryptctl, asked meanwhile, still gets its answer.
abuse hold 1100 4 >"$WORK/hold.json" 2>&1 &
H=$!
sleep 2
st=$(status connections encrypted) || fail "tcpcryptctl status failed while 1100 idle clients held the socket"
say "with 1100 idle control clients: tcpcryptctl status answers ($st encrypted so far)"
wait $H || fail "hold: $(cat "$WORK/hold.json")"
say "$(cat "$WORK/hold.json")"
grep -q 'the control socket is full' "$WORK/daemonA.log" || grep -q 'connection messages suppressed' "$WORK/daemonA.log" ||
    fail "no log line for clients dropped from a full control socket"

wait $PROBE || true
tries=$(json "$WORK/probe.json" tries) echoed=$(json "$WORK/probe.json" echoed) enc=$(json "$WORK/probe.json" encrypted)
[ "${tries:-0}" -ge 20 ] || fail "the legitimate client did not run: $(cat "$WORK/probe.json" "$WORK/probe.err")"
[ "$echoed" = "$tries" ] && [ "$enc" = "$tries" ] ||
    fail "legitimate client: $echoed of $tries echoed, $enc encrypted ($(json "$WORK/probe.json" errors))"
say "legitimate client throughout: $echoed/$tries echoed, all encrypted, max $(json "$WORK/probe.json" max_ms) ms"

# Everything abandoned is cleaned up: descriptors, connections, listeners.
for _ in $(seq 100); do
    [ "$(nfds)" -le "$fds0" ] && [ "$(status connections open)" -le "$open0" ] &&
        [ "$(status listeners)" -le "$lst0" ] && break
    sleep 0.2
done
fds1=$(nfds) open1=$(status connections open) lst1=$(status listeners)
[ "$fds1" -le "$fds0" ] || { ls -l "/proc/$DPID/fd" >&2; fail "descriptors: $fds0 before, $fds1 after"; }
[ "$open1" -le "$open0" ] || fail "connections open: $open0 before, $open1 after"
[ "$lst1" -le "$lst0" ] || fail "listeners: $lst0 before, $lst1 after"
kill -0 "$DPID" || fail "tcpcryptd died"
say "after: $fds1 descriptors (before $fds0), $open1 connections open (before $open0), $lst1 listeners (before $lst0)"
say "PASS"
