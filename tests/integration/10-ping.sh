#!/usr/bin/env bash
# pidboxctl ping against pidboxd in fanout mode (the default): human and
# --json output, exit status, and two nodes answering well before --timeout
# because pidboxctl knows how many nodes received the request.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
# libpcre2 and libyaml are loaded on first use: a plain node maps neither
expect_not_contains node_maps_no_libpcre2 "$(cat "/proc/${DPID[node1]}/maps")" libpcre2-8
expect_not_contains node_maps_no_libyaml "$(cat "/proc/${DPID[node1]}/maps")" libyaml

out=$(ctl ping 2>"$T/err")
rc=$?
expect_eq ping_exit_0 "$rc" 0
expect_eq ping_output "$out" "$(printf '%s\n' '->  node1: OK' '        pong' '' '1 node online.')"

out=$(ctl --json ping 2>"$T/err")
rc=$?
expect_eq json_exit_0 "$rc" 0
expect_json json_output "$out" '{"node1": {"ok": "pong"}}'

assert_no_reply_keys no_reply_keys_left

start_pidboxd node2 || exit 1
t0=$(now_ms)
out=$(ctl ping --timeout 5 2>"$T/err")
rc=$?
expect_faster two_nodes_return_early "$t0" 2
expect_eq two_nodes_exit_0 "$rc" 0
expect_contains two_nodes_node1 "$out" '->  node1: OK'
expect_contains two_nodes_node2 "$out" '->  node2: OK'
expect_eq two_nodes_pongs "$(grep -cx '        pong' <<<"$out")" 2
expect_contains two_nodes_count "$out" '2 nodes online.'

out=$(ctl --json ping --timeout 5 2>"$T/err")
expect_json two_nodes_json "$out" '{"node1": {"ok": "pong"}, "node2": {"ok": "pong"}}'

assert_no_reply_keys no_reply_keys_left_2

# a collect that runs to its timeout drains the reply lists (4 RPOPs, one
# per priority list) after the BRPOP that popped node1's reply and once at
# the deadline (the last BRPOP ends 100 ms early, see mailbox.c collect()),
# not after each empty BRPOP that follows (one a second)
rpop=$(commandstat rpop)
ctl ping -d node1,ghost -t 2.5 >/dev/null 2>&1
expect_eq drain_only_after_a_reply "$(($(commandstat rpop) - rpop))" 8

# a second node that also calls itself node1: both reply, and pidboxctl
# warns on stderr (Celery's DuplicateNodenameWarning)
before=$(nsubs)
"$BUILD/pidboxd" -f -n node1 -b "$BROKER" >"$T/pidboxd.twin.log" 2>&1 &
twin=$!
_track "$twin"
wait_for "[ \$(nsubs) -gt $before ]" 10
# the twin's reply does not count toward the 3 receivers (issue 10): this
# collect runs to its timeout, so keep it short
out=$(ctl ping --timeout 2 2>"$T/err")
expect_eq duplicate_both_reply "$(grep -c -- '->  node1: OK' <<<"$out")" 2
expect_contains duplicate_warned "$(cat "$T/err")" 'duplicate node name node1'
kill -TERM "$twin"
reap "$twin" 10
expect_eq duplicate_twin_exit_0 "$REAP_RC" 0
finish
