#!/usr/bin/env bash
# Operator-defined methods (issue 4): argv substitution without a shell,
# argument schemas, stdin/env delivery, scrubbed environment, output caps,
# timeouts that kill the whole process group, user switching, and a ping
# that answers at once while ten long handlers run.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

conf=$T/pidboxd.yaml
cat >"$conf" <<YAML
methods:
  echo:
    help: print the text argument, one argv element
    argv: [/usr/bin/printf, "%s|", "{text}", "{word}"]
    args:
      text: {type: string, required: true, help: any text}
      word: {type: string, regex: '^[a-z]+\$'}
  typed:
    argv: [/usr/bin/printf, "%s,", "{n}", "{flag}", "{ratio}", "{name}"]
    args:
      n: {type: int, required: true, min: 1, max: 5}
      flag: {type: bool, default: false}
      ratio: {type: number, min: 0, max: 1}
      name: {type: string, regex: '^[a-z]+\$', max_length: 8}
  stdin_env:
    argv: [/bin/sh, -c, 'cat; echo; echo "arg=\$PIDBOX_ARG_NAME"; env']
    args:
      name: {type: string}
    stdin_json: true
    env_args: true
  big:
    argv: [/bin/sh, -c, 'head -c 100000 /dev/zero | tr "\\\\0" a; echo err >&2']
    max_output: 1000
  fail:
    argv: [/bin/sh, -c, 'echo oops >&2; exit 3']
  hang:
    argv: [/bin/sh, -c, 'trap "" TERM; sleep 300 & echo \$! > $T/gpid; wait']
    timeout: 1
    kill_grace: 0.5
  slow:
    argv: [/bin/sleep, "{secs}"]
    args:
      secs: {type: number, required: true, min: 0, max: 100}
    max_concurrent: 10
    timeout: 60
  whoami:
    argv: [/usr/bin/id, -un]
    user: nobody
YAML
chmod 600 "$conf"

SECRET_ENV=do-not-leak start_pidboxd n1 -c "$conf" || exit 1
# pidboxd links no libpcre2: it loads it for the first regex it compiles
expect_contains regex_loads_libpcre2 "$(cat "/proc/${DPID[n1]}/maps")" libpcre2-8

call() {	# METHOD ARGS...: the reply value of n1 as JSON
	local m=$1
	shift
	ctl --json broadcast "$m" "$@" --reply -d n1 --timeout 10 2>>"$T/ctl.err" |
	    "$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["n1"]))'
}

# --- describe lists the methods with their schema and help
d=$(ctl --json describe -d n1 --timeout 5)
expect_eq describe_type "$(json_field "$d" n1 methods echo args text type)" string
expect_eq describe_required "$(json_field "$d" n1 methods echo args text required)" true
expect_eq describe_regex "$(json_field "$d" n1 methods echo args word regex)" '^[a-z]+$'
expect_eq describe_help "$(json_field "$d" n1 methods echo help)" 'print the text argument, one argv element'
expect_eq describe_builtin "$(json_field "$d" n1 methods ping kind)" builtin
expect_eq describe_default "$(json_field "$d" n1 methods typed args flag default)" false

# --- arguments are whole argv elements: metacharacters stay inert
out=$(call echo 'text=; rm -rf / #' word=abc)
expect_eq exec_ok_exit "$(json_field "$out" ok exit_status)" 0
expect_eq inject_semicolon "$(json_field "$out" ok stdout)" '; rm -rf / #|abc|'
out=$(call echo 'text=$(id) `id` && echo pwned')
expect_eq inject_subst "$(json_field "$out" ok stdout)" '$(id) `id` && echo pwned|'
out=$(call echo "text=a
b")
expect_eq inject_newline "$(json_field "$out" ok stdout)" 'a
b|'
out=$(call echo 'text=../../etc/passwd')
expect_eq inject_dotdot "$(json_field "$out" ok stdout)" '../../etc/passwd|'
out=$(call echo 'text=" * ; '"'"' |&>')
expect_eq inject_quotes_glob "$(json_field "$out" ok stdout)" '" * ; '"'"' |&>|'
out=$(call echo 'text="a\u0000b"')
expect_contains inject_nul_refused "$(json_field "$out" error)" "argument 'text': must not contain NUL"
out=$(call echo text=x 'word=../x')
expect_eq regex_refuses_dotdot "$(json_field "$out" error)" "echo: argument 'word': regex: does not match ^[a-z]+\$"

# --- schema violations name the argument and the rule; nothing runs
started=$(ctl --json broadcast stats --reply -d n1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["n1"]["counters"]["exec_started"])')
schema() {	# NAME WANT ARGS...
	local name=$1 want=$2 out
	shift 2
	out=$(call typed "$@")
	expect_eq "schema_$name" "$(json_field "$out" error)" "typed: $want"
}
schema missing "argument 'n': required: missing"
schema type_int "argument 'n': type: expected int" n=abc
schema min "argument 'n': min: less than 1" n=0
schema max "argument 'n': max: greater than 5" n=6
schema type_bool "argument 'flag': type: expected bool" n=1 flag=maybe
schema type_number "argument 'ratio': type: expected number" n=1 ratio=x
schema number_max "argument 'ratio': max: greater than 1" n=1 ratio=1.5
schema regex "argument 'name': regex: does not match ^[a-z]+\$" n=1 name=Bob
schema max_length "argument 'name': max_length: longer than 8 bytes" n=1 name=abcdefghi
schema unknown "argument 'bogus': unknown argument" n=1 bogus=1
after=$(ctl --json broadcast stats --reply -d n1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["n1"]["counters"]["exec_started"])')
expect_eq schema_nothing_started "$after" "$started"
out=$(call typed n=2 flag=true ratio=0.5 name=bob)
expect_eq schema_valid_typed "$(json_field "$out" ok stdout)" '2,true,0.5,bob,'
out=$(call typed n=3)
expect_eq schema_default_applied "$(json_field "$out" ok stdout)" '3,false,'

# --- JSON on stdin, PIDBOX_ARG_*, and a scrubbed environment
out=$(call stdin_env name=alice)
so=$(json_field "$out" ok stdout)
expect_contains stdin_json "$so" '{"name":"alice"}'
expect_contains env_arg "$so" 'arg=alice'
expect_contains env_method "$so" 'PIDBOX_METHOD=stdin_env'
expect_not_contains env_scrubbed "$so" 'SECRET_ENV'
expect_not_contains env_no_notify "$so" 'NOTIFY_SOCKET'

# --- output cap, stderr, failure status
out=$(call big)
expect_eq output_truncated "$(json_field "$out" ok stdout_truncated)" true
expect_eq output_capped "$(json_field "$out" ok stdout | tr -d '\n' | wc -c)" 1000
expect_eq stderr_kept "$(json_field "$out" ok stderr)" 'err'
out=$(call fail)
expect_eq fail_error "$(json_field "$out" error)" 'exit 3'
expect_eq fail_status "$(json_field "$out" result exit_status)" 3
expect_eq fail_stderr "$(json_field "$out" result stderr)" 'oops'

# --- user switching (pidboxd runs as root in the test environment)
if [ "$(id -u)" = 0 ]; then
	out=$(call whoami)
	expect_eq run_as_user "$(json_field "$out" ok stdout)" nobody
fi

# --- timeout: TERM is ignored, so KILL after the grace; the grandchild dies too
t0=$(now_ms)
out=$(call hang)
expect_eq timeout_error "$(json_field "$out" error)" 'timeout: killed after the method'"'"'s timeout'
expect_faster timeout_in_time "$t0" 4
gpid=$(cat "$T/gpid" 2>/dev/null)
if [ -n "$gpid" ] && wait_for "! alive $gpid" 5; then
	ok grandchild_killed
else
	fail grandchild_killed "grandchild ${gpid:-?} still alive"
fi

# --- ten long handlers do not delay a ping
for i in 1 2 3 4 5 6 7 8 9 10; do
	ctl broadcast slow secs=31.4159 -d n1 >/dev/null 2>&1
done
running() {
	ctl --json broadcast stats --reply -d n1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["n1"]["exec_running"])'
}
if wait_for '[ "$(running)" = 10 ]' 10; then ok ten_running; else fail ten_running "running: $(running)"; fi
t0=$(now_ms)
out=$(ctl ping -d n1 --timeout 5)
el=$(($(now_ms) - t0))
expect_contains ping_while_busy "$out" '->  n1: OK'
if [ "$el" -lt $((300 * TSCALE)) ]; then ok ping_fast; else fail ping_fast "ping took $el ms"; fi
out=$(call slow secs=1)
expect_contains busy_refused "$(json_field "$out" error)" 'slow: busy: 10 running (max_concurrent 10)'
# stopping pidboxd kills the handlers it started
stop_pidboxd n1
expect_eq stop_clean "$REAP_RC" 0
if wait_for '! pgrep -f "sleep 31.4159"' 5; then ok handlers_killed_on_stop; else fail handlers_killed_on_stop "$(pgrep -af 'sleep 31.4159')"; fi

# --- pidboxd -t names file, line and key of every mistake
bad=$T/bad.yaml
cat >"$bad" <<'YAML'
methods:
  m1:
    argv: [relative/prog, "{nope}"]
    args:
      x: {type: strng}
      y: {type: int, min: 5, max: 1, regex: 'a'}
    timeout: -1
    frobnicate: 1
  ping:
    argv: [/bin/true]
  m2:
    args: {}
YAML
chmod 600 "$bad"
"$BUILD/pidboxd" -t -c "$bad" >"$T/t.out" 2>&1
rc=$?
expect_eq check_config_exit_78 "$rc" 78
errs=$(cat "$T/t.out")
expect_contains check_argv0 "$errs" "$bad:3:12: methods.m1.argv[0]: expected the program's absolute path"
expect_contains check_placeholder "$errs" "$bad:3:27: methods.m1.argv[1]: placeholder {nope} names no declared argument"
expect_contains check_type "$errs" "$bad:5:17: methods.m1.args.x.type: expected string, int, number or bool"
expect_contains check_regex_type "$errs" "$bad:6:45: methods.m1.args.y.regex: only for type string"
expect_contains check_minmax "$errs" "$bad:6:10: methods.m1.args.y: min is greater than max"
expect_contains check_timeout "$errs" "$bad:7:14: methods.m1.timeout: expected seconds"
expect_contains check_unknown_key "$errs" "$bad:8:5: methods.m1: unknown key \"frobnicate\""
expect_contains check_builtin_clash "$errs" "$bad:9:3: methods.ping: a built-in method has that name"
expect_contains check_argv_missing "$errs" "$bad:11:3: methods.m2.argv: missing"
"$BUILD/pidboxd" -t -c "$conf" >"$T/t.out" 2>&1
expect_eq check_good_config "$?" 0
finish
