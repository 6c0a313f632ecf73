/*
 * Celery's worker events, so that Flower and `celery events` see the node
 * as a worker: worker-online, a worker-heartbeat every EVENTS_FREQ
 * seconds, worker-offline. Celery's event exchange "celeryev" is a
 * kombu fanout exchange with fanout patterns: over Redis each event is a
 * PUBLISH to <keyprefix><fanout prefix>celeryev/worker.<kind> of a kombu
 * envelope, body and headers as a Celery 5.2 worker writes them (captured
 * with redis-cli MONITOR). Off until enable_events (Flower sends it every
 * few seconds), off again after disable_events: a node that nobody
 * watches stays quiet. Events are transient, as Celery's: one that finds
 * the command link down is dropped.
 */
#include <sys/types.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pidboxd.h"

#define EVENTS_EXCHANGE	"celeryev"
#define EVENTS_FREQ	2.0	/* seconds, Celery's worker_heartbeat default */

static struct {
	struct node	*node;
	struct link	*cmd;
	int		 on;
	struct timer	 heartbeat;
} ev;

/* Python's time.timezone (or altzone) // 3600, as Celery's utcoffset(). */
static int64_t
utcoffset(void)
{
	struct tm	 tm;
	time_t		 t = time(NULL);
	int64_t		 west, q;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	west = -(int64_t)tm.tm_gmtoff;
	q = west / 3600;
	if (west % 3600 != 0 && west < 0)
		q--;	/* Python's // rounds down */
	return q;
}

/*
 * Publish one event of type "worker-<kind>"; full: the worker's load
 * fields too (the periodic events; the heartbeat method leaves them out).
 */
static void
send_event(const char *kind, int full)
{
	struct envelope_out	 out;
	json_object		*body, *hdr, *la;
	size_t			 bodylen, len;
	char			*btext = NULL, *env = NULL;
	char			 type[32], rk[32], chan[MAX_KEY];
	double			 load[3];
	int			 i;

	snprintf(type, sizeof(type), "worker-%s", kind);
	snprintf(rk, sizeof(rk), "worker.%s", kind);
	if (!link_is_up(ev.cmd) ||
	    (size_t)snprintf(chan, sizeof(chan), "%s" EVENTS_EXCHANGE "/%s",
	    ev.node->names.fanout_base, rk) >= sizeof(chan))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "hostname",
	    json_object_new_string(ev.node->conf->hostname));
	json_object_object_add(body, "utcoffset",
	    json_object_new_int64(utcoffset()));
	json_object_object_add(body, "pid", json_object_new_int(getpid()));
	json_object_object_add(body, "clock",
	    json_object_new_int64(clock_forward(&ev.node->clock)));
	/* Celery: 2.0 from its timer, 5 (an int) from the heartbeat method */
	json_object_object_add(body, "freq", full ?
	    json_object_new_double(EVENTS_FREQ) : json_object_new_int(5));
	if (full) {
		json_object_object_add(body, "active", json_object_new_int(0));
		json_object_object_add(body, "processed",
		    json_object_new_int(0));
		/* Celery's load_average(): rounded up to 1/100 */
		if (getloadavg(load, 3) == 3) {
			la = json_object_new_array();
			for (i = 0; i < 3; i++)
				json_object_array_add(la,
				    json_object_new_double(
				    ceil(load[i] * 100.0) / 100.0));
			json_object_object_add(body, "loadavg", la);
		}
	}
	json_object_object_add(body, "sw_ident",
	    json_object_new_string("pidboxd"));
	json_object_object_add(body, "sw_ver",
	    json_object_new_string(PIDBOX_VERSION));
	json_object_object_add(body, "sw_sys", json_object_new_string("Linux"));
	json_object_object_add(body, "timestamp",
	    json_object_new_double(now_wall()));
	json_object_object_add(body, "type", json_object_new_string(type));
	hdr = json_object_new_object();
	json_object_object_add(hdr, "hostname",
	    json_object_new_string(ev.node->conf->hostname));
	if ((btext = pyjson_dumps(body, &bodylen)) == NULL)
		goto fail;
	memset(&out, 0, sizeof(out));
	out.body = btext;
	out.bodylen = bodylen;
	out.headers = hdr;
	out.delivery_mode = 1;	/* transient, as Celery's events */
	out.exchange = EVENTS_EXCHANGE;
	out.routing_key = rk;
	if ((env = envelope_encode(&out, &len)) == NULL)
		goto fail;
	if (link_publish(ev.cmd, chan, env, len) == -1)
		goto fail;
	goto done;
fail:
	log_warn("cannot send the %s event", type);
done:
	free(env);
	free(btext);
	json_object_put(hdr);
	json_object_put(body);
}

static void
on_heartbeat(void *arg)
{
	(void)arg;
	if (!ev.on)
		return;
	send_event("heartbeat", 1);
	timer_add(&ev.heartbeat, (int64_t)(EVENTS_FREQ * 1000));
}

/* Send n's events on cmd (borrowed) once enabled. */
void
events_init(struct node *n, struct link *cmd)
{
	memset(&ev, 0, sizeof(ev));
	ev.node = n;
	ev.cmd = cmd;
	timer_set(&ev.heartbeat, on_heartbeat, NULL);
}

/* Start sending: worker-online, then heartbeats. 0 when already on. */
int
events_enable(void)
{
	if (ev.on)
		return 0;
	ev.on = 1;
	log_info("worker events enabled by remote");
	send_event("online", 1);
	timer_add(&ev.heartbeat, (int64_t)(EVENTS_FREQ * 1000));
	return 1;
}

/* Stop sending, with a worker-offline. 0 when already off. */
int
events_disable(void)
{
	if (!ev.on)
		return 0;
	send_event("offline", 1);
	ev.on = 0;
	timer_del(&ev.heartbeat);
	log_info("worker events disabled");
	return 1;
}

/* Celery's heartbeat method: one worker-heartbeat now, when enabled. */
void
events_heartbeat(void)
{
	if (ev.on)
		send_event("heartbeat", 0);
}
