#!/usr/bin/env bash
# nginx (Debian's nginx-light, unmodified) under tcpcrypt-run: master process
# with 1 and 2 workers sharing the listener (fork after listen), and 2 workers
# with "listen ... reuseport" (a listening socket each, SO_REUSEPORT), epoll,
# sendfile, keep-alive.  Clients: curl and wrk under tcpcrypt-run (encrypted),
# kernel curl (fallback), and curl under tcpcrypt-run to a kernel nginx;
# `nginx -s reload` under load.
TEST_NAME=compat_nginx
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/nginx_lib.sh"
need nginx curl wrk timeout sha256sum

start_hosts

WWW=$WORK/www
mkdir -p "$WWW"
head -c 5000000 /dev/urandom >"$WWW/big"
echo "small file for tcpcrypt compat" >"$WWW/small"
sha() { sha256sum "$1" | cut -d' ' -f1; }
BIG_SHA=$(sha "$WWW/big")
SMALL_SHA=$(sha "$WWW/small")

# site NAME WORKERS ADDR PORT [LISTEN-FLAGS]: the static site with keep-alive
# and an access log naming the worker that served each request.
site() {
    nginx_conf "$1" "$2" "log_format byworker '\$pid \$status \$request';
    access_log $WORK/$1/logs/access.log byworker;
    tcp_nopush on;
    keepalive_timeout 30;
    keepalive_requests 100000;
    server { listen $3:$4 ${5:-}; root $WWW; }"
}

# check_curl SIDE|kernel NS URLHOST TAG: curl fetches both files over one
# keep-alive connection, then again with Connection: close; bytes checked.
check_curl() {
    local how=$1 host=$2 port=$3 tag=$4 out=$WORK/curl-$4
    local -a run
    if [ "$how" = kernel ]; then run=(inns "$NSB"); else run=(run_tc B); fi
    rm -f "$out".*
    "${run[@]}" timeout 30 curl -sS -w '%{num_connects}\n' -o "$out.big" "http://$host:$port/big" \
        -o "$out.small" "http://$host:$port/small" >"$out.nc" 2>"$out.err" ||
        fail "$tag: curl (keep-alive) failed: $(cat "$out.err")"
    [ "$(sha "$out.big")" = "$BIG_SHA" ] || fail "$tag: 5 MB file differs (keep-alive)"
    [ "$(sha "$out.small")" = "$SMALL_SHA" ] || fail "$tag: small file differs (keep-alive)"
    [ "$(tr '\n' ' ' <"$out.nc")" = "1 0 " ] || fail "$tag: keep-alive not reused (connects: $(tr '\n' ' ' <"$out.nc"))"
    rm -f "$out.big" "$out.small"
    "${run[@]}" timeout 30 curl -sS -H 'Connection: close' -o "$out.big" "http://$host:$port/big" \
        -o "$out.small" "http://$host:$port/small" 2>"$out.err" ||
        fail "$tag: curl (Connection: close) failed: $(cat "$out.err")"
    [ "$(sha "$out.big")" = "$BIG_SHA" ] || fail "$tag: 5 MB file differs (Connection: close)"
    [ "$(sha "$out.small")" = "$SMALL_SHA" ] || fail "$tag: small file differs (Connection: close)"
}

# run_wrk TAG URL [strict]: wrk under tcpcrypt-run, 3 s, 20 connections;
# prints requests/s.  strict: no socket errors at all.
run_wrk() {
    local tag=$1 url=$2 out=$WORK/wrk-$1.txt
    run_tc B timeout 30 wrk -t 2 -c 20 -d 3s "$url" >"$out" 2>&1 || fail "$tag: wrk failed: $(cat "$out")"
    grep -q "Non-2xx" "$out" && fail "$tag: wrk saw non-2xx responses: $(cat "$out")"
    if [ "${3:-}" = strict ]; then
        grep -q "Socket errors" "$out" && fail "$tag: wrk saw socket errors: $(cat "$out")"
    fi
    local n
    n=$(awk '/requests in/ {print $1}' "$out")
    [ -n "$n" ] && [ "$n" -gt 100 ] || fail "$tag: wrk made only '${n}' requests: $(cat "$out")"
    awk '/Requests\/sec/ {print $2}' "$out"
}

port=8080
for mode in 1 2 2r; do
    port=$((port + 1))
    workers=${mode%r}
    name=ngx$mode
    label="workers $workers"
    [ "$mode" = 2r ] && label="workers 2 (reuseport)"
    if [ "$mode" = 2r ]; then
        # "listen ... reuseport": one listening socket per worker, all on
        # the same port (SO_REUSEPORT); the daemon shares its listener.
        site $name $workers 0.0.0.0 $port reuseport
    else
        site $name $workers 0.0.0.0 $port
    fi
    run_tc A timeout 120 nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    wait_tcp "$NSA" 127.0.0.1 $port
    enc0=$(count_log B "established encrypted")

    check_curl tc "$A_IP" $port "w$workers curl"
    say "$label: curl under tcpcrypt-run: 5 MB + small file intact, keep-alive reused, Connection: close ok"

    rps=$(run_wrk "w$workers" "http://$A_IP:$port/small" strict)
    say "$label: wrk -c 20 3 s: $rps requests/s, no errors"
    enc1=$(count_log B "established encrypted")
    [ $((enc1 - enc0)) -ge 21 ] || fail "workers $workers: only $((enc1 - enc0)) encrypted connections in B's log"
    say "$label: $((enc1 - enc0)) connections established encrypted (daemon B log)"

    # Reload under load: the new workers inherit the same listener.
    run_tc B timeout 30 wrk -t 2 -c 20 -d 3s "http://$A_IP:$port/small" >"$WORK/wrk-reload$workers.txt" 2>&1 &
    wpid=$!
    sleep 1
    inns "$NSA" nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" -s reload 2>"$WORK/reload.err" ||
        fail "nginx -s reload: $(cat "$WORK/reload.err")"
    wait $wpid || fail "wrk during reload failed: $(cat "$WORK/wrk-reload$workers.txt")"
    grep -q "Non-2xx" "$WORK/wrk-reload$workers.txt" && fail "non-2xx during reload"
    sleep 0.5
    rps=$(run_wrk "w$workers-after-reload" "http://$A_IP:$port/small" strict)
    check_curl tc "$A_IP" $port "w$workers after reload"
    say "$label: nginx -s reload under load; after it: wrk $rps requests/s with no errors, curl intact ($(awk '/requests in/ {print $1}' "$WORK/wrk-reload$workers.txt") requests during the reload run)"

    # Fallback: the kernel's curl in namespace B.
    check_curl kernel "$A_IP" $port "w$workers kernel curl"
    pl0=$(count_log A "established plain")
    [ "$pl0" -ge 2 ] || fail "kernel curl: daemon A logged $pl0 plain connections"
    say "$label: kernel curl -> nginx under tcpcrypt-run: plain TCP, bytes intact"
    if [ "$mode" = 2r ]; then
        nw=$(awk '{print $1}' "$WORK/$name/logs/access.log" | sort -u | wc -l)
        [ "$nw" -ge 2 ] || fail "reuseport: only $nw worker served requests"
        say "reuseport: requests were served by $nw workers, each on its own listening socket"
    fi
    inns "$NSA" nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" -s quit 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$WORK/$name/nginx.pid" ] || break; sleep 0.1; done
done

# A kernel nginx (namespace A's kernel address): curl and wrk under tcpcrypt-run.
port=$((port + 1))
site ngxk 2 "$KA_IP" $port
inns "$NSA" timeout 120 nginx -p "$WORK/ngxk" -c "$WORK/ngxk/nginx.conf" >"$WORK/ngxk.log" 2>&1 &
PIDS+=($!)
wait_tcp "$NSA" "$KA_IP" $port
check_curl tc "$KA_IP" $port "kernel nginx"
rps=$(run_wrk kernel-nginx "http://$KA_IP:$port/small" strict)
say "curl, wrk under tcpcrypt-run -> kernel nginx: plain TCP, bytes intact, wrk $rps requests/s"
inns "$NSA" nginx -p "$WORK/ngxk" -c "$WORK/ngxk/nginx.conf" -s quit 2>/dev/null || true
say "PASS"
