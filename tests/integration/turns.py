#!/usr/bin/python3
"""A TCP proxy LISTEN_PORT -> 127.0.0.1:TARGET_PORT that records, for
each connection, the client's round trips (issue 17.3): a turn is what
the client sends before the server's next bytes come back, so commands
pipelined in one write share a turn and a command sent only after an
answer starts a new one. When a connection closes, one line goes to
OUT_FILE: the turns as JSON, each the list of its command names, e.g.
[["PING", "SADD", "EVAL"], ["PUBLISH", "BRPOP"]]."""
import json
import selectors
import socket
import sys

import proxylib

lport, tport, outfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


class Conn:
    def __init__(self):
        self.buf = b''
        self.turns = []
        self.answered = True    # the server spoke since the client last did

    def feed(self, data):
        """The command names of every complete RESP array in the stream."""
        if self.answered:
            self.turns.append([])
            self.answered = False
        self.buf += data
        while True:
            name, rest = parse(self.buf)
            if name is None:
                return
            self.turns[-1].append(name)
            self.buf = rest


def line(b, i):
    j = b.find(b'\r\n', i)
    return (None, i) if j < 0 else (b[i:j], j + 2)


def parse(b):
    """(command name, rest) of the first complete *N array of $ bulk
    strings in b, or (None, b)."""
    head, i = line(b, 0)
    if head is None or not head.startswith(b'*'):
        return None, b
    name = None
    for _ in range(int(head[1:])):
        h, i = line(b, i)
        if h is None or not h.startswith(b'$'):
            return None, b
        n = int(h[1:])
        if len(b) < i + n + 2:
            return None, b
        if name is None:
            name = b[i:i + n].decode('ascii', 'replace').upper()
        i += n + 2
    return name, b[i:]


ls, sel = proxylib.listen(lport)
peer, client = {}, {}
print('READY', flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            c, _ = ls.accept()
            u = socket.create_connection(('127.0.0.1', tport))
            peer[c], peer[u] = u, c
            client[c] = Conn()
            sel.register(c, selectors.EVENT_READ)
            sel.register(u, selectors.EVENT_READ)
            continue
        if s not in peer:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b''
        if not data:
            o = peer.pop(s)
            peer.pop(o, None)
            for x in (s, o):
                sel.unregister(x)
                x.close()
            st = client.pop(s, None) or client.pop(o)
            with open(outfile, 'a') as f:
                f.write(json.dumps(st.turns) + '\n')
            continue
        if s in client:
            client[s].feed(data)
        else:
            client[peer[s]].answered = True
        peer[s].sendall(data)
