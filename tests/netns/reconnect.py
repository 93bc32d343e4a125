#!/usr/bin/python3
"""N connections, one after another, each exchanging BYTES both ways.

  reconnect.py server PORT N BYTES [--sessid-opt N]
  reconnect.py client HOST PORT N BYTES [--sessid-opt N]

The server accepts N connections in turn; the client opens N in turn.  Each
connection runs xfer.py's exchange (pattern both ways, half-close, read to
EOF) and prints its JSON line, with "conn" numbering it.  Exit status: 0 when
every connection ended cleanly, 3 otherwise.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xfer  # noqa: E402


def main(argv):
    sessid_opt = None
    if "--sessid-opt" in argv:
        i = argv.index("--sessid-opt")
        sessid_opt = int(argv[i + 1], 0)
        del argv[i:i + 2]
    rc = 0
    if argv[1] == "server":
        port, n, nbytes = int(argv[2]), int(argv[3]), int(argv[4])
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(4)
        print(json.dumps({"listening": port}), flush=True)
        for k in range(n):
            sock, _ = ls.accept()
            rc |= xfer.run(sock, nbytes, sessid_opt)
            sock.close()
    else:
        host, port, n, nbytes = argv[2], int(argv[3]), int(argv[4]), int(argv[5])
        for k in range(n):
            sock = socket.create_connection((host, port), timeout=60)
            sock.settimeout(None)
            rc |= xfer.run(sock, nbytes, sessid_opt)
            sock.close()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
