#!/usr/bin/env bash
# Issue 12: real kombu 5.2 and Celery 5.2 peers over TLS with client
# certificates (the broker is a TLS-only redis-server that requires them).
# A kombu Mailbox client with kombu's own rediss:// options calls pidboxd;
# a Celery worker configured with broker_use_ssl is pinged by pidboxctl,
# and `celery inspect ping` over TLS lists pidboxd.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
make_certs
start_redis_tls --tls-auth-clients yes
CA=$PKI/ca.pem
CERT=$PKI/client.pem
KEY=$PKI/client.key
# pidboxd and pidboxctl: redis-py's option names, verification on
BROKER="rediss://127.0.0.1:$REDIS_PORT/0?ssl_cert_reqs=required&ssl_ca_certs=$CA&ssl_certfile=$CERT&ssl_keyfile=$KEY"
export BROKER

start_pidboxd node1 || finish
start_pidboxd pd1@host -N celery || finish

# kombu, with its own spelling of the URL (CERT_REQUIRED), by host name
K="rediss://localhost:$REDIS_PORT/0?ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=$CA&ssl_certfile=$CERT&ssl_keyfile=$KEY"
out=$(kombu_client pidbox fanout ping '{}' 2>"$T/err")
expect_json kombu_ping_tls "$out" '[{"node1": {"ok": "pong"}}]'
out=$(BROKER=$K kombu_client pidbox fanout ping '{}' --destination node1 2>"$T/err")
expect_json kombu_ping_tls_by_name "$out" '[{"node1": {"ok": "pong"}}]'
assert_no_reply_keys kombu_no_reply_keys_left

# Celery: broker_use_ssl (the URL without options, as Celery users write it)
BROKER_USE_SSL=$(printf '{"ssl_cert_reqs": "CERT_REQUIRED", "ssl_ca_certs": "%s", "ssl_certfile": "%s", "ssl_keyfile": "%s"}' "$CA" "$CERT" "$KEY")
export BROKER_USE_SSL
BROKER="rediss://127.0.0.1:$REDIS_PORT/0" start_celery_worker w1@pidbox-test || finish
out=$(ctl -N celery ping -d w1@pidbox-test -t 5 2>"$T/err")
expect_contains ctl_pings_worker_tls "$out" '->  w1@pidbox-test: OK'
out=$(BROKER="rediss://127.0.0.1:$REDIS_PORT/0" celery inspect ping -t 3 2>"$T/err")
expect_contains celery_inspect_lists_pidboxd "$out" "$(printf '%s\n' '->  pd1@host: OK' '        pong')"
expect_contains celery_inspect_lists_worker "$out" '->  w1@pidbox-test: OK'
expect_not_contains worker_no_control_errors "$(cat "$T/celery.w1@pidbox-test.log")" 'Control command error'
# the broker has no plaintext TCP port: the two nodes (two links each)
# and the worker are on its TLS port, where it required our certificate
n=$(rcli CLIENT LIST | grep -c "laddr=127.0.0.1:$REDIS_PORT")
if [ "$n" -ge 5 ]; then ok clients_on_tls_port; else fail clients_on_tls_port "$n clients on the TLS port"; fi
finish
