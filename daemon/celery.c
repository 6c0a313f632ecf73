/*
 * Celery's worker remote-control methods, answered the way a Celery 5.2
 * worker with nothing to do would answer them, so that `celery inspect`,
 * `celery status` and Flower list pidboxd as a node (spec 5.2). They are
 * harmless in any namespace: nothing here changes state.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

/* A new, empty JSON array: active, reserved, scheduled, revoked... */
int
celery_empty_list(const struct call *c, json_object **res)
{
	(void)c;
	*res = json_object_new_array();
	return 0;
}

/* A new, empty JSON object: query_task, conf. */
int
celery_empty_object(const struct call *c, json_object **res)
{
	(void)c;
	*res = json_object_new_object();
	return 0;
}

/*
 * Mingle's sync request. A worker answers its revoked set and app clock,
 * and null when the request comes from itself (Celery's hello()).
 */
int
celery_hello(const struct call *c, json_object **res)
{
	struct node	*n = c->node;
	json_object	*from;

	if (!json_object_object_get_ex(c->args, "from_node", &from)) {
		*res = reply_error("TypeError(\"hello() missing 1 required "
		    "positional argument: 'from_node'\")");
		return -1;
	}
	if (json_object_is_type(from, json_type_string) &&
	    strcmp(json_object_get_string(from), n->conf->hostname) == 0) {
		*res = NULL;
		return 0;
	}
	log_info("sync with %s", log_viss(json_object_get_string(from)));
	*res = json_object_new_object();
	json_object_object_add(*res, "revoked", json_object_new_object());
	json_object_object_add(*res, "clock",
	    json_object_new_int64(n->clock.value));
	return 0;
}

/* Celery's `inspect report`: {"ok": "<bug report text>"}. */
int
celery_report(const struct call *c, json_object **res)
{
	struct node	*n = c->node;
	struct utsname	 u;
	char		 text[2048], url[512];

	if (uname(&u) == -1)
		memset(&u, 0, sizeof(u));
	snprintf(text, sizeof(text),
	    "\n"
	    "software -> pidboxd:%s\n"
	    "platform -> system:%s arch:%s\n"
	    "            kernel version:%s\n"
	    "settings -> transport:redis namespace:%s type:%s\n"
	    "\n"
	    "broker_url: '%s'\n"
	    "hostname: '%s'\n",
	    PIDBOX_VERSION, u.sysname, u.machine, u.release, n->conf->ns,
	    mailbox_type_name(n->conf->type),
	    redis_url_redacted(&n->url, url, sizeof(url)), n->conf->hostname);
	*res = json_object_new_object();
	json_object_object_add(*res, "ok", json_object_new_string(text));
	return 0;
}

static json_object *
tv_seconds(const struct timeval *tv)
{
	return json_object_new_double((double)tv->tv_sec +
	    (double)tv->tv_usec / 1e6);
}

/* Celery's broker description (kombu Connection.info()). */
static json_object *
broker_info(const struct redis_url *u)
{
	json_object	*b;
	char		 vhost[16];

	b = json_object_new_object();
	json_object_object_add(b, "hostname",
	    json_object_new_string(u->is_unix ? u->path : u->host));
	json_object_object_add(b, "userid", u->user[0] != '\0' ?
	    json_object_new_string(u->user) : NULL);
	snprintf(vhost, sizeof(vhost), "%d", u->db);
	json_object_object_add(b, "virtual_host", json_object_new_string(vhost));
	json_object_object_add(b, "port", u->is_unix ? NULL :
	    json_object_new_int(u->port));
	json_object_object_add(b, "insist", json_object_new_boolean(0));
	json_object_object_add(b, "ssl", json_object_new_boolean(0));
	json_object_object_add(b, "transport", json_object_new_string(
	    u->is_unix ? "redis+socket" : "redis"));
	json_object_object_add(b, "connect_timeout",
	    json_object_new_double(u->connect_timeout));
	json_object_object_add(b, "transport_options", json_object_new_object());
	json_object_object_add(b, "login_method", NULL);
	json_object_object_add(b, "uri_prefix", NULL);
	json_object_object_add(b, "heartbeat", json_object_new_double(0));
	json_object_object_add(b, "failover_strategy",
	    json_object_new_string("round-robin"));
	json_object_object_add(b, "alternates", json_object_new_array());
	return b;
}

/*
 * Give pidboxd's stats object (o) the shape of a Celery worker's: broker
 * as an object (our redacted URL stays in broker_url), clock as a string,
 * total, pool, prefetch_count and the full rusage, so `celery inspect
 * stats` and Flower accept it. Our own fields stay.
 */
void
celery_stats_extend(struct node *n, json_object *o)
{
	struct rusage	 ru;
	json_object	*pool, *procs, *t, *r;
	char		 buf[512];

	json_object_object_add(o, "broker_url", json_object_new_string(
	    redis_url_redacted(&n->url, buf, sizeof(buf))));
	json_object_object_add(o, "broker", broker_info(&n->url));
	snprintf(buf, sizeof(buf), "%lld", (long long)n->clock.value);
	json_object_object_add(o, "clock", json_object_new_string(buf));
	json_object_object_add(o, "total", json_object_new_object());
	json_object_object_add(o, "prefetch_count", json_object_new_int(0));

	pool = json_object_new_object();
	json_object_object_add(pool, "implementation",
	    json_object_new_string("pidboxd"));
	json_object_object_add(pool, "max-concurrency", json_object_new_int(1));
	procs = json_object_new_array();
	json_object_array_add(procs, json_object_new_int(getpid()));
	json_object_object_add(pool, "processes", procs);
	json_object_object_add(pool, "max-tasks-per-child",
	    json_object_new_string("N/A"));
	json_object_object_add(pool, "put-guarded-by-semaphore",
	    json_object_new_boolean(0));
	t = json_object_new_array();
	json_object_array_add(t, json_object_new_int(0));
	json_object_array_add(t, json_object_new_int(0));
	json_object_object_add(pool, "timeouts", t);
	json_object_object_add(o, "pool", pool);

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return;
	r = json_object_new_object();
	json_object_object_add(r, "utime", tv_seconds(&ru.ru_utime));
	json_object_object_add(r, "stime", tv_seconds(&ru.ru_stime));
#define RU(f) json_object_object_add(r, #f, json_object_new_int64(ru.ru_##f))
	RU(maxrss);
	RU(ixrss);
	RU(idrss);
	RU(isrss);
	RU(minflt);
	RU(majflt);
	RU(nswap);
	RU(inblock);
	RU(oublock);
	RU(msgsnd);
	RU(msgrcv);
	RU(nsignals);
	RU(nvcsw);
	RU(nivcsw);
#undef RU
	json_object_object_add(o, "rusage", r);
}

/* {"ok": done} when changed, else {"ok": already}, as a worker words it. */
static int
events_reply(int changed, const char *done, const char *already,
    json_object **res)
{
	*res = json_object_new_object();
	json_object_object_add(*res, "ok",
	    json_object_new_string(changed ? done : already));
	return 0;
}

/*
 * Flower sends enable_events every few seconds: a worker answers as
 * below and starts its task events; pidboxd has no tasks and starts its
 * worker events (events.c), so that Flower's dashboard lists it.
 */
int
celery_enable_events(const struct call *c, json_object **res)
{
	(void)c;
	return events_reply(events_enable(), "task events enabled",
	    "task events already enabled", res);
}

int
celery_disable_events(const struct call *c, json_object **res)
{
	(void)c;
	return events_reply(events_disable(), "task events disabled",
	    "task events already disabled", res);
}

/* Celery's heartbeat: a worker-heartbeat now (when enabled); null. */
int
celery_heartbeat(const struct call *c, json_object **res)
{
	(void)c;
	events_heartbeat();
	*res = NULL;
	return 0;
}
