#!/usr/bin/env bash
# Issue 13 against real kombu 5.2 and Celery 5.2: a kombu node and a
# Celery worker answer Ed25519-signed requests (they ignore the
# x-pidbox-* headers); pidboxd's signed replies are ordinary replies to a
# kombu Mailbox client and to `celery inspect ping`; pidboxctl marks the
# kombu and Celery replies unverified and pidboxd's verified.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis
pidboxctl keygen -f "$T/ops" -C ops >/dev/null 2>&1 || fail keygen "failed"
start_pidboxd p1 -S "$T/p1state" || exit 1
start_pidboxd pc@host -N celery -S "$T/pcstate" || exit 1
start_kombu_node kn1 pidbox fanout || exit 1
start_celery_worker w1@signed-test || exit 1

# kombu's client: pidboxd's signed reply is a plain reply
out=$(kombu_client pidbox fanout ping '{}' --destination p1 2>"$T/err")
expect_json kombu_client_signed_reply "$out" '[{"p1": {"ok": "pong"}}]'
# celery inspect ping sees the signed pidboxd node
out=$(celery inspect ping -d pc@host 2>"$T/err")
expect_contains celery_inspect_signed_reply "$out" '->  pc@host: OK'
expect_not_contains celery_inspect_no_error "$(cat "$T/err")" Traceback

# signed requests to kombu and Celery nodes: answered, headers ignored
export PIDBOX_KNOWN_NODES=$T/known
ctl -i "$T/ops" ping -d p1 --timeout 5 >/dev/null	# pin p1
out=$(ctl -i "$T/ops" ping -d kn1,p1 --timeout 10 2>&1)
expect_contains kombu_node_answers_signed "$out" '->  kn1: OK [unverified: unsigned reply (a kombu or Celery node?)]'
expect_contains pidboxd_verified_beside_kombu "$out" '->  p1: OK [verified]'
out=$(ctl -N celery -i "$T/ops" ping -d w1@signed-test --timeout 10 2>&1)
expect_contains celery_worker_answers_signed "$out" '->  w1@signed-test: OK [unverified: unsigned reply (a kombu or Celery node?)]'
expect_not_contains kombu_node_no_errors "$(kombu_node_log kn1)" Traceback
finish
