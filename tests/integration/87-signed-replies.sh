#!/usr/bin/env bash
# Signed replies (issue 13): each pidboxd signs its replies with a node key
# made at first start in its state directory. pidboxctl marks each reply
# verified, unverified or FORGED (text and --jsonl), trusting node keys
# pinned in PIDBOX_KNOWN_NODES (first use recorded, a changed key refused)
# or certified by a fleet key (pidboxctl certify, PIDBOX_FLEET_KEYS).
# Someone with Redis write access answering for a node is flagged FORGED,
# cannot hide the real reply, and makes the exit code 2; --verify required
# counts unverified replies as errors too.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

start_pidboxd d1 -S "$T/d1state" || exit 1
start_pidboxd d2 -S "$T/d2state" || exit 1
expect_eq node_key_mode "$(stat -c %a "$T/d1state/node.key")" 600
expect_contains node_pub_names_node "$(cat "$T/d1state/node.pub")" ' d1'

# Without a trust anchor nothing is checked: Celery's output, unchanged.
out=$(ctl ping -d d1 --timeout 5)
expect_eq no_anchor_output_unchanged "$out" "$(printf '%s\n' '->  d1: OK' '        pong' '' '1 node online.')"

# --- pinning: first use recorded (unverified), then verified
export PIDBOX_KNOWN_NODES=$T/known_nodes
out=$(ctl ping -d d1,d2 --timeout 5)
rc=$?
expect_eq first_use_exit "$rc" 0
expect_contains first_use_unverified "$out" '->  d1: OK [unverified: first use; key recorded in PIDBOX_KNOWN_NODES]'
expect_eq first_use_recorded "$(grep -c ' d[12]$' "$T/known_nodes")" 2
out=$(ctl ping -d d1,d2 --timeout 5)
expect_contains pinned_verified "$out" '->  d1: OK [verified]'
expect_contains pinned_summary "$out" 'verify: 2 verified, 0 unverified, 0 FORGED'
out=$(ctl --jsonl ping -d d1 --timeout 5)
expect_contains jsonl_mark "$out" '"verify": "verified", "verify_detail": "pinned key"'
ctl --verify required ping -d d1,d2 --timeout 5 >/dev/null 2>&1
expect_eq verify_required_all_verified_exit "$?" 0

# --- a forged reply pushed first: FORGED, the real one still counts
bg forger "$PY" "$ROOT/tests/integration/forger.py" "$REDIS_SOCK" pidbox d1 unsigned
FORGER=$BG_PID
wait_for "grep -q READY '$T/forger.log'" 10
# forged_first LOG CTL-ARGS...: ping with d1 paused until the forgery is
# in the reply list, then let d1 answer; the output in $out, rc in $rc.
forged_first() {
	local log=$1 n
	shift
	n=$(grep -c answered "$T/forger.log")
	kill -STOP "${DPID[d1]}"
	bg "$log" ctl ping "$@" --timeout 5
	wait_for "[ \$(grep -c answered '$T/forger.log') -gt $n ]" 5
	kill -CONT "${DPID[d1]}"
	wait "$BG_PID"
	rc=$?
	out=$(cat "$T/$log.log")
}
forged_first fping -d d1
expect_contains forged_flagged "$out" '->  d1: FORGED [unsigned reply from a node with a pinned key]'
expect_contains real_reply_verified "$out" '->  d1: OK [verified]'
expect_eq real_reply_wins_exit "$rc" 0
out=$(ctl --json ping -d d1 --timeout 5 2>"$T/err")
expect_json json_keeps_real_reply "$out" '{"d1": {"ok": "pong"}}'
# the same with -p: the forgery must not end the wait for d1 either
forged_first pping -p 'd1'
expect_contains pattern_forged_flagged "$out" '->  d1: FORGED'
expect_contains pattern_real_reply_awaited "$out" '->  d1: OK [verified]'
expect_eq pattern_real_reply_wins_exit "$rc" 0
# d1 silent: only the forgery answers
kill -STOP "${DPID[d1]}"
out=$(ctl ping -d d1 --timeout 2 2>&1)
rc=$?
kill -CONT "${DPID[d1]}"
expect_contains forged_alone_flagged "$out" '->  d1: FORGED'
expect_contains forged_alone_summary "$out" 'verify: 0 verified, 0 unverified, 1 FORGED'
expect_eq forged_alone_exit "$rc" 2
kill "$FORGER"
reap "$FORGER" 5

# a reply claiming d1's key with a signature that is not d1's
key=$(cut -d' ' -f2 "$T/d1state/node.pub")
bg forger2 "$PY" "$ROOT/tests/integration/forger.py" "$REDIS_SOCK" pidbox d1 badsig "$key"
FORGER=$BG_PID
wait_for "grep -q READY '$T/forger2.log'" 10
kill -STOP "${DPID[d1]}"
out=$(ctl --jsonl ping -d d1 --timeout 2 2>&1)
rc=$?
kill -CONT "${DPID[d1]}"
expect_contains bad_signature_forged "$out" '"verify": "FORGED", "verify_detail": "the signature does not match the reply"'
expect_eq bad_signature_exit "$rc" 2
kill "$FORGER"
reap "$FORGER" 5

# --- a changed node key is refused loudly
stop_pidboxd d2
rm "$T/d2state/node.key"
start_pidboxd d2 -S "$T/d2state" || exit 1
out=$(ctl ping -d d2 --timeout 5)
rc=$?
expect_contains changed_key_forged "$out" '->  d2: FORGED [NODE KEY CHANGED: not the key pinned in PIDBOX_KNOWN_NODES]'
expect_eq changed_key_exit "$rc" 2
unset PIDBOX_KNOWN_NODES

# --- a fleet key certifies node keys: no first use to trust
pidboxctl keygen -f "$T/fleet" -C fleet >/dev/null 2>&1
pidboxctl keygen -f "$T/other" -C fleet >/dev/null 2>&1
pidboxctl -i "$T/fleet" certify "$T/d2state/node.pub" >"$T/d2state/node.cert"
expect_contains certify_line "$(cat "$T/d2state/node.cert")" 'pidbox-node-cert d2 '
pidboxctl -i "$T/other" certify "$T/d1state/node.pub" >"$T/d1state/node.cert"
stop_pidboxd d1
stop_pidboxd d2
start_pidboxd d1 -S "$T/d1state" || exit 1
start_pidboxd d2 -S "$T/d2state" || exit 1
export PIDBOX_FLEET_KEYS=$T/fleet.pub
out=$(ctl ping -d d1,d2 --timeout 5)
rc=$?
expect_contains certified_verified "$out" '->  d2: OK [verified]'
expect_contains wrong_fleet_forged "$out" "->  d1: FORGED [the node certificate is not the fleet's]"
expect_eq wrong_fleet_exit "$rc" 2
out=$(ctl --verify required ping -d d2 --timeout 5)
expect_eq required_certified_exit "$?" 0
# an uncertified node: unverified, an error only with --verify required
rm "$T/d1state/node.cert"
stop_pidboxd d1
start_pidboxd d1 -S "$T/d1state" || exit 1
out=$(ctl ping -d d1 --timeout 5)
expect_eq uncertified_exit "$?" 0
expect_contains uncertified_mark "$out" '->  d1: OK [unverified: signed, but the key is not certified]'
ctl --verify required ping -d d1 --timeout 5 >/dev/null 2>&1
expect_eq required_unverified_exit "$?" 2
# a node certificate for another key: logged, counted, serving
cp "$T/d2state/node.cert" "$T/d1state/node.cert"
sed -i 's/ d2 / d1 /' "$T/d1state/node.cert"
stop_pidboxd d1
start_pidboxd d1 -S "$T/d1state" || exit 1
expect_contains bad_cert_logged "$(pidboxd_log d1)" 'node.cert: certifies another key for this node'
out=$(ctl --json broadcast stats --reply -d d1 --timeout 5 2>/dev/null)
expect_contains bad_cert_counted "$out" '"node_key_errors": 1'
finish
