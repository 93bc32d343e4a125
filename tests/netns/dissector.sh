#!/usr/bin/env bash
# The Wireshark dissector (tools/wireshark/tcpcrypt.lua) on a real capture:
# two programs under tcpcrypt-run exchange different random messages through
# two tcpcryptd; tshark with the dissector and the daemon's key log must show
# option 69 decoded, Init1 and Init2, exactly the bytes each application sent
# (both directions), FINp at the end of each direction, good tags on every
# frame and the session ID both ends logged; without the key log, frames but
# no plaintext.  A second connection between the same hosts is resumed (RFC
# 8548 §3.5): the dissector finds its keys from the TCPCRYPT_SS line alone.
TEST_NAME=dissector
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
PORT=7011
LUA=$TC_SRCDIR/tools/wireshark/tcpcrypt.lua
PEER=$TC_SRCDIR/tests/netns/msg_peer.py

start_hosts
PORT2=$((PORT + 1))
head -c 23456 /dev/urandom >"$WORK/client.msg"
head -c 17890 /dev/urandom >"$WORK/server.msg"
head -c 12345 /dev/urandom >"$WORK/client2.msg"
head -c 9876 /dev/urandom >"$WORK/server2.msg"

ip netns exec "$NSA" tcpdump -i vA$tag -s 0 -U --immediate-mode -B 16384 -w "$WORK/link.pcap" "tcp port $PORT or tcp port $PORT2" \
    >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done
grep -q listening "$WORK/tcpdump.log" || fail "tcpdump did not start"

exchange() { # exchange PORT SUFFIX: one connection, messages $WORK/{client,server}SUFFIX.msg
    run_tc A timeout 60 "$PY" "$PEER" server "$1" "$WORK/server$2.msg" "$WORK/server$2.got" >"$WORK/srv$2.log" 2>&1 &
    srv=$!
    for _ in $(seq 100); do grep -q listening "$WORK/srv$2.log" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$WORK/srv$2.log" || fail "server did not listen"
    run_tc B timeout 60 "$PY" "$PEER" client "$A_IP" "$1" "$WORK/client$2.msg" "$WORK/client$2.got" >"$WORK/cli$2.log" 2>&1 ||
        fail "client failed"
    wait "$srv" || fail "server failed"
    cmp -s "$WORK/client$2.msg" "$WORK/server$2.got" || fail "client->server bytes differ"
    cmp -s "$WORK/server$2.msg" "$WORK/client$2.got" || fail "server->client bytes differ"
}
exchange $PORT ""
exchange $PORT2 2
grep -q "established encrypted (TEP 0xa3, .*resumed" "$WORK/daemonB.log" ||
    fail "the second connection was not resumed: $(tail -n 2 "$WORK/daemonB.log")"
# let tcpdump see the last ACKs, then stop it (it flushes on exit)
sleep 1
kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
grep -q '^0 packets dropped by kernel' "$WORK/tcpdump.log" ||
    fail "the capture is incomplete: $(grep 'dropped by kernel' "$WORK/tcpdump.log")"
say "exchanged $(stat -c %s "$WORK/client.msg") + $(stat -c %s "$WORK/server.msg") bytes, $(tshark -r "$WORK/link.pcap" 2>/dev/null | wc -l) packets captured"

cat "$WORK/A.keys" "$WORK/B.keys" >"$WORK/keys"
ts() { timeout 300 tshark -r "$WORK/link.pcap" -X "lua_script:$LUA" "$@" 2>"$WORK/tshark.log"; }
count() { ts -o "tcpcrypt.keylog_file:$WORK/keys" -Y "$1" | wc -l; }

for kl in "$WORK/keys" ""; do
    ts -o "tcpcrypt.keylog_file:$kl" -V >"$WORK/tree.txt" || fail "tshark failed (key log '$kl')"
    [ "$(grep -c 'tcpcrypt (RFC 8548)' "$WORK/tree.txt")" -gt 0 ] || fail "no tcpcrypt tree (key log '$kl')"
    ! grep -q 'Lua Error' "$WORK/tree.txt" || fail "Lua error (key log '$kl'): $(grep -m1 'Lua Error' "$WORK/tree.txt")"
done
# TCP-ENO: the SYN offers X25519, the SYN-ACK has b = 1 and picks it, the third segment acknowledges
[ "$(count 'tcp.port=='$PORT' && tcp.flags.syn==1 && tcp.flags.ack==0 && tcpcrypt.eno.tep==0x23 && tcpcrypt.eno.form=="SYN form"')" = 1 ] ||
    fail "SYN: option 69 with TEP 0x23 not decoded"
[ "$(count 'tcp.port=='$PORT' && tcp.flags.syn==1 && tcp.flags.ack==1 && tcpcrypt.eno.b==1 && tcpcrypt.eno.tep==0x23 && tcpcrypt.negotiated_tep==0x23 && tcpcrypt.resumed==0')" = 1 ] ||
    fail "SYN-ACK: global suboption b = 1, TEP 0x23 and the negotiation not decoded"
[ "$(count 'tcpcrypt.init1 && tcpcrypt.magic==0x15101a0e && tcp.dstport=='$PORT)" = 1 ] || fail "Init1 not seen from the client"
[ "$(count 'tcpcrypt.init2 && tcpcrypt.magic==0x097105e0 && tcp.srcport=='$PORT)" = 1 ] || fail "Init2 not seen from the server"
n_a=$(ts -o "tcpcrypt.keylog_file:$WORK/keys" -Y "tcpcrypt.init1 && tcp.port==$PORT" -T fields -e tcpcrypt.n_a | tr -d ':')
grep -q "^TCPCRYPT_ES $n_a " "$WORK/keys" || fail "Init1's N_A $n_a is not the one in the key log"
say "option 69 decoded in SYN and SYN-ACK, Init1 (N_A ${n_a:0:16}...) and Init2 seen"

# Decrypted data, per direction, in capture order; flags and tags of every frame.
check_frames() { # check_frames PORT SUFFIX
ts -o "tcpcrypt.keylog_file:$WORK/keys" -Y "tcpcrypt.frame && tcp.port==$1" -T fields -E occurrence=a -E aggregator='|' \
    -e tcp.srcport -e tcpcrypt.clen -e tcpcrypt.tag_ok -e tcpcrypt.flags.finp -e tcpcrypt.plaintext \
    -e tcpcrypt.session_id >"$WORK/frames$2.txt"
"$PY" - "$WORK" "$1" "$2" <<'PYEOF' || fail "decrypted data check failed (port $1)"
import sys
work, port, sfx = sys.argv[1], sys.argv[2], sys.argv[3]
data = {"client": b"", "server": b""}
frames = {"client": [], "server": []}
sids = set()
for line in open(work + "/frames%s.txt" % sfx):
    sport, clens, tags, finps, pts, sid = line.rstrip("\n").split("\t")
    side = "server" if sport == port else "client"
    clens, tags, finps = clens.split("|"), tags.split("|"), finps.split("|")
    if not (len(clens) == len(tags) == len(finps)):
        sys.exit("frames without a tag check: clen %s tag %s" % (clens, tags))
    frames[side] += list(zip(tags, finps))
    for h in filter(None, pts.split("|")):
        data[side] += bytes.fromhex(h.replace(":", ""))
    sids.update(s for s in sid.split("|") if s)
keys = open(work + "/keys").read()
for side in ("client", "server"):
    sent = open("%s/%s%s.msg" % (work, side, sfx), "rb").read()
    if data[side] != sent:
        sys.exit("%s: decrypted %d bytes, the application sent %d; equal prefix %d" % (
            side, len(data[side]), len(sent),
            next((i for i, (a, b) in enumerate(zip(data[side], sent)) if a != b), min(len(data[side]), len(sent)))))
    bad = [t for t, _ in frames[side] if t not in ("1", "True")]
    if bad:
        sys.exit("%s: %d of %d frames fail the tag check" % (side, len(bad), len(frames[side])))
    fins = [i for i, (_, f) in enumerate(frames[side]) if f in ("1", "True")]
    if fins != [len(frames[side]) - 1]:
        sys.exit("%s: FINp frames at %s of %d frames, expected only the last" % (side, fins, len(frames[side])))
    print("dissector: port %s %s: %d frames, all tags good, %d bytes decrypted equal to what the application sent, FINp last"
          % (port, side, len(frames[side]), len(data[side])))
sid = sids.pop() if len(sids) == 1 else None
if sid is None or ("TCPCRYPT_SS %s " % sid.replace(":", "")) not in keys:
    sys.exit("session ID shown (%s) is not the one in the key log" % sids)
print("dissector: port %s: session ID %s... equals the key log's" % (port, sid.replace(":", "")[:16]))
PYEOF
}
check_frames $PORT ""
# The resumed connection: its SYN carries the resumption suboption (v = 1),
# no Init messages, and its session ID begins with TEP|0x80.
[ "$(count "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.port==$PORT2 && tcpcrypt.resumed==1")" -ge 1 ] ||
    [ "$(count "tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.port==$PORT2 && tcpcrypt.resumed==1")" = 1 ] ||
    fail "resumed connection: resumption not decoded in SYN or SYN-ACK"
[ "$(count "tcpcrypt.init1 && tcp.port==$PORT2")" = 0 ] || fail "resumed connection: Init1 seen"
out=$(check_frames $PORT2 2)
echo "$out"
grep -q "dissector: port $PORT2: session ID a3" <<<"$out" || fail "resumed session ID does not begin with a3"

# Without the key log (and with another session's key log): frames, no plaintext.
frames_nokey=$(ts -Y tcpcrypt.frame | wc -l)
plain_nokey=$(ts -Y tcpcrypt.plaintext | wc -l)
[ "$frames_nokey" -gt 0 ] && [ "$plain_nokey" = 0 ] ||
    fail "without key log: $frames_nokey frame packets, $plain_nokey with plaintext"
grep -q "not decrypted\|Not decrypted" <(ts -V -Y tcpcrypt.frame) || fail "without key log: no 'Not decrypted' note"
printf 'TCPCRYPT_ES %s %s\n' "$n_a" "$(printf '%064d' 7)" >"$WORK/wrong.keys"
bad_tags=$(ts -o "tcpcrypt.keylog_file:$WORK/wrong.keys" -Y 'tcpcrypt.tag_ok==0' | wc -l)
good_tags=$(ts -o "tcpcrypt.keylog_file:$WORK/wrong.keys" -Y 'tcpcrypt.tag_ok==1' | wc -l)
bad_plain=$(ts -o "tcpcrypt.keylog_file:$WORK/wrong.keys" -Y 'tcpcrypt.plaintext' | wc -l)
[ "$bad_tags" -gt 0 ] && [ "$good_tags" = 0 ] && [ "$bad_plain" = 0 ] ||
    fail "wrong ES: $bad_tags packets with failed tags, $good_tags good, $bad_plain with plaintext"
say "without the key log: $frames_nokey packets with frames, none with plaintext; a wrong ES fails every tag and shows no plaintext"
say "PASS"
