#!/usr/bin/env bash
# Issue 3: pidboxctl's Celery inspect/control commands against two real
# Celery 5.2 workers (--pool=solo) and pidboxd, one worker stopped
# (SIGSTOP) so that "did not reply" and exit codes 3/4 show, then shut
# down with `pidboxctl shutdown`; and Celery's own CLI against pidboxd
# (inspect ping/stats/active/registered/report, status, mingle's hello).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd pd1@host -N celery || exit 1
start_celery_worker w1@pidbox-test || exit 1
start_celery_worker w2@pidbox-test || exit 1
W2=$!
W1N=w1@pidbox-test
W2N=w2@pidbox-test

# jq-less JSON checks: jcheck NAME JSON PYTHON-EXPR (j is the document)
jcheck() {
	if "$PY" -c 'import json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null; then
		ok "$1"
	else
		fail "$1" "$3 is false for: $2"
	fi
}

# c ARGS...: pidboxctl -N celery; output in $out, exit status in $rc.
c() {
	out=$(ctl -N celery "$@" 2>"$T/err")
	rc=$?
}

# ------------------------------------------------ all three answer
start=$(now_ms)
c ping
expect_eq ping_all_exit_0 "$rc" 0
expect_contains ping_all_w1 "$out" "$(printf '%s\n' "->  $W1N: OK" '        pong')"
expect_contains ping_all_w2 "$out" "->  $W2N: OK"
expect_contains ping_all_pidboxd "$out" '->  pd1@host: OK'
expect_contains ping_all_count "$out" '3 nodes online.'
expect_not_contains ping_all_no_summary "$out" 'summary:'
expect_faster ping_all_returns_early "$start" 1

c status
expect_eq status_exit_0 "$rc" 0
expect_eq status_lines "$(printf '%s\n' "$out" | sort | tr '\n' '|')" "|$(printf '%s|' '->  pd1@host: OK' "->  $W1N: OK" "->  $W2N: OK" '3 nodes online.')"
expect_contains status_headers_only "$out" "->  $W2N: OK"
expect_not_contains status_no_pong "$out" pong

# ------------------------------------------------ inspect family
c stats -d "$W1N" --json
expect_eq stats_exit_0 "$rc" 0
jcheck stats_worker_shape "$out" "set(j) == {'$W1N'} and isinstance(j['$W1N']['pid'], int) and isinstance(j['$W1N']['clock'], str) and j['$W1N']['broker']['transport'] == 'redis' and 'rusage' in j['$W1N'] and 'pool' in j['$W1N']"
c stats -d pd1@host --json
jcheck stats_pidboxd_celery_shape "$out" "isinstance(j['pd1@host']['clock'], str) and j['pd1@host']['total'] == {} and j['pd1@host']['broker']['port'] == $REDIS_PORT and j['pd1@host']['pool']['max-concurrency'] == 1 and 'utime' in j['pd1@host']['rusage'] and 'counters' in j['pd1@host'] and j['pd1@host']['prefetch_count'] == 0"
c stats -d "$W1N"
expect_contains stats_human "$out" "$(printf '%s\n' "->  $W1N: OK" '    {' '        "broker": {')"

for cmd in active reserved scheduled dump_active; do
	c "$cmd" -d "$W1N,pd1@host"
	expect_contains "${cmd}_empty_worker" "$out" "$(printf '%s\n' "->  $W1N: OK" '    - empty -')"
	expect_contains "${cmd}_empty_pidboxd" "$out" "$(printf '%s\n' '->  pd1@host: OK' '    - empty -')"
	expect_eq "${cmd}_exit_0" "$rc" 0
done

c registered -d "$W1N"
expect_eq registered "$out" "$(printf '%s\n' "->  $W1N: OK" '    * celery_app.add' '' '1 node online.')"
c active_queues -d "$W1N"
expect_contains active_queues "$out" "    * {'name': 'celery', 'exchange': {'name': 'celery', 'type': 'direct'"
c report -d "$W1N"
# the version the running Celery reports (5.2 from Debian, 5.6 with PEERS)
expect_contains report "$out" "software -> celery:$(peer_version celery)"
c clock -d "$W1N" --json
jcheck clock "$out" "isinstance(j['$W1N']['clock'], int) and j['$W1N']['clock'] > 0"
c conf -d "$W1N" --json
jcheck conf "$out" "j['$W1N']['broker_url'].startswith('redis://127.0.0.1:$REDIS_PORT')"
c query_task 11111111-2222-3333-4444-555555555555 -d "$W1N"
expect_eq query_task "$out" "$(printf '%s\n' "->  $W1N: OK" '    {}' '    ' '' '1 node online.')"
c inspect stats -d "$W1N" --json
jcheck inspect_family_alias "$out" "'pid' in j['$W1N']"
c inspect rate_limit x 1/m
expect_eq inspect_refuses_control_command "$rc" 64

# ------------------------------------------------ control family
# The test workers run without events (--without-heartbeat, no -E): a
# Celery 5.2 worker then fails these with an AttributeError (spec 6).
c enable_events -d "$W1N"
expect_contains enable_events "$out" "$(printf '%s\n' "->  $W1N: ERROR" '        AttributeError(')"
expect_eq enable_events_exit_2 "$rc" 2
c disable_events -d "$W1N"
expect_contains disable_events "$out" "->  $W1N: ERROR"
c rate_limit celery_app.add 10/m -d "$W1N,$W2N"
expect_eq rate_limit_exit_0 "$rc" 0
expect_contains rate_limit "$out" "$(printf '%s\n' "->  $W2N: OK" '        new rate limit set successfully')"
expect_not_contains control_no_count "$out" 'online.'
c rate_limit celery_app.nosuch 10/m -d "$W1N"
expect_eq rate_limit_unknown_is_error "$out" "$(printf '%s\n' "->  $W1N: ERROR" '        unknown task' '' 'summary: 1 expected (-d), 1 replied, 1 error, 0 missing' "error: $W1N")"
expect_eq rate_limit_unknown_exit_2 "$rc" 2
c rate_limit celery_app.add
expect_eq rate_limit_missing_arg_exit_64 "$rc" 64
c time_limit celery_app.add 10 20 -d "$W1N"
expect_contains time_limit "$out" 'time limits set successfully'
c time_limit celery_app.add soft
expect_eq time_limit_bad_float_exit_64 "$rc" 64
c revoke 11111111-aaaa-bbbb-cccc-000000000001 -d "$W1N"
# Celery 5.2 says "tasks ID flagged...", 5.3+ "tasks {'ID'} flagged..."
expect_contains revoke "$out" '11111111-aaaa-bbbb-cccc-000000000001'
expect_contains revoke_wording "$out" 'flagged as revoked'
c revoke 11111111-aaaa-bbbb-cccc-000000000002 --terminate --signal KILL -d "$W1N"
expect_contains revoke_terminate "$out" 'terminate: tasks unknown'
c revoke x --signal KILL
expect_eq revoke_signal_needs_terminate "$rc" 64
c revoked -d "$W1N" --json
jcheck revoked_lists_ids "$out" "set(j['$W1N']) == {'11111111-aaaa-bbbb-cccc-000000000001', '11111111-aaaa-bbbb-cccc-000000000002'}"
c autoscale 4 1 -d "$W1N"
expect_contains autoscale_error "$out" "$(printf '%s\n' "->  $W1N: ERROR" "        ValueError('Autoscale not enabled')")"
expect_eq autoscale_exit_2 "$rc" 2
c pool_grow 1 -d "$W1N"
# the solo pool cannot grow: Celery answers an AttributeError
expect_contains pool_grow_solo "$out" "->  $W1N: ERROR"
c add_consumer foo -d "$W1N"
expect_contains add_consumer "$out" 'add consumer foo'
c cancel_consumer foo -d "$W1N"
expect_contains cancel_consumer "$out" 'no longer consuming from foo'
c control revoke abc -d "$W1N" --json
jcheck control_json_is_list "$out" "len(j) == 1 and list(j[0]) == ['$W1N'] and j[0]['$W1N']['ok'] in ('tasks abc flagged as revoked', \"tasks {'abc'} flagged as revoked\")"
c inspect ping -d "$W1N,$W2N" --json
expect_json inspect_json_is_flat "$out" "{\"$W1N\": {\"ok\": \"pong\"}, \"$W2N\": {\"ok\": \"pong\"}}"
# pidboxd does not implement rate_limit: Celery's unknown-command error
c rate_limit celery_app.add 1/s -d pd1@host
expect_contains pidboxd_unknown_keyerror "$out" "$(printf '%s\n' '->  pd1@host: ERROR' "        KeyError('rate_limit')")"

# ------------------------------------------------ one worker stopped
kill -STOP "$W2"
start=$(now_ms)
c ping -d "$W1N,$W2N" -t 1
expect_eq missing_named_exit_3 "$rc" 3
expect_eq missing_named "$out" "$(printf '%s\n' "->  $W1N: OK" '        pong' '' '1 node online.' 'summary: 2 expected (-d), 1 replied, 0 errors, 1 missing' "no reply: $W2N")"
expect_faster missing_waits_only_the_timeout "$start" 2
c ping -t 1
expect_eq missing_counted_exit_3 "$rc" 3
expect_contains missing_counted "$out" "$(printf '%s\n' '2 nodes online.' 'summary: 3 expected (bound), 2 replied, 0 errors, 1 missing' "no reply: $W2N")"
c rate_limit celery_app.nosuch 1/m -d "$W1N,$W2N" -t 1
expect_eq missing_and_errors_exit_4 "$rc" 4
expect_contains missing_and_errors "$out" "$(printf '%s\n' "error: $W1N" "no reply: $W2N")"
c stats -d "$W1N,$W2N" -t 1 --json
expect_eq json_missing_exit_3 "$rc" 3
jcheck json_missing_stdout_is_json "$out" "set(j) == {'$W1N'}"
expect_contains json_missing_summary_on_stderr "$(cat "$T/err")" "no reply: $W2N"
c ping -d "$W2N" -t 0.5
expect_eq none_replied_exit_69 "$rc" 69
# Celery's line, then what happened (issue 14.3)
expect_eq none_replied_message "$(cat "$T/err")" "$(printf '%s\n' 'Error: No nodes replied within time constraint' '1 node received ping but did not reply within 0.5 s; a method that runs longer needs a longer -t')"
expect_contains none_replied_named "$out" "no reply: $W2N"
kill -CONT "$W2"

# ------------------------------------------------ shutdown
# On a terminal it asks; "n" sends nothing.
out=$("$PY" - "$BUILD/pidboxctl" -b "$BROKER" -N celery shutdown -d "$W2N" <<'EOF'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b""
while b"[y/N]" not in buf:
    d = os.read(fd, 1024)
    if not d:
        break
    buf += d
os.write(fd, b"n\n")
try:
    while True:
        d = os.read(fd, 1024)
        if not d:
            break
        buf += d
except OSError:
    pass
_, st = os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", ""))
print("rc=%d" % os.waitstatus_to_exitcode(st))
EOF
)
expect_contains shutdown_asks_on_tty "$out" "shut down $W2N of mailbox celery.pidbox"
expect_contains shutdown_not_confirmed "$out" 'not confirmed, nothing sent'
expect_contains shutdown_not_confirmed_exit_1 "$out" 'rc=1'
check shutdown_no_still_alive alive "$W2"
c shutdown -d "$W2N" --yes
expect_eq shutdown_exit_0 "$rc" 0
expect_contains shutdown_reports_receivers "$out" 'shutdown sent to mailbox celery.pidbox: 3 subscriber(s)'
if wait_for "! alive $W2" 10; then ok shutdown_worker_exits; else fail shutdown_worker_exits "w2 still running"; fi
c ping
expect_eq after_shutdown_two_nodes "$rc" 0
expect_contains after_shutdown_count "$out" '2 nodes online.'

# ------------------------------------------------ Celery's CLI against pidboxd
c broadcast hello from_node=pd1@host --reply -d pd1@host --json
expect_json pidboxd_hello_from_itself_null "$out" '{"pd1@host": null}'
c broadcast hello from_node=w9@elsewhere --reply -d pd1@host --json
jcheck pidboxd_hello "$out" "j['pd1@host']['revoked'] == {} and isinstance(j['pd1@host']['clock'], int)"
c clock -d pd1@host --json
jcheck pidboxd_clock "$out" "isinstance(j['pd1@host']['clock'], int)"
for cmd in active_queues revoked; do
	c "$cmd" -d pd1@host --json
	expect_json "pidboxd_$cmd" "$out" '{"pd1@host": []}'
done
c query_task abc -d pd1@host --json
expect_json pidboxd_query_task "$out" '{"pd1@host": {}}'
c conf -d pd1@host --json
expect_json pidboxd_conf "$out" '{"pd1@host": {}}'
expect_contains mingle_hello_w1 "$(cat "$T/celery.$W1N.log")" 'mingle: sync with 1 nodes'
expect_contains mingle_hello_w2 "$(cat "$T/celery.$W2N.log")" 'mingle: sync with 2 nodes'
out=$(celery inspect ping 2>"$T/err")
expect_eq celery_inspect_ping_exit_0 "$?" 0
expect_contains celery_inspect_ping_pidboxd "$out" "$(printf '%s\n' '->  pd1@host: OK' '        pong')"
expect_contains celery_inspect_ping_count "$out" '2 nodes online.'
out=$(celery inspect stats -d pd1@host 2>"$T/err")
expect_eq celery_inspect_stats_exit_0 "$?" 0
expect_contains celery_inspect_stats "$out" "$(printf '%s\n' '->  pd1@host: OK' '    {' '        "broker": {')"
expect_contains celery_inspect_stats_pool "$out" '"max-concurrency": 1,'
out=$(celery inspect active -d pd1@host 2>"$T/err")
expect_eq celery_inspect_active "$out" "$(printf '%s\n' '->  pd1@host: OK' '    - empty -' '' '1 node online.')"
out=$(celery inspect registered -d pd1@host --json 2>"$T/err")
expect_json celery_inspect_registered "$out" '{"pd1@host": []}'
out=$(celery inspect report -d pd1@host 2>"$T/err")
expect_contains celery_inspect_report "$out" 'software -> pidboxd:'
out=$(celery status 2>"$T/err")
expect_contains celery_status_pidboxd "$out" '->  pd1@host: OK'
expect_contains celery_status_worker "$out" "->  $W1N: OK"

expect_not_contains worker_no_control_errors "$(cat "$T/celery.$W1N.log")" 'Control command error'
assert_no_reply_keys no_reply_keys_left celery
finish
