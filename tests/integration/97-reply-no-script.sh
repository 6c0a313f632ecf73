#!/usr/bin/env bash
# Replies are routed with plain commands, as kombu's Redis transport does
# (the binding looked up, then LPUSH), not by a server-side script: a
# SCRIPT FLUSH, or a failover to a server whose script cache is empty,
# loses no reply; and each reply costs Redis one SISMEMBER, one LPUSH and
# one PEXPIRE, no EVAL/EVALSHA (a Lua call costs Redis about twice what
# the three commands do: docs/BENCHMARKS.md).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1

out=$(ctl ping -t 2 2>&1)
expect_contains before_flush_answered "$out" 'node1: OK'

rcli CONFIG RESETSTAT >/dev/null
out=$(ctl ping -t 2 2>&1)
expect_contains counted_ping_answered "$out" 'node1: OK'
check no_evalsha [ "$(commandstat evalsha)" -eq 0 ]
check sismember_used [ "$(commandstat sismember)" -ge 1 ]
check one_lpush [ "$(commandstat lpush)" -eq 1 ]
check one_pexpire [ "$(commandstat pexpire)" -ge 1 ]

rcli SCRIPT FLUSH >/dev/null
out=$(ctl ping -t 2 2>&1)
expect_contains after_flush_answered "$out" 'node1: OK'
expect_not_contains no_route_error "$(cat "$T/pidboxd.node1.log")" 'cannot route a reply'
check still_bound is_bound node1 pidbox
finish
