#!/usr/bin/env bash
# Log priorities (issue 16.9): under the journal (JOURNAL_STREAM set) every
# line carries its syslog "<N>" prefix, and what an operator must find
# with "journalctl -p err" is at err (<3>) or worse: the reasons of a bad
# configuration, from "pidboxd -t" (ExecReload) and from a SIGHUP reload,
# and a method that exits non-zero or times out.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
export JOURNAL_STREAM=8:12345

# err_lines FILE: the lines at priority err or worse (<0>..<3>)
err_lines() {
	grep -a '^<[0-3]>' "$1"
}

conf=$T/pidboxd.yaml
bad=$T/bad.yaml
cat >"$conf" <<YAML
methods:
  fail:
    argv: [/bin/sh, -c, 'exit 3']
  hang:
    argv: [/bin/sleep, "30"]
    timeout: 0.5
    kill_grace: 0.2
YAML
printf 'expiry_skew: soon\n' >"$bad"
chmod 600 "$conf" "$bad"

# --- pidboxd -t (what ExecReload runs): the reason at err
"$BUILD/pidboxd" -t -c "$bad" -b "$BROKER" >"$T/t.out" 2>"$T/t.err"
expect_eq check_exit $? 78
expect_contains check_reason_err "$(err_lines "$T/t.err")" "$bad:1:"
"$BUILD/pidboxd" -t -c "$conf" -b "$BROKER" -T bogus >"$T/t.out" 2>"$T/t.err"
expect_contains check_flag_err "$(err_lines "$T/t.err")" 'bad type'
env -u JOURNAL_STREAM "$BUILD/pidboxd" -t -c "$bad" -b "$BROKER" 2>"$T/t2.err"
expect_eq check_bare_off_journal "$(grep -c '^<' "$T/t2.err")" 0

# --- a SIGHUP reload of a bad file: "reload failed" and why, both at err
start_pidboxd n1 -c "$conf" || exit 1
log=$T/pidboxd.n1.log
cp "$conf" "$T/good.yaml"
cp "$bad" "$conf"
kill -HUP "${DPID[n1]}"
if wait_for "grep -q 'reload failed' '$log'" 10; then
	errs=$(err_lines "$log")
	expect_contains reload_failed_err "$errs" 'reload failed'
	expect_contains reload_reason_err "$errs" "$conf:1:"
else
	fail reload_failed "no 'reload failed' line: $(tail -n 3 "$log")"
fi
cp "$T/good.yaml" "$conf"

# --- a method that exits non-zero, and one that times out: a line at err
ctl broadcast fail --reply -d n1 --timeout 5 >/dev/null 2>&1
check method_fail_err wait_for "err_lines '$log' | grep -q 'method fail: .*exit 3'" 5
ctl broadcast hang --reply -d n1 --timeout 5 >/dev/null 2>&1
check method_timeout_err wait_for "err_lines '$log' | grep -q 'method hang: .*timed out'" 5
finish
