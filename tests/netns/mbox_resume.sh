#!/usr/bin/env bash
# Middleboxes and session resumption (RFC 8548 §3.5): the daemons keep their
# resumption caches (on by default), so after one fresh session each later
# connection offers resumption in its SYN and, when both ends agree, sends
# frames at once without Init1/Init2.  Through tc-mbox:
#   the third segment stripped on a resumed connection -> the type-2
#   failure of RFC 8547 §9 (see mbox_lib.sh's expect_type2), and the next
#   clean connection still resumes;
#   sequence offset, lowered MSS, coalesced and split segments -> resumed,
#   intact;
#   the resumption offer stripped from the SYN, or echoed in the SYN-ACK ->
#   plain TCP, intact (RFC 8547 §4.6 rules 1 and 3);
#   a corrupted byte on a resumed session -> EBADMSG, never corrupted bytes.
TEST_NAME=mbox_resume
. "$(dirname "$0")/mbox_lib.sh"
BYTES=200000

setup_hosts_mbox
start_daemon A
DAEMON_A=${PIDS[-1]}
start_daemon B
DAEMON_B=${PIDS[-1]}
wait_reach "$NSB" "$A_IP"
wait_reach "$NSA" "$B_IP"
stop_mbox
SID=$(sessid_opt)

mbox_run 7501 $BYTES
expect_encrypted "first connection, clean relay (fresh key exchange)"
daemon_line A "established encrypted" | grep -q ", resumed)" && fail "the first connection resumed"

mbox_run 7502 $BYTES --strip-eno third
expect_type2 "ENO stripped from the third segment of a resumed connection"
daemon_line B "established encrypted" | grep -q ", resumed)" ||
    fail "the client did not resume: $(daemon_line B established)"

mbox_run 7503 $BYTES
expect_resumed "next connection, clean relay"

mbox_run 7504 $BYTES --seq-offset 3000000000 --mss 700 --coalesce --split 400
s=$(counter seq_rewritten 100) c=$(counter coalesced 1) o=$(counter split_out 1)
expect_resumed "sequence offset 3000000000 ($s), MSS 700, $c segments coalesced, $o pieces after split 400: RFC 8548 §3.5, §3.6"

mbox_run 7505 $BYTES --strip-eno syn
counter eno_stripped 1 >/dev/null
expect_plain "resumption offer stripped from the SYN: RFC 8547 §4.6 rule 1" \
    "peer sent no ENO option" "peer sent no ENO option"

mbox_run 7506 $BYTES --echo-syn-opts
counter echoed 1 >/dev/null
expect_plain "SYN's ENO option (with its resumption suboption) echoed in the SYN-ACK: RFC 8547 §4.6 rule 3" \
    "peer sent no ENO option" "both hosts chose the same ENO role"

mbox_run 7507 $BYTES
expect_encrypted "clean relay again"

mbox_run 7508 $BYTES --corrupt 2% --seed 21
n=$(counter corrupted 1)
for f in "$SRV" "$CLI"; do
    [ "$(jv "$f" prefix_ok)" != False ] || fail "corruption: $(basename "$f") received altered bytes"
done
errs="server $(jv "$SRV" read_error)/$(jv "$SRV" connect_error), client $(jv "$CLI" read_error)/$(jv "$CLI" connect_error)"
case $errs in *EBADMSG*) ;; *) fail "corruption: no EBADMSG ($errs)" ;; esac
say "$n segments corrupted on an encrypted connection: RFC 8548 §3.6 abort: $errs; bytes read: server $(jv "$SRV" received), client $(jv "$CLI" received), all a prefix of what was sent"

daemons_alive 7509
say "PASS"
