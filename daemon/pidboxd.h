/* pidboxd: a kombu pidbox Node over Redis. */
#ifndef PIDBOXD_H
#define PIDBOXD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"

#define PIDBOXD_CONF		"/etc/pidbox/pidboxd.yaml"
#define DEFAULT_BROKER		"redis://localhost:6379/0"
#define DEFAULT_NAMESPACE	"pidbox"
#define DEFAULT_EXPIRY_SKEW	30.0	/* seconds */
#define DEFAULT_REPLY_TTL	300	/* seconds, PEXPIRE of reply lists */
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		1000	/* back within 2 s of the broker (issue 5) */
#define HEALTH_CHECK_DEFAULT	15.0	/* seconds, unless the URL says */
#define HEALTH_DEADLINE_MS	5000	/* at most, for a health check answer */
#define BRPOP_TIMEOUT		5	/* seconds, direct mode */
#define REFRESH_MS		30000	/* re-declare binding */

/* Operator-defined methods (config.c parses, schema.c checks, exec.c runs). */
#define MAX_METHOD_ARGS		32
#define MAX_METHOD_ARGV		64
#define DEFAULT_EXEC_TIMEOUT	30000	/* ms */
#define DEFAULT_KILL_GRACE	2000	/* ms between TERM and KILL */
#define DEFAULT_MAX_OUTPUT	65536	/* bytes kept per stream */
#define DEFAULT_MAX_STRING	4096	/* bytes of a string argument */
#define DEFAULT_MAX_CHILDREN	32	/* exec handlers at once, all methods */
enum arg_type {
	ARG_STRING,
	ARG_INT,
	ARG_NUMBER,
	ARG_BOOL,
};
struct pcre2_real_code_8;
struct arg_spec {
	char			*name;
	enum arg_type		 type;
	int			 required;
	int			 secret;	/* masked in the audit trail */
	json_object		*def;		/* default value or NULL */
	char			*regex;		/* source, must match whole */
	struct pcre2_real_code_8 *re;
	int			 has_min, has_max;
	double			 min, max;
	size_t			 max_length;
	char			*help;
};
struct method_conf {
	char		*name;
	char		*help;
	char		**argv;		/* NULL-terminated; "{arg}" elements */
	size_t		 argc;
	struct arg_spec	*args;
	size_t		 nargs;
	int		 stdin_json;	/* arguments as JSON on stdin */
	int		 env_args;	/* PIDBOX_ARG_<NAME> */
	int64_t		 timeout_ms;
	int64_t		 kill_grace_ms;
	size_t		 max_output;
	char		*cwd;
	int		 as_user;	/* uid/gid below are set */
	uid_t		 uid;
	gid_t		 gid;
	int		 max_concurrent;
	int		 dangerous;	/* only rules naming it allow it */
};

/* Access policy (policy.c): ordered rules, first match wins. */
struct policy_rule {
	char		**methods;	/* globs; NULL: every method */
	size_t		  nmethods;
	char		**identities;	/* NULL: anyone, even unsigned */
	size_t		  nidentities;
	int		  allow;
};
struct policy_conf {
	int			 default_allow;	/* when no rule matches */
	struct policy_rule	*rules;
	size_t			 nrules;
};

/* Signed requests (common/sign.c, node.c). */
struct sign_key {
	char		*identity;	/* NULL: the shared key */
	unsigned char	*key;
	size_t		 keylen;
};
struct signing_conf {
	int		 require;	/* refuse unsigned requests */
	struct sign_key	*keys;
	size_t		 nkeys;
	int		 max_ttl;	/* s: expiry at most this far ahead */
	size_t		 nonce_cache;	/* nonces remembered at most */
};

/* Audit trail (audit.c). */
struct audit_conf {
	char		*file;		/* NULL: none */
	int		 syslog;
	char		**mask;		/* argument names always masked */
	size_t		 nmask;
};

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
	char			*broker_password; /* from a file/env/config */
	int			 file_has_password; /* broker_password: set */
	struct method_conf	*methods;
	size_t			 nmethods;
	int			 max_children;
	struct policy_conf	 policy;
	struct signing_conf	 signing;
	struct audit_conf	 audit;
	/* the sections a reload cannot apply in place, canonically */
	char			*restart_sig;
	size_t			 restart_siglen;
};
void	 conf_defaults(struct pidboxd_conf *c);
/* Load file over c; every error is printed "file:line:col: msg". */
int	 conf_load(struct pidboxd_conf *c, const char *file);
/* The same over a buffer, without the file mode check (fuzzing). */
int	 conf_load_buf(struct pidboxd_conf *c, const char *buf, size_t len,
	    const char *name);
void	 conf_clear(struct pidboxd_conf *c);
int	 conf_valid_name(const char *s, size_t len, const char **why);
/* The method named name, or NULL. */
const struct method_conf *conf_method(const struct pidboxd_conf *c,
	    const char *name);

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

/*
 * link.c: a connection to the broker on the loop, with reconnect; the
 * only file that knows hiredis's async API.
 */
struct link;
struct link_ops {
	void	(*up)(struct link *, void *);	/* connected, authenticated */
	void	(*down)(struct link *, void *);	/* lost (will reconnect) */
};
/* A command's reply (NULL: the connection went away first). */
typedef void (*link_reply_fn)(struct link *, const redisReply *, void *);
struct link *link_new(const char *name, const struct redis_url *url,
	    const struct link_ops *ops, void *arg);
void	 link_free(struct link *l);
void	 link_start(struct link *l);
/* Drop the connection and reconnect after a backoff. */
void	 link_reset(struct link *l, const char *why);
/* Disconnect once pending replies are in; no reconnect. */
void	 link_stop(struct link *l);
/* Drop at once, no reconnect. */
void	 link_close(struct link *l);
int	 link_is_up(const struct link *l);
int	 link_is_down(const struct link *l);
int	 link_cmd(struct link *l, link_reply_fn fn, int argc,
	    const char **argv, const size_t *argvlen);
/* A READONLY error: the link was reset. 1 when reply was that. */
int	 link_readonly(struct link *l, const redisReply *reply);

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
	int		 flags;
#define H_DANGEROUS	0x01	/* denied unless a policy rule names it */
};
/* A handler that will reply later returns this (exec.c). */
#define HANDLER_PENDING	1
const struct handler *handler_lookup(const char *name);
const struct handler *handler_table(size_t *n);

/* celery.c: Celery worker methods, answered as an idle worker would. */
int	 celery_empty_list(struct node *, json_object *, json_object **);
int	 celery_empty_object(struct node *, json_object *, json_object **);
int	 celery_hello(struct node *, json_object *, json_object **);
int	 celery_report(struct node *, json_object *, json_object **);
void	 celery_stats_extend(struct node *, json_object *);

/* node.c: kombu Node semantics, no socket code. */
struct node_stats {
	uint64_t	received;
	uint64_t	dispatched;
	uint64_t	not_addressed;
	uint64_t	expired;
	uint64_t	malformed;
	uint64_t	refused_reply_to;
	uint64_t	errors;
	uint64_t	refused_policy;
	uint64_t	unsigned_refused;
	uint64_t	forged;
	uint64_t	sig_expired;
	uint64_t	replayed;
	uint64_t	schema_errors;
	uint64_t	exec_started;
	uint64_t	exec_timeouts;
	uint64_t	exec_busy;
	uint64_t	audit_lost;	/* lines that could not be written */
};
/*
 * What a reply needs once the message is gone: saved for handlers that
 * answer later (exec.c) and for the audit line.
 */
struct node_req {
	char		 method[MAX_NAME + 1];
	char		 ticket[MAX_NAME + 1];
	int		 has_ticket;
	int		 reply;			/* reply_to given */
	char		 reply_exchange[MAX_KEY];
	char		 reply_routing_key[MAX_KEY];
	char		 identity[MAX_NAME + 1]; /* "" unless signed */
	json_object	*args;			/* audit_args() copy, owned */
	size_t		 args_size;		/* bytes, as compact JSON */
	double		 received;		/* wall clock */
	int64_t		 start_ms;		/* monotonic */
};
struct nonce_cache;
struct node_action;
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
	/* the request being dispatched (for handlers that reply later) */
	const struct node_req	*cur;
	struct nonce_cache	*nonces;
	/* sends a reply built after node_handle() returned (service.c) */
	void			(*send)(const struct node_action *);
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
/* Release what node_init() took. */
void	 node_clear(struct node *n);
/*
 * Finish a request whose handler returned HANDLER_PENDING: write the
 * audit line, send the reply (value borrowed) through n->send, free r.
 */
void	 node_finish(struct node *n, struct node_req *r, json_object *value,
	    const char *outcome, json_object *extra);
void	 node_req_free(struct node_req *r);

/* schema.c: argument schemas of operator-defined methods. */
/*
 * Check args against m's schema and return a new object with defaults
 * filled in (caller puts); NULL with a message naming the argument and
 * the rule in err.
 */
json_object *schema_check(const struct method_conf *m, json_object *args,
	    char *err, size_t errlen);
/* The schema of m as JSON for describe (caller puts). */
json_object *schema_describe(const struct method_conf *m);
/* Text of a scalar argument as it goes into argv/env (malloc'd). */
char	*schema_text(json_object *v);
/* Compile a full-match regex; NULL with err set. */
struct pcre2_real_code_8 *schema_regex(const char *src, char *err,
	    size_t errlen);
void	 schema_regex_free(struct pcre2_real_code_8 *re);

/* exec.c: run operator-defined methods without blocking the loop. */
/*
 * Validate and start m for the request n->cur. Returns HANDLER_PENDING
 * (node_finish() is called later), or -1 with an error in *res.
 */
int	 exec_start(struct node *n, const struct method_conf *m,
	    json_object *args, json_object **res);
/* Number of running handlers. */
int	 exec_running(void);
/* Kill every running handler (their requests get an error reply). */
void	 exec_abort_all(struct node *n);
/* pidboxd --exec-as uid:gid -- prog args: drop privileges and exec. */
int	 exec_as_main(int argc, char **argv);

/* policy.c */
/* 1 allowed, 0 refused (rule or default in *why). */
int	 policy_allows(const struct policy_conf *p, const char *method,
	    int dangerous, const char *identity, const char **why);
/* Built-in names that are dangerous whatever table they come from. */
int	 policy_dangerous_name(const char *method);

/* nonce.c: bounded cache of seen nonces until their expiry. */
struct nonce_cache *nonce_cache_new(size_t max);
void	 nonce_cache_free(struct nonce_cache *c);
/* 0 remembered; 1 seen before (replay); -1 cache full. */
int	 nonce_cache_add(struct nonce_cache *c, const char *nonce,
	    double expires, double now);

/* audit.c: one JSON line per request. */
#define AUDIT_MAX_STRING	1024	/* bytes of a value or name kept */
#define AUDIT_MAX_ITEMS		64	/* members of one object or array */
#define AUDIT_MAX_DEPTH		8	/* nesting of objects and arrays */
#define AUDIT_MAX_VALUES	1024	/* values kept of one request */
#define AUDIT_MAX_LINE		16384	/* bytes, else arguments are cut */
int	 audit_open(const struct audit_conf *a);
void	 audit_reopen(void);
void	 audit_close(void);
/*
 * Write rec (borrowed; its "arguments" may be replaced by a marker when
 * the line is over AUDIT_MAX_LINE) as one line. -1 when the line was
 * lost (logged).
 */
int	 audit_write(json_object *rec);
/*
 * What the audit line shows of args: a new copy cut to the AUDIT_MAX_*
 * limits, secret values (per-method and by name, at any depth) masked.
 */
json_object *audit_args(const struct audit_conf *a,
	    const struct method_conf *m, json_object *args);

/* service.c: the node wired to Redis; starts and stops the modules below. */
struct service_hooks {
	void	(*ready)(void);		/* the node serves */
	void	(*lost)(void);		/* the command link went down */
};
int	 service_start(struct node *n, const struct service_hooks *hooks);
void	 service_stop(void);
int	 service_stopped(void);
void	 service_abort(void);
uint64_t service_reconnects(void);

/* mailbox_in.c: binding declare/refresh/remove, SUBSCRIBE or BRPOP. */
struct mailbox_in_ops {
	void	(*ready)(void);		/* binding declared, listening */
	void	(*message)(const char *, size_t);	/* a request */
};
void	 mailbox_in_init(struct node *n, struct link *cmd, struct link *in,
	    const struct mailbox_in_ops *ops);
void	 mailbox_in_declare(void);
void	 mailbox_in_consume(void);
void	 mailbox_in_undeclared(void);
void	 mailbox_in_listen(void);
void	 mailbox_in_lost(void);
void	 mailbox_in_stop(void);

/* replies.c: reply routing (one Lua script) and the held-reply queue. */
struct reply_counters {
	uint64_t	replied;
	uint64_t	unrouted;
	uint64_t	foreign;	/* bindings naming another queue seen */
};
void	 replies_init(struct node *n, struct link *cmd, void (*resync)(void));
void	 replies_load_script(void);
void	 replies_link_down(void);
/* Route one reply to its client's list, or hold it while cmd is down. */
void	 replies_send(const struct node_action *act);
void	 replies_flush(void);
void	 replies_stop(void);
void	 replies_clear(void);
void	 replies_counters(struct reply_counters *c);

/* health.c: health checks of both links. */
void	 health_init(struct node *n, struct link *cmd, struct link *in);
const char *health_channel(void);
void	 health_pong(void);
void	 health_start(void);
void	 health_forget(void);
void	 health_stop(void);
void	 health_shutdown(void);

/* sdnotify.c: systemd's notify protocol over NOTIFY_SOCKET, by hand. */
void	 sdnotify_ready(const char *status);
void	 sdnotify_reloading(void);
void	 sdnotify_stopping(void);
void	 sdnotify_status(const char *fmt, ...) __printflike(1, 2);
void	 sdnotify_identity(const struct node *n);
void	 sdnotify_watchdog_start(void);

#endif /* PIDBOXD_H */
