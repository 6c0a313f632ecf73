/*
 * The Node wired to Redis. Fanout: SUBSCRIBE to the mailbox channel on one
 * connection; direct/topic: BRPOP the node queue on one connection. A
 * command connection declares the binding and routes replies with one Lua
 * script, so a reply is pushed only while the client's binding exists and
 * the list always carries a TTL (spec 9).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

/*
 * KEYS[1] reply binding set, KEYS[2] the canonical reply list
 * ARGV[1] envelope, ARGV[2] TTL ms, ARGV[3] canonical member,
 * ARGV[4] SSCAN pattern for rk SEP *.
 * A reply goes only to the canonical list <rk>.reply.<ns>.pidbox, the
 * queue every kombu and Celery client declares, and only while its
 * binding member exists: one SISMEMBER, one LPUSH, one PEXPIRE. Nothing
 * else is ever pushed to or expired, whatever the binding set holds: a
 * member binding the routing key to another queue (anyone who can SADD
 * can write one) would otherwise route replies into, and put a TTL on,
 * any key of any application. Returns 1 when pushed; 0 when no binding;
 * -1 when a member naming another queue was seen for this routing key,
 * found by one SSCAN step (bounded work: a small set is one listpack, a
 * large one is scanned COUNT buckets, never walked), so it can be
 * counted and logged.
 */
static const char reply_script[] =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then\n"
    "  redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "local r = redis.call('SSCAN', KEYS[1], '0', 'MATCH', ARGV[4],"
    " 'COUNT', 16)\n"
    "if #r[2] > 0 then return -1 end\n"
    "return 0\n";

/*
 * Replies made while the command connection is down (a request came in on
 * the other connection meanwhile) wait here, bounded in number and age,
 * and go out when it is back: a Redis restart does not eat them.
 */
#define HOLD_MAX	256
#define HOLD_MS		10000

struct held {
	TAILQ_ENTRY(held)	 entry;
	int64_t			 at;
	struct node_action	 act;
};

static TAILQ_HEAD(, held) held = TAILQ_HEAD_INITIALIZER(held);
static int nheld;

static struct service {
	struct node	*node;
	struct link	*cmd;		/* commands and replies */
	struct link	*in;		/* SUBSCRIBE or BRPOP */
	char		 sha[64];	/* of reply_script, once loaded */
	int		 declared;	/* binding SADD done */
	int		 listening;	/* subscribed / popping */
	int		 announced;
	int		 brpop_pending;
	int		 stopping;
	struct timer	 refresh;
	struct timer	 brpop_watch;
	char		 health_channel[MAX_KEY];
	struct timer	 health;
	struct timer	 health_deadline;
	int		 health_pending;
	int64_t		 health_ms;	/* interval, 0: off */
	int		 health_cmd_ok;	/* the command link answered */
	int		 health_sub_ok;	/* the ping came back (fanout) */
	struct timer	 logflush;
} svc;

static void	 cmd_up(struct link *, void *);
static void	 cmd_down(struct link *, void *);
static void	 in_up(struct link *, void *);
static void	 in_down(struct link *, void *);
static void	 brpop(void);
static void	 held_flush(void);

static const struct link_ops cmd_ops = { cmd_up, cmd_down };
static const struct link_ops in_ops = { in_up, in_down };

static void
announce(void)
{
	char url[512];

	if (svc.announced || !svc.declared || !svc.listening)
		return;
	svc.announced = 1;
	log_info("node %s listening on %s mailbox %s (%s)",
	    log_viss(svc.node->conf->hostname),
	    mailbox_type_name(svc.node->conf->type),
	    svc.node->names.exchange,
	    redis_url_redacted(&svc.node->url, url, sizeof(url)));
	sdnotify_status("READY=1\nSTATUS=listening");
}

static void
on_sadd(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("cannot declare the binding: %s",
		    log_vis(reply->str, reply->len));
		link_readonly(svc.cmd, reply);
		return;
	}
	svc.declared = 1;
	announce();
}

static void
declare(void)
{
	const char	*argv[3];
	size_t		 argvlen[3];

	argv[0] = "SADD";
	argvlen[0] = 4;
	argv[1] = svc.node->names.node_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = svc.node->names.node_member;
	argvlen[2] = svc.node->names.node_member_len;
	if (link_cmd(svc.cmd, on_sadd, 3, argv, argvlen) == -1)
		log_warn("cannot declare the binding");
}

static void
on_refresh(void *arg)
{
	(void)arg;
	if (link_is_up(svc.cmd) && !svc.stopping)
		declare();
	timer_add(&svc.refresh, REFRESH_MS);
}

static void
on_script_load(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_STRING ||
	    reply->len >= sizeof(svc.sha)) {
		log_warnx("cannot load the reply script: %s",
		    reply->type == REDIS_REPLY_ERROR ?
		    log_vis(reply->str, reply->len) : "unexpected reply");
		return;
	}
	memcpy(svc.sha, reply->str, reply->len);
	svc.sha[reply->len] = '\0';
}

static void
cmd_up(struct link *l, void *arg)
{
	const char	*argv[3] = { "SCRIPT", "LOAD", reply_script };
	size_t		 argvlen[3] = { 6, 4, sizeof(reply_script) - 1 };

	(void)arg;
	svc.sha[0] = '\0';
	if (link_cmd(l, on_script_load, 3, argv, argvlen) == -1)
		log_warn("cannot load the reply script");
	declare();
	timer_add(&svc.refresh, REFRESH_MS);
	if (svc.health_ms > 0)
		timer_add(&svc.health, svc.health_ms < 1000 ? svc.health_ms :
		    1000);
	held_flush();
	if (svc.node->conf->type != MAILBOX_FANOUT)
		brpop();	/* it waited for a way to reply */
}

static void
held_drop(struct held *h)
{
	TAILQ_REMOVE(&held, h, entry);
	nheld--;
	free(h->act.payload);
	free(h);
}

static void
hold_reply(const struct node_action *act)
{
	struct held *h;

	if (nheld == HOLD_MAX) {
		held_drop(TAILQ_FIRST(&held));
		svc.node->stats.reply_unrouted++;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->act.payload = malloc(act->payloadlen)) == NULL) {
		free(h);
		log_warn("reply to %s lost", log_viss(act->routing_key));
		svc.node->stats.reply_unrouted++;
		return;
	}
	h->at = now_mono_ms();
	memcpy(h->act.routing_key, act->routing_key, sizeof(act->routing_key));
	memcpy(h->act.queue, act->queue, sizeof(act->queue));
	memcpy(h->act.payload, act->payload, act->payloadlen);
	h->act.payloadlen = act->payloadlen;
	h->act.reply = 1;
	TAILQ_INSERT_TAIL(&held, h, entry);
	nheld++;
}

/* The command connection is back: send what waited, unless too old. */
static void
held_flush(void)
{
	struct held	*h;
	int64_t		 now = now_mono_ms();

	while ((h = TAILQ_FIRST(&held)) != NULL) {
		if (now - h->at <= HOLD_MS)
			service_send_reply(&h->act);
		else
			svc.node->stats.reply_unrouted++;
		held_drop(h);
	}
}

static void
cmd_down(struct link *l, void *arg)
{
	(void)arg;
	(void)l;
	svc.declared = 0;
	svc.sha[0] = '\0';
	timer_del(&svc.refresh);
	timer_del(&svc.health);
	timer_del(&svc.health_deadline);
	svc.health_pending = 0;
	svc.node->stats.reconnects++;
	sdnotify_status("STATUS=broker connection lost, reconnecting");
}

static void
on_reply_routed(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("cannot route a reply: %s",
		    log_vis(reply->str, reply->len));
		svc.node->stats.reply_unrouted++;
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
			cmd_up(svc.cmd, NULL);	/* script cache flushed */
		else
			link_readonly(svc.cmd, reply);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		/* the client is gone or never bound its queue */
		log_debug("reply dropped: no reply queue bound");
		svc.node->stats.reply_unrouted++;
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer < 0) {
		log_warnx("reply dropped: the reply binding set binds its "
		    "routing key only to queues other than the client's own; "
		    "those are ignored");
		svc.node->stats.reply_unrouted++;
		svc.node->stats.reply_foreign++;
		return;
	}
	svc.node->stats.replied++;
}

/* Escape the glob metacharacters of Redis' MATCH. */
static int
glob_escape(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; *s != '\0'; s++) {
		if (i + 3 >= len)
			return -1;
		if (strchr("*?[]\\", *s) != NULL)
			buf[i++] = '\\';
		buf[i++] = *s;
	}
	buf[i] = '\0';
	return 0;
}

/* Route one reply to its client's list (see reply_script). */
void
service_send_reply(const struct node_action *act)
{
	const struct names *nm = &svc.node->names;
	char		 list[MAX_KEY], member[MAX_KEY], pat[2 * MAX_KEY];
	char		 ttl[32];
	const char	*argv[11];
	size_t		 argvlen[11];
	int		 mlen, i = 0;

	if (!link_is_up(svc.cmd) && !svc.stopping) {
		hold_reply(act);
		return;
	}
	if (snprintf(list, sizeof(list), "%s%s", nm->keyprefix, act->queue) >=
	    (int)sizeof(list) ||
	    (mlen = binding_member(act->routing_key, "", act->queue, member,
	    sizeof(member))) == -1 ||
	    glob_escape(act->routing_key, pat, sizeof(pat) - 4) == -1) {
		log_warnx("reply to %s: names too long",
		    log_viss(act->routing_key));
		svc.node->stats.reply_unrouted++;
		return;
	}
	strlcat(pat, KOMBU_SEP "*", sizeof(pat));
	snprintf(ttl, sizeof(ttl), "%d", svc.node->conf->reply_ttl * 1000);
	if (svc.sha[0] != '\0') {
		argv[i] = "EVALSHA";
		argvlen[i++] = 7;
		argv[i] = svc.sha;
	} else {
		argv[i] = "EVAL";
		argvlen[i++] = 4;
		argv[i] = reply_script;
	}
	argvlen[i] = strlen(argv[i]);
	i++;
	argv[i] = "2";
	argvlen[i++] = 1;
	argv[i] = nm->reply_binding_key;
	argvlen[i] = strlen(argv[i]);
	i++;
	argv[i] = list;
	argvlen[i] = strlen(list);
	i++;
	argv[i] = act->payload;
	argvlen[i++] = act->payloadlen;
	argv[i] = ttl;
	argvlen[i] = strlen(ttl);
	i++;
	argv[i] = member;
	argvlen[i++] = (size_t)mlen;
	argv[i] = pat;
	argvlen[i] = strlen(pat);
	i++;
	if (link_cmd(svc.cmd, on_reply_routed, i, argv, argvlen) ==
	    -1) {
		log_warn("reply to %s lost", log_viss(act->routing_key));
		svc.node->stats.reply_unrouted++;
	}
}

static void
handle(const char *buf, size_t len)
{
	struct node_action act;

	if (node_handle(svc.node, buf, len, now_wall(), &act) == 0 &&
	    act.reply)
		service_send_reply(&act);
	node_action_free(&act);
}

/* fanout: every frame of the subscription */
static void
on_message(struct link *l, const redisReply *reply, void *arg)
{
	redisReply	*kind, *chan;

	(void)l;
	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3)
		return;
	kind = reply->element[0];
	chan = reply->element[1];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "unsubscribe") == 0) {
		/* leaving: once no channel is left, disconnect cleanly */
		if (svc.stopping && reply->element[2]->type ==
		    REDIS_REPLY_INTEGER && reply->element[2]->integer == 0)
			link_stop(svc.in);
		return;
	}
	if (strcmp(kind->str, "subscribe") == 0) {
		if (chan->type == REDIS_REPLY_STRING &&
		    strcmp(chan->str, svc.node->names.fanout_channel) == 0) {
			svc.listening = 1;
			announce();
		}
		return;
	}
	if (strcmp(kind->str, "message") != 0 ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (chan->type == REDIS_REPLY_STRING &&
	    strcmp(chan->str, svc.health_channel) == 0) {
		svc.health_sub_ok = 1;
		return;
	}
	handle(reply->element[2]->str, reply->element[2]->len);
}

static void
on_health_reply(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply != NULL)
		svc.health_cmd_ok = 1;
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
	fanout = svc.node->conf->type == MAILBOX_FANOUT;
	if (svc.stopping || svc.health_pending || !link_is_up(svc.cmd) ||
	    (fanout && !link_is_up(svc.in)))
		goto again;
	if (fanout) {
		argv[0] = "PUBLISH";
		argvlen[0] = 7;
		argv[1] = svc.health_channel;
		argvlen[1] = strlen(svc.health_channel);
		argv[2] = "ping";
		argvlen[2] = 4;
		argc = 3;
	} else {
		argv[0] = "PING";
		argvlen[0] = 4;
		argc = 1;
	}
	if (link_cmd(svc.cmd, on_health_reply, argc, argv, argvlen) ==
	    0) {
		svc.health_pending = 1;
		svc.health_cmd_ok = 0;
		svc.health_sub_ok = !fanout;
		dl = svc.health_ms < HEALTH_DEADLINE_MS ? svc.health_ms :
		    HEALTH_DEADLINE_MS;
		timer_add(&svc.health_deadline, dl < 1000 ? 1000 : dl);
	}
again:
	timer_add(&svc.health, svc.health_ms);
}

static void
on_health_deadline(void *arg)
{
	(void)arg;
	if (!svc.health_pending)
		return;
	svc.health_pending = 0;
	if (!svc.health_cmd_ok) {
		link_reset(svc.cmd, "the broker did not answer the health "
		    "check");
		/* the subscriber shares its fate (same server, same path) */
		if (svc.node->conf->type == MAILBOX_FANOUT)
			link_reset(svc.in, "the broker did not answer the "
			    "health check");
	} else if (!svc.health_sub_ok)
		link_reset(svc.in, "subscription health check got no answer");
}

static void
on_logflush(void *arg)
{
	(void)arg;
	log_ratelimit_flush();
	timer_add(&svc.logflush, 5000);
}

/* direct: one BRPOP in flight at a time */
static void
on_brpop(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	svc.brpop_pending = 0;
	timer_del(&svc.brpop_watch);
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("BRPOP: %s", log_vis(reply->str, reply->len));
		link_reset(svc.in, "BRPOP failed");
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[1]->type == REDIS_REPLY_STRING)
		handle(reply->element[1]->str, reply->element[1]->len);
	brpop();
}

static void
on_brpop_watch(void *arg)
{
	(void)arg;
	if (svc.brpop_pending)
		link_reset(svc.in, "BRPOP got no answer in time");
}

static void
brpop(void)
{
	const struct names *nm = &svc.node->names;
	const char	*argv[6];
	size_t		 argvlen[6];
	char		 to[16];
	int		 i;

	/*
	 * Take no request off the list while replies cannot go out: it
	 * waits in Redis until the command connection is back.
	 */
	if (svc.stopping || !link_is_up(svc.in) || svc.brpop_pending ||
	    !link_is_up(svc.cmd))
		return;
	argv[0] = "BRPOP";
	argvlen[0] = 5;
	for (i = 0; i < 4; i++) {
		argv[i + 1] = nm->node_queue_keys[i];
		argvlen[i + 1] = strlen(argv[i + 1]);
	}
	snprintf(to, sizeof(to), "%d", BRPOP_TIMEOUT);
	argv[5] = to;
	argvlen[5] = strlen(to);
	if (link_cmd(svc.in, on_brpop, 6, argv, argvlen) == -1) {
		log_warn("BRPOP");
		return;
	}
	svc.brpop_pending = 1;
	timer_add(&svc.brpop_watch, (BRPOP_TIMEOUT + 10) * 1000);
	svc.listening = 1;
	announce();
}

static void
in_up(struct link *l, void *arg)
{
	const char	*argv[3];
	size_t		 argvlen[3];
	int		 argc = 2;

	(void)arg;
	if (svc.node->conf->type != MAILBOX_FANOUT) {
		brpop();
		return;
	}
	argv[0] = "SUBSCRIBE";
	argvlen[0] = 9;
	argv[1] = svc.node->names.fanout_channel;
	argvlen[1] = strlen(argv[1]);
	if (svc.health_ms > 0) {
		argv[2] = svc.health_channel;
		argvlen[2] = strlen(argv[2]);
		argc = 3;
	}
	if (link_cmd(l, on_message, argc, argv, argvlen) == -1)
		link_reset(l, "cannot subscribe");
}

static void
in_down(struct link *l, void *arg)
{
	(void)arg;
	(void)l;
	svc.listening = 0;
	svc.brpop_pending = 0;
	svc.announced = 0;
	timer_del(&svc.brpop_watch);
	/* a check in flight would now judge the new connection */
	svc.health_pending = 0;
	timer_del(&svc.health_deadline);
}

int
service_start(struct node *n)
{
	char uuid[UUID_STRLEN + 1];

	memset(&svc, 0, sizeof(svc));
	svc.node = n;
	n->send = service_send_reply;	/* replies of exec handlers */
	uuid4(uuid);
	if (snprintf(svc.health_channel, sizeof(svc.health_channel),
	    "%spidbox.health.%s", n->names.keyprefix, uuid) >=
	    (int)sizeof(svc.health_channel))
		fatalx("global key prefix too long");
	timer_set(&svc.refresh, on_refresh, NULL);
	timer_set(&svc.brpop_watch, on_brpop_watch, NULL);
	timer_set(&svc.health, on_health, NULL);
	timer_set(&svc.health_deadline, on_health_deadline, NULL);
	timer_set(&svc.logflush, on_logflush, NULL);
	svc.health_ms = (int64_t)((n->url.health_check_set ?
	    n->url.health_check_interval : HEALTH_CHECK_DEFAULT) * 1000);
	/* a flood of bad input must not fill the disk (issue 5) */
	log_ratelimit(20, 2);
	timer_add(&svc.logflush, 5000);
	svc.cmd = link_new("broker", &n->url, &cmd_ops, NULL);
	svc.in = link_new(n->conf->type == MAILBOX_FANOUT ? "subscriber" :
	    "consumer", &n->url, &in_ops, NULL);
	link_start(svc.cmd);
	link_start(svc.in);
	return 0;
}

static void
on_srem(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)reply;
	(void)arg;
	link_stop(svc.cmd);
}

/* Leave cleanly: unsubscribe, remove our binding member, disconnect. */
void
service_stop(void)
{
	const struct names *nm = &svc.node->names;
	const char	*argv[3];
	size_t		 argvlen[3];

	if (svc.stopping)
		return;
	svc.stopping = 1;
	timer_del(&svc.refresh);
	timer_del(&svc.health);
	timer_del(&svc.health_deadline);
	timer_del(&svc.brpop_watch);
	timer_del(&svc.logflush);
	log_ratelimit_flush();
	if (svc.node->conf->type == MAILBOX_FANOUT &&
	    link_is_up(svc.in)) {
		argv[0] = "UNSUBSCRIBE";
		argvlen[0] = 11;
		if (link_cmd(svc.in, NULL, 1, argv, argvlen) == -1)
			link_close(svc.in);
	} else
		link_close(svc.in);	/* a BRPOP may be in flight */
	argv[0] = "SREM";
	argvlen[0] = 4;
	argv[1] = nm->node_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = nm->node_member;
	argvlen[2] = nm->node_member_len;
	if (link_cmd(svc.cmd, on_srem, 3, argv, argvlen) == -1)
		link_close(svc.cmd);
	sdnotify_status("STOPPING=1");
}

int
service_stopped(void)
{
	return link_is_down(svc.cmd) && link_is_down(svc.in);
}

/* Tear everything down now (after the stop deadline). */
void
service_abort(void)
{
	link_close(svc.in);
	link_close(svc.cmd);
	while (!TAILQ_EMPTY(&held))
		held_drop(TAILQ_FIRST(&held));
	link_free(svc.in);
	link_free(svc.cmd);
	svc.in = svc.cmd = NULL;
}
