#!/usr/bin/env python3
"""bench/report.py OUT CONC RUNS SECS: results.md (+ .txt) and PNG plots from
bench/run.sh's raw.tsv, conf.tsv, mem.tsv, machine.txt (gnuplot for plots)."""
import csv
import os
import shutil
import statistics
import subprocess
import sys

out, conc, runs, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = list(csv.DictReader(open(os.path.join(out, "raw.tsv")), delimiter="\t"))
conf = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "conf.tsv")) if "\t" in l)
machine = open(os.path.join(out, "machine.txt")).read().strip()

ROWS = [
    ("kernel", "kernel TCP"),
    ("daemon_plain", "TCP through tcpcryptd, tcpcrypt off"),
    ("tc_fresh", "tcpcrypt, fresh key (--eph-lifetime 0)"),
    ("tc_reuse", "tcpcrypt, default key reuse (1000 ms)"),
    ("tc_resumed", "tcpcrypt, resumed"),
    ("tls13_ecdsa", "TLS 1.3 ECDSA P-256"),
    ("tls13_rsa", "TLS 1.3 RSA-2048"),
    ("tls13_resumed", "TLS 1.3 resumed (ticket)"),
    ("tls12_rsa", "TLS 1.2 ECDHE-RSA"),
]


def med(row, key, c=conc):
    v = [float(r[key]) for r in raw if r["kind"] == "conn" and r["row"] == row and int(r["conc"]) == c and r[key]]
    if row in ("kernel", "tc_reuse", "tls13_ecdsa") and c == conc:
        # the main-table runs only (the scaling runs at the same concurrency come later)
        v = v[:runs]
    return statistics.median(v) if v else None


def fmt(x, nd=0):
    return "n/a" if x is None else f"{x:,.{nd}f}"


AUTH_ROWS = [
    ("auth_none", "tcpcrypt, no authentication"),
    ("auth_psk", "tcpcrypt + PSK MAC"),
    ("auth_cert", "tcpcrypt + ECDSA P-256 signature per connection"),
    ("auth_pake", "tcpcrypt + SPAKE2 (stored w)"),
    ("auth_pake_scrypt", "tcpcrypt + SPAKE2, client scrypt per connection"),
    ("auth_tls13", "TLS 1.3 ECDSA P-256, client verifies"),
    ("auth_cert_load", "tcpcrypt + signature per connection, under load"),
    ("auth_batch_load", "tcpcrypt + batch signature, under load"),
]


def auth_section():
    """The connect-plus-authenticate table (bench/run.sh, part auth), or []."""
    rows = [r for r in raw if r["kind"] == "conn" and r["row"].startswith("auth_")]
    if not rows:
        return []
    A = []

    def amed(rid, key):
        v = [float(r[key]) for r in rows if r["row"] == rid and r[key]]
        return statistics.median(v) if v else None

    base = amed("auth_none", "p50_us")
    A.append("\n## Connect plus authenticate (libtcpcrypt)\n")
    A.append("connect() to authentication done and the first reply byte, p50 and p99 over the connections of a "
             "run (one client at a time unless the clients column says otherwise; TLS: handshake with "
             "certificate verification); the median over runs of each run's p50 and p99. \"+ auth p50\" (one client): "
             "the row's p50 minus unauthenticated tcpcrypt's. The two rows under load run several clients at once "
             "against one server process whose threads share one batch: their latency includes queueing and, "
             "for the batch, the wait for the window. Server CPU as in the main table.\n")
    A.append("| method | clients | connections | p50 µs | p99 µs | + auth p50 µs | conn/s | server CPU µs/conn | errors | configuration |")
    A.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for rid, name in AUTH_ROWS:
        rr = [r for r in rows if r["row"] == rid]
        if not rr:
            continue
        p50 = amed(rid, "p50_us")
        one = rr[0]["conc"] == "1"
        extra = fmt(p50 - base) if one and p50 is not None and base is not None and rid != "auth_none" else ""
        A.append(f"| {name} | {rr[0]['conc']} | {sum(int(r['conns']) for r in rr):,} | {fmt(p50)} | "
                 f"{fmt(amed(rid, 'p99_us'))} | {extra} | {fmt(amed(rid, 'cps'))} | "
                 f"{fmt(amed(rid, 'cpu_us_per_conn'), 1)} | {sum(int(r['errors']) for r in rr)} | {conf.get(rid, '')} |")
    bp = os.path.join(out, "batch.tsv")
    bt = list(csv.DictReader(open(bp), delimiter="\t")) if os.path.exists(bp) else []
    if bt:
        ses = sum(int(b["sessions"]) for b in bt)
        sig = sum(int(b["signatures"]) for b in bt)
        secs_b = sum(float(b["secs"]) for b in bt)
        per_conn = amed("auth_cert_load", "cps")
        A.append("")
        A.append(f"Batch signing ({bt[0]['conc']} clients): {ses:,} sessions authenticated with {sig:,} signatures, "
                 f"{ses / max(sig, 1):.1f} sessions per signature; {ses / secs_b:,.0f} sessions/s against "
                 f"{sig / secs_b:,.0f} signatures/s: **{(ses - sig) / secs_b:,.0f} signatures/s saved** "
                 f"(sessions/s − signatures/s). With one signature per connection under the same load: "
                 f"{fmt(per_conn)} sessions/s = signatures/s.")
    dp = os.path.join(out, "derive.txt")
    if os.path.exists(dp):
        d = open(dp).read()
        kv = dict(x.split("=", 1) for x in d.split() if "=" in x)
        if "derive_p50_us" in kv:
            A.append("")
            A.append(f"scrypt alone (tcpcrypt_auth_password_derive(), N = 2^15, r = 8, p = 1): "
                     f"{float(kv['derive_p50_us']) / 1000:.1f} ms per call (median of {kv.get('derive_n', '?')}); "
                     "a server storing w (tcpcrypt_auth_password_w) never pays it per connection, a client "
                     "deriving w from a typed password pays it once per connection.")
    return A


if not any(r["kind"] == "conn" and not r["row"].startswith("auth_") for r in raw):
    # BENCH_ONLY=auth: the authentication table alone
    L = ["# tcpcrypt benchmark (`make bench`, BENCH_ONLY=auth)\n", "```\n" + machine + "\n```"]
    L += auth_section()
    text = "\n".join(L) + "\n"
    open(os.path.join(out, "results.md"), "w").write(text)
    open(os.path.join(out, "results.txt"), "w").write(text)
    sys.exit(0)


L = []
L.append("# tcpcrypt benchmark (`make bench`)\n")
L.append("```\n" + machine + "\n```\n")
L.append(f"Connection rows: {conc} concurrent client threads for {secs} s per run, median of {runs} runs; "
         "request 64 bytes, reply 64 bytes, then close. Server: " + os.environ.get("BENCH_WORKERS", "4") + " processes sharing the listener, "
         "each serving one connection at a time. Server (and server-side tcpcryptd) on CPU 1, "
         "client (and client-side tcpcryptd) on CPU 0. Server CPU = utime+stime of the server process "
         "plus, for rows through tcpcryptd, of the server-side tcpcryptd. Latency = connect() to the reply read "
         "(TLS: includes the handshake).\n")
ecd, rsa = med("tls13_ecdsa", "cpu_us_per_conn"), med("tls13_rsa", "cpu_us_per_conn")
L.append("| row | conn/s | server CPU µs/conn | ÷ TLS1.3 ECDSA | ÷ TLS1.3 RSA | p50 µs | p99 µs | errors | configuration |")
L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
plot_rows = []
for rid, name in ROWS:
    cpu = med(rid, "cpu_us_per_conn")
    errs = [int(r["errors"]) for r in raw if r["kind"] == "conn" and r["row"] == rid and int(r["conc"]) == conc]
    res = [int(r["resumed"] or 0) for r in raw if r["kind"] == "conn" and r["row"] == rid and int(r["conc"]) == conc]
    c = conf.get(rid, "")
    if rid in ("tls13_resumed", "tc_resumed", "tc_fresh", "tc_reuse"):
        total = sum(int(r['conns']) for r in raw if r['kind'] == 'conn' and r['row'] == rid and int(r['conc']) == conc)
        c += f" (resumed handshakes: {sum(res[:runs])} of {total})"
    L.append(f"| {name} | {fmt(med(rid, 'cps'))} | {fmt(cpu, 1)} | "
             f"{fmt(cpu / ecd if cpu and ecd else None, 3)} | {fmt(cpu / rsa if cpu and rsa else None, 3)} | "
             f"{fmt(med(rid, 'p50_us'))} | {fmt(med(rid, 'p99_us'))} | {sum(errs[:runs])} | {c} |")
    plot_rows.append((name, med(rid, "cps"), cpu))

# latency, one client at a time
L.append("\n## Connection latency: one client at a time\n")
L.append("connect() to the first reply byte (TLS: handshake included), one client thread, no other load; "
         f"median over {runs} runs of each run's median and 99th percentile.\n")
L.append("| row | p50 µs | p99 µs | conn/s |")
L.append("|---|---:|---:|---:|")
for rid, name in ROWS:
    p50 = med(rid, "p50_us", 1)
    if p50 is None:
        continue
    L.append(f"| {name} | {fmt(p50)} | {fmt(med(rid, 'p99_us', 1))} | {fmt(med(rid, 'cps', 1))} |")

L += auth_section()

# throughput
T = {r["row"]: r for r in raw if r["kind"] == "tput"}
L.append("\n## Throughput: one connection, one way\n")
L.append("| row | bytes sent | seconds | MB/s | server CPU s/GiB | configuration |")
L.append("|---|---:|---:|---:|---:|---|")
tput_rows = [("tput_kernel", "kernel TCP"), ("tput_daemon_plain", "through tcpcryptd, tcpcrypt off"),
             ("tput_tc", "tcpcrypt AES-128-GCM"), ("tput_tc_aes256", "tcpcrypt AES-256-GCM"),
             ("tput_tc_chacha", "tcpcrypt ChaCha20-Poly1305"), ("tput_tls13", "TLS 1.3 AES-128-GCM")]
for rid, name in tput_rows:
    r = T.get(rid)
    if r is None:
        continue
    b = int(r["bytes"])
    note = "" if b >= 1073741824 else f" (less than 1 GiB: sized to ~{os.environ.get('BENCH_TPUT_SECS', '8')} s from a 64 MiB probe)"
    L.append(f"| {name} | {b:,}{note} | {r['secs']} | {r['mbps']} | {r['cpu_s_per_gib']} | {conf.get(rid, '')} |")

# scaling
levels = sorted({int(r["conc"]) for r in raw if r["kind"] == "conn" and r["row"] == "tc_reuse"})
scal = {}
for rid in ("kernel", "tc_reuse", "tls13_ecdsa"):
    for c in levels:
        v = [r for r in raw if r["kind"] == "conn" and r["row"] == rid and int(r["conc"]) == c]
        v = v[-1] if v else None  # the scaling run (last at that level)
        scal[(rid, c)] = v
L.append("\n## Accept rate against concurrent clients (one run each, conn/s; p99 µs)\n")
L.append("| clients | " + " | ".join(n for r, n in ROWS if r in ("kernel", "tc_reuse", "tls13_ecdsa")) + " |")
L.append("|---:|---:|---:|---:|")
for c in levels:
    cells = []
    for rid in ("kernel", "tc_reuse", "tls13_ecdsa"):
        v = scal[(rid, c)]
        cells.append("n/a" if v is None else f"{float(v['cps']):,.0f} ({float(v['p99_us']):,.0f}; {v['errors']} err)")
    L.append(f"| {c} | " + " | ".join(cells) + " |")

# sustained
sus = [r for r in raw if r["kind"] == "conn" and r["row"] == "sustained"]
if sus:
    L.append("\n## Sustained: tcpcrypt (default reuse), consecutive runs on the same daemons\n")
    L.append("Every other tcpcrypt number above is from freshly started daemons. Here the daemons are not restarted "
             "between runs; a growing server CPU/conn means the daemon's cost depends on the connections it served "
             "recently (lwIP's TIME_WAIT list).\n")
    L.append("| run | connections so far | conn/s | server CPU µs/conn | p99 µs |")
    L.append("|---:|---:|---:|---:|---:|")
    tot = 0
    for r in sus:
        tot += int(r["conns"])
        L.append(f"| {r['run']} | {tot:,} | {float(r['cps']):,.0f} | {float(r['cpu_us_per_conn']):,.1f} | {float(r['p99_us']):,.0f} |")

# memory
mem = open(os.path.join(out, "mem.tsv")).read().split()
held, a0, a1, b0, b1 = int(mem[1]), int(mem[2]), int(mem[3]), int(mem[4]), int(mem[5])
L.append("\n## Memory per established idle connection (tcpcryptd RSS)\n")
L.append(f"{held} idle encrypted connections: server-side daemon {a0:,} -> {a1:,} KiB "
         f"({(a1 - a0) / max(held, 1):.1f} KiB per connection), client-side daemon {b0:,} -> {b1:,} KiB "
         f"({(b1 - b0) / max(held, 1):.1f} KiB per connection).\n")

# targets
L.append("\n## Targets\n")
fresh = med("tc_fresh", "cpu_us_per_conn")
plain = med("daemon_plain", "cpu_us_per_conn")


def verdict(ok):
    return "**met**" if ok else "**missed**"


if fresh and ecd:
    L.append(f"- fresh tcpcrypt server CPU/conn <= 1/3 of TLS 1.3 ECDSA: {fresh:.1f} vs {ecd / 3:.1f} µs "
             f"(ratio {fresh / ecd:.3f}): {verdict(fresh <= ecd / 3)}")
if fresh and rsa:
    L.append(f"- fresh tcpcrypt server CPU/conn <= 1/6 of TLS 1.3 RSA-2048: {fresh:.1f} vs {rsa / 6:.1f} µs "
             f"(ratio {fresh / rsa:.3f}): {verdict(fresh <= rsa / 6)}")
resumed = med("tc_resumed", "cpu_us_per_conn")
if resumed and plain:
    L.append(f"- resumed tcpcrypt server CPU/conn within 1.5x of plain TCP through the daemon: {resumed:.1f} vs "
             f"{plain:.1f} µs (ratio {resumed / plain:.2f}): {verdict(resumed <= 1.5 * plain)}")
rl, pl = med("tc_resumed", "p50_us", 1), med("daemon_plain", "p50_us", 1)
fl = med("tc_fresh", "p50_us", 1)
if rl and pl:
    L.append(f"- resumed connection latency (connect to first reply byte, median, one client) within 50 µs of plain TCP through "
             f"the daemon: resumed {rl:.0f} µs, plain {pl:.0f} µs, fresh {fmt(fl)} µs (difference {rl - pl:+.0f} µs): "
             f"{verdict(rl - pl <= 50)}")
tp = T.get("tput_daemon_plain")
for rid, name in (("tput_tc", "AES-128-GCM"), ("tput_tc_aes256", "AES-256-GCM"), ("tput_tc_chacha", "ChaCha20-Poly1305")):
    tc = T.get(rid)
    if tp and tc:
        r = float(tc["mbps"]) / float(tp["mbps"])
        L.append(f"- encrypted throughput ({name}) >= 80% of daemon-plain: {tc['mbps']} vs {tp['mbps']} MB/s "
                 f"({100 * r:.0f}%): {verdict(r >= 0.8)}")

# DPDK
dp = os.path.join(out, "dpdk.txt")
if os.path.exists(dp) and open(dp).read().strip():
    L.append("\n## DPDK link (net_memif between two daemons, bench/dpdk.sh)\n")
    L.append("```\n" + open(dp).read().rstrip() + "\n```")
    L.append("\nThe same machine's tap rows above: throughput `through tcpcryptd, tcpcrypt off` and "
             "`tcpcrypt AES-128-GCM`; connection rate `TCP through tcpcryptd` and `tcpcrypt` rows.")

# plots
gp = shutil.which("gnuplot")
if gp:
    with open(os.path.join(out, "conn.dat"), "w") as f:
        for name, cps, cpu in plot_rows:
            f.write(f'"{name}" {cps or 0} {cpu or 0}\n')
    with open(os.path.join(out, "scaling.dat"), "w") as f:
        for c in levels:
            f.write(f"{c} " + " ".join(str(float(scal[(r, c)]['cps']) if scal[(r, c)] else 0)
                                        for r in ("kernel", "tc_reuse", "tls13_ecdsa")) + "\n")
    with open(os.path.join(out, "tput.dat"), "w") as f:
        for rid, name in tput_rows:
            if rid in T:
                f.write(f'"{name}" {T[rid]["mbps"]}\n')
    script = f"""
set terminal pngcairo size 1100,600 noenhanced
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -25
set grid ytics
set key off
set output '{out}/cpu_per_conn.png'
set title 'server CPU per connection (µs, lower is better)'
plot '{out}/conn.dat' using 3:xtic(1)
set output '{out}/conn_rate.png'
set title 'connections per second ({conc} clients)'
plot '{out}/conn.dat' using 2:xtic(1)
set output '{out}/throughput.png'
set title 'one-connection throughput (MB/s)'
plot '{out}/tput.dat' using 2:xtic(1)
set style data linespoints
set xtics norotate
set logscale x
set key top left
set output '{out}/scaling.png'
set title 'accept rate vs concurrent clients'
set xlabel 'concurrent clients'
set ylabel 'conn/s'
plot '{out}/scaling.dat' using 1:2 title 'kernel TCP', '' using 1:3 title 'tcpcrypt (default reuse)', '' using 1:4 title 'TLS 1.3 ECDSA'
"""
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        L.append(f"\n(gnuplot failed: {r.stderr.strip()[:300]})")
    else:
        L.append("\nPlots: cpu_per_conn.png, conn_rate.png, throughput.png, scaling.png (same folder).")
else:
    L.append("\n(no gnuplot: install gnuplot-nox for the PNG plots)")

text = "\n".join(L) + "\n"
open(os.path.join(out, "results.md"), "w").write(text)
open(os.path.join(out, "results.txt"), "w").write(text)
