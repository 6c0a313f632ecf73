#!/usr/bin/env bash
# Regress for issue 5: the idle subscription is silently dropped (a proxy
# black-holes the open connections: no FIN, no RST), and the subscriber is
# killed by the server (CLIENT KILL TYPE pubsub). The health check notices
# the silence and pidboxd reconnects; the node answers again.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
pport=$((REDIS_PORT + 1))
bg proxy "$PY" "$(dirname "$0")/blackhole.py" "$pport" "$REDIS_PORT"
proxy=$BG_PID
wait_for "grep -q READY '$T/proxy.log'" 10 || { fail proxy "$(cat "$T/proxy.log")"; finish; }
start_pidboxd node1 -b "redis://127.0.0.1:$pport/0?health_check_interval=1" || exit 1
out=$(ctl ping -d node1 -t 1 2>&1)
expect_contains before "$out" '->  node1: OK'

kill -USR1 "$proxy"
t0=$(now_ms)
if wait_for "grep -q 'health check' '$T/pidboxd.node1.log'" 6; then
	ok silence_noticed
	echo "# black hole noticed after $(($(now_ms) - t0)) ms"
else
	fail silence_noticed "$(pidboxd_log node1 | tail -n 3)"
fi
if wait_for "ctl ping -d node1 -t 0.5 | grep -q 'node1: OK'" 6; then
	ok answers_after_black_hole
	echo "# answering $(($(now_ms) - t0)) ms after the black hole"
else
	fail answers_after_black_hole "$(pidboxd_log node1 | tail -n 3)"
fi

n0=$(grep -c 'lost the broker connection' "$T/pidboxd.node1.log")
rcli CLIENT KILL TYPE pubsub >/dev/null
if wait_for "[ \$(grep -c 'lost the broker connection' '$T/pidboxd.node1.log') -gt $n0 ]" 5 &&
    wait_for "ctl ping -d node1 -t 0.5 | grep -q 'node1: OK'" 5; then
	ok answers_after_client_kill
else
	fail answers_after_client_kill "$(pidboxd_log node1 | tail -n 3)"
fi
alive "${DPID[node1]}"
expect_eq same_process "$?" 0
finish
