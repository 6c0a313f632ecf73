#!/usr/bin/env bash
# The everyday CLI (issue 7): on a terminal pidboxctl aligns and colors the
# replies, ends with a summary line with latencies and shows a progress
# line on stderr while collecting; piped (or with NO_COLOR, TERM=dumb,
# --color=never) none of it, and the piped text stays Celery's byte for
# byte. --summary, --jsonl (streamed), --yaml (read back with PyYAML) and
# `pidboxctl nodes` with two pidboxd nodes. The terminal is a real
# pseudo-terminal from script(1).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
command -v script >/dev/null || {
	fail setup "script(1) not installed (bsdutils)"
	exit 1
}
"$PY" -c 'import yaml' 2>/dev/null || {
	fail setup "python3-yaml not installed (run tests/deps.sh)"
	exit 1
}
unset NO_COLOR
export TERM=xterm
ESC=$'\033'
start_redis
start_pidboxd node1 || exit 1
start_pidboxd node-two || exit 1
CTL="$BUILD/pidboxctl -b $BROKER"
version=$("$BUILD/pidboxctl" -V | awk '{ print $2 }')

# on_tty CMD: run the shell command CMD on a pseudo-terminal (stdout and
# stderr), print what the terminal received, without the CRs.
on_tty() {
	script -qfec "$1" /dev/null </dev/null | tr -d '\r'
}
# strip: remove the color and erase sequences and progress lines.
strip() {
	sed "s/$ESC\[[0-9;]*[mK]//g"
}

# --- piped: Celery's text, nothing on stderr, no escape anywhere
out=$($CTL ping -d node1,node-two 2>"$T/err")
want=$(printf '%s\n' '->  node1: OK' '        pong' '->  node-two: OK' '        pong' '' '2 nodes online.')
want2=$(printf '%s\n' '->  node-two: OK' '        pong' '->  node1: OK' '        pong' '' '2 nodes online.')
if [ "$out" = "$want" ] || [ "$out" = "$want2" ]; then ok piped_celery_text; else fail piped_celery_text "got: $out"; fi
expect_eq piped_stderr_empty "$(cat "$T/err")" ""
expect_not_contains piped_no_escape "$out" "$ESC"

# --- on a terminal: colors, aligned names, summary with latencies
out=$(on_tty "$CTL ping -d node1,node-two")
expect_contains tty_ok_green "$out" "${ESC}[32mOK${ESC}[0m"
expect_contains tty_aligned_short "$out" "->  node1:    ${ESC}[32mOK"
expect_contains tty_aligned_long "$out" "->  node-two: ${ESC}[32mOK"
plain=$(strip <<<"$out")
expect_contains tty_count_line "$plain" "2 nodes online."
if grep -Eq '^summary: 2 expected \(-d\), 2 replied, 0 errors, 0 missing; latency min [0-9.]+ ms, median [0-9.]+ ms, max [0-9.]+ ms$' <<<"$plain"; then
	ok tty_summary_latency
else
	fail tty_summary_latency "$plain"
fi

# errors red, missing yellow
out=$(on_tty "$CTL broadcast nosuch -r -d node1,ghost -t 0.5")
expect_contains tty_error_red "$out" "${ESC}[31mERROR${ESC}[0m"
# ghost is in no binding set: not subscribed (issue 14.6)
expect_contains tty_missing_yellow "$out" "${ESC}[33mnot subscribed: ghost${ESC}[0m"
expect_contains tty_missing_count_yellow "$out" "${ESC}[33m1 missing${ESC}[0m"

# --- progress: on stderr when it is a terminal, erased at the end;
# stdout to a file keeps Celery's text
out=$(on_tty "$CTL ping -d node1,ghost -t 0.6 >$T/out.txt; echo rc=\$?")
expect_contains progress_shown "$out" "ping: 1/2 replied, 0."
expect_contains progress_has_timeout "$out" "(timeout 0.6s)"
# the last thing on the terminal before our echo is the erase
pre=${out%rc=*}
if [[ $pre == *"${ESC}[K" ]]; then ok progress_erased; else fail progress_erased "$(cat -v <<<"$pre")"; fi
expect_contains progress_rc "$out" "rc=3"
expect_eq progress_stdout_plain "$(cat "$T/out.txt")" "$(printf '%s\n' '->  node1: OK' '        pong' '' '1 node online.' 'summary: 2 expected (-d), 1 replied, 0 errors, 1 missing' 'not subscribed: ghost')"
$CTL ping -d node1,ghost -t 0.3 >/dev/null 2>"$T/err"
expect_eq progress_not_piped "$(cat "$T/err")" ""

# --- NO_COLOR (any value), TERM=dumb, --color
out=$(on_tty "NO_COLOR= $CTL ping -d node1")
expect_not_contains no_color_plain "$out" "${ESC}[3"
expect_contains no_color_still_summary "$out" "summary: 1 expected (-d), 1 replied"
out=$(on_tty "TERM=dumb $CTL ping -d node1,ghost -t 0.3")
expect_not_contains term_dumb_no_escape "$out" "$ESC"
out=$(on_tty "$CTL --color=never ping -d node1")
expect_not_contains color_never "$out" "${ESC}[3"
out=$($CTL --color=always ping -d node1)
expect_contains color_always_piped "$out" "${ESC}[32mOK${ESC}[0m"
out=$(on_tty "NO_COLOR=1 $CTL ping --color=always -d node1")
expect_contains color_always_beats_no_color "$out" "${ESC}[32mOK"
$CTL --color=sometimes ping >/dev/null 2>&1
expect_eq color_bad_value_usage "$?" 64

# --- --summary when piped
out=$($CTL --summary ping -d node1,node-two)
if tail -n 1 <<<"$out" | grep -Eq '^summary: 2 expected \(-d\), 2 replied, 0 errors, 0 missing; latency min [0-9.]+ ms, median [0-9.]+ ms, max [0-9.]+ ms$'; then
	ok summary_piped
else
	fail summary_piped "$out"
fi
expect_not_contains summary_piped_no_escape "$out" "$ESC"
out=$($CTL --json --summary ping -d node1 2>"$T/err")
expect_json summary_json_stdout "$out" '{"node1": {"ok": "pong"}}'
expect_contains summary_json_stderr "$(cat "$T/err")" "summary: 1 expected (-d), 1 replied, 0 errors, 0 missing; latency min"

# --- --jsonl: one object per reply
out=$($CTL --jsonl ping)
if "$PY" -c 'import json, sys
lines = sys.stdin.read().splitlines()
objs = [json.loads(l) for l in lines]
assert sorted(o["node"] for o in objs) == ["node-two", "node1"], objs
for o in objs:
    assert set(o) == {"node", "reply", "latency_ms", "ticket"}, o
    assert o["reply"] == {"ok": "pong"}, o
    assert isinstance(o["latency_ms"], float) and 0 <= o["latency_ms"] < 5000, o
' <<<"$out"; then ok jsonl_lines; else fail jsonl_lines "$out"; fi
# streamed: node1's line is there while ghost is still awaited
bg jsonl "${CTL_CMD[@]}" -b "$BROKER" --jsonl ping -d node1,ghost -t 5
jpid=$BG_PID
if wait_for "grep -q '\"node\": \"node1\"' '$T/jsonl.log'" 4 && alive "$jpid"; then
	ok jsonl_streamed
else
	fail jsonl_streamed "no line before the end: $(cat "$T/jsonl.log")"
fi
kill -TERM "$jpid" 2>/dev/null
reap "$jpid" 5

# --- --yaml: read back equal to --json
yout=$($CTL --yaml ping)
jout=$($CTL --json ping)
check yaml_ping "$PY" -c 'import json, sys, yaml
assert yaml.safe_load(sys.argv[1]) == json.loads(sys.argv[2]), sys.argv[1]' "$yout" "$jout"
expect_contains yaml_block_style "$yout" "node1:
  ok: pong"
# strings a YAML reader would take for numbers, booleans or null stay
# strings; floats without a dot stay floats
start_kombu_node kn1 kns fanout || exit 1
args=(a=yes b='"123"' c='"null"' d=1e100 e='"x: y"' f='" lead"' g='"-"' h='[1, "on", 2.5, true, null]' i='{}' j='"é\t"' k='""' l='"~"')
yout=$($CTL -N kns --yaml broadcast echo -r "${args[@]}")
jout=$($CTL -N kns --json broadcast echo -r "${args[@]}")
check yaml_tricky_strings "$PY" -c 'import json, sys, yaml
y, j = yaml.safe_load(sys.argv[1]), json.loads(sys.argv[2])
assert y == j, (y, j)
assert y["kn1"]["ok"]["a"] == "yes" and y["kn1"]["ok"]["d"] == 1e100' "$yout" "$jout"

# --- nodes
out=$($CTL nodes)
rc=$?
expect_eq nodes_rc "$rc" 0
expect_eq nodes_header "$(head -n 1 <<<"$out" | tr -s ' ')" "NODE STATUS UPTIME VERSION LATENCY"
expect_eq nodes_rows "$(sed 1d <<<"$out" | awk '{ print $1, $2, $4 }')" "$(printf '%s\n' "node-two ok $version" "node1 ok $version")"
if sed 1d <<<"$out" | awk '{ print $3 }' | grep -Eqv '^[0-9]{2}:[0-9]{2}:[0-9]{2}$'; then
	fail nodes_uptime "$out"
else
	ok nodes_uptime
fi
# aligned: the status column starts at the same offset on every line
hdr=$(head -n 1 <<<"$out")
status_col=$(awk -v h="$hdr" 'BEGIN { print index(h, "STATUS") }')
bad=$(sed 1d <<<"$out" | awk -v c="$status_col" 'substr($0, c, 2) != "ok" { print }')
expect_eq nodes_aligned_status "$bad" ""
out=$($CTL --json nodes)
check nodes_json "$PY" -c 'import json, sys
d = json.loads(sys.argv[1])
assert sorted(d) == ["node-two", "node1"], d
for v in d.values():
    assert v["status"] == "ok" and v["version"] == sys.argv[2], v
    assert isinstance(v["uptime"], int) and v["uptime"] >= 0, v
    assert isinstance(v["latency_ms"], float), v' "$out" "$version"
out=$($CTL --yaml nodes)
check nodes_yaml "$PY" -c 'import sys, yaml
d = yaml.safe_load(sys.argv[1])
assert sorted(d) == ["node-two", "node1"], d
assert all(v["version"] == sys.argv[2] for v in d.values()), d' "$out" "$version"
out=$($CTL --jsonl nodes)
check nodes_jsonl "$PY" -c 'import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [o["node"] for o in objs] == ["node-two", "node1"], objs' "$out"
out=$($CTL nodes -d node1,ghost -t 0.5)
expect_eq nodes_missing_rc "$?" 3
expect_eq nodes_missing_row "$(grep '^ghost' <<<"$out" | tr -s ' ')" "ghost missing - - -"
expect_contains nodes_missing_summary "$out" "not subscribed: ghost"
out=$(on_tty "$CTL nodes -d node1,ghost -t 0.3")
expect_contains nodes_tty_green "$out" "${ESC}[32mok${ESC}[0m"
expect_contains nodes_tty_yellow "$out" "${ESC}[33mmissing${ESC}[0m"
expect_contains nodes_tty_summary "$(strip <<<"$out")" "summary: 2 expected (-d), 1 replied, 0 errors, 1 missing; latency min"
# a kombu node has no stats method: an error row
out=$($CTL -N kns nodes)
expect_eq nodes_error_rc "$?" 2
expect_eq nodes_error_row "$(sed -n 2p <<<"$out" | tr -s ' ')" "kn1 error - - $(sed -n 2p <<<"$out" | awk '{ print $5, $6 }')"
# a Celery worker's stats have an uptime and no version
start_celery_worker w1@tty || exit 1
out=$($CTL -N celery nodes -d w1@tty -t 5)
expect_eq nodes_celery_rc "$?" 0
expect_eq nodes_celery_row "$(sed -n 2p <<<"$out" | awk '{ print $1, $2, $4 }')" "w1@tty ok -"
expect_contains nodes_celery_uptime "$(sed -n 2p <<<"$out" | awk '{ print $3 }')" "00:00:"
finish
