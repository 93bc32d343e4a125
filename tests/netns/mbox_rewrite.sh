#!/usr/bin/env bash
# Middleboxes that rewrite TCP without touching the ENO option (tc-mbox
# between the hosts): each must leave the encrypted session intact, since
# tcpcrypt protects the byte stream, not TCP headers or segment boundaries
# (RFC 8548's abstract: "Tcpcrypt coexists with middleboxes by tolerating
# resegmentation, NATs, and other manipulations of the TCP header"; §8:
# "tcpcrypt does not protect TCP headers").
#   sequence numbers shifted by 2^31 - 1000 both ways (SACK edges too);
#   the byte stream cut into 300-byte segments;
#   MSS lowered to 536 in the SYNs and consecutive segments merged;
#   data acknowledged by the box before the far end has it (proxy ACKs).
TEST_NAME=mbox_rewrite
. "$(dirname "$0")/mbox_lib.sh"
BYTES=500000

# The tool's own errors: one line, status 1, for each bad argument.
for bad in "--drop 2" "--drop x" "--corrupt 150%" "--strip-eno ack" "--mss 10" "--split 0" \
    "--seq-offset -1" "--proxy-ack --drop 1%" "--frobnicate" "--seed"; do
    rc=0
    # shellcheck disable=SC2086
    "$TC_MBOX" lo lo $bad >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
    [ $rc -eq 1 ] && [ "$(wc -l <"$WORK/bad.err")" -eq 1 ] && [ ! -s "$WORK/bad.out" ] ||
        fail "tc-mbox $bad: status $rc, $(cat "$WORK/bad.err" "$WORK/bad.out")"
done
rc=0
"$TC_MBOX" lo no-such-if0 2>"$WORK/bad.err" || rc=$?
[ $rc -eq 1 ] && grep -q "no interface no-such-if0" "$WORK/bad.err" || fail "tc-mbox with a missing interface: $rc"
say "tc-mbox: 11 bad invocations, each one error line and status 1 ($(head -c 60 "$WORK/bad.err")...)"

mbox_hosts

mbox_run 7301 $BYTES --seq-offset 2147482648
n=$(counter seq_rewritten 500)
expect_encrypted "sequence numbers offset by 2147482648 ($n segments rewritten): RFC 8548 §4.2.3, frame IDs are stream offsets, not sequence numbers"

mbox_run 7302 $BYTES --split 300
i=$(counter split_in 100)
o=$(counter split_out 500)
expect_encrypted "resegmented, $i segments cut into $o of at most 300 bytes: RFC 8548 §3.6, frames are read from the byte stream, not from segments"

mbox_run 7303 $BYTES --mss 536 --coalesce
m=$(counter mss_rewritten 2)
c=$(counter coalesced 100)
expect_encrypted "MSS 536 in $m SYN/SYN-ACK, $c pairs of segments coalesced: RFC 8548 §3.6"

mbox_run 7304 $BYTES --proxy-ack
p=$(counter proxy_acks 100)
expect_encrypted "proxy-acknowledged ($p ACKs sent by the box ahead of the receiver): RFC 8548 §8, TCP headers (acknowledgments included) are not protected"

daemons_alive 7309
say "PASS"
