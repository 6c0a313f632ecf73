#!/usr/bin/python3
"""A TCP proxy LISTEN_PORT -> 127.0.0.1:TARGET_PORT that, on SIGUSR1,
silently stops forwarding on every connection open at that moment (no
FIN, no RST: a network black hole); new connections are forwarded
normally (issue 5). After SIGUSR2, new connections are accepted and
black-holed too (a partition)."""
import selectors
import signal
import socket
import sys

import proxylib

lport, tport = int(sys.argv[1]), int(sys.argv[2])
ls, sel = proxylib.listen(lport)
peer = {}
dead = set()


partitioned = False


def blackhole(*_):
    dead.update(peer.keys())


def partition(*_):
    global partitioned
    partitioned = True
    blackhole()


signal.signal(signal.SIGUSR1, blackhole)
signal.signal(signal.SIGUSR2, partition)
print('READY', flush=True)
while True:
    try:
        events = sel.select()
    except InterruptedError:
        continue
    for key, _ in events:
        s = key.fileobj
        if s is ls:
            c, _ = ls.accept()
            u = socket.create_connection(('127.0.0.1', tport))
            peer[c], peer[u] = u, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(u, selectors.EVENT_READ)
            if partitioned:
                dead.update((c, u))
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b''
        if s in dead:
            continue        # swallow: nothing goes through any more
        if not data:
            for x in (s, peer[s]):
                sel.unregister(x)
                x.close()
            o = peer.pop(s)
            peer.pop(o, None)
            continue
        peer[s].sendall(data)
