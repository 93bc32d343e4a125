#!/usr/bin/python3
"""Write damaged copies of a pcap file (Ethernet/IPv4/TCP) for robustness runs.

  mutate_pcap.py IN.pcap OUT_PREFIX COUNT

Copy k (1..COUNT, seeded with k) changes random bytes of the TCP header,
options and payload of a few random packets, or cuts a packet's captured length short,
so the dissector meets malformed ENO options, bad magics and lengths, wrong
tags and truncated segments.  Writes OUT_PREFIX<k>.pcap.
"""
import random
import struct
import sys


def packets(data):
    pos, out = 24, []
    while pos + 16 <= len(data):
        ts1, ts2, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
        out.append([ts1, ts2, bytearray(data[pos + 16:pos + 16 + incl]), orig])
        pos += 16 + incl
    return data[:24], out


def main():
    src, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    head, pkts = packets(open(src, "rb").read())
    for k in range(1, count + 1):
        rnd = random.Random(k)
        ps = [[a, b, bytearray(c), d] for a, b, c, d in pkts]
        for _ in range(rnd.randint(1, 4)):
            p = rnd.choice(ps)
            frame = p[2]
            # after Ethernet and IPv4; mostly after the fixed TCP header too
            start = 14 + 20 + (0 if rnd.random() < 0.3 else 20)
            if len(frame) <= start:
                continue
            if rnd.random() < 0.2:
                del frame[rnd.randint(start, len(frame) - 1):]  # a short capture
            else:
                for _ in range(rnd.randint(1, 3)):
                    i = rnd.randint(start, len(frame) - 1)
                    frame[i] = rnd.choice([0, 0xff, 0x45, 0x80, 0xa3, rnd.randint(0, 255)])
        with open("%s%d.pcap" % (prefix, k), "wb") as fh:
            fh.write(head)
            for a, b, c, d in ps:
                fh.write(struct.pack("<IIII", a, b, len(c), max(d, len(c))) + bytes(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
