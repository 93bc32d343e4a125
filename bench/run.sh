#!/usr/bin/env bash
# shellcheck disable=SC2086 # $SP (server pids) and daemon flags are word lists on purpose
# make bench: tcpcrypt against kernel TCP and TLS between two network
# namespaces built by tests/netns/lib.sh. Root only. Results (table, raw data,
# plots, certificates) in $TC_BUILDDIR/bench-results/. See bench/README.md.
#
# Knobs (environment): BENCH_SECS (seconds per run, default 4), BENCH_RUNS (3),
# BENCH_CONC (concurrent clients for the main table, 10), BENCH_WORKERS
# (server processes sharing the listener, 4), BENCH_SCALE
# ("1 10 100 1000"), BENCH_TPUT_MAX (bytes, 1 GiB), BENCH_TPUT_SECS (target
# seconds per throughput run, 8), BENCH_HOLD (idle connections, 1000),
# BENCH_AUTH_SECS / BENCH_AUTH_RUNS (the authentication table: seconds per
# run, 2, and runs per row, 3), BENCH_AUTH_CONC (clients of the batch-signing
# rows, 8), BENCH_AUTH_WINDOW_US (batch window, 5000), BENCH_ONLY=main|auth
# (one part only; the report has that part's tables).
TEST_NAME=bench
. "$TC_SRCDIR/tests/netns/lib.sh"
need openssl taskset python3
set -o pipefail

SERVER=$TC_BUILDDIR/bench/tc_bench_server
CLIENT=$TC_BUILDDIR/bench/tc_bench_client
OUT=$TC_BUILDDIR/bench-results
SECS=${BENCH_SECS:-4}
RUNS=${BENCH_RUNS:-3}
CONC=${BENCH_CONC:-10}
SCALE=${BENCH_SCALE:-1 10 100 1000}
TPUT_MAX=${BENCH_TPUT_MAX:-1073741824}
TPUT_SECS=${BENCH_TPUT_SECS:-8}
HOLD=${BENCH_HOLD:-1000}
WORKERS=${BENCH_WORKERS:-4}
AUTH_SECS=${BENCH_AUTH_SECS:-2}
AUTH_RUNS=${BENCH_AUTH_RUNS:-3}
AUTH_CONC=${BENCH_AUTH_CONC:-8}
AUTH_WINDOW=${BENCH_AUTH_WINDOW_US:-5000}
ONLY=${BENCH_ONLY:-}
part() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
PORT=7300
HZ=$(getconf CLK_TCK)
SCPU=1 # server side: server program and daemon A
CCPU=0 # client side: client program and daemon B
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

rm -rf "$OUT"
mkdir -p "$OUT"
RAW=$OUT/raw.tsv
printf 'kind\trow\tconc\trun\tcps\tp50_us\tp99_us\tcpu_us_per_conn\tconns\terrors\tresumed\tbytes\tsecs\tmbps\tcpu_s_per_gib\n' >"$RAW"
T_START=$(date +%s)

# --- machine -----------------------------------------------------------------
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    echo "cores: $(nproc) online ($(grep -c ^processor /proc/cpuinfo) logical)"
    f=$(grep -m1 '^flags' /proc/cpuinfo)
    echo "aes-ni: $([[ " $f " == *" aes "* ]] && echo yes || echo no), pclmulqdq: $([[ " $f " == *" pclmulqdq "* ]] && echo yes || echo no), avx2: $([[ " $f " == *" avx2 "* ]] && echo yes || echo no)"
    echo "kernel: $(uname -srm)"
    echo "openssl: $(openssl version)"
    echo "tcpcryptd: $("$TCPCRYPTD" --version 2>&1 | head -n1)"
} >"$OUT/machine.txt"

# --- certificates (generated here, never committed) ----------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=bench-ecdsa -keyout "$OUT/ecdsa.key" -out "$OUT/ecdsa.crt" >/dev/null 2>&1 || fail "ECDSA cert"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj /CN=bench-rsa -keyout "$OUT/rsa.key" -out "$OUT/rsa.crt" >/dev/null 2>&1 || fail "RSA cert"

# --- helpers ----------------------------------------------------------------------
# ticks PID...: utime+stime summed over the processes, in clock ticks.
ticks() {
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo $t
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
DA='' DB=''

# daemons "flags for A" "flags for B": (re)start both, pinned, fixed MACs.
daemons() {
    local p
    for p in $DA $DB; do kill "$p" 2>/dev/null; done
    for p in $DA $DB; do wait "$p" 2>/dev/null || true; done
    rm -f "$WORK/A.sock" "$WORK/B.sock"
    # shellcheck disable=SC2086
    start_daemon A --mac 02:00:00:78:00:01 -q $1
    DA=${PIDS[-1]}
    # shellcheck disable=SC2086
    start_daemon B --mac 02:00:00:78:00:02 -q $2
    DB=${PIDS[-1]}
    taskset -apc $SCPU "$DA" >/dev/null
    taskset -apc $CCPU "$DB" >/dev/null
    wait_reach "$NSB" "$A_IP"
    wait_reach "$NSA" "$B_IP"
    DCONF="A: tcpcryptd $1 / B: tcpcryptd $2"
    DFA=$1 DFB=$2
}
# Every tcpcrypt run starts on freshly started daemons: lwIP keeps closed
# connections in TIME_WAIT (2 x TCP_MSL) on a list tcp_input walks, so a
# daemon's cost per connection grows with the connections it served in the
# last minutes; fresh daemons make rows comparable (README: "Caveats").
fresh_daemons() { daemons "$DFA" "$DFB"; }

# server_start tc|kernel args...: the server ($WORKERS processes) in ns A on
# CPU $SCPU; sets SP (their pids).
server_start() {
    local via=$1 want=$WORKERS
    shift
    # a later --workers in the arguments overrides $WORKERS: that many "ready" lines
    [[ " $* " =~ " --workers "([0-9]+)" " ]] && want=${BASH_REMATCH[1]}
    rm -f "$WORK/srv.out"
    if [ "$via" = tc ]; then
        inns "$NSA" taskset -c $SCPU "$TCPCRYPT_RUN" --daemon "$WORK/A.sock" -- \
            "$SERVER" --port $PORT --workers "$WORKERS" "$@" >"$WORK/srv.out" 2>"$WORK/srv.log" &
    else
        inns "$NSA" taskset -c $SCPU "$SERVER" --port $PORT --workers "$WORKERS" "$@" >"$WORK/srv.out" 2>"$WORK/srv.log" &
    fi
    SRV_JOB=$!
    for _ in $(seq 100); do
        [ "$(grep -c ready "$WORK/srv.out" 2>/dev/null || true)" -ge "$want" ] 2>/dev/null && break
        sleep 0.05
    done
    SP=$(awk '/ready/ {print $2}' "$WORK/srv.out" | tr '\n' ' ')
    [ -n "$SP" ] || fail "server did not start: $(cat "$WORK/srv.log")"
}
server_stop() {
    local p
    # shellcheck disable=SC2086
    for p in $SP; do kill "$p" 2>/dev/null; done
    wait "$SRV_JOB" 2>/dev/null || true
    PORT=$((PORT + 1)) # no TIME_WAIT/lingering state shared between runs
}

# client tc|kernel args...: the client in ns B on CPU $CCPU, to the server.
client() {
    local via=$1
    shift
    if [ "$via" = tc ]; then
        inns "$NSB" taskset -c $CCPU "$TCPCRYPT_RUN" --daemon "$WORK/B.sock" -- \
            "$CLIENT" --host "$A_IP" --port $PORT "$@"
    else
        inns "$NSB" taskset -c $CCPU "$CLIENT" --host "$KA_IP" --port $PORT "$@"
    fi
}

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# conn_run ROW VIA CONC "server args" "client args": one connection-rate run.
conn_run() {
    local row=$1 via=$2 conc=$3 sargs=$4 cargs=$5 run=$6 t0 t1 out cpu
    [ "$via" = tc ] && [ -z "${NORESTART:-}" ] && fresh_daemons
    # shellcheck disable=SC2086
    server_start "$via" $sargs
    t0=$(($(ticks $SP) + $([ "$via" = tc ] && ticks "$DA" || echo 0)))
    # shellcheck disable=SC2086
    out=$(client "$via" -c "$conc" -t "${RUN_SECS:-$SECS}" $cargs 2>>"$WORK/cli.log") || fail "$row: client failed: $out $(tail -n3 "$WORK/cli.log")"
    LAST_OUT=$out
    sleep 0.2
    t1=$(($(ticks $SP) + $([ "$via" = tc ] && ticks "$DA" || echo 0)))
    server_stop
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$(kv conns "$out")" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')
    printf 'conn\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\t\t\n' "$row" "$conc" "$run" \
        "$(kv cps "$out")" "$(kv p50_us "$out")" "$(kv p99_us "$out")" "$cpu" \
        "$(kv conns "$out")" "$(kv errors "$out")" "$(kv resumed "$out")" >>"$RAW"
    say "$row c=$conc run $run: $out server_cpu_us/conn=$cpu"
}

# row ID VIA "server args" "client args" "configuration": $RUNS runs.
declare -A CONF
row() {
    local r
    CONF[$1]=$5
    for r in $(seq "$RUNS"); do conn_run "$1" "$2" "$CONC" "$3" "$4" "$r"; done
}

# tput ROW VIA "server args" "client args" "configuration": one connection, one way.
tput() {
    local id=$1 via=$2 sargs=$3 cargs=$4 out t0 t1 bytes rate
    CONF[$id]=$5
    [ "$via" = tc ] && fresh_daemons
    # shellcheck disable=SC2086
    server_start "$via" $sargs
    # a 64 MiB probe sizes the run: at most $TPUT_MAX, about $TPUT_SECS seconds
    # shellcheck disable=SC2086
    out=$(client "$via" --bytes 67108864 $cargs 2>>"$WORK/cli.log") || fail "$id: probe failed"
    rate=$(kv mbps "$out")
    bytes=$(awk -v r="$rate" -v s="$TPUT_SECS" -v m="$TPUT_MAX" 'BEGIN {b = r * 1e6 * s; b = b > m ? m : b; b = int(b / 1048576) * 1048576; print b < 67108864 ? 67108864 : b}')
    t0=$(($(ticks $SP) + $([ "$via" = tc ] && ticks "$DA" || echo 0)))
    # shellcheck disable=SC2086
    out=$(client "$via" --bytes "$bytes" $cargs 2>>"$WORK/cli.log") || fail "$id: throughput failed"
    sleep 0.2
    t1=$(($(ticks $SP) + $([ "$via" = tc ] && ticks "$DA" || echo 0)))
    server_stop
    printf 'tput\t%s\t1\t1\t\t\t\t\t\t\t\t%s\t%s\t%s\t%s\n' "$id" "$bytes" "$(kv secs "$out")" "$(kv mbps "$out")" \
        "$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v b="$bytes" 'BEGIN {printf "%.3f", d / hz / (b / 1073741824)}')" >>"$RAW"
    say "$id throughput: $out"
}

ECDSA="--mode tls --cert $OUT/ecdsa.crt --key $OUT/ecdsa.key"
RSA="--mode tls --cert $OUT/rsa.crt --key $OUT/rsa.key"

KCONF="kernel $KA_IP <- kernel $KB_IP, no preload"
NC="--resume-cache 0"
setup_hosts
daemons "" ""

if part main; then
# --- kernel TCP and TLS: no preload, kernel addresses ------------------------------
row kernel kernel "--mode tcp" "--mode tcp" "$KCONF; plain TCP"
row tls13_ecdsa kernel "$ECDSA" "--mode tls" "$KCONF; OpenSSL TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256 cert, full handshake"
row tls13_rsa kernel "$RSA" "--mode tls" "$KCONF; OpenSSL TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, RSA-2048 cert, full handshake"
row tls13_resumed kernel "$ECDSA" "--mode tls --resume" "$KCONF; OpenSSL TLS 1.3 PSK-DHE resumption with the previous connection's ticket (ECDSA P-256 server)"
row tls12_rsa kernel "$RSA --tls12" "--mode tls --tls12" "$KCONF; OpenSSL TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, RSA-2048 cert"
# latency with one client at a time (no queueing behind other clients)
lat() { local r; for r in $(seq "$RUNS"); do conn_run "$1" "$2" 1 "$3" "$4" "$r"; done; }
lat kernel kernel "--mode tcp" "--mode tcp"
lat tls13_ecdsa kernel "$ECDSA" "--mode tls"
lat tls13_resumed kernel "$ECDSA" "--mode tls --resume"

# --- tcpcrypt, default key reuse -------------------------------------------------------
daemons "" ""
# memory per idle established connection, on freshly started daemons
server_start tc --mode hold
sleep 0.5
rss0=$(rss_kb "$DA")
rssb0=$(rss_kb "$DB")
client tc --hold "$HOLD" >"$WORK/hold.out" 2>>"$WORK/cli.log" &
HJ=$!
for _ in $(seq 600); do grep -q held "$WORK/hold.out" 2>/dev/null && break; sleep 0.1; done
held=$(awk '/held/ {print $2}' "$WORK/hold.out")
sleep 1
rss1=$(rss_kb "$DA")
rssb1=$(rss_kb "$DB")
kill "$HJ" 2>/dev/null
wait "$HJ" 2>/dev/null || true
server_stop
printf 'mem\t%s\t%s\t%s\t%s\t%s\n' "${held:-0}" "$rss0" "$rss1" "$rssb0" "$rssb1" >"$OUT/mem.tsv"
say "memory: $held idle connections: daemon A RSS $rss0 -> $rss1 KiB, daemon B $rssb0 -> $rssb1 KiB"

# Rows of fresh key exchanges run with --resume-cache 0: the client
# reconnects to the same server, which resumption would otherwise serve.
daemons "$NC" "$NC"
row tc_reuse tc "--mode tcp" "--mode tcp --count-resumed" "tcpcrypt-run both ends; $DCONF (default --eph-lifetime 1000 ms: the passive opener reuses its ephemeral key)"
tput tput_tc tc "--mode tcp" "" "tcpcrypt-run both ends, default AEAD AES-128-GCM"
daemons "$NC --aeads aes256gcm" "$NC --aeads aes256gcm"
tput tput_tc_aes256 tc "--mode tcp" "" "tcpcrypt-run both ends, $DCONF"
daemons "$NC --aeads chacha20poly1305" "$NC --aeads chacha20poly1305"
tput tput_tc_chacha tc "--mode tcp" "" "tcpcrypt-run both ends, $DCONF"
daemons "$NC" "$NC"
# --- scaling of the accept rate ------------------------------------------------------
for c in $SCALE; do
    conn_run kernel kernel "$c" "--mode tcp" "--mode tcp" 1
    conn_run tc_reuse tc "$c" "--mode tcp" "--mode tcp" 1
    conn_run tls13_ecdsa kernel "$c" "$ECDSA" "--mode tls" 1
done

# --- sustained: the same daemons for consecutive runs (no restart) --------------------
fresh_daemons
NORESTART=1
for r in 1 2 3 4; do conn_run sustained tc "$CONC" "--mode tcp" "--mode tcp" "$r"; done
NORESTART=

# --- tcpcrypt, fresh key per connection -------------------------------------------------
daemons "--eph-lifetime 0 $NC" "--eph-lifetime 0 $NC"
row tc_fresh tc "--mode tcp" "--mode tcp --count-resumed" "tcpcrypt-run both ends; $DCONF (a fresh X25519 key for every connection)"
lat tc_fresh tc "--mode tcp" "--mode tcp --count-resumed"

# --- tcpcrypt, resumed (RFC 8548 §3.5, the daemons' default) ------------------------------
daemons "" ""
row tc_resumed tc "--mode tcp" "--mode tcp --count-resumed" "tcpcrypt-run both ends; $DCONF (session resumption on, the default: each connection resumes the chain of an earlier one)"
lat tc_resumed tc "--mode tcp" "--mode tcp --count-resumed"

# --- through the daemons, tcpcrypt off ----------------------------------------------------
daemons "--no-eno" ""
row daemon_plain tc "--mode tcp" "--mode tcp" "tcpcrypt-run both ends; $DCONF (server daemon without TCP-ENO: plain TCP through both lwIP stacks)"
lat daemon_plain tc "--mode tcp" "--mode tcp"
tput tput_daemon_plain tc "--mode tcp" "" "tcpcrypt-run both ends, server daemon --no-eno (plain TCP through both daemons)"

# --- kernel throughput ------------------------------------------------------------------
tput tput_kernel kernel "--mode tcp" "" "kernel TCP, no preload"
tput tput_tls13 kernel "$ECDSA" "--mode tls" "kernel TCP + OpenSSL TLS 1.3 TLS_AES_128_GCM_SHA256"

# --- the DPDK link (net_memif between two daemons), when built with DPDK ------------------
if "$TCPCRYPTD" --help 2>&1 | grep -q -- '--dpdk' && ! "$TCPCRYPTD" --dpdk x 2>&1 | grep -q "built without DPDK"; then
    for p in $DA $DB; do kill "$p" 2>/dev/null; done
    for p in $DA $DB; do wait "$p" 2>/dev/null || true; done
    DA='' DB='' # stopped: the authentication part starts its own
    BENCH_BYTES=${BENCH_DPDK_BYTES:-268435456} bash "$TC_SRCDIR/bench/dpdk.sh" >"$OUT/dpdk.log" 2>&1 ||
        say "DPDK rows failed: $(tail -n 3 "$OUT/dpdk.log")"
    sed -n '/^DPDK net_memif/,$p' "$OUT/dpdk.log" >"$OUT/dpdk.txt"
fi

fi

# --- connect plus authenticate (libtcpcrypt, include/tcpcrypt/auth.h) ---------------
# One client at a time: connect() to authentication done and the reply read,
# for each method, beside unauthenticated tcpcrypt and TLS 1.3 with the
# client verifying the same certificate.  Then batch signing against one
# signature per connection under $AUTH_CONC concurrent clients.  The daemons
# run with the default key reuse and no resumption (--resume-cache 0), as
# the tc_reuse row: every connection makes a key exchange.
if part auth; then
    # a CA and a server certificate (ECDSA P-256) naming the server, for
    # tcpcrypt_auth_cert_client() and the verifying TLS client alike
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=bench-ca -keyout "$OUT/ca.key" -out "$OUT/ca.crt" >/dev/null 2>&1 || fail "CA cert"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=bench-server -keyout "$OUT/auth.key" -out "$OUT/auth.csr" >/dev/null 2>&1 || fail "auth CSR"
    printf 'subjectAltName=DNS:bench-server,IP:%s,IP:%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$A_IP" "$KA_IP" >"$OUT/auth.ext"
    openssl x509 -req -in "$OUT/auth.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
        -days 2 -extfile "$OUT/auth.ext" -out "$OUT/auth.crt" >/dev/null 2>&1 || fail "auth cert"
    CERTS="--cert $OUT/auth.crt --key $OUT/auth.key"
    VERIFY="--ca $OUT/ca.crt --auth-host bench-server"
    RUN_SECS=$AUTH_SECS
    # auth_row ID VIA CONC "server args" "client args" "configuration"
    auth_row() {
        local r
        CONF[$1]=$6
        for r in $(seq "$AUTH_RUNS"); do
            conn_run "$1" "$2" "$3" "$4" "$5" "$r"
            if grep -q '^batch ' "$WORK/srv.out" 2>/dev/null; then
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "$r" \
                    "$(kv sessions "$(grep '^batch ' "$WORK/srv.out")")" \
                    "$(kv signatures "$(grep '^batch ' "$WORK/srv.out")")" "$(kv secs "$LAST_OUT")" >>"$OUT/batch.tsv"
                say "$1 run $r: $(grep '^batch ' "$WORK/srv.out")"
            fi
        done
    }
    printf 'row\tconc\trun\tsessions\tsignatures\tsecs\n' >"$OUT/batch.tsv"
    daemons "$NC" "$NC"
    auth_row auth_none tc 1 "--mode tcp" "--mode tcp" "tcpcrypt-run both ends; $DCONF; no authentication"
    auth_row auth_psk tc 1 "--mode tcp --auth psk" "--mode tcp --auth psk" \
        "tcpcrypt_auth_psk() both ends (HMAC-SHA256 over role and session ID, 32-byte key)"
    auth_row auth_cert tc 1 "--mode tcp --auth cert $CERTS" "--mode tcp --auth cert $VERIFY" \
        "tcpcrypt_auth_cert_server() (one ECDSA P-256 signature per connection) / tcpcrypt_auth_cert_client() (chain to the CA, name, signature)"
    auth_row auth_pake tc 1 "--mode tcp --auth password" "--mode tcp --auth password-w" \
        "tcpcrypt_auth_password_w() both ends: SPAKE2 P-256 with w derived once at start"
    auth_row auth_pake_scrypt tc 1 "--mode tcp --auth password" "--mode tcp --auth password" \
        "client tcpcrypt_auth_password() (scrypt on every connection) / server tcpcrypt_auth_password_w() (stored w)"
    auth_row auth_tls13 kernel 1 "--mode tls $CERTS" "--mode tls $VERIFY" \
        "$KCONF; OpenSSL TLS 1.3, ECDSA P-256 certificate, the client verifies chain and name"
    # under load: $AUTH_CONC clients, one server process with as many threads
    auth_row auth_cert_load tc "$AUTH_CONC" "--mode tcp --workers 1 --threads $AUTH_CONC --auth cert $CERTS" \
        "--mode tcp --auth cert $VERIFY" "$AUTH_CONC clients; one server process, $AUTH_CONC threads, one signature per connection"
    auth_row auth_batch_load tc "$AUTH_CONC" \
        "--mode tcp --workers 1 --threads $AUTH_CONC --auth batch --batch-window-us $AUTH_WINDOW $CERTS" \
        "--mode tcp --auth cert $VERIFY" \
        "$AUTH_CONC clients; one server process, $AUTH_CONC threads sharing tcpcrypt_auth_cert_server_batch(), window $AUTH_WINDOW µs"
    # scrypt alone (tcpcrypt_auth_password_derive), no network
    taskset -c $CCPU "$CLIENT" --derive-bench 5 >"$OUT/derive.txt" 2>>"$WORK/cli.log" || fail "derive bench"
    say "scrypt: $(cat "$OUT/derive.txt")"
    RUN_SECS=
fi

for k in "${!CONF[@]}"; do printf '%s\t%s\n' "$k" "${CONF[$k]}"; done >"$OUT/conf.tsv"
echo "elapsed: $(($(date +%s) - T_START)) s" >>"$OUT/machine.txt"
python3 "$TC_SRCDIR/bench/report.py" "$OUT" "$CONC" "$RUNS" "$SECS" || fail "report"
cat "$OUT/results.md"
