/*
 * common/fleet.c: the filter grammar and its errors, Kleene logic over
 * names, labels and facts (kombu and Celery nodes have names only), the
 * filter text pidboxd reads back, and the inventory entry check.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"

static json_object *labels, *facts;

static int
sel(const char *expr, const char *name, int with_facts)
{
	struct fleet_node	 nd;
	struct filter		*f;
	char			 err[256];
	int			 rv;

	f = filter_parse(expr, 0, err, sizeof(err));
	if (f == NULL)
		fail_msg("%s: %s", expr, err);
	memset(&nd, 0, sizeof(nd));
	nd.name = name;
	if (with_facts) {
		nd.labels = labels;
		nd.facts = facts;
	}
	rv = filter_match(f, &nd);
	filter_free(f);
	return rv;
}

static void
test_match(void **state)
{
	static const struct {
		const char	*expr;
		const char	*name;
		int		 with_facts;
		int		 want;
	} cases[] = {
		{ "role=web", "w1", 1, 1 },
		{ "role=w*", "w1", 1, 1 },
		{ "role=db", "w1", 1, 0 },
		{ "os.version_id>=12", "w1", 1, 1 },
		{ "os.version_id>12", "w1", 1, 0 },
		{ "os.version_id<12.1", "w1", 1, 1 },
		{ "cpus>4 and facts.cpus<=8", "w1", 1, 1 },
		{ "kernel>=6.1", "w1", 1, 1 },
		{ "labels.dc=eu1", "w1", 1, 1 },
		{ "role=web and (dc=eu1 or dc=eu2) and not name=web-9", "w1",
		    1, 1 },
		{ "role=web and not name=w1", "w1", 1, 0 },
		{ "name = 'w 1'", "w 1", 0, 1 },
		/* a node without labels or facts: unknown, never selected */
		{ "role=web", "celery@x", 0, 0 },
		{ "not role=web", "celery@x", 0, 0 },
		{ "role=web and name=celery@*", "celery@x", 0, 0 },
		{ "role=web or name=celery@*", "celery@x", 0, 1 },
		{ "not name=web-9", "celery@x", 0, 1 },
	};
	size_t	i;

	(void)state;
	labels = json_tokener_parse("{\"role\": \"web\", \"dc\": \"eu1\"}");
	facts = json_tokener_parse("{\"os\": {\"id\": \"debian\", "
	    "\"version_id\": \"12\"}, \"cpus\": 8, \"kernel\": \"6.1.0-18\"}");
	for (i = 0; i < nitems(cases); i++)
		if (sel(cases[i].expr, cases[i].name, cases[i].with_facts) !=
		    cases[i].want)
			fail_msg("%s on %s: want %d", cases[i].expr,
			    cases[i].name, cases[i].want);
	json_object_put(labels);
	json_object_put(facts);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*in;
		const char	*err;
	} bad[] = {
		{ "", "at column 1: a comparison (key=value) expected at the "
		    "end" },
		{ "role=web and", "at column 13: a comparison (key=value) "
		    "expected at the end" },
		{ "(role=web", "at column 10: ')' expected" },
		{ "role=web)", "at column 9: unexpected ')' (and, or or the "
		    "end expected)" },
		{ "role web", "at column 6: an operator (=, !=, <, <=, >, >=) "
		    "expected after role" },
		{ "and x=1", "at column 1: a comparison expected before 'and'" },
		{ "x>", "at column 3: x> needs a value" },
		{ "x='a", "at column 3: unterminated ' quote" },
	};
	char	err[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(filter_parse(bad[i].in, 0, err, sizeof(err)));
		assert_string_equal(err, bad[i].err);
	}
}

static void
test_text(void **state)
{
	struct filter	*f, *g;
	char		 err[256], *t, *u;

	(void)state;
	f = filter_parse("a=\"x y\" and not (b!=2 or name=\"q\\\"\")", 0, err,
	    sizeof(err));
	assert_non_null(f);
	f = filter_and(f, filter_parse("c>=v 1 (x)", 1, err, sizeof(err)));
	t = filter_text(f);
	assert_string_equal(t, "((a=\"x y\") and (not ((b!=\"2\") or "
	    "(name=\"q\\\"\")))) and (c>=\"v 1 (x)\")");
	g = filter_parse(t, 0, err, sizeof(err));
	assert_non_null(g);
	u = filter_text(g);
	assert_string_equal(t, u);
	free(t);
	free(u);
	filter_free(f);
	filter_free(g);
}

static void
test_entry(void **state)
{
	json_object	*e;
	const char	*why = NULL;

	(void)state;
	e = json_tokener_parse("{\"pidbox_inventory\": 1, \"name\": \"a\", "
	    "\"namespace\": \"ns\", \"labels\": {\"r\": \"w\"}, \"facts\": {}, "
	    "\"started\": 1.5}");
	assert_int_equal(fleet_entry_check(e, "a", "ns", &why), 0);
	assert_int_equal(fleet_entry_check(e, "b", "ns", &why), -1);
	assert_string_equal(why, "its name is not the field it is stored "
	    "under");
	assert_int_equal(fleet_entry_check(e, "a", "other", &why), -1);
	json_object_object_add(e, "labels", json_object_new_int(1));
	assert_int_equal(fleet_entry_check(e, "a", "ns", &why), -1);
	assert_string_equal(why, "labels is not a mapping of strings");
	json_object_put(e);
	e = json_tokener_parse("[1]");
	assert_int_equal(fleet_entry_check(e, "a", "ns", &why), -1);
	json_object_put(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
