#!/usr/bin/env bash
# Nothing is left in Redis: after calls and casts, after SIGINT/SIGTERM during
# a call, after "pidboxctl gc" (which removes leaked reply lists and members
# but not the member of a call in progress), and after a direct-mode pidboxd
# stops (kombu leaves its member behind forever).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
REPLYSET=_kombu.binding.reply.pidbox.pidbox

ctl ping >/dev/null 2>&1
assert_no_reply_keys after_ping
ctl broadcast ping --reply --timeout 1 >/dev/null 2>&1
assert_no_reply_keys after_broadcast_reply
ctl broadcast print_msg msg=hello >/dev/null 2>&1
assert_no_reply_keys after_cast
if wait_for "grep -q hello \"$T/pidboxd.node1.log\"" 5; then
	ok cast_delivered
else
	fail cast_delivered "print_msg not logged by pidboxd"
fi

# --- interrupted calls clean up after themselves
for sig in INT TERM; do
	bg "ctl_$sig" "${SIGINT_DFL[@]}" "${CTL_CMD[@]}" -b "$BROKER" ping -d nobody --timeout 5
	pid=$BG_PID
	if wait_for "[ \$(rcli SCARD $REPLYSET) -ge 1 ]" 5; then
		kill "-$sig" "$pid"
		reap "$pid" 5
		expect_ne "sig${sig}_exits" "$REAP_RC" timeout
		assert_no_reply_keys "sig${sig}_during_call"
	else
		fail "sig${sig}_during_call" "the call never bound its reply queue"
		kill -KILL "$pid" 2>/dev/null
	fi
done

# --- gc.  plant OID [LIST]: a leaked reply queue as kombu leaves it when a
# client dies during a call: the member, and (LIST) a list holding a reply.
plant() {
	rcli SADD "$REPLYSET" "$1$SEP$SEP$1.reply.pidbox.pidbox" >/dev/null
	if [ "${2:-}" = LIST ]; then
		rcli LPUSH "$1.reply.pidbox.pidbox" '{"body": "eyJub2RlMSI6IHsib2siOiAicG9uZyJ9fQ==", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"ticket": "d7a8fbb3-07d4-4e1b-8e55-5a1e6bcbb9a1", "clock": 4}, "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "reply.pidbox.pidbox", "routing_key": "'"$1"'"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "1b4e28ba-2fa1-41d2-883f-0016d3cca427"}}' >/dev/null
	fi
}
has_member() {
	[ "$(rcli SISMEMBER "$REPLYSET" "$1$SEP$SEP$1.reply.pidbox.pidbox")" = 1 ]
}
has_list() {
	[ "$(rcli EXISTS "$1.reply.pidbox.pidbox")" = 1 ]
}
leaked=11111111-1111-3111-8111-111111111111	# member + list
memberonly=22222222-2222-3222-8222-222222222222	# member, no list
orphan=33333333-3333-3333-8333-333333333333	# list, no member
plant "$leaked" LIST
plant "$memberonly"
rcli LPUSH "$orphan.reply.pidbox.pidbox" '{}' >/dev/null
# gc takes lists idle *longer* than --idle: let them age past 0 s
idle() {	# shellcheck disable=SC2317 # called through wait_for
	rcli OBJECT IDLETIME "$1.reply.pidbox.pidbox"
}
if ! wait_for "[ \$(idle $leaked) -ge 1 ] && [ \$(idle $orphan) -ge 1 ]" 5; then
	fail gc_setup "planted lists do not age (OBJECT IDLETIME)"
fi

out=$(ctl gc --idle 0 --grace 1 --dry-run 2>&1)
rc=$?
expect_eq gc_dry_run_exit_0 "$rc" 0
expect_contains gc_dry_run_reports "$out" "$leaked"
has_list "$leaked" && has_member "$leaked" && has_member "$memberonly" && has_list "$orphan"
expect_eq gc_dry_run_removes_nothing "$?" 0

out=$(ctl gc --idle 3600 --grace 1 2>&1)
expect_eq gc_exit_0 "$?" 0
has_list "$leaked" && has_member "$leaked" && has_list "$orphan"
expect_eq gc_keeps_lists_younger_than_idle "$?" 0
! has_member "$memberonly"
expect_eq gc_removes_listless_member_after_grace "$?" 0

memberonly=44444444-4444-3444-8444-444444444444
plant "$memberonly"

# The real run.  A call that starts after gc's scan for list-less members
# must keep its member (its list appears only with its first reply).  gc has
# scanned once it sits idle on its connection, waiting out --grace.
lastid=$(rcli CLIENT LIST | sed -n 's/^id=\([0-9]*\) .*/\1/p' | sort -n | tail -n 1)
gc_waits() {	# shellcheck disable=SC2317 # called through wait_for
	rcli CLIENT LIST | awk -v last="$lastid" '
	    { split($1, id, "=") }
	    id[2] + 0 > last + 0 && / idle=[1-9]/ && !/ cmd=client / { f = 1 }
	    END { exit !f }'
}
live_member() {
	rcli SMEMBERS "$REPLYSET" | grep -avE "^($leaked|$memberonly)" | grep -a . | head -n 1
}
bg gc "${CTL_CMD[@]}" -b "$BROKER" gc --idle 0 --grace 3
gcpid=$BG_PID
if wait_for "gc_waits" 10; then
	bg inprogress "${CTL_CMD[@]}" -b "$BROKER" ping -d nobody --timeout 10
	callpid=$BG_PID
	wait_for "live_member | grep -qa ." 5
	live=$(live_member)
	reap "$gcpid" 20
	expect_eq gc_idle_0_exit_0 "$REAP_RC" 0
	! has_list "$leaked" && ! has_member "$leaked"
	expect_eq gc_removes_leaked_list_and_member "$?" 0
	! has_member "$memberonly"
	expect_eq gc_removes_listless_member "$?" 0
	! has_list "$orphan"
	expect_eq gc_removes_orphan_list "$?" 0
	if [ -n "$live" ] && [ "$(rcli SISMEMBER "$REPLYSET" "$live")" = 1 ]; then
		ok gc_keeps_member_of_call_in_progress
	else
		fail gc_keeps_member_of_call_in_progress "member '$(printf '%s' "$live" | cat -v)' of the running call was removed"
	fi
	kill -TERM "$callpid" 2>/dev/null
	reap "$callpid" 5
	assert_no_reply_keys after_gc
else
	fail gc_member_scan "never saw gc wait out --grace on its connection"
fi

# --- a direct node removes its binding member when it stops
start_pidboxd dnode -T direct || exit 1
stop_pidboxd dnode
expect_eq direct_node_exit_0 "$?" 0
if is_bound dnode pidbox; then
	fail direct_node_unbinds_on_sigterm "member still in _kombu.binding.pidbox.pidbox"
else
	ok direct_node_unbinds_on_sigterm
fi
finish
