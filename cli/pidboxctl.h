/*
 * pidboxctl: the kombu Mailbox client (broadcast RPC over Redis).
 */
#ifndef PIDBOXCTL_H
#define PIDBOXCTL_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"

#define DEFAULT_BROKER	"redis://localhost:6379/0"
#define DEFAULT_NS	"pidbox"
#define DEFAULT_TIMEOUT	1.0
#define LEARN_TIMEOUT	0.5	/* seconds of the describe that learns one */
#define TIMEOUT_MARGIN	1.0	/* seconds beyond a method's own timeout */
#define CMD_TIMEOUT	5.0	/* seconds for one ordinary Redis command */
#define CLEANUP_TIMEOUT	3.0	/* seconds for the whole cleanup */
#define CLEANUP_SETTLE	50	/* ms between SREM and DEL after --limit */
#define COLLECT_CHUNK_MS 1000	/* ms of one BRPOP of replies, at most */
#define BRPOP_TICK_MS	100	/* Redis answers a timed-out BRPOP this late */
/* after a complete -d set, while a twin may still answer (ms) */
#define TWIN_GRACE_MIN_MS 200
#define TWIN_GRACE_MAX_MS 1000
#define RCMD_MAXARGS	10

/* Exit codes beside sysexits' 64 (usage), 69 (no reply), 75 (broker). */
#define EXIT_REPLY_ERRORS	2	/* some node replied {"error": ...} */
#define EXIT_MISSING		3	/* some expected node did not reply */
#define EXIT_MISSING_ERRORS	4	/* both of the above */

/* How replies are printed (output.c). */
enum output_format {
	FORMAT_TEXT,	/* Celery's text; aligned and colored on a TTY */
	FORMAT_JSON,	/* -j: Celery's --json document */
	FORMAT_JSONL,	/* --jsonl: one object per reply, as it arrives */
	FORMAT_YAML,	/* --yaml: one mapping node -> reply (libyaml) */
};
enum output_sort {
	SORT_NAME,	/* the text sorted by node name, at the end */
	SORT_LATENCY,	/* ... fastest first */
	SORT_ARRIVAL,	/* each reply printed as it arrives (Celery) */
};
enum output_display {
	DISPLAY_ALL,
	DISPLAY_OK,	/* only the replies that are not errors */
	DISPLAY_FAILED,	/* only errors (and the missing, in the summary) */
	DISPLAY_NONE,	/* the count line and summary only */
};
enum output_color {
	COLOR_AUTO,	/* on a TTY unless NO_COLOR or TERM=dumb */
	COLOR_ALWAYS,
	COLOR_NEVER,
};

/* Long-only global options: values beyond any option character. */
#define OPT_JSONL	256
#define OPT_YAML	257
#define OPT_SUMMARY	258
#define OPT_COLOR	259
#define OPT_SORT	260
#define OPT_DISPLAY	261
#define OPT_VERIFY	262

/* What ends a wait of rconn early: a flag set by a signal handler. */
struct rconn_intr {
	volatile sig_atomic_t	*flag;	/* nonzero: stop waiting */
	const sigset_t		*mask;	/* signal mask while in ppoll() */
};

/* Where calls go: the broker and the names of one mailbox (ctl_setup()). */
struct mailbox {
	struct redis_url	 url;
	char			 redacted[512];	/* URL without password */
	const char		*ns;
	struct names		 names;
	enum mailbox_type	 type;
	struct rconn_intr	 intr;
	const char		*key_file;	/* signs requests; NULL: none */
	const char		*key_from;	/* "-i" or "PIDBOX_KEY_FILE" */
	struct trust		*trust;		/* checks replies; NULL: none */
	int			 verify;	/* marks shown (trust or --verify) */
	int			 verify_required; /* unverified is an error */
};

/* Global state of one invocation. */
struct ctl {
	const char		*broker;	/* as given; may hold one */
	const char		*conf_file;	/* -c: broker, ns, type */
	const char		*app;		/* -A: Celery's, never imported */
	const char		*broker_from;	/* where the broker came from */
	int			 type_set;	/* -T given */
	struct mailbox		 mbox;
	const char		*ns;
	int			 json;		/* stdout is machine-readable */
	enum output_format	 format;	/* --json, --jsonl, --yaml */
	enum output_color	 color;		/* --color */
	enum output_sort	 sort;		/* --sort */
	enum output_display	 display;	/* --display */
	int			 summary;	/* --summary */
	int			 names_only;	/* nodes --names */
	int			 verbose;
	const char		*key_file;	/* -i, else PIDBOX_KEY_FILE */
	const char		*key_from;	/* which, for messages */
	int			 verify_required; /* --verify required */
	int			 verify_set;	/* --verify given */
};

/* One Redis command for rconn_run(): binary-safe arguments. */
struct rcmd {
	int		 argc;
	const char	*argv[RCMD_MAXARGS];
	size_t		 argvlen[RCMD_MAXARGS];
};

/* Results of rconn_run(). */
#define RCONN_OK	 0
#define RCONN_ERR	-1	/* I/O or protocol error, rc->err says why */
#define RCONN_TIMEOUT	-2	/* the deadline passed */
#define RCONN_INTR	-3	/* SIGINT/SIGTERM arrived */

/* rconn_open() flags */
#define RCONN_LAZY	0x01	/* PING with the first rconn_run() */

/* A hiredis context driven by our own ppoll() loop. */
struct rconn {
	redisContext		*c;
	struct tls		*tls;	/* rediss://: bytes go through it */
	int			 dirty;	/* replies outstanding: unusable */
	size_t			 ahead;	/* of them, rconn_next() reads */
	int			 ping_due; /* RCONN_LAZY: PING not answered */
	int			 dead;	/* the failure was that PING's */
	double			 ping_secs;	/* its timeout */
	int64_t			 ping_deadline;
	struct rconn_intr	 intr;
	char			 err[384];
};

/* Global options, also accepted after the command name. */
#define GLOBAL_OPTSTRING "A:b:c:i:N:T:jvVh"
#define GLOBAL_LONGOPTS							\
	{ "app",	required_argument,	NULL,	'A' },		\
	{ "broker",	required_argument,	NULL,	'b' },		\
	{ "config",	required_argument,	NULL,	'c' },		\
	{ "identity-file", required_argument,	NULL,	'i' },		\
	{ "verify",	required_argument,	NULL,	OPT_VERIFY },	\
	{ "namespace",	required_argument,	NULL,	'N' },		\
	{ "type",	required_argument,	NULL,	'T' },		\
	{ "json",	no_argument,		NULL,	'j' },		\
	{ "jsonl",	no_argument,		NULL,	OPT_JSONL },	\
	{ "yaml",	no_argument,		NULL,	OPT_YAML },	\
	{ "summary",	no_argument,		NULL,	OPT_SUMMARY },	\
	{ "color",	required_argument,	NULL,	OPT_COLOR },	\
	{ "sort",	required_argument,	NULL,	OPT_SORT },	\
	{ "display",	required_argument,	NULL,	OPT_DISPLAY },	\
	{ "verbose",	no_argument,		NULL,	'v' },		\
	{ "version",	no_argument,		NULL,	'V' },		\
	{ "help",	no_argument,		NULL,	'h' }

/* How replies are printed (output.c), chosen by the command. */
enum call_style {
	STYLE_INSPECT,	/* celery inspect: count line, --json {node: reply} */
	STYLE_CONTROL,	/* celery control: no count, --json [{node: reply}] */
	STYLE_STATUS,	/* celery status: "->  node: OK" lines and count */
	STYLE_NODES,	/* pidboxctl nodes: stats replies as a table */
	STYLE_DESCRIBE,	/* pidboxctl describe: a table of methods */
};

/*
 * The Mailbox call (mailbox.c). mailbox_call() sends one request and
 * collects the replies into a struct mailbox_result, telling the caller
 * of each event through a callback as it happens; it never prints and
 * never exits (except out of memory).
 */

/* What to send and whom to ask. */
struct mailbox_request {
	const char	 *method;
	json_object	 *arguments;	/* borrowed */
	const char	**destination;	/* -d: only these nodes */
	size_t		  ndestination;
	const char	 *pattern;	/* -p, with matcher */
	const char	 *matcher;
	int		  reply;	/* collect replies; else a cast */
	double		  timeout;	/* seconds of collection */
	long long	  limit;	/* stop after this many (0: none) */
	int		  tick_ms;	/* > 0: a TICK event this often */
	const char	 *filter;	/* -F/-S as text: x-pidbox-filter */
	int		  record;	/* x-pidbox-record: replies recorded */
	json_object	 *bound;	/* borrowed: bound, read already */
};

/* Who should have replied: names, or only a count (-1: unknown). */
struct expect {
	long long	  count;
	const char	**names;	/* borrowed; NULL: count only */
	size_t		  nnames;
	const char	 *source;	/* where count comes from, for humans */
};

enum mailbox_status {
	MAILBOX_OK,		/* sent; the replies collected if asked */
	MAILBOX_NO_LISTENER,	/* nobody listens: nothing was waited for */
	MAILBOX_INTERRUPTED,	/* a signal (intr flag) stopped the call */
	MAILBOX_EREQUEST,	/* the request cannot be sent as asked */
	MAILBOX_ESIGN,		/* PIDBOX_KEY_FILE or the identity unusable */
	MAILBOX_ECRYPTO,	/* the signature cannot be computed */
	MAILBOX_EBROKER,	/* the broker failed or did not answer */
};

/*
 * What one call came to. expect.names and missing borrow from the
 * request, errors from replies: free with mailbox_result_free() before
 * the request.
 */
struct mailbox_result {
	enum mailbox_status	  status;
	char			 *error;	/* why, unless OK/INTERRUPTED */
	char			 *cleanup_error; /* reply queue maybe left */
	int			  collected;	/* collection ran to its end */
	long long		  receivers;	/* Redis's count at publish */
	struct expect		  expect;	/* who should reply */
	long long		  expected;	/* replies that end it */
	int			  trusted;	/* ... when trusted */
	int64_t			  t0;		/* publish, ctl_now_us() */
	json_object		 *replies;	/* {node: first reply} */
	json_object		 *latency;	/* {node: ms} */
	json_object		 *trust;	/* {node: "verified"...} */
	json_object		 *trust_why;	/* {node: why that mark} */
	long long		  nverified;	/* replies kept, by mark */
	long long		  nunverified;
	long long		  nforged;
	int			  verify_required; /* unverified: error */
	long long		  ncounted;	/* counted toward expected */
	long long		  nbad;		/* malformed: skipped */
	long long		  ndup;		/* a node's later replies */
	json_object		 *twinset;	/* {node: null} replied twice */
	const char		**twins;	/* its names, sorted */
	size_t			  ntwins;
	const char		**errors;	/* replied with an error */
	size_t			  nerrors;
	const char		**missing;	/* named (-d) but silent */
	size_t			  nmissing;
	const char		**unsub;	/* silent, not subscribed */
	size_t			  nunsub;
	long long		  nunreached;	/* of missing: not reached */
	long long		  nextra;	/* unnamed receivers, silent */
	long long		  nsilent;	/* expected but silent */
	long long		  nover;	/* beyond --limit: dropped */
	json_object		 *bound;	/* {node: null} bound; NULL: unknown */
	json_object		 *expset;	/* {node: null} expected names */
	const char		**expnames;	/* expect.names when not -d */
	long long		  nnamed;	/* replies from expected names */
	char			  ticket[UUID_STRLEN + 1]; /* request id */
};

enum mailbox_event_type {
	MAILBOX_EV_PUBLISHED,	/* the request went out (res->receivers) */
	MAILBOX_EV_COLLECT,	/* collection starts (res->expect...) */
	MAILBOX_EV_REPLY,	/* a node's first reply */
	MAILBOX_EV_DUPLICATE,	/* a later reply with a name heard already */
	MAILBOX_EV_MALFORMED,	/* a reply skipped: why */
	MAILBOX_EV_FOREIGN,	/* a reply to another call: ignored */
	MAILBOX_EV_TICK,	/* a wait ended (req->tick_ms) */
};

struct mailbox_event {
	enum mailbox_event_type		 type;
	const struct mailbox_request	*req;
	const struct mailbox_result	*res;	/* as far as known */
	const char			*node;	/* REPLY, DUPLICATE */
	json_object			*value;	/* borrowed; NULL: null */
	double				 latency_ms;
	int				 counted; /* REPLY: toward expected */
	const char			*why;	/* MALFORMED */
	const char			*mark;	/* REPLY, DUPLICATE: trust_name() */
	const char			*mark_why;	/* why that mark */
};

typedef void	 mailbox_cb(const struct mailbox_event *, void *);

/*
 * The command table (cmd.c) and what the generic parser (args.c) makes
 * of a command line: tmux's cmd_entry, with Celery's argument types.
 */

/* The options a command takes beside the global ones (args.c). */
enum cmd_opts {
	OPTS_CALL,	/* -r -t -l -d -p -m: broadcast, ping */
	OPTS_DESCRIBE,	/* -t -d */
	OPTS_GC,	/* -n -g -i */
	OPTS_NODES,	/* -t -d -p -m */
	OPTS_CELERY,	/* -t -d -p -m -y --terminate --signal */
	OPTS_KEYGEN,	/* -f -C */
	OPTS_INVENTORY,	/* -F -S */
	OPTS_RESULT,	/* -t --wait */
	OPTS_JOBS,	/* -l */
	OPTS_NONE,	/* the global options only */
};

/* What the words after the options are. */
enum cmd_words {
	WORDS_NONE,	/* none: a word is a usage error */
	WORDS_KV,	/* key=value arguments */
	WORDS_CELERY,	/* Celery's positional arguments (args, variadic) */
};

/* Celery's argument types (celery/worker/control.py). */
enum arg_kind {
	ARG_STR,
	ARG_INT,
	ARG_FLOAT,
	ARG_BOOL,	/* Celery's strtobool */
};

struct cmd_arg {
	const char	*name;
	enum arg_kind	 kind;
	int		 required;	/* we insist, Celery's CLI does not */
};

#define CMD_MAXARGS	4

/* The argument template of a command. */
struct cmd_template {
	enum cmd_opts	 opts;
	enum cmd_words	 words;
	int		 maxkv;		/* WORDS_KV: at most (-1: any) */
	struct cmd_arg	 args[CMD_MAXARGS]; /* WORDS_CELERY, in order */
	const char	*variadic;	/* WORDS_CELERY: the other words */
};

struct cmd_args;

/* A row of the command table (tmux cmd_entry style). */
struct cmd_entry {
	const char		*name;
	const char		*alias;
	const char		*usage;
	const char		*method;	/* on the wire */
	enum call_style		 style;
	struct cmd_template	 args;
	int			 flags;
#define CMD_METHOD_WORD	0x01	/* the first word is the method */
#define CMD_REPLY	0x02	/* replies are asked for without -r */
#define CMD_CONFIRM	0x04	/* -y: no question on a terminal */
#define CMD_REVOKE	0x08	/* --terminate, --signal */
#define CMD_VARIADIC_REQUIRED 0x10 /* at least one word for variadic */
#define CMD_FAMILY	0x20	/* inspect/control X: X names the row */
#define CMD_HIDDEN	0x40	/* only as inspect X; not in usage */
#define CMD_LOCAL	0x80	/* no broker: keygen, certify */
#define CMD_VARIADIC_KV	0x100	/* each variadic word is key=value */
#define CMD_OWN		0x200	/* pidbox's own, with Celery-style words */
	int			(*exec)(struct ctl *, struct cmd_args *);
};

/* gc's options. */
struct gc_opts {
	long long	 idle;
	long long	 grace;
	int		 dry_run;
};

/* keygen's options. */
struct keygen_opts {
	const char	*file;		/* -f */
	const char	*identity;	/* -C */
};

/* A command line parsed against its row (args_parse()). */
struct cmd_args {
	const struct cmd_entry	*cmd;
	struct mailbox_request	 req;
	struct gc_opts		 gc;
	int			 timeout_set;	/* -t given */
	struct keygen_opts	 keygen;
	int			 yes;		/* -y */
	int			 terminate;	/* --terminate */
	const char		*signal;	/* --signal */
	int			 names;		/* nodes --names */
	struct filter		*filter;	/* -F and -S, ANDed */
	int			 async;		/* --async */
	int			 record;	/* --record */
	long long		 batch;		/* --batch N (0: none) */
	int			 batch_pct;	/* ... N% */
	double			 batch_sleep;	/* --batch-sleep */
	long long		 canary;	/* --canary N */
	int			 stop_on_error;	/* --stop-on-error */
	int			 wait;		/* result --wait */
};

/* Results of args_global() and args_parse(). */
#define ARGS_OK		 0
#define ARGS_ERROR	-1	/* e->msg and/or e->usage; exit 64 */
#define ARGS_HELP	-2	/* -h */
#define ARGS_VERSION	-3	/* -V */
#define ARGS_NOTGLOBAL	-4	/* args_global(): not a global option */

/* A usage mistake: the message (may be NULL), then maybe the usage. */
struct args_error {
	char	*msg;
	int	 usage;
};

/* ctl.c */
extern volatile sig_atomic_t ctl_signal;
struct rconn_intr ctl_signals_init(void);
_Noreturn void	 ctl_exit(int);
int64_t	 ctl_now_us(void);
void	 ctl_debug(const struct ctl *, const char *, ...)
	    __printflike(2, 3);
char	*ctl_escape(const char *);

/* The global options as usage() and cmd_usage() print them. */
#define GLOBAL_USAGE "[-jVvh] [--jsonl|--yaml] [--summary] [--color=when] " \
    "[--sort=by] [--display=which] [-A app] [-b url] [-c file] "	\
    "[-i keyfile] [--verify=optional|required] [-N namespace] "		\
    "[-T fanout|direct|topic]"
/* ctl.c: a command's usage line on stderr, then exit 64. */
_Noreturn void	 cmd_usage(const struct cmd_entry *);

/* pidboxctl.c */
_Noreturn void	 usage(void);

/* cmd.c */
extern const struct cmd_entry cmd_table[];
const struct cmd_entry *cmd_find(const char *);
/* A Celery verb (shown as such, and as inspect X / control X). */
int	 cmd_is_celery(const struct cmd_entry *);
const struct cmd_entry *cmd_find_family(const struct cmd_entry *,
	    const char *);
const struct cmd_entry *cmd_suggest(const char *);

/* args.c */
int	 args_global(struct ctl *, int, const char *, struct args_error *);
int	 args_parse(struct ctl *, const struct cmd_entry *, int, char **,
	    struct cmd_args *, struct args_error *);
void	 args_free(struct cmd_args *);
void	 args_help(FILE *, const struct cmd_entry *);
void	 args_error_free(struct args_error *);

/* call.c */
int	 call_exec(struct ctl *, struct cmd_args *);
/* status.c: the exit code a result maps to. */
int	 call_status(const struct mailbox_result *);

/* celery.c: Celery's control shutdown. */
int	 celery_shutdown_exec(struct ctl *, struct cmd_args *);

/* rconn.c */
int	 rconn_connect(struct rconn *, const struct redis_url *, double,
	    const struct rconn_intr *);
int	 rconn_open(struct rconn *, const struct redis_url *, double,
	    const struct rconn_intr *, int);
int	 rconn_sleep(const struct rconn *, int64_t);
int	 rconn_run(struct rconn *, int64_t, int, size_t, const struct rcmd *,
	    redisReply **);
int	 rconn_run_ahead(struct rconn *, int64_t, int, size_t,
	    const struct rcmd *, redisReply **, size_t);
int	 rconn_next(struct rconn *, int64_t, int, redisReply **);
void	 rconn_close(struct rconn *);
void	 rcmd_init(struct rcmd *, const char *);
void	 rcmd_add(struct rcmd *, const char *, size_t);
void	 rcmd_adds(struct rcmd *, const char *);
void	 replies_free(redisReply **, size_t);
int64_t	 deadline_in(double);

/* mailbox.c */
void	 mailbox_call(const struct mailbox *, const struct mailbox_request *,
	    mailbox_cb *, void *, struct mailbox_result *);
void	 mailbox_result_free(struct mailbox_result *);
void	 mailbox_where(const struct mailbox *, char *, size_t);
/* The node of a binding of mb's node binding set; -1 when none. */
int	 mailbox_bound_name(const struct mailbox *, const struct binding *,
	    char *, size_t);

/* fleet.c: inventory, targeting by labels and facts, jobs and results. */
struct fleet {
	json_object	*nodes;		/* {name: {status, kind, ...}} */
	json_object	*bound;		/* {name: null}: the binding set */
	size_t		 ninvalid;	/* entries not as pidboxd writes them */
	char		 invalid[512];	/* the first, and why */
};
int	 fleet_read(struct ctl *, struct fleet *);
void	 fleet_free(struct fleet *);
int	 fleet_target(struct ctl *, struct cmd_args *, struct fleet *);
void	 fleet_expect_live(struct fleet *, struct mailbox_result *);
void	 fleet_job_record(struct ctl *, const struct cmd_args *,
	    const struct mailbox_result *);
int	 inventory_exec(struct ctl *, struct cmd_args *);
int	 result_exec(struct ctl *, struct cmd_args *);
int	 jobs_exec(struct ctl *, struct cmd_args *);

/* batch.c: --batch, --canary (the target set split, in order). */
int	 batch_exec(struct ctl *, struct cmd_args *, struct fleet *);

/* gc.c */
int	 gc_exec(struct ctl *, struct cmd_args *);

/* output.c */
void	 output_init(struct ctl *, enum call_style);
int	 output_tick_ms(void);
void	 output_event(const struct mailbox_event *, void *);
void	 output_result(struct ctl *, const struct mailbox_request *,
	    const struct mailbox_result *);
void	 output_shutdown(struct ctl *, const struct mailbox_request *,
	    const struct mailbox_result *);
void	 output_node_map(struct ctl *, json_object *);
void	 output_progress_clear(void);

/* sign.c: x-pidbox-* signature headers with a key file (-i). */
#define SIGN_ECONFIG	-1
#define SIGN_ECRYPTO	-2
int	 sign_request(const char *, const char *, const char *, json_object *,
	    const char *, size_t, double, char **);

/* keys.c: keygen and certify. */
int	 keygen_exec(struct ctl *, struct cmd_args *);
int	 certify_exec(struct ctl *, struct cmd_args *);

/* trust.c: is a reply from the node it names? */
enum trust_mark {
	TRUST_UNVERIFIED,	/* unsigned, or no trust anchor for its key */
	TRUST_VERIFIED,		/* signed by a certified or pinned key */
	TRUST_FORGED,		/* a signature that fails, a changed key */
};
struct trust;
/* NULL with *msg NULL: no trust anchor configured (nothing checked). */
struct trust *trust_load(char **);
enum trust_mark trust_check(struct trust *, const struct envelope *,
	    const char *, const char *, const char **);
const char *trust_name(enum trust_mark);

/* verscmp.c: strverscmp()'s order, without walking shared prefixes. */
int	 verscmp(const char *, const char *);

/* describe.c: the table of pidboxctl describe. */
void	 describe_table(json_object *);

/* nodes.c: the table of pidboxctl nodes. */
json_object *nodes_build(json_object *, json_object *, const struct expect *);
void	 nodes_table(json_object *, int);
json_object *nodes_line(const char *, json_object *);

#endif /* PIDBOXCTL_H */
