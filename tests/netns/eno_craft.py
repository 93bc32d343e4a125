#!/usr/bin/python3
"""Hand-crafted TCP-ENO handshakes against a tcpcryptd listener (RFC 8547 §4).

  eno_craft.py IFACE SRC DST PORT CASE

Runs one case from a kernel namespace (its RSTs for these ports must be
dropped by the caller's iptables rule) and prints one line; exit 0 when the
daemon behaved as RFC 8547 prescribes:
  malformed  SYN whose ENO option is ill-formed (length byte 0x9f then 0x20):
             the SYN-ACK carries no ENO, and data then flows as plain TCP
  duplicate  SYN with two ENO options: the SYN-ACK carries no ENO
  no-ack-eno SYN with a valid ENO option (SYN-ACK answers with b = 1), then
             an ACK without ENO and plaintext data: the connection falls
             back and the server's echo returns that plaintext unchanged
  vacuous    SYN with ENO offering no TEP: no ENO in the SYN-ACK
"""
import random
import sys

from scapy.all import IP, TCP, Raw, conf, sr1, send, sniff  # noqa: E402

conf.verb = 0


def eno_options(pkt):
    return [o for o in pkt[TCP].options if o[0] == 69 or o[0] == "69"]


def opts_with(*enos):
    return [("MSS", 1460), ("NOP", None), ("NOP", None)] + [(69, e) for e in enos]


def handshake(dst, port, sport, options):
    syn = IP(dst=dst) / TCP(sport=sport, dport=port, flags="S", seq=1000, options=options)
    return sr1(syn, timeout=3)


def finish_plain(iface, dst, port, sport, synack, payload):
    """ACK without ENO carrying payload; return what the echo server sends back."""
    seq, ack = 1001, synack[TCP].seq + 1
    pkt = IP(dst=dst) / TCP(sport=sport, dport=port, flags="PA", seq=seq, ack=ack) / Raw(payload)
    got = sniff(iface=iface, timeout=4, count=1,
                lfilter=lambda p: TCP in p and p[TCP].sport == port and p[TCP].dport == sport
                and Raw in p,
                started_callback=lambda: send(pkt))
    send(IP(dst=dst) / TCP(sport=sport, dport=port, flags="R", seq=seq + len(payload)))
    return got[0] if got else None


def main():
    iface, dst, port, case = sys.argv[1], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    sport = random.randint(20000, 60000)
    if case == "malformed":
        sa = handshake(dst, port, sport, opts_with(b"\x9f\x20"))
    elif case == "duplicate":
        sa = handshake(dst, port, sport, opts_with(b"\x23", b"\x24"))
    elif case == "vacuous":
        sa = handshake(dst, port, sport, opts_with(b"\x00"))
    elif case == "no-ack-eno":
        sa = handshake(dst, port, sport, opts_with(b"\x23"))
    else:
        print("unknown case", case)
        return 2
    if sa is None or TCP not in sa or sa[TCP].flags & 0x12 != 0x12:
        print(case, ": no SYN-ACK")
        return 1
    enos = eno_options(sa)
    if case == "no-ack-eno":
        if not enos or bytes(enos[0][1])[:1] != b"\x01":
            print(case, ": SYN-ACK lacks ENO with b = 1:", sa[TCP].options)
            return 1
    elif enos:
        print(case, ": SYN-ACK carries ENO after a bad SYN:", enos)
        return 1
    marker = b"plain-after-fallback-%d" % sport
    echo = finish_plain(iface, dst, port, sport, sa, marker)
    if echo is None or bytes(echo[Raw].load) != marker:
        print(case, ": no plaintext echo after fallback:", echo and bytes(echo[Raw].load))
        return 1
    if eno_options(echo):
        print(case, ": ENO still sent after fallback")
        return 1
    print(case, ": ok (SYN-ACK options %s, plaintext echoed)" % (sa[TCP].options,))
    return 0


if __name__ == "__main__":
    sys.exit(main())
