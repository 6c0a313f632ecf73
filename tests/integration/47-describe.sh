#!/usr/bin/env bash
# describe as a table (issue 14.10): one row per method with whether the
# asking identity may call it (pidboxd's policy, per signed identity),
# whether it is dangerous, its timeout and its arguments with types and
# ranges (integral numbers as ints, in the table and in --json); the
# methods every node describes alike shown once, the others with the
# nodes that have them; --json keeps the whole structure; on a terminal
# (tmux) the columns are aligned and HELP is cut at the screen's width.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
need_cmd tmux
start_redis

umask 077
hmac_key "$T/ops.key"
cat >"$T/n1.yaml" <<YAML
methods:
  greet:
    argv: [/bin/echo, "{who}"]
    help: say hello to someone, politely and at some length so that the help runs past the edge of a narrow terminal
    timeout: 4
    args:
      who: {type: string, default: "?"}
      n: {type: int, min: 1, max: 10}
      f: {type: number, min: 0.5}
  wipe:
    argv: [/bin/true]
    dangerous: true
    timeout: 2.5
signing:
  keys:
    ops: $T/ops.key
policy:
  rules:
    - allow: [wipe]
      identities: [ops]
YAML
start_pidboxd n1 -c "$T/n1.yaml" || exit 1
start_pidboxd n2 || exit 1
start_pidboxd n10 || exit 1

out=$(ctl describe)
expect_eq text_rc "$?" 0
expect_eq header_then_rows "$(sed -n 3p <<<"$out" | cut -d' ' -f1)" active
expect_eq header "$(head -n 1 <<<"$out")" "3 nodes: n1, n2, n10 (pidboxd $("$BUILD/pidboxctl" -V | cut -d' ' -f2))"
expect_eq columns "$(sed -n 2p <<<"$out" | tr -s ' ')" 'METHOD ALLOWED DANGEROUS TIMEOUT ARGS HELP'
# the same on every node: once, with no node list
expect_eq ping_once "$(grep -c '^ping ' <<<"$out")" 1
expect_eq same_rows_no_nodes "$(grep -A1 '^ping ' <<<"$out" | tail -n 1 | cut -c1-2)" 'pr'
row=$(grep '^greet ' <<<"$out" | tr -s ' ')
expect_contains greet_row "$row" 'greet yes 4 s [who:string="?"] [n:int(1..10)] [f:number(0.5..)] say hello'
expect_eq greet_only_on_n1 "$(grep -A1 '^greet ' <<<"$out" | tail -n 1)" '  only on n1'
expect_eq wipe_row "$(grep '^wipe ' <<<"$out" | tr -s ' ')" 'wipe no yes 2.5 s - '
expect_contains print_msg_required_arg "$(grep '^print_msg ' <<<"$out" | tr -s ' ')" ' msg log the argument'
expect_not_contains no_float_ints "$out" '(1.0..10.0)'

# allowed for the identity that asks: ops may wipe
out=$(PIDBOX_IDENTITY=ops PIDBOX_KEY_FILE=$T/ops.key ctl describe -d n1)
expect_eq wipe_allowed_for_ops "$(grep '^wipe ' <<<"$out" | tr -s ' ')" 'wipe yes yes 2.5 s - '
expect_eq one_node_header "$(head -n 1 <<<"$out")" "1 node: n1 (pidboxd $("$BUILD/pidboxctl" -V | cut -d' ' -f2))"

# --json: the whole structure, integral numbers as ints
out=$(ctl --json describe -d n1)
check json_structure "$PY" -c 'import json, sys
m = json.loads(sys.argv[1])["n1"]["methods"]
g = m["greet"]
assert g["args"]["n"] == {"type": "int", "required": False, "min": 1, "max": 10}, g
assert type(g["args"]["n"]["min"]) is int and g["args"]["f"]["min"] == 0.5, g
assert g["timeout"] == 4 and type(g["timeout"]) is int and g["help"].startswith("say hello"), g
assert m["wipe"]["dangerous"] is True and m["wipe"]["allowed"] is False and m["wipe"]["timeout"] == 2.5, m["wipe"]
assert m["ping"]["dangerous"] is False and m["ping"]["allowed"] is True, m["ping"]' "$out"
expect_contains json_int_text "$out" '"min": 1, "max": 10'

# a node that answers describe with an error is named, and fails the call
out=$(ctl describe -d n1,ghost -t 0.5)
expect_eq missing_rc "$?" 3
expect_contains missing_named "$out" 'not subscribed: ghost'

# on a terminal: aligned, HELP cut at the width
sock=$T/tmux.sock
tmux -S "$sock" new-session -d -x 90 -y 40 "$BUILD/pidboxctl -b $BROKER describe; echo DONE; sleep 30"
if wait_for "tmux -S '$sock' capture-pane -p | grep -q DONE" 10; then
	screen=$(tmux -S "$sock" capture-pane -p)
	expect_contains tty_greet_cut "$(grep '^greet ' <<<"$screen")" '...'
	long=$(awk 'length($0) > 90' <<<"$screen" | head -n 1)
	expect_eq tty_no_wrapped_line "$long" ""
	col=$(grep -E '^(METHOD|ping|greet|wipe) ' <<<"$screen" | awk '{ print index($0, $2) }' | sort -u | tr '\n' ' ')
	# one column for every row, whatever the longest method name
	expect_eq tty_aligned "$(wc -w <<<"$col")" 1
else
	fail tty_greet_cut "no DONE: $(tmux -S "$sock" capture-pane -p)"
fi
tmux -S "$sock" kill-server 2>/dev/null
finish
