#!/usr/bin/env bash
# The service's whole life under a real systemd (issue 16): Debian 12's
# systemd 252 booted with systemd-nspawn in a bookworm tree (debootstrapped
# once from the mirror apt uses, cached in $BUILD/systemd-test), the built
# .deb ($PIDBOX_DEB) installed with dpkg, redis-server inside.  Checks:
# install (user, config, neither enabled nor started), enable --now,
# status, reload, a bad-config reload, the watchdog, a broker outage
# (READY=1 without Redis: start does not block), a config error (exit 78,
# no restart loop), the diagnostics drop-in (methods running uptime, free,
# ps, ip, ss), the audit trail in the journal that a method cannot erase,
# stop, upgrade (reinstall: what ran runs again, instances included, what
# was stopped stays stopped) and remove (nothing left running).
# Run by `make check-systemd`, never by `make check` (root, network once).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { fail setup "needs root (systemd-nspawn)"; exit 1; }
for p in systemd-nspawn debootstrap nsenter dpkg-deb; do
	command -v "$p" >/dev/null || {
		fail setup "$p not installed (tests/deps.sh --systemd)"
		exit 1
	}
done
DEB=${PIDBOX_DEB:-}
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
	fail setup "no .deb in PIDBOX_DEB='$DEB' (make deb B=build-deb)"
	exit 1
fi
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")

# ---------------------------------------------------------------- the tree

# The Debian mirror apt is configured with (MIRROR overrides).
mirror() {
	[ -n "${MIRROR:-}" ] && { echo "$MIRROR"; return; }
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
		/^deb / { print ($2 ~ /^\[/ ? $3 : $2) }' |
	    grep -E '^https?://.*/debian/?$' | head -n 1
}

# What the tree holds besides the base: systemd, redis, the tools the
# methods run, and the .deb's dependencies (so dpkg -i needs no network).
debdeps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' |
    sed 's/([^)]*)//; s/|.*//; s/[[:space:]]//g' | grep . | sort -u | tr '\n' ',')
include="systemd,systemd-sysv,dbus,redis-server,procps,iproute2,${debdeps%,}"
CACHE=$BUILD/systemd-test/bookworm
if [ "$(cat "$CACHE/.pidbox-include" 2>/dev/null)" != "$include" ]; then
	m=$(mirror)
	[ -n "$m" ] || { fail debootstrap "no Debian mirror in /etc/apt/sources.list*; set MIRROR"; exit 1; }
	echo "# debootstrap bookworm from $m into $CACHE (once; cached)"
	rm -rf "$CACHE" "$CACHE.tmp"
	mkdir -p "$(dirname "$CACHE")"
	if ! debootstrap --variant=minbase --include="$include" bookworm \
	    "$CACHE.tmp" "$m" >"$T/debootstrap.log" 2>&1; then
		fail debootstrap "cannot debootstrap bookworm from $m: $(tail -n 3 "$T/debootstrap.log")"
		exit 1
	fi
	echo "$include" >"$CACHE.tmp/.pidbox-include"
	mv "$CACHE.tmp" "$CACHE"
fi
ok tree

# ---------------------------------------------------------------- boot

# The tree is never changed: --volatile=overlay keeps every write of this
# run in a tmpfs, thrown away at the end.
mkdir -p "$T/debs"
cp "$DEB" "$T/debs/pidbox.deb"
systemd-nspawn -b -D "$CACHE" --register=no --keep-unit --private-network \
    --volatile=overlay --bind-ro="$T/debs:/debs" --machine="pidbox-t$$" \
    >"$T/console.log" 2>&1 </dev/null &
NSPAWN=$!
_track "$NSPAWN"
LEADER=
find_leader() {	# the container's init: nspawn's child once it is systemd
	LEADER=$(ps -o pid=,comm= --ppid "$NSPAWN" 2>/dev/null |
	    awk '$2 == "systemd" { print $1; exit }')
	[ -n "$LEADER" ] && [ -e "/proc/$LEADER/ns/mnt" ]
}
# ct CMD...: run CMD inside the container (its namespaces, a clean env).
ct() {
	nsenter -t "$LEADER" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 TERM=dumb SYSTEMD_COLORS=0 "$@"
}
if ! wait_for find_leader 30; then
	fail boot "systemd-nspawn did not start: $(tail -n 5 "$T/console.log")"
	exit 1
fi
if wait_for '[ "$(ct systemctl is-system-running)" = running ]' 60; then
	ok boot
else
	fail boot "is-system-running: $(ct systemctl is-system-running) $(ct systemctl --failed --no-legend)"
	exit 1
fi
expect_contains systemd_252 "$(ct systemctl --version | head -n 1)" 'systemd 252'
# debootstrap writes no /etc/hosts; the shipped config names localhost
ct sh -c 'printf "127.0.0.1\tlocalhost\n::1\tlocalhost\n" >>/etc/hosts'
wait_for '[ "$(ct redis-cli ping)" = PONG ]' 20
expect_eq redis_inside "$(ct redis-cli ping)" PONG

prop() {	# UNIT PROPERTY: its value
	ct systemctl show -P "$2" "$1"
}
state() {
	ct systemctl is-active "$1"
}
ping_node() {	# NAME [NS]: pidboxctl ping inside; the output
	ct pidboxctl -N "${2:-pidbox}" ping -d "$1" --timeout 3 2>&1
}
mainpid() {
	prop "$1" MainPID
}

# ---------------------------------------------------------------- install

out=$(ct dpkg -i /debs/pidbox.deb 2>&1)
expect_eq install_rc "$?" 0
expect_eq install_not_enabled "$(ct systemctl is-enabled pidboxd)" disabled
expect_eq install_not_started "$(state pidboxd)" inactive
expect_eq install_user "$(ct getent passwd pidbox | cut -d: -f1,7)" pidbox:/usr/sbin/nologin
expect_eq install_config_mode "$(ct stat -c '%U:%G %a' /etc/pidbox/pidboxd.yaml)" 'root:pidbox 640'
expect_eq install_dropin_shipped "$(ct stat -c %a /usr/share/doc/pidbox/examples/diagnostics.conf)" 644
expect_eq install_nothing_runs "$(ct pgrep -c -x pidboxd)" 0

# ---------------------------------------------------------------- enable --now

conf() {	# the node's config on stdin
	ct sh -c 'cat >/etc/pidbox/pidboxd.yaml'
}
node_conf() {	# [verbose]
	conf <<YAML
hostname: n1
broker: redis://localhost:6379/0
verbose: ${1:-false}
methods:
  uptime: {argv: [/usr/bin/uptime]}
  free: {argv: [/usr/bin/free]}
  ps: {argv: [/usr/bin/ps, aux]}
  loadavg: {argv: [/usr/bin/cat, /proc/loadavg]}
  ip: {argv: [/usr/bin/ip, -o, addr]}
  ss: {argv: [/usr/bin/ss, -tln]}
  erase:
    argv: [/bin/sh, -c, 'for f in /var/log/journal/*/* /run/log/journal/*/*; do truncate -s 0 \$f; rm -f \$f; done; rm -rf /var/log/journal /run/log/journal; exit 0']
audit:
  syslog: true
YAML
}
node_conf
out=$(ct timeout 60 systemctl enable --now pidboxd 2>&1)
expect_eq enable_now_rc "$?" 0
expect_eq enabled "$(ct systemctl is-enabled pidboxd)" enabled
expect_eq active "$(state pidboxd)" active
wait_for '[[ "$(prop pidboxd StatusText)" == *listening ]]' 10
expect_eq status_text "$(prop pidboxd StatusText)" 'node n1, fanout mailbox pidbox.pidbox, broker redis://localhost:6379/0: listening'
expect_contains status_shows_it "$(ct systemctl status --no-pager pidboxd)" 'Status: "node n1, fanout mailbox pidbox.pidbox'
expect_contains ping_n1 "$(ping_node n1)" '->  n1: OK'
expect_eq runs_as_pidbox "$(ct ps -o user= -p "$(mainpid pidboxd)")" pidbox

# ---------------------------------------------------------------- reload

pid=$(mainpid pidboxd)
node_conf true
out=$(ct timeout 30 systemctl reload pidboxd 2>&1)
expect_eq reload_rc "$?" 0
expect_eq reload_same_pid "$(mainpid pidboxd)" "$pid"
expect_eq reload_active "$(state pidboxd)" active
expect_contains reload_answers "$(ping_node n1)" '->  n1: OK'

# a bad file: the reload fails (pidboxd -t), the node keeps running
conf <<<'expiry_skew: [broken'
out=$(ct timeout 30 systemctl reload pidboxd 2>&1)
expect_ne bad_reload_fails "$?" 0
expect_eq bad_reload_same_pid "$(mainpid pidboxd)" "$pid"
expect_eq bad_reload_active "$(state pidboxd)" active
expect_contains bad_reload_answers "$(ping_node n1)" '->  n1: OK'
out=$(ct journalctl -u pidboxd --no-pager -o cat | grep -F '/etc/pidbox/pidboxd.yaml:2:1: ')
expect_contains bad_reload_reason_logged "$out" "did not find expected ',' or ']'"
node_conf

# ---------------------------------------------------------------- audit (16.8)

# the journal holds the audit trail; a method (user pidbox, as pidboxd)
# tries to truncate and remove the journal's files, and cannot
ct journalctl --sync
before=$(ct journalctl --no-pager -o cat SYSLOG_FACILITY=10 | grep -c '^audit: .*"method":"ping"')
if [ "$before" -ge 1 ]; then ok audit_in_journal; else fail audit_in_journal "$(ct journalctl -u pidboxd --no-pager -n 5 -o cat)"; fi
out=$(ct pidboxctl broadcast erase --reply -d n1 --timeout 10 2>&1)
expect_contains erase_ran "$out" 'n1'
ct journalctl --sync
after=$(ct journalctl --no-pager -o cat SYSLOG_FACILITY=10 | grep -c '^audit: .*"method":"ping"')
expect_eq audit_not_erased "$after" "$before"
expect_contains audit_has_erase "$(ct journalctl --no-pager -o cat SYSLOG_FACILITY=10)" '"method":"erase"'
# an audit file that the methods could rewrite: a config error, exit 78,
# and RestartPreventExitStatus=78 keeps it from looping
node_conf
ct sh -c 'printf "  file: /var/log/pidbox/audit.jsonl\n" >>/etc/pidbox/pidboxd.yaml'
ct timeout 60 systemctl restart pidboxd >/dev/null 2>&1
wait_for '[ "$(state pidboxd)" = failed ]' 10
expect_eq config_error_failed "$(state pidboxd)" failed
expect_eq config_error_status_78 "$(prop pidboxd ExecMainStatus)" 78
sleep 3	# RestartSec=2: a restart would have happened by now
expect_eq config_error_no_restart "$(prop pidboxd NRestarts)" 0
expect_contains config_error_says_why "$(ct journalctl -u pidboxd --no-pager -o cat -n 20)" 'audit.file: method'
node_conf
ct systemctl reset-failed pidboxd
out=$(ct timeout 60 systemctl start pidboxd 2>&1)
expect_eq start_again "$?$(state pidboxd)" 0active

# ---------------------------------------------------------------- methods (16.7)

# method NAME: the reply of a method on n1
method() {
	ct pidboxctl broadcast "$1" --reply -d n1 --timeout 10 --json 2>&1
}
# diagnostics PREFIX WANT: each diagnostic method works (WANT=1: exit 0,
# nothing on stderr; ss exits 0 without netlink, after "Cannot open
# netlink socket") or not (WANT=0); the checks are PREFIX_<method>.
diagnostics() {
	local m works
	wait_for '[[ "$(prop pidboxd StatusText)" == *listening ]]' 10
	for m in uptime free ps loadavg ip ss; do
		out=$(method "$m")
		case $out in
		*'"exit_status": 0'*'"stderr": ""'*) works=1 ;;
		*) works=0 ;;
		esac
		if [ "$works" = "$2" ]; then ok "$1_$m"; else fail "$1_$m" "$out"; fi
	done
}
diagnostics sandbox_breaks 0
ct mkdir -p /etc/systemd/system/pidboxd.service.d
ct cp /usr/share/doc/pidbox/examples/diagnostics.conf /etc/systemd/system/pidboxd.service.d/
ct systemctl daemon-reload
ct timeout 60 systemctl restart pidboxd
diagnostics dropin_runs 1
expect_contains dropin_ss_sees_redis "$(method ss)" '127.0.0.1:6379'
expect_contains dropin_ip_sees_lo "$(method ip)" 'inet 127.0.0.1/8'
out=$(ct sh -c 'systemd-analyze security --no-pager pidboxd.service | tail -n 1')
echo "# exposure with diagnostics.conf, as systemd computes it: $out"
ct rm -r /etc/systemd/system/pidboxd.service.d
ct systemctl daemon-reload

# ---------------------------------------------------------------- watchdog

# WatchdogSec=3 for the test: WATCHDOG=1 keeps it alive well past that;
# a stopped process is killed and restarted.
ct mkdir -p /etc/systemd/system/pidboxd.service.d
ct sh -c 'printf "[Service]\nWatchdogSec=3\nLimitCORE=0\n" >/etc/systemd/system/pidboxd.service.d/wd.conf'
ct systemctl daemon-reload
ct timeout 60 systemctl restart pidboxd
pid=$(mainpid pidboxd)
n0=$(prop pidboxd NRestarts)
sleep 7
expect_eq watchdog_fed "$(mainpid pidboxd) $(prop pidboxd NRestarts)" "$pid $n0"
# (never kill 0: that would stop this script's own process group)
[ "$pid" -gt 1 ] 2>/dev/null && ct kill -STOP "$pid"
if wait_for "[ \"\$(prop pidboxd NRestarts)\" -gt $n0 ] && [ \"\$(state pidboxd)\" = active ]" 30; then
	ok watchdog_restarts
else
	fail watchdog_restarts "NRestarts $(prop pidboxd NRestarts), $(state pidboxd)"
fi
expect_contains watchdog_logged "$(ct journalctl -u pidboxd --no-pager -o cat)" 'Watchdog timeout'
wait_for '[[ "$(prop pidboxd StatusText)" == *listening ]]' 10
expect_contains watchdog_answers_again "$(ping_node n1)" '->  n1: OK'

# ---------------------------------------------------------------- broker outage

ct systemctl stop redis-server
if wait_for '[[ "$(prop pidboxd StatusText)" == *reconnecting ]]' 10; then ok outage_status; else fail outage_status "$(prop pidboxd StatusText)"; fi
sleep 5	# past WatchdogSec: the loop still turns
expect_eq outage_still_active "$(state pidboxd)" active
# (16.6) a start while Redis is down does not wait for it
t0=$(now_ms)
out=$(ct timeout 60 systemctl restart pidboxd 2>&1)
expect_eq outage_restart_rc "$?" 0
el=$(($(now_ms) - t0))
echo "# systemctl restart with Redis down took $el ms"
if [ "$el" -lt 20000 ]; then ok outage_restart_prompt; else fail outage_restart_prompt "$el ms"; fi
expect_eq outage_restart_active "$(state pidboxd)" active
expect_contains outage_connecting "$(prop pidboxd StatusText)" ': connecting to the broker'
ct systemctl start redis-server
if wait_for '[[ "$(prop pidboxd StatusText)" == *listening ]]' 20; then ok outage_back; else fail outage_back "$(prop pidboxd StatusText)"; fi
expect_contains outage_answers "$(ping_node n1)" '->  n1: OK'
ct rm -r /etc/systemd/system/pidboxd.service.d
ct systemctl daemon-reload
ct timeout 60 systemctl restart pidboxd

# ---------------------------------------------------------------- stop

wait_for '[[ "$(prop pidboxd StatusText)" == *listening ]]' 10
out=$(ct timeout 60 systemctl stop pidboxd 2>&1)
expect_eq stop_rc "$?" 0
expect_eq stopped "$(state pidboxd)" inactive
expect_eq stop_unbinds "$(ct redis-cli SCARD _kombu.binding.pidbox.pidbox)" 0
ct timeout 60 systemctl start pidboxd

# ---------------------------------------------------------------- upgrade

# pidboxd and pidboxd@celery running, pidboxd@other enabled but stopped
ct sh -c 'printf "hostname: c1\n" >/etc/pidbox/celery.yaml; printf "hostname: o1\n" >/etc/pidbox/other.yaml'
ct sh -c 'chgrp pidbox /etc/pidbox/celery.yaml /etc/pidbox/other.yaml; chmod 640 /etc/pidbox/celery.yaml /etc/pidbox/other.yaml'
ct timeout 60 systemctl enable --now pidboxd@celery >/dev/null 2>&1
ct systemctl enable pidboxd@other >/dev/null 2>&1
expect_eq instance_active "$(state pidboxd@celery)" active
wait_for '[[ "$(prop pidboxd StatusText)$(prop pidboxd@celery StatusText)" == *listening*listening ]]' 10
p1=$(mainpid pidboxd)
p2=$(mainpid pidboxd@celery)
out=$(ct dpkg -i /debs/pidbox.deb 2>&1)
expect_eq upgrade_rc "$?" 0
expect_eq upgrade_active "$(state pidboxd) $(state pidboxd@celery) $(state pidboxd@other)" 'active active inactive'
expect_ne upgrade_restarted "$(mainpid pidboxd)" "$p1"
expect_ne upgrade_restarted_instance "$(mainpid pidboxd@celery)" "$p2"
expect_eq upgrade_still_enabled "$(ct systemctl is-enabled pidboxd)" enabled
wait_for '[[ "$(prop pidboxd@celery StatusText)" == *listening ]]' 10
expect_contains upgrade_answers "$(ping_node n1)" '->  n1: OK'
expect_contains upgrade_instance_answers "$(ping_node c1 celery)" '->  c1: OK'
# a stopped (enabled) node stays stopped through an upgrade
ct systemctl stop pidboxd
ct dpkg -i /debs/pidbox.deb >/dev/null 2>&1
expect_eq upgrade_keeps_stopped "$(state pidboxd)" inactive
ct timeout 60 systemctl start pidboxd

# ---------------------------------------------------------------- remove

out=$(ct dpkg -r pidbox 2>&1)
expect_eq remove_rc "$?" 0
expect_eq remove_stops "$(state pidboxd) $(state pidboxd@celery)" 'inactive inactive'
expect_eq remove_nothing_runs "$(ct pgrep -c -x pidboxd)" 0
expect_eq remove_unbinds "$(ct redis-cli SCARD _kombu.binding.pidbox.pidbox) $(ct redis-cli SCARD _kombu.binding.celery.pidbox)" '0 0'
out=$(ct dpkg -P pidbox 2>&1)
expect_eq purge_rc "$?" 0
# and a first install again starts nothing
ct dpkg -i /debs/pidbox.deb >/dev/null 2>&1
expect_eq reinstall_not_started "$(state pidboxd) $(ct pgrep -c -x pidboxd)" 'inactive 0'

ct systemctl poweroff >/dev/null 2>&1
reap "$NSPAWN" 30
exit 0
