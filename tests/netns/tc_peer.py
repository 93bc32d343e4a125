#!/usr/bin/python3
"""A hand-made TCP-ENO/tcpcrypt host A on raw sockets, for what no real
implementation sends: Init1 cut into one-byte segments, frames with clen at
and beyond its limits, a FIN without FINp.

  tc_peer.py SRC DST PORT CASE

The caller drops its kernel's RSTs from SRC to DST.  The key schedule and
frame format come from tests/vectors/gen_vectors.py (the independent Python
implementation of RFC 8548).  Prints one JSON line: what the daemon sent
back (Init2, decrypted data, FIN, RST, and when); exit 0 when it did what
the case expects:
  split-init1   Init1 in one-byte segments: Init2 comes, the keys agree and
                an encrypted echo of one frame decrypts
  split-cut     the first 40 bytes of Init1 in one-byte segments, then
                nothing: no Init2, an RST once the handshake times out
  clen-zero     a frame header with clen 0 (too short for the tag): RST
  clen-max      one frame with clen 65535 (the most): echoed intact
  clen-beyond   a frame header with clen 1000, 100 bytes of it, then FIN
                (the stream ended inside a frame)
  fin-no-finp   a whole frame without FINp, then FIN (RFC 8548 §4.2)
                (for these two the caller checks that the application's
                read failed; an RST is reported when one came)
  fin-finp      a whole frame with FINp, then FIN: our FIN is answered
                with the daemon's (a clean close)
As host B (passive, on PORT of SRC; a program under tcpcrypt-run connects):
  init2-split   Init2 in one-byte segments: the program's line comes in a
                frame and its echo goes back encrypted
  init2-cut     the first 30 bytes of Init2 in one-byte segments, then
                nothing: an RST once the daemon's handshake times out
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "vectors"))
import gen_vectors as tc  # noqa: E402
from flood import ACK, FIN, MSS, PSH, RST, SYN, tcp_segment  # noqa: E402

AEAD = 0x0001  # AEAD_AES_128_GCM
FINP = 0x01


class Peer:
    def __init__(self, src, dst, dport):
        self.src, self.dst, self.dport = src, dst, dport
        self.sport = random.randint(20000, 60000)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.snd_una = self.iss
        self.rcv_nxt = None
        self.snd_wnd = 0
        self.stream = b""  # the daemon's bytes, in order
        self.fin = self.rst = False
        self.rst_at = None
        self.synack_eno = None

    def send(self, flags, payload=b"", opts=b""):
        ack = self.rcv_nxt if self.rcv_nxt is not None else 0
        seg = tcp_segment(self.src, self.dst, self.sport, self.dport, self.snd_nxt & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, flags | (ACK if self.rcv_nxt is not None else 0),
                          opts, payload)
        self.tx.sendto(seg, (self.dst, 0))
        self.snd_nxt += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def poll(self, timeout):
        """Take what arrived within timeout; ACK in-order data and FIN."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.rx], [], [], max(0.0, left))
            if not r:
                return
            pkt = self.rx.recv(65535)
            ihl = (pkt[0] & 0x0F) * 4
            if socket.inet_ntoa(pkt[12:16]) != self.dst:
                continue
            tcp = pkt[ihl:]
            sport, dport, seq, ack, off, flags, wnd = struct.unpack("!HHIIBBH", tcp[:16])
            if self.dport is None and dport == self.sport and flags & SYN and not flags & ACK:
                self.dport = sport  # passive: the first SYN names the peer
            if sport != self.dport or dport != self.sport:
                continue
            doff = (off >> 4) * 4
            data = tcp[doff:]
            if flags & RST:
                self.rst, self.rst_at = True, time.monotonic()
                return
            if flags & ACK:
                self.snd_una = max(self.snd_una, self.iss + ((ack - self.iss) & 0xFFFFFFFF))
                self.snd_wnd = wnd
            if flags & SYN:
                if self.rcv_nxt is None:
                    self.rcv_nxt = seq + 1
                    self.synack_eno = eno_option(tcp[20:doff])
                continue
            if self.rcv_nxt is None:
                continue
            if (seq & 0xFFFFFFFF) == (self.rcv_nxt & 0xFFFFFFFF):
                self.stream += data
                self.rcv_nxt += len(data)
                if flags & FIN:
                    self.fin = True
                    self.rcv_nxt += 1
            if data or flags & FIN:
                self.send(0)  # ACK (also of anything out of order: a duplicate ACK)

    def wait(self, cond, timeout):
        end = time.monotonic() + timeout
        while not cond() and not self.rst and time.monotonic() < end:
            self.poll(min(0.1, max(0.0, end - time.monotonic())))
        return cond()

    def send_data(self, data, seg_size=1400):
        """Send data in segments within the peer's window."""
        i = 0
        while i < len(data):
            if self.rst:
                return False
            if self.snd_nxt - self.snd_una + seg_size > max(self.snd_wnd, 1):
                self.poll(0.05)
                if self.snd_nxt - self.snd_una >= max(self.snd_wnd, 1):
                    continue
            n = min(seg_size, len(data) - i)
            self.send(PSH, data[i:i + n])
            i += n
        return True


def eno_option(opts):
    """The ENO option's bytes (kind and length included), or None."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 69:
            return bytes(opts[i:i + opts[i + 1]])
        i += opts[i + 1]
    return None


def open_frame(key, offset, buf):
    """(flags, data, frame length) of the frame at the start of buf, or None."""
    if len(buf) < 3:
        return None
    clen = struct.unpack("!H", buf[1:3])[0]
    if len(buf) < 3 + clen:
        return None
    klen = tc.AEADS[AEAD][1]
    k, nr = key[:klen], key[klen:]
    frame_id = offset.to_bytes(8, "big").rjust(tc.AE_NONCE_LEN, b"\x00")
    nonce = bytes(x ^ y for x, y in zip(frame_id, nr))
    pt = tc.AEADS[AEAD][2](k).decrypt(nonce, buf[3:3 + clen], buf[:3])
    return pt[0], pt[1:], 3 + clen


def seal(key, offset, flags, data):
    return dict(tc.frame("peer", AEAD, key, offset, 0, flags, b"", data))["frame"]


def passive(src, dst, port, case):
    """Host B: answer the daemon's SYN on port, take Init1, send Init2 in
    one-byte segments (init2-split: whole, then echo frames; init2-cut:
    the first 30 bytes, then nothing)."""
    p = Peer(src, dst, None)
    p.sport = port
    out = {"case": case}
    if not p.wait(lambda: p.rcv_nxt is not None, 20) or p.synack_eno is None:
        out["error"] = "no SYN with ENO"
        print(json.dumps(out), flush=True)
        return 1
    eno_a = p.synack_eno  # here: A's SYN-form option
    eno_b = bytes([69, 4, 0x01, 0x23])  # b = 1, X25519 (RFC 8547 §4.2, §4.5)
    p.send(SYN, opts=MSS + eno_b)
    have_init1 = lambda: len(p.stream) >= 8 and len(p.stream) >= struct.unpack("!I", p.stream[4:8])[0]
    if not p.wait(have_init1, 10):
        out.update(error="no Init1", rst=p.rst, got=p.stream.hex())
        print(json.dumps(out), flush=True)
        return 1
    n1 = struct.unpack("!I", p.stream[4:8])[0]
    init1 = p.stream[:n1]
    k = init1[8]
    ciphers = [struct.unpack("!H", init1[9 + 2 * i:11 + 2 * i])[0] for i in range(k)]
    n_a, pub_a = init1[9 + 2 * k:41 + 2 * k], init1[41 + 2 * k:73 + 2 * k]
    if init1[:4] != tc.INIT1_MAGIC or AEAD not in ciphers:
        out.update(error="not an Init1 offering AES-128-GCM", got=init1.hex())
        print(json.dumps(out), flush=True)
        return 1
    priv = os.urandom(32)
    init2 = tc.encode_init2(AEAD, os.urandom(32), tc.pub_wire(0x23, priv), b"")
    t0 = time.monotonic()
    for b in init2[:30] if case == "init2-cut" else init2:
        p.send(PSH, bytes([b]))
        p.poll(0.005)
    out["init2_segments"] = 30 if case == "init2-cut" else len(init2)
    if case == "init2-cut":
        p.wait(lambda: False, 15)
        out.update(rst=p.rst, rst_after_s=round(p.rst_at - t0, 1) if p.rst else None,
                   frames=len(p.stream) > n1)
        print(json.dumps(out), flush=True)
        return 0 if p.rst and len(p.stream) == n1 else 1
    es = tc.ecdh(0x23, priv, pub_a)
    ss0 = tc.extract(n_a, eno_a + eno_b + init1 + init2 + es)
    _, k_ab, k_ba = tc.key_sets(ss0, b"", AEAD, 1)[0]
    rx_off, tx_off = n1, len(init2)
    got = b""
    end = time.monotonic() + 10
    while not got.endswith(b"\n") and time.monotonic() < end and not p.rst:
        f = open_frame(k_ab, rx_off, p.stream[rx_off:])
        if f is None:
            p.poll(0.1)
            continue
        got += f[1]
        rx_off += f[2]
    p.send_data(seal(k_ba, tx_off, 0, got))  # the echo
    p.wait(lambda: p.fin, 5)
    out.update(received=got.decode(errors="replace"), rst=p.rst,
               sid=tc.session_id(0x23, ss0, b"").hex())
    print(json.dumps(out), flush=True)
    return 0 if got.endswith(b"\n") and not p.rst else 1


def main():
    src, dst, port, case = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if case.startswith("init2-"):
        return passive(src, dst, port, case)
    p = Peer(src, dst, port)
    out = {"case": case}
    eno_a = bytes([69, 3, 0x23])  # host A's SYN: X25519 offered, implicit global 0x00
    p.send(SYN, opts=MSS + eno_a)
    if not p.wait(lambda: p.rcv_nxt is not None, 5) or p.synack_eno is None:
        out["error"] = "no SYN-ACK with ENO"
        print(json.dumps(out))
        return 1
    p.send(0, opts=bytes([69, 2]))  # RFC 8547 §4.6: A's first ACK carries ENO
    priv = os.urandom(32)
    n_a = os.urandom(32)
    init1 = tc.encode_init1([AEAD], n_a, tc.pub_wire(0x23, priv), b"")
    t0 = time.monotonic()
    if case == "split-cut":
        for b in init1[:40]:
            p.send(PSH, bytes([b]))
            p.poll(0.005)
        p.wait(lambda: False, 30)
        out.update(init2=len(p.stream) > 0, rst=p.rst,
                   rst_after_s=round(p.rst_at - t0, 1) if p.rst else None)
        print(json.dumps(out))
        return 0 if p.rst and not p.stream else 1
    if case == "split-init1":
        for b in init1:
            p.send(PSH, bytes([b]))
            p.poll(0.005)
        out["init1_segments"] = len(init1)
    else:
        p.send(PSH, init1)
    have_init2 = lambda: len(p.stream) >= 8 and len(p.stream) >= struct.unpack("!I", p.stream[4:8])[0]
    if not p.wait(have_init2, 10):
        out.update(error="no Init2", rst=p.rst, got=p.stream.hex())
        print(json.dumps(out))
        return 1
    n2 = struct.unpack("!I", p.stream[4:8])[0]
    init2 = p.stream[:n2]
    if init2[:4] != tc.INIT2_MAGIC or struct.unpack("!H", init2[8:10])[0] != AEAD:
        out.update(error="not an Init2 choosing AES-128-GCM", got=init2.hex())
        print(json.dumps(out))
        return 1
    n_b, pub_b = init2[10:42], init2[42:74]
    transcript = eno_a + p.synack_eno
    es = tc.ecdh(0x23, priv, pub_b)
    ss0 = tc.extract(n_a, transcript + init1 + init2 + es)
    _, k_ab, k_ba = tc.key_sets(ss0, b"", AEAD, 1)[0]
    out["init2"] = True
    tx_off, rx_off = len(init1), n2

    def read_frames(want, timeout):
        """Decrypt the daemon's frames until want bytes or its FINp."""
        nonlocal rx_off
        got, finp = b"", False
        end = time.monotonic() + timeout
        while len(got) < want and not finp and time.monotonic() < end and not p.rst:
            buf = p.stream[rx_off:]
            f = open_frame(k_ba, rx_off, buf) if buf else None
            if f is None:
                p.poll(0.1)
                continue
            flags, data, flen = f
            got += data
            finp = bool(flags & FINP)
            rx_off += flen
        return got, finp

    if case in ("split-init1", "clen-max"):
        data = os.urandom(65518 if case == "clen-max" else 64)
        fr = seal(k_ab, tx_off, 0, data)
        out["clen"] = struct.unpack("!H", fr[1:3])[0]
        p.send_data(fr)
        got, _ = read_frames(len(data), 20)
        out.update(sent=len(data), echoed=len(got), intact=got == data, rst=p.rst)
        print(json.dumps(out))
        return 0 if got == data and not p.rst else 1
    if case == "clen-zero":
        p.send(PSH, b"\x00\x00\x00")
    elif case == "clen-beyond":
        p.send(PSH, b"\x00" + struct.pack("!H", 1000) + os.urandom(100))
        p.poll(0.3)
        p.send(FIN)
    elif case in ("fin-no-finp", "fin-finp"):
        p.send(PSH, seal(k_ab, tx_off, FINP if case == "fin-finp" else 0, b"last words"))
        p.poll(0.3)
        p.send(FIN)
    else:
        out["error"] = "unknown case"
        print(json.dumps(out))
        return 2
    t1 = time.monotonic()
    if case == "fin-finp":
        p.wait(lambda: p.fin, 5)
        p.poll(0.5)  # an RST would come now
    else:
        p.wait(lambda: p.rst, 5)
    got, finp = read_frames(1 << 20, 0.5) if not p.rst else (b"", False)
    out.update(rst=p.rst, rst_after_ms=round((p.rst_at - t1) * 1000) if p.rst else None,
               fin=p.fin, daemon_finp=finp)
    print(json.dumps(out))
    if case == "fin-finp":
        return 0 if not p.rst and p.fin and finp else 1
    if case == "clen-zero":
        return 0 if p.rst else 1
    # After a FIN both ways there may be no connection left to reset: the
    # caller checks what the application read instead.
    return 0


if __name__ == "__main__":
    sys.exit(main())
