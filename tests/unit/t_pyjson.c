/* Unit tests for common/pyjson.c: Python json.dumps(), parsing, repr(). */
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"

struct dump_case {
	const char	*in;		/* JSON text we parse */
	const char	*out;		/* what Python's json.dumps() writes */
};

/* Expected outputs checked with python3 -c 'json.dumps(json.loads(in))'. */
static const struct dump_case dump_cases[] = {
	{ "{}", "{}" },
	{ "[]", "[]" },
	{ "{\"a\":1,\"b\":[1,2,{\"c\":null}]}",
	    "{\"a\": 1, \"b\": [1, 2, {\"c\": null}]}" },
	{ "{\"z\":1,\"a\":2,\"m\":3}", "{\"z\": 1, \"a\": 2, \"m\": 3}" },
	{ "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\": 3, \"b\": 2}" },
	{ "[true,false,null]", "[true, false, null]" },
	{ "\"a/b\"", "\"a/b\"" },
	{ "\"q\\\"b\\\\s\"", "\"q\\\"b\\\\s\"" },
	{ "\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"" },
	{ "\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\\u007f\"" },
	{ "\"\\u0000x\"", "\"\\u0000x\"" },
	{ "\"\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80\"",
	    "\"\\u00e9\\u2603\\ud83d\\ude00\"" },
	{ "\"\\uD83D\\uDE00\"", "\"\\ud83d\\ude00\"" },
	{ "\"\\u00AD\\u200B\\uFFFF\"", "\"\\u00ad\\u200b\\uffff\"" },
	/* json-c PR #893: pairs whose code point looks like a surrogate */
	{ "\"\\ud836\\udc00\\ud83d\\ude00\"",
	    "\"\\ud836\\udc00\\ud83d\\ude00\"" },
	{ "\"\\ud876\\udc00\"", "\"\\ud876\\udc00\"" },
	{ "\"\\udbf7\\udc9a\"", "\"\\udbf7\\udc9a\"" },
	{ "[\"\\uD836\\uDFFF\", 1]", "[\"\\ud836\\udfff\", 1]" },
	{ "\"a\\\\ud836\\\\udc00\"", "\"a\\\\ud836\\\\udc00\"" },
	{ "{\"\xc3\xa9\":\"\\t\"}", "{\"\\u00e9\": \"\\t\"}" },
	{ "0", "0" },
	{ "-0", "0" },
	{ "-5", "-5" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "-9223372036854775808", "-9223372036854775808" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "2.0", "2.0" },
	{ "2.50", "2.5" },
	{ "-0.0", "-0.0" },
	{ "0.1", "0.1" },
	{ "1e-05", "1e-05" },
	{ "0.0001", "0.0001" },
	{ "0.00001234", "1.234e-05" },
	{ "1e16", "1e+16" },
	{ "1e15", "1000000000000000.0" },
	{ "123456789012345678.0", "1.2345678901234568e+17" },
	{ "9999999999999998.0", "9999999999999998.0" },
	{ "1E5", "100000.0" },
	{ "1795547174.5497468", "1795547174.5497468" },
	{ "1795547174.5514843", "1795547174.5514843" },
	/* float_repr() starts past the integer digits of a non-integer */
	{ "1795547174.5", "1795547174.5" },
	{ "99.7", "99.7" },
	{ "9.999999999999998", "9.999999999999998" },
	{ "999.9999999999999", "999.9999999999999" },
	{ "12345.000000000002", "12345.000000000002" },
	{ "1234567890123456.8", "1234567890123456.8" },
	{ "1.5", "1.5" },
	{ "5e-324", "5e-324" },
	{ "1.7976931348623157e308", "1.7976931348623157e+308" },
	{ "2.2250738585072014e-308", "2.2250738585072014e-308" },
	{ "0.30000000000000004", "0.30000000000000004" },
	{ "1.5e300", "1.5e+300" },
	{ "[1, 2.5, null, true]", "[1, 2.5, null, true]" },
	{ " {\"a\" :\n[ ] } \n", "{\"a\": []}" },
};

static void
t_dumps_table(void **state)
{
	json_object	*o;
	const char	*errstr;
	char		*s;
	size_t		 i, len;
	int		 isnull;

	(void)state;
	for (i = 0; i < nitems(dump_cases); i++) {
		o = pyjson_parse(dump_cases[i].in, strlen(dump_cases[i].in),
		    &isnull, &errstr);
		if (o == NULL)
			fail_msg("case %zu (%s): parse: %s", i,
			    dump_cases[i].in, errstr);
		s = pyjson_dumps(o, &len);
		if (s == NULL || strcmp(s, dump_cases[i].out) != 0 ||
		    len != strlen(dump_cases[i].out))
			fail_msg("case %zu (%s): got %s want %s", i,
			    dump_cases[i].in, s ? s : "NULL",
			    dump_cases[i].out);
		free(s);
		json_object_put(o);
	}
}

/* Values only C can build: NaN, stray bytes, deep trees, NUL, NULL. */
static void
t_dumps_built(void **state)
{
	json_object	*o, *a, *inner;
	char		*s;
	size_t		 len;
	int		 i;

	(void)state;
	/* Invalid UTF-8: each bad byte is U+FFFD; never a crash. */
	o = json_object_new_string_len("a\xff\xc3(\xe2\x82\xed\xa0\x80z", 10);
	s = pyjson_dumps(o, &len);
	assert_non_null(s);
	assert_string_equal(s, "\"a\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffdz\"");
	free(s);
	json_object_put(o);

	o = json_object_new_string_len("x\0y", 3);
	s = pyjson_dumps(o, &len);
	assert_string_equal(s, "\"x\\u0000y\"");
	assert_int_equal(len, 10);
	free(s);
	json_object_put(o);

	/* JSON null object is the NULL pointer. */
	s = pyjson_dumps(NULL, &len);
	assert_string_equal(s, "null");
	assert_int_equal(len, 4);
	free(s);

	o = json_object_new_double(NAN);
	errno = 0;
	assert_null(pyjson_dumps(o, NULL));
	assert_int_equal(errno, EINVAL);
	json_object_put(o);

	o = json_object_new_array();
	json_object_array_add(o, json_object_new_double(-INFINITY));
	errno = 0;
	assert_null(pyjson_dumps(o, NULL));
	assert_int_equal(errno, EINVAL);
	json_object_put(o);

	/* A tree deeper than anything we parse is refused, not recursed. */
	o = json_object_new_array();
	for (i = 0, a = o; i < 1000; i++) {
		inner = json_object_new_array();
		json_object_array_add(a, inner);
		a = inner;
	}
	errno = 0;
	assert_null(pyjson_dumps(o, NULL));
	assert_int_equal(errno, EINVAL);
	json_object_put(o);

	/* Doubles built in C (not parsed). */
	o = json_object_new_array();
	json_object_array_add(o, json_object_new_double(1.0 / 3));
	json_object_array_add(o, json_object_new_double(1e22));
	json_object_array_add(o, json_object_new_double(-1e-7));
	json_object_array_add(o, json_object_new_double(100.0));
	json_object_array_add(o, json_object_new_int64(INT64_MIN));
	s = pyjson_dumps(o, NULL);
	assert_string_equal(s, "[0.3333333333333333, 1e+22, -1e-07, 100.0, "
	    "-9223372036854775808]");
	free(s);
	json_object_put(o);
}

struct parse_case {
	const char	*in;
	int		 ok;	/* 1 parses, 0 refused, 2 JSON null */
};

static const struct parse_case parse_cases[] = {
	{ "{}", 1 },
	{ "{} ", 1 },
	{ " \t\r\n{}\n", 1 },
	{ "5", 1 },
	{ "5 ", 1 },
	{ "\"s\"", 1 },
	{ "true", 1 },
	{ "null", 2 },
	{ " null ", 2 },
	{ "", 0 },
	{ "   ", 0 },
	{ "{", 0 },
	{ "{\"a\":", 0 },
	{ "[1,]", 0 },
	{ "{} x", 0 },
	{ "{}{}", 0 },
	{ "[1] [2]", 0 },
	{ "5 6", 0 },
	{ "5x", 0 },
	{ "tru", 0 },
	{ "nul", 0 },
	{ "+1", 0 },
	{ ".5", 0 },
	{ "\"\xff\"", 0 },		/* invalid UTF-8 */
	{ "\"abc", 0 },
	{ "{\"a\" 1}", 0 },
	{ "/* c */ {}", 0 },
};

static void
t_parse_table(void **state)
{
	json_object	*o;
	const char	*errstr;
	size_t		 i;
	int		 isnull;

	(void)state;
	for (i = 0; i < nitems(parse_cases); i++) {
		errstr = "unset";
		o = pyjson_parse(parse_cases[i].in, strlen(parse_cases[i].in),
		    &isnull, &errstr);
		switch (parse_cases[i].ok) {
		case 1:
			if (o == NULL || errstr != NULL || isnull)
				fail_msg("case %zu (%s): refused: %s", i,
				    parse_cases[i].in, errstr);
			break;
		case 2:
			if (o != NULL || errstr != NULL || !isnull)
				fail_msg("case %zu (%s): not null", i,
				    parse_cases[i].in);
			break;
		default:
			if (o != NULL || errstr == NULL || isnull)
				fail_msg("case %zu (%s): accepted", i,
				    parse_cases[i].in);
			break;
		}
		json_object_put(o);
	}
}

/*
 * pyjson_parse()'s fast path (jscan_obj(), issue 17) builds what json-c's
 * tokener builds, or leaves the document to it: each document is parsed
 * by pyjson_parse() and by a plain strict tokener, and the two results
 * must be equal, types included (json_object_equal), or both refused.
 */
static void
t_parse_fast_equals_tokener(void **state)
{
	static const char *const docs[] = {
		/* a ping request as kombu writes it: the fast path */
		("{\"method\": \"ping\", \"arguments\": {}, \"destination\": "
		    "null, \"pattern\": null, \"matcher\": null, \"ticket\": "
		    "\"3f1c\", \"reply_to\": {\"exchange\": \"reply.celery."
		    "pidbox\", \"routing_key\": \"a-b\"}}"),
		"{\"node\": {\"ok\": \"pong\"}}",
		" {\"a\":true,\"b\":false,\"c\":null,\"d\":{\"e\":-12}}\n",
		"{\"n\": 999999999999999999, \"m\": -999999999999999999}",
		"{}", " { } ",
		/* floats: the scanner's, their text kept as the tokener's */
		"{\"clock\": 7, \"expires\": 1764608400.123456}",
		"{\"n\": 1.5}", "{\"n\": 1e3}", "{\"n\": -0.0}",
		"{\"n\": 1.50E-7}", "{\"n\": 0.1, \"m\": 2.5e+300}",
		"{\"n\": 123456789012345678901234567890.5}",
		"{\"n\": 4.9406564584124654e-324}", "{\"n\": 2.2250738585072011e-308}",
		"{\"n\": 1.7976931348623157e308}", "{\"n\": -1e-400}",
		/* the tokener's: big and odd numbers, escapes, ... */
		"{\"n\": 9999999999999999999}", "{\"n\": 1e400}",
		"{\"n\": 1.0000000000000000000000000000000000000001}",
		"{\"n\": -0}", "{\"n\": 01}", "{\"n\": -}",
		"{\"s\": \"caf\xc3\xa9\"}", "{\"s\": \"a\\\"b\\u00e9\"}",
		"{\"a\": [1, true]}", "{\"a\": 1, \"a\": 2}",
		/* duplicates: nested, apart, beyond the keys compared as text */
		"{\"x\": {\"a\": 1, \"b\": 2, \"a\": {}}}",
		"{\"a\": 1, \"ab\": 2, \"b\": 3, \"ab\": 4}",
		("{\"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, "
		    "\"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k2\": 0}"),
		("{\"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, "
		    "\"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k9\": 0}"),
		("{\"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, "
		    "\"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 0}"),
		/* nine levels: deeper than the scanner takes */
		("{\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": {\"g\": "
		    "{\"h\": {\"i\": 1}}}}}}}}}"),
		"[1]", "\"x\"",
		/* refused by both */
		"{\"a\": tru}", "{\"a\": nullx}", "{\"a\": truex}",
		"{\"a\": 1,}", "{\"a\" 1}", "{\"a\": 1} x", "{\"a\": 1}}",
		"{\"a\": 1", "{\"a\": \"\x01\"}", "{\"a\": 00}",
		"{\"a\": 1.}", "{\"a\": .5}", "{\"a\": 1e}", "{\"a\": 1e+}",
		"{\"a\": 01.5}", "{\"a\": 1.5.5}", "{\"a\": 1.5e3e3}",
		"{\"a\": +1.5}", "{\"a\": 1.5x}", "{\"a\": -.5}",
	};
	struct json_tokener	*tok;
	json_object		*o, *ref;
	const char		*errstr;
	size_t			 i, len, end;
	int			 isnull, refok;

	(void)state;
	for (i = 0; i < nitems(docs); i++) {
		len = strlen(docs[i]);
		o = pyjson_parse(docs[i], len, &isnull, &errstr);
		tok = json_tokener_new_ex(MAX_JSON_DEPTH);
		assert_non_null(tok);
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
		    JSON_TOKENER_VALIDATE_UTF8);
		ref = json_tokener_parse_ex(tok, docs[i], (int)len);
		if (json_tokener_get_error(tok) == json_tokener_continue)
			ref = json_tokener_parse_ex(tok, "", 1);
		refok = json_tokener_get_error(tok) == json_tokener_success;
		/* Python refuses trailing garbage; json-c stops before it */
		for (end = json_tokener_get_parse_end(tok); refok &&
		    end < len; end++)
			if (strchr(" \t\n\r", docs[i][end]) == NULL)
				refok = 0;
		if (refok != (o != NULL || isnull))
			fail_msg("doc %zu (%s): %s by pyjson_parse, %s by "
			    "json-c", i, docs[i], errstr ? errstr : "taken",
			    refok ? "taken" : "refused");
		/* equal values, and equal text (json-c keeps a float's) */
		if (refok && (!json_object_equal(o, ref) ||
		    strcmp(json_object_to_json_string(o),
		    json_object_to_json_string(ref)) != 0))
			fail_msg("doc %zu (%s): %s != %s", i, docs[i],
			    json_object_to_json_string(o),
			    json_object_to_json_string(ref));
		json_object_put(o);
		json_object_put(ref);
		json_tokener_free(tok);
	}
}

/* Length bounds: not NUL-terminated input, NUL bytes, depth, size. */
static void
t_parse_bounds(void **state)
{
	json_object	*o;
	const char	*errstr;
	char		*big;
	size_t		 n;
	int		 isnull, d, ok;

	(void)state;
	/* Only len bytes are read: "[1]" out of "[1]garbage". */
	o = pyjson_parse("[1]garbage", 3, &isnull, &errstr);
	assert_non_null(o);
	json_object_put(o);
	o = pyjson_parse("12345", 2, &isnull, &errstr);
	assert_non_null(o);
	assert_int_equal(json_object_get_int(o), 12);
	json_object_put(o);

	assert_null(pyjson_parse("{}\0", 3, &isnull, &errstr));
	assert_non_null(errstr);
	assert_null(pyjson_parse("\"a\0b\"", 5, &isnull, &errstr));
	assert_non_null(errstr);
	assert_null(pyjson_parse(NULL, 0, &isnull, &errstr));
	assert_non_null(errstr);
	assert_null(pyjson_parse(NULL, 5, NULL, &errstr));
	assert_non_null(errstr);

	/* Nesting: accepted up to some depth <= MAX_JSON_DEPTH, not beyond. */
	big = calloc(1, 2 * (MAX_JSON_DEPTH + 2) + 1);
	assert_non_null(big);
	ok = 0;
	for (d = 1; d <= MAX_JSON_DEPTH + 1; d++) {
		memset(big, '[', (size_t)d);
		memset(big + d, ']', (size_t)d);
		big[2 * d] = '\0';
		o = pyjson_parse(big, 2 * (size_t)d, &isnull, &errstr);
		if (o != NULL)
			ok = d;
		json_object_put(o);
	}
	free(big);
	assert_true(ok >= MAX_JSON_DEPTH - 1);
	assert_true(ok <= MAX_JSON_DEPTH);

	/* Size cap. */
	n = MAX_ENVELOPE + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '1';
	assert_null(pyjson_parse(big, n, &isnull, &errstr));
	assert_non_null(errstr);
	o = pyjson_parse(big, n - 1, &isnull, &errstr);
	assert_non_null(o);
	json_object_put(o);
	free(big);
}

struct repr_case {
	const char	*in;	/* JSON text */
	const char	*out;	/* Python repr(json.loads(in)), UTF-8 */
};

static const struct repr_case repr_cases[] = {
	{ "\"nosuch\"", "'nosuch'" },
	{ "\"it's\"", "\"it's\"" },
	{ "\"a\\\"b\"", "'a\"b'" },
	{ "\"a'\\\"b\"", "'a\\'\"b'" },
	{ "\"back\\\\slash\"", "'back\\\\slash'" },
	{ "\"new\\nline\\t\\r\"", "'new\\nline\\t\\r'" },
	{ "\"\"", "''" },
	{ "\"'\"", "\"'\"" },
	{ "\"\\u00e9\\u2603\\ud83d\\ude00\"",
	    "'\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80'" },
	{ "\"\\u0000\\u007f\\u200b\\u00ad\"", "'\\x00\\x7f\\u200b\\xad'" },
	{ "\"\\u0085\\u00a0 \\u3000\\u2028\"", "'\\x85\\xa0 \\u3000\\u2028'" },
	{ "\"\\ue000\\ufeff\\u0378\"", "'\\ue000\\ufeff\\u0378'" },
	{ "\"\\udb40\\udc01\"", "'\\U000e0001'" },		/* Cf */
	{ "\"\\udbff\\udfff\"", "'\\U0010ffff'" },		/* Cn */
	{ "\"\\ud836\\udc00\"", "'\xf0\x9d\xa0\x80'" },	/* So */
	{ "\"\\udbf7\\udc9a\"", "'\\U0010dc9a'" },		/* Co */
	{ "\"\\u001b[0m\"", "'\\x1b[0m'" },
	{ "null", "None" },
	{ "true", "True" },
	{ "false", "False" },
	{ "5", "5" },
	{ "-12", "-12" },
	{ "1.5", "1.5" },
	{ "2.0", "2.0" },
	{ "1e-05", "1e-05" },
	{ "[1]", "list" },
	{ "{}", "dict" },
};

static void
t_repr_table(void **state)
{
	json_object	*o;
	const char	*errstr;
	char		*s;
	size_t		 i;
	int		 isnull;

	(void)state;
	for (i = 0; i < nitems(repr_cases); i++) {
		o = pyjson_parse(repr_cases[i].in, strlen(repr_cases[i].in),
		    &isnull, &errstr);
		if (o == NULL && !isnull)
			fail_msg("case %zu (%s): parse: %s", i,
			    repr_cases[i].in, errstr);
		s = pyjson_repr(o);
		if (s == NULL || strcmp(s, repr_cases[i].out) != 0)
			fail_msg("case %zu (%s): got %s want %s", i,
			    repr_cases[i].in, s ? s : "NULL",
			    repr_cases[i].out);
		free(s);
		json_object_put(o);
	}
}

/* repr() of values only C can build. */
static void
t_repr_built(void **state)
{
	json_object	*o;
	char		*s;

	(void)state;
	o = json_object_new_string_len("a\xff\0b", 4);
	s = pyjson_repr(o);
	assert_string_equal(s, "'a\\udcff\\x00b'");
	free(s);
	json_object_put(o);

	o = json_object_new_double(NAN);
	s = pyjson_repr(o);
	assert_string_equal(s, "nan");
	free(s);
	json_object_put(o);

	o = json_object_new_double(-INFINITY);
	s = pyjson_repr(o);
	assert_string_equal(s, "-inf");
	free(s);
	json_object_put(o);
}

/*
 * The scanners' word-at-a-time string runs (issue 17) against the byte
 * at a time loops they replaced: jscan_str() and jscan_skip() must end
 * at the same byte with the same result for every string, whatever bytes
 * it holds where in a word (controls, 0x7f, bytes >= 0x80, quotes,
 * backslashes, at every offset and length, and near the end of the text).
 */
static int
ref_str(struct jscan *f, const char **s, size_t *len)
{
	const char	*q;

	if (f->p >= f->end || *f->p != '"')
		return -1;
	for (q = ++f->p; q < f->end && *q != '"'; q++)
		if (*q < 0x20 || *q > 0x7e || *q == '\\')
			return -1;
	if (q >= f->end)
		return -1;
	*s = f->p;
	*len = (size_t)(q - f->p);
	f->p = q + 1;
	return 0;
}

static int
ref_skip(struct jscan *f)
{
	int	depth = 0;

	if (f->p >= f->end || *f->p != '{')
		return -1;
	for (; f->p < f->end; f->p++) {
		switch (*f->p) {
		case '"':
			for (f->p++; f->p < f->end && *f->p != '"'; f->p++)
				if (*f->p == '\\')
					f->p++;
			if (f->p >= f->end)
				return -1;
			break;
		case '{':
		case '[':
			if (++depth > JSCAN_DEPTH)
				return -1;
			break;
		case '}':
		case ']':
			if (--depth == 0) {
				f->p++;
				return 0;
			}
			break;
		}
	}
	return -1;
}

static void
t_scan_runs(void **state)
{
	static const unsigned char pick[] = {
		'a', 'Z', '0', ' ', '~', '"', '\\', '{', '}', ':', ',',
		0x00, 0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xc3,
		0xe2, 0xff,
	};
	struct jscan	 f, g;
	const char	*s1, *s2;
	char		 buf[64];
	size_t		 n, i, l1, l2;
	uint32_t	 x = 12345;
	int		 round, r1, r2;

	(void)state;
	for (round = 0; round < 200000; round++) {
		/* xorshift: the same cases every run */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = 1 + x % (sizeof(buf) - 1);
		buf[0] = round & 1 ? '"' : '{';
		for (i = 1; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* mostly plain bytes: runs long enough for words */
			buf[i] = (char)(x % 4 != 0 ? 'a' + (x >> 8) % 26 :
			    pick[(x >> 8) % sizeof(pick)]);
		}
		f.p = g.p = buf;
		f.end = g.end = buf + n;
		s1 = s2 = NULL;
		l1 = l2 = 0;
		if (round & 1) {
			r1 = jscan_str(&f, &s1, &l1);
			r2 = ref_str(&g, &s2, &l2);
		} else {
			r1 = jscan_skip(&f);
			r2 = ref_skip(&g);
		}
		if (r1 != r2 || (r1 == 0 && (f.p != g.p || s1 != s2 ||
		    l1 != l2)))
			fail_msg("round %d (%s, %zu bytes): %d/%d at %td/%td",
			    round, round & 1 ? "str" : "skip", n, r1, r2,
			    f.p - buf, g.p - buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dumps_table),
		cmocka_unit_test(t_dumps_built),
		cmocka_unit_test(t_parse_table),
		cmocka_unit_test(t_parse_bounds),
		cmocka_unit_test(t_parse_fast_equals_tokener),
		cmocka_unit_test(t_scan_runs),
		cmocka_unit_test(t_repr_table),
		cmocka_unit_test(t_repr_built),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
