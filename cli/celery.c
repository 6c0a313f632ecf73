/*
 * Celery's remote-control commands (celery inspect X / celery control X):
 * each row names the worker method, its positional arguments with
 * Celery's names and types (celery/worker/control.py, 5.2), and the
 * variadic argument that takes the remaining words, so that
 * `pidboxctl rate_limit tasks.add 10/m` sends exactly what
 * `celery control rate_limit tasks.add 10/m` sends (spec 5.2, 5.3).
 */
#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define MAX_ARG_LEN	4096	/* bytes of one string argument */
#define MAX_SIGNAL_LEN	16

enum arg_kind {
	A_STR,
	A_INT,
	A_FLOAT,
	A_BOOL,		/* Celery's strtobool */
};

struct celery_arg {
	const char	*name;
	enum arg_kind	 kind;
	int		 required;	/* we insist, Celery's CLI does not */
};

struct celery_cmd {
	const char		*name;		/* our command */
	const char		*method;	/* on the wire */
	enum call_style		 style;
	struct celery_arg	 args[4];	/* positional, in order */
	const char		*variadic;	/* takes the other words */
	int			 flags;
#define C_VARIADIC_REQUIRED	0x01	/* at least one word for variadic */
#define C_REVOKE		0x02	/* --terminate, --signal */
#define C_CONFIRM		0x04	/* shutdown: asks on a TTY, --yes */
#define C_CAST			0x08	/* no reply comes (shutdown) */
};

#define I STYLE_INSPECT
#define C STYLE_CONTROL
#define NOARGS { { .name = NULL } }

/* clang-format off */
static const struct celery_cmd celery_cmds[] = {
	{ "active",		"active",	I, NOARGS, NULL, 0 },
	{ "active_queues",	"active_queues", I, NOARGS, NULL, 0 },
	{ "clock",		"clock",	I, NOARGS, NULL, 0 },
	{ "conf",		"conf",		I,
	  { { "with_defaults", A_BOOL, 0 } }, NULL, 0 },
	{ "ping",		"ping",		I, NOARGS, NULL, 0 },
	{ "query_task",		"query_task",	I, NOARGS, "ids",
	  C_VARIADIC_REQUIRED },
	{ "registered",		"registered",	I, NOARGS,
	  "taskinfoitems", 0 },
	{ "report",		"report",	I, NOARGS, NULL, 0 },
	{ "reserved",		"reserved",	I, NOARGS, NULL, 0 },
	{ "revoked",		"revoked",	I, NOARGS, NULL, 0 },
	{ "scheduled",		"scheduled",	I, NOARGS, NULL, 0 },
	{ "stats",		"stats",	I, NOARGS, NULL, 0 },
	{ "status",		"ping",		STYLE_STATUS, NOARGS, NULL,
	  0 },

	{ "add_consumer",	"add_consumer",	C,
	  { { "queue", A_STR, 1 }, { "exchange", A_STR, 0 },
	    { "exchange_type", A_STR, 0 }, { "routing_key", A_STR, 0 } },
	  NULL, 0 },
	{ "autoscale",		"autoscale",	C,
	  { { "max", A_INT, 0 }, { "min", A_INT, 0 } }, NULL, 0 },
	{ "cancel_consumer",	"cancel_consumer", C,
	  { { "queue", A_STR, 1 } }, NULL, 0 },
	{ "disable_events",	"disable_events", C, NOARGS, NULL, 0 },
	{ "enable_events",	"enable_events", C, NOARGS, NULL, 0 },
	{ "pool_grow",		"pool_grow",	C, { { "n", A_INT, 0 } }, NULL,
	  0 },
	{ "pool_shrink",	"pool_shrink",	C, { { "n", A_INT, 0 } }, NULL,
	  0 },
	{ "rate_limit",		"rate_limit",	C,
	  { { "task_name", A_STR, 1 }, { "rate_limit", A_STR, 1 } }, NULL, 0 },
	{ "revoke",		"revoke",	C, NOARGS, "task_id",
	  C_VARIADIC_REQUIRED | C_REVOKE },
	{ "shutdown",		"shutdown",	C, NOARGS, NULL,
	  C_CONFIRM | C_CAST },
	{ "time_limit",		"time_limit",	C,
	  { { "task_name", A_STR, 1 }, { "soft", A_FLOAT, 1 },
	    { "hard", A_FLOAT, 0 } }, NULL, 0 },
};
/* clang-format on */

#undef I
#undef C
#undef NOARGS

static const struct celery_cmd *
celery_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(celery_cmds); i++)
		if (strcmp(celery_cmds[i].name, name) == 0)
			return &celery_cmds[i];
	return NULL;
}

/* Celery's strtobool (celery.utils.serialization). */
static int
parse_bool(const char *s, int *v)
{
	static const char *const yes[] = { "true", "yes", "1", "on" };
	static const char *const no[] = { "false", "no", "0", "off" };
	size_t			 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

/* One positional word converted to the argument's type. */
static json_object *
convert(const struct celery_cmd *cc, const struct celery_arg *a,
    const char *word)
{
	json_object	*v;
	const char	*errstr;
	char		*end;
	double		 d;
	long long	 n;
	int		 b;

	if (strlen(word) > MAX_ARG_LEN)
		errx(EX_USAGE, "%s: %s: longer than %d bytes", cc->name,
		    a->name, MAX_ARG_LEN);
	switch (a->kind) {
	case A_INT:
		n = strtonum(word, INT_MIN, INT_MAX, &errstr);
		if (errstr != NULL)
			errx(EX_USAGE, "%s: %s %s: %s", cc->name, a->name,
			    log_viss(word), errstr);
		v = json_object_new_int64(n);
		break;
	case A_FLOAT:
		errno = 0;
		d = strtod(word, &end);
		if (word[0] == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d))
			errx(EX_USAGE, "%s: %s %s: not a number", cc->name,
			    a->name, log_viss(word));
		v = json_object_new_double(d);
		break;
	case A_BOOL:
		if (parse_bool(word, &b) == -1)
			errx(EX_USAGE, "%s: %s %s: not a boolean (true/false, "
			    "yes/no, 1/0, on/off)", cc->name, a->name,
			    log_viss(word));
		v = json_object_new_boolean(b);
		break;
	default:
		v = json_object_new_string(word);
		break;
	}
	if (v == NULL)
		err(EX_OSERR, NULL);
	return v;
}

/*
 * Celery's _compile_arguments(): positional words fill args in order,
 * the rest go to the variadic argument as a list (always sent, maybe
 * empty, as the CLI does); too many words without a variadic is a usage
 * error, and unlike Celery a missing required argument is one too.
 */
static json_object *
compile_arguments(const struct celery_cmd *cc, const struct cmd_entry *cmd,
    int argc, char **argv)
{
	json_object	*args, *list;
	size_t		 i, nargs;
	int		 w = 0;

	if ((args = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	for (nargs = 0; nargs < nitems(cc->args) && cc->args[nargs].name !=
	    NULL; nargs++)
		;
	for (i = 0; i < nargs; i++) {
		if (w >= argc) {
			if (cc->args[i].required) {
				warnx("%s: missing argument %s", cc->name,
				    cc->args[i].name);
				cmd_usage(cmd);
			}
			break;
		}
		json_object_object_add(args, cc->args[i].name,
		    convert(cc, &cc->args[i], argv[w++]));
	}
	if (cc->variadic != NULL) {
		if ((list = json_object_new_array()) == NULL)
			err(EX_OSERR, NULL);
		for (; w < argc; w++) {
			if (strlen(argv[w]) > MAX_ARG_LEN)
				errx(EX_USAGE, "%s: %s: longer than %d bytes",
				    cc->name, cc->variadic, MAX_ARG_LEN);
			json_object_array_add(list,
			    json_object_new_string(argv[w]));
		}
		if (json_object_array_length(list) == 0 &&
		    (cc->flags & C_VARIADIC_REQUIRED)) {
			warnx("%s: needs at least one argument (%s)",
			    cc->name, cc->variadic);
			cmd_usage(cmd);
		}
		json_object_object_add(args, cc->variadic, list);
	} else if (w < argc) {
		warnx("%s: too many arguments", cc->name);
		cmd_usage(cmd);
	}
	return args;
}

/* Celery accepts a signal as a number or a name, with or without SIG. */
static void
check_signal(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > MAX_SIGNAL_LEN)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			goto bad;
	return;
bad:
	errx(EX_USAGE, "--signal %s: a signal name (TERM, SIGKILL...) or "
	    "number", log_viss(s));
}

/* Ask on the terminal; 1 when the answer is yes. */
static int
confirm(const struct ctl *ctl, const struct call *call)
{
	char	line[64];
	size_t	i;

	fprintf(stderr, "%s: shut down ", getprogname());
	if (call->ndestination > 0) {
		for (i = 0; i < call->ndestination; i++)
			fprintf(stderr, "%s%s", i > 0 ? ", " : "",
			    log_viss(call->destination[i]));
	} else if (call->pattern != NULL)
		fprintf(stderr, "the nodes matching %s",
		    log_viss(call->pattern));
	else
		fprintf(stderr, "every node");
	fprintf(stderr, " of mailbox %s on %s? [y/N] ",
	    log_viss(ctl->mbox.names.exchange), ctl->mbox.redacted);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/*
 * shutdown: a Celery worker exits without replying (spec 3.4), so send
 * it as a cast and report how many receivers Redis counted.
 */
static int
shutdown_exec(struct ctl *ctl, struct call *call)
{
	FILE	*f = ctl->json ? stderr : stdout;
	int	 rv;

	call->reply = 0;
	rv = mailbox_broadcast(ctl, call);
	if (rv != 0)
		return rv;
	if (ctl->receivers == 0) {
		fprintf(stderr, "Error: no node is listening on mailbox %s\n",
		    log_viss(ctl->mbox.names.exchange));
		return EX_UNAVAILABLE;
	}
	fprintf(f, "shutdown sent to mailbox %s: %lld %s (%s)\n",
	    ctl->mbox.names.exchange, ctl->receivers,
	    ctl->mbox.type == MAILBOX_FANOUT ? "subscriber(s) received it" :
	    "queue(s) got it", call->ndestination > 0 ||
	    call->pattern != NULL ? "only the addressed nodes act on it" :
	    "every node acts on it");
	return 0;
}

/* Run one Celery command: argv[0] is its name (or inspect/control). */
int
celery_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "timeout",	 required_argument,	NULL,	't' },
		{ "destination", required_argument,	NULL,	'd' },
		{ "pattern",	 required_argument,	NULL,	'p' },
		{ "matcher",	 required_argument,	NULL,	'm' },
		{ "yes",	 no_argument,		NULL,	'y' },
		{ "terminate",	 no_argument,		NULL,	1001 },
		{ "signal",	 required_argument,	NULL,	1002 },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*cmd, *sub;
	const struct celery_cmd	*cc;
	struct call		 call;
	const char		*sig = NULL, *family = NULL;
	int			 ch, yes = 0, terminate = 0, rv;

	cmd = cmd_find(argv[0]);
	if (strcmp(cmd->name, "inspect") == 0 ||
	    strcmp(cmd->name, "control") == 0) {
		family = cmd->name;
		if (argc < 2 || argv[1][0] == '-')
			cmd_usage(cmd);
		argc--;
		argv++;
		/* by name, or by alias (dump_tasks...) */
		if ((cc = celery_find(argv[0])) == NULL &&
		    (sub = cmd_find(argv[0])) != NULL &&
		    sub->exec == celery_exec)
			cc = celery_find(sub->name);
		if (cc == NULL || cc->style == STYLE_STATUS ||
		    (cc->style == STYLE_CONTROL) !=
		    (strcmp(family, "control") == 0))
			errx(EX_USAGE, "%s: no such %s command: %s", family,
			    family, log_viss(argv[0]));
		else if ((sub = cmd_find(cc->name)) != NULL)
			cmd = sub;
	} else
		cc = celery_find(cmd->name);
	if (cc == NULL)		/* a cmd_table row without a celery_cmds row */
		errx(EX_SOFTWARE, "%s: not a Celery command", cmd->name);

	memset(&call, 0, sizeof(call));
	call.style = cc->style;
	call.method = cc->method;
	call.reply = 1;
	call.timeout = DEFAULT_TIMEOUT;
	optind = 0;
	while ((ch = getopt_long(argc, argv, GLOBAL_OPTSTRING "t:d:p:m:y",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'y':
			if (!(cc->flags & C_CONFIRM))
				cmd_usage(cmd);
			yes = 1;
			break;
		case 1001:
			if (!(cc->flags & C_REVOKE))
				cmd_usage(cmd);
			terminate = 1;
			break;
		case 1002:
			if (!(cc->flags & C_REVOKE))
				cmd_usage(cmd);
			check_signal(optarg);
			sig = optarg;
			break;
		default:
			if (call_target_opt(&call, ch, optarg))
				break;
			if (!ctl_global_opt(ctl, ch, cmd))
				cmd_usage(cmd);
			break;
		}
	}
	argc -= optind;
	argv += optind;

	if (sig != NULL && !terminate)
		errx(EX_USAGE, "--signal needs --terminate");
	call_target_check(&call);

	call.arguments = compile_arguments(cc, cmd, argc, argv);
	if (terminate) {
		json_object_object_add(call.arguments, "terminate",
		    json_object_new_boolean(1));
		if (sig != NULL)
			json_object_object_add(call.arguments, "signal",
			    json_object_new_string(sig));
	}
	ctl_setup(ctl);

	if ((cc->flags & C_CONFIRM) && !yes && isatty(STDIN_FILENO) &&
	    !confirm(ctl, &call)) {
		fprintf(stderr, "%s: not confirmed, nothing sent\n",
		    getprogname());
		free_call(&call);
		return 1;
	}
	if (cc->flags & C_CAST)
		rv = shutdown_exec(ctl, &call);
	else
		rv = mailbox_broadcast(ctl, &call);
	free_call(&call);
	return rv;
}
