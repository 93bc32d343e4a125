#!/usr/bin/env bash
# Session resumption (RFC 8548 §3.5) between two tcpcryptd, with unmodified
# programs under tcpcrypt-run: a client reconnects N times to a server; the
# first connection is a fresh key exchange, every later one is resumed
# (session ID starting with 0xa3, the daemons' logs say "resumed", the SYN
# and SYN-ACK carry resumption suboptions, neither stream starts with Init1
# or Init2, and the key logs' TCPCRYPT_SS secret gives the identifier halves
# seen on the wire).  Then the roles swap (the former server connects to the
# former client and resumes), and after one daemon restarts (its cache gone)
# the next connection falls back to a fresh exchange and the ones after it
# resume again; restarted with --resume-cache 0 it never agrees to resume.
# Every byte arrives intact throughout.
TEST_NAME=e2e_resume
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
N=${TC_RESUME_N:-20}
BYTES=100000
P1=7101 P2=7102 P3=7103 P4=7104
RECONNECT=$TC_SRCDIR/tests/netns/reconnect.py
MAC_A=02:00:5e:00:0a:01
MAC_B=02:00:5e:00:0b:01

setup_hosts
start_daemon A --mac $MAC_A
start_daemon B --mac $MAC_B
DA=${PIDS[-2]}
wait_reach "$NSB" "$A_IP"
wait_reach "$NSA" "$B_IP"
SID=$(sessid_opt)
[ -n "$SID" ] || fail "TCP_CRYPT_SESSID not found in include/tcpcrypt/tcpcrypt.h"

ip netns exec "$NSA" tcpdump -i vA$tag -s 200 -w "$WORK/link.pcap" -U \
    "tcp port $P1 or tcp port $P2 or tcp port $P3 or tcp port $P4" >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
TCPDUMP=$!
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done

# session SRV_SIDE CLI_SIDE SRV_IP PORT COUNT NAME: COUNT connections, each
# BYTES both ways; checks every one and writes the session IDs, one a line,
# to $WORK/NAME.sids.
session() {
    local srv=$1 cli=$2 ip=$3 port=$4 n=$5 name=$6
    run_tc "$srv" timeout 300 "$PY" "$RECONNECT" server "$port" "$n" $BYTES --sessid-opt "$SID" \
        >"$WORK/$name.srv" 2>"$WORK/$name-srv.log" &
    local pid=$!
    for _ in $(seq 100); do grep -q listening "$WORK/$name.srv" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$WORK/$name.srv" || fail "$name: server did not listen"
    run_tc "$cli" timeout 300 "$PY" "$RECONNECT" client "$ip" "$port" "$n" $BYTES --sessid-opt "$SID" \
        >"$WORK/$name.cli" 2>"$WORK/$name-cli.log" || fail "$name: client failed: $(tail -n2 "$WORK/$name.cli")"
    wait "$pid" || fail "$name: server failed: $(tail -n2 "$WORK/$name.srv")"
    "$PY" - "$WORK/$name.srv" "$WORK/$name.cli" "$n" $BYTES >"$WORK/$name.sids" <<'PYEOF' || fail "$name: $(cat "$WORK/$name.sids")"
import json, sys
srv = [json.loads(l) for l in open(sys.argv[1]) if "sent_sha256" in l]
cli = [json.loads(l) for l in open(sys.argv[2]) if "sent_sha256" in l]
n, nbytes = int(sys.argv[3]), int(sys.argv[4])
if len(srv) != n or len(cli) != n:
    sys.exit("%d/%d connections reported, want %d" % (len(srv), len(cli), n))
for k, (s, c) in enumerate(zip(srv, cli)):
    for who, r, peer in (("server", s, c), ("client", c, s)):
        if r["received"] != nbytes or not r["prefix_ok"] or r["read_error"] is not None:
            sys.exit("connection %d: %s received %s bytes, error %s" % (k, who, r["received"], r["read_error"]))
        if r["received_sha256"] != peer["sent_sha256"]:
            sys.exit("connection %d: %s's sha256 differs" % (k, who))
    if s["sessid"] != c["sessid"] or len(s["sessid"]) != 66:
        sys.exit("connection %d: session IDs %s / %s" % (k, s["sessid"], c["sessid"]))
    print(s["sessid"])
PYEOF
    say "$name: $n connections, $BYTES bytes each way, sha256 intact, same session ID at both ends"
}

# first_bytes NAME: the first byte of each session ID, space-separated.
first_bytes() { cut -c1-2 "$WORK/$1.sids" | tr '\n' ' ' | sed 's/ $//'; }
expect_first() {
    local got
    got=$(first_bytes "$1")
    [ "$got" = "$2" ] || fail "$1: session IDs start with [$got], want [$2]"
}
repeat() { local out="" k; for ((k = 0; k < $2; k++)); do out+="$1 "; done; echo "${out% }"; }

# 1. B's client reconnects to A's server: fresh, then resumed every time.
session A B "$A_IP" $P1 "$N" reconnect
expect_first reconnect "23 $(repeat a3 $((N - 1)))"
[ "$(sort -u "$WORK/reconnect.sids" | wc -l)" -eq "$N" ] || fail "reconnect: repeated session IDs"
for side in A B; do
    got=$(count_log $side "established encrypted (TEP 0xa3, [A-Z0-9_]*, resumed)")
    [ "$got" -eq $((N - 1)) ] || fail "daemon $side logged $got resumed connections, want $((N - 1))"
done
say "reconnect: first fresh (0x23), then $((N - 1)) resumed (0xa3), all session IDs distinct; both daemons log them resumed"

# 2. Role swap: A's client connects to B's server and resumes at once.
session B A "$B_IP" $P2 3 swap
expect_first swap "a3 a3 a3"
say "role swap: the former server connects to the former client and resumes"

# 3. A's daemon restarts (its cache is gone): fresh again, then resumed.
kill -TERM "$DA"
wait "$DA" 2>/dev/null || true
cp "$WORK/daemonA.log" "$WORK/daemonA-1.log"
rm -f "$WORK/A.sock"
start_daemon A --mac $MAC_A
wait_reach "$NSB" "$A_IP"
session A B "$A_IP" $P3 5 restart
expect_first restart "23 a3 a3 a3 a3"
say "after A's restart: a fresh exchange first, then resumed again"

# 4. A's daemon with --resume-cache 0: B still offers, A never agrees.
DA=${PIDS[-1]}
kill -TERM "$DA"
wait "$DA" 2>/dev/null || true
rm -f "$WORK/A.sock"
start_daemon A --mac $MAC_A --resume-cache 0
wait_reach "$NSB" "$A_IP"
session A B "$A_IP" $P4 3 cache0
expect_first cache0 "23 23 23"
say "A with --resume-cache 0: every connection a fresh exchange"

# Let tcpdump write out the last connections before it stops.
want=$(((N + 11) * 2))
for _ in $(seq 50); do
    [ "$(tshark -r "$WORK/link.pcap" -Y 'tcp.flags.fin == 1' 2>/dev/null | wc -l)" -ge "$want" ] && break
    sleep 0.2
done
kill -TERM "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null || true

# The wire and the key logs.
"$PY" "$TC_SRCDIR/tests/netns/resume_pcap.py" "$WORK/link.pcap" $P1 "$WORK/A.keys" "$WORK/B.keys" >"$WORK/p1.json"
"$PY" "$TC_SRCDIR/tests/netns/resume_pcap.py" "$WORK/link.pcap" $P2 "$WORK/A.keys" "$WORK/B.keys" >"$WORK/p2.json"
"$PY" "$TC_SRCDIR/tests/netns/resume_pcap.py" "$WORK/link.pcap" $P3 "$WORK/A.keys" "$WORK/B.keys" >"$WORK/p3.json"
"$PY" "$TC_SRCDIR/tests/netns/resume_pcap.py" "$WORK/link.pcap" $P4 "$WORK/A.keys" "$WORK/B.keys" >"$WORK/p4.json"
"$PY" - "$WORK" <<'PYEOF' || fail "capture: $(tail -n3 "$WORK/capture.log" 2>/dev/null)"
import json, sys
w = sys.argv[1]
log = open(w + "/capture.log", "w")
def check(name, pfile, sids, fresh):
    rows = [json.loads(l) for l in open(pfile)]
    sids = [l.strip() for l in open(sids)]
    if len(rows) != len(sids):
        log.write("%s: %d connections in the capture, %d made\n" % (name, len(rows), len(sids)))
        sys.exit(1)
    for k, (r, sid) in enumerate(zip(rows, sids)):
        ok = r["streams_seen"] == 2
        if k in fresh:
            # An Init1 and an Init2; no resumption agreed in the SYN-ACK.
            ok = ok and r["init_seen"] and not r["synack_resume"]
        else:
            ok = ok and r["syn_resume"] and r["synack_resume"] and not r["init_seen"] \
                and r["keylog_sid"] == sid
        if not ok:
            log.write("%s connection %d: %s (session %s)\n" % (name, k, json.dumps(r), sid))
            sys.exit(1)
    log.write("%s: %s\n" % (name, json.dumps(rows[-1])))
    return rows
r1 = check("reconnect", w + "/p1.json", w + "/reconnect.sids", {0})
check("swap", w + "/p2.json", w + "/swap.sids", set())
r3 = check("restart", w + "/p3.json", w + "/restart.sids", {0})
r4 = check("cache0", w + "/p4.json", w + "/cache0.sids", {0, 1, 2})
if not all(r["syn_resume"] for r in r4):
    log.write("cache0: B stopped offering resumption\n"); sys.exit(1)
if r1[0]["syn_resume"]:
    log.write("reconnect: the very first SYN offered resumption\n"); sys.exit(1)
if not r3[0]["syn_resume"]:
    log.write("restart: B's first SYN did not offer its (now unknown) secret\n"); sys.exit(1)
print("SYN %s / SYN-ACK %s, nonces %s and %s bytes" % (r1[1]["syn_eno"], r1[1]["synack_eno"],
      r1[1]["syn_nonce"], r1[1]["synack_nonce"]))
PYEOF
say "capture: option 69 with resumption suboptions in SYN and SYN-ACK of every resumed connection, no Init1/Init2 on them; fresh ones have both"
say "key logs: each resumed session's TCPCRYPT_SS secret yields the identifier halves on the wire"
tail -n1 "$WORK/capture.log" | sed "s/^/$TEST_NAME: /"
say "PASS"
