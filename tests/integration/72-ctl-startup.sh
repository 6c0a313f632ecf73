#!/usr/bin/env bash
# What one pidboxctl run costs the machine and the broker (issue 17.3):
# libyaml and libpcre2 are not loaded unless a command needs them (-c or
# --yaml; --matcher pcre), and a collect that runs to its --timeout
# cleans up on its own connection instead of opening a second one.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
need_cmd readelf
start_redis
start_pidboxd node1 || exit 1

# the objects the dynamic loader mapped during one run (LD_DEBUG=files
# names each one, linked or dlopen()ed, as "file=NAME [0];  ...")
loaded() {
	LD_DEBUG=files ctl "$@" 2>&1 >/dev/null |
	    sed -n 's/.*file=\([^ ]*\) \[.*/\1/p' | sort -u | tr '\n' ' '
}

needed=$(readelf -d "$BUILD/pidboxctl" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
expect_not_contains needed_no_yaml "$needed" libyaml
expect_not_contains needed_no_pcre2 "$needed" libpcre2

objs=$(loaded ping)
expect_contains ping_loads_hiredis "$objs" libhiredis
expect_not_contains ping_no_yaml "$objs" libyaml
expect_not_contains ping_no_pcre2 "$objs" libpcre2

# each library still comes when asked for, and does its job
objs=$(loaded ping --pattern 'node[0-9]+' --matcher pcre)
expect_contains pcre_loads_pcre2 "$objs" libpcre2
out=$(ctl --json ping --pattern 'node[0-9]+' --matcher pcre 2>"$T/err")
expect_json pcre_matches "$out" '{"node1": {"ok": "pong"}}'
out=$(ctl ping --pattern 'node[' --matcher pcre 2>&1)
expect_contains pcre_bad_pattern "$out" 'bad pcre pattern'

objs=$(loaded --yaml ping)
expect_contains yaml_loads_libyaml "$objs" libyaml
out=$(ctl --yaml ping 2>"$T/err")
expect_eq yaml_output "$out" "$(printf '%s\n' 'node1:' '  ok: pong')"

cat >"$T/ctl.yaml" <<YAML
broker: $BROKER
YAML
objs=$(LD_DEBUG=files "$BUILD/pidboxctl" -c "$T/ctl.yaml" ping 2>&1 >/dev/null |
    sed -n 's/.*file=\([^ ]*\) \[.*/\1/p' | sort -u | tr '\n' ' ')
expect_contains conf_loads_libyaml "$objs" libyaml
out=$("$BUILD/pidboxctl" -c "$T/ctl.yaml" --json ping 2>"$T/err")
expect_json conf_ping "$out" '{"node1": {"ok": "pong"}}'

# a collect that runs to its timeout: one connection, node1's reply kept,
# no reply list left (Redis answers a timed-out BRPOP up to 100 ms late;
# the last one used to be abandoned and the cleanup reconnected)
conns() {
	rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'
}
for t in 1 0.35; do
	c0=$(conns)
	out=$(ctl --json ping -d node1,ghost -t "$t" 2>"$T/err")
	rc=$?
	c1=$(conns)
	expect_eq "timeout_${t}_exit_3" "$rc" 3
	expect_json "timeout_${t}_node1_kept" "$out" '{"node1": {"ok": "pong"}}'
	# the rcli of c0 is one connection itself
	expect_eq "timeout_${t}_one_connection" "$((c1 - c0 - 1))" 1
done
assert_no_reply_keys no_reply_keys_left

finish
