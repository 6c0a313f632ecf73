#!/usr/bin/python3
"""Flood a pidbox fanout channel with garbage, interleaved with valid
requests whose replies go to our own bound reply queue (issue 5).
About 25 MB in all, below Redis' 32 MB pub/sub output buffer limit.

flood.py REDIS_SOCKET CHANNEL NS N_BAD N_GOOD REPLY_OID
Prints the number of valid requests sent."""
import base64
import json
import sys
import time
import uuid

import redis

sock, channel, ns, nbad, ngood, oid = sys.argv[1:7]
nbad, ngood = int(nbad), int(ngood)
r = redis.Redis(unix_socket_path=sock)
SEP = '\x06\x16'
r.sadd('_kombu.binding.reply.%s.pidbox' % ns,
       oid + SEP + SEP + oid + '.reply.%s.pidbox' % ns)


def env(body, ctype='application/json', headers=None, b64=True):
    if isinstance(body, str):
        body = body.encode()
    return json.dumps({
        'body': base64.b64encode(body).decode() if b64 else body.decode(),
        'content-encoding': 'utf-8', 'content-type': ctype,
        'headers': headers if headers is not None else {'clock': 1},
        'properties': {'delivery_mode': 2, 'delivery_info': {
            'exchange': ns + '.pidbox', 'routing_key': ''}, 'priority': 0,
            'body_encoding': 'base64', 'delivery_tag': str(uuid.uuid4())}})


def req(method, **kw):
    d = {'method': method, 'arguments': {}, 'destination': None,
         'pattern': None, 'matcher': None}
    d.update(kw)
    return json.dumps(d)


now = time.time()
bad = [
    'not json at all {',
    json.dumps({'body': '!!!not base64!!!', 'content-type':
                'application/json', 'headers': {}, 'properties':
                {'body_encoding': 'base64'}}),
    env(b'\x80\x03}q\x00.', ctype='application/x-python-serialize'),
    '[' * 300 + ']' * 300,
    env('{"method": ' + '[' * 300 + ']' * 300 + '}'),
    env(req('ping', arguments=[1, 2])),
    env(req('ping', destination='notalist')),
    env(req('no_such_method_xyz')),
    env(req('ping', reply_to={'exchange': 'reply.%s.pidbox' % ns,
                              'routing_key': oid}),
        headers={'clock': 1, 'expires': now - 3600}),
    env(req('ping'), headers={'clock': 'x'}),
]
huge = env(req('ping', pad='x' * 20000))
p = r.pipeline(transaction=False)
good = 0
step = max(1, nbad // max(1, ngood))
for i in range(nbad):
    # bodies over the cap (20 kB, run with max_message_size 16384) are
    # rare: Redis drops a subscriber whose output buffer passes 32 MB
    p.publish(channel, huge if i % 500 == 0 else bad[i % len(bad)])
    if i % step == 0 and good < ngood:
        p.publish(channel, env(req('ping', ticket=str(uuid.uuid4()),
                                   reply_to={'exchange': 'reply.%s.pidbox' % ns,
                                             'routing_key': oid})))
        good += 1
    if i % 500 == 499:
        p.execute()
p.execute()
print(good)
