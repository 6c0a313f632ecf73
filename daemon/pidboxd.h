/* pidboxd: a kombu pidbox Node over Redis. */
#ifndef PIDBOXD_H
#define PIDBOXD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"

#define PIDBOXD_CONF		"/etc/pidbox/pidboxd.yaml"
#define DEFAULT_BROKER		"redis://localhost:6379/0"
#define DEFAULT_NAMESPACE	"pidbox"
#define DEFAULT_EXPIRY_SKEW	30.0	/* seconds */
#define DEFAULT_REPLY_TTL	300	/* seconds, PEXPIRE of reply lists */
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define BRPOP_TIMEOUT		5	/* seconds, direct mode */
#define REFRESH_MS		30000	/* re-declare binding */

/* config.c */
struct pidboxd_conf {
	char			*file;		/* NULL: none */
	char			 hostname[MAX_NAME + 1];
	char			*broker;	/* may hold a password */
	char			 ns[MAX_NAME + 1];
	enum mailbox_type	 type;
	double			 expiry_skew;	/* < 0: never expire */
	int			 reply_ttl;	/* seconds */
	int			 verbose;
	char			*pidfile;
	size_t			 max_message;	/* bytes */
};
void	 conf_defaults(struct pidboxd_conf *c);
/* Load file over c; every error is printed "file:line:col: msg". */
int	 conf_load(struct pidboxd_conf *c, const char *file);
void	 conf_clear(struct pidboxd_conf *c);
int	 conf_valid_name(const char *s, size_t len, const char **why);

/* loop.c: one poll() loop with fds, timers and signal flags. */
struct loop_fd;
typedef void (*loop_fd_cb)(int fd, int revents, void *arg);
struct timer {
	TAILQ_ENTRY(timer)	 entry;
	int64_t			 when;		/* monotonic ms */
	int			 armed;
	void			(*cb)(void *);
	void			*arg;
};
void	 loop_init(void);
int	 loop_fd_add(int fd, loop_fd_cb cb, void *arg);
void	 loop_fd_events(int fd, int events, int on);
void	 loop_fd_del(int fd);
void	 timer_set(struct timer *t, void (*cb)(void *), void *arg);
void	 timer_add(struct timer *t, int64_t ms);
void	 timer_del(struct timer *t);
/* Wait for events up to the next timer (or max_ms); -1 on EINTR. */
int	 loop_once(int max_ms, const sigset_t *waitmask);

/* redis_async.c: hiredis async contexts on the loop, with reconnect. */
struct link;
struct link_ops {
	void	(*up)(struct link *);	/* connected and authenticated */
	void	(*down)(struct link *);	/* lost (will reconnect) */
};
struct link {
	const char		*name;
	redisAsyncContext	*ac;
	int			 state;
#define LINK_DOWN	0
#define LINK_CONNECTING	1
#define LINK_UP		2
	int			 stopping;
	int			 failing;	/* a failure was logged */
	int			 backoff_ms;
	int			 fd;
	struct timer		 retry;
	struct timer		 conn_deadline;
	const struct redis_url	*url;
	const struct link_ops	*ops;
	void			*arg;
	uint64_t		 reconnects;
};
void	 link_init(struct link *l, const char *name,
	    const struct redis_url *url, const struct link_ops *ops, void *arg);
void	 link_start(struct link *l);
/* Drop the connection and reconnect after a backoff. */
void	 link_reset(struct link *l, const char *why);
/* Disconnect once pending replies are in; no reconnect. */
void	 link_stop(struct link *l);
/* Drop at once, no reconnect. */
void	 link_close(struct link *l);
int	 link_cmd(struct link *l, redisCallbackFn *fn, void *priv, int argc,
	    const char **argv, const size_t *argvlen);

/* handlers.c: the method table. */
struct node;
/*
 * A handler returns the reply value (a new reference, NULL for JSON null)
 * through *result; -1 with an {"error": ...} already in *result on
 * failure.
 */
typedef int (*handler_fn)(struct node *, json_object *args,
    json_object **result);
struct handler {
	const char	*name;
	handler_fn	 fn;
	const char	*help;
};
const struct handler *handler_lookup(const char *name);
const struct handler *handler_table(size_t *n);

/* node.c: kombu Node semantics, no socket code. */
struct node_stats {
	uint64_t	received;
	uint64_t	dispatched;
	uint64_t	replied;
	uint64_t	reply_unrouted;
	uint64_t	not_addressed;
	uint64_t	expired;
	uint64_t	malformed;
	uint64_t	refused_reply_to;
	uint64_t	errors;
	uint64_t	reconnects;
};
struct node {
	const struct pidboxd_conf *conf;
	struct names		 names;
	struct redis_url	 url;
	struct lamport		 clock;
	struct node_stats	 stats;
	int64_t			 started_mono;
	double			 started_wall;
	/* the handler table in use (tests may swap it) */
	const struct handler	*handlers;
	size_t			 nhandlers;
};
/* What to do with one received message. */
struct node_action {
	int		 reply;		/* 1: send payload to list */
	char		*payload;	/* reply envelope, malloc'd */
	size_t		 payloadlen;
	char		 routing_key[MAX_KEY];
	char		 queue[MAX_KEY];	/* <rk>.reply.<ns>.pidbox */
};
int	 node_init(struct node *n, const struct pidboxd_conf *c,
	    const char **errstr);
/*
 * Handle one raw message as a kombu Node would (spec 3.2): decode, adjust
 * the clock, check addressing and expiry, dispatch, build the reply.
 * Returns 0 with act filled (act->reply 0: nothing to send), -1 when the
 * message was dropped (logged and counted).
 */
int	 node_handle(struct node *n, const char *buf, size_t len, double now,
	    struct node_action *act);
void	 node_action_free(struct node_action *act);

/* service.c: the node wired to Redis. */
int	 service_start(struct node *n);
void	 service_send_reply(const struct node_action *act);
void	 service_stop(void);
int	 service_stopped(void);
void	 service_abort(void);

/* sdnotify.c: systemd's notify protocol over NOTIFY_SOCKET, by hand. */
void	 sdnotify_status(const char *msg);

#endif /* PIDBOXD_H */
