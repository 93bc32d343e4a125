#!/usr/bin/env bash
# memcached (Debian's, unmodified; -t 4: four worker threads handed
# connections by the listener thread) under tcpcrypt-run.  Clients under
# tcpcrypt-run: a Python text-protocol client (set/get/multi-get of many keys
# over 8 connections, values checked) and libmemcached's memcslap and
# memccp/memccat; kernel clients (fallback) and a kernel memcached.
TEST_NAME=compat_memcached
. "$(dirname "$0")/../netns/lib.sh"
need memcached timeout
MEMC=$TC_SRCDIR/tests/compat/memc.py

start_hosts

# pyclient SIDE|kernel HOST PORT TAG
pyclient() {
    local -a run
    if [ "$1" = kernel ]; then run=(inns "$NSB"); else run=(run_tc B); fi
    "${run[@]}" timeout 60 "$PY" "$MEMC" "$2" "$3" 3000 8 "$4-" >"$WORK/memc-$4.json" 2>"$WORK/memc-$4.err" ||
        fail "$4: client failed: $(cat "$WORK/memc-$4.json" "$WORK/memc-$4.err")"
    [ "$(json "$WORK/memc-$4.json" nerrors)" = 0 ] || fail "$4: errors $(cat "$WORK/memc-$4.json")"
    echo "3000 keys set/get/multi-get over 8 connections in $(json "$WORK/memc-$4.json" seconds) s ($(json "$WORK/memc-$4.json" ops_per_s) ops/s)"
}

PORT=11311
run_tc A timeout 300 memcached -u root -t 4 -m 1024 -p $PORT -U 0 -l 0.0.0.0 >"$WORK/memcached.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 $PORT
enc0=$(count_log B "established encrypted")
r=$(pyclient tc "$A_IP" $PORT tc)
say "python client under tcpcrypt-run -> memcached under tcpcrypt-run: $r, values intact"
enc1=$(count_log B "established encrypted")
[ $((enc1 - enc0)) -ge 8 ] || fail "only $((enc1 - enc0)) encrypted connections in B's log"
say "$((enc1 - enc0)) connections established encrypted (daemon B log)"

if command -v memcslap >/dev/null; then
    run_tc B timeout 60 memcslap --servers="$A_IP:$PORT" --concurrency=8 --execute-number=2000 \
        >"$WORK/slap.txt" 2>&1 || fail "memcslap failed: $(cat "$WORK/slap.txt")"
    grep -qi "error\|failed" "$WORK/slap.txt" && fail "memcslap: $(cat "$WORK/slap.txt")"
    say "memcslap under tcpcrypt-run (8 threads, 16000 sets): $(grep 'Time to set' "$WORK/slap.txt" | head -1 | sed 's/^[[:space:]]*//')"
fi
if command -v memccp >/dev/null && command -v memccat >/dev/null; then
    head -c 500000 /dev/urandom >"$WORK/blob"
    (cd "$WORK" && run_tc B timeout 30 memccp --servers="$A_IP:$PORT" blob) >"$WORK/memccp.txt" 2>&1 ||
        fail "memccp: $(cat "$WORK/memccp.txt")"
    run_tc B timeout 30 memccat --servers="$A_IP:$PORT" blob >"$WORK/blob.got" 2>"$WORK/memccat.err" ||
        fail "memccat: $(cat "$WORK/memccat.err")"
    # memccat ends each value with a newline.
    [ "$(stat -c %s "$WORK/blob.got")" -eq 500001 ] || fail "memccat: $(stat -c %s "$WORK/blob.got") bytes"
    head -c 500000 "$WORK/blob.got" | cmp -s - "$WORK/blob" || fail "memccp/memccat: 500 kB value differs"
    say "memccp/memccat under tcpcrypt-run: a 500 kB value intact"
fi

r=$(pyclient kernel "$A_IP" $PORT kernel)
say "kernel client -> memcached under tcpcrypt-run: $r"

inns "$NSA" timeout 120 memcached -u root -t 4 -p $((PORT + 1)) -U 0 -l "$KA_IP" >"$WORK/memcachedk.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" "$KA_IP" $((PORT + 1))
r=$(pyclient tc "$KA_IP" $((PORT + 1)) tc2k)
say "python client under tcpcrypt-run -> kernel memcached: $r"
say "PASS"
