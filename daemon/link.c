/*
 * hiredis 0.14 async contexts driven by our poll() loop, with bounded
 * connects and reconnection with capped exponential backoff and jitter.
 * The only file that touches redisAsyncContext internals.
 *
 * Link states: DOWN -> CONNECTING (TCP) -> SETUP (AUTH/SELECT sent) -> UP.
 * hiredis calls onDisconnect for every connected context that goes away
 * (lost, redisAsyncFree or redisAsyncDisconnect); that callback is where a
 * link goes back to DOWN and schedules its retry. The connect deadline
 * covers CONNECTING and SETUP, so a broker that accepts connections but
 * does not answer (SIGSTOPped, black-holed) is retried too.
 *
 * With a sentinel:// URL every attempt first goes DOWN -> RESOLVING: ask
 * the sentinels in turn for the master (SENTINEL get-master-addr-by-name),
 * then connect to it and check with ROLE that it is still the master. A
 * lost connection asks the sentinels again, which is how a failover is
 * followed.
 */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

#define LINK_SETUP	3

static void	 link_connect(void *);
static void	 resolve_next(struct link *);
static void	 sentinel_connected(struct link *, int);

static void
ev_add_read(void *p)
{
	struct link *l = p;

	loop_fd_events(l->fd, POLLIN, 1);
}

static void
ev_del_read(void *p)
{
	struct link *l = p;

	loop_fd_events(l->fd, POLLIN, 0);
}

static void
ev_add_write(void *p)
{
	struct link *l = p;

	loop_fd_events(l->fd, POLLOUT, 1);
}

static void
ev_del_write(void *p)
{
	struct link *l = p;

	loop_fd_events(l->fd, POLLOUT, 0);
}

static void
ev_cleanup(void *p)
{
	struct link *l = p;

	if (l->fd != -1)
		loop_fd_del(l->fd);
	l->fd = -1;
	l->ac = NULL;
}

static void
on_fd(int fd, int revents, void *arg)
{
	struct link *l = arg;

	(void)fd;
	if (l->ac == NULL)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		redisAsyncHandleRead(l->ac);
	/* the context may be gone now */
	if (l->ac != NULL && (revents & POLLOUT))
		redisAsyncHandleWrite(l->ac);
}

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
	if (r == NULL || l->state != LINK_SETUP)
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
	l->ops->up(l);
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
		/* hiredis frees the context after this returns */
		if (!l->failing || log_getverbose())
			log_warnx("%s: cannot connect to the broker: %s; "
			    "retrying", l->name, cac->errstr);
		l->failing = 1;
		l->reconnects++;
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
		redisAsyncCommandArgv(l->ac, on_setup_reply, l, n, argv,
		    argvlen);
	}
	snprintf(db, sizeof(db), "%d", l->url->db);
	argv[0] = "SELECT";
	argvlen[0] = 6;
	argv[1] = db;
	argvlen[1] = strlen(db);
	if (l->url->nsentinels == 0) {
		redisAsyncCommandArgv(l->ac, on_setup_done, l, 2, argv,
		    argvlen);
		return;
	}
	redisAsyncCommandArgv(l->ac, on_setup_reply, l, 2, argv, argvlen);
	argv[0] = "ROLE";
	argvlen[0] = 4;
	redisAsyncCommandArgv(l->ac, on_setup_done, l, 1, argv, argvlen);
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
	if (status != REDIS_OK && !l->stopping) {
		log_warnx("%s: lost the broker connection: %s", l->name,
		    cac->errstr[0] ? cac->errstr : "closed");
		l->failing = 1;
	}
	if (was_up)
		l->ops->down(l);
	l->reconnects++;
	schedule_retry(l);
}

static void
on_conn_deadline(void *arg)
{
	struct link *l = arg;

	if (l->ac == NULL)
		return;
	if (l->state == LINK_RESOLVING) {
		log_debug("%s: sentinel %s:%d timed out", l->name,
		    l->url->sentinels[l->sentinel_idx].host,
		    l->url->sentinels[l->sentinel_idx].port);
		if (l->ac->c.flags & REDIS_CONNECTED)
			redisAsyncFree(l->ac);	/* on_disconnect goes on */
		else {
			redisAsyncFree(l->ac);
			resolve_next(l);
		}
		return;
	}
	if (l->state != LINK_CONNECTING && l->state != LINK_SETUP)
		return;
	if (!l->failing || log_getverbose())
		log_warnx("%s: %s timed out after %.1f s; retrying", l->name,
		    l->state == LINK_SETUP ? "broker set-up" : "connect",
		    l->url->connect_timeout);
	l->failing = 1;
	if (l->state == LINK_SETUP) {
		redisAsyncFree(l->ac);	/* on_disconnect reschedules */
		return;
	}
	redisAsyncFree(l->ac);	/* no onDisconnect: never connected */
	l->state = LINK_DOWN;
	l->reconnects++;
	schedule_retry(l);
}

void
link_init(struct link *l, const char *name, const struct redis_url *url,
    const struct link_ops *ops, void *arg)
{
	memset(l, 0, sizeof(*l));
	l->name = name;
	l->url = url;
	l->ops = ops;
	l->arg = arg;
	l->fd = -1;
	l->backoff_ms = BACKOFF_MIN_MS;
	timer_set(&l->retry, link_connect, l);
	timer_set(&l->conn_deadline, on_conn_deadline, l);
}

/* Put a fresh context on the loop; -1 when it could not be. */
static int
attach(struct link *l, redisAsyncContext *ac)
{
	l->ac = ac;
	l->fd = ac->c.fd;
	ac->data = l;
	if (loop_fd_add(l->fd, on_fd, l) == -1) {
		log_warn("%s: loop_fd_add", l->name);
		l->ac = NULL;
		l->fd = -1;
		redisAsyncFree(ac);
		return -1;
	}
	ac->ev.data = l;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (ac->c.connection_type == REDIS_CONN_TCP)
		redisEnableKeepAlive(&ac->c);
	/* hiredis waits for writability to finish the connect */
	ev_add_write(l);
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
		    "(last tried %s:%d); retrying", l->name,
		    log_viss(l->url->master_name), log_viss(s->host), s->port);
	l->failing = 1;
	l->reconnects++;
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
	} else
		log_debug("%s: sentinel does not know master %s: %s", l->name,
		    log_viss(l->url->master_name),
		    reply->type == REDIS_REPLY_ERROR ?
		    log_vis(reply->str, reply->len) : "no address");
	redisAsyncDisconnect(ac);	/* on_disconnect -> resolve_next */
}

static void
sentinel_connected(struct link *l, int status)
{
	const char	*argv[3];
	size_t		 argvlen[3];

	if (status != REDIS_OK) {
		/* hiredis frees the context after this returns */
		resolve_next(l);
		return;
	}
	argv[0] = "SENTINEL";
	argvlen[0] = 8;
	argv[1] = "get-master-addr-by-name";
	argvlen[1] = strlen(argv[1]);
	argv[2] = l->url->master_name;
	argvlen[2] = strlen(argv[2]);
	redisAsyncCommandArgv(l->ac, on_sentinel_reply, l, 3, argv, argvlen);
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
	if (attach(l, ac) == -1) {
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
		if (l->state == LINK_DOWN && l->sentinel_tries >=
		    l->url->nsentinels)
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
		l->reconnects++;
		schedule_retry(l);
		return;
	}
	l->sentinel_tries = 0;
	if (attach(l, ac) == -1) {
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
	if (l->ac == NULL)
		return;
	log_warnx("%s: resetting the broker connection: %s", l->name, why);
	l->failing = 1;
	if (!(l->ac->c.flags & REDIS_CONNECTED)) {
		redisAsyncFree(l->ac);	/* no onDisconnect */
		l->state = LINK_DOWN;
		schedule_retry(l);
	} else
		redisAsyncFree(l->ac);	/* on_disconnect reschedules */
}

void
link_stop(struct link *l)
{
	l->stopping = 1;
	timer_del(&l->retry);
	timer_del(&l->conn_deadline);
	if (l->ac == NULL)
		return;
	if (l->state == LINK_UP || l->state == LINK_SETUP)
		redisAsyncDisconnect(l->ac);
	else {
		redisAsyncFree(l->ac);
		l->state = LINK_DOWN;
	}
}

void
link_close(struct link *l)
{
	l->stopping = 1;
	timer_del(&l->retry);
	timer_del(&l->conn_deadline);
	if (l->ac != NULL)
		redisAsyncFree(l->ac);
	l->state = LINK_DOWN;
}

int
link_cmd(struct link *l, redisCallbackFn *fn, void *priv, int argc,
    const char **argv, const size_t *argvlen)
{
	if (l->ac == NULL || l->state != LINK_UP) {
		errno = ENOTCONN;
		return -1;
	}
	if (redisAsyncCommandArgv(l->ac, fn, priv, argc, argv, argvlen) !=
	    REDIS_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}
