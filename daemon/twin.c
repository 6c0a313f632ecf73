/*
 * Another node under our name (issue 14.13). Two nodes started with the
 * same -n both run every request addressed to that name, and clients see
 * one of the replies. Redis cannot say who else answers to a name (the
 * twins share one binding member), so ask: when our binding member was
 * there already at start (a twin, or one left by a crash), ping our own
 * name once the node serves, from a private reply queue, and look at the
 * queue TWIN_WAIT_MS later. node.c drops our own copy of the probe (its
 * ticket), so any reply is someone else's: warn. Fanout only: in direct
 * and topic mode twins share one queue and the probe would be taken by
 * either. Nothing here delays READY or blocks the loop; a link lost in
 * between only ends the check.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

#define TWIN_WAIT_MS	1000	/* how long a twin has to reply */
#define TWIN_MAX_READ	16	/* replies looked at, at most */

static struct twin {
	struct node	*node;
	struct link	*cmd;
	int		 done;		/* one probe per start */
	int		 pending;	/* the probe's queue is bound */
	char		 oid[UUID_STRLEN + 1];
	char		 queue[MAX_KEY];
	char		 keys[4][MAX_KEY];
	char		 member[MAX_KEY];
	int		 memberlen;
	struct timer	 wait;
} tw;

/*
 * The replies in the probe's queue (at most TWIN_MAX_READ), then the
 * queue and its binding member removed. KEYS[1..4] the queue's lists,
 * KEYS[5] the reply binding set; ARGV[1] our member, ARGV[2] the limit.
 */
static const char collect_lua[] =
    "local r = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)\n"
    "redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])\n"
    "redis.call('SREM', KEYS[5], ARGV[1])\n"
    "return r\n";

/* The replies to the probe: from a node called as we are? */
static void
on_collect(struct link *l, const redisReply *reply, void *arg)
{
	struct envelope	 env;
	json_object	*root, *value;
	const char	*node, *errstr;
	size_t		 i;
	int		 twins = 0;

	(void)l;
	(void)arg;
	tw.node->probe_ticket[0] = '\0';
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		log_debug("duplicate name check: no answer from the broker");
		return;
	}
	for (i = 0; i < reply->elements; i++) {
		if (reply->element[i]->type != REDIS_REPLY_STRING)
			continue;
		root = NULL;
		if (envelope_decode_flat(reply->element[i]->str,
		    reply->element[i]->len, &env, &errstr) == 0 &&
		    reply_decode(env.body, env.bodylen, &root, &node, &value,
		    &errstr) == 0 &&
		    strcmp(node, tw.node->conf->hostname) == 0)
			twins++;
		json_object_put(root);
		envelope_free(&env);
	}
	if (twins > 0)
		log_warnx("another node answers to the name %s on %s mailbox "
		    "%s: duplicate node names (a ping to %s was answered %d "
		    "time%s besides us); both run the requests addressed to "
		    "it and clients see one reply: give each node its own -n",
		    log_viss(tw.node->conf->hostname),
		    mailbox_type_name(tw.node->conf->type),
		    tw.node->names.exchange,
		    log_viss(tw.node->conf->hostname), twins,
		    twins == 1 ? "" : "s");
	else
		log_debug("duplicate name check: nobody else answers to %s",
		    log_viss(tw.node->conf->hostname));
}

static void
on_wait(void *arg)
{
	const char	*argv[10];
	size_t		 argvlen[10];
	char		 lim[16];
	int		 i;

	(void)arg;
	tw.pending = 0;
	snprintf(lim, sizeof(lim), "%d", TWIN_MAX_READ);
	argv[0] = "EVAL";
	argv[1] = collect_lua;
	argv[2] = "5";
	for (i = 0; i < 4; i++)
		argv[3 + i] = tw.keys[i];
	argv[7] = tw.node->names.reply_binding_key;
	argv[8] = tw.member;
	argv[9] = lim;
	for (i = 0; i < 10; i++)
		argvlen[i] = strlen(argv[i]);
	argvlen[8] = (size_t)tw.memberlen;
	if (link_cmd(tw.cmd, on_collect, 10, argv, argvlen) == -1) {
		tw.node->probe_ticket[0] = '\0';
		log_debug("duplicate name check: cannot collect");
	}
}

/* The probe: bind the reply queue, ping our own name on every channel. */
static void
probe(void)
{
	const struct names	*nm = &tw.node->names;
	const char		*dest[1], *argv[3], *errstr;
	size_t			 argvlen[3], bodylen, envlen;
	struct request_out	 ro;
	struct envelope_out	 eo;
	json_object		*headers;
	char			*body = NULL, *env = NULL;

	uuid4(tw.oid);
	uuid4(tw.node->probe_ticket);
	if (names_reply_queue(nm, tw.oid, tw.queue, sizeof(tw.queue)) == -1 ||
	    names_queue_keys(nm, tw.queue, tw.keys) == -1 ||
	    (tw.memberlen = binding_member(tw.oid, "", tw.queue, tw.member,
	    sizeof(tw.member))) == -1)
		goto fail;
	dest[0] = tw.node->conf->hostname;
	memset(&ro, 0, sizeof(ro));
	ro.method = "ping";
	ro.destination = dest;
	ro.ndestination = 1;
	ro.ticket = tw.node->probe_ticket;
	ro.reply_exchange = nm->reply_exchange;
	ro.reply_routing_key = tw.oid;
	if ((body = request_encode(&ro, &bodylen, &errstr)) == NULL)
		goto fail;
	if ((headers = json_object_new_object()) == NULL)
		goto fail;
	json_object_object_add(headers, "clock",
	    json_object_new_int64(clock_forward(&tw.node->clock)));
	json_object_object_add(headers, "expires",
	    json_object_new_double(now_wall() + TWIN_WAIT_MS / 1000.0));
	eo = (struct envelope_out){ .body = body, .bodylen = bodylen,
	    .headers = headers, .delivery_mode = 2, .exchange = nm->exchange,
	    .routing_key = "" };
	env = envelope_encode(&eo, &envlen);
	json_object_put(headers);
	if (env == NULL)
		goto fail;
	/* bound before the request goes out, or a fast reply is lost */
	argv[0] = "SADD";
	argvlen[0] = 4;
	argv[1] = nm->reply_binding_key;
	argvlen[1] = strlen(argv[1]);
	argv[2] = tw.member;
	argvlen[2] = (size_t)tw.memberlen;
	if (link_cmd(tw.cmd, NULL, 3, argv, argvlen) == -1 ||
	    link_publish(tw.cmd, nm->fanout_channel, env, envlen) == -1 ||
	    (nm->fanout_channel2[0] != '\0' &&
	    link_publish(tw.cmd, nm->fanout_channel2, env, envlen) == -1))
		goto fail;
	tw.pending = 1;
	timer_add(&tw.wait, TWIN_WAIT_MS);
	free(body);
	free(env);
	return;
fail:
	log_debug("duplicate name check not made");
	tw.node->probe_ticket[0] = '\0';
	free(body);
	free(env);
}

void
twin_init(struct node *n, struct link *cmd)
{
	tw = (struct twin){ .node = n, .cmd = cmd };
	timer_set(&tw.wait, on_wait, NULL);
}

/*
 * The node serves; found_bound: our binding member was in Redis before
 * we declared it. Once per start.
 */
void
twin_check(int found_bound)
{
	if (tw.done || tw.node->conf->type != MAILBOX_FANOUT)
		return;
	tw.done = 1;
	if (found_bound)
		probe();
}

/* Stopping: look now, so that the probe's queue is not left behind. */
void
twin_stop(void)
{
	timer_del(&tw.wait);
	if (tw.pending && link_is_up(tw.cmd))
		on_wait(NULL);
	tw.node->probe_ticket[0] = '\0';
}
