#!/usr/bin/python3
"""Open TCP connections and keep them open, for tests that inspect them.

  hold.py server PORT COUNT STOPFILE [--sessid-opt N]
  hold.py client HOST PORT STOPFILE [--sessid-opt N] [--unread]

Each connection exchanges one line both ways (the client's "hello ..."
then the server's "welcome ..."), then prints one JSON line (local and
remote address, the session ID from getsockopt(IPPROTO_TCP, N) in hex or
the errno name) and stays open until STOPFILE exists (at most 120 s).
The server prints {"listening": PORT} first.  With --unread the client
closes as soon as the first byte of the server's line arrived, without
reading it: the connection is reset (as a kernel does on close with unread
data).  Plain socket calls only, so
under LD_PRELOAD it behaves as any program.
"""
import errno
import json
import os
import socket
import sys
import time

HELLO = b"hello from the client, " + b"x" * 100 + b"\n"
WELCOME = b"welcome from the server, " + b"y" * 200 + b"\n"


def sessid(sock, opt):
    if opt is None:
        return None
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, opt, 64).hex()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def readline(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def report(sock, opt):
    print(json.dumps({"local": "%s:%d" % sock.getsockname()[:2],
                      "remote": "%s:%d" % sock.getpeername()[:2],
                      "sessid": sessid(sock, opt)}), flush=True)


def hold(stopfile):
    deadline = time.monotonic() + 120
    while not os.path.exists(stopfile) and time.monotonic() < deadline:
        time.sleep(0.1)


def main():
    args = sys.argv[1:]
    opt = None
    unread = "--unread" in args
    if unread:
        args.remove("--unread")
    if "--sessid-opt" in args:
        i = args.index("--sessid-opt")
        opt = int(args[i + 1], 0)
        del args[i:i + 2]
    if args[0] == "server":
        port, count, stopfile = int(args[1]), int(args[2]), args[3]
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(8)
        print(json.dumps({"listening": port}), flush=True)
        conns = []
        for _ in range(count):
            s, _ = ls.accept()
            if readline(s) != HELLO:
                print(json.dumps({"error": "bad hello"}), flush=True)
                return 1
            try:
                s.sendall(WELCOME)
                report(s, opt)
            except OSError as e:  # a client that reset at once (--unread)
                print(json.dumps({"error": errno.errorcode.get(e.errno, str(e.errno))}), flush=True)
            conns.append(s)
        hold(stopfile)
        return 0
    host, port, stopfile = args[1], int(args[2]), args[3]
    s = socket.create_connection((host, port), 10)
    s.sendall(HELLO)
    if unread:
        s.recv(1, socket.MSG_PEEK)
        report(s, opt)
        s.close()
        return 0
    if readline(s) != WELCOME:
        print(json.dumps({"error": "bad welcome"}), flush=True)
        return 1
    report(s, opt)
    hold(stopfile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
