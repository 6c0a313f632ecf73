#!/usr/bin/env bash
# The audit trail (issue 4): one JSON line per request received, with
# time, method, masked arguments, identity, ticket, decision
# (run/refused/expired/filtered), outcome and duration; reopened on SIGHUP.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

audit=$T/audit.jsonl
conf=$T/audit.yaml
cat >"$conf" <<YAML
methods:
  login:
    argv: [/bin/sh, -c, 'exit 4']
    user: nobody   # not pidboxd's own: it could rewrite the audit file
    args:
      user: {type: string}
      pin: {type: string, secret: true}
audit:
  file: $audit
  mask: [password, apikey]
policy:
  rules:
    - deny: [clock]
YAML
chmod 600 "$conf"
start_pidboxd a1 -c "$conf" || exit 1
start_pidboxd other || exit 1

lines() { wc -l <"$audit" 2>/dev/null || echo 0; }
last() {	# FIELD: that field of the last audit line, as JSON (strings raw)
	tail -n 1 "$audit" | "$PY" -c 'import json, sys
v = json.loads(sys.stdin.read())[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

ctl ping -d a1 --timeout 5 >/dev/null
wait_for '[ "$(lines)" -ge 1 ]' 5
expect_eq run_method "$(last method)" ping
expect_eq run_decision "$(last decision)" run
expect_eq run_outcome "$(last outcome)" ok
expect_eq run_identity "$(last identity)" null
expect_contains run_ticket "$(last ticket)" '-'
expect_contains run_time "$(last time)" 'Z'
expect_eq run_node "$(last node)" a1
dur=$(last duration)
if "$PY" -c 'import sys; sys.exit(0 if 0 <= float(sys.argv[1]) < 5 else 1)' "$dur"; then ok run_duration; else fail run_duration "$dur"; fi
expect_eq one_line_per_request "$(lines)" 1

n=$(lines)
ctl broadcast login user=bob pin=1234 --reply -d a1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines) -gt $n ]" 5
expect_eq exec_outcome "$(last outcome)" 'exit 4'
expect_eq exec_exit_status "$(last exit_status)" 4
expect_json exec_secret_arg_masked "$(last arguments)" '{"user": "bob", "pin": "***"}'
n=$(lines)
ctl broadcast print_msg msg=hi password=hunter2 apikey=k3y --reply -d a1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines) -gt $n ]" 5
expect_json global_mask "$(last arguments)" '{"msg": "hi", "password": "***", "apikey": "***"}'
expect_not_contains secret_absent "$(cat "$audit")" '1234'
expect_not_contains secret_absent2 "$(cat "$audit")" 'hunter2'
expect_not_contains secret_not_logged "$(pidboxd_log a1)" 'hunter2'

n=$(lines)
ctl broadcast clock --reply -d a1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines) -gt $n ]" 5
expect_eq refused_decision "$(last decision)" refused
expect_eq refused_detail "$(last detail)" 'denied by policy rule'

n=$(lines)
ctl ping -d other --timeout 5 >/dev/null
wait_for "[ \$(lines) -gt $n ]" 5
expect_eq filtered_decision "$(last decision)" filtered

n=$(lines)
rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --expires 1000000000 --dest a1)" >/dev/null
wait_for "[ \$(lines) -gt $n ]" 5
expect_eq expired_decision "$(last decision)" expired

# --- SIGHUP reopens the file (log rotation)
mv "$audit" "$audit.1"
kill -HUP "${DPID[a1]}"
wait_for "pidboxd_log a1 | grep -q 'reloading'" 5
ctl ping -d a1 --timeout 5 >/dev/null
if wait_for "[ -s '$audit' ]" 5; then ok reopened_on_hup; else fail reopened_on_hup "no new file"; fi
expect_eq reopened_line "$(last method)" ping
expect_eq rotated_kept "$(wc -l <"$audit.1")" 6
expect_eq audit_mode "$(stat -c %a "$audit")" 600
finish
