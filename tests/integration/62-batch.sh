#!/usr/bin/env bash
# Batches and canaries (issue 15.3): --batch N|N% sends to the expected
# nodes a batch at a time, in order, with --batch-sleep between batches
# (checked on the nodes' own audit timestamps, not the wall clock); a
# canary that does not reply OK stops the rest; --stop-on-error; Ctrl-C
# between batches stops before the next one and names the nodes done; the
# summary and exit code cover every node.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

# a1..a4 run `step` fine, b1's `step` fails; each audits to its own file
for n in a1 a2 a3 a4 b1; do
	rc=0
	[ "$n" = b1 ] && rc=3
	cat >"$T/$n.yaml" <<YAML
methods:
  step:
    argv: [/bin/sh, -c, 'echo step; exit $rc']
    user: nobody
audit:
  file: $T/audit.$n.jsonl
YAML
	chmod 600 "$T/$n.yaml"
	start_pidboxd "$n" -c "$T/$n.yaml" || exit 1
done

# runs NODE...: the `step` requests the nodes ran (the others audit theirs
# as "filtered": not addressed to them)
runs() {
	local n
	for n in "$@"; do cat "$T/audit.$n.jsonl" 2>/dev/null; done | "$PY" -c '
import json, sys
print(sum(1 for l in sys.stdin if (lambda e: e["method"] == "step" and
    e["decision"] == "run")(json.loads(l))))'
}
# when NODE: the epoch seconds of the node's last `step` it ran
when() {
	"$PY" -c '
import datetime, json, sys
t = [e["time"] for e in map(json.loads, open(sys.argv[1]))
    if e["method"] == "step" and e["decision"] == "run"][-1]
print(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())' \
	    "$T/audit.$1.jsonl"
}

# --- batches in order, the sleep between them
ctl broadcast step --batch 2 --batch-sleep 1.5 -d a1,a2,a3,a4 -t 5 >"$T/out" 2>"$T/err"
expect_eq batch_all_ok_exit_0 "$?" 0
err=$(cat "$T/err")
expect_contains batch_line_1 "$err" "batch 1/2: 2 nodes, 2 replied, 0 errors, 0 missing (a1, a2)"
expect_contains batch_line_2 "$err" "batch 2/2: 2 nodes, 2 replied, 0 errors, 0 missing (a3, a4)"
expect_eq batch_each_once "$(runs a1 a2 a3 a4)" 4
check batch_order_and_sleep "$PY" -c '
import sys
a1, a2, a3, a4 = map(float, sys.argv[1:])
# the second batch started after the first had replied, 1.5 s later
assert min(a3, a4) - max(a1, a2) >= 1.5, (a1, a2, a3, a4)' \
    "$(when a1)" "$(when a2)" "$(when a3)" "$(when a4)"
expect_eq batch_replies_all "$(grep -c '^->  a[1-4]: OK  exit 0' "$T/out")" 4

# --- no -d: every live node (sorted), 50% a batch; b1's error in the summary
ctl --json broadcast step --batch 50% -t 5 >"$T/out" 2>"$T/err"
expect_eq pct_error_exit_2 "$?" 2
expect_eq pct_replies_every_node "$("$PY" -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))' <"$T/out")" "a1 a2 a3 a4 b1"
err=$(cat "$T/err")
expect_contains pct_batch_1 "$err" "batch 1/2: 3 nodes, 3 replied, 0 errors, 0 missing (a1, a2, a3)"
expect_contains pct_batch_2 "$err" "batch 2/2: 2 nodes, 2 replied, 1 error, 0 missing (a4, b1)"
expect_contains pct_summary "$err" "summary: 5 expected (the batches' targets), 5 replied, 1 error, 0 missing"
expect_not_contains pct_not_stopped "$err" "stopped"

# --- a canary that fails stops the rest
before=$(runs a1 a2 a3)
ctl broadcast step --canary 1 --batch 1 -d b1,a1,a2,a3 -t 5 >"$T/out" 2>"$T/err"
expect_eq canary_fail_exit_4 "$?" 4
err=$(cat "$T/err")
expect_contains canary_line "$err" "batch 1/4 (canary): 1 node, 1 replied, 1 error, 0 missing (b1)"
expect_contains canary_stopped "$err" "stopped after batch 1/4: the canary batch did not all reply OK"
expect_contains canary_not_sent "$err" "not sent: a1, a2, a3"
expect_eq canary_rest_not_run "$(runs a1 a2 a3)" "$before"
# a canary that passes lets the rest go, in one batch without --batch
ctl broadcast step --canary 2 -d a1,a2,a3,a4 -t 5 >"$T/out" 2>"$T/err"
expect_eq canary_ok_exit_0 "$?" 0
expect_contains canary_ok_rest "$(cat "$T/err")" "batch 2/2: 2 nodes, 2 replied, 0 errors, 0 missing (a3, a4)"

# --- a missing canary (a node that is not there) stops the rest too
before=$(runs a1)
ctl broadcast step --canary 1 -d ghost,a1 -t 1 >"$T/out" 2>"$T/err"
expect_eq canary_missing_no_reply_exit_69 "$?" 69
expect_eq canary_missing_rest_not_run "$(runs a1)" "$before"

# --- --stop-on-error: no batch after the one with an error
before=$(runs a2 a3)
ctl broadcast step --batch 2 --stop-on-error -d a1,b1,a2,a3 -t 5 >"$T/out" 2>"$T/err"
expect_eq stop_on_error_exit_4 "$?" 4
err=$(cat "$T/err")
expect_contains stop_on_error_line "$err" "stopped after batch 1/2: an error or a missing node (--stop-on-error)"
expect_contains stop_on_error_done "$err" "done (sent): a1, b1"
expect_eq stop_on_error_rest_not_run "$(runs a2 a3)" "$before"
# without it the batches go on past the error
ctl broadcast step --batch 2 -d a1,b1,a2,a3 -t 5 >"$T/out" 2>"$T/err"
expect_eq no_stop_exit_2 "$?" 2
expect_contains no_stop_all_batches "$(cat "$T/err")" "batch 2/2: 2 nodes, 2 replied"

# --- Ctrl-C between batches: stops before the next, names the nodes done
before=$(runs a2 a3)
bg sigint "${SIGINT_DFL[@]}" "${CTL_CMD[@]}" -b "$BROKER" broadcast step --batch 1 --batch-sleep 30 -d a1,a2,a3 -t 5
pid=$BG_PID
if wait_for "grep -q 'batch 1/3' '$T/sigint.log'" 10; then
	kill -INT "$pid"
	reap "$pid" 5
	expect_eq sigint_dies_of_it "$REAP_RC" 130
	log=$(cat "$T/sigint.log")
	expect_contains sigint_stopped "$log" "stopped after batch 1/3: interrupted"
	expect_contains sigint_done "$log" "done (sent): a1"
	expect_contains sigint_not_sent "$log" "not sent: a2, a3"
	expect_eq sigint_rest_not_run "$(runs a2 a3)" "$before"
	assert_no_reply_keys sigint_no_reply_keys
else
	fail sigint_first_batch "$(cat "$T/sigint.log")"
fi

# --- bad input: nothing sent
before=$(commandstat publish)
ctl ping --batch 0 >"$T/out" 2>"$T/err"
expect_eq batch_0_exit_64 "$?" 64
ctl ping --batch-sleep 1 >"$T/out" 2>"$T/err"
expect_eq sleep_without_batch_exit_64 "$?" 64
ctl ping --batch 2 -p 'a*' >"$T/out" 2>"$T/err"
expect_eq batch_pattern_exit_64 "$?" 64
expect_eq bad_input_nothing_sent "$(commandstat publish)" "$before"

finish
