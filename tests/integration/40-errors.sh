#!/usr/bin/env bash
# Errors: unknown method, nobody listening, unreachable broker (password
# masked), usage errors, and malformed messages injected straight into Redis,
# which pidboxd must log and survive without ever writing to a foreign queue.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
# These tests count PUBLISH commands to prove that nothing was sent; the
# nodes' periodic health-check PUBLISH (tested in 80/84) would blur that.
QUIET_BROKER="$BROKER?health_check_interval=0"
start_pidboxd node1 -b "$QUIET_BROKER" || exit 1
start_pidboxd dnode -T direct -b "$QUIET_BROKER" || exit 1

# --- unknown method
out=$(ctl broadcast nosuch --reply -d node1 2>"$T/err")
expect_eq unknown_method_output "$out" "$(printf '%s\n' '->  node1: ERROR' "        KeyError('nosuch')" '' '1 node online.' 'summary: 1 expected (-d), 1 replied, 1 error, 0 missing' 'error: node1' 'hint: KeyError is a method the node does not have; `pidboxctl describe` lists what each node offers')"
out=$(ctl --json broadcast nosuch --reply -d node1 2>"$T/err")
expect_json unknown_method_json "$out" "{\"node1\": {\"error\": \"KeyError('nosuch')\"}}"

# --- nobody listens in this namespace: fails at once, not after --timeout
t0=$(now_ms)
out=$(ctl -N empty ping --timeout 5 2>"$T/err")
rc=$?
expect_faster no_nodes_quick "$t0" 2
expect_eq no_nodes_exit_69 "$rc" 69
expect_eq no_nodes_stdout_empty "$out" ""
expect_contains no_nodes_message "$(cat "$T/err")" 'Error: No nodes replied within time constraint'
out=$(ctl -N empty -T direct ping --timeout 5 2>"$T/err")
expect_eq no_nodes_direct_exit_69 "$?" 69

# --- broker unreachable; the password never shows
out=$(pidboxctl -b 'redis://:s3cr3tpw@127.0.0.1:1/0' ping 2>"$T/err")
rc=$?
err=$(cat "$T/err")
expect_eq broker_down_exit_75 "$rc" 75
expect_ne broker_down_message "$err" ""
expect_not_contains broker_down_password_masked "$err$out" 's3cr3tpw'
expect_contains broker_down_names_broker "$err" '***@127.0.0.1:1'
out=$(pidboxctl -b 'redis://user:s3cr3tpw@127.0.0.1:1/0' ping 2>"$T/err")
rc=$?
expect_eq broker_down_user_exit_75 "$rc" 75
expect_not_contains broker_down_user_password_masked "$(cat "$T/err")$out" 's3cr3tpw'

# --- usage errors
usage() {	# NAME ARGS...
	local name=$1 pub rc
	shift
	pub=$(commandstat publish)
	ctl "$@" >/dev/null 2>"$T/err"
	rc=$?
	expect_eq "usage_${name}_exit_64" "$rc" 64
	expect_eq "usage_${name}_not_published" "$(commandstat publish)" "$pub"
}
pidboxctl >/dev/null 2>&1
expect_eq usage_no_command_exit_64 "$?" 64
usage unknown_command frobnicate
usage unknown_option ping --frobnicate
usage bad_timeout ping --timeout abc
usage bad_limit ping --limit -3
usage broadcast_without_method broadcast
usage bad_argument broadcast print_msg notkeyvalue
usage bad_type -T sideways ping

# --- malformed input: published on the fanout channel and pushed into the
# direct node's list.  A victim queue bound to exchange "victim" must stay
# empty; pidboxd must log every message, keep running and keep answering.
rcli SADD _kombu.binding.victim "victim${SEP}${SEP}victim" >/dev/null
oid=0f0e0d0c-0b0a-4000-8000-000000000001
rcli SADD _kombu.binding.reply.pidbox.pidbox "$oid$SEP$SEP$oid.reply.pidbox.pidbox" >/dev/null

logsize() {
	wc -c <"$T/pidboxd.$1.log"
}

inject() {	# NAME ENVELOPE
	local name=$1 env=$2 s1 s2 n
	s1=$(logsize node1)
	s2=$(logsize dnode)
	n=$(rcli PUBLISH /0.pidbox.pidbox "$env")
	if [ "$n" -lt 1 ]; then
		fail "malformed_${name}_delivered" "PUBLISH reached $n subscribers"
	fi
	rcli LPUSH dnode.pidbox.pidbox "$env" >/dev/null
	if wait_for "[ \$(logsize node1) -gt $s1 ]" 5; then
		ok "malformed_${name}_logged_fanout"
	else
		fail "malformed_${name}_logged_fanout" "nothing logged"
	fi
	if wait_for "[ \$(logsize dnode) -gt $s2 ] && [ \$(rcli LLEN dnode.pidbox.pidbox) = 0 ]" 5; then
		ok "malformed_${name}_logged_direct"
	else
		fail "malformed_${name}_logged_direct" "nothing logged or not consumed"
	fi
}

inject invalid_json '{"body": "eyJtZXRob2Qi'
inject not_an_object '[1, 2, 3]'
inject pickle "$(mkmsg --oid "$oid" --ctype application/x-python-serialize --body 'cos
system
(S"true"
tR.')"
inject body_not_object "$(mkmsg --oid "$oid" --body '[1, 2]')"
inject body_not_json "$(mkmsg --oid "$oid" --body 'ping please')"
inject bad_base64 "$(mkmsg --oid "$oid" --body '{}' | sed 's/"body": "[^"]*"/"body": "!!!not base64!!!"/')"
inject method_not_string "$(mkmsg --oid "$oid" --body '{"method": ["ping"], "arguments": {}, "destination": null, "pattern": null, "matcher": null}')"
inject arguments_not_object "$(mkmsg --oid "$oid" --body '{"method": "ping", "arguments": [1], "destination": null, "pattern": null, "matcher": null}')"
inject bad_matcher "$(mkmsg --oid "$oid" --pattern node1 --matcher regex)"
inject bad_pcre "$(mkmsg --oid "$oid" --pattern '(node' --matcher pcre)"
inject clock_string "$(mkmsg --oid "$oid" --clock '"5"')"
inject no_delivery_tag "$(mkmsg --oid "$oid" --method print_msg --args '{"msg": "no tag"}' --no-delivery-tag)"
inject reply_to_victim "$(mkmsg --oid victim --reply-exchange victim)"
inject reply_to_string "$(mkmsg --body '{"method": "ping", "arguments": {}, "destination": null, "pattern": null, "matcher": null, "ticket": "t", "reply_to": "victim"}')"

expect_eq victim_untouched "$(rcli LLEN victim)" 0
expect_eq victim_binding_intact "$(rcli SMEMBERS _kombu.binding.victim | cat -v)" 'victim^F^V^F^Vvictim'
alive "${DPID[node1]}"
expect_eq fanout_node_survived "$?" 0
alive "${DPID[dnode]}"
expect_eq direct_node_survived "$?" 0

out=$(ctl ping -d node1 --timeout 5 2>"$T/err")
expect_contains fanout_node_still_answers "$out" '->  node1: OK'
out=$(ctl -T direct ping -d dnode --timeout 5 2>"$T/err")
expect_contains direct_node_still_answers "$out" '->  dnode: OK'

rcli DEL "$oid.reply.pidbox.pidbox" >/dev/null
rcli SREM _kombu.binding.reply.pidbox.pidbox "$oid$SEP$SEP$oid.reply.pidbox.pidbox" >/dev/null
assert_no_reply_keys no_reply_keys_left
finish
