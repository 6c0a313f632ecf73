/* Unit tests for common/request.c: request bodies, addressing, encoding. */
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

#define RT	"\"reply_to\": {\"exchange\": \"reply.x.pidbox\", " \
		"\"routing_key\": \"RK\"}"

struct decode_case {
	const char	*body;
	int		 rc;
	const char	*err;		/* word of the error (rc -1) */
	int		 addressed;	/* hostA addressed (rc 0) */
	int		 reply;		/* reply_to usable (rc 0) */
};

static const struct decode_case decode_cases[] = {
	/* valid: kombu's own requests and their addressing (spec 3.2) */
	{ "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	    "\"pattern\": null, \"matcher\": null, \"ticket\": \"T1\", " RT "}",
	    0, NULL, 1, 1 },
	{ "{\"method\": \"ping\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostA\"]}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostB\", \"hostA\"]}",
	    0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostB\"]}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hosta\"]}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"host\"]}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostAx\"]}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostA\\u0000\"]}",
	    0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"\"]}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": []}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostA\"], "
	    "\"pattern\": \"nomatch\", \"matcher\": \"glob\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostB\"], "
	    "\"pattern\": \"host*\", \"matcher\": \"glob\"}", 0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"host[AB]\", "
	    "\"matcher\": \"glob\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"w*\", \"matcher\": \"glob\"}",
	    0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"HOSTA\", \"matcher\": \"glob\"}",
	    0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"host\", \"matcher\": \"pcre\"}",
	    0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"stA\", \"matcher\": \"pcre\"}",
	    0, NULL, 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"nomatch*\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"matcher\": \"glob\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"matcher\": \"regex\"}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"\", \"matcher\": \"pcre\"}",
	    0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"(\", \"matcher\": \"\"}",
	    0, NULL, 1, 0 },
	{ "{\"method\": null}", 0, NULL, 1, 0 },
	{ "{\"method\": [1], \"arguments\": null}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {}}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": null, \"ticket\": null}",
	    0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": null, "
	    "\"routing_key\": null}}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"x\": 1}}", 0, NULL, 1, 0 },
	{ "{\"method\": \"ping\", " RT "}", 0, NULL, 1, 1 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"\", "
	    "\"routing_key\": \"\"}}", 0, NULL, 1, 1 },
	{ "{\"method\": \"ping\", \"extra\": [1, 2]}", 0, NULL, 1, 0 },
	/* refused: what crashes kombu (spec 3.9) or misleads it */
	{ "[1, 2]", -1, "object", 0, 0 },
	{ "null", -1, "object", 0, 0 },
	{ "\"ping\"", -1, "object", 0, 0 },
	{ "{\"method\": \"ping\"", -1, "", 0, 0 },
	{ "{\"arguments\": {}, \"ticket\": \"T1\", " RT "}", -1, "method", 0, 0 },
	{ "{\"method\": \"echo\", \"arguments\": [1]}", -1, "arguments", 0, 0 },
	{ "{\"method\": \"echo\", \"arguments\": []}", -1, "arguments", 0, 0 },
	{ "{\"method\": \"echo\", \"arguments\": \"x\"}", -1, "arguments", 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": \"xhostAx\"}", -1,
	    "destination", 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": {\"hostA\": 1}}", -1,
	    "destination", 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [\"hostA\", 5]}", -1,
	    "destination", 0, 0 },
	{ "{\"method\": \"ping\", \"destination\": [null]}", -1,
	    "destination", 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": 5, \"matcher\": \"glob\"}", -1,
	    "pattern", 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"x\", \"matcher\": true}", -1,
	    "matcher", 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"hostA\", "
	    "\"matcher\": \"regex\"}", -1, "regex", 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"(\", \"matcher\": \"pcre\"}",
	    -1, "", 0, 0 },
	{ "{\"method\": \"ping\", \"pattern\": \"a\\u0000\", "
	    "\"matcher\": \"glob\"}", -1, "pattern", 0, 0 },
	{ "{\"method\": \"ping\", \"ticket\": 5}", -1, "ticket", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": \"RK\"}", -1, "reply_to", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": []}", -1, "reply_to", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"routing_key\": \"RK\"}}", -1,
	    "reply_to", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"x\"}}", -1,
	    "reply_to", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": 1, "
	    "\"routing_key\": \"RK\"}}", -1, "exchange", 0, 0 },
	{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"x\", "
	    "\"routing_key\": \"R\\u0000K\"}}", -1, "routing_key", 0, 0 },
};

static void
t_decode_table(void **state)
{
	struct request	 req;
	const char	*errstr;
	size_t		 i;
	int		 rc, reply;

	(void)state;
	for (i = 0; i < nitems(decode_cases); i++) {
		errstr = NULL;
		rc = request_decode(decode_cases[i].body,
		    strlen(decode_cases[i].body), &req, &errstr);
		if (rc != decode_cases[i].rc)
			fail_msg("case %zu (%s): rc %d: %s", i,
			    decode_cases[i].body, rc, errstr ? errstr : "");
		if (rc == -1) {
			if (errstr == NULL ||
			    strstr(errstr, decode_cases[i].err) == NULL ||
			    req.body != NULL)
				fail_msg("case %zu: errstr %s want %s", i,
				    errstr ? errstr : "NULL",
				    decode_cases[i].err);
			continue;
		}
		if (request_addressed(&req, "hostA") !=
		    decode_cases[i].addressed)
			fail_msg("case %zu (%s): addressed %d", i,
			    decode_cases[i].body, !decode_cases[i].addressed);
		reply = req.reply_exchange != NULL &&
		    req.reply_routing_key != NULL;
		if (reply != decode_cases[i].reply)
			fail_msg("case %zu: reply %d", i, reply);
		if (!json_object_is_type(req.arguments, json_type_object))
			fail_msg("case %zu: arguments not an object", i);
		request_free(&req);
	}
	request_free(NULL);
}

/* The fields of a full request, borrowed from the body. */
static void
t_decode_fields(void **state)
{
	static const char body[] = "{\"method\": \"rate_limit\", "
	    "\"arguments\": {\"task_name\": \"add\", \"rate_limit\": \"1/s\"}, "
	    "\"destination\": [\"w1@vm\"], \"pattern\": \"w*\", "
	    "\"matcher\": \"glob\", \"ticket\": \"T1\", " RT "}";
	struct request	 req;
	const char	*errstr;

	(void)state;
	assert_int_equal(request_decode(body, strlen(body), &req, &errstr), 0);
	assert_string_equal(req.method, "rate_limit");
	assert_true(json_object_is_type(req.method_obj, json_type_string));
	assert_int_equal(json_object_object_length(req.arguments), 2);
	assert_int_equal(json_object_array_length(req.destination), 1);
	assert_string_equal(req.pattern, "w*");
	assert_string_equal(req.matcher, "glob");
	assert_string_equal(req.ticket, "T1");
	assert_string_equal(req.reply_exchange, "reply.x.pidbox");
	assert_string_equal(req.reply_routing_key, "RK");
	assert_int_equal(request_addressed(&req, "w1@vm"), 1);
	assert_int_equal(request_addressed(&req, "w2@vm"), 0);
	assert_int_equal(request_addressed(&req, NULL), 0);
	assert_int_equal(request_addressed(NULL, "w1@vm"), 0);
	request_free(&req);
	assert_null(req.body);

	/* Non-string, NUL-holding or over-long methods: method_obj only. */
	assert_int_equal(request_decode("{\"method\": 5}", 13, &req,
	    &errstr), 0);
	assert_null(req.method);
	assert_non_null(req.method_obj);
	assert_null(req.destination);
	assert_null(req.pattern);
	assert_null(req.ticket);
	assert_null(req.reply_exchange);
	request_free(&req);
	assert_int_equal(request_decode("{\"method\": \"pi\\u0000ng\"}", 24,
	    &req, &errstr), 0);
	assert_null(req.method);
	request_free(&req);
	assert_int_equal(request_decode("{\"method\": null, "
	    "\"arguments\": null}", 35, &req, &errstr), 0);
	assert_null(req.method);
	assert_true(json_object_is_type(req.method_obj, json_type_null));
	assert_int_equal(json_object_object_length(req.arguments), 0);
	request_free(&req);
}

/* Limits: MAX_NAME, MAX_DESTINATIONS, arguments count, MAX_PATTERN. */
static void
t_decode_bounds(void **state)
{
	struct request	 req;
	const char	*errstr;
	char		*b;
	size_t		 n, i, size;
	int		 rc;

	(void)state;
	size = 64 + (MAX_DESTINATIONS + 1) * 8 + MAX_PATTERN * 2;
	b = malloc(size);
	assert_non_null(b);

	/* method of MAX_NAME bytes is a name, one more is not */
	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(b, size, "{\"method\": \"%*s\"}",
		    (int)(MAX_NAME + i), "m");
		assert_int_equal(request_decode(b, n, &req, &errstr), 0);
		if (i == 0)
			assert_non_null(req.method);
		else
			assert_null(req.method);
		request_free(&req);
	}
	/* destination name lengths */
	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(b, size,
		    "{\"method\": \"m\", \"destination\": [\"%*s\"]}",
		    (int)(MAX_NAME + i), "h");
		rc = request_decode(b, n, &req, &errstr);
		assert_int_equal(rc, i == 0 ? 0 : -1);
		request_free(&req);
	}
	/* destination count */
	for (i = 0; i < 2; i++) {
		size_t	k, cnt = MAX_DESTINATIONS + i;

		n = (size_t)snprintf(b, size,
		    "{\"method\": \"m\", \"destination\": [");
		for (k = 0; k < cnt; k++)
			n += (size_t)snprintf(b + n, size - n, "%s\"h\"",
			    k ? "," : "");
		n += (size_t)snprintf(b + n, size - n, "]}");
		rc = request_decode(b, n, &req, &errstr);
		assert_int_equal(rc, i == 0 ? 0 : -1);
		request_free(&req);
	}
	/* arguments count: 1024 fine, 1025 refused */
	for (i = 0; i < 2; i++) {
		size_t	k, cnt = 1024 + i;

		free(b);
		size = 64 + cnt * 16;
		b = malloc(size);
		assert_non_null(b);
		n = (size_t)snprintf(b, size,
		    "{\"method\": \"m\", \"arguments\": {");
		for (k = 0; k < cnt; k++)
			n += (size_t)snprintf(b + n, size - n, "%s\"k%zu\":1",
			    k ? "," : "", k);
		n += (size_t)snprintf(b + n, size - n, "}}");
		rc = request_decode(b, n, &req, &errstr);
		assert_int_equal(rc, i == 0 ? 0 : -1);
		request_free(&req);
	}
	/* pattern length */
	free(b);
	size = MAX_PATTERN + 128;
	b = malloc(size);
	assert_non_null(b);
	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(b, size, "{\"method\": \"m\", "
		    "\"pattern\": \"%*s\", \"matcher\": \"glob\"}",
		    (int)(MAX_PATTERN + i), "*");
		rc = request_decode(b, n, &req, &errstr);
		assert_int_equal(rc, i == 0 ? 0 : -1);
		request_free(&req);
	}
	free(b);
}

struct encode_case {
	struct request_out	 out;
	const char		*want;	/* body, or a word of the error */
};

static const char *const dest_ab[] = { "w1@vm", "w2@vm" };
static const char *const dest_empty[] = { "" };
static const char *const dest_comma[] = { "w1@vm,w2@vm" };
static const char *const dest_null[] = { NULL };

static const struct encode_case encode_cases[] = {
	{ { .method = "ping", .ticket = "35fabee5-d759-49fa-b4d5-e073e80e14d1",
	    .reply_exchange = "reply.celery.pidbox",
	    .reply_routing_key = "67cdf09e-4f75-30bb-8e78-64df1a5b8bea" },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": null, \"matcher\": null, \"ticket\": "
	  "\"35fabee5-d759-49fa-b4d5-e073e80e14d1\", \"reply_to\": "
	  "{\"exchange\": \"reply.celery.pidbox\", \"routing_key\": "
	  "\"67cdf09e-4f75-30bb-8e78-64df1a5b8bea\"}}" },
	/* a cast with an id: the ticket, no reply_to */
	{ { .method = "m", .ticket = "T" },
	  "{\"method\": \"m\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": null, \"matcher\": null, \"ticket\": \"T\"}" },
	{ { .method = "ping", .destination = dest_ab, .ndestination = 2 },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": "
	  "[\"w1@vm\", \"w2@vm\"], \"pattern\": null, \"matcher\": null}" },
	{ { .method = "ping", .pattern = "w*" },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": \"w*\", \"matcher\": \"glob\"}" },
	{ { .method = "ping", .pattern = "w1", .matcher = "pcre" },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": \"w1\", \"matcher\": \"pcre\"}" },
	{ { .method = "ping", .pattern = "" },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": null, \"matcher\": null}" },
	{ { .method = "ping", .destination = dest_ab, .ndestination = 0 },
	  "{\"method\": \"ping\", \"arguments\": {}, \"destination\": null, "
	  "\"pattern\": null, \"matcher\": null}" },
	{ { .method = "\xc3\xa9\"" },
	  "{\"method\": \"\\u00e9\\\"\", \"arguments\": {}, \"destination\": "
	  "null, \"pattern\": null, \"matcher\": null}" },
	/* refused */
	{ { .method = NULL }, "method" },
	{ { .method = "" }, "method" },
	{ { .method = "m", .destination = dest_empty, .ndestination = 1 },
	  "destination" },
	{ { .method = "m", .destination = dest_null, .ndestination = 1 },
	  "destination" },
	{ { .method = "m", .destination = dest_comma, .ndestination = 1 },
	  "comma" },
	{ { .method = "m", .destination = NULL, .ndestination = 1 },
	  "destination" },
	{ { .method = "m", .destination = dest_ab,
	    .ndestination = MAX_DESTINATIONS + 1 }, "destinations" },
	{ { .method = "m", .pattern = "x", .matcher = "regex" }, "regex" },
	{ { .method = "m", .matcher = "regex" }, "regex" },
	{ { .method = "m", .matcher = "" }, "matcher" },
	{ { .method = "m", .pattern = "(", .matcher = "pcre" }, "" },
	{ { .method = "m", .reply_exchange = "x", .reply_routing_key = "r" },
	  "reply_to" },
	{ { .method = "m", .ticket = "T", .reply_exchange = "x" },
	  "reply_to" },
	{ { .method = "m", .ticket = "T", .reply_exchange = "",
	    .reply_routing_key = "r" }, "reply_to" },
	{ { .method = "m", .ticket = "", .reply_exchange = "x",
	    .reply_routing_key = "r" }, "ticket" },
};

static void
t_encode_table(void **state)
{
	const char	*errstr;
	char		*s;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < nitems(encode_cases); i++) {
		errstr = NULL;
		s = request_encode(&encode_cases[i].out, &len, &errstr);
		if (strchr(encode_cases[i].want, '{') != NULL) {
			if (s == NULL || strcmp(s, encode_cases[i].want) != 0 ||
			    len != strlen(s))
				fail_msg("case %zu: got %s (%s)", i,
				    s ? s : "NULL", errstr ? errstr : "");
		} else if (s != NULL || errstr == NULL ||
		    strstr(errstr, encode_cases[i].want) == NULL)
			fail_msg("case %zu: got %s, errstr %s want %s", i,
			    s ? s : "NULL", errstr ? errstr : "NULL",
			    encode_cases[i].want);
		free(s);
	}
	assert_null(request_encode(NULL, &len, &errstr));
	assert_non_null(errstr);
}

/* Arguments are kept (insertion order), validated and round-trip. */
static void
t_encode_arguments(void **state)
{
	struct request_out	 out = { .method = "echo" };
	struct request		 req;
	const char		*errstr;
	char			*s;
	size_t			 len;

	(void)state;
	out.arguments = json_object_new_object();
	json_object_object_add(out.arguments, "x", json_object_new_int(1));
	json_object_object_add(out.arguments, "s",
	    json_object_new_string("\xc3\xa9"));
	json_object_object_add(out.arguments, "f",
	    json_object_new_double(2.5));
	s = request_encode(&out, &len, &errstr);
	assert_non_null(s);
	assert_string_equal(s, "{\"method\": \"echo\", \"arguments\": "
	    "{\"x\": 1, \"s\": \"\\u00e9\", \"f\": 2.5}, \"destination\": "
	    "null, \"pattern\": null, \"matcher\": null}");
	assert_int_equal(request_decode(s, len, &req, &errstr), 0);
	assert_string_equal(req.method, "echo");
	assert_int_equal(json_object_object_length(req.arguments), 3);
	request_free(&req);
	free(s);

	/* NaN cannot be sent */
	json_object_object_add(out.arguments, "f",
	    json_object_new_double(0.0 / 0.0));
	assert_null(request_encode(&out, &len, &errstr));
	assert_non_null(errstr);
	json_object_put(out.arguments);

	/* not an object */
	out.arguments = json_object_new_array();
	assert_null(request_encode(&out, &len, &errstr));
	assert_non_null(strstr(errstr, "arguments"));
	json_object_put(out.arguments);
}

/* uuid4(): 8-4-4-4-12 lower-case hex, version 4, RFC 4122 variant. */
static void
t_uuid4_format(void **state)
{
	char	u[UUID_STRLEN + 1], prev[UUID_STRLEN + 1] = "";
	size_t	i;
	int	n;

	(void)state;
	for (n = 0; n < 100; n++) {
		memset(u, 'X', sizeof(u));
		uuid4(u);
		assert_int_equal(strlen(u), UUID_STRLEN);
		for (i = 0; i < UUID_STRLEN; i++)
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(u[i], '-');
			else
				assert_non_null(strchr("0123456789abcdef",
				    u[i]));
		assert_int_equal(u[14], '4');
		assert_non_null(strchr("89ab", u[19]));
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof(prev));
	}
}

/* hex_put() (uuid4's, the signatures' and nonces'): no NUL written. */
static void
t_hex_put(void **state)
{
	static const unsigned char b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab,
	    0xff };
	char	out[2 * sizeof(b) + 1];

	(void)state;
	memset(out, 'X', sizeof(out));
	hex_put(out, b, sizeof(b));
	assert_int_equal(out[sizeof(out) - 1], 'X');
	out[sizeof(out) - 1] = '\0';
	assert_string_equal(out, "00017f80abff");
}

/* NULL-safe string equality for the comparison below. */
static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* JSON text of o, "-" for NULL, into buf. */
static const char *
text_of(json_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s", o == NULL ? "-" :
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return buf;
}

/*
 * The flat decoding of request_decode (issue 17) decides nothing the full
 * one would decide otherwise: each body is decoded as it is and with a
 * member kombu never writes added, which always takes the full path;
 * result, error, every field and the addressing must be the same. The
 * shapes kombu and pidboxctl write must be decoded flat (body NULL).
 */
static void
t_flat_equals_full(void **state)
{
	static const struct {
		const char	*doc;
		int		 flat;	/* must be decoded flat */
	} c[] = {
		{ "{\"method\": \"ping\", \"arguments\": {}, \"destination\": "
		    "null, \"pattern\": null, \"matcher\": null, \"ticket\": "
		    "\"3f1c\", \"reply_to\": {\"exchange\": \"reply.celery."
		    "pidbox\", \"routing_key\": \"a-b\"}}", 1 },
		{ "{\"method\": \"stats\", \"arguments\": {\"a\": 1, \"b\": "
		    "{\"c\": 2.5, \"d\": true}}, \"destination\": null, "
		    "\"pattern\": \"web-*\", \"matcher\": \"glob\", \"ticket\": "
		    "\"t\", \"reply_to\": {\"routing_key\": \"r\", \"exchange\": "
		    "\"x\"}}", 1 },
		{ "{\"method\": \"print_msg\", \"arguments\": {\"msg\": \"hi\"}, "
		    "\"destination\": null, \"pattern\": null, \"matcher\": "
		    "null}", 1 },
		{ "{\"method\": \"nosuch\", \"ticket\": \"\", \"reply_to\": {}}",
		    1 },
		{ "{\"method\": \"\", \"arguments\": null}", 1 },
		{ " {\"method\":\"ping\",\"pattern\":\"\",\"matcher\":\"pcre\"}\n",
		    1 },
		{ "{\"method\": \"ping\", \"pattern\": \"a\", \"matcher\": "
		    "\"\"}", 1 },
		/* refused the same way */
		{ "{\"method\": \"ping\", \"pattern\": \"[\", \"matcher\": "
		    "\"pcre\"}", 0 },
		{ "{\"method\": \"ping\", \"pattern\": \"a\", \"matcher\": "
		    "\"regex\"}", 0 },
		{ "{\"arguments\": {}}", 0 },
		{ "{\"method\": \"ping\", \"arguments\": []}", 0 },
		{ "{\"method\": \"ping\", \"arguments\": 5}", 0 },
		{ "{\"method\": \"ping\", \"destination\": \"web1\"}", 0 },
		{ "{\"method\": \"ping\", \"destination\": [5]}", 0 },
		{ "{\"method\": \"ping\", \"pattern\": 5}", 0 },
		{ "{\"method\": \"ping\", \"ticket\": 5}", 0 },
		{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"x\"}}",
		    0 },
		{ "{\"method\": \"ping\", \"reply_to\": \"x\"}", 0 },
		{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": 5, "
		    "\"routing_key\": \"r\"}}", 0 },
		{ "[1]", 0 }, { "null", 0 }, { "{\"method\": \"ping\"", 0 },
		{ "{\"method\": \"ping\"} x", 0 },
		{ "{\"method\": \"ping\", \"method\": \"stats\"}", 0 },
		/* taken by the full path */
		{ "{\"method\": null}", 0 }, { "{\"method\": 5}", 0 },
		{ "{\"method\": [\"a\"]}", 0 },
		{ "{\"method\": \"p\\u0069ng\"}", 0 },
		{ "{\"method\": \"ping\", \"destination\": [\"a\", \"b\"]}", 0 },
		{ "{\"method\": \"ping\", \"destination\": []}", 0 },
		{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"\", "
		    "\"routing_key\": \"r\"}}", 0 },
		{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": \"x\", "
		    "\"routing_key\": \"r\", \"x\": 1}}", 0 },
		{ "{\"method\": \"ping\", \"reply_to\": {\"exchange\": null, "
		    "\"routing_key\": null}}", 0 },
		{ "{\"method\": \"ping\", \"arguments\": {\"a\": [1]}}", 0 },
		{ "{\"method\": \"ping\", \"arguments\": {\"a\": 1e999}}", 0 },
	};
	static const char *const hosts[] = { "web-1", "a", "b", "" };
	struct request	 a, b;
	const char	*ea, *eb;
	char		 buf[4096], ta[1024], tb[1024], *p;
	size_t		 i, k, n;
	int		 ra, rb;

	(void)state;
	for (i = 0; i < nitems(c); i++) {
		n = strlen(c[i].doc);
		p = memrchr(c[i].doc, '}', n);
		if (p != NULL)
			snprintf(buf, sizeof(buf), "%.*s, \"zz-extra\": 0%s",
			    (int)(p - c[i].doc), c[i].doc, p);
		else
			snprintf(buf, sizeof(buf), "%s", c[i].doc);
		rb = request_decode(buf, strlen(buf), &b, &eb);
		ra = request_decode(c[i].doc, n, &a, &ea);
		if (c[i].flat && (ra != 0 || a.body != NULL))
			fail_msg("case %zu: not decoded flat", i);
		if (ra != rb)
			fail_msg("case %zu (%s): %d vs %d (%s / %s)", i,
			    c[i].doc, ra, rb, ea ? ea : "-", eb ? eb : "-");
		if (ra == -1) {
			if (!same(ea, eb))
				fail_msg("case %zu: %s vs %s", i, ea, eb);
			continue;
		}
		assert_null(b.text);	/* the full path's */
		if (!same(a.method, b.method) || !same(a.pattern, b.pattern) ||
		    !same(a.matcher, b.matcher) || !same(a.ticket, b.ticket) ||
		    !same(a.reply_exchange, b.reply_exchange) ||
		    !same(a.reply_routing_key, b.reply_routing_key))
			fail_msg("case %zu (%s): fields differ", i, c[i].doc);
		if (strcmp(text_of(a.method_obj, ta, sizeof(ta)),
		    text_of(b.method_obj, tb, sizeof(tb))) != 0 ||
		    strcmp(text_of(a.arguments, ta, sizeof(ta)),
		    text_of(b.arguments, tb, sizeof(tb))) != 0 ||
		    strcmp(text_of(a.destination, ta, sizeof(ta)),
		    text_of(b.destination, tb, sizeof(tb))) != 0)
			fail_msg("case %zu (%s): objects differ", i, c[i].doc);
		for (k = 0; k < nitems(hosts); k++)
			assert_int_equal(request_addressed(&a, hosts[k]),
			    request_addressed(&b, hosts[k]));
		request_free(&a);
		request_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_decode_table),
		cmocka_unit_test(t_flat_equals_full),
		cmocka_unit_test(t_decode_fields),
		cmocka_unit_test(t_decode_bounds),
		cmocka_unit_test(t_encode_table),
		cmocka_unit_test(t_encode_arguments),
		cmocka_unit_test(t_uuid4_format),
		cmocka_unit_test(t_hex_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
