#!/usr/bin/env bash
# The dissector on a synthetic capture built from the KAT file by an
# independent Python implementation (tests/wireshark/make_capture.py): a fresh
# X25519/ChaCha20-Poly1305 session rekeying to generation 2 both ways, with
# frames cut across segments, reordered and retransmitted segments, URGp and
# FINp; a session resumed from ss[2] of another session (key log: only the
# original session's TCPCRYPT_SS line; AEAD found by trial); and a resumption
# of the first session (secret carried over from it).  Every frame's
# generation, flags, data and tag must be as built; without keys, none
# decrypted; damaged copies raise no Lua error.
set -euo pipefail
: "${TC_SRCDIR:?run from make check, or set TC_SRCDIR}"
PY=/usr/bin/python3
fail() { echo "wireshark_capture: FAIL: $*" >&2; exit 1; }
command -v tshark >/dev/null || fail "missing tshark (scripts/deps.sh installs it)"
WORK=$(mktemp -d /tmp/tcpcrypt-lua.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$PY" "$TC_SRCDIR/tests/wireshark/make_capture.py" "$TC_SRCDIR/tests/vectors/tcpcrypt-kat.txt" "$WORK" ||
    fail "make_capture.py failed"
ts() { timeout 300 tshark -r "$WORK/synthetic.pcap" -X "lua_script:$TC_SRCDIR/tools/wireshark/tcpcrypt.lua" "$@" 2>"$WORK/tshark.log"; }

ts -o "tcpcrypt.keylog_file:$WORK/keys" -T pdml >"$WORK/keys.pdml" || fail "tshark failed: $(tail -n3 "$WORK/tshark.log")"
! grep -q 'Lua Error' "$WORK/keys.pdml" || fail "$(grep -m1 'Lua Error' "$WORK/keys.pdml")"
"$PY" "$TC_SRCDIR/tests/wireshark/check_pdml.py" "$WORK/keys.pdml" "$WORK/expected.json" || fail "with the key log"

ts -T pdml >"$WORK/nokeys.pdml" || fail "tshark failed: $(tail -n3 "$WORK/tshark.log")"
! grep -q 'Lua Error' "$WORK/nokeys.pdml" || fail "$(grep -m1 'Lua Error' "$WORK/nokeys.pdml")"
"$PY" "$TC_SRCDIR/tests/wireshark/check_pdml.py" "$WORK/nokeys.pdml" "$WORK/expected.json" --no-keys || fail "without keys"
# Damaged copies (malformed options, bad magics and lengths, wrong tags, short
# captures): the dissector must never raise a Lua error.
"$PY" "$TC_SRCDIR/tests/wireshark/mutate_pcap.py" "$WORK/synthetic.pcap" "$WORK/mut" 40 || fail "mutate_pcap.py failed"
for k in $(seq 40); do
    timeout 300 tshark -r "$WORK/mut$k.pcap" -X "lua_script:$TC_SRCDIR/tools/wireshark/tcpcrypt.lua" \
        -o "tcpcrypt.keylog_file:$WORK/keys" -V >"$WORK/mut.txt" 2>&1 || fail "tshark failed on damaged copy $k"
    ! grep -q 'Lua Error' "$WORK/mut.txt" || fail "damaged copy $k: $(grep -m1 'Lua Error' "$WORK/mut.txt")"
done
echo "wireshark_capture: 40 damaged copies dissected without a Lua error"
echo "wireshark_capture: PASS"
