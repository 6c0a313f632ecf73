#!/usr/bin/env bash
# The reply-routing script is run by its SHA (EVALSHA). After SCRIPT FLUSH
# the next reply gets NOSCRIPT: it is lost and logged, the node loads the
# script again (the command link's set-up run anew) and the replies after
# it are routed; the binding stays declared.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1

out=$(ctl ping -t 2 2>&1)
expect_contains before_flush_answered "$out" 'node1: OK'
check evalsha_used [ "$(commandstat evalsha)" -ge 1 ]

rcli SCRIPT FLUSH >/dev/null
ctl ping -t 1 >/dev/null 2>&1
expect_log noscript_logged "$T/pidboxd.node1.log" 'cannot route a reply: NOSCRIPT'

out=$(ctl ping -t 2 2>&1)
expect_contains after_flush_answered "$out" 'node1: OK'
check still_bound is_bound node1 pidbox
finish
