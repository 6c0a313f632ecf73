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

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from hostile_node import serve  # noqa: E402


def main():
    sock, ns, node, mode = sys.argv[1:5]
    key = sys.argv[5] if len(sys.argv) > 5 else None

    def forge(req):
        raw = json.dumps({node: {'ok': 'I am not %s' % node}}).encode()
        headers = {'ticket': req.get('ticket'), 'clock': 1}
        if mode == 'badsig':
            headers['x-pidbox-node-key'] = key
            headers['x-pidbox-reply-signature'] = \
                base64.b64encode(bytes(64)).decode()
        return [(raw, headers)]
    serve(sock, ns, forge)


if __name__ == '__main__':
    main()
