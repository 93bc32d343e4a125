#!/usr/bin/env bash
# The TCP_CRYPT_* socket options, each shown by its effect on the wire or on
# the result: tools/tcpcrypt-info on both hosts (under tcpcrypt-run) sets
# options, connects, and prints what tcpcrypt reports; the daemon-wide
# defaults (--aeads, --plain-port, --config) likewise.
TEST_NAME=api_options
. "$(dirname "$0")/lib.sh"
need tcpdump tshark timeout
INFO=$TC_BUILDDIR/tools/tcpcrypt-info
[ -x "$INFO" ] || fail "no $INFO"

# Fresh key exchanges throughout (each case negotiates anew); resumption
# and its options have their own section at the end.
start_hosts --resume-cache 0
PORT=7100

# srv NAME [--set ...]: a one-connection tcpcrypt-info listener on A, port $PORT
srv() {
    local name=$1
    shift
    run_tc A timeout 30 "$INFO" "$@" listen $PORT >"$WORK/$name.srv" 2>&1 &
    SRV=$!
    for _ in $(seq 100); do grep -q '^listening' "$WORK/$name.srv" && return 0; sleep 0.1; done
    fail "$name: no listener: $(cat "$WORK/$name.srv")"
}
# cli NAME [--set ...]: B connects to A's listener, sends "hello", reads the echo
cli() {
    local name=$1
    shift
    run_tc B timeout 30 "$INFO" "$@" --send hello connect "$A_IP" $PORT >"$WORK/$name.cli" 2>&1 || true
    if grep -q '^error' "$WORK/$name.cli"; then
        kill "$SRV" 2>/dev/null || true
    fi
    wait "$SRV" 2>/dev/null || true
    PORT=$((PORT + 1))
}
# v FILE KEY: the value printed for KEY
v() { sed -n "s/^$2 \([^ ]*\).*/\1/p" "$WORK/$1" | head -n1; }
expect() { # expect FILE KEY VALUE WHAT
    [ "$(v "$1" "$2")" = "$3" ] || fail "$4: $2 is '$(v "$1" "$2")', want '$3' ($(tr '\n' ' ' <"$WORK/$1"))"
}
both() { expect "$1.srv" "$2" "$3" "$4 (server)"; expect "$1.cli" "$2" "$3" "$4 (client)"; }

# 1. Defaults: encrypted, roles, TEP, AEAD, session IDs and public keys agree.
srv def
cli def
both def encrypted yes "defaults"
expect def.cli echo hello "defaults: echo"
expect def.cli role A "active opener"
expect def.srv role B "passive opener"
both def tep 0x23 "default TEP (X25519)"
both def aead 0x01 "default AEAD (AES-128-GCM)"
both def resumed 0 "fresh session"
[ "$(v def.srv sessid)" = "$(v def.cli sessid)" ] || fail "session IDs differ"
[ "$(v def.srv pubkey_a)" = "$(v def.cli pubkey_a)" ] || fail "TCP_CRYPT_PUBKEY: A's key differs"
[ "$(v def.srv pubkey_b)" = "$(v def.cli pubkey_b)" ] || fail "TCP_CRYPT_PUBKEY: B's key differs"
[ "$(v def.cli pubkey_a | wc -c)" -eq 65 ] || fail "X25519 public key is not 32 bytes"
[ "$(v def.cli pubkey_a)" != "$(v def.cli pubkey_b)" ] || fail "both public keys equal"
expect def.cli pubkey_ours A "TCP_CRYPT_PUBKEY ours (client)"
expect def.srv pubkey_ours B "TCP_CRYPT_PUBKEY ours (server)"
both def peer_app_aware 0 "peer a bit"
say "defaults: encrypted, roles A/B, TEP 0x23, AES-128-GCM, session ID and public keys agree"

# 2. TCP_CRYPT_ENABLE 0 on the client: no option 69 at all, plain TCP.
ip netns exec "$NSA" tcpdump --immediate-mode -i vA$tag -s 200 -w "$WORK/off.pcap" -U "tcp port $PORT" >"$WORK/td.log" 2>&1 &
TD=$!
PIDS+=($TD)
for _ in $(seq 50); do grep -q listening "$WORK/td.log" && break; sleep 0.1; done
srv off
cli off --set enable=0
sleep 0.3
kill -TERM $TD
wait $TD 2>/dev/null || true
both off encrypted no "TCP_CRYPT_ENABLE=0"
expect off.cli echo hello "TCP_CRYPT_ENABLE=0: echo"
expect off.cli enable 0 "TCP_CRYPT_ENABLE get on the connection"
n69=$(tshark -r "$WORK/off.pcap" -Y 'tcp.option_kind==69' 2>/dev/null | wc -l)
nsyn=$(tshark -r "$WORK/off.pcap" -Y 'tcp.flags.syn==1' 2>/dev/null | wc -l)
[ "$nsyn" -ge 2 ] || fail "capture has no handshake"
[ "$n69" -eq 0 ] || fail "TCP_CRYPT_ENABLE=0: $n69 segments carry option 69"
say "TCP_CRYPT_ENABLE=0 (client): no option 69 on the wire, plain TCP"

# 3. ... and on a listener.
srv loff --set enable=0
cli loff
both loff encrypted no "listener TCP_CRYPT_ENABLE=0"
say "TCP_CRYPT_ENABLE=0 (listener): plain TCP"

# 5. TCP_CRYPT_CCONF (A offers only ChaCha20) and TCP_CRYPT_SCONF (B prefers AES-256).
srv cc
cli cc --set cconf=0x10
both cc aead 0x10 "TCP_CRYPT_CCONF=ChaCha20-Poly1305"
srv sc --set sconf=0x02,0x01
cli sc
both sc aead 0x02 "TCP_CRYPT_SCONF=AES-256-GCM first"
srv sc2 --set sconf=0x02
cli sc2 --set cconf=0x10,0x01
grep -q '^error connect' "$WORK/sc2.cli" || fail "no common AEAD: connect did not fail: $(cat "$WORK/sc2.cli")"
say "TCP_CRYPT_CCONF and TCP_CRYPT_SCONF choose the AEAD (0x10, 0x02); no common AEAD: connect fails ($(sed -n 's/^error connect: //p' "$WORK/sc2.cli"))"

# 6. TCP_CRYPT_SUPPORT: the a bit reaches the peer; mode 2 needs the peer's a.
srv aa
cli aa --set support=1
expect aa.srv peer_app_aware 1 "server sees the client's a bit"
expect aa.cli peer_app_aware 0 "client sees the server's a bit"
srv aa2
cli aa2 --set support=2
both aa2 encrypted no "TCP_CRYPT_SUPPORT=2 against a = 0"
expect aa2.cli echo hello "TCP_CRYPT_SUPPORT=2 fallback: echo"
srv aa3 --set support=1
cli aa3 --set support=2
both aa3 encrypted yes "TCP_CRYPT_SUPPORT=2 against a = 1"
say "TCP_CRYPT_SUPPORT: a bit seen by the peer; mandatory application-aware mode falls back unless the peer sets a"

# 7. TCP_CRYPT_MANDATORY: a listener that refuses ENO makes connect() fail.
srv man --set enable=0
cli man --set mandatory=1
grep -q '^error connect: Connection refused' "$WORK/man.cli" || fail "TCP_CRYPT_MANDATORY: $(cat "$WORK/man.cli")"
say "TCP_CRYPT_MANDATORY against a plain peer: connect() fails with ECONNREFUSED"

# 8. TCP_CRYPT_CMODE: a listener that may only be A makes no offer; a client
# that may never be A sets b and, not being in a simultaneous open, ENO fails.
srv cm1 --set cmode=1
cli cm1
both cm1 encrypted no "CMODE_ALWAYS on the listener"
expect cm1.srv cmode 1 "CMODE get"
srv cm3
cli cm3 --set cmode=3
both cm3 encrypted no "CMODE_NEVER on the client"
expect cm3.cli echo hello "CMODE_NEVER: echo"
srv cm4
cli cm4 --set cmode=4
expect cm4.cli cmode 4 "CMODE_NEVER_NK get"
expect cm4.cli nocache 1 "CMODE_NEVER_NK implies NOCACHE"
say "TCP_CRYPT_CMODE: ALWAYS on a listener and NEVER on a client give plain TCP; _NK sets NOCACHE"

# 9. TCP_CRYPT_CACHE_FLUSH on a connection, TCP_CRYPT_NOCACHE and SECURST read back.
srv fl
cli fl --set flush=1 --set nocache=1 --set securst=1
grep -q '^setsockopt' "$WORK/fl.cli" && fail "a setsockopt failed: $(cat "$WORK/fl.cli")"
expect fl.cli nocache 1 "NOCACHE get"
expect fl.cli securst 1 "SECURST get"
expect fl.cli encrypted yes "flush, nocache, securst"

# 10. Daemon-wide defaults: --aeads, --plain-port, and the same from --config.
restart() { # restart A|B FLAGS...: that side's daemon again, with FLAGS
    local k=0
    [ "$1" = B ] && k=1
    kill "${PIDS[$k]}" && wait "${PIDS[$k]}" 2>/dev/null || true
    rm -f "$WORK/$1.sock"
    start_daemon "$@"
    PIDS[$k]=${PIDS[-1]}
    unset 'PIDS[-1]'
}
restart_b() { restart B --resume-cache 0 "$@"; }
restart_b --aeads chacha20poly1305
srv d1
cli d1
both d1 aead 0x10 "daemon --aeads chacha20poly1305"
expect d1.cli cconf 0x10 "daemon default seen as CCONF"
srv d2
cli d2 --set cconf=0x02
both d2 aead 0x02 "an application's CCONF wins over --aeads"
restart_b --plain-port $PORT
srv d3
cli d3
both d3 encrypted no "--plain-port"
srv d4
cli d4
both d4 encrypted yes "a port not in --plain-port"
cat >"$WORK/b.conf" <<CONF
# tcpcryptd options, one per line
aeads = aes256gcm
plain-port $((PORT + 1))
CONF
restart_b --config "$WORK/b.conf"
srv d5
cli d5
both d5 aead 0x02 "--config: aeads"
srv d6
cli d6
both d6 encrypted no "--config: plain-port"
PORT=$((PORT - 1)) # d6's port again
srv d7
cli d7 --set mandatory=1
grep -q '^error connect: Connection refused' "$WORK/d7.cli" || fail "mandatory on a --plain-port: $(cat "$WORK/d7.cli")"
say "daemon defaults: --aeads, --plain-port, --config FILE; an application's own setting wins, mandatory on a never-encrypt port is refused"
# 11. TCP_CRYPT_PKCONF: X448 only on the client.
srv pk
cli pk --set pkconf=0x24
both pk tep 0x24 "TCP_CRYPT_PKCONF=0x24"
[ "$(v pk.cli pubkey_a | wc -c)" -eq 113 ] || fail "X448 public key is not 56 bytes"
expect pk.cli pkconf 0x24 "TCP_CRYPT_PKCONF get"
say "TCP_CRYPT_PKCONF=X448: TEP 0x24, 56-byte public keys"


# 12. Resumption and its controls (both daemons with their default cache).
restart A
restart B
srv r0
cli r0
both r0 resumed 0 "first connection"
srv r1
cli r1
both r1 resumed 1 "second connection (TCP_CRYPT_CONF resumed)"
[ "$(v r1.cli sessid | cut -c1-2)" = a3 ] || fail "resumed session ID $(v r1.cli sessid)"
expect r1.cli pubkey_a - "TCP_CRYPT_PUBKEY on a resumed session"
both r1 tep 0x23 "TCP_CRYPT_TEP on a resumed session"
srv r2
cli r2 --set nocache=1
both r2 resumed 0 "TCP_CRYPT_NOCACHE on the client"
srv r3
cli r3 --set cmode=2
both r3 resumed 0 "TCP_CRYPT_CMODE_ALWAYS_NK"
srv r4
cli r4 --set flush=1
both r4 resumed 1 "connection that flushes its peer's secrets"
srv r5
cli r5
both r5 resumed 0 "after TCP_CRYPT_CACHE_FLUSH"
say "resumption: TCP_CRYPT_CONF says resumed, no public keys; NOCACHE and CMODE _NK make fresh exchanges; CACHE_FLUSH on a connection makes the next one fresh"
say "PASS"
