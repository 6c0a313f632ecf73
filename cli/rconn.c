/*
 * A hiredis context driven by our own ppoll() loop: every command has a
 * deadline, and SIGINT/SIGTERM (blocked everywhere else, unblocked only
 * inside ppoll) interrupt a wait so the caller can clean up.
 *
 * With rediss:// the bytes go through a TLS session (common/tls.c) on the
 * same non-blocking socket: hiredis still formats the commands into its
 * output buffer and parses the replies with its reader. The handshake is
 * bounded by the connect timeout, as the TCP connect is.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include "pidbox.h"
#include "pidboxctl.h"

/* Monotonic deadline secs seconds from now, in milliseconds. */
int64_t
deadline_in(double secs)
{
	return now_mono_ms() + (int64_t)(secs * 1000.0);
}

void
rcmd_init(struct rcmd *cmd, const char *name)
{
	memset(cmd, 0, sizeof(*cmd));
	rcmd_adds(cmd, name);
}

void
rcmd_add(struct rcmd *cmd, const char *arg, size_t len)
{
	if (cmd->argc >= RCMD_MAXARGS)
		fatalx("%s: too many arguments", __func__);
	cmd->argv[cmd->argc] = arg;
	cmd->argvlen[cmd->argc] = len;
	cmd->argc++;
}

void
rcmd_adds(struct rcmd *cmd, const char *arg)
{
	rcmd_add(cmd, arg, strlen(arg));
}

void
replies_free(redisReply **r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (r[i] != NULL)
			freeReplyObject(r[i]);
		r[i] = NULL;
	}
}

/*
 * Non-blocking and close-on-exec, without reading the flags first (two
 * syscalls a run fewer): hiredis has just set the socket blocking, so
 * no other status flag is on, and FD_CLOEXEC is the only fd flag.
 */
static int
setup_fd(int fd)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/*
 * Wait for fd to be ready for events before the monotonic deadline (ms);
 * with intr, a pending SIGINT/SIGTERM ends the wait. RCONN_OK with what
 * came in *revents, or RCONN_INTR, RCONN_TIMEOUT, RCONN_ERR (rc->err).
 */
static int
wait_fd(struct rconn *rc, int fd, short events, int64_t deadline, int intr,
    short *revents)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	int64_t		 now;

	for (;;) {
		if (intr && *rc->intr.flag) {
			snprintf(rc->err, sizeof(rc->err), "interrupted");
			return RCONN_INTR;
		}
		if ((now = now_mono_ms()) >= deadline) {
			snprintf(rc->err, sizeof(rc->err), "timed out");
			return RCONN_TIMEOUT;
		}
		ts.tv_sec = (deadline - now) / 1000;
		ts.tv_nsec = ((deadline - now) % 1000) * 1000000;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, &ts, rc->intr.mask) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(rc->err, sizeof(rc->err), "ppoll: %s",
			    strerror(errno));
			return RCONN_ERR;
		}
		if ((*revents = pfd.revents) != 0)
			return RCONN_OK;
	}
}

/* The TLS handshake on rc's socket to host, before deadline. */
static int
tls_start(struct rconn *rc, const struct redis_tls *t, const char *host,
    int port, int64_t deadline)
{
	static int	 warned;
	struct tls_ctx	*tc;
	char		 err[256];
	short		 revents;
	int		 rv, intr = !*rc->intr.flag;

	if (t->verify == TLS_VERIFY_NONE && !warned) {
		warnx("WARNING: TLS peer verification is off "
		    "(ssl_cert_reqs=none): the broker is not authenticated; "
		    "anyone on the path can read and change the traffic");
		warned = 1;
	}
	if ((tc = tls_ctx_new(t, err, sizeof(err))) == NULL ||
	    (rc->tls = tls_new(tc, rc->c->fd, host, err,
	    sizeof(err))) == NULL) {
		tls_ctx_free(tc);
		snprintf(rc->err, sizeof(rc->err), "%s", err);
		return -1;
	}
	tls_ctx_free(tc);	/* the session keeps its own reference */
	while ((rv = tls_handshake(rc->tls, err, sizeof(err))) != TLS_OK) {
		if (rv != TLS_WANT_READ && rv != TLS_WANT_WRITE) {
			snprintf(rc->err, sizeof(rc->err), "%s", err);
			return -1;
		}
		if ((rv = wait_fd(rc, rc->c->fd, rv == TLS_WANT_READ ?
		    POLLIN : POLLOUT, deadline, intr, &revents)) != RCONN_OK) {
			if (rv == RCONN_TIMEOUT)
				snprintf(rc->err, sizeof(rc->err), "TLS: no "
				    "handshake with %s:%d within the connect "
				    "timeout (a plaintext port? use redis://)",
				    log_viss(host), port);
			return -1;
		}
	}
	return 0;
}

/*
 * A blocking-free connection to host:port (or u's socket) within secs,
 * through TLS when t says so.
 */
static int
open_conn(struct rconn *rc, const struct redis_url *u,
    const struct redis_tls *t, const char *host, int port, double secs)
{
	struct timeval	 tv;
	int64_t		 deadline = deadline_in(secs);

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (host == NULL)
		rc->c = redisConnectUnixWithTimeout(u->path, tv);
	else
		rc->c = redisConnectWithTimeout(host, port, tv);
	if (rc->c == NULL) {
		snprintf(rc->err, sizeof(rc->err), "connect: out of memory");
		return -1;
	}
	if (rc->c->err) {
		snprintf(rc->err, sizeof(rc->err), "connect: %s",
		    log_viss(rc->c->errstr));
		return -1;
	}
	if (setup_fd(rc->c->fd) == -1) {
		snprintf(rc->err, sizeof(rc->err), "fcntl: %s",
		    strerror(errno));
		return -1;
	}
	rc->c->flags &= ~REDIS_BLOCK;
	if (t->on && tls_start(rc, t, host, port, deadline) == -1)
		return -1;
	return 0;
}

/*
 * Ask the sentinels of u, in turn, for the master's address (kombu's
 * sentinel:// transport). -1 with rc->err naming the last failure.
 */
static int
sentinel_master(struct rconn *rc, const struct redis_url *u, double secs,
    char *host, size_t hostlen, int *port)
{
	struct rcmd	 cmds[2];
	redisReply	*r = NULL, *rr[2];
	const char	*errstr;
	char		 why[sizeof(rc->err)];
	size_t		 n;
	int		 i, rv;

	for (i = 0; i < u->nsentinels; i++) {
		rc->c = NULL;
		if (open_conn(rc, u, &u->sentinel_tls, u->sentinels[i].host,
		    u->sentinels[i].port, secs) == -1) {
			memcpy(why, rc->err, sizeof(why));
			goto next;
		}
		n = 0;
		/* the sentinels' own password (kombu's sentinel_kwargs) */
		if (u->sentinel_password[0] != '\0') {
			rcmd_init(&cmds[n], "AUTH");
			rcmd_adds(&cmds[n++], u->sentinel_password);
		}
		rcmd_init(&cmds[n], "SENTINEL");
		rcmd_adds(&cmds[n], "get-master-addr-by-name");
		rcmd_adds(&cmds[n++], u->master_name);
		rv = rconn_run(rc, deadline_in(secs), !*rc->intr.flag, n,
		    cmds, rr);
		explicit_bzero(cmds, sizeof(cmds));
		if (rv == RCONN_OK && n == 2 &&
		    rr[0]->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof(why), "AUTH: %s",
			    log_viss(rr[0]->str));
			replies_free(rr, n);
			goto next;
		}
		if (rv == RCONN_OK) {
			r = rr[n - 1];
			rr[n - 1] = NULL;
			replies_free(rr, n);
		}
		if (rv == RCONN_INTR) {
			rconn_close(rc);
			snprintf(rc->err, sizeof(rc->err), "interrupted");
			return -1;
		}
		if (rv != RCONN_OK) {
			memcpy(why, rc->err, sizeof(why));
			goto next;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING &&
		    strlcpy(host, r->element[0]->str, hostlen) < hostlen) {
			*port = (int)strtonum(r->element[1]->str, 1, 65535,
			    &errstr);
			if (errstr == NULL) {
				freeReplyObject(r);
				rconn_close(rc);
				return 0;
			}
		}
		snprintf(why, sizeof(why), "%s", r->type == REDIS_REPLY_ERROR ?
		    log_viss(r->str) : "master unknown");
		freeReplyObject(r);
next:
		rconn_close(rc);
		snprintf(rc->err, sizeof(rc->err), "no sentinel knows master "
		    "%.40s (last: %.40s:%d: %.80s)", log_viss(u->master_name),
		    log_viss(u->sentinels[i].host), u->sentinels[i].port, why);
	}
	return -1;
}

/*
 * The liveness check (PING, or the Sentinel master's ROLE) failed with
 * rv, after secs: say so in rc->err as a user reads it.
 */
static void
alive_failed(struct rconn *rc, int rv, double secs)
{
	if (rv == RCONN_TIMEOUT)
		snprintf(rc->err, sizeof(rc->err), "the broker accepted the "
		    "connection but did not answer within %.1f s", secs);
	else if (rv == RCONN_INTR)
		snprintf(rc->err, sizeof(rc->err), "interrupted");
	else if (rv == RCONN_ERR && rc->tls == NULL && rc->c != NULL &&
	    rc->c->fd != -1 &&
	    (rc->c->err == REDIS_ERR_EOF || rc->c->err == REDIS_ERR_IO))
		/* a TLS port drops a plaintext client at its first bytes */
		strlcat(rc->err, " (a TLS port? use rediss://)",
		    sizeof(rc->err));
}

/*
 * Connect to the broker of u, AUTH and SELECT. Connect and handshake are
 * bounded by the URL's connect timeout (default 5 s), capped to cap
 * seconds when cap > 0; intr says which flag ends a wait early. -1 with
 * rc->err (no secrets in it) on failure.
 *
 * With RCONN_LAZY and a URL that needs no AUTH, SELECT or Sentinel, the
 * liveness PING is not a round trip of its own: it goes in the same
 * write as the first rconn_run()'s commands, whose answers prove the
 * server alive just as well (issue 17.3). When it fails there, that run
 * fails with rc->dead set and rc->err what rconn_connect() would have
 * said.
 */
int
rconn_connect(struct rconn *rc, const struct redis_url *u, double cap,
    const struct rconn_intr *intr)
{
	return rconn_open(rc, u, cap, intr, 0);
}

int
rconn_open(struct rconn *rc, const struct redis_url *u, double cap,
    const struct rconn_intr *intr, int flags)
{
	struct rcmd	 cmds[4];
	redisReply	*r[4] = { NULL, NULL, NULL, NULL };
	const char	*what[4];
	char		 db[16], host[256];
	double		 secs;
	size_t		 n = 0, i;
	int		 rv, port = 0;

	memset(rc, 0, sizeof(*rc));
	rc->intr = *intr;
	secs = u->connect_timeout > 0 ? u->connect_timeout : 5.0;
	if (cap > 0 && secs > cap)
		secs = cap;
	if (u->nsentinels > 0) {
		if (sentinel_master(rc, u, secs, host, sizeof(host),
		    &port) == -1)
			return -1;
		rv = open_conn(rc, u, &u->tls, host, port, secs);
	} else
		rv = open_conn(rc, u, &u->tls, u->is_unix ? NULL : u->host,
		    u->port, secs);
	if (rv == -1)
		goto fail;
	if ((flags & RCONN_LAZY) && u->password[0] == '\0' && u->db == 0 &&
	    u->nsentinels == 0) {
		rc->ping_due = 1;
		rc->ping_secs = secs;
		rc->ping_deadline = deadline_in(secs);
		return 0;
	}

	if (u->password[0] != '\0') {
		rcmd_init(&cmds[n], "AUTH");
		if (u->user[0] != '\0')
			rcmd_adds(&cmds[n], u->user);
		rcmd_adds(&cmds[n], u->password);
		what[n++] = "AUTH";
	}
	if (u->db != 0) {
		snprintf(db, sizeof(db), "%d", u->db);
		rcmd_init(&cmds[n], "SELECT");
		rcmd_adds(&cmds[n], db);
		what[n++] = "SELECT";
	}
	/*
	 * A stopped or black-holed server still accepts connections (the
	 * kernel does): only an answer proves it is alive (issue 5).
	 */
	if (u->nsentinels > 0) {
		rcmd_init(&cmds[n], "ROLE");
		what[n++] = "ROLE";
	} else {
		rcmd_init(&cmds[n], "PING");
		what[n++] = "PING";
	}
	/*
	 * A signal interrupts the handshake, unless one came before: then
	 * this is the cleanup after it, bounded by its deadline.
	 */
	rv = rconn_run(rc, deadline_in(secs), !*rc->intr.flag, n, cmds, r);
	explicit_bzero(cmds, sizeof(cmds));
	if (rv != RCONN_OK) {
		alive_failed(rc, rv, secs);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (r[i]->type == REDIS_REPLY_ERROR) {
			snprintf(rc->err, sizeof(rc->err), "%s: %s", what[i],
			    log_viss(r[i]->str));
			replies_free(r, n);
			goto fail;
		}
	}
	if (u->nsentinels > 0 && (r[n - 1]->type != REDIS_REPLY_ARRAY ||
	    r[n - 1]->elements < 1 ||
	    r[n - 1]->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r[n - 1]->element[0]->str, "master") != 0)) {
		snprintf(rc->err, sizeof(rc->err), "%s:%d is not the master "
		    "(failover in progress?)", log_viss(host), port);
		replies_free(r, n);
		goto fail;
	}
	replies_free(r, n);
	return 0;
fail:
	rconn_close(rc);
	return -1;
}

/* Sleep ms milliseconds; -1 when rc's interrupt flag asked us to stop. */
int
rconn_sleep(const struct rconn *rc, int64_t ms)
{
	struct timespec	 ts;
	int64_t		 deadline, now;

	deadline = now_mono_ms() + ms;
	while (!*rc->intr.flag && (now = now_mono_ms()) < deadline) {
		ts.tv_sec = (deadline - now) / 1000;
		ts.tv_nsec = ((deadline - now) % 1000) * 1000000;
		(void)ppoll(NULL, 0, &ts, rc->intr.mask);
	}
	return *rc->intr.flag ? -1 : 0;
}

void
rconn_close(struct rconn *rc)
{
	tls_free(rc->tls);	/* before its socket closes */
	rc->tls = NULL;
	if (rc->c != NULL)
		redisFree(rc->c);
	rc->c = NULL;
	rc->dirty = 0;
	rc->ahead = 0;
	rc->ping_due = 0;
}

/* hiredis's error on rc's connection into rc->err. */
static void
conn_err(struct rconn *rc)
{
	snprintf(rc->err, sizeof(rc->err), "%s", rc->c->errstr[0] != '\0' ?
	    log_viss(rc->c->errstr) : "I/O error");
}

/* Write what hiredis formatted; *done when all of it went. */
static int
conn_write(struct rconn *rc, int *done)
{
	redisContext	*c = rc->c;
	char		 err[256];
	ssize_t		 n;
	int		 st;

	if (rc->tls == NULL) {
		if (redisBufferWrite(c, done) == REDIS_OK)
			return 0;
		conn_err(rc);
		return -1;
	}
	*done = 0;
	while (sdslen(c->obuf) > 0) {
		n = tls_write(rc->tls, c->obuf, sdslen(c->obuf), &st, err,
		    sizeof(err));
		if (n > 0) {
			sdsrange(c->obuf, (int)n, -1);
			continue;
		}
		if (st == TLS_WANT_WRITE || st == TLS_WANT_READ)
			return 0;	/* the next ready fd goes on */
		snprintf(rc->err, sizeof(rc->err), "%s", err);
		return -1;
	}
	*done = 1;
	return 0;
}

/* Read what is there into hiredis's reader. */
static int
conn_read(struct rconn *rc)
{
	redisContext	*c = rc->c;
	char		 buf[16384], err[256];
	ssize_t		 n;
	int		 st;

	if (rc->tls == NULL) {
		if (redisBufferRead(c) == REDIS_OK)
			return 0;
		conn_err(rc);
		return -1;
	}
	/* all of it: bytes decrypted inside libssl make no POLLIN */
	for (;;) {
		if ((n = tls_read(rc->tls, buf, sizeof(buf), &st, err,
		    sizeof(err))) > 0) {
			if (redisReaderFeed(c->reader, buf, (size_t)n) !=
			    REDIS_OK) {
				snprintf(rc->err, sizeof(rc->err),
				    "protocol error");
				return -1;
			}
			continue;
		}
		if (st == TLS_WANT_READ || st == TLS_WANT_WRITE)
			return 0;
		snprintf(rc->err, sizeof(rc->err), "%s", err);
		return -1;
	}
}

/*
 * The liveness PING's reply, the first of a lazy connection's first run:
 * 0 when the server answered it, -1 with rc->dead and rc->err as
 * rconn_connect() would have failed.
 */
static int
ping_check(struct rconn *rc, redisReply *r)
{
	int	rv = 0;

	rc->ping_due = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(rc->err, sizeof(rc->err), "PING: %s",
		    log_viss(r->str));
		rc->dead = 1;
		rv = -1;
	}
	freeReplyObject(r);
	return rv;
}

/*
 * Write what hiredis buffered and read replies into r[] until *got is
 * want, before the monotonic deadline (ms); a lazy connection's PING
 * reply comes first, is checked and not stored, and has the connect
 * timeout as its own deadline. RCONN_OK, or the failure with rc->err.
 */
static int
pump(struct rconn *rc, int64_t deadline, int intr, size_t want,
    redisReply **r, size_t *got)
{
	redisContext	*c = rc->c;
	void		*reply;
	short		 revents;
	int		 wdone, rv;

	wdone = sdslen(c->obuf) == 0;
	for (;;) {
		if (!wdone && conn_write(rc, &wdone) == -1)
			return RCONN_ERR;
		while (*got < want) {
			reply = NULL;
			if (redisGetReplyFromReader(c, &reply) == REDIS_ERR) {
				conn_err(rc);
				return RCONN_ERR;
			}
			if (reply == NULL)
				break;
			if (rc->ping_due) {
				if (ping_check(rc, reply) == -1)
					return RCONN_ERR;
				continue;
			}
			r[(*got)++] = reply;
		}
		if (*got == want)
			return RCONN_OK;
		if ((rv = wait_fd(rc, c->fd, POLLIN | (wdone ? 0 : POLLOUT),
		    rc->ping_due ? rc->ping_deadline : deadline, intr,
		    &revents)) != RCONN_OK)
			return rv;
		if ((revents & (POLLIN | POLLERR | POLLHUP)) &&
		    conn_read(rc) == -1)
			return RCONN_ERR;
	}
}

/*
 * Send n commands in one write and read their n replies into r[], before
 * the monotonic deadline (ms). With intr, a pending SIGINT/SIGTERM ends
 * the wait (RCONN_INTR). Unless RCONN_OK, r[] is all NULL and the
 * connection is left dirty (a reply may still be in flight).
 */
int
rconn_run(struct rconn *rc, int64_t deadline, int intr, size_t n,
    const struct rcmd *cmds, redisReply **r)
{
	return rconn_run_ahead(rc, deadline, intr, n, cmds, r, 0);
}

/*
 * rconn_run(), but the replies of the last ahead of the n commands are
 * not waited for: they stay in flight, rconn_next() reads them in turn
 * (a round trip saved when the caller would send them next anyway), and
 * the connection is dirty until it did. r[] has n - ahead slots.
 */
int
rconn_run_ahead(struct rconn *rc, int64_t deadline, int intr, size_t n,
    const struct rcmd *cmds, redisReply **r, size_t ahead)
{
	static const char *const	 ping[] = { "PING" };
	static const size_t		 pinglen[] = { 4 };
	redisContext			*c = rc->c;
	const char			*argv[RCMD_MAXARGS];
	size_t				 i, got = 0;
	int				 rv;

	for (i = 0; i + ahead < n; i++)
		r[i] = NULL;
	if (c == NULL || rc->dirty || c->err || ahead > n) {
		snprintf(rc->err, sizeof(rc->err), "connection unusable");
		return RCONN_ERR;
	}
	/* hiredis 0.14 takes non-const argv arrays. */
	if (rc->ping_due) {
		memcpy(argv, ping, sizeof(ping));
		if (redisAppendCommandArgv(c, 1, argv, pinglen) != REDIS_OK)
			goto ioerr;
	}
	for (i = 0; i < n; i++) {
		memcpy(argv, cmds[i].argv, sizeof(argv));
		if (redisAppendCommandArgv(c, cmds[i].argc, argv,
		    cmds[i].argvlen) != REDIS_OK)
			goto ioerr;
	}
	rc->dirty = 1;
	if ((rv = pump(rc, deadline, intr, n - ahead, r, &got)) != RCONN_OK)
		goto fail;
	rc->ahead = ahead;
	rc->dirty = ahead > 0;
	return RCONN_OK;
ioerr:
	conn_err(rc);
	rv = RCONN_ERR;
fail:
	if (rc->ping_due) {
		/* the server never proved alive: a connect failure */
		rc->dead = 1;
		rc->ping_due = 0;
		alive_failed(rc, rv, rc->ping_secs);
	}
	rc->dirty = 1;
	replies_free(r, got);
	return rv;
}

/*
 * The reply of the next command rconn_run_ahead() left in flight, into
 * *r, before the monotonic deadline (ms); as rconn_run() otherwise.
 */
int
rconn_next(struct rconn *rc, int64_t deadline, int intr, redisReply **r)
{
	size_t	got = 0;
	int	rv;

	*r = NULL;
	if (rc->c == NULL || rc->ahead == 0 || rc->c->err) {
		snprintf(rc->err, sizeof(rc->err), "connection unusable");
		return RCONN_ERR;
	}
	if ((rv = pump(rc, deadline, intr, 1, r, &got)) != RCONN_OK)
		return rv;
	if (--rc->ahead == 0)
		rc->dirty = 0;
	return RCONN_OK;
}
