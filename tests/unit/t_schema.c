/*
 * schema.c: argument schemas. Types are coerced leniently (key=value text
 * from the command line), constraints refused with a message naming the
 * argument and the rule; open schemas pass what they do not declare.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pidboxd.h"

static char	n_host[] = "host", n_count[] = "count", n_ratio[] = "ratio";
static char	n_force[] = "force", n_mode[] = "mode", n_any[] = "any";
static char	re_host[] = "[a-z0-9.-]+";

static struct arg_spec spec[6];

static int
setup(void **state)
{
	char err[128];

	(void)state;
	memset(spec, 0, sizeof(spec));
	spec[0].name = n_host;
	spec[0].type = ARG_STRING;
	spec[0].required = 1;
	spec[0].max_length = 16;
	spec[0].regex = re_host;
	spec[0].re = regex_compile(re_host, err, sizeof(err));
	spec[1].name = n_count;
	spec[1].type = ARG_INT;
	spec[1].has_min = spec[1].has_max = 1;
	spec[1].min = 1;
	spec[1].max = 10;
	spec[2].name = n_ratio;
	spec[2].type = ARG_NUMBER;
	spec[2].has_max = 1;
	spec[2].max = 1.0;
	spec[3].name = n_force;
	spec[3].type = ARG_BOOL;
	spec[3].def = json_object_new_boolean(0);
	spec[4].name = n_mode;
	spec[4].type = ARG_STRING;
	spec[4].max_length = 8;
	spec[5].name = n_any;
	spec[5].type = ARG_ANY;
	return spec[0].re == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	regex_free(spec[0].re);
	json_object_put(spec[3].def);
	return 0;
}

struct scase {
	const char	*in;		/* JSON object */
	int		 open;
	const char	*out;		/* JSON, or NULL when refused */
	const char	*err;		/* the message when refused */
};

static const struct scase cases[] = {
	{ "{\"host\": \"web-1\"}", 0, "{\"host\": \"web-1\", \"force\": false}", NULL },
	/* text from the command line is coerced */
	{ "{\"host\": \"a\", \"count\": \"3\", \"ratio\": \"0.5\", \"force\": \"true\"}", 0,
	    "{\"host\": \"a\", \"count\": 3, \"ratio\": 0.5, \"force\": true}", NULL },
	{ "{\"host\": 5}", 0, "{\"host\": \"5\", \"force\": false}", NULL },
	{ "{\"host\": \"a\", \"any\": [1, {\"x\": null}]}", 0,
	    "{\"host\": \"a\", \"force\": false, \"any\": [1, {\"x\": null}]}", NULL },
	{ "{}", 0, NULL, "argument 'host': required: missing" },
	{ "{\"host\": \"a\", \"extra\": 1}", 0, NULL, "argument 'extra': unknown argument" },
	{ "{\"host\": \"A B\"}", 0, NULL, "argument 'host': regex: does not match [a-z0-9.-]+" },
	{ "{\"host\": \"aaaaaaaaaaaaaaaaa\"}", 0, NULL, "argument 'host': max_length: longer than 16 bytes" },
	{ "{\"host\": \"a\", \"count\": 0}", 0, NULL, "argument 'count': min: less than 1" },
	{ "{\"host\": \"a\", \"count\": 11}", 0, NULL, "argument 'count': max: greater than 10" },
	{ "{\"host\": \"a\", \"count\": \"x\"}", 0, NULL, "argument 'count': type: expected int" },
	{ "{\"host\": \"a\", \"count\": 1.5}", 0, NULL, "argument 'count': type: expected int" },
	{ "{\"host\": \"a\", \"ratio\": 2}", 0, NULL, "argument 'ratio': max: greater than 1" },
	{ "{\"host\": \"a\", \"force\": \"yes\"}", 0, NULL, "argument 'force': type: expected bool" },
	{ "{\"host\": [\"a\"]}", 0, NULL, "argument 'host': type: expected string" },
	{ "{\"host\": \"a\", \"mode\": \"a\\u0000b\"}", 0, NULL, "argument 'mode': must not contain NUL" },
	/* open: undeclared arguments pass, in the order they came */
	{ "{\"z\": 1, \"host\": \"a\", \"y\": \"t\"}", 1,
	    "{\"z\": 1, \"host\": \"a\", \"y\": \"t\", \"force\": false}", NULL },
	{ "{\"z\": 1}", 1, NULL, "argument 'host': required: missing" },
	{ "{\"host\": \"a\", \"count\": 99, \"q\": 1}", 1, NULL, "argument 'count': max: greater than 10" },
};

static void
test_check(void **state)
{
	json_object	*in, *out, *want;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		in = json_tokener_parse(cases[i].in);
		assert_non_null(in);
		err[0] = '\0';
		out = schema_check(spec, nitems(spec), cases[i].open, in, err,
		    sizeof(err));
		if (cases[i].out == NULL) {
			if (out != NULL)
				fail_msg("case %zu: accepted %s", i,
				    json_object_to_json_string(out));
			if (strcmp(err, cases[i].err) != 0)
				fail_msg("case %zu: '%s', want '%s'", i, err,
				    cases[i].err);
		} else {
			if (out == NULL)
				fail_msg("case %zu: refused: %s", i, err);
			want = json_tokener_parse(cases[i].out);
			/* order matters: it is what a handler sees */
			if (strcmp(json_object_to_json_string(out),
			    json_object_to_json_string(want)) != 0)
				fail_msg("case %zu: %s, want %s", i,
				    json_object_to_json_string(out),
				    json_object_to_json_string(want));
			json_object_put(want);
		}
		json_object_put(out);
		json_object_put(in);
	}
}

static void
test_describe_and_text(void **state)
{
	json_object	*d, *v;
	char		*t;

	(void)state;
	d = schema_describe(spec, nitems(spec));
	assert_int_equal(json_object_object_length(d), nitems(spec));
	assert_true(json_object_object_get_ex(d, "host", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v,
	    "type")), "string");
	assert_true(json_object_get_boolean(json_object_object_get(v,
	    "required")));
	assert_string_equal(json_object_get_string(json_object_object_get(v,
	    "regex")), "[a-z0-9.-]+");
	assert_true(json_object_object_get_ex(d, "any", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v,
	    "type")), "any");
	json_object_put(d);

	v = json_object_new_double(0.1);
	assert_non_null(t = schema_text(v));
	assert_string_equal(t, "0.10000000000000001");
	free(t);
	json_object_put(v);
	v = json_object_new_boolean(1);
	assert_non_null(t = schema_text(v));
	assert_string_equal(t, "true");
	free(t);
	json_object_put(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_describe_and_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
