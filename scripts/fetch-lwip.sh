#!/usr/bin/env bash
# Fetch lwIP 2.1.3 from Debian's source package, verify it against pinned
# SHA-256 sums and unpack it (Debian patches applied) into third_party/lwip.
#
# lwIP is never committed: the build compiles it from this tree with our own
# lwipopts.h (stack/lwip/). Debian's binary liblwip-dev is the GNU Hurd build
# (threads, sockets, fixed options, no TCP hooks), so only the source package
# is usable.
#
# Usage: scripts/fetch-lwip.sh          (as root on Debian 12; see scripts/setup.sh)
#   TC_LWIP_CACHE=DIR  reuse the three downloaded files from DIR when their sums
#                      match, and store them there after a download.
#
# Idempotent: does nothing when third_party/lwip holds this exact version.
set -euo pipefail

# Pinned from Debian bookworm (main), 2.1.3+dfsg1-2. The .dsc sum pins the
# other two as well (it lists them), but all three are checked here directly.
readonly LWIP_PKG=lwip
readonly LWIP_VERSION=2.1.3+dfsg1-2
readonly LWIP_UPSTREAM=2.1.3+dfsg1
readonly DSC=${LWIP_PKG}_${LWIP_VERSION}.dsc
readonly ORIG=${LWIP_PKG}_${LWIP_UPSTREAM}.orig.tar.xz
readonly DEBTAR=${LWIP_PKG}_${LWIP_VERSION}.debian.tar.xz
readonly SHA_DSC=8d8f944db8e6d542fc2d6f01559078fb1b5dda71651c67ee5fa3571ed1342c50
readonly SHA_ORIG=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
readonly SHA_DEBTAR=c5a48413d362cc757032cdd58f528f75eb64ee781ca46ca24f010b49b0e62a90

readonly APT_OPTS=(-qq -o DPkg::Lock::Timeout=600)
readonly SRC_ENTRY=/etc/apt/sources.list.d/tcpcrypt-lwip-deb-src.sources
readonly SRC_ENTRY_LIST=/etc/apt/sources.list.d/tcpcrypt-lwip-deb-src.list

top=$(cd "$(dirname "$0")/.." && pwd)
dest=$top/third_party/lwip
readonly STAMP_NAME=.tcpcrypt-lwip-stamp
readonly STAMP_TEXT="$LWIP_PKG $LWIP_VERSION $SHA_DSC"

say() { printf 'fetch-lwip: %s\n' "$*"; }
die() { printf 'fetch-lwip: error: %s\n' "$*" >&2; exit 1; }

sum_of() {
    case "$1" in
        "$DSC") echo "$SHA_DSC" ;;
        "$ORIG") echo "$SHA_ORIG" ;;
        "$DEBTAR") echo "$SHA_DEBTAR" ;;
        *) die "no pinned sum for $1" ;;
    esac
}

# verify FILE: true when FILE exists and matches its pinned SHA-256.
verify() {
    local f=$1 want got
    want=$(sum_of "$(basename "$f")")
    [ -f "$f" ] || return 1
    got=$(sha256sum "$f" | cut -d' ' -f1)
    [ "$got" = "$want" ]
}

stamp_ok() {
    [ -f "$dest/src/core/tcp.c" ] && [ -f "$dest/$STAMP_NAME" ] &&
        [ "$(cat "$dest/$STAMP_NAME")" = "$STAMP_TEXT" ]
}

if stamp_ok; then
    say "third_party/lwip already holds $LWIP_PKG $LWIP_VERSION; nothing to do"
    exit 0
fi

for tool in sha256sum dpkg-source; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found: install dpkg-dev and coreutils (scripts/setup.sh does)"
done

mkdir -p "$top/third_party"
# Serialise concurrent runs (two engineers, two builds) on the same tree.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$top/third_party/.fetch-lwip.lock"
    flock 9
    if stamp_ok; then
        say "third_party/lwip was unpacked by a concurrent run; nothing to do"
        exit 0
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-lwip.XXXXXX")
stage=""
entry_added=""

remove_src_entry() {
    [ -n "$entry_added" ] || return 0
    rm -f "$SRC_ENTRY" "$SRC_ENTRY_LIST"
    entry_added=""
    say "removed the temporary deb-src entry; apt-get update"
    apt-get "${APT_OPTS[@]}" update ||
        say "warning: apt-get update after removing the deb-src entry failed"
}

cleanup() {
    local rc=$?
    remove_src_entry
    rm -rf "$work"
    [ -z "$stage" ] || rm -rf "$stage"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have_all() {
    verify "$1/$DSC" && verify "$1/$ORIG" && verify "$1/$DEBTAR"
}

if [ -n "${TC_LWIP_CACHE:-}" ] && have_all "$TC_LWIP_CACHE"; then
    say "using verified files from TC_LWIP_CACHE=$TC_LWIP_CACHE"
    cp "$TC_LWIP_CACHE/$DSC" "$TC_LWIP_CACHE/$ORIG" "$TC_LWIP_CACHE/$DEBTAR" "$work/"
else
    if [ -n "${TC_LWIP_CACHE:-}" ]; then
        say "TC_LWIP_CACHE=$TC_LWIP_CACHE lacks verified files; downloading"
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script needs Debian 12"
    [ "$(id -u)" -eq 0 ] ||
        die "must run as root to add a temporary deb-src entry (or set TC_LWIP_CACHE)"

    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        say "adding temporary deb-src entry $SRC_ENTRY"
        entry_added=yes
        sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$SRC_ENTRY"
    elif grep -qs '^deb ' /etc/apt/sources.list; then
        say "adding temporary deb-src entry $SRC_ENTRY_LIST"
        entry_added=yes
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$SRC_ENTRY_LIST"
    else
        die "no /etc/apt/sources.list.d/debian.sources or deb lines in /etc/apt/sources.list"
    fi

    say "apt-get update (with deb-src)"
    apt-get "${APT_OPTS[@]}" update || die "apt-get update failed"

    say "apt-get source --download-only $LWIP_PKG=$LWIP_VERSION"
    # apt drops privileges to _apt for downloads; let it write here.
    if getent passwd _apt >/dev/null 2>&1; then
        chown _apt "$work"
    fi
    (cd "$work" && apt-get "${APT_OPTS[@]}" source --download-only "$LWIP_PKG=$LWIP_VERSION") ||
        die "apt-get source $LWIP_PKG=$LWIP_VERSION failed (is bookworm still at this version?)"
    remove_src_entry
fi

say "verifying SHA-256 of $DSC, $ORIG, $DEBTAR"
for f in "$DSC" "$ORIG" "$DEBTAR"; do
    verify "$work/$f" || die "SHA-256 mismatch or missing file: $f (want $(sum_of "$f"))"
done

if [ -n "${TC_LWIP_CACHE:-}" ] && ! have_all "$TC_LWIP_CACHE"; then
    say "storing verified files in TC_LWIP_CACHE=$TC_LWIP_CACHE"
    mkdir -p "$TC_LWIP_CACHE"
    cp "$work/$DSC" "$work/$ORIG" "$work/$DEBTAR" "$TC_LWIP_CACHE/"
fi

# Unpack next to the destination (same filesystem), then rename into place.
stage=$(mktemp -d "$top/third_party/.lwip-stage.XXXXXX")
say "dpkg-source -x $DSC (applies Debian's patches)"
# The sums above pin the files; dpkg-source's own OpenPGP check would only warn
# without debian-keyring, so its output is shown only on failure.
if ! dpkg-source -x "$work/$DSC" "$stage/lwip" >"$work/dpkg-source.log" 2>&1; then
    cat "$work/dpkg-source.log" >&2
    die "dpkg-source -x failed"
fi
[ -f "$stage/lwip/src/core/tcp.c" ] || die "unpacked tree has no src/core/tcp.c"
printf '%s\n' "$STAMP_TEXT" >"$stage/lwip/$STAMP_NAME"

say "installing into third_party/lwip"
rm -rf "$dest"
mv "$stage/lwip" "$dest"

say "done: $LWIP_PKG $LWIP_VERSION in third_party/lwip ($(find "$dest/src" -name '*.c' | wc -l) .c files)"
