#!/usr/bin/python3
"""Send and receive a byte stream over one TCP connection, both ways at once.

  xfer.py server PORT BYTES [--sessid-opt N]
  xfer.py client HOST PORT BYTES [--sessid-opt N]

Each side sends BYTES bytes of a deterministic pattern (a plaintext marker
every kilobyte), half-closes, reads until EOF, and prints one JSON line:
sha256 of what it sent and received, byte counts, the session ID from
getsockopt(IPPROTO_TCP, N) or the errno name, and the error that ended the
read if any.  Exit status: 0 on a clean EOF, 3 when a read failed, 4 when the connect
failed (the line then holds connect_error).
Plain socket calls only, so under LD_PRELOAD it behaves as any program.
"""
import errno
import hashlib
import json
import socket
import sys
import threading

MARKER = b"TCPCRYPT-PLAINTEXT-MARKER:"


def pattern(n):
    block = bytearray()
    i = 0
    while len(block) < 1 << 16:
        block += MARKER + b"%020d" % i + bytes(range(256)) * 3 + b"\n"
        i += 1
    block = bytes(block)
    out, left = [], n
    while left > 0:
        out.append(block[: min(left, len(block))])
        left -= len(out[-1])
    return b"".join(out)


def run(sock, nbytes, sessid_opt):
    data = pattern(nbytes)
    result = {"sent": len(data), "sent_sha256": hashlib.sha256(data).hexdigest()}

    def sender():
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["send_error"] = errno.errorcode.get(e.errno, str(e.errno))

    t = threading.Thread(target=sender)
    t.start()
    h, got, err = hashlib.sha256(), 0, None
    prefix_ok = True
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except OSError as e:
            err = errno.errorcode.get(e.errno, str(e.errno))
            break
        if not chunk:
            break
        # What arrived must be exactly the peer's pattern so far: never
        # altered bytes (the pattern is the same on both sides).
        if chunk != data[got:got + len(chunk)] and got + len(chunk) <= len(data):
            prefix_ok = False
        h.update(chunk)
        got += len(chunk)
    t.join()
    result.update(received=got, received_sha256=h.hexdigest(), read_error=err,
                  prefix_ok=prefix_ok)
    if sessid_opt is not None:
        try:
            sid = sock.getsockopt(socket.IPPROTO_TCP, sessid_opt, 33)
            result["sessid"] = sid.hex()
        except OSError as e:
            result["sessid"] = errno.errorcode.get(e.errno, str(e.errno))
    print(json.dumps(result), flush=True)
    return 3 if err else 0


def main(argv):
    sessid_opt = None
    if "--sessid-opt" in argv:
        i = argv.index("--sessid-opt")
        sessid_opt = int(argv[i + 1], 0)
        del argv[i:i + 2]
    if argv[1] == "server":
        port, nbytes = int(argv[2]), int(argv[3])
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(4)
        print(json.dumps({"listening": port}), flush=True)
        sock, _ = ls.accept()
    else:
        host, port, nbytes = argv[2], int(argv[3]), int(argv[4])
        try:
            sock = socket.create_connection((host, port), timeout=60)
        except OSError as e:
            # One JSON line for a failed connect too (exit status 4).
            print(json.dumps({"connect_error": errno.errorcode.get(e.errno, str(e.errno))}),
                  flush=True)
            return 4
        sock.settimeout(None)
    return run(sock, nbytes, sessid_opt)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
