#!/usr/bin/env bash
# Errors that say what to do and passwords outside argv (issue 14.9,
# 14.12): the default broker named when it refuses, NOAUTH pointing at
# PIDBOX_BROKER_PASSWORD, KeyError at describe, `ping NODE` at -d, a
# glob in -d at -p, a typo at the command it resembles; Ctrl-C keeps the
# replies so far and the summary; pidboxctl reads PIDBOX_BROKER_PASSWORD
# and broker_password(_file) of a -c file as pidboxd does.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd n1 || exit 1

# --- 14.9: hints
# In a network namespace of its own (unshare -rn, its loopback down)
# nothing answers on the default port, whatever runs on this host's;
# where none can be made, only when nothing answers on this host.
if unshare -rn true 2>/dev/null; then
	# shellcheck disable=SC2086 # TEST_PREFIX is a word list
	out=$(PIDBOX_BROKER='' unshare -rn $TEST_PREFIX "$BUILD/pidboxctl" \
	    ping -t 0.3 2>&1 </dev/null)
	rc=75
else
	out=$(PIDBOX_BROKER= pidboxctl ping -t 0.3 2>&1 </dev/null)
	rc=$?
fi
if [ "$rc" = 75 ]; then
	expect_contains default_broker_named "$out" 'hint: no broker was given, so the default redis://localhost:6379/0 was used'
else
	# a redis answers on the default port here: nothing to check
	ok default_broker_named
fi
out=$(ctl pnig 2>&1)
expect_eq typo_rc "$?" 64
expect_eq typo_did_you_mean "$out" 'pidboxctl: unknown command: pnig; did you mean ping? (pidboxctl -h lists the commands)'
out=$(ctl ping n1 2>&1)
expect_eq ping_word_rc "$?" 64
expect_contains ping_word_hint "$out" 'ping takes no arguments; to ask one node: ping -d NODE'
out=$(ctl ping foo=bar 2>&1)
expect_eq ping_kv "$out" 'pidboxctl: ping takes no arguments'
out=$(ctl ping -d 'n*' 2>&1)
expect_eq glob_in_d_rc "$?" 64
expect_contains glob_in_d_hint "$out" "use -p 'n*' to match a glob"
out=$(ctl broadcast nosuch -r -d n1 -t 2 2>&1)
expect_contains keyerror_hint "$out" 'hint: KeyError is a method the node does not have; `pidboxctl describe` lists'

# --- Ctrl-C keeps what arrived and the summary
bg sigint "${SIGINT_DFL[@]}" "${CTL_CMD[@]}" -b "$BROKER" ping -d n1,ghost -t 30
pid=$BG_PID
# the sorted text comes at the end: n1's reply was handled once the
# drain after the first BRPOP ran
wait_for "[ \$(commandstat rpop) -ge 1 ]" 5
kill -INT "$pid"
reap "$pid" 5
expect_eq sigint_rc "$REAP_RC" 130
out=$(cat "$T/sigint.log")
expect_contains sigint_replies "$out" '->  n1: OK'
expect_contains sigint_summary "$out" 'summary: 2 expected (-d), 1 replied'
expect_contains sigint_said "$out" 'pidboxctl: interrupted after 1 reply'
assert_no_reply_keys sigint_no_reply_keys

# --- 14.12: passwords outside argv
stop_pidboxd n1
rcli CONFIG SET requirepass s3cret-pw >/dev/null
export REDISCLI_AUTH=s3cret-pw
PIDBOX_BROKER_PASSWORD=s3cret-pw start_pidboxd n1 || exit 1
out=$(ctl ping -d n1 2>&1)
expect_eq noauth_rc "$?" 75
expect_contains noauth_hint "$out" 'hint: the broker wants a password: set PIDBOX_BROKER_PASSWORD'
out=$(PIDBOX_BROKER_PASSWORD=s3cret-pw ctl ping -d n1 2>&1)
expect_eq env_password_rc "$?" 0
printf 's3cret-pw\n' >"$T/pw"
chmod 600 "$T/pw"
printf 'broker: %s\nbroker_password_file: %s\n' "$BROKER" "$T/pw" >"$T/c.yaml"
out=$(pidboxctl -c "$T/c.yaml" ping -d n1 2>&1)
expect_eq conf_password_file_rc "$?" 0
printf 'broker: %s\nbroker_password: s3cret-pw\n' "$BROKER" >"$T/c2.yaml"
chmod 600 "$T/c2.yaml"
out=$(pidboxctl -c "$T/c2.yaml" ping -d n1 2>&1)
expect_eq conf_password_rc "$?" 0
chmod 644 "$T/pw"
out=$(pidboxctl -c "$T/c.yaml" ping -d n1 2>&1)
expect_eq conf_password_file_loose_rc "$?" 78
finish
