#!/usr/bin/python3
"""Write hand-made seed inputs of the fuzz targets into tests/fuzz/corpus/<target>/.

  make_seeds.py [CORPUS_DIR]

Init1 and Init2 messages of every TEP and a few prefixes of them (from
tests/vectors/tcpcrypt-kat.txt), frame streams, resumption suboptions,
TCP-ENO options areas in the forms RFC 8547 describes, and control
requests of every operation.  fuzz_input's seeds come from
make_input_seeds.py.  Files are named seed-*; inputs the fuzzers found are
kept beside them under other names.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KAT = os.path.join(HERE, "..", "vectors", "tcpcrypt-kat.txt")


def kat_records():
    rec = {}
    for line in open(KAT):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            if rec:
                yield rec
                rec = {}
            continue
        k, _, v = line.partition(" = ")
        rec[k.strip()] = v.strip()
    if rec:
        yield rec


def init_seeds():
    out1, out2 = {}, {}
    for r in kat_records():
        if r.get("kind") != "fresh" or "init1" not in r:
            continue
        tep = r["name"].split("-")[0]
        if tep in out1:
            continue
        i1, i2 = bytes.fromhex(r["init1"]), bytes.fromhex(r["init2"])
        out1[tep] = i1
        out2[tep] = i2
        out1[tep + "-truncated"] = i1[: len(i1) // 2]
        out2[tep + "-tail"] = i2 + b"\x00" * 7
    return out1, out2


def eno_seeds():
    # Byte 0: split point (low 6 bits) and flags; then two options areas.
    a = b"\x02\x04\x05\xb4" + b"\x45\x04\x21\x23"       # MSS, ENO: TEPs 0x21 0x23
    b = b"\x01\x01\x45\x05\x01\x24\x23"                 # NOPs, ENO: b = 1, TEPs
    resume = b"\x45\x0e\x01" + b"\xa3" + bytes(range(10))  # v = 1 with data to the end
    lenbyte = b"\x45\x08\x83\xa1\x01\x02\x03\x04"          # a length byte then v = 1
    return {
        "syn-and-synack": bytes([len(a)]) + a + b,
        "same-role": bytes([len(a)]) + a + a,
        "aa-mandatory": bytes([0x40 | 4]) + b"\x45\x04\x02\x23" + b"\x45\x04\x03\x23",
        "resumption": bytes([len(a)]) + a + resume,
        "length-byte": bytes([0x80 | len(lenbyte)]) + lenbyte + b,
        "malformed": bytes([5]) + b"\x45\x05\x01\x9f\x20" + b,
        "duplicate": bytes([8]) + b"\x45\x03\x21\x01\x45\x03\x21\x01" + b,
        "fit": bytes([0]) + bytes([40, 3, 2, 8]),
    }


def ctl_seeds():
    hdr = lambda op, n: struct.pack("=HHi", op, n, 0)
    sockopts = struct.pack("=IIBBBB", 0, 0, 1, 0, 0, 0) + bytes(8) + bytes(16) + bytes(16)
    addr = struct.pack("=I", 16) + struct.pack("=HH4s", 2, 80, b"\x0a\x00\x00\x01") + bytes(120)
    connect = struct.pack("=I", 0) + sockopts + addr + addr
    out = {
        "hello": hdr(1, 8),
        "status": hdr(4, 12) + struct.pack("=I", 1),
        "admin-status": hdr(7, 16) + struct.pack("=II", 1, 0),
        "admin-flush": hdr(7, 16) + struct.pack("=II", 4, 0),
    }
    opt = struct.pack("=iI", 0x7c01, 4) + bytes(280)
    out["getopt"] = hdr(5, 8 + len(opt)) + opt
    bad = struct.pack("=iI", 0x7c02, 281) + bytes(280)
    out["setopt-long-value"] = hdr(6, 8 + len(bad)) + bad
    out["connect-short"] = hdr(2, 8 + len(connect)) + connect
    out["unknown-op"] = hdr(99, 8)
    return out


def resume_seeds():
    # Byte 0: the TEP; then a suboption: identifier half (9 bytes) and nonce.
    return {
        "x25519": bytes([0xa3]) + bytes(range(9)) + bytes(8),
        "short-nonce": bytes([0xa3]) + bytes(range(9)) + b"\x01\x02\x03",
        "no-nonce": bytes([0xa4]) + bytes(range(9)),
        "too-short": bytes([0xa3, 1, 2, 3]),
    }


def frame_seeds():
    # Byte 0: mode (even: a hostile stream; odd: frames the target seals).
    return {
        "stream-zero": b"\x00" + bytes(64),
        "stream-lengths": b"\x02" + b"\x00\x20" + bytes(32) + b"\x00\x01\x01",
        "sealed": b"\x01" + bytes(range(1, 200)),
        "sealed-rekey": b"\x01" + b"\x10" * 20 + b"\x5a" + b"\x20" * 20,
    }


def main(argv):
    top = argv[1] if len(argv) > 1 else os.path.join(HERE, "corpus")
    i1, i2 = init_seeds()
    sets = {"fuzz_init1": i1, "fuzz_init2": i2, "fuzz_eno": eno_seeds(), "fuzz_ctl": ctl_seeds(),
            "fuzz_resume": resume_seeds(), "fuzz_frame": frame_seeds()}
    for target, seeds in sets.items():
        d = os.path.join(top, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main(sys.argv)
