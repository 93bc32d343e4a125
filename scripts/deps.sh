#!/usr/bin/env bash
# Install what the build and the tests need from Debian's archive.
# Idempotent: apt runs only when a package is missing.  Non-interactive, and
# waits up to ten minutes for another apt to release its lock.
set -euo pipefail

readonly PACKAGES=(
    # build
    build-essential autoconf automake libtool pkg-config
    libssl-dev libsodium-dev
    # lwIP from Debian's source package (scripts/fetch-lwip.sh)
    dpkg-dev xz-utils ca-certificates
    # sanitizer and fuzz builds
    clang-14 libfuzzer-14-dev libclang-rt-14-dev
    # the independent Python implementation behind the known-answer vectors
    python3 python3-cryptography
    # network tests: namespaces, taps, captures, crafted packets, real programs
    iproute2 iputils-ping iptables ethtool tcpdump tshark python3-scapy socat curl procps
    # the compatibility matrix: real servers and clients
    nginx-light redis-server redis-tools memcached libmemcached-tools iperf3 wrk wget
    # make bench: TLS certificates, CPU pinning, plots
    openssl util-linux gnuplot-nox
    # the DPDK link (configure --with-dpdk; tests on virtual devices)
    dpdk libdpdk-dev dpdk-dev
)

say() { printf 'deps: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: error: installing packages needs root (run as root or with sudo)" >&2
    exit 1
fi
command -v apt-get >/dev/null || { echo "deps: error: apt-get not found: Debian 12 is required" >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    say "all ${#PACKAGES[@]} packages present"
    exit 0
fi
say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
say "installed ${#missing[@]} packages"
