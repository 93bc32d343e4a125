#!/usr/bin/env bash
# tests/test_spake2 must notice a wrong detail of RFC 9382 in auth/spake2.c.
# For each mutation below, build test_spake2 against a copy of the core with
# that one change and run it: it must fail.  The unchanged copy must pass.
# Run from the top of the tree by scripts/test.sh (needs gcc, pkg-config,
# libcrypto).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libs=$(pkg-config --cflags --libs libcrypto)
mkdir -p "$work/src/auth" "$work/src/tests"
cp auth/spake2.h "$work/src/auth/"
cp tests/check.c tests/check.h tests/test_spake2.c "$work/src/tests/"

# build_run: compile the copy in $work/src and run it; its status.
build_run() {
    # shellcheck disable=SC2086 # $libs: compiler flags, split on purpose
    gcc -std=c11 -D_GNU_SOURCE -O1 -w -I"$work/src" "$work/src/auth/spake2.c" \
        "$work/src/tests/check.c" "$work/src/tests/test_spake2.c" -o "$work/t" $libs || return 2
    "$work/t" >"$work/t.log" 2>&1 || return 1
}

cp auth/spake2.c "$work/src/auth/spake2.c"
build_run || { echo "spake2_mutants: the unchanged core fails" >&2; exit 1; }

killed=0
total=0
# name @ text in auth/spake2.c @ its mutant (\n: a newline)
while IFS='@' read -r name from to; do
    [ -n "$name" ] || continue
    total=$((total + 1))
    /usr/bin/python3 -c 'import sys; s = sys.stdin.read(); f = sys.argv[1].replace("\\n", "\n")
t = sys.argv[2].replace("\\n", "\n")
if f not in s: sys.exit(1)
sys.stdout.write(s.replace(f, t, 1))' "$from" "$to" <auth/spake2.c >"$work/src/auth/spake2.c" || {
        echo "spake2_mutants: $name: the mutation did not apply" >&2
        exit 1
    }
    result=survived
    rc=0
    build_run || rc=$?
    if [ "$rc" -eq 2 ]; then
        echo "spake2_mutants: $name: the mutant does not compile" >&2
        exit 1
    elif [ "$rc" -ne 0 ]; then
        result=killed
        killed=$((killed + 1))
    fi
    printf 'spake2_mutants: %-22s %s\n' "$name" "$result"
done <<'LIST'
label@"ConfirmationKeys"@"ConfirmationKeyz"
aad-dropped@memcpy(info + sizeof(label) - 1, st->aad, st->aad_len);@;
len-big-endian@(uint8_t)(n >> (8 * i))@(uint8_t)(n >> (8 * (7 - i)))
tt-pa-pb-swapped@pa = st->side == 'A' ? st->share : peer_share;@pa = st->side == 'A' ? peer_share : st->share;
tt-without-w@(void)put_field(p, wbuf, SCALAR_LEN);@(void)put_field(p, wbuf, 0);
ke-ka-swapped@memcpy(st->ka, hash + TC_SPAKE2_KEY_LEN@memcpy(st->ka, hash
m-n-swapped@st->side == 'A' ? spake2_m : spake2_n@st->side == 'A' ? spake2_n : spake2_m
no-unblinding@EC_POINT_invert(st->group, t, bn) != 1 ||@
any-prefix@if (peer_share[0] != 0x04) {@if (0) {
second-verify@    st->state = SPAKE2_DONE;\n    return ok@    return ok
own-mac-swapped@st->side == 'A' ? st->mac_a : st->mac_b@st->side == 'A' ? st->mac_b : st->mac_a
w-not-reduced@BN_nnmod(r, t, EC_GROUP_get0_order(g), bn) != 1@BN_copy(r, t) == NULL
LIST
echo "spake2_mutants: $killed of $total mutants killed"
[ "$killed" -eq "$total" ]
