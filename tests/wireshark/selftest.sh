#!/usr/bin/env bash
# The dissector's pure-Lua cryptography and key schedule, run inside tshark's
# own Lua, against tests/vectors/tcpcrypt-kat.txt (fresh and resumed sessions,
# frames for each AEAD, rekey generations) and published RFC/FIPS vectors.
set -euo pipefail
: "${TC_SRCDIR:?run from make check, or set TC_SRCDIR}"
command -v tshark >/dev/null || { echo "wireshark_selftest: FAIL: missing tshark (scripts/deps.sh installs it)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/tcpcrypt-lua.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# an empty pcap file: tshark runs the script while loading, then reads nothing
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\001\000\000\000' >"$WORK/empty.pcap"
out=$(timeout 300 tshark -r "$WORK/empty.pcap" -X "lua_script:$TC_SRCDIR/tests/wireshark/selftest.lua" \
    -X "lua_script1:$TC_SRCDIR/tools/wireshark/tcpcrypt_core.lua" \
    -X "lua_script1:$TC_SRCDIR/tests/wireshark/rfc-vectors.txt" \
    -X "lua_script1:$TC_SRCDIR/tests/vectors/tcpcrypt-kat.txt" 2>&1) || true
echo "$out" | grep -v 'Running as user' || true
sum=$(echo "$out" | grep '^selftest: [0-9]* passed' || true)
[ -n "$sum" ] || { echo "wireshark_selftest: FAIL: no summary from the Lua self-test" >&2; exit 1; }
case $sum in
    *" 0 failed "*) ;;
    *) echo "wireshark_selftest: FAIL: $sum" >&2; exit 1 ;;
esac
# every record of both files ran (one per "kind =" line) plus the ENO cases
want=$(( $(grep -c '^kind = ' "$TC_SRCDIR/tests/vectors/tcpcrypt-kat.txt") + $(grep -c '^kind = ' "$TC_SRCDIR/tests/wireshark/rfc-vectors.txt") + 1 ))
got=$(echo "$sum" | sed 's/^selftest: \([0-9]*\) passed.*/\1/')
[ "$got" = "$want" ] || { echo "wireshark_selftest: FAIL: $got vectors passed, $want expected" >&2; exit 1; }
echo "wireshark_selftest: PASS ($sum)"
