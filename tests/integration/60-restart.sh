#!/usr/bin/env bash
# Redis restarts empty on the same port: pidboxd reconnects, re-subscribes
# (fanout) and re-binds its queue (direct) without being restarted.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
start_pidboxd dnode -T direct || exit 1
node1_pid=${DPID[node1]}
dnode_pid=${DPID[dnode]}

out=$(ctl ping -d node1 2>"$T/err")
expect_contains fanout_before_restart "$out" '->  node1: OK'
out=$(ctl -T direct ping -d dnode 2>"$T/err")
expect_contains direct_before_restart "$out" '->  dnode: OK'

runid() {
	rcli INFO server | tr -d '\r' | sed -n 's/^run_id://p'
}
before=$(runid)
restart_redis
expect_ne redis_restarted "$(runid)" "$before"

if wait_for "ctl ping -d node1 --timeout 1 | grep -q 'node1: OK'" 15; then
	ok fanout_answers_after_restart
else
	fail fanout_answers_after_restart "no pong within $((15 * TSCALE)) s"
fi
if wait_for "is_bound dnode pidbox" 15; then
	ok direct_member_back
else
	fail direct_member_back "binding member not re-added"
fi
out=$(ctl -T direct ping -d dnode --timeout 5 2>"$T/err")
expect_contains direct_answers_after_restart "$out" '->  dnode: OK'

alive "$node1_pid" && alive "$dnode_pid"
expect_eq same_processes "$?" 0
assert_no_reply_keys no_reply_keys_left
finish
