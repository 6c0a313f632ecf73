/*
 * Replies, routed to their client's list on the command link: pushed
 * only while the client's binding exists, and the list always carries a
 * TTL (spec 9). Replies made while the link is down wait in a bounded
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
	int			 stopping;
	struct reply_counters	 count;
	TAILQ_HEAD(, held)	 held;
	int			 nheld;
	/*
	 * Replies whose SISMEMBER is in flight, in the order sent: the
	 * broker answers a connection's commands in order, so on_member()
	 * is always about the first.
	 */
	TAILQ_HEAD(, route)	 routing;
} rs = {
	.held = TAILQ_HEAD_INITIALIZER(rs.held),
	.routing = TAILQ_HEAD_INITIALIZER(rs.routing),
};

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

/*
 * A reply on its way: its client's binding is being checked (SISMEMBER),
 * then it is pushed. rk and queue point into buf, after the payload.
 */
struct route {
	TAILQ_ENTRY(route)	 entry;
	const char	*rk;
	const char	*queue;		/* the list is key prefix + queue */
	const char	*payload;	/* in the LPUSH */
	size_t		 payloadlen;
	size_t		 pushlen;	/* LPUSH, formatted, at buf */
	size_t		 expirelen;	/* PEXPIRE, formatted, after it */
	char		 buf[];		/* LPUSH, PEXPIRE, rk, queue */
};

static void	 on_member(struct link *, const redisReply *, void *);

/* An error from the broker: 1 when reply is one (logged and counted). */
static int
route_error(const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ERROR)
		return 0;
	log_warnx("cannot route a reply: %s", log_vis(reply->str, reply->len));
	rs.count.unrouted++;
	link_readonly(rs.cmd, reply);
	return 1;
}

static void
on_pushed(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL || route_error(reply))
		return;
	rs.count.replied++;
}

static void
on_expire(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("cannot set the reply list's TTL: %s",
		    log_vis(reply->str, reply->len));
}

/* Not bound: are there members for rk, but for other queues? */
static void
on_scan(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (reply == NULL || route_error(reply))
		return;
	rs.count.unrouted++;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[1]->type == REDIS_REPLY_ARRAY &&
	    reply->element[1]->elements > 0) {
		log_warnx("reply dropped: the reply binding set binds its "
		    "routing key only to queues other than the client's own; "
		    "those are ignored");
		rs.count.foreign++;
	} else
		log_debug("reply dropped: no reply queue bound");
}

/*
 * The binding was not there: look for members of rk for other queues
 * (one bounded SSCAN step), only to tell the operator why.
 */
static void
route_scan(const struct route *r)
{
	const char	*argv[7];
	size_t		 argvlen[7];
	char		 pat[2 * MAX_KEY];

	if (glob_escape(r->rk, pat, sizeof(pat) - 4) == -1) {
		rs.count.unrouted++;
		return;
	}
	strlcat(pat, KOMBU_SEP "*", sizeof(pat));
	argv[0] = "SSCAN";
	argv[1] = rs.node->names.reply_binding_key;
	argv[2] = "0";
	argv[3] = "MATCH";
	argv[4] = pat;
	argv[5] = "COUNT";
	argv[6] = "16";
	for (int i = 0; i < 7; i++)
		argvlen[i] = strlen(argv[i]);
	if (link_cmd(rs.cmd, on_scan, 7, argv, argvlen) == -1)
		rs.count.unrouted++;
}

/* Bound: push the reply and (re)set the list's TTL, pipelined. */
static void
route_push(const struct route *r)
{
	char	list[MAX_KEY];
	int	e;

	if (link_cmd_formatted(rs.cmd, on_pushed, r->buf, r->pushlen) == -1) {
		log_warn("reply to %s lost", log_viss(r->rk));
		rs.count.unrouted++;
		return;
	}
	if (link_cmd_formatted(rs.cmd, on_expire, r->buf + r->pushlen + 1,
	    r->expirelen) == -1) {
		e = errno;	/* for log_warn */
		(void)snprintf(list, sizeof(list), "%s%s",
		    rs.node->names.keyprefix, r->queue);
		errno = e;
		log_warn("reply list %s: no TTL", log_viss(list));
	}
}

/* Hold r again: the connection went before the binding was confirmed. */
static void
route_hold(const struct route *r)
{
	struct node_action act;

	memset(&act, 0, sizeof(act));
	act.reply = 1;
	act.payload = (char *)(uintptr_t)r->payload;
	act.payloadlen = r->payloadlen;
	strlcpy(act.routing_key, r->rk, sizeof(act.routing_key));
	strlcpy(act.queue, r->queue, sizeof(act.queue));
	hold_reply(&act);
}

static void
on_member(struct link *l, const redisReply *reply, void *arg)
{
	struct route	*r;

	(void)l;
	(void)arg;
	if ((r = TAILQ_FIRST(&rs.routing)) == NULL)
		fatalx("%s: a binding check answered that was not asked",
		    __func__);
	TAILQ_REMOVE(&rs.routing, r, entry);
	if (reply == NULL) {
		/* nothing was pushed yet: it may go out once back */
		if (!rs.stopping)
			route_hold(r);
		else
			rs.count.unrouted++;
	} else if (route_error(reply))
		;
	else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
		route_push(r);
	else
		route_scan(r);
	free(r);
}

/*
 * Route one reply to its client's list as kombu's Redis transport does,
 * the binding looked up and then LPUSH, but only to the canonical list
 * <rk>.reply.<ns>.pidbox, the queue every kombu and Celery client
 * declares, and only while its canonical binding member is in the reply
 * binding set (spec 9): SISMEMBER, then LPUSH and PEXPIRE. Nothing else is
 * ever pushed to or expired, whatever the set holds: a member binding the
 * routing key to another queue (anyone who can SADD can write one) would
 * otherwise route replies into, and put a TTL on, any key of any
 * application; such a member is only counted (one bounded SSCAN step).
 *
 * Two round trips, like kombu's SMEMBERS then LPUSH. A Lua script did it
 * in one, atomically, but a script call costs Redis about twice what the
 * three commands do (docs/BENCHMARKS.md), and Redis serialises every
 * node's reply. The price: a client that removes its binding and lists
 * in the one round trip between SISMEMBER and LPUSH gets its list
 * created again, with the TTL, so it expires (kombu's would stay).
 */
void
replies_send(const struct node_action *act)
{
	const struct names *nm = &rs.node->names;
	struct route	*r;
	char		 member[MAX_KEY], list[MAX_KEY], ttl[32], *p;
	char		 sis[3 * MAX_KEY];
	const char	*push[3], *expire[3], *argv[3];
	size_t		 pushlen[3], expirelen[3], argvlen[3], rklen, qlen;
	size_t		 need, sislen, plen;
	int		 mlen;

	if (!link_is_up(rs.cmd) && !rs.stopping) {
		hold_reply(act);
		return;
	}
	rklen = strlen(act->routing_key);
	qlen = strlen(act->queue);
	plen = strlen(nm->keyprefix);
	if (plen + qlen >= sizeof(list) ||
	    (mlen = binding_member(act->routing_key, "", act->queue, member,
	    sizeof(member))) == -1) {
		log_warnx("reply to %s: names too long",
		    log_viss(act->routing_key));
		rs.count.unrouted++;
		return;
	}
	memcpy(list, nm->keyprefix, plen);
	memcpy(list + plen, act->queue, qlen + 1);
	/* the commands formatted once here, not by hiredis per argument */
	push[0] = "LPUSH";
	pushlen[0] = 5;
	push[1] = expire[1] = list;
	pushlen[1] = expirelen[1] = plen + qlen;
	push[2] = act->payload;
	pushlen[2] = act->payloadlen;
	expire[0] = "PEXPIRE";
	expirelen[0] = 7;
	expire[2] = ttl;
	expirelen[2] = (size_t)snprintf(ttl, sizeof(ttl), "%d",
	    rs.node->conf->reply_ttl * 1000);
	need = resp_size(3, push, pushlen) + resp_size(3, expire, expirelen) +
	    rklen + 1 + qlen + 1;
	if ((r = malloc(sizeof(*r) + need)) == NULL) {
		log_warn("reply to %s lost", log_viss(act->routing_key));
		rs.count.unrouted++;
		return;
	}
	p = r->buf;
	r->pushlen = resp_format(p, 3, push, pushlen);
	r->payloadlen = act->payloadlen;
	r->payload = p + r->pushlen - 2 - act->payloadlen;
	p += r->pushlen + 1;
	r->expirelen = resp_format(p, 3, expire, expirelen);
	p += r->expirelen + 1;
	r->rk = p;
	memcpy(p, act->routing_key, rklen + 1);
	p += rklen + 1;
	r->queue = p;
	memcpy(p, act->queue, qlen + 1);

	argv[0] = "SISMEMBER";
	argvlen[0] = 9;
	argv[1] = nm->reply_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = member;
	argvlen[2] = (size_t)mlen;
	if (resp_size(3, argv, argvlen) > sizeof(sis))
		fatalx("%s: names beyond MAX_KEY", __func__);
	sislen = resp_format(sis, 3, argv, argvlen);
	if (link_cmd_formatted(rs.cmd, on_member, sis, sislen) == -1) {
		log_warn("reply to %s lost", log_viss(act->routing_key));
		rs.count.unrouted++;
		free(r);
		return;
	}
	TAILQ_INSERT_TAIL(&rs.routing, r, entry);
}

/* Route replies through cmd (borrowed) for n. Counters start at zero. */
void
replies_init(struct node *n, struct link *cmd)
{
	rs.node = n;
	rs.cmd = cmd;
	rs.stopping = 0;
	memset(&rs.count, 0, sizeof(rs.count));
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
}

void
replies_counters(struct reply_counters *c)
{
	*c = rs.count;
	c->held = (uint64_t)rs.nheld;
}
