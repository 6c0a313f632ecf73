"""N real kombu pidbox Nodes (fanout), the anchor of `make bench`.

usage: kombu_fleet.py BROKER NAMESPACE N PREFIX

kombu is imported once and the process forks N children, each with its own
connection and Node named PREFIX<i> answering ping -> {"ok": "pong"} (the
same handler as tests/interop/kombu_node.py). Prints "PID <pid>" per child
and READY. On SIGTERM the parent terminates its children and exits; each
child also dies with its parent (PR_SET_PDEATHSIG).
"""
import ctypes
import os
import signal
import socket
import sys

import kombu
from kombu import pidbox


def h_ping(state, **kw):
    return {"ok": "pong"}


def child(broker, ns, name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn = kombu.Connection(broker)
    mailbox = pidbox.Mailbox(ns, type="fanout")
    node = mailbox.Node(name, state={}, handlers={"ping": h_ping})
    node.channel = conn.channel()
    node.listen()
    while True:
        try:
            conn.drain_events(timeout=1)
        except socket.timeout:
            pass


def main():
    broker, ns, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    kids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                child(broker, ns, "%s%d" % (prefix, i))
            finally:
                os._exit(1)
        kids.append(pid)
        print("PID", pid, flush=True)

    def on_term(signum, frame):
        for k in kids:
            try:
                os.kill(k, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for k in kids:
            try:
                os.waitpid(k, 0)
            except ChildProcessError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("READY", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
