#!/usr/bin/env bash
# systemd's notify protocol (issue 7): a real pidboxd run with NOTIFY_SOCKET
# pointing at a datagram socket this test listens on sends READY=1 once its
# loop runs (STATUS= "connecting to the broker", then "listening"),
# STATUS= lines naming the node and the broker (password masked),
# RELOADING=1 then READY=1 around a SIGHUP reload (no STOPPING=1 when the
# reload restarts the node), STATUS= when the broker goes away and comes
# back, WATCHDOG=1 every WATCHDOG_USEC/2, and STOPPING=1 on SIGTERM.
# Issue 16.6: READY=1 does not wait for the broker (down, or refusing the
# password), so `systemctl start` never blocks on Redis; a bad
# configuration exits 78 without READY=1.
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
expect_contains ready_status_connecting "$ready" 'STATUS=node node1, fanout mailbox pidbox.pidbox, broker redis://127.0.0.1:'"$REDIS_PORT"'/0: connecting to the broker'
if wait_for "grep -q '^STATUS=.*: listening' '$N1'" 10; then ok status_listening; else fail status_listening "$(cat "$N1")"; fi
expect_eq ready_once "$(grep -c 'READY=1' "$N1")" 1
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

# --- the broker goes away and comes back: STATUS= lines, no new READY=1
n=$(nmsgs "$N1")
restart_redis
if wait_for "msgs_after $n '$N1' | grep -q '^STATUS=.*: listening'" 20; then
	ok listening_after_broker_back
else
	fail listening_after_broker_back "$(msgs_after "$n" "$N1" | grep -v WATCHDOG)"
fi
expect_contains status_reconnecting "$(msgs_after "$n" "$N1")" ': broker connection lost, reconnecting'
expect_not_contains no_ready_after_broker_back "$(msgs_after "$n" "$N1")" 'READY=1'

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
if wait_for "grep -q ': listening' '$N2'" 10; then ok password_listening; else fail password_listening "no listening: $(cat "$N2")"; fi
expect_contains password_masked "$(grep -m1 ': listening' "$N2")" "broker redis://:***@127.0.0.1:$REDIS_PORT/0: listening"
expect_eq password_never_sent "$(grep -c 's3cr3t' "$N2")" 0
expect_eq no_watchdog_unasked "$(grep -c 'WATCHDOG=1' "$N2")" 0

# --- issue 16.6: READY=1 without the broker.  run_unready NAME LOG ARGS...:
# pidboxd in the background with NOTIFY_SOCKET; its pid in UPID.
run_unready() {
	local name=$1 log=$2
	shift 2
	: >"$log"
	listen "$T/$name.sock" "$log"
	# shellcheck disable=SC2086 # TEST_PREFIX is a word list
	NOTIFY_SOCKET=$T/$name.sock $TEST_PREFIX "$BUILD/pidboxd" -f -n "$name" "$@" \
	    >"$T/pidboxd.$name.log" 2>&1 &
	UPID=$!
	_track "$UPID"
}

# a broker nobody listens on: the next port nobody listens on
dead=$(( REDIS_PORT == 65535 ? REDIS_PORT - 1 : REDIS_PORT + 1 ))
while (exec 3<>"/dev/tcp/127.0.0.1/$dead") 2>/dev/null; do dead=$((dead + 1)); done
N3=$T/notify3.log
run_unready down "$N3" -b "redis://127.0.0.1:$dead/0"
if wait_for "grep -q 'READY=1' '$N3'" 5; then ok broker_down_ready; else fail broker_down_ready "no READY=1: $(cat "$N3")"; fi
expect_contains broker_down_status "$(grep -m1 'READY=1' "$N3")" ": connecting to the broker"
# still running and retrying a second later, never claiming to listen
sleep 1
if alive "$UPID"; then ok broker_down_keeps_trying; else fail broker_down_keeps_trying "exited: $(tail -n 3 "$T/pidboxd.down.log")"; fi
expect_not_contains broker_down_not_listening "$(cat "$N3")" ': listening'
kill -TERM "$UPID"
reap "$UPID" 10
expect_eq broker_down_stops_0 "$REAP_RC" 0

# a wrong password: ready, running, the refusal logged
N4=$T/notify4.log
run_unready badpw "$N4" -b "redis://:wrong-pw@127.0.0.1:$REDIS_PORT/0"
if wait_for "grep -q 'READY=1' '$N4'" 5; then ok bad_password_ready; else fail bad_password_ready "no READY=1: $(cat "$N4")"; fi
if wait_for "grep -qi 'WRONGPASS\|invalid\|auth' '$T/pidboxd.badpw.log'" 10; then
	ok bad_password_logged
else
	fail bad_password_logged "$(tail -n 3 "$T/pidboxd.badpw.log")"
fi
if alive "$UPID"; then ok bad_password_keeps_trying; else fail bad_password_keeps_trying "exited"; fi
expect_not_contains bad_password_not_listening "$(cat "$N4")" ': listening'
expect_eq bad_password_never_sent "$(grep -c 'wrong-pw' "$N4" "$T/pidboxd.badpw.log" | awk -F: '{ n += $2 } END { print n }')" 0
kill -TERM "$UPID"
reap "$UPID" 10

# a bad configuration: exit 78 (RestartPreventExitStatus=78), no READY=1
N5=$T/notify5.log
echo 'expiry_skew: [not a number' >"$T/bad.yaml"
run_unready badconf "$N5" -c "$T/bad.yaml" -b "$BROKER"
reap "$UPID" 10
expect_eq bad_config_exit_78 "$REAP_RC" 78
expect_eq bad_config_not_ready "$(grep -c 'READY=1' "$N5")" 0
finish
