#!/usr/bin/env bash
# The example pairs (examples/) between hosts A (clients) and B (servers),
# directly and through a man in the middle on host M: a relay under
# tcpcrypt-run that terminates tcpcrypt on each side, announces application
# awareness like the real ends, and forwards the plaintext.
#   directly: every pair succeeds, the same session ID at both ends; the
#     shop and the bank fall back to TLS 1.3 over the same connection for a
#     client with awareness off or without tcpcrypt; batch signing shares
#     signatures between concurrent connections;
#   through the relay: each authenticated mode (shared cookie, certificate,
#     batch certificate, password) fails on the session ID check, with no
#     application data exchanged; the unauthenticated news pair still works,
#     with two different session IDs (what the relay holds with each end);
#     a relay that hides the a bit only makes the shop fall back to TLS 1.3,
#     end to end through it, and the certificate is still checked.
TEST_NAME=auth_mitm
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/auth_common.sh"
RELAY=$TC_SRCDIR/tests/netns/auth_relay.py

start_three_hosts
make_secrets

# direct NAME PORT WANT ARGS...: the client (ARGS, @ADDR@ for the server's
# address) on A straight to B; it succeeds, prints WANT, and its session
# ID is the one on the server's first session line.
direct() {
    local name=$1 port=$2 want=$3 cs ss
    shift 3
    client "$name-direct" A "${@//@ADDR@/$B_IP:$port}"
    [ "$RC" -eq 0 ] || fail "$name direct: exit $RC: $(cat "$WORK/$name-direct.out")"
    expect_line "$WORK/$name-direct.out" "$want"
    cs=$(sid_of "$WORK/$name-direct.out")
    ss=$(sid_of "$WORK/$name.log")
    [ -n "$cs" ] && [ "$cs" = "$ss" ] || fail "$name: client session '$cs', server session '$ss'"
    say "$name direct: '$want${cs:0:16}...', the same session ID at the server"
}

# through_relay NAME PORT ARGS...: a relay on M to B's PORT, the client
# on A to the relay.  Sets RC; the relay's log has its two session IDs.
through_relay() {
    local name=$1 port=$2
    shift 2
    run_tc M timeout 60 "$PY" "$RELAY" "$port" "$B_IP" "$port" --lifetime 50 \
        >"$WORK/relay-$name.log" 2>&1 &
    PIDS+=($!)
    wait_listening "$NSM" "$port"
    client "$name-mitm" A "${@//@ADDR@/$M_IP:$port}"
    for _ in $(seq 50); do grep -q 'session with client' "$WORK/relay-$name.log" && break; sleep 0.1; done
    relay_line=$(grep -m1 'session with client' "$WORK/relay-$name.log") ||
        fail "$name: the relay relayed nothing: $(cat "$WORK/relay-$name.log")"
    local c s
    c=$(echo "$relay_line" | sed -n 's/.*client \([0-9a-f]*\),.*/\1/p')
    s=$(echo "$relay_line" | sed -n 's/.*server \([0-9a-f]*\)$/\1/p')
    [ ${#c} -eq 66 ] && [ ${#s} -eq 66 ] && [ "$c" != "$s" ] ||
        fail "$name: the relay did not hold two tcpcrypt sessions: $relay_line"
}

# ---- news: nothing shared, nothing authenticated
serve B news 7101 "$EX/tc-news-server" --port 7101 --count 2
news_pid=${PIDS[-1]}
direct news 7101 "unauthenticated session " "$EX/tc-news-client" @ADDR@
expect_line "$WORK/news-direct.out" "tc-news-client: 3 headlines"
through_relay news 7101 "$EX/tc-news-client" @ADDR@
[ "$RC" -eq 0 ] || fail "news through the relay: exit $RC: $(cat "$WORK/news-mitm.out")"
expect_line "$WORK/news-mitm.out" "tc-news-client: 3 headlines"
wait_exit "$news_pid"
cs=$(sid_of "$WORK/news-mitm.out")
ss=$(grep 'session' "$WORK/news.log" | sed -n 2p | grep -o '[0-9a-f]\{66\}')
[ -n "$cs" ] && [ -n "$ss" ] && [ "$cs" != "$ss" ] || fail "news through the relay: sessions '$cs' '$ss'"
echo "$relay_line" | grep -qF "session with client $cs, session with server $ss" || fail "news: relay line '$relay_line'"
say "news through the relay: 3 headlines, client session ${cs:0:16}... != server session ${ss:0:16}... (unauthenticated: undetected, as documented)"

# ---- shop: a server certificate, one signature per connection; TLS 1.3
# for clients that are not tcpcrypt-aware
SHOP=(--cert "$PKI/shop.example.pem" --key "$PKI/shop.example.key")
SHOPC=(--ca "$PKI/ca.pem" --host shop.example)
serve B shop 7102 "$EX/tc-shop-server" --port 7102 "${SHOP[@]}" --count 4
shop_pid=${PIDS[-1]}
direct shop 7102 "authenticated: server shop.example via certificate, session " \
    "$EX/tc-shop-client" --connect @ADDR@ "${SHOPC[@]}" --order "2 book"
expect_line "$WORK/shop-direct.out" "shop: CONFIRMED #1: 2 x book"
expect_line "$WORK/shop.log" "authenticated to the client via certificate, session"

client shop-noaa A "$EX/tc-shop-client" --connect "$B_IP:7102" "${SHOPC[@]}" --no-aa --order "1 lamp"
[ "$RC" -eq 0 ] || fail "shop --no-aa: exit $RC: $(cat "$WORK/shop-noaa.out")"
sid=$(sid_of "$WORK/shop-noaa.out")
expect_line "$WORK/shop-noaa.out" "authenticated: server shop.example via TLS 1.3 certificate (tcpcrypt awareness off), inside tcpcrypt session $sid"
expect_line "$WORK/shop.log" "client not tcpcrypt-aware: TLS 1.3 with the same certificate, inside tcpcrypt session $sid"
expect_line "$WORK/shop-noaa.out" "shop: CONFIRMED #2: 1 x lamp"
say "shop, client with --no-aa: TLS 1.3 inside tcpcrypt, certificate checked, order confirmed"

client shop-plain plainA "$EX/tc-shop-client" --connect "$KB_IP:7102" "${SHOPC[@]}" --order "3 pens"
[ "$RC" -eq 0 ] || fail "shop, plain client: exit $RC: $(cat "$WORK/shop-plain.out")"
expect_line "$WORK/shop-plain.out" "via TLS 1.3 certificate (server not tcpcrypt-aware), over plain TCP"
expect_line "$WORK/shop.log" "client not tcpcrypt-aware: TLS 1.3 with the same certificate over plain TCP"
expect_line "$WORK/shop-plain.out" "shop: CONFIRMED #3: 3 x pens"
say "shop, client without tcpcrypt: TLS 1.3 over plain TCP, certificate checked, order confirmed"

through_relay shop 7102 "$EX/tc-shop-client" --connect @ADDR@ "${SHOPC[@]}" --order "9 watches"
[ "$RC" -ne 0 ] || fail "shop through the relay: the client succeeded: $(cat "$WORK/shop-mitm.out")"
expect_line "$WORK/shop-mitm.out" "tc-shop-client: authentication failed: $ESESSION"
expect_no_line "$WORK/shop-mitm.out" "CONFIRMED"
wait_exit "$shop_pid"
expect_line "$WORK/shop.log" "tc-shop-server: authentication failed: the peer rejected this host's authentication"
expect_no_line "$WORK/shop.log" "watches"
say "shop through the relay: client exit $RC, '$ESESSION'; the server saw the rejection; no order placed"

# A shop from before tcpcrypt (--no-aa) and an aware client: TLS 1.3.
serve B shop-legacy 7106 "$EX/tc-shop-server" --port 7106 "${SHOP[@]}" --no-aa --count 1
legacy_pid=${PIDS[-1]}
client shop-legacy A "$EX/tc-shop-client" --connect "$B_IP:7106" "${SHOPC[@]}" --order "1 desk"
[ "$RC" -eq 0 ] || fail "shop --no-aa server: exit $RC: $(cat "$WORK/shop-legacy.out")"
expect_line "$WORK/shop-legacy.out" "via TLS 1.3 certificate (server not tcpcrypt-aware), inside tcpcrypt session"
expect_line "$WORK/shop-legacy.out" "shop: CONFIRMED #1: 1 x desk"
wait_exit "$legacy_pid"
say "shop server with --no-aa, aware client: TLS 1.3 inside tcpcrypt, order confirmed"
# A man in the middle who hides the a bit (relay --no-aa) only makes both
# ends fall back to TLS, which runs end to end through it: it still
# authenticates the shop, and the relay sees only TLS records.
serve B shop-down 7107 "$EX/tc-shop-server" --port 7107 "${SHOP[@]}" --count 1
down_pid=${PIDS[-1]}
run_tc M timeout 60 "$PY" "$RELAY" 7107 "$B_IP" 7107 --no-aa --lifetime 50 >"$WORK/relay-noaa.log" 2>&1 &
PIDS+=($!)
wait_listening "$NSM" 7107
client shop-noaa-relay A "$EX/tc-shop-client" --connect "$M_IP:7107" "${SHOPC[@]}" --order "5 chairs"
[ "$RC" -eq 0 ] || fail "shop through a relay without a bit: exit $RC: $(cat "$WORK/shop-noaa-relay.out")"
expect_line "$WORK/shop-noaa-relay.out" "via TLS 1.3 certificate (server not tcpcrypt-aware)"
expect_line "$WORK/shop-noaa-relay.out" "shop: CONFIRMED #1: 5 x chairs"
wait_exit "$down_pid"
expect_line "$WORK/shop-down.log" "client not tcpcrypt-aware: TLS 1.3 with the same certificate, inside tcpcrypt session"
expect_line "$WORK/relay-noaa.log" "session with client"
say "shop through a relay that hides the a bit: TLS 1.3 end to end through it, certificate checked"

# ---- shop with batch signing: three concurrent clients, one signature
serve B shopb 7103 "$EX/tc-shop-server" --port 7103 "${SHOP[@]}" --batch-window-us 1000000 --count 4
shopb_pid=${PIDS[-1]}
bp=()
for i in 1 2 3; do
    run_tc A timeout 60 "$EX/tc-shop-client" --connect "$B_IP:7103" "${SHOPC[@]}" --order "$i cups" \
        >"$WORK/shopb-$i.out" 2>&1 &
    bp+=($!)
done
for i in 1 2 3; do
    wait "${bp[$((i - 1))]}" || fail "batch client $i failed: $(cat "$WORK/shopb-$i.out")"
    expect_line "$WORK/shopb-$i.out" "authenticated: server shop.example via certificate, session "
    sid=$(sid_of "$WORK/shopb-$i.out")
    expect_line "$WORK/shopb.log" "authenticated to the client via certificate (batch signature), session $sid"
    expect_line "$WORK/shopb-$i.out" "x cups"
done
say "shop batch: three concurrent clients authenticated, each session ID matched at the server"
through_relay shopb 7103 "$EX/tc-shop-client" --connect @ADDR@ "${SHOPC[@]}" --order "9 watches"
[ "$RC" -ne 0 ] || fail "batch shop through the relay: the client succeeded"
expect_line "$WORK/shopb-mitm.out" "tc-shop-client: authentication failed: $ESESSION"
expect_no_line "$WORK/shopb-mitm.out" "CONFIRMED"
wait_exit "$shopb_pid"
stats=$(grep -o 'batch signing: [0-9]* sessions, [0-9]* signatures' "$WORK/shopb.log") ||
    fail "no batch statistics: $(cat "$WORK/shopb.log")"
read -r n_sess n_sig < <(echo "$stats" | sed 's/[^0-9 ]//g; s/  */ /g; s/^ //')
[ "$n_sess" -eq 4 ] && [ "$n_sig" -lt "$n_sess" ] || fail "batch: $stats"
expect_no_line "$WORK/shopb.log" "watches"
say "shop batch through the relay: '$ESESSION'; $stats"

# ---- forum: a shared cookie, mutual authentication
serve B forum 7104 "$EX/tc-forum-server" --port 7104 --cookie-file "$WORK/cookie" --count 2
forum_pid=${PIDS[-1]}
direct forum 7104 "authenticated: forum via shared cookie (mutual), session " \
    "$EX/tc-forum-client" --connect @ADDR@ --cookie-file "$WORK/cookie" --post "first post"
expect_line "$WORK/forum-direct.out" "forum: POSTED #1"
expect_line "$WORK/forum.log" "authenticated: member via shared cookie (mutual), session"
through_relay forum 7104 "$EX/tc-forum-client" --connect @ADDR@ --cookie-file "$WORK/cookie" --post "relayed post"
[ "$RC" -ne 0 ] || fail "forum through the relay: the client succeeded"
expect_line "$WORK/forum-mitm.out" "tc-forum-client: authentication failed: $ESESSION"
wait_exit "$forum_pid"
expect_line "$WORK/forum.log" "tc-forum-server: authentication failed: $ESESSION"
expect_no_line "$WORK/forum.log" "relayed post"
expect_no_line "$WORK/forum-mitm.out" "POSTED"
say "forum through the relay: both ends '$ESESSION'; nothing posted"

# ---- bank: a password (SPAKE2) and a certificate
BANK=(--cert "$PKI/bank.example.pem" --key "$PKI/bank.example.key" --name bank.example
    --user alice --password-file "$WORK/password")
BANKC=(--name bank.example --user alice --password-file "$WORK/password" --ca "$PKI/ca.pem")
serve B bank 7105 "$EX/tc-bank-server" --port 7105 "${BANK[@]}" --count 3
bank_pid=${PIDS[-1]}
direct bank 7105 "authenticated: bank bank.example and user alice via password (mutual), session " \
    "$EX/tc-bank-client" --connect @ADDR@ "${BANKC[@]}"
expect_line "$WORK/bank-direct.out" "bank: BALANCE alice 1024.00 EUR"
expect_line "$WORK/bank.log" "authenticated: alice via password (mutual), session"
client bank-noaa A "$EX/tc-bank-client" --connect "$B_IP:7105" "${BANKC[@]}" --no-aa
[ "$RC" -eq 0 ] || fail "bank --no-aa: exit $RC: $(cat "$WORK/bank-noaa.out")"
expect_line "$WORK/bank-noaa.out" "authenticated: bank bank.example via TLS 1.3 certificate, user alice via password (tcpcrypt awareness off)"
expect_line "$WORK/bank.log" "authenticated: alice via password inside TLS 1.3 (client not tcpcrypt-aware)"
expect_line "$WORK/bank-noaa.out" "bank: BALANCE alice"
say "bank, client with --no-aa: TLS 1.3 certificate checked, password inside, balance read"
through_relay bank 7105 "$EX/tc-bank-client" --connect @ADDR@ "${BANKC[@]}"
[ "$RC" -ne 0 ] || fail "bank through the relay: the client succeeded"
expect_line "$WORK/bank-mitm.out" "tc-bank-client: authentication failed: $ESESSION"
expect_no_line "$WORK/bank-mitm.out" "BALANCE"
wait_exit "$bank_pid"
[ "$(grep -c 'authentication failed' "$WORK/bank.log")" -eq 1 ] || fail "bank server: $(cat "$WORK/bank.log")"
say "bank through the relay: client '$ESESSION', server '$(grep -m1 'authentication failed' "$WORK/bank.log" | sed 's/.*failed: //')'; no balance shown"
no_sanitizer_reports
say "PASS"
