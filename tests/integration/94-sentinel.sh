#!/usr/bin/env bash
# Regress for issue 5: Redis Sentinel high availability.  A master, a
# replica and three sentinels on loopback ports; pidboxd and pidboxctl use
# sentinel://...?master_name=mymaster.  The master is killed; after the
# sentinels promote the replica the node answers ping again.  Prints the
# recovery time.
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
sports=()
for i in 1 2 3; do
	p=$((base + i))
	sports+=("$p")
	cat >"$T/sentinel$i.conf" <<EOC
port $p
bind 127.0.0.1
protected-mode no
dir $T
logfile $T/sentinel$i.log
sentinel monitor mymaster 127.0.0.1 $REDIS_PORT 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
EOC
	redis-server "$T/sentinel$i.conf" --sentinel >/dev/null 2>&1 &
	_track "$!"
done
sent() { redis-cli -p "$1" "${@:2}"; }
if wait_for "[ \"\$(redis-cli -p $rport INFO replication | tr -d '\r' | sed -n 's/^master_link_status://p')\" = up ]" 15 &&
    wait_for "sent ${sports[0]} SENTINEL replicas mymaster | grep -q $rport && [ \"\$(sent ${sports[0]} SENTINEL sentinels mymaster | grep -c '^name$')\" = 2 ]" 20; then
	ok topology_up
else
	fail topology_up "replica/sentinels not ready: $(tail -n 3 "$T/sentinel1.log")"
	finish
fi
S="sentinel://127.0.0.1:${sports[0]};sentinel://127.0.0.1:${sports[1]};sentinel://127.0.0.1:${sports[2]}?master_name=mymaster&health_check_interval=1"
start_pidboxd node1 -b "$S" || finish
out=$(pidboxctl -b "$S" ping -d node1 -t 1 2>&1)
expect_contains ping_via_sentinel "$out" '->  node1: OK'
# kombu < 5.4 (the Celery 5.2 here) uses the literal "/{db}." on sentinel
expect_contains literal_channel "$(rcli PUBSUB CHANNELS '*')" '/{db}.pidbox.pidbox'

failover "$master_pid" "$S" node1
expect_eq new_master "$(sent "${sports[0]}" SENTINEL get-master-addr-by-name mymaster | tail -n 1)" "$rport"
finish
