/*
 * The Node wired to Redis: the orchestrator. Two links to the broker: the
 * command link declares the binding (mailbox_in.c), routes replies
 * (replies.c) and answers health checks (health.c); the input link takes
 * requests (mailbox_in.c): SUBSCRIBE in fanout, BRPOP in direct/topic.
 * This file starts and stops them, tells each module when a link comes
 * and goes, hands requests to the node, and sets the log-rate policy.
 */
#include <sys/types.h>

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "pidboxd.h"

static struct {
	struct node	*node;
	const struct service_hooks *hooks;
	struct link	*cmd;		/* commands and replies */
	struct link	*in;		/* SUBSCRIBE or BRPOP */
	int		 stopping;
	uint64_t	 reconnects;	/* the command link was lost */
	struct timer	 logflush;
	uint64_t	 seen;		/* requests received at the last tick */
	uint64_t	 trimmed;	/* ... at the last malloc_trim() */
} svc;

static void	 cmd_up(struct link *, void *);
static void	 cmd_down(struct link *, void *);
static void	 in_up(struct link *, void *);
static void	 in_down(struct link *, void *);
static void	 on_ready(void);
static void	 on_request(const char *, size_t, int);

static const struct link_ops cmd_ops = { cmd_up, cmd_down };
static const struct link_ops in_ops = { in_up, in_down };
static const struct mailbox_in_ops mailbox_ops = { on_ready, on_request };
static const struct metrics_link metrics_link = {
	service_reconnects, service_connected, service_last_contact,
};

/* Binding declared and listening: the node serves. */
static void
on_ready(void)
{
	char url[512];

	log_info("node %s listening on %s mailbox %s (%s)",
	    log_viss(svc.node->conf->hostname),
	    mailbox_type_name(svc.node->conf->type),
	    svc.node->names.exchange,
	    redis_url_redacted(&svc.node->url, url, sizeof(url)));
	svc.hooks->ready();
	twin_check(mailbox_in_found_bound());
}

/* One request off the mailbox. */
static void
on_request(const char *buf, size_t len, int via)
{
	struct node_action act;

	if (node_handle_via(svc.node, buf, len, now_wall(), via, &act) == 0 &&
	    act.reply)
		replies_send(&act);
	node_action_free(&act);
}

static void
cmd_up(struct link *l, void *arg)
{
	(void)l;
	(void)arg;
	mailbox_in_declare();
	health_start();
	replies_flush();
	mailbox_in_consume();
	inventory_register();
}

static void
cmd_down(struct link *l, void *arg)
{
	(void)l;
	(void)arg;
	mailbox_in_undeclared();
	health_stop();
	svc.reconnects++;
	svc.hooks->lost();
}

static void
in_up(struct link *l, void *arg)
{
	(void)l;
	(void)arg;
	mailbox_in_listen();
}

static void
in_down(struct link *l, void *arg)
{
	(void)l;
	(void)arg;
	mailbox_in_lost();
	health_forget();
}

/*
 * Every 5 s: flush the rate-limited log; and when requests came and then
 * 5 s passed without one, give the heap's free pages back. A burst of pipelined requests leaves
 * the heap at its high-water mark (replies in flight, hiredis buffers),
 * and glibc returns only its top: malloc_trim() also releases the free
 * pages inside it, so an idle node stays at its idle size.
 */
static void
on_logflush(void *arg)
{
	uint64_t	 r;

	(void)arg;
	log_ratelimit_flush();
	r = svc.node->stats.received;
	if (r == svc.seen && r != svc.trimmed) {	/* quiet since a burst */
		svc.trimmed = r;
		malloc_trim(0);
	}
	svc.seen = r;
	timer_add(&svc.logflush, 5000);
}

/* Serve n; hooks (borrowed) hear when it serves and when it lost Redis. */
int
service_start(struct node *n, const struct service_hooks *hooks)
{
	memset(&svc, 0, sizeof(svc));
	svc.node = n;
	svc.hooks = hooks;
	svc.cmd = link_new("broker", &n->url, &cmd_ops, NULL);
	svc.in = link_new(n->conf->type == MAILBOX_FANOUT ? "subscriber" :
	    "consumer", &n->url, &in_ops, NULL);
	replies_init(n, svc.cmd);
	n->send = replies_send;	/* replies of exec handlers */
	health_init(n, svc.cmd, svc.in);
	mailbox_in_init(n, svc.cmd, svc.in, &mailbox_ops);
	events_init(n, svc.cmd);
	twin_init(n, svc.cmd);
	inventory_init(n, svc.cmd);
	results_init(n, svc.cmd);
	n->record = results_record;
	metrics_init(n, &metrics_link);
	timer_set(&svc.logflush, on_logflush, NULL);
	/* a flood of bad input must not fill the disk (issue 5) */
	log_ratelimit(20, 2);
	timer_add(&svc.logflush, 5000);
	link_start(svc.cmd);
	link_start(svc.in);
	return 0;
}

/* Leave cleanly: unsubscribe, remove our binding member, disconnect. */
void
service_stop(void)
{
	if (svc.stopping)
		return;
	svc.stopping = 1;
	health_shutdown();
	events_disable();	/* worker-offline, before the binding goes */
	inventory_remove();	/* no longer expected */
	replies_stop();
	metrics_stop();		/* the counts as we leave */
	timer_del(&svc.logflush);
	log_ratelimit_flush();
	twin_stop();
	mailbox_in_stop();
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
	replies_clear();
	link_free(svc.in);
	link_free(svc.cmd);
	svc.in = svc.cmd = NULL;
}

/* Times the command link was lost since service_start(). */
uint64_t
service_reconnects(void)
{
	return svc.reconnects;
}

double
service_last_contact(void)
{
	double a = link_contact(svc.cmd), b = link_contact(svc.in);

	return a > b ? a : b;
}

int
service_connected(void)
{
	return svc.cmd != NULL && link_is_up(svc.cmd);
}
