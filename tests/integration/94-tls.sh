#!/usr/bin/env bash
# Issue 12: rediss:// for pidboxd and pidboxctl against Debian's
# redis-server with --tls-port and --port 0, certificates made here with
# the openssl command. Verification on (host name checked), off with a
# warning; mutual TLS; every failure named (exit 75 for pidboxctl, logged
# and retried by pidboxd); a stalled handshake bounded by the connect
# timeout; reconnection; broker_tls in the YAML; libssl loaded only for
# TLS.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
make_certs
# 127.0.0.2 too: a loopback address the certificate does not name
start_redis_tls --bind 127.0.0.1 127.0.0.2
P=$REDIS_PORT
CA=$PKI/ca.pem

# ctlrc NAME URL ARGS...: run pidboxctl, leave its stderr in OUT, status RC
ctlrc() {
	local url=$1
	shift
	OUT=$(timeout 20 "${CTL_CMD[@]}" -b "$url" "$@" 2>&1 >/dev/null)
	RC=$?
}

# expect_fail NAME URL WANT: pidboxctl ping exits 75 naming the broker
# (redacted) and saying WANT.
expect_fail() {
	ctlrc "$2" ping -t 1
	if [ "$RC" = 75 ] && [[ $OUT == *"$3"* ]] && [[ $OUT == *"rediss://"* || $OUT == *"redis://"* ]]; then
		ok "$1"
	else
		fail "$1" "exit $RC (want 75), stderr: $OUT (want: $3)"
	fi
}

start_pidboxd node1 || finish
out=$(ctl ping -d node1 -t 2 2>&1)
expect_contains ping_tls "$out" '->  node1: OK'
out=$(pidboxctl -b "rediss://localhost:$P?ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=$CA" ping -d node1 -t 2 2>&1)
expect_contains ping_tls_by_name "$out" '->  node1: OK'
# the traffic on the wire is TLS: the broker saw node1 over its TLS port
expect_contains client_over_tls "$(rcli CLIENT LIST)" "laddr=127.0.0.1:$P"

# verification none: works, and says so loudly
out=$(pidboxctl -b "rediss://127.0.0.1:$P?ssl_cert_reqs=none" ping -d node1 -t 2 2>&1)
expect_contains verify_none_works "$out" '->  node1: OK'
expect_contains verify_none_warns "$out" 'WARNING: TLS peer verification is off'

# password masked in errors
expect_fail untrusted "rediss://:Zq9pw@127.0.0.1:$P" "certificate was not accepted"
expect_not_contains untrusted_no_password "$OUT" Zq9pw
expect_contains untrusted_names_broker "$OUT" "rediss://:***@127.0.0.1:$P/0"
expect_fail other_ca "rediss://127.0.0.1:$P?ssl_ca_certs=$PKI/other-ca.pem" \
    "certificate was not accepted"
expect_fail host_mismatch "rediss://127.0.0.2:$P?ssl_ca_certs=$CA" \
    "certificate is not for 127.0.0.2"
# optional checks the chain but not the name
out=$(pidboxctl -b "rediss://127.0.0.2:$P?ssl_cert_reqs=optional&ssl_ca_certs=$CA" ping -d node1 -t 2 2>&1)
expect_contains optional_skips_name "$out" '->  node1: OK'
expect_fail plaintext_to_tls "redis://127.0.0.1:$P" "a TLS port? use rediss://"

# a plaintext redis, an expired certificate, a server that never answers
plain=$(free_port)
redis-server --port "$plain" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$T" --dbfilename plain.rdb --logfile "$T/plain.log" \
    --protected-mode no >/dev/null 2>&1 &
_track "$!"
wait_for "redis-cli -p $plain PING | grep -q PONG" 10 || fail plain_up "no plaintext redis"
expect_fail tls_to_plaintext "rediss://127.0.0.1:$plain?socket_connect_timeout=1" \
    "plaintext port? use redis://"
exp=$(free_port)
redis_tls "$exp" expired expired || fail expired_up "no redis with the expired certificate"
expect_fail expired "rediss://127.0.0.1:$exp?ssl_ca_certs=$CA" "certificate has expired"
stall=$(free_port)
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
print("READY", flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)	# never a byte back
' "$stall" >"$T/stall.log" 2>&1 &
_track "$!"
wait_for "grep -q READY '$T/stall.log'" 10
t0=$(now_ms)
expect_fail stalled_handshake "rediss://127.0.0.1:$stall?socket_connect_timeout=1" \
    "no handshake with 127.0.0.1:$stall within the connect timeout"
# bounded, not hung: well under the 20 s the harness allows
el=$(($(now_ms) - t0))
if [ "$el" -lt 10000 ]; then ok stalled_bounded; else fail stalled_bounded "took $el ms"; fi

# pidboxd: logged, named, retried, still alive
bg bad_ca "$BUILD/pidboxd" -f -n badca -b "rediss://127.0.0.1:$P?ssl_ca_certs=$PKI/other-ca.pem"
badca=$BG_PID
expect_log daemon_logs_untrusted "$T/bad_ca.log" 'certificate was not accepted'
expect_contains daemon_names_broker "$(cat "$T/bad_ca.log")" "at 127.0.0.1:$P"
bg stalld "$BUILD/pidboxd" -f -n stalld -b "rediss://127.0.0.1:$stall?socket_connect_timeout=0.5"
stalld=$BG_PID
expect_log daemon_handshake_timeout "$T/stalld.log" "TLS handshake with 127.0.0.1:$stall timed out"
bg plaind "$BUILD/pidboxd" -f -n plaind -b "redis://127.0.0.1:$P"
plaind=$BG_PID
expect_log daemon_plaintext_to_tls "$T/plaind.log" 'a TLS port? use rediss://'
# retried: once, not once per attempt, in the log; still running
sleep 2
check daemons_keep_running alive "$badca"
expect_eq untrusted_logged_once "$(grep -c 'certificate was not accepted' "$T/bad_ca.log")" 2
for p in $badca $stalld $plaind; do kill -TERM "$p"; reap "$p" 10; done

# libssl is mapped only for TLS: plaintext costs nothing more
out=$(LD_DEBUG=files "${CTL_CMD[@]}" -b "redis://127.0.0.1:$plain" ping -t 0.2 2>&1)
expect_not_contains plaintext_no_libssl "$out" "libssl.so"
out=$(LD_DEBUG=files "${CTL_CMD[@]}" -b "$BROKER" ping -d node1 -t 1 2>&1)
expect_contains tls_loads_libssl "$out" "libssl.so"
expect_contains daemon_maps_libssl "$(cat "/proc/${DPID[node1]}/maps")" libssl.so

# the broker restarts: the node reconnects over TLS (with backoff)
kill -TERM "$REDIS_PID"
reap "$REDIS_PID" 10
redis_tls "$P" redis server --bind 127.0.0.1 127.0.0.2 || fail restart "TLS redis did not restart"
REDIS_PID=$TLS_PID
if wait_for "ctl ping -d node1 -t 0.5 2>/dev/null | grep -q 'node1: OK'" 15; then
	ok reconnects_over_tls
else
	fail reconnects_over_tls "$(pidboxd_log node1 | tail -n 3)"
fi
stop_pidboxd node1

# mutual TLS: the broker wants a client certificate from ca.pem
kill -TERM "$REDIS_PID"
reap "$REDIS_PID" 10
redis_tls "$P" redis server --tls-auth-clients yes || fail restart "mTLS redis did not start"
REDIS_PID=$TLS_PID
M="rediss://127.0.0.1:$P/0?ssl_ca_certs=$CA&ssl_certfile=$PKI/client.pem&ssl_keyfile=$PKI/client.key"
expect_fail no_client_cert "$BROKER" "refused our client certificate"
expect_fail wrong_client_cert "rediss://127.0.0.1:$P/0?ssl_ca_certs=$CA&ssl_certfile=$PKI/other-client.pem&ssl_keyfile=$PKI/other-client.key" \
    "refused our client certificate"
cp "$PKI/client.key" "$T/open.key"
chmod 644 "$T/open.key"
expect_fail key_mode "rediss://127.0.0.1:$P/0?ssl_ca_certs=$CA&ssl_certfile=$PKI/client.pem&ssl_keyfile=$T/open.key" \
    "readable by group or others"
BROKER=$M start_pidboxd mnode || finish
out=$(pidboxctl -b "$M" ping -d mnode -t 2 2>&1)
expect_contains mtls_ping "$out" '->  mnode: OK'
bg nocert "$BUILD/pidboxd" -f -n nocert -b "rediss://127.0.0.1:$P/0?ssl_ca_certs=$CA"
nocert=$BG_PID
expect_log daemon_logs_no_client_cert "$T/nocert.log" 'refused our client certificate'
kill -TERM "$nocert"
reap "$nocert" 10

# broker_tls in the YAML, for pidboxd and pidboxctl -c
cat >"$T/tls.yaml" <<EOF
broker: rediss://127.0.0.1:$P/0
broker_tls:
  ca_file: $CA
  cert_file: $PKI/client.pem
  key_file: $PKI/client.key
  verify: required
  min_protocol: TLSv1.2
EOF
out=$("$BUILD/pidboxd" -t -c "$T/tls.yaml" 2>&1)
expect_contains yaml_check "$out" "configuration OK"
bg ynode "$BUILD/pidboxd" -f -n ynode -c "$T/tls.yaml"
ynode=$BG_PID
if wait_for "is_bound ynode pidbox" 10; then ok yaml_node_up; else fail yaml_node_up "$(tail -n 3 "$T/ynode.log")"; fi
out=$(pidboxctl -c "$T/tls.yaml" ping -d ynode -t 2 2>&1)
expect_contains yaml_ctl_ping "$out" '->  ynode: OK'
# systemctl reload: a changed broker_tls restarts the node over TLS
sed -i 's/TLSv1.2/TLSv1.3/' "$T/tls.yaml"
kill -HUP "$ynode"
if wait_for "[ \$(grep -c 'listening on' '$T/ynode.log') -ge 2 ]" 10 &&
    pidboxctl -c "$T/tls.yaml" ping -d ynode -t 2 2>&1 | grep -q 'ynode: OK'; then
	ok yaml_reload
else
	fail yaml_reload "$(tail -n 3 "$T/ynode.log")"
fi
# the health check notices a TLS broker that stops answering
bg hnode "$BUILD/pidboxd" -f -n hnode -b "$M&health_check_interval=1"
hnode=$BG_PID
wait_for "is_bound hnode pidbox" 10
kill -STOP "$REDIS_PID"
expect_log health_check_tls "$T/hnode.log" 'health check'
kill -CONT "$REDIS_PID"
if wait_for "pidboxctl -b '$M' ping -d hnode -t 0.5 2>/dev/null | grep -q 'hnode: OK'" 15; then
	ok health_recovers_tls
else
	fail health_recovers_tls "$(tail -n 3 "$T/hnode.log")"
fi
kill -TERM "$hnode"
reap "$hnode" 10
kill -TERM "$ynode"
reap "$ynode" 10
expect_eq yaml_node_exit "$REAP_RC" 0
cat >"$T/bad.yaml" <<EOF
broker: redis://127.0.0.1:$P/0
broker_tls:
  ca_file: $CA
EOF
out=$("$BUILD/pidboxd" -t -c "$T/bad.yaml" 2>&1)
rc=$?
expect_eq yaml_plaintext_refused_rc "$rc" 78
expect_contains yaml_plaintext_refused "$out" "broker_tls: needs a rediss:// broker URL"
cat >"$T/badkey.yaml" <<EOF
broker: rediss://127.0.0.1:$P/0
broker_tls:
  key_file: $T/open.key
EOF
out=$("$BUILD/pidboxd" -t -c "$T/badkey.yaml" 2>&1)
expect_contains yaml_key_mode "$out" "broker_tls.key_file: $T/open.key: readable by group or others"
finish
