#!/usr/bin/env python3
"""A memcached text-protocol client: set N keys (varied sizes), get them back
one by one and in multi-gets, over C concurrent connections; prints a JSON
line.  Exit 1 on any error or wrong value."""
import json, os, socket, sys, threading, time, hashlib

host, port, n, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
prefix = sys.argv[5] if len(sys.argv) > 5 else "k"
errors = []

def value(i):
    size = (i * 7919) % 20000 + 1
    return hashlib.sha256(b"%d" % i).digest() * (size // 32 + 1)

class Conn:
    def __init__(self):
        self.s = socket.create_connection((host, port), 10)
        self.buf = b""
    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def exact(self, k):
        while len(self.buf) < k:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        r, self.buf = self.buf[:k], self.buf[k:]
        return r
    def get(self, keys):
        self.s.sendall(b"get " + b" ".join(keys) + b"\r\n")
        out = {}
        while True:
            l = self.line()
            if l == b"END":
                return out
            p = l.split()
            if p[0] != b"VALUE":
                raise ValueError("bad get reply %r" % l[:80])
            out[p[1]] = self.exact(int(p[3]) + 2)[:-2]

def worker(w):
    try:
        c = Conn()
        mine = range(w, n, conns)
        for i in mine:
            v = value(i)
            c.s.sendall(b"set %s%d 0 0 %d\r\n" % (prefix.encode(), i, len(v)) + v + b"\r\n")
            if c.line() != b"STORED":
                raise ValueError("set %d not stored" % i)
        for i in mine:
            k = b"%s%d" % (prefix.encode(), i)
            got = c.get([k]).get(k)
            if got != value(i):
                raise ValueError("get %d: %s" % (i, "missing" if got is None else "wrong value"))
        ks = [b"%s%d" % (prefix.encode(), i) for i in mine]
        for j in range(0, len(ks), 50):
            got = c.get(ks[j:j + 50])
            for k in ks[j:j + 50]:
                if got.get(k) != value(int(k[len(prefix):])):
                    raise ValueError("multi-get %r: wrong value" % k)
        c.s.close()
    except Exception as e:
        errors.append("%s: %s" % (type(e).__name__, e))

t0 = time.time()
ts = [threading.Thread(target=worker, args=(w,)) for w in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.time() - t0
print(json.dumps({"keys": n, "conns": conns, "seconds": round(dt, 3), "ops_per_s": round(3 * n / dt), "errors": errors[:5], "nerrors": len(errors)}))
sys.exit(1 if errors else 0)
