/*
 * Replies, routed to their client's list by one Lua script on the command
 * link (reply_route_lua, common/reply.c), so that a reply is pushed only
 * while the client's binding exists and the list always carries a TTL
 * (spec 9). Replies made while the link is down wait in a bounded
 * queue. Owns the reply counters.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"


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

static struct {
	struct node		*node;
	struct link		*cmd;
	void			(*resync)(void);
	char			 sha[64];	/* of reply_route_lua, once loaded */
	struct reply_route	 route;		/* for sha (or EVAL) */
	int64_t			 route_ttl;
	int			 stopping;
	struct reply_counters	 count;
	TAILQ_HEAD(, held)	 held;
	int			 nheld;
} rs = { .held = TAILQ_HEAD_INITIALIZER(rs.held) };

static void
on_script_load(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_STRING ||
	    reply->len >= sizeof(rs.sha)) {
		log_warnx("cannot load the reply script: %s",
		    reply->type == REDIS_REPLY_ERROR ?
		    log_vis(reply->str, reply->len) : "unexpected reply");
		return;
	}
	memcpy(rs.sha, reply->str, reply->len);
	rs.sha[reply->len] = '\0';
	reply_route_clear(&rs.route);
}

static void
held_drop(struct held *h)
{
	TAILQ_REMOVE(&rs.held, h, entry);
	rs.nheld--;
	free(h->act.payload);
	free(h);
}

static void
hold_reply(const struct node_action *act)
{
	struct held *h;

	if (rs.nheld == HOLD_MAX) {
		held_drop(TAILQ_FIRST(&rs.held));
		rs.count.unrouted++;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->act.payload = malloc(act->payloadlen)) == NULL) {
		free(h);
		log_warn("reply to %s lost", log_viss(act->routing_key));
		rs.count.unrouted++;
		return;
	}
	h->at = now_mono_ms();
	memcpy(h->act.routing_key, act->routing_key, sizeof(act->routing_key));
	memcpy(h->act.queue, act->queue, sizeof(act->queue));
	memcpy(h->act.payload, act->payload, act->payloadlen);
	h->act.payloadlen = act->payloadlen;
	h->act.reply = 1;
	TAILQ_INSERT_TAIL(&rs.held, h, entry);
	rs.nheld++;
}

/* The command connection is back: send what waited, unless too old. */
void
replies_flush(void)
{
	struct held	*h;
	int64_t		 now = now_mono_ms();

	while ((h = TAILQ_FIRST(&rs.held)) != NULL) {
		if (now - h->at <= HOLD_MS)
			replies_send(&h->act);
		else
			rs.count.unrouted++;
		held_drop(h);
	}
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
		rs.count.unrouted++;
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
			rs.resync();	/* script cache flushed */
		else
			link_readonly(rs.cmd, reply);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		/* the client is gone or never bound its queue */
		log_debug("reply dropped: no reply queue bound");
		rs.count.unrouted++;
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer < 0) {
		log_warnx("reply dropped: the reply binding set binds its "
		    "routing key only to queues other than the client's own; "
		    "those are ignored");
		rs.count.unrouted++;
		rs.count.foreign++;
		return;
	}
	rs.count.replied++;
}

/* Route one reply to its client's list (see reply_route_lua). */
void
replies_send(const struct node_action *act)
{
	const struct names *nm = &rs.node->names;
	const char	*cmd;
	size_t		 len;
	int64_t		 ttl = (int64_t)rs.node->conf->reply_ttl * 1000;

	if (!link_is_up(rs.cmd) && !rs.stopping) {
		hold_reply(act);
		return;
	}
	/* cleared whenever sha changes; formatted again on a new TTL too */
	if (rs.route.head == NULL || rs.route_ttl != ttl) {
		if (reply_route_init(&rs.route, rs.sha[0] != '\0' ? rs.sha :
		    NULL, nm->reply_binding_key, ttl) == -1) {
			log_warn("reply to %s lost",
			    log_viss(act->routing_key));
			rs.count.unrouted++;
			return;
		}
		rs.route_ttl = ttl;
	}
	if (reply_route_cmd(&rs.route, nm->keyprefix, act->queue,
	    act->routing_key, act->payload, act->payloadlen, &cmd,
	    &len) == -1) {
		if (errno == ENAMETOOLONG)
			log_warnx("reply to %s: names too long",
			    log_viss(act->routing_key));
		else
			log_warn("reply to %s lost",
			    log_viss(act->routing_key));
		rs.count.unrouted++;
		return;
	}
	if (link_cmd_formatted(rs.cmd, on_reply_routed, cmd, len) == -1) {
		log_warn("reply to %s lost", log_viss(act->routing_key));
		rs.count.unrouted++;
	}
}

/*
 * Route replies through cmd (borrowed) for n. resync is called when the
 * script cache was flushed (NOSCRIPT): the command link's set-up is
 * run again. Counters start at zero.
 */
void
replies_init(struct node *n, struct link *cmd, void (*resync)(void))
{
	rs.node = n;
	rs.cmd = cmd;
	rs.resync = resync;
	rs.sha[0] = '\0';
	reply_route_clear(&rs.route);
	rs.stopping = 0;
	memset(&rs.count, 0, sizeof(rs.count));
}

/* The command link is up: load the script (EVAL until it is in). */
void
replies_load_script(void)
{
	const char	*argv[3] = { "SCRIPT", "LOAD", reply_route_lua };
	size_t		 argvlen[3] = { 6, 4, strlen(reply_route_lua) };

	rs.sha[0] = '\0';
	reply_route_clear(&rs.route);
	if (link_cmd(rs.cmd, on_script_load, 3, argv, argvlen) == -1)
		log_warn("cannot load the reply script");
}

/* The command link is down: the next server may not have the script. */
void
replies_link_down(void)
{
	rs.sha[0] = '\0';
	reply_route_clear(&rs.route);
}

/* Leaving: a reply is sent now or lost, never held. */
void
replies_stop(void)
{
	rs.stopping = 1;
}

/* Drop the replies still held. */
void
replies_clear(void)
{
	while (!TAILQ_EMPTY(&rs.held))
		held_drop(TAILQ_FIRST(&rs.held));
	reply_route_clear(&rs.route);
}

void
replies_counters(struct reply_counters *c)
{
	*c = rs.count;
	c->held = (uint64_t)rs.nheld;
}
