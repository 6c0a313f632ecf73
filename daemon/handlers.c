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

static int	h_clock(struct node *, json_object *, json_object **);
static int	h_describe(struct node *, json_object *, json_object **);
static int	h_ping(struct node *, json_object *, json_object **);
static int	h_print_msg(struct node *, json_object *, json_object **);
static int	h_stats(struct node *, json_object *, json_object **);

/* clang-format off */
static const struct handler handlers[] = {
	{ "active",	celery_empty_list, "Celery: tasks executing (always [])", 0 },
	{ "active_queues", celery_empty_list, "Celery: task queues consumed ([])", 0 },
	{ "clock",	h_clock,	"this node's Lamport clock: {\"clock\": N}", 0 },
	{ "conf",	celery_empty_object, "Celery: worker configuration ({})", 0 },
	{ "describe",	h_describe,	"the methods this node offers, with their argument schema and help", 0 },
	{ "hello",	celery_hello,	"Celery mingle: {\"revoked\": {}, \"clock\": N}", 0 },
	{ "ping",	h_ping,		"liveness check: {\"ok\": \"pong\"}", 0 },
	{ "print_msg",	h_print_msg,	"log the argument msg on the node", 0 },
	{ "query_task",	celery_empty_object, "Celery: state of task ids ({})", 0 },
	{ "registered",	celery_empty_list, "Celery: registered tasks ([])", 0 },
	{ "report",	celery_report,	"Celery: {\"ok\": \"<report text>\"}", 0 },
	{ "reserved",	celery_empty_list, "Celery: tasks reserved ([])", 0 },
	{ "revoked",	celery_empty_list, "Celery: revoked task ids ([])", 0 },
	{ "scheduled",	celery_empty_list, "Celery: ETA tasks ([])", 0 },
	{ "stats",	h_stats,	"pid, uptime, counters, rusage, broker (Celery's shape)", 0 },
};
/* clang-format on */

const struct handler *
handler_table(size_t *n)
{
	*n = nitems(handlers);
	return handlers;
}

const struct handler *
handler_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(handlers); i++)
		if (strcmp(handlers[i].name, name) == 0)
			return &handlers[i];
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
h_ping(struct node *n, json_object *args, json_object **res)
{
	(void)n;
	(void)args;
	*res = ok(json_object_new_string("pong"));
	return 0;
}

static int
h_print_msg(struct node *n, json_object *args, json_object **res)
{
	json_object	*msg;
	const char	*s;

	(void)n;
	if (!json_object_object_get_ex(args, "msg", &msg)) {
		*res = reply_error("print_msg: missing argument 'msg'");
		return -1;
	}
	if (json_object_is_type(msg, json_type_string))
		s = json_object_get_string(msg);
	else
		s = json_object_to_json_string(msg);
	log_info("print_msg: %s", log_viss(s));
	*res = ok(json_object_new_string("message printed"));
	return 0;
}

static int
h_clock(struct node *n, json_object *args, json_object **res)
{
	(void)args;
	*res = json_object_new_object();
	json_object_object_add(*res, "clock",
	    json_object_new_int64(n->clock.value));
	return 0;
}

static int
h_describe(struct node *n, json_object *args, json_object **res)
{
	json_object	*methods;
	size_t		 i;

	(void)args;
	methods = json_object_new_object();
	for (i = 0; i < n->nhandlers; i++) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "help",
		    json_object_new_string(n->handlers[i].help));
		json_object_object_add(m, "kind",
		    json_object_new_string("builtin"));
		json_object_object_add(methods, n->handlers[i].name, m);
	}
	for (i = 0; i < n->conf->nmethods; i++)
		json_object_object_add(methods, n->conf->methods[i].name,
		    schema_describe(&n->conf->methods[i]));
	*res = json_object_new_object();
	json_object_object_add(*res, "methods", methods);
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
h_stats(struct node *n, json_object *args, json_object **res)
{
	struct rusage	 ru;
	struct reply_counters rc;
	json_object	*o, *c, *r;
	char		 url[512];

	(void)args;
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
	COUNTER(errors);
	COUNTER_OF(reconnects, service_reconnects());
	COUNTER(refused_policy);
	COUNTER(unsigned_refused);
	COUNTER(forged);
	COUNTER(sig_expired);
	COUNTER(replayed);
	COUNTER(schema_errors);
	COUNTER(exec_started);
	COUNTER(exec_timeouts);
	COUNTER(exec_busy);
	COUNTER(audit_lost);
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
