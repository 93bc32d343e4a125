#!/usr/bin/env bash
# The example pairs (examples/) when authentication must fail, over the
# network (clients on host A, servers on B, misbehaving peers on M): each
# case is rejected with its own error text, the program exits non-zero and
# no application data follows.
#   wrong password (SPAKE2, and inside the TLS fallback), unknown user,
#   wrong cookie, expired certificate (libtcpcrypt and TLS), certificate
#   for another host, certificate from another CA, an authenticator
#   replayed from another connection (certificate and cookie), a message
#   cut in half (certificate and cookie), a peer of another method, a
#   client without tcpcrypt at the forum.
TEST_NAME=auth_errors
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_common.sh"
PEER=$TC_SRCDIR/tests/netns/auth_peer.py

start_three_hosts
make_secrets
# An expired certificate from the same CA, and a valid one from another CA.
mkdir -p "$WORK/pki-old"
cp "$PKI/ca.pem" "$PKI/ca.key" "$WORK/pki-old/"
DAYS=-1 bash "$TC_SRCDIR/examples/make-certs.sh" "$WORK/pki-old" shop.example >/dev/null
bash "$TC_SRCDIR/examples/make-certs.sh" "$WORK/pki-other" shop.example >/dev/null
printf 'forum-cookie-0000000000000000\n' >"$WORK/cookie-wrong"
printf 'correct horse battery stable\n' >"$WORK/password-wrong"

# rejected NAME TEXT [SERVERLOG SERVERTEXT]: the client NAME exited non-zero
# with TEXT; the server's log, when given, has SERVERTEXT.
rejected() {
    [ "$RC" -ne 0 ] || fail "$1: the client succeeded: $(cat "$WORK/$1.out")"
    expect_line "$WORK/$1.out" "$2"
    if [ $# -ge 4 ]; then
        for _ in $(seq 50); do grep -qF -- "$4" "$WORK/$3.log" && break; sleep 0.1; done
        expect_line "$WORK/$3.log" "$4"
        say "$1: client exit $RC, '$2'; server '$4'"
    else
        say "$1: client exit $RC, '$2'"
    fi
}

SHOPC=(--ca "$PKI/ca.pem" --host shop.example)

# ---- certificates
serve B shop-old 7201 "$EX/tc-shop-server" --port 7201 --cert "$WORK/pki-old/shop.example.pem" \
    --key "$WORK/pki-old/shop.example.key"
client expired A "$EX/tc-shop-client" --connect "$B_IP:7201" "${SHOPC[@]}"
rejected expired "tc-shop-client: authentication failed: the peer's certificate has expired or is not yet valid" \
    shop-old "tc-shop-server: authentication failed: the peer rejected this host's authentication"
client expired-tls A "$EX/tc-shop-client" --connect "$B_IP:7201" "${SHOPC[@]}" --no-aa
rejected expired-tls "tc-shop-client: TLS handshake failed: certificate: certificate has expired"

serve B shop-host 7202 "$EX/tc-shop-server" --port 7202 --cert "$PKI/bank.example.pem" \
    --key "$PKI/bank.example.key"
client wrong-host A "$EX/tc-shop-client" --connect "$B_IP:7202" "${SHOPC[@]}"
rejected wrong-host "tc-shop-client: authentication failed: the peer's certificate is not for the expected host"
client wrong-host-tls A "$EX/tc-shop-client" --connect "$B_IP:7202" "${SHOPC[@]}" --no-aa
rejected wrong-host-tls "tc-shop-client: TLS handshake failed: certificate: hostname mismatch"

serve B shop-other 7203 "$EX/tc-shop-server" --port 7203 --cert "$WORK/pki-other/shop.example.pem" \
    --key "$WORK/pki-other/shop.example.key"
client other-ca A "$EX/tc-shop-client" --connect "$B_IP:7203" "${SHOPC[@]}"
rejected other-ca "tc-shop-client: authentication failed: the peer's certificate is not issued by a trusted CA"
for f in expired expired-tls wrong-host wrong-host-tls other-ca; do expect_no_line "$WORK/$f.out" CONFIRMED; done
for f in shop-old shop-host shop-other; do expect_no_line "$WORK/$f.log" "order"; done

# ---- the shared cookie
serve B forum 7204 "$EX/tc-forum-server" --port 7204 --cookie-file "$WORK/cookie"
client wrong-cookie A "$EX/tc-forum-client" --connect "$B_IP:7204" --cookie-file "$WORK/cookie-wrong" --post leaked
rejected wrong-cookie "tc-forum-client: authentication failed: the peer's MAC does not verify (another shared key)" \
    forum "tc-forum-server: authentication failed: the peer's MAC does not verify (another shared key)"
client forum-plain plainA "$EX/tc-forum-client" --connect "$KB_IP:7204" --cookie-file "$WORK/cookie" --post leaked
rejected forum-plain "tc-forum-client: refused: the peer is not tcpcrypt-aware" \
    forum "tc-forum-server: refused: the peer is not tcpcrypt-aware"

# ---- the password
BANKC=(--name bank.example --password-file "$WORK/password" --ca "$PKI/ca.pem")
serve B bank 7205 "$EX/tc-bank-server" --port 7205 --cert "$PKI/bank.example.pem" \
    --key "$PKI/bank.example.key" --name bank.example --user alice --password-file "$WORK/password"
client wrong-password A "$EX/tc-bank-client" --connect "$B_IP:7205" --user alice \
    --name bank.example --password-file "$WORK/password-wrong" --ca "$PKI/ca.pem"
EPASSWORD="authentication failed: password key confirmation failed (another password)"
rejected wrong-password "tc-bank-client: $EPASSWORD" bank "tc-bank-server: $EPASSWORD"
# An unknown user fails like a wrong password (the server runs the
# exchange against a random value): no hint that the name does not exist.
client unknown-user A "$EX/tc-bank-client" --connect "$B_IP:7205" --user mallory "${BANKC[@]}"
rejected unknown-user "tc-bank-client: $EPASSWORD"
for _ in $(seq 50); do [ "$(grep -c "$EPASSWORD" "$WORK/bank.log")" -eq 2 ] && break; sleep 0.1; done
[ "$(grep -c "$EPASSWORD" "$WORK/bank.log")" -eq 2 ] || fail "bank server: $(cat "$WORK/bank.log")"
client wrong-password-tls A "$EX/tc-bank-client" --connect "$B_IP:7205" --user alice --no-aa \
    --name bank.example --password-file "$WORK/password-wrong" --ca "$PKI/ca.pem"
rejected wrong-password-tls "tc-bank-client: authentication failed: the bank refused the password (TLS login)" \
    bank "tc-bank-server: authentication failed: wrong user or password (TLS login)"
for f in wrong-password unknown-user wrong-password-tls; do expect_no_line "$WORK/$f.out" "BALANCE"; done

# ---- another method: a forum client at the shop
serve B shop 7206 "$EX/tc-shop-server" --port 7206 --cert "$PKI/shop.example.pem" --key "$PKI/shop.example.key"
client other-method A "$EX/tc-forum-client" --connect "$B_IP:7206" --cookie-file "$WORK/cookie" --post leaked
rejected other-method "tc-forum-client: authentication failed: the peer uses another authentication method"

# ---- replayed authenticators: M records the real server's proof on its
# own connection and presents it to A on another
replay() {
    local name=$1 port=$2 target=$3
    shift 3
    run_tc M timeout 40 "$PY" "$PEER" replay "$port" "$B_IP" "$target" >"$WORK/peer-$name.log" 2>&1 &
    PIDS+=($!)
    wait_listening "$NSM" "$port"
    expect_line "$WORK/peer-$name.log" "peer: recorded"
    client "$name" A "$@"
}
replay replay-cert 7301 7206 "$EX/tc-shop-client" --connect "$M_IP:7301" "${SHOPC[@]}"
rejected replay-cert "tc-shop-client: authentication failed: $ESESSION"
replay replay-cookie 7302 7204 "$EX/tc-forum-client" --connect "$M_IP:7302" --cookie-file "$WORK/cookie" --post leaked
rejected replay-cookie "tc-forum-client: authentication failed: $ESESSION"

# ---- a message cut in half: header (method, type, body length) and half
# the body, then the peer closes
truncated() {
    local name=$1 port=$2 method=$3 type=$4 len=$5
    shift 5
    run_tc M timeout 40 "$PY" "$PEER" truncate "$port" "$method" "$type" "$len" >"$WORK/peer-$name.log" 2>&1 &
    PIDS+=($!)
    wait_listening "$NSM" "$port"
    client "$name" A "$@"
    expect_line "$WORK/peer-$name.log" "peer: sent a header for $len bytes"
}
truncated trunc-cert 7303 2 2 400 "$EX/tc-shop-client" --connect "$M_IP:7303" "${SHOPC[@]}"
rejected trunc-cert "tc-shop-client: authentication failed: the peer closed the connection in the middle of the authentication"
truncated trunc-cookie 7304 1 1 67 "$EX/tc-forum-client" --connect "$M_IP:7304" --cookie-file "$WORK/cookie" --post leaked
rejected trunc-cookie "tc-forum-client: authentication failed: the peer closed the connection in the middle of the authentication"

# ---- configuration errors: one line, no connection attempted past them
printf 'short\n' >"$WORK/cookie-short"
client short-cookie A "$EX/tc-forum-client" --connect "$B_IP:7204" --cookie-file "$WORK/cookie-short"
rejected short-cookie "tc-forum-client: $WORK/cookie-short: the cookie must have at least 16 bytes"
client no-ca A "$EX/tc-shop-client" --connect "$B_IP:7206" --ca "$WORK/absent.pem" --host shop.example
rejected no-ca "tc-shop-client: authentication failed: bad argument, or unreadable key, certificate or CA file"

for f in other-method replay-cert replay-cookie trunc-cert trunc-cookie wrong-cookie forum-plain; do
    expect_no_line "$WORK/$f.out" CONFIRMED
    expect_no_line "$WORK/$f.out" POSTED
done
expect_no_line "$WORK/forum.log" "leaked"
expect_no_line "$WORK/shop.log" "order"
no_sanitizer_reports
say "PASS"
