# bash completion for pidboxctl(1)
#
# Everything offered comes from pidboxctl itself, so that nothing is
# offered that then fails: the commands from `pidboxctl --help` (Celery's
# only with -N celery or -A), each command's options from `pidboxctl CMD
# --help`, node names after -d from `pidboxctl nodes --names`, and after
# `broadcast` the methods the live nodes describe. Calls that reach the
# broker take the -b/-c/-N/-T/-A already on the line, are bounded to a
# couple of seconds, and their answers are kept for a minute in this
# shell; any failure (no broker, no node) just completes nothing.

declare -gA _PIDBOXCTL_CACHE=()

# _pidboxctl_cached KEY CMD...: CMD's output into _PIDBOXCTL_OUT, kept
# 60 s under KEY (not in a subshell, or the cache would be lost).
_pidboxctl_cached()
{
	local key=$1 now=${EPOCHSECONDS:-$(date +%s)} hit
	shift
	hit=${_PIDBOXCTL_CACHE[$key]-}
	if [ -n "$hit" ] && [ $((now - ${hit%%:*})) -lt 60 ]; then
		_PIDBOXCTL_OUT=${hit#*:}
		return
	fi
	_PIDBOXCTL_OUT=$("$@" 2>/dev/null)
	_PIDBOXCTL_CACHE[$key]="$now:$_PIDBOXCTL_OUT"
}

# _pidboxctl_methods [GLOBAL OPTIONS...]: method names, one per line.
_pidboxctl_methods()
{
	_pidboxctl_cached "methods $*" timeout 3 pidboxctl "$@" --json \
	    describe --timeout 1
	[ -n "$_PIDBOXCTL_OUT" ] || return 0
	# the keys of each node's "methods" object (json.dumps layout)
	grep -o '"methods": {.*' <<<"$_PIDBOXCTL_OUT" |
	    grep -o '"[A-Za-z0-9_.:-]*": {"help"' | cut -d'"' -f2 | sort -u
}

# _pidboxctl_nodes [GLOBAL OPTIONS...]: node names, one per line.
_pidboxctl_nodes()
{
	_pidboxctl_cached "nodes $*" timeout 3 pidboxctl "$@" nodes --names \
	    --timeout 1
	printf '%s\n' "$_PIDBOXCTL_OUT"
}

# _pidboxctl_commands [celery]: the pidbox commands, or Celery's too.
_pidboxctl_commands()
{
	local help
	_pidboxctl_cached help pidboxctl --help
	help=$_PIDBOXCTL_OUT
	if [ "${1-}" = celery ]; then
		sed -n '/^celery commands/,$ s/^    \([a-z][a-z0-9_-]*\)\( (\([a-z0-9_-]*\))\)\{0,1\}.*/\1 \3/p' <<<"$help"
	else
		sed -n '/^commands:/,/^celery commands/ s/^    \([a-z][a-z0-9_-]*\)\( (\([a-z0-9_-]*\))\)\{0,1\}.*/\1 \3/p' <<<"$help"
	fi
}

# _pidboxctl_options [CMD]: the options of CMD (or the global ones).
_pidboxctl_options()
{
	local help
	if [ -n "${1-}" ]; then
		_pidboxctl_cached "help $1" pidboxctl "$1" --help
		help=$_PIDBOXCTL_OUT
	else
		_pidboxctl_cached "help ping" pidboxctl ping --help
		help=$(sed -n '/^global options/,$p' <<<"$_PIDBOXCTL_OUT")
	fi
	grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' <<<"$help" | tr -d ',' | tr ' ' '\n' | grep .
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

	# the command, its method, and the global options on the line
	local i w cmd='' method='' celery='' glob=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-b | --broker | -c | --config | -N | --namespace | -T | --type | -A | --app)
			glob+=("$w" "${words[i + 1]}")
			case $w in
			-N | --namespace) [ "${words[i + 1]}" = celery ] && celery=1 ;;
			-A | --app) celery=1 ;;
			esac
			i=$((i + 1))
			;;
		-t | --timeout | -l | --limit | -d | --destination | -p | --pattern | -m | --matcher | \
		    -g | --grace | -i | --idle | --signal | --color | --sort | --display)
			i=$((i + 1))
			;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=$w
			elif [ -z "$method" ]; then
				method=$w
			fi
			;;
		esac
	done

	case $prev in
	-b | --broker)
		mapfile -t COMPREPLY < <(compgen -W "redis:// rediss:// unix:// sentinel://" -- "$cur")
		compopt -o nospace 2>/dev/null
		return
		;;
	-c | --config)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
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
	--color)
		mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
		return
		;;
	--sort)
		mapfile -t COMPREPLY < <(compgen -W "name latency arrival" -- "$cur")
		return
		;;
	--display)
		mapfile -t COMPREPLY < <(compgen -W "all ok failed none" -- "$cur")
		return
		;;
	-d | --destination)
		# after the last comma: a list of names
		local pre=''
		[[ $cur == *,* ]] && pre=${cur%,*},
		local names
		_pidboxctl_nodes "${glob[@]}" >/dev/null
		names=$_PIDBOXCTL_OUT
		mapfile -t COMPREPLY < <(compgen -P "$pre" -W "$names" -- "${cur##*,}")
		return
		;;
	-t | --timeout | -l | --limit | -p | --pattern | -g | --grace | -i | --idle | -A | --app | --signal)
		return
		;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_options)" -- "$cur")
		elif [ -n "$celery" ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_commands) $(_pidboxctl_commands celery) inspect control" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_commands)" -- "$cur")
		fi
		return
	fi

	case $cmd in
	inspect | control)
		if [ -z "$method" ] && [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_commands celery)" -- "$cur")
			return
		fi
		[ -n "$method" ] && cmd=$method
		;;
	broadcast | bc)
		if [ -z "$method" ] && [[ $cur != -* ]]; then
			local methods
			_pidboxctl_methods "${glob[@]}" >/dev/null
			methods=$(_pidboxctl_methods "${glob[@]}")
			mapfile -t COMPREPLY < <(compgen -W "$methods" -- "$cur")
			return
		fi
		;;
	esac
	[[ $cur == -* ]] &&
	    mapfile -t COMPREPLY < <(compgen -W "$(_pidboxctl_options "$cmd")" -- "$cur")
}

complete -F _pidboxctl pidboxctl
