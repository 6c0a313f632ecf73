/*
 * The Mailbox client: bind a fresh reply queue, publish one request
 * (fanout PUBLISH, or one atomic Lua delivery for direct/topic), collect
 * the replies until the expected count or a hard deadline, and always
 * remove the reply queue again (spec 4.2).
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/*
 * Direct/topic delivery in one step, as kombu's exchange lookup would do
 * it but atomic and tolerant: members must split into exactly three
 * fields (others are skipped); direct takes routing key "", topic takes
 * pattern "^$" or routing key "". Each queue gets the envelope once.
 * KEYS[1] node binding set; ARGV: envelope, type, separator, keyprefix.
 */
static const char deliver_lua[] =
    "local sep, n, seen = ARGV[3], 0, {}\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local f, s = {}, 1\n"
    "  while true do\n"
    "    local i = string.find(m, sep, s, true)\n"
    "    if not i then f[#f + 1] = string.sub(m, s); break end\n"
    "    f[#f + 1] = string.sub(m, s, i - 1)\n"
    "    s = i + #sep\n"
    "  end\n"
    "  if #f == 3 and f[3] ~= '' and not seen[f[3]] then\n"
    "    local ok\n"
    "    if ARGV[2] == 'topic' then ok = f[2] == '^$' or f[1] == ''\n"
    "    else ok = f[1] == '' end\n"
    "    if ok then\n"
    "      seen[f[3]] = true\n"
    "      redis.call('LPUSH', ARGV[4] .. f[3], ARGV[1])\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return n\n";

struct session {
	struct ctl	*ctl;
	struct rconn	 rc;
	struct lamport	 clock;
	char		 oid[UUID_STRLEN + 1];
	char		 ticket[UUID_STRLEN + 1];
	char		 queue[MAX_KEY];
	char		 keys[4][MAX_KEY];	/* prefixed reply lists */
	char		 member[MAX_KEY];
	size_t		 memberlen;
	int		 bound;		/* SADD sent: cleanup needed */
	long long	 nreplies;	/* ours, counted for the limit */
	long long	 nbad;		/* malformed: never counted */
	long long	 ndup;		/* a node's second reply: not counted */
	const char	**dest;		/* -d: only these names count */
	size_t		 ndest;
	int64_t		 t0;		/* publish time, ctl_now_us() */
};

/*
 * Replies are counted toward the expected number only when they are
 * well-formed and from a node not heard yet (and, with -d, named by it):
 * anyone who can LPUSH into our reply list could otherwise end the
 * collection before the real nodes answer. The first few skipped ones
 * are warned about one by one, the rest only in the totals at the end.
 */
#define REPLY_WARN_MAX	3

/* On a TTY, wake up this often (ms) to refresh the progress line. */
#define PROGRESS_MS	100

/*
 * Remove our binding member and reply lists; on every exit path. With
 * settle, wait that many ms between SREM and DEL: a kombu node routes a
 * reply with SMEMBERS then LPUSH, so a reply still in flight when we stop
 * early (--limit) would otherwise recreate the list after our DEL and
 * leak it (spec 4.4).
 */
static void
cleanup(struct session *s, int settle)
{
	struct ctl	*ctl = s->ctl;
	struct rcmd	 cmds[4];
	redisReply	*r[4];
	int		 i, rv;

	if (!s->bound)
		return;
	s->bound = 0;
	if (s->rc.c == NULL || s->rc.dirty || s->rc.c->err) {
		/* A BRPOP may still be pending: use a fresh connection. */
		rconn_close(&s->rc);
		if (rconn_connect(&s->rc, &ctl->mbox.url, CLEANUP_TIMEOUT,
		    &ctl->mbox.intr) == -1) {
			warnx("%s: cleanup of reply queue %s failed: %s",
			    ctl->mbox.redacted, s->queue, s->rc.err);
			return;
		}
	}
	rcmd_init(&cmds[0], "MULTI");
	rcmd_init(&cmds[1], "SREM");
	rcmd_adds(&cmds[1], ctl->mbox.names.reply_binding_key);
	rcmd_add(&cmds[1], s->member, s->memberlen);
	if (settle > 0 && !ctl_signal) {
		rv = rconn_run(&s->rc, deadline_in(CLEANUP_TIMEOUT), 0, 1,
		    &cmds[1], r);
		if (rv == RCONN_OK)
			freeReplyObject(r[0]);
		rconn_sleep(&s->rc, settle);
	}
	rcmd_init(&cmds[2], "DEL");
	for (i = 0; i < 4; i++)
		rcmd_adds(&cmds[2], s->keys[i]);
	rcmd_init(&cmds[3], "EXEC");
	rv = rconn_run(&s->rc, deadline_in(CLEANUP_TIMEOUT), 0, 4, cmds, r);
	if (rv != RCONN_OK) {
		warnx("%s: cleanup of reply queue %s failed: %s",
		    ctl->mbox.redacted, s->queue, s->rc.err);
		return;
	}
	if (r[3]->type != REDIS_REPLY_ARRAY)
		warnx("%s: cleanup of reply queue %s failed: %s",
		    ctl->mbox.redacted, s->queue, r[3]->type == REDIS_REPLY_ERROR ?
		    log_viss(r[3]->str) : "EXEC aborted");
	replies_free(r, 4);
}

/* A broker failure: clean up, report (URL without password), exit 75. */
static _Noreturn void
broker_fail(struct session *s, const char *what, const char *why)
{
	char	buf[512];

	snprintf(buf, sizeof(buf), "%s", why);	/* why may be in s->rc */
	output_progress_end();
	if (ctl_signal) {
		cleanup(s, 0);
		rconn_close(&s->rc);
		ctl_exit(EX_TEMPFAIL);
	}
	cleanup(s, 0);
	rconn_close(&s->rc);
	errx(EX_TEMPFAIL, "%s: %s: %s", s->ctl->mbox.redacted, what, buf);
}

/* Run one command; exits on any failure (and on a signal, after cleanup). */
static redisReply *
command(struct session *s, const char *what, const struct rcmd *cmd)
{
	redisReply	*r;

	if (rconn_run(&s->rc, deadline_in(CMD_TIMEOUT), 1, 1, cmd, &r) !=
	    RCONN_OK)
		broker_fail(s, what, s->rc.err);
	if (r->type == REDIS_REPLY_ERROR) {
		char	e[256];

		snprintf(e, sizeof(e), "%s", log_viss(r->str));
		freeReplyObject(r);
		broker_fail(s, what, e);
	}
	return r;
}

/* Handle one raw reply envelope popped from our queue. */
static void
handle_reply(struct session *s, const char *buf, size_t len)
{
	struct envelope	 env;
	struct ctl_reply rep;
	json_object	*root = NULL, *t;
	const char	*errstr;
	int64_t		 clock;
	size_t		 i;
	int		 ours;

	memset(&env, 0, sizeof(env));
	if (envelope_decode(buf, len, &env, &errstr) == -1) {
		if (++s->nbad <= REPLY_WARN_MAX)
			warnx("reply skipped: %s", errstr);
		goto done;
	}
	if (envelope_clock(&env, &clock) == 0)
		clock_adjust(&s->clock, clock);
	/* kombu: a reply without a ticket header belongs to this call. */
	ours = 1;
	if (env.headers != NULL &&
	    json_object_object_get_ex(env.headers, "ticket", &t))
		ours = json_object_is_type(t, json_type_string) &&
		    strcmp(json_object_get_string(t), s->ticket) == 0;
	if (!ours) {
		ctl_debug(s->ctl, "reply for another ticket ignored");
		goto done;
	}
	rep.latency_ms = (double)(ctl_now_us() - s->t0) / 1000.0;
	if (reply_decode(env.body, env.bodylen, &root, &rep.node, &rep.value,
	    &errstr) == -1) {
		if (++s->nbad <= REPLY_WARN_MAX)
			warnx("reply skipped: %s", errstr);
		goto done;
	}
	if (output_reply(s->ctl, &rep)) {
		if (++s->ndup <= REPLY_WARN_MAX)
			warnx("duplicate node name %s: more than one node "
			    "replied with that name; only the first reply "
			    "counts", log_viss(rep.node));
		goto done;
	}
	for (i = 0; i < s->ndest; i++)
		if (strcmp(s->dest[i], rep.node) == 0)
			break;
	if (s->ndest == 0 || i < s->ndest)
		s->nreplies++;
	else
		ctl_debug(s->ctl, "reply from %s, not named by -d: not counted",
		    log_viss(rep.node));
done:
	json_object_put(root);
	envelope_free(&env);
}

/* Feed every element of an array reply (or a single string) to us. */
static void
handle_popped(struct session *s, const redisReply *r)
{
	size_t	i;

	if (r->type == REDIS_REPLY_STRING)
		handle_reply(s, r->str, r->len);
	else if (r->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < r->elements; i++) {
			if (r->element[i]->type == REDIS_REPLY_STRING)
				handle_reply(s, r->element[i]->str,
				    r->element[i]->len);
		}
	}
}

/*
 * Collect replies until `expected` of ours arrived (when trusted) or the
 * hard deadline passes. BRPOP with the remaining time as a fractional
 * server timeout, then drain what is already queued without blocking.
 */
static void
collect(struct session *s, double timeout, long long expected, int trusted)
{
	struct rcmd	 cmd, drain[4];
	redisReply	*r, *dr[4];
	char		 tmo[32], e[256];
	int64_t		 deadline, remain, wait;
	int		 i, rv, drain_ok = 1, float_ok = 1;

	deadline = deadline_in(timeout);
	while (!(trusted && s->nreplies >= expected)) {
		remain = deadline - now_mono_ms();
		if (remain < 1)
			break;
		/* A shorter server timeout keeps the progress line live. */
		wait = remain;
		if (output_progress() && wait > PROGRESS_MS)
			wait = PROGRESS_MS;
		if (float_ok)
			snprintf(tmo, sizeof(tmo), "%.3f",
			    (double)wait / 1000.0);
		else
			snprintf(tmo, sizeof(tmo), "%lld",
			    (long long)((remain + 999) / 1000));
		rcmd_init(&cmd, "BRPOP");
		for (i = 0; i < 4; i++)
			rcmd_adds(&cmd, s->keys[i]);
		rcmd_adds(&cmd, tmo);
		/*
		 * Redis times blocked clients out with 100 ms granularity:
		 * keep the deadline ourselves and abandon the connection
		 * (cleanup opens a fresh one) when the server is late.
		 */
		rv = rconn_run(&s->rc, deadline, 1, 1, &cmd, &r);
		if (rv == RCONN_INTR || rv == RCONN_TIMEOUT)
			return;
		if (rv != RCONN_OK)
			broker_fail(s, "BRPOP", s->rc.err);
		if (r->type == REDIS_REPLY_ERROR) {
			if (float_ok && strstr(r->str, "timeout") != NULL) {
				/* Redis < 6: integer timeouts only. */
				float_ok = 0;
				freeReplyObject(r);
				continue;
			}
			snprintf(e, sizeof(e), "%s", log_viss(r->str));
			freeReplyObject(r);
			broker_fail(s, "BRPOP", e);
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
			handle_popped(s, r->element[1]);
		freeReplyObject(r);
		output_tick();
		if ((trusted && s->nreplies >= expected) || !drain_ok)
			continue;

		for (i = 0; i < 4; i++) {
			rcmd_init(&drain[i], "RPOP");
			rcmd_adds(&drain[i], s->keys[i]);
			rcmd_adds(&drain[i], "1000");
		}
		rv = rconn_run(&s->rc, deadline_in(CMD_TIMEOUT), 1, 4, drain,
		    dr);
		if (rv == RCONN_INTR)
			return;
		if (rv != RCONN_OK)
			broker_fail(s, "RPOP", s->rc.err);
		for (i = 0; i < 4; i++) {
			if (dr[i]->type == REDIS_REPLY_ERROR)
				drain_ok = 0;	/* Redis < 6.2: no count */
			else
				handle_popped(s, dr[i]);
		}
		replies_free(dr, 4);
	}
}

/* Publish the request; returns the number of receivers Redis reports. */
static long long
publish(struct session *s, const char *env, size_t envlen)
{
	struct ctl	*ctl = s->ctl;
	struct rcmd	 cmd;
	redisReply	*r;
	long long	 n;

	if (ctl->mbox.type == MAILBOX_FANOUT) {
		rcmd_init(&cmd, "PUBLISH");
		rcmd_adds(&cmd, ctl->mbox.names.fanout_channel);
		rcmd_add(&cmd, env, envlen);
	} else {
		rcmd_init(&cmd, "EVAL");
		rcmd_adds(&cmd, deliver_lua);
		rcmd_adds(&cmd, "1");
		rcmd_adds(&cmd, ctl->mbox.names.node_binding_key);
		rcmd_add(&cmd, env, envlen);
		rcmd_adds(&cmd, mailbox_type_name(ctl->mbox.type));
		rcmd_add(&cmd, KOMBU_SEP, KOMBU_SEP_LEN);
		rcmd_adds(&cmd, ctl->mbox.names.keyprefix);
	}
	r = command(s, ctl->mbox.type == MAILBOX_FANOUT ? "PUBLISH" : "EVAL", &cmd);
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return n;
}

static _Noreturn void
no_replies(const char *why)
{
	/* Celery's exact message (stderr, exit 69), so no program prefix. */
	fflush(stdout);
	fprintf(stderr, "Error: No nodes replied within time constraint%s\n",
	    why);
	ctl_exit(EX_UNAVAILABLE);
}

/* Send one request; with call->reply collect and print the replies. */
int
mailbox_broadcast(struct ctl *ctl, const struct call *call)
{
	struct session		*s;
	struct request_out	 ro;
	struct envelope_out	 eo;
	struct rcmd		 cmd;
	json_object		*headers;
	const char		*errstr;
	char			*body, *env, why[MAX_KEY + 128];
	size_t			 bodylen, envlen;
	struct expect		 ex;
	long long		 receivers, expected;
	int			 trusted, nodes, rv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		err(EX_OSERR, NULL);
	s->ctl = ctl;

	memset(&ro, 0, sizeof(ro));
	ro.method = call->method;
	ro.arguments = call->arguments;
	ro.destination = call->destination;
	ro.ndestination = call->ndestination;
	ro.pattern = call->pattern;
	ro.matcher = call->matcher;
	if (call->reply) {
		uuid4(s->oid);
		uuid4(s->ticket);
		if (names_reply_queue(&ctl->mbox.names, s->oid, s->queue,
		    sizeof(s->queue)) == -1 ||
		    names_queue_keys(&ctl->mbox.names, s->queue, s->keys) == -1)
			errx(EX_USAGE, "namespace %s: names too long",
			    log_viss(ctl->ns));
		if (binding_member(s->oid, "", s->queue, s->member,
		    sizeof(s->member)) == -1)
			errx(EX_USAGE, "namespace %s: names too long",
			    log_viss(ctl->ns));
		s->memberlen = strlen(s->member);
		ro.ticket = s->ticket;
		ro.reply_exchange = ctl->mbox.names.reply_exchange;
		ro.reply_routing_key = s->oid;
	}
	/* Validate everything before a byte goes to the broker. */
	if ((body = request_encode(&ro, &bodylen, &errstr)) == NULL)
		errx(EX_USAGE, "invalid request: %s", errstr);

	if (rconn_connect(&s->rc, &ctl->mbox.url, 0, &ctl->mbox.intr) == -1) {
		if (ctl_signal)
			ctl_exit(EX_TEMPFAIL);
		errx(EX_TEMPFAIL, "%s: %s", ctl->mbox.redacted, s->rc.err);
	}
	if (ctl_signal)
		ctl_exit(EX_TEMPFAIL);

	if (call->reply) {
		/* Bind before publishing, or fast replies are lost. */
		s->bound = 1;
		rcmd_init(&cmd, "SADD");
		rcmd_adds(&cmd, ctl->mbox.names.reply_binding_key);
		rcmd_add(&cmd, s->member, s->memberlen);
		freeReplyObject(command(s, "SADD", &cmd));
	}

	if ((headers = json_object_new_object()) == NULL ||
	    json_object_object_add(headers, "clock",
	    json_object_new_int64(clock_forward(&s->clock))) != 0 ||
	    json_object_object_add(headers, "expires",
	    json_object_new_double(now_wall() + call->timeout)) != 0)
		errx(EX_OSERR, "out of memory");
	sign_request(ctl, headers, body, bodylen, call->timeout);
	memset(&eo, 0, sizeof(eo));
	eo.body = body;
	eo.bodylen = bodylen;
	eo.headers = headers;
	eo.delivery_mode = 2;
	eo.exchange = ctl->mbox.names.exchange;
	eo.routing_key = "";
	if ((env = envelope_encode(&eo, &envlen)) == NULL)
		errx(EX_OSERR, "envelope_encode: out of memory");
	json_object_put(headers);
	free(body);

	s->t0 = ctl_now_us();
	receivers = publish(s, env, envlen);
	ctl->receivers = receivers;
	free(env);
	ctl_debug(ctl, "%s %s: %lld receiver(s)",
	    mailbox_type_name(ctl->mbox.type), ctl->mbox.names.exchange, receivers);
	if (!call->reply) {
		rconn_close(&s->rc);
		free(s);
		return 0;
	}

	/*
	 * Who should answer: -l says how many to wait for, not who; -d
	 * names them; otherwise Redis counted the receivers (a pattern
	 * makes that count an upper bound only).
	 */
	memset(&ex, 0, sizeof(ex));
	ex.count = -1;
	s->dest = call->destination;
	s->ndest = call->ndestination;
	if (call->limit > 0) {
		expected = call->limit;
		trusted = 1;
	} else if (call->ndestination > 0) {
		expected = (long long)call->ndestination;
		trusted = 1;
		ex.count = expected;
		ex.names = call->destination;
		ex.nnames = call->ndestination;
		ex.source = "-d";
	} else {
		expected = receivers;
		trusted = call->pattern == NULL;
		if (trusted) {
			ex.count = receivers;
			ex.source = ctl->mbox.type == MAILBOX_FANOUT ?
			    "PUBLISH receivers" : "queues delivered to";
		}
		if (receivers == 0) {
			cleanup(s, 0);
			rconn_close(&s->rc);
			snprintf(why, sizeof(why), ": no node is listening on "
			    "%s mailbox %s", mailbox_type_name(ctl->mbox.type),
			    log_viss(ctl->mbox.names.exchange));
			free(s);
			no_replies(why);
		}
	}

	output_init(ctl, call->style);
	output_begin(ctl, call->method, &ex, expected, trusted, call->timeout,
	    s->t0);
	collect(s, call->timeout, expected, trusted);
	output_progress_end();
	if (s->nbad > 0)
		warnx("%lld malformed repl%s skipped, not counted as replies",
		    s->nbad, s->nbad == 1 ? "y" : "ies");
	if (s->ndup > 0)
		warnx("%lld duplicate repl%s not counted; only each node's "
		    "first reply counts", s->ndup, s->ndup == 1 ? "y" : "ies");
	/* Stopped at --limit while more nodes may still answer. */
	cleanup(s, call->limit > 0 && s->nreplies >= call->limit &&
	    receivers > call->limit ? CLEANUP_SETTLE : 0);
	rconn_close(&s->rc);
	free(s);
	if (ctl_signal)
		ctl_exit(EX_TEMPFAIL);
	rv = output_end(ctl, &ex, &nodes);
	output_free();
	if (nodes == 0)
		no_replies("");
	return rv;
}
