#!/usr/bin/env bash
# Bash completion of pidboxctl (issue 7): commands, options, option values,
# and the method names of a live node (from `pidboxctl --json broadcast
# describe --reply` with the -b on the line); with no broker it completes
# no method, prints nothing and returns promptly.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
start_pidboxd node1 || exit 1
PATH=$BUILD:$PATH
# shellcheck source=../../completion/pidboxctl.bash
. "$ROOT/completion/pidboxctl.bash"

# complete WORDS...: COMPREPLY for the last word, sorted, on one line.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_pidboxctl pidboxctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$T/complete.err"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

read -ra cmds <<<"$(_pidboxctl_commands | tr '\n' ' ')"
expect_eq commands "$(complete_words pidboxctl '')" "$(printf '%s\n' "${cmds[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
expect_contains commands_have_ping "$(complete_words pidboxctl p)" ping
expect_contains global_options "$(complete_words pidboxctl --b)" --broker
expect_contains call_options "$(complete_words pidboxctl ping --ti)" --timeout
expect_contains gc_options "$(complete_words pidboxctl gc --dr)" --dry-run
expect_eq type_values "$(complete_words pidboxctl -T '')" "direct fanout topic"
expect_eq matcher_values "$(complete_words pidboxctl ping -m '')" "glob pcre"

got=$(complete_words pidboxctl -b "$BROKER" broadcast '')
for m in ping stats clock describe print_msg; do
	expect_contains "live_method_$m" " $got " " $m "
done
expect_eq live_methods_prefix "$(complete_words pidboxctl -b "$BROKER" broadcast pr)" print_msg
expect_eq no_method_after_method "$(complete_words pidboxctl -b "$BROKER" broadcast ping '')" ""

# no broker: nothing, quickly, silently
t0=$(now_ms)
got=$(complete_words pidboxctl -b redis://127.0.0.1:1/0 broadcast '')
expect_eq dead_broker_no_methods "$got" ""
expect_faster dead_broker_prompt "$t0" 4
expect_eq dead_broker_silent "$(cat "$T/complete.err")" ""
finish
