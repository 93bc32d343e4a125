#!/usr/bin/env bash
# tcpcryptd --dpdk refuses what it cannot use with one line on stderr and a
# non-zero exit, and leaves no DPDK runtime folder behind: bad EAL
# arguments, an unknown driver, no port, two ports, no hugepages (when none are reserved), a
# file prefix in use by a running daemon (whose folder must survive), a
# memif socket in use, too few --dpdk-mbufs, --dpdk with --tap.
TEST_NAME=dpdk_errors
. "$(dirname "$0")/lib.sh"
need timeout
P=tcE$tag

ip netns add "$NSA"
inns "$NSA" ip link set lo up

# refuse NAME PATTERN ARGS...: tcpcryptd ARGS exits non-zero with one line
# matching PATTERN, and /var/run/dpdk/$P is absent afterwards.
refuse() {
    local name=$1 pattern=$2 rc=0
    shift 2
    inns "$NSA" timeout 60 "$TCPCRYPTD" "$@" --addr 10.81.0.1/24 --control "$WORK/E.sock" \
        >"$WORK/e.out" 2>"$WORK/e.err" || rc=$?
    [ $rc -ne 0 ] || fail "$name: exit 0"
    [ $rc -ne 124 ] || fail "$name: hung (timeout)"
    [ "$(wc -l <"$WORK/e.err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$WORK/e.err")"
    [ ! -s "$WORK/e.out" ] || fail "$name: wrote to stdout: $(head -c 300 "$WORK/e.out")"
    grep -q -- "$pattern" "$WORK/e.err" || fail "$name: unexpected message: $(cat "$WORK/e.err")"
    [ ! -e "$RUNDIR/$P" ] || fail "$name: left $RUNDIR/$P behind"
    say "$name: exit $rc, $(cat "$WORK/e.err")"
}

refuse "bad EAL arguments" "bad EAL arguments" --dpdk "--no-pci --no-huge -m 256 --file-prefix $P --bogus"
refuse "bad EAL argument value" "bad EAL arguments.*core" --dpdk "--no-pci --no-huge -m 256 --file-prefix $P -l 99"
refuse "unknown driver" "net_nosuch0" --dpdk "--no-pci --no-huge -m 256 --file-prefix $P --vdev=net_nosuch0"
refuse "no port" "no Ethernet port" --dpdk "--no-pci --no-huge -m 256 --file-prefix $P"
refuse "two ports" "2 Ethernet ports" \
    --dpdk "--no-pci --no-huge -m 256 --file-prefix $P --vdev=net_null0 --vdev=net_null1"
refuse "too few mbufs" "--dpdk-mbufs 100: 512 to" --dpdk-mbufs 100 \
    --dpdk "--no-pci --no-huge -m 256 --file-prefix $P --vdev=net_null0"
if [ "$(awk '/^HugePages_Total/ {print $2}' /proc/meminfo)" = 0 ]; then
    refuse "no hugepages" "no hugepages" --dpdk "--no-pci -m 256 --file-prefix $P --vdev=net_null0"
else
    say "hugepages are reserved here: the no-hugepages case is not tried"
fi
inns "$NSA" timeout 10 "$TCPCRYPTD" --tap x --dpdk "--no-pci" --addr 10.81.0.1/24 >/dev/null 2>"$WORK/e.err" && fail "--tap with --dpdk accepted"
grep -q "exactly one of --tap" "$WORK/e.err" || fail "--tap with --dpdk: $(cat "$WORK/e.err")"

# In use: a daemon runs with file prefix tcA$tag and a memif server socket.
start_dpdk A "net_memif0,role=server,socket=$MEMIF,socket-abstract=no"
P=tcA$tag
rc=0
inns "$NSA" timeout 60 "$TCPCRYPTD" --dpdk "$(eal A net_null0)" --addr 10.81.0.3/24 \
    --control "$WORK/E.sock" >/dev/null 2>"$WORK/e.err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(wc -l <"$WORK/e.err")" -eq 1 ] || fail "prefix in use: exit $rc, $(cat "$WORK/e.err")"
grep -q "in use by another DPDK process" "$WORK/e.err" || fail "prefix in use: $(cat "$WORK/e.err")"
[ -e "$RUNDIR/$P/config" ] || fail "prefix in use: the running daemon's runtime folder was removed"
say "file prefix in use: exit $rc, $(cat "$WORK/e.err")"
P=tcE$tag
refuse "memif socket in use" "no Ethernet port.*memif" \
    --dpdk "--no-pci --no-huge -m 256 --file-prefix $P --vdev=net_memif0,role=server,socket=$MEMIF,socket-abstract=no"
kill -0 "${DPID[A]}" 2>/dev/null || fail "the running daemon died"
stop_dpdk A
check_exit A
say "PASS"
