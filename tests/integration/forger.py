#!/usr/bin/python3
"""Someone with write access to Redis answering for a node (issue 13):
subscribes to the fanout channel of namespace NS and LPUSHes, for every
request with a reply_to, one reply {NODE: {"ok": "I am not NODE"}} into
the client's reply list, before the real node can. Prints READY once
subscribed, "answered" after each reply.

forger.py REDIS_SOCKET NS NODE MODE [KEY-BASE64]
MODE: unsigned   no signature headers
      badsig     the node's real public key (KEY-BASE64) and a signature
                 that is not the node's
"""
import base64
import json
import sys
import uuid


def envelope(raw, rk, ns, headers):
    return json.dumps({
        'body': base64.b64encode(raw).decode(),
        'content-encoding': 'utf-8', 'content-type': 'application/json',
        'headers': headers,
        'properties': {'delivery_mode': 1, 'priority': 0,
                       'body_encoding': 'base64',
                       'delivery_tag': str(uuid.uuid4()),
                       'delivery_info': {'exchange': 'reply.%s.pidbox' % ns,
                                         'routing_key': rk}}})


def main():
    import redis
    sock, ns, node, mode = sys.argv[1:5]
    key = sys.argv[5] if len(sys.argv) > 5 else None
    r = redis.Redis(unix_socket_path=sock)
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe('/0.%s.pidbox' % ns)
    p.get_message(timeout=5)
    print('READY', flush=True)
    for m in p.listen():
        try:
            env = json.loads(m['data'])
            req = json.loads(base64.b64decode(env['body']))
            rk = req['reply_to']['routing_key']
        except (ValueError, KeyError, TypeError):
            continue
        raw = json.dumps({node: {'ok': 'I am not %s' % node}}).encode()
        headers = {'ticket': req.get('ticket'), 'clock': 1}
        if mode == 'badsig':
            headers['x-pidbox-node-key'] = key
            headers['x-pidbox-reply-signature'] = \
                base64.b64encode(bytes(64)).decode()
        r.lpush('%s.reply.%s.pidbox' % (rk, ns),
                envelope(raw, rk, ns, headers))
        print('answered', req.get('method'), flush=True)


if __name__ == '__main__':
    main()
