#!/usr/bin/python3
"""A man in the middle for the authentication tests: terminates tcpcrypt
on each side and forwards the plaintext.

  auth_relay.py LISTEN_PORT TARGET_IP TARGET_PORT [--no-aa] [--lifetime S]

Run under tcpcrypt-run.  Each accepted connection gets its own connection
to the target; both announce application awareness (a = 1, as an active
attacker would, so that the ends do not fall back to TLS) unless --no-aa.
Prints one line per connection with the two session IDs it holds, one
with each end, and forwards bytes both ways until both sides close.
Exits after --lifetime seconds (default 60).
"""
import os
import select
import socket
import sys
import threading
import time

TCP_CRYPT_SESSID = 0x7C01
TCP_CRYPT_SUPPORT = 0x7C0D


def sessid(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 33).hex()
    except OSError:
        return "none (plain TCP)"


def pump(a, b):
    """Both directions until both have closed, or 30 s without a byte."""
    open_dirs = {a: b, b: a}
    while open_dirs:
        r, _, _ = select.select(list(open_dirs), [], [], 30)
        if not r:
            return
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            dst = open_dirs[s]
            if data:
                try:
                    dst.sendall(data)
                except OSError:
                    return
            else:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                del open_dirs[s]


def handle(c, target, aa):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if aa:
            s.setsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SUPPORT, 1)
        s.settimeout(10)
        s.connect(target)
        s.settimeout(None)
        print("relay: session with client %s, session with server %s" % (sessid(c), sessid(s)),
              flush=True)
        pump(c, s)
    except OSError as e:
        print("relay: %s" % e, flush=True)
    finally:
        c.close()
        s.close()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    aa = "--no-aa" not in sys.argv
    lifetime = 60.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
        args.remove(sys.argv[sys.argv.index("--lifetime") + 1])
    port, tip, tport = int(args[0]), args[1], int(args[2])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if aa:
        ls.setsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SUPPORT, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    print("relay: listening on %d for %s:%d" % (port, tip, tport), flush=True)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        r, _, _ = select.select([ls], [], [], 0.5)
        if r:
            c, _ = ls.accept()
            threading.Thread(target=handle, args=(c, (tip, tport), aa), daemon=True).start()
    os._exit(0)


if __name__ == "__main__":
    main()
