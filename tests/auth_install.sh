#!/usr/bin/env bash
# libtcpcrypt as installed: `make install DESTDIR=...` puts libtcpcrypt.so.0
# (soname libtcpcrypt.so.0, the libtcpcrypt.so link), <tcpcrypt/auth.h> and
# libtcpcrypt.pc in place; pkg-config's flags build a program that runs a
# shared-secret exchange over a socketpair against the installed library;
# the library exports tcpcrypt_* and nothing else.  Run by make check, or:
#   TC_BUILDDIR=$PWD/build TC_SRCDIR=$PWD bash tests/auth_install.sh
set -euo pipefail
TEST_NAME=auth_install
builddir=${TC_BUILDDIR:?set TC_BUILDDIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tc-auth-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}
command -v pkg-config >/dev/null || fail "missing pkg-config (scripts/deps.sh installs it)"
command -v nm >/dev/null || fail "missing nm (binutils)"

timeout 300 make -s -C "$builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "make install failed"; }
libdir=$(sed -n 's/^libdir = //p' "$builddir/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$builddir/Makefile")
libdir=${libdir//'${exec_prefix}'/$prefix}
root_lib=$tmp/root$libdir
[ -f "$root_lib/libtcpcrypt.so.0" ] || fail "no $libdir/libtcpcrypt.so.0"
[ "$(readlink "$root_lib/libtcpcrypt.so")" = libtcpcrypt.so.0 ] ||
    fail "libtcpcrypt.so is not a link to libtcpcrypt.so.0"
soname=$(readelf -d "$root_lib/libtcpcrypt.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libtcpcrypt.so.0 ] || fail "soname '$soname'"
say "installed $libdir/libtcpcrypt.so.0 (soname $soname) and the libtcpcrypt.so link"

[ -f "$tmp/root$prefix/include/tcpcrypt/auth.h" ] || fail "no include/tcpcrypt/auth.h"
export PKG_CONFIG_PATH=$root_lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$tmp/root
flags=$(pkg-config --cflags --libs libtcpcrypt) || fail "pkg-config libtcpcrypt failed"
case " $flags " in
*" -ltcpcrypt "*) ;;
*) fail "pkg-config gives '$flags'" ;;
esac
say "pkg-config --cflags --libs libtcpcrypt: $flags"

# Every dynamic symbol the library defines is tcpcrypt_* (or its version node).
others=$(nm -D --defined-only "$root_lib/libtcpcrypt.so.0" | awk '{print $3}' |
    sed 's/@.*//' | grep -v -e '^tcpcrypt_' -e '^TCPCRYPT_0$' || true)
[ -z "$others" ] || fail "exported beyond tcpcrypt_*: $others"
count=$(nm -D --defined-only "$root_lib/libtcpcrypt.so.0" | grep -c ' tcpcrypt_')
[ "$count" -ge 16 ] || fail "only $count tcpcrypt_* symbols exported"
say "exports: $count tcpcrypt_* symbols, nothing else"

cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tcpcrypt/auth.h>

int main(void)
{
    struct tcpcrypt_session a = {.id_len = TCPCRYPT_SESSID_LEN, .role = 'A'}, b;
    static const char key[] = "0123456789abcdef0123456789abcdef";
    int sv[2], st = 0, ra;
    pid_t pid;

    memset(a.id, 0x5a, sizeof(a.id));
    b = a;
    b.role = 'B';
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 2;
    pid = fork();
    if (pid == 0)
        _exit(tcpcrypt_auth_psk(sv[1], &b, key, 32) == TCPCRYPT_AUTH_OK ? 0 : 1);
    ra = tcpcrypt_auth_psk(sv[0], &a, key, 32);
    waitpid(pid, &st, 0);
    printf("A: %s; B exit %d\n", tcpcrypt_auth_strerror(ra), WEXITSTATUS(st));
    return ra == TCPCRYPT_AUTH_OK && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
EOF
# shellcheck disable=SC2086 # the flags are words
cc -std=gnu11 -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $flags || fail "cannot build against the installed library"
lib=$(LD_LIBRARY_PATH=$root_lib ldd "$tmp/prog" | awk '/libtcpcrypt/ {print $3}')
[ "$lib" = "$root_lib/libtcpcrypt.so.0" ] || fail "the program loads '$lib'"
out=$(LD_LIBRARY_PATH=$root_lib timeout 20 "$tmp/prog") || fail "psk over the installed library: $out"
say "a program built with those flags runs psk on the installed library: $out"
timeout 120 make -s -C "$builddir" uninstall DESTDIR="$tmp/root" >"$tmp/uninstall.log" 2>&1 ||
    { cat "$tmp/uninstall.log" >&2; fail "make uninstall failed"; }
left=$(cd "$tmp/root" && find . -name 'libtcpcrypt*' -o -name auth.h)
[ -z "$left" ] || fail "left after make uninstall: $left"
say "make uninstall removes the library, its link, libtcpcrypt.pc and auth.h"
say "PASS"
