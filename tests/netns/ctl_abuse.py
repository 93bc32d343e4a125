#!/usr/bin/python3
"""A misbehaving client of tcpcryptd's control socket (stack/ctl_proto.h).

  ctl_abuse.py SOCK CASE [ARG]

Each case prints one JSON line with what it sent and what came back
("reply": the reply's err as an errno name, "closed": the daemon closed
without a reply, "timeout": no answer within 3 s); exit 0 when the daemon
answered as expected, 1 otherwise.
"""
import array
import errno
import json
import os
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl  # noqa: E402  (the well-formed messages of tests/netns/ctl.py)

HELLO, CONNECT, LISTEN, STATUS, GETOPT, SETOPT, ADMIN = 1, 2, 3, 4, 5, 6, 7
A_STATUS, A_KEYLOG_ON = 1, 5
SOCKADDR_STORAGE = 128
SOCKOPTS = 4 + 4 + 4 + 8 + 16 + 16
ADDR = 4 + 4 + SOCKADDR_STORAGE  # len, padding to the storage's 8-byte alignment
CONNECT_LEN = 8 + 4 + SOCKOPTS + 4 + ADDR + ADDR  # opts end at 60: pad to 64


def hdr(op, length, err=0):
    return struct.pack("=HHi", op, length, err)


def sock(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect(path)
    return s


def ask(path, msg, fds=(), cmsgs=None):
    """Send one message; the reply's err as a name, or closed/timeout."""
    s = sock(path)
    try:
        anc = cmsgs if cmsgs is not None else (
            [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else [])
        s.sendmsg([msg], anc)
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
        for level, typ, d in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                for fd in array.array("i", d[: len(d) - len(d) % 4]):
                    os.close(fd)
        if not data:
            return "closed"
        op, length, err = struct.unpack("=HHi", data[:8])
        return errno.errorcode.get(err, str(err)) if err else "ok(op %d)" % op
    except socket.timeout:
        return "timeout"
    except OSError as e:  # the daemon reset the connection
        return "closed:" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def expect(case, got, want):
    ok = got in want if isinstance(want, (list, tuple)) else got == want
    print(json.dumps({"case": case, "got": got, "want": want, "ok": ok}))
    return 0 if ok else 1


def main():
    path, case = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    if case == "empty":
        return expect(case, ask(path, b""), "closed")
    if case == "short":  # fewer bytes than a header
        return expect(case, ask(path, b"\x01\x00\x08"), "closed")
    if case == "header-only-connect":  # a CONNECT cut after its header
        return expect(case, ask(path, hdr(CONNECT, 8)), "EINVAL")
    if case == "len-mismatch":  # HELLO whose length field lies
        return expect(case, ask(path, hdr(HELLO, 200)), "EINVAL")
    if case == "unknown-op":
        return expect(case, ask(path, hdr(999, 8)), "closed")
    if case == "reply-op":  # a reply sent as a request
        return expect(case, ask(path, hdr(101, 8)), "closed")
    if case == "huge":  # longer than any request
        return expect(case, ask(path, hdr(HELLO, 8) + os.urandom(8000)), "closed")
    if case == "garbage":
        n = int(arg or 200)
        bad = 0
        for i in range(n):
            msg = os.urandom(1 + i % 600)
            got = ask(path, msg)
            if got == "timeout":
                bad += 1
        return expect(case + " x%d" % n, "no timeout" if bad == 0 else "%d timeouts" % bad,
                      "no timeout")
    if case == "status-bogus-fd":  # STATUS about descriptors that are not connections
        r, w = os.pipe()
        got = [ask(path, hdr(STATUS, 12) + struct.pack("=I", 0), fds=[f])
               for f in (r, os.open("/dev/null", os.O_RDONLY), os.open("/", os.O_RDONLY))]
        return expect(case, ",".join(got), "ENOENT,ENOENT,ENOENT")
    if case == "status-no-fd":
        return expect(case, ask(path, hdr(STATUS, 12) + struct.pack("=I", 0)), ["ENOENT", "EBADF"])
    if case == "listen-pipe":  # LISTEN with a pipe where the kernel listener belongs
        r, w = os.pipe()
        msg = hdr(LISTEN, 8 + 4 + SOCKOPTS + ADDR) + struct.pack("=i", 16) + bytes(SOCKOPTS + ADDR)
        return expect(case, ask(path, msg, fds=[r]), ["EINVAL", "ENOTSOCK", "EBADF"])
    if case == "keylog-pipe":  # key log to a pipe (could block the daemon)
        r, w = os.pipe()
        msg = hdr(ADMIN, 16) + struct.pack("=II", A_KEYLOG_ON, 0)
        return expect(case, ask(path, msg, fds=[w]), "EINVAL")
    if case == "keylog-readonly":
        fd, name = tempfile.mkstemp()
        ro = os.open(name, os.O_RDONLY)
        os.unlink(name)
        msg = hdr(ADMIN, 16) + struct.pack("=II", A_KEYLOG_ON, 0)
        return expect(case, ask(path, msg, fds=[ro]), "EBADF")
    if case == "many-fds":  # HELLO with 250 descriptors in two messages' worth of cmsgs
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(250)]
        got = ask(path, hdr(HELLO, 8), fds=fds)
        for f in fds:
            os.close(f)
        return expect(case, got, "closed")
    if case == "two-cmsgs":  # two SCM_RIGHTS blocks, 3 descriptors each
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(6)]
        cm = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds[:3])),
              (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds[3:]))]
        got = ask(path, hdr(HELLO, 8), cmsgs=cm)
        for f in fds:
            os.close(f)
        return expect(case, got, ["ok(op 101)", "closed"])
    if case == "die-before-request":  # connect and vanish, N times
        n = int(arg or 500)
        for _ in range(n):
            sock(path).close()
        return expect(case + " x%d" % n, "done", "done")
    if case == "die-before-reply":  # HELLO, then gone before the reply
        n = int(arg or 500)
        for _ in range(n):
            s = sock(path)
            s.send(hdr(HELLO, 8))
            s.close()
        return expect(case + " x%d" % n, "done", "done")
    if case == "die-after-connect":  # CONNECT HOST:PORT, gone before the reply (ARG N)
        host, port, n = arg, int(sys.argv[4]), int(sys.argv[5])
        for _ in range(n):
            req = ctl.Connect(h=ctl.hdr(CONNECT, ctl.Connect), remote=ctl.addr_pack(host, port))
            s = sock(path)
            s.send(bytes(req))
            s.close()
        return expect(case + " x%d" % n, "done", "done")
    if case in ("die-after-listen", "die-with-queue"):
        # LISTEN on ARG with a real kernel listener; die-after-listen leaves
        # before the reply, die-with-queue takes its listener, never accepts,
        # and leaves once connections wait there (or after 10 s).
        port = int(arg)
        k = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        k.bind(("0.0.0.0", port))
        k.listen(16)
        req = ctl.Listen(h=ctl.hdr(LISTEN, ctl.Listen), backlog=16, local=ctl.addr_pack("", port))
        s = sock(path)
        socket.send_fds(s, [bytes(req)], [k.fileno()])
        k.close()
        if case == "die-after-listen":
            s.close()
            return expect(case, "done", "done")
        msg, fds, _, _ = socket.recv_fds(s, 4096, 4)
        s.close()
        if len(fds) != 1:
            return expect(case, "no listener (%d bytes)" % len(msg), "listener")
        print(json.dumps({"case": case, "listening": port}), flush=True)
        lsock = socket.socket(fileno=fds[0])
        lsock.settimeout(10)
        try:
            first = lsock.recv(4096, socket.MSG_PEEK)
            waiting = "connection waiting" if first else "EOF"
        except socket.timeout:
            waiting = "nothing arrived"
        time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
        return expect(case, waiting, "connection waiting")  # exits without accepting
    if case == "hold":  # N idle clients for ARG2 seconds
        n, secs = int(arg or 1100), float(sys.argv[4] if len(sys.argv) > 4 else 3)
        held = []
        refused = 0
        for _ in range(n):
            try:
                held.append(sock(path))
            except OSError:
                refused += 1
        time.sleep(secs)
        # How many the daemon closed meanwhile (oldest dropped for newer ones).
        closed = 0
        for s in held:
            s.setblocking(False)
            try:
                if s.recv(16) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            s.close()
        print(json.dumps({"case": "hold", "clients": n, "refused": refused,
                          "closed_by_daemon": closed}))
        return 0
    print("unknown case", case, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
