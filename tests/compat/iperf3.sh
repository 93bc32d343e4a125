#!/usr/bin/env bash
# iperf3 (Debian's, unmodified): server and client under tcpcrypt-run
# (encrypted): normal, -R (server sends), -P 4 (five connections: control
# plus four streams), -Z (the client sends with sendfile); 3 s each, the
# throughput from --json.  Then a kernel client to the tcpcrypt server and
# a tcpcrypt client to a kernel server (fallback).
TEST_NAME=compat_iperf3
. "$(dirname "$0")/../netns/lib.sh"
need iperf3 timeout

start_hosts

gbps() { # gbps JSON: received bits/s of the end summary, in Gbit/s
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d: sys.exit("iperf3 error: " + d["error"])
e = d["end"]
bps = e["sum_received"]["bits_per_second"]
if not bps > 0: sys.exit("no throughput")
print("%.3f" % (bps / 1e9))' "$1"
}

PORT=5301
# run_iperf TAG SERVER(tc|kernel) CLIENT(tc|kernel) HOST [flags...]
run_iperf() {
    local tag=$1 srv=$2 cli=$3 host=$4 out
    shift 4
    out=$WORK/iperf-$tag
    PORT=$((PORT + 1))
    if [ "$srv" = tc ]; then
        run_tc A timeout 60 iperf3 -s -1 -p $PORT >"$out.srv" 2>&1 &
    else
        inns "$NSA" timeout 60 iperf3 -s -1 -p $PORT -B "$KA_IP" >"$out.srv" 2>&1 &
    fi
    local spid=$!
    PIDS+=($spid)
    wait_listening "$NSA" $PORT
    [ "$srv" = tc ] && sleep 0.3 # listen() is replaced just after the kernel's listen
    local -a run
    if [ "$cli" = tc ]; then run=(run_tc B); else run=(inns "$NSB"); fi
    "${run[@]}" timeout 40 iperf3 -c "$host" -p $PORT -t 3 --json "$@" >"$out.json" 2>"$out.err" ||
        fail "$tag: iperf3 client failed: $(head -c 400 "$out.json") $(cat "$out.err")"
    wait $spid || fail "$tag: iperf3 server failed: $(tail -n 5 "$out.srv")"
    gbps "$out.json" || fail "$tag: $(head -c 400 "$out.json")"
}

enc0=$(count_log B "established encrypted")
g=$(run_iperf tc tc tc "$A_IP"); say "tcpcrypt -> tcpcrypt: $g Gbit/s"
g=$(run_iperf tcR tc tc "$A_IP" -R); say "tcpcrypt -> tcpcrypt -R: $g Gbit/s"
g=$(run_iperf tcP tc tc "$A_IP" -P 4); say "tcpcrypt -> tcpcrypt -P 4: $g Gbit/s"
g=$(run_iperf tcZ tc tc "$A_IP" -Z); say "tcpcrypt -> tcpcrypt -Z (sendfile): $g Gbit/s"
enc1=$(count_log B "established encrypted")
[ $((enc1 - enc0)) -ge 11 ] || fail "only $((enc1 - enc0)) encrypted connections in B's log"
say "$((enc1 - enc0)) connections established encrypted (daemon B log)"
g=$(run_iperf k2tc tc kernel "$A_IP"); say "kernel client -> tcpcrypt server: $g Gbit/s"
g=$(run_iperf k2tcR tc kernel "$A_IP" -R); say "kernel client -> tcpcrypt server -R: $g Gbit/s"
g=$(run_iperf tc2k kernel tc "$KA_IP"); say "tcpcrypt client -> kernel server: $g Gbit/s"
g=$(run_iperf tc2kZ kernel tc "$KA_IP" -Z -P 2); say "tcpcrypt client -> kernel server -Z -P 2: $g Gbit/s"
say "PASS"
