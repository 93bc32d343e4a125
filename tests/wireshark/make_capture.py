#!/usr/bin/python3
"""Write a synthetic capture of two tcpcrypt connections built from the KAT file.

  make_capture.py KAT_FILE OUT_DIR

Writes OUT_DIR/synthetic.pcap, OUT_DIR/keys (a tcpcryptd-style key log) and
OUT_DIR/expected.json (what a correct dissector must show).

Connection 1 is the KAT fresh case x25519-chacha20poly1305: its SYN options,
Init1, Init2 and the KAT's rekey frames (generations 0, 1, 2 each way), then
an URGp frame and a FINp frame sealed here with Python's cryptography.  The
server's frames cross the wire out of order and one segment is retransmitted.
Key log: its TCPCRYPT_ES line.

Connection 2 resumes (RFC 8548 §3.5) with ss[2] of the KAT fresh case
x25519-aes256gcm (KAT record resume-x25519-aes256gcm-ss2-n8-8-activeB: the
active opener was host B originally, so it sends with k_ba).  Its AEAD is not
in the capture.  Key log: the original session's TCPCRYPT_SS line only.

Connection 3 resumes connection 1 with its ss[1]: no key-log line names it,
the dissector must carry the secret over from connection 1.
"""
import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

AEADS = {1: (16, AESGCM), 2: (32, AESGCM), 0x10: (32, ChaCha20Poly1305)}


def load(path):
    recs, cur = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            cur = None
            continue
        if line.startswith("#"):
            continue
        k, _, v = line.partition(" =")
        v = v.strip()
        if cur is None:
            cur = {}
        cur[k] = v if k in ("kind", "name") else bytes.fromhex(v)
        if k == "name":
            recs[v] = cur
    return recs


def seal(aead, key, offset, control, flags, urgent, data):
    """RFC 8548 §4.2: control | clen | AEAD(K, frameID xor NR, flags [| urgent] | data, control | clen)."""
    klen, cls = AEADS[aead]
    k, nr = key[:klen], key[klen:]
    nonce = bytes(a ^ b for a, b in zip(b"\0\0\0\0" + offset.to_bytes(8, "big"), nr))
    pt = bytes([flags]) + (urgent.to_bytes(2, "big") if flags & 2 else b"") + data
    ad = bytes([control]) + (len(pt) + 16).to_bytes(2, "big")
    return ad + cls(k).encrypt(nonce, pt, ad)


def cprf(prk, info, length):
    """RFC 8548 §3.1: CPRF = HKDF-Expand-SHA256 (RFC 5869 §2.3)."""
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([n]), hashlib.sha256).digest()
        out, n = out + t, n + 1
    return out[:length]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Pcap:
    def __init__(self):
        self.out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
        self.t = 0

    def tcp(self, src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b""):
        opts = b"\x01" * (-len(opts) % 4) + opts  # NOPs in front keep the ENO option intact
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32,
                          (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0) + opts
        pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
        c = csum(pseudo + hdr + payload)
        hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(hdr) + len(payload), 1, 0, 64, 6, 0,
                         bytes(src), bytes(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        frame = eth + ip + hdr + payload
        self.t += 1000
        self.out.append(struct.pack("<IIII", self.t // 1000000, self.t % 1000000, len(frame), len(frame)) + frame)

    def data(self):
        return b"".join(self.out)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
CLI, SRV = (10, 9, 0, 1), (10, 9, 0, 2)


class Conn:
    """One TCP connection: sends segments with the right sequence numbers."""

    def __init__(self, pcap, cport, sport, syn_opt, synack_opt):
        self.p, self.cport, self.sport = pcap, cport, sport
        self.seq = {"c": 1000, "s": 7000}
        self.p.tcp(CLI, SRV, cport, sport, self.seq["c"], 0, SYN, syn_opt)
        self.p.tcp(SRV, CLI, sport, cport, self.seq["s"], self.seq["c"] + 1, SYN | ACK, synack_opt)
        self.seq["c"] += 1
        self.seq["s"] += 1

    def send(self, side, payload, flags=ACK | PSH, opt=b"", at=None):
        """Send payload from side "c" or "s"; `at` is a stream offset for out-of-order sends."""
        src, dst, sp, dp, other = (CLI, SRV, self.cport, self.sport, "s") if side == "c" else \
            (SRV, CLI, self.sport, self.cport, "c")
        seq = self.seq[side] if at is None else self.base(side) + at
        self.p.tcp(src, dst, sp, dp, seq, self.seq[other], flags, opt, payload)
        if at is None:
            self.seq[side] += len(payload) + (1 if flags & FIN else 0)

    def base(self, side):
        return 1001 if side == "c" else 7001


def main():
    kat, out = load(sys.argv[1]), sys.argv[2]
    pcap, keys, expected = Pcap(), [], {"streams": []}

    # ---- connection 1: fresh, X25519, ChaCha20-Poly1305, rekeying both ways
    f = kat["x25519-chacha20poly1305"]
    t = f["transcript"]
    c = Conn(pcap, 40001, 7011, t[:t[1]], t[t[1]:])
    c.send("c", b"", ACK, b"\x45\x02")                   # third segment: non-SYN ENO
    c.send("c", f["init1"], ACK | PSH, b"\x45\x02")
    c.send("s", f["init2"])
    keys.append("TCPCRYPT_ES %s %s" % (f["n_a"].hex(), f["es"].hex()))
    exp = {"resumed": False, "sid": f["sid"].hex(), "c": [], "s": []}
    for side, d, init in (("s", "kba", "init2"), ("c", "kab", "init1")):
        stream = b""
        for j in range(3):
            r = kat["frame-rekey-x25519-chacha20poly1305-%s%d" % (d, j)]
            stream += r["frame"]
            exp[side].append({"gen": j, "data": r["data"].hex(), "finp": False, "urgent": None})
        off = len(f[init]) + len(stream)
        key = f["%s2" % d]
        if side == "c":  # an URGp frame, then the FINp frame, under generation 2
            urg = seal(0x10, key, off, 0, 2, 0x0102, b"urgent bytes")
            stream += urg
            exp[side].append({"gen": 2, "data": b"urgent bytes".hex(), "finp": False, "urgent": 0x0102})
            off += len(urg)
        stream += seal(0x10, key, off, 0, 1, 0, b"")
        exp[side].append({"gen": 2, "data": "", "finp": True, "urgent": None})
        first = len(f[init])
        if side == "s":
            # out of order: the second part first, then the first part, then the first again
            cut = 30
            c.send("s", stream[cut:], ACK | PSH, at=first + cut)
            c.send("s", stream[:cut], ACK, at=first)
            c.send("s", stream[:cut], ACK, at=first)
            c.seq["s"] += len(stream)
        else:
            for k in range(0, len(stream), 50):  # frames cut across segments
                c.send("c", stream[k:k + 50])
    c.send("c", b"", ACK | FIN)
    c.send("s", b"", ACK | FIN)
    expected["streams"].append(exp)

    # ---- connection 2: resumed with ss[2] of x25519-aes256gcm; the active opener was B
    r = kat["resume-x25519-aes256gcm-ss2-n8-8-activeB"]
    orig = kat["x25519-aes256gcm"]
    sa, sp = r["subopt_active"], r["subopt_passive"]
    c = Conn(pcap, 40002, 7012, bytes([0x45, 2 + len(sa)]) + sa, bytes([0x45, 3 + len(sp), 0x01]) + sp)
    keys.append("TCPCRYPT_SS %s %s" % (orig["sid"].hex(), orig["ss0"].hex()))
    exp = {"resumed": True, "sid": r["sid"].hex(), "c": [], "s": []}
    aead = int.from_bytes(r["aead"], "big")
    # RFC 8548 §3.5: each host keeps its original direction; the active opener was B: k_ba
    for side, key, msgs in (("c", r["kba0"], [b"hello from the resuming client", b"x" * 3000]),
                            ("s", r["kab0"], [b"hello from the server"])):
        stream = b""
        for m in msgs:
            stream += seal(aead, key, len(stream), 0, 0, 0, m)
            exp[side].append({"gen": 0, "data": m.hex(), "finp": False, "urgent": None})
        stream += seal(aead, key, len(stream), 0, 1, 0, b"")
        exp[side].append({"gen": 0, "data": "", "finp": True, "urgent": None})
        for k in range(0, len(stream), 1400):
            c.send(side, stream[k:k + 1400], ACK | PSH, b"\x45\x02" if side == "c" and k == 0 else b"")
    c.send("c", b"", ACK | FIN)
    c.send("s", b"", ACK | FIN)
    expected["streams"].append(exp)

    # ---- connection 3: resumes connection 1 (ss[1], computed here); the key log has
    # only connection 1's ES line, so the secret must come from connection 1 itself.
    # The active opener was A; nonces of 4 and 2 bytes.
    ss1, tep = f["ss1"], f["tep"][0]
    rid = cprf(ss1, b"\x06", 18)
    na, nb = b"\x11\x22\x33\x44", b"\x55\x66"
    sa, sp = bytes([tep | 0x80]) + rid[:9] + na, bytes([tep | 0x80]) + rid[9:] + nb
    c = Conn(pcap, 40003, 7013, bytes([0x45, 2 + len(sa)]) + sa, bytes([0x45, 3 + len(sp), 0x01]) + sp)
    sn = na + nb
    mk = cprf(ss1, b"\x03" + sn, 32)
    kab, kba = cprf(mk, b"\x04", 44), cprf(mk, b"\x05", 44)
    exp = {"resumed": True, "sid": (bytes([tep | 0x80]) + cprf(ss1, b"\x02" + sn, 32)).hex(), "c": [], "s": []}
    for side, key, msg in (("c", kab, b"resumed from connection 1"), ("s", kba, b"and the reply")):
        stream = seal(0x10, key, 0, 0, 0, 0, msg)
        exp[side].append({"gen": 0, "data": msg.hex(), "finp": False, "urgent": None})
        stream += seal(0x10, key, len(stream), 0, 1, 0, b"")
        exp[side].append({"gen": 0, "data": "", "finp": True, "urgent": None})
        c.send(side, stream, ACK | PSH, b"\x45\x02" if side == "c" else b"")
    c.send("c", b"", ACK | FIN)
    c.send("s", b"", ACK | FIN)
    expected["streams"].append(exp)

    with open(out + "/synthetic.pcap", "wb") as fh:
        fh.write(pcap.data())
    with open(out + "/keys", "w") as fh:
        fh.write("\n".join(keys) + "\n")
    with open(out + "/expected.json", "w") as fh:
        json.dump(expected, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
