#!/usr/bin/python3
"""Send one file's bytes over a TCP connection and save what the peer sent.

  msg_peer.py server PORT SEND_FILE RECV_FILE
  msg_peer.py client HOST PORT SEND_FILE RECV_FILE

The server accepts one connection.  Each side sends its file (in writes of
varying sizes, so frames of several sizes cross the link), half-closes, reads
until EOF and writes the received bytes to RECV_FILE.  The server prints
"listening" once it accepts connections.  Plain socket calls only, so it
behaves as any program under tcpcrypt-run.
"""
import socket
import sys
import threading


def exchange(sock, send_path, recv_path):
    with open(send_path, "rb") as fh:
        data = fh.read()
    err = []

    def sender():
        try:
            off, step = 0, 1
            while off < len(data):
                sock.sendall(data[off:off + step])
                off += step
                step = min(step * 3 + 1, 9000)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t.start()
    got = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    t.join()
    with open(recv_path, "wb") as fh:
        fh.write(got)
    if err:
        print("send failed: %s" % err[0], file=sys.stderr)
        return 1
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", int(argv[2])))
        ls.listen(1)
        print("listening", flush=True)
        conn, _ = ls.accept()
        ls.close()
        with conn:
            return exchange(conn, argv[3], argv[4])
    if len(argv) == 6 and argv[1] == "client":
        with socket.create_connection((argv[2], int(argv[3])), timeout=60) as s:
            s.settimeout(None)
            return exchange(s, argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
