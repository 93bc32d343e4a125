#!/usr/bin/python3
"""A two-port Ethernet relay that corrupts one byte of one TCP segment.

  relay.py IF1 IF2 [--corrupt-after N --min-payload M]

Forwards every frame between IF1 and IF2 (raw AF_PACKET sockets).  With
--corrupt-after, the N-th TCP segment going from IF2 to IF1 whose payload
is at least M bytes gets one payload byte flipped in its middle, and its
TCP checksum recomputed so that TCP accepts it and only tcpcrypt can
notice.  Prints one line when it corrupts.  Runs until killed.
"""
import select
import socket
import struct
import sys

ETH_P_ALL = 3


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def corrupt(frame):
    """Flip a payload byte of an IPv4/TCP frame and fix the TCP checksum."""
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    tcp = 14 + ihl
    doff = (frame[tcp + 12] >> 4) * 4
    payload = total - ihl - doff
    return tcp, doff, payload


def main(argv):
    if1, if2 = argv[1], argv[2]
    after = int(argv[argv.index("--corrupt-after") + 1]) if "--corrupt-after" in argv else 0
    min_payload = int(argv[argv.index("--min-payload") + 1]) if "--min-payload" in argv else 100
    socks = {}
    for name in (if1, if2):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    other = {if1: socks[if2], if2: socks[if1]}
    seen = 0
    done = after == 0
    while True:
        ready, _, _ = select.select(list(socks.values()), [], [])
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            name = addr[0]
            if not done and name == if2:
                info = corrupt(frame)
                if info and info[2] >= min_payload:
                    seen += 1
                    if seen == after:
                        tcp, doff, payload = info
                        f = bytearray(frame)
                        pos = tcp + doff + payload // 2
                        f[pos] ^= 0x20
                        ip = 14
                        ihl = (f[ip] & 0x0F) * 4
                        seg = bytes(f[tcp:ip + struct.unpack("!H", f[ip + 2:ip + 4])[0]])
                        seg = seg[:16] + b"\0\0" + seg[18:]
                        pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(seg))
                        struct.pack_into("!H", f, tcp + 16, csum(pseudo + seg))
                        frame = bytes(f)
                        done = True
                        print("relay: flipped a bit at payload byte %d of a %d-byte segment"
                              % (payload // 2, payload), flush=True)
            other[name].send(frame)


if __name__ == "__main__":
    main(sys.argv)
