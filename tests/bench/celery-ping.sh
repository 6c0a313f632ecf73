#!/usr/bin/env bash
# Issue 3 measurement: wall time of `pidboxctl -N celery ping` against two
# live Celery 5.2 workers (--pool=solo) beside `celery inspect ping` (the
# real CLI, -A tests/interop/celery_app.py), N runs each, in one run.
#
#   BUILD=build tests/bench/celery-ping.sh [N]      (default N=20)
#
# Prints min / median / max in milliseconds for both.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxctl
N=${1:-20}
start_redis
start_celery_worker w1@bench || exit 1
start_celery_worker w2@bench || exit 1

# run NAME CMD...: N runs of CMD; each must print both workers.
run() {
	local name=$1 i s o
	shift
	: >"$T/$name.ms"
	for ((i = 0; i < N; i++)); do
		s=${EPOCHREALTIME/./}
		o=$("$@" 2>&1)
		echo $(((${EPOCHREALTIME/./} - s) / 1000)) >>"$T/$name.ms"
		case $o in
		*'2 nodes online.'*) ;;
		*) fail "$name" "run $i: $o" ;;
		esac
	done
	sort -n "$T/$name.ms" | awk -v name="$name" -v n="$N" \
	    '{ a[NR] = $1 } END { printf "%-24s runs %d  min %d ms  median %d ms  max %d ms\n", name, n, a[1], (n % 2) ? a[(n + 1) / 2] : int((a[n / 2] + a[n / 2 + 1]) / 2), a[n] }'
}

run pidboxctl_ping "$BUILD/pidboxctl" -b "$BROKER" -N celery ping
run celery_inspect_ping celery inspect ping
ok bench
exit 0
