#!/usr/bin/env bash
# Access control and broker secrets (issue 4): per-method policy with
# dangerous methods denied unless named, refusals replied and logged, and
# broker passwords from a private file or the environment, never argv.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

conf=$T/policy.yaml
cat >"$conf" <<'YAML'
methods:
  danger:
    argv: [/bin/true]
    dangerous: true
  deploy:
    argv: [/bin/true]
policy:
  default: deny
  rules:
    - allow: [ping, "st*", describe]
    - deny: [clock]
    - allow: ["*"]
YAML
chmod 600 "$conf"
start_pidboxd p1 -c "$conf" || exit 1
start_pidboxd open || exit 1

value() {	# NODE METHOD: the reply value as JSON
	ctl --json broadcast "$2" --reply -d "$1" --timeout 5 2>/dev/null |
	    "$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"
}
out=$(ctl ping -d p1 --timeout 5)
expect_contains allowed_ping "$out" '->  p1: OK'
expect_json refused_by_rule "$(value p1 clock)" '{"error": "refused: denied by policy rule"}'
expect_contains wildcard_allows_ok "$(value p1 deploy)" '"exit_status": 0'
expect_json dangerous_not_by_wildcard "$(value p1 danger)" '{"error": "refused: dangerous method not allowed by any policy rule"}'
expect_json shutdown_denied "$(value p1 shutdown)" '{"error": "refused: dangerous method not allowed by any policy rule"}'
# without a policy section, dangerous methods are still denied by default
expect_json default_denies_shutdown "$(value open shutdown)" '{"error": "refused: dangerous method not allowed by any policy rule"}'
expect_contains default_allows_clock "$(value open clock)" '"clock"'
expect_contains refusal_logged "$(pidboxd_log p1)" 'refused request'
expect_contains refusal_logged_reason "$(pidboxd_log p1)" 'for clock: denied by policy rule'
n=$(ctl --json broadcast stats --reply -d p1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["p1"]["counters"]["refused_policy"])')
expect_eq refusals_counted "$n" 3

# --- broker password from a private file, never on the command line
rcli ACL SETUSER pbx on '>s3cr3tpw' '~*' '&*' '+@all' >/dev/null
pwf=$T/redis.pass
printf 's3cr3tpw\n' >"$pwf"
chmod 600 "$pwf"
sconf=$T/secret.yaml
printf 'broker_password_file: %s\n' "$pwf" >"$sconf"
chmod 644 "$sconf"	# holds no secret itself: may be readable
before=$(rcli CLIENT LIST | grep -c 'user=pbx')
start_pidboxd sec -c "$sconf" -b "redis://pbx@127.0.0.1:$REDIS_PORT/0" || exit 1
after=$(rcli CLIENT LIST | grep -c 'user=pbx')
expect_eq password_file_authenticates "$((after - before))" 2
expect_not_contains password_not_in_cmdline "$(tr '\0' ' ' </proc/"${DPID[sec]}"/cmdline)" 's3cr3tpw'
expect_contains answers_with_password "$(ctl ping -d sec --timeout 5)" '->  sec: OK'
# from the environment
PIDBOX_BROKER_PASSWORD=s3cr3tpw start_pidboxd envpw -b "redis://pbx@127.0.0.1:$REDIS_PORT/0" || exit 1
after2=$(rcli CLIENT LIST | grep -c 'user=pbx')
expect_eq env_password_authenticates "$((after2 - after))" 2
expect_not_contains env_password_not_in_cmdline "$(tr '\0' ' ' </proc/"${DPID[envpw]}"/cmdline)" 's3cr3tpw'
stop_pidboxd sec
stop_pidboxd envpw
expect_not_contains password_not_logged "$(pidboxd_log sec)$(pidboxd_log envpw)" 's3cr3tpw'

# a password file readable by others is refused, naming file and key
chmod 640 "$pwf"
"$BUILD/pidboxd" -t -c "$sconf" >"$T/t.out" 2>&1
expect_eq readable_password_file_refused "$?" 78
expect_contains readable_password_file_message "$(cat "$T/t.out")" "$sconf:1:23: broker_password_file: $pwf: readable by group or others"
# a config holding a password itself must be private
iconf=$T/inline.yaml
printf 'broker_password: s3cr3tpw\n' >"$iconf"
chmod 644 "$iconf"
"$BUILD/pidboxd" -t -c "$iconf" >"$T/t.out" 2>&1
expect_eq readable_inline_password_refused "$?" 78
expect_not_contains refusal_hides_password "$(cat "$T/t.out")" 's3cr3tpw'
chmod 600 "$iconf"
"$BUILD/pidboxd" -t -c "$iconf" >"$T/t.out" 2>&1
expect_eq private_inline_password_ok "$?" 0

# --- a bad policy is named by file, line and key
bad=$T/bad.yaml
cat >"$bad" <<'YAML'
policy:
  default: maybe
  rules:
    - allow: [ping]
      deny: [clock]
    - permit: [x]
YAML
"$BUILD/pidboxd" -t -c "$bad" >"$T/t.out" 2>&1
errs=$(cat "$T/t.out")
expect_contains bad_default "$errs" "$bad:2:12: policy.default: expected allow or deny"
expect_contains bad_rule_both "$errs" "$bad:4:7: policy.rules[0]: needs exactly one of allow or deny"
expect_contains bad_rule_key "$errs" "$bad:6:7: policy.rules[1]: unknown key \"permit\""
finish
