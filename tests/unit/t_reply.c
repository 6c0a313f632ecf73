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
 * The pre-formatted routing command must be, byte for byte, what hiredis
 * formats from the same nine arguments (what replies.c sent before):
 * EVALSHA and EVAL, key prefixes, glob metacharacters to escape, binary
 * payloads, the buffer reused for a shorter and a longer command.
 */
static void
t_route_cmd_equals_hiredis(void **state)
{
	static const struct {
		const char	*sha, *prefix, *queue, *rk, *env;
		size_t		 envlen;
		int64_t		 ttl;
	} c[] = {
		{ "0123456789abcdef0123456789abcdef01234567", "",
		    "c1d2.reply.celery.pidbox", "c1d2", "{\"body\": \"x\"}", 13,
		    300000 },
		{ NULL, "", "c1d2.reply.celery.pidbox", "c1d2", "", 0, 0 },
		{ "ab", "app:", "k*?[]\\.reply.x.pidbox", "k*?[]\\",
		    "a\r\n\0b$*", 8, 1000 },
		{ "ab", "p", "q", "r", "e", 1, 9223372036854775807LL },
		{ "ab", "", "q.reply.x.pidbox", "q", NULL, 70000, 5 },
	};
	struct reply_route	 rr;
	const char		*argv[9], *cmd;
	size_t			 argvlen[9], len, i;
	char			*want, *big, list[MAX_KEY], ttl[24];
	char			 member[MAX_KEY], pat[2 * MAX_KEY];
	int			 wl, j;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	big = malloc(70000);
	assert_non_null(big);
	for (j = 0; j < 70000; j++)
		big[j] = (char)(j * 7);
	for (i = 0; i < nitems(c); i++) {
		assert_int_equal(reply_route_init(&rr, c[i].sha, "_kombu.b",
		    c[i].ttl), 0);
		assert_int_equal(reply_route_cmd(&rr, c[i].prefix, c[i].queue,
		    c[i].rk, c[i].env != NULL ? c[i].env : big, c[i].envlen,
		    &cmd, &len), 0);
		snprintf(list, sizeof(list), "%s%s", c[i].prefix, c[i].queue);
		snprintf(ttl, sizeof(ttl), "%lld", (long long)c[i].ttl);
		snprintf(member, sizeof(member), "%s" KOMBU_SEP KOMBU_SEP "%s",
		    c[i].rk, c[i].queue);
		for (j = 0, wl = 0; c[i].rk[j] != '\0'; j++) {
			if (strchr("*?[]\\", c[i].rk[j]) != NULL)
				pat[wl++] = '\\';
			pat[wl++] = c[i].rk[j];
		}
		snprintf(pat + wl, sizeof(pat) - wl, KOMBU_SEP "*");
		argv[0] = c[i].sha != NULL ? "EVALSHA" : "EVAL";
		argv[1] = c[i].sha != NULL ? c[i].sha : reply_route_lua;
		argv[2] = "2";
		argv[3] = "_kombu.b";
		argv[4] = list;
		argv[5] = c[i].env != NULL ? c[i].env : big;
		argv[6] = ttl;
		argv[7] = member;
		argv[8] = pat;
		for (j = 0; j < 9; j++)
			argvlen[j] = strlen(argv[j]);
		argvlen[5] = c[i].envlen;
		wl = redisFormatCommandArgv(&want, 9, argv, argvlen);
		assert_true(wl > 0);
		if ((size_t)wl != len || memcmp(want, cmd, len) != 0)
			fail_msg("case %zu: not hiredis's bytes", i);
		assert_int_equal(cmd[len], '\0');
		free(want);
	}
	reply_route_clear(&rr);
	free(big);
}

/* What replies.c refused as "names too long" is refused still. */
static void
t_route_cmd_refuses(void **state)
{
	struct reply_route	 rr;
	const char		*cmd;
	char			 q[MAX_KEY + 1], rk[MAX_KEY];
	size_t			 len;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	assert_int_equal(reply_route_cmd(&rr, "", "q", "r", "", 0, &cmd,
	    &len), -1);		/* not initialised */
	assert_int_equal(reply_route_init(&rr, NULL, "b", 1), 0);
	memset(q, 'q', MAX_KEY - 1);
	q[MAX_KEY - 1] = '\0';
	/* prefix + queue of MAX_KEY bytes: too long for the list key */
	assert_int_equal(reply_route_cmd(&rr, "p", q, "r", "", 0, &cmd,
	    &len), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(reply_route_cmd(&rr, "", "a" KOMBU_SEP "b", "r", "",
	    0, &cmd, &len), -1);
	assert_int_equal(reply_route_cmd(&rr, "", "q", "r" KOMBU_SEP, "", 0,
	    &cmd, &len), -1);
	/*
	 * rk SEP SEP "q" must stay under MAX_KEY (the binding member); then
	 * even all-'*' escapes to under the pattern's bound.
	 */
	memset(rk, '*', 1019);
	rk[1019] = '\0';
	assert_int_equal(reply_route_cmd(&rr, "", "q", rk, "", 0, &cmd,
	    &len), -1);
	rk[1018] = '\0';
	assert_int_equal(reply_route_cmd(&rr, "", "q", rk, "", 0, &cmd,
	    &len), 0);
	reply_route_clear(&rr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_encode_table),
		cmocka_unit_test(t_error),
		cmocka_unit_test(t_unknown_method),
		cmocka_unit_test(t_decode_table),
		cmocka_unit_test(t_route_cmd_equals_hiredis),
		cmocka_unit_test(t_route_cmd_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
