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

/*
 * Operator-defined methods (methods_conf.c parses, schema.c checks, exec.c
 * runs).
 */
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
	ARG_ANY,	/* built-ins only: any JSON value, as sent */
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
	struct sign_key	*keys;		/* HMAC secrets */
	size_t		 nkeys;
	struct sign_edkey *pubkeys;	/* trusted Ed25519 public keys */
	size_t		 npubkeys;
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

/* Fleet operations: inventory.c, results.c. */
#define DEFAULT_INVENTORY_TTL	60	/* s an entry lives unrefreshed */
#define DEFAULT_INVENTORY_FORGET 3600	/* s a stale entry is still shown */
#define DEFAULT_RESULTS_MAXLEN	10000	/* replies kept in the stream */
#define DEFAULT_RESULTS_TTL	86400	/* s the stream lives unwritten */
#define RESULTS_MAX_REPLY	65536	/* bytes of one recorded reply */
#define MAX_LABELS		64
#define DEFAULT_METRICS_INTERVAL 15	/* s between metrics_file writes */
struct inventory_conf {
	int		 enabled;
	int		 ttl;		/* s */
	int		 forget;	/* s */
};
struct results_conf {
	int		 maxlen;
	int		 ttl;		/* s */
};

/* config.c */
struct pidboxd_conf {
	char			*file;		/* NULL: none */
	char			 hostname[MAX_NAME + 1];
	char			*broker;	/* may hold a password */
	struct redis_url	 url;		/* broker, parsed (conf_set_broker) */
	char			 ns[MAX_NAME + 1];
	enum mailbox_type	 type;
	double			 expiry_skew;	/* < 0: never expire */
	int			 reply_ttl;	/* seconds */
	int			 verbose;
	char			*pidfile;
	size_t			 max_message;	/* bytes */
	char			*broker_password; /* from a file/env/config */
	int			 file_has_password; /* broker_password: set */
	struct redis_tls	 broker_tls;	/* broker_tls: over the URL's */
	struct method_conf	*methods;
	size_t			 nmethods;
	int			 max_children;
	struct policy_conf	 policy;
	struct signing_conf	 signing;
	struct audit_conf	 audit;
	char			*state_dir;	/* node key, nonces; NULL: none */
	json_object		*labels;	/* {name: value} strings */
	struct inventory_conf	 inventory;
	struct results_conf	 results;
	char			*metrics_file;	/* NULL: none (metrics.c) */
	int			 metrics_interval; /* s */
	/* the sections a reload cannot apply in place, canonically */
	char			*restart_sig;
	size_t			 restart_siglen;
};
void	 conf_defaults(struct pidboxd_conf *c);
/*
 * Load file over c; every error is reported "file:line:col: msg", bare on
 * stderr, or through log.c after conf_log_errors(1).
 */
int	 conf_load(struct pidboxd_conf *c, const char *file);
/* The same over a buffer, without the file mode check (fuzzing). */
int	 conf_load_buf(struct pidboxd_conf *c, const char *buf, size_t len,
	    const char *name);
/* Configuration errors to the log (after daemon()), not to stderr. */
void	 conf_log_errors(int on);
void	 conf_clear(struct pidboxd_conf *c);
int	 conf_valid_name(const char *s, size_t len, const char **why);
/* Parse s into c->url and keep it as c->broker; -1 with err set. */
int	 conf_set_broker(struct pidboxd_conf *c, const char *s, char *err,
	    size_t errlen);
/*
 * The broker URL to connect to: c->url with broker_password merged in.
 * The caller redis_url_clear()s *u. -1 with *errstr.
 */
int	 conf_broker_url(const struct pidboxd_conf *c, struct redis_url *u,
	    const char **errstr);

/*
 * The key tables that drive parsing (config.c, methods_conf.c). A
 * section is a mapping walked against its table; each key says what
 * kind of value it takes, its range, and where in the section's struct
 * (offsetof) the value goes. Errors read "file:line:col: path.key: why".
 */
struct conf_err {
	const char	*file;
	int		 n;		/* errors so far */
};
enum conf_kind {
	CK_BOOL,	/* int 0/1 */
	CK_INT,		/* int in min..max */
	CK_SIZE,	/* size_t in min..max */
	CK_DOUBLE,	/* double in min..max */
	CK_MS,		/* seconds in min..max, stored as int64_t ms */
	CK_NAME,	/* char[MAX_NAME + 1], conf_valid_name() */
	CK_PATH,	/* char *, an absolute path */
	CK_TEXT,	/* char *, any scalar */
	CK_STRLIST,	/* char ** at off, its count (size_t) at off_n */
	CK_SECTION,	/* a nested mapping walked against sub */
	CK_FUNC,	/* set() takes it */
	CK_LATER,	/* the section's code takes it after the walk */
};
struct conf_key;
struct conf_at {			/* a key being set */
	struct conf_err		*ce;
	const char		*path;	/* of the section; NULL: top level */
	const struct conf_key	*key;
	void			*base;	/* the section's struct */
};
struct conf_section {
	const struct conf_key	*keys;
	size_t			 nkeys;
	/* after the walk of a mapping: rules across keys */
	void			(*check)(struct conf_err *, void *base,
				    const struct ynode *map);
};
struct conf_key {
	const char		*name;
	enum conf_kind		 kind;
	size_t			 off;
	size_t			 off_n;
	double			 min, max;
	const char		*expect; /* why a value is refused */
	int			 flags;
#define CONF_VALUE	0x01	/* null or not a scalar: "expected a value" */
#define CONF_HINT	0x02	/* named in "expected a mapping (...)" */
#define CONF_RESTART	0x04	/* a change needs a node restart */
	/* CK_FUNC: -1 with *why, or 0 (errors of its own through at->ce) */
	int			(*set)(const struct conf_at *,
				    const struct ynode *, const char **why);
	const struct conf_section *sub;	/* CK_SECTION */
};
void	 conf_error(struct conf_err *ce, const struct ynode *at,
	    const char *fmt, ...) __printflike(3, 4);
/*
 * Walk map against s into base; path names the section in messages,
 * NULL the top level. seen[s->nkeys] (or NULL) gets each key's last
 * value, for CK_LATER keys.
 */
void	 conf_walk(struct conf_err *ce, const char *path,
	    const struct conf_section *s, void *base, const struct ynode *map,
	    const struct ynode **seen);
/* "path: expected a mapping (keys...)" unless v is a mapping; 0 if it is. */
int	 conf_expect_map(struct conf_err *ce, const char *path,
	    const struct conf_section *s, const struct ynode *v);
/* "path.key", or key at the top level (malloc'd). */
char	*conf_path(const char *path, const char *key);
/* A string or a list of strings at v into *out[*n]; what names it. */
void	 conf_strlist(struct conf_err *ce, const struct ynode *v,
	    char ***out, size_t *n, const char *what);
void	 conf_strv_free(char **v, size_t n);

/* methods_conf.c: the methods: section, parsed, checked and freed. */
/* The CK_FUNC of "methods". */
int	 methods_conf_parse(const struct conf_at *at, const struct ynode *v,
	    const char **why);
void	 methods_conf_free(struct pidboxd_conf *c);
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
/* Wall time of the last reply the broker sent on l; 0: none yet. */
double	 link_contact(const struct link *l);
int	 link_cmd(struct link *l, link_reply_fn fn, int argc,
	    const char **argv, const size_t *argvlen);
int	 link_cmd_formatted(struct link *l, link_reply_fn fn, const char *cmd,
	    size_t len);
int	 link_publish(struct link *l, const char *channel, const char *msg,
	    size_t len);
/* A READONLY error: the link was reset. 1 when reply was that. */
int	 link_readonly(struct link *l, const redisReply *reply);

/*
 * registry.c: one table of the methods this node offers, built-ins and
 * operator-defined alike, made by node_init() (a reload that changes
 * methods restarts the node). node.c looks a request's method up once,
 * checks its arguments against its schema and calls its function.
 */
struct node;
struct node_req;
struct method;
/*
 * How a method that answers later (exec.c) finishes its request: the
 * value is borrowed; outcome is the audit outcome ("ok", "exit 3"...);
 * extra's members (borrowed) go into the audit line.
 */
typedef void (*call_done_fn)(void *arg, json_object *value,
    const char *outcome, json_object *extra);
/* One call of a method: what its function gets. */
struct call {
	struct node		 *node;		/* built-ins only: exec.c */
	const struct pidboxd_conf *conf;	/* never touches the node */
	const struct method	 *method;
	json_object		 *args;		/* checked, defaults filled */
	const char		 *ticket;	/* "" when none */
	const char		 *identity;	/* "" unless signed */
	/* a method that returns CALL_PENDING finishes through done */
	call_done_fn		  done;
	void			 *done_arg;
};
/*
 * A method returns the reply value (a new reference, NULL for JSON null)
 * through *result, or -1 with an {"error": ...} in *result; or
 * CALL_PENDING when it will call c->done itself, exactly once.
 */
#define CALL_PENDING	1
typedef int (*method_fn)(const struct call *c, json_object **result);
struct method {
	const char		*name;
	method_fn		 fn;
	const char		*help;
	int			 flags;
#define M_DANGEROUS	0x01	/* only a policy rule naming it allows it */
#define M_CELERY	0x02	/* answered as an idle Celery worker would */
#define M_READONLY	0x04	/* changes nothing on the node */
#define M_EXEC		0x08	/* an operator-defined program (exec.c) */
#define M_OPEN_ARGS	0x10	/* arguments it does not declare pass */
	const struct arg_spec	*args;	/* its argument schema */
	size_t			 nargs;
	const struct method_conf *conf;	/* M_EXEC: its configuration */
};
struct registry;
/*
 * The registry of builtins[0..nbuiltins) (handlers.c's table, or a test's)
 * and c's operator methods; NULL with *errstr on failure.
 */
struct registry *registry_new(const struct method *builtins,
	    size_t nbuiltins, const struct pidboxd_conf *c,
	    const char **errstr);
void	 registry_free(struct registry *r);
const struct method *registry_lookup(const struct registry *r,
	    const char *name);
/*
 * Whether a policy must treat name as dangerous: its M_DANGEROUS flag,
 * or for a method this node does not offer, Celery's and kombu's names
 * that stop or reshape a node.
 */
int	 registry_dangerous(const struct registry *r, const char *name);
/* The same for m, name's row as registry_lookup() found it (or NULL). */
int	 registry_method_dangerous(const struct method *m, const char *name);
/*
 * {name: {help, kind, args[, timeout], dangerous, allowed}} of every
 * method, for describe; allowed as policy p answers identity.
 */
json_object *registry_describe(const struct registry *r,
	    const struct policy_conf *p, const char *identity);

/* handlers.c: the built-in methods. */
const struct method *builtin_table(size_t *n);
const struct method *builtin_lookup(const char *name);

/* celery.c: Celery worker methods, answered as an idle worker would. */
int	 celery_empty_list(const struct call *, json_object **);
int	 celery_empty_object(const struct call *, json_object **);
int	 celery_hello(const struct call *, json_object **);
int	 celery_report(const struct call *, json_object **);
void	 celery_stats_extend(struct node *, json_object *);
int	 celery_enable_events(const struct call *, json_object **);
int	 celery_disable_events(const struct call *, json_object **);
int	 celery_heartbeat(const struct call *, json_object **);

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
	uint64_t	forged;		/* every refused signature */
	uint64_t	sig_malformed;	/* ... headers or signature */
	uint64_t	sig_unknown_identity; /* ... no key for the identity */
	uint64_t	sig_expired;
	uint64_t	replayed;
	uint64_t	sig_before_cache; /* issued before our nonce cache */
	uint64_t	node_key_errors; /* node key or certificate unusable */
	uint64_t	replies_signed;
	uint64_t	schema_errors;
	uint64_t	audit_lost;	/* lines that could not be written */
	uint64_t	duplicates;	/* a delivery handled moments ago */
	uint64_t	filtered;	/* x-pidbox-filter did not match us */
};
/*
 * What a reply needs once the message is gone: saved for handlers that
 * answer later (exec.c) and for the audit line.
 */
struct node_req {
	struct node	*node;		/* whose request it is */
	char		 method[MAX_NAME + 1];
	char		 ticket[MAX_NAME + 1];
	int		 has_ticket;
	int		 reply;			/* reply_to given */
	int		 record;		/* x-pidbox-record: true */
	char		 reply_exchange[MAX_KEY];
	char		 reply_routing_key[MAX_KEY];
	char		 identity[MAX_NAME + 1]; /* "" unless signed */
	json_object	*args;			/* audit_args() copy, owned */
	size_t		 args_size;		/* bytes, as compact JSON */
	int		 known;			/* the registry offers method */
	double		 received;		/* wall clock */
	int64_t		 start_ms;		/* monotonic */
};
struct nonce_cache;
struct node_action;
/*
 * The deliveries handled last, by delivery_tag: a node that hears two
 * channels (both Sentinel prefix generations) or finds a request still in
 * flight after a reset runs it once.
 */
#define RECENT_TAGS	256
#define RECENT_WINDOW	120.0	/* seconds a delivery is remembered */
struct recent_tag {
	char		 tag[64];	/* longer tags are not remembered */
	double		 seen;		/* wall clock; 0: free */
	int		 via;		/* the way it came in (VIA_*) */
};
struct node {
	const struct pidboxd_conf *conf;
	struct names		 names;
	struct redis_url	 url;
	struct lamport		 clock;
	struct node_stats	 stats;
	int64_t			 started_mono;
	double			 started_wall;
	/* the methods offered (tests may swap it) */
	struct registry		*reg;
	struct nonce_cache	*nonces;
	struct timer		 sync_timer;	/* fdatasync the nonces */
	struct sign_edkey	 key;		/* signs replies, if private */
	char			 cert[128];	/* fleet's signature, base64 */
	char			 cert_by[SIGN_MAX_IDENTITY + 1];
	struct recent_tag	 recent[RECENT_TAGS];
	size_t			 recent_next;
	/* twin.c's ping of our own name: not for us to answer */
	char			 probe_ticket[UUID_STRLEN + 1];
	json_object		*facts;		/* inventory_facts() */
	/* records a reply of a request that asked for it (results.c) */
	void			(*record)(const struct node_req *,
				    json_object *);
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
/*
 * A node for c answering the methods of reg, on the broker url (with its
 * password: conf_broker_url()). The node keeps a copy of url and takes
 * reg over; node_clear() frees both, also after a failure.
 */
int	 node_init(struct node *n, const struct pidboxd_conf *c,
	    const struct redis_url *url, struct registry *reg,
	    const char **errstr);
/*
 * Handle one raw message as a kombu Node would (spec 3.2): decode, adjust
 * the clock, check addressing and expiry, dispatch, build the reply.
 * Returns 0 with act filled (act->reply 0: nothing to send), -1 when the
 * message was dropped (logged and counted).
 */
int	 node_handle(struct node *n, const char *buf, size_t len, double now,
	    struct node_action *act);
/*
 * The same for a message that came in via a given way: a delivery seen
 * already is run again only when it came the same way (a replay, for
 * verify() to judge), never when it is a copy from another channel or a
 * request left in flight.
 */
#define VIA_ONLY	0	/* the one way in */
#define VIA_LEFTOVER	(-1)	/* found in the in-flight list */
/* 1, 2...: the fanout channel it came on */
int	 node_handle_via(struct node *n, const char *buf, size_t len,
	    double now, int via, struct node_action *act);
void	 node_action_free(struct node_action *act);
/* Release what node_init() took. */
void	 node_clear(struct node *n);

/* schema.c: argument schemas of operator-defined methods. */
/*
 * Check args against the schema args[0..nargs) and return a new object
 * with defaults filled in (caller puts); NULL with a message naming the
 * argument and the rule in err. open: arguments the schema does not
 * declare pass through unchanged, in the order they came.
 */
json_object *schema_check(const struct arg_spec *args, size_t nargs,
	    int open, json_object *in, char *err, size_t errlen);
/* {name: {type, required, ...}} of a schema, for describe. */
json_object *schema_describe(const struct arg_spec *args, size_t nargs);
/* d as a JSON int when it is integral, else a double. */
json_object *schema_number(double d);
/* Text of a scalar argument as it goes into argv/env (malloc'd). */
char	*schema_text(json_object *v);

/* exec.c: run operator-defined methods without blocking the loop. */
/*
 * The function of every M_EXEC method: start c->method->conf's program
 * with c->args. Returns CALL_PENDING (c->done is called when it ends),
 * or -1 with an error in *res.
 */
int	 exec_method(const struct call *c, json_object **res);
/* Number of running handlers. */
int	 exec_running(void);
/* Kill every running handler (their requests get an error reply). */
void	 exec_abort_all(void);
/* exec.c's own counters, for the stats method. */
struct exec_stats {
	uint64_t	started;
	uint64_t	timeouts;
	uint64_t	busy;
	uint64_t	errors;		/* failed to start, or exited non-zero */
};
const struct exec_stats *exec_stats(void);
/* pidboxd --exec-job uid:gid|- -- prog args: supervise one job. */
int	 exec_job_main(int argc, char **argv);

/* policy.c */
/*
 * 1 allowed, 0 refused (rule or default in *why). dangerous: the
 * registry's word for method (registry_method_dangerous()).
 */
int	 policy_allows(const struct policy_conf *p, const char *method,
	    int dangerous, const char *identity, const char **why);

/* atomic.c: files replaced whole, through a temporary file and rename(2). */
#define ATOMIC_SYNC	 0x01	/* fsync the file, then its directory */
#define ATOMIC_NOREPLACE 0x02	/* link(2): an existing file stays */
int	 atomic_write(const char *path, const char *text, size_t len,
	    mode_t mode, int flags, const char **errstr);

/* state.c: the state directory (node key, certificate, replay cache). */
/* Make dir (0700) if missing; -1 when unusable. */
int	 state_dir_check(const char *dir, const char **errstr);
/* The node's Ed25519 key from dir/node.key, made at first start. */
int	 state_node_key(const char *dir, const char *node, struct sign_edkey *k,
	    const char **errstr);
/*
 * The fleet's certificate of pub for node from dir/node.cert: 0 found
 * (base64 signature and fleet identity copied), 1 none, -1 bad file.
 */
int	 state_node_cert(const char *dir, const char *node,
	    const unsigned char *pub, char *sig, size_t siglen, char *by,
	    size_t bylen, const char **errstr);
/* dir/nonces.<ns>.<node>, unsafe bytes as '_'; -1 if too long. */
int	 state_nonce_path(const char *dir, const char *ns, const char *node,
	    char *buf, size_t len);

/* nonce.c: bounded cache of seen nonces until their expiry. */
struct nonce_cache *nonce_cache_new(size_t max);
void	 nonce_cache_free(struct nonce_cache *c);
/*
 * 0 remembered; 1 seen before (replay); -1 cache full; -2 it could not be
 * written to the file (the request must not run).
 */
int	 nonce_cache_add(struct nonce_cache *c, const char *nonce,
	    double expires, double now);
/*
 * Keep the cache in path (loaded now, then appended to); -1 with
 * *errstr. A missing or unreadable file starts a new one, known from now.
 */
int	 nonce_cache_open(struct nonce_cache *c, const char *path, double now,
	    const char **errstr);
/* Requests issued before this time may have run unrecorded. */
double	 nonce_cache_since(const struct nonce_cache *c);
void	 nonce_cache_set_since(struct nonce_cache *c, double since);
/* Written since the last sync; fdatasync() what was written. */
int	 nonce_cache_dirty(const struct nonce_cache *c);
void	 nonce_cache_sync(struct nonce_cache *c);

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
/* Wall time the broker last answered on either link; 0: never. */
double	 service_last_contact(void);
/* 1 while the command link is up. */
int	 service_connected(void);

/* mailbox_in.c: binding declare/refresh/remove, SUBSCRIBE or BRPOP. */
struct mailbox_in_ops {
	void	(*ready)(void);		/* binding declared, listening */
	void	(*message)(const char *, size_t, int);	/* a request, VIA_* */
};
void	 mailbox_in_init(struct node *n, struct link *cmd, struct link *in,
	    const struct mailbox_in_ops *ops);
void	 mailbox_in_declare(void);
void	 mailbox_in_consume(void);
void	 mailbox_in_undeclared(void);
void	 mailbox_in_listen(void);
void	 mailbox_in_lost(void);
void	 mailbox_in_stop(void);
/* 1 when our binding member was in Redis before we first declared it. */
int	 mailbox_in_found_bound(void);

/* twin.c: at start, does another node answer to our name? (fanout) */
void	 twin_init(struct node *n, struct link *cmd);
void	 twin_check(int found_bound);
void	 twin_stop(void);

/* replies.c: reply routing (SISMEMBER, then LPUSH + PEXPIRE) and the
 * held-reply queue. */
struct reply_counters {
	uint64_t	replied;
	uint64_t	unrouted;
	uint64_t	foreign;	/* bindings naming another queue seen */
	uint64_t	held;		/* waiting for the link (a gauge) */
};
void	 replies_init(struct node *n, struct link *cmd);
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

/*
 * metrics.c: the counters in Prometheus text format, written to
 * metrics_file for node_exporter's textfile collector.
 */
/*
 * A request was audited with decision ("run", "refused"...): method is
 * the registry's name of it, NULL for a name the registry does not know.
 */
void	 metrics_request(const char *method, const char *decision);
/* What the service knows of the broker links, read at each write. */
struct metrics_link {
	uint64_t	(*reconnects)(void);
	int		(*connected)(void);
	double		(*last_contact)(void);	/* Unix time, 0: never */
};
/*
 * Write now and every metrics_interval s (nothing without metrics_file);
 * link (kept) is how the service's readings are had, so that metrics.c
 * calls nothing above it.
 */
void	 metrics_init(struct node *n, const struct metrics_link *link);
/* A clean stop: the last write, no more. */
void	 metrics_stop(void);

/* inventory.c: this node's entry in the namespace's inventory. */
json_object *inventory_facts(void);
void	 inventory_init(struct node *n, struct link *cmd);
void	 inventory_register(void);
void	 inventory_remove(void);

/* results.c: recorded replies (x-pidbox-record) in a bounded stream. */
void	 results_init(struct node *n, struct link *cmd);
void	 results_record(const struct node_req *r, json_object *value);
uint64_t results_recorded(void);

/* events.c: Celery's worker events (celeryev), for Flower. */
void	 events_init(struct node *n, struct link *cmd);
int	 events_enable(void);
int	 events_disable(void);
void	 events_heartbeat(void);

/* sdnotify.c: systemd's notify protocol over NOTIFY_SOCKET, by hand. */
void	 sdnotify_ready(const char *status);
void	 sdnotify_reloading(void);
void	 sdnotify_stopping(void);
void	 sdnotify_status(const char *fmt, ...) __printflike(1, 2);
void	 sdnotify_identity(const char *node, enum mailbox_type type,
	    const char *exchange, const struct redis_url *broker);
void	 sdnotify_watchdog_start(void);

#endif /* PIDBOXD_H */
