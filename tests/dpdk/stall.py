#!/usr/bin/python3
"""Connections whose reader stalls, for memif_soak.sh.

  stall.py server PORT N DELAY: accept N connections, wait DELAY seconds
      without reading (the data piles up in the daemon), then read each to
      EOF; prints one JSON line: the sorted sha256 of what each carried.
  stall.py client HOST PORT N BYTES: N connections at once, each sending
      BYTES bytes of its own pattern, then half-closing and waiting for EOF;
      prints the sorted sha256 of what each sent.
Plain socket calls only (run under tcpcrypt-run).
"""
import hashlib
import json
import socket
import sys
import threading
import time


def pattern(i, n):
    block = hashlib.sha256(b"stall-%d" % i).digest() * 2048
    return (block * (n // len(block) + 1))[:n]


def server(port, n, delay):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(n)
    print("listening", flush=True)
    conns = [ls.accept()[0] for _ in range(n)]
    time.sleep(delay)
    out = [None] * n

    def drain(k, s):
        h, total = hashlib.sha256(), 0
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            h.update(d)
            total += len(d)
        s.close()
        out[k] = (h.hexdigest(), total)

    ts = [threading.Thread(target=drain, args=(k, s)) for k, s in enumerate(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"sha256": sorted(x[0] for x in out), "bytes": sum(x[1] for x in out)}))


def client(host, port, n, nbytes):
    res = [None] * n
    errs = []

    def send(i):
        data = pattern(i, nbytes)
        try:
            s = socket.create_connection((host, port), 30)
            s.settimeout(60)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
            s.close()
            res[i] = hashlib.sha256(data).hexdigest()
        except OSError as e:
            errs.append(str(e))

    ts = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"sha256": sorted(x for x in res if x), "errors": errs}))
    return 0 if not errs else 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
