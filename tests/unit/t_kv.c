/*
 * kv.c: pidboxctl's key=value arguments. The value is JSON when the whole
 * of it is one strict JSON document, otherwise the string itself.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"

struct kcase {
	const char	*arg;
	int		 rc;
	const char	*key;
	json_type	 type;		/* of the stored value */
	const char	*json;		/* the stored value, serialized */
};

/* Values that are one strict JSON document are stored as that JSON. */
static const struct kcase json_cases[] = {
	{ "n=5",		 0, "n", json_type_int,	    "5" },
	{ "n=-7",		 0, "n", json_type_int,	    "-7" },
	{ "f=1.5",		 0, "f", json_type_double,  "1.5" },
	{ "b=true",		 0, "b", json_type_boolean, "true" },
	{ "b=false",		 0, "b", json_type_boolean, "false" },
	{ "z=null",		 0, "z", json_type_null,    "null" },
	{ "o={\"a\":1}",	 0, "o", json_type_object,  "{\"a\":1}" },
	{ "l=[1, \"x\"]",	 0, "l", json_type_array,   "[1,\"x\"]" },
	{ "s=\"x\"",		 0, "s", json_type_string,  "\"x\"" },
	{ "s=\"5\"",		 0, "s", json_type_string,  "\"5\"" },
	{ "n= 5 ",		 0, "n", json_type_int,	    "5" },
	{ "u=18446744073709551615", 0, "u", json_type_int,
	    "18446744073709551615" },
};

/* Anything else, json-c's lenient extensions included, stays a string. */
static const struct kcase string_cases[] = {
	{ "s=hello",		 0, "s", json_type_string,  "\"hello\"" },
	{ "a=b=c",		 0, "a", json_type_string,  "\"b=c\"" },
	{ "s=",			 0, "s", json_type_string,  "\"\"" },
	{ "s=5abc",		 0, "s", json_type_string,  "\"5abc\"" },
	{ "s=NaN",		 0, "s", json_type_string,  "\"NaN\"" },
	{ "s=Infinity",		 0, "s", json_type_string,  "\"Infinity\"" },
	{ "s=-Infinity",	 0, "s", json_type_string,  "\"-Infinity\"" },
	{ "s=nan",		 0, "s", json_type_string,  "\"nan\"" },
	{ "s=1e400",		 0, "s", json_type_string,  "\"1e400\"" },
	{ "s='x'",		 0, "s", json_type_string,  "\"'x'\"" },
	{ "s=True",		 0, "s", json_type_string,  "\"True\"" },
	{ "s=[1,]",		 0, "s", json_type_string,  "\"[1,]\"" },
	{ "s={\"a\":1}x",	 0, "s", json_type_string,  "\"{\\\"a\\\":1}x\"" },
	{ "s=\"unterminated",	 0, "s", json_type_string,
	    "\"\\\"unterminated\"" },
};

/* Refused: no '=', empty key, integers JSON would silently change. */
static const struct kcase refused_cases[] = {
	{ "=x",			-1, NULL, json_type_null, NULL },
	{ "=",			-1, NULL, json_type_null, NULL },
	{ "noequals",		-1, NULL, json_type_null, NULL },
	{ "",			-1, NULL, json_type_null, NULL },
	{ "u=18446744073709551616", -1, NULL, json_type_null, NULL },
	{ "u=-9223372036854775809", -1, NULL, json_type_null, NULL },
};

static void
run_cases(const char *table, const struct kcase *cases, size_t ncases)
{
	json_object	*args, *v;
	const char	*errstr, *got;
	size_t		 i;
	int		 rc;

	for (i = 0; i < ncases; i++) {
		args = json_object_new_object();
		errstr = NULL;
		rc = kv_parse(cases[i].arg, args, &errstr);
		if (rc != cases[i].rc) {
			json_object_put(args);
			fail_msg("%s[%zu] \"%s\": rc %d (%s), want %d", table,
			    i, cases[i].arg, rc, errstr ? errstr : "-",
			    cases[i].rc);
		}
		if (rc == -1) {
			if (errstr == NULL ||
			    json_object_object_length(args) != 0) {
				json_object_put(args);
				fail_msg("%s[%zu] \"%s\": no errstr or args "
				    "changed", table, i, cases[i].arg);
			}
			json_object_put(args);
			continue;
		}
		if (!json_object_object_get_ex(args, cases[i].key, &v) ||
		    json_object_get_type(v) != cases[i].type) {
			json_object_put(args);
			fail_msg("%s[%zu] \"%s\": key missing or wrong type",
			    table, i, cases[i].arg);
		}
		got = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		if (strcmp(got, cases[i].json) != 0) {
			json_object_put(args);
			fail_msg("%s[%zu] \"%s\": value %s, want %s", table, i,
			    cases[i].arg, got, cases[i].json);
		}
		json_object_put(args);
	}
}

static void
test_kv_json_values(void **state)
{
	(void)state;
	run_cases("json_cases", json_cases, nitems(json_cases));
}

static void
test_kv_plain_strings(void **state)
{
	(void)state;
	run_cases("string_cases", string_cases, nitems(string_cases));
}

static void
test_kv_refused(void **state)
{
	(void)state;
	run_cases("refused_cases", refused_cases, nitems(refused_cases));
}

/* Keys: non-empty, at most MAX_NAME bytes; a later key replaces. */
static void
test_kv_keys(void **state)
{
	char		 arg[MAX_NAME + 8];
	json_object	*args, *v;
	const char	*errstr;

	(void)state;
	args = json_object_new_object();
	memset(arg, 'k', MAX_NAME);
	strlcpy(arg + MAX_NAME, "=1", sizeof(arg) - MAX_NAME);
	assert_int_equal(kv_parse(arg, args, &errstr), 0);
	memset(arg, 'k', MAX_NAME + 1);
	strlcpy(arg + MAX_NAME + 1, "=1", sizeof(arg) - MAX_NAME - 1);
	assert_int_equal(kv_parse(arg, args, &errstr), -1);
	assert_string_equal(errstr, "key too long");
	assert_int_equal(kv_parse("x=1", args, &errstr), 0);
	assert_int_equal(kv_parse("x=two", args, &errstr), 0);
	assert_true(json_object_object_get_ex(args, "x", &v));
	assert_string_equal(json_object_get_string(v), "two");
	assert_int_equal(json_object_object_length(args), 2);
	assert_int_equal(kv_parse("=x", args, &errstr), -1);
	assert_string_equal(errstr, "empty key");
	assert_int_equal(kv_parse(NULL, args, &errstr), -1);
	json_object_put(args);
}

/* A value longer than a whole message is refused, not truncated. */
static void
test_kv_value_too_long(void **state)
{
	json_object	*args;
	const char	*errstr;
	char		*arg;
	size_t		 len = MAX_ENVELOPE + 3;

	(void)state;
	arg = malloc(len + 1);
	assert_non_null(arg);
	memset(arg, 'v', len);
	arg[0] = 'k';
	arg[1] = '=';
	arg[len] = '\0';
	args = json_object_new_object();
	assert_int_equal(kv_parse(arg, args, &errstr), -1);
	assert_string_equal(errstr, "value too long");
	arg[len - 1] = '\0';	/* exactly MAX_ENVELOPE bytes of value */
	assert_int_equal(kv_parse(arg, args, &errstr), 0);
	json_object_put(args);
	free(arg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_json_values),
		cmocka_unit_test(test_kv_plain_strings),
		cmocka_unit_test(test_kv_refused),
		cmocka_unit_test(test_kv_keys),
		cmocka_unit_test(test_kv_value_too_long),
	};

	return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}
