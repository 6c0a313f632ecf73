#!/usr/bin/env bash
# tests/deps.sh: install, only when missing, the Debian packages needed to
# build and test pidbox.  Needs root when something is missing; otherwise
# prints the apt-get command to run and fails.  The redis-server package may
# start a system redis on a real machine: the tests never use it (each test
# script starts its own private instance).
set -u

pkgs=(build-essential clang pkg-config libhiredis-dev libjson-c-dev
    libyaml-dev libbsd-dev libpcre2-dev libssl-dev openssl libcmocka-dev redis-server redis-tools
    python3-kombu python3-celery python3-redis python3-tzlocal valgrind
    mandoc systemd util-linux python3-humanize python3-prometheus-client tmux)
# --deb: also what `make deb` needs (dpkg-buildpackage, dh, lintian);
# --systemd: and what `make check-systemd` needs (nspawn, debootstrap)
case ${1:-} in
--deb) pkgs+=(debhelper dpkg-dev fakeroot lintian) ;;
--systemd) pkgs+=(debhelper dpkg-dev fakeroot lintian systemd-container
    debootstrap) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' ok installed$'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages installed"
	exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing: ${missing[*]}" >&2
	echo "deps: run as root: apt-get update && DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update || exit 1
apt-get install -y --no-install-recommends "${missing[@]}" || exit 1
echo "deps: done"
