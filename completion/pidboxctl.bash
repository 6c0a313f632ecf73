# bash completion for pidboxctl(1)
#
# Completes the commands, their options and, after `broadcast`, the method
# names the live nodes offer: one `pidboxctl --json broadcast describe
# --reply` call with the -b/-N/-T already on the line, bounded to a couple of
# seconds; any failure (no broker, no node, bad JSON) just completes nothing.

# _pidboxctl_methods [GLOBAL OPTIONS...]: method names, one per line.
_pidboxctl_methods()
{
	local out
	out=$(timeout 3 pidboxctl "$@" --json broadcast \
	    describe --reply --timeout 1 2>/dev/null) || return 0
	[ -n "$out" ] || return 0
	if command -v python3 >/dev/null 2>&1; then
		python3 -c '
import json, sys
try:
    replies = json.loads(sys.stdin.read())
except ValueError:
    sys.exit(0)
names = set()
if isinstance(replies, dict):
    for r in replies.values():
        m = r.get("methods") if isinstance(r, dict) else None
        if isinstance(m, dict):
            names.update(k for k in m if isinstance(k, str))
        elif isinstance(m, list):
            names.update(x.get("name") if isinstance(x, dict) else x
                for x in m if isinstance(x, (str, dict)))
print("\n".join(sorted(n for n in names if n and n.isprintable()
    and " " not in n)))
' <<<"$out" 2>/dev/null
	else
		# no python3: the keys of the "methods" objects, roughly
		grep -o '"methods": *{[^}]*' <<<"$out" |
		    grep -o '"[A-Za-z0-9_.:-]*": *"' | cut -d'"' -f2 | sort -u
	fi
}

_pidboxctl()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local global_short="-b -N -T -j -v -V -h"
	local global_long="--broker --namespace --type --json --jsonl --yaml --summary --color --verbose --version --help"
	local call_opts="-r -t -l -d -p -m --reply --timeout --limit --destination --pattern --matcher"
	local gc_opts="-n -g -i --dry-run --grace --idle"

	case $prev in
	-b | --broker)
		mapfile -t COMPREPLY < <(compgen -W "redis:// rediss:// unix:// redis+socket://" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	-T | --type)
		mapfile -t COMPREPLY < <(compgen -W "fanout direct topic" -- "$cur")
		return
		;;
	-m | --matcher)
		mapfile -t COMPREPLY < <(compgen -W "glob pcre" -- "$cur")
		return
		;;
	-N | --namespace)
		mapfile -t COMPREPLY < <(compgen -W "pidbox celery" -- "$cur")
		return
		;;
	-t | --timeout | -l | --limit | -d | --destination | -p | --pattern | -g | --grace | -i | --idle)
		return
		;;
	esac

	# find the command, and the global options that come before it
	local i w cmd='' method='' glob=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [ -z "$cmd" ]; then
			case $w in
			-b | --broker | -N | --namespace | -T | --type)
				glob+=("$w" "${words[i + 1]}")
				i=$((i + 1))
				;;
			-*) ;;
			*)
				cmd=$w
				;;
			esac
		elif [ -z "$method" ]; then
			case $w in
			-t | --timeout | -l | --limit | -d | --destination | -p | --pattern | -m | --matcher | \
			    -b | --broker | -N | --namespace | -T | --type)
				i=$((i + 1))
				;;
			-*) ;;
			*) method=$w ;;
			esac
		fi
	done

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global_short $global_long" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_commands)" -- "$cur")
		fi
		return
	fi

	case $cmd in
	broadcast | bc)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$call_opts $global_long" -- "$cur")
		elif [ -z "$method" ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_methods "${glob[@]}")" -- "$cur")
		fi
		;;
	ping)
		mapfile -t COMPREPLY < <(compgen -W "$call_opts $global_long" -- "$cur")
		;;
	gc)
		mapfile -t COMPREPLY < <(compgen -W "$gc_opts $global_long" -- "$cur")
		;;
	*)
		[[ $cur == -* ]] &&
		    mapfile -t COMPREPLY < <(compgen -W "$call_opts $global_long" -- "$cur")
		;;
	esac
}

# The commands: from `pidboxctl --help` when it runs, else the known ones.
_pidboxctl_commands()
{
	local cmds
	cmds=$(pidboxctl --help 2>/dev/null |
	    sed -n '/^commands:/,/^[^ \t]/ s/^    \([a-z][a-z0-9_-]*\)\( (\([a-z0-9_-]*\))\)\{0,1\}.*/\1 \3/p')
	echo "${cmds:-broadcast bc gc ping}"
}

complete -F _pidboxctl pidboxctl
