/* Unit tests for common/reply.c: reply bodies and kombu-style errors. */
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"

struct encode_case {
	const char	*host;
	const char	*value;		/* JSON text */
	const char	*want;
};

static const struct encode_case encode_cases[] = {
	{ "hostA", "{\"ok\": \"pong\"}", "{\"hostA\": {\"ok\": \"pong\"}}" },
	{ "w1@vm", "null", "{\"w1@vm\": null}" },
	{ "w1@vm", "[\"tasks.add\"]", "{\"w1@vm\": [\"tasks.add\"]}" },
	{ "h\xc3\xa9", "{\"ok\":{\"x\":1.0,\"s\":\"\\u2603\"}}",
	    "{\"h\\u00e9\": {\"ok\": {\"x\": 1.0, \"s\": \"\\u2603\"}}}" },
	{ "", "0", "{\"\": 0}" },
};

static void
t_encode_table(void **state)
{
	json_object	*v;
	const char	*errstr;
	char		*s;
	size_t		 i, len;
	int		 isnull;

	(void)state;
	for (i = 0; i < nitems(encode_cases); i++) {
		v = pyjson_parse(encode_cases[i].value,
		    strlen(encode_cases[i].value), &isnull, &errstr);
		s = reply_encode(encode_cases[i].host, v, &len);
		if (s == NULL || strcmp(s, encode_cases[i].want) != 0 ||
		    len != strlen(s))
			fail_msg("case %zu: got %s", i, s ? s : "NULL");
		free(s);
		/* still ours */
		json_object_put(v);
	}
	assert_null(reply_encode(NULL, NULL, &len));
	v = json_object_new_double(1.0 / 0.0);
	assert_null(reply_encode("h", v, &len));
	json_object_put(v);
}

static void
t_error(void **state)
{
	json_object	*e;
	char		*s;

	(void)state;
	e = reply_error("ValueError(%s)", "'Autoscale not enabled'");
	assert_non_null(e);
	s = pyjson_dumps(e, NULL);
	assert_string_equal(s, "{\"error\": \"ValueError('Autoscale not "
	    "enabled')\"}");
	assert_true(reply_is_error(e));
	free(s);
	json_object_put(e);
}

struct unknown_case {
	const char	*method;	/* JSON text of the method value */
	const char	*want;		/* the error text */
};

/* node_dispatch.jsonl unknown_method_* and method_* cases. */
static const struct unknown_case unknown_cases[] = {
	{ "\"nosuch\"", "KeyError('nosuch')" },
	{ "\"it's\"", "KeyError(\"it's\")" },
	{ "\"a\\\"b\"", "KeyError('a\"b')" },
	{ "\"a'\\\"b\"", "KeyError('a\\'\"b')" },
	{ "\"back\\\\slash\"", "KeyError('back\\\\slash')" },
	{ "\"new\\nline\\t\"", "KeyError('new\\nline\\t')" },
	{ "\"\\u00e9\\u2603\\ud83d\\ude00\"",
	    "KeyError('\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80')" },
	{ "\"\\u0000\\u007f\\u200b\\u00ad\"",
	    "KeyError('\\x00\\x7f\\u200b\\xad')" },
	{ "null", "KeyError(None)" },
	{ "5", "KeyError(5)" },
	{ "1.5", "KeyError(1.5)" },
	{ "true", "KeyError(True)" },
	{ "[1]", "TypeError(\"unhashable type: 'list'\")" },
	{ "{}", "TypeError(\"unhashable type: 'dict'\")" },
};

static void
t_unknown_method(void **state)
{
	json_object	*m, *e, *v;
	const char	*errstr;
	size_t		 i;
	int		 isnull;

	(void)state;
	for (i = 0; i < nitems(unknown_cases); i++) {
		m = pyjson_parse(unknown_cases[i].method,
		    strlen(unknown_cases[i].method), &isnull, &errstr);
		e = reply_unknown_method(m);
		if (e == NULL || !json_object_object_get_ex(e, "error", &v) ||
		    strcmp(json_object_get_string(v),
		    unknown_cases[i].want) != 0)
			fail_msg("case %zu (%s): got %s", i,
			    unknown_cases[i].method,
			    e ? json_object_get_string(v) : "NULL");
		json_object_put(e);
		json_object_put(m);
	}
}

struct decode_case {
	const char	*body;
	int		 rc;
	const char	*node;
	int		 is_error;
};

static const struct decode_case decode_cases[] = {
	{ "{\"w1@vm\": {\"ok\": \"pong\"}}", 0, "w1@vm", 0 },
	{ "{\"hostA\": {\"error\": \"KeyError('nosuch')\"}}", 0, "hostA", 1 },
	{ "{\"hostA\": {\"error\": \"x\", \"ok\": \"y\"}}", 0, "hostA", 0 },
	{ "{\"hostA\": {\"errors\": 1}}", 0, "hostA", 0 },
	{ "{\"hostA\": \"error\"}", 0, "hostA", 0 },
	{ "{\"hostA\": [\"error\"]}", 0, "hostA", 0 },
	{ "{\"w1@vm\": null}", 0, "w1@vm", 0 },
	{ "{}", -1, NULL, 0 },
	{ "{\"a\": 1, \"b\": 2}", -1, NULL, 0 },
	{ "[{\"a\": 1}]", -1, NULL, 0 },
	{ "null", -1, NULL, 0 },
	{ "{\"a\": 1} x", -1, NULL, 0 },
	{ "", -1, NULL, 0 },
};

static void
t_decode_table(void **state)
{
	json_object	*root, *value;
	const char	*node, *errstr;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < nitems(decode_cases); i++) {
		errstr = NULL;
		rc = reply_decode(decode_cases[i].body,
		    strlen(decode_cases[i].body), &root, &node, &value,
		    &errstr);
		if (rc != decode_cases[i].rc)
			fail_msg("case %zu (%s): rc %d %s", i,
			    decode_cases[i].body, rc, errstr ? errstr : "");
		if (rc == 0) {
			if (strcmp(node, decode_cases[i].node) != 0 ||
			    reply_is_error(value) != decode_cases[i].is_error)
				fail_msg("case %zu: node %s", i, node);
			json_object_put(root);
		} else if (root != NULL || errstr == NULL)
			fail_msg("case %zu: root left or no errstr", i);
	}
	assert_false(reply_is_error(NULL));
}

/*
 * reply_take() against reply_decode() (issue 17): the same rc, error,
 * node and value (compared as pyjson_dumps() text) for bodies the fast
 * path takes and for every kind it must leave to the full parse.
 */
static const char *const take_bodies[] = {
	"{\"w1@vm\": {\"ok\": \"pong\"}}",
	" \n{ \"w1\" :\t{\"ok\":\"pong\"} } \r\n",
	"{\"n\": {\"ok\": {\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}}}",
	/* nested deeper than the scan takes */
	("{\"n\": {\"ok\": {\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": "
	    "{\"g\": {\"h\": {\"i\": 1}}}}}}}}}}}"),
	"{\"n\": {\"error\": \"KeyError('x')\"}}",
	"{\"n\": {\"s\": \"\\u2603 \\ud83d\\ude00 \\\"q\\\" }{\"}}",
	"{\"n\": {\"dup\": 1, \"dup\": 2}}",
	"{\"n\": {}}",
	"{\"\": {\"ok\": 1}}",
	"{\"a\\u00e9\": {\"ok\": 1}}",
	"{\"a\\\"b\": {\"ok\": 1}}",
	"{\"n\": \"pong\"}",
	"{\"n\": null}",
	"{\"n\": [1, 2]}",
	"{\"n\": 5}",
	"{\"n\": {\"ok\": 1}, \"m\": {\"ok\": 2}}",
	"{\"n\": {\"ok\": 1}, \"n\": {\"ok\": 2}}",
	"{\"n\": {\"ok\": 1}} x",
	"{\"n\": {\"ok\": 1}",
	"{\"n\": {\"ok\": 1}}}",
	"{\"n\": {\"ok\": 1,}}",
	"{\"n\": {\"ok\": tru}}",
	"{\"n\": {\"ok\": 01}}",
	"{\"n\": {\"ok\": \"\x01\"}}",
	"{\"n\": {\"ok\": \"\xff\"}}",
	"{\"n\": {\"ok\": \"\xc3\xa9\"}}",
	"{\"n\": {\"ok\": \"\\ud800\"}}",
	"{\"n\" {\"ok\": 1}}",
	"{n: {\"ok\": 1}}",
	"{}",
	"[]",
	"null",
	"",
	"{",
	"{\"n\": {\"ok\": NaN}}",
	"{\"n\": {\"ok\": 1e400}}",
};

/* v as Python writes it; json-c's text for what Python cannot (NaN). */
static char *
dumped(json_object *v)
{
	char	*s;

	if ((s = pyjson_dumps(v, NULL)) == NULL)
		s = strdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	assert_non_null(s);
	return s;
}

static void
take_check(const char *what, const char *body, size_t len)
{
	struct reply_body	 rb;
	json_object		*root, *value;
	const char		*node, *e1 = NULL, *e2 = NULL;
	char			*d1, *d2;
	int			 r1, r2;

	r1 = reply_decode(body, len, &root, &node, &value, &e1);
	r2 = reply_take(body, len, &rb, &e2);
	if (r1 != r2 || (r1 == -1 && strcmp(e1, e2) != 0))
		fail_msg("%s: rc %d/%d, %s / %s", what, r1, r2,
		    e1 ? e1 : "", e2 ? e2 : "");
	if (r1 == 0) {
		if (e2 != NULL || strcmp(node, rb.node) != 0)
			fail_msg("%s: node %s / %s", what, node, rb.node);
		d1 = dumped(value);
		d2 = dumped(rb.value);
		if (strcmp(d1, d2) != 0)
			fail_msg("%s: value %s / %s", what, d1, d2);
		free(d1);
		free(d2);
		json_object_put(root);
	} else
		assert_null(rb.node);
	reply_body_free(&rb);
}

static void
t_take_same(void **state)
{
	char	 key[300], body[400];
	size_t	 i, kl;

	(void)state;
	for (i = 0; i < nitems(take_bodies); i++)
		take_check(take_bodies[i], take_bodies[i],
		    strlen(take_bodies[i]));
	for (i = 0; i < nitems(decode_cases); i++)
		take_check(decode_cases[i].body, decode_cases[i].body,
		    strlen(decode_cases[i].body));
	/* a NUL inside: both refuse it */
	take_check("NUL", "{\"n\": {\"ok\": \"a\0b\"}}", 21);
	/* keys around the name buffer's size, up to the full parse's */
	for (kl = 250; kl < sizeof(key); kl++) {
		memset(key, 'k', kl);
		key[kl] = '\0';
		snprintf(body, sizeof(body), "{\"%s\": {\"ok\": 1}}", key);
		take_check("long key", body, strlen(body));
	}
}

/* resp_format() writes what hiredis's redisFormatCommandArgv() does. */
static void
t_resp_equals_hiredis(void **state)
{
	static char	 big[70000];
	const char	*argv[4];
	size_t		 argvlen[4], n, want_len;
	char		*want, *got;
	int		 argc, c;

	(void)state;
	memset(big, 'x', sizeof(big));
	big[17] = '\0';
	big[18] = '\r';
	big[19] = '\n';
	for (c = 0; c < 6; c++) {
		argv[0] = "LPUSH";
		argvlen[0] = 5;
		argv[1] = "k\x06\x16*?";
		argvlen[1] = 6;
		argv[2] = big;
		argvlen[2] = c == 0 ? 0 : c == 1 ? 1 : c == 2 ? 9 : c == 3 ?
		    10 : c == 4 ? 1234 : sizeof(big);
		argv[3] = "300000";
		argvlen[3] = 6;
		argc = c == 5 ? 3 : 4;
		want_len = (size_t)redisFormatCommandArgv(&want, argc, argv,
		    argvlen);
		assert_true((int)want_len > 0);
		got = malloc(resp_size(argc, argv, argvlen));
		assert_non_null(got);
		n = resp_format(got, argc, argv, argvlen);
		assert_int_equal(n, want_len);
		assert_memory_equal(got, want, n);
		assert_int_equal(got[n], '\0');
		free(got);
		free(want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_encode_table),
		cmocka_unit_test(t_error),
		cmocka_unit_test(t_unknown_method),
		cmocka_unit_test(t_decode_table),
		cmocka_unit_test(t_take_same),
		cmocka_unit_test(t_resp_equals_hiredis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
