#!/usr/bin/env bash
# Clients under tcpcrypt-run (unmodified Debian programs): curl to a refused
# port says "Connection refused" (exit 7), for a tcpcrypt host and for a
# kernel host; wget, socat and python3 (urllib) fetch from nginx under
# tcpcrypt-run (encrypted) and from a kernel nginx (fallback).
TEST_NAME=compat_clients
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/nginx_lib.sh"
need nginx curl wget socat timeout sha256sum

start_hosts

WWW=$WORK/www
mkdir -p "$WWW"
head -c 2000000 /dev/urandom >"$WWW/blob"
SHA=$(sha256sum "$WWW/blob" | cut -d' ' -f1)

# curl to a port nobody listens on: RST from lwIP (A_IP) or the kernel (KA_IP).
for host in "$A_IP" "$KA_IP"; do
    rc=0
    run_tc B timeout 20 curl -v -sS "http://$host:9/" >"$WORK/refused.out" 2>"$WORK/refused.err" || rc=$?
    [ $rc -eq 7 ] || fail "curl to a refused port of $host: exit $rc ($(cat "$WORK/refused.err"))"
    # curl 7.88 says why only with -v ("connect to H port 9 failed: Connection refused").
    grep -q "port 9 failed: Connection refused" "$WORK/refused.err" || fail "curl to $host: $(cat "$WORK/refused.err")"
    rc=0
    run_tc B timeout 20 "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], 9), 5)' "$host" \
        2>"$WORK/refused.py" || rc=$?
    grep -q ConnectionRefusedError "$WORK/refused.py" || fail "python3 to $host: $(tail -n1 "$WORK/refused.py")"
done
say "curl and python3 under tcpcrypt-run to a refused port (tcpcrypt host and kernel host): Connection refused, curl exit 7"

# nginx_at NAME ADDR PORT how(tc|kernel)
nginx_at() {
    local d=$WORK/$1
    nginx_conf "$1" 2 "access_log off;
    server { listen $2:$3; root $WWW; }"
    if [ "$4" = tc ]; then
        run_tc A timeout 120 nginx -p "$d" -c "$d/nginx.conf" >"$WORK/$1.log" 2>&1 &
    else
        inns "$NSA" timeout 120 nginx -p "$d" -c "$d/nginx.conf" >"$WORK/$1.log" 2>&1 &
    fi
    PIDS+=($!)
    wait_tcp "$NSA" "$2" "$3"
}

# fetch_all HOST PORT TAG: wget, socat, python3 under tcpcrypt-run.
fetch_all() {
    local host=$1 port=$2 tag=$3 got
    rm -f "$WORK/got.*"
    run_tc B timeout 30 wget -q -O "$WORK/got.wget" "http://$host:$port/blob" 2>"$WORK/wget.err" ||
        fail "$tag: wget failed: $(cat "$WORK/wget.err")"
    got=$(sha256sum <"$WORK/got.wget" | cut -d' ' -f1)
    [ "$got" = "$SHA" ] || fail "$tag: wget got different bytes"
    # shut-none: no half-close after the request (nginx, seeing the FIN
    # while it sends, would abort the response: with the kernel's TCP too).
    printf 'GET /blob HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" |
        run_tc B timeout 30 socat -t 10 - "TCP:$host:$port,shut-none" >"$WORK/got.socat" 2>"$WORK/socat.err" ||
        fail "$tag: socat failed: $(cat "$WORK/socat.err")"
    head -n1 "$WORK/got.socat" | grep -q "200 OK" || fail "$tag: socat: $(head -n1 "$WORK/got.socat")"
    got=$("$PY" -c 'import sys,hashlib; d=open(sys.argv[1],"rb").read(); print(hashlib.sha256(d.split(b"\r\n\r\n",1)[1]).hexdigest())' "$WORK/got.socat")
    [ "$got" = "$SHA" ] || fail "$tag: socat got different bytes"
    got=$(run_tc B timeout 30 "$PY" -c 'import sys,hashlib,urllib.request; print(hashlib.sha256(urllib.request.urlopen(sys.argv[1], timeout=20).read()).hexdigest())' "http://$host:$port/blob") ||
        fail "$tag: python3 urllib failed"
    [ "$got" = "$SHA" ] || fail "$tag: python3 urllib got different bytes"
}

nginx_at ngxt 0.0.0.0 8090 tc
enc0=$(count_log B "established encrypted")
fetch_all "$A_IP" 8090 "tcpcrypt nginx"
enc1=$(count_log B "established encrypted")
[ $((enc1 - enc0)) -ge 3 ] || fail "only $((enc1 - enc0)) encrypted connections in B's log"
say "wget, socat, python3 urllib under tcpcrypt-run -> nginx under tcpcrypt-run: 2 MB intact, $((enc1 - enc0)) connections encrypted"

nginx_at ngxk "$KA_IP" 8091 kernel
pl0=$(count_log B "established plain")
fetch_all "$KA_IP" 8091 "kernel nginx"
pl1=$(count_log B "established plain")
[ $((pl1 - pl0)) -ge 3 ] || fail "only $((pl1 - pl0)) plain connections in B's log"
say "wget, socat, python3 urllib under tcpcrypt-run -> kernel nginx: plain TCP, 2 MB intact"
say "PASS"
