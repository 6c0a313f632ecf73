#!/usr/bin/env bash
# Ed25519-signed requests (issue 13): pidboxctl keygen; pidboxd trusts
# public keys only (a private key or an HMAC secret where a public key is
# expected is refused with file:line:col); a signed request runs, a wrong
# key, an unknown identity and a truncated signature are refused (error
# reply, log line, stats counter); two keys for one identity during a
# rotation; HMAC and Ed25519 accepted side by side; a node holding only
# public keys cannot sign a request another node accepts; an unsigned
# pidboxctl ping never loads libcrypto.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

value() {	# NODE JSON: the node's value
	"$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[sys.argv[1]]))' "$1"
}

# --- keygen
out=$(pidboxctl keygen -f "$T/ops" -C ops 2>"$T/keygen.err")
expect_eq keygen_exit "$?" 0
expect_eq keygen_private_mode "$(stat -c %a "$T/ops")" 600
expect_eq keygen_public_mode "$(stat -c %a "$T/ops.pub")" 644
expect_eq keygen_prints_public "$out" "$(cat "$T/ops.pub")"
if [[ $out =~ ^pidbox-ed25519\ [A-Za-z0-9+/]{43}=\ ops$ ]]; then ok keygen_public_format; else fail keygen_public_format "$out"; fi
expect_contains keygen_private_format "$(cat "$T/ops")" 'pidbox-ed25519-private '
pidboxctl keygen -f "$T/ops" -C ops >/dev/null 2>"$T/err"
expect_eq keygen_never_overwrites "$?" 73
expect_contains keygen_overwrite_says "$(cat "$T/err")" "$T/ops: File exists"
pidboxctl keygen -f "$T/ops2" -C ops >/dev/null 2>&1	# the rotation's new key
pidboxctl keygen -f "$T/mallory" -C ops >/dev/null 2>&1	# not trusted
pidboxctl keygen -f "$T/carol" -C carol >/dev/null 2>&1
umask 077
hmac_key "$T/hmac.key"

# --- a node holds no key that can sign: refused at -t with file:line:col
cat >"$T/bad.yaml" <<YAML
signing:
  public_keys:
    - $T/ops
    - $T/hmac.key
    - "$(cut -c1-60 "$T/ops.pub")"
YAML
out=$("$BUILD/pidboxd" -t -c "$T/bad.yaml" 2>&1)
expect_eq private_key_config_exit "$?" 78
expect_contains private_key_refused "$out" "$T/bad.yaml:3:7: signing.public_keys: $T/ops: a private key where a public key is expected"
expect_contains hmac_secret_refused "$out" "$T/bad.yaml:4:7: signing.public_keys: $T/hmac.key: not a pidbox-ed25519 key"
expect_contains truncated_key_refused "$out" "$T/bad.yaml:5:7: signing.public_keys: "

# --- a node trusting ops (two keys: a rotation) and an HMAC identity
conf=$T/s1.yaml
cat >"$conf" <<YAML
methods:
  deploy:
    argv: [/bin/echo, deployed]
signing:
  require_signed: true
  public_keys:
    - $T/ops.pub
    - $(cat "$T/ops2.pub")
    - $T/carol.pub
  keys:
    legacy: $T/hmac.key
policy:
  rules:
    - allow: [deploy]
      identities: [ops]
    - deny: [deploy]
YAML
start_pidboxd s1 -c "$conf" || exit 1

out=$(ctl -i "$T/ops" ping -d s1 --timeout 5)
expect_contains signed_ping_ok "$out" '->  s1: OK'
out=$(PIDBOX_KEY_FILE=$T/ops2 ctl ping -d s1 --timeout 5)
expect_contains rotation_second_key_ok "$out" '->  s1: OK'
out=$(PIDBOX_IDENTITY=legacy ctl -i "$T/hmac.key" ping -d s1 --timeout 5)
expect_contains hmac_alongside_ok "$out" '->  s1: OK'
out=$(ctl -i "$T/ops" --json broadcast deploy --reply -d s1 --timeout 5 | value s1)
expect_contains policy_per_identity_allows "$out" '"stdout": "deployed\n"'
out=$(ctl -i "$T/carol" --json broadcast deploy --reply -d s1 --timeout 5 | value s1)
expect_json policy_per_identity_refuses "$out" '{"error": "refused: denied by policy rule"}'
out=$(ctl -i "$T/mallory" --json ping -d s1 --timeout 5 | value s1)
expect_json wrong_key_refused "$out" '{"error": "refused: bad signature"}'
out=$(PIDBOX_IDENTITY=dave ctl -i "$T/ops" --json ping -d s1 --timeout 5 | value s1)
expect_json unknown_identity_refused "$out" '{"error": "refused: no key for this identity"}'
cp "$T/ops.pub" "$T/ops.pub.private-mode"	# umask 077: 0600
out=$(ctl -i "$T/ops.pub.private-mode" ping -d s1 --timeout 5 2>&1)
expect_contains public_key_cannot_sign "$out" 'a public key; signing needs the private key file'

# A truncated signature: capture a signed cast, cut its signature, publish.
bg cap rcli --raw SUBSCRIBE /0.pidbox.pidbox
CAP=$BG_PID
wait_for "[ \$(nsubs) -ge 2 ]" 5
ctl -i "$T/ops" broadcast print_msg msg=captured >/dev/null
wait_for "grep -q x-pidbox-signature '$T/cap.log'" 5
kill "$CAP" 2>/dev/null
grep x-pidbox-signature "$T/cap.log" | head -1 >"$T/signed.json"
"$PY" - "$T/signed.json" <<'PY' >"$T/truncated.json"
import json, sys
e = json.load(open(sys.argv[1]))
e["headers"]["x-pidbox-signature"] = e["headers"]["x-pidbox-signature"][:40]
e["headers"]["x-pidbox-nonce"] = "ab" * 16
print(json.dumps(e))
PY
rcli PUBLISH /0.pidbox.pidbox "$(cat "$T/truncated.json")" >/dev/null
if wait_for "pidboxd_log s1 | grep -q 'malformed signature (not 64 bytes of base64)'" 5; then
	ok truncated_signature_logged
else
	fail truncated_signature_logged "$(pidboxd_log s1 | tail -3)"
fi

counters=$(ctl -i "$T/ops" --json broadcast stats --reply -d s1 --timeout 5 | value s1)
counter() {
	"$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["counters"][sys.argv[2]])' "$counters" "$1"
}
expect_eq count_forged "$(counter forged)" 3
expect_eq count_unknown_identity "$(counter sig_unknown_identity)" 1
expect_eq count_malformed "$(counter sig_malformed)" 1

# --- a node's own files cannot command another node
cat >"$T/s2.yaml" <<YAML
signing:
  require_signed: true
  public_keys:
    - $T/ops.pub
YAML
cp "$T/ops.pub" "$T/s2-ops.pub"
sed -i "s|$T/ops.pub|$T/s2-ops.pub|" "$T/s2.yaml"
start_pidboxd s2 -c "$T/s2.yaml" -S "$T/s2state" || exit 1
accepts() {	# ID FILE: s1 ran a ping signed with FILE as ID
	case $(PIDBOX_IDENTITY=$1 ctl -i "$2" --json ping -d s1 --timeout 2 2>&1) in
	*'{"ok": "pong"}'*) return 0 ;;
	esac
	return 1
}
check node_files_control accepts ops "$T/ops"	# the probe can see success
nfiles=0
accepted=
for f in "$T/s2.yaml" "$T/s2-ops.pub" "$T"/s2state/*; do
	for id in ops s2 legacy; do
		nfiles=$((nfiles + 1))
		if accepts "$id" "$f"; then accepted="$accepted $f/$id"; fi
	done
done
expect_eq node_files_cannot_sign "${accepted:-none}" none
if [ "$nfiles" -ge 12 ]; then ok node_files_tried; else fail node_files_tried "only $nfiles tries"; fi

# --- libcrypto only when something is signed or checked
out=$(LD_DEBUG=libs ctl ping -d s2 --timeout 5 2>&1)
expect_contains unsigned_ping_answered "$out" '->  s2: ERROR'
expect_not_contains unsigned_ping_no_libcrypto "$out" 'libcrypto'
out=$(LD_DEBUG=libs ctl -i "$T/ops" ping -d s1 --timeout 5 2>&1)
expect_contains signed_ping_loads_libcrypto "$out" 'libcrypto.so'
finish
