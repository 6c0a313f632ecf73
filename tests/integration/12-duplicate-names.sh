#!/usr/bin/env bash
# Duplicate node names (issue 14.13). A second pidboxd started as node1
# warns at start that another node answers to its name (its binding
# member was there: it pings its own name and someone else replied); the
# first one, and a node whose member was only left behind, do not.
# pidboxctl reports the twin as a duplicate also with -d node1 (where the
# -d set is complete after the first reply), in the warning and in the
# summary, and still exits 0: every named node replied.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
start_pidboxd node2 || exit 1

warning='another node answers to the name node1'
before=$(nsubs)
"$BUILD/pidboxd" -f -n node1 -b "$BROKER" >"$T/pidboxd.twin.log" 2>&1 &
twin=$!
_track "$twin"
if ! wait_for "[ \$(nsubs) -gt $before ]" 10; then
	fail setup "the twin did not subscribe: $(tail -n 3 "$T/pidboxd.twin.log")"
	finish
fi
expect_log twin_warns_at_start "$T/pidboxd.twin.log" "$warning"
expect_contains twin_warning_says_what "$(grep "$warning" "$T/pidboxd.twin.log")" \
    'duplicate node names'
expect_not_contains first_node_does_not_warn "$(pidboxd_log node1)" "$warning"
# the probe's reply queue and binding member are gone again
wait_for '[ "$(rcli SCARD _kombu.binding.reply.pidbox.pidbox)" = 0 ]' 5
assert_no_reply_keys probe_leaves_nothing

# -d node1: the twin's reply comes after the -d set is complete
out=$(ctl ping -d node1 --timeout 5 2>"$T/err")
rc=$?
expect_eq d_twin_exit_0 "$rc" 0
expect_eq d_twin_both_shown "$(grep -c -- '->  node1: OK' <<<"$out")" 2
expect_contains d_twin_warned "$(cat "$T/err")" 'duplicate node name node1'
expect_contains d_twin_in_summary "$out" \
    'duplicate node name (more than one node replied under it): node1'
# a -d node without a twin is not reported, although a receiver (the
# twin) is unaccounted for
out=$(ctl ping -d node2 --timeout 5 2>"$T/err")
expect_eq d_single_exit_0 "$?" 0
expect_not_contains d_single_no_duplicate "$out$(cat "$T/err")" duplicate
# without -d, as before: warned, and in the summary too
out=$(ctl ping --timeout 5 2>"$T/err")
expect_eq all_twin_exit_0 "$?" 0
expect_contains all_twin_warned "$(cat "$T/err")" 'duplicate node name node1'
expect_contains all_twin_in_summary "$out" \
    'duplicate node name (more than one node replied under it): node1'

kill -TERM "$twin"
reap "$twin" 10
expect_eq twin_exit_0 "$REAP_RC" 0

# a binding member left behind (a node killed without SREM) is no twin:
# the check runs, nobody answers, no warning
rcli SADD _kombu.binding.pidbox.pidbox "$(node_member ghost pidbox)" >/dev/null
start_pidboxd ghost -v || finish
expect_log ghost_checked "$T/pidboxd.ghost.log" 'nobody else answers to ghost'
expect_not_contains ghost_does_not_warn "$(pidboxd_log ghost)" 'another node answers'
assert_no_reply_keys ghost_probe_leaves_nothing
finish
