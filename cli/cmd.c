/*
 * The subcommand table and each subcommand's argument parsing.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

static int	cmd_broadcast_exec(struct ctl *, int, char **);
static int	cmd_gc_exec(struct ctl *, int, char **);
static int	cmd_ping_exec(struct ctl *, int, char **);

/* Options of every Celery command (cli/celery.c). */
#define CO " [-t secs] [-d node[,...]] [-p pattern [-m glob|pcre]]"
#define CELERY(n, a, u) \
	{ .name = (n), .alias = (a), .usage = (u), .exec = celery_exec }

/* clang-format off */
const struct cmd_entry cmd_table[] = {
	{ .name = "broadcast", .alias = "bc",
	  .usage = "method [key=value ...] [-r] [-t secs] [-l limit]\n"
	    "\t[-d node[,node...]] [-p pattern [-m glob|pcre]]",
	  .exec = cmd_broadcast_exec },
	{ .name = "describe", .alias = NULL,
	  .usage = "[-t secs] [-d node[,node...]]",
	  .exec = cmd_describe_exec },
	{ .name = "gc", .alias = NULL,
	  .usage = "[-n] [-g grace] [-i idle]",
	  .exec = cmd_gc_exec },
	{ .name = "nodes", .alias = NULL,
	  .usage = "[-t secs] [-d node[,node...]] [-p pattern [-m glob|pcre]]",
	  .exec = cmd_nodes_exec },
	{ .name = "ping", .alias = NULL,
	  .usage = "[-r] [-t secs] [-l limit] [-d node[,node...]]\n"
	    "\t[-p pattern [-m glob|pcre]]",
	  .exec = cmd_ping_exec },
	/* Celery's inspect commands (celery inspect X) */
	CELERY("active", "dump_active", CO),
	CELERY("active_queues", NULL, CO),
	CELERY("clock", NULL, CO),
	CELERY("conf", "dump_conf", "[with_defaults]" CO),
	CELERY("query_task", NULL, "id ..." CO),
	CELERY("registered", "dump_tasks", "[taskinfoitem ...]" CO),
	CELERY("report", NULL, CO),
	CELERY("reserved", "dump_reserved", CO),
	CELERY("revoked", "dump_revoked", CO),
	CELERY("scheduled", "dump_schedule", CO),
	CELERY("stats", NULL, CO),
	CELERY("status", NULL, "[-t secs] [-d node[,...]]"),
	/* Celery's control commands (celery control X) */
	CELERY("add_consumer", NULL,
	    "queue [exchange [exchange_type [routing_key]]]" CO),
	CELERY("autoscale", NULL, "[max [min]]" CO),
	CELERY("cancel_consumer", NULL, "queue" CO),
	CELERY("disable_events", NULL, CO),
	CELERY("enable_events", NULL, CO),
	CELERY("pool_grow", NULL, "[n]" CO),
	CELERY("pool_shrink", NULL, "[n]" CO),
	CELERY("rate_limit", NULL, "task_name rate_limit" CO),
	CELERY("revoke", NULL, "id ... [--terminate [--signal SIG]]" CO),
	CELERY("shutdown", NULL, "[-y|--yes]" CO),
	CELERY("time_limit", NULL, "task_name soft [hard]" CO),
	/* celery inspect|control X ...: the same commands */
	CELERY("inspect", NULL, "command [args] (any inspect command above)"),
	CELERY("control", NULL, "command [args] (any control command above)"),
	{ .name = NULL }
};
/* clang-format on */

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	*cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, name) == 0 ||
		    (cmd->alias != NULL && strcmp(cmd->alias, name) == 0))
			return cmd;
	}
	return NULL;
}

/* Seconds: a finite number > 0 (fractions allowed). */
double
parse_secs(const char *s, const char *what)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
	    d <= 0 || d > 1e7)
		errx(EX_USAGE, "%s: %s: must be a number of seconds > 0",
		    what, log_viss(s));
	return d;
}

/* Append the comma-separated node names of arg to the destination. */
void
add_destinations(struct call *call, const char *arg)
{
	const char	**d;
	const char	 *p, *comma;
	size_t		  len;

	for (p = arg;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			errx(EX_USAGE, "-d %s: empty node name", log_viss(arg));
		if (len > MAX_NAME)
			errx(EX_USAGE, "-d: node name longer than %d bytes",
			    MAX_NAME);
		if (call->ndestination >= MAX_DESTINATIONS)
			errx(EX_USAGE, "-d: more than %d nodes",
			    MAX_DESTINATIONS);
		d = reallocarray(call->destination, call->ndestination + 1,
		    sizeof(*d));
		if (d == NULL)
			err(EX_OSERR, NULL);
		call->destination = d;
		if ((d[call->ndestination++] = strndup(p, len)) == NULL)
			err(EX_OSERR, NULL);
		if (comma == NULL)
			break;
	}
}

void
free_call(struct call *call)
{
	size_t	i;

	for (i = 0; i < call->ndestination; i++)
		free((char *)(uintptr_t)call->destination[i]);
	free(call->destination);
	json_object_put(call->arguments);
}

/*
 * The targeting options of every command that collects replies:
 * -t secs, -d node[,node...], -p pattern, -m matcher. Returns 1 when ch
 * was one of them (and is now in call), 0 otherwise.
 */
int
call_target_opt(struct call *call, int ch, const char *arg)
{
	switch (ch) {
	case 't':
		call->timeout = parse_secs(arg, "timeout");
		return 1;
	case 'd':
		add_destinations(call, arg);
		return 1;
	case 'p':
		if (arg[0] == '\0' || strlen(arg) > MAX_PATTERN)
			errx(EX_USAGE, "pattern must be 1 to %d bytes",
			    MAX_PATTERN);
		call->pattern = arg;
		return 1;
	case 'm':
		call->matcher = arg;
		return 1;
	}
	return 0;
}

/* Check the targeting options together; exits 64 on a mistake. */
void
call_target_check(struct call *call)
{
	const char *errstr;

	if (call->matcher != NULL && call->pattern == NULL)
		errx(EX_USAGE, "-m needs -p pattern");
	if (call->pattern != NULL && call->ndestination > 0)
		errx(EX_USAGE, "-d and -p are mutually exclusive");
	/*
	 * A kombu node ignores a pattern that comes without a matcher and
	 * runs the request everywhere: always name the matcher.
	 */
	if (call->pattern != NULL && call->matcher == NULL)
		call->matcher = "glob";
	if (call->pattern != NULL &&
	    match_check(call->pattern, call->matcher, &errstr) == -1)
		errx(EX_USAGE, "pattern %s (%s): %s", log_viss(call->pattern),
		    log_viss(call->matcher), errstr);
}

/* Parse the options and arguments shared by broadcast and ping. */
static void
parse_call(struct ctl *ctl, const struct cmd_entry *cmd, int argc,
    char **argv, struct call *call, int is_ping)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "reply",	 no_argument,		NULL,	'r' },
		{ "timeout",	 required_argument,	NULL,	't' },
		{ "limit",	 required_argument,	NULL,	'l' },
		{ "destination", required_argument,	NULL,	'd' },
		{ "pattern",	 required_argument,	NULL,	'p' },
		{ "matcher",	 required_argument,	NULL,	'm' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*errstr;
	int		 ch, i;

	memset(call, 0, sizeof(*call));
	call->timeout = DEFAULT_TIMEOUT;
	call->reply = is_ping;
	while ((ch = getopt_long(argc, argv, GLOBAL_OPTSTRING "rt:l:d:p:m:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			call->reply = 1;
			break;
		case 'l':
			call->limit = strtonum(optarg, 1, INT_MAX, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "limit %s: %s",
				    log_viss(optarg), errstr);
			break;
		default:
			if (call_target_opt(call, ch, optarg))
				break;
			if (!ctl_global_opt(ctl, ch, cmd))
				cmd_usage(cmd);
			break;
		}
	}
	argc -= optind;
	argv += optind;

	if (is_ping)
		call->method = "ping";
	else {
		if (argc == 0)
			cmd_usage(cmd);
		call->method = argv[0];
		argc--;
		argv++;
		if (call->method[0] == '\0' ||
		    strlen(call->method) > MAX_NAME)
			errx(EX_USAGE, "method must be 1 to %d bytes",
			    MAX_NAME);
	}
	if ((call->arguments = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < argc; i++) {
		if (kv_parse(argv[i], call->arguments, &errstr) == -1)
			errx(EX_USAGE, "%s: %s", log_viss(argv[i]), errstr);
	}

	call_target_check(call);
	if (call->limit > 0 && !call->reply)
		errx(EX_USAGE, "-l needs -r");
}

static int
cmd_broadcast_exec(struct ctl *ctl, int argc, char **argv)
{
	struct call	call;
	int		rv;

	parse_call(ctl, cmd_find("broadcast"), argc, argv, &call, 0);
	ctl_setup(ctl);
	rv = mailbox_broadcast(ctl, &call);
	free_call(&call);
	return rv;
}

static int
cmd_ping_exec(struct ctl *ctl, int argc, char **argv)
{
	const struct cmd_entry	*cmd = cmd_find("ping");
	struct call		 call;
	int			 rv;

	parse_call(ctl, cmd, argc, argv, &call, 1);
	if (json_object_object_length(call.arguments) != 0)
		cmd_usage(cmd);
	ctl_setup(ctl);
	rv = mailbox_broadcast(ctl, &call);
	free_call(&call);
	return rv;
}

static int
cmd_gc_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "dry-run",	no_argument,		NULL,	'n' },
		{ "grace",	required_argument,	NULL,	'g' },
		{ "idle",	required_argument,	NULL,	'i' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*cmd = cmd_find("gc");
	struct gc_opts		 opts;
	const char		*errstr;
	int			 ch;

	memset(&opts, 0, sizeof(opts));
	opts.idle = 300;
	opts.grace = 30;
	while ((ch = getopt_long(argc, argv, GLOBAL_OPTSTRING "ng:i:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			opts.dry_run = 1;
			break;
		case 'g':
			opts.grace = strtonum(optarg, 0, 86400, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "grace %s: %s",
				    log_viss(optarg), errstr);
			break;
		case 'i':
			opts.idle = strtonum(optarg, 0, 100000000, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "idle %s: %s",
				    log_viss(optarg), errstr);
			break;
		default:
			if (!ctl_global_opt(ctl, ch, cmd))
				cmd_usage(cmd);
			break;
		}
	}
	if (optind != argc)
		cmd_usage(cmd);
	ctl_setup(ctl);
	return gc_run(ctl, &opts);
}
