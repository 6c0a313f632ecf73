#!/usr/bin/env bash
# Secret files (issue 10, point 6): a FIFO as broker_password_file or key
# file no longer hangs `pidboxd -t`, start-up, reload or pidboxctl; a
# symbolic link or a file owned by another user is refused, naming the
# file and the reason; and pidboxctl warns, like pidboxd, when -b carries a
# password (never printing it).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
start_redis

umask 077
PW=Zq9-secret-pw
printf '%s\n' "$PW" >"$T/pw"
hmac_key "$T/key"
mkfifo "$T/fifo"
ln -s "$T/pw" "$T/pw.link"
ln -s "$T/key" "$T/key.link"

# conf NAME YAML: a private config file $T/NAME.yaml.
conf() {
	printf '%s\n' "$2" >"$T/$1.yaml"
}
conf pwfifo "broker_password_file: $T/fifo"
conf keyfifo "signing: {key_file: $T/fifo}"
conf keysfifo "signing: {keys: {alice: $T/fifo}}"
conf pwlink "broker_password_file: $T/pw.link"
conf keylink "signing: {key_file: $T/key.link}"

# check_t NAME CONF WANT: `pidboxd -t -c CONF` fails at once (78) with a
# message that names the setting's file and says WANT.
check_t() {
	local t0 rc
	t0=$(now_ms)
	timeout -k 2 10 "$BUILD/pidboxd" -t -c "$T/$2.yaml" >"$T/t.out" 2>&1
	rc=$?
	expect_eq "${1}_exit_78" "$rc" 78
	expect_faster "${1}_quick" "$t0" 3
	expect_contains "${1}_says_why" "$(cat "$T/t.out")" "$3"
}

check_t fifo_password_file pwfifo "broker_password_file: $T/fifo: not a regular file (a FIFO)"
check_t fifo_key_file keyfifo "signing.key_file: $T/fifo: not a regular file (a FIFO)"
check_t fifo_keys keysfifo "$T/fifo: not a regular file (a FIFO)"
check_t symlink_password_file pwlink "broker_password_file: $T/pw.link: is a symbolic link"
check_t symlink_key_file keylink "signing.key_file: $T/key.link: is a symbolic link"

# start-up (not -t) with a FIFO: exits 78 at once, never binds
t0=$(now_ms)
timeout -k 2 10 "$BUILD/pidboxd" -f -n hang -b "$BROKER" -c "$T/keyfifo.yaml" >"$T/start.out" 2>&1
expect_eq fifo_startup_exit_78 "$?" 78
expect_faster fifo_startup_quick "$t0" 3
expect_contains fifo_startup_says_why "$(cat "$T/start.out")" "$T/fifo: not a regular file (a FIFO)"

# owned by another (non-root) user: refused even at mode 0600
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	cp "$T/pw" "$T/pw.nobody"
	cp "$T/key" "$T/key.nobody"
	chown nobody "$T/pw.nobody" "$T/key.nobody"
	conf pwnobody "broker_password_file: $T/pw.nobody"
	conf keynobody "signing: {key_file: $T/key.nobody}"
	check_t foreign_password_file pwnobody "broker_password_file: $T/pw.nobody: owned by uid $(id -u nobody)"
	check_t foreign_key_file keynobody "signing.key_file: $T/key.nobody: owned by uid $(id -u nobody)"
	out=$(PIDBOX_KEY_FILE=$T/key.nobody timeout -k 2 10 "$BUILD/pidboxctl" -b "$BROKER" ping --timeout 1 2>&1)
	expect_eq ctl_foreign_key_exit_78 "$?" 78
	expect_contains ctl_foreign_key_says_why "$out" "PIDBOX_KEY_FILE $T/key.nobody: owned by uid $(id -u nobody)"
else
	fail foreign_owner "cannot test: needs root and a user nobody"
fi

# the good files are still accepted
conf good "broker_password_file: $T/pw
signing: {key_file: $T/key}"
timeout -k 2 10 "$BUILD/pidboxd" -t -c "$T/good.yaml" >"$T/t.out" 2>&1
expect_eq private_files_accepted "$?" 0

# reload: a key file swapped for a FIFO is refused, the node keeps serving
conf reload "signing: {key_file: $T/rkey}"
cp "$T/key" "$T/rkey"
start_pidboxd r1 -c "$T/reload.yaml" || exit 1
rm "$T/rkey"
mkfifo "$T/rkey"
kill -HUP "${DPID[r1]}"
if wait_for "grep -q 'reload failed' '$T/pidboxd.r1.log'" 5; then
	ok fifo_reload_refused
else
	fail fifo_reload_refused "no 'reload failed' in: $(tail -n 3 "$T/pidboxd.r1.log")"
fi
expect_contains fifo_reload_says_why "$(pidboxd_log r1)" "$T/rkey: not a regular file (a FIFO)"
out=$(timeout -k 2 10 "$BUILD/pidboxctl" -b "$BROKER" ping -d r1 --timeout 5 2>&1)
expect_contains fifo_reload_still_serving "$out" '->  r1: OK'

# pidboxctl's key file: a FIFO or a symbolic link is refused at once (78)
t0=$(now_ms)
out=$(PIDBOX_KEY_FILE=$T/fifo timeout -k 2 10 "$BUILD/pidboxctl" -b "$BROKER" ping -d r1 --timeout 1 2>&1)
expect_eq ctl_fifo_key_exit_78 "$?" 78
expect_faster ctl_fifo_key_quick "$t0" 3
expect_contains ctl_fifo_key_says_why "$out" "PIDBOX_KEY_FILE $T/fifo: not a regular file (a FIFO)"
out=$(PIDBOX_KEY_FILE=$T/key.link timeout -k 2 10 "$BUILD/pidboxctl" -b "$BROKER" ping -d r1 --timeout 1 2>&1)
expect_eq ctl_symlink_key_exit_78 "$?" 78
expect_contains ctl_symlink_key_says_why "$out" "PIDBOX_KEY_FILE $T/key.link: is a symbolic link"

# pidboxctl -b with a password: warned on stderr, the password never shown
rcli ACL SETUSER pbx on ">$PW" '~*' '&*' '+@all' >/dev/null
out=$(timeout -k 2 10 "$BUILD/pidboxctl" -b "redis://pbx:$PW@127.0.0.1:$REDIS_PORT/0" ping -d r1 --timeout 5 2>"$T/err")
expect_eq argv_password_works "$?" 0
expect_contains argv_password_reply "$out" '->  r1: OK'
expect_contains argv_password_warned "$(cat "$T/err")" 'warning: a password on the command line is visible to other users'
expect_not_contains argv_password_not_shown "$out$(cat "$T/err")" "$PW"
timeout -k 2 10 "$BUILD/pidboxctl" -b "redis://:$PW@127.0.0.1:$REDIS_PORT/0" ping -d r1 --timeout 1 >"$T/out" 2>"$T/err"
expect_contains argv_default_user_password_warned "$(cat "$T/err")" 'warning: a password on the command line is visible to other users'
expect_not_contains argv_default_user_password_not_shown "$(cat "$T/out" "$T/err")" "$PW"
# from the environment: nothing on the command line, no warning
out=$(PIDBOX_BROKER="redis://pbx:$PW@127.0.0.1:$REDIS_PORT/0" timeout -k 2 10 "$BUILD/pidboxctl" ping -d r1 --timeout 5 2>"$T/err")
expect_contains env_password_reply "$out" '->  r1: OK'
expect_not_contains env_password_not_warned "$(cat "$T/err")" 'warning'

finish
