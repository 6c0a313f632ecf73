"""A real kombu Mailbox client, the peer pidboxd answers in interop tests.

usage: kombu_client.py BROKER NAMESPACE fanout|direct METHOD JSON-ARGS
           [--destination a,b] [--pattern P --matcher M] [--timeout S]
           [--limit N] [--cast]

Prints the reply list kombu returned as JSON (null for --cast).
KOMBU_TRANSPORT_OPTIONS (JSON) are the Connection's transport_options.
"""
import argparse
import json
import os

import kombu
from kombu import pidbox


def main():
    p = argparse.ArgumentParser()
    p.add_argument("broker")
    p.add_argument("namespace")
    p.add_argument("type", choices=["fanout", "direct", "topic"])
    p.add_argument("method")
    p.add_argument("arguments", nargs="?", default="{}")
    p.add_argument("--destination")
    p.add_argument("--pattern")
    p.add_argument("--matcher")
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--limit", type=int)
    p.add_argument("--cast", action="store_true")
    a = p.parse_args()

    dest = a.destination.split(",") if a.destination else None
    with kombu.Connection(a.broker, transport_options=json.loads(
            os.environ.get("KOMBU_TRANSPORT_OPTIONS", "{}"))) as conn:
        bound = pidbox.Mailbox(a.namespace, type=a.type)(conn)
        r = bound._broadcast(a.method, json.loads(a.arguments),
                             destination=dest, reply=not a.cast,
                             timeout=a.timeout, limit=a.limit,
                             pattern=a.pattern, matcher=a.matcher)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
