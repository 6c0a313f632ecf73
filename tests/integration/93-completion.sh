#!/usr/bin/env bash
# Bash completion of pidboxctl (issue 7, 14.16): commands (Celery's only
# with -N celery), each command's own options only (from `pidboxctl CMD
# --help`), option values, -c files, node names after -d (`pidboxctl
# nodes --names`), and the method names of the live nodes after broadcast
# (from describe, with the -b on the line, cached); with no broker it
# completes no method, prints nothing and returns promptly.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
# no health-check PUBLISH to blur the count in methods_cached
start_pidboxd node1 -b "$BROKER?health_check_interval=0" || exit 1
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

top=$(complete_words pidboxctl '')
expect_eq commands "$top" "bc broadcast certify describe gc inv inventory jobs keygen nodes ping result"
celery_top=$(complete_words pidboxctl -N celery '')
for w in ping broadcast status shutdown revoke terminate heartbeat inspect control; do
	expect_contains "celery_commands_$w" " $celery_top " " $w "
done
expect_not_contains no_celery_verbs_without_N " $top " " revoke "
expect_contains celery_with_A " $(complete_words pidboxctl -A proj '') " " status "
expect_eq inspect_verbs "$(complete_words pidboxctl -N celery inspect mem)" "memdump memsample"
expect_contains commands_have_ping "$(complete_words pidboxctl p)" ping
expect_contains global_options "$(complete_words pidboxctl --b)" --broker
expect_contains global_config "$(complete_words pidboxctl -)" "-c"
expect_contains call_options "$(complete_words pidboxctl ping --ti)" --timeout
expect_contains gc_options "$(complete_words pidboxctl gc --dr)" --dry-run
expect_eq nodes_no_reply_opt "$(complete_words pidboxctl nodes --re)" ""
expect_eq describe_no_pattern "$(complete_words pidboxctl describe --pat)" ""
expect_eq ping_no_reply_opt "$(complete_words pidboxctl ping --rep)" ""
expect_eq revoke_terminate "$(complete_words pidboxctl revoke --ter)" "--terminate"
expect_eq type_values "$(complete_words pidboxctl -T '')" "direct fanout topic"
expect_eq matcher_values "$(complete_words pidboxctl ping -m '')" "glob pcre"
touch "$T/fleet.yaml"
expect_eq config_file "$(complete_words pidboxctl -c "$T/fle")" "$T/fleet.yaml"
# every option offered is one the command accepts
bad=
for c in broadcast describe gc nodes ping status revoke shutdown; do
	for o in $(complete_words pidboxctl "$c" --); do
		case $o in --timeout | --limit | --destination | --pattern | --matcher | --grace | --idle | --signal | \
		    --broker | --config | --namespace | --type | --app | --color | --sort | --display | \
		    --identity-file | --verify | --fact | --select | --batch | --batch-sleep | --canary) continue ;; esac
		"$BUILD/pidboxctl" "$c" "$o" --help >/dev/null 2>&1 || bad="$bad $c:$o"
	done
done
expect_eq options_all_accepted "$bad" ""

# node names after -d, from the live nodes
start_pidboxd node2 || exit 1
expect_eq node_names "$(complete_words pidboxctl -b "$BROKER" ping -d '')" "node1 node2"
expect_eq node_names_after_comma "$(complete_words pidboxctl -b "$BROKER" ping -d node1,n)" "node1,node1 node1,node2"

got=$(complete_words pidboxctl -b "$BROKER" broadcast '')
for m in ping stats clock describe print_msg; do
	expect_contains "live_method_$m" " $got " " $m "
done
expect_eq live_methods_prefix "$(complete_words pidboxctl -b "$BROKER" broadcast pr)" print_msg
expect_eq no_method_after_method "$(complete_words pidboxctl -b "$BROKER" broadcast ping '')" ""
# cached in the shell: a second completion does not ask the nodes again
COMP_WORDS=(pidboxctl -b "$BROKER" broadcast '')
COMP_CWORD=4
_pidboxctl pidboxctl '' broadcast
n=$(commandstat publish)
_pidboxctl pidboxctl '' broadcast
expect_eq methods_cached "$(commandstat publish)" "$n"
expect_contains methods_cached_offered " ${COMPREPLY[*]} " " print_msg "

# no broker: nothing, quickly, silently
t0=$(now_ms)
got=$(complete_words pidboxctl -b redis://127.0.0.1:1/0 broadcast '')
expect_eq dead_broker_no_methods "$got" ""
expect_faster dead_broker_prompt "$t0" 4
expect_eq dead_broker_silent "$(cat "$T/complete.err")" ""
finish
