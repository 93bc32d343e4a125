#!/usr/bin/env python3
"""Many short connections for accept_burst.sh.

server PORT WORKERS: listen, fork WORKERS processes sharing the listener; each
  accepts, reads a 64-byte request, answers with its SHA-256 (32 bytes) and the
  request reversed (64 bytes), closes. Prints "listening" once ready.
client HOST PORT THREADS PER_THREAD: THREADS threads each open PER_THREAD
  connections back to back, each with a distinct request, and check the
  answer byte for byte. Prints one JSON line: ok, bad, errors (first few).
"""
import hashlib
import json
import os
import signal
import socket
import sys
import threading


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            break
        b += d
    return b


def answer(req):
    return hashlib.sha256(req).digest() + req[::-1]


def server(port, workers):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(512)
    kids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            while True:
                c, _ = ls.accept()
                try:
                    req = recv_exact(c, 64)
                    if len(req) == 64:
                        c.sendall(answer(req))
                finally:
                    c.close()
        kids.append(pid)
    print("listening", flush=True)

    def stop(*_):
        for k in kids:
            os.kill(k, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    for k in kids:
        os.waitpid(k, 0)


def client(host, port, threads, per):
    lock = threading.Lock()
    res = {"ok": 0, "bad": 0, "errors": []}

    def run(t):
        for i in range(per):
            req = hashlib.sha512(b"%d/%d" % (t, i)).digest()
            try:
                s = socket.create_connection((host, port), timeout=60)
                s.sendall(req)
                rep = recv_exact(s, 96)
                s.close()
                good = rep == answer(req)
            except OSError as e:
                good = False
                with lock:
                    if len(res["errors"]) < 5:
                        res["errors"].append("%d/%d: %s" % (t, i, e))
            with lock:
                res["ok" if good else "bad"] += 1

    ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(res), flush=True)
    return 0 if res["bad"] == 0 else 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
