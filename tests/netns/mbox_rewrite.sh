#!/usr/bin/env bash
# Middleboxes that rewrite TCP without touching the ENO option (tc-mbox
# between the hosts): each must leave the encrypted session intact, since
# tcpcrypt protects the byte stream, not TCP headers or segment boundaries
# (RFC 8548 §6, "Tcpcrypt coexists with middleboxes by tolerating resegmentation,
# NATs, and TCP-option processing", abstract and §1).
#   sequence numbers shifted by 2^31 - 1000 both ways (SACK edges too);
#   the byte stream cut into 300-byte segments;
#   MSS lowered to 536 in the SYNs and consecutive segments merged;
#   data acknowledged by the box before the far end has it (proxy ACKs).
TEST_NAME=mbox_rewrite
. "$(dirname "$0")/mbox_lib.sh"
BYTES=500000

mbox_hosts

mbox_run 7301 $BYTES --seq-offset 2147482648
n=$(counter seq_rewritten 500)
expect_encrypted "sequence numbers offset by 2147482648 ($n segments rewritten): RFC 8548 §6, the frames do not depend on TCP sequence numbers"

mbox_run 7302 $BYTES --split 300
i=$(counter split_in 100)
o=$(counter split_out 500)
expect_encrypted "resegmented, $i segments cut into $o of at most 300 bytes: RFC 8548 §4.1, frames are found in the byte stream, not in segments"

mbox_run 7303 $BYTES --mss 536 --coalesce
m=$(counter mss_rewritten 2)
c=$(counter coalesced 100)
expect_encrypted "MSS 536 in $m SYN/SYN-ACK, $c pairs of segments coalesced: RFC 8548 §4.1"

mbox_run 7304 $BYTES --proxy-ack
p=$(counter proxy_acks 100)
expect_encrypted "proxy-acknowledged ($p ACKs sent by the box ahead of the receiver): RFC 8548 §6, TCP's acknowledgments are not protected and need not be end to end"

daemons_alive 7309
say "PASS"
