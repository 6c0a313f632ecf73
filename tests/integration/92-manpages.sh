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
