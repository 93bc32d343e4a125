# Shared by tests/netns/auth_mitm.sh and auth_errors.sh (after lib.sh):
# the example programs, their certificates and secrets, and how to run them.
EX=$TC_BUILDDIR/examples
need openssl timeout ss
for p in news shop forum bank; do
    [ -x "$EX/tc-$p-server" ] && [ -x "$EX/tc-$p-client" ] || fail "no $EX/tc-$p-server/client"
done
ESESSION="the peer saw another session ID (a man in the middle, or a replayed message)"

# make_secrets: a CA and the shop's and bank's certificates (generated
# now, never stored), the forum's cookie and the bank customer's password.
make_secrets() {
    PKI=$WORK/pki
    bash "$TC_SRCDIR/examples/make-certs.sh" "$PKI" shop.example bank.example >/dev/null ||
        fail "make-certs.sh failed"
    printf 'forum-cookie-5f0c2a9e81d34b67\n' >"$WORK/cookie"
    printf 'correct horse battery staple\n' >"$WORK/password"
}

# serve SIDE NAME PORT prog args...: a server under tcpcrypt-run on SIDE,
# output in $WORK/NAME.log, bounded by a timeout; waits until it listens.
serve() {
    local side=$1 name=$2 port=$3 ns=$NSA
    shift 3
    [ "$side" = B ] && ns=$NSB
    run_tc "$side" timeout 90 "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    wait_listening "$ns" "$port"
}

# client NAME WHERE cmd...: a client, under tcpcrypt-run on host WHERE (A,
# B or M) or, for WHERE = plainA, run by A's kernel without tcpcrypt; its
# output in $WORK/NAME.out and its status in $RC.
client() {
    local name=$1 where=$2
    shift 2
    set +e
    if [ "$where" = plainA ]; then
        inns "$NSA" timeout 60 "$@" >"$WORK/$name.out" 2>&1
    else
        run_tc "$where" timeout 60 "$@" >"$WORK/$name.out" 2>&1
    fi
    RC=$?
    set -e
}

# sid_of FILE: the session ID on the first "session <hex>" line of FILE.
sid_of() { grep -o 'session [0-9a-f]\{66\}' "$1" | head -n1 | cut -d' ' -f2; }

# expect_line FILE TEXT: FILE has a line containing TEXT (fixed string).
expect_line() { grep -qF -- "$2" "$1" || fail "$(basename "$1"): no '$2' in: $(cat "$1")"; }
# expect_no_line FILE TEXT
expect_no_line() { ! grep -qF -- "$2" "$1" || fail "$(basename "$1"): unexpected '$2' in: $(cat "$1")"; }

# wait_exit PID: the server ended by itself (its --count reached) with
# status 0 (a sanitizer build fails it on a leak or an error).
wait_exit() {
    local rc=0
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && fail "server $1 did not finish"
    wait "$1" || rc=$?
    [ "$rc" -eq 0 ] || fail "server $1 exited with status $rc"
}

# no_sanitizer_reports: no program output holds a sanitizer's report.
no_sanitizer_reports() {
    local f
    for f in "$WORK"/*.out "$WORK"/*.log; do
        [ -f "$f" ] || continue
        if grep -qE 'Sanitizer|runtime error:' "$f"; then
            fail "$(basename "$f"): $(grep -m3 -E 'Sanitizer|runtime error:' "$f")"
        fi
    done
    say "no sanitizer report in $(ls "$WORK"/*.out "$WORK"/*.log | wc -l) outputs"
}
