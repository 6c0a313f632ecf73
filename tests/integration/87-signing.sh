#!/usr/bin/env bash
# Signed commands (issue 4): pidboxctl signs with PIDBOX_KEY_FILE; pidboxd
# with require_signed refuses unsigned, forged, expired and replayed
# requests (error reply, log line, stats counter); policy rules per
# identity; a real Celery worker still answers a signed ping.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

umask 077
hmac_key "$T/alice.key" "$T/bob.key" "$T/mallory.key"
conf=$T/signed.yaml
cat >"$conf" <<YAML
methods:
  deploy:
    argv: [/bin/echo, deployed]
signing:
  require_signed: true
  keys:
    alice: $T/alice.key
    bob: $T/bob.key
policy:
  rules:
    - allow: [deploy]
      identities: [alice]
    - deny: [deploy]
YAML
start_pidboxd s1 -c "$conf" || exit 1

as() {	# IDENTITY KEYFILE CTL-ARGS...
	local id=$1 key=$2
	shift 2
	PIDBOX_IDENTITY=$id PIDBOX_KEY_FILE=$key ctl "$@"
}
value() {	# NODE JSON: the node's value
	"$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"
}
counter() {
	as alice "$T/alice.key" --json broadcast stats --reply -d s1 --timeout 5 |
	    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["s1"]["counters"][sys.argv[1]])' "$1"
}

out=$(as alice "$T/alice.key" ping -d s1 --timeout 5)
expect_contains signed_ping_ok "$out" '->  s1: OK'
out=$(ctl --json ping -d s1 --timeout 5 | value s1)
expect_json unsigned_refused "$out" '{"error": "refused: unsigned request (signatures are required)"}'
out=$(as alice "$T/mallory.key" --json ping -d s1 --timeout 5 | value s1)
expect_json forged_refused "$out" '{"error": "refused: bad signature"}'
out=$(as carol "$T/alice.key" --json ping -d s1 --timeout 5 | value s1)
expect_json unknown_identity_refused "$out" '{"error": "refused: no key for this identity"}'
out=$(as alice "$T/alice.key" --json broadcast deploy --reply -d s1 --timeout 5 | value s1)
expect_contains identity_policy_allows "$out" '"stdout": "deployed\n"'
out=$(as bob "$T/bob.key" --json broadcast deploy --reply -d s1 --timeout 5 | value s1)
expect_json identity_policy_refuses "$out" '{"error": "refused: denied by policy rule"}'
expect_contains refusal_logged "$(pidboxd_log s1)" 'refused request'

# --- expired and replayed: envelopes signed here, published twice
sign() {	# EXPIRES-OFFSET NONCE: a signed cast of print_msg on stdout
	"$PY" - "$T/alice.key" "$1" "$2" <<'PY'
import base64, hmac, hashlib, json, sys, time, uuid
key = open(sys.argv[1], "rb").read()
if key.endswith(b"\n"):
    key = key[:-1]
exp = int(time.time()) + int(sys.argv[2])
body = json.dumps({"method": "print_msg", "arguments": {"msg": "signed " + sys.argv[3]},
                   "destination": ["s1"], "pattern": None, "matcher": None}).encode()
canon = b"pidbox-hmac-sha256-v1\npidbox.pidbox\nalice\n" + sys.argv[3].encode() + \
    b"\n" + str(exp).encode() + b"\n" + body
sig = hmac.new(key, canon, hashlib.sha256).hexdigest()
print(json.dumps({"body": base64.b64encode(body).decode(), "content-encoding": "utf-8",
    "content-type": "application/json",
    "headers": {"clock": 1, "expires": time.time() + 10, "x-pidbox-identity": "alice",
                "x-pidbox-nonce": sys.argv[3], "x-pidbox-expires": exp, "x-pidbox-signature": sig},
    "properties": {"delivery_mode": 2, "delivery_info": {"exchange": "pidbox.pidbox", "routing_key": ""},
                   "priority": 0, "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}}))
PY
}
good=$(sign 60 0123456789abcdef0123456789abcdef)
rcli PUBLISH /0.pidbox.pidbox "$good" >/dev/null
if wait_for "pidboxd_log s1 | grep -q 'print_msg: signed 0123456789abcdef0123456789abcdef'" 5; then
	ok python_signed_accepted
else
	fail python_signed_accepted "not executed"
fi
rcli PUBLISH /0.pidbox.pidbox "$good" >/dev/null
if wait_for "pidboxd_log s1 | grep -q 'replayed request'" 5; then ok replay_refused; else fail replay_refused "no log line"; fi
expect_eq replay_not_run "$(pidboxd_log s1 | grep -c 'print_msg: signed 0123456789abcdef')" 1
old=$(sign -3600 fedcba9876543210fedcba9876543210)
rcli PUBLISH /0.pidbox.pidbox "$old" >/dev/null
if wait_for "pidboxd_log s1 | grep -q 'signature expired'" 5; then ok expired_refused; else fail expired_refused "no log line"; fi
far=$(sign 86400 00000000000000000000000000000001)
rcli PUBLISH /0.pidbox.pidbox "$far" >/dev/null
if wait_for "pidboxd_log s1 | grep -q 'signature expiry too far ahead'" 5; then ok far_expiry_refused; else fail far_expiry_refused "no log line"; fi
# a body changed after signing is forged
tampered=$(printf '%s' "$good" | "$PY" -c '
import base64, json, sys
e = json.load(sys.stdin)
b = json.loads(base64.b64decode(e["body"]))
b["arguments"]["msg"] = "tampered"
e["body"] = base64.b64encode(json.dumps(b).encode()).decode()
e["headers"]["x-pidbox-nonce"] = "1" * 32
print(json.dumps(e))')
rcli PUBLISH /0.pidbox.pidbox "$tampered" >/dev/null
if wait_for "[ \$(pidboxd_log s1 | grep -c 'bad signature') -ge 2 ]" 5; then ok tampered_refused; else fail tampered_refused "no log line"; fi
expect_not_contains tampered_not_run "$(pidboxd_log s1)" 'print_msg: tampered'

expect_eq count_unsigned "$(counter unsigned_refused)" 1
expect_eq count_forged "$(counter forged)" 3
expect_eq count_expired "$(counter sig_expired)" 2
expect_eq count_replayed "$(counter replayed)" 1

# --- a shared key (any identity) and an unsigned-tolerant node
cat >"$T/shared.yaml" <<YAML
signing:
  key_file: $T/mallory.key
YAML
start_pidboxd s2 -c "$T/shared.yaml" || exit 1
expect_contains shared_key_signed "$(as anyone "$T/mallory.key" ping -d s2 --timeout 5)" '->  s2: OK'
expect_contains optional_unsigned_ok "$(ctl ping -d s2 --timeout 5)" '->  s2: OK'
out=$(as anyone "$T/alice.key" --json ping -d s2 --timeout 5 | value s2)
expect_json optional_forged_refused "$out" '{"error": "refused: bad signature"}'

# --- a real Celery worker ignores the signature headers
if start_celery_worker sw1@test; then
	out=$(as alice "$T/alice.key" -N celery ping -d sw1@test --timeout 10 2>&1)
	expect_contains celery_answers_signed_ping "$out" '->  sw1@test: OK'
fi
finish
