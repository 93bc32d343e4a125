#!/usr/bin/env bash
# tcpcryptctl against two running daemons: an encrypted connection between
# two programs under tcpcrypt-run and a plain one from a kernel client, both
# held open; status counters (text and --json), sessions with the session ID
# the applications read, the key log switched on and off at run time, the
# resumption cache listing and flush, EPERM for an unprivileged user, one
# clear error line for a bad command or an absent daemon, and failed and
# aborted connections counted with their reasons.
TEST_NAME=ctl_tool
. "$(dirname "$0")/lib.sh"
need timeout setpriv
CTL=$TC_BUILDDIR/tools/tcpcryptctl
HOLD=$TC_SRCDIR/tests/netns/hold.py
PORT=7011
[ -x "$CTL" ] || fail "no $CTL"

start_hosts
SID=$(sessid_opt)
STOP=$WORK/stop

# ctl A|B args...: tcpcryptctl as root against that side's daemon.
ctl() {
    local side=$1 ns=$NSA
    shift
    [ "$side" = B ] && ns=$NSB
    inns "$ns" timeout 20 "$CTL" --control "$WORK/$side.sock" "$@"
}
# nobody args...: tcpcryptctl as an unprivileged user against A.
nobody() {
    inns "$NSA" timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$CTL" --control "$WORK/A.sock" "$@"
}
wait_lines() { # wait_lines FILE N: FILE has N lines
    for _ in $(seq 150); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1: fewer than $2 lines: $(cat "$1" 2>/dev/null)"
}
jq_py() { # jq_py FILE EXPR: a Python expression over the JSON document d
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
jline() { # jline FILE N KEY: KEY of the N-th JSON line of FILE
    "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])-1])[sys.argv[3]])' "$1" "$2" "$3"
}

# The daemons were started with --keylog: switched off at run time first.
ctl A keylog off >"$WORK/off1.out" || fail "keylog off failed"
grep -qx "key log off" "$WORK/off1.out" || fail "keylog off said: $(cat "$WORK/off1.out")"
ctl A status >"$WORK/st0.txt" || fail "status failed"
grep -qE "^key log +off$" "$WORK/st0.txt" || fail "status does not show the key log off: $(grep 'key log' "$WORK/st0.txt")"

# 1. An encrypted connection (tcpcrypt-run on both sides) and a plain one
# (B's kernel client to A's daemon), held open.
run_tc A timeout 150 "$PY" "$HOLD" server $PORT 5 "$STOP" --sessid-opt "$SID" >"$WORK/srv.json" 2>"$WORK/srv.log" &
wait_lines "$WORK/srv.json" 1
run_tc B timeout 150 "$PY" "$HOLD" client "$A_IP" $PORT "$STOP" --sessid-opt "$SID" >"$WORK/c1.json" 2>"$WORK/c1.log" &
wait_lines "$WORK/c1.json" 1
wait_lines "$WORK/srv.json" 2
inns "$NSB" timeout 150 "$PY" "$HOLD" client "$A_IP" $PORT "$STOP" --sessid-opt "$SID" >"$WORK/k1.json" 2>"$WORK/k1.log" &
wait_lines "$WORK/k1.json" 1
wait_lines "$WORK/srv.json" 3
sid=$(jline "$WORK/c1.json" 1 sessid)
[ ${#sid} -eq 66 ] || fail "client session ID: $sid"
[ "$(jline "$WORK/srv.json" 2 sessid)" = "$sid" ] || fail "server and client session IDs differ"
[ "$(jline "$WORK/k1.json" 1 sessid)" = ENOPROTOOPT ] || fail "kernel client has a session ID"
[ "$(jline "$WORK/srv.json" 3 sessid)" = ENOPROTOOPT ] || fail "plain connection has a session ID at the server"
grep -q "established encrypted .*session $sid" "$WORK/daemonA.log" || fail "daemon A did not log session $sid"
say "encrypted connection (session ${sid:0:16}...) and plain connection open"

# 2. status, text and JSON.
ctl A status >"$WORK/st1.txt" || fail "status failed"
for re in "^encrypted +1$" "^plain \(fallback\) +1$" "^  peer sent no ENO option +1$" "^open +2$" \
    "^listeners +1$" "^aborted +0$" "^link +tapA$" "^link status +tap tapA, mtu 1500, rx [0-9]+" \
    "^addresses +$A_IP/24"; do
    grep -qE "$re" "$WORK/st1.txt" || fail "status text lacks /$re/: $(cat "$WORK/st1.txt")"
done
ctl A --json status >"$WORK/st1.json" || fail "status --json failed"
check() { # check FILE EXPR: a Python expression over d is true
    [ "$(jq_py "$1" "$2")" = True ] || fail "$1: not ($2): $(cat "$1")"
}
c="d['connections']"
check "$WORK/st1.json" "$c['encrypted'] == 1 and $c['plain'] == 1 and $c['resumed'] == 0"
check "$WORK/st1.json" "$c['plain_reasons'] == {'no_eno': 1} and $c['aborted'] == 0 and $c['failed'] == 0"
check "$WORK/st1.json" "$c['open'] == 2 and d['listeners'] == 1 and d['keylog'] is None"
check "$WORK/st1.json" "d['link']['name'] == 'tapA' and d['link']['addresses'][0] == '$A_IP/24'"
# Two hello lines in (124 bytes each), two welcome lines out (226 each);
# the encrypted one costs more on the wire (Init messages, frame headers).
check "$WORK/st1.json" "d['bytes']['app_in'] == 248 and d['bytes']['app_out'] == 452"
check "$WORK/st1.json" "d['bytes']['wire_in'] > 248 and d['bytes']['wire_out'] > 452"
ctl B --json status >"$WORK/stB.json" || fail "status B failed"
check "$WORK/stB.json" "d['connections']['encrypted'] == 1 and d['connections']['plain'] == 0"
say "status: encrypted 1, plain 1 (no ENO), open 2, bytes 248 in / 452 out (text and JSON)"

# 3. sessions.
ctl A --json sessions >"$WORK/se1.json" || fail "sessions --json failed"
check "$WORK/se1.json" "len(d) == 2"
e="[x for x in d if x['encrypted']][0]"
p="[x for x in d if not x['encrypted']][0]"
check "$WORK/se1.json" "$e['session_id'] == '$sid' and $e['remote'].startswith('$B_IP:') and $e['local'] == '$A_IP:$PORT'"
check "$WORK/se1.json" "$e['tep_name'] == 'X25519' and $e['aead'].startswith('AEAD_') and $e['role'] in 'AB' and not $e['resumed']"
check "$WORK/se1.json" "$e['state'] == 'established' and $e['app_in'] == 124 and $e['app_out'] == 226 and $e['wire_in'] > 124"
check "$WORK/se1.json" "$p['session_id'] is None and $p['remote'].startswith('$KB_IP:') and $p['role'] is None"
check "$WORK/se1.json" "$p['app_in'] == 124 and $p['app_out'] == 226 and $p['wire_in'] == 124 and $p['wire_out'] == 226"
role_a=$(jq_py "$WORK/se1.json" "$e['role']")
ctl B --json sessions >"$WORK/seB.json" || fail "sessions B failed"
check "$WORK/seB.json" "len(d) == 1 and d[0]['session_id'] == '$sid' and d[0]['role'] != '$role_a'"
ctl A sessions >"$WORK/se1.txt" || fail "sessions failed"
[ "$(wc -l <"$WORK/se1.txt")" -eq 3 ] || fail "sessions text: $(cat "$WORK/se1.txt")"
grep -q "^ID .*SESSION-ID" "$WORK/se1.txt" || fail "sessions text has no header"
grep -E "encrypted +X25519 +AEAD_" "$WORK/se1.txt" | grep -q "$sid" || fail "sessions text lacks the encrypted connection"
grep -E "$KB_IP:[0-9]+ +established +plain " "$WORK/se1.txt" | grep -qv "$sid" || fail "sessions text lacks the plain connection"
say "sessions: both connections, session ID as the applications read it, role $role_a at A"

# 4. The key log at run time: on, a new connection is logged there; off,
# the next one is not.
ctl A keylog on "$WORK/rt.keys" >/dev/null || fail "keylog on failed"
[ "$(stat -c %a "$WORK/rt.keys")" = 600 ] || fail "run-time key log mode $(stat -c %a "$WORK/rt.keys")"
ctl A --json status >"$WORK/st2.json" || fail "status failed"
check "$WORK/st2.json" "d['keylog'] == '$WORK/rt.keys'"
nobody --json status >"$WORK/st2n.json" || fail "status as nobody failed"
check "$WORK/st2n.json" "d['keylog'] == 'on'"
run_tc B timeout 150 "$PY" "$HOLD" client "$A_IP" $PORT "$STOP" --sessid-opt "$SID" >"$WORK/c2.json" 2>"$WORK/c2.log" &
wait_lines "$WORK/c2.json" 1
sid2=$(jline "$WORK/c2.json" 1 sessid)
grep -q "^TCPCRYPT_SS $sid2 [0-9a-f]\{64\}$" "$WORK/rt.keys" || fail "run-time key log lacks session $sid2: $(cat "$WORK/rt.keys")"
# A fresh session also logs its ES; a resumed one (ID a3...) has none.
case $sid2 in 23*) grep -q "^TCPCRYPT_ES " "$WORK/rt.keys" || fail "run-time key log lacks ES" ;; esac
grep -q "$sid2" "$WORK/A.keys" && fail "the start-up key log got session $sid2 after keylog off"
ctl A keylog off >/dev/null || fail "keylog off failed"
lines=$(wc -l <"$WORK/rt.keys")
run_tc B timeout 150 "$PY" "$HOLD" client "$A_IP" $PORT "$STOP" --sessid-opt "$SID" >"$WORK/c3.json" 2>"$WORK/c3.log" &
wait_lines "$WORK/c3.json" 1
sid3=$(jline "$WORK/c3.json" 1 sessid)
[ ${#sid3} -eq 66 ] || fail "third session ID: $sid3"
[ "$(wc -l <"$WORK/rt.keys")" -eq "$lines" ] || fail "key log written after keylog off"
grep -q "$sid3" "$WORK/A.keys" "$WORK/rt.keys" && fail "session $sid3 logged after keylog off"
say "keylog on: session ${sid2:0:16}... logged ($lines lines, mode 0600); keylog off: ${sid3:0:16}... not logged"

# 5. The resumption cache.
ctl A cache >"$WORK/cache.txt" || fail "cache failed"
grep -q "^ID  *PEER  *TEP  *AEAD" "$WORK/cache.txt" || fail "cache text: $(cat "$WORK/cache.txt")"
ncache=$(ctl A --json cache | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))') || fail "cache --json failed"
[ "$ncache" -ge 1 ] || fail "the resumption cache is empty after encrypted connections"
grep -q "10.78.0.2 " "$WORK/cache.txt" || fail "cache text lacks peer $B_IP: $(cat "$WORK/cache.txt")"
out=$(ctl A flush) || fail "flush failed"
echo "$out" | grep -qx "$ncache entr\(y\|ies\) removed from the resumption cache" || fail "flush said: $out"
[ "$(ctl A --json cache)" = "[]" ] || fail "cache not empty after flush"
say "cache: $ncache entries listed, flush: '$out'"

# 6. An unprivileged user: status yes, the rest EPERM; a key log path it
# cannot write is refused before the daemon is asked.
nobody status >"$WORK/nobody.txt" || fail "status as nobody failed"
grep -qE "^encrypted +3$" "$WORK/nobody.txt" || fail "status as nobody: $(cat "$WORK/nobody.txt")"
for cmd in "flush" "keylog off" "sessions" "cache" "keylog on /tmp/tcpcryptctl-nobody-$tag.keys"; do
    # shellcheck disable=SC2086
    if nobody $cmd >"$WORK/np.out" 2>"$WORK/np.err"; then
        fail "'$cmd' as nobody succeeded"
    fi
    [ "$(wc -l <"$WORK/np.err")" -eq 1 ] && grep -q "Operation not permitted" "$WORK/np.err" ||
        fail "'$cmd' as nobody: $(cat "$WORK/np.err")"
    [ -s "$WORK/np.out" ] && fail "'$cmd' as nobody printed: $(cat "$WORK/np.out")"
done
rm -f "/tmp/tcpcryptctl-nobody-$tag.keys"
mkdir -m 0700 "$WORK/private"
if nobody keylog on "$WORK/private/k" 2>"$WORK/np.err"; then fail "nobody wrote into a private folder"; fi
grep -q "Permission denied" "$WORK/np.err" || fail "keylog on in a private folder: $(cat "$WORK/np.err")"
[ -e "$WORK/private/k" ] && fail "the key log was created in a private folder"
ctl A --json status >"$WORK/st3.json"
check "$WORK/st3.json" "d['keylog'] is None"
say "nobody: status allowed; flush, keylog, sessions, cache: EPERM; no file in a folder it cannot write"

# 7. Bad commands and an absent daemon: one error line, non-zero status.
expect_err() { # expect_err STATUS PATTERN args...
    local want=$1 pat=$2 rc=0
    shift 2
    inns "$NSA" timeout 20 "$CTL" "$@" >"$WORK/e.out" 2>"$WORK/e.err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "tcpcryptctl $*: exit $rc, expected $want"
    [ "$(wc -l <"$WORK/e.err")" -eq 1 ] && grep -q "$pat" "$WORK/e.err" || fail "tcpcryptctl $*: $(cat "$WORK/e.err")"
    [ -s "$WORK/e.out" ] && fail "tcpcryptctl $* printed: $(cat "$WORK/e.out")"
    return 0
}
expect_err 2 "unknown command 'bogus'" --control "$WORK/A.sock" bogus
expect_err 2 "keylog on FILE, or keylog off" --control "$WORK/A.sock" keylog maybe
expect_err 2 "a command is needed" --control "$WORK/A.sock"
expect_err 2 "unknown option '--frobnicate'" --frobnicate status
expect_err 1 "cannot reach tcpcryptd at $WORK/none.sock" --control "$WORK/none.sock" status
TCPCRYPT_SOCKET=$WORK/none.sock expect_err 1 "cannot reach tcpcryptd at $WORK/none.sock" status
st=$(inns "$NSA" env TCPCRYPT_SOCKET="$WORK/A.sock" timeout 20 "$CTL" status) || fail "status via \$TCPCRYPT_SOCKET failed"
grep -qE "^encrypted +3$" <<<"$st" || fail "\$TCPCRYPT_SOCKET is not used"
say "bad command, bad option, absent daemon: one error line each, exit 2 or 1"

# 8. A refused connection counts as failed, with its reason (options may
# also follow the command).
run_tc A "$PY" -c 'import socket,sys
try:
    socket.create_connection((sys.argv[1], 7999), 10)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$B_IP" || fail "connecting to a closed port was not refused"
ctl A status --json >"$WORK/st5.json" || fail "status --json after the command failed"
check "$WORK/st5.json" "d['connections']['failed'] == 1 and d['connections']['failed_reasons'] == {'refused': 1}"
check "$WORK/st5.json" "d['connections']['aborted'] == 0 and d['connections']['encrypted'] == 3"
say "a refused connect: failed 1 (refused)"

# 9. A client that closes with unread data resets the connection: aborted
# (reset) at both daemons.
run_tc B timeout 60 "$PY" "$HOLD" client "$A_IP" $PORT "$STOP" --sessid-opt "$SID" --unread >"$WORK/c4.json" 2>"$WORK/c4.log" ||
    fail "unread client failed: $(cat "$WORK/c4.log")"
for side in A B; do
    for _ in $(seq 100); do
        ctl $side --json status >"$WORK/st6$side.json"
        [ "$(jq_py "$WORK/st6$side.json" "d['connections']['aborted']")" = 1 ] && break
        sleep 0.1
    done
    check "$WORK/st6$side.json" "d['connections']['aborted_reasons'] == {'reset': 1} and d['connections']['encrypted'] == 4"
done
say "a client closing with unread data: aborted 1 (reset) at both daemons"

# 10. Closing: everything else ends as closed, nothing more aborted.
touch "$STOP"
for _ in $(seq 100); do
    ctl A --json status >"$WORK/st4.json"
    [ "$(jq_py "$WORK/st4.json" "d['connections']['open']")" = 0 ] && break
    sleep 0.1
done
check "$WORK/st4.json" "d['connections']['open'] == 0 and d['connections']['closed'] == 6 and d['connections']['aborted'] == 1"
say "after close: open 0, closed 6 (one refused, one reset), aborted 1"
say "PASS"
