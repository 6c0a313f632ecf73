#!/usr/bin/env bash
# A real kombu 5.2 Mailbox client (kombu_client.py) calls pidboxd: ping in
# fanout and direct mode, destination, glob/pcre patterns, an unknown method,
# a cast; kombu's reply queue is gone afterwards.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd
start_redis
start_pidboxd node1 || exit 1
start_pidboxd node2 || exit 1
start_pidboxd dnode -N dbox -T direct || exit 1

# sorted NAME...: reply list -> sorted node names
names() {
	"$PY" -c 'import json, sys
print(" ".join(sorted(k for d in json.load(sys.stdin) for k in d)))' 2>/dev/null
}

out=$(kombu_client pidbox fanout ping '{}' --destination node1 2>"$T/err")
expect_json fanout_ping "$out" '[{"node1": {"ok": "pong"}}]'
out=$(kombu_client pidbox fanout ping '{}' 2>"$T/err")
expect_eq fanout_ping_all "$(names <<<"$out")" "node1 node2"
expect_json fanout_ping_all_values "$out" "$(if [[ $out == '[{"node1"'* ]]; then echo '[{"node1": {"ok": "pong"}}, {"node2": {"ok": "pong"}}]'; else echo '[{"node2": {"ok": "pong"}}, {"node1": {"ok": "pong"}}]'; fi)"

out=$(kombu_client dbox direct ping '{}' 2>"$T/err")
expect_json direct_ping "$out" '[{"dnode": {"ok": "pong"}}]'

out=$(kombu_client pidbox fanout ping '{}' --destination node2 2>"$T/err")
expect_json destination "$out" '[{"node2": {"ok": "pong"}}]'
out=$(kombu_client pidbox fanout ping '{}' --pattern 'node[1]' --matcher glob 2>"$T/err")
expect_json glob "$out" '[{"node1": {"ok": "pong"}}]'
out=$(kombu_client pidbox fanout ping '{}' --pattern 'no' --matcher pcre 2>"$T/err")
expect_eq pcre "$(names <<<"$out")" "node1 node2"

out=$(kombu_client pidbox fanout nosuch '{}' --destination node1 2>"$T/err")
expect_json unknown_method "$out" "[{\"node1\": {\"error\": \"KeyError('nosuch')\"}}]"
out=$(kombu_client dbox direct nosuch '{}' 2>"$T/err")
expect_contains unknown_method_direct "$out" "KeyError('nosuch')"

kombu_client pidbox fanout print_msg '{"msg": "from kombu"}' --cast >/dev/null 2>"$T/err"
if wait_for "grep -q 'from kombu' \"$T/pidboxd.node1.log\"" 5; then
	ok cast_print_msg
else
	fail cast_print_msg "pidboxd did not log the message"
fi

assert_no_reply_keys no_reply_keys_left
assert_no_reply_keys no_reply_keys_left_direct dbox
finish
