#!/usr/bin/python3
"""Read a capture of tcpcrypt connections for the resumption test.

  resume_pcap.py PCAP PORT KEYLOG...

For each TCP connection to PORT (tshark's stream index), in order: the ENO
option of the SYN and of the SYN-ACK, whether each carries a resumption
suboption (a TEP byte with v = 1 and at least 9 bytes of data, RFC 8548
§3.5), and whether either direction's stream starts with an Init1 or Init2
magic (RFC 8548 §4.3).  For each resumed connection it also finds the
TCPCRYPT_SS line of the key logs whose secret ss[i] gives, as resume[i] =
CPRF(ss[i], CONST_RESUME, 18), the identifier halves seen in the SYN and
SYN-ACK (what a dissector does).  Prints one JSON line per connection.
"""
import hashlib
import hmac
import json
import subprocess
import sys

INIT1 = bytes.fromhex("15101a0e")
INIT2 = bytes.fromhex("097105e0")


def eno_of(opts):
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        ln = opts[i + 1]
        if k == 69:
            return opts[i + 2:i + ln]
        i += ln
    return None


def resumption(eno):
    """(tep, half, nonce) of the last v = 1 suboption with data to the end."""
    if eno is None:
        return None
    i = 0
    while i < len(eno):
        b = eno[i]
        if b < 0x80:
            i += 1
        elif b < 0xa0:
            i += 2 + (b & 0x1f) + 1
        else:
            data = eno[i + 1:]
            if len(data) >= 9:
                return (b & 0x7f, data[:9], data[9:])
            return None
    return None


def cprf(key, info, n):
    return hmac.new(key, info + b"\x01", hashlib.sha256).digest()[:n]


def main(argv):
    pcap, port, keylogs = argv[1], int(argv[2]), argv[3:]
    ss_lines = []
    for path in keylogs:
        for line in open(path):
            f = line.split()
            if len(f) == 3 and f[0] == "TCPCRYPT_SS":
                ss_lines.append((f[1], bytes.fromhex(f[2])))
    out = subprocess.run(
        ["tshark", "-r", pcap, "-o", "tcp.relative_sequence_numbers:TRUE", "-T", "fields",
         "-E", "separator=|", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.flags.syn",
         "-e", "tcp.flags.ack", "-e", "tcp.seq", "-e", "tcp.options", "-e", "tcp.payload",
         "tcp.port == %d" % port], capture_output=True, text=True, check=True).stdout
    conns = {}
    for line in out.splitlines():
        st, sport, syn, ack, seq, opts, payload = (line.split("|") + [""] * 7)[:7]
        c = conns.setdefault(int(st), {"syn": None, "synack": None, "init": False,
                                       "first": {}})
        opts = bytes.fromhex(opts.replace(":", ""))
        payload = bytes.fromhex(payload.replace(":", ""))
        if syn == "1" and ack == "0" and c["syn"] is None:
            c["syn"] = eno_of(opts)
        elif syn == "1" and ack == "1" and c["synack"] is None:
            c["synack"] = eno_of(opts)
        elif payload and seq == "1":
            c["first"][sport] = payload[:4]
    for k in sorted(conns):
        c = conns[k]
        r_syn, r_synack = resumption(c["syn"]), resumption(c["synack"])
        init = any(p in (INIT1, INIT2) for p in c["first"].values())
        keylog_sid = None
        if r_syn and r_synack:
            for sid, ss in ss_lines:
                rid = cprf(ss, b"\x06", 18)
                if {rid[:9], rid[9:]} == {r_syn[1], r_synack[1]}:
                    keylog_sid = sid
        print(json.dumps({
            "stream": k,
            "syn_eno": c["syn"].hex() if c["syn"] is not None else None,
            "synack_eno": c["synack"].hex() if c["synack"] is not None else None,
            "syn_resume": r_syn is not None,
            "synack_resume": r_synack is not None,
            "syn_nonce": len(r_syn[2]) if r_syn else None,
            "synack_nonce": len(r_synack[2]) if r_synack else None,
            "init_seen": init,
            "streams_seen": len(c["first"]),
            "keylog_sid": keylog_sid,
        }))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
