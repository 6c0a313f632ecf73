#!/usr/bin/env bash
# Man pages (issue 7): docs/pidboxd.8, pidboxctl.1 and pidboxd.yaml.5 are
# clean under mandoc -Tlint; each binary's usage matches its SYNOPSIS;
# every pidboxctl command and every pidboxd option is documented; every key
# of the example config is in pidboxd.yaml(5); the README links the pages.
# A missing mandoc is a failure (tests/deps.sh installs it).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl
command -v mandoc >/dev/null || {
	fail setup "mandoc not installed (run tests/deps.sh)"
	exit 1
}
DOCS=$ROOT/docs

for page in pidboxd.8 pidboxctl.1 pidboxd.yaml.5; do
	if out=$(mandoc -Tlint -Wwarning "$DOCS/$page" 2>&1) && [ -z "$out" ]; then
		ok "lint_$page"
	else
		fail "lint_$page" "$out"
	fi
done

# synopsis PAGE: the SYNOPSIS as rendered, one line per utterance, with
# blanks squeezed and none around '|'.
synopsis() {
	MANWIDTH=1000 mandoc -Tascii -Owidth=1000 "$DOCS/$1" | col -b |
	    sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d' | sed 's/^ *//' |
	    grep . | tr -s ' ' | sed 's/ *| */|/g'
}
# usage_line TEXT: "usage: " removed, blanks squeezed.
usage_line() {
	sed -n '1s/^usage: //p' <<<"$1" | tr -s ' ' | sed 's/ *| */|/g'
}

expect_eq pidboxd_usage_is_synopsis "$(usage_line "$("$BUILD/pidboxd" -h 2>&1)")" "$(synopsis pidboxd.8)"
help=$("$BUILD/pidboxctl" --help 2>&1)
expect_eq pidboxctl_usage_is_synopsis "$(usage_line "$help")" "$(synopsis pidboxctl.1 | head -n 1)"

# every command of `pidboxctl --help` has its .It Cm entry and a synopsis
missing=
while read -r c; do
	grep -q "^\.It Cm $c\( \|$\)" "$DOCS/pidboxctl.1" || missing="$missing $c"
	grep -q "^\.Cm $c\$" "$DOCS/pidboxctl.1" || missing="$missing $c(synopsis)"
done < <(sed -n '/^commands:/,/^[^ \t]/ s/^    \([a-z][a-z0-9_-]*\).*/\1/p' <<<"$help")
expect_eq pidboxctl_commands_documented "$missing" ""
# ... and every Celery command its .It Cm entry (one synopsis for all)
missing=
while read -r c; do
	grep -q "^\.It Cm $c\( \|$\)" "$DOCS/pidboxctl.1" || missing="$missing $c"
done < <(sed -n '/^celery commands/,/^[^ \t]/ s/^    \([a-z][a-z0-9_-]*\).*/\1/p' <<<"$help")
expect_eq pidboxctl_celery_commands_documented "$missing" ""
expect_contains pidboxctl_celery_verbs_listed "$help" "    revoke_by_stamped_headers "

# each command's --help describes its options, each documented (issue 14.17)
missing=
for c in broadcast describe gc nodes ping status shutdown revoke; do
	h=$("$BUILD/pidboxctl" "$c" --help)
	grep -q '^options:' <<<"$h" || missing="$missing $c(no options section)"
	for o in $(sed -n '/^options:/,/^global/ s/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z-]*\).*/\2/p' <<<"$h"); do
		grep -q "Fl -$o\|Fl $(printf '%s' "$o" | cut -c1)\b" "$DOCS/pidboxctl.1" || missing="$missing $c:--$o"
	done
done
expect_eq pidboxctl_option_help "$missing" ""
page=$(MANWIDTH=100 mandoc -Tascii "$DOCS/pidboxctl.1" | col -b)
expect_contains pidboxctl_json_renders "$page" '{"node": reply, ...}'
expect_not_contains pidboxctl_gc_one_synopsis "$page" '[-n [-g grace'
expect_not_contains pidboxctl_ping_no_r "$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$page" | grep ' ping ')" '[-r]'
expect_contains pidboxctl_signing "$page" 'head -c 32 /dev/urandom'
for v in CELERY_BROKER_URL PIDBOX_KEY_FILE PIDBOX_IDENTITY; do
	expect_contains "pidboxctl_env_$v" "$(sed -n '/^ENVIRONMENT/,/^EXIT STATUS/p' <<<"$page")" "$v"
done
ypage=$(MANWIDTH=100 mandoc -Tascii "$DOCS/pidboxd.yaml.5" | col -b)
for d in 'default is 32' 'How far ahead a signed expiry may be (300)' 'timeout: 30'; do
	expect_contains "yaml_default_$(printf '%s' "$d" | tr -c 'a-z0-9' _)" "$(tr -s ' \n\t' ' ' <<<"$ypage")" "$d"
done
# a section of another page named in one is a section of it
bad=
while IFS='|' read -r page8 sec; do
	grep -q "^\.Sh $sec\$" "$DOCS/$page8" || bad="$bad $sec($page8)"
done < <(grep -h -B2 '^\.Xr pidboxd 8' "$DOCS/pidboxd.yaml.5" "$DOCS/pidboxctl.1" | sed -n 's/^\.Sy \([A-Z][A-Z ]*\)$/pidboxd.8|\1/p')
expect_eq sections_exist "$bad" ""

# every short option in pidboxd's usage has its .It Fl entry
missing=
for o in $(usage_line "$("$BUILD/pidboxd" -h 2>&1)" | grep -o '\-[A-Za-z]*' | sed 's/^-//' | fold -w1); do
	grep -q "^\.It Fl $o\( \|$\)" "$DOCS/pidboxd.8" || missing="$missing -$o"
done
expect_eq pidboxd_options_documented "$missing" ""

# every key of the example config is documented
missing=
while read -r k; do
	grep -q "^\.It Cm $k :" "$DOCS/pidboxd.yaml.5" || missing="$missing $k"
done < <(sed -n 's/^#\{0,1\}\([a-z_]*\):.*/\1/p' "$ROOT/conf/pidboxd.yaml" | sort -u)
expect_eq config_keys_documented "$missing" ""

readme=$(cat "$ROOT/README.md")
for page in docs/pidboxd.8 docs/pidboxctl.1 docs/pidboxd.yaml.5; do
	expect_contains "readme_links_${page#docs/}" "$readme" "($page)"
done
exit 0
