/*
 * node.c against kombu's own Node: every record of node_dispatch.jsonl
 * (a real kombu.pidbox.Node("hostA") fed these requests) is replayed
 * through node_handle() with the same test handlers. Where pidboxd is
 * deliberately stricter than kombu, the record is listed in `stricter`
 * with the reason, and the test asserts our behaviour instead.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pidboxd.h"
#include "vectors.h"

static int handler_ran;

static int
t_ping(const struct call *c, json_object **res)
{
	(void)c;
	handler_ran = 1;
	*res = json_object_new_object();
	json_object_object_add(*res, "ok", json_object_new_string("pong"));
	return 0;
}

static int
t_echo(const struct call *c, json_object **res)
{
	json_object *copy = NULL;

	handler_ran = 1;
	json_object_deep_copy(c->args, &copy, NULL);
	*res = json_object_new_object();
	json_object_object_add(*res, "ok", copy);
	return 0;
}

static int
t_none(const struct call *c, json_object **res)
{
	(void)c;
	handler_ran = 1;
	*res = NULL;
	return 0;
}

static int
t_boom(const struct call *c, json_object **res)
{
	(void)c;
	handler_ran = 1;
	*res = reply_error("ValueError(\"boom 'quoted'\")");
	return -1;
}

/* kombu's lab handler is `lambda state, x: {"ok": x}` */
static int
t_needs_x(const struct call *c, json_object **res)
{
	struct json_object_iterator it, end;
	json_object *x;

	handler_ran = 1;
	it = json_object_iter_begin(c->args);
	end = json_object_iter_end(c->args);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (strcmp(json_object_iter_peek_name(&it), "x") != 0) {
			*res = reply_error("TypeError(\"<lambda>() got an "
			    "unexpected keyword argument '%s'\")",
			    json_object_iter_peek_name(&it));
			return -1;
		}
	if (!json_object_object_get_ex(c->args, "x", &x)) {
		*res = reply_error("TypeError(\"<lambda>() missing 1 required "
		    "positional argument: 'x'\")");
		return -1;
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "ok", json_object_get(x));
	return 0;
}

/* Open schemas: the handlers see the arguments exactly as sent. */
static const struct method test_methods[] = {
	{ "boom", t_boom, "", M_OPEN_ARGS, NULL, 0, NULL },
	{ "echo", t_echo, "", M_OPEN_ARGS, NULL, 0, NULL },
	{ "needs_x", t_needs_x, "", M_OPEN_ARGS, NULL, 0, NULL },
	{ "none", t_none, "", M_OPEN_ARGS, NULL, 0, NULL },
	{ "ping", t_ping, "", M_OPEN_ARGS, NULL, 0, NULL },
};

/* Records where pidboxd differs from kombu on purpose. */
static const struct {
	const char *name;
	const char *why;
} stricter[] = {
	{ "dest_string_substring_quirk",
	    "a string destination is refused, not substring-matched" },
	{ "expired_is_still_executed",
	    "requests past expires + skew allowance are dropped" },
};


static const char *
stricter_reason(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(stricter); i++)
		if (strcmp(stricter[i].name, name) == 0)
			return stricter[i].why;
	return NULL;
}

/* A node for c answering methods[0..nmethods). */
static void
init_node_with(struct node *n, const struct pidboxd_conf *c,
    const struct method *methods, size_t nmethods)
{
	struct redis_url	 url;
	struct registry		*reg;
	const char		*errstr = NULL;

	if (conf_broker_url(c, &url, &errstr) == -1 ||
	    (reg = registry_new(methods, nmethods, c, &errstr)) == NULL ||
	    node_init(n, c, &url, reg, &errstr) == -1)
		fail_msg("node_init: %s", errstr);
}

static void
init_node(struct node *n, struct pidboxd_conf *c, const char *host)
{
	char err[256];

	conf_defaults(c);
	strlcpy(c->hostname, host, sizeof(c->hostname));
	strlcpy(c->ns, "testbox", sizeof(c->ns));
	if (conf_set_broker(c, "redis://localhost:6379/0", err,
	    sizeof(err)) == -1)
		fail_msg("conf_set_broker: %s", err);
	init_node_with(n, c, test_methods, nitems(test_methods));
}

/* Serialize a request as a kombu Mailbox would put it on the wire. */
static char *
wire(json_object *headers, json_object *body, size_t *len)
{
	struct envelope_out	 out;
	char			*b, *env;
	size_t			 blen;

	b = pyjson_dumps(body, &blen);
	assert_non_null(b);
	memset(&out, 0, sizeof(out));
	out.body = b;
	out.bodylen = blen;
	out.headers = headers;
	out.delivery_mode = 2;
	out.exchange = "testbox.pidbox";
	out.routing_key = "";
	env = envelope_encode(&out, len);
	free(b);
	assert_non_null(env);
	return env;
}

/* The value node's reply carries (new reference). */
static json_object *
reply_value(struct node_action *act, const char *node)
{
	struct envelope	 env;
	const char	*errstr;
	json_object	*body, *v = NULL;
	int		 isnull;

	assert_int_equal(envelope_decode(act->payload, act->payloadlen, &env,
	    &errstr), 0);
	body = pyjson_parse(env.body, env.bodylen, &isnull, &errstr);
	assert_non_null(body);
	assert_true(json_object_object_get_ex(body, node, &v));
	json_object_get(v);
	json_object_put(body);
	envelope_free(&env);
	return v;
}

static void
check_reply(const char *name, struct node_action *act, json_object *want)
{
	struct envelope	 env;
	const char	*errstr;
	json_object	*body, *wbody, *wh, *v, *hclock, *wclock;
	int		 isnull;

	if (envelope_decode(act->payload, act->payloadlen, &env, &errstr)
	    == -1)
		fail_msg("%s: our reply does not decode: %s", name, errstr);
	body = pyjson_parse(env.body, env.bodylen, &isnull, &errstr);
	json_object_object_get_ex(want, "body", &wbody);
	if (!json_object_equal(body, wbody))
		fail_msg("%s: reply body %s, kombu sent %s", name,
		    json_object_to_json_string(body),
		    json_object_to_json_string(wbody));
	json_object_object_get_ex(want, "headers", &wh);
	json_object_object_get_ex(wh, "ticket", &v);
	if (!json_object_equal(json_object_object_get(env.headers, "ticket"),
	    v))
		fail_msg("%s: reply ticket differs", name);
	hclock = json_object_object_get(env.headers, "clock");
	json_object_object_get_ex(wh, "clock", &wclock);
	if (json_object_get_int64(hclock) != json_object_get_int64(wclock))
		fail_msg("%s: reply clock %lld, kombu %lld", name,
		    (long long)json_object_get_int64(hclock),
		    (long long)json_object_get_int64(wclock));
	json_object_object_get_ex(want, "routing_key", &v);
	if (strcmp(act->routing_key, json_object_get_string(v)) != 0 ||
	    strcmp(env.routing_key, json_object_get_string(v)) != 0)
		fail_msg("%s: reply routing key differs", name);
	json_object_object_get_ex(want, "exchange", &v);
	if (strcmp(env.exchange, json_object_get_string(v)) != 0)
		fail_msg("%s: reply exchange differs", name);
	json_object_put(body);
	envelope_free(&env);
}

static void
replay_one(json_object *rec)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	json_object		*v, *headers, *body, *replies;
	const char		*name, *outcome, *why;
	char			*raw;
	size_t			 len;
	int			 rc;

	name = json_object_get_string(json_object_object_get(rec, "name"));
	outcome = json_object_get_string(json_object_object_get(rec,
	    "outcome"));
	init_node(&n, &c, json_object_get_string(json_object_object_get(rec,
	    "node_hostname")));
	json_object_object_get_ex(rec, "node_clock_before", &v);
	n.clock.value = json_object_get_int64(v);
	json_object_object_get_ex(rec, "request_headers", &headers);
	json_object_object_get_ex(rec, "request_body", &body);
	json_object_object_get_ex(rec, "replies", &replies);
	raw = wire(headers, body, &len);
	handler_ran = 0;
	rc = node_handle(&n, raw, len, 1.8e9, &act);
	free(raw);
	why = stricter_reason(name);

	if (why != NULL || strncmp(outcome, "exception", 9) == 0) {
		/* kombu crashes (or is careless): we drop, run nothing. */
		if (rc != -1 || act.reply || handler_ran)
			fail_msg("%s: expected a drop without running the "
			    "handler (%s)", name, why ? why : outcome);
	} else if (strcmp(outcome, "not_addressed") == 0) {
		if (rc != 0 || act.reply || handler_ran)
			fail_msg("%s: expected to be skipped", name);
	} else {
		if (rc != 0)
			fail_msg("%s: dropped, kombu dispatched it", name);
		if (json_object_array_length(replies) == 0) {
			if (act.reply)
				fail_msg("%s: replied to a cast", name);
		} else {
			if (!act.reply)
				fail_msg("%s: no reply, kombu replied", name);
			check_reply(name, &act,
			    json_object_array_get_idx(replies, 0));
		}
		json_object_object_get_ex(rec, "node_clock_after", &v);
		if (n.clock.value != json_object_get_int64(v))
			fail_msg("%s: clock %lld after, kombu %lld", name,
			    (long long)n.clock.value,
			    (long long)json_object_get_int64(v));
	}
	node_action_free(&act);
	node_clear(&n);
	conf_clear(&c);
}

static void
test_node_dispatch_vectors(void **state)
{
	json_object	*recs;
	size_t		 i;

	(void)state;
	if ((recs = load_jsonl("node_dispatch.jsonl")) == NULL)
		fail_msg("%s", vector_error);
	for (i = 0; i < json_object_array_length(recs); i++)
		replay_one(json_object_array_get_idx(recs, i));
	assert_true(json_object_array_length(recs) >= 51);
	json_object_put(recs);
}

/*
 * A method request to dest (NULL: everyone) with the headers h (taken),
 * its replies to exchange xch, routing key "R".
 */
static char *
mkreq_to(const char *method, json_object *h, const char *dest,
    const char *xch, size_t *len)
{
	json_object	*b, *rt, *d = NULL;
	char		*raw;

	b = json_object_new_object();
	json_object_object_add(b, "method", json_object_new_string(method));
	json_object_object_add(b, "arguments", json_object_new_object());
	if (dest != NULL) {
		d = json_object_new_array();
		json_object_array_add(d, json_object_new_string(dest));
	}
	json_object_object_add(b, "destination", d);
	json_object_object_add(b, "ticket", json_object_new_string("T"));
	rt = json_object_new_object();
	json_object_object_add(rt, "exchange", json_object_new_string(xch));
	json_object_object_add(rt, "routing_key", json_object_new_string("R"));
	json_object_object_add(b, "reply_to", rt);
	raw = wire(h, b, len);
	json_object_put(h);
	json_object_put(b);
	return raw;
}

/* A method request to dest (NULL: everyone) with headers.clock = clock. */
static char *
mkreq(const char *method, json_object *clock, const char *dest, size_t *len)
{
	json_object	*h;

	h = json_object_new_object();
	json_object_object_add(h, "clock", clock);
	return mkreq_to(method, h, dest, "reply.testbox.pidbox", len);
}

/* A reply must never go to an exchange other than reply.<ns>.pidbox. */
static void
test_reply_to_foreign_exchange_refused(void **state)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	json_object		*h;
	char			*raw;
	size_t			 len;

	(void)state;
	init_node(&n, &c, "hostA");
	h = json_object_new_object();
	json_object_object_add(h, "clock", json_object_new_int(1));
	raw = mkreq_to("ping", h, NULL, "celery", &len);
	handler_ran = 0;
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), -1);
	assert_false(act.reply);
	assert_false(handler_ran);
	assert_int_equal(n.stats.refused_reply_to, 1);
	free(raw);
	node_clear(&n);
	conf_clear(&c);
}

/* Expiry: dropped past expires + skew, served inside the allowance. */
static void
test_expiry_allowance(void **state)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	json_object		*h;
	char			*raw;
	size_t			 len;

	(void)state;
	init_node(&n, &c, "hostA");
	c.expiry_skew = 10;
	h = json_object_new_object();
	json_object_object_add(h, "clock", json_object_new_int(1));
	json_object_object_add(h, "expires", json_object_new_double(1000.5));
	raw = mkreq_to("ping", h, NULL, "reply.testbox.pidbox", &len);
	/* 5 s late: inside the 10 s allowance */
	assert_int_equal(node_handle(&n, raw, len, 1005.5, &act), 0);
	assert_true(act.reply);
	node_action_free(&act);
	/* 11 s late: dropped and counted */
	assert_int_equal(node_handle(&n, raw, len, 1011.6, &act), -1);
	assert_false(act.reply);
	assert_int_equal(n.stats.expired, 1);
	/* -1 disables expiry */
	c.expiry_skew = -1;
	assert_int_equal(node_handle(&n, raw, len, 99999, &act), 0);
	assert_true(act.reply);
	node_action_free(&act);
	free(raw);
	node_clear(&n);
	conf_clear(&c);
}

/*
 * A delivery that comes again another way (the other fanout channel, or
 * left in flight) runs once; the same way again is a replay for verify().
 */
static void
test_duplicate_delivery(void **state)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	char			*raw;
	size_t			 len;

	(void)state;
	init_node(&n, &c, "hostA");
	/* a ping to everyone, reply wanted */
	raw = mkreq("ping", json_object_new_int(1), NULL, &len);
	assert_int_equal(node_handle_via(&n, raw, len, 1000, 1, &act), 0);
	assert_true(act.reply);
	node_action_free(&act);
	/* the copy on the other channel: not run, no reply */
	assert_int_equal(node_handle_via(&n, raw, len, 1000.1, 2, &act), 0);
	assert_false(act.reply);
	assert_int_equal(n.stats.duplicates, 1);
	/* the same channel again: handled (a replay is verify()'s to judge) */
	assert_int_equal(node_handle_via(&n, raw, len, 1000.2, 1, &act), 0);
	assert_true(act.reply);
	node_action_free(&act);
	/* left in flight after it ran: not run again */
	assert_int_equal(node_handle_via(&n, raw, len, 1001, VIA_LEFTOVER,
	    &act), 0);
	assert_false(act.reply);
	assert_int_equal(n.stats.duplicates, 2);
	/* after the window it is new again */
	assert_int_equal(node_handle_via(&n, raw, len, 1000 + RECENT_WINDOW + 1,
	    2, &act), 0);
	assert_true(act.reply);
	node_action_free(&act);
	free(raw);
	node_clear(&n);
	conf_clear(&c);
}

static int64_t
reply_clock(const struct node_action *act)
{
	struct envelope	 env;
	const char	*errstr;
	json_object	*v;
	int64_t		 clk = -1;

	/* raw: envelope_clock() would clamp what we check */
	assert_int_equal(envelope_decode(act->payload, act->payloadlen, &env,
	    &errstr), 0);
	assert_true(json_object_object_get_ex(env.headers, "clock", &v));
	clk = json_object_get_int64(v);
	envelope_free(&env);
	return clk;
}

/*
 * Issue 10.1: only a request that passed addressing and the signature
 * check moves the clock; any number is clamped, never a reason to drop.
 */
static void
test_clock_poison(void **state)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	char			*raw;
	size_t			 len;

	(void)state;
	init_node(&n, &c, "hostA");
	/* unaddressed: the clock does not move */
	raw = mkreq("ping", json_object_new_int64(INT64_MAX), "hostB", &len);
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), 0);
	assert_false(act.reply);
	assert_true(n.clock.value == 0);
	free(raw);
	/* refused (unsigned on a require_signed node): replied, not adopted */
	c.signing.require = 1;
	raw = mkreq("ping", json_object_new_int64(INT64_MAX), "hostA", &len);
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), 0);
	assert_true(act.reply);
	assert_int_equal(n.stats.unsigned_refused, 1);
	assert_true(reply_clock(&act) == 1);
	node_action_free(&act);
	free(raw);
	c.signing.require = 0;
	/* accepted: 2^63 (beyond int64, as kombu sends it) is clamped */
	raw = mkreq("ping", json_object_new_uint64(UINT64_C(1) << 63), NULL,
	    &len);
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), 0);
	assert_true(act.reply);
	assert_true(n.clock.value == CLOCK_MAX + 2);
	assert_true(reply_clock(&act) == CLOCK_MAX + 2);
	node_action_free(&act);
	free(raw);
	/* negative and float clocks are served too */
	raw = mkreq("ping", json_object_new_double(-3.5), NULL, &len);
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), 0);
	assert_true(act.reply);
	assert_true(n.clock.value == CLOCK_MAX + 4);
	node_action_free(&act);
	free(raw);
	assert_int_equal(n.stats.malformed, 0);
	node_clear(&n);
	conf_clear(&c);
}

/* Garbage is dropped and counted, never a crash. */
static void
test_garbage(void **state)
{
	static const char *const inputs[] = {
		"", "{", "[]", "null", "{\"body\": 5}",
		"{\"body\": \"!!!\", \"content-type\": \"application/json\", "
		    "\"properties\": {\"body_encoding\": \"base64\", "
		    "\"delivery_tag\": \"x\"}}",
		"{\"body\": \"gAN9cQAu\", \"content-type\": "
		    "\"application/x-python-serialize\", \"properties\": "
		    "{\"body_encoding\": \"base64\", \"delivery_tag\": \"x\"}}",
	};
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	size_t			 i;

	(void)state;
	init_node(&n, &c, "hostA");
	for (i = 0; i < nitems(inputs); i++) {
		assert_int_equal(node_handle(&n, inputs[i], strlen(inputs[i]),
		    1.8e9, &act), -1);
		assert_false(act.reply);
	}
	assert_int_equal(n.stats.malformed, nitems(inputs));
	node_clear(&n);
	conf_clear(&c);
}

/* One table: built-ins and operator methods, one lookup, one flag. */
static void
test_registry(void **state)
{
	struct pidboxd_conf	 c;
	struct method_conf	 mc[2];
	const struct method	*b, *m;
	struct registry		*r;
	json_object		*d, *e, *v;
	const char		*errstr = NULL;
	char			 deploy[] = "deploy", shutdown[] = "shutdown";
	size_t			 n, i, j;

	(void)state;
	b = builtin_table(&n);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_non_null(b[i].help);
		assert_non_null(b[i].fn);
		assert_false(b[i].flags & M_EXEC);
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(b[i].name, b[j].name);
	}
	assert_non_null(builtin_lookup("ping"));
	assert_null(builtin_lookup("nosuch"));

	conf_defaults(&c);
	memset(mc, 0, sizeof(mc));
	mc[0].name = deploy;
	mc[0].dangerous = 1;
	mc[0].timeout_ms = 1500;
	mc[1].name = shutdown;	/* dangerous by its name */
	c.methods = mc;
	c.nmethods = nitems(mc);
	r = registry_new(b, n, &c, &errstr);
	assert_non_null(r);
	m = registry_lookup(r, "deploy");
	assert_non_null(m);
	assert_true(m->flags & M_EXEC);
	assert_ptr_equal(m->conf, &mc[0]);
	assert_ptr_equal(m->fn, exec_method);
	assert_true(registry_dangerous(r, "deploy"));
	assert_true(registry_dangerous(r, "shutdown"));
	assert_true(registry_dangerous(r, "pool_restart")); /* not offered */
	assert_false(registry_dangerous(r, "ping"));
	assert_false(registry_dangerous(r, "nosuch"));
	/* node.c's form: the row it looked up, NULL when not offered */
	assert_true(registry_method_dangerous(m, "deploy"));
	assert_false(registry_method_dangerous(registry_lookup(r, "ping"),
	    "ping"));
	assert_true(registry_method_dangerous(NULL, "pool_restart"));
	assert_false(registry_method_dangerous(NULL, "nosuch"));
	assert_null(registry_lookup(r, "nosuch"));
	assert_null(registry_lookup(r, NULL));

	/* describe covers every method, built-ins with their schema */
	d = registry_describe(r, &c.policy, "");
	assert_int_equal(json_object_object_length(d), n + 2);
	assert_true(json_object_object_get_ex(d, "print_msg", &e));
	assert_true(json_object_object_get_ex(e, "kind", &v));
	assert_string_equal(json_object_get_string(v), "builtin");
	assert_true(json_object_object_get_ex(e, "args", &v));
	assert_true(json_object_object_get_ex(v, "msg", &v));
	assert_true(json_object_object_get_ex(d, "deploy", &e));
	assert_true(json_object_object_get_ex(e, "kind", &v));
	assert_string_equal(json_object_get_string(v), "exec");
	assert_true(json_object_object_get_ex(e, "timeout", &v));
	assert_true(json_object_get_double(v) == 1.5);
	/* dangerous, and no policy rule names it: not allowed */
	assert_true(json_object_get_boolean(json_object_object_get(e,
	    "dangerous")));
	assert_false(json_object_get_boolean(json_object_object_get(e,
	    "allowed")));
	assert_true(json_object_object_get_ex(d, "ping", &e));
	assert_false(json_object_get_boolean(json_object_object_get(e,
	    "dangerous")));
	json_object_put(d);
	registry_free(r);

	/* an operator method may not shadow a built-in */
	mc[1].name = (char *)(uintptr_t)"ping";
	assert_null(registry_new(b, n, &c, &errstr));
	assert_non_null(errstr);
	c.methods = NULL;
	c.nmethods = 0;
	conf_clear(&c);
}

/* The dispatcher checks every method's schema, built-ins included. */
static void
test_builtin_schema(void **state)
{
	struct pidboxd_conf	 c;
	struct node		 n;
	struct node_action	 act;
	json_object		*v;
	const struct method	*bt;
	size_t			 nb, len;
	char			*raw;

	(void)state;
	init_node(&n, &c, "hostA");
	node_clear(&n);
	bt = builtin_table(&nb);
	init_node_with(&n, &c, bt, nb);
	raw = mkreq("print_msg", json_object_new_int(1), NULL, &len);
	assert_int_equal(node_handle(&n, raw, len, 1.8e9, &act), 0);
	assert_true(act.reply);
	assert_int_equal(n.stats.schema_errors, 1);
	v = reply_value(&act, "hostA");
	assert_string_equal(json_object_get_string(json_object_object_get(v,
	    "error")), "print_msg: argument 'msg': required: missing");
	json_object_put(v);
	node_action_free(&act);
	free(raw);
	node_clear(&n);
	conf_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_dispatch_vectors),
		cmocka_unit_test(test_reply_to_foreign_exchange_refused),
		cmocka_unit_test(test_expiry_allowance),
		cmocka_unit_test(test_duplicate_delivery),
		cmocka_unit_test(test_clock_poison),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_builtin_schema),
	};

	log_init(1, 0, "t_node");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
