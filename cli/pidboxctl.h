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

/* Global state of one invocation. */
struct ctl {
	const char		*broker;	/* as given; may hold a password */
	struct redis_url	 url;
	char			 redacted[512];	/* URL without password */
	struct names		 names;
	const char		*ns;
	enum mailbox_type	 type;
	int			 json;
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
	redisContext	*c;
	int		 dirty;		/* replies outstanding: unusable */
	char		 err[256];
};

/* One decoded reply handed to the output. */
struct ctl_reply {
	const char	*node;		/* borrowed from root */
	json_object	*value;		/* borrowed; NULL for JSON null */
};

/* Global options, also accepted after the command name. */
#define GLOBAL_OPTSTRING "b:N:T:jvVh"
#define GLOBAL_LONGOPTS							\
	{ "broker",	required_argument,	NULL,	'b' },		\
	{ "namespace",	required_argument,	NULL,	'N' },		\
	{ "type",	required_argument,	NULL,	'T' },		\
	{ "json",	no_argument,		NULL,	'j' },		\
	{ "verbose",	no_argument,		NULL,	'v' },		\
	{ "version",	no_argument,		NULL,	'V' },		\
	{ "help",	no_argument,		NULL,	'h' }

/* pidboxctl.c */
extern volatile sig_atomic_t ctl_signal;
extern sigset_t	 ctl_waitmask;	/* mask to use while waiting (ppoll) */
_Noreturn void	 usage(void);
_Noreturn void	 cmd_usage(const struct cmd_entry *);
int	 ctl_global_opt(struct ctl *, int, const struct cmd_entry *);
void	 ctl_setup(struct ctl *);
_Noreturn void	 ctl_exit(int);
int	 ctl_sleep(int64_t);
void	 ctl_debug(const struct ctl *, const char *, ...)
	    __printflike(2, 3);

/* cmd.c */
extern const struct cmd_entry cmd_table[];
const struct cmd_entry *cmd_find(const char *);

/* rconn.c */
int	 rconn_connect(struct rconn *, const struct redis_url *, double);
int	 rconn_run(struct rconn *, int64_t, int, size_t, const struct rcmd *,
	    redisReply **);
void	 rconn_close(struct rconn *);
void	 rcmd_init(struct rcmd *, const char *);
void	 rcmd_add(struct rcmd *, const char *, size_t);
void	 rcmd_adds(struct rcmd *, const char *);
void	 replies_free(redisReply **, size_t);
int64_t	 deadline_in(double);

/* mailbox.c */
struct call {
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
void	 output_init(struct ctl *);
void	 output_reply(struct ctl *, const struct ctl_reply *);
int	 output_end(struct ctl *);
void	 output_free(void);

#endif /* PIDBOXCTL_H */
