#!/usr/bin/env bash
# Hostile replies (issue 10, point 6): a fake node that LPUSHes junk and a
# second reply under its own name into pidboxctl's reply list, before the
# real node answers, can no longer end the collection early (at the
# PUBLISH receiver count or the -d count); --json keeps a node's first
# reply; the junk and the duplicate are counted and reported on stderr,
# escaped.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

# The real node's method waits for the gate file, which the fake node
# creates once its junk is in the reply list: the real reply always comes
# after the junk, without any sleep in the test.
GATE=$T/gate
conf=$T/real.yaml
cat >"$conf" <<YAML
methods:
  gated:
    argv: [/bin/sh, -c, 'while [ ! -e $GATE ]; do sleep 0.02; done; rm -f $GATE; echo real-done']
    timeout: 20
YAML
chmod 600 "$conf"
start_pidboxd real -c "$conf" || exit 1

# The fake node: subscribes like a node, and for each request pushes, in
# one LPUSH (popped in this order): a valid reply as FAKE, five malformed
# replies, a second reply as FAKE; then opens the gate.
cat >"$T/fake.py" <<'PY'
import base64, json, sys, uuid
import redis

sock, gate, fake = sys.argv[1], sys.argv[2], sys.argv[3]
r = redis.Redis(unix_socket_path=sock)
p = r.pubsub()
p.subscribe('/0.pidbox.pidbox')
while p.get_message(timeout=5) is None:
    pass
print('READY', flush=True)


def env(text, ticket):
    return json.dumps({
        'body': base64.b64encode(text.encode()).decode(),
        'content-encoding': 'utf-8', 'content-type': 'application/json',
        'headers': {'ticket': ticket, 'clock': 1},
        'properties': {'delivery_mode': 2, 'priority': 0,
                       'body_encoding': 'base64',
                       'delivery_tag': str(uuid.uuid4()),
                       'delivery_info': {'exchange': 'reply.pidbox.pidbox',
                                         'routing_key': ''}}})


for m in p.listen():
    if m['type'] != 'message':
        continue
    e = json.loads(m['data'])
    body = json.loads(base64.b64decode(e['body']))
    rt, ticket = body.get('reply_to'), body.get('ticket')
    if not rt:
        continue
    queue = None
    for mem in r.smembers('_kombu.binding.reply.pidbox.pidbox'):
        f = mem.split(b'\x06\x16')
        if len(f) == 3 and f[0].decode() == rt['routing_key']:
            queue = f[2]
    if queue is None:
        print('no binding for', rt, flush=True)
        continue
    r.lpush(queue,
            env(json.dumps({fake: {'ok': 'first'}}), ticket),
            b'not json at all \x1b[2J',
            env('[1, 2]', ticket),
            env('{"a": 1, "b": 2}', ticket),
            env('"just a string"', ticket),
            env('not json either', ticket),
            env(json.dumps({fake: {'ok': 'second'}}), ticket))
    open(gate, 'w').close()
    print('PUSHED', flush=True)
PY
FAKE=$'fake\e[2J'
before=$(nsubs)
bg fake "$PY" "$T/fake.py" "$REDIS_SOCK" "$GATE" "$FAKE"
wait_for "grep -q READY '$T/fake.log' && [ \$(nsubs) -gt $before ]" 10 ||
	fail fake_ready "$(cat "$T/fake.log")"

# value JSON NAME: the reply of NAME in a --json document
value() {
	"$PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]).get(sys.argv[2])))' "$1" "$2"
}

# --- the receiver count (2: real and fake) must wait for the real node
out=$(ctl --json broadcast gated --reply --timeout 10 2>"$T/err")
rc=$?
err=$(cat "$T/err")
expect_eq receivers_exit_0 "$rc" 0
expect_contains receivers_real_shown "$(value "$out" real)" 'real-done'
expect_json receivers_first_kept "$(value "$out" "$FAKE")" '{"ok": "first"}'
expect_eq receivers_no_junk_nodes "$("$PY" -c 'import json, sys; print(sorted(json.loads(sys.argv[1])))' "$out")" "['fake\\x1b[2J', 'real']"
expect_contains receivers_junk_counted "$err" '5 malformed replies skipped'
expect_contains receivers_dup_counted "$err" '1 duplicate reply not counted'
expect_contains receivers_dup_named "$err" 'duplicate node name fake'
expect_not_contains receivers_dup_escaped "$err" $'\e'
expect_eq receivers_junk_warnings_limited "$(grep -c 'reply skipped' <<<"$err")" 3

# --- -d real: neither the junk nor the fake's replies end the wait
out=$(ctl --json broadcast gated --reply -d real --timeout 10 2>"$T/err")
rc=$?
err=$(cat "$T/err")
expect_eq dest_exit_0 "$rc" 0
expect_contains dest_real_shown "$(value "$out" real)" 'real-done'
expect_contains dest_junk_counted "$err" '5 malformed replies skipped'

# --- text: the real reply is shown; only the bound node is expected
# (issue 14.6), the fake's reply is shown but expects nobody
out=$(ctl --summary broadcast gated --reply --timeout 10 2>"$T/err")
expect_eq text_exit_0 "$?" 0
expect_contains text_real_shown "$out" '->  real: OK'
expect_contains text_summary "$out" 'summary: 1 expected (bound), 2 replied, 0 errors, 0 missing'

expect_eq fake_answered_each "$(grep -c PUSHED "$T/fake.log")" 3
assert_no_reply_keys no_reply_keys_left
finish
