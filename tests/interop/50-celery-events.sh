#!/usr/bin/env bash
# Flower and Celery's events (issue 16.4): pidboxd -N celery answers
# enable_events / disable_events / heartbeat as a Celery worker does,
# quietly (no "no such method", no error counted), and while events are
# enabled sends worker-online, worker-heartbeat and worker-offline to
# Celery's "celeryev" exchange, so that the real `celery events --dump`
# (Debian's Celery 5.2) shows it, and Flower's dashboard lists it.
#
# The Flower check needs Flower (kombu/Celery 5.6) from the peers folder:
# $PEER_PYTHONPATH, else ../shared/peers/kombu5.6-celery5.6 when ../shared
# exists (CI); when ../shared exists but the peers do not, that is a
# failure. In a user's clone without ../shared it is reported as not run.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd pd1@host -N celery || exit 1
log=$T/pidboxd.pd1@host.log

bg dump env PYTHONPATH="$INTEROP" "$PY" -m celery -A celery_app events --dump
dump_pid=$BG_PID
check dump_started wait_for "grep -q 'starting capture' '$T/dump.log'" 20
# the capture is bound once its PSUBSCRIBE is in
check dump_subscribed wait_for "[ \"\$(rcli PUBSUB NUMPAT)\" -ge 1 ]" 10

out=$(celery control enable_events -d pd1@host --json 2>"$T/err")
expect_json enable_events "$out" '[{"pd1@host": {"ok": "task events enabled"}}]'
out=$(celery control enable_events -d pd1@host --json 2>"$T/err")
expect_json enable_events_again "$out" '[{"pd1@host": {"ok": "task events already enabled"}}]'
out=$(celery control heartbeat -d pd1@host --json 2>"$T/err")
expect_json heartbeat "$out" '[{"pd1@host": null}]'

check dump_online wait_for "grep -q '^pd1@host .* started: .*sw_ident=pidboxd' '$T/dump.log'" 10
check dump_heartbeat wait_for "[ \$(grep -c '^pd1@host .* heartbeat: ' '$T/dump.log') -ge 2 ]" 10
expect_contains dump_heartbeat_method_freq "$(cat "$T/dump.log")" 'freq=5,'

out=$(celery control disable_events -d pd1@host --json 2>"$T/err")
expect_json disable_events "$out" '[{"pd1@host": {"ok": "task events disabled"}}]'
check dump_offline wait_for "grep -q '^pd1@host .* shutdown: ' '$T/dump.log'" 10
out=$(celery control disable_events -d pd1@host --json 2>"$T/err")
expect_json disable_events_again "$out" '[{"pd1@host": {"ok": "task events already disabled"}}]'

# quietly: no unknown-method line, no error counted
expect_not_contains no_such_method "$(cat "$log")" 'no such method'
errs=$(ctl -N celery --json stats -d pd1@host | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["pd1@host"]["counters"]["errors"])')
expect_eq errors_counter "$errs" 0

# a node that stops with events on says so (worker-offline)
ctl -N celery enable_events -d pd1@host >/dev/null 2>&1
check dump_online_again wait_for "[ \$(grep -c '^pd1@host .* started: ' '$T/dump.log') -ge 2 ]" 10
stop_pidboxd pd1@host
expect_eq stop_exit "$REAP_RC" 0
check dump_offline_on_stop wait_for "[ \$(grep -c '^pd1@host .* shutdown: ' '$T/dump.log') -ge 2 ]" 10
kill -TERM "$dump_pid" 2>/dev/null

# --- Flower 2.1's dashboard (from the peers folder)
peers=${PEER_PYTHONPATH:-}
if [ -z "$peers" ] && [ -d "$ROOT/../shared" ]; then
	peers=$ROOT/../shared/peers/kombu5.6-celery5.6
fi
if [ -z "$peers" ]; then
	echo "# not run: the Flower check (no ../shared/peers; set PEER_PYTHONPATH)"
elif [ ! -d "$peers/flower" ]; then
	fail flower_present "no Flower in $peers (../shared exists: CI must have the peers)"
else
	start_pidboxd pd2@host -N celery || exit 1
	port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
	bg flower env PYTHONPATH="$peers:$INTEROP" "$PY" -m flower -A celery_app \
	    flower --address=127.0.0.1 --port="$port"
	# Flower sends enable_events itself; its dashboard then lists pd2
	# (from the events) as online
	flower_workers() {
		"$PY" -c 'import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1], timeout=2))
print(" ".join(w["hostname"] + ":" + str(w["status"]) for w in d["data"]))' \
		    "http://127.0.0.1:$port/workers?json=1"
	}
	if wait_for 'flower_workers | grep -q "pd2@host:True"' 40; then
		ok flower_dashboard_lists_pidboxd
	else
		fail flower_dashboard_lists_pidboxd "Flower lists: $(flower_workers 2>&1 | tail -n 1)"
	fi
	expect_not_contains flower_quiet "$(pidboxd_log pd2@host)" 'no such method'
fi
finish
