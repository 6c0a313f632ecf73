/*
 * The Mailbox client: bind a fresh reply queue, publish one request
 * (fanout PUBLISH, or one atomic Lua delivery for direct/topic), collect
 * the replies until the expected count or a hard deadline, and always
 * remove the reply queue again (spec 4.2). Everything that happens is a
 * struct mailbox_event for the caller's callback, everything found out
 * goes into a struct mailbox_result: printing and exit codes are the
 * caller's (output.c, call.c).
 */
#include <sys/types.h>

#include <err.h>
#include <stdarg.h>
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
static const char deliver_lua[] = LUA_SPLIT3
    "local sep, n, seen = ARGV[3], 0, {}\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local rk, pat, queue = split3(m, sep)\n"
    "  if queue and queue ~= '' and not seen[queue] then\n"
    "    local ok\n"
    "    if ARGV[2] == 'topic' then ok = pat == '^$' or rk == ''\n"
    "    else ok = rk == '' end\n"
    "    if ok then\n"
    "      seen[queue] = true\n"
    "      redis.call('LPUSH', ARGV[4] .. queue, ARGV[1])\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return n\n";

/*
 * The node binding set, read before publishing: who is bound to the
 * mailbox, so that silent nodes can be named. A set larger than
 * MAX_BOUND comes back as its size only (a hostile or broken broker
 * must not make us read millions of members).
 * KEYS[1] node binding set; ARGV[1] the limit.
 */
#define MAX_BOUND	65536
static const char bound_lua[] =
    "local n = redis.call('SCARD', KEYS[1])\n"
    "if n > tonumber(ARGV[1]) then return n end\n"
    "return redis.call('SMEMBERS', KEYS[1])\n";

struct session {
	const struct mailbox		*mb;
	const struct mailbox_request	*req;
	struct mailbox_result		*res;
	mailbox_cb			*cb;
	void				*arg;
	struct rconn			 rc;
	struct lamport			 clock;
	char				 oid[UUID_STRLEN + 1];
	char				 queue[MAX_KEY];
	char				 keys[4][MAX_KEY]; /* reply lists */
	char				 member[MAX_KEY];
	size_t				 memberlen;
	int				 bound;	/* SADD sent: cleanup */
	int64_t				 deadline; /* of the collect (-t) */
	struct rcmd			 brpop;	/* the first, with PUBLISH */
	char				 tmo[32]; /* its server timeout */
	int64_t				 wait;	/* the same in ms */
	int				 last;	/* the last before -t */
};

/*
 * Replies are counted toward the expected number only when they are
 * well-formed and from a node not heard yet (and, with -d, named by it):
 * anyone who can LPUSH into our reply list could otherwise end the
 * collection before the real nodes answer.
 */

/* *dst = a new string from fmt; on every path that ends a call. */
static void __printflike(2, 3)
set_msg(char **dst, const char *fmt, ...)
{
	va_list	ap;

	free(*dst);
	va_start(ap, fmt);
	if (vasprintf(dst, fmt, ap) == -1)
		err(EX_OSERR, NULL);
	va_end(ap);
}

static void
emit(struct session *s, struct mailbox_event *ev, enum mailbox_event_type t)
{
	ev->type = t;
	ev->req = s->req;
	ev->res = s->res;
	if (s->cb != NULL)
		s->cb(ev, s->arg);
}

/*
 * Remove our binding member and reply lists; on every exit path. With
 * settle, wait that many ms between SREM and DEL: a kombu node routes a
 * reply with SMEMBERS then LPUSH, so a reply still in flight when we stop
 * early (--limit) would otherwise recreate the list after our DEL and
 * leak it (spec 4.4). A failure goes to res->cleanup_error.
 */
static void
cleanup(struct session *s, int settle)
{
	const struct mailbox	*mb = s->mb;
	struct rcmd		 cmds[4];
	redisReply		*r[4];
	int			 i, rv;

	if (!s->bound)
		return;
	s->bound = 0;
	if (s->rc.c == NULL || s->rc.dirty || s->rc.c->err) {
		/* A BRPOP may still be pending: use a fresh connection. */
		rconn_close(&s->rc);
		if (rconn_connect(&s->rc, &mb->url, CLEANUP_TIMEOUT,
		    &mb->intr) == -1) {
			set_msg(&s->res->cleanup_error, "%s: cleanup of reply "
			    "queue %s failed: %s (pidboxctl gc removes it)",
			    mb->redacted, s->queue, s->rc.err);
			return;
		}
	}
	rcmd_init(&cmds[0], "MULTI");
	rcmd_init(&cmds[1], "SREM");
	rcmd_adds(&cmds[1], mb->names.reply_binding_key);
	rcmd_add(&cmds[1], s->member, s->memberlen);
	if (settle > 0 && !*mb->intr.flag) {
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
		set_msg(&s->res->cleanup_error, "%s: cleanup of reply queue "
		    "%s failed: %s (pidboxctl gc removes it)", mb->redacted,
		    s->queue, s->rc.err);
		return;
	}
	if (r[3]->type != REDIS_REPLY_ARRAY)
		set_msg(&s->res->cleanup_error, "%s: cleanup of reply queue "
		    "%s failed: %s", mb->redacted, s->queue,
		    r[3]->type == REDIS_REPLY_ERROR ? log_viss(r[3]->str) :
		    "EXEC aborted");
	replies_free(r, 4);
}

/*
 * A broker failure: clean up and say so in the result (URL without
 * password); a signal that came first makes it an interruption.
 */
static void
broker_fail(struct session *s, const char *what, const char *why)
{
	char	buf[MAX_KEY + 512];

	snprintf(buf, sizeof(buf), "%s", why);	/* why may be in s->rc */
	cleanup(s, 0);
	rconn_close(&s->rc);
	if (*s->mb->intr.flag) {
		s->res->status = MAILBOX_INTERRUPTED;
		return;
	}
	s->res->status = MAILBOX_EBROKER;
	set_msg(&s->res->error, "%s: %s: %s", s->mb->redacted, what, buf);
}

/* The broker answered what with an error: broker_fail() with its text. */
static void
broker_refused(struct session *s, const char *what, const redisReply *r)
{
	char	e[256];

	snprintf(e, sizeof(e), "%s", log_viss(r->str));
	broker_fail(s, what, e);
}

/*
 * The broker did not prove alive: the connection failed or its liveness
 * PING did (rconn_connect(), or RCONN_LAZY's with the first commands).
 * No cleanup: the server did not answer what rode with that PING (a
 * stopped server that resumes may still run its SADD: a member without
 * lists, which pidboxctl gc removes).
 */
static void
unreachable(struct session *s)
{
	s->bound = 0;
	rconn_close(&s->rc);
	if (*s->mb->intr.flag) {
		s->res->status = MAILBOX_INTERRUPTED;
		return;
	}
	s->res->status = MAILBOX_EBROKER;
	set_msg(&s->res->error, "%s: %s", s->mb->redacted, s->rc.err);
}

/*
 * Run one command; NULL after broker_fail() on any failure. With
 * s->brpop set, the first BRPOP of the collect goes in the same write
 * and stays in flight (rconn_next() in collect() reads its reply).
 */
static redisReply *
command(struct session *s, const char *what, const struct rcmd *cmd)
{
	struct rcmd	 cmds[2];
	redisReply	*r;
	size_t		 ahead = s->brpop.argc > 0;

	cmds[0] = *cmd;
	if (ahead)
		cmds[1] = s->brpop;
	if (rconn_run_ahead(&s->rc, deadline_in(CMD_TIMEOUT), 1, 1 + ahead,
	    cmds, &r, ahead) != RCONN_OK) {
		broker_fail(s, what, s->rc.err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		broker_refused(s, what, r);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static void	 tally(const struct mailbox_request *,
		    struct mailbox_result *);

static void
malformed(struct session *s, const char *why)
{
	struct mailbox_event	ev;

	memset(&ev, 0, sizeof(ev));
	s->res->nbad++;
	ev.why = why;
	emit(s, &ev, MAILBOX_EV_MALFORMED);
}

/* Handle one raw reply envelope popped from our queue. */
static void
handle_reply(struct session *s, const char *buf, size_t len)
{
	struct mailbox_result	*res = s->res;
	struct mailbox_event	 ev;
	struct envelope		 env;
	struct reply_body	 rb;
	json_object		*t;
	const char		*errstr, *tk;
	enum trust_mark		 mark;
	int64_t			 clock;
	size_t			 i;
	unsigned		 addf;
	int			 ours, replacing, counts;

	memset(&env, 0, sizeof(env));
	memset(&ev, 0, sizeof(ev));
	rb.root = rb.value = NULL;
	/*
	 * kombu's limit: exactly that many replies, even when more were
	 * already queued and popped in the same batch.
	 */
	if (s->req->limit > 0 && res->ncounted >= s->req->limit) {
		res->nover++;
		return;
	}
	/* kombu's shape read without json-c objects (the node's path too) */
	if (envelope_decode_flat(buf, len, &env, &errstr) == -1) {
		malformed(s, errstr);
		goto done;
	}
	if (envelope_clock(&env, &clock) == 0)
		clock_adjust(&s->clock, clock);
	/* kombu: a reply without a ticket header belongs to this call. */
	ours = 1;
	if (envelope_header_present(&env, "ticket"))
		ours = (tk = envelope_header_string(&env, "ticket")) != NULL &&
		    strcmp(tk, res->ticket) == 0;
	if (!ours) {
		emit(s, &ev, MAILBOX_EV_FOREIGN);
		goto done;
	}
	ev.latency_ms = (double)(ctl_now_us() - res->t0) / 1000.0;
	if (reply_take(env.body, env.bodylen, &rb, &errstr) == -1) {
		malformed(s, errstr);
		goto done;
	}
	ev.node = rb.node;
	ev.value = rb.value;
	mark = TRUST_UNVERIFIED;
	if (s->mb->verify) {
		mark = trust_check(s->mb->trust, &env, s->mb->names.exchange,
		    ev.node, &ev.mark_why);
		ev.mark = trust_name(mark);
	}
	/*
	 * A twin node, or anyone who can LPUSH into our reply list; but a
	 * good reply takes the place of a FORGED one, which may have come
	 * first to hide it.
	 */
	replacing = json_object_object_get_ex(res->replies, ev.node, NULL);
	if (replacing &&
	    !(mark != TRUST_FORGED && json_object_object_get_ex(res->trust,
	    ev.node, &t) && strcmp(json_object_get_string(t),
	    trust_name(TRUST_FORGED)) == 0)) {
		res->ndup++;
		if (res->twinset == NULL &&
		    (res->twinset = json_object_new_object()) == NULL)
			err(EX_OSERR, NULL);
		json_object_object_add(res->twinset, ev.node, NULL);
		emit(s, &ev, MAILBOX_EV_DUPLICATE);
		goto done;
	}
	/* a new node is in none of the tables: no lookup before the add */
	addf = replacing ? 0 : JSON_C_OBJECT_ADD_KEY_IS_NEW;
	json_object_object_add_ex(res->replies, ev.node,
	    json_object_get(ev.value), addf);
	json_object_object_add_ex(res->latency, ev.node,
	    json_object_new_double(ev.latency_ms), addf);
	if (s->mb->verify) {
		json_object_object_add_ex(res->trust, ev.node,
		    json_object_new_string(ev.mark), addf);
		json_object_object_add_ex(res->trust_why, ev.node,
		    ev.mark_why == NULL ? NULL :
		    json_object_new_string(ev.mark_why), addf);
	}
	for (i = 0; i < s->req->ndestination; i++)
		if (strcmp(s->req->destination[i], ev.node) == 0)
			break;
	/*
	 * A FORGED reply does not end the wait for the real one; the real
	 * one that replaces it counts then (the event says it is no new
	 * node).
	 */
	counts = (s->req->ndestination == 0 || i < s->req->ndestination) &&
	    mark != TRUST_FORGED;
	if (counts)
		res->ncounted++;
	ev.counted = counts && !replacing;
	/* nor, with -p, does it stand for its node in the expected set */
	if (counts && res->expset != NULL &&
	    json_object_object_get_ex(res->expset, ev.node, NULL))
		res->nnamed++;
	emit(s, &ev, MAILBOX_EV_REPLY);
done:
	reply_body_free(&rb);
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
 * Whether the collection is complete: --limit replies; every -d name;
 * with -p every bound node that matches (the receiver count includes
 * the nodes that do not); otherwise as many replies, a twin's included,
 * as Redis counted receivers.
 */
static int
complete(const struct session *s)
{
	const struct mailbox_request	*req = s->req;
	const struct mailbox_result	*res = s->res;

	if (req->limit > 0)
		return res->ncounted >= req->limit;
	if (req->ndestination > 0)
		return res->ncounted >= (long long)req->ndestination;
	if (req->pattern != NULL)
		return res->expset != NULL &&
		    res->nnamed >= (long long)res->expect.nnames;
	/*
	 * A twin's reply (a duplicate node name) is a receiver too, but
	 * alone it ends nothing: anyone who can LPUSH into our reply list
	 * could forge one. Once every bound node replied it may.
	 */
	if (!res->trusted)
		return 0;
	return res->ncounted >= res->expected ||
	    (res->expset != NULL && res->nnamed >= (long long)res->expect.nnames &&
	    res->ncounted + res->ndup >= res->expected);
}

/*
 * With -d the collection is complete once every named node answered,
 * and a twin (a second node under a -d name) would go unseen: its reply
 * comes a moment later (issue 14.13). Twins share one binding member,
 * so when Redis counted more receivers than nodes are bound, some
 * receiver is unaccounted for: 1 while it may still answer as a
 * duplicate.
 */
static int
twins_possible(const struct session *s)
{
	const struct mailbox_result	*res = s->res;
	long long			 extra;

	if (s->req->ndestination == 0 || s->req->limit > 0 ||
	    res->bound == NULL || s->mb->type != MAILBOX_FANOUT)
		return 0;
	extra = res->receivers - json_object_object_length(res->bound);
	return extra > res->ndup;
}

/*
 * How long to go on collecting after the -d set is complete when
 * twins_possible(): as long as the replies took so far (a twin is about
 * as fast as its namesake), within TWIN_GRACE_MS bounds.
 */
static int64_t
twin_grace_end(const struct session *s, int64_t deadline)
{
	int64_t	 ms, end;

	ms = (ctl_now_us() - s->res->t0) / 1000;
	if (ms < TWIN_GRACE_MIN_MS)
		ms = TWIN_GRACE_MIN_MS;
	if (ms > TWIN_GRACE_MAX_MS)
		ms = TWIN_GRACE_MAX_MS;
	end = now_mono_ms() + ms;
	return end < deadline ? end : deadline;
}

/*
 * The broker went silent mid-collect (a partition, a black hole): what
 * was received stays in res; the error names the request, so that
 * `pidboxctl gc` can remove what the cleanup could not.
 */
static void
broker_lost(struct session *s, const char *what, double bound)
{
	char	why[MAX_KEY + 256];

	snprintf(why, sizeof(why), "no answer from the broker within "
	    "%.1f s (request %s, reply queue %s)", bound, s->res->ticket,
	    s->queue);
	broker_fail(s, what, why);
	tally(s->req, s->res);	/* who replied before, who did not */
}

/*
 * Pop what is queued in our reply lists without blocking: up to 1,000
 * per list with RPOP's count (Redis >= 6.2; *ok cleared when the server
 * refuses it, then one each). 1, or what collect() returns: 0 when
 * interrupted, -1 after broker_fail(). The server answers at once: a
 * silence of bound seconds is a broker lost mid-collect, as for a BRPOP
 * (a partition right after a reply came, before the next BRPOP).
 */
static int
drain(struct session *s, int *ok, double bound)
{
	struct rcmd	 cmds[4];
	redisReply	*r[4];
	int		 i, rv;

	for (i = 0; i < 4; i++) {
		rcmd_init(&cmds[i], "RPOP");
		rcmd_adds(&cmds[i], s->keys[i]);
		if (*ok)
			rcmd_adds(&cmds[i], "1000");
	}
	rv = rconn_run(&s->rc, deadline_in(bound), 1, 4, cmds, r);
	if (rv == RCONN_INTR)
		return 0;
	if (rv == RCONN_TIMEOUT) {
		broker_lost(s, "RPOP", bound);
		return -1;
	}
	if (rv != RCONN_OK) {
		broker_fail(s, "RPOP", s->rc.err);
		return -1;
	}
	for (i = 0; i < 4; i++) {
		if (r[i]->type == REDIS_REPLY_ERROR)
			*ok = 0;	/* Redis < 6.2: no count */
		else
			handle_popped(s, r[i]);
	}
	replies_free(r, 4);
	return 1;
}

/*
 * The next BRPOP of a collect that ends at end (-t, or a twin's grace
 * after it was complete) into s->brpop: its server timeout in s->tmo
 * and s->wait (ms, whole seconds without float_ok); s->last when it is
 * the last before -t, then ending BRPOP_TICK_MS early (see collect()).
 * -1 when no time is left.
 */
static int
brpop_next(struct session *s, int64_t end, int float_ok)
{
	int64_t	 remain, wait;
	int	 i;

	remain = end - now_mono_ms();
	if (remain < 1)
		return -1;
	/* A shorter server timeout keeps the progress line live. */
	wait = remain;
	if (s->req->tick_ms > 0 && wait > s->req->tick_ms)
		wait = s->req->tick_ms;
	if (wait > COLLECT_CHUNK_MS)
		wait = COLLECT_CHUNK_MS;
	s->last = float_ok && end == s->deadline && wait == remain &&
	    wait > BRPOP_TICK_MS;
	if (s->last)
		wait -= BRPOP_TICK_MS;
	if (float_ok)
		snprintf(s->tmo, sizeof(s->tmo), "%.3f",
		    (double)wait / 1000.0);
	else {
		wait = (wait + 999) / 1000 * 1000;
		snprintf(s->tmo, sizeof(s->tmo), "%lld",
		    (long long)(wait / 1000));
	}
	s->wait = wait;
	rcmd_init(&s->brpop, "BRPOP");
	for (i = 0; i < 4; i++)
		rcmd_adds(&s->brpop, s->keys[i]);
	rcmd_adds(&s->brpop, s->tmo);
	return 0;
}

/*
 * Collect replies until `expected` of ours arrived (when trusted) or the
 * hard deadline passes. BRPOP with the remaining time as a fractional
 * server timeout, then, when it popped a reply, drain what else is
 * already queued without blocking (after an empty BRPOP the next BRPOP
 * sees whatever a drain would).
 * -1 after broker_fail().
 *
 * A BRPOP waits at most COLLECT_CHUNK_MS, and the server must answer it
 * within the connect timeout after that: a broker lost mid-collect is
 * reported (exit 75) within that bound, whatever -t is, not taken for
 * "no node replied" at the end of -t (issue 16.2).
 *
 * Redis answers a timed-out BRPOP at its next cron tick (100 ms at the
 * default hz 10), after the deadline: a last BRPOP timed to end at -t was
 * always abandoned, and the cleanup had to open a second connection. The
 * last one now ends BRPOP_TICK_MS early; the rest of -t is waited out
 * here and what arrived meanwhile is popped without blocking at -t.
 *
 * The first BRPOP usually went in the same write as the PUBLISH
 * (mailbox_call()), with the timeout computed here: its reply is read
 * first. When the collection is over before (a -p that matches no
 * bound node), it is abandoned with the connection.
 */
static int
collect(struct session *s)
{
	struct mailbox_event	 ev;
	redisReply		*r;
	int64_t			 deadline, end, silent, answer_by;
	int64_t			 grace_end = 0;
	double			 bound;
	int			 rv, popped, ahead, drain_ok = 1;
	int			 float_ok = 1;

	bound = s->mb->url.connect_timeout > 0 ? s->mb->url.connect_timeout :
	    5.0;
	silent = (int64_t)(bound * 1000);
	deadline = s->deadline;
	for (;;) {
		end = deadline;
		if (complete(s)) {
			if (!twins_possible(s))
				break;
			if (grace_end == 0)
				grace_end = twin_grace_end(s, deadline);
			end = grace_end;
		}
		/* the first BRPOP went with the PUBLISH: its reply is next */
		ahead = s->rc.ahead > 0;
		if (!ahead && brpop_next(s, end, float_ok) == -1)
			break;
		/*
		 * Redis times blocked clients out with 100 ms granularity:
		 * keep the deadline ourselves and abandon the connection
		 * (cleanup opens a fresh one) when the server is late.
		 */
		answer_by = now_mono_ms() + s->wait + silent;
		if (answer_by > deadline)
			answer_by = deadline;
		if (ahead)
			rv = rconn_next(&s->rc, answer_by, 1, &r);
		else
			rv = rconn_run(&s->rc, answer_by, 1, 1, &s->brpop, &r);
		if (rv == RCONN_INTR)
			return 0;
		if (rv == RCONN_TIMEOUT) {
			if (now_mono_ms() < deadline) {
				broker_lost(s, "BRPOP", bound);
				return -1;
			}
			return 0;
		}
		if (rv != RCONN_OK) {
			broker_fail(s, "BRPOP", s->rc.err);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			if (float_ok && strstr(r->str, "timeout") != NULL) {
				/* Redis < 6: integer timeouts only. */
				float_ok = 0;
				freeReplyObject(r);
				continue;
			}
			broker_refused(s, "BRPOP", r);
			freeReplyObject(r);
			return -1;
		}
		/* Nil: the server timed out, the lists were empty. */
		popped = r->type == REDIS_REPLY_ARRAY && r->elements == 2;
		if (popped)
			handle_popped(s, r->element[1]);
		freeReplyObject(r);
		memset(&ev, 0, sizeof(ev));
		emit(s, &ev, MAILBOX_EV_TICK);
		if (!popped && s->last) {
			if (rconn_sleep(&s->rc, deadline - now_mono_ms()) == -1)
				return 0;
			/* Redis < 6.2 refuses the count: then one per list */
			if ((rv = drain(s, &drain_ok, bound)) == 1 &&
			    !drain_ok)
				rv = drain(s, &drain_ok, bound);
			return rv == 1 ? 0 : rv;
		}
		if (!popped || complete(s) || !drain_ok)
			continue;
		if ((rv = drain(s, &drain_ok, bound)) != 1)
			return rv;
	}
	return 0;
}

/*
 * The node of a bound queue "<node>.<ns>.pidbox" into name; -1 when the
 * queue is not a node queue of this mailbox.
 */
int
mailbox_bound_name(const struct mailbox *mb, const struct binding *b,
    char *name, size_t len)
{
	size_t	xlen = strlen(mb->names.exchange), n;

	if (b->queuelen < xlen + 2 || b->queue[b->queuelen - xlen - 1] != '.' ||
	    memcmp(b->queue + b->queuelen - xlen, mb->names.exchange,
	    xlen) != 0)
		return -1;
	n = b->queuelen - xlen - 1;
	if (n > MAX_NAME || n >= len || memchr(b->queue, '\0', n) != NULL)
		return -1;
	memcpy(name, b->queue, n);
	name[n] = '\0';
	return 0;
}

/*
 * Before publishing, in one round trip (issue 17: whole-process ping):
 * with bind, SADD our reply binding, or fast replies are lost; with
 * bindings, read who is bound to the mailbox (res->bound), so that a
 * node starting meanwhile is not named as silent. The binding read is
 * not fatal: a broker that refuses EVAL (an ACL) or a set too large
 * leaves res->bound NULL and the receiver count alone says how many
 * should answer. A refused SADD is: nothing is published then. The
 * PUBLISH stays a round trip of its own for that reason (a broker out
 * of memory refuses SADD but still delivers a PUBLISH). The connection's
 * liveness PING goes in the same write (RCONN_LAZY); when it fails, so
 * does the call, as when rconn_connect() fails. -1 only after
 * broker_fail() or unreachable().
 */
static int
prepare(struct session *s, int bind, int bindings)
{
	const struct mailbox	*mb = s->mb;
	struct binding		 b;
	struct rcmd		 cmds[2];
	redisReply		*r[2], *e;
	json_object		*set;
	char			 lim[16], name[MAX_NAME + 1];
	size_t			 i, n = 0;

	if (bind) {
		s->bound = 1;
		rcmd_init(&cmds[n], "SADD");
		rcmd_adds(&cmds[n], mb->names.reply_binding_key);
		rcmd_add(&cmds[n++], s->member, s->memberlen);
	}
	if (bindings) {
		snprintf(lim, sizeof(lim), "%d", MAX_BOUND);
		rcmd_init(&cmds[n], "EVAL");
		rcmd_adds(&cmds[n], bound_lua);
		rcmd_adds(&cmds[n], "1");
		rcmd_adds(&cmds[n], mb->names.node_binding_key);
		rcmd_adds(&cmds[n++], lim);
	}
	if (n == 0)
		return 0;
	if (rconn_run(&s->rc, deadline_in(CMD_TIMEOUT), 1, n, cmds, r) !=
	    RCONN_OK) {
		if (s->rc.dead)
			unreachable(s);
		else
			broker_fail(s, bind ? "SADD" : "EVAL", s->rc.err);
		return -1;
	}
	if (bind && r[0]->type == REDIS_REPLY_ERROR) {
		broker_refused(s, "SADD", r[0]);
		replies_free(r, n);
		return -1;
	}
	if (!bindings || r[n - 1]->type != REDIS_REPLY_ARRAY) {
		replies_free(r, n);
		return 0;
	}
	if ((set = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < r[n - 1]->elements; i++) {
		e = r[n - 1]->element[i];
		if (e->type != REDIS_REPLY_STRING ||
		    binding_parse(e->str, e->len, &b) == -1 ||
		    mailbox_bound_name(mb, &b, name, sizeof(name)) == -1)
			continue;
		json_object_object_add(set, name, NULL);
	}
	replies_free(r, n);
	s->res->bound = set;
	return 0;
}

/*
 * PUBLISH to both Sentinel prefix generations' channels (issue 16.3): a
 * pidboxd subscribed to both receives two copies (and runs one), so the
 * receivers Redis counts on the two channels are not all distinct. The
 * number of SUBSCRIBE clients on each channel, asked in the same batch
 * just before, bounds how many heard both: kombu nodes PSUBSCRIBE one,
 * a pidboxd SUBSCRIBEs one or both. When PUBSUB is refused (an ACL),
 * the sum stands and the binding set still names who should answer.
 */
static long long
publish_both(struct session *s, const char *env, size_t envlen)
{
	const struct names	*nm = &s->mb->names;
	struct rcmd		 cmds[4];
	redisReply		*r[3], *a;
	long long		 n = 0, both = -1;
	size_t			 i, ahead = s->brpop.argc > 0;

	rcmd_init(&cmds[0], "PUBSUB");
	rcmd_adds(&cmds[0], "NUMSUB");
	rcmd_adds(&cmds[0], nm->fanout_channel);
	rcmd_adds(&cmds[0], nm->fanout_channel2);
	for (i = 1; i < 3; i++) {
		rcmd_init(&cmds[i], "PUBLISH");
		rcmd_adds(&cmds[i], i == 1 ? nm->fanout_channel :
		    nm->fanout_channel2);
		rcmd_add(&cmds[i], env, envlen);
	}
	/* the first BRPOP too, as in command() */
	if (ahead)
		cmds[3] = s->brpop;
	if (rconn_run_ahead(&s->rc, deadline_in(CMD_TIMEOUT), 1, 3 + ahead,
	    cmds, r, ahead) != RCONN_OK) {
		broker_fail(s, "PUBLISH", s->rc.err);
		return -1;
	}
	for (i = 1; i < 3; i++) {
		if (r[i]->type == REDIS_REPLY_ERROR) {
			broker_refused(s, "PUBLISH", r[i]);
			replies_free(r, 3);
			return -1;
		}
		if (r[i]->type == REDIS_REPLY_INTEGER)
			n += r[i]->integer;
	}
	a = r[0];
	if (a->type == REDIS_REPLY_ARRAY && a->elements == 4)
		for (i = 1; i < 4; i += 2) {
			if (a->element[i]->type != REDIS_REPLY_INTEGER)
				break;
			if (both == -1 || a->element[i]->integer < both)
				both = a->element[i]->integer;
		}
	replies_free(r, 3);
	if (both > 0 && both <= n / 2)
		n -= both;
	return n;
}

/*
 * Where a request went, for "no node is listening": the mailbox and, for
 * fanout, the channel(s) it was published on.
 */
void
mailbox_where(const struct mailbox *mb, char *buf, size_t len)
{
	const struct names	*nm = &mb->names;

	if (mb->type != MAILBOX_FANOUT)
		snprintf(buf, len, "%s mailbox %s", mailbox_type_name(mb->type),
		    log_viss(nm->exchange));
	else if (nm->fanout_channel2[0] == '\0')
		snprintf(buf, len, "fanout mailbox %s (channel %s)",
		    log_viss(nm->exchange), log_viss(nm->fanout_channel));
	else
		snprintf(buf, len, "fanout mailbox %s (channels %s and %s)",
		    log_viss(nm->exchange), log_viss(nm->fanout_channel),
		    log_viss(nm->fanout_channel2));
}

/* Publish the request; the number of receivers Redis reports, or -1. */
static long long
publish(struct session *s, const char *env, size_t envlen)
{
	const struct mailbox	*mb = s->mb;
	struct rcmd		 cmd;
	redisReply		*r;
	long long		 n;

	if (mb->type == MAILBOX_FANOUT && mb->names.fanout_channel2[0] != '\0')
		return publish_both(s, env, envlen);
	if (mb->type == MAILBOX_FANOUT) {
		rcmd_init(&cmd, "PUBLISH");
		rcmd_adds(&cmd, mb->names.fanout_channel);
		rcmd_add(&cmd, env, envlen);
	} else {
		rcmd_init(&cmd, "EVAL");
		rcmd_adds(&cmd, deliver_lua);
		rcmd_adds(&cmd, "1");
		rcmd_adds(&cmd, mb->names.node_binding_key);
		rcmd_add(&cmd, env, envlen);
		rcmd_adds(&cmd, mailbox_type_name(mb->type));
		rcmd_add(&cmd, KOMBU_SEP, KOMBU_SEP_LEN);
		rcmd_adds(&cmd, mb->names.keyprefix);
	}
	if ((r = command(s, mb->type == MAILBOX_FANOUT ? "PUBLISH" : "EVAL",
	    &cmd)) == NULL)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return n;
}

/* Node names in GNU version order: web-2 before web-10. */
static int
cmpname(const void *a, const void *b)
{
	return verscmp(*(const char *const *)a, *(const char *const *)b);
}

/* Who replied with an error, who was expected and did not reply. */
static void
tally(const struct mailbox_request *req, struct mailbox_result *res)
{
	struct json_object_iterator	 it, end;
	const struct expect		*ex = &res->expect;
	const char			**silent, *name, *mark;
	json_object			*mj;
	size_t				  i, n, k = 0;
	long long			  m;

	n = (size_t)json_object_object_length(res->replies);
	res->errors = reallocarray(NULL, n + 1, sizeof(*res->errors));
	res->missing = reallocarray(NULL, ex->nnames + 1,
	    sizeof(*res->missing));
	res->unsub = reallocarray(NULL, ex->nnames + 1, sizeof(*res->unsub));
	silent = reallocarray(NULL, ex->nnames + 1, sizeof(*silent));
	if (res->errors == NULL || res->missing == NULL ||
	    res->unsub == NULL || silent == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(res->replies);
	end = json_object_iter_end(res->replies);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		mark = NULL;
		if (json_object_object_get_ex(res->trust, name, &mj))
			mark = json_object_get_string(mj);
		if (mark != NULL && strcmp(mark, "verified") == 0)
			res->nverified++;
		else if (mark != NULL && strcmp(mark, "FORGED") == 0)
			res->nforged++;
		else
			res->nunverified++;
		/* FORGED is an error; unverified too with --verify required */
		if (reply_is_error(json_object_iter_peek_value(&it)) ||
		    (mark != NULL && strcmp(mark, "FORGED") == 0) ||
		    (res->verify_required && (mark == NULL ||
		    strcmp(mark, "verified") != 0)))
			res->errors[res->nerrors++] = name;
	}
	for (i = 0; ex->names != NULL && i < ex->nnames; i++)
		if (!json_object_object_get_ex(res->replies, ex->names[i],
		    NULL))
			silent[k++] = ex->names[i];

	if (req->ndestination > 0) {
		/* Every silent -d name is missing; unbound ones say so. */
		for (i = 0; i < k; i++) {
			if (res->bound != NULL && !json_object_object_get_ex(
			    res->bound, silent[i], NULL))
				res->unsub[res->nunsub++] = silent[i];
			else
				res->missing[res->nmissing++] = silent[i];
		}
		res->nsilent = (long long)k;
	} else if (ex->names != NULL && req->limit <= 0) {
		/*
		 * Names from the binding set: how many receivers did not
		 * reply (with -p, less the bound nodes that do not match,
		 * which received it too) says how many of the silent bound
		 * nodes got the request; the others are bindings left by
		 * nodes no longer subscribed. Which ones cannot be told
		 * apart when only some are.
		 */
		m = res->receivers - (long long)n - res->ndup;
		if (req->pattern != NULL)
			m -= (long long)json_object_object_length(res->bound) -
			    (long long)ex->nnames;
		if (m < 0)
			m = 0;
		if (m > (long long)k) {
			res->nextra = m - (long long)k;
			m = (long long)k;
		}
		res->nsilent = m;
		res->nunreached = (long long)k - m;
		for (i = 0; i < k; i++) {
			if (m == 0)
				res->unsub[res->nunsub++] = silent[i];
			else
				res->missing[res->nmissing++] = silent[i];
		}
	} else if (ex->count > (long long)n)
		res->nsilent = ex->count - (long long)n;
	free(silent);
	if (res->twinset != NULL) {
		if ((res->twins = reallocarray(NULL,
		    json_object_object_length(res->twinset) + 1,
		    sizeof(*res->twins))) == NULL)
			err(EX_OSERR, NULL);
		it = json_object_iter_begin(res->twinset);
		end = json_object_iter_end(res->twinset);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			res->twins[res->ntwins++] =
			    json_object_iter_peek_name(&it);
		qsort(res->twins, res->ntwins, sizeof(*res->twins), cmpname);
	}
	qsort(res->errors, res->nerrors, sizeof(*res->errors), cmpname);
	qsort(res->missing, res->nmissing, sizeof(*res->missing), cmpname);
	qsort(res->unsub, res->nunsub, sizeof(*res->unsub), cmpname);
}

/* A cast to -d names: those not bound cannot have received it. */
static void
cast_unbound(const struct mailbox_request *req, struct mailbox_result *res)
{
	size_t	i;

	if (res->bound == NULL || req->ndestination == 0)
		return;
	if ((res->unsub = reallocarray(NULL, req->ndestination,
	    sizeof(*res->unsub))) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < req->ndestination; i++)
		if (!json_object_object_get_ex(res->bound,
		    req->destination[i], NULL))
			res->unsub[res->nunsub++] = req->destination[i];
}

/*
 * Who should answer: -l says how many to wait for, not who; -d names
 * them; otherwise the bound nodes (that -p matches) and the receivers
 * Redis counted. The binding set was read before publishing.
 */
static void
expectation(const struct mailbox *mb, const struct mailbox_request *req,
    struct mailbox_result *res)
{
	struct json_object_iterator	 it, end;
	struct expect			*ex = &res->expect;
	const char			*name, *errstr;
	size_t				 n;

	ex->count = -1;
	if (req->limit > 0) {
		res->expected = req->limit;
		res->trusted = 1;
		return;
	}
	if (req->ndestination > 0) {
		res->expected = (long long)req->ndestination;
		res->trusted = 1;
		ex->count = res->expected;
		ex->names = req->destination;
		ex->nnames = req->ndestination;
		ex->source = "-d";
		return;
	}
	res->expected = res->receivers;
	res->trusted = req->pattern == NULL;
	if (res->bound != NULL) {
		n = (size_t)json_object_object_length(res->bound);
		if ((res->expnames = reallocarray(NULL, n + 1,
		    sizeof(*res->expnames))) == NULL ||
		    (res->expset = json_object_new_object()) == NULL)
			err(EX_OSERR, NULL);
		n = 0;
		it = json_object_iter_begin(res->bound);
		end = json_object_iter_end(res->bound);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			name = json_object_iter_peek_name(&it);
			/* The nodes' own rule: kombu's match(). */
			if (req->pattern != NULL && match(name, req->pattern,
			    req->matcher, &errstr) != 1)
				continue;
			res->expnames[n++] = name;
			/* bound's keys: each name once */
			json_object_object_add_ex(res->expset, name, NULL,
			    JSON_C_OBJECT_ADD_KEY_IS_NEW);
		}
		ex->names = res->expnames;
		ex->nnames = n;
		ex->count = (long long)n;
		ex->source = req->pattern != NULL ? "bound, matching -p" :
		    "bound";
		return;
	}
	if (res->trusted) {
		ex->count = res->receivers;
		ex->source = mb->type == MAILBOX_FANOUT ?
		    "PUBLISH receivers" : "queues delivered to";
	}
}

/* The request body; NULL with res->error set when it cannot be sent. */
static char *
encode(struct session *s, size_t *bodylen)
{
	const struct mailbox		*mb = s->mb;
	const struct mailbox_request	*req = s->req;
	struct request_out		 ro;
	const char			*errstr;
	char				*body;

	memset(&ro, 0, sizeof(ro));
	ro.method = req->method;
	ro.arguments = req->arguments;
	ro.destination = req->destination;
	ro.ndestination = req->ndestination;
	ro.pattern = req->pattern;
	ro.matcher = req->matcher;
	/* Every request has an id, casts too: the nodes audit it. */
	uuid4(s->res->ticket);
	ro.ticket = s->res->ticket;
	if (req->reply) {
		uuid4(s->oid);
		if (names_reply_queue(&mb->names, s->oid, s->queue,
		    sizeof(s->queue)) == -1 ||
		    names_queue_keys(&mb->names, s->queue, s->keys) == -1 ||
		    binding_member(s->oid, "", s->queue, s->member,
		    sizeof(s->member)) == -1) {
			set_msg(&s->res->error, "namespace %s: names too long",
			    log_viss(mb->ns));
			return NULL;
		}
		s->memberlen = strlen(s->member);
		ro.reply_exchange = mb->names.reply_exchange;
		ro.reply_routing_key = s->oid;
	}
	if ((body = request_encode(&ro, bodylen, &errstr)) == NULL)
		set_msg(&s->res->error, "invalid request: %s", errstr);
	return body;
}

/* The envelope around body: clock, expiry and maybe the signature. */
static char *
wrap(struct session *s, const char *body, size_t bodylen, size_t *envlen)
{
	struct envelope_out	 eo;
	json_object		*headers;
	char			*env, *msg;
	int			 rv;

	if ((headers = json_object_new_object()) == NULL ||
	    json_object_object_add(headers, "clock",
	    json_object_new_int64(clock_forward(&s->clock))) != 0 ||
	    json_object_object_add(headers, "expires",
	    json_object_new_double(now_wall() + s->req->timeout)) != 0 ||
	    (s->req->filter != NULL && json_object_object_add(headers,
	    FILTER_HEADER, json_object_new_string(s->req->filter)) != 0) ||
	    (s->req->record && json_object_object_add(headers,
	    RECORD_HEADER, json_object_new_boolean(1)) != 0))
		errx(EX_OSERR, "out of memory");
	if ((rv = sign_request(s->mb->key_file, s->mb->key_from,
	    s->mb->names.exchange,
	    headers, body, bodylen, s->req->timeout, &msg)) != 0) {
		s->res->status = rv == SIGN_ECONFIG ? MAILBOX_ESIGN :
		    MAILBOX_ECRYPTO;
		s->res->error = msg;
		json_object_put(headers);
		return NULL;
	}
	memset(&eo, 0, sizeof(eo));
	eo.body = body;
	eo.bodylen = bodylen;
	eo.headers = headers;
	eo.delivery_mode = 2;
	eo.exchange = s->mb->names.exchange;
	eo.routing_key = "";
	if ((env = envelope_encode(&eo, envlen)) == NULL)
		errx(EX_OSERR, "envelope_encode: out of memory");
	json_object_put(headers);
	return env;
}

/*
 * Whether the first BRPOP is worth sending with the PUBLISH: not when
 * the binding set says no node will answer (none bound, or none that
 * -p matches), where its abandonment would cost a second connection.
 */
static int
brpop_ahead(const struct session *s)
{
	struct json_object_iterator	 it, end;
	const struct mailbox_request	*req = s->req;
	const char			*errstr;

	if (req->limit > 0 || req->ndestination > 0 || s->res->bound == NULL)
		return 1;
	it = json_object_iter_begin(s->res->bound);
	end = json_object_iter_end(s->res->bound);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it))
		if (req->pattern == NULL || match(json_object_iter_peek_name(
		    &it), req->pattern, req->matcher, &errstr) == 1)
			return 1;
	return 0;
}

/*
 * Send one request to mailbox mb; with req->reply collect the replies.
 * cb (may be NULL) hears of every event with arg. res is filled in and
 * the caller frees it with mailbox_result_free().
 */
void
mailbox_call(const struct mailbox *mb, const struct mailbox_request *req,
    mailbox_cb *cb, void *arg, struct mailbox_result *res)
{
	struct session		*s;
	struct mailbox_event	 ev;
	char			*body, *env;
	char			 where[MAX_KEY * 3 + 64];
	size_t			 bodylen, envlen;
	int			 bind, bindings, known;

	memset(res, 0, sizeof(*res));
	res->expect.count = -1;
	res->verify_required = mb->verify_required;
	if ((res->replies = json_object_new_object()) == NULL ||
	    (res->latency = json_object_new_object()) == NULL ||
	    (res->trust = json_object_new_object()) == NULL ||
	    (res->trust_why = json_object_new_object()) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		err(EX_OSERR, NULL);
	s->mb = mb;
	s->req = req;
	s->res = res;
	s->cb = cb;
	s->arg = arg;

	/* Validate everything before a byte goes to the broker. */
	if ((body = encode(s, &bodylen)) == NULL) {
		res->status = MAILBOX_EREQUEST;
		goto done;
	}
	bind = req->reply;
	bindings = req->reply || req->ndestination > 0 || req->pattern != NULL;
	/* the binding set the caller read already (-F, -S, nodes) */
	known = bindings && req->bound != NULL;
	if (known)
		bindings = 0;
	/*
	 * When prepare() sends commands, the liveness PING goes with them;
	 * a cast without them still waits for it before PUBLISH (a server
	 * that resumes must not run a request we said failed).
	 */
	if (rconn_open(&s->rc, &mb->url, 0, &mb->intr,
	    bind || bindings ? RCONN_LAZY : 0) == -1) {
		unreachable(s);
		goto done;
	}
	if (*mb->intr.flag) {
		res->status = MAILBOX_INTERRUPTED;
		goto done;
	}
	/* Wrapped (and signed) first: a refusal leaves nothing bound. */
	if ((env = wrap(s, body, bodylen, &envlen)) == NULL)
		goto done;
	if (prepare(s, bind, bindings) == -1) {
		free(env);
		goto done;
	}
	if (known)
		res->bound = json_object_get(req->bound);
	res->t0 = ctl_now_us();
	/*
	 * The first BRPOP goes in the same write as the PUBLISH, which
	 * still waits for the SADD's answer: a round trip saved when the
	 * request is collected. When the PUBLISH says not to collect (an
	 * error, no listener) the BRPOP is abandoned with its connection
	 * and the cleanup opens a fresh one.
	 */
	if (req->reply) {
		s->deadline = deadline_in(req->timeout);
		if (brpop_ahead(s))
			(void)brpop_next(s, s->deadline, 1);
	}
	res->receivers = publish(s, env, envlen);
	free(env);
	if (res->receivers == -1) {
		res->receivers = 0;
		goto done;
	}
	memset(&ev, 0, sizeof(ev));
	emit(s, &ev, MAILBOX_EV_PUBLISHED);
	expectation(mb, req, res);
	if (!req->reply) {
		cast_unbound(req, res);
		goto done;
	}

	if (res->receivers == 0 && req->limit <= 0 &&
	    req->ndestination == 0) {
		cleanup(s, 0);
		res->status = MAILBOX_NO_LISTENER;
		mailbox_where(mb, where, sizeof(where));
		set_msg(&res->error, "no node is listening on %s", where);
		goto done;
	}
	emit(s, &ev, MAILBOX_EV_COLLECT);
	if (collect(s) == -1)
		goto done;
	res->collected = 1;
	/* Stopped at --limit while more nodes may still answer. */
	cleanup(s, req->limit > 0 && res->ncounted >= req->limit &&
	    res->receivers > req->limit ? CLEANUP_SETTLE : 0);
	/* Interrupted or not, who answered and who did not is known. */
	tally(req, res);
	if (*mb->intr.flag)
		res->status = MAILBOX_INTERRUPTED;
done:
	rconn_close(&s->rc);
	free(body);
	free(s);
}

void
mailbox_result_free(struct mailbox_result *res)
{
	free(res->error);
	free(res->cleanup_error);
	free(res->errors);
	free(res->missing);
	free(res->unsub);
	free(res->expnames);
	free(res->twins);
	json_object_put(res->twinset);
	json_object_put(res->bound);
	json_object_put(res->expset);
	json_object_put(res->replies);
	json_object_put(res->latency);
	json_object_put(res->trust);
	json_object_put(res->trust_why);
	memset(res, 0, sizeof(*res));
}
