#!/usr/bin/env bash
# Fleet operations (issue 15): pidboxd nodes with different labels, a kombu
# node and a Celery worker in one namespace.  The inventory lists them all;
# -F and -S reach exactly the nodes they select, the kombu and Celery nodes
# only when named; a forged inventory entry makes a node expected, never
# makes it run; bad input is refused with nothing sent; --async then
# `result` after the client exited; the results stream and the inventory
# are bounded and expire.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
NS=celery
conf() {	# NAME ROLE DC
	printf 'labels: {role: %s, dc: %s}\ninventory: {ttl: 30}\nresults: {maxlen: 5, ttl: 100}\n' "$2" "$3" >"$T/$1.yaml"
}
conf web-1 web eu1
conf web-2 web eu2
conf db-1 db eu1
for n in web-1 web-2 db-1; do
	start_pidboxd "$n" -N $NS -c "$T/$n.yaml" || exit 1
done
start_kombu_node k1 $NS fanout || exit 1
start_celery_worker w1@fleet || exit 1

# names of the nodes that replied, sorted, one line
who() { "$PY" -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))'; }

# --- 1 inventory
out=$(ctl -N $NS inventory 2>"$T/err")
expect_eq inventory_exit_0 "$?" 0
expect_contains inventory_web1 "$out" "$(printf '%-24s %-8s %-8s %-24s' web-1 ok pidboxd 'role=web,dc=eu1')"
expect_contains inventory_kombu_by_name "$out" "$(printf '%-24s %-8s %-8s %-24s' k1 ok kombu -)"
expect_contains inventory_celery_by_name "$out" "$(printf '%-24s %-8s %-8s' w1@fleet ok kombu)"
js=$(ctl -N $NS inventory --json 2>"$T/err")
expect_eq inventory_json_facts "$("$PY" -c 'import json,sys; d=json.load(sys.stdin); e=d["db-1"]["entry"]; print(e["labels"]["role"], e["facts"]["cpus"] > 0, "entry" in d["k1"], e["facts"]["pidbox"] != "")' <<<"$js")" "db True False True"
expect_eq inventory_keys_own_space "$(rcli --scan --pattern '_pidbox.*' | sort | tr '\n' ' ')" "_pidbox.alive.celery _pidbox.inventory.celery "
ttl=$(rcli TTL _pidbox.inventory.celery)
if [ "$ttl" -gt 0 ] && [ "$ttl" -le 3630 ]; then ok inventory_expires; else fail inventory_expires "TTL $ttl"; fi

# --- 2 targeting
out=$(ctl -N $NS --json ping -F role=web 2>"$T/err")
expect_eq label_reaches_web "$?" 0
expect_eq label_exact_nodes "$(who <<<"$out")" "web-1 web-2"
out=$(ctl -N $NS --json ping -S 'role=web and (dc=eu1 or dc=eu2) and not name=web-2' 2>"$T/err")
expect_eq compound_exact_nodes "$(who <<<"$out")" "web-1"
out=$(ctl -N $NS --json ping -S 'name=w1@* or role=db or name=k1' 2>"$T/err")
expect_eq celery_kombu_when_named "$(who <<<"$out")" "db-1 k1 w1@fleet"
out=$(ctl -N $NS --json ping -F 'os.version_id>=1' -F 'cpus>0' 2>"$T/err")
expect_eq facts_not_kombu_celery "$(who <<<"$out")" "db-1 web-1 web-2"
out=$(ctl -N $NS --json ping -S 'not role=db' 2>"$T/err")
expect_eq not_unknown_is_not_selected "$(who <<<"$out")" "web-1 web-2"

# a forged entry: db-1 claims role=web; pidboxctl names it, db-1 does not act
entry=$(rcli HGET _pidbox.inventory.celery db-1 | sed 's/"role":"db"/"role":"web"/')
rcli HSET _pidbox.inventory.celery db-1 "$entry" >/dev/null
out=$(ctl -N $NS ping -F role=web 2>&1)
expect_eq forged_entry_exit_3 "$?" 3
expect_contains forged_entry_named_missing "$out" "db-1"
expect_not_contains forged_entry_did_not_run "$out" "db-1: OK"
n=$(ctl -N $NS --json stats -d db-1 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["db-1"]["counters"]["filtered"])')
expect_eq forged_filter_counted "$n" 1
rcli HSET _pidbox.inventory.celery db-1 "$(sed 's/"role":"web"/"role":"db"/' <<<"$entry")" >/dev/null

# bad input: a clear error, the documented exit code, nothing sent
before=$(commandstat publish)
ctl -N $NS ping -S 'role=web and (' >"$T/out" 2>"$T/err"
expect_eq bad_filter_exit_64 "$?" 64
expect_contains bad_filter_says_where "$(cat "$T/err")" "at column"
ctl -N $NS ping -F rol=web >"$T/out" 2>"$T/err"
expect_eq unknown_fact_exit_64 "$?" 64
expect_contains unknown_fact_named "$(cat "$T/err")" "unknown fact or label rol"
ctl -N $NS ping -F role=nosuch >"$T/out" 2>"$T/err"
expect_eq no_match_exit_69 "$?" 69
rcli HSET _pidbox.inventory.celery bogus '{"hello": 1}' >/dev/null
ctl -N $NS ping -F role=web >"$T/out" 2>"$T/err"
expect_eq invalid_entry_exit_69 "$?" 69
expect_contains invalid_entry_named "$(cat "$T/err")" "inventory entry bogus is not what pidboxd writes"
rcli HDEL _pidbox.inventory.celery bogus >/dev/null
ctl -N $NS ping --batch 0 >"$T/out" 2>"$T/err"
expect_eq batch_0_exit_64 "$?" 64
ctl -N $NS ping --batch 101% >"$T/out" 2>"$T/err"
expect_eq batch_over_100_exit_64 "$?" 64
ctl -N $NS result not-an-id >"$T/out" 2>"$T/err"
expect_eq result_bad_id_exit_64 "$?" 64
ctl -N $NS result 00000000-0000-4000-8000-000000000000 >"$T/out" 2>"$T/err"
expect_eq result_unknown_id_exit_69 "$?" 69
ctl -N other result 00000000-0000-4000-8000-000000000000 >"$T/out" 2>"$T/err"
expect_eq result_no_stream_exit_69 "$?" 69
expect_contains result_no_stream_says "$(cat "$T/err")" "no jobs or results stream"
expect_eq bad_input_nothing_sent "$(commandstat publish)" "$before"

# --- 4 --async, then result from another client after this one exited
id=$(ctl -N $NS broadcast ping --async -S 'role=web or name=k1' 2>"$T/err")
expect_eq async_exit_0 "$?" 0
if [[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then ok async_prints_id; else fail async_prints_id "$id"; fi
out=$(ctl -N $NS --json result "$id" --wait -t 5 2>"$T/err")
rc=$?
# the kombu node replies only to a waiting client: it is named missing
expect_eq result_exit_3 "$rc" 3
expect_eq result_replies "$(who <<<"$out")" "web-1 web-2"
expect_contains result_kombu_missing "$(cat "$T/err")" "k1"
out=$(ctl -N $NS jobs 2>"$T/err")
expect_contains jobs_lists_id "$out" "$id"
expect_contains jobs_counts "$(grep "$id" <<<"$out")" "      3        2"

# the results stream is bounded (maxlen 5) and expires (ttl 100)
for i in 1 2 3 4; do ctl -N $NS ping -F role=web --record >/dev/null 2>&1; done
expect_eq results_bounded "$(rcli XLEN _pidbox.results.celery)" 5
ttl=$(rcli TTL _pidbox.results.celery)
if [ "$ttl" -gt 0 ] && [ "$ttl" -le 100 ]; then ok results_expire; else fail results_expire "TTL $ttl"; fi

# --- 1 a node killed is missing from `nodes`; a clean stop leaves no entry
kill -KILL "${DPID[web-2]}"
reap "${DPID[web-2]}" 5
unset "DPID[web-2]"
out=$(ctl -N $NS nodes -t 2 2>&1)
# 4: web-2 missing, and the test's kombu node has no stats method (error)
expect_eq nodes_killed_exit_4 "$?" 4
if grep -Eq '^web-2 +missing' <<<"$out"; then ok nodes_killed_missing; else fail nodes_killed_missing "$out"; fi
expect_contains nodes_expected_from_inventory "$out" "expected (bound and inventory)"
stop_pidboxd db-1
expect_eq clean_stop_removes_entry "$(rcli HEXISTS _pidbox.inventory.celery db-1)" 0
assert_no_reply_keys no_reply_keys_left $NS
finish
