/*
 * match.c: kombu.matcher.match() as glob (Python fnmatch) and pcre
 * (Python re.match). Replays every record of vectors/matcher.jsonl as its
 * own test, then table cases (the glob ones checked against Python 3.11's
 * fnmatch.fnmatchcase()).
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "vectors.h"

#define VECTOR_FILE	"matcher.jsonl"
#define VECTOR_COUNT	43	/* records in the file (vectors/README.md) */

/* One record: match() and match_check() agree with kombu. */
static void
test_vector(void **state)
{
	json_object	*rec = *state, *exp;
	const char	*host, *pat, *matcher, *err, *errstr;
	int		 line, rc, crc;

	line = json_object_get_int(json_object_object_get(rec, "_line"));
	host = jstr(rec, "hostname");
	pat = jstr(rec, "pattern");
	matcher = jstr(rec, "matcher");	/* null -> glob */
	err = jstr(rec, "error");
	exp = json_object_object_get(rec, "expected");
	if (host == NULL || pat == NULL)
		fail_msg("%s:%d: record lacks hostname/pattern", VECTOR_FILE,
		    line);
	rc = match(host, pat, matcher, &errstr);
	crc = match_check(pat, matcher, &errstr);
	if (exp != NULL) {
		if (rc != json_object_get_boolean(exp))
			fail_msg("%s:%d: match(%s, %s, %s) = %d, want %d",
			    VECTOR_FILE, line, host, pat, matcher ? matcher :
			    "null", rc, json_object_get_boolean(exp));
		if (crc != 0)
			fail_msg("%s:%d: match_check(%s, %s) = %d (%s)",
			    VECTOR_FILE, line, pat, matcher ? matcher : "null",
			    crc, errstr);
		return;
	}
	if (rc != -1 || crc != -1)
		fail_msg("%s:%d: match = %d, match_check = %d, want -1 (%s)",
		    VECTOR_FILE, line, rc, crc, err ? err : "?");
	if (err != NULL && strcmp(err, "MatcherNotInstalled") == 0 &&
	    (errstr == NULL || strstr(errstr, "No matcher installed for") ==
	    NULL || strstr(errstr, matcher) == NULL))
		fail_msg("%s:%d: errstr \"%s\" does not name matcher %s",
		    VECTOR_FILE, line, errstr ? errstr : "(null)", matcher);
	if (errstr == NULL)
		fail_msg("%s:%d: no errstr", VECTOR_FILE, line);
}

struct gcase {
	const char	*name, *pattern;
	int		 want;
};

/* Glob table: expected values are Python 3.11 fnmatch.fnmatchcase(). */
static const struct gcase glob_cases[] = {
	{ "a", "[b-a!x]", 1 },		/* reversed range dropped -> [!x] */
	{ "x", "[b-a!x]", 0 },
	{ "-", "[b-a!-x]", 0 },		/* -> [^-x] */
	{ "a", "[b-a!-x]", 1 },
	{ "b", "[b-a]", 0 },		/* empty class never matches */
	{ "", "[b-a]", 0 },
	{ "z", "[!b-a]", 1 },		/* negated empty class: any char */
	{ "\n", "[!b-a]", 1 },
	{ "b", "[a--b]", 1 },
	{ "a", "[a--b]", 0 },
	{ "-", "[a-b-c]", 1 },
	{ "c", "[a-b-c]", 1 },
	{ "d", "[a-bc-d]", 1 },
	{ "-", "[!-a]", 0 },
	{ "b", "[!-a]", 1 },
	{ "-", "[-a]", 1 },
	{ "-", "[a-]", 1 },
	{ "a", "[]-a]", 1 },
	{ "^", "[]-a]", 1 },
	{ "-", "[]-]]", 0 },
	{ "-]", "[]-]]", 1 },
	{ "]", "[!]]", 0 },
	{ "]a", "[!]a]", 0 },
	{ "b]", "[!]a]", 0 },
	{ "a", "[[:alpha:]]", 0 },
	{ "a]", "[[:alpha:]]", 1 },
	{ "[", "[", 1 },
	{ "a[", "a[", 1 },
	{ "[!", "[!", 1 },
	{ "[]", "[]", 1 },
	{ "[!]", "[!]", 1 },
	{ "]", "[]]", 1 },
	{ "\\", "[\\-a]", 1 },
	{ "-", "[\\-a]", 0 },		/* range '\\'..'a', not '-' */
	{ "_", "[\\-a]", 1 },
	{ "\xc3\xb1", "[\xc3\xa9-\xc3\xbc]", 1 },	/* ñ in [é-ü] */
	{ "\xc3\xa9", "?", 1 },		/* one code point, two bytes */
	{ "\xc3\xa9", "??", 0 },
	{ "aXbYc", "a*b*c", 1 },
	{ "abcbc", "*b*c", 1 },
	{ "abcbd", "*b*c", 0 },
	{ "", "*", 1 },
	{ "", "", 1 },
	{ "a", "", 0 },
	{ "x\xffy", "x?y", 1 },		/* invalid UTF-8: one char */
	{ "x\xffy", "x\xffy", 1 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*c", 0 },
};

static void
test_glob_table(void **state)
{
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < nitems(glob_cases); i++) {
		rc = match_glob(glob_cases[i].name, glob_cases[i].pattern);
		if (rc != glob_cases[i].want)
			fail_msg("glob_cases[%zu]: fnmatch(\"%s\", \"%s\") = %d,"
			    " want %d", i, log_viss(glob_cases[i].name),
			    log_viss(glob_cases[i].pattern), rc,
			    glob_cases[i].want);
	}
}

/* fnmatch semantics that differ from glibc fnmatch(3). */
static void
test_glob_not_glibc(void **state)
{
	(void)state;
	assert_int_equal(match_glob("a", "[^b]"), 0);	/* ^ is literal */
	assert_int_equal(match_glob("^", "[^b]"), 1);
	assert_int_equal(match_glob("a*b", "a\\*b"), 0); /* \ is literal */
	assert_int_equal(match_glob("a\\xb", "a\\*b"), 1);
	assert_int_equal(match_glob("a/b/c", "a*c"), 1); /* no FNM_PATHNAME */
	assert_int_equal(match_glob(".x", "*"), 1);	 /* no FNM_PERIOD */
	assert_int_equal(match_glob("W1@VM", "w1@vm"), 0);
}

struct pcase {
	const char	*name, *pattern;
	int		 want;
};

static const struct pcase pcre_cases[] = {
	{ "w1@vm", "w1", 1 },		/* anchored at the start only */
	{ "w1@vm", "vm", 0 },
	{ "w1@vm", "(?i)W1@VM$", 1 },
	{ "w1@vm\n", "w1@vm$", 1 },	/* $ before a final newline */
	{ "w1@vm\n\n", "w1@vm$", 0 },
	{ "w\xc3\xa9", "w\\w$", 1 },	/* Unicode \w */
	{ "\xd9\xa1", "\\d", 1 },	/* Arabic-Indic digit one */
	{ "x\xff", "x", 1 },		/* invalid UTF-8 in the name: */
	{ "x\xff", "x.", 0 },		/* no error, never matched */
	{ "ab", "a|b", 1 },
	{ "b", "a|b", 1 },
	{ "c", "a|b", 0 },
	{ "", "", 1 },
};

static void
test_pcre_table(void **state)
{
	const char	*errstr;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < nitems(pcre_cases); i++) {
		rc = match_pcre(pcre_cases[i].name, pcre_cases[i].pattern,
		    &errstr);
		if (rc != pcre_cases[i].want)
			fail_msg("pcre_cases[%zu]: re.match(\"%s\", \"%s\") = %d"
			    " (%s), want %d", i, log_viss(pcre_cases[i].pattern),
			    log_viss(pcre_cases[i].name), rc,
			    errstr ? errstr : "-", pcre_cases[i].want);
	}
}

/* Bad regexes are -1 with a message; match_check agrees. */
static void
test_pcre_bad_pattern(void **state)
{
	static const char *const bad[] = { "(", "[a", "a{2,1}", "\\", "*",
	    "x\xff" };
	const char	*errstr;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		errstr = NULL;
		if (match_pcre("w1", bad[i], &errstr) != -1 || errstr == NULL)
			fail_msg("bad[%zu] \"%s\": not refused", i,
			    log_viss(bad[i]));
		errstr = NULL;
		if (match_check(bad[i], "pcre", &errstr) != -1 ||
		    errstr == NULL)
			fail_msg("bad[%zu] \"%s\": match_check accepted", i,
			    log_viss(bad[i]));
	}
}

/* Catastrophic backtracking hits the match limit instead of hanging. */
static void
test_pcre_match_limit(void **state)
{
	char		 name[4096];
	const char	*errstr;
	int		 rc;

	(void)state;
	memset(name, 'a', sizeof(name) - 2);
	name[sizeof(name) - 2] = '!';
	name[sizeof(name) - 1] = '\0';
	rc = match_pcre(name, "(a+)+$", &errstr);
	assert_int_equal(rc, -1);
	assert_non_null(errstr);
	assert_non_null(strstr(errstr, "limit"));
	rc = match_pcre(name, "(?:a|a)*$", &errstr);
	assert_int_not_equal(rc, 1);
}

/* Patterns longer than MAX_PATTERN are refused by both matchers. */
static void
test_pattern_too_long(void **state)
{
	char		 pat[MAX_PATTERN + 2];
	const char	*errstr;

	(void)state;
	memset(pat, 'a', sizeof(pat) - 1);
	pat[sizeof(pat) - 1] = '\0';
	assert_int_equal(match_glob("a", pat), 0);
	assert_int_equal(match(pat, pat, "glob", &errstr), -1);
	assert_non_null(errstr);
	assert_int_equal(match_check(pat, "glob", &errstr), -1);
	assert_int_equal(match_check(pat, "pcre", &errstr), -1);
	assert_int_equal(match_pcre("a", pat, &errstr), -1);
	pat[MAX_PATTERN] = '\0';	/* exactly MAX_PATTERN is fine */
	assert_int_equal(match_glob(pat, pat), 1);
	assert_int_equal(match(pat, pat, "pcre", &errstr), 1);
}

/* Unknown matchers: kombu's MatcherNotInstalled text; NULL = glob. */
static void
test_matcher_names(void **state)
{
	const char	*errstr;

	(void)state;
	assert_int_equal(match("w1", "w?", NULL, &errstr), 1);
	assert_int_equal(match("w1", "w?", "glob", &errstr), 1);
	assert_int_equal(match("w1", "w.", "pcre", &errstr), 1);
	assert_int_equal(match("w1", "w1", "GLOB", &errstr), -1);
	assert_string_equal(errstr, "No matcher installed for GLOB");
	assert_int_equal(match_check("w1", "regex", &errstr), -1);
	assert_string_equal(errstr, "No matcher installed for regex");
	assert_int_equal(match_check("w1", "", &errstr), -1);
	assert_int_equal(match_check("(", "glob", &errstr), 0);
	assert_int_equal(match_check("", NULL, &errstr), 0);
	assert_int_equal(match_check(NULL, "glob", &errstr), -1);
	assert_int_equal(match(NULL, "x", "glob", &errstr), -1);
	assert_int_equal(match("x", NULL, "pcre", &errstr), -1);
	assert_int_equal(match_glob(NULL, "x"), 0);
}

/* glob_escape(): what Redis' MATCH takes literally, and what fits. */
static void
test_glob_escape(void **state)
{
	char	 buf[32];

	(void)state;
	assert_int_equal(glob_escape("a*b?c[d]e\\f", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a\\*b\\?c\\[d\\]e\\\\f");
	assert_int_equal(glob_escape("", buf, 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(glob_escape("abc", buf, 4), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(glob_escape("abc", buf, 3), -1);	/* no room for NUL */
	assert_int_equal(glob_escape("ab*", buf, 4), -1);	/* nor for \\ */
	assert_int_equal(glob_escape("ab*", buf, 5), 0);
	assert_string_equal(buf, "ab\\*");
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_glob_table),
	cmocka_unit_test(test_glob_not_glibc),
	cmocka_unit_test(test_pcre_table),
	cmocka_unit_test(test_pcre_bad_pattern),
	cmocka_unit_test(test_pcre_match_limit),
	cmocka_unit_test(test_pattern_too_long),
	cmocka_unit_test(test_matcher_names),
	cmocka_unit_test(test_glob_escape),
};

static char *
label(json_object *rec)
{
	const char	*m = jstr(rec, "matcher");
	char		*s;

	if (asprintf(&s, "%s ~ %s (%s)", log_viss(jstr(rec, "hostname")),
	    log_viss(jstr(rec, "pattern")), m ? m : "null") == -1)
		return NULL;
	return s;
}

int
main(void)
{
	return vectors_run("match", VECTOR_FILE, VECTOR_COUNT, fixed_tests,
	    nitems(fixed_tests), test_vector, label);
}
