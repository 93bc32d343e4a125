# Shared by the middlebox tests (mbox_*.sh): two hosts with tc-mbox between
# them (lib.sh's setup_hosts_mbox), one connection per mode between two
# programs under tcpcrypt-run (xfer.py: the server on host A, the client, the
# active opener, on host B), and the checks of each outcome the RFCs require.
. "$(dirname "$0")/lib.sh"
need tcpdump timeout
MARKER=TCPCRYPT-PLAINTEXT-MARKER
XFER_TIMEOUT=${XFER_TIMEOUT:-40}

# mbox_hosts: the hosts, the relay (no flags yet: stopped at once) and both
# daemons.  Session resumption is off so that every connection runs the
# fresh handshake the modes act on (each mode's outcome is for one
# connection, not for a cached secret from the previous one).
mbox_hosts() {
    setup_hosts_mbox
    start_daemon A --resume-cache 0
    DAEMON_A=${PIDS[-1]}
    start_daemon B --resume-cache 0
    DAEMON_B=${PIDS[-1]}
    wait_reach "$NSB" "$A_IP"
    wait_reach "$NSA" "$B_IP"
    stop_mbox
    SID=$(sessid_opt)
}

# mbox_run PORT BYTES [tc-mbox flags...]: a fresh tc-mbox with the flags, a
# capture on host A's veth, one xfer.py connection B -> A; then the relay
# is stopped (its counters in $WORK/mbox.stats, kept as $WORK/PORT.stats).
# Sets SRV, CLI (the JSON files), SRV_RC, CLI_RC, PCAP, RUN_S (seconds).
# With BYSTANDER=PORT (and BYSTANDER_BYTES), a second connection on that
# port runs alongside (its JSON files are $WORK/PORT.srv.json, .cli.json;
# BY_SRV_RC, BY_CLI_RC); give the relay --port so that it spares it.
mbox_run() {
    local port=$1 bytes=$2 t0 t1 srv cap by_srv by_cli
    shift 2
    PORT=$port BYTES=$bytes
    SRV=$WORK/$port.srv.json CLI=$WORK/$port.cli.json PCAP=$WORK/$port.pcap
    start_mbox "$@"
    ip netns exec "$NSA" tcpdump -i vA$tag -w "$PCAP" -U --immediate-mode "tcp port $port" \
        >"$WORK/$port.tcpdump.log" 2>&1 &
    cap=$!
    PIDS+=("$cap")
    for _ in $(seq 50); do grep -q listening "$WORK/$port.tcpdump.log" && break; sleep 0.1; done
    run_tc A timeout "$XFER_TIMEOUT" "$PY" "$XFER" server "$port" "$bytes" --sessid-opt "$SID" \
        >"$SRV" 2>"$WORK/$port.srv.log" &
    srv=$!
    for _ in $(seq 100); do grep -q listening "$SRV" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$SRV" || fail "port $port: server did not listen"
    if [ -n "${BYSTANDER:-}" ]; then
        # Another connection through the same relay and daemons, left alone
        # by the relay (tc-mbox --port): one bad connection must not hurt it.
        run_tc A timeout "$XFER_TIMEOUT" "$PY" "$XFER" server "$BYSTANDER" "$BYSTANDER_BYTES" --sessid-opt "$SID" \
            >"$WORK/$BYSTANDER.srv.json" 2>"$WORK/$BYSTANDER.srv.log" &
        by_srv=$!
        for _ in $(seq 100); do grep -q listening "$WORK/$BYSTANDER.srv.json" 2>/dev/null && break; sleep 0.1; done
        run_tc B timeout "$XFER_TIMEOUT" "$PY" "$XFER" client "$A_IP" "$BYSTANDER" "$BYSTANDER_BYTES" --sessid-opt "$SID" \
            >"$WORK/$BYSTANDER.cli.json" 2>"$WORK/$BYSTANDER.cli.log" &
        by_cli=$!
    fi
    t0=$(date +%s%N)
    CLI_RC=0
    run_tc B timeout "$XFER_TIMEOUT" "$PY" "$XFER" client "$A_IP" "$port" "$bytes" --sessid-opt "$SID" \
        >"$CLI" 2>"$WORK/$port.cli.log" || CLI_RC=$?
    SRV_RC=0
    wait "$srv" || SRV_RC=$?
    t1=$(date +%s%N)
    if [ -n "${BYSTANDER:-}" ]; then
        BY_SRV_RC=0 BY_CLI_RC=0
        wait "$by_cli" || BY_CLI_RC=$?
        wait "$by_srv" || BY_SRV_RC=$?
    fi
    RUN_S=$(printf %d.%02d $(((t1 - t0) / 1000000000)) $(((t1 - t0) / 10000000 % 100)))
    sleep 0.3
    kill -TERM "$cap" 2>/dev/null || true
    wait "$cap" 2>/dev/null || true
    stop_mbox
    cp "$WORK/mbox.stats" "$WORK/$port.stats"
    [ "$SRV_RC" -ne 124 ] && [ "$CLI_RC" -ne 124 ] ||
        fail "port $port ($*): a program still ran after ${XFER_TIMEOUT}s (server $SRV_RC, client $CLI_RC)"
}

# jv FILE KEY: like lib.sh's json (None, True, False for null, true, false),
# in the shell: a Python start-up per value costs seconds on a loaded host.
jv() {
    local v
    v=$(tail -n1 "$1" | sed -n 's/.*"'"$2"'": \("\{0,1\}\)\([^",}]*\)\1[,}].*/\2/p')
    case $v in
    null | "") echo None ;;
    true) echo True ;;
    false) echo False ;;
    *) echo "$v" ;;
    esac
}

# markers FILE: plaintext markers in a capture.
markers() { { grep -a -o "$MARKER" "$1" || true; } | wc -l; }

# daemon_line SIDE WHAT: the line SIDE's daemon logged for this connection.
daemon_line() {
    local pat="10\.78\.0\.1:$PORT <- .* $2"
    [ "$1" = B ] && pat="-> 10\.78\.0\.1:$PORT $2"
    grep -- "$pat" "$WORK/daemon$1.log" | head -n1
}

# both_intact WHAT: every byte both ways, sha256 equal end to end.
both_intact() {
    [ "$SRV_RC" -eq 0 ] && [ "$CLI_RC" -eq 0 ] ||
        fail "$1: server exit $SRV_RC, client exit $CLI_RC: $(cat "$SRV" "$CLI")"
    for f in "$SRV" "$CLI"; do
        [ "$(jv "$f" received)" = "$BYTES" ] || fail "$1: $(basename "$f") received $(jv "$f" received)"
        [ "$(jv "$f" prefix_ok)" = True ] || fail "$1: $(basename "$f") received altered bytes"
    done
    [ "$(jv "$SRV" received_sha256)" = "$(jv "$CLI" sent_sha256)" ] || fail "$1: client->server sha256 differs"
    [ "$(jv "$CLI" received_sha256)" = "$(jv "$SRV" sent_sha256)" ] || fail "$1: server->client sha256 differs"
}

# expect_encrypted WHAT: the encrypted session intact (RFC 8548 §3.2:
# plaintext never exchanged once ENO succeeded): both ways intact, one
# session ID at both ends, both daemons logged it, no marker on the wire.
expect_encrypted() {
    local s c m
    both_intact "$1"
    s=$(jv "$SRV" sessid) c=$(jv "$CLI" sessid)
    [ ${#s} -eq 66 ] && [ "$s" = "$c" ] || fail "$1: session IDs $s / $c"
    for side in A B; do
        [ -n "$(daemon_line $side "established encrypted")" ] ||
            fail "$1: daemon $side did not log an encrypted connection"
    done
    m=$(markers "$PCAP")
    [ "$m" -eq 0 ] || fail "$1: $m plaintext markers on the wire of an encrypted connection"
    say "$1: encrypted, ${BYTES} bytes each way intact (sha256 $(jv "$SRV" received_sha256 | cut -c1-12)...), session $(echo "$s" | cut -c1-12)... at both ends, 0 markers in $(stat -c %s "$PCAP") captured bytes, ${RUN_S}s"
}

# expect_plain WHAT REASON_A REASON_B: fallback to plain TCP with every byte
# delivered: both daemons logged plain with these reasons, TCP_CRYPT_SESSID
# fails with ENOPROTOOPT at both ends, the markers crossed in the clear.
expect_plain() {
    local m la lb
    both_intact "$1"
    for f in "$SRV" "$CLI"; do
        [ "$(jv "$f" sessid)" = ENOPROTOOPT ] || fail "$1: session ID on a plain connection: $(jv "$f" sessid)"
    done
    la=$(daemon_line A "established plain ($2)")
    lb=$(daemon_line B "established plain ($3)")
    [ -n "$la" ] || fail "$1: daemon A: $(daemon_line A established)"
    [ -n "$lb" ] || fail "$1: daemon B: $(daemon_line B established)"
    m=$(markers "$PCAP")
    [ "$m" -gt 0 ] || fail "$1: a plain connection without markers on the wire"
    say "$1: plain TCP, ${BYTES} bytes each way intact (sha256 equal), ENOPROTOOPT at both ends; server daemon: ($2), client daemon: ($3); ${RUN_S}s"
}

# expect_type2 WHAT: the third segment lost its ENO option.  The server MUST
# fall back (RFC 8547 §4.6 rule 1: the first ACK it received has no ENO);
# the client sent and received an ACK with ENO (the SYN-ACK and its own third
# segment), so it MUST enable encryption (§4.6) and MUST NOT present raw
# payload to its application.  RFC 8547 §9 calls this a type-2 failure: the
# connection cannot work.  (The server cannot tell it from §6 Figure 11,
# where falling back is right, so it delivers what arrives: the client's
# Init1, or its frames on a resumed session.)  Required: the client, which
# enabled encryption, never sends plaintext and its application never reads
# a byte; it aborts at once (RFC 8548 §3.3: an abort transmits a RST);
# nothing hangs.
expect_type2() {
    local n cerr la lb m rst se
    n=$(counter eno_stripped 1)
    [ "$CLI_RC" -ne 0 ] || fail "$1: the client succeeded: $(cat "$CLI")"
    cerr=$(jv "$CLI" connect_error)
    [ "$cerr" = None ] && cerr=$(jv "$CLI" read_error)
    [ "$cerr" = EBADMSG ] || fail "$1: the client's error is $cerr, want EBADMSG: $(cat "$CLI")"
    [ "$(jv "$CLI" received)" = None ] || [ "$(jv "$CLI" received)" = 0 ] ||
        fail "$1: the client's application read $(jv "$CLI" received) bytes"
    lb=$(daemon_line B "\(failed\|aborted\): " | grep -v "reset by peer" || true)
    la=$(daemon_line A "established plain (peer sent no ENO option)")
    [ -n "$lb" ] || fail "$1: client daemon: $(grep ":$PORT " "$WORK/daemonB.log")"
    [ -n "$la" ] || fail "$1: server daemon: $(grep ":$PORT " "$WORK/daemonA.log")"
    tcpdump -r "$PCAP" -w "$WORK/$PORT.c2s.pcap" "src host $B_IP" 2>/dev/null
    m=$(markers "$WORK/$PORT.c2s.pcap")
    [ "$m" -eq 0 ] || fail "$1: $m plaintext markers from the client"
    rst=$(tcpdump -r "$WORK/$PORT.c2s.pcap" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | wc -l)
    [ "$rst" -ge 1 ] || fail "$1: the client's abort sent no RST"
    # The server's read ends with the RST, or with EOF when the client's
    # whole stream and FIN (frames of a resumed session) came before it.
    se=$(jv "$SRV" read_error)
    [ "$se" = ECONNRESET ] || [ "$se" = None ] || fail "$1: server's read ended with $se"
    [ "$se" = None ] && se=EOF
    say "$1 ($n segment): RFC 8547 §4.6 (server falls back, client enables) and §9 type-2 failure: client fails at once with $cerr, its application read nothing (${RUN_S}s, no hang), its daemon: ${lb##*$PORT }, RST sent; server daemon fell back, its application read $(jv "$SRV" received) bytes then $se; 0 markers from the client on the wire"
}

# expect_resumed WHAT: expect_encrypted, on a resumed session (RFC 8548 §3.5).
expect_resumed() {
    expect_encrypted "$1"
    for side in A B; do
        daemon_line $side "established encrypted" | grep -q ", resumed)" ||
            fail "$1: daemon $side: not resumed: $(daemon_line $side established)"
    done
    say "$1: resumed at both daemons"
}

# counter NAME MIN: a relay counter of this run, at least MIN.
counter() {
    local v
    v=$(sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$WORK/$PORT.stats")
    [ -n "$v" ] && [ "$v" -ge "$2" ] || fail "port $PORT: relay counter $1=$v, want >= $2 ($(cat "$WORK/$PORT.stats"))"
    echo "$v"
}

# daemons_alive: both daemons still run and still carry an encrypted
# connection through a clean relay.
daemons_alive() {
    kill -0 "$DAEMON_A" 2>/dev/null || fail "tcpcryptd A died"
    kill -0 "$DAEMON_B" 2>/dev/null || fail "tcpcryptd B died"
    mbox_run "$1" 100000
    expect_encrypted "afterwards, clean relay"
}
