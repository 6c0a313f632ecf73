#!/usr/bin/python3
"""A hostile pidbox node (issue 10, point 4): subscribes to the fanout
channel of namespace NS and answers every request that has a reply_to
with the replies below, whose node names, values and error texts carry
terminal control sequences (CR, BS, BEL, ESC[K, OSC, C1, raw bytes).
Prints READY once subscribed.

hostile_node.py REDIS_SOCKET NS
hostile_node.py --count     the number of replies sent per request (not
                            to stats or rawbytes)
hostile_node.py --check [--pty] [--color] [--empty-ok] FILE
    exit 1 (saying why) when FILE holds a control character, DEL, a C1
    control (raw byte or UTF-8) or ill-formed UTF-8; newlines and tabs are
    allowed only where structural (newline). --pty: the terminal's CRLF
    becomes LF first; --color: pidboxctl's own SGR colors and erase-line
    are removed first."""
import base64
import json
import re
import sys
import uuid


def body(node, value):
    return json.dumps({node: value}).encode()


# reply bodies (bytes): STATS to stats, RAW to rawbytes, REPLIES to the rest
REPLIES = [
    body('zz\r->  web-1: OK\x1b[K', {'ok': 'pong'}),
    body('bell\a\b\bx', {'ok': 'a\rb\x1b]0;owned\x07c'}),
    body('err\x1b[31m', {'error': 'boom\r\x1b[2Jgone\x9b\x7f'}),
    body('caf\u00e9-\u00fc', {'ok': ['item\x07\x1b]0;t\x07', 'plain',
                                   {'k': 'v\x1b'}]}),
    body('nl\n->  fake: OK', {'ok': 'line1\n\x1b[Aline2'}),
]
RAW = [b'{"raw\x9bnode": {"ok": "x\x9by\xc3"}}']
STATS = [
    body('st\r\x1b[K', {'version': '1.0\r\x1b]0;v\x07', 'uptime': 5}),
]


def envelope(raw, rk, ns, headers):
    return json.dumps({
        'body': base64.b64encode(raw).decode(),
        'content-encoding': 'utf-8', 'content-type': 'application/json',
        'headers': headers,
        'properties': {'delivery_mode': 1, 'delivery_info': {
            'exchange': 'reply.%s.pidbox' % ns, 'routing_key': rk},
            'priority': 0, 'body_encoding': 'base64',
            'delivery_tag': str(uuid.uuid4())}})


def serve(sock, ns, answer):
    """Subscribe to the fanout channel of NS, print READY; for every
    request with a reply_to LPUSH the replies answer(request) gives, as
    (body bytes, headers) pairs, into the client's reply list and print
    "answered METHOD"."""
    import redis
    r = redis.Redis(unix_socket_path=sock)
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe('/0.%s.pidbox' % ns)
    p.get_message(timeout=5)    # the subscribe confirmation
    print('READY', flush=True)
    for m in p.listen():
        try:
            env = json.loads(m['data'])
            req = json.loads(base64.b64decode(env['body']))
            rk = req['reply_to']['routing_key']
        except (ValueError, KeyError, TypeError):
            continue
        for raw, headers in answer(req):
            r.lpush('%s.reply.%s.pidbox' % (rk, ns),
                    envelope(raw, rk, ns, headers))
        print('answered', req.get('method'), flush=True)


def hostile(req):
    m, ticket = req.get('method'), req.get('ticket')
    headers = {'ticket': ticket, 'clock': 4} if ticket else {'clock': 4}
    bodies = STATS if m == 'stats' else RAW if m == 'rawbytes' else REPLIES
    return [(raw, headers) for raw in bodies]


def check(path, pty, color, empty_ok):
    data = open(path, 'rb').read()
    if pty:
        data = data.replace(b'\r\n', b'\n')
    if color:
        data = re.sub(rb'\x1b\[(3[0-9]|0)m', b'', data)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        sys.exit('ill-formed UTF-8 at %d: %r' % (e.start,
                 data[max(0, e.start - 20):e.start + 20]))
    for i, c in enumerate(text):
        o = ord(c)
        if (o < 0x20 and c != '\n') or 0x7f <= o <= 0x9f:
            sys.exit('raw control U+%04X at %d: %r' % (o, i,
                     text[max(0, i - 20):i + 20]))
    if not text and not empty_ok:
        sys.exit('empty output')


if __name__ == '__main__':
    if sys.argv[1] == '--count':
        print(len(REPLIES))
    elif sys.argv[1] == '--check':
        check(sys.argv[-1], '--pty' in sys.argv, '--color' in sys.argv,
              '--empty-ok' in sys.argv)
    else:
        serve(sys.argv[1], sys.argv[2], hostile)
