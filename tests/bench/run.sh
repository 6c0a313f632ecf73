#!/usr/bin/env bash
# tests/bench/run.sh: `make bench` (issue 6). pidboxd/pidboxctl side by side
# with real kombu 5.2 / Celery 5.2 (/usr/bin/python3) and a C + hiredis
# floor, on a private redis-server. Each workload runs REPS times
# interleaved (ours, anchor, floor, ours, ...); the table reports medians.
#
#   BUILD=build-bench tests/bench/run.sh      (make bench builds and runs it)
#   BENCH_QUICK=1   ~1 minute instead of a few
#   BENCH_OUT=dir   where results.csv, collect.png, callgrind.* go
#                   (default $BUILD/out, ignored by git)
#   BENCH_FLEET="1 100 1000 5000 9000"  sizes of the simulated fleet
#   BENCH_ONLY=fleet  only the simulated fleet
#
# Every process it starts is stopped by pid from the EXIT trap.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build-bench}
OUT=${BENCH_OUT:-$BUILD/out}
QUICK=${BENCH_QUICK:-0}
PY=/usr/bin/python3
LG=$BUILD/loadgen
PIDBOXD=$BUILD/pidboxd
CTL=$BUILD/pidboxctl

if [ "$QUICK" = 1 ]; then
	REPS=2 RT_DUR=0.5 EXEC_CTL=10 EXEC_KOMBU=2 EXEC_CELERY=1
	CG_N=3000 C_OURS=10 C_KOMBU=4 RSS_N=50000 EXEC_TRUE=10
	FLEET_SIZES="100 1000" F_EXEC=3 F_KOMBU=2
else
	REPS=3 RT_DUR=1.5 EXEC_CTL=30 EXEC_KOMBU=5 EXEC_CELERY=3
	CG_N=20000 C_OURS=30 C_KOMBU=10 RSS_N=1000000 EXEC_TRUE=30
	FLEET_SIZES="1 100 1000 5000 9000" F_EXEC=5 F_KOMBU=3
fi
FLEET_SIZES=${BENCH_FLEET:-$FLEET_SIZES}
SIZES="10 50 100"

for f in "$LG" "$PIDBOXD" "$CTL"; do
	[ -x "$f" ] || { echo "bench: $f not built (run make bench)" >&2; exit 1; }
done
for m in kombu celery; do
	"$PY" -c "import $m" 2>/dev/null || {
		echo "bench: $PY cannot import $m (apt-get install python3-$m)" >&2
		exit 1
	}
done
if ! command -v gnuplot >/dev/null; then
	echo "bench: installing gnuplot-nox for the chart" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq gnuplot-nox; } >/dev/null 2>&1 ||
	    echo "bench: gnuplot-nox not installed, no chart" >&2
fi

mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/pidbox-bench.XXXXXX") || exit 1
PIDS=()
STOPPED=()

cleanup() {
	local p
	for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'bench: %s\n' "$*" >&2; }
# kv KEY LINE: the value of key=value in a loadgen output line
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
median() { printf '%s\n' "$@" | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# stop_pids PID...: SIGTERM and wait (they are our children)
stop_pids() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

# ---------------------------------------------------------------- redis
# The simulated fleet holds one connection per node (9,000 and more).
NOFILE=$(ulimit -Hn)
[ "$NOFILE" = unlimited ] && NOFILE=65536
[ "$NOFILE" -gt 65536 ] && NOFILE=65536
ulimit -n "$NOFILE" 2>/dev/null
PORT=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	p=$((20000 + RANDOM % 30000))
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
	redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
	    --dir "$T" --logfile "$T/redis.log" --daemonize no \
	    --protected-mode no --maxclients $((NOFILE - 64)) >/dev/null 2>&1 &
	RPID=$!
	PIDS+=("$RPID")
	for _ in $(seq 50); do
		[ "$(redis-cli -p "$p" PING 2>/dev/null)" = PONG ] && break
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$(redis-cli -p "$p" PING 2>/dev/null)" = PONG ]; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || { log "cannot start redis-server"; exit 1; }
BROKER=redis://127.0.0.1:$PORT/0
export BROKER

# wait_fleet NS N SECS: a broadcast ping gets N replies (the fleet is up)
wait_fleet() {
	local i
	for i in $(seq "$3"); do
		"$LG" collect -p "$PORT" -N "$1" -e "$2" -r 1 -w 0 -t 1 \
		    >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	log "fleet $1 of $2 not ready"
	return 1
}

# start_ours NS NAME: one pidboxd; its pid in LASTPID
start_ours() {
	"$PIDBOXD" -f -n "$2" -b "$BROKER" -N "$1" >"$T/pidboxd.$2.log" 2>&1 &
	LASTPID=$!
	PIDS+=("$LASTPID")
}
start_floor() {
	"$LG" floor -p "$PORT" -N "$1" -n "$2" >"$T/floor.$2.log" 2>&1 &
	LASTPID=$!
	PIDS+=("$LASTPID")
}
# start_kombu NS N PREFIX: kombu fleet; parent in LASTPID, children in KIDS
start_kombu() {
	local f=$T/kombu.$1.out
	"$PY" tests/bench/kombu_fleet.py "$BROKER" "$1" "$2" "$3" >"$f" 2>"$T/kombu.$1.err" &
	LASTPID=$!
	PIDS+=("$LASTPID")
	for _ in $(seq 300); do grep -q READY "$f" && break; sleep 0.1; done
	mapfile -t KIDS < <(awk '$1 == "PID" { print $2 }' "$f")
}

CSV=$OUT/results.csv
echo "figure,unit,ours,anchor,anchor_name,floor,target,held" >"$CSV"
ROWS=()
# row FIGURE UNIT OURS ANCHOR ANCHOR_NAME FLOOR TARGET HELD
row() {
	local ratio=""
	if [ -n "$3" ] && [ -n "$4" ]; then
		ratio=$(awk -v o="$3" -v a="$4" -v u="$2" 'BEGIN {
		    if (o == 0 || a == 0) { print ""; exit }
		    # "lower is better" except for rates
		    r = (u == "rt/s") ? o / a : a / o
		    printf "%.1fx", r }')
	fi
	echo "\"$1\",$2,$3,$4,\"$5\",$6,\"$7\",$8" >>"$CSV"
	ROWS+=("$1|$2|$3|$4 ($5)|$ratio|$6|$7|$8")
}
held() { awk "BEGIN { exit !($1) }" && echo held || echo MISSED; }

log "redis-server on port $PORT, output in $OUT ($( [ "$QUICK" = 1 ] && echo quick || echo full) run)"

# BENCH_ONLY=fleet: only the simulated fleet (issue 17)
if [ "${BENCH_ONLY:-}" != fleet ]; then
# ---------------------------------------------------------------- 1 node
start_ours bench n1
OURS1=$LASTPID
start_kombu kbench 1 k
KOMBU1_PARENT=$LASTPID
KOMBU1=${KIDS[0]}
start_floor fbench f1
FLOOR1=$LASTPID
wait_fleet bench 1 100 && wait_fleet kbench 1 100 && wait_fleet fbench 1 100 || exit 1
sleep 1
RSS_OURS=$(rss_kib "$OURS1")
PSS_OURS=$(pss_kib "$OURS1")
RSS_KOMBU=$(rss_kib "$KOMBU1")
ANON_OURS=$(anon_kib "$OURS1")
ANON_KOMBU=$(anon_kib "$KOMBU1")
log "idle RSS: pidboxd $RSS_OURS KiB, kombu node $RSS_KOMBU KiB"

declare -A RT P50 CPU_T CPU_N CPU64_T CPU64_N
for rep in $(seq "$REPS"); do
	for k in 1 8 64; do
		for who in ours kombu floor; do
			case $who in
			ours) ns=bench pid=$OURS1 ;;
			kombu) ns=kbench pid=$KOMBU1 ;;
			floor) ns=fbench pid=$FLOOR1 ;;
			esac
			c0=$(cpu_ticks "$pid")
			out=$("$LG" rt -p "$PORT" -N "$ns" -k "$k" -d "$RT_DUR" -w 200) ||
			    { log "rt $who k=$k failed"; continue; }
			c1=$(cpu_ticks "$pid")
			log "rep $rep $who $out"
			RT[$who.$k]+=" $(kv rps "$out")"
			[ "$k" = 1 ] && P50[$who]+=" $(kv p50_us "$out")"
			if [ "$k" != 1 ]; then
				CPU_T[$who]=$(( ${CPU_T[$who]:-0} + c1 - c0 ))
				CPU_N[$who]=$(( ${CPU_N[$who]:-0} + $(kv n "$out") + 200 ))
			fi
			if [ "$k" = 64 ]; then
				CPU64_T[$who]=$(( ${CPU64_T[$who]:-0} + c1 - c0 ))
				CPU64_N[$who]=$(( ${CPU64_N[$who]:-0} + $(kv n "$out") + 200 ))
			fi
		done
	done
done

o=$(median ${P50[ours]}) a=$(median ${P50[kombu]}) f=$(median ${P50[floor]})
row "ping round trip p50, 1 node, warm client" us "$o" "$a" "kombu Node" "$f" "<= 250 us" "$(held "$o <= 250")"
for k in 1 8 64; do
	case $k in 1) tg=5000 ;; 8) tg=15000 ;; 64) tg=50000 ;; esac
	o=$(median ${RT[ours.$k]}) a=$(median ${RT[kombu.$k]}) f=$(median ${RT[floor.$k]})
	row "node round trips/s, $k in flight" rt/s "$o" "$a" "kombu Node" "$f" ">= $tg" "$(held "$o >= $tg")"
done
# issue 17: the same figure as a ratio to a kombu Node
row "node round trips/s, 64 in flight, vs a kombu Node" rt/s "$o" "$a" "kombu Node" "$f" ">= 20x kombu" \
    "$(held "$a > 0 && $o / $a >= 20")"
HZ=$(getconf CLK_TCK)
cpu_us() { awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n }'; }
o=$(cpu_us "${CPU_T[ours]:-0}" "${CPU_N[ours]:-0}")
a=$(cpu_us "${CPU_T[kombu]:-0}" "${CPU_N[kombu]:-0}")
f=$(cpu_us "${CPU_T[floor]:-0}" "${CPU_N[floor]:-0}")
row "node CPU per request (user+sys, /proc, 8+64 in flight)" us "$o" "$a" "kombu Node" "$f" "<= 20 us" "$(held "$o <= 20")"
o=$(cpu_us "${CPU64_T[ours]:-0}" "${CPU64_N[ours]:-0}")
a=$(cpu_us "${CPU64_T[kombu]:-0}" "${CPU64_N[kombu]:-0}")
f=$(cpu_us "${CPU64_T[floor]:-0}" "${CPU64_N[floor]:-0}")
row "node CPU per request, 64 in flight (vs the C responder)" us "$o" "$a" "kombu Node" "$f" "<= 3x floor" \
    "$(held "$f > 0 && $o <= 3 * $f")"

# ---------------------------------------------------------------- whole process
log "starting a Celery worker (solo pool)"
(cd tests/interop && exec "$PY" -m celery -A celery_app worker --pool=solo \
    -n w1@bench -l warning) >"$T/celery.log" 2>&1 &
CELERY=$!
PIDS+=("$CELERY")
CELERY_CMD=(env PYTHONPATH="$ROOT/tests/interop" "$PY" -m celery -A celery_app inspect ping --timeout 1)
for _ in $(seq 30); do
	(cd tests/interop && "$PY" -m celery -A celery_app inspect ping -d w1@bench --timeout 1) \
	    >/dev/null 2>&1 && break
done
sleep 1
RSS_CELERY=$(rss_kib "$CELERY")
declare -A EX
for rep in $(seq "$REPS"); do
	out=$("$LG" exec -r "$EXEC_CTL" -- "$CTL" -b "$BROKER" -N bench ping) && EX[ours]+=" $(kv p50_ms "$out")"
	log "rep $rep pidboxctl ping: $out"
	out=$("$LG" exec -r "$EXEC_TRUE" -- /bin/true) && EX[true]+=" $(kv p50_ms "$out")"
	log "rep $rep /bin/true: $out"
	out=$("$LG" exec -r "$EXEC_KOMBU" -- "$PY" tests/interop/kombu_client.py "$BROKER" kbench fanout ping --limit 1) &&
	    EX[kombu]+=" $(kv p50_ms "$out")"
	log "rep $rep kombu client limit=1: $out"
	out=$(cd tests/interop && "$ROOT/$LG" exec -r "$EXEC_CELERY" -- "${CELERY_CMD[@]}") &&
	    EX[celery]+=" $(kv p50_ms "$out")"
	log "rep $rep celery inspect ping --timeout 1: $out"
done
stop_pids "$CELERY"
o=$(median ${EX[ours]}) a=$(median ${EX[celery]}) k=$(median ${EX[kombu]})
row "pidboxctl ping whole process, 1 node" ms "$o" "$a" "celery inspect ping --timeout 1" "" "<= 5 ms and >= 250x Celery" \
    "$(held "$o <= 5 && $a / $o >= 250")"
row "pidboxctl ping whole process, 1 node" ms "$o" "$k" "kombu client limit=1" "" ">= 25x kombu" "$(held "$k / $o >= 25")"
t=$(median ${EX[true]})
row "pidboxctl ping whole process, vs /bin/true" ms "$o" "$t" "/bin/true" "" "<= 2.0x /bin/true" "$(held "$t > 0 && $o <= 2.0 * $t")"

# ---------------------------------------------------------------- RSS
row "idle RSS of a node" MiB "$(awk -v k="$RSS_OURS" 'BEGIN { printf "%.2f", k / 1024 }')" \
    "$(awk -v k="$RSS_KOMBU" 'BEGIN { printf "%.2f", k / 1024 }')" "kombu Node" "" "<= 2 MiB" "$(held "$RSS_OURS <= 2048")"
row "idle PSS of a node (smaps_rollup)" MiB "$(awk -v k="$PSS_OURS" 'BEGIN { printf "%.2f", k / 1024 }')" \
    "" "" "" "<= 1 MiB" "$(held "$PSS_OURS <= 1024")"
row "idle private memory (RssAnon) of a node" MiB "$(awk -v k="$ANON_OURS" 'BEGIN { printf "%.2f", k / 1024 }')" \
    "$(awk -v k="$ANON_KOMBU" 'BEGIN { printf "%.2f", k / 1024 }')" "kombu Node" "" "(VmRSS less shared libs)" ""
row "idle RSS of a Celery worker (for reference)" MiB "" "$(awk -v k="$RSS_CELERY" 'BEGIN { printf "%.2f", k / 1024 }')" \
    "celery worker --pool=solo" "" "" ""
# pidboxd gives its free heap pages back 5-10 s after a burst ends
# (malloc_trim at its 5 s tick): both readings are taken idle
sleep 11
r0=$(rss_kib "$OURS1") p0=$(pss_kib "$OURS1")
out=$("$LG" rt -p "$PORT" -N bench -k 64 -c "$RSS_N" -w 0)
sleep 11
r1=$(rss_kib "$OURS1") p1=$(pss_kib "$OURS1")
log "RSS growth over $RSS_N requests: $r0 -> $r1 KiB, PSS $p0 -> $p1 KiB ($out)"
row "RSS growth of a node over $RSS_N requests (after warm-up)" KiB "$((r1 - r0))" "" "" "" "0 (<= 64 KiB noise)" \
    "$(held "$r1 - $r0 <= 64")"
row "PSS of a node after $RSS_N requests (idle again)" MiB "$(awk -v k="$p1" 'BEGIN { printf "%.2f", k / 1024 }')" \
    "" "" "" "<= 1 MiB, flat" "$(held "$p1 <= 1024 && $p1 - $p0 <= 64")"
stop_pids "$OURS1" "$KOMBU1_PARENT" "$FLOOR1"

# ---------------------------------------------------------------- callgrind
if command -v valgrind >/dev/null; then
	cg_run() {	# OUTFILE NREQ: pidboxd under callgrind; prints total Ir
		valgrind --tool=callgrind --callgrind-out-file="$1" \
		    "$PIDBOXD" -f -n cg -b "$BROKER" -N cgbench >"$T/cg.log" 2>&1 &
		local pid=$!
		PIDS+=("$pid")
		wait_fleet cgbench 1 150 || return 1
		if [ "$2" -gt 0 ]; then
			"$LG" rt -p "$PORT" -N cgbench -k 8 -c "$2" -w 100 >"$T/cg.rt" || return 1
		fi
		stop_pids "$pid"
		awk '/^(summary|totals):/ { print $2; exit }' "$1"
	}
	log "callgrind: pidboxd idle, then over $CG_N requests"
	ir0=$(cg_run "$OUT/callgrind.idle" 0)
	ir1=$(cg_run "$OUT/callgrind.out" "$CG_N")
	ipr=$(awk -v a="$ir0" -v b="$ir1" -v n="$((CG_N + 100))" 'BEGIN { if (b > a) printf "%.0f", (b - a) / n }')
	callgrind_annotate --inclusive=no "$OUT/callgrind.out" 2>/dev/null | head -60 >"$OUT/callgrind.self.txt"
	callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | head -60 >"$OUT/callgrind.incl.txt"
	row "node instructions per request (callgrind, 8 in flight)" Ir "$ipr" "" "" "" "report (kombu: ~2.2M)" ""
fi

# ---------------------------------------------------------------- collect
declare -A CO
echo "# N ours kombu floor (ms, p50 of a warm client's collection)" >"$OUT/collect.dat"
for n in $SIZES; do
	log "fleets of $n: pidboxd, kombu Node, floor"
	FL=()
	for i in $(seq "$n"); do start_ours fleet "o$i"; FL+=("$LASTPID"); done
	for i in $(seq "$n"); do start_floor ffleet "f$i"; FL+=("$LASTPID"); done
	start_kombu kfleet "$n" k
	KP=$LASTPID
	wait_fleet fleet "$n" 150 && wait_fleet ffleet "$n" 150 && wait_fleet kfleet "$n" 300 || exit 1
	oo="" aa="" ff=""
	for rep in $(seq "$REPS"); do
		# the idle kombu fleet polls every second: pause it meanwhile
		kill -STOP "$KP" "${KIDS[@]}"
		STOPPED=("$KP" "${KIDS[@]}")
		out=$("$LG" collect -p "$PORT" -N fleet -e "$n" -r "$C_OURS") && oo+=" $(kv p50_ms "$out")"
		log "rep $rep N=$n ours: $out"
		out=$("$LG" collect -p "$PORT" -N ffleet -e "$n" -r "$C_OURS") && ff+=" $(kv p50_ms "$out")"
		log "rep $rep N=$n floor: $out"
		kill -CONT "$KP" "${KIDS[@]}"
		STOPPED=()
		out=$("$LG" collect -p "$PORT" -N kfleet -e "$n" -r "$C_KOMBU") && aa+=" $(kv p50_ms "$out")"
		log "rep $rep N=$n kombu: $out"
	done
	stop_pids "${FL[@]}" "$KP"
	o=$(median $oo) a=$(median $aa) f=$(median $ff)
	echo "$n $o $a $f" >>"$OUT/collect.dat"
	row "collect from N = $n nodes, warm client" ms "$o" "$a" "kombu Nodes" "$f" "<= 2x floor" "$(held "$o <= 2 * $f")"
done

fi	# BENCH_ONLY

# ---------------------------------------------------------------- fleet
# A simulated fleet (issue 17): `loadgen fleet` runs N nodes in two
# processes, each node with its own subscription, answering through
# pidboxd's reply path and routing. Whole-process collection of
# every reply by pidboxctl (text and --json), by kombu's client (whole
# process, and warm), and by the floor (loadgen collect: PUBLISH and drain
# the N replies, nothing else), interleaved per repetition.
start_sim() {	# NS N MODE: the fleet's parent pid in LASTPID
	"$LG" fleet -p "$PORT" -N "$1" -e "$2" -j $(( $2 < 2 ? 1 : 2 )) -m "$3" >"$T/sim.$1.out" 2>"$T/sim.$1.err" &
	LASTPID=$!
	PIDS+=("$LASTPID")
	for _ in $(seq 600); do
		grep -q READY "$T/sim.$1.out" && return 0
		kill -0 "$LASTPID" 2>/dev/null || break
		sleep 0.1
	done
	log "fleet of $2 did not start: $(cat "$T/sim.$1.err")"
	return 1
}
echo "# N pidboxctl pidboxctl_json kombu floor (ms, whole process, median)" >"$OUT/fleet.dat"
FMAX=0
for n in $FLEET_SIZES; do
	start_sim sim$n "$n" route || exit 1
	SIM=$LASTPID
	wait_fleet sim$n "$n" 100 || exit 1
	unset FX
	declare -A FX=()
	for rep in $(seq "$REPS"); do
		out=$("$LG" exec -r "$F_EXEC" -- "$CTL" -b "$BROKER" -N sim$n ping -t 30) &&
		    FX[text]+=" $(kv p50_ms "$out")" FX[tcpu]+=" $(kv cpu_p50_ms "$out")"
		log "rep $rep fleet N=$n pidboxctl: $out"
		out=$("$LG" exec -r "$F_EXEC" -- "$CTL" -b "$BROKER" -N sim$n --json ping -t 30) &&
		    FX[json]+=" $(kv p50_ms "$out")" FX[jcpu]+=" $(kv cpu_p50_ms "$out")"
		log "rep $rep fleet N=$n pidboxctl --json: $out"
		out=$("$LG" exec -r "$F_EXEC" -- "$LG" collect -p "$PORT" -N sim$n -e "$n" -r 1 -w 0 -t 30) &&
		    FX[floor]+=" $(kv p50_ms "$out")"
		log "rep $rep fleet N=$n floor: $out"
		out=$("$LG" exec -r 1 -- "$PY" tests/interop/kombu_client.py "$BROKER" sim$n fanout ping --limit "$n" --timeout 60) &&
		    FX[kombu]+=" $(kv p50_ms "$out")"
		log "rep $rep fleet N=$n kombu client: $out"
	done
	out=$("$PY" tests/bench/kombu_collect.py "$BROKER" sim$n "$n" "$F_KOMBU") &&
	    FX[kwarm]=$(kv p50_ms "$out")
	log "fleet N=$n kombu warm: $out"
	o=$(median ${FX[text]}) j=$(median ${FX[json]}) a=$(median ${FX[kombu]}) f=$(median ${FX[floor]})
	echo "$n $o $j $a $f" >>"$OUT/fleet.dat"
	if [ "$n" -ge 9000 ]; then
		# issue 17's three targets, each its own verdict
		for w in text json; do
			x=$o lb=pidboxctl
			[ $w = json ] && x=$j lb="pidboxctl --json"
			row "fleet N=$n: collect all, whole process, $lb" ms "$x" "$a" "kombu client" "$f" \
			    "<= 100 ms" "$(held "$x <= 100")"
			row "fleet N=$n: $lb vs kombu's client (whole process)" ms "$x" "$a" "kombu client" "$f" \
			    ">= 10x kombu" "$(held "$a / $x >= 10")"
			row "fleet N=$n: $lb vs the floor" ms "$x" "$a" "kombu client" "$f" \
			    "<= 1.5x floor" "$(held "$x <= 1.5 * $f")"
		done
	else
		row "fleet N=$n: collect all, whole process, pidboxctl" ms "$o" "$a" "kombu client" "$f" "report" ""
		row "fleet N=$n: collect all, whole process, pidboxctl --json" ms "$j" "$a" "kombu client" "$f" "report" ""
	fi
	row "fleet N=$n: collect all, warm kombu client (reference)" ms "" "${FX[kwarm]:-}" "kombu, warm" "" "" ""
	if [ "$n" -ge 1000 ]; then	# below, start-up dominates
		c=$(median ${FX[tcpu]}) cj=$(median ${FX[jcpu]})
		row "fleet N=$n: pidboxctl CPU per reply (text / --json)" us \
		    "$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.1f", c * 1000 / n }')" "" "" \
		    "$(awk -v c="$cj" -v n="$n" 'BEGIN { printf "%.1f", c * 1000 / n }')" \
		    "<= 5 us (floor column: --json)" \
		    "$(held "$c * 1000 / $n <= 5 && $cj * 1000 / $n <= 5")"
	fi
	FMAX=$n
	stop_pids "$SIM"
	redis-cli -p "$PORT" DEL "_kombu.binding.sim$n.pidbox" >/dev/null
done

# Redis CPU per reply at the largest N: pidboxd's routing (SISMEMBER,
# then LPUSH + PEXPIRE) against
# kombu's SMEMBERS + LPUSH, the same fleet and floor client, PUBLISH
# fan-out included in both.
if [ "$FMAX" -gt 1 ]; then
	declare -A RC=() SC=()
	for mode in route plain; do
		start_sim rc$mode "$FMAX" $mode || exit 1
		SIM=$LASTPID
		wait_fleet rc$mode "$FMAX" 100 || exit 1
		kids=$(pgrep -P "$SIM" | tr '\n' ' ')
		r0=$(cpu_ticks "$RPID") s0=0
		for k in $kids; do s0=$((s0 + $(cpu_ticks "$k"))); done
		"$LG" collect -p "$PORT" -N rc$mode -e "$FMAX" -r $((REPS * 10)) -w 0 -t 30 >/dev/null
		r1=$(cpu_ticks "$RPID") s1=0
		for k in $kids; do s1=$((s1 + $(cpu_ticks "$k"))); done
		RC[$mode]=$(awk -v t=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" -v n=$((FMAX * REPS * 10)) \
		    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
		SC[$mode]=$(awk -v t=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" -v n=$((FMAX * REPS * 10)) \
		    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
		log "CPU per reply, $mode: redis ${RC[$mode]} us, the simulated nodes ${SC[$mode]} us"
		stop_pids "$SIM"
		redis-cli -p "$PORT" DEL "_kombu.binding.rc$mode.pidbox" >/dev/null
	done
	row "Redis CPU per reply, N=$FMAX (SISMEMBER+LPUSH+PEXPIRE vs SMEMBERS+LPUSH)" us "${RC[route]}" "${RC[plain]}" \
	    "SMEMBERS+LPUSH responder" "" "<= 1.2x" "$(held "${RC[route]} <= 1.2 * ${RC[plain]}")"
	# what the floor itself is made of: Redis and the fleet share the CPUs
	row "simulated nodes' CPU per reply, N=$FMAX (reference)" us "${SC[route]}" "" "" "" "" ""
fi

# ---------------------------------------------------------------- charts
# chart DAT PNG TITLE: gnuplot reads the plot's own lines from stdin,
# when gnuplot is there and DAT has data.
chart() {
	command -v gnuplot >/dev/null && [ -s "$1" ] &&
	    [ "$(wc -l <"$1")" -gt 1 ] || { cat >/dev/null; return 0; }
	{
		printf 'set terminal pngcairo size 640,380 font "sans,9"\n'
		printf 'set output "%s"\nset title "%s"\n' "$2" "$3"
		printf 'set xlabel "nodes (N)"\nset ylabel "ms"\nset key top left\n'
		cat
	} | gnuplot 2>"$T/gnuplot.err" || log "gnuplot failed: $(cat "$T/gnuplot.err")"
}
chart "$OUT/collect.dat" "$OUT/collect.png" "Collect pong replies from N nodes (warm client, p50)" <<EOF
set grid ytics
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
plot "$OUT/collect.dat" using 3:xtic(1) title "kombu 5.2 Nodes" lc rgb "#c0504d", \
     "" using 2 title "pidboxd" lc rgb "#4f81bd", \
     "" using 4 title "floor (C + hiredis)" lc rgb "#9bbb59"
EOF
chart "$OUT/fleet.dat" "$OUT/fleet.png" "Collect every reply from a simulated fleet of N nodes (whole process, median)" <<EOF
set grid
set logscale x
set logscale y
plot "$OUT/fleet.dat" using 1:4 with linespoints title "kombu 5.2 client" lc rgb "#c0504d", \
     "" using 1:2 with linespoints title "pidboxctl" lc rgb "#4f81bd", \
     "" using 1:3 with linespoints title "pidboxctl --json" lc rgb "#8064a2", \
     "" using 1:5 with linespoints title "floor (C + hiredis)" lc rgb "#9bbb59"
EOF

# ---------------------------------------------------------------- table
{
	printf '\n%s\n' "pidbox bench ($( [ "$QUICK" = 1 ] && echo quick || echo full) run, $REPS interleaved reps; $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1))"
	printf '%-58s %-6s %10s %28s %8s %9s %-28s %s\n' figure unit ours anchor ratio floor target verdict
	for r in "${ROWS[@]}"; do
		IFS='|' read -r fig unit o a ratio f tg h <<<"$r"
		[ "$a" = " ()" ] && a=""
		printf '%-58s %-6s %10s %28s %8s %9s %-28s %s\n' "$fig" "$unit" "$o" "$a" "$ratio" "$f" "$tg" "$h"
	done
	printf '\nCSV: %s  chart: %s  profile: %s\n' "$CSV" "$OUT/collect.png" "$OUT/callgrind.self.txt"
} | tee "$OUT/table.txt"
