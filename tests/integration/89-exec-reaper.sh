#!/usr/bin/env bash
# Nothing an operator method starts outlives it (issue 10, point 5): not a
# `setsid` child, not a double-forked daemon, not on the method's timeout,
# not after the method exits normally (also as another user), not when
# pidboxd is stopped with SIGTERM, and not when pidboxd itself is killed.
# Every process is found by a marker unique to this run (sleep
# 300.<n><marker>) in its command line.  The per-job supervisor that does it
# keeps what was there: exit status and signal, "cannot start", no fd or
# zombie left in pidboxd.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

MK=$$$RANDOM
# pids of every process of this run with a marker in its command line
# (the sleeps, the shells that started them), whoever their parent is
marked() {
	pgrep -f "300\.[0-9]$MK" | tr '\n' ' '
}
# On any exit, kill by pid what this run left behind, so that a failing run
# (or the unfixed daemon) does not leave sleeps around for five minutes.
_kill_marked() {
	local p
	for p in $(marked); do
		kill -KILL "$p" 2>/dev/null
	done
}
trap 'rc=$?; _kill_marked; (exit $rc); _cleanup' EXIT

conf=$T/pidboxd.yaml
cat >"$conf" <<YAML
methods:
  setsid_sleep:
    argv: [/usr/bin/setsid, /bin/sleep, "300.0$MK"]
    timeout: 2
  setsid_wait:
    argv: [/usr/bin/setsid, -w, /bin/sleep, "300.1$MK"]
    timeout: 2
    kill_grace: 0.5
  double_fork:
    argv: [/bin/sh, -c, '(sleep 300.2$MK &); (setsid sleep 300.3$MK &); trap "" TERM; sleep 300.4$MK']
    timeout: 2
    kill_grace: 0.5
  quick_exit:
    argv: [/bin/sh, -c, 'setsid sleep 300.5$MK & (sleep 300.6$MK &); echo started']
  hold:
    argv: [/bin/sh, -c, 'setsid sleep 300.7$MK & (setsid sleep 300.8$MK &); exec sleep 300.9$MK']
    timeout: 60
  crash:
    argv: [/bin/sh, -c, 'kill -SEGV \$\$']
  missing:
    argv: [$T/gone]
YAML
if [ "$(id -u)" = 0 ]; then	# a method run as another user, too
	cat >>"$conf" <<YAML
  as_nobody:
    argv: [/bin/sh, -c, 'setsid sleep 300.0$MK & (sleep 300.1$MK &); id -un']
    user: nobody
YAML
fi
mkgone() {	# the program of "missing", removed once pidboxd checked it
	printf '#!/bin/sh\n' >"$T/gone" && chmod 755 "$T/gone"
}
mkgone
chmod 600 "$conf"
start_pidboxd n1 -c "$conf" || exit 1
nfds() {	# open fds of pidboxd n1
	local f=("/proc/${DPID[n1]}/fd"/*)
	echo "${#f[@]}"
}
children() {	# pidboxd n1's children (supervisors), zombies included
	pgrep -P "${DPID[n1]}" | tr '\n' ' '
}
fds0=$(nfds)

field() {	# JSON PATH...: one field of n1's reply (strings raw)
	json_field "$1" n1 "${@:2}" 2>/dev/null
}
running() {	# N...: each marked sleep N runs (as the program itself)
	local n
	for n in "$@"; do
		pgrep -x -f "(/bin/)?sleep 300\.$n$MK" >/dev/null || return 1
	done
}
TIMEOUT_ERR='timeout: killed after the method'"'"'s timeout'

# --- the issue's case: setsid forks (its parent leads a process group),
# the method exits at once, the sleep must not stay behind
out=$(ctl --json broadcast setsid_sleep --reply -d n1 --timeout 10)
expect_eq setsid_exit_status "$(field "$out" ok exit_status)" 0
left=$(marked)
expect_eq nothing_survives_setsid "$left" ""
_kill_marked	# so that the next check sees only its own

# --- on the timeout: a child in its own session that the method waits for,
# and a double fork (one of them in its own session) under a main process
# that ignores SIGTERM; both at once
t0=$(now_ms)
"${CTL_CMD[@]}" -b "$BROKER" --json broadcast setsid_wait --reply -d n1 --timeout 10 >"$T/r1.json" 2>>"$T/ctl.log" &
p1=$!
_track "$p1"
"${CTL_CMD[@]}" -b "$BROKER" --json broadcast double_fork --reply -d n1 --timeout 10 >"$T/r2.json" 2>>"$T/ctl.log" &
p2=$!
_track "$p2"
if wait_for 'running 1 2 3 4' 5; then
	ok timeout_jobs_started
else
	fail timeout_jobs_started "want sleeps 1-4, have: $(marked)"
fi
wait "$p1"
wait "$p2"
r1=$(cat "$T/r1.json")
r2=$(cat "$T/r2.json")
expect_eq setsid_timeout_reply "$(field "$r1" error)" "$TIMEOUT_ERR"
expect_eq double_fork_timeout_reply "$(field "$r2" error)" "$TIMEOUT_ERR"
expect_faster timeouts_in_time "$t0" 5
# the reply is sent once everything is gone: no waiting here
left=$(marked)
expect_eq nothing_survives_timeout "$left" ""
_kill_marked	# so that the next check sees only its own

# --- a method that exits at once: its leftovers are killed before the reply
out=$(ctl --json broadcast quick_exit --reply -d n1 --timeout 10)
expect_eq quick_exit_status "$(field "$out" ok exit_status)" 0
expect_eq quick_exit_stdout "$(field "$out" ok stdout)" started
left=$(marked)
expect_eq nothing_survives_exit "$left" ""
_kill_marked	# so that the next check sees only its own

# --- the leftovers of a method run as another user go too
if [ "$(id -u)" = 0 ]; then
	out=$(ctl --json broadcast as_nobody --reply -d n1 --timeout 10)
	expect_eq as_nobody_ran "$(field "$out" ok stdout)" nobody
	left=$(marked)
	expect_eq nothing_survives_as_nobody "$left" ""
	_kill_marked	# so that the next check sees only its own
fi

# --- the program's own status is reported, a signal included
out=$(ctl --json broadcast crash --reply -d n1 --timeout 10)
expect_eq crash_signal "$(field "$out" error)" 'signal 11'
expect_eq crash_result "$(field "$out" result signal)" 11

# --- a program that cannot be executed is still refused as before
rm -f "$T/gone"
out=$(ctl --json broadcast missing --reply -d n1 --timeout 10)
expect_eq missing_refused "$(field "$out" error)" "missing: cannot start $T/gone: No such file or directory"

# --- and pidboxd holds no fd and no zombie of the jobs
expect_eq no_fd_leak "$(nfds)" "$fds0"
expect_eq no_zombie "$(children)" ""

# --- pidboxd's stop (SIGTERM) with a job running leaves nothing
ctl broadcast hold -d n1 >/dev/null 2>&1
if wait_for 'running 7 8 9' 5; then
	ok hold_started
else
	fail hold_started "want sleeps 7-9, have: $(marked)"
fi
stop_pidboxd n1
expect_eq stop_clean "$REAP_RC" 0
left=$(marked)
expect_eq nothing_survives_stop "$left" ""
_kill_marked	# so that the next check sees only its own

# --- pidboxd killed outright: the jobs' supervisors still clean up
mkgone	# the configuration names it
start_pidboxd n2 -c "$conf" || exit 1
ctl broadcast hold -d n2 >/dev/null 2>&1
if wait_for 'running 7 8 9' 5; then
	ok hold2_started
else
	fail hold2_started "want sleeps 7-9, have: $(marked)"
fi
kill -KILL "${DPID[n2]}"
reap "${DPID[n2]}" 5
unset "DPID[n2]"
if wait_for '[ -z "$(marked)" ]' 5; then
	ok nothing_survives_kill
else
	fail nothing_survives_kill "still running: $(marked)"
fi
finish
