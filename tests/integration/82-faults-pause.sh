#!/usr/bin/env bash
# Regress for issue 5: Redis is paused (SIGSTOP): pidboxctl fails fast
# with exit 75 and says why instead of hanging; pidboxd's health check
# drops the silent connections, and once Redis continues (SIGCONT) the
# node answers again within 2 s.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
BROKER="$BROKER?health_check_interval=1" start_pidboxd node1 || exit 1
start_pidboxd dnode -T direct -b "$BROKER?health_check_interval=1" || exit 1
out=$(ctl ping -d node1 -t 1 2>&1)
expect_contains before_pause "$out" '->  node1: OK'

kill -STOP "$REDIS_PID"
t0=$(now_ms)
out=$(ctl ping -d node1 -t 1 2>&1)
rc=$?
expect_eq ctl_exit_75 "$rc" 75
expect_contains ctl_says_why "$out" 'did not answer within'
expect_faster ctl_fails_fast "$t0" 7
out=$(ctl -b "$BROKER?socket_connect_timeout=1" ping -d node1 -t 1 2>&1)
expect_eq ctl_connect_timeout_exit_75 "$?" 75
expect_faster ctl_connect_timeout_bounded "$t0" 10

if wait_for "grep -q 'did not answer the health check' '$T/pidboxd.node1.log'" 8; then
	ok fanout_health_check_noticed
else
	fail fanout_health_check_noticed "$(pidboxd_log node1 | tail -n 3)"
fi
if wait_for "grep -q 'did not answer the health check' '$T/pidboxd.dnode.log'" 8; then
	ok direct_health_check_noticed
else
	fail direct_health_check_noticed "$(pidboxd_log dnode | tail -n 3)"
fi

kill -CONT "$REDIS_PID"
t0=$(now_ms)
if wait_for "ctl ping -d node1 -t 0.5 | grep -q 'node1: OK'" 5; then
	expect_faster fanout_back_within_2s "$t0" 2
	echo "# fanout answering $(($(now_ms) - t0)) ms after SIGCONT"
else
	fail fanout_back_within_2s "no pong: $(pidboxd_log node1 | tail -n 3)"
fi
out=$(ctl -T direct ping -d dnode -t 2 2>&1)
expect_contains direct_back "$out" '->  dnode: OK'
alive "${DPID[node1]}" && alive "${DPID[dnode]}"
expect_eq same_processes "$?" 0
finish
