/*
 * The generic command-line parser: the global options, then a command's
 * options and words against its row's template (cmd.c) into a struct
 * cmd_args. Mistakes come back as a struct args_error for main to print
 * and exit 64 with, so that this file prints nothing, exits only out of
 * memory and can be tested on its own (tests/unit/t_cliargs.c).
 */
#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define MAX_ARG_LEN	4096	/* bytes of one Celery string argument */
#define MAX_SIGNAL_LEN	16

/* Long-only options of Celery's revoke. */
#define OPT_TERMINATE	1001
#define OPT_SIGNAL	1002
#define OPT_NAMES	1003
#define OPT_ASYNC	1004
#define OPT_RECORD	1005
#define OPT_BATCH	1006
#define OPT_BATCH_SLEEP	1007
#define OPT_CANARY	1008
#define OPT_STOP_ERROR	1009
#define OPT_WAIT	1010

/* The command options, each spelt once; a set lists them in order. */
#define LO_REPLY	{ "reply",	 no_argument,	    NULL, 'r' }
#define LO_TIMEOUT	{ "timeout",	 required_argument, NULL, 't' }
#define LO_LIMIT	{ "limit",	 required_argument, NULL, 'l' }
#define LO_DEST		{ "destination", required_argument, NULL, 'd' }
#define LO_PATTERN	{ "pattern",	 required_argument, NULL, 'p' }
#define LO_MATCHER	{ "matcher",	 required_argument, NULL, 'm' }
#define LO_END		{ NULL, 0, NULL, 0 }
/* Fleet operations (fleet.c): targeting, jobs, batches. */
#define LO_FLEET							\
	{ "fact",	 required_argument, NULL, 'F' },		\
	{ "select",	 required_argument, NULL, 'S' },		\
	{ "async",	 no_argument,	    NULL, OPT_ASYNC },		\
	{ "record",	 no_argument,	    NULL, OPT_RECORD },		\
	{ "batch",	 required_argument, NULL, OPT_BATCH },		\
	{ "batch-sleep", required_argument, NULL, OPT_BATCH_SLEEP },	\
	{ "canary",	 required_argument, NULL, OPT_CANARY },		\
	{ "stop-on-error", no_argument,	    NULL, OPT_STOP_ERROR }

static const struct option call_longopts[] = {
	GLOBAL_LONGOPTS, LO_REPLY, LO_TIMEOUT, LO_LIMIT, LO_DEST, LO_PATTERN,
	LO_MATCHER, LO_FLEET, LO_END
};
static const struct option inventory_longopts[] = {
	GLOBAL_LONGOPTS,
	{ "fact",	 required_argument, NULL, 'F' },
	{ "select",	 required_argument, NULL, 'S' },
	LO_END
};
static const struct option result_longopts[] = {
	GLOBAL_LONGOPTS, LO_TIMEOUT,
	{ "wait",	 no_argument,	    NULL, OPT_WAIT },
	LO_END
};
static const struct option jobs_longopts[] = {
	GLOBAL_LONGOPTS, LO_LIMIT, LO_END
};
static const struct option describe_longopts[] = {
	GLOBAL_LONGOPTS, LO_TIMEOUT, LO_DEST, LO_END
};
static const struct option gc_longopts[] = {
	GLOBAL_LONGOPTS,
	{ "dry-run",	no_argument,		NULL,	'n' },
	{ "grace",	required_argument,	NULL,	'g' },
	{ "idle",	required_argument,	NULL,	'i' },
	LO_END
};
static const struct option nodes_longopts[] = {
	GLOBAL_LONGOPTS, LO_TIMEOUT, LO_DEST, LO_PATTERN, LO_MATCHER,
	{ "fact",	 required_argument, NULL, 'F' },
	{ "select",	 required_argument, NULL, 'S' },
	{ "names",	no_argument,		NULL,	OPT_NAMES },
	LO_END
};
static const struct option celery_longopts[] = {
	GLOBAL_LONGOPTS, LO_TIMEOUT, LO_DEST, LO_PATTERN, LO_MATCHER,
	LO_FLEET,
	{ "yes",	 no_argument,		NULL,	'y' },
	{ "terminate",	 no_argument,		NULL,	OPT_TERMINATE },
	{ "signal",	 required_argument,	NULL,	OPT_SIGNAL },
	LO_END
};

static const struct option keygen_longopts[] = {
	GLOBAL_LONGOPTS,
	{ "file",	required_argument,	NULL,	'f' },
	{ "comment",	required_argument,	NULL,	'C' },
	LO_END
};
static const struct option none_longopts[] = { GLOBAL_LONGOPTS, LO_END };

/* The option sets, by enum cmd_opts. */
static const struct {
	const char		*optstring;
	const struct option	*longopts;
} optsets[] = {
	[OPTS_CALL] =	  { GLOBAL_OPTSTRING "rt:l:d:p:m:F:S:", call_longopts },
	[OPTS_DESCRIBE] = { GLOBAL_OPTSTRING "t:d:",	    describe_longopts },
	[OPTS_GC] =	  { GLOBAL_OPTSTRING "ng:i:",	    gc_longopts },
	[OPTS_NODES] =	  { GLOBAL_OPTSTRING "t:d:p:m:F:S:", nodes_longopts },
	[OPTS_CELERY] =	  { GLOBAL_OPTSTRING "t:d:p:m:F:S:y", celery_longopts },
	[OPTS_INVENTORY] = { GLOBAL_OPTSTRING "F:S:",	    inventory_longopts },
	[OPTS_RESULT] =	  { GLOBAL_OPTSTRING "t:",	    result_longopts },
	[OPTS_JOBS] =	  { GLOBAL_OPTSTRING "l:",	    jobs_longopts },
	[OPTS_KEYGEN] =	  { GLOBAL_OPTSTRING "f:C:",	    keygen_longopts },
	[OPTS_NONE] =	  { GLOBAL_OPTSTRING,		    none_longopts },
};

/*
 * What each option does, for `pidboxctl COMMAND --help`: printed for the
 * options of the command's set, in the set's order, so that the help
 * cannot list an option the command refuses.
 */
static const struct {
	int		 ch;
	const char	*arg;
	const char	*help;
} opthelp[] = {
	{ 'A', "app", "Celery's -A: implies -N celery (the broker still "
	    "comes from -b or CELERY_BROKER_URL)" },
	{ 'b', "url", "the broker (else PIDBOX_BROKER, CELERY_BROKER_URL, "
	    "the -c file)" },
	{ 'c', "file", "read broker, namespace and type from pidboxd's YAML" },
	{ 'N', "namespace", "the mailbox namespace (pidbox; celery for "
	    "Celery)" },
	{ 'T', "type", "fanout (default), direct or topic" },
	{ 'j', NULL, "Celery's --json document" },
	{ OPT_JSONL, NULL, "one JSON line per reply, then per missing node" },
	{ OPT_YAML, NULL, "one YAML mapping node -> reply" },
	{ OPT_SUMMARY, NULL, "always end with the summary and latencies" },
	{ OPT_COLOR, "when", "auto, always or never" },
	{ OPT_SORT, "by", "name (default), latency or arrival" },
	{ OPT_DISPLAY, "which", "all, ok, failed or none" },
	{ 'v', NULL, "the request id and what happens, on stderr" },
	{ 'V', NULL, "print the version" },
	{ 'h', NULL, "this help" },
	{ 'r', NULL, "collect replies (else a cast: who received it)" },
	{ 't', "secs", "hard deadline for replies (default 1; broadcast -r: "
	    "the method's timeout + 1)" },
	{ 'l', "limit", "stop after this many replies" },
	{ 'd', "node,...", "only these nodes" },
	{ 'p', "pattern", "only the nodes whose name matches" },
	{ 'm', "matcher", "glob (default) or pcre, for -p" },
	{ 'n', NULL, "say what would be removed, remove nothing" },
	{ 'g', "secs", "leave reply queues younger than this (default 30)" },
	{ 'i', "secs", "remove bindings idle this long (default 300)" },
	{ 'y', NULL, "do not ask on a terminal" },
	{ OPT_TERMINATE, NULL, "also terminate the task's process" },
	{ OPT_SIGNAL, "SIG", "the signal for --terminate (TERM)" },
	{ OPT_NAMES, NULL, "only the names of the bound nodes, one a line" },
	{ 'F', "key=value", "only the nodes whose label or fact matches "
	    "(=, !=, <, <=, >, >=; globs; repeated: and)" },
	{ 'S', "expr", "only the nodes the expression selects (and, or, not, "
	    "parentheses)" },
	{ OPT_ASYNC, NULL, "send, print the job id, do not wait (pidboxctl "
	    "result ID)" },
	{ OPT_RECORD, NULL, "wait, and record the replies for pidboxctl "
	    "result" },
	{ OPT_BATCH, "N|N%", "run on this many nodes at a time" },
	{ OPT_BATCH_SLEEP, "secs", "pause between batches" },
	{ OPT_CANARY, "N", "run on N nodes first; go on only if all replied OK" },
	{ OPT_STOP_ERROR, NULL, "no further batch after an error or a missing "
	    "node" },
	{ OPT_WAIT, NULL, "wait (up to -t, default 30 s) for every target" },
};

/* One option's help line, if opthelp has it. */
static void
help_line(FILE *f, const struct option *o)
{
	char	opt[64];
	size_t	i;

	for (i = 0; i < nitems(opthelp); i++)
		if (opthelp[i].ch == o->val)
			break;
	if (i == nitems(opthelp))
		return;
	if (o->val < 256)
		snprintf(opt, sizeof(opt), "-%c, --%s%s%s", o->val, o->name,
		    opthelp[i].arg != NULL ? " " : "",
		    opthelp[i].arg != NULL ? opthelp[i].arg : "");
	else
		snprintf(opt, sizeof(opt), "    --%s%s%s", o->name,
		    opthelp[i].arg != NULL ? " " : "",
		    opthelp[i].arg != NULL ? opthelp[i].arg : "");
	fprintf(f, "  %-28s %s\n", opt, opthelp[i].help);
}

/*
 * The options of cmd, one a line, as `pidboxctl CMD --help` prints
 * them: the command's own, then the global ones; none it refuses, nor
 * ping's -r (it always collects).
 */
void
args_help(FILE *f, const struct cmd_entry *cmd)
{
	static const struct option	 global[] = { GLOBAL_LONGOPTS };
	const struct option		*o;

	fprintf(f, "options:\n");
	o = optsets[cmd->args.opts].longopts + nitems(global);
	for (; o->name != NULL; o++) {
		if ((o->val == 'y' && !(cmd->flags & CMD_CONFIRM)) ||
		    ((o->val == OPT_TERMINATE || o->val == OPT_SIGNAL) &&
		    !(cmd->flags & CMD_REVOKE)) ||
		    (o->val == 'r' && (cmd->flags & CMD_REPLY)))
			continue;
		help_line(f, o);
	}
	fprintf(f, "global options (also before the command):\n");
	for (o = global; o < global + nitems(global); o++)
		help_line(f, o);
}

/* A mistake with a message (then no usage); returns ARGS_ERROR. */
static int __printflike(2, 3)
fail(struct args_error *e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) == -1)
		err(EX_OSERR, NULL);
	va_end(ap);
	e->usage = 0;
	return ARGS_ERROR;
}

/* A mistake the command's usage explains, after msg (may be NULL). */
static int
fail_usage(struct args_error *e, const char *msg)
{
	if (msg != NULL && (e->msg = strdup(msg)) == NULL)
		err(EX_OSERR, NULL);
	e->usage = 1;
	return ARGS_ERROR;
}

void
args_error_free(struct args_error *e)
{
	free(e->msg);
	e->msg = NULL;
	e->usage = 0;
}

/* The words of --color, --sort, --display, in their enums' order. */
static const char *const color_words[] = { "auto", "always", "never", NULL };
static const char *const sort_words[] = { "name", "latency", "arrival", NULL };
static const char *const display_words[] = {
	"all", "ok", "failed", "none", NULL
};

/* *v = the index of arg in words (NULL-terminated), else a mistake. */
static int
choice(const char *opt, const char *arg, const char *const *words, int *v,
    struct args_error *e)
{
	char	list[128] = "";
	int	i;

	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(arg, words[i]) == 0) {
			*v = i;
			return ARGS_OK;
		}
		if (i > 0)
			strlcat(list, words[i + 1] != NULL ? ", " : " or ",
			    sizeof(list));
		strlcat(list, words[i], sizeof(list));
	}
	return fail(e, "%s %s: must be %s", opt, log_viss(arg), list);
}

/*
 * One global option ch (with arg) into ctl: ARGS_OK, ARGS_HELP,
 * ARGS_VERSION, ARGS_ERROR or ARGS_NOTGLOBAL when ch is not one.
 */
int
args_global(struct ctl *ctl, int ch, const char *arg, struct args_error *e)
{
	int	v;

	switch (ch) {
	case 'A':
		ctl->app = arg;
		break;
	case 'b':
		ctl->broker = arg;
		break;
	case 'c':
		ctl->conf_file = arg;
		break;
	case 'i':
		ctl->key_file = arg;
		break;
	case OPT_VERIFY:
		if (strcmp(arg, "required") == 0)
			ctl->verify_required = 1;
		else if (strcmp(arg, "optional") == 0)
			ctl->verify_required = 0;
		else
			return fail(e, "--verify %s: must be optional or "
			    "required", log_viss(arg));
		ctl->verify_set = 1;
		break;
	case 'N':
		if (arg[0] == '\0' || strlen(arg) > MAX_NAME)
			return fail(e, "namespace must be 1 to %d bytes",
			    MAX_NAME);
		ctl->ns = arg;
		break;
	case 'T':
		if (mailbox_type_parse(arg, &ctl->mbox.type) == -1)
			return fail(e, "unknown mailbox type %s (fanout, "
			    "direct or topic)", log_viss(arg));
		ctl->type_set = 1;
		break;
	case 'j':
		ctl->format = FORMAT_JSON;
		ctl->json = 1;
		break;
	case OPT_JSONL:
		ctl->format = FORMAT_JSONL;
		ctl->json = 1;
		break;
	case OPT_YAML:
		ctl->format = FORMAT_YAML;
		ctl->json = 1;
		break;
	case OPT_SUMMARY:
		ctl->summary = 1;
		break;
	case OPT_COLOR:
		if (choice("--color", arg, color_words, &v, e) != ARGS_OK)
			return ARGS_ERROR;
		ctl->color = v;
		break;
	case OPT_SORT:
		if (choice("--sort", arg, sort_words, &v, e) != ARGS_OK)
			return ARGS_ERROR;
		ctl->sort = v;
		break;
	case OPT_DISPLAY:
		if (choice("--display", arg, display_words, &v, e) != ARGS_OK)
			return ARGS_ERROR;
		ctl->display = v;
		break;
	case 'v':
		ctl->verbose++;
		break;
	case 'V':
		return ARGS_VERSION;
	case 'h':
		return ARGS_HELP;
	default:
		return ARGS_NOTGLOBAL;
	}
	return ARGS_OK;
}

/* Seconds: a finite number > 0 (fractions allowed). */
static int
parse_secs(const char *s, const char *what, double *d, struct args_error *e)
{
	char	*end;

	errno = 0;
	*d = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(*d) ||
	    *d <= 0 || *d > 1e7)
		return fail(e, "%s: %s: must be a number of seconds > 0",
		    what, log_viss(s));
	return 0;
}

/* Append the comma-separated node names of arg to the destination. */
static int
add_destinations(struct mailbox_request *req, const char *arg,
    struct args_error *e)
{
	const char	**d;
	const char	 *p, *comma;
	size_t		  len;

	for (p = arg;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return fail(e, "-d %s: empty node name",
			    log_viss(arg));
		if (len > MAX_NAME)
			return fail(e, "-d: node name longer than %d bytes",
			    MAX_NAME);
		if (strcspn(p, "*?[") < len)
			return fail(e, "-d %.*s: -d takes node names, not "
			    "patterns; use -p '%.*s' to match a glob",
			    (int)len, p, (int)len, p);
		if (req->ndestination >= MAX_DESTINATIONS)
			return fail(e, "-d: more than %d nodes",
			    MAX_DESTINATIONS);
		d = reallocarray(req->destination, req->ndestination + 1,
		    sizeof(*d));
		if (d == NULL)
			err(EX_OSERR, NULL);
		req->destination = d;
		if ((d[req->ndestination++] = strndup(p, len)) == NULL)
			err(EX_OSERR, NULL);
		if (comma == NULL)
			break;
	}
	return 0;
}

/* Celery accepts a signal as a number or a name, with or without SIG. */
static int
check_signal(const char *s, struct args_error *e)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > MAX_SIGNAL_LEN)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			goto bad;
	return 0;
bad:
	return fail(e, "--signal %s: a signal name (TERM, SIGKILL...) or "
	    "number", log_viss(s));
}

/*
 * One -F (a comparison) or -S (an expression), parsed now so that a
 * mistake is a usage error before anything is sent; several are ANDed.
 */
static int
add_filter(struct cmd_args *a, int ch, const char *arg, struct args_error *e)
{
	struct filter	*f;
	char		 why[256];

	if ((f = filter_parse(arg, ch == 'F', why, sizeof(why))) == NULL)
		return fail(e, "-%c %s: %s", ch, log_viss(arg), why);
	if ((a->filter = filter_and(a->filter, f)) == NULL)
		err(EX_OSERR, NULL);
	return 0;
}

/* --batch N or N%: 1 to MAX_DESTINATIONS nodes, or 1 to 100 percent. */
static int
parse_batch(const char *arg, long long *n, int *pct, struct args_error *e)
{
	char		 num[32];
	const char	*errstr;
	size_t		 len = strlen(arg);

	*pct = len > 0 && arg[len - 1] == '%';
	if (len - *pct == 0 || len - *pct >= sizeof(num))
		return fail(e, "--batch %s: a number of nodes or a percentage",
		    log_viss(arg));
	memcpy(num, arg, len - *pct);
	num[len - *pct] = '\0';
	*n = strtonum(num, 1, *pct ? 100 : MAX_DESTINATIONS, &errstr);
	if (errstr != NULL)
		return fail(e, "--batch %s: %s (1 to %d%s)", log_viss(arg),
		    errstr, *pct ? 100 : MAX_DESTINATIONS, *pct ? "%" :
		    " nodes");
	return 0;
}

/* One option of the command (ch was in its option set). */
static int
command_opt(struct cmd_args *a, int ch, const char *arg,
    struct args_error *e)
{
	struct mailbox_request	*req = &a->req;
	const char		*errstr;

	switch (ch) {
	case 'r':
		req->reply = 1;
		break;
	case 't':
		a->timeout_set = 1;
		return parse_secs(arg, "timeout", &req->timeout, e);
	case 'l':
		req->limit = strtonum(arg, 1, INT_MAX, &errstr);
		if (errstr != NULL)
			return fail(e, "limit %s: %s", log_viss(arg), errstr);
		break;
	case 'd':
		return add_destinations(req, arg, e);
	case 'p':
		if (arg[0] == '\0' || strlen(arg) > MAX_PATTERN)
			return fail(e, "pattern must be 1 to %d bytes",
			    MAX_PATTERN);
		req->pattern = arg;
		break;
	case 'm':
		req->matcher = arg;
		break;
	case 'n':
		a->gc.dry_run = 1;
		break;
	case 'g':
		a->gc.grace = strtonum(arg, 0, 86400, &errstr);
		if (errstr != NULL)
			return fail(e, "grace %s: %s", log_viss(arg), errstr);
		break;
	case 'i':	/* gc's --idle; anywhere else -i is global */
		if (a->cmd->args.opts != OPTS_GC)
			return ARGS_NOTGLOBAL;
		a->gc.idle = strtonum(arg, 0, 100000000, &errstr);
		if (errstr != NULL)
			return fail(e, "idle %s: %s", log_viss(arg), errstr);
		break;
	case 'f':
		a->keygen.file = arg;
		break;
	case 'C':
		if (sign_valid_identity(arg) == -1)
			return fail(e, "-C %s: identities are 1 to 64 of "
			    "[A-Za-z0-9._@-]", log_viss(arg));
		a->keygen.identity = arg;
		break;
	case OPT_NAMES:
		a->names = 1;
		break;
	case 'F':
	case 'S':
		return add_filter(a, ch, arg, e);
	case OPT_ASYNC:
		a->async = 1;
		break;
	case OPT_RECORD:
		a->record = 1;
		break;
	case OPT_BATCH:
		return parse_batch(arg, &a->batch, &a->batch_pct, e);
	case OPT_BATCH_SLEEP:
		return parse_secs(arg, "--batch-sleep", &a->batch_sleep, e);
	case OPT_CANARY:
		a->canary = strtonum(arg, 1, MAX_DESTINATIONS, &errstr);
		if (errstr != NULL)
			return fail(e, "--canary %s: %s (1 to %d nodes)",
			    log_viss(arg), errstr, MAX_DESTINATIONS);
		break;
	case OPT_STOP_ERROR:
		a->stop_on_error = 1;
		break;
	case OPT_WAIT:
		a->wait = 1;
		break;
	case 'y':
		if (!(a->cmd->flags & CMD_CONFIRM))
			return fail_usage(e, NULL);
		a->yes = 1;
		break;
	case OPT_TERMINATE:
		if (!(a->cmd->flags & CMD_REVOKE))
			return fail_usage(e, NULL);
		a->terminate = 1;
		break;
	case OPT_SIGNAL:
		if (!(a->cmd->flags & CMD_REVOKE))
			return fail_usage(e, NULL);
		if (check_signal(arg, e) == -1)
			return ARGS_ERROR;
		a->signal = arg;
		break;
	default:
		return ARGS_NOTGLOBAL;
	}
	return ARGS_OK;
}

/* Check the targeting options together. */
static int
target_check(struct mailbox_request *req, struct args_error *e)
{
	const char	*errstr;

	if (req->matcher != NULL && req->pattern == NULL)
		return fail(e, "-m needs -p pattern");
	if (req->pattern != NULL && req->ndestination > 0)
		return fail(e, "-d and -p are mutually exclusive");
	/*
	 * A kombu node ignores a pattern that comes without a matcher and
	 * runs the request everywhere: always name the matcher.
	 */
	if (req->pattern != NULL && req->matcher == NULL)
		req->matcher = "glob";
	if (req->pattern != NULL &&
	    match_check(req->pattern, req->matcher, &errstr) == -1)
		return fail(e, "pattern %s (%s): %s", log_viss(req->pattern),
		    log_viss(req->matcher), errstr);
	return 0;
}

/* The fleet options together (fleet.c resolves them once connected). */
static int
fleet_check(struct cmd_args *a, struct args_error *e)
{
	struct mailbox_request	*req = &a->req;
	int			 batched = a->batch > 0 || a->canary > 0;

	if (a->filter != NULL && (req->ndestination > 0 ||
	    req->pattern != NULL))
		return fail(e, "-F/-S select nodes themselves: not with -d or "
		    "-p");
	if (a->async && (batched || a->record))
		return fail(e, "--async sends once and does not wait: not with "
		    "--batch, --canary or --record");
	if (a->async && req->limit > 0)
		return fail(e, "--async does not wait: not with -l");
	if (batched && req->limit > 0)
		return fail(e, "--batch/--canary cover every node: not with -l");
	if (batched && req->pattern != NULL)
		return fail(e, "--batch/--canary need the nodes by name: use -F, "
		    "-S or -d, not -p");
	if ((a->batch_sleep > 0 || a->stop_on_error) && !batched)
		return fail(e, "--batch-sleep and --stop-on-error need --batch "
		    "or --canary");
	if (batched && !req->reply && a->cmd->args.opts == OPTS_CALL)
		req->reply = 1;	/* a batch waits for its replies */
	return 0;
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

/* One positional word converted to the argument's type, into *vp. */
static int
convert(const struct cmd_entry *cmd, const struct cmd_arg *a,
    const char *word, json_object **vp, struct args_error *e)
{
	json_object	*v;
	const char	*errstr;
	char		*end;
	double		 d;
	long long	 n;
	int		 b;

	if (strlen(word) > MAX_ARG_LEN)
		return fail(e, "%s: %s: longer than %d bytes", cmd->name,
		    a->name, MAX_ARG_LEN);
	switch (a->kind) {
	case ARG_INT:
		n = strtonum(word, INT_MIN, INT_MAX, &errstr);
		if (errstr != NULL)
			return fail(e, "%s: %s %s: %s", cmd->name, a->name,
			    log_viss(word), errstr);
		v = json_object_new_int64(n);
		break;
	case ARG_FLOAT:
		errno = 0;
		d = strtod(word, &end);
		if (word[0] == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d))
			return fail(e, "%s: %s %s: not a number", cmd->name,
			    a->name, log_viss(word));
		v = json_object_new_double(d);
		break;
	case ARG_BOOL:
		if (parse_bool(word, &b) == -1)
			return fail(e, "%s: %s %s: not a boolean (true/false, "
			    "yes/no, 1/0, on/off)", cmd->name, a->name,
			    log_viss(word));
		v = json_object_new_boolean(b);
		break;
	default:
		v = json_object_new_string(word);
		break;
	}
	if (v == NULL)
		err(EX_OSERR, NULL);
	*vp = v;
	return 0;
}

/*
 * Celery's _compile_arguments(): positional words fill the template's
 * args in order, the rest go to the variadic argument as a list (always
 * sent, maybe empty, as the CLI does); too many words without a variadic
 * is a usage error, and unlike Celery a missing required argument is one
 * too.
 */
static int
celery_words(const struct cmd_entry *cmd, int argc, char **argv,
    json_object *args, struct args_error *e)
{
	const struct cmd_template	*t = &cmd->args;
	json_object			*list, *v = NULL;
	char				 msg[256];
	size_t				 i;
	int				 w = 0;

	for (i = 0; i < nitems(t->args) && t->args[i].name != NULL; i++) {
		if (w >= argc) {
			if (!t->args[i].required)
				break;
			snprintf(msg, sizeof(msg), "%s: missing argument %s",
			    cmd->name, t->args[i].name);
			return fail_usage(e, msg);
		}
		if (convert(cmd, &t->args[i], argv[w++], &v, e) == -1)
			return ARGS_ERROR;
		json_object_object_add(args, t->args[i].name, v);
	}
	if (t->variadic == NULL) {
		if (w < argc) {
			snprintf(msg, sizeof(msg), "%s: too many arguments",
			    cmd->name);
			return fail_usage(e, msg);
		}
		return 0;
	}
	if ((list = json_object_new_array()) == NULL)
		err(EX_OSERR, NULL);
	json_object_object_add(args, t->variadic, list);
	for (; w < argc; w++) {
		if (strlen(argv[w]) > MAX_ARG_LEN)
			return fail(e, "%s: %s: longer than %d bytes",
			    cmd->name, t->variadic, MAX_ARG_LEN);
		/* a word without '=' raises IndexError in the worker */
		if ((cmd->flags & CMD_VARIADIC_KV) &&
		    (strchr(argv[w], '=') == NULL || argv[w][0] == '='))
			return fail(e, "%s: %s: want key=value", cmd->name,
			    log_viss(argv[w]));
		json_object_array_add(list, json_object_new_string(argv[w]));
	}
	if (json_object_array_length(list) == 0 &&
	    (cmd->flags & CMD_VARIADIC_REQUIRED)) {
		snprintf(msg, sizeof(msg), "%s: needs at least one argument "
		    "(%s)", cmd->name, t->variadic);
		return fail_usage(e, msg);
	}
	return 0;
}

/*
 * Parse argv (argv[0] is the command's name as typed) against cmd's
 * template into a; global options go to ctl. ARGS_OK, ARGS_HELP,
 * ARGS_VERSION or ARGS_ERROR (e says why). The checks run in one order
 * for every command: options as they come; the method word; the words'
 * shape; --signal; the targeting; -l; Celery's typed words; ping's
 * refusal of key=value words. a must be freed with args_free() whatever
 * this returns.
 */
int
args_parse(struct ctl *ctl, const struct cmd_entry *cmd, int argc,
    char **argv, struct cmd_args *a, struct args_error *e)
{
	const struct cmd_template	*t = &cmd->args;
	struct mailbox_request		*req = &a->req;
	const char			*errstr;
	int				 ch, i, rv;

	memset(a, 0, sizeof(*a));
	memset(e, 0, sizeof(*e));
	a->cmd = cmd;
	a->gc.idle = 300;
	a->gc.grace = 30;
	req->method = cmd->method;
	req->reply = (cmd->flags & CMD_REPLY) != 0;
	req->timeout = DEFAULT_TIMEOUT;

	optind = 0;	/* glibc: restart getopt */
	while ((ch = getopt_long(argc, argv, optsets[t->opts].optstring,
	    optsets[t->opts].longopts, NULL)) != -1) {
		if ((rv = command_opt(a, ch, optarg, e)) == ARGS_NOTGLOBAL &&
		    (rv = args_global(ctl, ch, optarg, e)) == ARGS_NOTGLOBAL)
			return fail_usage(e, NULL);
		if (rv != ARGS_OK)
			return rv;
	}
	argc -= optind;
	argv += optind;

	if (cmd->flags & CMD_METHOD_WORD) {
		if (argc == 0)
			return fail_usage(e, NULL);
		req->method = argv[0];
		argc--;
		argv++;
		if (req->method[0] == '\0' || strlen(req->method) > MAX_NAME)
			return fail(e, "method must be 1 to %d bytes",
			    MAX_NAME);
	}
	if ((req->arguments = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	if (t->words == WORDS_NONE && argc != 0)
		return fail_usage(e, NULL);
	if (t->words == WORDS_KV && t->maxkv == 0 && argc > 0)
		return fail(e, "%s takes no arguments%s%s%s", cmd->name,
		    strchr(argv[0], '=') == NULL ? "; to ask one node: " : "",
		    strchr(argv[0], '=') == NULL ? cmd->name : "",
		    strchr(argv[0], '=') == NULL ? " -d NODE" : "");
	if (t->words == WORDS_KV) {
		for (i = 0; i < argc; i++)
			if (kv_parse(argv[i], req->arguments, &errstr) == -1)
				return fail(e, "%s: %s", log_viss(argv[i]),
				    errstr);
	}

	if (a->signal != NULL && !a->terminate)
		return fail(e, "--signal needs --terminate");
	if (target_check(req, e) == -1)
		return ARGS_ERROR;
	if (req->limit > 0 && !req->reply && t->opts != OPTS_JOBS)
		return fail(e, "-l needs -r");
	if (fleet_check(a, e) == -1)
		return ARGS_ERROR;

	if (t->words == WORDS_CELERY) {
		if (celery_words(cmd, argc, argv, req->arguments, e) == -1)
			return ARGS_ERROR;
		if (a->terminate) {
			json_object_object_add(req->arguments, "terminate",
			    json_object_new_boolean(1));
			if (a->signal != NULL)
				json_object_object_add(req->arguments,
				    "signal",
				    json_object_new_string(a->signal));
		}
	}
	if (t->words == WORDS_KV && t->maxkv >= 0 &&
	    json_object_object_length(req->arguments) > t->maxkv)
		return fail_usage(e, NULL);
	return ARGS_OK;
}

void
args_free(struct cmd_args *a)
{
	size_t	i;

	for (i = 0; i < a->req.ndestination; i++)
		free((char *)(uintptr_t)a->req.destination[i]);
	free(a->req.destination);
	json_object_put(a->req.arguments);
	filter_free(a->filter);
	memset(a, 0, sizeof(*a));
}
