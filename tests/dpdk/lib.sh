# Shared by the DPDK link tests: tcpcryptd --dpdk on virtual devices, each
# daemon in a network namespace of its own (tests/netns/lib.sh gives the
# namespaces' names, the work folder, run_tc, json and the cleanup).
#
#   memif:  ns A: tcpcryptd 10.81.0.1 (net_memif server) ==memif== ns B:
#           tcpcryptd 10.81.0.2 (net_memif client), through a Unix socket
#           in the work folder.
#   tap:    ns A: tcpcryptd 10.81.0.1 (net_tap) --bridge-- veth --> ns B:
#           a plain kernel host 10.81.0.12.
#
# No hugepages: --no-huge -m 256, one --file-prefix per daemon; daemons are
# stopped with SIGTERM (never killed while they can still exit) so that DPDK's
# runtime folder goes, and the tests check it went.  Skips (77) when
# tcpcryptd was built without DPDK.
. "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.sh"

# (Not "ldd | grep -q": grep's early exit can fail ldd with SIGPIPE, and
# pipefail would then skip a DPDK build.)
case "$(ldd "$TCPCRYPTD" 2>/dev/null)" in
*librte_eal*) ;;
*) echo "${TEST_NAME:-test}: SKIP: tcpcryptd built without DPDK (configure --with-dpdk)"; exit 77 ;;
esac

A_IP=10.81.0.1
B_IP=10.81.0.2
KB_IP=10.81.0.12
MEMIF=$WORK/memif.sock
RUNDIR=/var/run/dpdk
declare -A DPID=()

# eal SIDE VDEV: the EAL arguments of that side's daemon.
eal() { printf -- '--no-pci --no-huge -m 256 --file-prefix tc%s%s --vdev=%s' "$1" "$tag" "$2"; }

# start_dpdk SIDE VDEV [flags]: tcpcryptd --dpdk in that side's namespace.
start_dpdk() {
    local side=$1 vdev=$2 ns=$NSA ip=$A_IP
    shift 2
    [ "$side" = B ] && ns=$NSB ip=$B_IP
    ip netns exec "$ns" "$TCPCRYPTD" --dpdk "$(eal "$side" "$vdev")" --addr "$ip/24" \
        --control "$WORK/$side.sock" "$@" >"$WORK/daemon$side.log" 2>&1 &
    DPID[$side]=$!
    PIDS+=($!)
    for _ in $(seq 150); do
        [ -S "$WORK/$side.sock" ] && return 0
        kill -0 "${DPID[$side]}" 2>/dev/null || fail "tcpcryptd $side exited: $(tail -n1 "$WORK/daemon$side.log")"
        sleep 0.1
    done
    fail "tcpcryptd $side did not create its control socket"
}

# start_memif_pair [flags]: both namespaces, A the memif server, B the client.
start_memif_pair() {
    ip netns add "$NSA"
    ip netns add "$NSB"
    inns "$NSA" ip link set lo up
    inns "$NSB" ip link set lo up
    start_dpdk A "net_memif0,role=server,socket=$MEMIF,socket-abstract=no" "$@"
    start_dpdk B "net_memif0,role=client,socket=$MEMIF,socket-abstract=no" "$@"
}

# wait_path SIDE IP: a program under SIDE's daemon reaches IP (lwIP resolved
# the neighbour): a connection to a closed port is refused by IP's stack.
wait_path() {
    for _ in $(seq 60); do
        run_tc "$1" timeout 5 "$PY" -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), 2)
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(1)' "$2" 2>/dev/null && return 0
        sleep 0.3
    done
    fail "no path from $1's daemon to $2"
}

# stop_dpdk SIDE: SIGTERM, wait (bounded) for a clean exit.
stop_dpdk() {
    local pid=${DPID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "tcpcryptd $1 did not exit within 10 s of SIGTERM"
    wait "$pid" 2>/dev/null || true
    unset "DPID[$1]"
}

# check_exit SIDE: the daemon logged its buffer count at exit, back to the
# start value, and its DPDK runtime folder is gone.
check_exit() {
    local line start end
    line=$(grep 'dpdk: packet buffers in use' "$WORK/daemon$1.log" | tail -n1)
    [ -n "$line" ] || fail "daemon $1 did not log its packet buffers at exit"
    start=$(sed -n 's/.*in use: \([0-9]*\) at start, \([0-9]*\) at exit.*/\1/p' <<<"$line")
    end=$(sed -n 's/.*in use: \([0-9]*\) at start, \([0-9]*\) at exit.*/\2/p' <<<"$line")
    [ -n "$start" ] && [ "$start" = "$end" ] || fail "daemon $1: $line"
    [ ! -e "$RUNDIR/tc$1$tag" ] || fail "daemon $1 left $RUNDIR/tc$1$tag behind"
    say "daemon $1: packet buffers back to $start at exit, no runtime folder left"
}

dpdk_cleanup() {
    set +e
    for s in "${!DPID[@]}"; do kill -TERM "${DPID[$s]}" 2>/dev/null; done
    for _ in $(seq 50); do
        alive=0
        for s in "${!DPID[@]}"; do kill -0 "${DPID[$s]}" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    cleanup
    rm -rf "$RUNDIR/tcA$tag" "$RUNDIR/tcB$tag" "$RUNDIR/tcE$tag"
}
trap dpdk_cleanup EXIT
