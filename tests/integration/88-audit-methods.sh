#!/usr/bin/env bash
# Methods cannot erase the audit trail (issue 16.8).  A method runs
# `truncate -s 0` and `rm` on the audit file, then writes over it:
#  - pidboxd unprivileged, as the units run it (here nobody, through
#    setpriv), with an audit file its methods would run as the owner of:
#    the configuration is refused (exit 78, -t and start alike), so no such
#    node ever runs; syslog (the journal) is the audit sink there;
#  - pidboxd as root, every method with a user: of its own: the file
#    stays, every line of the earlier requests with it.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
[ "$(id -u)" = 0 ] || { fail setup "needs root (setpriv, user:)"; exit 1; }
command -v setpriv >/dev/null || { fail setup "setpriv not installed (util-linux)"; exit 1; }
start_redis

# The unprivileged user's home for this test: its config and its audit
# file, in a directory it owns (as /var/log/pidbox is the pidbox user's).
chmod 711 "$T"
U=$T/unpriv
mkdir "$U"
chown nobody:nogroup "$U"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# erase_conf FILE AUDIT USERLINE: a config with an audit file and a method
# that erases it (USERLINE: "" or "user: nobody").
erase_conf() {
	cat >"$1" <<YAML
methods:
  erase:
    argv: [/bin/sh, -c, 'truncate -s 0 $2; rm -f $2; echo forged >$2; exit 0']
    $3
audit:
  file: $2
YAML
	chmod 644 "$1"
}
lines() { wc -l <"$1" 2>/dev/null || echo 0; }

# --- unprivileged, methods as pidboxd's own user: refused
erase_conf "$U/own.yaml" "$U/audit.jsonl" ""
chown nobody:nogroup "$U/own.yaml"
out=$(as_nobody "$BUILD/pidboxd" -t -c "$U/own.yaml" 2>&1)
rc=$?
expect_eq own_user_check_exit_78 "$rc" 78
expect_contains own_user_check_says_why "$out" 'audit.file: method "erase" runs as pidboxd'"'"'s own user'
# run it as the unit would: either it refuses to start, or its trail must
# survive the method (on a pidboxd without the check, it does not)
# shellcheck disable=SC2086 # TEST_PREFIX is a word list
as_nobody $TEST_PREFIX "$BUILD/pidboxd" -f -n own -b "$BROKER" -c "$U/own.yaml" \
    >"$T/pidboxd.own.log" 2>&1 &
pid=$!
_track "$pid"
if wait_for "! alive $pid || is_bound own pidbox" 10 && ! alive "$pid"; then
	wait "$pid"
	expect_eq own_user_start_exit_78 "$?" 78
	ok own_user_trail_kept
else
	ctl ping -d own --timeout 5 >/dev/null
	wait_for "[ \$(lines '$U/audit.jsonl') -ge 1 ]" 5
	before=$(lines "$U/audit.jsonl")
	ctl broadcast erase --reply -d own --timeout 5 >/dev/null 2>&1
	wait_for "grep -q erase '$U/audit.jsonl'" 5
	fail own_user_start_exit_78 "pidboxd started"
	if [ "$before" -ge 1 ] && grep -q '"method":"ping"' "$U/audit.jsonl"; then
		ok own_user_trail_kept
	else
		fail own_user_trail_kept "the method erased the audit file: $(head -c 200 "$U/audit.jsonl" | tr '\n' ' ')"
	fi
	kill -TERM "$pid"
	reap "$pid" 10
fi
# the same node auditing to syslog only is a valid configuration
cat >"$U/syslog.yaml" <<YAML
methods:
  erase:
    argv: [/bin/true]
audit:
  syslog: true
YAML
chmod 644 "$U/syslog.yaml"
out=$(as_nobody "$BUILD/pidboxd" -t -c "$U/syslog.yaml" 2>&1)
expect_eq own_user_syslog_ok "$?" 0
# an audit file with built-in methods only: nothing runs code, it stays valid
printf 'audit:\n  file: %s\n' "$U/audit.jsonl" >"$U/builtin.yaml"
chmod 644 "$U/builtin.yaml"
as_nobody "$BUILD/pidboxd" -t -c "$U/builtin.yaml" >/dev/null 2>&1
expect_eq builtin_only_file_ok "$?" 0

# --- root, a method that names pidboxd's own user (root): refused too
erase_conf "$T/rootuser.yaml" "$T/log/audit.jsonl" "user: root"
out=$("$BUILD/pidboxd" -t -c "$T/rootuser.yaml" 2>&1)
expect_eq root_method_as_root_78 "$?" 78

# --- root, the method as nobody: the file and its lines stay
mkdir -m 755 "$T/log"
erase_conf "$T/root.yaml" "$T/log/audit.jsonl" "user: nobody"
start_pidboxd r1 -c "$T/root.yaml" || exit 1
ctl ping -d r1 --timeout 5 >/dev/null
ctl ping -d r1 --timeout 5 >/dev/null
wait_for "[ \$(lines '$T/log/audit.jsonl') -ge 2 ]" 5
first=$(head -n 2 "$T/log/audit.jsonl")
out=$(ctl broadcast erase --reply -d r1 --timeout 10 2>&1)
expect_contains erase_denied "$out" 'Permission denied'
wait_for "[ \$(lines '$T/log/audit.jsonl') -ge 3 ]" 5
expect_eq trail_kept "$(head -n 2 "$T/log/audit.jsonl")" "$first"
expect_eq trail_has_erase_run "$(tail -n 1 "$T/log/audit.jsonl" | "$PY" -c 'import json, sys
d = json.loads(sys.stdin.read()); print(d["method"], d["decision"])')" 'erase run'
expect_not_contains trail_not_forged "$(cat "$T/log/audit.jsonl")" forged
expect_eq trail_owner "$(stat -c '%U %a' "$T/log/audit.jsonl")" 'root 600'
finish
