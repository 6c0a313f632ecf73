#!/usr/bin/env bash
# Issue 10.1: one hostile message must not deafen pidboxd to kombu clients.
# A request with headers.clock = 2^63 - 1 (unaddressed, unsigned) used to pin
# the node's Lamport clock at INT64_MAX; a real kombu Mailbox then adopted the
# reply's clock and sent 2^63 (Python ints have no bound), which pidboxd
# dropped as "not an integer": that client was deaf until both restarted.
# Now only a request that passed addressing and the signature check moves
# the clock, any number is clamped (never a reason to drop), and a real
# kombu client keeps being answered after any of these poisons.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd
start_redis
start_pidboxd node1 || exit 1

# node_clock: the node's clock as its `clock` method reports it.
node_clock() {
	ctl --json clock -d node1 -t 2 2>/dev/null | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["node1"]["clock"])'
}

# A real kombu 5.2 Mailbox that keeps its clock across calls, as a
# long-running Celery app or Flower does: ping node1 $1 times, print the
# number of answered calls, then the largest clock the client holds.
kombu_pings() {
	"$PY" - "$BROKER" "$1" <<'PYEOF'
import sys
import kombu
from kombu import pidbox
n, answered = int(sys.argv[2]), 0
with kombu.Connection(sys.argv[1]) as conn:
    m = pidbox.Mailbox("pidbox", type="fanout")(conn)
    for _ in range(n):
        r = m._broadcast("ping", {}, destination=["node1"], reply=True,
                         timeout=2.0)
        answered += r == [{"node1": {"ok": "pong"}}]
    print(answered, m.clock.value)
PYEOF
}

before=$(node_clock)
expect_ne clock_readable "$before" ""

# 1. unaddressed poison: must not move the clock at all
for c in 9223372036854775807 9223372036854775808 \
    340282366920938463463374607431768211456 -5 1e300; do
	rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest nobody --clock "$c")" >/dev/null
done
after=$(node_clock)
# the `clock` call itself moves it by a few ticks (adjust + forward)
if [ -n "$after" ] && [ "$after" -lt $((before + 10)) ]; then
	ok unaddressed_poison_ignored
else
	fail unaddressed_poison_ignored "clock $before -> $after"
fi
out=$(kombu_pings 3)
expect_eq kombu_answered_after_unaddressed_poison "${out%% *}" 3

# 2. addressed poison (this node has no signing: anyone may command it):
# the clock is clamped to 2^53 - 1, kombu adopts what we reply and every
# later request of that client is still answered.
rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest node1 --clock 9223372036854775807)" >/dev/null
rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest node1 --clock 340282366920938463463374607431768211456)" >/dev/null
if wait_for '[ "$(node_clock)" -ge 9007199254740991 ]' 5; then
	ok addressed_poison_clamped
else
	fail addressed_poison_clamped "clock $(node_clock)"
fi
out=$(kombu_pings 3)
expect_eq kombu_answered_after_addressed_poison "${out%% *}" 3
kclock=${out##* }
if [ -n "$kclock" ] && [ "$kclock" -lt 9223372036854775807 ] 2>/dev/null; then
	ok reply_clock_fits_int64
else
	fail reply_clock_fits_int64 "kombu client clock $kclock"
fi
# a kombu peer whose own clock is already past 2^63 is still answered
rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest node1 --clock 9223372036854775808)" >/dev/null
rcli PUBLISH /0.pidbox.pidbox "$(mkmsg --dest node1 --clock 5.5)" >/dev/null
if wait_for 'grep -q "clock header" "$T/pidboxd.node1.log"' 1; then
	fail big_clock_not_dropped "$(grep 'clock header' "$T/pidboxd.node1.log" | head -n 1)"
else
	ok big_clock_not_dropped
fi
out=$(ctl ping -d node1 -t 2 2>&1)
expect_contains pidboxctl_still_answered "$out" "node1: OK"
alive "${DPID[node1]}"
expect_eq node_survived "$?" 0
finish
