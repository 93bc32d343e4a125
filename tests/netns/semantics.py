#!/usr/bin/python3
"""Socket semantics checks for tests/netns/semantics.sh, run under
tcpcrypt-run.  Each client command prints one JSON line with its findings.

  semantics.py server PORT            echo server (selectors), any number of
                                      concurrent clients, until killed
  semantics.py select1023 HOST PORT   the connection moved to fd 1020, select()
  semantics.py linger HOST PORT       SO_LINGER {1, 0} then close()
  semantics.py rcvtimeo HOST PORT     SO_RCVTIMEO 0.3 s set before connect(), idle recv()
  semantics.py tcpinfo HOST PORT      TCP_INFO after moving 1 MB
  semantics.py keepalive HOST PORT    SO_KEEPALIVE, TCP_KEEPIDLE/INTVL 1, idle 4 s
  semantics.py hold HOST PORT FILE    connect, write FILE, then block in recv()
  semantics.py many HOST PORT N       N concurrent connections, each echoes
  semantics.py nbconnect HOST PORT    non-blocking connect, then SO_ERROR
"""
import errno
import json
import os
import resource
import selectors
import socket
import struct
import sys
import time

TCP_INFO_FMT = "7Bx24I"  # glibc struct tcp_info up to tcpi_total_retrans


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


def out(**kw):
    print(json.dumps(kw), flush=True)


def server(port):
    raise_nofile(30000)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    print("listening", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                while True:
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    # Blocking writes: clients send at most 64 KiB before
                    # reading the echo.
                    c.setblocking(True)
                    sel.register(c, selectors.EVENT_READ, "c")
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    c.sendall(data)
                except OSError:
                    pass
            else:
                sel.unregister(c)
                c.close()


def connect(host, port):
    return socket.create_connection((host, port), 10)


def echo(s, data):
    """Send data in 64 KiB pieces, each echoed before the next."""
    for off in range(0, len(data), 65536):
        piece = data[off:off + 65536]
        s.sendall(piece)
        got = b""
        while len(got) < len(piece):
            chunk = s.recv(65536)
            if not chunk:
                return False
            got += chunk
        if got != piece:
            return False
    return True


def select1023(host, port):
    import select
    s = connect(host, port)
    fd = 1020
    os.dup2(s.fileno(), fd)
    s.close()
    os.write(fd, b"ping")
    r, _, _ = select.select([fd], [], [], 10)
    data = os.read(fd, 100) if r else b""
    w = select.select([], [fd], [], 10)[1]
    os.close(fd)
    out(readable=bool(r), writable=bool(w), echo=data.decode())


def rcvtimeo(host, port):
    """SO_RCVTIMEO set before connect() bounds a blocking recv()."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 300000))
    s.connect((host, port))
    ok = echo(s, b"t")
    t0 = time.monotonic()
    try:
        s.recv(10)
        res = "data"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out(echo=ok, result=res, seconds=round(time.monotonic() - t0, 2))


def linger(host, port):
    s = connect(host, port)
    ok = echo(s, b"x")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out(echo=ok)


def tcpinfo(host, port):
    s = connect(host, port)
    ok = echo(s, os.urandom(1 << 20))
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, struct.calcsize(TCP_INFO_FMT))
    v = struct.unpack(TCP_INFO_FMT, raw)
    names = ["state", "ca_state", "retransmits", "probes", "backoff", "options", "wscale",
             "rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost", "retrans",
             "fackets", "last_data_sent", "last_ack_sent", "last_data_recv", "last_ack_recv",
             "pmtu", "rcv_ssthresh", "rtt", "rttvar", "snd_ssthresh", "snd_cwnd", "advmss",
             "reordering", "rcv_rtt", "rcv_space", "total_retrans"]
    info = dict(zip(names, v))
    s.close()
    out(echo=ok, **info)


def keepalive(host, port):
    s = connect(host, port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    idle = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 0)
        bad = "accepted"
    except OSError as e:
        bad = errno.errorcode.get(e.errno, str(e.errno))
    time.sleep(4)
    ok = echo(s, b"after idle")
    s.close()
    out(idle=idle, zero_idle=bad, echo=ok)


def nbconnect(host, port):
    """Non-blocking connect; wait for the result; SO_ERROR tells it."""
    import select
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    t0 = time.monotonic()
    err = s.connect_ex((host, port))
    first = errno.errorcode.get(err, str(err))
    p = select.poll()
    p.register(s, select.POLLOUT)
    ev = p.poll(120000)
    so = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    out(first=first, events=ev[0][1] if ev else 0, so_error=errno.errorcode.get(so, str(so)),
        seconds=round(time.monotonic() - t0, 1))


def hold(host, port, path):
    s = connect(host, port)
    ok = echo(s, b"one")
    with open(path, "w") as f:
        f.write("connected\n")
    t0 = time.monotonic()
    try:
        data = s.recv(100)
        res = "EOF" if not data else "data"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out(echo=ok, result=res, seconds=round(time.monotonic() - t0, 3))


def many(host, port, n):
    raise_nofile(n + 1000)
    socks = []
    t0 = time.monotonic()
    for i in range(n):
        socks.append(connect(host, port))
    t1 = time.monotonic()
    # Every connection alive at once: each echoes its own number.
    bad = 0
    bad_ports = []
    for i, s in enumerate(socks):
        s.sendall(b"%08d" % i)
    for i, s in enumerate(socks):
        got = b""
        try:
            while len(got) < 8:
                chunk = s.recv(8 - len(got))
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        if got != b"%08d" % i:
            bad += 1
            if len(bad_ports) < 5:
                bad_ports.append(s.getsockname()[1])
                print("no echo on connection %d (port %d)" % (i, bad_ports[-1]), file=sys.stderr,
                      flush=True)
                if os.environ.get("SEM_PAUSE"):
                    time.sleep(float(os.environ["SEM_PAUSE"]))
            else:
                break  # enough to look into; the rest are not checked
    for s in socks:
        s.close()
    out(connections=n, bad=bad, bad_ports=bad_ports, connect_seconds=round(t1 - t0, 1),
        seconds=round(time.monotonic() - t0, 1))


def main():
    cmd = sys.argv[1]
    if cmd == "server":
        server(int(sys.argv[2]))
        return
    host, port = sys.argv[2], int(sys.argv[3])
    if cmd == "nbconnect":
        nbconnect(host, port)
    elif cmd == "hold":
        hold(host, port, sys.argv[4])
    elif cmd == "many":
        many(host, port, int(sys.argv[4]))
    else:
        {"select1023": select1023, "linger": linger, "rcvtimeo": rcvtimeo, "tcpinfo": tcpinfo,
         "keepalive": keepalive}[cmd](host, port)


if __name__ == "__main__":
    main()
