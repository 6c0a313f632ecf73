#!/usr/bin/env bash
# Issue 14.14, 14.15: the Celery verbs pidboxctl lacked (terminate,
# heartbeat, election, pool_restart, memsample, memdump, objgraph,
# revoke_by_stamped_headers) against a real Celery 5.2 worker, with the
# arguments on the wire that Celery's CLI (or app.control) sends;
# `status --json` as Celery prints it; -A app; and shutdown, which now
# collects replies: a pidboxd refusing it fails (rc 2, the refusal
# shown), a Celery worker, which exits without replying, counts as sent.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

# c ARGS...: pidboxctl -N celery; stdout in $out, exit status in $rc.
c() {
	out=$(ctl -N celery "$@" 2>"$T/err")
	rc=$?
}

# sent ARGS...: the arguments pidboxctl puts on the wire for ARGS, read
# back from the direct queue of a node that is bound but never listens.
rcli SADD _kombu.binding.celery.pidbox "${SEP}${SEP}ghost@x.celery.pidbox" >/dev/null
sent() {
	rcli DEL ghost@x.celery.pidbox >/dev/null
	ctl -N celery -T direct "$@" -d ghost@x -t 0.2 >/dev/null 2>&1
	rcli RPOP ghost@x.celery.pidbox | decode_msgs | "$PY" -c 'import json, sys
b = json.loads(sys.stdin.readline())["body"]
print(json.dumps({"method": b["method"], "arguments": b["arguments"]}, sort_keys=True))'
}

# --- 14.15: the wire shape of each new verb (celery/worker/control.py)
expect_json wire_terminate "$(sent terminate KILL id1 id2)" '{"method": "terminate", "arguments": {"signal": "KILL", "task_id": ["id1", "id2"]}}'
expect_json wire_heartbeat "$(sent heartbeat)" '{"method": "heartbeat", "arguments": {}}'
expect_json wire_election "$(sent election e1 topic1 act)" '{"method": "election", "arguments": {"id": "e1", "topic": "topic1", "action": "act"}}'
expect_json wire_pool_restart "$(sent pool_restart)" '{"method": "pool_restart", "arguments": {}}'
expect_json wire_memsample "$(sent memsample)" '{"method": "memsample", "arguments": {}}'
expect_json wire_memdump "$(sent memdump 5)" '{"method": "memdump", "arguments": {"samples": 5}}'
expect_json wire_objgraph "$(sent objgraph Request 10 3)" '{"method": "objgraph", "arguments": {"type": "Request", "num": 10, "max_depth": 3}}'
expect_json wire_revoke_by_stamped_headers "$(sent revoke_by_stamped_headers mtask_id=a mtask_id=b --terminate --signal KILL)" '{"method": "revoke_by_stamped_headers", "arguments": {"headers": ["mtask_id=a", "mtask_id=b"], "terminate": true, "signal": "KILL"}}'
c revoke_by_stamped_headers nokey
expect_eq stamped_headers_want_kv "$rc" 64
c terminate KILL
expect_eq terminate_needs_ids "$rc" 64
c election e1
expect_eq election_needs_topic "$rc" 64
rcli SREM _kombu.binding.celery.pidbox "${SEP}${SEP}ghost@x.celery.pidbox" >/dev/null
rcli DEL ghost@x.celery.pidbox >/dev/null

start_pidboxd pd1@host -N celery || exit 1
start_celery_worker w1@pidbox-test || exit 1
W1=$!
W1N=w1@pidbox-test


# --- and what a real worker answers to them
c terminate KILL 11111111-aaaa-bbbb-cccc-000000000003 -d "$W1N"
expect_eq terminate_rc "$rc" 0
expect_contains terminate_reply "$out" 'terminate: tasks unknown'
c revoked -d "$W1N" --json
expect_contains terminate_revoked "$out" '11111111-aaaa-bbbb-cccc-000000000003'
c election e1 topic1 -d "$W1N"
expect_eq election_rc "$rc" 2
expect_contains election_args_taken "$out" "AttributeError(\"'Gossip' object has no attribute 'dispatcher'\")"
c pool_restart -d "$W1N"
expect_eq pool_restart_rc "$rc" 2
expect_contains pool_restart_reply "$out" 'Pool restarts not enabled'
c memdump -d "$W1N"
expect_eq memdump_rc "$rc" 0
expect_contains memdump_count "$out" '1 node online.'
c memsample -d "$W1N"
expect_eq memsample_rc "$rc" 0
c objgraph -d "$W1N"
expect_contains objgraph_reply "$out" 'objgraph'
c inspect memsample -d "$W1N"
expect_eq inspect_family_memsample "$rc" 0
c control heartbeat -d pd1@host
# pidboxd answers heartbeat as a worker does (issue 16.4): null
expect_contains pidboxd_heartbeat_answered "$out" '->  pd1@host: OK'
expect_not_contains pidboxd_heartbeat_no_keyerror "$out" "KeyError"
expect_not_contains worker_no_control_errors "$(cat "$T/celery.$W1N.log")" 'TypeError'

# --- status --json: JSON, a blank line, "N nodes online." as Celery
c status --json
expect_eq status_json_rc "$rc" 0
expect_eq status_json_tail "$(tail -n 2 <<<"$out")" "$(printf '\n2 nodes online.')"
check status_json_doc "$PY" -c 'import json, sys
j = json.loads(sys.argv[1].splitlines()[0])
assert set(j) == {"pd1@host", "w1@pidbox-test"}, j' "$out"
want=$(celery status --json 2>/dev/null | tail -n 2)
expect_eq status_json_as_celery "$(tail -n 2 <<<"$out")" "$want"

# --- -A app: namespace celery; the broker from -b or CELERY_BROKER_URL
out=$(env -u PIDBOX_BROKER -u CELERY_BROKER_URL "$BUILD/pidboxctl" -A celery_app ping 2>&1)
expect_eq app_no_broker_rc "$?" 64
expect_contains app_no_broker_says "$out" '-A celery_app: pidboxctl cannot read the broker from a Celery app (that needs Python); give it with -b URL or CELERY_BROKER_URL'
out=$(CELERY_BROKER_URL=$BROKER "$BUILD/pidboxctl" -A celery_app ping -d "$W1N" 2>&1)
expect_eq app_env_broker_rc "$?" 0
expect_contains app_env_broker "$out" "->  $W1N: OK"
out=$("$BUILD/pidboxctl" -A celery_app -b "$BROKER" ping -d pd1@host 2>&1)
expect_eq app_b_broker_rc "$?" 0

# --- 14.14: shutdown collects: pidboxd's refusal shows and fails
c shutdown -d pd1@host --yes
expect_eq shutdown_refused_rc "$rc" 2
expect_contains shutdown_refused_shown "$out" "$(printf '%s\n' '->  pd1@host: ERROR' '        refused: dangerous method not allowed by any policy rule')"
expect_contains shutdown_refused_count "$out" '1 refused it'
check shutdown_refused_pidboxd_alive alive "${DPID[pd1@host]}"
# a Celery worker exits without a reply: sent, rc 0
c shutdown -d "$W1N" --yes
expect_eq shutdown_worker_rc "$rc" 0
expect_contains shutdown_worker_sent "$out" 'shutdown sent to mailbox celery.pidbox: '
expect_contains shutdown_worker_silent "$out" "no reply (a Celery worker exits without replying): $W1N"
if wait_for "! alive $W1" 10; then ok shutdown_worker_exits; else fail shutdown_worker_exits "w1 still running"; fi
expect_not_contains shutdown_worker_no_error "$(cat "$T/celery.$W1N.log")" 'Control command error'
# No assert_no_reply_keys here: this worker sometimes answers a request
# twice, and kombu pushes the second reply into a list we removed.
finish
