#!/usr/bin/python3
"""Compare tshark's PDML output of the synthetic capture with expected.json.

  check_pdml.py PDML EXPECTED_JSON [--no-keys]

Per TCP stream and direction, the dissector's frames (in stream order) must
match the expected ones: key generation, FINp, urgent pointer, decrypted data,
good tags; the session ID and the resumed flag must match.  With --no-keys:
the same frames must be found, none decrypted.
"""
import json
import sys
import xml.etree.ElementTree as ET


def main():
    pdml, exp_path = sys.argv[1], sys.argv[2]
    no_keys = "--no-keys" in sys.argv[3:]
    expected = json.load(open(exp_path))["streams"]
    got = {}  # (stream, "c"/"s") -> list of frames
    resumed, sids = {}, {}
    for pkt in ET.parse(pdml).getroot().iter("packet"):
        f = {fl.get("name"): fl for fl in pkt.iter("field")}
        stream, sport = int(f["tcp.stream"].get("show")), int(f["tcp.srcport"].get("show"))
        side = "s" if sport in (7011, 7012, 7013) else "c"
        for proto in pkt.iter("proto"):
            if proto.get("name") != "tcpcrypt":
                continue
            for top in proto:
                if top.get("name") == "tcpcrypt.resumed":
                    resumed[stream] = top.get("show") == "1"
                if top.get("name") != "tcpcrypt.frame":
                    continue
                fr = {}
                for x in top.iter("field"):
                    fr.setdefault(x.get("name"), x.get("show"))
                got.setdefault((stream, side), []).append(fr)
                if "tcpcrypt.session_id" in fr:
                    sids.setdefault(stream, set()).add(fr["tcpcrypt.session_id"])
    bad = []
    for i, exp in enumerate(expected):
        if resumed.get(i) != exp["resumed"]:
            bad.append("stream %d: resumed %s, expected %s" % (i, resumed.get(i), exp["resumed"]))
        if not no_keys and sids.get(i) != {exp["sid"]}:
            bad.append("stream %d: session IDs %s, expected %s" % (i, sids.get(i), exp["sid"]))
        for side in ("c", "s"):
            frames = got.get((i, side), [])
            if len(frames) != len(exp[side]):
                bad.append("stream %d %s: %d frames, expected %d" % (i, side, len(frames), len(exp[side])))
                continue
            for k, (fr, want) in enumerate(zip(frames, exp[side])):
                where = "stream %d %s frame %d" % (i, side, k)
                if fr.get("tcpcrypt.generation") != str(want["gen"]):
                    bad.append("%s: generation %s, expected %d" % (where, fr.get("tcpcrypt.generation"), want["gen"]))
                if no_keys:
                    if "tcpcrypt.tag_ok" in fr or "tcpcrypt.plaintext" in fr:
                        bad.append("%s: decrypted without keys" % where)
                    continue
                if fr.get("tcpcrypt.tag_ok") != "1":
                    bad.append("%s: tag check %s" % (where, fr.get("tcpcrypt.tag_ok")))
                data = (fr.get("tcpcrypt.plaintext") or "").replace(":", "")
                if data != want["data"]:
                    bad.append("%s: data %s, expected %s" % (where, data[:40], want["data"][:40]))
                if fr.get("tcpcrypt.flags.finp") != ("1" if want["finp"] else "0"):
                    bad.append("%s: FINp %s" % (where, fr.get("tcpcrypt.flags.finp")))
                urg = fr.get("tcpcrypt.urgent")
                if (urg and int(urg)) != want["urgent"] and not (urg is None and want["urgent"] is None):
                    bad.append("%s: urgent %s, expected %s" % (where, urg, want["urgent"]))
    for b in bad:
        print("check_pdml: " + b)
    n = sum(len(e["c"]) + len(e["s"]) for e in expected)
    print("check_pdml: %d streams, %d frames: %s" % (len(expected), n, "%d problems" % len(bad) if bad else "all as expected"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
