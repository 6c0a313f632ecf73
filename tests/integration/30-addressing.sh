#!/usr/bin/env bash
# Addressing: -d, --pattern with the glob and pcre matchers (kombu
# semantics: glob anchored at both ends, pcre anchored at the start only),
# and refusal of bad matchers / uncompilable patterns before publishing.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
# These tests count PUBLISH commands to prove that nothing was sent; the
# nodes' periodic health-check PUBLISH (tested in 80/84) would blur that.
QUIET_BROKER="$BROKER?health_check_interval=0"
start_pidboxd node1 -b "$QUIET_BROKER" || exit 1
start_pidboxd node2 -b "$QUIET_BROKER" || exit 1

# replies NAME: the node names in a --json reply object, sorted, one line
replies() {
	"$PY" -c 'import json, sys
print(" ".join(sorted(json.load(sys.stdin))))' 2>/dev/null
}

t0=$(now_ms)
out=$(ctl --json ping -d node1 --timeout 5 2>"$T/err")
rc=$?
expect_faster destination_returns_early "$t0" 2
expect_eq destination_exit_0 "$rc" 0
expect_eq destination_one "$(replies <<<"$out")" node1

out=$(ctl --json ping -d node1,node2 --timeout 5 2>"$T/err")
expect_eq destination_two "$(replies <<<"$out")" "node1 node2"

out=$(ctl ping -d node2 2>"$T/err")
expect_eq destination_human "$out" "$(printf '%s\n' '->  node2: OK' '        pong' '' '1 node online.')"

out=$(ctl --json ping --pattern 'node[2]' --matcher glob 2>"$T/err")
expect_eq glob_class "$(replies <<<"$out")" node2
out=$(ctl --json ping --pattern 'node*' --matcher glob 2>"$T/err")
expect_eq glob_star "$(replies <<<"$out")" "node1 node2"
out=$(ctl --json ping --pattern 'node' --matcher glob --timeout 1 2>"$T/err")
rc=$?
expect_eq glob_anchored_at_end "$rc" 69

out=$(ctl --json ping --pattern 'nod' --matcher pcre 2>"$T/err")
expect_eq pcre_prefix_matches "$(replies <<<"$out")" "node1 node2"
out=$(ctl --json ping --pattern 'node1$' --matcher pcre 2>"$T/err")
expect_eq pcre_dollar "$(replies <<<"$out")" node1
out=$(ctl --json ping --pattern 'ode' --matcher pcre --timeout 1 2>"$T/err")
rc=$?
expect_eq pcre_anchored_at_start "$rc" 69

# refused locally: nothing may reach the broker (one bad matcher makes
# kombu <= 5.6 Celery workers deaf)
refuse() {	# NAME MATCHER PATTERN
	local pub rc
	pub=$(commandstat publish)
	ctl ping --pattern "$3" --matcher "$2" >/dev/null 2>"$T/err"
	rc=$?
	expect_eq "refuse_${1}_exit_64" "$rc" 64
	expect_eq "refuse_${1}_not_published" "$(commandstat publish)" "$pub"
}
refuse unknown_matcher regex 'node1'
refuse pcre_unbalanced_paren pcre '(node'
refuse pcre_unterminated_class pcre '[a-'

alive "${DPID[node1]}" && alive "${DPID[node2]}"
expect_eq nodes_alive $? 0
assert_no_reply_keys no_reply_keys_left
finish
