#!/usr/bin/env bash
# The known-answer tests must notice a wrong protocol constant on either side.
# For each RFC 8548 §4.3 constant, build test_vectors against a copy of the C
# core with that constant changed, and run the Python generator with the same
# constant changed: both must fail.  Run from the top of the tree by
# scripts/test.sh (needs gcc, pkg-config, libcrypto, libsodium, python3-cryptography).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libs=$(pkg-config --cflags --libs libcrypto libsodium)
killed=0
total=0

# replace FROM TO: copy stdin to stdout with the first literal FROM replaced.
replace() {
    /usr/bin/python3 -c 'import sys; s = sys.stdin.read(); sys.stdout.write(s.replace(sys.argv[1], sys.argv[2], 1))' "$1" "$2"
}

# name | text in crypto/wire.h | its mutant | text in gen_vectors.py | its mutant
while IFS='|' read -r name c_from c_to py_from py_to; do
    [ -n "$name" ] || continue
    total=$((total + 1))
    rm -rf "$work/src" && mkdir -p "$work/src"
    cp -r crypto tests "$work/src/"
    replace "$c_from" "$c_to" <crypto/wire.h >"$work/src/crypto/wire.h"
    if cmp -s crypto/wire.h "$work/src/crypto/wire.h"; then
        echo "mutants: $name: the C mutation did not apply" >&2
        exit 1
    fi
    gcc -std=c11 -D_GNU_SOURCE -O1 -I"$work/src" "$work/src"/crypto/*.c "$work/src/tests/check.c" \
        "$work/src/tests/vectors.c" "$work/src/tests/test_vectors.c" -o "$work/tv" $libs
    c_result=survived
    if ! TC_VECTORS="$PWD/tests/vectors/tcpcrypt-kat.txt" "$work/tv" >"$work/c.log" 2>&1; then
        c_result=killed
    fi

    replace "$py_from" "$py_to" <tests/vectors/gen_vectors.py >"$work/gen.py"
    if cmp -s tests/vectors/gen_vectors.py "$work/gen.py"; then
        echo "mutants: $name: the Python mutation did not apply" >&2
        exit 1
    fi
    py_result=survived
    if ! /usr/bin/python3 "$work/gen.py" --check tests/vectors/tcpcrypt-kat.txt >"$work/py.log" 2>&1; then
        py_result=killed
    fi
    printf 'mutants: %-14s C %-8s Python %s\n' "$name" "$c_result" "$py_result"
    [ "$c_result" = killed ] && [ "$py_result" = killed ] && killed=$((killed + 1))
done <<'LIST'
CONST_NEXTK|TC_CONST_NEXTK 0x01|TC_CONST_NEXTK 0x07|CONST_REKEY = b"\x01"|CONST_REKEY = b"\x07"
CONST_SESSID|TC_CONST_SESSID 0x02|TC_CONST_SESSID 0x07|b"\x01", b"\x02"|b"\x01", b"\x07"
CONST_REKEY|TC_CONST_REKEY 0x03|TC_CONST_REKEY 0x07|b"\x02", b"\x03"|b"\x02", b"\x07"
CONST_KEY_A|TC_CONST_KEY_A 0x04|TC_CONST_KEY_A 0x07|CONST_RESUME = b"\x04"|CONST_RESUME = b"\x07"
CONST_KEY_B|TC_CONST_KEY_B 0x05|TC_CONST_KEY_B 0x07|b"\x04", b"\x05"|b"\x04", b"\x07"
CONST_RESUME|TC_CONST_RESUME 0x06|TC_CONST_RESUME 0x07|b"\x05", b"\x06"|b"\x05", b"\x07"
INIT1_MAGIC|TC_INIT1_MAGIC 0x15101a0eU|TC_INIT1_MAGIC 0x15101a0fU|fromhex("15101a0e")|fromhex("15101a0f")
INIT2_MAGIC|TC_INIT2_MAGIC 0x097105e0U|TC_INIT2_MAGIC 0x097105e1U|fromhex("097105e0")|fromhex("097105e1")
LIST

echo "mutants: $killed of $total constant mutations caught on both sides"
[ "$killed" -eq "$total" ]
