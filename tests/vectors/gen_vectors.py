#!/usr/bin/python3
"""Independent known-answer-test generator for tcpcrypt (RFC 8548) over TCP-ENO (RFC 8547).

Written from the RFC text only.  Usage (run with Debian's /usr/bin/python3):
    /usr/bin/python3 tests/vectors/gen_vectors.py               # print vectors to stdout
    /usr/bin/python3 tests/vectors/gen_vectors.py --out FILE    # write vectors to FILE
    /usr/bin/python3 tests/vectors/gen_vectors.py --check FILE  # exit 1 if FILE differs
Every input is derived from SHA-256 of a label, so the output is byte-for-byte reproducible.
"""
import argparse, hashlib, hmac, sys
from cryptography.hazmat.primitives.asymmetric import ec, x25519, x448
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# RFC 8548 §4.3, Table 1: constants.
CONST_NEXTK, CONST_SESSID, CONST_REKEY = b"\x01", b"\x02", b"\x03"
CONST_KEY_A, CONST_KEY_B, CONST_RESUME = b"\x04", b"\x05", b"\x06"
INIT1_MAGIC, INIT2_MAGIC = bytes.fromhex("15101a0e"), bytes.fromhex("097105e0")
# RFC 8548 §5: N_A_LEN = N_B_LEN = K_LEN = 32 for all four TEPs.
N_LEN = K_LEN = 32
# RFC 8548 §7 Table 4 (TEPs) and Table 5 + §6 Table 3 (AEAD id -> name, ae_key_len, class).
TEPS = {0x21: "p256", 0x22: "p521", 0x23: "x25519", 0x24: "x448"}
AEADS = {0x0001: ("aes128gcm", 16, AESGCM), 0x0002: ("aes256gcm", 32, AESGCM),
         0x0010: ("chacha20poly1305", 32, ChaCha20Poly1305)}
AE_NONCE_LEN = 12  # RFC 8548 §6 Table 3: 12 bytes for all three AEADs
TAG_LEN = 16       # RFC 5116 §5.1/§5.2, RFC 8439 §2.8: 16-byte tag


def det(label, n):
    """Deterministic 'random' bytes: SHA-256 blocks of b"tcpcrypt-kat|" + label [+ "|i"]."""
    out, i = b"", 0
    while len(out) < n:
        suffix = b"" if i == 0 else b"|%d" % i
        out += hashlib.sha256(b"tcpcrypt-kat|" + label.encode() + suffix).digest()
        i += 1
    return out[:n]


# RFC 8548 §3.1, Figure 1 (RFC 5869 §2.2): PRK = HMAC-Hash(salt, IKM).
def extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


# RFC 8548 §3.1, Figure 1 (RFC 5869 §2.3): T(n) = HMAC-Hash(PRK, T(n-1) | CONST | n), n one octet;
# CPRF(K, CONST, L) = first L octets of T(1) | T(2) | ...
def cprf(prk, const, length):
    assert length <= 255 * 32
    okm, t, n = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + const + bytes([n]), hashlib.sha256).digest()
        okm, n = okm + t, n + 1
    return okm[:length]


def self_test():
    # RFC 5869 Appendix A.1-A.3 (SHA-256 cases).
    for ikm, salt, info, L, prk, okm in [
        ("0b" * 22, "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        (bytes(range(0x00, 0x50)).hex(), bytes(range(0x60, 0xb0)).hex(),
         bytes(range(0xb0, 0x100)).hex(), 82,
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        ("0b" * 22, "", "", 42,
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")]:
        p = extract(bytes.fromhex(salt), bytes.fromhex(ikm))
        assert p.hex() == prk and cprf(p, bytes.fromhex(info), L).hex() == okm, "RFC 5869 KAT"
    # RFC 7748 §6.1 X25519 Diffie-Hellman.
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert pub_wire(0x23, a).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert pub_wire(0x23, b).hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    assert ecdh(0x23, a, pub_wire(0x23, b)).hex() == \
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "RFC 7748 KAT"
    # RFC 5903 §8.1 P-256 (shared secret = x-coordinate girx).
    i = bytes.fromhex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433")
    r = bytes.fromhex("c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53")
    assert ecdh(0x21, i, pub_wire(0x21, r)).hex() == \
        "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de", "RFC 5903 KAT"
    for tep, n in P_ORDER.items():  # the group orders: n - 1 is a valid scalar, n is not
        _ec_priv(tep, (n - 1).to_bytes(CURVES[tep][1], "big"))
        try:
            _ec_priv(tep, n.to_bytes(CURVES[tep][1], "big"))
            raise AssertionError("wrong group order")
        except ValueError:
            pass


# RFC 8548 §5: key-agreement schemes.
CURVES = {0x21: (ec.SECP256R1(), 32), 0x22: (ec.SECP521R1(), 66)}  # curve, field/scalar bytes
P_ORDER = {0x21: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
           0x22: int("01ff" + "ff" * 31 + "fa51868783bf2f966b7fcc0148f709a5"
                     "d03bb5c9b8899c47aebb6fb71e91386409", 16)}


def priv_key(tep, label):
    """Raw private key: X25519 32 bytes, X448 56 bytes, P-curves a big-endian scalar in 1..n-1."""
    if tep == 0x23:
        return det(label, 32)
    if tep == 0x24:
        return det(label, 56)
    size, n = CURVES[tep][1], P_ORDER[tep]
    d = int.from_bytes(det(label, size + 16), "big") % (n - 1) + 1
    return d.to_bytes(size, "big")


def _ec_priv(tep, raw):
    return ec.derive_private_key(int.from_bytes(raw, "big"), CURVES[tep][0])


# RFC 8548 §5: X25519/X448 public keys are sent raw (32 / 56 bytes).  P-256/P-521 public keys are
# IEEE 1363 compressed points prefixed by pubkey_len (2 bytes, big-endian); the figure numbers the
# bytes 0..L-1 with pubkey_len = L, so L counts the 2-byte prefix (35 for P-256, 69 for P-521).
def pub_wire(tep, raw):
    if tep == 0x23:
        return x25519.X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
    if tep == 0x24:
        return x448.X448PrivateKey.from_private_bytes(raw).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
    pt = _ec_priv(tep, raw).public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    assert pt[0] in (2, 3) and len(pt) == 1 + CURVES[tep][1]
    return (len(pt) + 2).to_bytes(2, "big") + pt


def pub_wire_len(tep):
    return {0x21: 35, 0x22: 69, 0x23: 32, 0x24: 56}[tep]


# RFC 8548 §3.3/§5: ES = key agreement of own private key and peer's public key.  P-curves use
# ECSVDP-DH (shared secret = x-coordinate, 32 / 66 bytes); X25519/X448 reject the all-zero value.
def ecdh(tep, raw_priv, peer_wire):
    if tep == 0x23:
        es = x25519.X25519PrivateKey.from_private_bytes(raw_priv).exchange(
            x25519.X25519PublicKey.from_public_bytes(peer_wire))
    elif tep == 0x24:
        es = x448.X448PrivateKey.from_private_bytes(raw_priv).exchange(
            x448.X448PublicKey.from_public_bytes(peer_wire))
    else:
        assert int.from_bytes(peer_wire[:2], "big") == len(peer_wire)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[tep][0], peer_wire[2:])
        es = _ec_priv(tep, raw_priv).exchange(ec.ECDH(), peer)
        assert len(es) == CURVES[tep][1]
    assert any(es), "all-zero shared secret"
    return es


# RFC 8548 §4.1: Init1 = INIT1_MAGIC | message_len(4) | nciphers(1) | sym_cipher[K] (2 each)
#                         | N_A | Pub_A | ignored;   message_len counts the whole message.
def encode_init1(ciphers, n_a, pub_a, tail):
    body = bytes([len(ciphers)]) + b"".join(c.to_bytes(2, "big") for c in ciphers) + n_a + pub_a + tail
    return INIT1_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


# RFC 8548 §4.1: Init2 = INIT2_MAGIC | message_len(4) | sym_cipher(2) | N_B | Pub_B | ignored.
def encode_init2(aead, n_b, pub_b, tail):
    body = aead.to_bytes(2, "big") + n_b + pub_b + tail
    return INIT2_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


# RFC 8548 §3.3: master keys mk[0] = CPRF(ss[i], CONST_REKEY | sn[i], K_LEN),
# mk[j] = CPRF(mk[j-1], CONST_REKEY, K_LEN); traffic keys k_ab[j] / k_ba[j] =
# CPRF(mk[j], CONST_KEY_A / CONST_KEY_B, ae_key_len + ae_nonce_len).
def key_sets(ss, sn, aead, gens):
    klen = AEADS[aead][1] + AE_NONCE_LEN
    mk, out = cprf(ss, CONST_REKEY + sn, K_LEN), []
    for j in range(gens):
        if j:
            mk = cprf(mk, CONST_REKEY, K_LEN)
        out.append((mk, cprf(mk, CONST_KEY_A, klen), cprf(mk, CONST_KEY_B, klen)))
    return out


# RFC 8548 §3.4: session_id[i] = TEP-byte | CPRF(ss[i], CONST_SESSID | sn[i], K_LEN).
def session_id(tep_byte, ss, sn):
    return bytes([tep_byte]) + cprf(ss, CONST_SESSID + sn, K_LEN)


# RFC 8548 §3.3 (PRK, ss chain, keys), §3.4 (session ID), §3.5 (resume[1]); RFC 8547 §4.8 transcript.
def fresh(name, tep, ciphers, aead, transcript, tails=(b"", b"")):
    assert aead in ciphers and transcript[-1] == tep  # B's option ends with the chosen TEP, v = 0
    priv_a, priv_b = priv_key(tep, name + "|priv_a"), priv_key(tep, name + "|priv_b")
    n_a, n_b = det(name + "|n_a", N_LEN), det(name + "|n_b", N_LEN)
    pub_a, pub_b = pub_wire(tep, priv_a), pub_wire(tep, priv_b)
    assert len(pub_a) == len(pub_b) == pub_wire_len(tep)
    init1 = encode_init1(ciphers, n_a, pub_a, tails[0])
    init2 = encode_init2(aead, n_b, pub_b, tails[1])
    es = ecdh(tep, priv_a, pub_b)
    assert es == ecdh(tep, priv_b, pub_a)
    ss = [extract(n_a, transcript + init1 + init2 + es)]  # ss[0] = PRK
    for _ in range(2):
        ss.append(cprf(ss[-1], CONST_NEXTK, K_LEN))
    ks = key_sets(ss[0], b"", aead, 3)
    return [("kind", "fresh"), ("name", name), ("tep", bytes([tep])),
            ("ciphers", b"".join(c.to_bytes(2, "big") for c in ciphers)),
            ("aead", aead.to_bytes(2, "big")), ("transcript", transcript),
            ("priv_a", priv_a), ("priv_b", priv_b), ("n_a", n_a), ("n_b", n_b),
            ("init1_tail", tails[0]), ("init2_tail", tails[1]), ("pub_a", pub_a), ("pub_b", pub_b),
            ("init1", init1), ("init2", init2), ("es", es)] + \
        [("ss%d" % i, ss[i]) for i in range(3)] + [("mk%d" % j, ks[j][0]) for j in range(3)] + \
        [("kab%d" % j, ks[j][1]) for j in range(3)] + [("kba%d" % j, ks[j][2]) for j in range(3)] + \
        [("sid", session_id(tep, ss[0], b"")), ("resume1", cprf(ss[1], CONST_RESUME, 18))]


# RFC 8548 §3.5: resume[i] = CPRF(ss[i], CONST_RESUME, 18); the host originally A sends
# TEP|v=1, resume[i]{0..8}, nonce_a; the host originally B sends TEP|v=1, resume[i]{9..17}, nonce_b;
# sn[i] = nonce_a | nonce_b; the session ID's first byte has v = 1; ss[i+1] is cached next.
def resume(name, tep, aead, ss, active_was_a, nonce_a, nonce_b):
    assert len(nonce_a) <= 8 and len(nonce_b) <= 8
    rid, tb = cprf(ss, CONST_RESUME, 18), tep | 0x80
    sub_a, sub_b = bytes([tb]) + rid[:9] + nonce_a, bytes([tb]) + rid[9:] + nonce_b
    sn = nonce_a + nonce_b
    mk, kab, kba = key_sets(ss, sn, aead, 1)[0]
    return [("kind", "resume"), ("name", name), ("tep", bytes([tep])),
            ("aead", aead.to_bytes(2, "big")), ("ss", ss),
            ("active_was_a", b"\x01" if active_was_a else b"\x00"),
            ("nonce_a", nonce_a), ("nonce_b", nonce_b), ("resume", rid),
            ("subopt_active", sub_a if active_was_a else sub_b),
            ("subopt_passive", sub_b if active_was_a else sub_a),
            ("sn", sn), ("mk0", mk), ("kab0", kab), ("kba0", kba),
            ("sid", session_id(tb, ss, sn)), ("ss_next", cprf(ss, CONST_NEXTK, K_LEN))]


# RFC 8548 §3.6 + §4.2: frame = control | clen(2, BE) | ciphertext;  plaintext = flags [| urgent] | data
# (§4.2.1, urgent present iff URGp = bit 1);  AD = control | clen (§4.2.2);  frame ID = zeros |
# offset(8, BE) to ae_nonce_len (§4.2.3);  N = frame_ID XOR NR, with key = K | NR (Figure 4).
def frame(name, aead, key, offset, control, flags, urgent, data):
    assert len(key) == AEADS[aead][1] + AE_NONCE_LEN and bool(flags & 2) == (len(urgent) == 2)
    k, nr = key[:AEADS[aead][1]], key[AEADS[aead][1]:]
    frame_id = offset.to_bytes(8, "big").rjust(AE_NONCE_LEN, b"\x00")
    nonce = bytes(x ^ y for x, y in zip(frame_id, nr))
    plaintext = bytes([flags]) + urgent + data
    clen = len(plaintext) + TAG_LEN
    assert clen < 65536
    ad = bytes([control]) + clen.to_bytes(2, "big")
    ct = AEADS[aead][2](k).encrypt(nonce, plaintext, ad)
    assert len(ct) == clen and AEADS[aead][2](k).decrypt(nonce, ct, ad) == plaintext  # round trip
    return [("kind", "frame"), ("name", name), ("aead", aead.to_bytes(2, "big")), ("key", key),
            ("offset", offset.to_bytes(8, "big")), ("control", bytes([control])),
            ("flags", bytes([flags])), ("urgent", urgent), ("data", data),
            ("nonce", nonce), ("frame", ad + ct)]


def opt(*b):  # a SYN-form ENO option: kind 69, length, contents (RFC 8547 §4.1)
    return bytes([0x45, 2 + len(b)] + list(b))


def build():
    recs, F = [], {}  # recs: list of (comment lines, record); F: fresh name -> dict of outputs
    def add(comment, rec):
        recs.append((comment, rec))
        if rec[0][1] == "fresh":
            F[rec[1][1]] = dict(rec)
    a_opts = {0x21: opt(0x00, 0x21, 0x23), 0x22: opt(0x22, 0x21, 0x24, 0x23),
              0x23: opt(0x24, 0x23), 0x24: opt(0x24)}
    for tep in TEPS:
        for aead in AEADS:
            add([], fresh("%s-%s" % (TEPS[tep], AEADS[aead][0]), tep, [1, 2, 0x10], aead,
                          a_opts[tep] + opt(0x01, tep)))
    add(["# X25519 with non-empty ignored tails on Init1 (5 bytes) and Init2 (13 bytes)"],
        fresh("x25519-tails", 0x23, [1, 2, 0x10], 1, a_opts[0x23] + opt(0x01, 0x23),
              (det("tail1", 5), det("tail2", 13))))
    # A offered resumption (global 0x00, then 0xa3 + 9-byte id + 4-byte nonce); B declined: fresh.
    declined = opt(0x00, 0xa3, *det("declined-resume", 13))
    add(["# A offers a single cipher; A's SYN carried a resumption suboption B declined (v=0 reply)"],
        fresh("x25519-onecipher", 0x23, [0x10], 0x10, declined + opt(0x01, 0x23)))
    add(["# A offers the three ciphers in the order 0x0010, 0x0002, 0x0001"],
        fresh("x448-order", 0x24, [0x10, 2, 1], 2, a_opts[0x24] + opt(0x01, 0x24)))
    # Resumption: (source fresh case, ss index, nonce_a length, nonce_b length).
    for src, i, la, lb in [("x25519-aes128gcm", 1, 0, 0), ("x448-chacha20poly1305", 1, 4, 4),
                           ("x25519-aes256gcm", 2, 8, 8), ("p256-aes128gcm", 1, 8, 0),
                           ("p521-chacha20poly1305", 2, 0, 8)]:
        f, base = F[src], "resume-%s-ss%d-n%d-%d" % (src, i, la, lb)
        for act in (1, 0):  # same nonces for both role assignments: only the suboptions swap
            add(["# ss = ss%d of fresh case %s" % (i, src)],
                resume(base + ("-activeA" if act else "-activeB"), f["tep"][0],
                       int.from_bytes(f["aead"], "big"), f["ss%d" % i], act,
                       det(base + "|nonce_a", la), det(base + "|nonce_b", lb)))
    # Frames: one set per AEAD, keyed with kab0 of the X25519 fresh case using that AEAD.
    for aead in AEADS:
        src = "x25519-" + AEADS[aead][0]
        key, p = F[src]["kab0"], "frame-" + AEADS[aead][0]
        c = ["# key = kab0 of fresh case " + src]
        for sfx, off, fl, urg, dlen in [("empty", 100, 0, 0, 0), ("small", 200, 0, 0, 11),
                                        ("finp", 300, 1, 0, 0), ("urgp", 400, 2, 7, 20),
                                        ("finp-urgp", 500, 3, 0x1234, 33), ("1500", 600, 0, 0, 1500),
                                        ("bigoffset", 0x0000000100000005, 0, 0, 16)]:
            add(c, frame("%s-%s" % (p, sfx), aead, key, off, 0, fl,
                         urg.to_bytes(2, "big") if fl & 2 else b"", det(p + sfx, dlen)))
    # Rekey generations 0..2 in each direction of one fresh case: consecutive frames starting right
    # after Init1 (A) / Init2 (B); the first frame of generations 1 and 2 carries rekey = 1.
    src = "x25519-chacha20poly1305"
    for d, init in (("kab", "init1"), ("kba", "init2")):
        off = len(F[src][init])
        for j in range(3):
            name = "frame-rekey-%s-%s%d" % (src, d, j)
            r = frame(name, 0x10, F[src]["%s%d" % (d, j)], off, 1 if j else 0, 0, b"", det(name, 25))
            add(["# key = %s%d of fresh case %s; offset follows %s and the earlier frames"
                 % (d, j, src, init)], r)
            off += len(dict(r)["frame"])
    # First frame after Init1 / Init2 of the tails case (the offsets include the ignored tails).
    for d, init in (("kab0", "init1"), ("kba0", "init2")):
        name = "frame-first-after-%s-x25519-tails" % init
        add(["# key = %s of fresh case x25519-tails; offset = len(%s) = %d"
             % (d, init, len(F["x25519-tails"][init]))],
            frame(name, 1, F["x25519-tails"][d], len(F["x25519-tails"][init]), 0, 0, b"",
                  det(name, 42)))
    add(["# key = kba1 of fresh case p256-aes256gcm; maximal frame, clen = 65535"],
        frame("frame-max-clen", 2, F["p256-aes256gcm"]["kba1"], 70000, 0, 0, b"",
              det("max", 65535 - TAG_LEN - 1)))
    return recs


def render(recs):
    out = ["# tcpcrypt known-answer vectors (RFC 8548 over RFC 8547 TCP-ENO).",
           "# Generated by tests/vectors/gen_vectors.py from RFC 8548; do not edit.",
           "# Regenerate: /usr/bin/python3 tests/vectors/gen_vectors.py --out tests/vectors/tcpcrypt-kat.txt",
           "# Records are separated by a blank line; values are lowercase hex; empty value = 'key ='.",
           ""]
    for n, (comment, rec) in enumerate(recs):
        if n:
            out.append("")
        out += comment
        for k, v in rec:
            val = v if isinstance(v, str) else v.hex()
            out.append("%s = %s" % (k, val) if val else "%s =" % k)
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", metavar="FILE")
    ap.add_argument("--check", metavar="FILE")
    args = ap.parse_args()
    self_test()
    text = render(build())
    if args.check:
        try:
            with open(args.check, encoding="utf-8", newline="") as fh:
                old = fh.read()
        except OSError as e:
            print("%s: %s" % (args.check, e))
            return 1
        if old == text:
            return 0
        new_l, old_l = text.splitlines(), old.splitlines()
        for i in range(max(len(new_l), len(old_l))):
            a = old_l[i] if i < len(old_l) else "<EOF>"
            b = new_l[i] if i < len(new_l) else "<EOF>"
            if a != b:
                print("%s:%d differs\n  file:      %s\n  generated: %s"
                      % (args.check, i + 1, a[:200], b[:200]))
                break
        else:
            print("%s differs (line endings / trailing newline)" % args.check)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
