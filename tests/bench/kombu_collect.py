"""A warm kombu Mailbox client: the time to collect N replies (issue 17).

usage: kombu_collect.py BROKER NAMESPACE N ROUNDS

One connection; per round one broadcast ping with limit=N, timed. Prints
"kombu_collect nodes=N rounds=R p50_ms=... min_ms=... max_ms=..." like
loadgen.
"""
import sys
import time

import kombu
from kombu import pidbox


def main():
    broker, ns, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    t = []
    fails = 0
    with kombu.Connection(broker) as conn:
        bound = pidbox.Mailbox(ns, type="fanout")(conn)
        for i in range(rounds + 1):
            t0 = time.monotonic()
            r = bound._broadcast("ping", {}, reply=True, timeout=20, limit=n)
            dt = time.monotonic() - t0
            if len(r) != n:
                fails += 1
            if i > 0:       # the first round warms up
                t.append(dt * 1e3)
    t.sort()
    print("kombu_collect nodes=%d rounds=%d fails=%d p50_ms=%.1f min_ms=%.1f max_ms=%.1f"
          % (n, rounds, fails, t[(len(t) - 1) // 2], t[0], t[-1]), flush=True)


if __name__ == "__main__":
    main()
