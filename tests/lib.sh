# shellcheck shell=bash
# tests/lib.sh: sourced by every test script under tests/integration and
# tests/interop.  Gives each script a private tmpdir, a private redis-server,
# helpers to start pidboxd and the Python peers and to wait until they are
# ready, and the ok/FAIL vocabulary that tests/run counts.
#
# Every process a script starts through these helpers is killed by the EXIT
# trap; when a test failed, the logs are copied to $TEST_LOGDIR/<id>/ and
# their tails printed.  Never synchronise with sleep: use wait_for.

set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
export BUILD
TEST_PREFIX=${TEST_PREFIX:-}
TEST_LOGDIR=${TEST_LOGDIR:-$ROOT/tests/logs}
PY=/usr/bin/python3
INTEROP=$ROOT/tests/interop
# PEERS selects the kombu/Celery the Python peers run: empty for Debian's
# (kombu 5.2, Celery 5.2), kombu56 for the release sources of kombu 5.6 /
# Celery 5.6 in ../shared/peers, put first on PYTHONPATH (make check-peers;
# CI has them, a user's clone does not and never sets PEERS).
PEERS=${PEERS:-}
case $PEERS in
'') ;;
kombu56)
	PEERS_DIR=$(cd "$ROOT/.." && pwd)/shared/peers/kombu5.6-celery5.6
	if [ ! -d "$PEERS_DIR/kombu" ] || [ ! -d "$PEERS_DIR/celery" ]; then
		echo "FAIL $(basename "$(dirname "$0")")/$(basename "$0" .sh)/setup: PEERS=kombu56 but no kombu/celery in $PEERS_DIR"
		exit 1
	fi
	export PYTHONPATH=$PEERS_DIR${PYTHONPATH:+:$PYTHONPATH}
	;;
*)
	echo "FAIL $(basename "$(dirname "$0")")/$(basename "$0" .sh)/setup: unknown PEERS=$PEERS (kombu56 or empty)"
	exit 1
	;;
esac
TEST_ID=${TEST_ID:-$(basename "$(dirname "$0")")/$(basename "$0" .sh)}
SEP=$'\x06\x16'

# Valgrind makes every daemon start and reply several times slower.
TSCALE=1
case $TEST_PREFIX in
*valgrind*) TSCALE=5 ;;
esac

FAILED=0
PASSED=0
_PIDS=()
declare -A DPID=()	# pidboxd name -> pid
REDIS_PID=
REDIS_PORT=
REDIS_SOCK=
BROKER=

T=$(mktemp -d "${TMPDIR:-/tmp}/pidbox-test.XXXXXX") || {
	echo "FAIL $TEST_ID: mktemp -d failed"
	exit 1
}

# ---------------------------------------------------------------- verdicts

ok() {
	PASSED=$((PASSED + 1))
	echo "ok $TEST_ID/$1"
}

# fail NAME WHY: print the FAIL line and remember that the script failed.
fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s/%s: %s\n' "$TEST_ID" "$1" "$(printf '%s' "${2:-failed}" | tr '\n' ' ' | cut -c1-400)"
}

# check NAME CMD...: ok when CMD succeeds, FAIL otherwise.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "got '$2', want '$3'"
	fi
}

expect_ne() {
	if [ "$2" != "$3" ]; then ok "$1"; else fail "$1" "got '$2', want anything else"; fi
}

# expect_contains NAME HAYSTACK NEEDLE (fixed string)
expect_contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "'$3' not found in: $2" ;;
	esac
}

expect_not_contains() {
	case $2 in
	*"$3"*) fail "$1" "unexpected '$3' in: $2" ;;
	*) ok "$1" ;;
	esac
}

# expect_json NAME GOT WANT: equal as JSON values (key order ignored).
expect_json() {
	if json_eq "$2" "$3"; then ok "$1"; else fail "$1" "got '$2', want JSON '$3'"; fi
}

json_eq() {
	"$PY" -c 'import json, sys
sys.exit(0 if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# json_field JSON PATH...: the member at PATH (object keys, array
# indexes) of JSON, strings raw, anything else as JSON.
json_field() {
	"$PY" -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[k] if isinstance(v, dict) else v[int(k)]
print(v if isinstance(v, str) else json.dumps(v))' "$@"
}

# expect_faster NAME START_MS LIMIT_S: the time since START_MS is below
# LIMIT_S seconds (scaled under valgrind).
expect_faster() {
	local el lim
	el=$(($(now_ms) - $2))
	lim=$(($3 * 1000 * TSCALE))
	if [ "$el" -lt "$lim" ]; then
		ok "$1"
	else
		fail "$1" "took ${el} ms, limit ${lim} ms"
	fi
}

# ---------------------------------------------------------------- helpers

# expect_log NAME FILE REGEX [SECONDS]: ok once FILE has a line matching
# REGEX (grep basic regex) within SECONDS (default 10); FAIL with its tail.
expect_log() {
	if wait_for "grep -q $(printf '%q %q' "$3" "$2")" "${4:-10}"; then
		ok "$1"
	else
		fail "$1" "no '$3' in $2: $(tail -n 3 "$2" 2>/dev/null)"
	fi
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# wait_for 'shell condition' SECONDS: poll every 50 ms until the condition
# (evaluated in this shell, output discarded) holds; 1 on timeout.
wait_for() {
	local cond=$1 deadline
	deadline=$(($(now_ms) + ${2:-5} * 1000 * TSCALE))
	while :; do
		if eval "$cond" >/dev/null 2>&1; then
			return 0
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
}

alive() {
	kill -0 "$1" 2>/dev/null
}

_track() {
	_PIDS+=("$1")
}

# reap PID SECONDS: wait for PID to exit (after the caller signalled it),
# SIGKILL it after SECONDS; sets REAP_RC to its exit status, "timeout" if it
# had to be killed.
reap() {
	local pid=$1 rc
	if wait_for "! alive $pid" "${2:-10}"; then
		wait "$pid" 2>/dev/null
		rc=$?
		REAP_RC=$rc
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		REAP_RC=timeout
	fi
}

# need PROG...: the named binaries from $BUILD must exist, else the whole
# script cannot run, which is a failure.
need() {
	local p missing=
	for p in "$@"; do
		[ -x "$BUILD/$p" ] || missing="$missing $BUILD/$p"
	done
	if [ -n "$missing" ]; then
		fail setup "not built:$missing"
		exit 1
	fi
}

# need_cmd CMD: a program the script cannot run without (from
# tests/deps.sh); missing, the whole script is a failure.
need_cmd() {
	command -v "$1" >/dev/null || {
		fail setup "$1 not installed (run tests/deps.sh)"
		exit 1
	}
}

# ---------------------------------------------------------------- redis

rcli() {
	redis-cli -s "$REDIS_SOCK" "$@"
}

_redis_launch() {
	redis-server --port "$1" --bind 127.0.0.1 --unixsocket "$REDIS_SOCK" \
	    --unixsocketperm 700 --save '' --appendonly no --dir "$T" \
	    --logfile "$T/redis.log" --daemonize no --protected-mode no \
	    >/dev/null 2>&1 &
	REDIS_PID=$!
	_track "$REDIS_PID"
	if wait_for "alive $REDIS_PID && [ \"\$(rcli PING)\" = PONG ] || ! alive $REDIS_PID" 10 &&
	    alive "$REDIS_PID"; then
		return 0
	fi
	kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
	return 1
}

# start_redis: a private redis-server on a unix socket in the tmpdir and on a
# free loopback TCP port; exports REDIS_SOCK, REDIS_PORT and BROKER.
start_redis() {
	local try port
	command -v redis-server >/dev/null || {
		fail setup "redis-server not installed (run tests/deps.sh)"
		exit 1
	}
	REDIS_SOCK=$T/redis.sock
	for try in 1 2 3 4 5 6 7 8 9 10; do
		# below the kernel's ephemeral range (32768-60999 on Linux), so
		# that no outgoing connection holds the port we want to bind
		port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		# skip ports somebody already listens on
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		if _redis_launch "$port"; then
			REDIS_PORT=$port
			BROKER=redis://127.0.0.1:$REDIS_PORT/0
			export REDIS_SOCK REDIS_PORT BROKER
			return 0
		fi
		: "attempt $try failed"
	done
	fail setup "cannot start redis-server: $(tail -n 3 "$T/redis.log" 2>/dev/null)"
	exit 1
}

# failover MASTER_PID URL NODE: kill the Sentinel-watched master; ok when
# NODE answers a ping through URL again (within 30 s), printing how long
# that took.
failover() {
	local t0
	kill -KILL "$1"
	t0=$(now_ms)
	if wait_for "$(printf 'pidboxctl -b %q ping -d %q -t 0.5 2>/dev/null | grep -q %q' "$2" "$3" "$3: OK")" 30; then
		ok answers_after_failover
		echo "# recovered $(($(now_ms) - t0)) ms after the master was killed"
	else
		fail answers_after_failover "$(pidboxd_log "$3" | tail -n 5)"
	fi
}

# start_sentinels MASTER_PORT PORT...: a sentinel on each PORT (config
# $T/sentinelN.conf, log $T/sentinelN.log) monitoring mymaster at
# 127.0.0.1:MASTER_PORT, quorum 2, down after 1 s. The lines on stdin are
# added to each configuration with @PORT@ replaced by its port: the
# listening port ("port @PORT@", or TLS) and any passwords.
start_sentinels() {
	local mport=$1 extra i=0 p
	shift
	extra=$(cat)
	for p in "$@"; do
		i=$((i + 1))
		cat >"$T/sentinel$i.conf" <<EOC
bind 127.0.0.1
protected-mode no
dir $T
logfile $T/sentinel$i.log
sentinel monitor mymaster 127.0.0.1 $mport 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
${extra//@PORT@/$p}
EOC
		redis-server "$T/sentinel$i.conf" --sentinel >/dev/null 2>&1 &
		_track "$!"
	done
}

# sentinels_ready 'REPLICA-CLI' REPLICA_PORT SENTINEL_PORT: ok topology_up
# once the replica (asked with the command REPLICA-CLI) is linked to its
# master and the sentinel on SENTINEL_PORT (asked with the caller's
# "sent PORT ARGS...") knows the replica and the two other sentinels;
# else fail and finish.
sentinels_ready() {
	if wait_for "[ \"\$($1 INFO replication | tr -d '\r' | sed -n 's/^master_link_status://p')\" = up ]" 15 &&
	    wait_for "sent $3 SENTINEL replicas mymaster | grep -q $2 && [ \"\$(sent $3 SENTINEL sentinels mymaster | grep -c '^name\$')\" = 2 ]" 20; then
		ok topology_up
	else
		fail topology_up "replica/sentinels not ready: $(tail -n 3 "$T/sentinel1.log")"
		finish
	fi
}

# hmac_key FILE...: a fresh HMAC signing secret (32 random bytes, hex) in
# each FILE, mode 0600.
hmac_key() {
	local f
	for f in "$@"; do
		(umask 077 && head -c 32 /dev/urandom | od -An -tx1 |
		    tr -d ' \n' >"$f")
	done
}

# ---------------------------------------------------------------- TLS

# make_certs: a private PKI in $PKI (made with the openssl command): ca.pem
# (the CA), server.pem/key (127.0.0.1 and localhost), client.pem/key;
# other-ca.pem with other-server and other-client (not trusted by ca.pem);
# expired.pem/key (ca.pem's, expired yesterday). Keys are 0600.
make_certs() {
	PKI=$T/pki
	mkdir -p "$PKI" || return 1
	command -v openssl >/dev/null || {
		fail setup "openssl not installed (run tests/deps.sh)"
		exit 1
	}
	(
		cd "$PKI" || exit 1
		umask 077
		key() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"; }
		ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2"; }
		sign() {	# name ca days extfile
			openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days "$3" -extfile "$4"
		}
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		ca ca pidbox-test-ca && ca other-ca pidbox-other-ca &&
		    key server localhost && sign server ca 2 server.ext &&
		    key client pidbox-client && sign client ca 2 client.ext &&
		    key other-server localhost && sign other-server other-ca 2 server.ext &&
		    key other-client pidbox-client && sign other-client other-ca 2 client.ext &&
		    key expired localhost && sign expired ca -1 server.ext
	) >"$T/openssl.log" 2>&1 || {
		fail setup "openssl: $(tail -n 3 "$T/openssl.log")"
		exit 1
	}
	chmod 644 "$PKI"/*.pem
	export PKI
}

# redis_tls PORT NAME CERT [ARGS...]: a TLS-only redis-server (no plaintext
# TCP port) on PORT serving CERT (.pem/.key in $PKI), trusting ca.pem for
# client certificates; its plaintext unix socket $T/NAME.sock is for the
# test's own checks. Sets TLS_PID; 1 when it did not come up.
redis_tls() {
	local port=$1 name=$2 cert=$3
	shift 3
	redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 \
	    --tls-cert-file "$PKI/$cert.pem" --tls-key-file "$PKI/$cert.key" \
	    --tls-ca-cert-file "$PKI/ca.pem" --tls-auth-clients no \
	    --unixsocket "$T/$name.sock" --unixsocketperm 700 --save '' \
	    --appendonly no --dir "$T" --dbfilename "$name.rdb" \
	    --logfile "$T/$name.log" --daemonize no --protected-mode no \
	    "$@" >/dev/null 2>&1 &
	TLS_PID=$!
	_track "$TLS_PID"
	wait_for "[ \"\$(redis-cli -s '$T/$name.sock' PING)\" = PONG ] || ! alive $TLS_PID" 10 &&
	    alive "$TLS_PID"
}

# free_port: a loopback TCP port nobody listens on.
free_port() {
	local port
	while :; do
		port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
	done
	echo "$port"
}

# start_redis_tls [ARGS...]: the test's broker over TLS only, as
# start_redis (rcli, REDIS_SOCK and the helpers that use them work);
# BROKER is rediss://127.0.0.1:PORT/0 trusting $PKI/ca.pem.
start_redis_tls() {
	local try
	[ -n "${PKI:-}" ] || make_certs
	REDIS_SOCK=$T/redis.sock
	for try in 1 2 3 4 5; do
		REDIS_PORT=$(free_port)
		if redis_tls "$REDIS_PORT" redis server "$@"; then
			REDIS_PID=$TLS_PID
			BROKER="rediss://127.0.0.1:$REDIS_PORT/0?ssl_ca_certs=$PKI/ca.pem"
			export REDIS_SOCK REDIS_PORT BROKER
			return 0
		fi
		: "attempt $try failed"
	done
	fail setup "cannot start a TLS redis-server: $(tail -n 3 "$T/redis.log" 2>/dev/null)"
	exit 1
}

stop_redis() {
	[ -n "$REDIS_PID" ] || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null
	reap "$REDIS_PID" 10
	REDIS_PID=
}

# restart_redis: stop it and start an empty one on the same port.
restart_redis() {
	local try
	stop_redis
	for try in 1 2 3 4 5; do
		_redis_launch "$REDIS_PORT" && return 0
		: "attempt $try failed"
	done
	fail restart_redis "cannot restart redis-server on port $REDIS_PORT"
	exit 1
}

# Number of channel + pattern subscriptions held by all clients: grows when
# a node (pidboxd, kombu, Celery) has subscribed to its fanout channel,
# whether it used SUBSCRIBE or PSUBSCRIBE.
nsubs() {
	rcli CLIENT LIST | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^p?sub=/) { split($i, a, "="); n += a[2] } } END { print n + 0 }'
}

# node_member NAME NS: the binding member kombu writes for a node queue.
node_member() {
	printf '%s%s%s.%s.pidbox' "$SEP" "$SEP" "$1" "$2"
}

is_bound() {
	[ "$(rcli SISMEMBER "_kombu.binding.$2.pidbox" "$(node_member "$1" "$2")")" = 1 ]
}

# assert_no_reply_keys NAME [NS]: no reply list of any namespace and no
# member in the reply binding set of NS (default pidbox) is left in Redis.
assert_no_reply_keys() {
	local ns=${2:-pidbox} keys members
	keys=$(rcli --scan --pattern '*.reply.*' | tr '\n' ' ')
	members=$(rcli SMEMBERS "_kombu.binding.reply.$ns.pidbox" | grep -a . | cat -v | tr '\n' ' ')
	if [ -z "$keys" ] && [ "$(rcli SCARD "_kombu.binding.reply.$ns.pidbox")" = 0 ]; then
		ok "$1"
	else
		fail "$1" "left in redis: lists [$keys] members [$members]"
	fi
}

# commandstat CMD: how many times redis executed CMD so far.
commandstat() {
	rcli INFO commandstats | tr -d '\r' |
	    sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}

# ---------------------------------------------------------------- pidboxd

_pidboxd_ready() {	# pid name ns type subs-before
	alive "$1" && is_bound "$2" "$3" &&
	    { [ "$4" != fanout ] || [ "$(nsubs)" -gt "$5" ]; }
}

# start_pidboxd NAME [ARGS...]: run pidboxd -f in the background (log in
# $T/pidboxd.NAME.log) and wait until it is bound and, in fanout mode,
# subscribed.  Namespace and type are read from -N / -T in ARGS.
start_pidboxd() {
	local name=$1 ns=pidbox type=fanout prev="" a before pid log
	shift
	for a in "$@"; do
		case $prev in
		-N) ns=$a ;;
		-T) type=$a ;;
		esac
		prev=$a
	done
	need pidboxd
	log=$T/pidboxd.$name.log
	before=$(nsubs)
	# shellcheck disable=SC2086 # TEST_PREFIX is a word list
	$TEST_PREFIX "$BUILD/pidboxd" -f -n "$name" -b "$BROKER" "$@" >"$log" 2>&1 &
	pid=$!
	_track "$pid"
	DPID[$name]=$pid
	if wait_for "$(printf '_pidboxd_ready %q %q %q %q %q' "$pid" "$name" "$ns" "$type" "$before")" 10; then
		return 0
	fi
	if alive "$pid"; then
		fail "start_$name" "pidboxd $name not ready (bound + subscribed) within $((10 * TSCALE)) s: $(tail -n 5 "$log")"
	else
		wait "$pid"
		fail "start_$name" "pidboxd $name exited with status $?: $(tail -n 5 "$log")"
	fi
	return 1
}

# stop_pidboxd NAME: SIGTERM, wait for the exit; returns (and sets REAP_RC
# to) its exit status, 124 when it had to be killed.
stop_pidboxd() {
	local pid=${DPID[$1]:-}
	[ -n "$pid" ] || return 127
	kill -TERM "$pid" 2>/dev/null
	reap "$pid" 10
	unset "DPID[$1]"
	[ "$REAP_RC" = timeout ] && return 124
	return "$REAP_RC"
}

pidboxd_log() {
	cat "$T/pidboxd.$1.log" 2>/dev/null
}

# ctl ARGS...: pidboxctl against the private broker.
ctl() {
	# shellcheck disable=SC2086 # TEST_PREFIX is a word list
	$TEST_PREFIX "$BUILD/pidboxctl" -b "$BROKER" "$@"
}

# pidboxctl ARGS...: pidboxctl without -b.
pidboxctl() {
	# shellcheck disable=SC2086 # TEST_PREFIX is a word list
	$TEST_PREFIX "$BUILD/pidboxctl" "$@"
}

# "${SIGINT_DFL[@]}" CMD...: exec CMD with SIGINT at its default disposition
# (bash starts a script's background jobs with SIGINT ignored).
# shellcheck disable=SC2034 # used by the test scripts
SIGINT_DFL=("$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')

# "${CTL_CMD[@]}": pidboxctl with its TEST_PREFIX, for bg (which needs a
# command, not a function, so that BG_PID is the process itself).
read -ra CTL_CMD <<<"$TEST_PREFIX"
CTL_CMD+=("$BUILD/pidboxctl")

# bg NAME CMD...: start the external command CMD in the background with its output in
# $T/NAME.log; its pid in BG_PID.  Killed by the EXIT trap.
bg() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	BG_PID=$!
	_track "$BG_PID"
}

# ---------------------------------------------------------------- python peers

_peer_ready() {	# pid log name ns type subs-before
	alive "$1" && grep -q "$2" "$3" && is_bound "$4" "$5" &&
	    { [ "$6" != fanout ] || [ "$(nsubs)" -gt "$7" ]; }
}

_wait_peer() {	# what pid log-pattern log name ns type before
	if wait_for "$(printf '_peer_ready %q %q %q %q %q %q %q' "$2" "$3" "$4" "$5" "$6" "$7" "$8")" 20; then
		return 0
	fi
	fail "start_$5" "$1 $5 not ready within $((20 * TSCALE)) s: $(tail -n 5 "$4")"
	return 1
}

# start_kombu_node NAME NS TYPE: a real kombu.pidbox Node (kombu_node.py).
start_kombu_node() {
	local before log=$T/kombu_node.$1.log
	before=$(nsubs)
	"$PY" "$INTEROP/kombu_node.py" "$BROKER" "$2" "$3" "$1" >"$log" 2>&1 &
	_track "$!"
	_wait_peer "kombu node" "$!" '^READY' "$log" "$1" "$2" "$3" "$before"
}

kombu_node_log() {
	cat "$T/kombu_node.$1.log" 2>/dev/null
}

# kombu_client NS TYPE METHOD JSON-ARGS [OPTIONS]: a real kombu Mailbox call;
# prints the reply list as JSON.
kombu_client() {
	"$PY" "$INTEROP/kombu_client.py" "$BROKER" "$@"
}

# PYTHONPATH for the Celery CLI and workers: the app, then the peers.
CELERY_PATH=$INTEROP${PYTHONPATH:+:$PYTHONPATH}

# peer_version MODULE: the version of kombu or celery the peers run.
peer_version() {
	"$PY" -c 'import importlib, sys
print(importlib.import_module(sys.argv[1]).__version__)' "$1"
}

# celery ARGS...: the real Celery CLI with tests/interop/celery_app.py.
celery() {
	PYTHONPATH=$CELERY_PATH "$PY" -m celery -A celery_app "$@"
}

# start_celery_worker NAME: a real Celery worker (solo pool), namespace celery.
start_celery_worker() {
	local before log=$T/celery.$1.log
	before=$(nsubs)
	PYTHONPATH=$CELERY_PATH "$PY" -m celery -A celery_app worker --pool=solo \
	    -n "$1" --loglevel=INFO --without-gossip --without-heartbeat \
	    >"$log" 2>&1 &
	_track "$!"
	_wait_peer "celery worker" "$!" ' ready\.' "$log" "$1" celery fanout "$before"
}

# mkmsg ARGS...: build a pidbox envelope (tests/interop/pidbox_msg.py).
mkmsg() {
	"$PY" "$INTEROP/pidbox_msg.py" request "$@"
}

# decode_msgs: decode envelopes (one per line on stdin) to
# {"headers": ..., "body": ...} lines.
decode_msgs() {
	"$PY" "$INTEROP/pidbox_msg.py" decode
}

# ---------------------------------------------------------------- the end

# finish: stop every pidboxd still running, check it exits 0 on SIGTERM (under
# ASan/valgrind this is where leaks show), and exit with the verdict.
finish() {
	local name bad=
	for name in "${!DPID[@]}"; do
		stop_pidboxd "$name"
		[ "$REAP_RC" = 0 ] || bad="$bad $name:$REAP_RC"
	done
	if [ -n "$bad" ]; then
		fail clean_exit "pidboxd exit status on SIGTERM (want 0):$bad"
	else
		ok clean_exit
	fi
	exit 0
}

_cleanup() {
	local rc=$? pid f dest
	trap - EXIT INT TERM HUP
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_PIDS[@]}"; do
		alive "$pid" && reap "$pid" 5
	done
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		dest=$TEST_LOGDIR/$TEST_ID
		for f in "$T"/*.log; do
			[ -s "$f" ] || continue
			mkdir -p "$dest"
			cp "$f" "$dest/"
			echo "# --- tail of $(basename "$f") (kept in $dest)"
			case $f in
			*/redis.log) tail -n 3 "$f" ;;
			*) tail -n 15 "$f" ;;
			esac | cut -c1-300 | sed 's/^/# /'
		done
	fi
	rm -rf "$T"
	[ "$FAILED" -gt 0 ] && exit 1
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
