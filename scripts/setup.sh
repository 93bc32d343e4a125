#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a built tree and the demo:
# install dependencies, fetch lwIP, configure, build, run scripts/demo.sh
# (two hosts in network namespaces talking tcpcrypt).
#
#   scripts/setup.sh            build into build/ and run the demo
#   scripts/setup.sh --no-demo  build only (scripts/test.sh uses this)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo=yes
[ "${1:-}" = "--no-demo" ] && demo=no

say() { printf 'setup: %s\n' "$*"; }

scripts/deps.sh
scripts/fetch-lwip.sh

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
    say "autoreconf"
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p build
if [ ! -f build/config.status ] || [ configure -nt build/config.status ]; then
    say "configure (build/)"
    (cd build && "$top/configure" --enable-werror >/dev/null)
fi
say "make (build/)"
make -C build -s -j"$(nproc)" all >/dev/null
make -C build -s -j"$(nproc)" check TESTS= >/dev/null # build the tests too
say "built: build/stack/tcpcryptd, build/preload/libtcpcrypt_preload.so, build/tools/tcpcrypt-run"

if [ "$demo" = yes ]; then
    say "running scripts/demo.sh"
    scripts/demo.sh
fi
