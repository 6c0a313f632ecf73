/*
 * The mailbox's way in: the node's binding member declared (SADD, again
 * every REFRESH_MS) and removed on leaving (SREM) on the command link;
 * requests taken on the other link, by SUBSCRIBE to the fanout channel
 * or BRPOP of the node queue (direct, topic). Says when the node is
 * ready: binding declared and listening.
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
	int				 announced;
	int				 brpop_pending;
	int				 stopping;
	struct timer			 refresh;
	struct timer			 brpop_watch;
} mb;

static void	 brpop(void);

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
	mb.declared = 1;
	announce();
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
		if (mb.stopping && reply->element[2]->type ==
		    REDIS_REPLY_INTEGER && reply->element[2]->integer == 0)
			link_stop(mb.in);
		return;
	}
	if (strcmp(kind->str, "subscribe") == 0) {
		if (chan->type == REDIS_REPLY_STRING &&
		    strcmp(chan->str, mb.node->names.fanout_channel) == 0) {
			mb.listening = 1;
			announce();
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
	mb.ops->message(reply->element[2]->str, reply->element[2]->len);
}

/* direct: one BRPOP in flight at a time */
static void
on_brpop(struct link *l, const redisReply *reply, void *arg)
{
	(void)l;
	(void)arg;
	mb.brpop_pending = 0;
	timer_del(&mb.brpop_watch);
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("BRPOP: %s", log_vis(reply->str, reply->len));
		link_reset(mb.in, "BRPOP failed");
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[1]->type == REDIS_REPLY_STRING)
		mb.ops->message(reply->element[1]->str,
		    reply->element[1]->len);
	brpop();
}

static void
on_brpop_watch(void *arg)
{
	(void)arg;
	if (mb.brpop_pending)
		link_reset(mb.in, "BRPOP got no answer in time");
}

static void
brpop(void)
{
	const struct names *nm = &mb.node->names;
	const char	*argv[6];
	size_t		 argvlen[6];
	char		 to[16];
	int		 i;

	/*
	 * Take no request off the list while replies cannot go out: it
	 * waits in Redis until the command connection is back.
	 */
	if (mb.stopping || !link_is_up(mb.in) || mb.brpop_pending ||
	    !link_is_up(mb.cmd))
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
	if (link_cmd(mb.in, on_brpop, 6, argv, argvlen) == -1) {
		log_warn("BRPOP");
		return;
	}
	mb.brpop_pending = 1;
	timer_add(&mb.brpop_watch, (BRPOP_TIMEOUT + 10) * 1000);
	mb.listening = 1;
	announce();
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
	timer_set(&mb.refresh, on_refresh, NULL);
	timer_set(&mb.brpop_watch, on_brpop_watch, NULL);
}

/* The command link is up: declare the binding, and keep it declared. */
void
mailbox_in_declare(void)
{
	declare();
	timer_add(&mb.refresh, REFRESH_MS);
}

/* The command link is up: a BRPOP waited for a way to reply. */
void
mailbox_in_consume(void)
{
	if (mb.node->conf->type != MAILBOX_FANOUT)
		brpop();
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
	const char	*argv[3];
	size_t		 argvlen[3];
	int		 argc = 2;

	if (mb.node->conf->type != MAILBOX_FANOUT) {
		brpop();
		return;
	}
	argv[0] = "SUBSCRIBE";
	argvlen[0] = 9;
	argv[1] = mb.node->names.fanout_channel;
	argvlen[1] = strlen(argv[1]);
	if ((argv[2] = health_channel()) != NULL) {
		argvlen[2] = strlen(argv[2]);
		argc = 3;
	}
	if (link_cmd(mb.in, on_message, argc, argv, argvlen) == -1)
		link_reset(mb.in, "cannot subscribe");
}

/* The input link is down: not listening, not ready. */
void
mailbox_in_lost(void)
{
	mb.listening = 0;
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
		link_close(mb.in);	/* a BRPOP may be in flight */
	argv[0] = "SREM";
	argvlen[0] = 4;
	argv[1] = nm->node_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = nm->node_member;
	argvlen[2] = nm->node_member_len;
	if (link_cmd(mb.cmd, on_srem, 3, argv, argvlen) == -1)
		link_close(mb.cmd);
}
