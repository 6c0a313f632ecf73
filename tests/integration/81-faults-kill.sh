#!/usr/bin/env bash
# Regress for issue 5: Redis is SIGKILLed and comes back, once empty and
# once with its data (an RDB snapshot with our binding and a stale key).
# Fanout and direct nodes answer again within 2 s of Redis being up.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
start_pidboxd dnode -T direct || exit 1

# kill_redis [keep]: SIGKILL, then start on the same port, with the last
# snapshot when keep is given, empty otherwise; prints nothing.
kill_redis() {
	kill -KILL "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
	[ -n "${1:-}" ] || rm -f "$T/dump.rdb"
	_redis_launch "$REDIS_PORT"
}

back() {	# name: both nodes answer within 2 s of redis being up
	local name=$1 t0
	t0=$(now_ms)
	if wait_for "is_bound dnode pidbox && ctl ping -d node1 -t 0.5 | grep -q 'node1: OK'" 5; then
		expect_faster "${name}_fanout_within_2s" "$t0" 2
	else
		fail "${name}_fanout_within_2s" "no pong: $(pidboxd_log node1 | tail -n 3)"
	fi
	out=$(ctl -T direct ping -d dnode -t 2 2>&1)
	expect_contains "${name}_direct" "$out" '->  dnode: OK'
	echo "# $name: answering $(($(now_ms) - t0)) ms after redis came up"
}

kill_redis || { fail restart "cannot restart redis"; finish; }
# The restart lost every key; the nodes may already have re-declared
# their bindings and re-registered in the inventory, so only
# _kombu.binding.* and pidbox's own _pidbox.* keys may exist again.
expect_eq empty_after_kill "$(rcli --scan | grep -Evc '^(_kombu\.binding|_pidbox)\.')" 0
back without_data

rcli SET stale 1 >/dev/null
rcli SAVE >/dev/null
kill_redis keep || { fail restart "cannot restart redis"; finish; }
expect_eq data_kept "$(rcli GET stale)" 1
back with_data
# the binding member is a set member: re-declaring it does not duplicate
expect_eq one_member "$(rcli SCARD _kombu.binding.pidbox.pidbox)" 2

alive "${DPID[node1]}" && alive "${DPID[dnode]}"
expect_eq same_processes "$?" 0
finish
