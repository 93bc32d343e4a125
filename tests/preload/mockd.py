#!/usr/bin/python3
"""A mock tcpcryptd for the preload library's tests (stack/ctl_proto.h).

It speaks the control protocol over a Unix SOCK_SEQPACKET socket but has no
network: a "connection" is a socketpair whose far end the mock drives itself.

Destinations it serves: 198.51.100.0/24 and 2001:db8::/64 ("the daemon's
link"); every other destination gets TC_CTL_PASS; loopback gets EPERM, since
the library must never ask about it.  By destination port:

   1  immediate failure: R_CONNECT err = ENETUNREACH
   7  established after 0.4 s (connect gating with filler bytes), then echo
   9  fails after 0.3 s: SO_ERROR / read_error ECONNREFUSED
  11  established, sends b"hello", then aborts: read_error EBADMSG, daemon
      end shut down
  12  established, sends b"bye", then a clean end (read_error 0)
  14  established, sends b"opts=<TC_CTL_O_* flags of the request>\\n", echo
  15  established without encryption (plain TCP fallback), echo

LISTEN on the wildcard or a served address: a SEQPACKET listener carrying
two synthetic accepted connections (remote 198.51.100.200:40001/40002 or
2001:db8::200 for IPv6; each sends b"accepted <i>\\n" then echoes), then every
connection the kernel listener (sent along) accepts, with TC_CTL_F_KERNEL.
Other listen addresses get PASS.

Every request is logged, one line each, to --log.  As a stand-in for
tcpcryptd under tcpcrypt-run it takes --control PATH and ignores --tap,
--addr, --gw and --keylog; MOCKD_FAIL=text makes it print text on stderr and
exit 1, MOCKD_HANG=1 makes it never open its socket, MOCKD_ARGS=FILE records
its arguments and LD_PRELOAD, MOCKD_PIDFILE=FILE its process id.
"""

import argparse
import errno
import heapq
import ipaddress
import os
import re
import selectors
import signal
import socket
import struct
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- wire format
# Host byte order, C layout of stack/ctl_proto.h (client_test.c checks the
# offsets with static assertions).
HDR = struct.Struct("=HHi")              # op, len, err: 8 bytes
ADDR = "I4x128s"                         # struct tc_ctl_addr: 136 bytes
OPTS = "II4B8s16s16s"                     # struct tc_ctl_sockopts: 52 bytes, 9 fields
CONNECT = struct.Struct("=HHiI" + OPTS + ADDR + ADDR)    # 336
R_CONNECT = struct.Struct("=HHi" + ADDR)                 # 144
LISTEN = struct.Struct("=HHii" + OPTS + ADDR)            # 200
R_LISTEN = struct.Struct("=HHi" + ADDR)                  # 144
ACCEPTED = struct.Struct("=HHiI4x" + ADDR + ADDR)        # 288
STATUS = struct.Struct("=HHiI")                          # 12
R_STATUS = struct.Struct("=HHiIiiI" + ADDR + ADDR)       # 296
OPT = struct.Struct("=HHiiI280s")                        # 296
R_HELLO = struct.Struct("=HHiII" + ADDR * 4 + "4sBB2x")  # 568

OP_HELLO, OP_CONNECT, OP_LISTEN, OP_STATUS, OP_GETOPT, OP_SETOPT = 1, 2, 3, 4, 5, 6
R_OFFSET = 100
OP_ACCEPTED = 201
PASS = -1
F_KERNEL, F_ENCRYPTED = 0x02, 0x04
S_CONNECTING, S_ESTABLISHED, S_CLOSED, S_FAILED = 1, 2, 3, 4

SERVED = [ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("2001:db8::/64")]
LOCAL4, LOCAL6 = "198.51.100.2", "2001:db8::2"


def header_constants():
    """The TCP_CRYPT_* numbers, from the public header itself."""
    path = os.path.join(HERE, "..", "..", "include", "tcpcrypt", "tcpcrypt.h")
    consts = {}
    with open(path) as f:
        for m in re.finditer(r"#define (TCP_CRYPT_\w+) (0x[0-9a-fA-F]+|\d+)", f.read()):
            consts[m.group(1)] = int(m.group(2), 0)
    return consts


TC = header_constants()


def sa_pack(host, port):
    if ":" in host:
        sa = (struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, 0) +
              socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", 0))
    else:
        sa = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) +
              socket.inet_aton(host) + bytes(8))
    return len(sa), sa.ljust(128, b"\0")


def sa_unpack(length, ss):
    if length == 0:
        return None
    family = struct.unpack_from("=H", ss)[0]
    port = struct.unpack_from("!H", ss, 2)[0]
    if family == socket.AF_INET:
        return socket.inet_ntoa(ss[4:8]), port
    if family == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, ss[8:24]), port
    return None


def served(host):
    a = ipaddress.ip_address(host)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped:
        a = a.ipv4_mapped
    return any(a in n for n in SERVED)


def is_loopback(host):
    a = ipaddress.ip_address(host)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped:
        a = a.ipv4_mapped
    return a.is_loopback or a.is_unspecified


def sessid(port):
    """The mock's session ID for a connection to (or listener on) port."""
    return bytes([0x23] + [(port + i) & 0xFF for i in range(32)])


class Conn:
    """One connection: the daemon end, and what STATUS/GETOPT answer."""

    def __init__(self, dmn, app_ino, local, remote, role="A", encrypted=True, opts=0):
        self.dmn = dmn
        self.app_ino = app_ino
        self.local, self.remote = local, remote
        self.state = S_CONNECTING
        self.so_error = 0
        self.read_error = 0
        self.encrypted = encrypted
        self.role = role
        self.opts = opts
        self.app_keep = None  # the app end, kept until the gate opens
        self.filler = 0
        self.echo = False


class Mock:
    def __init__(self, path, log):
        self.path = path
        self.log = open(log, "a", buffering=1) if log else None
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.seq = 0
        self.conns = {}       # app end inode -> Conn
        self.next_port = 50000
        self.listeners = []
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(path)
        self.srv.listen(64)
        self.sel.register(self.srv, selectors.EVENT_READ, self.on_accept)

    def note(self, line):
        if self.log:
            self.log.write(line + "\n")

    def later(self, delay, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, fn))

    # ------------------------------------------------------------ control
    def on_accept(self, srv):
        c, _ = srv.accept()
        self.sel.register(c, selectors.EVENT_READ, self.on_request)

    def on_request(self, c):
        try:
            data, fds, _flags, _addr = socket.recv_fds(c, 4096, 4)
        except OSError:
            data, fds = b"", []
        self.sel.unregister(c)
        try:
            if len(data) >= HDR.size:
                op, length, _err = HDR.unpack_from(data)
                if length != len(data):
                    self.note("BADLEN op=%d len=%d got=%d" % (op, length, len(data)))
                else:
                    self.dispatch(c, op, data, fds)
        finally:
            for fd in fds:
                os.close(fd)
            c.close()

    def reply(self, c, msg, fds=()):
        socket.send_fds(c, [msg], list(fds))

    def dispatch(self, c, op, data, fds):
        if op == OP_HELLO:
            self.note("HELLO")
            a = [sa_pack("198.51.100.1", 0), sa_pack("2001:db8::1", 0)]
            empty = (0, bytes(128))
            addrs = [x for pair in (a + [empty, empty]) for x in pair]
            self.reply(c, R_HELLO.pack(OP_HELLO + R_OFFSET, R_HELLO.size, 0, 1, 2, *addrs,
                                       bytes([24, 64, 0, 0]), 0, 0))
        elif op == OP_CONNECT and len(data) == CONNECT.size:
            self.do_connect(c, CONNECT.unpack(data))
        elif op == OP_LISTEN and len(data) == LISTEN.size and fds:
            self.do_listen(c, LISTEN.unpack(data), fds)
        elif op == OP_STATUS and len(data) == STATUS.size and fds:
            self.do_status(c, STATUS.unpack(data)[3], fds[0])
        elif op in (OP_GETOPT, OP_SETOPT) and len(data) == OPT.size:
            self.do_opt(c, op, OPT.unpack(data), fds[0] if fds else None)
        else:
            self.note("BAD op=%d len=%d fds=%d" % (op, len(data), len(fds)))
            self.reply(c, HDR.pack(op + R_OFFSET, HDR.size, errno.EINVAL))

    def do_connect(self, c, req):
        _op, _len, _err, flags, opts = req[:5]
        local = sa_unpack(req[13], req[14])
        remote = sa_unpack(req[15], req[16])
        self.note("CONNECT %s %d opts=%d flags=%d local=%s" % (
            remote[0] if remote else "?", remote[1] if remote else 0, opts, flags, local))
        rop = OP_CONNECT + R_OFFSET
        if remote is None:
            self.reply(c, HDR.pack(rop, HDR.size, errno.EINVAL))
            return
        host, port = remote
        if is_loopback(host):
            self.reply(c, HDR.pack(rop, HDR.size, errno.EPERM))
            return
        if not served(host):
            self.reply(c, HDR.pack(rop, HDR.size, PASS))
            return
        if port == 1:
            self.reply(c, HDR.pack(rop, HDR.size, errno.ENETUNREACH))
            return
        app, dmn = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # Connect gating: a small send buffer on the app end, filled from the
        # app end itself, so the application cannot write until we drain it.
        app.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
        app.setblocking(False)
        filler = 0
        while True:
            try:
                filler += app.send(bytes(4096))
            except BlockingIOError:
                break
        lhost = LOCAL6 if ":" in host else LOCAL4
        self.next_port += 1
        conn = Conn(dmn, os.fstat(app.fileno()).st_ino, (lhost, self.next_port), remote,
                    encrypted=port != 15, opts=opts)
        conn.app_keep, conn.filler = app, filler
        self.conns[conn.app_ino] = conn
        self.reply(c, R_CONNECT.pack(rop, R_CONNECT.size, 0, *sa_pack(*conn.local)),
                   [app.fileno()])
        delay = {7: 0.4, 9: 0.3}.get(port, 0.05)
        self.later(delay, lambda: self.settle(conn, port))

    def open_gate(self, conn):
        """Drain exactly the filler, restore the send buffer, let go of the app end."""
        conn.dmn.setblocking(True)
        left = conn.filler
        while left > 0:
            left -= len(conn.dmn.recv(min(left, 65536)))
        conn.app_keep.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 212992)
        conn.app_keep.close()
        conn.app_keep = None

    def settle(self, conn, port):
        if port == 9:
            conn.state, conn.so_error, conn.read_error = S_FAILED, errno.ECONNREFUSED, \
                errno.ECONNREFUSED
            self.open_gate(conn)
            conn.dmn.shutdown(socket.SHUT_RDWR)
            return
        conn.state = S_ESTABLISHED
        self.open_gate(conn)
        if port == 11:
            conn.dmn.sendall(b"hello")
            conn.read_error = errno.EBADMSG
            conn.state = S_CLOSED
            conn.dmn.shutdown(socket.SHUT_RDWR)
        elif port == 12:
            conn.dmn.sendall(b"bye")
            conn.state = S_CLOSED
            conn.dmn.shutdown(socket.SHUT_WR)
            self.start_echo(conn)  # reads until the application closes
        else:
            if port == 14:
                conn.dmn.sendall(b"opts=%d\n" % conn.opts)
            self.start_echo(conn)

    def start_echo(self, conn):
        conn.echo = True
        conn.dmn.setblocking(True)
        self.sel.register(conn.dmn, selectors.EVENT_READ, lambda s: self.on_data(conn))

    def on_data(self, conn):
        try:
            data = conn.dmn.recv(65536)
        except OSError:
            data = b""
        if not data:
            # The application shut down or closed: a clean end both ways.
            self.sel.unregister(conn.dmn)
            try:
                conn.dmn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if conn.state == S_ESTABLISHED:
                conn.state = S_CLOSED
            return
        if conn.state == S_ESTABLISHED:
            try:
                conn.dmn.sendall(data)
            except OSError:
                pass

    def do_listen(self, c, req, fds):
        _op, _len, _err, backlog, opts = req[:5]
        local = sa_unpack(req[13], req[14])
        self.note("LISTEN %s %d backlog=%d opts=%d" % (
            local[0] if local else "?", local[1] if local else 0, backlog, opts))
        rop = OP_LISTEN + R_OFFSET
        if local is None:
            self.reply(c, HDR.pack(rop, HDR.size, errno.EINVAL))
            return
        host, port = local
        if is_loopback(host) and not ipaddress.ip_address(host).is_unspecified:
            self.reply(c, HDR.pack(rop, HDR.size, errno.EPERM))
            return
        if not (ipaddress.ip_address(host).is_unspecified or served(host)):
            self.reply(c, HDR.pack(rop, HDR.size, PASS))
            return
        kernel = socket.socket(fileno=os.dup(fds[0]))
        app, lst = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.reply(c, R_LISTEN.pack(rop, R_LISTEN.size, 0, *sa_pack(host, port)), [app.fileno()])
        app.close()
        v6 = ":" in host
        entry = {"lst": lst, "kernel": kernel}
        self.listeners.append(entry)
        for i in (1, 2):
            remote = ("2001:db8::200" if v6 else "198.51.100.200", 40000 + i)
            mine = ("2001:db8::1" if v6 else "198.51.100.1", port)
            self.deliver(lst, mine, remote, i, opts)
        kernel.setblocking(False)
        self.sel.register(kernel, selectors.EVENT_READ, lambda s: self.on_kernel(entry))
        self.sel.register(lst, selectors.EVENT_READ, lambda s: self.on_listener_closed(entry))

    def deliver(self, lst, local, remote, i, opts):
        app, dmn = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        app.setblocking(False)  # the library must apply accept4's flags itself
        conn = Conn(dmn, os.fstat(app.fileno()).st_ino, local, remote, role="B", opts=opts)
        conn.state = S_ESTABLISHED
        self.conns[conn.app_ino] = conn
        msg = ACCEPTED.pack(OP_ACCEPTED, ACCEPTED.size, 0, F_ENCRYPTED, *sa_pack(*local),
                            *sa_pack(*remote))
        try:
            socket.send_fds(lst, [msg], [app.fileno()])
            dmn.sendall(b"accepted %d\n" % i)
        except OSError:
            # The application closed the listener (and with it the queue)
            # while we were still filling it.
            return
        finally:
            app.close()
        self.start_echo(conn)

    def on_kernel(self, entry):
        try:
            k, peer = entry["kernel"].accept()
        except OSError:
            return
        mine = k.getsockname()
        msg = ACCEPTED.pack(OP_ACCEPTED, ACCEPTED.size, 0, F_KERNEL, *sa_pack(mine[0], mine[1]),
                            *sa_pack(peer[0], peer[1]))
        try:
            socket.send_fds(entry["lst"], [msg], [k.fileno()])
        except OSError:
            pass
        k.close()

    def on_listener_closed(self, entry):
        try:
            if entry["lst"].recv(1):
                return
        except OSError:
            pass
        self.sel.unregister(entry["lst"])
        self.sel.unregister(entry["kernel"])
        entry["lst"].close()
        entry["kernel"].close()

    def do_status(self, c, clear, fd):
        ino = os.fstat(fd).st_ino
        conn = self.conns.get(ino)
        self.note("STATUS %s clear=%d" % ("known" if conn else "unknown", clear))
        rop = OP_STATUS + R_OFFSET
        if conn is None:
            self.reply(c, HDR.pack(rop, HDR.size, errno.ENOENT))
            return
        msg = R_STATUS.pack(rop, R_STATUS.size, 0, conn.state, conn.so_error, conn.read_error,
                            F_ENCRYPTED if conn.encrypted else 0, *sa_pack(*conn.local),
                            *sa_pack(*conn.remote))
        if clear:
            conn.so_error = 0
        self.reply(c, msg)

    def do_opt(self, c, op, req, fd):
        name, vlen, value = req[3], req[4], req[5]
        rop = op + R_OFFSET
        self.note("%s %#x" % ("GETOPT" if op == OP_GETOPT else "SETOPT", name))
        if fd is None:
            # Only a cache flush comes without a connection.
            err = 0 if op == OP_SETOPT and name == TC["TCP_CRYPT_CACHE_FLUSH"] else errno.EINVAL
            self.reply(c, OPT.pack(rop, OPT.size, err, name, 0, b""))
            return
        if op == OP_SETOPT and name == 0:
            # TC_CTL_OPT_LISTENER: new options for a listener
            self.reply(c, OPT.pack(rop, OPT.size, 0, name, 0, b""))
            return
        conn = self.conns.get(os.fstat(fd).st_ino)
        if conn is None:
            self.reply(c, HDR.pack(rop, HDR.size, errno.ENOENT))
            return
        if op == OP_SETOPT:
            tcp_nodelay, tcp_keepidle, tcp_keepintvl, tcp_keepcnt = 1, 4, 5, 6
            sol = 0x10000  # TC_CTL_OPT_SOCKET(SO_*)
            err = 0 if name in (TC["TCP_CRYPT_APP_AWARE"], tcp_nodelay, tcp_keepidle, tcp_keepintvl,
                                tcp_keepcnt, sol | socket.SO_KEEPALIVE,
                                sol | socket.SO_LINGER) else errno.EISCONN
            self.reply(c, OPT.pack(rop, OPT.size, err, name, 0, b""))
            return
        val = None
        if conn.encrypted and conn.state != S_CONNECTING:
            port = conn.remote[1] if conn.role == "A" else conn.local[1]
            if name == TC["TCP_CRYPT_SESSID"]:
                val = sessid(port)
            elif name == TC["TCP_CRYPT_ROLE"]:
                val = struct.pack("=i", ord(conn.role))
            elif name == TC["TCP_CRYPT_TEP"]:
                val = struct.pack("=i", 0x23)
            elif name == TC["TCP_CRYPT_APP_AWARE"]:
                val = struct.pack("=i", 0)
        if val is None:
            self.reply(c, HDR.pack(rop, HDR.size, errno.ENOPROTOOPT))
            return
        self.reply(c, OPT.pack(rop, OPT.size, 0, name, len(val), val))

    # ------------------------------------------------------------ loop
    def run(self):
        while True:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, _ in self.sel.select(timeout):
                self.guard(key.data, key.fileobj)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                self.guard(fn)

    def guard(self, fn, *args):
        """A bug in the mock is logged (run_mock.sh fails on it), not fatal."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001
            for line in traceback.format_exc().splitlines():
                self.note("ERROR " + line)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--control", required=True)
    p.add_argument("--log")
    p.add_argument("--tap")
    p.add_argument("--addr", action="append")
    p.add_argument("--gw")
    p.add_argument("--keylog")
    args = p.parse_args()
    if os.environ.get("MOCKD_ARGS"):
        with open(os.environ["MOCKD_ARGS"], "w") as f:
            f.write(" ".join(sys.argv[1:]) + "\n")
            f.write("LD_PRELOAD=%s\n" % os.environ.get("LD_PRELOAD", ""))
    if os.environ.get("MOCKD_PIDFILE"):
        with open(os.environ["MOCKD_PIDFILE"], "w") as f:
            f.write("%d\n" % os.getpid())
    if os.environ.get("MOCKD_FAIL"):
        print("starting")
        sys.stderr.write("mockd: first line\n%s\n" % os.environ["MOCKD_FAIL"])
        sys.exit(1)
    if os.environ.get("MOCKD_HANG"):
        while True:
            time.sleep(1)

    def stop(_sig, _frame):
        try:
            os.unlink(args.control)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    Mock(args.control, args.log).run()


if __name__ == "__main__":
    main()
