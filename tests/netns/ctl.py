#!/usr/bin/python3
"""Drive tcpcryptd's control protocol (stack/ctl_proto.h) directly, as the
preload library would, and act as plain kernel peers, for the netns tests.

  ctl.py SOCK hello
  ctl.py SOCK listen PORT [--bind ADDR] [--v6] [--send N] [--count K] [--linger-reset]
  ctl.py SOCK connect HOST PORT [--send N] [--expect-error NAME] [--bind ADDR:PORT] [--hold S]
  ctl.py SOCK pass-connect HOST PORT    (expects TC_CTL_PASS)
  ctl.py SOCK pass-listen ADDR PORT     (expects TC_CTL_PASS)
  ctl.py - kserver ADDR PORT [--send N] [--reset]   plain kernel server (one connection)
  ctl.py - kclient HOST PORT [--send N]             plain kernel client

Each side sends N pseudo-random bytes while reading until EOF, then prints
one JSON line with byte counts, sha256 of what it sent and received, the
time taken and (through the daemon) STATUS and GETOPT results.  Exit 0 on
success, 1 on a failed check, 2 on bad usage.
"""
import argparse
import ctypes
import errno
import hashlib
import json
import os
import select
import socket
import struct
import sys
import time

TC_CTL_HELLO, TC_CTL_CONNECT, TC_CTL_LISTEN, TC_CTL_STATUS, TC_CTL_GETOPT, TC_CTL_SETOPT = 1, 2, 3, 4, 5, 6
TC_CTL_R_HELLO, TC_CTL_R_CONNECT, TC_CTL_R_LISTEN, TC_CTL_R_STATUS, TC_CTL_R_GETOPT = 101, 102, 103, 104, 105
TC_CTL_ACCEPTED = 201
TC_CTL_PASS = -1
TC_CTL_F_NONBLOCK, TC_CTL_F_KERNEL, TC_CTL_F_ENCRYPTED = 1, 2, 4
STATES = {1: "CONNECTING", 2: "ESTABLISHED", 3: "CLOSED", 4: "FAILED"}
TCP_CRYPT_SESSID = 0x7C01  # include/tcpcrypt/tcpcrypt.h


class SockaddrStorage(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint16), ("pad", ctypes.c_uint8 * 118), ("align", ctypes.c_ulong)]


class Addr(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint32), ("ss", SockaddrStorage)]


class Hdr(ctypes.Structure):
    _fields_ = [("op", ctypes.c_uint16), ("len", ctypes.c_uint16), ("err", ctypes.c_int32)]


class SockOpts(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint32), ("set", ctypes.c_uint32), ("nteps", ctypes.c_uint8),
                ("ncaeads", ctypes.c_uint8), ("nsaeads", ctypes.c_uint8), ("reserved", ctypes.c_uint8),
                ("teps", ctypes.c_uint8 * 8), ("caeads", ctypes.c_uint16 * 8),
                ("saeads", ctypes.c_uint16 * 8)]


class Connect(ctypes.Structure):
    _fields_ = [("h", Hdr), ("flags", ctypes.c_uint32), ("opts", SockOpts), ("local", Addr), ("remote", Addr)]


class RConnect(ctypes.Structure):
    _fields_ = [("h", Hdr), ("local", Addr)]


class Listen(ctypes.Structure):
    _fields_ = [("h", Hdr), ("backlog", ctypes.c_int32), ("opts", SockOpts), ("local", Addr)]


class RListen(ctypes.Structure):
    _fields_ = [("h", Hdr), ("local", Addr)]


class Accepted(ctypes.Structure):
    _fields_ = [("h", Hdr), ("flags", ctypes.c_uint32), ("local", Addr), ("remote", Addr)]


class Status(ctypes.Structure):
    _fields_ = [("h", Hdr), ("clear_error", ctypes.c_uint32)]


class RStatus(ctypes.Structure):
    _fields_ = [("h", Hdr), ("state", ctypes.c_uint32), ("so_error", ctypes.c_int32),
                ("read_error", ctypes.c_int32), ("flags", ctypes.c_uint32), ("local", Addr), ("remote", Addr)]


class Opt(ctypes.Structure):
    _fields_ = [("h", Hdr), ("name", ctypes.c_int32), ("len", ctypes.c_uint32), ("value", ctypes.c_uint8 * 280)]


class RHello(ctypes.Structure):
    _fields_ = [("h", Hdr), ("version", ctypes.c_uint32), ("naddrs", ctypes.c_uint32), ("addrs", Addr * 4),
                ("prefix_len", ctypes.c_uint8 * 4), ("has_gateway4", ctypes.c_uint8), ("has_gateway6", ctypes.c_uint8)]


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.exit(1)


def errname(e):
    return errno.errorcode.get(e, str(e)) if e > 0 else ("PASS" if e == TC_CTL_PASS else str(e))


# ------------------------------------------------------------ addresses

def addr_pack(host, port):
    """A tc_ctl_addr for (host, port); host '' is the IPv4 wildcard."""
    a = Addr()
    if ":" in host:
        raw = struct.pack("=HHI16sI", socket.AF_INET6, socket.htons(port), 0, socket.inet_pton(socket.AF_INET6, host), 0)
    else:
        raw = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton(host or "0.0.0.0"))
    a.len = len(raw)
    ctypes.memmove(ctypes.addressof(a.ss), raw, len(raw))
    return a


def addr_unpack(a):
    raw = bytes(ctypes.string_at(ctypes.addressof(a.ss), max(a.len, 2)))
    fam = struct.unpack("=H", raw[:2])[0]
    if fam == socket.AF_INET and a.len >= 16:
        _, port, ip = struct.unpack("=HH4s", raw[:8])
        return "%s:%d" % (socket.inet_ntoa(ip), socket.ntohs(port))
    if fam == socket.AF_INET6 and a.len >= 28:
        _, port, _, ip = struct.unpack("=HHI16s", raw[:24])
        return "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, ip), socket.ntohs(port))
    return None


# ------------------------------------------------------------ one request, one reply

def call(path, req, reply_type, fd=None, want_fd=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    data = bytes(req)
    if fd is not None:
        socket.send_fds(s, [data], [fd])
    else:
        s.send(data)
    msg, fds, _, _ = socket.recv_fds(s, 4096, 4)
    s.close()
    if len(msg) < ctypes.sizeof(Hdr):
        fail("short reply (%d bytes)" % len(msg))
    h = Hdr.from_buffer_copy(msg[:ctypes.sizeof(Hdr)])
    if h.len != len(msg):
        fail("reply length field %d, message %d bytes" % (h.len, len(msg)))
    rep = reply_type()
    if h.err == 0 and len(msg) != ctypes.sizeof(reply_type):
        fail("reply op %d: %d bytes, want %d" % (h.op, len(msg), ctypes.sizeof(reply_type)))
    ctypes.memmove(ctypes.addressof(rep), msg, min(len(msg), ctypes.sizeof(rep)))
    if not want_fd:
        for f in fds:
            os.close(f)
        fds = []
    return rep, (fds[0] if fds else None)


def hdr(op, t):
    h = Hdr()
    h.op = op
    h.len = ctypes.sizeof(t)
    return h


def status(path, fd, clear=False):
    req = Status(h=hdr(TC_CTL_STATUS, Status), clear_error=1 if clear else 0)
    rep, _ = call(path, req, RStatus, fd=fd)
    if rep.h.op != TC_CTL_R_STATUS:
        fail("STATUS answered with op %d" % rep.h.op)
    if rep.h.err != 0:
        return {"err": errname(rep.h.err)}
    return {"state": STATES.get(rep.state, rep.state), "so_error": errname(rep.so_error) if rep.so_error else 0,
            "read_error": errname(rep.read_error) if rep.read_error else 0,
            "encrypted": bool(rep.flags & TC_CTL_F_ENCRYPTED),
            "local": addr_unpack(rep.local), "remote": addr_unpack(rep.remote)}


def getopt_sessid(path, fd):
    req = Opt(h=hdr(TC_CTL_GETOPT, Opt), name=TCP_CRYPT_SESSID, len=64)
    rep, _ = call(path, req, Opt, fd=fd)
    if rep.h.err != 0:
        return errname(rep.h.err)
    return bytes(rep.value[:rep.len]).hex()


# ------------------------------------------------------------ pumping data

def payload(n, seed):
    """n deterministic pseudo-random bytes (different per seed)."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


def shut_wr(sock):
    """Half-close; a connection the peer already reset reports that on the
    next read instead (shutdown itself gives ENOTCONN then)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def pump(sock, data, eof_error=None):
    """Send data (then shut down writing) while reading until EOF.  Returns
    (bytes received, sha256 received, read error name or None)."""
    sock.setblocking(False)
    sent, got, h = 0, 0, hashlib.sha256()
    wr_done = len(data) == 0
    if wr_done:
        shut_wr(sock)
    rd_err = None
    deadline = time.monotonic() + 60
    while True:
        if time.monotonic() > deadline:
            fail("transfer timed out: sent %d of %d, received %d" % (sent, len(data), got))
        r, w, _ = select.select([sock], [] if wr_done else [sock], [], 1)
        if w:
            try:
                n = sock.send(data[sent:sent + 65536])
                sent += n
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                rd_err = errno.errorcode.get(e.errno, str(e.errno))
                wr_done = True
            if sent == len(data) and not wr_done:
                shut_wr(sock)
                wr_done = True
        if r:
            try:
                b = sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                rd_err = errno.errorcode.get(e.errno, str(e.errno))
                break
            if not b:
                if eof_error is not None:
                    rd_err = eof_error()
                break
            got += len(b)
            h.update(b)
    # Finish sending if the peer closed its side first.
    while not wr_done:
        select.select([], [sock], [], 1)
        try:
            sent += sock.send(data[sent:sent + 65536])
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as e:
            rd_err = rd_err or errno.errorcode.get(e.errno, str(e.errno))
            break
        if sent == len(data):
            shut_wr(sock)
            wr_done = True
    return got, h.hexdigest(), rd_err, sent


def result(**kw):
    print(json.dumps(kw), flush=True)


# ------------------------------------------------------------ modes

def do_hello(a):
    rep, _ = call(a.sock, hdr(TC_CTL_HELLO, Hdr), RHello)
    if rep.h.op != TC_CTL_R_HELLO or rep.h.err != 0:
        fail("HELLO: op %d err %d" % (rep.h.op, rep.h.err))
    addrs = ["%s/%d" % (addr_unpack(rep.addrs[i]).rsplit(":", 1)[0].strip("[]"), rep.prefix_len[i])
             for i in range(rep.naddrs)]
    result(version=rep.version, addrs=addrs, gw4=rep.has_gateway4, gw6=rep.has_gateway6)


def do_connect(a):
    host, port = a.host, a.port
    req = Connect(h=hdr(TC_CTL_CONNECT, Connect), flags=TC_CTL_F_NONBLOCK, remote=addr_pack(host, port))
    if a.bind:
        bh, bp = a.bind.rsplit(":", 1)
        req.local = addr_pack(bh.strip("[]"), int(bp))
    t0 = time.monotonic()
    rep, fd = call(a.sock, req, RConnect, want_fd=True)
    if rep.h.op != TC_CTL_R_CONNECT:
        fail("CONNECT answered with op %d" % rep.h.op)
    if a.mode == "pass-connect":
        if rep.h.err != TC_CTL_PASS or fd is not None:
            fail("CONNECT %s:%d: err %s, want PASS" % (host, port, errname(rep.h.err)))
        result(connect="PASS")
        return
    if rep.h.err != 0 or fd is None:
        fail("CONNECT %s:%d: err %s" % (host, port, errname(rep.h.err)))
    sock = socket.socket(fileno=fd)
    # Gating: the app end turns writable when the connection is up or failed.
    _, w, _ = select.select([], [sock], [], 30)
    if not w:
        fail("the app end never became writable")
    st = status(a.sock, fd, clear=True)
    if a.expect_error:
        st2 = status(a.sock, fd, clear=True)
        sock.setblocking(False)
        try:
            eof = sock.recv(10) == b""
        except OSError:
            eof = False
        ok = st.get("so_error") == a.expect_error and st2.get("so_error") == 0 and eof
        result(connect=st.get("so_error"), state=st.get("state"), after_clear=st2.get("so_error"),
               read_error=st2.get("read_error"), eof=eof, seconds=round(time.monotonic() - t0, 3))
        sys.exit(0 if ok else 1)
    if st.get("so_error") != 0 or st.get("state") != "ESTABLISHED":
        fail("connection failed: %s" % st)
    if a.hold:
        result(held=True, status=st)
        time.sleep(a.hold)
        return
    data = payload(a.send, "client")
    t1 = time.monotonic()
    got, digest, rd_err, sent = pump(sock, data, lambda: status(a.sock, fd).get("read_error") or None)
    t2 = time.monotonic()
    st_end = status(a.sock, fd)
    sid = getopt_sessid(a.sock, fd)
    sock.close()
    result(role="client", local=addr_unpack(rep.local), status=st, sent=sent,
           sent_sha256=hashlib.sha256(data).hexdigest(), received=got, received_sha256=digest,
           read_error=rd_err, sessid=sid, end_state=st_end.get("state"),
           connect_seconds=round(t1 - t0, 3), transfer_seconds=round(t2 - t1, 3))


def do_listen(a):
    fam = socket.AF_INET6 if a.v6 or ":" in (a.bind or "") else socket.AF_INET
    k = socket.socket(fam, socket.SOCK_STREAM)
    k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bind = a.bind or ("::" if fam == socket.AF_INET6 else "0.0.0.0")
    k.bind((bind, a.port))
    k.listen(16)
    port = k.getsockname()[1]
    req = Listen(h=hdr(TC_CTL_LISTEN, Listen), backlog=16, local=addr_pack(bind if bind != "0.0.0.0" else "", a.port))
    rep, fd = call(a.sock, req, RListen, fd=k.fileno(), want_fd=True)
    k.close()  # the daemon keeps its copy
    if a.mode == "pass-listen":
        if rep.h.err != TC_CTL_PASS or fd is not None:
            fail("LISTEN %s:%d: err %s, want PASS" % (bind, port, errname(rep.h.err)))
        result(listen="PASS")
        return
    if rep.h.err != 0 or fd is None:
        fail("LISTEN %s:%d: err %s" % (bind, port, errname(rep.h.err)))
    lsock = socket.socket(fileno=fd)
    result(listening=addr_unpack(rep.local), port=port)
    outs = []
    for i in range(a.count):
        r, _, _ = select.select([lsock], [], [], 30)
        if not r:
            fail("no connection accepted within 30 s")
        msg, fds, _, _ = socket.recv_fds(lsock, 4096, 4)
        if len(msg) != ctypes.sizeof(Accepted) or len(fds) != 1:
            fail("ACCEPTED: %d bytes, %d fds" % (len(msg), len(fds)))
        m = Accepted.from_buffer_copy(msg)
        if m.h.op != TC_CTL_ACCEPTED or m.h.len != len(msg):
            fail("ACCEPTED: op %d len %d" % (m.h.op, m.h.len))
        cfd = fds[0]
        kernel = bool(m.flags & TC_CTL_F_KERNEL)
        conn = socket.socket(fileno=cfd)
        data = payload(a.send, "server")
        if a.linger_reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t1 = time.monotonic()
        eof_err = None if kernel else (lambda: status(a.sock, cfd).get("read_error") or None)
        got, digest, rd_err, sent = pump(conn, data, eof_err)
        t2 = time.monotonic()
        st = None if kernel else status(a.sock, cfd)
        sid = None if kernel else getopt_sessid(a.sock, cfd)
        conn.close()
        outs.append(dict(kernel=kernel, encrypted=bool(m.flags & TC_CTL_F_ENCRYPTED), local=addr_unpack(m.local),
                         remote=addr_unpack(m.remote), sent=sent, sent_sha256=hashlib.sha256(data).hexdigest(),
                         received=got, received_sha256=digest, read_error=rd_err, status=st, sessid=sid,
                         transfer_seconds=round(t2 - t1, 3)))
    lsock.close()
    for o in outs:
        result(role="server", **o)


def do_kserver(a):
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    k = socket.socket(fam, socket.SOCK_STREAM)
    k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    k.bind((a.host, a.port))
    k.listen(4)
    result(listening="%s:%d" % (a.host, a.port))
    k.settimeout(30)
    conn, peer = k.accept()
    if a.reset:
        time.sleep(0.3)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        result(role="kserver", peer=str(peer), reset=True)
        return
    data = payload(a.send, "kserver")
    got, digest, rd_err, sent = pump(conn, data)
    conn.close()
    result(role="kserver", peer=str(peer[0]), sent=sent, sent_sha256=hashlib.sha256(data).hexdigest(),
           received=got, received_sha256=digest, read_error=rd_err)


def do_kclient(a):
    t0 = time.monotonic()
    s = socket.create_connection((a.host, a.port), timeout=10)
    data = payload(a.send, "kclient")
    got, digest, rd_err, sent = pump(s, data)
    s.close()
    result(role="kclient", sent=sent, sent_sha256=hashlib.sha256(data).hexdigest(), received=got,
           received_sha256=digest, read_error=rd_err, seconds=round(time.monotonic() - t0, 3))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sock", help="the daemon's control socket ('-' for kernel modes)")
    p.add_argument("mode", choices=["hello", "connect", "pass-connect", "listen", "pass-listen", "kserver", "kclient"])
    p.add_argument("args", nargs="*")
    p.add_argument("--send", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--bind")
    p.add_argument("--v6", action="store_true")
    p.add_argument("--expect-error")
    p.add_argument("--reset", action="store_true")
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--linger-reset", action="store_true")
    a = p.parse_args()
    try:
        if a.mode == "hello":
            do_hello(a)
        elif a.mode in ("connect", "pass-connect", "kclient"):
            a.host, a.port = a.args[0], int(a.args[1])
            {"kclient": do_kclient}.get(a.mode, do_connect)(a)
        elif a.mode == "kserver":
            a.host, a.port = a.args[0], int(a.args[1])
            do_kserver(a)
        else:
            if a.mode == "pass-listen":
                a.bind, a.port = a.args[0], int(a.args[1])
            else:
                a.port = int(a.args[0])
            do_listen(a)
    except (IndexError, ValueError) as e:
        print("ctl.py: bad arguments: %s" % e, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
