#!/usr/bin/env bash
# Regress for issue 5: Redis is down when pidboxd starts.  pidboxd keeps
# retrying (capped backoff) and is bound, subscribed and answering within
# 2 s of Redis coming up.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
stop_redis	# keeps REDIS_PORT and BROKER: nobody listens there now

log=$T/pidboxd.node1.log
"$BUILD/pidboxd" -f -n node1 -b "$BROKER" >"$log" 2>&1 &
pid=$!
_track "$pid"
DPID[node1]=$pid
if wait_for "grep -q 'cannot connect to the broker' '$log'" 5; then
	ok retries_while_down
else
	fail retries_while_down "no connect failure logged: $(tail -n 3 "$log")"
fi
# let the backoff grow to its cap first
wait_for "false" 3
alive "$pid"
expect_eq still_running "$?" 0

_redis_launch "$REDIS_PORT" || { fail redis_up "cannot start redis"; finish; }
t0=$(now_ms)
if wait_for "is_bound node1 pidbox && [ \$(nsubs) -gt 0 ]" 5; then
	expect_faster ready_within_2s "$t0" 2
	echo "# pidboxd ready $(($(now_ms) - t0)) ms after redis came up"
else
	fail ready_within_2s "not bound and subscribed: $(tail -n 3 "$log")"
fi
out=$(ctl ping -d node1 -t 1 2>&1)
expect_contains answers "$out" '->  node1: OK'
# the health check is on by default (15 s): its channel is subscribed
expect_ne health_check_default "$(rcli PUBSUB CHANNELS 'pidbox.health.*')" ""
expect_faster answers_within_2s "$t0" 3
finish
