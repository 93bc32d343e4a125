#!/usr/bin/env bash
# libtcpcrypt between two programs under tcpcrypt-run, each in its own
# namespace with its own tcpcryptd: the session ID and role read from the
# socket (s = NULL), then a shared secret, a password and a server
# certificate authenticate it and the application's lines follow intact; a
# wrong key fails on both ends with its own message; the application-aware
# bit is seen by the peer, and a kernel client (no tcpcrypt) makes the
# server skip authentication and talk plain, as an application that falls
# back to what it did before.
TEST_NAME=auth_e2e
. "$(dirname "$0")/lib.sh"
need timeout openssl
PEER=$TC_BUILDDIR/tests/auth_peer
[ -x "$PEER" ] || fail "no $PEER (make check builds it)"
PORT=7301

start_hosts

# A CA and a server certificate for A's address, made with the openssl CLI.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=auth_e2e CA" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" >/dev/null 2>&1 ||
    fail "openssl: CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$A_IP" \
    -keyout "$WORK/srv.key" -out "$WORK/srv.csr" >/dev/null 2>&1 || fail "openssl: request"
printf 'subjectAltName=IP:%s\n' "$A_IP" >"$WORK/san.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/san.ext" -out "$WORK/srv.pem" >/dev/null 2>&1 || fail "openssl: sign"

# pair NAME SERVER-RUNNER CLIENT-RUNNER SERVER-ARGS -- CLIENT-ARGS: one
# connection; the two result lines land in $WORK/NAME.srv and NAME.cli, the
# exit statuses in srv_rc and cli_rc.
pair() {
    local name=$1 srun=$2 crun=$3 sargs=() cargs=()
    shift 3
    while [ "$1" != -- ]; do sargs+=("$1"); shift; done
    shift
    cargs=("$@")
    PORT=$((PORT + 1))
    $srun timeout 30 "$PEER" "${sargs[@]/@PORT@/$PORT}" >"$WORK/$name.srv" 2>"$WORK/$name.srv.err" &
    local spid=$!
    for _ in $(seq 100); do grep -q listening "$WORK/$name.srv" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$WORK/$name.srv" || fail "$name: server did not listen: $(cat "$WORK/$name.srv.err")"
    cli_rc=0
    $crun timeout 30 "$PEER" "${cargs[@]/@PORT@/$PORT}" >"$WORK/$name.cli" 2>"$WORK/$name.cli.err" || cli_rc=$?
    srv_rc=0
    wait "$spid" || srv_rc=$?
}
tc_a() { run_tc A "$@"; }
tc_b() { run_tc B "$@"; }
kernel_b() { inns "$NSB" "$@"; }
field() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" "$WORK/$1" | tail -n1; }
authres() { sed -n 's/.* auth=\(.*\) data=.*/\1/p' "$WORK/$1" | tail -n1; }

# ok NAME: both ends authenticated the same session ID and exchanged lines.
ok() {
    local name=$1
    [ "$srv_rc" = 0 ] && [ "$cli_rc" = 0 ] ||
        fail "$name: exit $srv_rc / $cli_rc: $(cat "$WORK/$name.srv" "$WORK/$name.cli" "$WORK/$name.srv.err" "$WORK/$name.cli.err")"
    [ "$(authres "$name.srv")" = ok ] && [ "$(authres "$name.cli")" = ok ] ||
        fail "$name: $(authres "$name.srv") / $(authres "$name.cli")"
    local s c
    s=$(field "$name.srv" sessid)
    c=$(field "$name.cli" sessid)
    [ ${#s} -eq 66 ] && [ "$s" = "$c" ] || fail "$name: session IDs $s / $c"
    [ "$(field "$name.srv" data)" = ok ] && [ "$(field "$name.cli" data)" = ok ] ||
        fail "$name: application lines altered"
    say "$name: authenticated at both ends, session ${s:0:16}..., lines intact after it"
}

pair psk tc_a tc_b --aa server @PORT@ psk "a shared secret for auth_e2e" -- \
    --aa client "$A_IP" @PORT@ psk "a shared secret for auth_e2e"
ok psk
[ "$(field psk.srv aa_peer)" = 1 ] && [ "$(field psk.cli aa_peer)" = 1 ] ||
    fail "aa_peer: $(field psk.srv aa_peer) / $(field psk.cli aa_peer)"
say "psk: each end sees the peer's application-aware bit (aa_peer=1)"

pair password tc_a tc_b server @PORT@ password "correct horse" -- \
    client "$A_IP" @PORT@ password "correct horse"
ok password
[ "$(field password.srv aa_peer)" = 0 ] || fail "aa_peer without --aa: $(field password.srv aa_peer)"

pair cert tc_a tc_b server @PORT@ cert "$WORK/srv.pem" "$WORK/srv.key" -- \
    client "$A_IP" @PORT@ cert "$WORK/ca.pem" "$A_IP"
ok cert

pair wrongkey tc_a tc_b server @PORT@ psk "a shared secret for auth_e2e" -- \
    client "$A_IP" @PORT@ psk "another secret of enough length"
[ "$srv_rc" != 0 ] && [ "$cli_rc" != 0 ] || fail "wrong key: exit $srv_rc / $cli_rc"
for f in wrongkey.srv wrongkey.cli; do
    case "$(authres $f)" in
    "the peer's MAC does not verify"*) ;;
    *) fail "wrong key, $f: $(authres $f)" ;;
    esac
done
say "wrong key: both ends refuse: $(authres wrongkey.srv)"

# A kernel client: plain TCP, no session ID; the server falls back.
pair plain tc_a kernel_b --aa server @PORT@ psk "a shared secret for auth_e2e" -- \
    --aa client "$A_IP" @PORT@ psk "a shared secret for auth_e2e"
[ "$srv_rc" = 0 ] && [ "$cli_rc" = 0 ] ||
    fail "plain: exit $srv_rc / $cli_rc: $(cat "$WORK/plain.srv" "$WORK/plain.cli" "$WORK/plain.srv.err")"
[ "$(field plain.srv aa_peer)" = 0 ] && [ "$(field plain.srv sessid)" = none ] &&
    [ "$(field plain.cli sessid)" = none ] || fail "plain: $(cat "$WORK/plain.srv" "$WORK/plain.cli")"
[ "$(authres plain.srv)" = "the peer is not tcpcrypt-aware" ] || fail "plain: $(authres plain.srv)"
say "kernel client: aa_peer=0, no session ID, both ends skip authentication and talk plain"
say "PASS"
