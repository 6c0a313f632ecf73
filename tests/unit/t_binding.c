/*
 * binding.c: kombu entity names, priority keys, binding set members and
 * the fanout channel (spec section 1). Replays every record of
 * vectors/naming.jsonl as its own test, then table cases for members.
 */
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
#include "vectors.h"

#define VECTOR_FILE	"naming.jsonl"
#define VECTOR_COUNT	8	/* records in the file (vectors/README.md) */

/* Compare got with the string field want of exp; the record names itself. */
static void
check(int line, json_object *exp, const char *field, const char *got,
    size_t gotlen)
{
	const char	*want;

	if ((want = jstr(exp, field)) == NULL)
		fail_msg("%s:%d: expected.%s missing", VECTOR_FILE, line,
		    field);
	if (gotlen != strlen(want) || memcmp(got, want, gotlen) != 0)
		fail_msg("%s:%d: %s = \"%s\", want \"%s\"", VECTOR_FILE, line,
		    field, log_vis(got, gotlen), log_viss(want));
}

static void
check_keys(int line, json_object *exp, const char *field,
    char keys[4][MAX_KEY])
{
	json_object	*arr, *k;
	size_t		 i;

	if (!json_object_object_get_ex(exp, field, &arr) ||
	    json_object_array_length(arr) != 4)
		fail_msg("%s:%d: expected.%s is not 4 keys", VECTOR_FILE, line,
		    field);
	for (i = 0; i < 4; i++) {
		k = json_object_array_get_idx(arr, i);
		if (strcmp(keys[i], json_object_get_string(k)) != 0)
			fail_msg("%s:%d: %s[%zu] = \"%s\", want \"%s\"",
			    VECTOR_FILE, line, field, i, log_viss(keys[i]),
			    log_viss(json_object_get_string(k)));
	}
}

/* A member splits back into the fields it was built from. */
static void
check_parse(int line, const char *what, const char *member, size_t len,
    const char *rk, const char *pattern, const char *queue)
{
	struct binding	 b;

	if (binding_parse(member, len, &b) == -1)
		fail_msg("%s:%d: binding_parse(%s) failed", VECTOR_FILE, line,
		    what);
	if (b.rklen != strlen(rk) || memcmp(b.rk, rk, b.rklen) != 0 ||
	    b.patternlen != strlen(pattern) ||
	    memcmp(b.pattern, pattern, b.patternlen) != 0 ||
	    b.queuelen != strlen(queue) ||
	    memcmp(b.queue, queue, b.queuelen) != 0)
		fail_msg("%s:%d: binding_parse(%s) fields differ", VECTOR_FILE,
		    line, what);
}

/* One record: every derived name equals what kombu sent to Redis. */
static void
test_vector(void **state)
{
	json_object		*rec = *state, *in, *exp, *v;
	struct names		 n;
	char			 rq[MAX_KEY], member[MAX_KEY];
	char			 keys[4][MAX_KEY];
	const char		*ns, *host, *oid, *typ, *kp, *fp, *errstr;
	enum mailbox_type	 t;
	int			 line, db = 0, len;

	line = json_object_get_int(json_object_object_get(rec, "_line"));
	in = json_object_object_get(rec, "inputs");
	exp = json_object_object_get(rec, "expected");
	if (in == NULL || exp == NULL)
		fail_msg("%s:%d: no inputs/expected", VECTOR_FILE, line);
	ns = jstr(in, "ns");
	host = jstr(in, "hostname");
	oid = jstr(in, "oid");
	typ = jstr(in, "typ");
	kp = jstr(in, "keyprefix");
	if (json_object_object_get_ex(in, "db", &v))
		db = json_object_get_int(v);
	fp = NULL;		/* absent or true: kombu's default */
	if (json_object_object_get_ex(in, "fanout_prefix", &v)) {
		if (json_object_is_type(v, json_type_boolean))
			fp = json_object_get_boolean(v) ? NULL : "";
		else
			fp = json_object_get_string(v);
	}
	if (mailbox_type_parse(typ, &t) == -1)
		fail_msg("%s:%d: mailbox_type_parse(%s)", VECTOR_FILE, line,
		    typ ? typ : "(null)");
	check(line, exp, "exchange_type", mailbox_type_name(t),
	    strlen(mailbox_type_name(t)));

	if (names_init(&n, ns, host, t, db, kp, fp, &errstr) == -1)
		fail_msg("%s:%d: names_init: %s", VECTOR_FILE, line, errstr);
	check(line, exp, "exchange", n.exchange, strlen(n.exchange));
	check(line, exp, "reply_exchange", n.reply_exchange,
	    strlen(n.reply_exchange));
	check(line, exp, "node_queue", n.node_queue, strlen(n.node_queue));
	check_keys(line, exp, "node_queue_keys", n.node_queue_keys);
	check(line, exp, "node_binding_key", n.node_binding_key,
	    strlen(n.node_binding_key));
	check(line, exp, "node_binding_member", n.node_member,
	    n.node_member_len);
	check(line, exp, "reply_binding_key", n.reply_binding_key,
	    strlen(n.reply_binding_key));
	if (jstr(exp, "fanout_channel") != NULL)
		check(line, exp, "fanout_channel", n.fanout_channel,
		    strlen(n.fanout_channel));
	if (jstr(exp, "node_psubscribe_pattern") != NULL)
		check(line, exp, "node_psubscribe_pattern", n.fanout_channel,
		    strlen(n.fanout_channel));
	check_parse(line, "node_binding_member", n.node_member,
	    n.node_member_len, "", t == MAILBOX_TOPIC ? "^$" : "",
	    n.node_queue);

	/* client side: reply queue of oid, bound with routing key oid */
	check(line, exp, "reply_routing_key", oid, strlen(oid));
	if (names_reply_queue(&n, oid, rq, sizeof(rq)) == -1)
		fail_msg("%s:%d: names_reply_queue failed", VECTOR_FILE, line);
	check(line, exp, "reply_queue", rq, strlen(rq));
	if (names_queue_keys(&n, rq, keys) == -1)
		fail_msg("%s:%d: names_queue_keys failed", VECTOR_FILE, line);
	check_keys(line, exp, "reply_queue_keys", keys);
	if ((len = binding_member(oid, "", rq, member, sizeof(member))) == -1)
		fail_msg("%s:%d: binding_member failed", VECTOR_FILE, line);
	check(line, exp, "reply_binding_member", member, (size_t)len);
	check_parse(line, "reply_binding_member", member, (size_t)len, oid,
	    "", rq);
}

struct pcase {
	const char	*member;
	size_t		 len;
	int		 rc;
	const char	*why;
};

#define M(s)	s, sizeof(s) - 1
static const struct pcase parse_cases[] = {
	{ M("\x06\x16\x06\x16q"),		 0, "node member" },
	{ M("rk\x06\x16^$\x06\x16q"),		 0, "topic member" },
	{ M("\x06\x16\x06\x16"),		 0, "three empty fields" },
	{ M(""),				-1, "empty" },
	{ M("q"),				-1, "one field" },
	{ M("rk\x06\x16q"),			-1, "two fields" },
	{ M("\x06\x16q"),			-1, "two fields, empty rk" },
	{ M("a\x06\x16" "b\x06\x16" "c\x06\x16" "d"),	-1, "four fields" },
	{ M("\x06\x16\x06\x16\x06\x16"),	-1, "four empty fields" },
	{ M("a\x06\x16\x00\x06\x16q"),		-1, "NUL inside" },
	{ M("a\x06" "b\x06\x16q"),		 -1, "lone 0x06 is no SEP" },
	{ M("a\x06\x16\x06\x16\x06\x16q\x06\x16"), -1, "five fields" },
};

/* binding_parse requires exactly three fields (kombu's unpack). */
static void
test_binding_parse_table(void **state)
{
	struct binding	 b;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < nitems(parse_cases); i++) {
		rc = binding_parse(parse_cases[i].member, parse_cases[i].len,
		    &b);
		if (rc != parse_cases[i].rc)
			fail_msg("parse_cases[%zu] (%s): rc %d, want %d", i,
			    parse_cases[i].why, rc, parse_cases[i].rc);
	}
	assert_int_equal(binding_parse(NULL, 0, &b), -1);
	assert_int_equal(binding_parse(M("rk\x06\x16pat\x06\x16queue"), &b),
	    0);
	assert_int_equal(b.rklen, 2);
	assert_memory_equal(b.rk, "rk", 2);
	assert_int_equal(b.patternlen, 3);
	assert_memory_equal(b.pattern, "pat", 3);
	assert_int_equal(b.queuelen, 5);
	assert_memory_equal(b.queue, "queue", 5);
}

/* binding_member refuses separators in fields and short buffers. */
static void
test_binding_member_refuses(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(binding_member("", "", "q", buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "\x06\x16\x06\x16q", 6);
	assert_int_equal(binding_member("a\x06\x16", "", "q", buf,
	    sizeof(buf)), -1);
	assert_int_equal(binding_member("", "\x06\x16", "q", buf,
	    sizeof(buf)), -1);
	assert_int_equal(binding_member("", "", "q\x06\x16" "3", buf,
	    sizeof(buf)), -1);
	assert_int_equal(binding_member("", "", "", buf, sizeof(buf)), -1);
	assert_int_equal(binding_member("", "", "q", buf, 5), -1);
	assert_int_equal(binding_member("", "", "q", buf, 6), 5);
	assert_int_equal(binding_member(NULL, "", "q", buf, sizeof(buf)), -1);
}

/* names_init refuses names kombu could not route back. */
static void
test_names_init_refuses(void **state)
{
	struct names	 n;
	char		 big[MAX_NAME + 2];
	const char	*errstr;

	(void)state;
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(names_init(&n, "", "h", MAILBOX_FANOUT, 0, NULL,
	    NULL, &errstr), -1);
	assert_string_equal(errstr, "namespace empty");
	assert_int_equal(names_init(&n, NULL, "h", MAILBOX_FANOUT, 0, NULL,
	    NULL, &errstr), -1);
	assert_int_equal(names_init(&n, "a\x06\x16" "b", "h", MAILBOX_FANOUT,
	    0, NULL, NULL, &errstr), -1);
	assert_non_null(strstr(errstr, "separator"));
	assert_int_equal(names_init(&n, "ns", "h\x06\x16", MAILBOX_FANOUT, 0,
	    NULL, NULL, &errstr), -1);
	assert_string_equal(errstr, "hostname contains the kombu separator");
	assert_int_equal(names_init(&n, "ns", "", MAILBOX_FANOUT, 0, NULL,
	    NULL, &errstr), -1);
	assert_int_equal(names_init(&n, "ns", big, MAILBOX_FANOUT, 0, NULL,
	    NULL, &errstr), -1);
	assert_string_equal(errstr, "hostname too long");
	assert_int_equal(names_init(&n, big, "h", MAILBOX_FANOUT, 0, NULL,
	    NULL, &errstr), -1);
	assert_int_equal(names_init(&n, "ns", "h", MAILBOX_FANOUT, 0, big,
	    NULL, &errstr), -1);
	assert_int_equal(names_init(&n, "ns", "h", MAILBOX_FANOUT, 0, NULL,
	    big, &errstr), -1);
	assert_int_equal(names_init(&n, "ns", "h", MAILBOX_FANOUT, -1, NULL,
	    NULL, &errstr), -1);
	big[MAX_NAME] = '\0';	/* exactly MAX_NAME is fine */
	assert_int_equal(names_init(&n, big, big, MAILBOX_TOPIC, 1000000, big,
	    big, &errstr), 0);
}

/* Client side (no hostname), prefixes and {db} substitution. */
static void
test_names_client_and_prefixes(void **state)
{
	struct names	 n;
	char		 buf[MAX_KEY], keys[4][MAX_KEY];
	const char	*errstr;

	(void)state;
	assert_int_equal(names_init(&n, "celery", NULL, MAILBOX_FANOUT, 7,
	    "p:", "x{db}y{db}.", &errstr), 0);
	assert_string_equal(n.node_queue, "");
	assert_int_equal(n.node_member_len, 0);
	assert_string_equal(n.fanout_channel, "p:x7y7.celery.pidbox");
	assert_string_equal(n.reply_binding_key,
	    "p:_kombu.binding.reply.celery.pidbox");
	assert_string_equal(n.keyprefix, "p:");
	assert_int_equal(names_reply_queue(&n, "oid", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "oid.reply.celery.pidbox");
	assert_int_equal(names_reply_queue(&n, "o\x06\x16", buf, sizeof(buf)),
	    -1);
	assert_int_equal(names_reply_queue(&n, "", buf, sizeof(buf)), -1);
	assert_int_equal(names_reply_queue(&n, "oid", buf, 23), -1);
	assert_int_equal(names_reply_queue(&n, "oid", buf, 24), 0);
	assert_int_equal(names_queue_keys(&n, "q", keys), 0);
	assert_string_equal(keys[0], "p:q");
	assert_string_equal(keys[3], "p:q\x06\x16" "9");
	assert_int_equal(names_queue_keys(&n, "q\x06\x16" "3", keys), -1);
	assert_int_equal(names_queue_keys(&n, "", keys), -1);

	assert_int_equal(names_init(&n, "ns", "h", MAILBOX_FANOUT, 3, NULL,
	    "", &errstr), 0);
	assert_string_equal(n.fanout_channel, "ns.pidbox");
	assert_int_equal(names_init(&n, "ns", "h", MAILBOX_FANOUT, 3, NULL,
	    "/{d}.", &errstr), 0);
	assert_string_equal(n.fanout_channel, "/{d}.ns.pidbox");
}

/* The exchange type table round-trips and is case-sensitive. */
static void
test_mailbox_types(void **state)
{
	static const char *const names[] = { "fanout", "direct", "topic" };
	enum mailbox_type	 t;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		assert_int_equal(mailbox_type_parse(names[i], &t), 0);
		assert_string_equal(mailbox_type_name(t), names[i]);
	}
	assert_int_equal(mailbox_type_parse("Fanout", &t), -1);
	assert_int_equal(mailbox_type_parse("headers", &t), -1);
	assert_int_equal(mailbox_type_parse("", &t), -1);
	assert_int_equal(mailbox_type_parse(NULL, &t), -1);
	assert_string_equal(mailbox_type_name((enum mailbox_type)42),
	    "unknown");
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_binding_parse_table),
	cmocka_unit_test(test_binding_member_refuses),
	cmocka_unit_test(test_names_init_refuses),
	cmocka_unit_test(test_names_client_and_prefixes),
	cmocka_unit_test(test_mailbox_types),
};

static char *
label(json_object *rec)
{
	json_object	*in = json_object_object_get(rec, "inputs");
	char		*s;

	if (asprintf(&s, "%s/%s %s", log_viss(jstr(in, "ns")),
	    log_viss(jstr(in, "hostname")), log_viss(jstr(in, "typ"))) == -1)
		return NULL;
	return s;
}

int
main(void)
{
	return vectors_run("binding", VECTOR_FILE, VECTOR_COUNT, fixed_tests,
	    nitems(fixed_tests), test_vector, label);
}
