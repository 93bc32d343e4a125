#!/usr/bin/env bash
# The main demo: two hosts in network namespaces, each with a tcpcryptd on a
# tap device.  An unmodified web server (python3 -m http.server) and an
# unmodified client (curl) run under tcpcrypt-run and talk encrypted; the
# same server still serves a plain kernel client.  Needs root and a built
# tree (scripts/setup.sh builds it and then runs this).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export TC_BUILDDIR=${TC_BUILDDIR:-$top/build} TC_SRCDIR=$top
TEST_NAME=demo
# shellcheck source=../tests/netns/lib.sh
. "$top/tests/netns/lib.sh"
need curl tcpdump
show() { printf '\n\033[1m%s\033[0m\n' "$*"; }

show "1. Two hosts: namespaces $NSA and $NSB, tcpcryptd at $A_IP and $B_IP on taps, bridged by a veth pair"
start_hosts
echo "   tcpcryptd A: $(head -n1 "$WORK/daemonA.log")"
echo "   tcpcryptd B: $(head -n1 "$WORK/daemonB.log")"

show "2. Host A: tcpcrypt-run -- python3 -m http.server 8080"
mkdir -p "$WORK/www"
echo "hello from host A, over tcpcrypt" >"$WORK/www/hello.txt"
(cd "$WORK/www" && run_tc A "$PY" -m http.server 8080 --bind 0.0.0.0 >"$WORK/http.log" 2>&1) &
PIDS+=($!)
for _ in $(seq 100); do inns "$NSA" "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' 2>/dev/null && break; sleep 0.1; done

ip netns exec "$NSA" tcpdump -i vA$tag -s 0 -w "$WORK/link.pcap" -U "tcp port 8080" >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done

show "3. Host B: tcpcrypt-run -- curl http://$A_IP:8080/hello.txt"
run_tc B curl -sS "http://$A_IP:8080/hello.txt"
sleep 0.3
echo "   session as each daemon logged it:"
grep -h "established encrypted" "$WORK/daemonB.log" | tail -n1 | sed 's/^/   B: /'
grep -h "established encrypted" "$WORK/daemonA.log" | tail -n1 | sed 's/^/   A: /'

show "4. The same server, from host B's kernel without tcpcrypt: plain TCP"
inns "$NSB" curl -sS "http://$A_IP:8080/hello.txt"
sleep 0.3
grep -h "established plain" "$WORK/daemonA.log" | tail -n1 | sed 's/^/   A: /'

show "5. On the wire (tcpdump on the link)"
sleep 0.3
kill -TERM "${PIDS[-1]}" 2>/dev/null || true
sleep 0.3
n=$(grep -a -c "hello from host A" "$WORK/link.pcap" || true)
echo "   option 69 (TCP-ENO) in $(tcpdump -r "$WORK/link.pcap" -nn -v 2>/dev/null | grep -c 'unknown-69\|opt-69\|69:' || true) segments;" \
    "the response text appears $n time(s): once, from the plain connection"
show "Done: same session ID at both ends of the encrypted connection, plain TCP with the kernel client."
