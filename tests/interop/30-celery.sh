#!/usr/bin/env bash
# Celery 5.2: pidboxd and a real worker (--pool=solo) share the "celery"
# mailbox.  pidboxctl -N celery pings the worker; the real "celery inspect
# ping" lists pidboxd; the worker, started after pidboxd (its mingle hello
# gets pidboxd's KeyError reply), keeps working.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd pd1@host -N celery || exit 1
start_celery_worker w1@pidbox-test || exit 1

out=$(ctl -N celery ping -d w1@pidbox-test 2>"$T/err")
expect_eq worker_ping_exit_0 "$?" 0
expect_eq worker_ping "$out" "$(printf '%s\n' '->  w1@pidbox-test: OK' '        pong' '' '1 node online.')"

out=$(ctl -N celery ping --timeout 5 2>"$T/err")
expect_contains both_ping_worker "$out" '->  w1@pidbox-test: OK'
expect_contains both_ping_pidboxd "$out" '->  pd1@host: OK'
expect_contains both_ping_count "$out" '2 nodes online.'

out=$(celery inspect ping -t 2 2>"$T/err")
rc=$?
expect_eq celery_inspect_exit_0 "$rc" 0
expect_contains celery_inspect_lists_pidboxd "$out" "$(printf '%s\n' '->  pd1@host: OK' '        pong')"
expect_contains celery_inspect_lists_worker "$out" '->  w1@pidbox-test: OK'
expect_contains celery_inspect_count "$out" '2 nodes online.'

out=$(celery inspect ping -d pd1@host --json 2>"$T/err")
expect_json celery_inspect_json "$out" '{"pd1@host": {"ok": "pong"}}'
out=$(celery inspect stats -d pd1@host --json 2>"$T/err")
expect_contains celery_inspect_stats "$out" '"pd1@host"'

out=$(celery status 2>"$T/err")
expect_contains celery_status "$out" '->  pd1@host: OK'

# the worker is not deaf after pidboxd's replies
out=$(ctl -N celery ping -d w1@pidbox-test 2>"$T/err")
expect_contains worker_still_answers "$out" '->  w1@pidbox-test: OK'
expect_not_contains worker_no_control_errors "$(cat "$T/celery.w1@pidbox-test.log")" 'Control command error'
assert_no_reply_keys no_reply_keys_left celery
finish
