#!/usr/bin/env bash
# metrics_file (issue 15, point 5): pidboxd writes its counters in
# Prometheus text format for node_exporter's textfile collector. The file
# appears at start, parses (prometheus_client's parser, plus the stricter
# line grammar below), its values move as requests arrive, a hostile
# method name cannot break the format and is counted as (unknown), it is
# replaced by rename (a reader never sees a partial file, no temporary
# file stays), it is written at a clean stop, and a relative path is
# refused with file:line:col.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

umask 077
mkdir -p "$T/prom"
prom=$T/prom/pidbox.prom
cat >"$T/m1.yaml" <<YAML
metrics_file: $prom
metrics_interval: 1
YAML
start_pidboxd m1 -c "$T/m1.yaml" || exit 1

# parse FILE: check the exposition text strictly and print its samples as
# JSON {"name{k=v,...}": value}, labels sorted; exit 1 with why.
parse() {
	"$PY" - "$1" <<'PY'
import json, re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], "rb").read().decode("utf-8")
def die(why):
    print(why, file=sys.stderr)
    sys.exit(1)
if not text.endswith("\n"):
    die("no final newline")
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LVAL = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
LABELS = r"\{(?:[a-zA-Z_][a-zA-Z0-9_]*=" + LVAL + r")(?:,[a-zA-Z_][a-zA-Z0-9_]*=" + LVAL + r")*\}"
sample = re.compile(r"(" + NAME + r")(" + LABELS + r")? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$")
types, helps, seen = {}, set(), set()
for line in text[:-1].split("\n"):
    m = re.fullmatch(r"# HELP (" + NAME + r") (.*)", line)
    if m:
        if m.group(1) in helps:
            die("HELP twice: " + line)
        helps.add(m.group(1))
        continue
    m = re.fullmatch(r"# TYPE (" + NAME + r") (counter|gauge)", line)
    if m:
        if m.group(1) in types:
            die("TYPE twice: " + line)
        types[m.group(1)] = m.group(2)
        continue
    m = sample.fullmatch(line)
    if not m:
        die("not a sample: %r" % line)
    if m.group(1) not in types or m.group(1) not in helps:
        die("sample before its HELP and TYPE: " + line)
    if (types[m.group(1)] == "counter") != m.group(1).endswith("_total"):
        die("counter names end in _total: " + line)
    if line.rsplit(" ", 1)[0] in seen:
        die("series twice: " + line)
    seen.add(line.rsplit(" ", 1)[0])
out = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        key = s.name + "{" + ",".join("%s=%s" % kv for kv in sorted(s.labels.items())) + "}"
        out[key] = s.value
print(json.dumps(out))
PY
}
# value FILE SERIES: a sample's value ("" when absent or unparsable)
value() {
	parse "$1" 2>/dev/null | "$PY" -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else int(v) if v == int(v) else v)' "$2"
}
PING='pidbox_requests_total{decision=run,method=ping}'
UNKNOWN='pidbox_requests_total{decision=unknown_method,method=(unknown)}'

# --- the file appears and parses
if wait_for "[ -s '$prom' ]" 10; then ok file_appears; else fail file_appears "no $prom"; fi
if out=$(parse "$prom" 2>&1); then ok file_parses; else fail file_parses "$out"; fi
expect_eq mode_0644 "$(stat -c %a "$prom")" 644
expect_contains help_line "$(cat "$prom")" '# HELP pidbox_requests_total '
expect_contains type_line "$(cat "$prom")" '# TYPE pidbox_requests_total counter'
for s in pidbox_errors_total pidbox_replies_total \
    pidbox_replies_unrouted_total pidbox_reconnects_total \
    pidbox_exec_running pidbox_exec_timeouts_total pidbox_replies_held \
    pidbox_last_broker_contact_timestamp_seconds; do
	expect_ne "has_$s" "$(value "$prom" "$s{}")" ""
done

# --- values move as requests arrive
ctl ping >/dev/null 2>&1
ctl ping >/dev/null 2>&1
if wait_for "[ \"\$(value '$prom' '$PING')\" = 2 ]" 10; then
	ok ping_twice_counts_2
else
	fail ping_twice_counts_2 "$(grep requests_total "$prom")"
fi
expect_eq replies_2 "$(value "$prom" 'pidbox_replies_total{}')" 2
contact=$(value "$prom" 'pidbox_last_broker_contact_timestamp_seconds{}')
check broker_contact_recent "$PY" -c 'import sys, time
sys.exit(not abs(time.time() - float(sys.argv[1])) < 60)' "$contact"

# --- a hostile method name: the format holds, it is counted as (unknown)
"$PY" - "$REDIS_SOCK" <<'PY'
import base64, json, sys, uuid
import redis
body = {"method": 'ev"il\n# TYPE x gauge\\\x1b[31m}',
        "arguments": {}, "destination": ["m1"], "pattern": None,
        "matcher": None, "ticket": str(uuid.uuid4()),
        "reply_to": {"exchange": "reply.pidbox.pidbox",
                     "routing_key": str(uuid.uuid4())}}
raw = json.dumps(body).encode()
env = {"body": base64.b64encode(raw).decode(), "content-encoding": "utf-8",
       "content-type": "application/json", "headers": {"clock": 1},
       "properties": {"delivery_mode": 2, "priority": 0,
                      "delivery_info": {"exchange": "pidbox.pidbox",
                                        "routing_key": ""},
                      "body_encoding": "base64",
                      "delivery_tag": str(uuid.uuid4())}}
redis.Redis(unix_socket_path=sys.argv[1]).publish("/0.pidbox.pidbox",
                                                  json.dumps(env))
PY
if wait_for "[ \"\$(value '$prom' '$UNKNOWN')\" = 1 ]" 10; then
	ok hostile_counted_unknown
else
	fail hostile_counted_unknown "$(grep requests_total "$prom")"
fi
if out=$(parse "$prom" 2>&1); then ok hostile_file_parses; else fail hostile_file_parses "$out"; fi
expect_not_contains hostile_name_absent "$(cat "$prom")" 'evil'
check no_escape_byte "$PY" -c 'import sys
sys.exit(b"\x1b" in open(sys.argv[1], "rb").read())' "$prom"

# --- replaced by rename: a reader sees a whole old or new file, never a
# part; over 3 s it sees more than one inode; no temporary file stays
"$PY" - "$prom" >"$T/reader.out" 2>&1 <<'PY' &
import os, sys, time
p = sys.argv[1]
inodes, reads, bad = set(), 0, 0
end = time.time() + 3.5
while time.time() < end:
    try:
        with open(p, "rb") as f:
            inodes.add(os.fstat(f.fileno()).st_ino)
            t = f.read()
    except FileNotFoundError:
        bad += 1
        continue
    reads += 1
    if not t.endswith(b"\n") or not t.startswith(b"# HELP pidbox_requests_total ") \
       or b"\npidbox_start_time_seconds " not in t:
        bad += 1
print(reads, len(inodes), bad)
PY
reader=$!
for _ in 1 2 3 4 5 6; do ctl ping >/dev/null 2>&1; sleep 0.5; done
wait "$reader"
read -r reads inodes bad <"$T/reader.out"
expect_eq reader_never_partial "${bad:-x}" 0
check reader_read [ "${reads:-0}" -gt 10 ]
check file_replaced [ "${inodes:-0}" -gt 1 ]
expect_eq no_temp_files "$(find "$T/prom" -mindepth 1 ! -name pidbox.prom | wc -l)" 0

# --- a clean stop writes the last counts (the interval never came); an
# operator method that answers later (exec) and a known method the policy
# refuses are counted under their own names
prom2=$T/prom/m2.prom
cat >"$T/m2.yaml" <<YAML
namespace: other
metrics_file: $prom2
metrics_interval: 3600
methods:
  hi:
    argv: [/bin/true]
policy:
  rules:
    - deny: [clock]
    - allow: ["*"]
YAML
start_pidboxd m2 -c "$T/m2.yaml" -N other || exit 1
wait_for "[ -s '$prom2' ]" 10
expect_eq m2_starts_at_0 "$(value "$prom2" "$PING")" ""
ctl -N other ping >/dev/null 2>&1
ctl -N other broadcast hi -r -d m2 -t 5 >/dev/null 2>&1
ctl -N other broadcast clock -r -d m2 -t 5 >/dev/null 2>&1
stop_pidboxd m2
expect_eq m2_clean_stop_rc "$REAP_RC" 0
expect_eq stop_writes_counts "$(value "$prom2" "$PING")" 1
expect_eq exec_counted_by_name \
    "$(value "$prom2" 'pidbox_requests_total{decision=run,method=hi}')" 1
expect_eq refused_counted_by_name \
    "$(value "$prom2" 'pidbox_requests_total{decision=refused,method=clock}')" 1

# --- a relative path is refused with file:line:col
cat >"$T/bad.yaml" <<'YAML'
namespace: x
metrics_file: rel/pidbox.prom
YAML
out=$("$BUILD/pidboxd" -t -c "$T/bad.yaml" 2>&1)
expect_eq relative_exit_78 "$?" 78
expect_eq relative_message "$out" "$T/bad.yaml:2:15: metrics_file: expected an absolute path"
cat >"$T/bad2.yaml" <<'YAML'
metrics_interval: 0
YAML
out=$("$BUILD/pidboxd" -t -c "$T/bad2.yaml" 2>&1)
expect_eq interval_exit_78 "$?" 78
expect_eq interval_message "$out" "$T/bad2.yaml:1:19: metrics_interval: expected seconds from 1 to 3600"

stop_pidboxd m1
expect_eq m1_clean_stop_rc "$REAP_RC" 0
finish
