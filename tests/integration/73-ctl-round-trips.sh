#!/usr/bin/env bash
# The round trips of one pidboxctl call (issue 17.3), seen on the wire by
# a proxy (turns.py): the liveness PING goes in the same write as the
# SADD of the reply binding when the URL needs no AUTH/SELECT; the first
# BRPOP in the same write as the PUBLISH, which still goes only after
# the SADD was answered. A ping is three round trips (it was five). A
# cast, and a URL with SELECT, still wait for the PING on its own; when
# the binding set says nobody will answer (none bound, a -p that matches
# none) the PUBLISH goes alone, so that no pending BRPOP makes the
# cleanup open a second connection. -S and nodes read the binding set
# with the inventory and not again. Output and exit codes as before.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1

PPORT=$(free_port)
bg proxy "$PY" "$(dirname "$0")/turns.py" "$PPORT" "$REDIS_PORT" "$T/turns"
wait_for "grep -q READY '$T/proxy.log'" 10 || { fail proxy "$(cat "$T/proxy.log")"; finish; }
: >"$T/turns"

# via NAME DB ARGS...: one pidboxctl run through the proxy; its output in
# OUT, exit in RC, one line per connection it opened in TURNS.
via() {
	local name=$1 db=$2
	shift 2
	: >"$T/turns"
	OUT=$("${CTL_CMD[@]}" -b "redis://127.0.0.1:$PPORT/$db" "$@" 2>&1)
	RC=$?
	# the proxy writes a line once it saw the client close
	wait_for "[ -s '$T/turns' ] && ! rcli CLIENT LIST | grep -q 'cmd=brpop'" 5 ||
	    fail "${name}_proxy_saw_close" "$(cat "$T/proxy.log")"
	TURNS=$(cat "$T/turns")
}

P1='["PING", "SADD", "EVAL"]'
CLEAN='["MULTI", "SREM", "DEL", "EXEC"]'

via ping 0 ping
expect_eq ping_exit_0 "$RC" 0
expect_eq ping_output "$OUT" "$(printf '%s\n' '->  node1: OK' '        pong' '' '1 node online.')"
expect_eq ping_three_round_trips "$TURNS" "[$P1, [\"PUBLISH\", \"BRPOP\"], $CLEAN]"

via json_d 0 --json ping -d node1
expect_eq json_d_exit_0 "$RC" 0
expect_json json_d_output "$OUT" '{"node1": {"ok": "pong"}}'
expect_eq json_d_three_round_trips "$TURNS" "[$P1, [\"PUBLISH\", \"BRPOP\"], $CLEAN]"

# a cast: nothing to pipeline the PING with, and it must not ride with
# the PUBLISH (a server that resumes would run a request we said failed)
via cast 0 broadcast print_msg msg=hi
expect_eq cast_exit_0 "$RC" 0
expect_eq cast_ping_first "$TURNS" '[["PING"], ["PUBLISH"]]'

# nobody bound: the PUBLISH goes alone, the cleanup on the same connection
via nobody 0 -N nobody ping
expect_eq nobody_exit_69 "$RC" 69
expect_contains nobody_message "$OUT" 'no node is listening on fanout mailbox nobody.pidbox'
expect_eq nobody_one_connection "$TURNS" "[$P1, [\"PUBLISH\"], $CLEAN]"

# SELECT: the PING waits behind it, a round trip of its own as before
via select 1 -N nobody ping
expect_eq select_exit_69 "$RC" 69
expect_eq select_ping_alone "$TURNS" "[[\"SELECT\", \"PING\"], [\"SADD\", \"EVAL\"], [\"PUBLISH\"], $CLEAN]"

# a pattern that matches no bound node: the collect is over at once
via nomatch 0 ping --pattern 'zzz*'
expect_eq nomatch_exit_69 "$RC" 69
expect_contains nomatch_message "$OUT" 'No nodes replied within time constraint'
expect_eq nomatch_one_connection "$TURNS" "[$P1, [\"PUBLISH\"], $CLEAN]"
# one that does: as a plain ping
via match 0 --json ping --pattern 'node*'
expect_eq match_exit_0 "$RC" 0
expect_json match_output "$OUT" '{"node1": {"ok": "pong"}}'
expect_eq match_three_round_trips "$TURNS" "[$P1, [\"PUBLISH\", \"BRPOP\"], $CLEAN]"
# -S and nodes read the binding set with the inventory, on a connection
# of their own: the call does not read it again (one EVAL in all)
INV='[["PING"], ["EVAL"]]'
P1S='["PING", "SADD"]'
via select_S 0 --json ping -S 'name=node1'
expect_eq select_S_exit_0 "$RC" 0
expect_json select_S_output "$OUT" '{"node1": {"ok": "pong"}}'
expect_eq select_S_binding_set_read_once "$TURNS" "$INV
[$P1S, [\"PUBLISH\", \"BRPOP\"], $CLEAN]"
via nodes 0 nodes
expect_eq nodes_exit_0 "$RC" 0
expect_eq nodes_binding_set_read_once "$TURNS" "$INV
[$P1S, [\"PUBLISH\", \"BRPOP\"], $CLEAN]"
assert_no_reply_keys no_reply_keys_left
finish
