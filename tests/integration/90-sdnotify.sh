#!/usr/bin/env bash
# systemd's notify protocol (issue 7): a real pidboxd run with NOTIFY_SOCKET
# pointing at a datagram socket this test listens on sends READY=1 once it
# listens, STATUS= lines naming the node and the broker (password masked),
# RELOADING=1 then READY=1 around a SIGHUP reload (no STOPPING=1 when the
# reload restarts the node), STATUS= when the broker goes away and comes
# back, WATCHDOG=1 every WATCHDOG_USEC/2, and STOPPING=1 on SIGTERM.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

# listen SOCKET LOG: receive datagrams on SOCKET, one line each in LOG
# (newlines inside a datagram shown as '|').
listen() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    out.write(s.recv(65536).decode("utf-8", "replace").replace("\n", "|") + "\n")
' "$1" "$2" &
	_track "$!"
	wait_for "[ -S '$1' ]" 10 || {
		fail listener "cannot listen on $1"
		exit 1
	}
}

# msgs_after N LOG: the datagrams after the first N.
msgs_after() {
	tail -n +"$(($1 + 1))" "$2"
}

nmsgs() {
	wc -l <"$1"
}

# --- a node with a config file and a 200 ms watchdog
N1=$T/notify1.log
: >"$N1"
listen "$T/notify1.sock" "$N1"
cat >"$T/pidboxd.yaml" <<EOF
namespace: pidbox
EOF
export NOTIFY_SOCKET=$T/notify1.sock WATCHDOG_USEC=200000
start_pidboxd node1 -c "$T/pidboxd.yaml" || exit 1
unset NOTIFY_SOCKET WATCHDOG_USEC
pid=${DPID[node1]}

if wait_for "grep -q 'READY=1' '$N1'" 10; then ok ready_sent; else fail ready_sent "no READY=1: $(cat "$N1")"; fi
ready=$(grep -m1 'READY=1' "$N1")
expect_contains ready_status_listening "$ready" 'STATUS=node node1, fanout mailbox pidbox.pidbox, broker redis://127.0.0.1:'"$REDIS_PORT"'/0: listening'
first=$(grep -v -m1 -x 'WATCHDOG=1' "$N1")
expect_contains status_before_ready "$first" 'STATUS=node node1, '
expect_contains status_connecting "$first" ': connecting to the broker'
expect_eq no_stopping_yet "$(grep -c 'STOPPING=1' "$N1")" 0

# WATCHDOG=1 every 100 ms: a few within a second and a half
if wait_for "[ \$(grep -cx 'WATCHDOG=1' '$N1') -ge 5 ]" 3; then
	ok watchdog_ticks
else
	fail watchdog_ticks "$(grep -cx 'WATCHDOG=1' "$N1") WATCHDOG=1 datagrams"
fi

# --- SIGHUP that changes nothing: RELOADING=1 then READY=1
n=$(nmsgs "$N1")
kill -HUP "$pid"
if wait_for "msgs_after $n '$N1' | grep -q 'READY=1'" 10; then
	ok reload_ready_again
else
	fail reload_ready_again "after SIGHUP: $(msgs_after "$n" "$N1" | grep -v WATCHDOG)"
fi
after=$(msgs_after "$n" "$N1" | grep -v '^WATCHDOG=1$')
expect_contains reload_reloading "$(head -n 1 <<<"$after")" 'RELOADING=1|MONOTONIC_USEC='
expect_not_contains reload_no_stopping "$after" 'STOPPING=1'
out=$(ctl ping -d node1 2>&1)
expect_contains reload_still_answers "$out" '->  node1: OK'

# --- SIGHUP that moves the node to another namespace: the node restarts
# inside the process; systemd must not hear STOPPING=1.
n=$(nmsgs "$N1")
echo 'namespace: other' >"$T/pidboxd.yaml"
kill -HUP "$pid"
if wait_for "msgs_after $n '$N1' | grep -q 'READY=1.*other.pidbox'" 10; then
	ok restart_reload_ready
else
	fail restart_reload_ready "after SIGHUP: $(msgs_after "$n" "$N1" | grep -v WATCHDOG)"
fi
after=$(msgs_after "$n" "$N1" | grep -v '^WATCHDOG=1$')
expect_contains restart_reload_reloading "$(head -n 1 <<<"$after")" 'RELOADING=1'
expect_not_contains restart_reload_no_stopping "$after" 'STOPPING=1'
out=$(ctl -N other ping -d node1 2>&1)
expect_contains restart_reload_answers "$out" '->  node1: OK'
n=$(nmsgs "$N1")
if wait_for "[ \$(msgs_after $n '$N1' | grep -cx 'WATCHDOG=1') -ge 2 ]" 3; then
	ok watchdog_after_restart
else
	fail watchdog_after_restart "no WATCHDOG=1 after the node restarted"
fi

# --- the broker goes away and comes back: a STATUS= line, then READY=1
n=$(nmsgs "$N1")
restart_redis
if wait_for "msgs_after $n '$N1' | grep -q 'READY=1'" 20; then
	ok ready_after_broker_back
else
	fail ready_after_broker_back "$(msgs_after "$n" "$N1" | grep -v WATCHDOG)"
fi
expect_contains status_reconnecting "$(msgs_after "$n" "$N1")" ': broker connection lost, reconnecting'

# --- SIGTERM: STOPPING=1 once
stop_pidboxd node1
expect_eq sigterm_exit_0 "$REAP_RC" 0
expect_eq stopping_once "$(grep -c 'STOPPING=1' "$N1")" 1
expect_eq stopping_is_last "$(tail -n 1 "$N1")" 'STOPPING=1'

# --- a broker with a password: STATUS= shows it masked; no watchdog asked
N2=$T/notify2.log
: >"$N2"
listen "$T/notify2.sock" "$N2"
rcli CONFIG SET requirepass 's3cr3t-pw' >/dev/null
export REDISCLI_AUTH=s3cr3t-pw
BROKER=redis://:s3cr3t-pw@127.0.0.1:$REDIS_PORT/0
export NOTIFY_SOCKET=$T/notify2.sock
start_pidboxd node2 || exit 1
unset NOTIFY_SOCKET
if wait_for "grep -q 'READY=1' '$N2'" 10; then ok password_ready; else fail password_ready "no READY=1: $(cat "$N2")"; fi
expect_contains password_masked "$(grep -m1 'READY=1' "$N2")" "broker redis://:***@127.0.0.1:$REDIS_PORT/0: listening"
expect_eq password_never_sent "$(grep -c 's3cr3t' "$N2")" 0
expect_eq no_watchdog_unasked "$(grep -c 'WATCHDOG=1' "$N2")" 0
finish
