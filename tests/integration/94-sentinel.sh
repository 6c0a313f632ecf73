#!/usr/bin/env bash
# Regress for issue 5: Redis Sentinel high availability.  A master, a
# replica and three sentinels on loopback ports; pidboxd and pidboxctl use
# sentinel://...?master_name=mymaster.  The master is killed; after the
# sentinels promote the replica the node answers ping again.  Prints the
# recovery time.
#
# Both generations of kombu's Sentinel fanout channel (issue 16.3): kombu
# < 5.4 (Celery 5.2) uses "/{db}.<ns>.pidbox" literally, kombu >= 5.4
# formats it ("/0.<ns>.pidbox"). By default pidboxd hears both and
# pidboxctl publishes to both: a kombu node and client of each generation
# reach pidboxd and are reached by pidboxctl, and pidboxd runs (and
# audits) each request once. The old generation is always Debian's kombu
# 5.2; the new one is kombu 5.6 under PEERS=kombu56 (make check-peers),
# else kombu 5.2 told the channel kombu >= 5.4 uses (fanout_prefix=/0.).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis	# the master (REDIS_PID, REDIS_PORT)
master_pid=$REDIS_PID
# four more free ports after the master's: the replica and three sentinels
base=$REDIS_PORT
for try in 1 2 3 4 5 6 7 8 9 10; do
	base=$((base + 1))
	inuse=0
	for p in $((base)) $((base + 1)) $((base + 2)) $((base + 3)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && inuse=1
	done
	[ "$inuse" -eq 0 ] && break
	base=$((base + 3))
done
rport=$base
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$T" --dbfilename replica.rdb --logfile "$T/replica.log" \
    --protected-mode no --replicaof 127.0.0.1 "$REDIS_PORT" >/dev/null 2>&1 &
replica_pid=$!
_track "$replica_pid"
sports=("$((base + 1))" "$((base + 2))" "$((base + 3))")
start_sentinels "$REDIS_PORT" "${sports[@]}" <<<'port @PORT@'
sent() { redis-cli -p "$1" "${@:2}"; }
sentinels_ready "redis-cli -p $rport" "$rport" "${sports[0]}"
S="sentinel://127.0.0.1:${sports[0]};sentinel://127.0.0.1:${sports[1]};sentinel://127.0.0.1:${sports[2]}?master_name=mymaster&health_check_interval=1"
audit=$T/audit.jsonl
printf 'audit:\n  file: %s\n' "$audit" >"$T/node1.yaml"
chmod 600 "$T/node1.yaml"
start_pidboxd node1 -b "$S" -c "$T/node1.yaml" || finish
out=$(pidboxctl -b "$S" ping -d node1 -t 1 2>&1)
expect_contains ping_via_sentinel "$out" '->  node1: OK'
# nobody on either channel: the error names both
out=$(pidboxctl -b "$S" -N nobody ping -t 1 2>&1)
expect_eq no_listener_exit_69 "$?" 69
expect_contains no_listener_names_channels "$out" \
    'no node is listening on fanout mailbox nobody.pidbox (channels /{db}.nobody.pidbox and /0.nobody.pidbox)'
# kombu < 5.4 (the Celery 5.2 here) uses the literal "/{db}." on sentinel,
# kombu >= 5.4 "/0.": pidboxd listens on both
channels=$(rcli PUBSUB CHANNELS '*pidbox.pidbox')
expect_contains literal_channel "$channels" '/{db}.pidbox.pidbox'
expect_contains formatted_channel "$channels" '/0.pidbox.pidbox'

# The kombu peers of each generation, as kombu applications connect.
KS="sentinel://127.0.0.1:${sports[0]};sentinel://127.0.0.1:${sports[1]};sentinel://127.0.0.1:${sports[2]}"
old_py() { PYTHONPATH='' KOMBU_TRANSPORT_OPTIONS='{"master_name": "mymaster"}' "$PY" "$@"; }
if [ -n "$PEERS" ]; then
	new_opts='{"master_name": "mymaster"}'
	expect_contains new_generation_is_kombu56 "$(peer_version kombu)" 5.6.
else
	new_opts='{"master_name": "mymaster", "fanout_prefix": "/0."}'
fi
new_py() { KOMBU_TRANSPORT_OPTIONS=$new_opts "$PY" "$@"; }
expect_contains old_generation_is_kombu52 "$(PYTHONPATH='' peer_version kombu)" 5.2.
# start_gen old|new NAME: a kombu Node of that generation on the sentinels
start_gen() {
	local before log=$T/kombu_node.$2.log
	before=$(nsubs)
	"${1}_py" "$INTEROP/kombu_node.py" "$KS" pidbox fanout "$2" >"$log" 2>&1 &
	_track "$!"
	_wait_peer "kombu node ($1)" "$!" '^READY' "$log" "$2" pidbox fanout "$before"
}
# runs TICKET: how many times node1 audited the request with that ticket
runs() {
	"$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("ticket") == sys.argv[2]))' "$audit" "$1"
}
ticket() { sed -n 's/.*request \([0-9a-f-]*\): .*/\1/p' "$1" | head -n 1; }
start_gen old old1 || finish
start_gen new new1 || finish

# pidboxctl reaches both generations, pidboxd counted once (3 receivers,
# not 4), and every bound node answers before -t
out=$(pidboxctl -b "$S" -v ping -t 5 2>"$T/ping.err")
rc=$?
expect_eq ping_all_exit_0 "$rc" 0
for n in node1 old1 new1; do
	expect_contains "ping_reaches_$n" "$out" "->  $n: OK"
done
expect_contains ping_all_receivers "$(cat "$T/ping.err")" '3 receiver(s)'
expect_not_contains ping_all_no_extra "$out$(cat "$T/ping.err")" 'more subscriber'
expect_not_contains ping_all_no_duplicate "$(cat "$T/ping.err")" duplicate
t_all=$(ticket "$T/ping.err")
for n in old1 new1; do
	out=$(pidboxctl -b "$S" -v ping -d "$n" -t 2 2>"$T/ping_$n.err")
	expect_contains "ping_d_$n" "$out" "->  $n: OK"
done
t_old=$(ticket "$T/ping_old1.err")

# kombu clients of both generations reach pidboxd, which replies once
for g in old new; do
	out=$("${g}_py" "$INTEROP/kombu_client.py" "$KS" pidbox fanout ping '{}' --destination node1 --timeout 2 2>&1)
	expect_json "kombu_${g}_client_reaches_pidboxd" "$out" '[{"node1": {"ok": "pong"}}]'
done

# a request addressed to node1 after all the others: once its audit line
# is there, both copies of every earlier request have been handled
out=$(pidboxctl -b "$S" -v ping -d node1 -t 2 2>"$T/last.err")
t_last=$(ticket "$T/last.err")
expect_log last_audited "$audit" "$t_last"
expect_eq broadcast_ran_once "$(runs "$t_all")" 1
expect_eq filtered_audited_once "$(runs "$t_old")" 1
# 7 requests reached node1 (5 from pidboxctl, 2 from kombu): 7 lines
expect_eq one_audit_line_per_request "$(wc -l <"$audit" | tr -d ' ')" 7
# every pidboxctl request before this one came twice: 5 copies dropped
stats=$(pidboxctl -b "$S" --json stats -d node1 -t 2 2>&1)
expect_eq second_copies_dropped "$(printf '%s' "$stats" | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["node1"]["counters"]["duplicates"])' 2>&1)" 5

failover "$master_pid" "$S" node1
expect_eq new_master "$(sent "${sports[0]}" SENTINEL get-master-addr-by-name mymaster | tail -n 1)" "$rport"
finish
