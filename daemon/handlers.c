/*
 * The built-in methods, one row each (redis' command table style).
 * A handler gets the request's arguments (an object, never NULL) and
 * returns the reply value.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

static int	h_clock(const struct call *, json_object **);
static int	h_describe(const struct call *, json_object **);
static int	h_ping(const struct call *, json_object **);
static int	h_print_msg(const struct call *, json_object **);
static int	h_stats(const struct call *, json_object **);

/*
 * Argument schemas. Celery's callers send arguments we do not read (and
 * its handlers word their own errors), so every built-in schema is open
 * (M_OPEN_ARGS) and its arguments typed "any": they document what the
 * method reads, for describe, and pass through as sent.
 */
static char	a_msg[] = "msg", h_msg[] = "the text to log";
static char	a_from[] = "from_node", h_from[] = "the asking worker";
static char	a_revoked[] = "revoked", h_revoked[] = "its revoked ids";
static char	a_safe[] = "safe", h_safe[] = "Celery: safe repr";
static char	a_ids[] = "ids", h_ids[] = "Celery: task ids";
static char	a_items[] = "taskinfoitems", h_items[] = "Celery: fields";
static char	a_defaults[] = "with_defaults", h_defaults[] =
		    "Celery: include defaults";

#define ANY(n, h, req) { .name = (n), .type = ARG_ANY, .required = (req), \
	.help = (h) }
static const struct arg_spec print_msg_args[] = { ANY(a_msg, h_msg, 1) };
static const struct arg_spec hello_args[] = {
	ANY(a_from, h_from, 0), ANY(a_revoked, h_revoked, 0),
};
static const struct arg_spec safe_args[] = { ANY(a_safe, h_safe, 0) };
static const struct arg_spec ids_args[] = { ANY(a_ids, h_ids, 0) };
static const struct arg_spec items_args[] = { ANY(a_items, h_items, 0) };
static const struct arg_spec conf_args[] = {
	ANY(a_defaults, h_defaults, 0),
};
#undef ANY

#define RO	(M_READONLY | M_OPEN_ARGS)
#define CEL	(M_CELERY | M_READONLY | M_OPEN_ARGS)
#define CELW	(M_CELERY | M_OPEN_ARGS)
#define ARGS(a)	(a), nitems(a)
static const struct method builtins[] = {
	{ "active",	celery_empty_list, "Celery: tasks executing (always [])", CEL, ARGS(safe_args), NULL },
	{ "active_queues", celery_empty_list, "Celery: task queues consumed ([])", CEL, NULL, 0, NULL },
	{ "clock",	h_clock,	"this node's Lamport clock: {\"clock\": N}", RO, NULL, 0, NULL },
	{ "conf",	celery_empty_object, "Celery: worker configuration ({})", CEL, ARGS(conf_args), NULL },
	{ "describe",	h_describe,	"the methods this node offers, with their argument schema and help", RO, NULL, 0, NULL },
	{ "disable_events", celery_disable_events, "Celery: stop the worker events (worker-offline)", CELW, NULL, 0, NULL },
	{ "enable_events", celery_enable_events, "Celery: send worker events (worker-online, a worker-heartbeat every 2 s) to celeryev", CELW, NULL, 0, NULL },
	{ "heartbeat",	celery_heartbeat, "Celery: send a worker-heartbeat event now (when enabled); null", CELW, NULL, 0, NULL },
	{ "hello",	celery_hello,	"Celery mingle: {\"revoked\": {}, \"clock\": N}", CEL, ARGS(hello_args), NULL },
	{ "ping",	h_ping,		"liveness check: {\"ok\": \"pong\"}", RO, NULL, 0, NULL },
	{ "print_msg",	h_print_msg,	"log the argument msg on the node", M_OPEN_ARGS, ARGS(print_msg_args), NULL },
	{ "query_task",	celery_empty_object, "Celery: state of task ids ({})", CEL, ARGS(ids_args), NULL },
	{ "registered",	celery_empty_list, "Celery: registered tasks ([])", CEL, ARGS(items_args), NULL },
	{ "report",	celery_report,	"Celery: {\"ok\": \"<report text>\"}", CEL, NULL, 0, NULL },
	{ "reserved",	celery_empty_list, "Celery: tasks reserved ([])", CEL, ARGS(safe_args), NULL },
	{ "revoked",	celery_empty_list, "Celery: revoked task ids ([])", CEL, NULL, 0, NULL },
	{ "scheduled",	celery_empty_list, "Celery: ETA tasks ([])", CEL, ARGS(safe_args), NULL },
	{ "stats",	h_stats,	"pid, uptime, counters, rusage, broker (Celery's shape)", RO, NULL, 0, NULL },
};
#undef RO
#undef CEL
#undef CELW
#undef ARGS

const struct method *
builtin_table(size_t *n)
{
	*n = nitems(builtins);
	return builtins;
}

const struct method *
builtin_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(builtins); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

static json_object *
ok(json_object *v)
{
	json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "ok", v);
	return o;
}

static int
h_ping(const struct call *c, json_object **res)
{
	(void)c;
	*res = ok(json_object_new_string("pong"));
	return 0;
}

static int
h_print_msg(const struct call *c, json_object **res)
{
	json_object	*msg = NULL;
	const char	*s;

	/* the schema made sure it is there */
	json_object_object_get_ex(c->args, "msg", &msg);
	if (json_object_is_type(msg, json_type_string))
		s = json_object_get_string(msg);
	else
		s = json_object_to_json_string(msg);
	log_info("print_msg: %s", log_viss(s));
	*res = ok(json_object_new_string("message printed"));
	return 0;
}

static int
h_clock(const struct call *c, json_object **res)
{
	*res = json_object_new_object();
	json_object_object_add(*res, "clock",
	    json_object_new_int64(c->node->clock.value));
	return 0;
}

static int
h_describe(const struct call *c, json_object **res)
{
	*res = json_object_new_object();
	json_object_object_add(*res, "methods",
	    registry_describe(c->node->reg, &c->conf->policy, c->identity));
	json_object_object_add(*res, "version",
	    json_object_new_string(PIDBOX_VERSION));
	return 0;
}

static json_object *
tv_seconds(const struct timeval *tv)
{
	return json_object_new_double((double)tv->tv_sec +
	    (double)tv->tv_usec / 1e6);
}

static int
h_stats(const struct call *call, json_object **res)
{
	struct node		*n = call->node;
	const struct exec_stats	*es = exec_stats();
	struct reply_counters	 rc;
	struct rusage		 ru;
	json_object		*o, *c, *r;
	char			 url[512];

	replies_counters(&rc);
	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "hostname",
	    json_object_new_string(n->conf->hostname));
	json_object_object_add(o, "version",
	    json_object_new_string(PIDBOX_VERSION));
	json_object_object_add(o, "uptime",
	    json_object_new_int64((now_mono_ms() - n->started_mono) / 1000));
	json_object_object_add(o, "namespace",
	    json_object_new_string(n->conf->ns));
	json_object_object_add(o, "type",
	    json_object_new_string(mailbox_type_name(n->conf->type)));
	json_object_object_add(o, "broker", json_object_new_string(
	    redis_url_redacted(&n->url, url, sizeof(url))));
	json_object_object_add(o, "clock",
	    json_object_new_int64(n->clock.value));
	c = json_object_new_object();
#define COUNTER_OF(f, v) json_object_object_add(c, #f, \
	    json_object_new_int64((int64_t)(v)))
#define COUNTER(f) COUNTER_OF(f, n->stats.f)
	COUNTER(received);
	COUNTER(dispatched);
	COUNTER_OF(replied, rc.replied);
	COUNTER_OF(reply_unrouted, rc.unrouted);
	COUNTER_OF(reply_foreign, rc.foreign);
	COUNTER(not_addressed);
	COUNTER(expired);
	COUNTER(malformed);
	COUNTER(refused_reply_to);
	COUNTER_OF(errors, n->stats.errors + es->errors);
	COUNTER_OF(reconnects, service_reconnects());
	COUNTER(refused_policy);
	COUNTER(unsigned_refused);
	COUNTER(forged);
	COUNTER(sig_malformed);
	COUNTER(sig_unknown_identity);
	COUNTER(sig_expired);
	COUNTER(replayed);
	COUNTER(sig_before_cache);
	COUNTER(node_key_errors);
	COUNTER(replies_signed);
	COUNTER(schema_errors);
	COUNTER_OF(exec_started, es->started);
	COUNTER_OF(exec_timeouts, es->timeouts);
	COUNTER_OF(exec_busy, es->busy);
	COUNTER(audit_lost);
	COUNTER(duplicates);
	COUNTER(filtered);
	COUNTER_OF(results_recorded, results_recorded());
#undef COUNTER
#undef COUNTER_OF
	json_object_object_add(o, "exec_running",
	    json_object_new_int(exec_running()));
	json_object_object_add(o, "counters", c);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		r = json_object_new_object();
		json_object_object_add(r, "utime", tv_seconds(&ru.ru_utime));
		json_object_object_add(r, "stime", tv_seconds(&ru.ru_stime));
		json_object_object_add(r, "maxrss",
		    json_object_new_int64(ru.ru_maxrss));
		json_object_object_add(o, "rusage", r);
	}
	celery_stats_extend(n, o);
	*res = o;
	return 0;
}
