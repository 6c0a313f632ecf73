#!/usr/bin/env bash
# Replay protection that survives restarts and reloads (issue 13): a
# captured signed request published again is refused after a clean
# restart, after a crash (SIGKILL right after it ran), after a reload that
# changes the signing section, and, when the state was lost or there is
# none, because it was issued before the node's replay cache began. The
# cache file stays bounded. A node key file with the wrong permissions is
# logged and counted and the node keeps serving.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

pidboxctl keygen -f "$T/ops" -C ops >/dev/null 2>&1 || fail keygen "failed"
conf=$T/r1.yaml
write_conf() {	# EXTRA-KEY-LINE
	cat >"$conf" <<YAML
signing:
  require_signed: true
  nonce_cache: 16
  public_keys:
    - $T/ops.pub
$1
YAML
}
write_conf ""
S=$T/state
start_pidboxd r1 -c "$conf" -S "$S" || exit 1

# capture NAME MSG: a signed cast of print_msg MSG to r1, as it goes over
# the channel, into $T/NAME.json
capture() {
	local cap
	bg "$1" rcli --raw SUBSCRIBE /0.pidbox.pidbox
	cap=$BG_PID
	wait_for "[ \$(nsubs) -ge 2 ]" 5
	ctl -i "$T/ops" broadcast print_msg msg="$2" -d r1 >/dev/null
	wait_for "grep -q x-pidbox-signature '$T/$1.log'" 5
	kill "$cap" 2>/dev/null
	grep x-pidbox-signature "$T/$1.log" | head -1 >"$T/$1.json"
}
capture signed once
wait_for "pidboxd_log r1 | grep -q 'print_msg: once'" 5
expect_eq captured_ran "$(pidboxd_log r1 | grep -c 'print_msg: once')" 1

replay() {	# NAME WHY: publish the capture; r1 logs WHY and does not run it
	rcli PUBLISH /0.pidbox.pidbox "$(cat "$T/signed.json")" >/dev/null
	if wait_for "pidboxd_log r1 | grep -q '$2'" 5; then ok "$1"; else fail "$1" "$(pidboxd_log r1 | tail -3)"; fi
	expect_not_contains "$1_not_run" "$(pidboxd_log r1)" 'print_msg: once'
}
rcli PUBLISH /0.pidbox.pidbox "$(cat "$T/signed.json")" >/dev/null
wait_for "pidboxd_log r1 | grep -q 'replayed request'" 5
expect_eq replay_same_process_not_run "$(pidboxd_log r1 | grep -c 'print_msg: once')" 1

# --- restart: the nonce comes back from the state directory
stop_pidboxd r1
start_pidboxd r1 -c "$conf" -S "$S" || exit 1
replay replay_after_restart 'replayed request (nonce seen before)'

# --- crash: SIGKILL at once after a request ran loses nothing
capture crash crash
wait_for "pidboxd_log r1 | grep -q 'print_msg: crash'" 5
kill -KILL "${DPID[r1]}"
reap "${DPID[r1]}" 5
unset "DPID[r1]"
start_pidboxd r1 -c "$conf" -S "$S" || exit 1
rcli PUBLISH /0.pidbox.pidbox "$(cat "$T/crash.json")" >/dev/null
if wait_for "pidboxd_log r1 | grep -q 'replayed request'" 5; then ok replay_after_crash; else fail replay_after_crash "$(pidboxd_log r1 | tail -3)"; fi
expect_not_contains replay_after_crash_not_run "$(pidboxd_log r1)" 'print_msg: crash'

# --- a reload that changes signing (restarts the node) keeps the cache
pidboxctl keygen -f "$T/ops2" -C ops >/dev/null 2>&1
write_conf "    - $T/ops2.pub"
kill -HUP "${DPID[r1]}"
wait_for "pidboxd_log r1 | grep -q 'restarting the node'" 5
wait_for "[ \$(pidboxd_log r1 | grep -c 'listening on') -ge 2 ]" 5
replay replay_after_reload 'replayed request (nonce seen before)'

# --- the state lost: what was issued before the new cache is refused
stop_pidboxd r1
rm -f "$S"/nonces.*
start_pidboxd r1 -c "$conf" -S "$S" || exit 1
expect_contains lost_state_logged "$(pidboxd_log r1)" 'no replay cache yet; refusing signed requests issued before now'
replay replay_after_state_lost 'issued before this node'
out=$(ctl -i "$T/ops" ping -d r1 --timeout 5)
expect_contains fresh_request_ok "$out" '->  r1: OK'

# --- no state directory at all: a restart still refuses the old request
stop_pidboxd r1
start_pidboxd r1 -c "$conf" || exit 1
replay replay_without_state_dir 'issued before this node'
stop_pidboxd r1

# --- bounded: nonce_cache 16; the file is rewritten with live nonces
start_pidboxd r1 -c "$conf" -S "$S" || exit 1
for i in $(seq 1 40); do
	ctl -i "$T/ops" broadcast print_msg msg="n$i" -d r1 >/dev/null
done
wait_for "[ \$(pidboxd_log r1 | grep -c -e 'print_msg: n' -e 'replay cache full') -ge 40 ]" 10
n=$(wc -l <"$S/nonces.pidbox.r1")
if [ "$n" -le 33 ]; then ok nonce_file_bounded; else fail nonce_file_bounded "$n lines"; fi
expect_contains cache_full_refuses "$(pidboxd_log r1)" 'replay cache full'
stats=$(ctl -i "$T/ops2" --json broadcast stats --reply -d r1 --timeout 5 2>&1)
expect_contains stats_under_full_cache "$stats" '"refused: replay cache full"'

# --- a node key with the wrong permissions: logged, counted, serving
stop_pidboxd r1
chmod 644 "$S/node.key"
start_pidboxd r1 -c "$conf" -S "$S" || exit 1
expect_contains node_key_mode_logged "$(pidboxd_log r1)" 'node.key: readable by group or others (mode 0644); chmod 600 it; replies go out unsigned'
finish
