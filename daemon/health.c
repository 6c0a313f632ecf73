/*
 * Health checks of the two links (kombu's health_check_interval): a
 * silent broker is noticed in seconds, not after TCP keepalive's minutes.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "pidboxd.h"

static struct {
	struct node	*node;
	struct link	*cmd;
	struct link	*in;
	char		 channel[MAX_KEY];	/* fanout: our own echo */
	int64_t		 ms;		/* interval, 0: off */
	struct timer	 timer;
	struct timer	 deadline;
	int		 pending;
	int		 cmd_ok;	/* the command link answered */
	int		 sub_ok;	/* the ping came back (fanout) */
	int		 stopping;
} hc;

static void
on_health_reply(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply != NULL)
		hc.cmd_ok = 1;
}

/*
 * The health check (kombu's health_check_interval, on by default): the
 * command link must answer a PUBLISH (fanout) or PING (direct), and in
 * fanout mode the subscriber must receive what was published, within the
 * deadline; otherwise the silent link is dropped and reconnected. TCP
 * keepalive alone takes minutes to notice a dead peer.
 */
static void
on_health(void *arg)
{
	const char	*argv[3];
	size_t		 argvlen[3];
	int		 argc, fanout;
	int64_t		 dl;

	(void)arg;
	fanout = hc.node->conf->type == MAILBOX_FANOUT;
	if (hc.stopping || hc.pending || !link_is_up(hc.cmd) ||
	    (fanout && !link_is_up(hc.in)))
		goto again;
	if (fanout) {
		argv[0] = "PUBLISH";
		argvlen[0] = 7;
		argv[1] = hc.channel;
		argvlen[1] = strlen(hc.channel);
		argv[2] = "ping";
		argvlen[2] = 4;
		argc = 3;
	} else {
		argv[0] = "PING";
		argvlen[0] = 4;
		argc = 1;
	}
	if (link_cmd(hc.cmd, on_health_reply, argc, argv, argvlen) == 0) {
		hc.pending = 1;
		hc.cmd_ok = 0;
		hc.sub_ok = !fanout;
		dl = hc.ms < HEALTH_DEADLINE_MS ? hc.ms :
		    HEALTH_DEADLINE_MS;
		timer_add(&hc.deadline, dl < 1000 ? 1000 : dl);
	}
again:
	timer_add(&hc.timer, hc.ms);
}

static void
on_health_deadline(void *arg)
{
	(void)arg;
	if (!hc.pending)
		return;
	hc.pending = 0;
	if (!hc.cmd_ok) {
		link_reset(hc.cmd, "the broker did not answer the health "
		    "check");
		/*
		 * the input link shares its fate (same server, same path):
		 * a blocked pop would otherwise wait for its watchdog
		 */
		link_reset(hc.in, "the broker did not answer the health "
		    "check");
	} else if (!hc.sub_ok)
		link_reset(hc.in, "subscription health check got no answer");
}

/*
 * Check cmd and in (borrowed) of n at the interval its broker URL sets
 * (HEALTH_CHECK_DEFAULT otherwise; 0: off), once health_start() is
 * called.
 */
void
health_init(struct node *n, struct link *cmd, struct link *in)
{
	char uuid[UUID_STRLEN + 1];

	memset(&hc, 0, sizeof(hc));
	hc.node = n;
	hc.cmd = cmd;
	hc.in = in;
	uuid4(uuid);
	if (snprintf(hc.channel, sizeof(hc.channel), "%spidbox.health.%s",
	    n->names.keyprefix, uuid) >= (int)sizeof(hc.channel))
		fatalx("global key prefix too long");
	timer_set(&hc.timer, on_health, NULL);
	timer_set(&hc.deadline, on_health_deadline, NULL);
	hc.ms = (int64_t)((n->url.health_check_set ?
	    n->url.health_check_interval : HEALTH_CHECK_DEFAULT) * 1000);
}

/*
 * The channel the fanout subscriber must also listen to, where the checks
 * publish; NULL when checks are off. Borrowed.
 */
const char *
health_channel(void)
{
	return hc.ms > 0 ? hc.channel : NULL;
}

/* The subscriber received a check's PUBLISH. */
void
health_pong(void)
{
	hc.sub_ok = 1;
}

/* The command link is up: the first check within a second. */
void
health_start(void)
{
	if (hc.ms > 0)
		timer_add(&hc.timer, hc.ms < 1000 ? hc.ms : 1000);
}

/* A check in flight would now judge a new connection: forget it. */
void
health_forget(void)
{
	hc.pending = 0;
	timer_del(&hc.deadline);
}

/* The command link is down: no checks until health_start(). */
void
health_stop(void)
{
	timer_del(&hc.timer);
	health_forget();
}

/* Leaving: no more checks. */
void
health_shutdown(void)
{
	hc.stopping = 1;
	health_stop();
}
