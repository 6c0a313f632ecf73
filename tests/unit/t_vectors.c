/*
 * Replays the captured vectors (the *.jsonl files of
 * ../shared/spec/vectors, or $PIDBOX_VECTORS) through the codec: every
 * envelope kombu and Celery put on the wire must decode to its body and
 * re-encode byte for byte.
 */
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
#include <json-c/json.h>

#include "pidbox.h"
#include "vectors.h"


static int nfail;

static void fail_rec(json_object *rec, const char *fmt, ...)
    __printflike(2, 3);

/* Report one failing record by name; the test fails at its end. */
static void
fail_rec(json_object *rec, const char *fmt, ...)
{
	json_object	*n;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_get_ex(rec, "name", &n);
	print_error("record %s: %s\n", n != NULL ?
	    json_object_get_string(n) : "?", msg);
	nfail++;
}

/* Every line of a vectors file, parsed; a new array the caller puts. */
static json_object *
load_records(const char *file)
{
	json_object *recs;

	if ((recs = load_jsonl(file)) == NULL)
		fail_msg("%s", vector_error);
	if (json_object_array_length(recs) == 0)
		fail_msg("%s: no records", file);
	return recs;
}

/* Borrowed rec[a][b]...; NULL when any step is missing or null. */
static json_object *
get(json_object *rec, const char *a, const char *b, const char *c)
{
	json_object	*v = rec;

	if (a != NULL && !json_object_object_get_ex(v, a, &v))
		return NULL;
	if (b != NULL && !json_object_object_get_ex(v, b, &v))
		return NULL;
	if (c != NULL && !json_object_object_get_ex(v, c, &v))
		return NULL;
	return v;
}

static const char *
gets(json_object *rec, const char *a, const char *b, const char *c)
{
	json_object	*v;

	if ((v = get(rec, a, b, c)) == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static size_t
getslen(json_object *rec, const char *a)
{
	return (size_t)json_object_get_string_len(get(rec, a, NULL, NULL));
}

/* pyjson_dumps(pyjson_parse(text)) must give text back. */
static int
dumps_roundtrip(const char *text, size_t len)
{
	json_object	*o;
	const char	*errstr;
	char		*s;
	size_t		 slen;
	int		 isnull, ok;

	o = pyjson_parse(text, len, &isnull, &errstr);
	if (o == NULL && !isnull)
		return 0;
	s = pyjson_dumps(o, &slen);
	ok = s != NULL && slen == len && memcmp(s, text, len) == 0;
	free(s);
	json_object_put(o);
	return ok;
}

/*
 * Decode raw; when it decodes and is base64-encoded, re-encode it from the
 * decoded fields and compare byte for byte. Returns decode's rc; *env is
 * left decoded for the caller (free it).
 */
static int
check_envelope(json_object *rec, const char *raw, size_t rawlen,
    struct envelope *env, const char **errstr)
{
	struct envelope_out	 out = { 0 };
	json_object		*props, *enc, *mode;
	char			*s;
	size_t			 len;

	if (envelope_decode(raw, rawlen, env, errstr) == -1)
		return -1;
	props = get(env->root, "properties", NULL, NULL);
	if (!json_object_object_get_ex(props, "body_encoding", &enc) ||
	    strcmp(json_object_get_string(enc), "base64") != 0)
		return 0;	/* a raw body kombu never writes itself */
	mode = get(props, "delivery_mode", NULL, NULL);
	out.body = env->body;
	out.bodylen = env->bodylen;
	out.headers = env->headers;
	out.delivery_mode = json_object_get_int(mode);
	out.exchange = env->exchange;
	out.routing_key = env->routing_key;
	out.delivery_tag = env->delivery_tag;
	if ((s = envelope_encode(&out, &len)) == NULL)
		fail_rec(rec, "envelope_encode: %s", strerror(errno));
	else if (len != rawlen || memcmp(s, raw, len) != 0)
		fail_rec(rec, "re-encoded envelope differs:\n  got  %s\n"
		    "  want %.*s", s, (int)rawlen, raw);
	free(s);
	return 0;
}

/* envelopes.jsonl: decode, body, re-encode, body and envelope dumps. */
static void
t_envelopes(void **state)
{
	struct envelope	 env;
	json_object	*recs, *rec, *hc;
	const char	*raw, *ct, *errstr, *bt;
	size_t		 i, n, rawlen, btlen;
	int		 rc, crc, has_tag, ndecoded = 0;
	int64_t		 clock;

	(void)state;
	nfail = 0;
	recs = load_records("envelopes.jsonl");
	n = json_object_array_length(recs);
	for (i = 0; i < n; i++) {
		rec = json_object_array_get_idx(recs, i);
		raw = gets(rec, "raw", NULL, NULL);
		rawlen = getslen(rec, "raw");
		bt = gets(rec, "body_text", NULL, NULL);
		btlen = getslen(rec, "body_text");
		ct = gets(rec, "envelope", "content-type", NULL);
		has_tag = get(rec, "envelope", "properties",
		    "delivery_tag") != NULL;
		if (raw == NULL || bt == NULL) {
			fail_rec(rec, "no raw/body_text");
			continue;
		}
		if (!dumps_roundtrip(raw, rawlen))
			fail_rec(rec, "pyjson round trip of raw differs");

		rc = check_envelope(rec, raw, rawlen, &env, &errstr);
		if (ct == NULL || strcmp(ct, "application/json") != 0) {
			/* pickle: refused by name, like kombu's accept list */
			if (rc != -1 || strstr(errstr, "pickle") == NULL)
				fail_rec(rec, "content type %s not refused",
				    ct ? ct : "(none)");
		} else if (!has_tag) {
			if (rc != -1 || strcmp(errstr, "no delivery_tag") != 0)
				fail_rec(rec, "no delivery_tag not refused");
		} else if (rc == -1)
			fail_rec(rec, "envelope_decode: %s", errstr);
		else {
			ndecoded++;
			if (env.bodylen != btlen ||
			    memcmp(env.body, bt, btlen) != 0)
				fail_rec(rec, "body differs: %s", env.body);
			if (!dumps_roundtrip(bt, btlen))
				fail_rec(rec, "pyjson round trip of body "
				    "differs");
			/* An integer clock is taken, anything else not. */
			hc = get(rec, "envelope", "headers", "clock");
			crc = envelope_clock(&env, &clock);
			if (hc == NULL || json_object_is_type(hc,
			    json_type_int)) {
				if (crc != 0 ||
				    clock != json_object_get_int64(hc))
					fail_rec(rec, "clock %lld",
					    (long long)clock);
			} else if (crc != -1)
				fail_rec(rec, "non-integer clock taken");
		}
		envelope_free(&env);
	}
	json_object_put(recs);
	assert_int_equal(nfail, 0);
	assert_true(ndecoded > 200);
}

/*
 * request_reply.jsonl: both envelopes round-trip, the request validates
 * and addresses the node that answered, the reply names that node and
 * carries the request's ticket.
 */
static void
t_request_reply(void **state)
{
	struct envelope	 qenv, renv;
	struct request	 req;
	json_object	*recs, *rec, *root, *value;
	const char	*qraw, *rraw, *host, *dest, *node, *errstr, *t;
	size_t		 i, n;

	(void)state;
	nfail = 0;
	recs = load_records("request_reply.jsonl");
	n = json_object_array_length(recs);
	for (i = 0; i < n; i++) {
		rec = json_object_array_get_idx(recs, i);
		qraw = gets(rec, "request_raw", NULL, NULL);
		rraw = gets(rec, "reply_raw", NULL, NULL);
		host = gets(rec, "node_hostname", NULL, NULL);
		if (qraw == NULL || rraw == NULL || host == NULL) {
			fail_rec(rec, "incomplete record");
			continue;
		}
		if (check_envelope(rec, qraw, getslen(rec, "request_raw"),
		    &qenv, &errstr) == -1) {
			fail_rec(rec, "request envelope: %s", errstr);
			continue;
		}
		if (check_envelope(rec, rraw, getslen(rec, "reply_raw"),
		    &renv, &errstr) == -1) {
			fail_rec(rec, "reply envelope: %s", errstr);
			envelope_free(&qenv);
			continue;
		}
		if (!dumps_roundtrip(qenv.body, qenv.bodylen) ||
		    !dumps_roundtrip(renv.body, renv.bodylen))
			fail_rec(rec, "pyjson round trip of a body differs");

		/* A string destination: refused on purpose (spec 3.2). */
		dest = gets(rec, "request_body", "destination", NULL);
		if (request_decode(qenv.body, qenv.bodylen, &req,
		    &errstr) == -1) {
			if (dest == NULL)
				fail_rec(rec, "request_decode: %s", errstr);
		} else {
			if (dest != NULL)
				fail_rec(rec, "string destination accepted");
			if (!request_addressed(&req, host))
				fail_rec(rec, "%s not addressed", host);
			t = envelope_ticket(&renv);
			if (req.ticket == NULL || t == NULL ||
			    strcmp(req.ticket, t) != 0)
				fail_rec(rec, "ticket mismatch");
			if (req.reply_routing_key == NULL ||
			    renv.routing_key == NULL ||
			    strcmp(req.reply_routing_key,
			    renv.routing_key) != 0)
				fail_rec(rec, "reply routing key mismatch");
			request_free(&req);
		}
		if (reply_decode(renv.body, renv.bodylen, &root, &node,
		    &value, &errstr) == -1)
			fail_rec(rec, "reply_decode: %s", errstr);
		else {
			if (strcmp(node, host) != 0)
				fail_rec(rec, "reply from %s", node);
			json_object_put(root);
		}
		envelope_free(&qenv);
		envelope_free(&renv);
	}
	json_object_put(recs);
	assert_int_equal(nfail, 0);
}

/* Compare a reply value we built with the one kombu sent. */
static void
check_unknown(json_object *rec, json_object *method_obj)
{
	json_object	*e, *want;
	char		*got, *exp;

	want = get(rec, "handler_return", NULL, NULL);
	e = reply_unknown_method(method_obj);
	got = pyjson_dumps(e, NULL);
	exp = pyjson_dumps(want, NULL);
	if (got == NULL || exp == NULL || strcmp(got, exp) != 0)
		fail_rec(rec, "unknown method: got %s want %s",
		    got ? got : "NULL", exp ? exp : "NULL");
	free(got);
	free(exp);
	json_object_put(e);
}

/*
 * node_dispatch.jsonl: what a real kombu Node did with each request body.
 * Addressed/not addressed must agree; everything that crashed kombu must be
 * refused by request_decode() or envelope_clock(); unknown methods must get
 * kombu's exact error text; reply bodies and clocks must match.
 */
static void
t_node_dispatch(void **state)
{
	struct envelope_out	 out = { 0 };
	struct envelope		 env;
	struct request		 req;
	struct lamport		 lc;
	json_object		*recs, *rec, *reply, *want;
	const char		*name, *outcome, *errstr;
	char			*body, *raw, *s, *exp;
	size_t			 i, n, len, rawlen;
	int64_t			 clock;
	int			 rc, crc, nunknown = 0;

	(void)state;
	nfail = 0;
	recs = load_records("node_dispatch.jsonl");
	n = json_object_array_length(recs);
	for (i = 0; i < n; i++) {
		rec = json_object_array_get_idx(recs, i);
		name = gets(rec, "name", NULL, NULL);
		outcome = gets(rec, "outcome", NULL, NULL);
		if (name == NULL || outcome == NULL) {
			fail_rec(rec, "incomplete record");
			continue;
		}
		/* Wrap body and headers as kombu would and decode both. */
		body = pyjson_dumps(get(rec, "request_body", NULL, NULL),
		    &len);
		out.body = body;
		out.bodylen = len;
		out.headers = get(rec, "request_headers", NULL, NULL);
		out.delivery_mode = 2;
		out.exchange = "testbox.pidbox";
		out.routing_key = "";
		raw = envelope_encode(&out, &rawlen);
		free(body);
		if (raw == NULL ||
		    envelope_decode(raw, rawlen, &env, &errstr) == -1) {
			fail_rec(rec, "envelope");
			free(raw);
			continue;
		}
		free(raw);
		crc = envelope_clock(&env, &clock);
		rc = request_decode(env.body, env.bodylen, &req, &errstr);

		if (strncmp(outcome, "exception", 9) == 0) {
			if (rc == 0 && crc == 0)
				fail_rec(rec, "accepted what crashes kombu "
				    "(%s)", outcome);
		} else if (strcmp(name, "dest_string_substring_quirk") == 0) {
			if (rc != -1)
				fail_rec(rec, "string destination accepted");
		} else if (rc == -1 || crc == -1)
			fail_rec(rec, "refused: %s", rc == -1 ? errstr :
			    "clock");
		else {
			if (request_addressed(&req, "hostA") !=
			    (strcmp(outcome, "dispatched") == 0))
				fail_rec(rec, "addressing differs");
			lc.value = json_object_get_int64(get(rec,
			    "node_clock_before", NULL, NULL));
			clock_adjust(&lc, clock);
			reply = json_object_array_get_idx(get(rec, "replies",
			    NULL, NULL), 0);
			if (reply != NULL) {
				clock_forward(&lc);
				if (lc.value != json_object_get_int64(get(reply,
				    "headers", "clock", NULL)))
					fail_rec(rec, "reply clock");
			}
			if (lc.value != json_object_get_int64(get(rec,
			    "node_clock_after", NULL, NULL)))
				fail_rec(rec, "node clock %lld",
				    (long long)lc.value);
			/* Handlers: ping echo none boom needs_x; rest: none */
			if (strcmp(outcome, "dispatched") == 0 &&
			    !json_object_get_boolean(get(rec, "handler_ran",
			    NULL, NULL))) {
				nunknown++;
				check_unknown(rec, req.method_obj);
			}
			/* The reply body, byte for byte. */
			if (reply != NULL) {
				want = get(reply, "body", NULL, NULL);
				s = reply_encode("hostA", get(rec,
				    "handler_return", NULL, NULL), NULL);
				exp = pyjson_dumps(want, NULL);
				if (s == NULL || exp == NULL ||
				    strcmp(s, exp) != 0)
					fail_rec(rec, "reply body %s", s);
				free(s);
				free(exp);
			}
		}
		if (rc == 0)
			request_free(&req);
		envelope_free(&env);
	}
	json_object_put(recs);
	assert_int_equal(nfail, 0);
	assert_true(nunknown >= 14);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_envelopes),
		cmocka_unit_test(t_request_reply),
		cmocka_unit_test(t_node_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
