#!/usr/bin/env bash
# Direct mode loses nothing (issue 16.1): a request pushed to the node's
# list is answered, or still in Redis for the next consumer. The consumer's
# connection is black-holed (a proxy stops forwarding without closing it)
# while its blocking pop waits and a request is pushed: Redis hands the
# request to that dead connection. pidboxd took it into its in-flight list
# atomically, so after the reconnect it answers it. A request left in
# flight by a stopped node is answered by the next one, an expired one is
# dropped, and the priority sub-lists are taken in kombu's order.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
inflight=_pidbox.inflight.node1.pidbox.pidbox
pport=$((REDIS_PORT + 1))
bg proxy "$PY" "$(dirname "$0")/blackhole.py" "$pport" "$REDIS_PORT"
proxy=$BG_PID
wait_for "grep -q READY '$T/proxy.log'" 10 || { fail proxy "$(cat "$T/proxy.log")"; finish; }
start_pidboxd node1 -T direct \
    -b "redis://127.0.0.1:$pport/0?health_check_interval=1" || exit 1
out=$(ctl -T direct ping -d node1 -t 2 2>&1)
expect_contains before "$out" '->  node1: OK'

# a client blocked in a pop on the node's list (pidboxd's, via the proxy)
# shellcheck disable=SC2317 # called through wait_for
blocked() {
	rcli CLIENT LIST | grep -q 'flags=b .*cmd=\(brpop\|brpoplpush\|blmove\)'
}
check pop_waiting wait_for blocked 10
kill -USR1 "$proxy"
# the request goes straight to Redis, which gives it to the dead pop
bg client "${CTL_CMD[@]}" -b "$BROKER" -T direct broadcast print_msg \
    msg=black-holed --reply -d node1 -t 20
client=$BG_PID
reap "$client" 25
out=$(cat "$T/client.log")
expect_eq answered_after_black_hole_exit "$REAP_RC" 0
expect_contains answered_after_black_hole "$out" '->  node1: OK'
expect_eq printed_once "$(grep -c 'print_msg: black-holed' "$T/pidboxd.node1.log")" 1
expect_eq inflight_empty "$(rcli LLEN "$inflight")" 0
expect_eq queue_empty "$(rcli LLEN node1.pidbox.pidbox)" 0
stop_pidboxd node1

# --- what a stopped node left in flight is handled on start, unless expired
rcli RPUSH "$inflight" "$(mkmsg --method print_msg --args '{"msg": "expired"}' --expires-in -100)" >/dev/null
rcli RPUSH "$inflight" "$(mkmsg --method print_msg --args '{"msg": "left"}' --expires-in 100)" >/dev/null
# the sub-lists in kombu's BRPOP order: priority 0 first, then 3, 6, 9
rcli LPUSH "node1.pidbox.pidbox"$'\x06\x16'"3" "$(mkmsg --method print_msg --args '{"msg": "pri3"}')" >/dev/null
rcli LPUSH "node1.pidbox.pidbox" "$(mkmsg --method print_msg --args '{"msg": "pri0"}')" >/dev/null
start_pidboxd node1 -T direct || exit 1
log=$T/pidboxd.node1.log
check left_handled wait_for "grep -q 'print_msg: pri3' '$log'" 10
order=$(grep -o 'print_msg: [a-z0-9]*' "$log" | sed 's/print_msg: //' | tr '\n' ' ')
expect_eq order "$order" "left pri0 pri3 "
expect_contains expired_dropped "$(cat "$log")" 'dropped expired request'
check inflight_drained wait_for "[ \"\$(rcli LLEN '$inflight')\" = 0 ]" 5
out=$(ctl -T direct ping -d node1 -t 2 2>&1)
expect_contains answers_after "$out" '->  node1: OK'
finish
