#!/usr/bin/env bash
# pidboxctl loses the broker mid-collect (issue 16.2): its connection is
# black-holed (a proxy stops forwarding without closing) after one node
# replied, while it waits for a second that never will. It must exit 75
# within the connect timeout (plus the cleanup's bound), however long -t
# is, after printing the reply it had and the request id, and say that
# the cleanup failed in one line naming the reply queue left for gc.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1

info() {	# SECTION FIELD: FIELD's number (a command's calls) in the broker's INFO
	rcli info "$1" | tr -d '\r' | awk -F '[:=,]' -v f="$2" \
	    '$1 == f { n = $2 == "calls" ? $3 : $2 } END { print n + 0 }'
}

lost() {	# NAME ARGS...: one call through a proxy black-holed mid-collect
	local name=$1 pport proxy client t0 el rpops rc
	shift
	pport=$((REDIS_PORT + 1))
	bg "proxy_$name" "$PY" "$(dirname "$0")/blackhole.py" "$pport" "$REDIS_PORT"
	proxy=$BG_PID
	wait_for "grep -q READY '$T/proxy_$name.log'" 10 || { fail "${name}_proxy" "$(cat "$T/proxy_$name.log")"; return; }
	rpops=$(info commandstats cmdstat_rpop)
	bg "client_$name" "${CTL_CMD[@]}" -b "redis://127.0.0.1:$pport/0?socket_connect_timeout=2" \
	    "$@" -d node1,ghost -t 60
	client=$BG_PID
	# node1's reply was popped and drained (only pidboxctl RPOPs), and
	# the next BRPOP blocks (pidboxd SUBSCRIBEs to a fanout): the
	# partition lands there, not before the reply or during the drain
	if ! wait_for "[ \"\$(info commandstats cmdstat_rpop)\" -gt $rpops ] && [ \"\$(info clients blocked_clients)\" -gt 0 ]" 10; then
		fail "${name}_replied" "node1's reply was not drained before a BRPOP (RPOPs $rpops, now $(info commandstats cmdstat_rpop 2>&1), blocked $(info clients blocked_clients 2>&1), keys $(rcli --scan --pattern "*.reply.*")): $(cat "$T/client_$name.log")"
	fi
	kill -USR2 "$proxy"	# new connections too: the cleanup fails
	t0=$(now_ms)
	reap "$client" 20
	rc=$REAP_RC
	el=$(($(now_ms) - t0))
	echo "# $name: exit $rc ${el} ms after the partition"
	kill -TERM "$proxy" 2>/dev/null
	reap "$proxy" 5
	expect_eq "${name}_exit_75" "$rc" 75
	# 1 s BRPOP + the 2 s connect timeout + the 3 s cleanup bound
	if [ "$el" -lt $((8000 * TSCALE)) ]; then ok "${name}_within_bound"; else fail "${name}_within_bound" "${el} ms"; fi
	out=$(cat "$T/client_$name.log")
	expect_contains "${name}_names_request" "$out" 'no answer from the broker within 2.0 s (request '
	expect_eq "${name}_cleanup_one_line" "$(grep -c 'cleanup of reply queue' "$T/client_$name.log")" 1
	expect_contains "${name}_cleanup_gc" "$out" 'failed: '
	expect_contains "${name}_cleanup_names_gc" "$out" '(pidboxctl gc removes it)'
	LOST_OUT=$out
}

lost text broadcast ping --reply
expect_contains text_reply_printed "$LOST_OUT" '->  node1: OK'
expect_contains text_summary "$LOST_OUT" 'not subscribed: ghost'
lost json --json broadcast ping --reply
expect_contains json_reply_printed "$LOST_OUT" '{"node1": {"ok": "pong"}}'

# gc removes what the failed cleanup left
ctl gc -g 0 >/dev/null 2>&1
assert_no_reply_keys gc_after
finish
