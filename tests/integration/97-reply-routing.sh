#!/usr/bin/env bash
# Issue 10.2: replies go only to the client's own reply list.
# Anyone who can SADD could bind a request's reply routing key to any queue
# (`<rk>\x06\x16\x06\x16app:jobs` in _kombu.binding.reply.<ns>.pidbox); the
# reply script then LPUSHed the reply into that key and PEXPIREd it, so an
# unrelated application's queue vanished reply_ttl later, and 100,000 such
# members made one request run a script for seconds inside Redis and create
# 100,000 lists.  Now a reply goes only to <rk>.reply.<ns>.pidbox, only
# while that binding member exists, with O(1) work whatever the set holds;
# members naming other queues are ignored, counted and logged.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
umask 077
hmac_key "$T/alice.key"
cat >"$T/signed.yaml" <<YAML
signing:
  require_signed: true
  keys:
    alice: $T/alice.key
YAML
start_pidboxd open1 || exit 1
start_pidboxd signed1 -c "$T/signed.yaml" || exit 1

RSET=_kombu.binding.reply.pidbox.pidbox
oid=0f0e0d0c-0b0a-4000-8000-00000000beef

# An unrelated application's queue, without a TTL.
rcli RPUSH app:jobs job-1 job-2 >/dev/null
rcli SADD "$RSET" "$oid$SEP${SEP}app:jobs" >/dev/null

attack() {	# NODE: an unsigned ping to NODE replying to $oid
	rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest "$1" --oid "$oid")" >/dev/null
}

counter() {	# NODE NAME: one of the node's stats counters
	PIDBOX_IDENTITY=alice PIDBOX_KEY_FILE=$T/alice.key ctl --json broadcast stats --reply -d "$1" --timeout 5 |
	    "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]]["counters"][sys.argv[2]])' "$1" "$2"
}

for node in open1 signed1; do
	attack "$node"
	if wait_for "[ \"\$(counter $node reply_foreign)\" -ge 1 ]" 5; then
		ok "${node}_foreign_member_counted"
	else
		fail "${node}_foreign_member_counted" "reply_foreign $(counter "$node" reply_foreign)"
	fi
	expect_eq "${node}_foreign_queue_not_pushed" "$(rcli LRANGE app:jobs 0 -1 | tr '\n' ' ')" "job-1 job-2 "
	expect_eq "${node}_foreign_queue_no_ttl" "$(rcli PTTL app:jobs)" -1
	expect_contains "${node}_foreign_member_logged" "$(pidboxd_log "$node")" "routing key only to queues other than"
done
expect_eq member_untouched "$(rcli SISMEMBER "$RSET" "$oid$SEP${SEP}app:jobs")" 1

# The canonical binding still gets its reply, and only it.
rcli SADD "$RSET" "$oid$SEP$SEP$oid.reply.pidbox.pidbox" >/dev/null
attack open1
if wait_for "[ \"\$(rcli LLEN $oid.reply.pidbox.pidbox)\" = 1 ]" 5; then
	ok canonical_reply_pushed
else
	fail canonical_reply_pushed "LLEN $(rcli LLEN "$oid.reply.pidbox.pidbox")"
fi
ttl=$(rcli PTTL "$oid.reply.pidbox.pidbox")
if [ "$ttl" -gt 0 ]; then ok canonical_reply_ttl; else fail canonical_reply_ttl "PTTL $ttl"; fi
expect_eq foreign_queue_still_untouched "$(rcli LLEN app:jobs) $(rcli PTTL app:jobs)" "2 -1"
rcli DEL "$oid.reply.pidbox.pidbox" >/dev/null
rcli SREM "$RSET" "$oid$SEP$SEP$oid.reply.pidbox.pidbox" >/dev/null

# 100,000 hostile members on one routing key: one request must do O(1)
# work in Redis (counted in commandstats, which include a script's calls)
# and create no key.
"$PY" - "$REDIS_SOCK" "$oid" <<'PYEOF'
import sys
import redis
r = redis.Redis(unix_socket_path=sys.argv[1])
sep = "\x06\x16"
p = r.pipeline(transaction=False)
for i in range(100000):
    p.sadd("_kombu.binding.reply.pidbox.pidbox",
           "%s%s%svictim:%d" % (sys.argv[2], sep, sep, i))
    if i % 5000 == 4999:
        p.execute()
p.execute()
PYEOF
nlog() {
	grep -c "routing key only to queues other than" "$T/pidboxd.open1.log"
}
before=$(nlog)
keys=$(rcli DBSIZE)
lpush=$(commandstat lpush)
pexpire=$(commandstat pexpire)
sscan=$(commandstat sscan)
attack open1
if wait_for "[ \"\$(nlog)\" -gt $before ]" 10; then
	ok flood_reply_refused
else
	fail flood_reply_refused "no log line for the refused reply"
fi
expect_eq flood_no_key_created "$(rcli DBSIZE)" "$keys"
expect_eq flood_no_lpush "$(commandstat lpush)" "$lpush"
expect_eq flood_no_pexpire "$(commandstat pexpire)" "$pexpire"
expect_eq flood_one_sscan_step "$(commandstat sscan)" "$((sscan + 1))"

# Real kombu and Celery clients use the canonical name: unchanged.
out=$(kombu_client pidbox fanout ping '{}' --destination open1 2>"$T/err")
expect_json kombu_client_answered "$out" '[{"open1": {"ok": "pong"}}]'
out=$(ctl ping -d open1 -t 2 2>&1)
expect_contains pidboxctl_answered "$out" "open1: OK"
finish
