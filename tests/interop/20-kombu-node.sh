#!/usr/bin/env bash
# pidboxctl calls real kombu 5.2 Nodes (kombu_node.py), fanout and direct:
# ping, echo with key=value arguments typed as JSON (x=5 is an int, s=hello a
# string), print_msg cast; the kombu nodes log no error.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxctl
start_redis
start_kombu_node kn1 pidbox fanout || exit 1
start_kombu_node kd1 dbox direct || exit 1

out=$(ctl ping 2>"$T/err")
rc=$?
expect_eq fanout_ping_exit_0 "$rc" 0
expect_eq fanout_ping "$out" "$(printf '%s\n' '->  kn1: OK' '        pong' '' '1 node online.')"
out=$(ctl -N dbox -T direct ping 2>"$T/err")
expect_eq direct_ping "$out" "$(printf '%s\n' '->  kd1: OK' '        pong' '' '1 node online.')"

# echo NAME NS TYPE NODE
echo_test() {
	local name=$1 ns=$2 type=$3 node=$4 out
	out=$(ctl -N "$ns" -T "$type" --json broadcast echo x=5 s=hello --reply 2>"$T/err")
	expect_json "${name}_echo_reply" "$out" "{\"$node\": {\"ok\": {\"x\": 5, \"s\": \"hello\"}}}"
	if wait_for "grep -q '^ECHO ' \"$T/kombu_node.$node.log\"" 5; then
		expect_eq "${name}_echo_typed" "$(grep '^ECHO ' "$T/kombu_node.$node.log" | tail -n 1)" \
		    'ECHO {"s": ["str", "hello"], "x": ["int", 5]}'
	else
		fail "${name}_echo_typed" "the kombu node never ran echo"
	fi
}
echo_test fanout pidbox fanout kn1
echo_test direct dbox direct kd1

ctl broadcast print_msg msg=hi-from-pidboxctl >/dev/null 2>"$T/err"
if wait_for "grep -q '^PRINT hi-from-pidboxctl' \"$T/kombu_node.kn1.log\"" 5; then
	ok cast_print_msg
else
	fail cast_print_msg "kombu node did not print the message"
fi

out=$(ctl broadcast nosuch --reply 2>"$T/err")
expect_contains unknown_method "$out" "KeyError('nosuch')"

for n in kn1 kd1; do
	expect_not_contains "${n}_no_errors" "$(kombu_node_log "$n")" Traceback
done
assert_no_reply_keys no_reply_keys_left
assert_no_reply_keys no_reply_keys_left_direct dbox
finish
