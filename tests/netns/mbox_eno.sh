#!/usr/bin/env bash
# Middleboxes that strip or echo the ENO option (tests/mbox/tc-mbox between
# the hosts), one connection each, with the outcome RFC 8547 requires:
#   option stripped from the SYN, from the SYN-ACK, or echoed back in the
#   SYN-ACK -> plain TCP, every byte delivered;
#   stripped from every segment after the handshake -> encrypted, intact;
#   stripped from the third segment only -> the type-2 failure of §9: the
#   active opener enabled encryption and the passive one may not; the
#   connection fails at once, never a hang, never plaintext from the host
#   that enabled encryption, never plaintext delivered to its application.
TEST_NAME=mbox_eno
. "$(dirname "$0")/mbox_lib.sh"
BYTES=300000

mbox_hosts

# The client's SYN loses its option: the server sees a SYN without ENO and
# answers without (RFC 8547 §4.6 rule 1; §4.6: "a passive opener MUST NOT
# send a vacuous ENO option in a SYN-ACK segment unless there was an ENO
# option in the SYN"), so the client falls back too.
mbox_run 7201 $BYTES --strip-eno syn
n=$(counter eno_stripped 1)
expect_plain "ENO stripped from the SYN ($n segment): RFC 8547 §4.6 rule 1" \
    "peer sent no ENO option" "peer sent no ENO option"

# The SYN-ACK loses it (RFC 8547 §6, Figure 11): the client falls back (rule
# 1), its ACK carries no ENO, so the server falls back on the first ACK.
mbox_run 7202 $BYTES --strip-eno synack
n=$(counter eno_stripped 1)
expect_plain "ENO stripped from the SYN-ACK ($n segment): RFC 8547 §4.6 rule 1 at both ends (§6 Figure 11)" \
    "peer sent no ENO option" "peer sent no ENO option"

# A load balancer echoes the SYN's options in the SYN-ACK: the client sees
# its own b = 0 come back (RFC 8547 §4.3, §4.6 rule 3, §8.1): same role,
# fallback; its ACK has no ENO, so the server falls back on it.
mbox_run 7203 $BYTES --echo-syn-opts
n=$(counter echoed 1)
expect_plain "SYN's ENO option echoed in the SYN-ACK ($n segment): RFC 8547 §4.6 rule 3 and §8.1" \
    "peer sent no ENO option" "both hosts chose the same ENO role"

# Every non-SYN segment after the third loses its option: ENO is needed only
# up to the first ACK each way ("until ... the host receives a non-SYN
# segment", §4.6), so encryption is on at both ends and nothing changes.
mbox_run 7204 $BYTES --strip-eno after
n=$(counter eno_stripped 0)
expect_encrypted "ENO stripped after the handshake ($n segments carried one): RFC 8547 §4.6, encryption enabled once both ENO ACKs crossed"

# The third segment (the client's first ACK, which carries Init1) loses its
# option.  The server MUST fall back (§4.6 rule 1: the first ACK it received
# has no ENO); the client sent and received an ACK with ENO (the SYN-ACK and
# its own third segment), so it MUST enable encryption (§4.6) and MUST NOT
# present raw payload to its application.  RFC 8547 §9 names this the
# type-2 failure: the connection cannot work.  Required here: it ends at
# once with an error at the client, which never sends or accepts plaintext.
mbox_run 7205 $BYTES --strip-eno third
expect_type2 "ENO stripped from the third segment"

daemons_alive 7209
say "PASS"
