#!/usr/bin/env bash
# Issue 3: pidboxctl -c FILE (broker, namespace, type from pidboxd's YAML),
# the broker precedence (-b, PIDBOX_BROKER, CELERY_BROKER_URL for the
# celery namespace only, the file, the default), and the exit codes that
# say who did not answer (0 / 2 errors / 3 missing / 4 both / 69 none).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd n1 || exit 1
start_pidboxd n2 || exit 1
start_pidboxd c1 -N celery || exit 1
DEAD=redis://127.0.0.1:1/0	# nothing listens on port 1

# p ARGS...: pidboxctl without -b and without broker variables.
p() {
	out=$(env -u PIDBOX_BROKER -u CELERY_BROKER_URL "$BUILD/pidboxctl" "$@" 2>"$T/err")
	rc=$?
}

printf 'broker: %s\nnamespace: pidbox\ntype: fanout\nexpiry_skew: 30\n' "$BROKER" >"$T/good.yaml"
printf 'broker: %s\n' "$DEAD" >"$T/dead.yaml"
printf 'broker: %s\nnamespace: celery\n' "$BROKER" >"$T/celery.yaml"
printf 'broker: %s\ntype: sideways\n' "$BROKER" >"$T/badtype.yaml"
printf 'broker: [unclosed\n' >"$T/bad.yaml"

p -c "$T/good.yaml" ping -d n1,n2
expect_eq conf_file_broker "$rc" 0
expect_contains conf_file_broker_replies "$out" '2 nodes online.'
p -c "$T/dead.yaml" -b "$BROKER" ping -d n1
expect_eq b_wins_over_file "$rc" 0
out=$(env -u CELERY_BROKER_URL PIDBOX_BROKER="$BROKER" "$BUILD/pidboxctl" -c "$T/dead.yaml" ping -d n1 2>&1)
expect_eq env_wins_over_file "$?" 0
out=$(env -u PIDBOX_BROKER CELERY_BROKER_URL="$BROKER" "$BUILD/pidboxctl" -N celery ping 2>&1)
expect_eq celery_broker_url_for_celery_ns "$?" 0
expect_contains celery_broker_url_reaches_c1 "$out" '->  c1: OK'
out=$(env -u PIDBOX_BROKER CELERY_BROKER_URL="$BROKER" "$BUILD/pidboxctl" -c "$T/dead.yaml" ping -t 0.5 2>&1)
expect_eq celery_broker_url_not_for_pidbox_ns "$?" 75
p -c "$T/celery.yaml" ping
expect_eq namespace_from_file "$out" "$(printf '%s\n' '->  c1: OK' '        pong' '' '1 node online.')"
p -c "$T/celery.yaml" -N pidbox ping -d n1
expect_eq N_wins_over_file "$rc" 0
p -c "$T/badtype.yaml" ping
expect_eq bad_type_exit_78 "$rc" 78
expect_contains bad_type_position "$(cat "$T/err")" "badtype.yaml:2:7: unknown mailbox type sideways"
p -c "$T/bad.yaml" ping
expect_eq bad_yaml_exit_78 "$rc" 78
expect_contains bad_yaml_position "$(cat "$T/err")" "bad.yaml:"
p -c "$T/nosuch.yaml" ping
expect_eq missing_file_exit_78 "$rc" 78

# ------------------------------------------------ exit codes
out=$(ctl broadcast nosuch --reply -d n1 2>&1)
expect_eq error_reply_exit_2 "$?" 2
expect_contains error_reply_shown "$out" "$(printf '%s\n' '->  n1: ERROR' "        KeyError('nosuch')")"
kill -STOP "${DPID[n2]}"
out=$(ctl ping -d n1,n2 -t 0.5 2>&1)
expect_eq missing_exit_3 "$?" 3
expect_contains missing_named "$out" 'no reply: n2'
out=$(ctl broadcast nosuch --reply -d n1,n2 -t 0.5 2>&1)
expect_eq missing_and_errors_exit_4 "$?" 4
out=$(ctl ping -t 0.5 2>&1)
expect_eq missing_counted_exit_3 "$?" 3
expect_contains missing_counted "$out" "$(printf '%s\n' 'summary: 2 expected (bound), 1 replied, 0 errors, 1 missing' 'no reply: n2')"
out=$(ctl ping -d n2 -t 0.5 2>&1)
expect_eq none_exit_69 "$?" 69
kill -CONT "${DPID[n2]}"
out=$("$BUILD/pidboxctl" -h)
expect_contains help_documents_exit_codes "$out" '3 some expected'
finish
