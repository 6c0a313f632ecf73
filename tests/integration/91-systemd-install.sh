#!/usr/bin/env bash
# The units and `make install` (issue 7): systemd-analyze security
# --offline=true scores each unit of systemd/ at most 2.0, with and without
# the diagnostics drop-in (issue 16.7); make install
# PREFIX=/usr/local DESTDIR=... lays out the binaries, the units rewritten
# for $(SBINDIR), the config 0640 (kept when it exists), man pages,
# completion and the sysusers file; systemd-analyze verify passes on the
# installed units (whose ExecStart must exist: a second install with PREFIX
# inside the tmpdir and no DESTDIR provides one); make uninstall removes
# everything but the config.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
command -v systemd-analyze >/dev/null || {
	fail setup "systemd-analyze not installed (package systemd)"
	exit 1
}

# exposure NAME UNITFILE: systemd-analyze security scores it at most 2.0;
# its report in $out.
exposure() {
	local score
	out=$(systemd-analyze security --offline=true --no-pager "$2" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$out")
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		ok "$1"
		echo "# $1: exposure $score"
	else
		fail "$1" "exposure '$score' > 2.0: $(grep '✗' <<<"$out" | head -n 5)"
	fi
}

# --- exposure score of the units as they are in the tree
for unit in pidboxd.service pidboxd@.service; do
	exposure "security_${unit%.service}" "$ROOT/systemd/$unit"
	expect_contains "type_notify_${unit%.service}" "$(cat "$ROOT/systemd/$unit")" $'\nType=notify\n'
	expect_contains "reload_hup_${unit%.service}" "$(cat "$ROOT/systemd/$unit")" $'\nExecReload=/bin/kill -HUP $MAINPID\n'
done

# --- the diagnostics drop-in (issue 16.7): each unit with it still scores
# at most 2.0, and it does what it says (ProcSubset=all, AF_NETLINK).
for unit in pidboxd.service pidboxd@.service; do
	cat "$ROOT/systemd/$unit" "$ROOT/systemd/diagnostics.conf" >"$T/$unit"
	exposure "security_diagnostics_${unit%.service}" "$T/$unit"
	expect_contains "diagnostics_procsubset_${unit%.service}" "$out" 'Service has full access to non-process /proc files'
	expect_contains "diagnostics_netlink_${unit%.service}" "$out" 'Service may allocate netlink sockets'
done

# make_install ARGS...: install the tests' build without rebuilding it.
make_install() {
	make -s -C "$ROOT" -o all B="$BUILD" "$@" >"$T/make.log" 2>&1
}

# --- make install into a DESTDIR
D=$T/dest
if make_install install PREFIX=/usr/local DESTDIR="$D"; then
	ok install_runs
else
	fail install_runs "$(tail -n 5 "$T/make.log")"
fi
want="/etc/pidbox/pidboxd.yaml 640
/lib/systemd/system/pidboxd.service 644
/lib/systemd/system/pidboxd@.service 644
/usr/local/bin/pidboxctl 755
/usr/local/lib/sysusers.d/pidbox.conf 644
/usr/local/sbin/pidboxd 755
/usr/local/share/bash-completion/completions/pidboxctl 644
/usr/local/share/doc/pidbox/examples/diagnostics.conf 644
/usr/local/share/man/man1/pidboxctl.1 644
/usr/local/share/man/man5/pidboxd.yaml.5 644
/usr/local/share/man/man8/pidboxd.8 644"
got=$(cd "$D" && find . -type f -printf '%P %m\n' | sed 's|^|/|' | sort)
expect_eq install_tree "$got" "$want"
unit=$(cat "$D/lib/systemd/system/pidboxd.service")
expect_contains unit_execstart "$unit" $'\nExecStart=/usr/local/sbin/pidboxd -f -c /etc/pidbox/pidboxd.yaml\n'
expect_not_contains unit_no_usr_sbin "$unit" '/usr/sbin/'
expect_contains template_execstart "$(cat "$D/lib/systemd/system/pidboxd@.service")" \
    $'\nExecStart=/usr/local/sbin/pidboxd -f -N %i -c /etc/pidbox/%i.yaml\n'
cmp -s "$D/usr/local/sbin/pidboxd" "$BUILD/pidboxd"
expect_eq installed_pidboxd "$?" 0
cmp -s "$D/etc/pidbox/pidboxd.yaml" "$ROOT/conf/pidboxd.yaml"
expect_eq installed_config "$?" 0
out=$("$D/usr/local/sbin/pidboxd" -t -c "$D/etc/pidbox/pidboxd.yaml" 2>&1)
expect_contains installed_config_valid "$out" 'configuration OK'

# an existing config is kept
echo '# mine' >"$D/etc/pidbox/pidboxd.yaml"
make_install install PREFIX=/usr/local DESTDIR="$D"
expect_eq install_keeps_config "$(cat "$D/etc/pidbox/pidboxd.yaml")" '# mine'

# --- make uninstall: everything but the config goes
if make_install uninstall PREFIX=/usr/local DESTDIR="$D"; then
	ok uninstall_runs
else
	fail uninstall_runs "$(tail -n 5 "$T/make.log")"
fi
expect_eq uninstall_tree "$(cd "$D" && find . -type f -printf '/%P\n')" /etc/pidbox/pidboxd.yaml

# --- systemd-analyze verify on units whose ExecStart exists: install with
# every directory inside the tmpdir, man pages found through MANPATH.
P=$T/prefix
if make_install install PREFIX="$P" SYSCONFDIR="$P/etc" UNITDIR="$P/units"; then
	ok install_prefix_runs
else
	fail install_prefix_runs "$(tail -n 5 "$T/make.log")"
fi
expect_contains prefix_unit_execstart "$(cat "$P/units/pidboxd.service")" "ExecStart=$P/sbin/pidboxd -f -c $P/etc/pidbox/pidboxd.yaml"
for unit in pidboxd.service pidboxd@.service; do
	u=$P/units/$unit
	[ "$unit" = pidboxd@.service ] && { cp "$u" "$P/units/pidboxd@celery.service"; u=$P/units/pidboxd@celery.service; }
	if out=$(MANPATH=$P/share/man: SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$u" 2>&1) && [ -z "$out" ]; then
		ok "verify_${unit%.service}"
	else
		fail "verify_${unit%.service}" "$out"
	fi
done
exit 0
