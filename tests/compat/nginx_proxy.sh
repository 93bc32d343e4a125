#!/usr/bin/env bash
# nginx as a reverse proxy under tcpcrypt-run: its upstream sockets are
# added to epoll (edge-triggered, IN|OUT|RDHUP) before a non-blocking
# connect() (DESIGN.md: the fd number and epoll registrations must survive
# connect).  Kernel curl -> nginx B (tcpcrypt-run, proxy_pass, upstream
# keep-alive) -> nginx A (tcpcrypt-run): the upstream hop is encrypted.
# Also an upstream that refuses (502 quickly, not a hang) and a kernel
# upstream (fallback).
TEST_NAME=compat_nginx_proxy
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/nginx_lib.sh"
need nginx curl wrk timeout sha256sum

start_hosts

WWW=$WORK/www
mkdir -p "$WWW"
head -c 3000000 /dev/urandom >"$WWW/big"
head -c 100000 /dev/urandom >"$WWW/mid"
BIG_SHA=$(sha256sum "$WWW/big" | cut -d' ' -f1)

conf() { # conf NAME SERVER-BLOCK
    nginx_conf "$1" 2 "access_log off;
    upstream up_tc { server $A_IP:8201; keepalive 8; }
    upstream up_kernel { server $KA_IP:8202; keepalive 8; }
    upstream up_refused { server $A_IP:9; }
    $2"
}
conf origin "server { listen 0.0.0.0:8201; root $WWW; } server { listen $KA_IP:8202; root $WWW; }"
conf proxy "server { listen 0.0.0.0:8300;
        proxy_http_version 1.1; proxy_set_header Connection \"\";
        location /tc/ { proxy_pass http://up_tc/; }
        location /kernel/ { proxy_pass http://up_kernel/; }
        location /refused/ { proxy_pass http://up_refused/; proxy_connect_timeout 5s; } }"
# The origin's tcpcrypt listener (8201) and, in the same nginx, a kernel one
# (8202 on the kernel address: tcpcrypt-run passes it to the kernel).
run_tc A timeout 120 nginx -p "$WORK/origin" -c "$WORK/origin/nginx.conf" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)
run_tc B timeout 120 nginx -p "$WORK/proxy" -c "$WORK/proxy/nginx.conf" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" 127.0.0.1 8201
wait_tcp "$NSA" "$KA_IP" 8202
wait_tcp "$NSB" 127.0.0.1 8300

enc0=$(count_log B "established encrypted")
for path in tc kernel; do
    for i in 1 2 3; do
        inns "$NSB" timeout 30 curl -sS -o "$WORK/got" "http://127.0.0.1:8300/$path/big" 2>"$WORK/curl.err" ||
            fail "curl via the proxy to the $path upstream: $(cat "$WORK/curl.err")"
        [ "$(sha256sum <"$WORK/got" | cut -d' ' -f1)" = "$BIG_SHA" ] || fail "$path upstream: bytes differ"
    done
done
enc1=$(count_log B "established encrypted")
[ $((enc1 - enc0)) -ge 1 ] || fail "the proxy's upstream connection was not encrypted"
say "kernel curl -> nginx proxy (tcpcrypt-run) -> nginx origin: 3 MB intact 3 times each via the tcpcrypt upstream ($((enc1 - enc0)) encrypted connections) and via a kernel upstream"

inns "$NSB" timeout 30 wrk -t 2 -c 20 -d 3s --timeout 10s "http://127.0.0.1:8300/tc/mid" >"$WORK/wrk.txt" 2>&1 || fail "wrk: $(cat "$WORK/wrk.txt")"
grep -q "Non-2xx\|Socket errors" "$WORK/wrk.txt" && fail "wrk through the proxy: $(cat "$WORK/wrk.txt")"
say "wrk through the proxy (100 kB responses, 20 connections, 3 s): $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt") requests/s, no errors"

code=$(inns "$NSB" timeout 20 curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:8300/refused/x") || true
[ "${code%% *}" = 502 ] || fail "refused upstream: '$code' (want 502)"
grep -q "Connection refused" "$WORK/proxy/logs/error.log" || fail "the proxy did not log 'Connection refused'"
say "refused upstream: 502 after ${code#* } s, nginx logged 'Connection refused'"
for n in proxy origin; do inns "$NSA" nginx -p "$WORK/$n" -c "$WORK/$n/nginx.conf" -s quit 2>/dev/null || true; done
say "PASS"
