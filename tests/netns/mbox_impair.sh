#!/usr/bin/env bash
# Lossy paths (tc-mbox between the hosts, seeded so a failure can be
# replayed): TCP repairs drops, duplicates, reordering and delay underneath
# tcpcrypt, so the encrypted session stays intact, sha256 equal end to end
# (RFC 8548 §3.6: frames are decrypted from the reassembled stream).  A byte
# corrupted in flight with its TCP checksum fixed is caught by the AEAD:
# the connection aborts with an error distinct from end-of-file (RFC 8548
# §3.6: on FAIL "the implementation SHOULD abort the connection and raise
# an error condition distinct from the end-of-file condition"): never a
# corrupted byte delivered, never EOF.
TEST_NAME=mbox_impair
. "$(dirname "$0")/mbox_lib.sh"
BYTES=300000

mbox_hosts

mbox_run 7401 $BYTES --drop 2% --seed 11
n=$(counter dropped 1)
expect_encrypted "2% of segments dropped ($n): RFC 8548 §3.6"

mbox_run 7402 $BYTES --dup 3% --seed 12
n=$(counter duplicated 1)
expect_encrypted "3% of segments duplicated ($n): RFC 8548 §3.6"

mbox_run 7403 $BYTES --reorder 3% --seed 13
n=$(counter reordered 1)
expect_encrypted "3% of segments reordered ($n): RFC 8548 §3.6"

mbox_run 7404 $BYTES --delay-ms 20
n=$(counter delayed 100)
expect_encrypted "every frame delayed 20 ms ($n): RFC 8548 §3.6"

mbox_run 7405 $BYTES --drop 1% --dup 1% --reorder 2% --delay-ms 5 --seed 15
d=$(counter dropped 0) u=$(counter duplicated 0) r=$(counter reordered 0)
expect_encrypted "1% dropped, 1% duplicated, 2% reordered, 5 ms delay ($d, $u, $r): RFC 8548 §3.6"

# One bit of a payload byte flipped in 1% of the segments, TCP checksum
# fixed.  Whichever segment is hit (Init1, Init2 or a frame), no application
# reads a byte the other did not send, none sees a clean EOF, at least one
# sees EBADMSG, and the daemon that detected it logs why.
mbox_run 7406 $BYTES --corrupt 1% --seed 16 --verbose
n=$(counter corrupted 1)
[ "$SRV_RC" -ne 0 ] || [ "$CLI_RC" -ne 0 ] || fail "corruption: both programs ended cleanly"
for f in "$SRV" "$CLI"; do
    [ "$(jv "$f" prefix_ok)" != False ] || fail "corruption: $(basename "$f") received altered bytes"
    r=$(jv "$f" received)
    [ "$r" = None ] || [ "$r" -lt $BYTES ] || [ "$(jv "$f" read_error)" != None ] ||
        fail "corruption: $(basename "$f") read everything and a clean EOF"
done
errs="server $(jv "$SRV" read_error)/$(jv "$SRV" connect_error), client $(jv "$CLI" read_error)/$(jv "$CLI" connect_error)"
case $errs in *EBADMSG*) ;; *) fail "corruption: no EBADMSG ($errs)" ;; esac
# The daemon that found the bad frame says so (the other may see the RST).
why=$(grep -h -- "10\.78\.0\.1:$PORT .*\(aborted\|failed\)" "$WORK/daemonA.log" "$WORK/daemonB.log" |
    grep -v "reset by peer" | head -n1)
[ -n "$why" ] || fail "corruption: no daemon logged why it aborted: $(grep -h -- ":$PORT " "$WORK"/daemon?.log)"
say "$(grep -m1 corrupted "$WORK/mbox.log")"
say "$n segments corrupted, checksum fixed: RFC 8548 §3.6 integrity abort: $errs, bytes read: server $(jv "$SRV" received), client $(jv "$CLI" received), all a prefix of what was sent; daemon: ${why#*$PORT }; ${RUN_S}s"

# One connection corrupted while another runs beside it through the same
# relay and daemons: only the corrupted one ends; the other is intact.
BYSTANDER=7411 BYSTANDER_BYTES=2000000
mbox_run 7410 $BYTES --port 7410 --corrupt 2% --seed 17
n=$(counter corrupted 1)
errs="server $(jv "$SRV" read_error)/$(jv "$SRV" connect_error), client $(jv "$CLI" read_error)/$(jv "$CLI" connect_error)"
case $errs in *EBADMSG*) ;; *) fail "corruption beside a clean connection: no EBADMSG ($errs)" ;; esac
[ "$BY_SRV_RC" -eq 0 ] && [ "$BY_CLI_RC" -eq 0 ] || fail "the connection beside it failed: server $BY_SRV_RC, client $BY_CLI_RC"
bs=$WORK/7411.srv.json bc=$WORK/7411.cli.json
for f in "$bs" "$bc"; do
    [ "$(jv "$f" received)" = $BYSTANDER_BYTES ] && [ "$(jv "$f" prefix_ok)" = True ] ||
        fail "the connection beside it: $(cat "$f")"
done
[ "$(jv "$bs" received_sha256)" = "$(jv "$bc" sent_sha256)" ] && [ "$(jv "$bc" received_sha256)" = "$(jv "$bs" sent_sha256)" ] ||
    fail "the connection beside it: sha256 differs"
[ "$(jv "$bs" sessid)" = "$(jv "$bc" sessid)" ] && [ "$(jv "$bs" sessid | cut -c1-2)" = 23 ] ||
    fail "the connection beside it was not encrypted: $(jv "$bs" sessid)"
unset BYSTANDER
say "$n segments of one connection corrupted ($errs) while another beside it moved $BYSTANDER_BYTES bytes each way encrypted and intact"

daemons_alive 7409
say "PASS"
