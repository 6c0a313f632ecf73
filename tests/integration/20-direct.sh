#!/usr/bin/env bash
# The same in direct mode (-T direct on pidboxd and pidboxctl): requests go
# through the node lists, found via _kombu.binding.pidbox.pidbox.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 -T direct || exit 1

# a direct node does not subscribe: a fanout ping finds nobody
before=$(commandstat lpush)
out=$(ctl ping --timeout 1 2>"$T/err")
rc=$?
expect_eq fanout_ping_misses_direct_node "$rc" 69

out=$(ctl -T direct ping 2>"$T/err")
rc=$?
expect_eq ping_exit_0 "$rc" 0
expect_eq ping_output "$out" "$(printf '%s\n' '->  node1: OK' '        pong' '' '1 node online.')"
expect_ne request_went_through_list "$(commandstat lpush)" "$before"
expect_eq node_list_drained "$(rcli LLEN node1.pidbox.pidbox)" 0

out=$(ctl -T direct --json ping 2>"$T/err")
expect_json json_output "$out" '{"node1": {"ok": "pong"}}'

start_pidboxd node2 -T direct || exit 1
t0=$(now_ms)
out=$(ctl -T direct ping --timeout 5 2>"$T/err")
rc=$?
expect_faster two_nodes_return_early "$t0" 2
expect_eq two_nodes_exit_0 "$rc" 0
expect_contains two_nodes_node1 "$out" '->  node1: OK'
expect_contains two_nodes_node2 "$out" '->  node2: OK'
expect_contains two_nodes_count "$out" '2 nodes online.'

assert_no_reply_keys no_reply_keys_left
finish
