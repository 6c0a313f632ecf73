#!/usr/bin/env bash
# The operator's everyday (issue 14): --limit returns exactly N replies;
# silent nodes are named from the binding set (a stopped node as "no
# reply", a killed one's binding as "not subscribed"), -p returns once
# every bound matching node replied; operator-method results are text
# (stdout under the node, stderr marked, exit status and duration on the
# node's line; a failure capped with the cut said); a cast reports its
# receivers and fails when nobody received it; the wait of a method
# follows its timeout; the text is sorted and aligned (checked on a real
# terminal in tmux), --sort and --display; machine output keeps missing
# nodes; every request, casts included, carries a ticket the nodes audit.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
need_cmd tmux
start_redis

conf=$T/pidboxd.yaml
cat >"$conf" <<YAML
methods:
  greet:
    argv: [/bin/sh, -c, 'echo "hello from \$PIDBOX_ARG_WHO"; echo "second line"']
    args:
      who: {type: string, default: "?"}
    env_args: true
    user: nobody
  fail:
    argv: [/bin/sh, -c, 'for i in \$(seq 1 30); do echo "out \$i"; done; echo "oops: disk full" >&2; exit 3']
    user: nobody
  slow:
    argv: [/bin/sleep, "1.5"]
    timeout: 4
    user: nobody
# methods run as another user than pidboxd: they cannot touch this file
audit:
  file: $T/audit.NODE.jsonl
YAML
for n in n1 n2 n10; do
	sed "s/NODE/$n/" "$conf" >"$T/$n.yaml"
	chmod 600 "$T/$n.yaml"
	start_pidboxd "$n" -c "$T/$n.yaml" || exit 1
done

# --- 14.7: --limit N gives exactly N replies, five times out of five
bad=
for i in 1 2 3 4 5; do
	n=$(ctl --jsonl ping -l 2 -d n1,n2,n10 -t 5 | grep -c '"reply"')
	[ "$n" = 2 ] || bad="$bad run$i:$n"
done
expect_eq limit_exactly_2 "$bad" ""

# --- 14.1: an operator method's result as text
out=$(ctl broadcast greet -r who=me -d n1 -t 5)
expect_eq exec_rc "$?" 0
if grep -Eq '^->  n1: OK  exit 0, [0-9.]+ m?s$' <<<"$out"; then ok exec_status_line; else fail exec_status_line "$out"; fi
expect_contains exec_stdout_text "$out" "$(printf '%s\n' '    hello from me' '    second line')"
expect_not_contains exec_no_json "$out" '"stdout"'
out=$(ctl --json broadcast greet -r -d n1 -t 5)
check exec_json_full "$PY" -c 'import json, sys
r = json.loads(sys.argv[1])["n1"]["ok"]
assert r["stdout"] == "hello from ?\nsecond line\n" and r["exit_status"] == 0, r' "$out"

# --- 14.2: a failed method shows its last lines, the cut said, stderr
out=$(ctl broadcast fail -r -d n1 -t 5)
expect_eq exec_fail_rc "$?" 2
expect_contains exec_fail_line "$out" '->  n1: ERROR  exit 3, '
expect_contains exec_fail_cut "$out" '    [... 10 earlier lines of stdout not shown; --json has them]'
expect_contains exec_fail_tail "$out" "$(printf '%s\n' '    out 29' '    out 30' '    stderr: oops: disk full')"
expect_not_contains exec_fail_head "$out" '    out 10'

# --- 14.3: the wait follows the method's timeout (4 s), -t overrides
out=$(ctl broadcast slow -r -d n1 2>"$T/err")
expect_eq slow_default_wait_rc "$?" 0
expect_contains slow_default_wait "$out" '->  n1: OK  exit 0, 1.'
out=$(ctl -v broadcast slow -r -d n2 -t 0.3 2>&1)
expect_eq slow_t_overrides_rc "$?" 69
expect_contains slow_received_not_no_nodes "$out" '1 node received slow but did not reply within 0.3 s'
wait_for "! pgrep -f 'sleep 1.5' >/dev/null" 5

# --- 14.4: a cast reports who received it
out=$(ctl broadcast print_msg msg=hi)
expect_eq cast_rc "$?" 0
expect_eq cast_receivers "$out" 'print_msg: 3 subscribers received it; no replies asked for (-r collects them)'
out=$(ctl -N nobody broadcast print_msg)
expect_eq cast_nobody_rc "$?" 69
expect_contains cast_nobody "$out" 'print_msg: nobody received it'
out=$(ctl broadcast print_msg -d n1,ghost)
expect_eq cast_unbound_rc "$?" 3
expect_contains cast_unbound "$out" 'not subscribed: ghost'
ctl broadcast print_msg -p 'zz*' >/dev/null
expect_eq cast_pattern_nobody_rc "$?" 69
jout=$(ctl --json broadcast print_msg -d n1)
check cast_json "$PY" -c 'import json, sys
j = json.loads(sys.argv[1])
assert j["receivers"] == 3 and j["not_subscribed"] == [] and len(j["ticket"]) == 36, j' "$jout"

# --- 14.11: the cast's ticket is in every node's audit line
ticket=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["ticket"])' "$jout")
for n in n1 n2 n10; do
	if wait_for "grep -q '\"ticket\": *\"$ticket\"' '$T/audit.$n.jsonl'" 5; then
		ok "cast_ticket_audited_$n"
	else
		fail "cast_ticket_audited_$n" "$(tail -n 2 "$T/audit.$n.jsonl")"
	fi
done
out=$(ctl -v ping -d n1 2>&1 >/dev/null)
if grep -Eq 'request [0-9a-f-]{36}' <<<"$out"; then ok verbose_ticket; else fail verbose_ticket "$out"; fi

# --- 14.5: sorted by name in version order, --display, --sort
out=$(ctl ping)
expect_eq sorted_names "$(grep -- '->' <<<"$out" | tr '\n' '|')" '->  n1: OK|->  n2: OK|->  n10: OK|'
out=$(ctl broadcast nosuch -r --display failed -d n1,n2 -t 2)
expect_eq display_failed_rc "$?" 2
expect_eq display_failed_only "$(grep -c -- '->' <<<"$out")" 2
out=$(ctl --display failed ping)
expect_eq display_failed_none "$(grep -c -- '->' <<<"$out")" 0
expect_contains display_failed_count "$out" '3 nodes online.'
out=$(ctl --sort latency ping)
expect_eq sort_latency "$(grep -c -- '->' <<<"$out")" 3
ctl --sort sideways ping >/dev/null 2>&1
expect_eq sort_bad_usage "$?" 64

# on a real terminal (tmux): aligned names and status words
sock=$T/tmux.sock
tmux -S "$sock" new-session -d -x 120 -y 40 "$BUILD/pidboxctl -b $BROKER broadcast greet -r -t 5; echo DONE; sleep 30"
if wait_for "tmux -S '$sock' capture-pane -p | grep -q DONE" 10; then
	screen=$(tmux -S "$sock" capture-pane -p)
	expect_eq tty_sorted_aligned "$(grep -- '->' <<<"$screen" | sed 's/ exit 0.*//' | tr '\n' '|')" '->  n1:  OK |->  n2:  OK |->  n10: OK |'
	expect_contains tty_stdout_text "$screen" '    hello from ?'
else
	fail tty_sorted_aligned "no DONE: $(tmux -S "$sock" capture-pane -p)"
fi
tmux -S "$sock" kill-server 2>/dev/null

# --- 14.6: silent nodes named from the binding set
kill -STOP "${DPID[n2]}"
out=$(ctl ping -p 'n*' -t 0.5)
expect_eq pattern_hung_rc "$?" 3
expect_contains pattern_hung_named "$out" 'no reply: n2'
kill -KILL "${DPID[n10]}"
wait "${DPID[n10]}" 2>/dev/null
unset "DPID[n10]"
out=$(ctl ping -t 0.5)
expect_eq stopped_killed_rc "$?" 3
expect_contains stopped_killed_named "$out" 'no reply: n2, n10'
expect_contains stopped_killed_unreached "$out" '(1 of them is not subscribed'
kill -CONT "${DPID[n2]}"
# the killed node's binding is left: reported, not failed
out=$(ctl ping -t 0.5)
expect_eq stale_binding_rc "$?" 0
expect_contains stale_binding_named "$out" 'not subscribed: n10'
# -p returns as soon as both bound matching nodes replied
start=$(now_ms)
out=$(ctl ping -p 'n[12]' -t 20)
expect_eq pattern_early_rc "$?" 0
expect_faster pattern_returns_early "$start" 10
expect_contains pattern_early_both "$out" '2 nodes online.'

# --- 14.8: machine output keeps missing nodes
out=$(ctl --jsonl ping -d n1,ghost -t 0.3)
check jsonl_missing_line "$PY" -c 'import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [o["node"] for o in objs] == ["n1", "ghost"], objs
assert objs[1]["missing"] == "not subscribed" and objs[1]["ticket"] == objs[0]["ticket"], objs' "$out"
out=$(ctl --json ping -d ghost -t 0.3 2>/dev/null)
expect_eq json_zero_replies_doc "$out" '{}'
assert_no_reply_keys no_reply_keys_left
finish
