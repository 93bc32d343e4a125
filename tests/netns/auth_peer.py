#!/usr/bin/python3
"""Misbehaving peers for tests/netns/auth_errors.sh, run under tcpcrypt-run
(every socket announces application awareness, a = 1).

  auth_peer.py replay PORT TARGET_IP TARGET_PORT
      connects to a real server at TARGET, records the first
      authentication message it sends (its proof for that connection),
      then serves that message to the next client on PORT: an
      authenticator replayed from another connection.
  auth_peer.py truncate PORT METHOD TYPE BODY_LEN
      serves the next client on PORT the header of a METHOD/TYPE message
      announcing BODY_LEN bytes and half of that body, then closes.

Prints one line per step and whatever the client answers; exits after
one client or 30 s.
"""
import select
import socket
import struct
import sys
import time

TCP_CRYPT_SUPPORT = 0x7C0D
HDR = 8


def aware(s):
    s.setsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SUPPORT, 1)
    return s


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_message(s):
    hdr = read_exact(s, HDR)
    if hdr[:2] != b"tA":
        raise ValueError("not an authentication message: %r" % hdr)
    blen = struct.unpack("!I", b"\0" + hdr[5:8])[0]
    return hdr + read_exact(s, blen)


def drain(s, seconds):
    """Whatever the client sends within the time, or until it closes."""
    got = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    return got


def accept_one(port):
    ls = aware(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    print("peer: listening on %d" % port, flush=True)
    r, _, _ = select.select([ls], [], [], 30)
    if not r:
        print("peer: no client", flush=True)
        sys.exit(1)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(10)
    return c


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "replay":
        t = aware(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        t.settimeout(10)
        t.connect((sys.argv[3], int(sys.argv[4])))
        msg = read_message(t)
        print("peer: recorded a %d-byte message (method %d, type %d) from %s:%s"
              % (len(msg), msg[3], msg[4], sys.argv[3], sys.argv[4]), flush=True)
        t.close()
        c = accept_one(port)
        early = drain(c, 0.5)
        c.sendall(msg)
        print("peer: replayed it to the client (client had sent %d bytes)" % len(early), flush=True)
    elif mode == "truncate":
        method, mtype, blen = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        c = accept_one(port)
        early = drain(c, 0.5)
        half = blen // 2
        hdr = b"tA" + bytes([1, method, mtype]) + struct.pack("!I", blen)[1:]
        c.sendall(hdr + bytes(half))
        c.shutdown(socket.SHUT_WR)
        print("peer: sent a header for %d bytes and %d of them, then closed (client had sent %d bytes)"
              % (blen, half, len(early)), flush=True)
    else:
        sys.exit("usage: auth_peer.py replay|truncate ...")
    answer = drain(c, 5)
    print("peer: the client answered %d bytes%s" % (
        len(answer), " (type %d)" % answer[4] if len(answer) >= HDR else ""), flush=True)
    c.close()


if __name__ == "__main__":
    main()
