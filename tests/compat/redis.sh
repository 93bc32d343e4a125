#!/usr/bin/env bash
# redis-server (Debian's, unmodified) under tcpcrypt-run: redis-benchmark and
# redis-cli under tcpcrypt-run (encrypted), a 1 MB value, BGSAVE (fork of a
# process holding tcpcrypt connections) under load, the data intact after;
# kernel clients against it (fallback) and tcpcrypt clients against a
# kernel redis.
TEST_NAME=compat_redis
. "$(dirname "$0")/../netns/lib.sh"
need redis-server redis-cli redis-benchmark timeout sha256sum

start_hosts

# bench SIDE|kernel HOST PORT TAG: redis-benchmark set,get, no errors; prints its summary.
bench() {
    local -a run
    if [ "$1" = kernel ]; then run=(inns "$NSB"); else run=(run_tc B); fi
    "${run[@]}" timeout 60 redis-benchmark -h "$2" -p "$3" -q -n 20000 -c 20 -t set,get >"$WORK/bench-$4.txt" 2>&1 ||
        fail "$4: redis-benchmark failed: $(cat "$WORK/bench-$4.txt")"
    tr '\r' '\n' <"$WORK/bench-$4.txt" | grep -E '^(SET|GET): .*requests per second' >"$WORK/bench-$4.sum" || true
    [ "$(wc -l <"$WORK/bench-$4.sum")" -eq 2 ] || fail "$4: no SET/GET results: $(cat "$WORK/bench-$4.txt")"
    grep -qiE 'error|refused|reset' "$WORK/bench-$4.txt" && fail "$4: errors: $(cat "$WORK/bench-$4.txt")"
    tr '\n' ' ' <"$WORK/bench-$4.sum" | sed 's/ requests per second[^ ]*//g; s/p50=[^ ]* msec//g'
}

# bigval SIDE|kernel HOST PORT TAG: SET then GET of a 1 MB value, compared.
bigval() {
    local -a run
    if [ "$1" = kernel ]; then run=(inns "$NSB"); else run=(run_tc B); fi
    head -c 750000 /dev/urandom | base64 -w0 | head -c 1000000 >"$WORK/val-$4"
    "${run[@]}" timeout 30 redis-cli -h "$2" -p "$3" -x SET "big:$4" <"$WORK/val-$4" >"$WORK/set-$4.txt" 2>&1 ||
        fail "$4: redis-cli SET failed: $(cat "$WORK/set-$4.txt")"
    [ "$(cat "$WORK/set-$4.txt")" = OK ] || fail "$4: SET answered $(head -c 200 "$WORK/set-$4.txt")"
    "${run[@]}" timeout 30 redis-cli -h "$2" -p "$3" --no-raw GET "big:$4" >/dev/null 2>&1 || fail "$4: GET failed"
    "${run[@]}" timeout 30 redis-cli -h "$2" -p "$3" --raw GET "big:$4" >"$WORK/get-$4" 2>"$WORK/get-$4.err" ||
        fail "$4: redis-cli GET failed: $(cat "$WORK/get-$4.err")"
    # --raw appends a newline.
    head -c 1000000 "$WORK/get-$4" | cmp -s - "$WORK/val-$4" || fail "$4: the 1 MB value came back different"
    [ "$(stat -c %s "$WORK/get-$4")" -eq 1000001 ] || fail "$4: GET returned $(stat -c %s "$WORK/get-$4") bytes"
}

PORT=6390
mkdir -p "$WORK/rdata"
run_tc A timeout 300 redis-server --port $PORT --bind 0.0.0.0 --protected-mode no --save '' \
    --dir "$WORK/rdata" --dbfilename dump.rdb --logfile "$WORK/redis.log" &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 $PORT
enc0=$(count_log B "established encrypted")

r=$(bench tc "$A_IP" $PORT tc)
say "redis-benchmark under tcpcrypt-run -> redis under tcpcrypt-run: $r, no errors"
enc1=$(count_log B "established encrypted")
[ $((enc1 - enc0)) -ge 20 ] || fail "only $((enc1 - enc0)) encrypted connections in B's log"
say "$((enc1 - enc0)) connections established encrypted (daemon B log)"

bigval tc "$A_IP" $PORT tc
say "redis-cli under tcpcrypt-run: SET/GET of a 1 MB value intact"

# BGSAVE while redis-benchmark loads the server: the child forks with the
# daemon's socketpairs open; the server keeps serving, the dump is complete.
run_tc B timeout 60 redis-benchmark -h "$A_IP" -p $PORT -q -n 200000 -c 20 -t set -r 100000 >"$WORK/bench-load.txt" 2>&1 &
lpid=$!
sleep 0.7
run_tc B timeout 10 redis-cli -h "$A_IP" -p $PORT BGSAVE >"$WORK/bgsave.txt" 2>&1 || fail "BGSAVE: $(cat "$WORK/bgsave.txt")"
grep -q "Background saving started" "$WORK/bgsave.txt" || fail "BGSAVE answered: $(cat "$WORK/bgsave.txt")"
wait $lpid || fail "redis-benchmark during BGSAVE failed: $(cat "$WORK/bench-load.txt")"
grep -qiE 'error|refused|reset' "$WORK/bench-load.txt" && fail "errors during BGSAVE: $(cat "$WORK/bench-load.txt")"
for _ in $(seq 100); do
    inns "$NSA" redis-cli -p $PORT INFO persistence 2>/dev/null | grep -q '^rdb_bgsave_in_progress:0' && break
    sleep 0.1
done
info=$(inns "$NSA" redis-cli -p $PORT INFO persistence | tr -d '\r')
grep -q '^rdb_last_bgsave_status:ok' <<<"$info" || fail "BGSAVE did not succeed"
[ -s "$WORK/rdata/dump.rdb" ] || fail "no dump.rdb"
bigval tc "$A_IP" $PORT tc2
n=$(run_tc B timeout 10 redis-cli -h "$A_IP" -p $PORT DBSIZE)
[ "$n" -gt 1000 ] || fail "DBSIZE $n after the load"
say "BGSAVE under load: saved ($(stat -c %s "$WORK/rdata/dump.rdb") bytes), load ran without errors, $n keys, 1 MB value still intact"

# A second server loads that dump: the data really is in it.
run_tc A timeout 60 redis-server --port $((PORT + 1)) --bind 0.0.0.0 --protected-mode no --save '' \
    --dir "$WORK/rdata" --dbfilename dump.rdb --logfile "$WORK/redis2.log" &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 $((PORT + 1))
run_tc B timeout 30 redis-cli -h "$A_IP" -p $((PORT + 1)) --raw GET big:tc >"$WORK/get-dump" 2>&1 || fail "GET from the dump"
head -c 1000000 "$WORK/get-dump" | cmp -s - "$WORK/val-tc" || fail "the dump lost the 1 MB value"
say "a server started from the dump returns the 1 MB value intact"

# Fallback: kernel clients -> redis under tcpcrypt-run.
r=$(bench kernel "$A_IP" $PORT kernel)
bigval kernel "$A_IP" $PORT kernel
say "kernel redis-benchmark/redis-cli -> redis under tcpcrypt-run: $r, 1 MB value intact"

# Clients under tcpcrypt-run -> a kernel redis.
inns "$NSA" timeout 120 redis-server --port $((PORT + 2)) --bind "$KA_IP" --protected-mode no --save '' \
    --logfile "$WORK/redisk.log" &
PIDS+=($!)
wait_tcp "$NSA" "$KA_IP" $((PORT + 2))
r=$(bench tc "$KA_IP" $((PORT + 2)) tc2k)
bigval tc "$KA_IP" $((PORT + 2)) tc2k
say "redis-benchmark/redis-cli under tcpcrypt-run -> kernel redis: $r, 1 MB value intact"
say "PASS"
