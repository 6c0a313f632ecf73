/*
 * The links: hiredis 0.14 async contexts driven by our poll() loop, with
 * bounded connects and reconnection with capped exponential backoff and
 * jitter. The only file that includes hiredis's async header; callers see
 * an opaque struct link, send commands with link_cmd() and get replies
 * through a link_reply_fn.
 *
 * Two layers, top to bottom:
 *
 * The link state machine: DOWN -> CONNECTING (TCP) -> SETUP (AUTH/SELECT
 * sent) -> UP. hiredis calls onDisconnect for every connected context that
 * goes away (lost, redisAsyncFree or redisAsyncDisconnect); that callback
 * is where a link goes back to DOWN and schedules its retry. The connect
 * deadline covers CONNECTING and SETUP, so a broker that accepts
 * connections but does not answer (SIGSTOPped, black-holed) is retried
 * too. With a sentinel:// URL every attempt first goes DOWN -> RESOLVING:
 * ask the sentinels in turn for the master (SENTINEL
 * get-master-addr-by-name), then connect to it and check with ROLE that it
 * is still the master. A lost connection asks the sentinels again, which
 * is how a failover is followed.
 *
 * The adapter (the shape of hiredis's adapters/\*.h): a context's five
 * event hooks on loop.c, and a transport that moves the bytes when the fd
 * is ready: hiredis's own reads and writes for plaintext, common/tls.c's
 * for rediss://.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/sds.h>

#include "pidboxd.h"

/* Exported by hiredis 0.14 but not declared in its headers. */
void	 redisProcessCallbacks(redisAsyncContext *);

/*
 * How bytes move on a context's socket once the loop says it is ready.
 * hiredis 0.14 reads and writes the fd itself (plain). A transport that
 * does its own I/O (TLS) replaces these: on_read reads what is there,
 * feeds it to redisReaderFeed(ac->c.reader) and runs
 * redisProcessCallbacks(ac) (exported, not declared, in 0.14); on_write
 * writes out ac->c.obuf; its handshake runs before the link's set-up.
 */
struct transport {
	void	(*on_read)(redisAsyncContext *);
	void	(*on_write)(redisAsyncContext *);
};

static void	 plain_on_read(redisAsyncContext *);

static const struct transport plain = {
	.on_read = plain_on_read,
	.on_write = redisAsyncHandleWrite,
};

static void	 tls_on_read(redisAsyncContext *);
static void	 tls_on_write(redisAsyncContext *);

static const struct transport tls_io = {
	.on_read = tls_on_read,
	.on_write = tls_on_write,
};

/* One context on the loop (hiredis's adapters keep this per context). */
struct loop_events {
	redisAsyncContext	*ac;	/* NULL once hiredis let it go */
	int			 fd;
	const struct transport	*io;
	struct tls		*tls;	/* the TLS session (tls_io) */
	int			 tls_rwant; /* a read waits for POLLOUT */
	int			 tls_wwant; /* a write waits for POLLIN */
	char			 tlserr[256]; /* why TLS failed, for the log */
};

enum link_state {
	LINK_DOWN,
	LINK_CONNECTING,
	LINK_UP,
	LINK_SETUP,
	LINK_RESOLVING,		/* asking a sentinel for the master */
};

/*
 * A reply callback of a link. hiredis keeps one privdata per command and
 * calls a SUBSCRIBE callback for every message, so a per-command
 * allocation would have no single owner; a link has a few callbacks,
 * each with its slot here for the link's lifetime.
 */
#define LINK_MAXCALLS	8

struct link_call {
	struct link	*l;
	link_reply_fn	 fn;
};

struct link {
	const char		*name;
	struct loop_events	 ev;
	enum link_state		 state;
	int			 stopping;
	int			 failing;	/* a failure was logged */
	int			 backoff_ms;
	struct timer		 retry;
	struct timer		 conn_deadline;
	const struct redis_url	*url;
	const struct link_ops	*ops;
	void			*arg;
	double			 contact;	/* wall time of the last reply */
	struct link_call	 calls[LINK_MAXCALLS];
	size_t			 ncalls;
	/* Sentinel: the master found for this connection attempt */
	int			 have_master;
	int			 sentinel_idx;	/* the sentinel to ask next */
	int			 sentinel_tries;
	char			 master_host[256];
	int			 master_port;
	char			 peer[300];	/* host:port of this attempt */
	char			 sentinel_why[256]; /* the last one's answer */
	int			 tls_warned;	/* said verification is off */
};

static void	 link_connect(void *);
static void	 resolve_next(struct link *);
static void	 sentinel_connected(struct link *, int);

/* The adapter. */

static void
ev_add_read(void *p)
{
	struct loop_events *e = p;

	loop_fd_events(e->fd, POLLIN, 1);
}

static void
ev_del_read(void *p)
{
	struct loop_events *e = p;

	loop_fd_events(e->fd, POLLIN, 0);
}

static void
ev_add_write(void *p)
{
	struct loop_events *e = p;

	loop_fd_events(e->fd, POLLOUT, 1);
}

static void
ev_del_write(void *p)
{
	struct loop_events *e = p;

	loop_fd_events(e->fd, POLLOUT, 0);
}

/* hiredis is letting the context go; the fd closes after this. */
static void
ev_cleanup(void *p)
{
	struct loop_events *e = p;

	if (e->fd != -1)
		loop_fd_del(e->fd);
	tls_free(e->tls);
	e->tls = NULL;
	e->fd = -1;
	e->ac = NULL;
}

static void
ev_ready(int fd, int revents, void *arg)
{
	struct loop_events *e = arg;

	(void)fd;
	if (e->ac == NULL)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		e->io->on_read(e->ac);
	/* the context may be gone now */
	if (e->ac != NULL && (revents & POLLOUT))
		e->io->on_write(e->ac);
}

/*
 * The TLS transport. hiredis made the non-blocking connect and keeps
 * formatting commands into c->obuf and parsing replies with c->reader;
 * the bytes go through the session instead of read(2)/write(2).
 *
 * hiredis 0.14 marks a context connected on the first writable event and
 * calls onConnect at once; here the context stays "connecting" through
 * the TCP connect and the TLS handshake, so the link's set-up (AUTH,
 * SELECT) is only formatted once the session is up, and the connect
 * deadline bounds both.
 */

/*
 * Fail the context with why: before it is connected through onConnect
 * (the link frees it), after it through hiredis's own path, which an
 * error already on the context sends to onDisconnect.
 */
static void
tls_fail(struct loop_events *e, int code, const char *why)
{
	redisAsyncContext *ac = e->ac;

	strlcpy(e->tlserr, why, sizeof(e->tlserr));
	ac->c.err = code;
	strlcpy(ac->c.errstr, why, sizeof(ac->c.errstr));
	e->tls_wwant = 0;
	if (!(ac->c.flags & REDIS_CONNECTED)) {
		ac->err = ac->c.err;
		ac->errstr = ac->c.errstr;
		if (ac->onConnect != NULL)
			ac->onConnect(ac, REDIS_ERR);
		redisAsyncFree(ac);
		return;
	}
	redisAsyncHandleRead(ac);	/* sees c.err: disconnects */
}

/* One step of TCP connect then TLS handshake. */
static void
tls_connect_step(struct loop_events *e)
{
	redisAsyncContext	*ac = e->ac;
	char			 err[256];
	socklen_t		 len = sizeof(int);
	int			 soerr = 0, rv;

	if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0) {
		tls_fail(e, REDIS_ERR_IO, strerror(soerr));
		return;
	}
	rv = tls_handshake(e->tls, err, sizeof(err));
	switch (rv) {
	case TLS_WANT_READ:
		loop_fd_events(e->fd, POLLOUT, 0);
		loop_fd_events(e->fd, POLLIN, 1);
		return;
	case TLS_WANT_WRITE:
		loop_fd_events(e->fd, POLLIN, 0);
		loop_fd_events(e->fd, POLLOUT, 1);
		return;
	case TLS_OK:
		break;
	default:
		tls_fail(e, REDIS_ERR_IO, err);
		return;
	}
	loop_fd_events(e->fd, POLLOUT, 0);
	loop_fd_events(e->fd, POLLIN, 1);
	ac->c.flags |= REDIS_CONNECTED;
	if (ac->onConnect != NULL)
		ac->onConnect(ac, REDIS_OK);	/* queues the set-up */
}

/*
 * hiredis 0.14's own read (redisAsyncHandleRead) takes up to 16 KiB into
 * its reader, and its reader memmoves what is left of its buffer each
 * time 1 KiB of it was parsed: with many pipelined messages in one read
 * (a node at 64 requests in flight) that is quadratic, 5 % of a
 * request's instructions. The bytes are fed 1 KiB at a time instead, the
 * callbacks run after each. Connecting, EOF and errors stay hiredis's.
 */
#define PLAIN_FEED	1024

static void
plain_on_read(redisAsyncContext *ac)
{
	struct loop_events	*e = ac->ev.data;
	char			 buf[16384];
	ssize_t			 n, off, k;

	if (!(ac->c.flags & REDIS_CONNECTED) || ac->c.err != 0) {
		redisAsyncHandleRead(ac);
		return;
	}
	if ((n = read(ac->c.fd, buf, sizeof(buf))) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		redisAsyncHandleRead(ac);	/* reads the EOF or error again */
		return;
	}
	for (off = 0; off < n; off += k) {
		k = n - off < PLAIN_FEED ? n - off : PLAIN_FEED;
		if (redisReaderFeed(ac->c.reader, buf + off, (size_t)k) !=
		    REDIS_OK) {
			ac->c.err = REDIS_ERR_PROTOCOL;
			strlcpy(ac->c.errstr, "protocol error",
			    sizeof(ac->c.errstr));
			redisAsyncHandleRead(ac);	/* sees c.err */
			return;
		}
		redisProcessCallbacks(ac);
		if (e->ac == NULL || ac->c.err != 0)
			return;		/* disconnected, or going */
	}
}

static void
tls_on_read(redisAsyncContext *ac)
{
	struct loop_events	*e = ac->ev.data;
	char			 buf[16384], err[256];
	ssize_t			 n;
	int			 st;

	if (!(ac->c.flags & REDIS_CONNECTED)) {
		tls_connect_step(e);
		return;
	}
	if (e->tls_wwant) {
		e->tls_wwant = 0;
		loop_fd_events(e->fd, POLLOUT, 1);	/* write again */
	}
	/*
	 * Read until the session needs the socket again: bytes already
	 * decrypted inside libssl make no POLLIN of their own.
	 */
	for (;;) {
		if ((n = tls_read(e->tls, buf, sizeof(buf), &st, err,
		    sizeof(err))) > 0) {
			if (redisReaderFeed(ac->c.reader, buf, (size_t)n) !=
			    REDIS_OK) {
				tls_fail(e, REDIS_ERR_PROTOCOL,
				    "protocol error");
				return;
			}
			redisProcessCallbacks(ac);
			if (e->ac == NULL)
				return;		/* disconnected */
			continue;
		}
		if (st == TLS_WANT_READ)
			return;
		if (st == TLS_WANT_WRITE) {
			e->tls_rwant = 1;
			loop_fd_events(e->fd, POLLOUT, 1);
			return;
		}
		tls_fail(e, st == TLS_EOF ? REDIS_ERR_EOF : REDIS_ERR_IO,
		    st == TLS_EOF ? "Server closed the connection" : err);
		return;
	}
}

static void
tls_on_write(redisAsyncContext *ac)
{
	struct loop_events	*e = ac->ev.data;
	redisContext		*c = &ac->c;
	char			 err[256];
	ssize_t			 n;
	int			 st;

	if (!(c->flags & REDIS_CONNECTED)) {
		tls_connect_step(e);
		return;
	}
	if (e->tls_rwant) {
		e->tls_rwant = 0;
		tls_on_read(ac);
		if (e->ac == NULL)
			return;
	}
	while (sdslen(c->obuf) > 0) {
		n = tls_write(e->tls, c->obuf, sdslen(c->obuf), &st, err,
		    sizeof(err));
		if (n > 0) {
			sdsrange(c->obuf, (int)n, -1);
			continue;
		}
		if (st == TLS_WANT_WRITE) {
			loop_fd_events(e->fd, POLLOUT, 1);
			return;
		}
		if (st == TLS_WANT_READ) {	/* after the next POLLIN */
			e->tls_wwant = 1;
			break;
		}
		tls_fail(e, st == TLS_EOF ? REDIS_ERR_EOF : REDIS_ERR_IO,
		    st == TLS_EOF ? "Server closed the connection" : err);
		return;
	}
	if (!e->tls_rwant)
		loop_fd_events(e->fd, POLLOUT, 0);
}

/*
 * Put a fresh context on the loop and wait for writability, which is how
 * hiredis learns that the connect finished. -1 when the loop is full (ac
 * untouched).
 */
static int
loop_attach(struct loop_events *e, redisAsyncContext *ac,
    const struct transport *io)
{
	if (loop_fd_add(ac->c.fd, ev_ready, e) == -1)
		return -1;
	e->ac = ac;
	e->fd = ac->c.fd;
	e->io = io;
	e->tls_rwant = e->tls_wwant = 0;
	e->tlserr[0] = '\0';
	ac->ev.data = e;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	ev_add_write(e);
	return 0;
}

/* The link state machine. */

static void
schedule_retry(struct link *l)
{
	int delay;

	timer_del(&l->conn_deadline);
	l->have_master = 0;	/* ask the sentinels again */
	if (l->stopping)
		return;
	/* jitter: between half and all of the current backoff */
	delay = l->backoff_ms / 2 +
	    (int)arc4random_uniform((uint32_t)l->backoff_ms / 2 + 1);
	l->backoff_ms *= 2;
	if (l->backoff_ms > BACKOFF_MAX_MS)
		l->backoff_ms = BACKOFF_MAX_MS;
	log_debug("%s: reconnecting in %d ms", l->name, delay);
	timer_add(&l->retry, delay);
}

/*
 * Free l's context and retry. hiredis calls onDisconnect (which
 * reschedules) only for a context that was connected; for one that never
 * was, that is done here.
 */
static void
drop(struct link *l)
{
	int connected = (l->ev.ac->c.flags & REDIS_CONNECTED) != 0;

	redisAsyncFree(l->ev.ac);
	if (!connected) {
		l->state = LINK_DOWN;
		schedule_retry(l);
	}
}

static void
on_setup_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct link	*l = priv;
	redisReply	*reply = r;

	(void)ac;
	if (reply == NULL || l->state != LINK_SETUP)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("%s: broker refused set-up: %s", l->name,
		    log_vis(reply->str, reply->len));
		link_reset(l, "set-up failed");
		return;
	}
}

static void
on_setup_done(redisAsyncContext *ac, void *r, void *priv)
{
	struct link	*l = priv;
	redisReply	*reply = r;

	on_setup_reply(ac, r, priv);
	if (reply == NULL || l->state != LINK_SETUP)
		return;
	if (l->url->nsentinels > 0 && (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(reply->element[0]->str, "master") != 0)) {
		/* a demoted master: the sentinels will know the new one */
		link_reset(l, "the server is no longer the master");
		return;
	}
	timer_del(&l->conn_deadline);
	l->state = LINK_UP;
	l->backoff_ms = BACKOFF_MIN_MS;
	if (l->failing)
		log_info("%s: connected to the broker again", l->name);
	else
		log_debug("%s: connected", l->name);
	l->failing = 0;
	l->ops->up(l, l->arg);
}

static void
on_connect(const redisAsyncContext *cac, int status)
{
	struct link	*l = cac->data;
	const char	*argv[3];
	size_t		 argvlen[3];
	char		 db[16];
	int		 n = 0;

	if (l->state == LINK_RESOLVING) {
		sentinel_connected(l, status);
		return;
	}
	if (status != REDIS_OK) {
		timer_del(&l->conn_deadline);
		/* hiredis (or tls_fail) frees the context after this */
		if ((!l->failing || log_getverbose()) && l->ev.tlserr[0])
			log_warnx("%s: cannot connect to the broker at %s: %s; "
			    "retrying", l->name, l->peer, l->ev.tlserr);
		else if (!l->failing || log_getverbose())
			log_warnx("%s: cannot connect to the broker: %s; "
			    "retrying", l->name, cac->errstr);
		l->failing = 1;
		l->state = LINK_DOWN;
		schedule_retry(l);
		return;
	}
	l->state = LINK_SETUP;
	if (l->url->password[0] != '\0') {
		argv[n] = "AUTH";
		argvlen[n++] = 4;
		if (l->url->user[0] != '\0') {
			argv[n] = l->url->user;
			argvlen[n] = strlen(l->url->user);
			n++;
		}
		argv[n] = l->url->password;
		argvlen[n] = strlen(l->url->password);
		n++;
		redisAsyncCommandArgv(l->ev.ac, on_setup_reply, l, n, argv,
		    argvlen);
	}
	snprintf(db, sizeof(db), "%d", l->url->db);
	argv[0] = "SELECT";
	argvlen[0] = 6;
	argv[1] = db;
	argvlen[1] = strlen(db);
	if (l->url->nsentinels == 0) {
		redisAsyncCommandArgv(l->ev.ac, on_setup_done, l, 2, argv,
		    argvlen);
		return;
	}
	redisAsyncCommandArgv(l->ev.ac, on_setup_reply, l, 2, argv, argvlen);
	argv[0] = "ROLE";
	argvlen[0] = 4;
	redisAsyncCommandArgv(l->ev.ac, on_setup_done, l, 1, argv, argvlen);
}

static void
on_disconnect(const redisAsyncContext *cac, int status)
{
	struct link *l = cac->data;
	int was_up = l->state == LINK_UP;

	if (l->state == LINK_RESOLVING) {
		resolve_next(l);
		return;
	}
	l->state = LINK_DOWN;
	if (status != REDIS_OK && !l->stopping && l->ev.tlserr[0] != '\0') {
		/* a refused client certificate shows here, once a try */
		if (was_up || !l->failing || log_getverbose())
			log_warnx("%s: lost the broker connection at %s: %s",
			    l->name, l->peer, l->ev.tlserr);
		l->failing = 1;
	} else if (status != REDIS_OK && !l->stopping && !was_up &&
	    !l->url->tls.on) {
		/*
		 * Dropped in set-up, at every try: a TLS port drops a
		 * plaintext client at its first bytes.
		 */
		if (!l->failing || log_getverbose())
			log_warnx("%s: lost the broker connection at %s during "
			    "set-up: %s (a TLS port? use rediss://)", l->name,
			    l->peer, cac->errstr[0] ? cac->errstr : "closed");
		l->failing = 1;
	} else if (status != REDIS_OK && !l->stopping) {
		log_warnx("%s: lost the broker connection: %s", l->name,
		    cac->errstr[0] ? cac->errstr : "closed");
		l->failing = 1;
	}
	if (was_up)
		l->ops->down(l, l->arg);
	schedule_retry(l);
}

static void
on_conn_deadline(void *arg)
{
	struct link *l = arg;

	if (l->ev.ac == NULL)
		return;
	if (l->state == LINK_RESOLVING) {
		log_debug("%s: sentinel %s:%d timed out", l->name,
		    l->url->sentinels[l->sentinel_idx].host,
		    l->url->sentinels[l->sentinel_idx].port);
		if (l->ev.ac->c.flags & REDIS_CONNECTED)
			redisAsyncFree(l->ev.ac);	/* on_disconnect goes on */
		else {
			redisAsyncFree(l->ev.ac);
			resolve_next(l);
		}
		return;
	}
	if (l->state != LINK_CONNECTING && l->state != LINK_SETUP)
		return;
	if ((!l->failing || log_getverbose()) && l->ev.tls != NULL &&
	    l->state == LINK_CONNECTING)
		log_warnx("%s: TLS handshake with %s timed out after %.1f s "
		    "(a plaintext port? use redis://); retrying", l->name,
		    l->peer, l->url->connect_timeout);
	else if (!l->failing || log_getverbose())
		log_warnx("%s: %s timed out after %.1f s; retrying", l->name,
		    l->state == LINK_SETUP ? "broker set-up" : "connect",
		    l->url->connect_timeout);
	l->failing = 1;
	drop(l);
}

/*
 * A link named name (for the log) to url (borrowed, as ops and arg, for
 * the link's lifetime); it connects on link_start(). Free with
 * link_free().
 */
struct link *
link_new(const char *name, const struct redis_url *url,
    const struct link_ops *ops, void *arg)
{
	struct link *l;

	l = xcalloc(1, sizeof(*l));
	l->name = name;
	l->url = url;
	l->ops = ops;
	l->arg = arg;
	l->ev.fd = -1;
	l->backoff_ms = BACKOFF_MIN_MS;
	timer_set(&l->retry, link_connect, l);
	timer_set(&l->conn_deadline, on_conn_deadline, l);
	return l;
}

/* Drop the connection at once and release l. */
void
link_free(struct link *l)
{
	if (l == NULL)
		return;
	link_close(l);
	free(l);
}

/*
 * A TLS session for a fresh context to host (the name the certificate
 * must carry). The context is made anew for every connection, so a
 * renewed CA file or client certificate is read at the next reconnect;
 * the session keeps what it needs of it.
 */
static int
attach_tls(struct link *l, redisAsyncContext *ac, const struct redis_tls *t,
    const char *host)
{
	struct tls_ctx	*tc;
	char		 err[256];

	if (t->verify == TLS_VERIFY_NONE && !l->tls_warned) {
		log_warnx("%s: WARNING: TLS peer verification is off "
		    "(ssl_cert_reqs=none): the broker at %s is not "
		    "authenticated; anyone on the path can read and change "
		    "the traffic", l->name, l->peer);
		l->tls_warned = 1;
	}
	if ((tc = tls_ctx_new(t, err, sizeof(err))) == NULL ||
	    (l->ev.tls = tls_new(tc, ac->c.fd, host, err,
	    sizeof(err))) == NULL) {
		tls_ctx_free(tc);
		if (!l->failing || log_getverbose())
			log_warnx("%s: cannot connect to the broker at %s: %s; "
			    "retrying", l->name, l->peer, err);
		l->failing = 1;
		return -1;
	}
	tls_ctx_free(tc);	/* the session holds its own reference */
	return 0;
}

/* Put a fresh context to host:port on the loop; -1 when it could not be. */
static int
attach(struct link *l, redisAsyncContext *ac, const struct redis_tls *t,
    const char *host, int port)
{
	int v6 = strchr(host, ':') != NULL;

	snprintf(l->peer, sizeof(l->peer), "%s%s%s:%d", v6 ? "[" : "",
	    log_viss(host), v6 ? "]" : "", port);
	ac->data = l;
	if (loop_attach(&l->ev, ac, t->on ? &tls_io : &plain) == -1) {
		log_warn("%s: loop_fd_add", l->name);
		redisAsyncFree(ac);
		return -1;
	}
	if (t->on && attach_tls(l, ac, t, host) == -1) {
		redisAsyncFree(ac);	/* not connected: no onDisconnect */
		return -1;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (ac->c.connection_type == REDIS_CONN_TCP)
		redisEnableKeepAlive(&ac->c);
	timer_add(&l->conn_deadline,
	    (int64_t)(l->url->connect_timeout * 1000));
	return 0;
}

/* The sentinel step ended (master found or not): go on. */
static void
resolve_next(struct link *l)
{
	const struct redis_hostport *s;

	timer_del(&l->conn_deadline);
	l->state = LINK_DOWN;
	if (l->stopping)
		return;
	if (l->have_master) {
		timer_add(&l->retry, 0);
		return;
	}
	l->sentinel_idx = (l->sentinel_idx + 1) % l->url->nsentinels;
	if (++l->sentinel_tries < l->url->nsentinels) {
		timer_add(&l->retry, 0);
		return;
	}
	s = &l->url->sentinels[l->sentinel_idx];
	if (!l->failing || log_getverbose())
		log_warnx("%s: no sentinel answered for master %s "
		    "(last tried %s:%d%s%s); retrying", l->name,
		    log_viss(l->url->master_name), log_viss(s->host), s->port,
		    l->sentinel_why[0] != '\0' ? ": " : "", l->sentinel_why);
	l->sentinel_why[0] = '\0';
	l->failing = 1;
	schedule_retry(l);
}

static void
on_sentinel_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct link		*l = priv;
	redisReply		*reply = r;
	const char		*errstr;
	long long		 port;

	if (reply == NULL || l->state != LINK_RESOLVING)
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_STRING &&
	    reply->element[0]->len < sizeof(l->master_host)) {
		port = strtonum(reply->element[1]->str, 1, 65535, &errstr);
		if (errstr == NULL) {
			memcpy(l->master_host, reply->element[0]->str,
			    reply->element[0]->len + 1);
			l->master_port = (int)port;
			l->have_master = 1;
			log_debug("%s: sentinel says master %s is %s:%d",
			    l->name, log_viss(l->url->master_name),
			    log_viss(l->master_host), l->master_port);
		}
	} else {
		snprintf(l->sentinel_why, sizeof(l->sentinel_why), "%s",
		    reply->type == REDIS_REPLY_ERROR ?
		    log_vis(reply->str, reply->len) : "master unknown");
		log_debug("%s: sentinel does not know master %s: %s", l->name,
		    log_viss(l->url->master_name), l->sentinel_why);
	}
	redisAsyncDisconnect(ac);	/* on_disconnect -> resolve_next */
}

static void
sentinel_connected(struct link *l, int status)
{
	const char	*argv[3];
	size_t		 argvlen[3];

	if (status != REDIS_OK) {
		/* hiredis (or tls_fail) frees the context after this */
		snprintf(l->sentinel_why, sizeof(l->sentinel_why), "%s",
		    l->ev.tlserr[0] != '\0' ? l->ev.tlserr :
		    l->ev.ac != NULL && l->ev.ac->errstr != NULL ?
		    l->ev.ac->errstr : "cannot connect");
		resolve_next(l);
		return;
	}
	/* the sentinels' own password (kombu's sentinel_kwargs), if any */
	if (l->url->sentinel_password[0] != '\0') {
		argv[0] = "AUTH";
		argvlen[0] = 4;
		argv[1] = l->url->sentinel_password;
		argvlen[1] = strlen(argv[1]);
		redisAsyncCommandArgv(l->ev.ac, NULL, NULL, 2, argv, argvlen);
	}
	argv[0] = "SENTINEL";
	argvlen[0] = 8;
	argv[1] = "get-master-addr-by-name";
	argvlen[1] = strlen(argv[1]);
	argv[2] = l->url->master_name;
	argvlen[2] = strlen(argv[2]);
	redisAsyncCommandArgv(l->ev.ac, on_sentinel_reply, l, 3, argv, argvlen);
}

/* Ask the next sentinel for the master's address. */
static void
resolve(struct link *l)
{
	const struct redis_hostport	*s;
	redisAsyncContext		*ac;

	s = &l->url->sentinels[l->sentinel_idx];
	ac = redisAsyncConnect(s->host, s->port);
	if (ac == NULL || ac->err) {
		log_debug("%s: sentinel %s:%d: %s", l->name, log_viss(s->host),
		    s->port, ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		l->state = LINK_RESOLVING;
		resolve_next(l);
		return;
	}
	l->state = LINK_RESOLVING;
	if (attach(l, ac, &l->url->sentinel_tls, s->host, s->port) == -1) {
		resolve_next(l);
		return;
	}
}

static void
link_connect(void *arg)
{
	struct link		*l = arg;
	redisAsyncContext	*ac;

	if (l->stopping || l->state != LINK_DOWN)
		return;
	if (l->url->nsentinels > 0 && !l->have_master) {
		if (l->sentinel_tries >= l->url->nsentinels)
			l->sentinel_tries = 0;
		resolve(l);
		return;
	}
	if (l->url->nsentinels > 0)
		ac = redisAsyncConnect(l->master_host, l->master_port);
	else if (l->url->is_unix)
		ac = redisAsyncConnectUnix(l->url->path);
	else
		ac = redisAsyncConnect(l->url->host, l->url->port);
	if (ac == NULL || ac->err) {
		if (!l->failing || log_getverbose())
			log_warnx("%s: cannot connect to the broker: %s; "
			    "retrying", l->name, ac ? ac->errstr :
			    "out of memory");
		l->failing = 1;
		if (ac != NULL)
			redisAsyncFree(ac);
		schedule_retry(l);
		return;
	}
	l->sentinel_tries = 0;
	if (attach(l, ac, &l->url->tls, l->url->nsentinels > 0 ?
	    l->master_host : l->url->is_unix ? l->url->path : l->url->host,
	    l->url->nsentinels > 0 ? l->master_port : l->url->port) == -1) {
		schedule_retry(l);
		return;
	}
	l->state = LINK_CONNECTING;
}

void
link_start(struct link *l)
{
	l->stopping = 0;
	link_connect(l);
}

void
link_reset(struct link *l, const char *why)
{
	if (l->ev.ac == NULL)
		return;
	log_warnx("%s: resetting the broker connection: %s", l->name, why);
	l->failing = 1;
	drop(l);
}

void
link_stop(struct link *l)
{
	l->stopping = 1;
	timer_del(&l->retry);
	timer_del(&l->conn_deadline);
	if (l->ev.ac == NULL)
		return;
	if (l->state == LINK_UP || l->state == LINK_SETUP)
		redisAsyncDisconnect(l->ev.ac);
	else {
		redisAsyncFree(l->ev.ac);
		l->state = LINK_DOWN;
	}
}

void
link_close(struct link *l)
{
	l->stopping = 1;
	timer_del(&l->retry);
	timer_del(&l->conn_deadline);
	if (l->ev.ac != NULL)
		redisAsyncFree(l->ev.ac);
	l->state = LINK_DOWN;
}

/* Connected, set up, taking commands. */
int
link_is_up(const struct link *l)
{
	return l->state == LINK_UP;
}

/* No connection, none being made. */
int
link_is_down(const struct link *l)
{
	return l->state == LINK_DOWN;
}

static void
call_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct link_call *c = priv;

	(void)ac;
	if (r != NULL)
		c->l->contact = now_wall();
	c->fn(c->l, r, c->l->arg);
}

/* The slot of fn on l, taken on first use. */
static struct link_call *
call_slot(struct link *l, link_reply_fn fn)
{
	size_t i;

	for (i = 0; i < l->ncalls; i++)
		if (l->calls[i].fn == fn)
			return &l->calls[i];
	if (l->ncalls == nitems(l->calls))
		fatalx("%s: more than %zu reply callbacks", l->name,
		    nitems(l->calls));
	l->calls[l->ncalls].l = l;
	l->calls[l->ncalls].fn = fn;
	return &l->calls[l->ncalls++];
}

/* Before a command on l: fn's slot in *c (NULL without fn); -1 not up. */
static int
cmd_begin(struct link *l, link_reply_fn fn, struct link_call **c)
{
	*c = NULL;
	if (l->ev.ac == NULL || l->state != LINK_UP) {
		errno = ENOTCONN;
		return -1;
	}
	if (fn != NULL)
		*c = call_slot(l, fn);
	return 0;
}

/*
 * Send one command; fn (NULL: none) gets its reply, or NULL when the
 * connection goes away first. -1 with errno set when the link is not up
 * or hiredis refused the command.
 */
int
link_cmd(struct link *l, link_reply_fn fn, int argc, const char **argv,
    const size_t *argvlen)
{
	struct link_call *c;

	if (cmd_begin(l, fn, &c) == -1)
		return -1;
	if (redisAsyncCommandArgv(l->ev.ac, c != NULL ? call_reply : NULL, c,
	    argc, argv, argvlen) != REDIS_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Send one command already formatted in RESP (cmd[len], copied): for a
 * command sent per request whose fixed part is formatted once.
 * As link_cmd otherwise.
 */
int
link_cmd_formatted(struct link *l, link_reply_fn fn, const char *cmd,
    size_t len)
{
	struct link_call *c;

	if (cmd_begin(l, fn, &c) == -1)
		return -1;
	if (redisAsyncFormattedCommand(l->ev.ac, c != NULL ? call_reply :
	    NULL, c, cmd, len) != REDIS_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

double
link_contact(const struct link *l)
{
	return l != NULL ? l->contact : 0;
}

/* PUBLISH msg[len] to channel, no reply wanted; -1 when it cannot. */
int
link_publish(struct link *l, const char *channel, const char *msg,
    size_t len)
{
	const char	*argv[3] = { "PUBLISH", channel, msg };
	size_t		 argvlen[3] = { 7, strlen(channel), len };

	return link_cmd(l, NULL, 3, argv, argvlen);
}

/*
 * A write refused by a replica means the master moved (Sentinel
 * failover): reset l to find the new one. 1 when reply was that.
 */
int
link_readonly(struct link *l, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ERROR ||
	    strncmp(reply->str, "READONLY", 8) != 0)
		return 0;
	link_reset(l, "the server became a read-only replica");
	return 1;
}
