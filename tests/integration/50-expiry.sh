#!/usr/bin/env bash
# headers.expires: a request whose expiry is long past is dropped (kombu runs
# it; pidboxd must not, so a stale direct-mode backlog is not replayed), one
# that expires in a second is executed.  Requests are processed in order, so
# once the fresh request's reply is there the stale one was dealt with.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd
start_redis
start_pidboxd node1 || exit 1
start_pidboxd dnode -T direct || exit 1

oid=5e5e5e5e-0000-4000-8000-000000000050
list=$oid.reply.pidbox.pidbox
member=$oid$SEP$SEP$list
rcli SADD _kombu.binding.reply.pidbox.pidbox "$member" >/dev/null

# run MODE NODE DELIVER...: inject a stale then a fresh request with DELIVER
# (a redis-cli command taking the envelope last), check what was answered.
run() {
	local mode=$1 node=$2 stale fresh got
	shift 2
	stale=$(mkmsg --oid "$oid" --ticket "stale-$mode" --expires 1000000000.5)
	fresh=$(mkmsg --oid "$oid" --ticket "fresh-$mode" --expires-in 1)
	"$@" "$stale" >/dev/null
	"$@" "$fresh" >/dev/null
	if ! wait_for "[ \$(rcli LLEN $list) -ge 1 ]" 5; then
		fail "${mode}_fresh_request_answered" "no reply in $list"
		return
	fi
	ok "${mode}_fresh_request_answered"
	got=$(rcli LRANGE "$list" 0 -1 | decode_msgs | "$PY" -c 'import json, sys
print(" ".join(json.loads(l)["headers"]["ticket"] for l in sys.stdin))')
	expect_eq "${mode}_stale_request_dropped" "$got" "fresh-$mode"
	got=$(rcli RPOP "$list" | decode_msgs | "$PY" -c 'import json, sys
print(json.dumps(json.loads(sys.stdin.readline())["body"]))')
	expect_json "${mode}_reply_body" "$got" "{\"$node\": {\"ok\": \"pong\"}}"
	rcli DEL "$list" >/dev/null
}

run fanout node1 rcli PUBLISH /0.pidbox.pidbox
run direct dnode rcli LPUSH dnode.pidbox.pidbox

rcli SREM _kombu.binding.reply.pidbox.pidbox "$member" >/dev/null
finish
