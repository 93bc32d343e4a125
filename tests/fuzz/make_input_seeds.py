#!/usr/bin/python3
"""Write the seed inputs of fuzz_input (tests/fuzz/fuzz_input.c) into DIR.

  make_input_seeds.py DIR

Each seed is a short exchange as a peer at 10.0.0.1 / fd00::1 would send
it, in fuzz_input's record format ([ctl][length][frame]): an encrypted
passive open (SYN with TCP-ENO, the ACK with ENO, Init1, a frame, FIN), an
encrypted active open (SYN-ACK with ENO, Init2), a plain connection, an
IPv6 SYN and an ARP request.  The Init messages are those of the first
vector in tests/vectors/tcpcrypt-kat.txt (TEP P-256).  Checksums,
sequence and acknowledgment numbers are left to the target (ctl bits).
"""
import os
import struct
import sys

OUR_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
KAT = os.path.join(os.path.dirname(__file__), "..", "vectors", "tcpcrypt-kat.txt")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
FIX_SEQ, FIX_ACK, FIX_CSUM, APP_WRITE, APP_CLOSE = 0x08, 0x10, 0x20, 0x40, 0x80


def kat(name):
    for line in open(KAT):
        k, _, v = line.partition(" = ")
        if k.strip() == name:
            return bytes.fromhex(v.strip())
    raise KeyError(name)


def pad(opts):
    while len(opts) % 4:
        opts += b"\x01"
    return opts


def tcp(sport, dport, flags, opts=b"", payload=b"", seq=1000, ack=0):
    opts = pad(opts)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) // 4 << 4, flags,
                      65535, 0, 0)
    return hdr + opts + payload


def v4(seg, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0x4000, 64, 6, 0, src, dst)
    return OUR_MAC + PEER_MAC + b"\x08\x00" + ip + seg


def v6(seg):
    src = bytes.fromhex("fd000000000000000000000000000001")
    dst = bytes.fromhex("fd000000000000000000000000000002")
    ip = struct.pack("!IHBB16s16s", 0x60000000, len(seg), 6, 64, src, dst)
    return bytes([0x33, 0x33, 0, 0, 0, 2]) + PEER_MAC + b"\x86\xdd" + ip + seg


def arp_request():
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, b"\x0a\x00\x00\x01",
                       b"\x00" * 6, b"\x0a\x00\x00\x02")
    return b"\xff" * 6 + PEER_MAC + b"\x08\x06" + body


def record(ctl, frame):
    return bytes([ctl]) + struct.pack("!H", len(frame)) + frame


MSS = b"\x02\x04\x05\xb4"
ENO_SYN_A = b"\x45\x03\x21"          # A's SYN: TEP P-256
ENO_SYN_B = b"\x45\x04\x01\x21"      # B's SYN-ACK: b = 1, TEP P-256
ENO_ACK = b"\x45\x02"


def seeds():
    init1, init2 = kat("init1"), kat("init2")
    frame = bytes(range(48))  # a frame that will not open: wrong keys
    fixed = FIX_SEQ | FIX_ACK | FIX_CSUM
    yield "passive-encrypted", (
        record(FIX_CSUM, v4(tcp(4000, 80, SYN, MSS + ENO_SYN_A))) +
        record(fixed, v4(tcp(4000, 80, ACK, ENO_ACK))) +
        record(fixed | 1, v4(tcp(4000, 80, PSH | ACK, b"", init1))) +
        record(fixed | APP_WRITE | 2, v4(tcp(4000, 80, PSH | ACK, b"", frame))) +
        record(fixed | APP_CLOSE | 3, v4(tcp(4000, 80, FIN | ACK))))
    yield "active-encrypted", (
        record(FIX_ACK | FIX_CSUM | 1, v4(tcp(4000, 5000, SYN | ACK, MSS + ENO_SYN_B, seq=7000))) +
        record(fixed | 1, v4(tcp(4000, 5000, PSH | ACK, b"", init2))) +
        record(fixed | APP_WRITE, v4(tcp(4000, 5000, PSH | ACK, b"", frame))) +
        record(fixed | 4, v4(tcp(4000, 5000, FIN | ACK))))
    yield "passive-plain", (
        record(FIX_CSUM, v4(tcp(4001, 80, SYN, MSS))) +
        record(fixed, v4(tcp(4001, 80, ACK))) +
        record(fixed | APP_WRITE, v4(tcp(4001, 80, PSH | ACK, b"", b"hello\n"))) +
        record(fixed | APP_CLOSE | 3, v4(tcp(4001, 80, FIN | ACK))) +
        record(fixed | 5, v4(tcp(4001, 80, ACK))))
    yield "active-rst", (
        record(FIX_ACK | FIX_CSUM, v4(tcp(4000, 5000, RST | ACK))))
    yield "ipv6-syn", (
        record(FIX_CSUM, v6(tcp(4002, 80, SYN, MSS + ENO_SYN_A))) +
        record(fixed | 2, v6(tcp(4002, 80, ACK, ENO_ACK))))
    yield "arp", record(0, arp_request())


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        # A leading options byte: 0x01 app_aware on the listener.
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(b"\x00" + data)


if __name__ == "__main__":
    main(sys.argv)
