#!/usr/bin/env bash
# Issue 13 measurement: pidboxd's instructions (callgrind) per request
# with and without signatures, from the difference between a run of N1
# and a run of N2 pings (start-up cancels out):
#   plain     unsigned ping, unsigned reply (no state directory)
#   reply     unsigned ping, reply signed with the node key (-S)
#   ed25519   Ed25519-signed ping (require_signed), signed reply, nonce
#             appended to the replay cache
#   hmac      HMAC-signed ping, signed reply, nonce appended
#
#   BUILD=build tests/bench/sign-cost.sh [N1 N2]     (default 20 120)
#
# Not a test: prints instructions per request for each.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
command -v valgrind >/dev/null || { fail setup "valgrind not installed"; exit 1; }
N1=${1:-20}
N2=${2:-120}
start_redis
pidboxctl keygen -f "$T/ops" -C ops >/dev/null 2>&1
umask 077
hmac_key "$T/hmac.key"
cat >"$T/signed.yaml" <<YAML
signing:
  require_signed: true
  public_keys: [$T/ops.pub]
  keys:
    ops-hmac: $T/hmac.key
YAML

# instructions SCENARIO N: pidboxd's total Ir over N pings
instructions() {
	local sc=$1 n=$2 out=$T/cg.$1.$2 args=() i
	case $sc in
	reply) args=(-S "$T/state.$sc.$n") ;;
	ed25519 | hmac) args=(-S "$T/state.$sc.$n" -c "$T/signed.yaml") ;;
	esac
	TEST_PREFIX="valgrind --tool=callgrind --callgrind-out-file=$out" \
	    start_pidboxd b1 "${args[@]}" >/dev/null || exit 1
	for ((i = 0; i < n; i++)); do
		case $sc in
		ed25519) ctl -i "$T/ops" ping -d b1 --timeout 10 ;;
		hmac) PIDBOX_IDENTITY=ops-hmac ctl -i "$T/hmac.key" ping -d b1 --timeout 10 ;;
		*) ctl ping -d b1 --timeout 10 ;;
		esac | grep -q -- '->  b1: OK' || fail "$sc" "ping $i not OK"
	done
	stop_pidboxd b1
	sed -n 's/^summary: //p' "$out"
}

for sc in plain reply ed25519 hmac; do
	a=$(instructions "$sc" "$N1")
	b=$(instructions "$sc" "$N2")
	echo "$sc: $(((b - a) / (N2 - N1))) instructions per request ($a for $N1, $b for $N2)"
done
finish
