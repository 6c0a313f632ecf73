/*
 * loadgen: the load generator and helpers of `make bench` (not installed).
 *
 *   loadgen rt      [common] -n node -k inflight (-c count | -d secs) [-w warm]
 *	Keep K ping requests in flight against one node (fanout PUBLISH or
 *	direct LPUSH), collect replies from our own reply list with BRPOP +
 *	RPOP count, send a new request per reply. Prints round trips/s and
 *	latency percentiles.
 *   loadgen collect [common] -e nodes -r rounds [-w warm] [-t secs]
 *	A warm client: one broadcast ping per round, wait until `nodes`
 *	replies with its ticket arrived. Prints collection time percentiles.
 *   loadgen floor   [common] -n name
 *	The floor: a tiny C + hiredis responder. SUBSCRIBE, pull ticket and
 *	reply routing key out of each request with plain string searches and
 *	LPUSH a canned pong reply. No JSON parser, no binding check.
 *   loadgen fleet   [common] -e nodes [-j procs] [-m route|plain] [-P prefix]
 *	A simulated fleet of nodes named <prefix><i> in procs processes,
 *	each node with its own subscription, answering ping through
 *	pidboxd's reply path (see cmd_fleet). Prints READY, runs until
 *	SIGTERM.
 *   loadgen exec -r reps -- command [args]
 *	Whole-process wall time of a command (stdout/stderr to /dev/null).
 *
 * common: -h host -p port -N namespace -T fanout|direct
 * Output: one line of key=value pairs on stdout, for tests/bench/run.sh.
 * Requests are built with the project's request_encode/envelope_encode
 * once; per request only the ticket in the body changes (the body is
 * base64-encoded again into the same slot of the envelope).
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"

#define TICKET_PFX_LEN	24	/* "xxxxxxxx-0000-4000-8000-" */
#define RING		(1u << 20)

static const char *host = "127.0.0.1";
static int	 port = 6379;
static const char *ns = "pidbox";
static enum mailbox_type type = MAILBOX_FANOUT;
static struct names names;

/* The common options; 0 when ch was one of them. */
static int
common_opt(int ch, const char *arg)
{
	switch (ch) {
	case 'h': host = arg; return 0;
	case 'p': port = atoi(arg); return 0;
	case 'N': ns = arg; return 0;
	case 'T':
		if (mailbox_type_parse(arg, &type) == -1)
			errx(2, "bad type %s", arg);
		return 0;
	}
	return -1;
}

static void
names_setup(const char *hostname)
{
	const char *errstr;

	if (names_init(&names, ns, hostname, type, 0, "", NULL, &errstr) == -1)
		errx(1, "names: %s", errstr);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static redisContext *
connect_redis(void)
{
	redisContext *c;

	if ((c = redisConnect(host, port)) == NULL || c->err)
		errx(1, "connect %s:%d: %s", host, port,
		    c != NULL ? c->errstr : "out of memory");
	return c;
}

static redisReply *
cmd_argv(redisContext *c, int argc, const char **argv, const size_t *len)
{
	redisReply *r;

	if ((r = redisCommandArgv(c, argc, argv, len)) == NULL)
		errx(1, "%s: %s", argv[0], c->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		errx(1, "%s: %s", argv[0], r->str);
	return r;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void
print_pcts(double *v, size_t n, const char *unit, double scale)
{
	int	 d = scale == 1e3 ? 2 : 1;	/* ms: a /bin/true is 0.8 */

	qsort(v, n, sizeof(*v), dcmp);
	printf(" p50_%s=%.*f p90_%s=%.*f p99_%s=%.*f max_%s=%.*f", unit,
	    d, pct(v, n, 0.5) * scale, unit, d, pct(v, n, 0.9) * scale, unit,
	    d, pct(v, n, 0.99) * scale, unit, d, n ? v[n - 1] * scale : 0);
}

/* ------------------------------------------------------------ requests */

struct tmpl {
	char	*body;		/* request body JSON, ticket patched in place */
	size_t	 bodylen;
	size_t	 ticket_off;	/* of the ticket in body */
	char	*env;		/* envelope; b64 body at env + 10 */
	size_t	 envlen;
	size_t	 b64len;
	char	 pfx[9];	/* per-run ticket prefix */
	char	 oid[UUID_STRLEN + 1];
	char	 queue[MAX_KEY];
	char	 keys[4][MAX_KEY];
	char	 member[MAX_KEY];
	int	 memberlen;
};

static void
tmpl_init(struct tmpl *t)
{
	struct request_out	 ro;
	struct envelope_out	 eo;
	json_object		*h;
	const char		*errstr;
	char			 ticket[UUID_STRLEN + 1], *p, *b64;
	size_t			 b64len;

	uuid4(t->oid);
	snprintf(t->pfx, sizeof(t->pfx), "%.8s", t->oid + 28);
	uuid4(ticket);		/* overwritten per request */
	if (names_reply_queue(&names, t->oid, t->queue, sizeof(t->queue)) ==
	    -1 || names_queue_keys(&names, t->queue, t->keys) == -1 ||
	    (t->memberlen = binding_member(t->oid, "", t->queue, t->member,
	    sizeof(t->member))) == -1)
		errx(1, "names too long");
	memset(&ro, 0, sizeof(ro));
	ro.method = "ping";
	ro.ticket = ticket;
	ro.reply_exchange = names.reply_exchange;
	ro.reply_routing_key = t->oid;
	if ((t->body = request_encode(&ro, &t->bodylen, &errstr)) == NULL)
		errx(1, "request_encode: %s", errstr);
	if ((p = strstr(t->body, ticket)) == NULL)
		errx(1, "ticket not found in the request body");
	t->ticket_off = (size_t)(p - t->body);
	if ((h = json_object_new_object()) == NULL)
		errx(1, "out of memory");
	json_object_object_add(h, "clock", json_object_new_int64(1));
	json_object_object_add(h, "expires",
	    json_object_new_double(now_wall() + 86400));
	memset(&eo, 0, sizeof(eo));
	eo.body = t->body;
	eo.bodylen = t->bodylen;
	eo.headers = h;
	eo.delivery_mode = 2;
	eo.exchange = names.exchange;
	eo.routing_key = "";
	if ((t->env = envelope_encode(&eo, &t->envlen)) == NULL)
		err(1, "envelope_encode");
	json_object_put(h);
	if ((b64 = b64_encode(t->body, t->bodylen, &b64len)) == NULL)
		err(1, "b64_encode");
	if (strncmp(t->env, "{\"body\": \"", 10) != 0 ||
	    memcmp(t->env + 10, b64, b64len) != 0)
		errx(1, "unexpected envelope layout");
	t->b64len = b64len;
	free(b64);
}

/* Patch ticket number idx into the template; returns the envelope. */
static const char *
tmpl_make(struct tmpl *t, unsigned long long idx)
{
	char	tk[UUID_STRLEN + 1];

	snprintf(tk, sizeof(tk), "%s-0000-4000-8000-%012llu", t->pfx, idx);
	memcpy(t->body + t->ticket_off, tk, UUID_STRLEN);
	if (b64_ntop((const unsigned char *)t->body, t->bodylen,
	    t->env + 10, t->b64len + 1) != (int)t->b64len)
		errx(1, "b64_ntop");
	t->env[10 + t->b64len] = '"';	/* b64_ntop wrote a NUL there */
	return t->env;
}

static void
append_request(redisContext *c, struct tmpl *t, unsigned long long idx)
{
	const char	*argv[3];
	size_t		 len[3];

	tmpl_make(t, idx);
	if (type == MAILBOX_FANOUT) {
		argv[0] = "PUBLISH";
		argv[1] = names.fanout_channel;
	} else {
		argv[0] = "LPUSH";
		argv[1] = names.node_queue_keys[0];
	}
	len[0] = strlen(argv[0]);
	len[1] = strlen(argv[1]);
	argv[2] = t->env;
	len[2] = t->envlen;
	if (redisAppendCommandArgv(c, 3, argv, len) != REDIS_OK)
		errx(1, "append: %s", c->errstr);
}

/* Read n pending replies to our sends; returns the sum of receivers. */
static long long
read_sends(redisContext *c, int n)
{
	redisReply	*r;
	long long	 sum = 0;
	void		*vr;

	while (n-- > 0) {
		if (redisGetReply(c, &vr) != REDIS_OK)
			errx(1, "send: %s", c->errstr);
		r = vr;
		if (r->type == REDIS_REPLY_ERROR)
			errx(1, "send: %s", r->str);
		if (r->type == REDIS_REPLY_INTEGER)
			sum += r->integer;
		freeReplyObject(r);
	}
	return sum;
}

static void
bind_reply(redisContext *c, struct tmpl *t)
{
	const char	*argv[3] = { "SADD", names.reply_binding_key, t->member };
	size_t		 len[3] = { 4, strlen(argv[1]), (size_t)t->memberlen };

	freeReplyObject(cmd_argv(c, 3, argv, len));
}

static void
unbind_reply(redisContext *c, struct tmpl *t)
{
	const char	*argv[3] = { "SREM", names.reply_binding_key, t->member };
	size_t		 len[3] = { 4, strlen(argv[1]), (size_t)t->memberlen };
	const char	*dargv[2] = { "DEL", t->keys[0] };
	size_t		 dlen[2] = { 3, strlen(t->keys[0]) };

	freeReplyObject(cmd_argv(c, 3, argv, len));
	freeReplyObject(cmd_argv(c, 2, dargv, dlen));
}

/*
 * Ticket number of a reply of this run, or -1. Every fiftieth reply is
 * also decoded in full to check that it is a well-formed pong.
 */
static long long
reply_index(struct tmpl *t, const char *buf, size_t len, int check)
{
	struct envelope	 env;
	json_object	*root, *value, *ok;
	const char	*p, *errstr, *node;
	long long	 idx;

	if ((p = memmem(buf, len, "\"ticket\": \"", 11)) == NULL ||
	    (size_t)(p - buf) + 11 + UUID_STRLEN > len)
		return -1;
	p += 11;
	if (memcmp(p, t->pfx, 8) != 0)
		return -1;
	idx = strtoll(p + TICKET_PFX_LEN, NULL, 10);
	if (!check)
		return idx;
	if (envelope_decode_flat(buf, len, &env, &errstr) == -1)
		errx(1, "bad reply envelope: %s", errstr);
	if (reply_decode(env.body, env.bodylen, &root, &node, &value,
	    &errstr) == -1)
		errx(1, "bad reply body: %s", errstr);
	if (!json_object_object_get_ex(value, "ok", &ok) ||
	    strcmp(json_object_get_string(ok), "pong") != 0)
		errx(1, "reply from %s is not a pong: %s", node,
		    json_object_to_json_string(value));
	json_object_put(root);
	envelope_free(&env);
	return idx;
}

/*
 * Wait up to tmo seconds for replies; put up to max raw replies into out
 * (the caller frees the reply objects in rs). Returns the count.
 */
static size_t
pop_replies(redisContext *c, struct tmpl *t, double tmo, redisReply **rs,
    size_t *nrs)
{
	const char	*argv[3];
	size_t		 len[3];
	char		 to[32];
	redisReply	*r;
	size_t		 n = 0;

	*nrs = 0;
	snprintf(to, sizeof(to), "%.3f", tmo);
	argv[0] = "BRPOP";
	argv[1] = t->keys[0];
	argv[2] = to;
	len[0] = 5;
	len[1] = strlen(argv[1]);
	len[2] = strlen(to);
	r = cmd_argv(c, 3, argv, len);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		return 0;
	}
	rs[(*nrs)++] = r;
	n = 1;
	argv[0] = "RPOP";
	argv[2] = "10000";
	len[0] = 4;
	len[2] = 5;
	r = cmd_argv(c, 3, argv, len);
	rs[(*nrs)++] = r;
	if (r->type == REDIS_REPLY_ARRAY)
		n += r->elements;
	return n;
}

static int
cmd_rt(int argc, char **argv)
{
	struct tmpl	 t;
	redisContext	*pub, *rcv;
	redisReply	*rs[2], *s;
	size_t		 nrs, nlat = 0;
	double		*sent, *lat, t0 = 0, t1, deadline = 0, dur = 0, last;
	unsigned char	*live;
	unsigned long long next = 0;
	long long	 count = 0, warm = 200, done = 0, idx, inflight = 0;
	int		 k = 1, ch, nsend, checked = 0;
	const char	*node = "node";

	while ((ch = getopt(argc, argv, "c:d:k:n:w:h:p:N:T:")) != -1) {
		switch (ch) {
		case 'c': count = atoll(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'k': k = atoi(optarg); break;
		case 'n': node = optarg; break;
		case 'w': warm = atoll(optarg); break;
		default: if (common_opt(ch, optarg) == -1) errx(2, "rt: bad option");
		}
	}
	names_setup(node);
	if (k < 1 || (count <= 0 && dur <= 0))
		errx(2, "rt: need -k >= 1 and -c or -d");
	sent = calloc(RING, sizeof(*sent));
	live = calloc(RING, 1);
	lat = calloc(count > 0 ? (size_t)count + 16 : 4u << 20, sizeof(*lat));
	if (sent == NULL || live == NULL || lat == NULL)
		err(1, NULL);
	tmpl_init(&t);
	pub = connect_redis();
	rcv = connect_redis();
	bind_reply(pub, &t);
	for (nsend = 0; nsend < k; nsend++) {
		sent[next % RING] = now_s();
		live[next % RING] = 1;
		append_request(pub, &t, next++);
	}
	inflight = k;
	if (read_sends(pub, k) == 0 && type == MAILBOX_FANOUT)
		errx(1, "rt: nobody subscribed to %s", names.fanout_channel);
	last = now_s();
	if (warm == 0) {
		t0 = last;
		if (dur > 0)
			deadline = t0 + dur;
	}
	while (inflight > 0) {
		size_t	got;

		got = pop_replies(rcv, &t, 1.0, rs, &nrs);
		t1 = now_s();
		if (got == 0) {
			if (t1 - last > 10)
				errx(1, "rt: no reply for 10 s (%lld in flight)",
				    inflight);
			continue;
		}
		last = t1;
		nsend = 0;
		/* Simple and explicit: walk every string we popped. */
		for (size_t i = 0; i < nrs; i++) {
			redisReply *r = rs[i];
			size_t	    j, n, base = 0;

			if (r->type != REDIS_REPLY_ARRAY)
				continue;
			n = r->elements;
			if (i == 0) {	/* BRPOP: [key, value] */
				base = 1;
				n = 2;
			}
			for (j = base; j < n; j++) {
				s = r->element[j];
				if (s->type != REDIS_REPLY_STRING)
					continue;
				idx = reply_index(&t, s->str, s->len,
				    checked++ % 50 == 0);
				if (idx < 0 || !live[idx % RING])
					continue;
				live[idx % RING] = 0;
				inflight--;
				done++;
				if (done == warm) {
					t0 = t1;
					if (dur > 0)
						deadline = t0 + dur;
				}
				if (done > warm)
					lat[nlat++] = t1 - sent[idx % RING];
				if ((count > 0 && (long long)next < count + warm) ||
				    (count <= 0 && (done <= warm || t1 < deadline))) {
					sent[next % RING] = now_s();
					live[next % RING] = 1;
					append_request(pub, &t, next++);
					nsend++;
					inflight++;
				}
			}
		}
		for (size_t i = 0; i < nrs; i++)
			freeReplyObject(rs[i]);
		if (nsend > 0)
			read_sends(pub, nsend);
	}
	t1 = now_s();
	unbind_reply(pub, &t);
	printf("rt k=%d n=%zu secs=%.3f rps=%.0f", k, nlat, t1 - t0,
	    (double)nlat / (t1 - t0));
	print_pcts(lat, nlat, "us", 1e6);
	printf("\n");
	redisFree(pub);
	redisFree(rcv);
	return 0;
}

static int
cmd_collect(int argc, char **argv)
{
	struct tmpl	 t;
	redisContext	*c;
	redisReply	*rs[2], *s;
	size_t		 nrs;
	double		*times, t0, tmo = 5, now;
	long long	 nodes = 1, rounds = 10, warm = 2, idx, got, r;
	int		 ch, fails = 0;

	while ((ch = getopt(argc, argv, "e:r:t:w:h:p:N:T:")) != -1) {
		switch (ch) {
		case 'e': nodes = atoll(optarg); break;
		case 'r': rounds = atoll(optarg); break;
		case 't': tmo = atof(optarg); break;
		case 'w': warm = atoll(optarg); break;
		default: if (common_opt(ch, optarg) == -1) errx(2, "collect: bad option");
		}
	}
	names_setup(NULL);
	if ((times = calloc((size_t)rounds + 1, sizeof(*times))) == NULL)
		err(1, NULL);
	tmpl_init(&t);
	c = connect_redis();
	bind_reply(c, &t);
	for (r = -warm; r < rounds; r++) {
		t0 = now_s();
		append_request(c, &t, (unsigned long long)(r + warm));
		read_sends(c, 1);
		got = 0;
		while (got < nodes) {
			now = now_s();
			if (now - t0 >= tmo)
				break;
			if (pop_replies(c, &t, tmo - (now - t0), rs, &nrs) == 0)
				continue;
			for (size_t i = 0; i < nrs; i++) {
				size_t j, n, base = 0;

				if (rs[i]->type != REDIS_REPLY_ARRAY)
					continue;
				n = rs[i]->elements;
				if (i == 0)
					base = 1;
				for (j = base; j < n; j++) {
					s = rs[i]->element[j];
					if (s->type != REDIS_REPLY_STRING)
						continue;
					idx = reply_index(&t, s->str, s->len,
					    got == 0);
					if (idx == r + warm)
						got++;
				}
			}
			for (size_t i = 0; i < nrs; i++)
				freeReplyObject(rs[i]);
		}
		now = now_s();
		if (got < nodes) {
			fails++;
			fprintf(stderr, "collect: round %lld: %lld of %lld "
			    "replies in %.1f s\n", r, got, nodes, tmo);
		}
		if (r >= 0)
			times[r] = now - t0;
	}
	unbind_reply(c, &t);
	redisFree(c);
	printf("collect nodes=%lld rounds=%lld fails=%d", nodes, rounds, fails);
	print_pcts(times, (size_t)rounds, "ms", 1e3);
	printf("\n");
	return fails ? 1 : 0;
}

/* ------------------------------------------------------------ floor */

/* Copy the 36-char string value after `"key": "` (last occurrence). */
static int
find_value(const char *s, size_t len, const char *key, char *out, size_t max)
{
	const char	*p = NULL, *q = s, *e;
	size_t		 kl = strlen(key);

	while ((q = memmem(q, len - (size_t)(q - s), key, kl)) != NULL) {
		p = q;
		q += kl;
	}
	if (p == NULL)
		return -1;
	p += kl;
	if ((e = memchr(p, '"', len - (size_t)(p - s))) == NULL ||
	    (size_t)(e - p) >= max)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static int
cmd_floor(int argc, char **argv)
{
	redisContext	*sub, *cmd;
	redisReply	*r;
	void		*vr;
	const char	*name = "floor", *av[3], *b, *e;
	size_t		 al[3];
	char		 body[256], *b64, ticket[128], oid[128];
	char		 body2[MAX_KEY], keys[4][MAX_KEY];
	char		*env, *dec;
	size_t		 b64len, declen, envcap = 4096;
	long long	 clock = 0;
	int		 ch, pending = 0, n;

	while ((ch = getopt(argc, argv, "n:h:p:N:T:")) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		default: if (common_opt(ch, optarg) == -1) errx(2, "floor: bad option");
		}
	}
	names_setup(NULL);
	snprintf(body, sizeof(body), "{\"%s\": {\"ok\": \"pong\"}}", name);
	if ((b64 = b64_encode(body, strlen(body), &b64len)) == NULL ||
	    (env = malloc(envcap)) == NULL)
		err(1, NULL);
	sub = connect_redis();
	cmd = connect_redis();
	av[0] = "SUBSCRIBE";
	av[1] = names.fanout_channel;
	al[0] = 9;
	al[1] = strlen(av[1]);
	if (redisAppendCommandArgv(sub, 2, av, al) != REDIS_OK)
		errx(1, "subscribe");
	for (;;) {
		/* flush our LPUSHes when no message is waiting */
		if (redisGetReplyFromReader(sub, &vr) != REDIS_OK)
			errx(1, "read: %s", sub->errstr);
		if (vr == NULL) {
			while (pending > 0) {
				if (redisGetReply(cmd, &vr) != REDIS_OK)
					errx(1, "LPUSH: %s", cmd->errstr);
				freeReplyObject(vr);
				pending--;
			}
			if (redisGetReply(sub, &vr) != REDIS_OK)
				errx(1, "read: %s", sub->errstr);
		}
		r = vr;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
		    strcmp(r->element[0]->str, "message") != 0) {
			freeReplyObject(r);
			continue;
		}
		b = r->element[2]->str;
		if (strncmp(b, "{\"body\": \"", 10) != 0 ||
		    (e = strchr(b + 10, '"')) == NULL ||
		    (dec = b64_decode(b + 10, (size_t)(e - b - 10),
		    &declen)) == NULL) {
			freeReplyObject(r);
			continue;
		}
		if (find_value(dec, declen, "\"ticket\": \"", ticket,
		    sizeof(ticket)) == -1 ||
		    find_value(dec, declen, "\"routing_key\": \"", oid,
		    sizeof(oid)) == -1) {
			free(dec);
			freeReplyObject(r);
			continue;
		}
		free(dec);
		freeReplyObject(r);
		n = snprintf(env, envcap, "{\"body\": \"%s\", "
		    "\"content-encoding\": \"utf-8\", \"content-type\": "
		    "\"application/json\", \"headers\": {\"ticket\": \"%s\", "
		    "\"clock\": %lld}, \"properties\": {\"delivery_mode\": 1, "
		    "\"delivery_info\": {\"exchange\": \"%s\", \"routing_key\": "
		    "\"%s\"}, \"priority\": 0, \"body_encoding\": \"base64\", "
		    "\"delivery_tag\": \"00000000-0000-4000-8000-000000000000\"}}",
		    b64, ticket, ++clock, names.reply_exchange, oid);
		if (names_reply_queue(&names, oid, body2, sizeof(body2)) == -1 ||
		    names_queue_keys(&names, body2, keys) == -1)
			continue;
		av[0] = "LPUSH";
		av[1] = keys[0];
		av[2] = env;
		al[0] = 5;
		al[1] = strlen(keys[0]);
		al[2] = (size_t)n;
		if (redisAppendCommandArgv(cmd, 3, av, al) != REDIS_OK)
			errx(1, "LPUSH");
		pending++;
	}
	/* NOTREACHED */
	return 0;
}

/* ------------------------------------------------------------ fleet */

/*
 * A simulated fleet (issue 17): N nodes in a few processes, each node with
 * its own SUBSCRIBE connection (Redis pays the real PUBLISH fan-out) and
 * its binding in the node binding set (pidboxctl reads who is bound),
 * answering ping through pidboxd's reply path: the request decoded by
 * envelope_decode/request_decode, the reply built by reply_encode and
 * envelope_encode with the ticket and the node's own Lamport clock, and
 * routed as pidboxd routes it (daemon/replies.c): SISMEMBER of the
 * client's canonical binding member, then, when bound, LPUSH and PEXPIRE.
 * The request is decoded once per process and reused while the next
 * message has the same bytes (every subscription of a process receives
 * the same PUBLISH); the reply is built per node. Replies go out
 * pipelined on one command connection per process. -m plain replies as
 * kombu does (SMEMBERS, then LPUSH): the Redis cost pidboxd's routing is
 * compared with.
 */
#define FLEET_TTL_MS	300000	/* pidboxd's default reply_ttl */

/*
 * The commands in flight on a process's command connection, in order:
 * a SISMEMBER's reply says whether its reply is pushed.
 */
struct fsent {
	char		*env;		/* NULL: not a SISMEMBER */
	size_t		 envlen;
	char		*list;
};

static struct {
	struct fsent	*q;
	size_t		 cap, head, n;
} sent;

static void
sent_push(char *env, size_t envlen, const char *list)
{
	struct fsent	*f;

	if (sent.n == sent.cap) {
		size_t	 ncap = sent.cap ? 2 * sent.cap : 1024, i;
		struct fsent *nq;

		if ((nq = calloc(ncap, sizeof(*nq))) == NULL)
			err(1, NULL);
		for (i = 0; i < sent.n; i++)
			nq[i] = sent.q[(sent.head + i) % sent.cap];
		free(sent.q);
		sent.q = nq;
		sent.cap = ncap;
		sent.head = 0;
	}
	f = &sent.q[(sent.head + sent.n++) % sent.cap];
	f->env = env;
	f->envlen = envlen;
	f->list = env != NULL ? strdup(list) : NULL;
	if (env != NULL && f->list == NULL)
		err(1, NULL);
}

static struct fsent
sent_pop(void)
{
	struct fsent	 f;

	if (sent.n == 0)
		errx(1, "fleet: a reply to a command not sent");
	f = sent.q[sent.head];
	sent.head = (sent.head + 1) % sent.cap;
	sent.n--;
	return f;
}

struct fnode {
	redisContext	*c;
	char		 name[64];
	struct lamport	 clock;
};

struct fcache {
	char		*msg;		/* the last request envelope */
	size_t		 len;
	int		 ok;		/* a ping that wants a reply */
	char		 ticket[UUID_STRLEN + 1];
	int		 has_ticket;
	int64_t		 clock;
	char		 xchg[MAX_KEY];
	char		 rk[MAX_KEY];
	char		 list[MAX_KEY];
	char		 member[MAX_KEY];
	int		 memberlen;
};

static int
fcache_fill(struct fcache *fc, const char *msg, size_t len)
{
	struct envelope	 env;
	struct request	 req;
	const char	*errstr, *t;
	char		 queue[MAX_KEY];

	if (fc->msg != NULL && fc->len == len && memcmp(fc->msg, msg, len) == 0)
		return fc->ok;
	free(fc->msg);
	if ((fc->msg = malloc(len)) == NULL)
		err(1, NULL);
	memcpy(fc->msg, msg, len);
	fc->len = len;
	fc->ok = 0;
	if (envelope_decode_flat(msg, len, &env, &errstr) == -1)
		return 0;
	if (request_decode(env.body, env.bodylen, &req, &errstr) == -1) {
		envelope_free(&env);
		return 0;
	}
	if (req.method != NULL && strcmp(req.method, "ping") == 0 &&
	    req.reply_exchange != NULL &&
	    strlen(req.reply_exchange) < sizeof(fc->xchg) &&
	    strlen(req.reply_routing_key) < sizeof(fc->rk) / 2 &&
	    names_reply_queue(&names, req.reply_routing_key, queue,
	    sizeof(queue)) == 0 &&
	    (fc->memberlen = binding_member(req.reply_routing_key, "", queue,
	    fc->member, sizeof(fc->member))) != -1) {
		fc->ok = 1;
		fc->has_ticket = (t = req.ticket) != NULL;
		snprintf(fc->ticket, sizeof(fc->ticket), "%s", t ? t : "");
		if (envelope_clock(&env, &fc->clock) == -1)
			fc->clock = 0;
		strlcpy(fc->xchg, req.reply_exchange, sizeof(fc->xchg));
		strlcpy(fc->rk, req.reply_routing_key, sizeof(fc->rk));
		strlcpy(fc->list, names.keyprefix, sizeof(fc->list));
		strlcat(fc->list, queue, sizeof(fc->list));
	}
	request_free(&req);
	envelope_free(&env);
	return fc->ok;
}

/*
 * Append a command to cmd formatted by resp_format(), as pidboxd formats
 * its routing commands (not hiredis's sdscatfmt per argument).
 */
static void
append_resp(redisContext *cmd, int argc, const char **av, const size_t *al)
{
	static char	*buf;
	static size_t	 cap;
	size_t		 need, len;

	if ((need = resp_size(argc, av, al)) > cap) {
		free(buf);
		if ((buf = malloc(need)) == NULL)
			err(1, NULL);
		cap = need;
	}
	len = resp_format(buf, argc, av, al);
	if (redisAppendFormattedCommand(cmd, buf, len) != REDIS_OK)
		errx(1, "fleet: %s", cmd->errstr);
}

/* Node fn answers the cached request: one routing command into cmd. */
static void
fnode_reply(struct fnode *fn, const struct fcache *fc, redisContext *cmd,
    int plain, json_object *pong)
{
	struct envelope_out	 out;
	json_object		*h;
	const char		*av[3];
	size_t			 al[3];
	char			*body, *env;
	size_t			 bodylen, envlen;
	int64_t			 clk;

	clock_adjust(&fn->clock, fc->clock);
	if ((body = reply_encode(fn->name, pong, &bodylen)) == NULL ||
	    (h = json_object_new_object()) == NULL)
		err(1, NULL);
	clk = clock_forward(&fn->clock);
	json_object_object_add(h, "ticket", !fc->has_ticket ? NULL :
	    json_object_new_string(fc->ticket));
	json_object_object_add(h, "clock", json_object_new_int64(clk));
	memset(&out, 0, sizeof(out));
	out.body = body;
	out.bodylen = bodylen;
	out.headers = h;
	out.delivery_mode = 1;
	out.exchange = fc->xchg;
	out.routing_key = fc->rk;
	if ((env = envelope_encode(&out, &envlen)) == NULL)
		err(1, NULL);
	json_object_put(h);
	free(body);
	if (plain) {
		av[0] = "SMEMBERS";
		av[1] = names.reply_binding_key;
		if (redisAppendCommandArgv(cmd, 2, av, NULL) != REDIS_OK)
			errx(1, "fleet: %s", cmd->errstr);
		sent_push(NULL, 0, NULL);
		av[0] = "LPUSH";
		av[1] = fc->list;
		av[2] = env;
		al[0] = 5;
		al[1] = strlen(fc->list);
		al[2] = envlen;
		append_resp(cmd, 3, av, al);
		sent_push(NULL, 0, NULL);
		free(env);
	} else {
		av[0] = "SISMEMBER";
		av[1] = names.reply_binding_key;
		av[2] = fc->member;
		al[0] = 9;
		al[1] = strlen(av[1]);
		al[2] = (size_t)fc->memberlen;
		append_resp(cmd, 3, av, al);
		sent_push(env, envlen, fc->list);
	}
}

/* The binding is there: push the reply and set the list's TTL. */
static void
fleet_push(redisContext *cmd, struct fsent *f)
{
	const char	*av[3];
	size_t		 al[3];
	char		 ttl[16];

	av[0] = "LPUSH";
	av[1] = f->list;
	av[2] = f->env;
	al[0] = 5;
	al[1] = strlen(f->list);
	al[2] = f->envlen;
	append_resp(cmd, 3, av, al);
	sent_push(NULL, 0, NULL);
	snprintf(ttl, sizeof(ttl), "%d", FLEET_TTL_MS);
	av[0] = "PEXPIRE";
	av[2] = ttl;
	al[0] = 7;
	al[2] = strlen(ttl);
	append_resp(cmd, 3, av, al);
	sent_push(NULL, 0, NULL);
}

/* Write out what cmd has buffered (it is non-blocking). */
static void
flush_cmd(redisContext *cmd)
{
	struct pollfd	pfd;
	int		done = 0;

	for (;;) {
		if (redisBufferWrite(cmd, &done) != REDIS_OK)
			errx(1, "fleet: write: %s", cmd->errstr);
		if (done)
			return;
		pfd.fd = cmd->fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 1000);
	}
}

/* Consume the replies to our routing commands; count failures. */
static void
drain_cmd(redisContext *cmd, long long *bad)
{
	struct fsent	 f;
	redisReply	*r;
	void		*vr;

	if (redisBufferRead(cmd) != REDIS_OK)
		errx(1, "fleet: read: %s", cmd->errstr);
	for (;;) {
		if (redisGetReplyFromReader(cmd, &vr) != REDIS_OK)
			errx(1, "fleet: read: %s", cmd->errstr);
		if ((r = vr) == NULL)
			return;
		f = sent_pop();
		if (r->type == REDIS_REPLY_ERROR ||
		    (f.env != NULL && (r->type != REDIS_REPLY_INTEGER ||
		    r->integer != 1))) {
			if ((*bad)++ == 0)
				fprintf(stderr, "fleet: routing failed: %s\n",
				    r->type == REDIS_REPLY_ERROR ? r->str :
				    "not bound");
		} else if (f.env != NULL)
			fleet_push(cmd, &f);
		free(f.env);
		free(f.list);
		freeReplyObject(r);
	}
}

static void
set_nonblock(redisContext *c)
{
	int	fl;

	if ((fl = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) == -1)
		err(1, "fcntl");
	c->flags &= ~REDIS_BLOCK;
}

/* One process of the fleet: nodes [first, first + n). Never returns. */
static void
fleet_proc(const char *prefix, int first, int n, int plain, int readyfd)
{
	struct fnode		*fn;
	struct fcache		 fc;
	struct epoll_event	*evs, ev;
	struct names		 nn;
	redisContext		*cmd;
	redisReply		*r;
	json_object		*pong;
	const char		*av[3], *errstr;
	char			 name[64];
	long long		 pending = 0, bad = 0;
	int			 ep, i, k, nev;
	void			*vr;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&fc, 0, sizeof(fc));
	if ((fn = calloc((size_t)n, sizeof(*fn))) == NULL ||
	    (evs = calloc(256, sizeof(*evs))) == NULL ||
	    (pong = json_object_new_object()) == NULL)
		err(1, NULL);
	json_object_object_add(pong, "ok", json_object_new_string("pong"));
	cmd = connect_redis();
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, first + i);
		snprintf(fn[i].name, sizeof(fn[i].name), "%s", name);
		if (names_init(&nn, ns, name, type, 0, "", NULL,
		    &errstr) == -1)
			errx(1, "names: %s", errstr);
		if (redisAppendCommand(cmd, "SADD %s %b", nn.node_binding_key,
		    nn.node_member, nn.node_member_len) != REDIS_OK)
			errx(1, "SADD");
		pending++;
		fn[i].c = connect_redis();
		av[0] = "SUBSCRIBE";
		av[1] = names.fanout_channel;
		freeReplyObject(cmd_argv(fn[i].c, 2, av, NULL));
		set_nonblock(fn[i].c);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fn[i].c->fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
	read_sends(cmd, (int)pending);
	pending = 0;
	set_nonblock(cmd);
	ev.events = EPOLLIN;
	ev.data.u32 = (uint32_t)n;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, cmd->fd, &ev) == -1)
		err(1, "epoll_ctl");
	if (write(readyfd, "R", 1) != 1)
		err(1, "ready");
	close(readyfd);
	for (;;) {
		if ((nev = epoll_wait(ep, evs, 256, -1)) == -1)
			err(1, "epoll_wait");
		for (k = 0; k < nev; k++) {
			struct fnode *f;

			if (evs[k].data.u32 == (uint32_t)n) {
				drain_cmd(cmd, &bad);
				continue;
			}
			f = &fn[evs[k].data.u32];
			if (redisBufferRead(f->c) != REDIS_OK)
				errx(1, "fleet: %s: %s", f->name, f->c->errstr);
			for (;;) {
				if (redisGetReplyFromReader(f->c, &vr) !=
				    REDIS_OK)
					errx(1, "fleet: %s", f->c->errstr);
				if ((r = vr) == NULL)
					break;
				if (r->type == REDIS_REPLY_ARRAY &&
				    r->elements == 3 &&
				    strcmp(r->element[0]->str, "message") == 0 &&
				    fcache_fill(&fc, r->element[2]->str,
				    r->element[2]->len))
					fnode_reply(f, &fc, cmd, plain, pong);
				freeReplyObject(r);
			}
		}
		if (sent.n > 0)
			flush_cmd(cmd);
	}
}

static int
cmd_fleet(int argc, char **argv)
{
	const char	*prefix = "sim", *mode = "route";
	pid_t		*kids;
	sigset_t	 ss;
	int		 n = 100, procs = 2, ch, i, first, per, fds[2], sig;
	char		 c;

	while ((ch = getopt(argc, argv, "e:j:m:P:h:p:N:T:")) != -1) {
		switch (ch) {
		case 'e': n = atoi(optarg); break;
		case 'j': procs = atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'P': prefix = optarg; break;
		default: if (common_opt(ch, optarg) == -1) errx(2, "fleet: bad option");
		}
	}
	if (n < 1 || procs < 1 || procs > n ||
	    (strcmp(mode, "route") != 0 && strcmp(mode, "plain") != 0))
		errx(2, "fleet: -e nodes >= -j procs >= 1, -m route|plain");
	names_setup(NULL);
	if ((kids = calloc((size_t)procs, sizeof(*kids))) == NULL ||
	    pipe(fds) == -1)
		err(1, NULL);
	/* SIGTERM to us: to the children too (they die with us anyway) */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	per = (n + procs - 1) / procs;
	for (i = 0, first = 0; i < procs && first < n; i++, first += per) {
		if ((kids[i] = fork()) == -1)
			err(1, "fork");
		if (kids[i] == 0) {
			sigprocmask(SIG_UNBLOCK, &ss, NULL);
			close(fds[0]);
			fleet_proc(prefix, first, first + per > n ? n - first :
			    per, strcmp(mode, "plain") == 0, fds[1]);
		}
	}
	procs = i;
	close(fds[1]);
	for (i = 0; i < procs; i++)
		if (read(fds[0], &c, 1) != 1)
			errx(1, "fleet: a process failed to start");
	printf("fleet nodes=%d procs=%d mode=%s READY\n", n, procs, mode);
	sigwait(&ss, &sig);
	for (i = 0; i < procs; i++)
		kill(kids[i], SIGTERM);
	for (i = 0; i < procs; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

/* ------------------------------------------------------------ exec */

static int
cmd_exec(int argc, char **argv)
{
	struct rusage	 ru;
	double		*w, *cpu, t0;
	int		 reps = 5, ch, i, st, fd, fails = 0;
	pid_t	 pid;

	while ((ch = getopt(argc, argv, "+r:")) != -1) {
		switch (ch) {
		case 'r': reps = atoi(optarg); break;
		default: errx(2, "exec: bad option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || reps < 1)
		errx(2, "exec: -r reps -- command");
	if ((w = calloc((size_t)reps, sizeof(*w))) == NULL ||
	    (cpu = calloc((size_t)reps, sizeof(*cpu))) == NULL)
		err(1, NULL);
	for (i = 0; i < reps; i++) {
		t0 = now_s();
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			if ((fd = open("/dev/null", O_WRONLY)) != -1) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execvp(argv[0], argv);
			_exit(127);
		}
		if (wait4(pid, &st, 0, &ru) == -1)
			err(1, "wait4");
		w[i] = now_s() - t0;
		cpu[i] = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		    1e6;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
	}
	printf("exec reps=%d fails=%d", reps, fails);
	print_pcts(w, (size_t)reps, "ms", 1e3);
	/* the command's own CPU (user + system), from wait4() */
	qsort(cpu, (size_t)reps, sizeof(*cpu), dcmp);
	printf(" min_ms=%.2f cpu_p50_ms=%.2f\n", w[0] * 1e3,
	    pct(cpu, (size_t)reps, 0.5) * 1e3);
	return fails ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	const char	*mode;

	if (argc < 2)
		errx(2, "usage: loadgen rt|collect|floor|fleet|exec [options]");
	mode = argv[1];
	argc--;
	argv++;
	if (strcmp(mode, "exec") == 0)
		return cmd_exec(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "rt") == 0)
		return cmd_rt(argc, argv);
	if (strcmp(mode, "collect") == 0)
		return cmd_collect(argc, argv);
	if (strcmp(mode, "floor") == 0)
		return cmd_floor(argc, argv);
	if (strcmp(mode, "fleet") == 0)
		return cmd_fleet(argc, argv);
	errx(2, "unknown mode %s", mode);
}
