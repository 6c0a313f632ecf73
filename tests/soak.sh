#!/usr/bin/env bash
# Soak (issue 5): one pidboxd under valgrind memcheck takes a steady stream
# of mixed garbage and valid requests for SOAK_SECONDS (default 180).
# A second, native pidboxd on the same mailbox takes the same stream, for
# an RSS that valgrind's own bookkeeping does not blur. Passes when every
# valid request was answered by both, both still answer ping, valgrind
# reports no error and no leak at exit (exit 0 from --error-exitcode=99),
# and the native node's RSS did not grow (by more than 128 KiB, allocator
# noise) between the fifth and the last round. Not part of `make check` (it takes minutes):
# run it with `make soak`.
# shellcheck source-path=SCRIPTDIR source=lib.sh
TEST_PREFIX=${TEST_PREFIX:-valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect}
. "$(dirname "$0")/lib.sh"
need pidboxd pidboxctl
command -v valgrind >/dev/null || { fail setup "valgrind not installed"; finish; }
secs=${SOAK_SECONDS:-180}
start_redis
printf 'max_message_size: 16384\n' >"$T/pidboxd.yaml"
start_pidboxd soak1 -c "$T/pidboxd.yaml" -b "$BROKER?health_check_interval=5" || exit 1
vgprefix=$TEST_PREFIX
TEST_PREFIX=
start_pidboxd soak2 -c "$T/pidboxd.yaml" -b "$BROKER?health_check_interval=5" || exit 1
TEST_PREFIX=$vgprefix
pid=${DPID[soak2]}
oid=$("$PY" -c 'import uuid; print(uuid.uuid4())')
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
flood="$(dirname "$0")/integration/flood.py"
chan=/0.pidbox.pidbox

t_end=$((SECONDS + secs))
rounds=0 sent=0 bad=0 missing=0 first='' last=''
while [ "$SECONDS" -lt "$t_end" ]; do
	good=$("$PY" "$flood" "$REDIS_SOCK" "$chan" pidbox 2000 20 "$oid")
	# two nodes answer every valid request
	if ! wait_for "[ \$(rcli LLEN $oid.reply.pidbox.pidbox) -ge $((2 * good)) ]" 120; then
		missing=$((missing + 2 * good - $(rcli LLEN "$oid.reply.pidbox.pidbox")))
	fi
	rcli DEL "$oid.reply.pidbox.pidbox" >/dev/null
	rounds=$((rounds + 1))
	sent=$((sent + good))
	bad=$((bad + 2000))
	# the first rounds warm up allocator pools and caches
	[ "$rounds" -eq 5 ] && first=$(rss)
	last=$(rss)
done
echo "# $rounds rounds in $secs s: $bad bad and $sent valid requests"
echo "# native node VmRSS after round 5: ${first:-?} kB, at the end: $last kB"
expect_eq all_valid_answered "$missing" 0
if [ "$rounds" -ge 10 ] && [ "$last" -le $((first + 128)) ]; then
	ok rss_flat
else
	fail rss_flat "rounds $rounds, VmRSS ${first:-?} -> $last kB"
fi
out=$(ctl ping -d soak1,soak2 -t 5 2>&1)
expect_contains still_answers "$out" '->  soak1: OK'
expect_contains still_answers_native "$out" '->  soak2: OK'
stop_pidboxd soak1
rc=$?
expect_eq valgrind_clean_exit "$rc" 0
stop_pidboxd soak2
expect_eq native_clean_exit "$?" 0
grep -E '==[0-9]+==' "$T/pidboxd.soak1.log" | head -20
finish
