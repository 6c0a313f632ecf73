#!/usr/bin/env bash
# tests/demo.sh run|demo: try pidbox by hand (make run / make demo).
#
#   run   start pidboxd -f named after this host, ping it, then keep it in the
#         foreground (its log on the terminal) until Ctrl-C.
#   demo  start three nodes host-a, host-b, host-c, run a few sample
#         pidboxctl commands and exit.
#
# Uses the redis at $BROKER (default redis://localhost:6379/0) if one answers,
# else starts a private redis-server on 6379 (or a free port) in the
# background.  Builds nothing (make did); stops everything it started.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
mode=${1:-run}
case $mode in
run | demo) ;;
*)
	echo "usage: $0 run|demo" >&2
	exit 64
	;;
esac

for c in redis-server redis-cli; do
	command -v "$c" >/dev/null || { tests/deps.sh || exit 1; break; }
done
for b in pidboxd pidboxctl; do
	[ -x "$BUILD/$b" ] || {
		echo "demo: $BUILD/$b is not built; run make" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidbox-demo.XXXXXX") || exit 1
pids=()
cleanup() {
	local i
	trap - EXIT INT TERM
	# newest first: the nodes, then the redis-server they use
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null
		wait "${pids[i]}" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; exit 0' INT
trap 'exit 143' TERM

# until SECONDS CMD...: retry CMD every 100 ms for up to SECONDS.
until_ok() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

pong() {
	[ "$(redis-cli -u "$BROKER" PING 2>/dev/null)" = PONG ]
}

BROKER=${BROKER:-redis://localhost:6379/0}
if pong; then
	echo "demo: using the redis at $BROKER"
else
	port=6379
	if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
		port=$((20000 + RANDOM % 20000))
	fi
	# own session: Ctrl-C must not stop redis before the nodes
	setsid redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	    --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
	pids+=($!)
	BROKER=redis://127.0.0.1:$port/0
	until_ok 10 pong || {
		echo "demo: redis-server did not start: $(tail -n 3 "$tmp/redis.log")" >&2
		exit 1
	}
	echo "demo: started a private redis-server at $BROKER (stopped on exit)"
fi

ctl() {
	printf '$ pidboxctl'
	printf ' %q' "$@"
	echo
	"$BUILD/pidboxctl" -b "$BROKER" "$@"
	echo "(exit $?)"
	echo
}

bound() {
	[ "$(redis-cli -u "$BROKER" SISMEMBER _kombu.binding.pidbox.pidbox \
	    "$(printf '\006\026\006\026%s.pidbox.pidbox' "$1")")" = 1 ]
}

# node NAME [LOGFILE]: start pidboxd -f NAME, wait until it answers a ping.
node() {
	local log=${2:-$tmp/pidboxd.$1.log}
	if [ "$log" = - ]; then
		"$BUILD/pidboxd" -f -n "$1" -b "$BROKER" &
	else
		"$BUILD/pidboxd" -f -n "$1" -b "$BROKER" 2>"$log" &
	fi
	pids+=($!)
	if ! until_ok 10 bound "$1" ||
	    ! until_ok 10 "$BUILD/pidboxctl" -b "$BROKER" ping -d "$1"; then
		echo "demo: pidboxd $1 is not answering" >&2
		[ "$log" = - ] || tail -n 5 "$log" >&2
		exit 1
	fi
}

if [ "$mode" = run ]; then
	host=$(uname -n)
	node "$host" -
	ctl ping
	echo "demo: pidboxd $host is running in the foreground; Ctrl-C stops it"
	wait "${pids[-1]}"
	exit $?
fi

for n in host-a host-b host-c; do
	node "$n"
done
echo "demo: nodes host-a, host-b, host-c are up"
echo
ctl ping
ctl ping -d host-b
ctl ping --pattern 'host-[ab]' --matcher glob
ctl ping --pattern 'host-c' --matcher pcre
ctl broadcast print_msg msg='hello from pidboxctl' --reply
ctl --json ping
echo "demo: what host-a logged:"
sed 's/^/    /' "$tmp/pidboxd.host-a.log"
