#!/usr/bin/env bash
# Issue 12: Redis Sentinel over TLS with the sentinels' own password. A
# TLS-only master and replica (password mpw, TLS replication) and three
# TLS-only sentinels (requirepass spw); pidboxd and pidboxctl use
# sentinel://...?ssl=true&sentinel_ssl=true&sentinel_password=...; the
# master is killed and the node answers again through the promoted replica.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
make_certs
CA=$PKI/ca.pem
export REDISCLI_AUTH=mpw	# rcli, on the master's unix socket
start_redis_tls --requirepass mpw --masterauth mpw --tls-replication yes
master_pid=$REDIS_PID
rport=$(free_port)
redis_tls "$rport" replica server --requirepass mpw --masterauth mpw \
    --tls-replication yes --replicaof 127.0.0.1 "$REDIS_PORT" ||
    fail replica_up "no replica: $(tail -n 3 "$T/replica.log")"
sports=("$(free_port)" "$(free_port)" "$(free_port)")
start_sentinels "$REDIS_PORT" "${sports[@]}" <<EOC
port 0
tls-port @PORT@
tls-cert-file $PKI/server.pem
tls-key-file $PKI/server.key
tls-ca-cert-file $CA
tls-auth-clients no
tls-replication yes
requirepass spw
sentinel sentinel-pass spw
sentinel auth-pass mymaster mpw
EOC
sent() { REDISCLI_AUTH=spw redis-cli --tls --cacert "$CA" -p "$1" "${@:2}" 2>/dev/null; }
sentinels_ready "redis-cli -s '$T/replica.sock'" "$rport" "${sports[0]}"
# the sentinels refuse a client without their password
expect_contains sentinel_needs_password "$(REDISCLI_AUTH='' redis-cli --tls --cacert "$CA" -p "${sports[0]}" SENTINEL get-master-addr-by-name mymaster 2>&1)" NOAUTH

O="master_name=mymaster&ssl=true&sentinel_ssl=true&ssl_ca_certs=$CA&health_check_interval=1"
S="sentinel://:mpw@127.0.0.1:${sports[0]};sentinel://127.0.0.1:${sports[1]};sentinel://127.0.0.1:${sports[2]}?$O&sentinel_password=spw"
BROKER=$S start_pidboxd node1 || finish
out=$(pidboxctl -b "$S" ping -d node1 -t 1 2>&1)
expect_contains ping_via_tls_sentinel "$out" '->  node1: OK'
expect_not_contains no_password_shown "$out$(pidboxd_log node1)" spw

# the sentinels' password is not the master's
out=$(pidboxctl -b "${S%&sentinel_password=spw}&sentinel_password=Zq9bad" ping -t 1 2>&1)
rc=$?
expect_eq wrong_sentinel_password_rc "$rc" 75
expect_contains wrong_sentinel_password "$out" "AUTH: WRONGPASS"
expect_not_contains wrong_password_not_shown "$out" Zq9bad
bg badpw "$BUILD/pidboxd" -f -n badpw -b "${S%&sentinel_password=spw}&sentinel_password=Zq9bad"
badpw=$BG_PID
expect_log daemon_wrong_sentinel_password "$T/badpw.log" 'no sentinel answered for master mymaster.*NOAUTH'
expect_not_contains daemon_password_not_logged "$(cat "$T/badpw.log")" Zq9bad
kill -TERM "$badpw"
reap "$badpw" 10

failover "$master_pid" "$S" node1
expect_eq new_master "$(sent "${sports[0]}" SENTINEL get-master-addr-by-name mymaster | tail -n 1)" "$rport"
finish
