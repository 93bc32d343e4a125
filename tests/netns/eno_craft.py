#!/usr/bin/python3
"""Hand-crafted TCP-ENO handshakes against a tcpcryptd listener (RFC 8547 §4).

  eno_craft.py IFACE SRC DST PORT CASE

Runs one case from a kernel namespace (its RSTs for these ports must be
dropped by the caller's iptables rule) and prints one line, with the rule
it checks; exit 0 when the daemon behaved as RFC 8547 prescribes.

Cases whose SYN must make the daemon fall back: the SYN-ACK carries no ENO
option, and plaintext data then flows as plain TCP (echoed unchanged).  The
first ACK of the original four cases carries no ENO; the later ones send ENO
in it, so only the daemon's own reading of the SYN can have turned
encryption off (were it on, the plaintext would be taken for an Init1):
  malformed     length byte 0x9f then 0x20
  duplicate     two ENO options (0x23 and 0x24)
  vacuous       only a global suboption, no TEP
  no-ack-eno    a valid SYN (the SYN-ACK answers with b = 1), then an ACK
                without ENO: fallback (§4.6 rule 1)
  len-at-end    a length byte as the option's last byte
  len-beyond    a length byte announcing 6 bytes, 1 present
  len-then-00   a length byte followed by 0x00
  len-then-23   a length byte followed by 0x23 (a TEP with v = 0)
  len-then-9f   a length byte followed by 0x9f (glt < 0x20 with v = 1)
  duplicate-same two identical ENO options
  vacuous-empty an ENO option with no suboption at all
  b1-first      two global suboptions, the first with b = 1: only the
                first counts (§4.2), so both hosts claim role B (§4.6 rule 3)
Cases whose SYN is valid: the SYN-ACK carries ENO with b = 1 and TEP 0x23:
  len-valid     a length byte, a TEP with one byte of data, then 0x23
  b0-first      two global suboptions, the first with b = 0 (the second,
                b = 1, must be ignored)
"""
import random
import sys

from scapy.all import IP, TCP, Raw, conf, sr1, send, sniff  # noqa: E402

conf.verb = 0

# case: (ENO options in the SYN, daemon falls back?, ENO in our first ACK?, rule)
CASES = {
    "malformed": ([b"\x9f\x20"], True, False,
                  "§4.4: a length byte whose data runs past the option: ENO ignored"),
    "duplicate": ([b"\x23", b"\x24"], True, False,
                  "§4.1: a SYN with two ENO options is as one with none"),
    "vacuous": ([b"\x00"], True, False,
                "§4.6: a vacuous ENO option (no TEP) means no valid TEP: fallback"),
    "no-ack-eno": ([b"\x23"], False, False,
                   "§4.6 rule 1: the first ACK without ENO: fallback"),
    "len-at-end": ([b"\x23\x80"], True, True,
                   "§4.4 rule 1: a length byte at the end of the option: ENO ignored"),
    "len-beyond": ([b"\x85\xa3\x00"], True, True,
                   "§4.4 rule 1: a length byte (6 bytes) beyond the option's end: ENO ignored"),
    "len-then-00": ([b"\x80\x00\x23"], True, True,
                    "§4.4 rule 2: a length byte followed by 0x00: ENO ignored"),
    "len-then-23": ([b"\x80\x23\x00"], True, True,
                    "§4.4 rule 2: a length byte followed by 0x23 (v = 0): ENO ignored"),
    "len-then-9f": ([b"\x80\x9f\x00"], True, True,
                    "§4.4 rule 2: a length byte followed by 0x9f (glt < 0x20): ENO ignored"),
    "duplicate-same": ([b"\x23", b"\x23"], True, True,
                       "§4.1: two identical ENO options in a SYN count as none"),
    "vacuous-empty": ([b""], True, True,
                      "§4.6: an empty ENO option (implicit global 0x00, no TEP) is vacuous"),
    "b1-first": ([b"\x01\x00\x23"], True, True,
                 "§4.2: only the first global suboption counts (b = 1): same role as B, "
                 "§4.6 rule 3: fallback"),
    "len-valid": ([b"\x80\xa3\x00\x23"], False, True,
                  "§4.4: a well-formed length byte before a TEP with data: TEP 0x23 chosen"),
    "b0-first": ([b"\x00\x01\x23"], False, True,
                 "§4.2: the second global suboption (b = 1) is ignored: TEP 0x23 chosen"),
}


def eno_options(pkt):
    return [o for o in pkt[TCP].options if o[0] == 69 or o[0] == "69"]


def opts_with(*enos):
    return [("MSS", 1460), ("NOP", None), ("NOP", None)] + [(69, e) for e in enos]


def handshake(dst, port, sport, options):
    syn = IP(dst=dst) / TCP(sport=sport, dport=port, flags="S", seq=1000, options=options)
    return sr1(syn, timeout=3)


def finish_plain(iface, dst, port, sport, synack, payload, ack_eno):
    """First ACK (with or without ENO) carrying payload; what comes back."""
    seq, ack = 1001, synack[TCP].seq + 1
    opts = [(69, b"")] if ack_eno else []
    pkt = IP(dst=dst) / TCP(sport=sport, dport=port, flags="PA", seq=seq, ack=ack,
                            options=opts) / Raw(payload)
    got = sniff(iface=iface, timeout=4, count=1,
                lfilter=lambda p: TCP in p and p[TCP].sport == port and p[TCP].dport == sport
                and (Raw in p or p[TCP].flags & 0x04),
                started_callback=lambda: send(pkt))
    send(IP(dst=dst) / TCP(sport=sport, dport=port, flags="R", seq=seq + len(payload)))
    return got[0] if got else None


def main():
    iface, dst, port, case = sys.argv[1], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if case not in CASES:
        print("unknown case", case)
        return 2
    enos, fallback, ack_eno, rule = CASES[case]
    sport = random.randint(20000, 60000)
    sa = handshake(dst, port, sport, opts_with(*enos))
    if sa is None or TCP not in sa or sa[TCP].flags & 0x12 != 0x12:
        print(case, ": no SYN-ACK")
        return 1
    got = eno_options(sa)
    syn_ok = fallback and case != "no-ack-eno"
    if case == "no-ack-eno" or not fallback:
        body = bytes(got[0][1]) if got else b""
        # B's SYN-form option: a global suboption with b = 1, then TEP 0x23.
        if not body or body[0] >= 0x20 or not body[0] & 1 or body[-1:] != b"\x23":
            print(case, ": SYN-ACK lacks ENO with b = 1 and TEP 0x23:", sa[TCP].options)
            return 1
    elif got:
        print(case, ": SYN-ACK carries ENO after a SYN that must disable it:", got)
        return 1
    if not fallback:
        send(IP(dst=dst) / TCP(sport=sport, dport=port, flags="R", seq=1001))
        print("%s: ok (%s; SYN-ACK ENO %s)" % (case, rule, bytes(got[0][1]).hex()))
        return 0
    marker = b"plain-after-fallback-%d" % sport
    echo = finish_plain(iface, dst, port, sport, sa, marker, ack_eno)
    if echo is None or Raw not in echo or bytes(echo[Raw].load) != marker:
        print(case, ": no plaintext echo after fallback:", echo and echo.summary())
        return 1
    if eno_options(echo):
        print(case, ": ENO still sent after fallback")
        return 1
    what = ("SYN-ACK without ENO" if syn_ok else "SYN-ACK with ENO, first ACK without") + \
        (", ENO in our first ACK" if ack_eno else "")
    print("%s: ok (%s; %s, plaintext echoed)" % (case, rule, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
