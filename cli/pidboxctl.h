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
#define CMD_TIMEOUT	5.0	/* seconds for one ordinary Redis command */
#define CLEANUP_TIMEOUT	3.0	/* seconds for the whole cleanup */
#define CLEANUP_SETTLE	50	/* ms between SREM and DEL after --limit */
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
};

/* Global state of one invocation. */
struct ctl {
	const char		*broker;	/* as given; may hold one */
	const char		*conf_file;	/* -c: broker, ns, type */
	int			 type_set;	/* -T given */
	long long		 receivers;	/* of the last request */
	struct mailbox		 mbox;
	const char		*ns;
	int			 json;		/* stdout is machine-readable */
	enum output_format	 format;	/* --json, --jsonl, --yaml */
	enum output_color	 color;		/* --color */
	int			 summary;	/* --summary */
	int			 verbose;
};

/* A row of the command table (tmux cmd_entry style). */
struct cmd_entry {
	const char	*name;
	const char	*alias;
	const char	*usage;
	int		(*exec)(struct ctl *, int, char **);
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

/* A hiredis context driven by our own ppoll() loop. */
struct rconn {
	redisContext		*c;
	int			 dirty;	/* replies outstanding: unusable */
	struct rconn_intr	 intr;
	char			 err[256];
};

/* One decoded reply handed to the output. */
struct ctl_reply {
	const char	*node;		/* borrowed from root */
	json_object	*value;		/* borrowed; NULL for JSON null */
	double		 latency_ms;	/* from publish to arrival */
};

/* Global options, also accepted after the command name. */
#define GLOBAL_OPTSTRING "b:c:N:T:jvVh"
#define GLOBAL_LONGOPTS							\
	{ "broker",	required_argument,	NULL,	'b' },		\
	{ "config",	required_argument,	NULL,	'c' },		\
	{ "namespace",	required_argument,	NULL,	'N' },		\
	{ "type",	required_argument,	NULL,	'T' },		\
	{ "json",	no_argument,		NULL,	'j' },		\
	{ "jsonl",	no_argument,		NULL,	OPT_JSONL },	\
	{ "yaml",	no_argument,		NULL,	OPT_YAML },	\
	{ "summary",	no_argument,		NULL,	OPT_SUMMARY },	\
	{ "color",	required_argument,	NULL,	OPT_COLOR },	\
	{ "verbose",	no_argument,		NULL,	'v' },		\
	{ "version",	no_argument,		NULL,	'V' },		\
	{ "help",	no_argument,		NULL,	'h' }

/* ctl.c */
extern volatile sig_atomic_t ctl_signal;
extern sigset_t	 ctl_waitmask;	/* mask to use while waiting (ppoll) */
struct rconn_intr ctl_signals_init(void);
_Noreturn void	 ctl_exit(int);
int64_t	 ctl_now_us(void);
void	 ctl_debug(const struct ctl *, const char *, ...)
	    __printflike(2, 3);

/* pidboxctl.c */
_Noreturn void	 usage(void);
_Noreturn void	 cmd_usage(const struct cmd_entry *);
int	 ctl_global_opt(struct ctl *, int, const struct cmd_entry *);
void	 ctl_setup(struct ctl *);

/* cmd.c */
extern const struct cmd_entry cmd_table[];
const struct cmd_entry *cmd_find(const char *);
struct call;
double	 parse_secs(const char *, const char *);
void	 add_destinations(struct call *, const char *);
int	 call_target_opt(struct call *, int, const char *);
void	 call_target_check(struct call *);
void	 free_call(struct call *);

/* celery.c: Celery's inspect/control commands. */
int	 celery_exec(struct ctl *, int, char **);

/* rconn.c */
int	 rconn_connect(struct rconn *, const struct redis_url *, double,
	    const struct rconn_intr *);
int	 rconn_sleep(const struct rconn *, int64_t);
int	 rconn_run(struct rconn *, int64_t, int, size_t, const struct rcmd *,
	    redisReply **);
void	 rconn_close(struct rconn *);
void	 rcmd_init(struct rcmd *, const char *);
void	 rcmd_add(struct rcmd *, const char *, size_t);
void	 rcmd_adds(struct rcmd *, const char *);
void	 replies_free(redisReply **, size_t);
int64_t	 deadline_in(double);

/* mailbox.c */
enum call_style {
	STYLE_INSPECT,	/* celery inspect: count line, --json {node: reply} */
	STYLE_CONTROL,	/* celery control: no count, --json [{node: reply}] */
	STYLE_STATUS,	/* celery status: "->  node: OK" lines and count */
	STYLE_NODES,	/* pidboxctl nodes: stats replies as a table */
};
struct call {
	enum call_style	 style;
	const char	*method;
	json_object	*arguments;	/* borrowed */
	const char	**destination;
	size_t		 ndestination;
	const char	*pattern;
	const char	*matcher;
	int		 reply;
	double		 timeout;
	long long	 limit;
};
int	 mailbox_broadcast(struct ctl *, const struct call *);

/* gc.c */
struct gc_opts {
	long long	 idle;
	long long	 grace;
	int		 dry_run;
};
int	 gc_run(struct ctl *, const struct gc_opts *);

/* output.c */
/* Who should have replied: names, or only a count (-1: unknown). */
struct expect {
	long long	  count;
	const char	**names;	/* borrowed; NULL: count only */
	size_t		  nnames;
	const char	 *source;	/* where count comes from, for humans */
};
void	 output_init(struct ctl *, enum call_style);
void	 output_begin(struct ctl *, const char *, const struct expect *,
	    long long, int, double, int64_t);
int	 output_progress(void);
void	 output_tick(void);
void	 output_progress_end(void);
void	 output_yaml(json_object *);
int	 output_colored(void);
int	 output_reply(struct ctl *, const struct ctl_reply *);
int	 output_end(struct ctl *, const struct expect *, int *);
void	 output_free(void);

/* sign.c: x-pidbox-* signature headers when PIDBOX_KEY_FILE is set. */
void	 sign_request(const struct ctl *, json_object *, const char *, size_t,
	    double);

/* nodes.c */
int	 cmd_nodes_exec(struct ctl *, int, char **);
void	 nodes_print(struct ctl *, json_object *, json_object *,
	    const struct expect *);

/* describe.c */
int	 cmd_describe_exec(struct ctl *, int, char **);

#endif /* PIDBOXCTL_H */
