#!/usr/bin/python3
"""Regenerate the seed corpora of the libFuzzer targets (issue 5).

tests/fuzz/mkcorpus.py [SPEC_VECTORS_DIR]

Seeds come from the captured wire traffic in ../shared/spec/vectors plus a
few hand-written edge cases; each file is named by the SHA-1 of its bytes,
so re-running is idempotent.  Keep the committed corpus small (< 2 MB).
"""
import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VEC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, '..', 'shared', 'spec', 'vectors')


def jsonl(name):
    with open(os.path.join(VEC, name), encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def put(target, data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


def envelope(body, **headers):
    return json.dumps({
        'body': base64.b64encode(body.encode()).decode(),
        'content-encoding': 'utf-8', 'content-type': 'application/json',
        'headers': headers,
        'properties': {'delivery_mode': 2, 'delivery_info': {
            'exchange': 'pidbox.pidbox', 'routing_key': ''},
            'priority': 0, 'body_encoding': 'base64',
            'delivery_tag': '0e9f2b4c-0000-4000-8000-000000000000'}})


def main():
    envs = jsonl('envelopes.jsonl')
    # one envelope per (producer, kind, method) keeps the corpus small
    seen = set()
    for e in envs:
        body = e.get('body')
        key = (e['producer'], e['kind'],
               body.get('method') if isinstance(body, dict) else None)
        if key in seen:
            continue
        seen.add(key)
        put('envelope', e['raw'])
        if e['kind'] == 'request':
            put('request', e['body_text'])
    for r in jsonl('node_dispatch.jsonl'):
        body = json.dumps(r['request_body'])
        put('request', body)
        put('envelope', envelope(body, **(r.get('request_headers') or {})))
    for bad in ['', '{}', '[]', 'null', '{"body": 1}', '{"body": "!!!"}',
                envelope('{"method": "ping"}', clock='x'),
                envelope('{"method": "ping"}', expires='soon'),
                envelope('[' * 200 + ']' * 200),
                json.dumps({'body': 'gAN9cQAu', 'content-type':
                            'application/x-python-serialize',
                            'content-encoding': 'binary', 'headers': {},
                            'properties': {'body_encoding': 'base64'}})]:
        put('envelope', bad)
    for bad in ['{"method": 1}', '{"method": "ping", "arguments": []}',
                '{"method": "ping", "destination": "w1"}',
                '{"method": "ping", "pattern": "w[", "matcher": "pcre"}',
                '{"method": "ping", "pattern": "*", "matcher": "regex"}',
                '{"method": "ping", "reply_to": "x"}',
                '{"method": "ping", "reply_to": {"exchange": 1}}',
                '{"method": "ping", "ticket": 5}', '{"a": ' * 100 + '1' +
                '}' * 100, '"\\ud800"', '{"method": "ping", "x": NaN}']:
        put('request', bad)

    for u in ['redis://localhost:6379/0', 'redis://', 'redis://h',
              'redis://:secret@h:6380/2', 'redis://user:p%40ss@[::1]:7000/3',
              'unix:///run/redis.sock?db=4', 'redis+socket:///tmp/r.sock',
              'redis://h/0?global_keyprefix=pfx_&fanout_prefix=false',
              'redis://h/0?fanout_prefix=%2Fx.&health_check_interval=5',
              'redis://h?socket_timeout=2.5&socket_connect_timeout=0.5',
              'rediss://h', 'redis://h:0', 'redis://h/x', 'redis://h#f',
              'sentinel://h1:26379;sentinel://h2:26380?master_name=mymaster',
              'sentinel://:pw@h1:26379/1;sentinel://h2?master_name=m',
              'sentinel://[::1]:26379?master_name=m&db=2',
              'redis://a:b@c/d@e']:
        put('url', u)

    for kv in ['a=1', 'n=5\nflag=true\nx=null', 'o={"a": [1, 2]}', 's="x"',
               'noequals', '=empty', 'k=', 'k=[1,', 'k=1e999', 'k=-0',
               'k=' + '[' * 50, 'key' * 30 + '=1']:
        put('kv', kv)

    with open(os.path.join(ROOT, 'conf', 'pidboxd.yaml'), 'rb') as f:
        put('config', f.read())
    for c in ['broker: redis://h/1\nnamespace: celery\ntype: direct\n',
              'hostname: w1@vm\nexpiry_skew: -1\nreply_ttl: 10\n',
              'max_message_size: 1024\nverbose: yes\npidfile: /run/p\n',
              'broker: [1, 2]\nunknown: 3\n', '- a\n- b\n', 'a: &x 1\nb: *x\n',
              'broker: "sentinel://h:26379?master_name=m"\n',
              '{broker: {a: b}}', 'type: fanout\ntype: direct\n', '']:
        put('config', c)


main()
