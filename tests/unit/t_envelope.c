/* Unit tests for common/envelope.c: the kombu message envelope. */
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

/* {"method": "ping"} in base64 */
#define PING_B64	"eyJtZXRob2QiOiAicGluZyJ9"
#define PING_TEXT	"{\"method\": \"ping\"}"
#define PROPS(enc)	"\"properties\": {\"delivery_tag\": \"t1\"" enc "}"
#define JSON_CT		"\"content-type\": \"application/json\""

struct decode_case {
	const char	*raw;
	int		 rc;
	const char	*want;		/* body, or a word of the error */
};

static const struct decode_case decode_cases[] = {
	/* valid */
	{ "{\"body\": \"" PING_B64 "\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"base64\"") "}", 0, PING_TEXT },
	{ "{\"body\": \"{}\", " JSON_CT ", " PROPS("") "}", 0, "{}" },
	{ "{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": null") "}", 0, "{}" },
	{ "{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"\"") "}", 0, "{}" },
	{ "{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"utf-8\"") "}", 0, "{}" },
	{ "{\"body\": \"\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"base64\"") "}", 0, "" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"headers\": null, "
	    PROPS("") "}", 0, "{}" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"headers\": {}, "
	    PROPS("") "}", 0, "{}" },
	/* duplicate members: the last one, as Python's json.loads() */
	{ "{\"body\": \"e30=\", \"body\": \"{}\", " JSON_CT ", "
	    PROPS("") "}", 0, "{}" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"body\": \"e30=\", "
	    PROPS(", \"body_encoding\": \"base64\"") "}", 0, "{}" },
	/* content types */
	{ "{\"body\": \"{}\", " PROPS("") "}", -1, "content-type" },
	{ "{\"body\": \"{}\", \"content-type\": null, " PROPS("") "}", -1,
	    "content-type" },
	{ "{\"body\": \"{}\", \"content-type\": 5, " PROPS("") "}", -1,
	    "content-type" },
	{ "{\"body\": \"{}\", \"content-type\": "
	    "\"application/x-python-serialize\", " PROPS("") "}", -1,
	    "pickle" },
	{ "{\"body\": \"{}\", \"content-type\": \"application/x-yaml\", "
	    PROPS("") "}", -1, "yaml" },
	{ "{\"body\": \"{}\", \"content-type\": \"application/data\", "
	    PROPS("") "}", -1, "application/data" },
	{ "{\"body\": \"{}\", \"content-type\": \"application/text\", "
	    PROPS("") "}", -1, "application/text" },
	{ "{\"body\": \"{}\", \"content-type\": \"Application/JSON\", "
	    PROPS("") "}", -1, "not application/json" },
	/* properties and delivery_tag */
	{ "{\"body\": \"{}\", " JSON_CT "}", -1, "properties" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"properties\": []}", -1,
	    "properties" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"properties\": {}}", -1,
	    "no delivery_tag" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"properties\": "
	    "{\"delivery_tag\": 5}}", -1, "delivery_tag" },
	/* body and its encoding */
	{ "{" JSON_CT ", " PROPS("") "}", -1, "body" },
	{ "{\"body\": 5, " JSON_CT ", " PROPS("") "}", -1, "body" },
	{ "{\"body\": null, " JSON_CT ", " PROPS("") "}", -1, "body" },
	{ "{\"body\": \"!!!\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"base64\"") "}", -1, "base64" },
	{ "{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"gzip\"") "}", -1, "body_encoding" },
	{ "{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": 1") "}", -1, "body_encoding" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"headers\": [], "
	    PROPS("") "}", -1, "headers" },
	{ "{\"body\": \"{}\", " JSON_CT ", \"headers\": \"x\", "
	    PROPS("") "}", -1, "headers" },
	/* not an envelope at all */
	{ "[]", -1, "object" },
	{ "null", -1, "object" },
	{ "\"x\"", -1, "object" },
	{ "", -1, "" },
	{ "{", -1, "" },
	{ "{} {}", -1, "" },
};

static void
t_decode_table(void **state)
{
	struct envelope	 env;
	const char	*errstr;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < nitems(decode_cases); i++) {
		errstr = NULL;
		rc = envelope_decode(decode_cases[i].raw,
		    strlen(decode_cases[i].raw), &env, &errstr);
		if (rc != decode_cases[i].rc)
			fail_msg("case %zu (%s): rc %d: %s", i,
			    decode_cases[i].raw, rc, errstr ? errstr : "");
		if (rc == 0 && (env.body == NULL ||
		    strcmp(env.body, decode_cases[i].want) != 0 ||
		    env.bodylen != strlen(decode_cases[i].want) ||
		    strcmp(env.delivery_tag, "t1") != 0 ||
		    strcmp(env.content_type, "application/json") != 0))
			fail_msg("case %zu: body %s", i,
			    env.body ? env.body : "NULL");
		if (rc == -1 && (errstr == NULL ||
		    strstr(errstr, decode_cases[i].want) == NULL ||
		    env.root != NULL || env.body != NULL))
			fail_msg("case %zu: errstr %s, want %s", i,
			    errstr ? errstr : "NULL", decode_cases[i].want);
		envelope_free(&env);
	}
	envelope_free(NULL);
}

/* A base64 body holding NUL bytes keeps its length. */
static void
t_decode_binary(void **state)
{
	struct envelope	 env;
	const char	*errstr, *raw;

	(void)state;
	raw = "{\"body\": \"AGEA\", " JSON_CT ", \"headers\": {\"x\": 1}, "
	    "\"properties\": {\"delivery_tag\": \"t1\", \"body_encoding\": "
	    "\"base64\", \"delivery_info\": {\"exchange\": \"ex\", "
	    "\"routing_key\": \"rk\"}}}";
	assert_int_equal(envelope_decode(raw, strlen(raw), &env, &errstr), 0);
	assert_int_equal(env.bodylen, 3);
	assert_memory_equal(env.body, "\0a\0", 3);
	assert_string_equal(env.exchange, "ex");
	assert_string_equal(env.routing_key, "rk");
	assert_non_null(env.headers);
	envelope_free(&env);
	assert_null(env.root);

	/* delivery_info of the wrong shape is just absent. */
	raw = "{\"body\": \"{}\", " JSON_CT ", \"properties\": "
	    "{\"delivery_tag\": \"t1\", \"delivery_info\": {\"exchange\": 5}}}";
	assert_int_equal(envelope_decode(raw, strlen(raw), &env, &errstr), 0);
	assert_null(env.exchange);
	assert_null(env.routing_key);
	assert_null(env.headers);
	envelope_free(&env);
}

struct header_case {
	const char	*headers;	/* JSON text of the headers value */
	int		 clock_rc;
	int64_t		 clock;
	int		 expires_rc;
	double		 expires;
	const char	*ticket;
};

static const struct header_case header_cases[] = {
	{ "null", 0, 0, 0, 0.0, NULL },
	{ "{}", 0, 0, 0, 0.0, NULL },
	{ "{\"clock\": null, \"expires\": null, \"ticket\": null}",
	    0, 0, 0, 0.0, NULL },
	{ "{\"clock\": 2, \"expires\": 1795547174.5514843}",
	    0, 2, 0, 1795547174.5514843, NULL },
	{ "{\"clock\": 0, \"expires\": 0}", 0, 0, 0, 0.0, NULL },
	{ "{\"ticket\": \"T1\", \"clock\": 4}", 0, 4, 0, 0.0, "T1" },
	/* any number is clamped to 0 .. CLOCK_MAX, never refused (issue 10) */
	{ "{\"clock\": 9007199254740991}", 0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": 9007199254740992}", 0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": 9223372036854775807}", 0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": 9223372036854775808}", 0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": 340282366920938463463374607431768211456}",
	    0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": -1}", 0, 0, 0, 0.0, NULL },
	{ "{\"clock\": -99999999999999999999999}", 0, 0, 0, 0.0, NULL },
	{ "{\"clock\": 5.0}", 0, 5, 0, 0.0, NULL },
	{ "{\"clock\": 7.9}", 0, 7, 0, 0.0, NULL },
	{ "{\"clock\": -2.5}", 0, 0, 0, 0.0, NULL },
	{ "{\"clock\": 1e300}", 0, CLOCK_MAX, 0, 0.0, NULL },
	{ "{\"clock\": \"5\"}", -1, 0, 0, 0.0, NULL },
	{ "{\"clock\": true}", -1, 0, 0, 0.0, NULL },
	{ "{\"clock\": [1]}", -1, 0, 0, 0.0, NULL },
	{ "{\"expires\": 17}", 0, 0, 0, 17.0, NULL },
	{ "{\"expires\": -1.5}", 0, 0, 0, -1.5, NULL },
	{ "{\"expires\": \"1\"}", 0, 0, -1, 0.0, NULL },
	{ "{\"expires\": false}", 0, 0, -1, 0.0, NULL },
	{ "{\"expires\": {}}", 0, 0, -1, 0.0, NULL },
	{ "{\"ticket\": 5}", 0, 0, 0, 0.0, NULL },
};

static void
t_headers_table(void **state)
{
	struct envelope	 env;
	const char	*errstr, *ticket;
	char		 raw[512];
	size_t		 i;
	int64_t		 clock;
	double		 expires;

	(void)state;
	for (i = 0; i < nitems(header_cases); i++) {
		snprintf(raw, sizeof(raw), "{\"body\": \"{}\", " JSON_CT
		    ", \"headers\": %s, " PROPS("") "}",
		    header_cases[i].headers);
		if (envelope_decode(raw, strlen(raw), &env, &errstr) != 0)
			fail_msg("case %zu: %s", i, errstr);
		clock = -7;
		if (envelope_clock(&env, &clock) != header_cases[i].clock_rc ||
		    (header_cases[i].clock_rc == 0 &&
		    clock != header_cases[i].clock))
			fail_msg("case %zu (%s): clock %lld", i,
			    header_cases[i].headers, (long long)clock);
		if (envelope_expires(&env, &expires) !=
		    header_cases[i].expires_rc ||
		    (header_cases[i].expires_rc == 0 &&
		    expires != header_cases[i].expires))
			fail_msg("case %zu (%s): expires %f", i,
			    header_cases[i].headers, expires);
		ticket = envelope_ticket(&env);
		if ((ticket == NULL) != (header_cases[i].ticket == NULL) ||
		    (ticket != NULL &&
		    strcmp(ticket, header_cases[i].ticket) != 0))
			fail_msg("case %zu: ticket %s", i,
			    ticket ? ticket : "NULL");
		envelope_free(&env);
	}
	/* NULL-safe */
	assert_int_equal(envelope_clock(NULL, &clock), 0);
	assert_int_equal(envelope_expires(NULL, &expires), 0);
	assert_null(envelope_ticket(NULL));
}

/* Spec 2.6: the captured reply, byte for byte. */
static void
t_encode_spec(void **state)
{
	static const char want[] = "{\"body\": "
	    "\"eyJob3N0QSI6IHsib2siOiAicG9uZyJ9fQ==\", \"content-encoding\": "
	    "\"utf-8\", \"content-type\": \"application/json\", \"headers\": "
	    "{\"ticket\": \"786f423b-eab1-4986-ba58-22e8a15fd47f\", "
	    "\"clock\": 4}, \"properties\": {\"delivery_mode\": 1, "
	    "\"delivery_info\": {\"exchange\": \"reply.testbox.pidbox\", "
	    "\"routing_key\": \"6865b73d-77fe-318d-89b1-ec74bd53049d\"}, "
	    "\"priority\": 0, \"body_encoding\": \"base64\", "
	    "\"delivery_tag\": \"f6a15b6c-214b-435a-b470-600566e26433\"}}";
	struct envelope_out	 out = { 0 };
	json_object		*hdrs;
	char			*s;
	size_t			 len;

	(void)state;
	hdrs = json_object_new_object();
	json_object_object_add(hdrs, "ticket",
	    json_object_new_string("786f423b-eab1-4986-ba58-22e8a15fd47f"));
	json_object_object_add(hdrs, "clock", json_object_new_int(4));
	out.body = "{\"hostA\": {\"ok\": \"pong\"}}";
	out.bodylen = strlen(out.body);
	out.headers = hdrs;
	out.delivery_mode = 1;
	out.exchange = "reply.testbox.pidbox";
	out.routing_key = "6865b73d-77fe-318d-89b1-ec74bd53049d";
	out.delivery_tag = "f6a15b6c-214b-435a-b470-600566e26433";
	s = envelope_encode(&out, &len);
	assert_non_null(s);
	assert_string_equal(s, want);
	assert_int_equal(len, strlen(want));
	free(s);
	/* headers still ours */
	assert_int_equal(json_object_object_length(hdrs), 2);
	json_object_put(hdrs);
}

/* encode -> decode gives the same body; a fresh tag when none is given. */
static void
t_encode_roundtrip(void **state)
{
	struct envelope_out	 out = { 0 };
	struct envelope		 env;
	const char		*errstr;
	char			*s, *s2;
	size_t			 len;
	int64_t			 clock;

	(void)state;
	out.body = "{\"x\": \"\\u00e9\"}\n\0tail";
	out.bodylen = 21;
	out.delivery_mode = 2;
	s = envelope_encode(&out, &len);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"headers\": {}, "));
	assert_non_null(strstr(s, "\"delivery_info\": {\"exchange\": \"\", "
	    "\"routing_key\": \"\"}"));
	assert_int_equal(envelope_decode(s, len, &env, &errstr), 0);
	assert_int_equal(env.bodylen, 21);
	assert_memory_equal(env.body, out.body, 21);
	assert_int_equal(strlen(env.delivery_tag), UUID_STRLEN);
	assert_int_equal(envelope_clock(&env, &clock), 0);
	assert_int_equal(clock, 0);
	/* two encodings differ only by their fresh delivery tag */
	s2 = envelope_encode(&out, NULL);
	assert_non_null(s2);
	assert_int_equal(strlen(s2), len);
	assert_string_not_equal(s, s2);
	free(s2);
	envelope_free(&env);
	free(s);

	/* headers JSON cannot carry: refused, nothing leaks */
	out.headers = json_object_new_object();
	json_object_object_add(out.headers, "expires",
	    json_object_new_double(1.0 / 0.0));
	assert_null(envelope_encode(&out, &len));
	json_object_put(out.headers);

	assert_null(envelope_encode(NULL, &len));
	out.headers = NULL;
	out.body = NULL;
	out.bodylen = 3;
	assert_null(envelope_encode(&out, &len));
}

/* Envelopes of kombu's shape and around it, for t_flat_equals_full. */
static const char *const shape_cases[] = {
	/* what pidboxd and kombu write */
	"{\"body\": \"" PING_B64 "\", \"content-encoding\": "
	    "\"utf-8\", " JSON_CT ", \"headers\": {\"ticket\": "
	    "\"a-b\", \"clock\": 12}, \"properties\": "
	    "{\"delivery_mode\": 1, \"delivery_info\": "
	    "{\"exchange\": \"reply.x.pidbox\", \"routing_key\": "
	    "\"r1\"}, \"priority\": 0, \"body_encoding\": "
	    "\"base64\", \"delivery_tag\": \"t1\"}}",
	/* the request's float expires: that object parsed whole */
	"{\"body\": \"" PING_B64 "\", " JSON_CT ", \"headers\": "
	    "{\"clock\": 3, \"expires\": 1712345678.25}, "
	    PROPS(", \"body_encoding\": \"base64\"") "}",
	/* numbers at the edges */
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": "
	    "-7, \"a\": 0, \"b\": 999999999999999999, \"c\": "
	    "9999999999999999999, \"d\": -0, \"e\": 1e3, \"f\": 01}, "
	    PROPS("") "}",
	/* escapes, unicode, null, nesting, arrays, literals */
	"{\"body\": \"{\\\"a\\\": 1}\", " JSON_CT ", \"headers\": "
	    "{\"t\": \"x\\u00e9\\ud83d\\ude00\", \"n\": null, \"o\": "
	    "{\"p\": {\"q\": [1, true, false]}}}, " PROPS("") "}",
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"t\": "
	    "\"caf\xc3\xa9\"}, " PROPS("") "}",
	/* duplicates: the last one wins in json-c */
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": 1, "
	    "\"clock\": 2}, " PROPS("") "}",
	"{\"body\": \"e30=\", \"body\": \"{}\", " JSON_CT ", "
	    PROPS("") "}",
	/* whitespace, empty objects, null headers */
	" {\"body\":\"{}\",\n\t\"content-type\":\"application/json\","
	    "\"headers\":{},\"properties\":{\"delivery_tag\":\"t\"}}"
	    " ",
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": null, "
	    PROPS("") "}",
	/* refused, by either path */
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": 1,}, "
	    PROPS("") "}",
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\" 1}, "
	    PROPS("") "}",
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": [1], "
	    PROPS("") "}",
	"{\"body\": \"{}\", \"content-type\": \"application/x-yaml\", "
	    PROPS("") "}",
	"{\"body\": \"{}\", " JSON_CT ", \"properties\": {}}",
	"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
	    "{\"delivery_tag\": 5}}",
	"{\"body\": 5, " JSON_CT ", " PROPS("") "}",
	"{\"body\": \"!!\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"base64\"") "}",
	"{\"body\": \"{}\", " JSON_CT ", "
	    PROPS(", \"body_encoding\": \"rot13\"") "}",
	"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": "
	    "{\"b\": {\"c\": {\"d\": {\"e\": {\"f\": {\"g\": {\"h\": "
	    "{\"i\": 1}}}}}}}}}, " PROPS("") "}",
	"{\"content-type\": \"application/json\", " PROPS("") "}",
};

/* Two decodings of one envelope give the same body and fields. */
static void
same_fields(const struct envelope *a, const struct envelope *b)
{
	assert_int_equal(a->bodylen, b->bodylen);
	assert_memory_equal(a->body, b->body, a->bodylen);
	assert_string_equal(a->content_type, b->content_type);
	assert_string_equal(a->delivery_tag, b->delivery_tag);
	assert_true((a->exchange == NULL) == (b->exchange == NULL));
	if (a->exchange != NULL)
		assert_string_equal(a->exchange, b->exchange);
	assert_true((a->routing_key == NULL) == (b->routing_key == NULL));
	if (a->routing_key != NULL)
		assert_string_equal(a->routing_key, b->routing_key);
}

/* Both decodings of one document, field by field, header by header. */
static void
flat_vs_full(const char *doc, size_t n, size_t i, int *flat)
{
	static const char *const keys[] = { "clock", "expires", "ticket",
	    "x-pidbox-filter", "x-pidbox-record", "x-pidbox-sig",
	    "x-pidbox-issued", "a", "b", "n", "t", "missing", "" };
	struct envelope	 a, b;
	const char	*ea, *eb, *sa, *sb;
	int64_t		 ca, cb;
	double		 da, db;
	size_t		 k;
	int		 ra, rb;

	ra = envelope_decode(doc, n, &a, &ea);
	rb = envelope_decode_flat(doc, n, &b, &eb);
	*flat = b.msg != NULL;
	if (ra != rb)
		fail_msg("case %zu (%s): %d vs %d (%s / %s)", i, doc, ra, rb,
		    ea ? ea : "-", eb ? eb : "-");
	if (ra == -1) {
		if (strcmp(ea, eb) != 0)
			fail_msg("case %zu (%s): %s vs %s", i, doc, ea, eb);
		assert_null(b.msg);
		assert_null(b.body);
		return;
	}
	assert_null(eb);
	same_fields(&a, &b);
	assert_int_equal(envelope_clock(&a, &ca), envelope_clock(&b, &cb));
	assert_int_equal(ca, cb);
	assert_int_equal(envelope_expires(&a, &da), envelope_expires(&b, &db));
	assert_true(da == db);
	for (k = 0; k < nitems(keys); k++) {
		sa = envelope_header_string(&a, keys[k]);
		sb = envelope_header_string(&b, keys[k]);
		assert_true((sa == NULL) == (sb == NULL));
		if (sa != NULL)
			assert_string_equal(sa, sb);
		ca = cb = -5;
		assert_int_equal(envelope_header_int(&a, keys[k], &ca),
		    envelope_header_int(&b, keys[k], &cb));
		assert_int_equal(ca, cb);
		assert_int_equal(envelope_header_type(&a, keys[k]),
		    envelope_header_type(&b, keys[k]));
		assert_int_equal(envelope_header_true(&a, keys[k]),
		    envelope_header_true(&b, keys[k]));
		assert_int_equal(envelope_header_present(&a, keys[k]),
		    envelope_header_present(&b, keys[k]));
	}
	envelope_free(&a);
	envelope_free(&b);
}

/*
 * envelope_decode_flat (issue 17, pidboxd's and pidboxctl's) decides
 * nothing envelope_decode would decide otherwise: every document of
 * shape_cases and more around kombu's request shape (signature,
 * filter and record headers, odd properties, encodings) give the same
 * result, error, fields and header values by both; kombu's own shapes
 * must take the flat path.
 */
static void
t_flat_equals_full(void **state)
{
	static const char *const more[] = {
		/* flat: a kombu and a pidboxctl request */
		"{\"body\": \"" PING_B64 "\", \"content-encoding\": \"utf-8\", "
		    JSON_CT ", \"headers\": {\"clock\": 5, \"expires\": "
		    "1764608400.123456}, \"properties\": {\"delivery_mode\": 2, "
		    "\"delivery_info\": {\"exchange\": \"x.pidbox\", "
		    "\"routing_key\": \"\"}, \"priority\": 0, "
		    "\"body_encoding\": \"base64\", \"delivery_tag\": \"d1\"}}",
		"{\"body\": \"" PING_B64 "\", " JSON_CT ", \"headers\": "
		    "{\"clock\": 0, \"expires\": 0, \"x-pidbox-sig\": \"abc=\", "
		    "\"x-pidbox-issued\": 1764608400000, \"x-pidbox-record\": "
		    "true, \"x-pidbox-filter\": \"role=web\"}, "
		    PROPS(", \"body_encoding\": \"base64\"") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"x-pidbox-record\": "
		    "false, \"x-pidbox-filter\": null, \"clock\": 1.5e3, "
		    "\"expires\": -2}, " PROPS(", \"body_encoding\": null") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": "
		    "\"7\", \"expires\": \"soon\", \"x-pidbox-record\": 1, "
		    "\"x-pidbox-filter\": 5}, "
		    PROPS(", \"body_encoding\": \"\"") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": "
		    "true, \"expires\": null}, "
		    PROPS(", \"body_encoding\": \"utf-8\"") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": "
		    "1e308, \"expires\": 1e-5, \"a\": -999999999999999999}, "
		    PROPS(", \"delivery_info\": \"x\"") "}",
		"{\"body\": \"{}\", " JSON_CT ", " PROPS(", \"delivery_info\": "
		    "{\"exchange\": 5, \"routing_key\": null}") "}",
		"{\"body\": \"{}\", " JSON_CT ", " PROPS(", \"delivery_info\": "
		    "{}") "}",
		/* replies, as pidboxctl reads them: the ticket header */
		"{\"body\": \"e30=\", " JSON_CT ", \"headers\": {\"ticket\": "
		    "\"t-1\", \"clock\": 3}, " PROPS(", \"body_encoding\": "
		    "\"base64\"") "}",
		"{\"body\": \"e30=\", " JSON_CT ", \"headers\": {\"ticket\": "
		    "null}, " PROPS(", \"body_encoding\": \"base64\"") "}",
		"{\"body\": \"e30=\", " JSON_CT ", \"headers\": {\"ticket\": "
		    "5}, " PROPS(", \"body_encoding\": \"base64\"") "}",
		/* refused by the flat path's own checks, as by the full one */
		"{\"body\": \"{}\", \"content-type\": \"application/x-yaml\", "
		    PROPS("") "}",
		"{\"body\": \"{}\", \"content-type\": \"text/plain\", "
		    PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT "}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": {}}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
		    "{\"delivery_tag\": null}}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
		    "{\"delivery_tag\": 5}}",
		"{\"body\": \"{}\", " JSON_CT ", "
		    PROPS(", \"body_encoding\": 5") "}",
		"{\"body\": \"{}\", " JSON_CT ", "
		    PROPS(", \"body_encoding\": \"rot13\"") "}",
		"{\"body\": \"!!\", " JSON_CT ", "
		    PROPS(", \"body_encoding\": \"base64\"") "}",
		"{\"body\": \"{}\"}",
		/* the full path's: other shapes */
		"{\"body\": \"{}\", \"content-type\": null, " PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": [1]}, "
		    PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": {}}, "
		    PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": 5, " PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"clock\": "
		    "1e999}, " PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"t\": "
		    "\"\\u0041\"}, " PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
		    "{\"delivery_tag\": \"t\", \"delivery_tag\": 5}}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
		    "{\"delivery_tag\": \"t\", \"delivery_info\": {\"a\": "
		    "{\"b\": 1}}}}",
		"{\"body\": \"{}\", " JSON_CT ", \"properties\": "
		    "{\"delivery_tag\": \"t\", \"delivery_info\": {}, "
		    "\"delivery_info\": {}}}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": 1, "
		    "\"b\": 2, \"c\": 3, \"d\": 4, \"e\": 5, \"f\": 6, \"g\": 7, "
		    "\"h\": 8, \"i\": 9, \"j\": 10, \"k\": 11, \"l\": 12, "
		    "\"m\": 13, \"n\": 14, \"o\": 15, \"p\": 16, \"q\": 17}, "
		    PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": 1}, "
		    PROPS("") "} x",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": 1.}, "
		    PROPS("") "}",
		"{\"body\": \"{}\", " JSON_CT ", \"headers\": {\"a\": nul}, "
		    PROPS("") "}",
		"[1]", "", "{", "null",
	};
	size_t	 i, nflat = 0;
	int	 flat;

	(void)state;
	for (i = 0; i < nitems(shape_cases); i++) {
		flat_vs_full(shape_cases[i], strlen(shape_cases[i]), i, &flat);
		nflat += flat;
	}
	for (i = 0; i < nitems(more); i++) {
		flat_vs_full(more[i], strlen(more[i]), 100 + i, &flat);
		/* the first eleven are kombu's shapes: flat, or no gain */
		if (i < 11 && !flat)
			fail_msg("case %zu not decoded flat", 100 + i);
		nflat += flat;
	}
	assert_true(nflat >= 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_decode_table),
		cmocka_unit_test(t_flat_equals_full),
		cmocka_unit_test(t_decode_binary),
		cmocka_unit_test(t_headers_table),
		cmocka_unit_test(t_encode_spec),
		cmocka_unit_test(t_encode_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
