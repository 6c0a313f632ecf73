"""A real kombu.pidbox Node, the peer pidboxctl talks to in interop tests.

usage: kombu_node.py BROKER NAMESPACE fanout|direct HOSTNAME

Handlers: ping -> {"ok": "pong"}; echo(**kw) -> {"ok": kw} and prints
"ECHO {name: [type, value]}" so a test can see how arguments were typed;
print_msg(msg) prints "PRINT <msg>".  Prints READY once listen() returned
(fanout: the PSUBSCRIBE itself is sent by the first drain_events, so callers
also wait for the subscription in Redis).  Exits 0 on SIGTERM, releasing its
channel as a kombu application would.  KOMBU_TRANSPORT_OPTIONS (JSON) are
the Connection's transport_options (sentinel's master_name, fanout_prefix).
"""
import json
import os
import signal
import socket
import sys

import kombu
from kombu import pidbox

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def h_ping(state, **kw):
    return {"ok": "pong"}


def h_echo(state, **kw):
    typed = {k: [type(v).__name__, v] for k, v in sorted(kw.items())}
    print("ECHO", json.dumps(typed), flush=True)
    return {"ok": kw}


def h_print_msg(state, msg=None, **kw):
    print("PRINT", msg, flush=True)


def main():
    broker, ns, typ, host = sys.argv[1:5]
    signal.signal(signal.SIGTERM, on_term)
    conn = kombu.Connection(broker, transport_options=json.loads(
        os.environ.get("KOMBU_TRANSPORT_OPTIONS", "{}")))
    mailbox = pidbox.Mailbox(ns, type=typ)
    node = mailbox.Node(host, state={}, handlers={
        "ping": h_ping, "echo": h_echo, "print_msg": h_print_msg})
    node.channel = conn.channel()
    consumer = node.listen()
    print("READY", host, flush=True)
    while not stop:
        try:
            conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass
    consumer.cancel()
    node.channel.close()
    conn.release()
    print("EXIT", host, flush=True)


if __name__ == "__main__":
    main()
