#!/usr/bin/env bash
# tests/bench/route-cost.sh [N]: Redis CPU per reply of each way to route
# a reply (issue 17), on a private redis-server: N commands of each kind
# pipelined with redis-cli --pipe, Redis's used_cpu_user+sys before and
# after. A reply envelope of kombu's size, one client binding.
#
#   lpush     LPUSH alone (the floor)
#   kombu     SMEMBERS + LPUSH (kombu's Redis transport)
#   plain3    SISMEMBER + LPUSH + PEXPIRE (pidboxd since issue 17)
#   return1   EVALSHA of a script that only returns 1 (a Lua call's cost)
#   script    EVALSHA of the routing script pidboxd used before issue 17
set -u
N=${1:-200000}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/pidbox-route.XXXXXX") || exit 1
PORT=$((20000 + RANDOM % 20000))
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --logfile "$T/redis.log" --pidfile "$T/redis.pid" || exit 1
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1; rm -rf "$T"' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
R=(redis-cli -p "$PORT")

# gen MODE SHA: N commands of MODE in RESP on stdout
gen() {
	"$PY" - "$1" "$N" "${2:-}" <<'PYEOF'
import sys
mode, n, sha = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def cmd(*a):
    a = [x if isinstance(x, bytes) else str(x).encode() for x in a]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
sep = b"\x06\x16"
bk = b"_kombu.binding.reply.celery.pidbox"
rk = b"c0"
lst = rk + b".reply.celery.pidbox"
mem = rk + sep + sep + lst
env = (b'{"body": "' + b"A" * 360 + b'", "content-encoding": "utf-8", '
       b'"content-type": "application/json", "headers": {}, "properties": {}}')
out = [cmd("SADD", bk, mem)] if mode == "setup" else []
for i in range(n if mode != "setup" else 0):
    if mode == "lpush":
        out.append(cmd("LPUSH", lst, env))
    elif mode == "kombu":
        out += [cmd("SMEMBERS", bk), cmd("LPUSH", lst, env)]
    elif mode == "plain3":
        out += [cmd("SISMEMBER", bk, mem), cmd("LPUSH", lst, env),
                cmd("PEXPIRE", lst, 300000)]
    else:
        out.append(cmd("EVALSHA", sha, 2, bk, lst, env, "300000", mem,
                       rk + sep + b"*"))
    if i % 1000 == 999:
        out.append(cmd("DEL", lst))
sys.stdout.buffer.write(b"".join(out))
PYEOF
}
cpu() { "${R[@]}" INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }

gen setup | "${R[@]}" --pipe >/dev/null
RET1=$("${R[@]}" SCRIPT LOAD "return 1")
OLD=$("${R[@]}" SCRIPT LOAD "if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
local r = redis.call('SSCAN', KEYS[1], '0', 'MATCH', ARGV[4], 'COUNT', 16)
if #r[2] > 0 then return -1 end
return 0")
echo "# Redis CPU per reply, us ($N replies per way, 3 interleaved reps)"
for rep in 1 2 3; do
	for m in lpush kombu plain3 return1 script; do
		case $m in return1) sha=$RET1 ;; script) sha=$OLD ;; *) sha= ;; esac
		gen "$m" "$sha" >"$T/$m.resp"
		a=$(cpu)
		"${R[@]}" --pipe <"$T/$m.resp" >/dev/null
		b=$(cpu)
		awk -v a="$a" -v b="$b" -v n="$N" -v m="$m" -v r="$rep" \
		    'BEGIN { printf "rep %d %-8s %.2f\n", r, m, (b - a) * 1e6 / n }'
	done
done
