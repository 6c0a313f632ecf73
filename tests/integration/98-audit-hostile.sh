#!/usr/bin/env bash
# The audit trail against whoever can publish on the broker (issue 10,
# point 3): 2.9 MB unsigned, unaddressed, expired or refused requests to a
# require_signed node write their decision and size, not their arguments;
# lines are cut to a bounded size; names are masked by substring at any
# depth; an unknown method is not audited as run; a line that cannot be
# written (full filesystem) is counted and logged, no partial line stays
# behind, and the daemon keeps answering.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

umask 077
hmac_key "$T/alice.key"
audit=$T/s1.jsonl
conf=$T/s1.yaml
cat >"$conf" <<YAML
signing:
  require_signed: true
  keys:
    alice: $T/alice.key
audit:
  file: $audit
  mask: [pin]
policy:
  rules:
    - deny: [clock]
YAML
start_pidboxd s1 -c "$conf" || exit 1

as() {	# CTL-ARGS...: pidboxctl signing as alice
	PIDBOX_IDENTITY=alice PIDBOX_KEY_FILE=$T/alice.key ctl "$@"
}
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
size() { stat -c %s "$1"; }
last() {	# FILE FIELD: that field of the last line, as JSON (strings raw)
	tail -n 1 "$1" | "$PY" -c 'import json, sys
v = json.loads(sys.stdin.read())[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$2"
}
all_json() {	# FILE: every line is one JSON object
	"$PY" -c 'import json, sys
for l in open(sys.argv[1], "rb"):
    assert l.endswith(b"\n"), l[:80]
    assert isinstance(json.loads(l), dict), l[:80]' "$1" 2>&1
}
# hostile KIND BYTES [DEST]: publish one unsigned request whose argument
# "blob" is BYTES long: filtered (addressed to nobody), unsigned (to DEST,
# reply wanted), expired, or foreign (reply_to another exchange).
hostile() {
	"$PY" - "$REDIS_SOCK" "$@" <<'PY'
import base64, json, sys, time, uuid
import redis
sock, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
dest = sys.argv[4] if len(sys.argv) > 4 else "s1"
body = {"method": "print_msg", "arguments": {"blob": "A" * n},
        "destination": ["nobody" if kind == "filtered" else dest],
        "pattern": None, "matcher": None}
headers = {"clock": 1, "expires": 0}
if kind == "unsigned":
    body["ticket"] = str(uuid.uuid4())
    body["reply_to"] = {"exchange": "reply.pidbox.pidbox",
                        "routing_key": str(uuid.uuid4())}
elif kind == "expired":
    headers["expires"] = time.time() - 3600
elif kind == "foreign":
    body["ticket"] = str(uuid.uuid4())
    body["reply_to"] = {"exchange": "app", "routing_key": "jobs"}
raw = json.dumps(body).encode()
env = {"body": base64.b64encode(raw).decode(), "content-encoding": "utf-8",
       "content-type": "application/json", "headers": headers,
       "properties": {"delivery_mode": 2, "priority": 0,
                      "delivery_info": {"exchange": "pidbox.pidbox",
                                        "routing_key": ""},
                      "body_encoding": "base64",
                      "delivery_tag": str(uuid.uuid4())}}
redis.Redis(unix_socket_path=sock).publish("/0.pidbox.pidbox", json.dumps(env))
PY
}

# --- 2.9 MB requests that are not run write no arguments
big=2900000
i=0
for kind in filtered unsigned expired foreign filtered filtered; do
	i=$((i + 1))
	n=$(lines "$audit")
	hostile $kind $big
	if ! wait_for "[ \$(lines '$audit') -gt $n ]" 10; then
		fail "${kind}${i}_audited" "no audit line"
		continue
	fi
	case $kind in
	filtered) want=filtered ;;
	expired) want=expired ;;
	*) want=refused ;;
	esac
	expect_eq "${kind}${i}_decision" "$(last "$audit" decision)" $want
	expect_eq "${kind}${i}_no_arguments" "$(last "$audit" arguments)" null
	expect_eq "${kind}${i}_size" "$(last "$audit" arguments_size)" $((big + 11))
done
sz=$(size "$audit")
echo "# 6 requests of $big bytes grew the audit file by $sz bytes"
if [ "$sz" -lt 8192 ]; then ok flood_not_written; else fail flood_not_written "$sz bytes"; fi
# signed, but refused by policy
n=$(lines "$audit")
as broadcast clock blob="$(head -c 100000 /dev/zero | tr '\0' B)" --reply -d s1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines '$audit') -gt $n ]" 5
expect_eq policy_refused_decision "$(last "$audit" decision)" refused
expect_eq policy_refused_no_arguments "$(last "$audit" arguments)" null
expect_eq policy_refused_size "$(last "$audit" arguments_size)" 100011

# --- masking by substring, at any depth, built-in names and audit.mask
n=$(lines "$audit")
as broadcast print_msg msg=hi db_password=hunter2 MyPin=4321 \
    'nested={"password": "s3cr3t", "list": [{"api_token": "t0k3n"}], "n": 1}' \
    'Private_KEY=k3y' --reply -d s1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines '$audit') -gt $n ]" 5
expect_eq masked_decision "$(last "$audit" decision)" run
expect_json masked_any_depth "$(last "$audit" arguments)" \
    '{"msg": "hi", "db_password": "***", "MyPin": "***", "Private_KEY": "***",
      "nested": {"password": "***", "list": [{"api_token": "***"}], "n": 1}}'
for s in hunter2 4321 s3cr3t t0k3n k3y; do
	expect_not_contains "secret_absent_$s" "$(cat "$audit")" "$s"
done

# --- values, lists, nesting and whole lines are bounded
n=$(lines "$audit")
long=$(head -c 100000 /dev/zero | tr '\0' x)
list=$(seq -s, 1 200)
deep='{"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": 1}}}}}}}}}}'
as broadcast print_msg msg="$long" "list=[$list]" "deep=$deep" \
    "u=x$(printf '\303\251%.0s' $(seq 1 600))" --reply -d s1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines '$audit') -gt $n ]" 5
out=$(tail -n 1 "$audit" | "$PY" -c '
import json, sys
line = sys.stdin.buffer.read()
a = json.loads(line)["arguments"]
d = a["deep"]
depth = 1
while isinstance(d, dict):
    d = d["a"]
    depth += 1
print(len(line) <= 16385, a["msg"] == "x" * 1024 + "...[cut 98976 bytes]",
      a["list"] == list(range(1, 65)) + ["[cut 136 items]"],
      depth, d, a["u"] == "x" + "\u00e9" * 511 + "...[cut 178 bytes]")')
expect_eq cut_values "$out" 'True True True 8 [cut: nested too deep] True'
n=$(lines "$audit")
kv=()
for i in $(seq 1 40); do kv+=("a$i=$(head -c 1000 /dev/zero | tr '\0' y)"); done
as broadcast print_msg "${kv[@]}" --reply -d s1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines '$audit') -gt $n ]" 5
asz=$(last "$audit" arguments_size)
expect_json line_cap_marker "$(last "$audit" arguments)" "{\"...\": \"[cut $asz bytes]\"}"
if [ "$(tail -n 1 "$audit" | wc -c)" -le 16385 ]; then ok line_capped; else fail line_capped "$(tail -n 1 "$audit" | wc -c) bytes"; fi

# --- an unknown method is not "run"
n=$(lines "$audit")
as broadcast frobnicate x=1 --reply -d s1 --timeout 5 >/dev/null 2>&1
wait_for "[ \$(lines '$audit') -gt $n ]" 5
expect_eq unknown_method_decision "$(last "$audit" decision)" unknown_method
expect_eq unknown_method_outcome "$(last "$audit" outcome)" error
expect_eq unknown_method_no_arguments "$(last "$audit" arguments)" null
expect_eq all_lines_json "$(all_json "$audit")" ''

# --- a full filesystem: counted, logged, no partial line, still serving
mnt=$T/full
mkdir "$mnt"
# unmount (lazily: pidboxd may still hold the file) before lib.sh cleans up
# shellcheck disable=SC2317 # run by the EXIT trap
unmount_cleanup() {
	local rc=$?
	umount -l "$mnt" 2>/dev/null
	(exit "$rc")
	_cleanup
}
trap unmount_cleanup EXIT
if mount -t tmpfs -o size=64k,mode=700 tmpfs "$mnt" 2>/dev/null; then
	faudit=$mnt/audit.jsonl
	# one valid line of 4000 bytes: 96 bytes left in its page, so the
	# next line is written in part before the disk is full
	"$PY" -c 'import json; print(json.dumps({"pad": "p" * 3988}))' >"$faudit"
	full=tmpfs
else
	echo "# cannot mount a tmpfs here: /dev/full as the audit file"
	faudit=/dev/full
	full=devfull
fi
printf 'audit:\n  file: %s\n' "$faudit" >"$T/f1.yaml"
start_pidboxd f1 -c "$T/f1.yaml" || exit 1
[ $full = tmpfs ] && dd if=/dev/zero of="$mnt/fill" bs=4k >/dev/null 2>&1
counter() {
	ctl --json broadcast stats --reply -d f1 --timeout 5 |
	    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["f1"]["counters"].get(sys.argv[1]))' "$1"
}
expect_contains full_still_answers "$(ctl ping -d f1 --timeout 5)" '->  f1: OK'
expect_eq full_counted "$(counter audit_lost)" 1
expect_contains full_logged "$(pidboxd_log f1)" 'audit: write'
if [ $full = tmpfs ]; then
	expect_eq full_no_partial_line "$(size "$faudit")" 4000
	# a burst of lost lines: all counted, the log rate-limited
	m=$(mkmsg --dest f1)
	for i in $(seq 1 100); do rcli PUBLISH /0.pidbox.pidbox "$m"; done >/dev/null
	# the first stats request's own line was lost too: 1 + 1 + 100
	if wait_for "[ \"\$(counter audit_lost)\" -ge 102 ]" 10; then
		ok burst_counted
	else
		fail burst_counted "audit_lost $(counter audit_lost), want >= 102"
	fi
	lost=$(counter audit_lost)
	nlog=$(pidboxd_log f1 | grep -c 'audit: write')
	echo "# $lost audit lines lost, $nlog log lines about it"
	if [ $((nlog * 2)) -lt "$lost" ]; then ok burst_log_limited; else fail burst_log_limited "$nlog log lines for $lost lost"; fi
	rm -f "$mnt/fill"
	expect_contains room_again_answers "$(ctl ping -d f1 --timeout 5)" '->  f1: OK'
	expect_eq room_again_line "$(last "$faudit" method)" ping
	expect_eq room_again_json "$(all_json "$faudit")" ''
fi
finish
