#!/usr/bin/env bash
# Terminal injection (issue 10, point 4): a hostile node (hostile_node.py)
# answers with node names, values and error texts full of CR, BS, BEL,
# ESC[K, OSC title sequences, C1 controls and raw bytes. pidboxctl's
# output, piped and on a real pseudo-terminal (script(1)), in every format,
# must carry none of them raw, while printable UTF-8 stays as it is when
# piped; `nodes` and `gc` likewise. pidboxd's own log must escape a method
# name full of controls.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
command -v script >/dev/null || {
	fail setup "script(1) not installed (bsdutils)"
	exit 1
}
unset NO_COLOR
export TERM=xterm
HOSTILE=$(dirname "$0")/hostile_node.py
start_redis
before=$(nsubs)
bg hostile "$PY" "$HOSTILE" "$REDIS_SOCK" hostile
if ! wait_for "grep -q READY '$T/hostile.log' && [ \$(nsubs) -gt $before ]" 10; then
	fail setup "hostile node not ready: $(cat "$T/hostile.log")"
	exit 1
fi
N=$("$PY" "$HOSTILE" --count)
CTL="$BUILD/pidboxctl -b $BROKER -N hostile"

# clean NAME FILE [--pty] [--color]: FILE holds no raw control character.
clean() {
	local name=$1 file=$2 why
	shift 2
	if why=$("$PY" "$HOSTILE" --check "$@" "$file" 2>&1); then
		ok "$name"
	else
		fail "$name" "$why"
	fi
}

# on_tty NAME CMD: run the shell command CMD with stdout on a pseudo-
# terminal, what the terminal received in $T/NAME.out (CRs kept: the
# checker turns only CRLF back into LF).
on_tty() {
	script -qfec "$2" /dev/null </dev/null >"$T/$1.out"
}

# --- piped: Celery's layout, every control escaped, UTF-8 kept
$CTL ping -l "$N" -t 5 >"$T/ping.out" 2>"$T/ping.err"
rc=$?
out=$(cat "$T/ping.out")
clean piped_no_controls "$T/ping.out"
clean piped_stderr_no_controls "$T/ping.err" --empty-ok
expect_eq piped_rc_errors "$rc" 2
expect_contains piped_name_cr_el "$out" '->  zz\r->  web-1: OK\033[K: OK'
expect_contains piped_name_bel_bs "$out" '->  bell\a\b\bx: OK'
expect_contains piped_value_osc "$out" '        a\rb\033]0;owned\ac'
expect_contains piped_error_text "$out" "$(printf '%s\n' '->  err\033[31m: ERROR' '        boom\r\033[2Jgone\302\233\177')"
expect_contains piped_list_item "$out" '        * item\a\033]0;t\a'
expect_contains piped_list_repr "$out" "        * {'k': 'v\\x1b'}"
expect_contains piped_name_newline "$out" '->  nl\n->  fake: OK: OK'
expect_contains piped_value_newline "$out" "$(printf '%s\n' '        line1' '        \033[Aline2')"
expect_contains piped_utf8_kept "$out" "->  caf$(printf '\303\251')-$(printf '\303\274'): OK"
expect_contains piped_summary_names "$out" 'error: err\033[31m'
# no forged status line: exactly one "->  " line per reply
expect_eq piped_no_forged_lines "$(grep -c '^->  ' "$T/ping.out")" "$N"
if grep -q '^->  \(web-1\|fake\): OK' "$T/ping.out"; then
	fail piped_no_fake_node "$(cat -v "$T/ping.out")"
else
	ok piped_no_fake_node
fi

# status stops at the first reply (one subscriber): the CR one
$CTL status -t 5 >"$T/status.out" 2>&1
clean piped_status "$T/status.out"
expect_contains piped_status_name "$(cat "$T/status.out")" '->  zz\r->  web-1: OK\033[K: OK'
$CTL broadcast anything -r -l "$N" -t 5 >"$T/bc.out" 2>&1
clean piped_broadcast "$T/bc.out"
expect_contains piped_broadcast_name "$(cat "$T/bc.out")" '->  zz\r->  web-1: OK\033[K: OK'

# a reply that is not UTF-8 is skipped, and the warning escaped
$CTL broadcast rawbytes -r -l 1 -t 1 >"$T/raw.out" 2>"$T/raw.err"
clean piped_raw_bytes "$T/raw.out" --empty-ok
clean piped_raw_bytes_stderr "$T/raw.err" --empty-ok

# the machine formats were escaped already: keep them so
for f in json jsonl yaml; do
	$CTL --"$f" ping -l "$N" -t 5 >"$T/$f.out" 2>"$T/$f.err"
	clean "piped_$f" "$T/$f.out"
	clean "piped_${f}_stderr" "$T/$f.err" --empty-ok
done
check json_reads_back "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["zz\r->  web-1: OK\x1b[K"] == {"ok": "pong"}, d
assert d["err\x1b[31m"]["error"] == "boom\r\x1b[2Jgone\x9b\x7f", d' "$T/json.out"

# --- on a terminal: no color (aligned names), then with colors
on_tty tty "NO_COLOR=1 $CTL ping -l $N -t 5 2>$T/tty.err"
clean tty_no_controls "$T/tty.out" --pty
clean tty_stderr_no_controls "$T/tty.err" --empty-ok
out=$(tr -d '\r' <"$T/tty.out")
expect_contains tty_name_cr_el "$out" '->  zz\r->  web-1: OK\033[K:'
expect_contains tty_name_bel_bs "$out" '->  bell\a\b\bx:'
expect_contains tty_value_osc "$out" '        a\rb\033]0;owned\ac'
expect_contains tty_error_text "$out" '        boom\r\033[2Jgone\302\233\177'
# as before: every non-ASCII byte in octal on a terminal
expect_contains tty_utf8_octal "$out" '->  caf\303\251-\303\274:'
on_tty tty_color "$CTL --color=always ping -l $N -t 5 2>$T/tty_color.err"
clean tty_color_no_controls "$T/tty_color.out" --pty --color
on_tty tty_status "$CTL status -t 5 2>&1"
clean tty_status_no_controls "$T/tty_status.out" --pty --color
expect_contains tty_status_name "$(cat "$T/tty_status.out")" '->  zz\r->  web-1: OK\033[K:'

# --- nodes: the table escapes names and versions
$CTL nodes -t 5 >"$T/nodes.out" 2>&1
clean nodes_no_controls "$T/nodes.out"
expect_contains nodes_name_escaped "$(cat "$T/nodes.out")" 'st\r\033[K'
expect_contains nodes_version_escaped "$(cat "$T/nodes.out")" '1.0\r\033]0;v\a'
on_tty nodes_tty "$CTL nodes -t 5 2>&1"
clean nodes_tty_no_controls "$T/nodes_tty.out" --pty --color

# --- gc: a malformed binding member full of controls
rcli SADD _kombu.binding.reply.hostile.pidbox "$(printf 'evil\r\033[K\007\033]0;gc\007\233')" >/dev/null
$CTL gc -n >"$T/gc.out" 2>&1
clean gc_no_controls "$T/gc.out"
expect_contains gc_member_escaped "$(cat "$T/gc.out")" 'evil\r\033[K\a\033]0;gc\a\233'

# --- pidboxd's log: a method name with CR, BS, BEL, ESC
start_pidboxd logn -N lg || exit 1
rcli PUBLISH /0.lg.pidbox "$(mkmsg --ns lg --method "$(printf 'no\rsuch\b\033[2Jmethod\007')")" >/dev/null
rcli PUBLISH /0.lg.pidbox "$(mkmsg --ns lg --expires-in -100 --method "$(printf 'old\r\033]0;x\007')")" >/dev/null
if wait_for "grep -q 'no such method' '$T/pidboxd.logn.log' && grep -q 'dropped expired' '$T/pidboxd.logn.log'" 5; then
	ok log_lines_written
else
	fail log_lines_written "$(cat -v "$T/pidboxd.logn.log")"
fi
clean log_no_controls "$T/pidboxd.logn.log"
log=$(cat "$T/pidboxd.logn.log")
expect_contains log_method_escaped "$log" 'no such method no\rsuch\b\033[2Jmethod\a'
expect_contains log_expired_escaped "$log" 'for old\r\033]0;x\a'
finish
