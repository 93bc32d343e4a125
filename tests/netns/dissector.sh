#!/usr/bin/env bash
# The Wireshark dissector (tools/wireshark/tcpcrypt.lua) on a real capture:
# two programs under tcpcrypt-run exchange different random messages through
# two tcpcryptd; tshark with the dissector and the daemon's key log must show
# option 69 decoded, Init1 and Init2, exactly the bytes each application sent
# (both directions), FINp at the end of each direction, good tags on every
# frame and the session ID both ends logged; without the key log, frames but
# no plaintext.
TEST_NAME=dissector
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
PORT=7011
LUA=$TC_SRCDIR/tools/wireshark/tcpcrypt.lua
PEER=$TC_SRCDIR/tests/netns/msg_peer.py

start_hosts
head -c 23456 /dev/urandom >"$WORK/client.msg"
head -c 17890 /dev/urandom >"$WORK/server.msg"

ip netns exec "$NSA" tcpdump -i vA$tag -s 0 -U --immediate-mode -B 16384 -w "$WORK/link.pcap" "tcp port $PORT" \
    >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done
grep -q listening "$WORK/tcpdump.log" || fail "tcpdump did not start"

run_tc A timeout 60 "$PY" "$PEER" server $PORT "$WORK/server.msg" "$WORK/server.got" >"$WORK/srv.log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening "$WORK/srv.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/srv.log" || fail "server did not listen"
run_tc B timeout 60 "$PY" "$PEER" client "$A_IP" $PORT "$WORK/client.msg" "$WORK/client.got" >"$WORK/cli.log" 2>&1 ||
    fail "client failed"
wait "$srv" || fail "server failed"
cmp -s "$WORK/client.msg" "$WORK/server.got" || fail "client->server bytes differ"
cmp -s "$WORK/server.msg" "$WORK/client.got" || fail "server->client bytes differ"
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
[ "$(count 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcpcrypt.eno.tep==0x23 && tcpcrypt.eno.form=="SYN form"')" = 1 ] ||
    fail "SYN: option 69 with TEP 0x23 not decoded"
[ "$(count 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcpcrypt.eno.b==1 && tcpcrypt.eno.tep==0x23 && tcpcrypt.negotiated_tep==0x23 && tcpcrypt.resumed==0')" = 1 ] ||
    fail "SYN-ACK: global suboption b = 1, TEP 0x23 and the negotiation not decoded"
[ "$(count 'tcpcrypt.init1 && tcpcrypt.magic==0x15101a0e && tcp.dstport=='$PORT)" = 1 ] || fail "Init1 not seen from the client"
[ "$(count 'tcpcrypt.init2 && tcpcrypt.magic==0x097105e0 && tcp.srcport=='$PORT)" = 1 ] || fail "Init2 not seen from the server"
n_a=$(ts -o "tcpcrypt.keylog_file:$WORK/keys" -Y tcpcrypt.init1 -T fields -e tcpcrypt.n_a | tr -d ':')
grep -q "^TCPCRYPT_ES $n_a " "$WORK/keys" || fail "Init1's N_A $n_a is not the one in the key log"
say "option 69 decoded in SYN and SYN-ACK, Init1 (N_A ${n_a:0:16}...) and Init2 seen"

# Decrypted data, per direction, in capture order; flags and tags of every frame.
ts -o "tcpcrypt.keylog_file:$WORK/keys" -Y tcpcrypt.frame -T fields -E occurrence=a -E aggregator='|' \
    -e tcp.srcport -e tcpcrypt.clen -e tcpcrypt.tag_ok -e tcpcrypt.flags.finp -e tcpcrypt.plaintext \
    -e tcpcrypt.session_id >"$WORK/frames.txt"
"$PY" - "$WORK" $PORT <<'PYEOF' || fail "decrypted data check failed"
import sys
work, port = sys.argv[1], sys.argv[2]
data = {"client": b"", "server": b""}
frames = {"client": [], "server": []}
sids = set()
for line in open(work + "/frames.txt"):
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
    sent = open("%s/%s.msg" % (work, side), "rb").read()
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
    print("dissector: %s: %d frames, all tags good, %d bytes decrypted equal to what the application sent, FINp last"
          % (side, len(frames[side]), len(data[side])))
if len(sids) != 1 or ("TCPCRYPT_SS %s " % sids.pop()) not in keys:
    sys.exit("session ID shown is not the one in the key log")
print("dissector: session ID equals the key log's")
PYEOF

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
