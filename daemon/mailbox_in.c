/*
 * The mailbox's way in: the node's binding member declared (SADD, again
 * every REFRESH_MS) and removed on leaving (SREM) on the command link;
 * requests taken on the other link, by SUBSCRIBE to the fanout channel
 * (over Sentinel by default both kombu generations' channels) or from
 * the node queue (direct, topic). Says when the node is ready: binding
 * declared and listening (on every channel).
 *
 * A queue has no acknowledgement in Redis: a request BRPOP took is lost
 * when the connection is reset before its reply arrives (issue 16.1).
 * So a request is moved atomically from the queue into the node's
 * in-flight list (RPOPLPUSH), handled, then removed from it (LREM); one
 * left there by a reset or a crash is handled first on the next round,
 * subject to its expiry, and node.c drops a second copy of a delivery it
 * handled moments ago. kombu clients keep pushing to the same lists.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "pidboxd.h"

static struct {
	struct node			*node;
	struct link			*cmd;	/* SADD, SREM */
	struct link			*in;	/* SUBSCRIBE or BRPOP */
	const struct mailbox_in_ops	*ops;
	int				 declared;	/* binding SADD done */
	int				 listening;	/* subscribed/popping */
	int				 subscribed;	/* channels, 1 << via */
	int				 first_sadd;	/* -1, else its answer */
	int				 announced;
	int				 brpop_pending;	/* in-link busy */
	int				 stopping;
	char				 inflight[MAX_KEY];
	struct timer			 refresh;
	struct timer			 brpop_watch;
} mb;

static void	 brpop(void);
static void	 take(void);

static void
announce(void)
{
	if (mb.announced || !mb.declared || !mb.listening)
		return;
	mb.announced = 1;
	mb.ops->ready();
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
		link_readonly(mb.cmd, reply);
		return;
	}
	/* 0 the first time: another node (or a crashed one) left it */
	if (mb.first_sadd == -1 && reply->type == REDIS_REPLY_INTEGER)
		mb.first_sadd = reply->integer != 0;
	mb.declared = 1;
	announce();
}

int
mailbox_in_found_bound(void)
{
	return mb.first_sadd == 0;
}

static void
declare(void)
{
	const char	*argv[3];
	size_t		 argvlen[3];

	argv[0] = "SADD";
	argvlen[0] = 4;
	argv[1] = mb.node->names.node_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = mb.node->names.node_member;
	argvlen[2] = mb.node->names.node_member_len;
	if (link_cmd(mb.cmd, on_sadd, 3, argv, argvlen) == -1)
		log_warn("cannot declare the binding");
}

static void
on_refresh(void *arg)
{
	(void)arg;
	if (link_is_up(mb.cmd) && !mb.stopping)
		declare();
	timer_add(&mb.refresh, REFRESH_MS);
}

/*
 * The fanout channel name is: 1 or 2 (names.fanout_channel2, the other
 * Sentinel prefix generation), 0 when none of ours.
 */
static int
fanout_via(const redisReply *chan)
{
	const struct names *nm = &mb.node->names;

	if (chan->type != REDIS_REPLY_STRING)
		return 0;
	if (strcmp(chan->str, nm->fanout_channel) == 0)
		return 1;
	if (nm->fanout_channel2[0] != '\0' &&
	    strcmp(chan->str, nm->fanout_channel2) == 0)
		return 2;
	return 0;
}

/* Every fanout channel of ours is subscribed. */
static int
all_subscribed(void)
{
	int	 want = 1 << 1;

	if (mb.node->names.fanout_channel2[0] != '\0')
		want |= 1 << 2;
	return (mb.subscribed & want) == want;
}

/*
 * fanout: every frame of the subscription. A node on both Sentinel
 * channels gets a pidboxctl request twice, one copy per channel: node.c
 * runs it once (a delivery seen already another way is dropped).
 */
static void
on_message(struct link *l, const redisReply *reply, void *arg)
{
	redisReply	*kind, *chan;
	int		 via;

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
		if (mb.stopping && reply->element[2]->type ==
		    REDIS_REPLY_INTEGER && reply->element[2]->integer == 0)
			link_stop(mb.in);
		return;
	}
	if (strcmp(kind->str, "subscribe") == 0) {
		if ((via = fanout_via(chan)) != 0) {
			mb.subscribed |= 1 << via;
			/* ready only once both generations can reach us */
			if (all_subscribed()) {
				mb.listening = 1;
				announce();
			}
		}
		return;
	}
	if (strcmp(kind->str, "message") != 0 ||
	    reply->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (chan->type == REDIS_REPLY_STRING && health_channel() != NULL &&
	    strcmp(chan->str, health_channel()) == 0) {
		health_pong();
		return;
	}
	via = fanout_via(chan);
	mb.ops->message(reply->element[2]->str, reply->element[2]->len,
	    via != 0 ? via : VIA_ONLY);
}

/*
 * direct: one command in flight at a time on the input link. take()
 * runs this script: the oldest request left in the in-flight list, else
 * the next one moved there from the queue's sub-lists in kombu's BRPOP
 * order (priorities 0, 3, 6, 9), as {request, 1 if it was left in
 * flight}; false when all are empty.
 */
static const char take_lua[] =
    "local v = redis.call('LINDEX', KEYS[5], -1)\n"
    "if v then return {v, 1} end\n"
    "for i = 1, 4 do\n"
    "  v = redis.call('RPOPLPUSH', KEYS[i], KEYS[5])\n"
    "  if v then return {v, 0} end\n"
    "end\n"
    "return false\n";

/*
 * The input link is free again; 1 when reply is an answer to go on with,
 * 0 when the link went away or what failed has reset it.
 */
static int
in_answer(const redisReply *reply, const char *what)
{
	mb.brpop_pending = 0;
	if (reply == NULL)
		return 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("%s: %s", what, log_vis(reply->str, reply->len));
		link_reset(mb.in, "taking requests failed");
		return 0;
	}
	return 1;
}

static void
on_ack(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (in_answer(reply, "LREM"))
		take();
}

/*
 * Handle a request that is in the in-flight list, then remove it, on
 * the input link so that the next take() cannot see it again. A reply
 * goes out before (the command link, or held while it is down); an
 * operator method has started: running its program twice would be worse
 * than a lost reply.
 */
static void
handle(const redisReply *v, int via)
{
	const char	*argv[4];
	size_t		 argvlen[4];

	mb.ops->message(v->str, v->len, via);
	argv[0] = "LREM";
	argvlen[0] = 4;
	argv[1] = mb.inflight;
	argvlen[1] = strlen(mb.inflight);
	argv[2] = "-1";
	argvlen[2] = 2;
	argv[3] = v->str;
	argvlen[3] = v->len;
	if (link_cmd(mb.in, on_ack, 4, argv, argvlen) == -1) {
		link_reset(mb.in, "cannot remove a request from the in-flight "
		    "list");
		return;
	}
	mb.brpop_pending = 1;
}

/* A request moved or found by take_lua, or nil: block for the next. */
static void
on_take(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	if (!in_answer(reply, "taking a request"))
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_INTEGER) {
		handle(reply->element[0], reply->element[1]->integer ?
		    VIA_LEFTOVER : VIA_ONLY);
		return;
	}
	brpop();
}

/* BRPOPLPUSH's answer: a request now in the in-flight list, or nil. */
static void
on_brpop(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	timer_del(&mb.brpop_watch);
	if (!in_answer(reply, "BRPOPLPUSH"))
		return;
	if (reply->type == REDIS_REPLY_STRING) {
		handle(reply, VIA_ONLY);
		return;
	}
	take();
}

static void
on_brpop_watch(void *arg)
{
	(void)arg;
	if (mb.brpop_pending)
		link_reset(mb.in, "BRPOPLPUSH got no answer in time");
}

/*
 * Take no request off the list while replies cannot go out: it waits in
 * Redis until the command connection is back.
 */
static int
can_take(void)
{
	return !mb.stopping && link_is_up(mb.in) && !mb.brpop_pending &&
	    link_is_up(mb.cmd);
}

static void
take(void)
{
	const struct names *nm = &mb.node->names;
	const char	*argv[8];
	size_t		 argvlen[8];
	int		 i;

	if (!can_take())
		return;
	argv[0] = "EVAL";
	argvlen[0] = 4;
	argv[1] = take_lua;
	argvlen[1] = sizeof(take_lua) - 1;
	argv[2] = "5";
	argvlen[2] = 1;
	for (i = 0; i < 4; i++) {
		argv[i + 3] = nm->node_queue_keys[i];
		argvlen[i + 3] = strlen(argv[i + 3]);
	}
	argv[7] = mb.inflight;
	argvlen[7] = strlen(mb.inflight);
	if (link_cmd(mb.in, on_take, 8, argv, argvlen) == -1) {
		log_warn("EVAL");
		return;
	}
	mb.brpop_pending = 1;
	mb.listening = 1;
	announce();
}

/*
 * Block until a request reaches the queue. Only the priority 0 list can
 * be watched atomically (kombu's pidbox never sets a priority); the
 * others are looked at by take() at least every BRPOP_TIMEOUT seconds.
 */
static void
brpop(void)
{
	const struct names *nm = &mb.node->names;
	const char	*argv[4];
	size_t		 argvlen[4];
	char		 to[16];

	if (!can_take())
		return;
	argv[0] = "BRPOPLPUSH";
	argvlen[0] = 10;
	argv[1] = nm->node_queue_keys[0];
	argvlen[1] = strlen(argv[1]);
	argv[2] = mb.inflight;
	argvlen[2] = strlen(mb.inflight);
	snprintf(to, sizeof(to), "%d", BRPOP_TIMEOUT);
	argv[3] = to;
	argvlen[3] = strlen(to);
	if (link_cmd(mb.in, on_brpop, 4, argv, argvlen) == -1) {
		log_warn("BRPOPLPUSH");
		return;
	}
	mb.brpop_pending = 1;
	timer_add(&mb.brpop_watch, (BRPOP_TIMEOUT + 10) * 1000);
}

/*
 * Take requests for n from in and declare the binding on cmd (both
 * borrowed); ops says what came in and when the node is ready.
 */
void
mailbox_in_init(struct node *n, struct link *cmd, struct link *in,
    const struct mailbox_in_ops *ops)
{
	memset(&mb, 0, sizeof(mb));
	mb.node = n;
	mb.cmd = cmd;
	mb.in = in;
	mb.ops = ops;
	mb.first_sadd = -1;
	timer_set(&mb.refresh, on_refresh, NULL);
	timer_set(&mb.brpop_watch, on_brpop_watch, NULL);
	if (n->conf->type != MAILBOX_FANOUT &&
	    (size_t)snprintf(mb.inflight, sizeof(mb.inflight),
	    "%s_pidbox.inflight.%s", n->names.keyprefix,
	    n->names.node_queue) >= sizeof(mb.inflight))
		fatalx("node queue name too long for its in-flight list");
}

/* The command link is up: declare the binding, and keep it declared. */
void
mailbox_in_declare(void)
{
	declare();
	timer_add(&mb.refresh, REFRESH_MS);
}

/*
 * The command link is up: taking waited for a way to reply; first what
 * the in-flight list holds.
 */
void
mailbox_in_consume(void)
{
	if (mb.node->conf->type != MAILBOX_FANOUT)
		take();
}

/* The command link is down: declare again once it is back. */
void
mailbox_in_undeclared(void)
{
	mb.declared = 0;
	timer_del(&mb.refresh);
}

/* The input link is up: subscribe, or pop. */
void
mailbox_in_listen(void)
{
	const struct names *nm = &mb.node->names;
	const char	*argv[4];
	size_t		 argvlen[4];
	int		 argc = 0, i;

	if (mb.node->conf->type != MAILBOX_FANOUT) {
		take();
		return;
	}
	argv[argc++] = "SUBSCRIBE";
	argv[argc++] = nm->fanout_channel;
	if (nm->fanout_channel2[0] != '\0')
		argv[argc++] = nm->fanout_channel2;
	if (health_channel() != NULL)
		argv[argc++] = health_channel();
	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	if (link_cmd(mb.in, on_message, argc, argv, argvlen) == -1)
		link_reset(mb.in, "cannot subscribe");
}

/* The input link is down: not listening, not ready. */
void
mailbox_in_lost(void)
{
	mb.listening = 0;
	mb.subscribed = 0;
	mb.brpop_pending = 0;
	mb.announced = 0;
	timer_del(&mb.brpop_watch);
}

static void
on_srem(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)reply;
	(void)arg;
	link_stop(mb.cmd);
}

/* Leave cleanly: unsubscribe, remove our binding member, disconnect. */
void
mailbox_in_stop(void)
{
	const struct names *nm = &mb.node->names;
	const char	*argv[3];
	size_t		 argvlen[3];

	mb.stopping = 1;
	timer_del(&mb.refresh);
	timer_del(&mb.brpop_watch);
	if (mb.node->conf->type == MAILBOX_FANOUT && link_is_up(mb.in)) {
		argv[0] = "UNSUBSCRIBE";
		argvlen[0] = 11;
		if (link_cmd(mb.in, NULL, 1, argv, argvlen) == -1)
			link_close(mb.in);
	} else
		link_close(mb.in);	/* what it took stays in flight */
	argv[0] = "SREM";
	argvlen[0] = 4;
	argv[1] = nm->node_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = nm->node_member;
	argvlen[2] = nm->node_member_len;
	if (link_cmd(mb.cmd, on_srem, 3, argv, argvlen) == -1)
		link_close(mb.cmd);
}
