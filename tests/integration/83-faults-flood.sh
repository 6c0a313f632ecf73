#!/usr/bin/env bash
# Regress for issue 5: a flood of garbage on the mailbox (invalid JSON, bad
# base64, pickle, bodies over the cap, deep nesting, wrong types, unknown
# methods, expired requests) interleaved with valid requests: every valid
# request is answered, the garbage is counted, the log is rate-limited
# and the daemon's memory stays flat.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
printf 'max_message_size: 16384\n' >"$T/pidboxd.yaml"
# Under AddressSanitizer freed memory sits in a 256 MB quarantine, which
# would read as growth: measure this daemon without it (no-op otherwise).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
start_pidboxd node1 -c "$T/pidboxd.yaml" || exit 1
pid=${DPID[node1]}
oid=$("$PY" -c 'import uuid; print(uuid.uuid4())')
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
chan=/0.pidbox.pidbox

# warm up (allocator pools, json-c), then measure
"$PY" "$(dirname "$0")/flood.py" "$REDIS_SOCK" "$chan" pidbox 5000 10 "$oid" >/dev/null
wait_for "[ \$(rcli LLEN $oid.reply.pidbox.pidbox) -ge 10 ]" 10
rcli DEL "$oid.reply.pidbox.pidbox" >/dev/null
before=$(rss)
logsize0=$(stat -c %s "$T/pidboxd.node1.log")
t0=$(now_ms)
# valgrind runs the daemon ~50x slower: a tenth of the flood there
nbad=50000 ngood=200
[ "$TSCALE" -gt 1 ] && nbad=5000 ngood=50
good=$("$PY" "$(dirname "$0")/flood.py" "$REDIS_SOCK" "$chan" pidbox $nbad $ngood "$oid")
if wait_for "[ \$(rcli LLEN $oid.reply.pidbox.pidbox) -ge $good ]" 60; then
	ok all_valid_answered
else
	fail all_valid_answered "$(rcli LLEN "$oid.reply.pidbox.pidbox") of $good replies"
fi
echo "# $nbad bad + $good good messages handled in $(($(now_ms) - t0)) ms"
out=$(ctl ping -d node1 -t 2 2>&1)
expect_contains still_answers "$out" '->  node1: OK'
after=$(rss)
echo "# VmRSS before ${before} kB, after ${after} kB"
if [ "$after" -le $((before + 2048)) ]; then
	ok rss_flat
else
	fail rss_flat "VmRSS grew from ${before} kB to ${after} kB"
fi
logsize=$(($(stat -c %s "$T/pidboxd.node1.log") - logsize0))
echo "# log grew by $logsize bytes for $nbad bad messages"
if [ "$logsize" -lt 200000 ]; then
	ok log_rate_limited
else
	fail log_rate_limited "log grew by $logsize bytes"
fi
# suppressed counts are flushed every 5 s
if wait_for "pidboxd_log node1 | grep -q 'similar messages suppressed'" 8; then
	ok suppressed_reported
else
	fail suppressed_reported "no 'similar messages suppressed' line in the log"
fi
stats=$(ctl -j stats -d node1 -t 2 2>&1)
counts=$("$PY" -c 'import json, sys
d = json.loads(sys.argv[1])
d = d[0] if isinstance(d, list) else d
s = list(d.values())[0]
c = s.get("counters", s)
print(c.get("malformed", 0), c.get("expired", 0), c.get("errors", 0))' "$stats" 2>&1)
read -r malformed expired errors <<<"$counts"
echo "# counters: malformed $malformed expired $expired errors $errors"
if [ "${malformed:-0}" -ge $((nbad * 4 / 5)) ] && [ "${expired:-0}" -ge $((nbad * 2 / 25)) ] &&
    [ "${errors:-0}" -ge $((nbad * 2 / 25)) ]; then
	ok garbage_counted
else
	fail garbage_counted "counters: $counts (stats: $stats)"
fi
alive "$pid"
expect_eq same_process "$?" 0
finish
